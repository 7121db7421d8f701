"""Explicit AI-content labels (GB 45438-2025): an audible cue and an on-screen mark.

The implicit label (:mod:`provenance.labels.aigc`) is for machines; the explicit ones are for
people. For audio the standard accepts the rhythm of Morse "AI" (A = · −, I = · ·); for video a
visible label, at least 5 % of the shorter side high, shown for at least 2 seconds. Both are off
by default in provkit and turned on per deployment.

* :func:`morse_ai_cue` is the cue: a sine tone keyed in standard Morse timing (dot 1 unit, dash
  3, gap inside a letter 1, between letters 3), each tone with 5 ms raised-cosine ramps so it
  does not click. :func:`mix_cue` lays it over the start of a track, ducking the track under it,
  without changing the track's length (so a video's audio stays in sync).
* :func:`overlay_ai` paints "AI" in a 5×7 block font, white on a dark box, in the top-left
  corner of RGB frames; :func:`overlay_frames` does it lazily to a stream of frames for the
  first ``seconds``. No font files or imaging library are needed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np
import numpy.typing as npt

#: Morse "AI": (tone units, silence units after it)
MORSE_AI: tuple[tuple[int, int], ...] = ((1, 1), (3, 3), (1, 1), (1, 0))
#: 5×7 glyphs, one string per row ("#" lit)
GLYPHS = {
    "A": (".###.", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"),
    "I": ("#####", "..#..", "..#..", "..#..", "..#..", "..#..", "#####"),
}


def morse_ai_cue(
    sample_rate: int,
    channels: int = 1,
    *,
    unit_s: float = 0.08,
    freq_hz: float = 1000.0,
    level: float = 0.25,
) -> npt.NDArray[np.float32]:
    """The Morse "AI" cue, ``(n, channels)`` float32 (11 units long)."""
    if sample_rate <= 0 or unit_s <= 0 or not 0 < level <= 1:
        raise ValueError("the cue needs a positive rate and unit, and a level in (0, 1]")
    unit = max(1, round(unit_s * sample_rate))
    ramp = min(unit // 2, max(1, round(0.005 * sample_rate)))
    parts: list[npt.NDArray[np.float64]] = []
    for on, off in MORSE_AI:
        n = on * unit
        t = np.arange(n) / sample_rate
        tone = np.sin(2 * np.pi * freq_hz * t)
        env = np.ones(n)
        edge = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, ramp))
        env[:ramp], env[-ramp:] = edge, edge[::-1]
        parts += [level * tone * env, np.zeros(off * unit)]
    mono = np.concatenate(parts).astype(np.float32)
    return np.repeat(mono[:, None], channels, axis=1)


def mix_cue(
    samples: npt.NDArray[np.floating], cue: npt.NDArray[np.floating], *, duck: float = 0.3
) -> npt.NDArray[np.float32]:
    """``samples`` with ``cue`` over their start (the track scaled by ``duck`` under it); the
    length never changes (a cue longer than the track is cut)."""
    out = np.array(samples, dtype=np.float32, copy=True)
    if out.ndim != 2 or cue.ndim != 2 or cue.shape[1] != out.shape[1]:
        raise ValueError("samples and cue must be (n, channels) with the same channels")
    n = min(len(out), len(cue))
    out[:n] = np.clip(out[:n] * duck + cue[:n], -1.0, 1.0)
    return out


def overlay_ai(frame: npt.NDArray[np.uint8], min_share: float = 0.05) -> npt.NDArray[np.uint8]:
    """A copy of an RGB ``(h, w, 3)`` frame with "AI" in its top-left corner; the letters are at
    least ``min_share`` of the shorter side high."""
    h, w = frame.shape[:2]
    cell = max(1, int(np.ceil(min_share * min(h, w) / 7)))  # 7 glyph rows ≥ min_share
    text = np.concatenate(
        [_glyph(GLYPHS["A"]), np.zeros((7, 1), bool), _glyph(GLYPHS["I"])], axis=1
    )
    mask = np.kron(text, np.ones((cell, cell), bool))
    pad = cell
    bh, bw = mask.shape[0] + 2 * pad, mask.shape[1] + 2 * pad
    if bh > h or bw > w:
        raise ValueError("the frame is too small for an on-screen label")
    out = frame.copy()
    box = out[pad : pad + bh, pad : pad + bw]
    box[:] = (box.astype(np.uint16) * 2 // 10).astype(np.uint8)  # darken: readable on any picture
    box[pad : pad + mask.shape[0], pad : pad + mask.shape[1]][mask] = 255
    return out


def overlay_frames(
    frames: Iterable[npt.NDArray[np.uint8]], fps: float, seconds: float
) -> Iterator[npt.NDArray[np.uint8]]:
    """The frames, the first ``seconds`` of them carrying :func:`overlay_ai` (lazily)."""
    limit = int(np.ceil(seconds * fps))
    for i, f in enumerate(frames):
        yield overlay_ai(f) if i < limit else f


def _glyph(rows: tuple[str, ...]) -> npt.NDArray[np.bool_]:
    return np.array([[c == "#" for c in r] for r in rows], dtype=bool)
