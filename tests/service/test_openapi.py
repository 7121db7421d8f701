"""The OpenAPI schema: every route's success answer typed, every error as problem+json (never
FastAPI's ``HTTPValidationError``), 401/403/404/409/413/422 where they can happen, examples that
match their own schemas — and the real answers of every JSON route match what the schema says,
field for field."""

from __future__ import annotations

import base64
import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from fastapi.testclient import TestClient
from httpx import Response

from provenance.c2pa import WATERMARK_ALG
from service.app import create_app
from service.problems import PROBLEM_TYPE, ProblemDetails
from service.responses import JobOut, VerdictOut
from service.schema import upgrade
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


def test_metrics_are_documented(client: TestClient) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    text = client.get("/metrics").text
    names = set(re.findall(r"^# TYPE (provkit_\w+)", text, re.M))
    assert names
    for name in names:
        assert f"`{name}`" in readme, name


def test_every_success_answer_is_typed(schema: dict[str, Any]) -> None:
    components = schema["components"]["schemas"]
    seen = 0
    for path, method, op in _operations(schema):
        ok = {code: r for code, r in op["responses"].items() if code.startswith("2")}
        assert ok, (path, method)
        for code, resp in ok.items():
            if code == "204":
                assert not resp.get("content"), (path, method)
                continue
            assert resp.get("content"), (path, method, code)
            for media, body in resp["content"].items():
                sch = body.get("schema") or {}
                assert sch, (path, method, code, media)
                if media == "application/json":
                    ref = sch.get("$ref") or sch.get("items", {}).get("$ref")
                    if ref:
                        target = components[ref.rsplit("/", 1)[1]]
                        assert target.get("properties") or target.get("anyOf"), ref
                        assert target.get("examples"), f"{ref} has no example"
                    else:
                        assert sch.get("type") == "object" and sch.get("additionalProperties")
                else:
                    assert sch == {"type": "string", "format": "binary"}, (path, method, media)
                seen += 1
    assert seen >= 28


def test_route_specific_problems_are_documented(schema: dict[str, Any]) -> None:
    for path, method, op in _operations(schema):
        if "{" in path and op.get("security"):  # a named thing that may not exist
            assert "404" in op["responses"], (path, method)
    paths = schema["paths"]
    assert "409" in paths["/v1/certificates"]["post"]["responses"]
    assert "503" in paths["/readyz"]["get"]["responses"]
    assert "415" in paths["/v1/matches/byContent"]["post"]["responses"]
    refused = paths["/v1/generate"]["post"]["responses"]["403"]["content"][PROBLEM_TYPE]
    assert "not approved" in refused["example"]["detail"]


def _validator(schema: dict[str, Any], target: dict[str, Any], *, exact: bool) -> Any:
    """A JSON Schema validator for ``target`` (a schema from the document) that resolves the
    document's ``$ref``s; ``exact`` also refuses members a schema does not name, wherever the
    schema does not allow extra ones itself."""
    components = copy.deepcopy(schema["components"])
    if exact:

        def close(node: Any) -> None:
            if isinstance(node, dict):
                if "properties" in node and "additionalProperties" not in node:
                    node["additionalProperties"] = False
                for v in node.values():
                    close(v)
            elif isinstance(node, list):
                for v in node:
                    close(v)

        close(components)
    return jsonschema_rs.Draft202012Validator({**target, "components": components})


def test_examples_match_their_schemas(schema: dict[str, Any]) -> None:
    checked = 0
    for name, component in schema["components"]["schemas"].items():
        for example in component.get("examples", []):
            target = {"$ref": f"#/components/schemas/{name}"}
            errors = [
                e.message for e in _validator(schema, target, exact=True).iter_errors(example)
            ]
            assert not errors, (name, errors)
            checked += 1
    for path, method, op in _operations(schema):
        for code, resp in op["responses"].items():
            body = resp.get("content", {}).get(PROBLEM_TYPE)
            if body:
                v = _validator(schema, body["schema"], exact=False)
                assert v.is_valid(body["example"]), (path, method, code)
                checked += 1
    assert checked > 40


class Recorder:
    """Calls the app and checks each answer against the schema entry of its route and status."""

    def __init__(self, client: TestClient, schema: dict[str, Any]) -> None:
        self.client = client
        self.schema = schema
        self.validated: set[tuple[str, str, str]] = set()

    def __call__(self, method: str, route: str, url: str | None = None, **kw: Any) -> Response:
        expect = kw.pop("expect", None)
        r = self.client.request(method, url or route, **kw)
        assert expect is None or r.status_code == expect, (method, url, r.status_code, r.text)
        op = self.schema["paths"][route][method.lower()]
        code = str(r.status_code)
        assert code in op["responses"], (method, route, code, r.text[:300])
        self.validated.add((route, method.lower(), code))
        if code == "204":
            return r
        ctype = r.headers["content-type"].split(";")[0]
        content = op["responses"][code]["content"]
        assert ctype in content, (method, route, code, ctype)
        if ctype in ("application/json", PROBLEM_TYPE):
            v = _validator(self.schema, content[ctype]["schema"], exact=True)
            errors = [f"{e.instance_path}: {e.message}" for e in v.iter_errors(r.json())]
            assert not errors, (method, route, code, errors[:5])
        return r


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Recorder]:
    """One pass over every route with real data (generation, verification, a job, a
    certificate, resolution, keys), each answer validated."""
    tmp = tmp_path_factory.mktemp("openapi")
    s = Settings(data_dir=tmp / "var", sync_verify_max_s=2.5)
    s.data_dir.mkdir(parents=True)
    upgrade(s.db_url)
    with TestClient(create_app(s)) as client:
        schema = client.get("/openapi.json").json()
        call = Recorder(client, schema)
        keys = client.app.state.services.keys  # type: ignore[attr-defined]
        admin, _ = keys.create(["admin"], "openapi")
        h = {"X-API-Key": admin}
        yield _exercise(call, h)
        client.app.state.services.jobs.shutdown()  # type: ignore[attr-defined]


def _exercise(call: Recorder, h: dict[str, str]) -> Recorder:
    call("GET", "/healthz")
    call("GET", "/readyz")
    call("GET", "/reasons.json")
    call("GET", "/v1/services/supportedAlgorithms")
    call("GET", "/v1/whoami", headers=h)
    created = call("POST", "/v1/keys", json={"scopes": ["verify"], "name": "v"}, headers=h).json()
    call("POST", "/v1/screen", json={"prompt": "hi"}, headers={"X-API-Key": created["key"]})
    call("GET", "/v1/keys", headers=h)
    call("DELETE", "/v1/keys/{key_id}", f"/v1/keys/{created['key_id']}", headers=h)
    call("DELETE", "/v1/keys/{key_id}", "/v1/keys/nope", headers=h)
    call("POST", "/v1/verify", files={"file": ("a.wav", b"x", "audio/wav")})  # 401
    call("POST", "/v1/screen", json={"prompt": "make Taylor Swift sing my song"}, headers=h)
    call("POST", "/v1/screen", json={"prompt": "hi", "tier": "gold"}, headers=h)
    call("POST", "/v1/generate", json={"prompt": "make Taylor Swift sing it"}, headers=h)
    body = {"prompt": "a calm piano", "kind": "video", "duration_s": 2.0, "fps": 10}
    video = call(
        "POST", "/v1/generate", json={**body, "width": 128, "height": 72}, headers=h, expect=201
    )
    audio = call(
        "POST", "/v1/generate", json={"prompt": "a lullaby", "kind": "audio", "duration_s": 3},
        headers=h,
    ).json()  # fmt: skip
    mark = video.json()["mark_id"]
    gen = "/v1/generations/{mark_id}"
    call("GET", gen, f"/v1/generations/{mark}", headers=h)
    call("GET", gen, "/v1/generations/00000000000000ff", headers=h)
    call("GET", gen, "/v1/generations/xyz", headers=h)
    call("GET", gen + "/manifest", f"/v1/generations/{mark}/manifest", headers=h)
    media = "/v1/generations/{mark_id}/media/{name}"
    clip = call("GET", media, f"/v1/generations/{mark}/media/video.mp4", headers=h).content
    call("GET", media, f"/v1/generations/{mark}/media/nope.mp4", headers=h)
    song = call("GET", media, audio["files"][0]["url"], headers=h).content
    upload = {"file": ("v.mp4", clip, "video/mp4")}
    verdict = call("POST", "/v1/verify", files=upload, headers=h, expect=200).json()
    assert VerdictOut.model_validate(verdict).verdict == "generated" and verdict["generation"]
    job = call("POST", "/v1/verify", files={"file": ("a.flac", song, "audio/flac")}, headers=h)
    call("POST", "/v1/verify", files={"file": ("a.wav", b"not audio", "audio/wav")}, headers=h)
    call("POST", "/v1/audio/detect", files=upload, headers=h)
    call("POST", "/v1/video/trace", files=upload, headers=h)
    call("POST", "/v1/video/fingerprints", files=upload, data={"video_id": "clip-1"}, headers=h)
    marked = call(
        "POST", "/v1/audio/watermark", files={"file": ("a.flac", song, "audio/flac")},
        data={"payload": "00112233aabbccdd"}, headers=h,
    )  # fmt: skip
    assert marked.content[:4] == b"fLaC"
    call("GET", "/v1/videos/{video_id}/thumbnail", f"/v1/videos/gen:{mark}/thumbnail", headers=h)
    call("GET", "/v1/videos/{video_id}/thumbnail", "/v1/videos/nope/thumbnail", headers=h)
    call("DELETE", "/v1/videos/{video_id}", "/v1/videos/clip-1", headers=h)
    call("DELETE", "/v1/videos/{video_id}", "/v1/videos/clip-1", headers=h)
    value = base64.b64encode(bytes.fromhex(mark)).decode()
    found = call(
        "GET", "/v1/matches/byBinding", params={"alg": WATERMARK_ALG, "value": value}, headers=h
    ).json()["matches"]  # fmt: skip
    call("GET", "/v1/matches/byBinding", params={"alg": "x.y", "value": value}, headers=h)
    call("POST", "/v1/matches/byBinding", json={"alg": WATERMARK_ALG, "value": value}, headers=h)
    call("POST", "/v1/matches/byContent", content=song, headers={**h, "content-type": "audio/flac"})
    manifest = "/v1/manifests/{manifestId}"
    call("GET", manifest, f"/v1/manifests/{found[0]['manifestId']}", headers=h)
    call("GET", manifest, "/v1/manifests/nope", headers=h)
    actions = [
        {"id": "p1", "kind": "prompt_edit", "at": "2026-01-01T10:00:00Z",
         "details": {"text": "a slow ballad"}},
        {"id": "l1", "kind": "layer_spec", "at": "2026-01-01T10:01:00Z",
         "details": {"layers": ["vocals", "piano"]}},
    ]  # fmt: skip
    cert = call("POST", "/v1/certificates", json={"mark_id": mark, "actions": actions}, headers=h)
    cid = cert.json()["id"]
    call("POST", "/v1/certificates", json={"mark_id": mark, "actions": [{}]}, headers=h)
    call("GET", "/v1/certificates/{cert_id}", f"/v1/certificates/{cid}", headers=h)
    call("GET", "/v1/certificates/{cert_id}", "/v1/certificates/" + "0" * 32, headers=h)
    call("POST", "/v1/certificates/verify", json={"certificate_id": cid}, headers=h)
    call("POST", "/v1/certificates/verify", json={"certificate": cert.json()}, headers=h)
    call("POST", "/v1/certificates/anchor", headers=h)
    call("POST", "/v1/certificates/verify", json={"certificate_id": cid}, headers=h)
    assert job.status_code == 202
    for _ in range(600):
        polled = call("GET", "/v1/jobs/{job_id}", job.headers["location"], headers=h).json()
        if polled["status"] in ("done", "failed"):
            break
        __import__("time").sleep(0.05)
    assert polled["status"] == "done" and polled["result"]["verdict"] == "generated"
    assert JobOut.model_validate(polled).result is not None
    call("GET", "/v1/jobs/{job_id}", "/v1/jobs/nope", headers=h)
    return call


def test_real_answers_match_the_schema(recorded: Recorder) -> None:
    """Every JSON success answer of every route, and the problems met on the way, validate
    against the schema with no undocumented member."""
    schema = recorded.schema
    wanted = {
        (path, method, code)
        for path, method, op in _operations(schema)
        for code in op["responses"]
        if code.startswith("2")
    }
    assert wanted - recorded.validated == set()
    problems = {(p, m, c) for p, m, c in recorded.validated if c[0] in "45"}
    assert {c for _, _, c in problems} >= {"400", "401", "403", "404", "422"}
