"""The service skeleton: health, readiness, API keys and scopes, problem+json, body limit."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from provenance.registry import Registry, make_engine
from service.app import create_app
from service.auth import KeyStore
from service.schema import downgrade, upgrade
from service.settings import Settings


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path, database_url=db_url, max_body_bytes=8192, max_json_bytes=4096
    )


@pytest.fixture
def client(settings: Settings) -> TestClient:
    return TestClient(create_app(settings))


def _key(settings: Settings, *scopes: str) -> str:
    key, _ = KeyStore(make_engine(settings.db_url)).create(list(scopes), "test")
    return key


def _is_problem(resp: object, status: int) -> dict[str, object]:
    assert resp.status_code == status, resp.text  # type: ignore[attr-defined]
    assert resp.headers["content-type"].startswith("application/problem+json")  # type: ignore[attr-defined]
    body = resp.json()  # type: ignore[attr-defined]
    assert body["status"] == status
    assert body["title"] and body["detail"]
    return body  # type: ignore[no-any-return]


def test_health_and_ready(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    r = client.get("/readyz")
    assert r.status_code == 200
    assert r.json()["status"] == "ready"
    assert "x-request-id" in r.headers


def test_ready_fails_on_stale_schema(settings: Settings) -> None:
    downgrade(settings.db_url, "base")
    c = TestClient(create_app(settings))
    body = _is_problem(c.get("/readyz"), 503)
    assert "db upgrade" in str(body["detail"])
    upgrade(settings.db_url)
    assert c.get("/readyz").status_code == 200


def test_openapi_docs(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "/v1/generations/{mark_id}" in spec["paths"]
    assert client.get("/docs").status_code == 200


def test_missing_wrong_and_unscoped_keys(client: TestClient, settings: Settings) -> None:
    path = "/v1/generations/00000000000000aa"
    body = _is_problem(client.get(path), 401)
    assert body["detail"] == "missing API key"
    _is_problem(client.get(path, headers={"Authorization": "Bearer pk_nope_nope"}), 401)
    _is_problem(client.get(path, headers={"X-API-Key": "garbage"}), 401)
    good = _key(settings, "verify")
    forged = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
    _is_problem(client.get(path, headers={"Authorization": f"Bearer {forged}"}), 401)
    screen_only = _key(settings, "screen")
    body = _is_problem(client.get(path, headers={"Authorization": f"Bearer {screen_only}"}), 403)
    assert "verify" in str(body["detail"])
    # a verify key reaches the route: unknown id -> 404 problem
    _is_problem(client.get(path, headers={"Authorization": f"Bearer {good}"}), 404)


def test_revoked_key_is_refused(client: TestClient, settings: Settings) -> None:
    app_keys = client.app.state.services.keys  # type: ignore[attr-defined]
    key, info = app_keys.create(["verify"])
    assert client.get("/v1/whoami", headers={"X-API-Key": key}).status_code == 200
    assert app_keys.revoke(info.key_id)  # revoked in this process: refused at once
    _is_problem(client.get("/v1/whoami", headers={"X-API-Key": key}), 401)


def test_revocation_elsewhere_applies_within_the_cache_ttl(tmp_path: Path, db_url: str) -> None:
    import time

    s = Settings(data_dir=tmp_path, database_url=db_url, key_cache_ttl_s=0.3)
    c = TestClient(create_app(s))
    other = KeyStore(make_engine(db_url))  # another worker process, say
    key, info = other.create(["verify"])
    assert c.get("/v1/whoami", headers={"X-API-Key": key}).status_code == 200
    assert other.revoke(info.key_id)
    time.sleep(0.4)
    _is_problem(c.get("/v1/whoami", headers={"X-API-Key": key}), 401)


def test_keys_are_stored_hashed(settings: Settings) -> None:
    key, _ = KeyStore(make_engine(settings.db_url)).create(["admin"])
    engine = make_engine(settings.db_url)
    with engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT * FROM api_keys").fetchall()
    dump = repr(rows)
    assert key not in dump
    assert key.split("_", 2)[2] not in dump  # the secret: everything after pk_<id>_


def test_generation_fields_depend_on_scope(client: TestClient, settings: Settings) -> None:
    gen = Registry(make_engine(settings.db_url)).create(user_id="alice", model="m1", prompt="x")
    path = f"/v1/generations/{gen.mark_hex}"
    v = client.get(path, headers={"X-API-Key": _key(settings, "verify")}).json()
    assert v["model"] == "m1"
    assert v["disclosure"] == "ai-generated"
    assert v["user_id"] is None
    assert v["prompt_sha256"] is None
    a = client.get(path, headers={"X-API-Key": _key(settings, "admin")}).json()
    assert a["user_id"] == "alice"
    _is_problem(
        client.get("/v1/generations/xyz", headers={"X-API-Key": _key(settings, "verify")}), 422
    )


def test_admin_creates_and_lists_keys(client: TestClient, settings: Settings) -> None:
    admin = {"X-API-Key": _key(settings, "admin")}
    r = client.post("/v1/keys", json={"scopes": ["verify", "screen"], "name": "ci"}, headers=admin)
    assert r.status_code == 201
    new = r.json()["key"]
    assert client.get("/v1/whoami", headers={"X-API-Key": new}).json()["scopes"] == [
        "screen",
        "verify",
    ]
    listed = client.get("/v1/keys", headers=admin).json()
    assert all("key" not in k for k in listed)
    assert new not in repr(listed)
    _is_problem(client.post("/v1/keys", json={"scopes": ["root"]}, headers=admin), 422)
    _is_problem(client.post("/v1/keys", json={"scopes": []}, headers=admin), 422)
    _is_problem(
        client.post(
            "/v1/keys", content=b"{not json", headers={**admin, "content-type": "application/json"}
        ),
        422,
    )
    _is_problem(
        client.post("/v1/keys", json={"scopes": ["verify"]}, headers={"X-API-Key": new}), 403
    )


def test_oversized_body_is_413(client: TestClient, settings: Settings) -> None:
    admin = {"X-API-Key": _key(settings, "admin")}
    big = {"scopes": ["verify"], "name": "x" * 10_000}
    _is_problem(client.post("/v1/keys", json=big, headers=admin), 413)

    def chunks():  # no Content-Length: the streamed body is counted
        for _ in range(10):
            yield b"x" * 1000

    _is_problem(client.post("/v1/keys", content=chunks(), headers=admin), 413)
    # JSON has its own, smaller limit than uploads
    mid = b"{" + b" " * 5000 + b"}"
    _is_problem(
        client.post("/v1/keys", content=mid, headers={**admin, "content-type": "application/json"}),
        413,
    )
    # a body labelled as something else gets the JSON limit too: only uploads get more
    r = client.post("/v1/keys", content=mid, headers={**admin, "content-type": "text/plain"})
    _is_problem(r, 413)
    r = client.post("/v1/audio/detect", files={"file": ("a.wav", mid)}, headers=admin)
    assert r.status_code != 413


def test_unknown_route_and_method_are_problems(client: TestClient) -> None:
    _is_problem(client.get("/nope"), 404)
    _is_problem(client.delete("/healthz"), 405)


def test_logs_never_carry_keys(
    client: TestClient, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    key = _key(settings, "verify")
    logging.getLogger("provkit").propagate = True
    try:
        with caplog.at_level(logging.INFO, logger="provkit"):
            client.get("/v1/whoami", headers={"Authorization": f"Bearer {key}"})
    finally:
        logging.getLogger("provkit").propagate = False
    assert caplog.records, "access log expected"
    assert key not in caplog.text


def test_metrics_per_route_template(client: TestClient, settings: Settings) -> None:
    key = {"X-API-Key": _key(settings, "verify")}
    client.get("/healthz")
    client.get("/v1/generations/00000000000000aa", headers=key)
    client.get("/v1/generations/00000000000000bb", headers=key)
    text = client.get("/metrics").text
    assert 'provkit_request_seconds_count{method="GET",route="/healthz"} 1.0' in text
    assert 'provkit_responses_total{route="/v1/generations/{mark_id}",status="404"} 2.0' in text
    assert "00000000000000aa" not in text
