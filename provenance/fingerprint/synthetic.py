"""Procedural test videos with real motion and texture (for tests and benchmarks).

Each scene pans over a random multi-scale texture and moves a few coloured discs; a new scene
(new texture, new direction) starts every ``scene_s`` seconds. The same seed gives the same video.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt


def _upsample(a: npt.NDArray[np.float32], h: int, w: int) -> npt.NDArray[np.float32]:
    """Bilinear resize of a small 2-D or 3-D array to ``(h, w)``."""
    ys = np.linspace(0, a.shape[0] - 1, h, dtype=np.float32)
    xs = np.linspace(0, a.shape[1] - 1, w, dtype=np.float32)
    y0 = np.floor(ys).astype(np.int64)
    x0 = np.floor(xs).astype(np.int64)
    y1 = np.minimum(y0 + 1, a.shape[0] - 1)
    x1 = np.minimum(x0 + 1, a.shape[1] - 1)
    fy = (ys - y0)[:, None]
    fx = (xs - x0)[None, :]
    if a.ndim == 3:
        fy = fy[..., None]
        fx = fx[..., None]
    top = a[y0][:, x0] * (1 - fx) + a[y0][:, x1] * fx
    bot = a[y1][:, x0] * (1 - fx) + a[y1][:, x1] * fx
    return np.asarray(top * (1 - fy) + bot * fy, dtype=np.float32)


def synthetic_frames(
    seconds: float,
    *,
    width: int = 320,
    height: int = 180,
    fps: float = 30.0,
    seed: int = 0,
    scene_s: float = 4.0,
) -> Iterator[npt.NDArray[np.uint8]]:
    """RGB frames ``(height, width, 3)`` uint8 of a procedural video."""
    n = round(seconds * fps)
    per_scene = max(1, round(scene_s * fps))
    canvas: npt.NDArray[np.float32] = np.zeros((1, 1, 3), np.float32)
    velocity = np.zeros(2)
    discs: npt.NDArray[np.float64] = np.zeros((0, 7))
    r = min(height, width) * 0.12
    ri = int(np.ceil(r))
    dy, dx = np.mgrid[-ri : ri + 1, -ri : ri + 1]
    disc = dy**2 + dx**2 < r * r
    for i in range(n):
        if i % per_scene == 0:
            rng = np.random.default_rng([seed, i // per_scene])
            ch, cw = height * 2, width * 2
            tex = np.zeros((ch, cw, 3), np.float32)
            for cells, amp in ((3, 110.0), (6, 80.0), (12, 60.0)):
                small = rng.normal(0, 1, (cells, max(2, cells * cw // ch), 3)).astype(np.float32)
                tex += amp * _upsample(small, ch, cw)
            canvas = np.clip(tex * 0.8 + rng.uniform(60, 190, 3).astype(np.float32), 0, 255)
            velocity = rng.uniform(-1, 1, 2) * np.array([height, width]) * 0.03
            discs = np.column_stack(
                [
                    rng.uniform(0, height, 4),
                    rng.uniform(0, width, 4),
                    rng.uniform(-0.06, 0.06, (4, 2)) * np.array([height, width]),
                    rng.uniform(0, 255, (4, 3)),
                ]
            )
        t = (i % per_scene) / fps
        oy = int((height / 2 + velocity[0] * t) % height)
        ox = int((width / 2 + velocity[1] * t) % width)
        frame = canvas[oy : oy + height, ox : ox + width].copy()
        for d in discs:
            cy = int((d[0] + d[2] * t) % height)
            cx = int((d[1] + d[3] * t) % width)
            y0, y1 = max(0, cy - ri), min(height, cy + ri + 1)
            x0, x1 = max(0, cx - ri), min(width, cx + ri + 1)
            m = disc[y0 - (cy - ri) : y1 - (cy - ri), x0 - (cx - ri) : x1 - (cx - ri)]
            frame[y0:y1, x0:x1][m] = d[4:7]
        yield frame.astype(np.uint8)


def write_synthetic_video(
    path: str | os.PathLike[str],
    seconds: float,
    *,
    width: int = 320,
    height: int = 180,
    fps: int = 30,
    seed: int = 0,
    scene_s: float = 4.0,
    crf: int = 23,
) -> Path:
    """Encode a procedural video as H.264 (yuv420p) MP4 at ``path``."""
    out = Path(path)
    with av.open(str(out), mode="w") as container:
        stream = container.add_stream("libx264", rate=Fraction(fps))
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": str(crf), "preset": "veryfast"}
        for rgb in synthetic_frames(
            seconds, width=width, height=height, fps=fps, seed=seed, scene_s=scene_s
        ):
            for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out
