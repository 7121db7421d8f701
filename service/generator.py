"""Generation cores: the ``Generator`` plug-in protocol and an offline reference generator.

A generation core turns a prompt into audio tracks and/or a video. provkit wraps it (screen →
generate → watermark → fingerprint → register), so a real model plugs in by import path
(``module:attribute``) as long as it follows :class:`Generator`. The reference generator ships
with provkit so that every flow runs offline and fast: procedural video (textured background with
camera pans, moving textured shapes, scene cuts) and a multi-layer soundtrack at 48 kHz (ambient
noise bed, percussive sound effects, a simple melody).
"""

from __future__ import annotations

import hashlib
import importlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

import numpy as np
from scipy import signal

from service.requests import LIMITS

Kind = Literal["video", "audio"]


class GeneratorError(ValueError):
    """A generation request the core cannot serve."""


@dataclass(frozen=True)
class GenerationRequest:
    """What to generate. :data:`LIMITS` keep a single request bounded in time and memory."""

    prompt: str
    kind: Kind = "video"
    duration_s: float = 10.0
    width: int = 640
    height: int = 360
    fps: int = 30
    sample_rate: int = 48_000
    seed: int | None = None
    preset_id: str | None = None

    def validate(self) -> None:
        """Raise :class:`GeneratorError` for out-of-range values."""
        if not self.prompt.strip():
            raise GeneratorError("prompt is empty")
        if self.kind not in ("video", "audio"):
            raise GeneratorError("kind must be 'video' or 'audio'")
        lim = LIMITS
        if not lim.min_duration_s <= self.duration_s <= lim.max_duration_s:
            raise GeneratorError(
                f"duration_s must be between {lim.min_duration_s:g} and {lim.max_duration_s:g}"
            )
        if not (
            lim.min_side <= self.width <= lim.max_width
            and lim.min_side <= self.height <= lim.max_height
        ):
            raise GeneratorError(
                f"video size must be within {lim.min_side}x{lim.min_side} and "
                f"{lim.max_width}x{lim.max_height}"
            )
        if self.width % 2 or self.height % 2:
            raise GeneratorError("video width and height must be even")
        if not 1 <= self.fps <= lim.max_fps:
            raise GeneratorError(f"fps must be between 1 and {lim.max_fps}")
        if self.sample_rate not in (44_100, 48_000, 88_200, 96_000):
            raise GeneratorError("sample_rate must be 44100, 48000, 88200 or 96000")


@dataclass
class AudioTrack:
    """One audio track: float32 samples shaped (n_samples, channels) in [-1, 1]."""

    samples: np.ndarray
    sample_rate: int
    name: str = "soundtrack"

    @property
    def duration_s(self) -> float:
        """Length in seconds."""
        return float(self.samples.shape[0]) / self.sample_rate


@dataclass
class VideoStream:
    """A video as a lazily produced sequence of RGB frames (height, width, 3) uint8."""

    width: int
    height: int
    fps: int
    n_frames: int
    seed: int
    make_frames: object = field(repr=False)

    def frames(self) -> Iterator[np.ndarray]:
        """Produce the frames one by one (bounded memory)."""
        gen = self.make_frames
        assert callable(gen)
        yield from gen()

    @property
    def duration_s(self) -> float:
        """Length in seconds."""
        return self.n_frames / self.fps


@dataclass
class GeneratedMedia:
    """What a core returns: audio tracks and, for video requests, one video."""

    model: str
    audio: list[AudioTrack]
    video: VideoStream | None = None


@runtime_checkable
class Generator(Protocol):
    """The generation-core plug-in: prompt and options in, audio tracks and/or video out."""

    model: str

    def generate(self, request: GenerationRequest) -> GeneratedMedia:
        """Produce the media for ``request``."""
        ...


def load_generator(path: str) -> Generator:
    """Load a generator from ``module:attribute`` (a class is instantiated without arguments)."""
    if ":" not in path:
        raise GeneratorError("generator path must look like 'package.module:attribute'")
    mod_name, attr = path.split(":", 1)
    try:
        obj = getattr(importlib.import_module(mod_name), attr)
    except (ImportError, AttributeError) as exc:
        raise GeneratorError(f"cannot load generator {path!r}: {exc}") from None
    gen = obj() if isinstance(obj, type) else obj
    if not isinstance(gen, Generator):
        raise GeneratorError(f"{path!r} does not implement the Generator protocol")
    return gen


def _seed_for(request: GenerationRequest) -> int:
    if request.seed is not None:
        return int(request.seed) & 0xFFFF_FFFF
    h = hashlib.sha256(f"{request.prompt}|{request.preset_id}".encode()).digest()
    return int.from_bytes(h[:4], "big")


# ---------------------------------------------------------------------------------------------
# reference generator


def _texture(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A colourful band-limited texture (h, w, 3) float32 in [0, 1]: gratings plus soft noise."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.zeros((h, w, 3), np.float32)
    for _ in range(6):
        fx, fy = rng.uniform(-0.06, 0.06, 2)
        phase = rng.uniform(0, 2 * np.pi)
        colour = rng.uniform(0.2, 1.0, 3).astype(np.float32)
        img += np.sin(fx * xx + fy * yy + phase)[..., None] * colour
    from scipy.ndimage import zoom

    coarse = rng.standard_normal((h // 16 + 2, w // 16 + 2, 3)).astype(np.float32)
    noise = zoom(coarse, (16, 16, 1), order=3)[:h, :w]
    img += 1.5 * noise / max(float(np.abs(noise).max()), 1e-6)
    img -= img.min()
    img /= max(float(img.max()), 1e-6)
    return img


@dataclass
class _Scene:
    background: np.ndarray  # larger than the frame: the camera pans across it
    pan: np.ndarray  # (2,) pixels per frame
    shapes: list[tuple[np.ndarray, np.ndarray, np.ndarray, float]]  # pos, vel, colour, radius


class ReferenceGenerator:
    """Offline procedural generator standing in for a real model (deterministic per prompt)."""

    model = "provkit-reference-1"

    def __init__(self, scene_seconds: float = 3.0) -> None:
        self.scene_seconds = scene_seconds

    def generate(self, request: GenerationRequest) -> GeneratedMedia:
        """Synthesize the soundtrack and (for video requests) the video for ``request``."""
        request.validate()
        seed = _seed_for(request)
        audio = AudioTrack(self.soundtrack(request, seed), request.sample_rate)
        video = None
        if request.kind == "video":
            n = max(1, round(request.duration_s * request.fps))
            video = VideoStream(
                request.width,
                request.height,
                request.fps,
                n,
                seed,
                lambda: self._frames(request, seed, n),
            )
        return GeneratedMedia(model=self.model, audio=[audio], video=video)

    # -- audio --------------------------------------------------------------------------------

    def soundtrack(self, request: GenerationRequest, seed: int) -> np.ndarray:
        """Stereo float32 soundtrack: pink-ish ambient bed + percussive hits + a melody."""
        sr = request.sample_rate
        n = round(request.duration_s * sr)
        rng = np.random.default_rng(seed)
        t = np.arange(n, dtype=np.float64) / sr
        # ambient bed: white noise through a gentle low-pass, slowly modulated
        b, a = signal.butter(2, 2000 / (sr / 2))
        bed = signal.lfilter(b, a, rng.standard_normal((n, 2)), axis=0)
        bed *= 0.05 * (1 + 0.5 * np.sin(2 * np.pi * 0.1 * t))[:, None]
        # melody: a pentatonic line with a soft envelope per note
        scale = np.array([0, 2, 4, 7, 9, 12], dtype=np.float64)
        note_len = 0.25 * rng.integers(1, 3)
        n_notes = int(np.ceil(request.duration_s / note_len))
        notes = 220.0 * 2 ** (scale[rng.integers(0, len(scale), n_notes)] / 12)
        idx = np.minimum((t / note_len).astype(np.int64), n_notes - 1)
        freq = notes[idx]
        phase = 2 * np.pi * np.cumsum(freq) / sr
        local = t - idx * note_len
        env = np.exp(-3.0 * local / note_len) * np.minimum(1.0, local * 200)
        melody = 0.2 * env * (np.sin(phase) + 0.3 * np.sin(2 * phase) + 0.1 * np.sin(3 * phase))
        # sound effects: decaying noise bursts at random times (including some HF content)
        fx = np.zeros(n)
        for start in rng.uniform(0, request.duration_s, max(1, int(request.duration_s / 2))):
            s0 = int(start * sr)
            length = min(n - s0, int(0.3 * sr))
            if length <= 0:
                continue
            burst = rng.standard_normal(length) * np.exp(-np.arange(length) / (0.05 * sr))
            fx[s0 : s0 + length] += 0.15 * burst
        pan = 0.5 + 0.4 * np.sin(2 * np.pi * 0.05 * t)
        mix = bed + np.stack([melody * pan + fx * 0.7, melody * (1 - pan) + fx * 0.3], axis=1)
        peak = float(np.max(np.abs(mix))) or 1.0
        return (0.7 * mix / peak).astype(np.float32)

    # -- video --------------------------------------------------------------------------------

    def _scene(self, rng: np.random.Generator, h: int, w: int) -> _Scene:
        margin = 0.5
        bg = _texture(rng, int(h * (1 + margin)), int(w * (1 + margin)))
        pan = rng.uniform(-1.5, 1.5, 2) * np.array([h, w]) / 360
        shapes = []
        for _ in range(int(rng.integers(2, 5))):
            pos = rng.uniform(0.2, 0.8, 2) * np.array([h, w])
            vel = rng.uniform(-3, 3, 2) * h / 360
            colour = rng.uniform(0, 1, 3).astype(np.float32)
            radius = float(rng.uniform(0.08, 0.2) * h)
            shapes.append((pos, vel, colour, radius))
        return _Scene(bg, pan, shapes)

    def _frames(self, request: GenerationRequest, seed: int, n: int) -> Iterator[np.ndarray]:
        h, w, fps = request.height, request.width, request.fps
        rng = np.random.default_rng(seed ^ 0x5EED)
        per_scene = max(1, round(self.scene_seconds * fps))
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        scene = self._scene(rng, h, w)
        for i in range(n):
            k = i % per_scene
            if i and k == 0:
                scene = self._scene(rng, h, w)  # scene cut
            bh, bw = scene.background.shape[:2]
            oy = int((bh - h) / 2 + scene.pan[0] * (k - per_scene / 2)) % max(1, bh - h)
            ox = int((bw - w) / 2 + scene.pan[1] * (k - per_scene / 2)) % max(1, bw - w)
            frame = scene.background[oy : oy + h, ox : ox + w].copy()
            for pos, vel, colour, radius in scene.shapes:
                cy, cx = (pos + vel * k) % np.array([h, w])
                mask = (yy - cy) ** 2 + (xx - cx) ** 2 < radius**2
                stripes = 0.75 + 0.25 * np.sin((xx + yy) * 0.3 + k * 0.2)
                frame[mask] = colour * stripes[mask][:, None]
            yield (frame * 255).astype(np.uint8)
