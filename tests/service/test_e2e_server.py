"""End to end against the real uvicorn process: generate → transcode with ffmpeg → verify.

Each transform listed here is one the watermark or fingerprint part claims to survive; the test
also checks that unmarked, unregistered media is ``not_found``. ffmpeg comes from Debian's package
(installed by ``scripts/ensure_media_tools.sh`` when missing).
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .conftest import admin_key, ffmpeg_path, provkit_env, running_server

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    tmp = tmp_path_factory.mktemp("server")
    env = provkit_env(tmp)
    key = admin_key(env, tmp)
    with running_server(env, tmp) as url:
        yield url, key


TRANSFORMS: dict[str, list[str]] = {
    "h264 crf 35 + aac 256k": ["-c:v", "libx264", "-crf", "35", "-c:a", "aac", "-b:a", "256k"],
    "trim 3 s from 2 s": ["-ss", "2", "-t", "3", "-c:v", "libx264", "-c:a", "aac", "-b:a", "256k"],
    "letterbox": ["-vf", "scale=320:136,pad=320:180:0:22", "-c:v", "libx264", "-c:a", "copy"],
    "downscale": ["-vf", "scale=160:90", "-c:v", "libx264", "-c:a", "copy"],
    "audio stripped": ["-an", "-c:v", "libx264", "-crf", "28"],
    "audio only flac": ["-vn", "-c:a", "flac"],
    "audio only mp3 V0": ["-vn", "-c:a", "libmp3lame", "-q:a", "0"],
    "resampled to 44.1 kHz": ["-c:v", "copy", "-c:a", "aac", "-b:a", "256k", "-ar", "44100"],
}
SUFFIX = {"audio only flac": ".flac", "audio only mp3 V0": ".mp3"}


def test_generate_transcode_verify(server: tuple[str, str], tmp_path: Path) -> None:
    url, key = server
    ffmpeg = ffmpeg_path()
    h = {"X-API-Key": key}
    with httpx.Client(base_url=url, headers=h, timeout=120) as c:
        body = {
            "prompt": "a tram crossing a bridge at dawn",
            "duration_s": 6,
            "width": 320,
            "height": 180,
            "fps": 15,
        }
        r = c.post("/v1/generate", json=body)
        assert r.status_code == 201, r.text
        receipt = r.json()
        src = tmp_path / "src.mp4"
        src.write_bytes(c.get(receipt["files"][0]["url"]).content)
        failures = []
        for name, args in TRANSFORMS.items():
            dst = tmp_path / f"{len(failures)}-{name.replace(' ', '_')}{SUFFIX.get(name, '.mp4')}"
            subprocess.run(
                [ffmpeg, "-v", "error", "-y", "-i", str(src), *args, str(dst)], check=True
            )
            v = c.post("/v1/verify", files={"file": (dst.name, dst.read_bytes())})
            assert v.status_code == 200, (name, v.text)
            res = v.json()
            if res["verdict"] != "generated" or res["generation"]["mark_id"] != receipt["mark_id"]:
                failures.append((name, res["verdict"], res["summary"]))
        assert failures == []
        # unmarked, unregistered media
        other = tmp_path / "other.mp4"
        subprocess.run(
            [ffmpeg, "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=15:duration=5",
             "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=5", "-c:v", "libx264",
             "-c:a", "aac", "-shortest", str(other)],
            check=True,
        )  # fmt: skip
        v = c.post("/v1/verify", files={"file": ("other.mp4", other.read_bytes())}).json()
        assert v["verdict"] == "not_found", v["summary"]
        # the page is served by the same process
        page = c.get("/")
        assert page.status_code == 200
        assert "provkit" in page.text
