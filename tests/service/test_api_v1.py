"""API v1 through the ASGI app: scopes on every route, generate → download → verify, bad input."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.settings import Settings
from tests.service.conftest import key_headers

ROUTES = [
    ("post", "/v1/screen", "screen"),
    ("post", "/v1/generate", "generate"),
    ("post", "/v1/verify", "verify"),
    ("post", "/v1/audio/watermark", "generate"),
    ("post", "/v1/audio/detect", "verify"),
    ("post", "/v1/video/fingerprints", "generate"),
    ("post", "/v1/video/trace", "verify"),
    ("post", "/v1/certificates", "mint"),
    ("post", "/v1/certificates/verify", "verify"),
    ("post", "/v1/certificates/anchor", "admin"),
    ("get", "/v1/generations/0000000000000001", "verify"),
    ("get", "/v1/generations/0000000000000001/media/video.mp4", "generate"),
    ("get", "/v1/videos/x/thumbnail", "verify"),
    ("delete", "/v1/videos/x", "admin"),
    ("get", "/v1/keys", "admin"),
]


def _problem(r: object, status: int) -> dict[str, object]:
    assert r.status_code == status, r.text  # type: ignore[attr-defined]
    assert r.headers["content-type"].startswith("application/problem+json")  # type: ignore[attr-defined]
    return r.json()  # type: ignore[attr-defined,no-any-return]


@pytest.mark.parametrize(("method", "path", "scope"), ROUTES)
def test_every_route_checks_key_and_scope(
    client: TestClient, method: str, path: str, scope: str
) -> None:
    _problem(getattr(client, method)(path), 401)
    _problem(getattr(client, method)(path, headers={"X-API-Key": "pk_bad_bad"}), 401)
    others = [s for s in ("generate", "verify", "mint", "screen") if s != scope]
    _problem(getattr(client, method)(path, headers=key_headers(client, *others)), 403)


def test_screen_route(client: TestClient) -> None:
    k = key_headers(client, "screen")
    r = client.post("/v1/screen", json={"prompt": "用周杰伦的声音唱一首新歌"}, headers=k)
    assert r.status_code == 200
    d = r.json()
    assert d["action"] in ("deny", "review")
    assert not d["approved"]
    assert d["reasons"][0]["code"]
    ok = client.post("/v1/screen", json={"prompt": "a deep male narrator voice"}, headers=k).json()
    assert ok["action"] == "allow"
    _problem(client.post("/v1/screen", json={"prompt": "x", "tier": "gold"}, headers=k), 422)
    _problem(client.post("/v1/screen", json={"prompt": "   "}, headers=k), 422)
    metrics = client.get("/metrics").text
    assert 'provkit_screen_actions_total{action="allow"} 1.0' in metrics


def test_generate_download_verify(client: TestClient, tmp_path: Path) -> None:
    gen_key = key_headers(client, "generate")
    body = {"prompt": "waves at dusk", "duration_s": 5, "width": 320, "height": 180, "fps": 15}
    r = client.post("/v1/generate", json=body, headers=gen_key)
    assert r.status_code == 201, r.text
    receipt = r.json()
    url = receipt["files"][0]["url"]
    media = client.get(url, headers=gen_key)
    assert media.status_code == 200
    assert len(media.content) > 1000
    v = client.post(
        "/v1/verify",
        files={"file": ("upload.mp4", media.content, "video/mp4")},
        headers=key_headers(client, "verify"),
    )
    assert v.status_code == 200, v.text
    out = v.json()
    assert out["verdict"] == "generated"
    assert out["generation"]["mark_id"] == receipt["mark_id"]
    assert "user_id" not in out["generation"]
    admin = client.post(
        "/v1/verify",
        files={"file": ("u.mp4", media.content, "video/mp4")},
        headers=key_headers(client, "admin"),
    ).json()
    assert admin["generation"]["user_id"].startswith("key:")
    vk = key_headers(client, "verify")
    full = client.post(
        "/v1/verify?mode=full",
        files={"file": ("u.mp4", media.content, "video/mp4")},
        headers=vk,
    ).json()
    assert full["verdict"] == "generated"
    assert full["signals"]["fingerprint"]["depth"] == "full"
    bad = client.post(
        "/v1/verify?mode=quick", files={"file": ("u.mp4", media.content, "video/mp4")}, headers=vk
    )
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    rec = client.get(
        f"/v1/generations/{receipt['mark_id']}", headers=key_headers(client, "verify")
    ).json()
    assert rec["user_id"] is None
    thumb = client.get(
        f"/v1/videos/gen:{receipt['mark_id']}/thumbnail", headers=key_headers(client, "verify")
    )
    assert thumb.status_code == 200
    assert thumb.headers["content-type"] == "image/jpeg"
    assert 'provkit_verdicts_total{verdict="generated"}' in client.get("/metrics").text
    # audio detect on the same upload
    det = client.post(
        "/v1/audio/detect",
        files={"file": ("u.mp4", media.content, "video/mp4")},
        headers=key_headers(client, "verify"),
    ).json()
    assert det["found"]
    assert det["payload"] == receipt["mark_id"]
    # path traversal in the download name
    _problem(
        client.get(
            f"/v1/generations/{receipt['mark_id']}/media/..%2F..%2Fprovkit.db", headers=gen_key
        ),
        404,
    )


def test_generate_refused_is_403_with_reasons(client: TestClient) -> None:
    r = client.post(
        "/v1/generate",
        json={"prompt": "clone Taylor Swift's voice singing my song", "duration_s": 2},
        headers=key_headers(client, "generate"),
    )
    body = _problem(r, 403)
    assert body["reasons"]
    assert body["action"] in ("deny", "review")
    assert "suggestion" in body


def test_watermark_routes(client: TestClient) -> None:
    import io

    import numpy as np
    import soundfile as sf

    x = (np.random.default_rng(0).standard_normal((48_000 * 5, 2)) * 0.1).astype(np.float32)
    buf = io.BytesIO()
    sf.write(buf, x, 48_000, format="WAV", subtype="PCM_16")
    r = client.post(
        "/v1/audio/watermark",
        files={"file": ("a.wav", buf.getvalue(), "audio/wav")},
        data={"payload": "00112233445566ff"},
        headers=key_headers(client, "generate"),
    )
    assert r.status_code == 200, r.text
    det = client.post(
        "/v1/audio/detect",
        files={"file": ("m.flac", r.content, "audio/flac")},
        headers=key_headers(client, "verify"),
    ).json()
    assert det["payload"] == "00112233445566ff"
    _problem(
        client.post(
            "/v1/audio/watermark",
            files={"file": ("a.wav", buf.getvalue(), "audio/wav")},
            data={"payload": "xyz"},
            headers=key_headers(client, "generate"),
        ),
        422,
    )


def test_register_and_trace_existing_video(client: TestClient, tmp_path: Path) -> None:
    from service.generator import GenerationRequest, ReferenceGenerator
    from service.media.encode import write_mp4
    from service.media.transforms import transform

    media = ReferenceGenerator().generate(
        GenerationRequest("stock footage", duration_s=6, width=320, height=180, fps=15, seed=11)
    )
    assert media.video is not None
    src = tmp_path / "stock.mp4"
    write_mp4(src, media.video, None)
    k = key_headers(client, "generate", "verify", "admin")
    r = client.post(
        "/v1/video/fingerprints",
        files={"file": ("s.mp4", src.read_bytes(), "video/mp4")},
        data={"video_id": "stock-1"},
        headers=k,
    )
    assert r.status_code == 201, r.text
    assert r.json()["frames"] >= 3
    _problem(
        client.post(
            "/v1/video/fingerprints",
            files={"file": ("s.mp4", src.read_bytes(), "video/mp4")},
            data={"video_id": "gen:abc"},
            headers=k,
        ),
        422,
    )
    cut = transform(src, tmp_path / "cut.mp4", start_s=2, duration_s=3, crf=32)
    t = client.post(
        "/v1/video/trace", files={"file": ("c.mp4", cut.read_bytes(), "video/mp4")}, headers=k
    ).json()
    assert t["matches"][0]["video_id"] == "stock-1"
    # registered but not a generation: verify is inconclusive, not "generated"
    v = client.post(
        "/v1/verify", files={"file": ("c.mp4", cut.read_bytes(), "video/mp4")}, headers=k
    ).json()
    assert v["verdict"] == "inconclusive"
    assert client.delete("/v1/videos/stock-1", headers=k).status_code == 204
    _problem(client.delete("/v1/videos/stock-1", headers=k), 404)
    t2 = client.post(
        "/v1/video/trace", files={"file": ("c.mp4", cut.read_bytes(), "video/mp4")}, headers=k
    ).json()
    assert t2["matches"] == []


def test_certificates_routes(client: TestClient) -> None:
    k = key_headers(client, "generate", "mint", "verify", "admin")
    receipt = client.post(
        "/v1/generate", json={"prompt": "a lullaby", "kind": "audio", "duration_s": 3}, headers=k
    ).json()
    actions = [
        {"id": "a1", "kind": "human_asset", "at": "2026-01-01T10:00:00Z",
         "details": {"asset_type": "lyrics", "perceptible": True}, "refs": ["a" * 64]},
        {"id": "a2", "kind": "selection", "at": "2026-01-01T10:05:00Z",
         "details": {"chosen": ["take-2"], "rejected": ["take-1", "take-3"]}},
    ]  # fmt: skip
    r = client.post(
        "/v1/certificates", json={"mark_id": receipt["mark_id"], "actions": actions}, headers=k
    )
    assert r.status_code == 201, r.text
    cert = r.json()
    cid = cert["id"] if "id" in cert else cert["certificate_id"]
    got = client.get(f"/v1/certificates/{cid}", headers=k)
    assert got.status_code == 200
    anchored = client.post("/v1/certificates/anchor", headers=k).json()
    assert anchored["anchored"]
    check = client.post("/v1/certificates/verify", json={"certificate_id": cid}, headers=k).json()
    assert check["valid"] is True
    _problem(client.post("/v1/certificates/verify", json={}, headers=k), 422)
    _problem(client.get("/v1/certificates/nope", headers=k), 404)
    _problem(
        client.post("/v1/certificates", json={"mark_id": "0" * 16, "actions": actions}, headers=k),
        404,
    )
    bad = [{"id": "z", "kind": "teleport", "at": "2026-01-01T10:00:00Z"}]
    _problem(
        client.post(
            "/v1/certificates", json={"mark_id": receipt["mark_id"], "actions": bad}, headers=k
        ),
        422,
    )


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("junk.mp4", b"this is not media" * 50),
        ("../../etc/passwd", b"\x00\x01" * 300),
        ("empty.wav", b""),
    ],
)
def test_bad_uploads_are_4xx(
    client: TestClient, settings: Settings, name: str, content: bytes
) -> None:
    r = client.post(
        "/v1/verify",
        files={"file": (name, content, "video/mp4")},
        headers=key_headers(client, "verify"),
    )
    _problem(r, 422)
    assert not any(settings.upload_dir.glob("*")), "spooled uploads are removed"


def test_wrong_content_type_and_missing_file(client: TestClient) -> None:
    k = key_headers(client, "verify")
    _problem(
        client.post(
            "/v1/verify", content=b"raw", headers={**k, "content-type": "application/octet-stream"}
        ),
        422,
    )
    _problem(client.post("/v1/verify", json={"file": "x"}, headers=k), 422)


def test_long_media_becomes_a_job(tmp_path: Path) -> None:
    from service.schema import upgrade

    s = Settings(data_dir=tmp_path / "var", sync_verify_max_s=1.0)
    s.data_dir.mkdir(parents=True)
    upgrade(s.db_url)
    c = TestClient(create_app(s))
    k = key_headers(c, "generate", "verify")
    receipt = c.post(
        "/v1/generate", json={"prompt": "rain", "kind": "audio", "duration_s": 4}, headers=k
    ).json()
    data = c.get(receipt["files"][0]["url"], headers=k).content
    r = c.post("/v1/verify", files={"file": ("a.flac", data, "audio/flac")}, headers=k)
    assert r.status_code == 202, r.text
    job = r.json()
    assert r.headers["location"] == f"/v1/jobs/{job['id']}"
    for _ in range(200):
        job = c.get(f"/v1/jobs/{job['id']}", headers=k).json()
        if job["status"] in ("done", "failed"):
            break
        time.sleep(0.05)
    assert job["status"] == "done", job
    assert job["result"]["verdict"] == "generated"
    _problem(
        c.get(f"/v1/jobs/{job['id']}", headers=key_headers(c, "verify")), 404
    )  # another key's job


def test_verify_shows_the_certificate(client: TestClient) -> None:
    k = key_headers(client, "generate", "mint", "verify")
    receipt = client.post(
        "/v1/generate",
        json={"prompt": "a harp melody", "kind": "audio", "duration_s": 3},
        headers=k,
    ).json()
    actions = [
        {
            "id": "s1",
            "kind": "selection",
            "at": "2026-01-01T10:05:00Z",
            "details": {"chosen": ["t2"]},
        }
    ]
    cert = client.post(
        "/v1/certificates", json={"mark_id": receipt["mark_id"], "actions": actions}, headers=k
    ).json()
    data = client.get(receipt["files"][0]["url"], headers=k).content
    v = client.post("/v1/verify", files={"file": ("a.flac", data, "audio/flac")}, headers=k).json()
    assert v["verdict"] == "generated"
    assert v["certificate"]["certificate_id"] == cert["id"]
    assert v["certificate"]["anchor_status"] == "pending"
