"""The gate in front of the API (in process): JSON depth, keys in URLs, caps counted on what is
decoded. The same attacks against a real server are in test_redteam.py."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from provenance.fingerprint import DecodeLimitError, fingerprint_video
from service.app import create_app
from service.context import Services
from service.jsondepth import deeper_than, max_depth
from service.media import MediaLimits, MediaTooLong, decode_audio
from service.settings import Settings


def _depth(v: Any) -> int:
    if isinstance(v, list):
        return 1 + max((_depth(x) for x in v), default=0)
    if isinstance(v, dict):
        return 1 + max((_depth(x) for x in v.values()), default=0)
    return 0


# strings full of brackets, quotes and backslashes: only real structure may count
_text = st.text(alphabet='[]{}"\\ab:,', max_size=8)
_json = st.recursive(
    st.none() | st.integers() | _text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4),
    max_leaves=40,
)


@given(_json)
def test_depth_matches_the_structure(value: Any) -> None:
    text = json.dumps(value).encode()
    assert max_depth(text) == _depth(value)
    assert deeper_than(text, _depth(value)) is False
    if _depth(value) > 0:
        assert deeper_than(text, _depth(value) - 1) is True


def test_depth_of_unicode_escapes_and_raw_utf8() -> None:
    text = json.dumps({"名": ['"[[', "\\"]}, ensure_ascii=False).encode()
    assert max_depth(text) == 2


@pytest.fixture
def client(settings: Settings) -> TestClient:
    return TestClient(create_app(settings))


@pytest.fixture
def key(settings: Settings) -> str:
    svc = Services(settings)
    return svc.keys.create(["admin"], "t")[0]


def test_deep_json_is_refused_before_parsing(client: TestClient, key: str) -> None:
    deep = b"[" * 5000 + b"]" * 5000
    h = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}
    r = client.post("/v1/screen", content=deep, headers=h)
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("application/problem+json")
    ok = json.dumps({"prompt": "a song", "tier": "free"})
    assert client.post("/v1/screen", content=ok, headers=h).status_code == 200
    # a body without a content type (which some FastAPI versions parse as JSON) is measured too
    bare = {"Authorization": f"Bearer {key}"}
    assert client.post("/v1/screen", content=deep, headers=bare).status_code == 400


def test_raw_media_is_an_upload_only_where_a_route_takes_it(client: TestClient, key: str) -> None:
    auth = {"Authorization": f"Bearer {key}"}
    # binary audio full of brackets is not JSON: never refused as deep nesting
    noise = b"RIFF" + b"[" * 4000 + b"\x00" * 1000
    r = client.post(
        "/v1/matches/byContent", content=noise, headers={**auth, "Content-Type": "audio/wav"}
    )
    assert r.status_code != 400 or "nests" not in r.text
    # larger than the JSON limit: an upload on the raw route, 413 on any JSON route
    big = b"\x00" * (2 * 1024 * 1024)
    for path in ("/v1/screen", "/v1/certificates"):
        r = client.post(
            path, content=big, headers={**auth, "Content-Type": "application/octet-stream"}
        )
        assert r.status_code == 413, path
    r = client.post(
        "/v1/matches/byContent", content=big, headers={**auth, "Content-Type": "audio/wav"}
    )
    assert r.status_code != 413


def test_recursion_limit_is_held(client: TestClient, key: str) -> None:
    start = sys.getrecursionlimit()
    try:
        sys.setrecursionlimit(100_000)  # what importing py-evm does
        client.get("/v1/whoami", headers={"Authorization": f"Bearer {key}"})
        assert sys.getrecursionlimit() == start
    finally:
        sys.setrecursionlimit(start)


def test_no_key_is_401_without_reading_the_body(client: TestClient) -> None:
    read = []

    def body() -> Any:
        read.append(1)
        yield b"x" * 1024

    r = client.post("/v1/screen", content=body(), headers={"Content-Type": "application/json"})
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith("Bearer")
    r = client.post("/v1/nowhere", json={})
    assert r.status_code == 401  # unknown API paths are no map for strangers either


@pytest.mark.parametrize("param", ["api_key", "key", "token", "access_token", "API_KEY"])
def test_keys_in_the_url_are_refused(client: TestClient, key: str, param: str) -> None:
    r = client.get(f"/v1/whoami?{param}={key}", headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 400
    assert "header" in r.json()["detail"]


def test_revoked_admin_key_loses_admin_at_once(settings: Settings) -> None:
    app = create_app(settings)
    c = TestClient(app)
    svc: Services = app.state.services
    key, info = svc.keys.create(["admin"], "victim")
    h = {"Authorization": f"Bearer {key}"}
    assert c.get("/v1/keys", headers=h).status_code == 200  # now cached in this process
    # revoked by another process: this one's cache still holds the key
    Services(settings).keys.revoke(info.key_id)
    assert c.get("/v1/whoami", headers=h).status_code == 200  # within the documented TTL
    assert c.post("/v1/keys", json={"scopes": ["admin"]}, headers=h).status_code == 401
    assert c.get("/v1/keys", headers=h).status_code == 401


def test_page_headers(client: TestClient) -> None:
    r = client.get("/")
    assert "script-src 'sha256-" in r.headers["content-security-policy"]
    assert r.headers["x-frame-options"] == "DENY"


def _wav(path: Path, seconds: float, rate: int = 48_000, channels: int = 2) -> Path:
    import soundfile as sf

    sf.write(str(path), np.zeros((int(seconds * rate), channels), np.float32), rate)
    return path


def test_audio_decode_caps_count_decoded_samples(tmp_path: Path) -> None:
    wav = _wav(tmp_path / "a.wav", 4.0)
    samples, rate = decode_audio(wav)
    assert samples.shape == (4 * 48_000, 2) and rate == 48_000
    with pytest.raises(MediaTooLong) as e:
        decode_audio(wav, max_seconds=1.0)
    assert 1.0 < e.value.seconds < 2.0
    with pytest.raises(MediaTooLong, match="MiB"):
        decode_audio(wav, MediaLimits(max_memory_bytes=48_000 * 2 * 4))
    with pytest.raises(MediaTooLong, match="cap"):
        decode_audio(wav, MediaLimits(max_duration_s=2.0))


def test_video_decode_caps_count_decoded_frames() -> None:
    rng = np.random.default_rng(1)
    frames = [rng.integers(0, 255, (64, 64), dtype=np.uint8) for _ in range(60)]
    fp = fingerprint_video(iter(frames), frame_rate=30, max_decode_seconds=5.0)
    assert fp.frames_decoded == 60
    with pytest.raises(DecodeLimitError) as e:
        fingerprint_video(iter(frames), frame_rate=30, max_decode_seconds=1.0)
    assert 1.0 < e.value.seconds <= 1.1
    grows = [*frames[:5], rng.integers(0, 255, (300, 300), dtype=np.uint8)]
    with pytest.raises(DecodeLimitError, match="pixels"):
        fingerprint_video(iter(grows), frame_rate=30, max_frame_pixels=64 * 64)
