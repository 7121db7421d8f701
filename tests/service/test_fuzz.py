"""Schemathesis fuzzes the OpenAPI schema: no generated request may produce a 5xx, and every
answer has a documented status, content type and body schema."""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from service.app import create_app
from service.schema import upgrade
from service.settings import Settings

_tmp = Path(__import__("tempfile").mkdtemp(prefix="provkit-fuzz-"))
_settings = Settings(data_dir=_tmp / "var", sync_verify_max_s=5.0)
_settings.data_dir.mkdir(parents=True, exist_ok=True)
upgrade(_settings.db_url)
_app = create_app(_settings)
_KEY, _ = _app.state.services.keys.create(["admin"], "fuzz")

schema = schemathesis.openapi.from_asgi("/openapi.json", _app)
#: the answer matches the schema: a documented status code, its content type, its body schema
_CONFORMANCE = [status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.mark.slow
@schema.exclude(path="/v1/generate").parametrize()
@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_server_errors(case: schemathesis.Case) -> None:
    response = case.call(headers={"X-API-Key": _KEY})
    assert response.status_code < 500, (
        f"{case.method} {case.path}: {response.status_code} {response.text[:300]}"
    )
    case.validate_response(response, checks=_CONFORMANCE)


def test_generate_bad_bodies_are_4xx() -> None:
    from fastapi.testclient import TestClient

    c = TestClient(_app)
    h = {"X-API-Key": _KEY}
    for body in (
        {},
        {"prompt": ""},
        {"prompt": "x" * 20_000},
        {"prompt": "ok", "duration_s": -1},
        {"prompt": "ok", "width": 10**9},
        {"prompt": "ok", "kind": "hologram"},
        {"prompt": ["not", "a", "string"]},
    ):
        r = c.post("/v1/generate", json=body, headers=h)
        assert 400 <= r.status_code < 500, (body, r.status_code)
        assert r.headers["content-type"].startswith("application/problem+json")
