"""The certificate queue and batches on SQLite and PostgreSQL; failed anchoring is retried."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cert_testdata import CONTENT, full_actions
from sqlalchemy import inspect

from provenance.certificate import (
    AnchorReceipt,
    CertificateError,
    CertificateStore,
    Chain,
    ChainError,
    ChainLookup,
    Signer,
    mint,
    verify_certificate,
)
from provenance.registry import make_engine
from provenance.registry.migrate import downgrade, upgrade

REC = {"generation_id": "5", "model": "ref", "generated_at": "2026-01-01T00:00:00Z"}


class FlakyChain:
    """Fails the first ``failures`` anchors, then anchors on an embedded chain."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.inner = Chain.embedded()
        self.calls = 0

    @property
    def chain_id(self) -> int:
        return self.inner.chain_id

    def lookup(self, **kwargs: Any) -> ChainLookup:
        return self.inner.lookup(**kwargs)

    def anchor(self, root: bytes) -> AnchorReceipt:
        self.calls += 1
        if self.calls <= self.failures:
            raise ChainError("chain test: connection refused")
        return self.inner.anchor(root)


def _mint(store: CertificateStore, signer: Signer, n: int) -> list[str]:
    return [
        mint(REC, full_actions(), signer, content=CONTENT + str(i).encode(), store=store).id
        for i in range(n)
    ]


def test_batches_by_size_and_age(db_url: str) -> None:
    engine = make_engine(db_url)
    store = CertificateStore(engine)
    signer = Signer.generate()
    ids = _mint(store, signer, 7)
    assert store.pending_count() == 7
    now = datetime.now(UTC)
    # two full batches of 3; the 7th waits (too young)
    assert len(store.close_batches(max_size=3, max_age=timedelta(hours=1), now=now)) == 2
    assert store.pending_count() == 1
    assert store.close_batches(max_size=3, max_age=timedelta(hours=1), now=now) == []
    # ... until it is old enough
    assert (
        len(
            store.close_batches(
                max_size=3, max_age=timedelta(hours=1), now=now + timedelta(hours=2)
            )
        )
        == 1
    )
    assert [b.size for b in store.batches()] == [3, 3, 1]
    for i in ids:
        c = store.get(i)
        assert c.anchor.status == "pending"
        assert verify_certificate(c.to_json(), allow_untrusted=True).status == "pending"
    chain = Chain.embedded()
    done = store.anchor_batches(chain)
    assert [b.status for b in done] == ["anchored"] * 3
    assert len({b.tx_hash for b in done}) == 3  # one transaction per batch
    for i in ids:
        res = verify_certificate(store.get(i).to_json(), chain=chain, allow_untrusted=True)
        assert res.status == "confirmed", res.to_dict()
    exported = store.export_batch(done[0].id)
    assert [c.id for c in exported] == ids[:3]
    assert all(c.to_dict() == store.get(c.id).to_dict() for c in exported)
    assert store.ids(batch_id=done[2].id) == ids[6:]
    with pytest.raises(CertificateError, match="already stored"):
        store.add(store.get(ids[0]))
    with pytest.raises(CertificateError, match="no certificate"):
        store.get("0" * 32)
    engine.dispose()


def test_failed_anchoring_is_retried_never_lost(db_url: str) -> None:
    engine = make_engine(db_url)
    store = CertificateStore(engine)
    ids = _mint(store, Signer.generate(), 4)
    store.close_batches(max_size=2, force=True)
    chain = FlakyChain(failures=2)
    first = store.anchor_batches(chain)  # type: ignore[arg-type]
    assert [b.status for b in first] == ["closed"]  # chain error: the rest waits too
    assert first[0].attempts == 1 and "connection refused" in (first[0].last_error or "")
    assert all(store.get(i).anchor.status == "pending" for i in ids)
    second = store.anchor_batches(chain)  # type: ignore[arg-type]
    assert [b.status for b in second] == ["closed"] and second[0].attempts == 2
    third = store.anchor_batches(chain)  # type: ignore[arg-type]
    assert [b.status for b in third] == ["anchored", "anchored"] and third[0].attempts == 3
    assert store.batches("closed") == []
    for i in ids:
        assert (
            verify_certificate(
                store.get(i).to_json(), chain=chain.inner, allow_untrusted=True
            ).status
            == "confirmed"
        )
    engine.dispose()


def test_claimed_batches_are_not_anchored_twice(db_url: str) -> None:
    from sqlalchemy import update

    from provenance.certificate.store import CertBatch

    engine = make_engine(db_url)
    store = CertificateStore(engine)
    _mint(store, Signer.generate(), 2)
    (bid,) = store.close_batches(force=True)
    now = datetime.now(UTC)
    with engine.begin() as conn:  # another process claimed it a minute ago
        conn.execute(
            update(CertBatch)
            .where(CertBatch.id == bid)
            .values(claimed_at=now - timedelta(minutes=1))
        )
    chain = FlakyChain(failures=0)
    assert store.anchor_batches(chain, now=now) == [] and chain.calls == 0  # type: ignore[arg-type]
    # a stale claim (the other process died) is taken over
    (b,) = store.anchor_batches(chain, now=now + timedelta(minutes=30))  # type: ignore[arg-type]
    assert b.status == "anchored" and chain.calls == 1
    assert store.anchor_batches(chain) == [] and chain.calls == 1  # type: ignore[arg-type]
    engine.dispose()


def test_add_many_is_all_or_nothing(db_url: str) -> None:
    engine = make_engine(db_url)
    store = CertificateStore(engine)
    signer = Signer.generate()
    a, b = (mint(REC, full_actions(), signer, content=CONTENT + bytes([i])) for i in range(2))
    store.add_many([a, b])
    c = mint(REC, full_actions(), signer, content=CONTENT)
    with pytest.raises(CertificateError, match="already stored"):
        store.add_many([c, a])
    assert store.pending_count() == 2
    engine.dispose()


def test_stored_document_is_the_signed_one(db_url: str) -> None:
    engine = make_engine(db_url)
    store = CertificateStore(engine)
    c = mint(REC, full_actions(), Signer.generate(), content=CONTENT, store=store)
    back = store.get(c.id)
    assert back.to_dict() == c.to_dict()
    assert json.loads(back.to_json())["signature"] == c.signature
    engine.dispose()


def test_migration_up_and_down(sqlite_url: str) -> None:
    upgrade(sqlite_url)
    engine = make_engine(sqlite_url)
    names: Any = set(inspect(engine).get_table_names())
    assert {"certificates", "cert_batches"} <= names
    engine.dispose()
    downgrade(sqlite_url, "base")
    engine = make_engine(sqlite_url)
    assert "certificates" not in set(inspect(engine).get_table_names())
    engine.dispose()


def test_mint_from_a_registry_record(sqlite_db_url: str) -> None:
    import hashlib

    from provenance.registry import MediaHash, Registry

    engine = make_engine(sqlite_db_url)
    reg = Registry(engine)
    digest = hashlib.sha256(CONTENT).hexdigest()
    gen = reg.create(
        user_id="u1", model="ref-gen-1", prompt="p", media=[MediaHash("audio", "a.wav", digest)]
    )
    c = mint(
        gen, full_actions(), Signer.generate(), content=CONTENT, store=CertificateStore(engine)
    )
    assert c.subject.mark_id == gen.mark_hex and c.subject.generation_id == str(gen.id)
    assert c.subject.model == "ref-gen-1" and c.subject.content_sha256 == digest
    with pytest.raises(CertificateError, match="media"):
        mint(gen, full_actions(), Signer.generate(), content=b"not this generation's file")
    store = CertificateStore(engine)
    c2 = mint(gen, full_actions(), Signer.generate(), content=CONTENT, store=store)
    assert store.find(generation_id=str(gen.id)) == [c2.id, c.id]
    assert store.find(content_sha256=digest, limit=1) == [c2.id]
    assert store.find(mark_id=gen.mark_hex.upper()) == [c2.id, c.id]
    assert store.find(mark_id="0" * 16) == []
    with pytest.raises(CertificateError):
        store.find()
    engine.dispose()


def test_concurrent_closers_never_share_a_certificate(db_url: str) -> None:
    import threading

    from sqlalchemy import select

    from provenance.certificate.store import CertRow

    engine = make_engine(db_url)
    store = CertificateStore(engine)
    signer = Signer.generate()
    certs = [
        mint(REC, full_actions(), signer, content=CONTENT + str(i).encode()) for i in range(60)
    ]
    store.add_many(certs)
    errors: list[BaseException] = []

    def close() -> None:
        try:
            for _ in range(5):
                store.close_batches(max_size=7, force=True)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=close) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    batches = store.batches()
    assert sum(b.size for b in batches) == 60 and store.pending_count() == 0
    with engine.connect() as conn:
        rows = conn.execute(select(CertRow.batch_id, CertRow.leaf_index)).all()
    for b in batches:
        idx = sorted(int(i) for bid, i in rows if bid == b.id and i is not None)
        assert idx == list(range(b.size))
    engine.dispose()
