"""Fixtures for the C2PA and label tests: short clips in every format, a development chain."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from provenance.c2pa import SigningChain, create_dev_chain

#: format → ffmpeg output options (2 s of a 440 Hz tone; the MP4 also carries a test pattern)
FORMATS = {
    "wav": [],
    "flac": [],
    "mp3": ["-c:a", "libmp3lame", "-b:a", "128k"],
    "m4a": ["-c:a", "aac", "-b:a", "128k"],
    "mp4": ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest"],
    "ogg": ["-c:a", "libvorbis"],
}


def ffmpeg() -> str:
    exe = shutil.which("ffmpeg")
    if exe is None:
        pytest.skip("ffmpeg is not installed")
    return exe


@pytest.fixture(scope="session")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One clean clip per format (copy before changing one)."""
    d = tmp_path_factory.mktemp("clips")
    out: dict[str, Path] = {}
    for ext, opts in FORMATS.items():
        p = d / f"clip.{ext}"
        inputs = ["-f", "lavfi", "-i", "sine=frequency=440:duration=2:sample_rate=44100"]
        if ext == "mp4":
            inputs = ["-f", "lavfi", "-i", "testsrc=duration=2:size=160x120:rate=15", *inputs]
        cmd = [ffmpeg(), "-nostdin", "-loglevel", "error", "-y", *inputs, *opts, str(p)]
        subprocess.run(cmd, check=True)
        out[ext] = p
    return out


@pytest.fixture
def clip(clips: dict[str, Path], tmp_path: Path):  # type: ignore[no-untyped-def]
    """A function copying the clean clip of a format into this test's folder."""

    def copy(ext: str) -> Path:
        p = tmp_path / f"file.{ext}"
        shutil.copy(clips[ext], p)
        return p

    return copy


@pytest.fixture(scope="session")
def chain_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("chain") / "c2pa"
    create_dev_chain(d, "ed25519")
    return d


@pytest.fixture(scope="session")
def chain(chain_dir: Path) -> SigningChain:
    return SigningChain.load(chain_dir / "signer.pem", chain_dir / "signer.key")
