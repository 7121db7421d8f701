"""The development chain journaled in the store: one chain for every process, kept across restarts;
lost anchors are anchored again."""

from __future__ import annotations

import hashlib
import multiprocessing
from typing import Any

import pytest
from cert_testdata import CONTENT, full_actions
from sqlalchemy import delete

from provenance.certificate import (
    CertificateStore,
    Chain,
    DevChain,
    Keyring,
    Signer,
    mint,
    verify_certificate,
)
from provenance.certificate.devchain import DevChainTx
from provenance.registry import make_engine

REC = {"generation_id": "7", "model": "ref", "generated_at": "2026-01-01T00:00:00Z"}


def _root(i: int) -> bytes:
    return hashlib.sha256(b"root %d" % i).digest()


def _look(chain: Chain, rc: Any, root: bytes) -> Any:
    return chain.lookup(
        chain_id=rc.chain_id,
        tx_hash=rc.tx_hash,
        block_number=rc.block_number,
        root=root,
        method=rc.method,
        contract=rc.contract,
    )


def _minted(store: CertificateStore, signer: Signer, n: int) -> list[str]:
    return [
        mint(REC, full_actions(), signer, content=CONTENT + bytes([i]), store=store).id
        for i in range(n)
    ]


def test_anchor_verifies_in_a_new_process_on_the_same_store(sqlite_db_url: str) -> None:
    store = CertificateStore(make_engine(sqlite_db_url))
    signer = Signer.generate()
    ring = Keyring()
    ring.add(signer.public_key)
    ids = _minted(store, signer, 3)
    store.close_batches(force=True)
    (b,) = store.anchor_batches(DevChain(store.engine))
    assert b.status == "anchored" and b.block_number == 1
    # a restart, or a second worker: a new engine and a new chain built from the journal
    later = CertificateStore(make_engine(sqlite_db_url))
    chain = DevChain(later.engine)
    assert chain.height == 1
    for i in ids:
        res = verify_certificate(later.get(i), chain=chain, keyring=ring, store=later)
        assert res.valid and res.status == "confirmed", res.to_dict()
    # nothing was lost, so nothing is anchored again
    assert later.anchor_batches(chain) == [] and chain.height == 1


def test_two_processes_share_one_chain(db_url: str) -> None:
    a, b = DevChain(make_engine(db_url)), DevChain(make_engine(db_url))
    receipts = [(a if i % 2 else b).anchor(_root(i)) for i in range(6)]
    assert [r.block_number for r in receipts] == [1, 2, 3, 4, 5, 6]
    for chain in (a, b, DevChain(make_engine(db_url))):
        for i, rc in enumerate(receipts):
            look = _look(chain, rc, _root(i))
            assert look.ok and look.block_time == rc.block_time, look


def test_a_lost_append_race_rebuilds_and_retries(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = DevChain(make_engine(db_url)), DevChain(make_engine(db_url))
    first = a.anchor(_root(0))
    # b misses a's block (as if it had not caught up) and mines block 1 again locally
    real = DevChain._catch_up
    calls = {"n": 0}

    def stale_once(self: DevChain, s: Any) -> None:
        calls["n"] += 1
        if self is b and calls["n"] == 1:
            return
        real(self, s)

    monkeypatch.setattr(DevChain, "_catch_up", stale_once)
    second = b.anchor(_root(1))  # the journal refuses block 1 twice: b rebuilds and retries
    assert (first.block_number, second.block_number) == (1, 2)
    fresh = DevChain(make_engine(db_url))
    assert _look(fresh, first, _root(0)).ok and _look(fresh, second, _root(1)).ok


def _anchor_many(url: str, k: int, n: int) -> None:
    chain = DevChain(make_engine(url))
    for i in range(n):
        chain.anchor(_root(100 * k + i))


def test_concurrent_processes_append_in_turn(sqlite_db_url: str) -> None:
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_anchor_many, args=(sqlite_db_url, k, 4)) for k in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0]
    chain = DevChain(make_engine(sqlite_db_url))
    assert chain.height == 8  # eight transactions, eight blocks, one journal


def test_lost_anchors_are_anchored_again(sqlite_db_url: str) -> None:
    store = CertificateStore(make_engine(sqlite_db_url))
    signer = Signer.generate()
    ids = _minted(store, signer, 2)
    store.close_batches(force=True)
    old = Chain.embedded()  # an in-memory chain: gone with this object
    (b,) = store.anchor_batches(old)
    before = store.get(ids[0]).anchor
    ids += _minted(store, signer, 1)
    store.close_batches(force=True)  # a second batch, closed but never anchored
    reset = Chain.embedded()  # the "restart": a new chain without the first transaction
    reset.anchor(_root(999))  # ... and another history (the same one would give the same tx)
    done = store.anchor_batches(reset)
    assert [x.status for x in done] == ["anchored", "anchored"]
    assert store.batches("closed") == []
    for i in ids:
        res = verify_certificate(store.get(i), chain=reset, allow_untrusted=True, store=store)
        assert res.status == "confirmed", res.to_dict()
    # the old anchor block no longer passes against the store
    doc = store.get(ids[0]).to_dict()
    doc["anchor"] = before.model_dump(mode="json")
    res = verify_certificate(doc, allow_untrusted=True, store=store)
    assert before != store.get(ids[0]).anchor
    assert res.failed == ["batch"] and "tx_hash" in res.checks[-1].detail
    # idempotent: nothing more to do, no new transaction
    assert store.anchor_batches(reset) == []
    assert b.id == done[0].id


def test_a_reset_journal_is_rebuilt_and_batches_reanchored(db_url: str) -> None:
    store = CertificateStore(make_engine(db_url))
    _minted(store, Signer.generate(), 1)
    store.close_batches(force=True)
    chain = DevChain(store.engine)
    (b,) = store.anchor_batches(chain)
    with store.engine.begin() as conn:
        conn.execute(delete(DevChainTx))  # the development chain is wiped
    (again,) = store.anchor_batches(chain)
    assert again.id == b.id and again.status == "anchored" and chain.height == 1
    assert store.anchor_batches(DevChain(store.engine)) == []


def test_batches_on_another_chain_are_left_alone(sqlite_db_url: str) -> None:
    store = CertificateStore(make_engine(sqlite_db_url))
    _minted(store, Signer.generate(), 1)
    store.close_batches(force=True)
    (b,) = store.anchor_batches(Chain.embedded())
    from sqlalchemy import update

    from provenance.certificate.store import CertBatch

    with store.engine.begin() as conn:  # as if anchored on a public chain
        conn.execute(update(CertBatch).where(CertBatch.id == b.id).values(chain_id=1))
    assert store.reopen_lost(Chain.embedded()) == []
    assert store.batches("anchored")[0].tx_hash == b.tx_hash
