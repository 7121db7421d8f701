"""Manifest and label through the service: generate → the file carries both → verify reports
them; stripped copies lead back to the stored manifest; the Soft Binding Resolution API."""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import c2pa
import pytest
from fastapi.testclient import TestClient

from provenance.c2pa import (
    PDQ_ALG,
    WATERMARK_ALG,
    GenerationFacts,
    ManifestSigner,
    build_manifest,
    create_dev_chain,
)
from provenance.labels import FIELDS, AigcLabel, write_label
from service.app import create_app
from service.schema import upgrade
from service.settings import Settings
from tests.c2pa.conftest import ffmpeg

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    s = Settings(data_dir=tmp_path_factory.mktemp("c2pa-svc") / "var", sync_verify_max_s=60.0)
    s.data_dir.mkdir(parents=True)
    upgrade(s.db_url)
    with TestClient(create_app(s)) as c:
        yield c


def _key(client: TestClient, *scopes: str) -> dict[str, str]:
    key, _ = client.app.state.services.keys.create(list(scopes))  # type: ignore[attr-defined]
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture(scope="module")
def made(client: TestClient, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One video generation downloaded (manifest + label inside) and its receipt."""
    body = {
        "prompt": "waves at dusk",
        "duration_s": 5,
        "width": 320,
        "height": 180,
        "fps": 15,
        "seed": 3,
    }
    gen_key = _key(client, "generate")
    r = client.post("/v1/generate", json=body, headers=gen_key)
    assert r.status_code == 201, r.text
    receipt = r.json()
    d = tmp_path_factory.mktemp("made")
    path = d / "video.mp4"
    path.write_bytes(client.get(receipt["files"][0]["url"], headers=gen_key).content)
    return {"receipt": receipt, "path": path, "dir": d}


def _verify(client: TestClient, path: Path) -> dict[str, Any]:
    v = client.post(
        "/v1/verify",
        files={"file": (path.name, path.read_bytes(), "video/mp4")},
        headers=_key(client, "verify"),
    )
    assert v.status_code == 200, v.text
    out: dict[str, Any] = v.json()
    return out


def test_generated_file_carries_manifest_and_label(
    client: TestClient, made: dict[str, Any]
) -> None:
    receipt, path = made["receipt"], made["path"]
    with c2pa.Reader(str(path)) as reader:
        assert reader.get_validation_state() == "Valid"  # development chain: valid, untrusted
        active = reader.get_active_manifest()
    algs = {a["data"]["alg"] for a in active["assertions"] if a["label"] == "c2pa.soft-binding"}
    assert algs == {WATERMARK_ALG, PDQ_ALG}
    assert receipt["c2pa"]["manifests"][0]["manifest_id"] == active["label"]
    assert receipt["label"]["produce_id"] == str(receipt["generation_id"])
    out = _verify(client, path)
    assert out["verdict"] == "generated"
    c2 = out["signals"]["c2pa"]
    assert c2["outcome"] == "pass"
    assert c2["manifest"]["state"] == "valid_untrusted"
    assert c2["manifest"]["generation"]["mark_id"] == receipt["mark_id"]
    assert "c2pa_manifest" in {r["code"] for r in out["reasons"]}
    lab = out["signals"]["label"]
    assert lab["integrity"] == "valid"
    assert lab["label"]["ProduceID"] == str(receipt["generation_id"])


def test_flipped_byte_reports_the_failing_check(client: TestClient, made: dict[str, Any]) -> None:
    data = bytearray(made["path"].read_bytes())
    data[len(data) // 2] ^= 0x01
    bad = made["dir"] / "flipped.mp4"
    bad.write_bytes(bytes(data))
    c2 = _verify(client, bad)["signals"]["c2pa"]
    assert c2["manifest"]["state"] == "invalid"
    assert "assertion.bmffHash.mismatch" in {f["code"] for f in c2["manifest"]["failures"]}


def _reencode(src: Path, dst: Path, *opts: str) -> Path:
    cmd = [ffmpeg(), "-nostdin", "-loglevel", "error", "-y", "-i", str(src), "-map_metadata", "-1"]
    subprocess.run([*cmd, *opts, str(dst)], check=True)
    return dst


def test_stripped_copy_recovers_manifest_via_watermark(
    client: TestClient, made: dict[str, Any]
) -> None:
    copy = _reencode(
        made["path"],
        made["dir"] / "reenc.mp4",
        "-c:v",
        "libx264",
        "-crf",
        "23",
        "-c:a",
        "aac",
        "-b:a",
        "256k",
    )
    with pytest.raises(c2pa.C2paError):
        c2pa.Reader(str(copy))  # the re-encode dropped the manifest
    out = _verify(client, copy)
    c2 = out["signals"]["c2pa"]
    assert c2["manifest"] is None
    assert out["signals"]["label"]["found"] is False  # the label went with the metadata
    rec = c2["recovered"]
    assert (
        len(rec) == 1
        and rec[0]["state"] == "valid_untrusted"
        and rec[0]["hard_binding"] == "not_checked"
    )
    assert "watermark" in rec[0]["via"]
    assert rec[0]["manifest_id"] == made["receipt"]["c2pa"]["manifests"][0]["manifest_id"]


def test_stripped_copy_recovers_manifest_via_fingerprint(
    client: TestClient, made: dict[str, Any]
) -> None:
    # no audio: the watermark cannot speak, only the video fingerprint leads back
    copy = _reencode(
        made["path"], made["dir"] / "silent.mp4", "-an", "-c:v", "libx264", "-crf", "26"
    )
    out = _verify(client, copy)
    assert out["signals"]["watermark"]["outcome"] == "skip"
    rec = out["signals"]["c2pa"]["recovered"]
    assert len(rec) == 1 and rec[0]["via"] == ["fingerprint"]
    assert rec[0]["generation"]["mark_id"] == made["receipt"]["mark_id"]


def test_foreign_chain_cannot_claim_a_generation(
    client: TestClient, made: dict[str, Any], tmp_path: Path
) -> None:
    """A manifest from another CA naming our generation (same serial even) is not a strong claim."""
    svc = client.app.state.services  # type: ignore[attr-defined]
    forged_chain = create_dev_chain(tmp_path / "forger")
    copy = _reencode(made["path"], tmp_path / "forged.mp4", "-c", "copy")
    receipt = made["receipt"]
    facts = GenerationFacts(receipt["generation_id"], receipt["mark_id"], "m", copy.name)
    ManifestSigner(forged_chain).sign_file(copy, build_manifest(facts))
    from service.signals.c2pa import manifest_claims

    check = svc.manifest_reader.read(copy)
    assert check.state == "valid_untrusted"
    claims = manifest_claims(svc, copy, check)
    assert [c.code for c in claims] == ["c2pa_declared"] and claims[0].strength == "weak"


def test_generation_manifest_route(client: TestClient, made: dict[str, Any]) -> None:
    mark = made["receipt"]["mark_id"]
    r = client.get(f"/v1/generations/{mark}/manifest", headers=_key(client, "verify"))
    assert r.status_code == 200, r.text
    (m,) = r.json()["manifests"]
    assert m["state"] == "valid_untrusted" and m["generation"]["mark_id"] == mark
    assert (
        client.get(
            "/v1/generations/00000000000000ff/manifest", headers=_key(client, "verify")
        ).status_code
        == 404
    )


def test_resolution_by_binding(client: TestClient, made: dict[str, Any]) -> None:
    vk = _key(client, "verify")
    mid = made["receipt"]["c2pa"]["manifests"][0]["manifest_id"]
    wm = base64.b64encode(bytes.fromhex(made["receipt"]["mark_id"])).decode()
    r = client.get("/v1/matches/byBinding", params={"alg": WATERMARK_ALG, "value": wm}, headers=vk)
    assert r.status_code == 200, r.text
    assert r.json() == {"matches": [{"manifestId": mid, "similarityScore": 100, "endpoint": None}]}
    # a PDQ value from the manifest's own soft binding, by POST
    with c2pa.Reader(str(made["path"])) as reader:
        active = reader.get_active_manifest()
    pdq = next(
        a["data"]
        for a in active["assertions"]
        if a["label"] == "c2pa.soft-binding" and a["data"]["alg"] == PDQ_ALG
    )
    body = {"alg": PDQ_ALG, "value": pdq["blocks"][0]["value"]}
    r = client.post("/v1/matches/byBinding", json=body, headers=vk)
    assert r.status_code == 200, r.text
    assert [m["manifestId"] for m in r.json()["matches"]] == [mid]
    # an unknown mark and a far PDQ hash match nothing
    other = base64.b64encode(bytes(8)).decode()
    assert client.get(
        "/v1/matches/byBinding", params={"alg": WATERMARK_ALG, "value": other}, headers=vk
    ).json() == {"matches": []}
    flipped = bytes(b ^ 0xFF for b in base64.b64decode(pdq["blocks"][0]["value"]))
    far = {"alg": PDQ_ALG, "value": base64.b64encode(flipped).decode()}
    assert client.post("/v1/matches/byBinding", json=far, headers=vk).json() == {"matches": []}
    for params in ({"alg": "com.example.x.1", "value": wm}, {"alg": WATERMARK_ALG, "value": "@@"}):
        bad = client.get("/v1/matches/byBinding", params=params, headers=vk)
        assert bad.status_code == 400
        assert bad.headers["content-type"].startswith("application/problem+json")
    assert (
        client.get("/v1/matches/byBinding", params={"alg": WATERMARK_ALG, "value": wm}).status_code
        == 401
    )


def test_resolution_by_content_and_fetch(client: TestClient, made: dict[str, Any]) -> None:
    vk = _key(client, "verify")
    mid = made["receipt"]["c2pa"]["manifests"][0]["manifest_id"]
    copy = _reencode(
        made["path"],
        made["dir"] / "bycontent.mp4",
        "-c:v",
        "libx264",
        "-crf",
        "23",
        "-c:a",
        "aac",
        "-b:a",
        "256k",
    )
    r = client.post(
        "/v1/matches/byContent",
        files={"file": ("x.mp4", copy.read_bytes(), "video/mp4")},
        headers=vk,
    )
    assert r.status_code == 200, r.text
    assert [m["manifestId"] for m in r.json()["matches"]] == [mid]
    only_fp = client.post(
        "/v1/matches/byContent",
        params={"alg": PDQ_ALG},
        files={"file": ("x.mp4", copy.read_bytes(), "video/mp4")},
        headers=vk,
    )
    assert [m["manifestId"] for m in only_fp.json()["matches"]] == [mid]
    assert (
        client.post(
            "/v1/matches/byContent", content=b"hello", headers={**vk, "content-type": "text/plain"}
        ).status_code
        == 415
    )
    store = client.get(f"/v1/manifests/{mid}", headers=vk)
    assert store.status_code == 200
    assert store.headers["content-type"] == "application/c2pa"
    with c2pa.Reader("application/c2pa", io.BytesIO(store.content)) as reader:
        assert reader.get_active_manifest()["label"] == mid
    assert client.get("/v1/manifests/urn:c2pa:nope", headers=vk).status_code == 400
    unknown = mid[:-4] + ("0000" if not mid.endswith("0000") else "1111")
    assert client.get(f"/v1/manifests/{unknown}", headers=vk).status_code == 404
    algs = client.get("/v1/services/supportedAlgorithms", headers=vk).json()
    assert algs == {"watermarks": [{"alg": WATERMARK_ALG}], "fingerprints": [{"alg": PDQ_ALG}]}
    # the specification declares this one without security: it answers without a key too,
    # and nothing else under /v1/ does
    assert client.get("/v1/services/supportedAlgorithms").json() == algs
    assert client.get(f"/v1/manifests/{mid}").status_code == 401
    schema = client.get("/openapi.json").json()["paths"]
    for p in (
        "/v1/matches/byBinding",
        "/v1/matches/byContent",
        "/v1/manifests/{manifestId}",
        "/v1/services/supportedAlgorithms",
    ):
        assert p in schema


def test_audio_generation_wav_and_cli(client: TestClient, tmp_path: Path) -> None:
    """A WAV generation carries both; the CLI reads them in a separate process."""
    svc = client.app.state.services  # type: ignore[attr-defined]
    body = {
        "prompt": "soft rain",
        "kind": "audio",
        "duration_s": 3,
        "audio_format": "wav",
        "seed": 5,
    }
    gen_key = _key(client, "generate")
    r = client.post("/v1/generate", json=body, headers=gen_key)
    assert r.status_code == 201, r.text
    receipt = r.json()
    path = tmp_path / "audio.wav"
    path.write_bytes(client.get(receipt["files"][0]["url"], headers=gen_key).content)
    env = {**os.environ, "PROVKIT_DATA_DIR": str(svc.settings.data_dir), "PYTHONPATH": str(ROOT)}
    env.pop("PROVKIT_CONFIG", None)
    env.pop("PROVKIT_DATABASE_URL", None)
    cli = [sys.executable, "-m", "service.cli"]
    label = json.loads(
        subprocess.run(
            [*cli, "label", "read", str(path), "--json"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    assert label["integrity"] == "valid" and label["label"]["ProduceID"] == str(
        receipt["generation_id"]
    )
    man = json.loads(
        subprocess.run(
            [*cli, "c2pa", "read", str(path), "--json"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    assert man["state"] == "valid_untrusted" and man["generation"]["mark_id"] == receipt["mark_id"]
    fields = {k: v for k, v in label["label"].items() if k in FIELDS}
    forged = AigcLabel(**{**fields, "ProduceID": "999"})  # the MAC kept, the id changed
    write_label(path, forged)
    tampered = subprocess.run(
        [*cli, "label", "read", str(path)], env=env, capture_output=True, text=True
    )
    assert tampered.returncode == 1 and "tampered" in tampered.stdout
    # the specification's form of byContent: the asset itself as the body, in its media type,
    # through the whole service (its body gate takes such a body as an upload)
    raw = client.post(
        "/v1/matches/byContent",
        content=path.read_bytes(),
        headers={**_key(client, "verify"), "content-type": "audio/wav"},
    )
    assert raw.status_code == 200, raw.text
    mid = receipt["c2pa"]["manifests"][0]["manifest_id"]
    assert [m["manifestId"] for m in raw.json()["matches"]] == [mid]
    bad = subprocess.run(
        [*cli, "c2pa", "read", str(tmp_path / "missing.wav")],
        env=env,
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1


def test_unusable_operator_chain_fails_the_generation_cleanly(tmp_path: Path) -> None:
    from service import pipeline
    from service.context import Services
    from service.errors import PipelineError
    from service.requests import GenerateRequest

    s = Settings(
        data_dir=tmp_path / "var",
        c2pa_cert_file=tmp_path / "missing.pem",
        c2pa_key_file=tmp_path / "missing.key",
    )
    s.data_dir.mkdir(parents=True)
    upgrade(s.db_url)
    svc = Services(s)
    req = GenerateRequest(prompt="soft rain", kind="audio", duration_s=2, seed=1, user_id="u")
    with pytest.raises(PipelineError, match="C2PA signing failed: cannot read the signing chain"):
        pipeline.generate(svc, req)
    assert not any(svc.settings.media_dir.iterdir())  # nothing unsigned was kept
