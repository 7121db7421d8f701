"""Fixtures of the fingerprint tests: small procedural videos made with PyAV."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt
import pytest

from provenance.fingerprint.synthetic import synthetic_frames

Frames = list[npt.NDArray[np.uint8]]
W, H, FPS = 192, 108, 15


def write_frames(path: Path, frames: Sequence[npt.NDArray[np.uint8]], fps: int = FPS) -> Path:
    """Encode RGB frames as an H.264 MP4."""
    h, w = frames[0].shape[:2]
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=Fraction(fps))
        stream.width, stream.height = w, h
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "26", "preset": "ultrafast"}
        for rgb in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


@pytest.fixture(scope="session")
def source_frames() -> Callable[[int, float], Frames]:
    """Frames of procedural source video ``seed`` lasting ``seconds`` (cached)."""
    cache: dict[tuple[int, float], Frames] = {}

    def make(seed: int, seconds: float = 16.0) -> Frames:
        key = (seed, seconds)
        if key not in cache:
            cache[key] = list(
                synthetic_frames(seconds, width=W, height=H, fps=FPS, seed=seed, scene_s=4.0)
            )
        return cache[key]

    return make


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A session-wide folder for generated videos."""
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def source_video(
    media_dir: Path, source_frames: Callable[[int, float], Frames]
) -> Callable[[int], Path]:
    """Path of the encoded source video ``seed`` (16 s, cached)."""

    def make(seed: int) -> Path:
        path = media_dir / f"source-{seed}.mp4"
        if not path.exists():
            write_frames(path, source_frames(seed, 16.0))
        return path

    return make
