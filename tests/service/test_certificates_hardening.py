"""Certificates through the API, hardened: the rubric asked for, complete records only, 4xx for
unencodable ids, and one development chain shared by every worker and kept across restarts."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete

from provenance.certificate.devchain import DevChainTx
from provenance.registry import MediaHash
from service.app import create_app
from service.settings import Settings

ACTIONS = [
    {"id": "a1", "kind": "human_asset", "at": "2026-01-01T10:00:00Z",
     "details": {"asset_type": "lyrics", "perceptible": True}, "refs": ["a" * 64]},
    {"id": "a2", "kind": "selection", "at": "2026-01-01T10:05:00Z",
     "details": {"chosen": ["take-2"], "rejected": ["take-1", "take-3"]}},
]  # fmt: skip


@pytest.fixture
def client(settings: Settings) -> TestClient:
    return TestClient(create_app(settings))


def _key(client: TestClient) -> dict[str, str]:
    keys = client.app.state.services.keys  # type: ignore[attr-defined]
    key, _ = keys.create(["mint", "verify", "admin"])
    return {"X-API-Key": key}


def _generation(client: TestClient, status: str = "complete", n: int = 0) -> str:
    registry = client.app.state.services.registry  # type: ignore[attr-defined]
    sha = hashlib.sha256(b"song %d" % n).hexdigest()
    gen = registry.create(
        user_id="u1",
        model="ref",
        prompt="a lullaby",
        media=[MediaHash("audio", "song.wav", sha)],
        status=status,
    )
    return str(gen.mark_hex)


def _problem(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    return r.json()  # type: ignore[no-any-return]


def _mint(client: TestClient, k: dict[str, str], mark: str, **extra: Any) -> Any:
    return client.post(
        "/v1/certificates", json={"mark_id": mark, "actions": ACTIONS, **extra}, headers=k
    )


def test_mint_honours_the_profile(client: TestClient) -> None:
    k = _key(client)
    seed = _mint(client, k, _generation(client), profile="seed")
    assert seed.status_code == 201, seed.text
    assert seed.json()["contribution"]["profile"] == "seed"
    default = _mint(client, k, _generation(client, n=1))
    assert default.json()["contribution"]["profile"] == "default"
    _problem(_mint(client, k, _generation(client, n=2), profile="gold"), 422)


@pytest.mark.parametrize("status", ["pending", "failed"])
def test_mint_refuses_an_incomplete_record(client: TestClient, status: str) -> None:
    k = _key(client)
    p = _problem(_mint(client, k, _generation(client, status=status)), 409)
    assert "not complete" in p["detail"]
    assert client.app.state.services.certificates.pending_count() == 0  # type: ignore[attr-defined]


def test_unencodable_ids_are_4xx_problems(client: TestClient) -> None:
    k = _key(client)
    cert = _mint(client, k, _generation(client)).json()
    # sent as JSON escapes ("\\ud800"), as an attacker's client would
    for body in (
        {"certificate": {**cert, "id": "\ud800"}},
        {"certificate": {**cert, "\udfff": 1}},
        {"certificate_id": "\ud800"},
    ):
        r = client.post(
            "/v1/certificates/verify",
            content=json.dumps(body),
            headers={**k, "content-type": "application/json"},
        )
        assert 400 <= r.status_code < 500, r.text
        _problem(r, r.status_code)
    _problem(client.get("/v1/certificates/%ED%A0%80", headers=k), 404)
    _problem(client.get("/v1/certificates/" + "0" * 32, headers=k), 404)


def test_anchored_certificates_verify_in_another_worker_and_after_restart(
    client: TestClient, settings: Settings
) -> None:
    k = _key(client)
    cert = _mint(client, k, _generation(client)).json()
    pending = client.post("/v1/certificates/verify", json={"certificate": cert}, headers=k).json()
    assert pending["valid"] and pending["status"] == "pending" and pending["trusted_issuer"]
    done = client.post("/v1/certificates/anchor", headers=k).json()["anchored"]
    assert [d["block_number"] for d in done] == [1]
    doc = client.get(f"/v1/certificates/{cert['id']}", headers=k).json()
    # a second worker (or the same one restarted): new services, new chain, the same store
    other = TestClient(create_app(settings))
    for c in (client, other):
        r = c.post("/v1/certificates/verify", json={"certificate": doc}, headers=k).json()
        assert r["valid"] and r["status"] == "confirmed", r
    # a tampered anchor field never confirms
    for field, value in (
        ("tx_hash", "0x" + "1" * 64),
        ("block_number", 2),
        ("chain_id", 1),
        ("batch_id", 9),
        ("contract", "0x" + "2" * 40),
    ):
        forged = {**doc, "anchor": {**doc["anchor"], field: value}}
        r = other.post("/v1/certificates/verify", json={"certificate": forged}, headers=k).json()
        assert not r["valid"] and r["status"] == "invalid", (field, r)
    # anchoring again is a no-op: nothing lost, nothing waiting
    assert other.post("/v1/certificates/anchor", headers=k).json()["anchored"] == []


def test_a_wiped_dev_chain_is_anchored_again(client: TestClient, settings: Settings) -> None:
    k = _key(client)
    cert = _mint(client, k, _generation(client)).json()
    client.post("/v1/certificates/anchor", headers=k)
    svc = client.app.state.services  # type: ignore[attr-defined]
    with svc.engine.begin() as conn:
        conn.execute(delete(DevChainTx))
    restarted = TestClient(create_app(settings))
    again = restarted.post("/v1/certificates/anchor", headers=k).json()["anchored"]
    assert len(again) == 1 and again[0]["block_number"] == 1
    doc = restarted.get(f"/v1/certificates/{cert['id']}", headers=k).json()
    r = restarted.post("/v1/certificates/verify", json={"certificate": doc}, headers=k).json()
    assert r["status"] == "confirmed", r
