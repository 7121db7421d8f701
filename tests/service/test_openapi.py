"""The OpenAPI schema: typed verdict and job responses, every error as problem+json (never
FastAPI's ``HTTPValidationError``), 401/403/413/422 where they can happen, examples — and the
real responses match what the schema says."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.api import JobOut, VerdictOut
from service.app import create_app
from service.problems import PROBLEM_TYPE, ProblemDetails
from service.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def client(settings: Settings) -> TestClient:
    return TestClient(create_app(settings))


@pytest.fixture
def schema(client: TestClient) -> dict[str, Any]:
    r = client.get("/openapi.json")
    assert r.status_code == 200
    return r.json()  # type: ignore[no-any-return]


def _operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, op)
        for path, item in schema["paths"].items()
        for method, op in item.items()
        if isinstance(op, dict) and "responses" in op
    ]


def test_verify_and_jobs_are_typed(schema: dict[str, Any]) -> None:
    verify = schema["paths"]["/v1/verify"]["post"]["responses"]
    ref = verify["200"]["content"]["application/json"]["schema"]["$ref"]
    assert ref.endswith("/VerdictOut")
    assert verify["202"]["content"]["application/json"]["schema"]["$ref"].endswith("/JobOut")
    job = schema["paths"]["/v1/jobs/{job_id}"]["get"]["responses"]["200"]
    assert job["content"]["application/json"]["schema"]["$ref"].endswith("/JobOut")
    verdict = schema["components"]["schemas"]["VerdictOut"]
    assert verdict["properties"]["verdict"]["enum"] == ["generated", "not_found", "inconclusive"]
    assert verdict["examples"]


def test_errors_are_problem_json(schema: dict[str, Any]) -> None:
    text = json.dumps(schema)
    assert "HTTPValidationError" not in text
    problems = 0
    for path, method, op in _operations(schema):
        for status, resp in op["responses"].items():
            if status.startswith(("4", "5")):
                assert list(resp["content"]) == [PROBLEM_TYPE], (path, method, status)
                assert resp["content"][PROBLEM_TYPE]["example"]["status"] == int(status)
                problems += 1
        if op.get("security"):
            assert {"401", "403"} <= set(op["responses"]), (path, method)
        if "requestBody" in op:
            assert {"413", "422"} <= set(op["responses"]), (path, method)
    assert problems > 20
    assert "ProblemDetails" in schema["components"]["schemas"]


def test_real_problem_matches_the_schema(client: TestClient) -> None:
    r = client.post("/v1/verify", files={"file": ("a.wav", b"x", "audio/wav")})
    assert r.status_code == 401
    assert r.headers["content-type"].startswith(PROBLEM_TYPE)
    ProblemDetails.model_validate(r.json())
    key, _ = client.app.state.services.keys.create(["verify"])  # type: ignore[attr-defined]
    r = client.post("/v1/screen", json={"prompt": "hello"}, headers={"X-API-Key": key})
    assert r.status_code == 403
    assert "'screen' scope" in ProblemDetails.model_validate(r.json()).detail


def test_real_verdict_matches_the_schema(client: TestClient) -> None:
    key, _ = client.app.state.services.keys.create(["generate", "verify"])  # type: ignore[attr-defined]
    k = {"X-API-Key": key}
    receipt = client.post(
        "/v1/generate", json={"prompt": "a lullaby", "kind": "audio", "duration_s": 2}, headers=k
    ).json()
    data = client.get(receipt["files"][0]["url"], headers=k).content
    r = client.post("/v1/verify", files={"file": ("a.flac", data, "audio/flac")}, headers=k)
    assert r.status_code == 200, r.text
    verdict = VerdictOut.model_validate(r.json())
    assert verdict.verdict == "generated" and verdict.generation is not None
    assert JobOut.model_fields["result"].annotation is not None


def test_metrics_are_documented(client: TestClient) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    text = client.get("/metrics").text
    names = set(re.findall(r"^# TYPE (provkit_\w+)", text, re.M))
    assert names
    for name in names:
        assert f"`{name}`" in readme, name
