"""Synthesized test corpus and shared helpers for the watermark benchmarks.

Four kinds of 48 kHz stereo clips, all generated from a seed (no data files): ``music``
(harmonic notes, decaying noise bursts, chirps, low-passed at 15.5-19 kHz), ``speech``
(glottal pulse trains through moving formant filters, syllables and pauses, low-passed at 8-12
kHz), ``hf`` (music plus cymbal-like noise bursts that reach 24 kHz, so the mark band is full of
host energy) and ``quiet`` (music at -45 dBFS RMS).
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
from scipy import signal

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "watermark.md"
KINDS = ("music", "speech", "hf", "quiet")


def _norm(x: np.ndarray, db: float) -> np.ndarray:
    return x / np.sqrt(np.mean(x**2)) * 10 ** (db / 20)


def _music(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    t = np.arange(n) / sr
    beat = rng.uniform(0.2, 0.6)
    x = np.zeros(n)
    notes = 110 * 2 ** (rng.integers(0, 36, size=(int(n / sr / beat) + 2, 3)) / 12)
    env = np.exp(-rng.uniform(2, 6) * ((t % beat) / beat))
    step = int(beat * sr)
    for k in range(3):
        f0 = np.repeat(notes[:, k], step)[:n]
        ph = 2 * np.pi * np.cumsum(f0) / sr
        for h in range(1, 12):
            x += env * np.sin(h * ph + rng.uniform(0, 6.28)) / h ** rng.uniform(0.8, 1.5)
    nz = rng.standard_normal(n) * np.exp(-25 * ((t % (beat / 2)) / (beat / 2)))
    chirp = signal.chirp(t % 2.0, 200, 2.0, 12000, method="logarithmic") * 0.1
    x = x / np.abs(x).max() * 0.5 + 0.3 * nz + chirp * rng.uniform(0, 1)
    cut = rng.uniform(15500, 19000)
    return signal.sosfiltfilt(signal.butter(8, cut, fs=sr, output="sos"), x)


def _speech(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    t = np.arange(n) / sr
    f0 = rng.uniform(95, 230) * (1 + 0.1 * np.sin(2 * np.pi * rng.uniform(0.5, 2) * t))
    f0 *= 1 + 0.01 * rng.standard_normal(n).cumsum() / np.sqrt(n)
    ph = np.cumsum(f0) / sr
    pulses = np.diff(np.floor(ph), prepend=0.0)
    src = signal.lfilter([1.0], [1.0, -0.95], pulses) + 0.02 * rng.standard_normal(n)
    syl = int(sr * rng.uniform(0.15, 0.3))
    out = np.zeros(n)
    formants = np.array([[700, 1200, 2600], [300, 2200, 3000], [500, 900, 2400], [400, 1800, 2600]])
    for a in range(0, n, syl):
        seg = src[a : a + syl]
        fm = formants[rng.integers(0, len(formants))] * rng.uniform(0.9, 1.15)
        y = np.zeros_like(seg)
        for f in fm:
            b, aa = signal.iirpeak(f, 8, fs=sr)
            y += signal.lfilter(b, aa, seg)
        voiced = rng.uniform() > 0.2
        y = y if voiced else rng.standard_normal(seg.size) * 0.05
        out[a : a + syl] = y * np.hanning(seg.size) * (rng.uniform() > 0.15)
    cut = rng.uniform(8000, 12000)
    return signal.sosfiltfilt(signal.butter(6, cut, fs=sr, output="sos"), out)


def _cymbals(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    t = np.arange(n) / sr
    period = rng.uniform(0.25, 1.0)
    nz = signal.sosfilt(
        signal.butter(4, 5000, "highpass", fs=sr, output="sos"), rng.standard_normal(n)
    )
    return nz * np.exp(-rng.uniform(4, 12) * ((t % period) / period))


def make_clip(kind: str, seed: int, seconds: float = 10.0, sr: int = 48000) -> np.ndarray:
    """One synthesized stereo clip (float64, shape (frames, 2)) of the given kind."""
    rng = np.random.default_rng([KINDS.index(kind), seed])
    n = int(seconds * sr)
    chans = []
    for _ in range(2):
        if kind == "speech":
            x = _norm(_speech(rng, n, sr), -20)
        elif kind == "hf":
            x = _norm(_music(rng, n, sr), -21) + _norm(_cymbals(rng, n, sr), -24)
        else:
            x = _norm(_music(rng, n, sr), -45 if kind == "quiet" else -20)
        chans.append(x)
    out = np.stack(chans, axis=1)
    peak = np.abs(out).max()
    return out / peak * 0.95 if peak > 0.95 else out


def corpus(count: int, seconds: float = 10.0, sr: int = 48000) -> list[tuple[str, int]]:
    """(kind, seed) for ``count`` clips, the kinds in turn."""
    return [(KINDS[i % len(KINDS)], i // len(KINDS)) for i in range(count)]


def ensure_tools() -> None:
    """Install ffmpeg and sox from Debian's packages when they are missing."""
    subprocess.run(
        ["bash", str(ROOT / "scripts" / "ensure_media_tools.sh"), "ffmpeg", "sox"], check=True
    )


def machine() -> str:
    """One line describing the machine."""
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores, {mem:.0f} GB RAM, {platform.machine()}, Python {platform.python_version()}"


def command() -> str:
    """The command line that ran this benchmark."""
    mod = Path(sys.argv[0]).stem
    return " ".join(["python -m bench." + mod, *sys.argv[1:]])


def write_section(name: str, body: str) -> None:
    """Replace (or add) one section of bench/results/watermark.md, between markers."""
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    head = "## Audio watermark (watermark/)\n"
    text = RESULTS.read_text() if RESULTS.exists() else head
    begin, end = f"<!-- {name} -->", f"<!-- /{name} -->"
    meta = (
        f"Command: `{command()}`  \nMachine: {machine()}  \nDate: {_dt.date.today().isoformat()}\n"
    )
    block = f"{begin}\n{body.strip()}\n\n{meta}{end}"
    pat = re.compile(re.escape(begin) + ".*?" + re.escape(end), re.S)
    text = (
        pat.sub(lambda _m: block, text)
        if pat.search(text)
        else text.rstrip() + "\n\n" + block + "\n"
    )
    order = [
        "robustness",
        "layers",
        "layers_rows",
        "quality",
        "robust_diag",
        "false_positives",
        "false_positives_rerun",
        "speed",
        "spectrum",
    ]
    blocks = {
        k: m.group(0)
        for k in order
        if (m := re.search(f"<!-- {k} -->.*?<!-- /{k} -->", text, re.S))
    }
    text = head + "\n" + "\n\n".join(blocks[k] for k in order if k in blocks) + "\n"
    RESULTS.write_text(text)
