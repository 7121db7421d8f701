"""Verification fails closed: an untrusted issuer is invalid unless allowed, an anchor block not
read from a chain is ``unchecked``, and no tampered anchor field ever verifies as anchored."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cert_testdata import CONTENT, full_actions
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provenance.certificate import (
    CertificateStore,
    DevChain,
    Keyring,
    RecordStateError,
    Signer,
    mint,
    verify_certificate,
)
from provenance.registry import make_engine
from provenance.registry.migrate import upgrade

REC = {"generation_id": "11", "model": "ref", "generated_at": "2026-01-01T00:00:00Z"}
Anchored = tuple[dict[str, Any], DevChain, Keyring, CertificateStore]


@pytest.fixture(scope="module")
def anchored(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Anchored]:
    """One certificate anchored on the store's development chain, its issuer's keyring."""
    url = f"sqlite:///{tmp_path_factory.mktemp('trust') / 'p.db'}"
    upgrade(url)
    store = CertificateStore(make_engine(url))
    signer = Signer.generate()
    ring = Keyring()
    ring.add(signer.public_key)
    ids = [
        mint(REC, full_actions(), signer, content=CONTENT + bytes([i]), store=store).id
        for i in range(3)
    ]
    chain = DevChain(store.engine)
    store.close_batches(force=True)
    store.anchor_batches(chain)
    yield store.get(ids[1]).to_dict(), chain, ring, store
    store.engine.dispose()


def test_the_untampered_certificate_is_confirmed(anchored: Anchored) -> None:
    doc, chain, ring, store = anchored
    res = verify_certificate(doc, chain=chain, keyring=ring, store=store)
    assert res.valid and res.trusted and res.anchored and res.status == "confirmed", res.to_dict()


def test_no_keyring_is_an_untrusted_issuer(anchored: Anchored) -> None:
    doc, chain, _ring, _store = anchored
    res = verify_certificate(doc, chain=chain)
    assert not res.valid and res.status == "invalid" and res.failed == ["issuer"]
    assert "untrusted issuer" in res.checks[2].detail
    allowed = verify_certificate(doc, chain=chain, allow_untrusted=True)
    assert allowed.valid and not allowed.trusted and allowed.get("issuer").outcome == "skip"  # type: ignore[union-attr]
    assert allowed.to_dict()["trusted_issuer"] is False


def test_a_key_outside_the_keyring_never_verifies(anchored: Anchored) -> None:
    _doc, _chain, ring, _store = anchored
    other = mint(REC, full_actions(), Signer.generate(), content=CONTENT)
    res = verify_certificate(other, keyring=ring)
    assert not res.valid and res.failed == ["issuer"]


def test_without_a_chain_the_anchor_is_unchecked(anchored: Anchored) -> None:
    doc, _chain, ring, _store = anchored
    res = verify_certificate(doc, keyring=ring)
    assert res.valid and res.status == "unchecked" and not res.anchored
    assert {c.name: c.outcome for c in res}["onchain_root"] == "skip"
    assert "unchecked" in (res.get("onchain_root") or res.checks[0]).detail


# every field of the anchor block a forger could change, and values to change it to
_HEX64 = st.text("0123456789abcdef", min_size=64, max_size=64)
TAMPER: dict[str, st.SearchStrategy[Any]] = {
    "tx_hash": _HEX64.map(lambda h: "0x" + h),
    "block_number": st.integers(0, 10**6),
    "block_time": st.integers(0, 2**40),
    "chain_id": st.integers(1, 2**40),
    "batch_id": st.integers(1, 10**6),
    "contract": st.text("0123456789abcdef", min_size=40, max_size=40).map(lambda h: "0x" + h),
    "method": st.just("eas-timestamp"),
    "root": _HEX64,
    "leaf_index": st.integers(0, 10),
    "tree_size": st.integers(1, 10),
    "leaf_salt": _HEX64,
}


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data(), fields=st.sets(st.sampled_from(sorted(TAMPER)), min_size=1, max_size=3))
def test_a_tampered_anchor_never_verifies_as_anchored(
    anchored: Anchored, data: st.DataObject, fields: set[str]
) -> None:
    doc, chain, ring, store = anchored
    forged = json.loads(json.dumps(doc))
    for f in sorted(fields):
        forged["anchor"][f] = data.draw(TAMPER[f], label=f)
    if forged["anchor"] == doc["anchor"]:
        return
    with_chain = verify_certificate(forged, chain=chain, keyring=ring, store=store)
    assert not with_chain.valid, (fields, with_chain.to_dict())
    assert not with_chain.anchored and with_chain.status != "confirmed"
    without = verify_certificate(forged, keyring=ring)
    assert not without.anchored and without.status in ("invalid", "unchecked")


@settings(max_examples=40, deadline=None)
@given(bad_id=st.text(min_size=1, max_size=40), key=st.text(min_size=1, max_size=8))
def test_any_text_in_the_document_gives_an_encodable_result(bad_id: str, key: str) -> None:
    doc = {"schema": "provkit.certificate/1", "id": bad_id, key: bad_id, "anchor": {"status": 1}}
    res = verify_certificate(doc, allow_untrusted=True)
    assert not res.valid and res.certificate_id is None
    json.dumps(res.to_dict(), ensure_ascii=False).encode("utf-8")  # never raises


def test_lone_surrogate_id(anchored: Anchored) -> None:
    doc, chain, ring, store = anchored
    forged = {**doc, "id": "\ud800", "\udfff": 1}
    res = verify_certificate(forged, chain=chain, keyring=ring, store=store)
    assert not res.valid and res.certificate_id is None
    json.dumps(res.to_dict(), ensure_ascii=False).encode("utf-8")


def test_calldata_anchor_naming_a_contract_fails_without_a_chain(anchored: Anchored) -> None:
    doc, _chain, ring, _store = anchored
    forged = json.loads(json.dumps(doc))
    forged["anchor"]["contract"] = "0x" + "ab" * 20
    res = verify_certificate(forged, keyring=ring)
    assert res.failed == ["onchain_root"] and "names no contract" in res.checks[-3].detail


def test_incomplete_records_are_not_certified(signer: Signer, record: dict[str, Any]) -> None:
    with pytest.raises(RecordStateError, match="not complete"):
        mint({**record, "status": "pending"}, full_actions(), signer, content=CONTENT)
    assert mint({**record, "status": "complete"}, full_actions(), signer, content=CONTENT).id


def test_cli_refuses_an_untrusted_issuer_and_an_incomplete_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from service.cli.main import cli

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PROVKIT_DATA_DIR", str(tmp_path / "var"))
    for k in ("PROVKIT_DATABASE_URL", "PROVKIT_CONFIG", "PROVKIT_CHAIN_RPC_URL"):
        monkeypatch.delenv(k, raising=False)
    (tmp_path / "r.json").write_text(json.dumps(REC))
    (tmp_path / "p.json").write_text(json.dumps({**REC, "status": "pending"}))
    (tmp_path / "a.json").write_text(json.dumps(full_actions()))
    (tmp_path / "x.wav").write_bytes(CONTENT)
    r = CliRunner()
    assert r.invoke(cli, ["cert", "keygen", "k.key"]).exit_code == 0
    mint_args = ["cert", "mint", "--actions", "a.json", "--content", "x.wav", "--key", "k.key"]
    bad = r.invoke(cli, [*mint_args, "--record", "p.json", "-o", "c.json", "--no-queue"])
    assert bad.exit_code == 2 and "not complete" in bad.stderr and "Traceback" not in bad.output
    ok = r.invoke(cli, [*mint_args, "--record", "r.json", "-o", "c.json", "--no-queue"])
    assert ok.exit_code == 0, ok.output
    v = r.invoke(cli, ["cert", "verify", "c.json"])
    assert v.exit_code == 1 and "untrusted issuer" in v.stdout and "VALID (" not in v.stdout
    v = r.invoke(cli, ["cert", "verify", "c.json", "--allow-untrusted"])
    assert v.exit_code == 0 and "VALID (pending, untrusted issuer)" in v.stdout
    both = r.invoke(cli, ["cert", "verify", "c.json", "--allow-untrusted", "--keyring", "r.json"])
    assert both.exit_code == 2
