"""False detections of both watermark layers on unmarked audio and audio marked with other keys.

Runs the detector with one fixed key over >= 10,000 clips of 5 s: white and pink noise, digital
silence, dither-level noise, tones (including tones inside and around the mark band), cymbal-like
noise bursts up to 24 kHz, saturated square waves, crops of synthesized music, speech and HF-rich
clips, and such crops marked with other keys (both layers). Counts detections at the default
threshold (p <= 1e-6) for the high band, the robust layer (with its ±5 % speed search) and the
combination, and reports the distribution of the p-values. Writes a section of
bench/results/watermark.md.

    python -m bench.watermark_false_positives [--clips 10000] [--quick] [--workers 2] [--section S]
"""

from __future__ import annotations

import argparse
import os
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from bench.watermark_corpus import KINDS, make_clip, write_section
from watermark import DEFAULT_THRESHOLD, WatermarkKey, detect, embed

SECONDS = 5.0
CATEGORIES = (
    "white noise",
    "pink noise",
    "digital silence",
    "dither-level noise",
    "tones (incl. 19.5–23.5 kHz)",
    "cymbal-like bursts to 24 kHz",
    "saturated square waves",
    "music / speech / HF-rich crops",
    "crops marked with another key",
    "HF-rich crops marked with another key",
)
TEST_KEY = WatermarkKey(bytes.fromhex("5a" * 32))
_pool: list[np.ndarray] = []


def _pool_clips() -> list[np.ndarray]:
    if not _pool:
        for i in range(12):
            _pool.append(make_clip(KINDS[i % 3], 500 + i).astype(np.float32))  # music, speech, hf
    return _pool


def _shaped(rng: np.random.Generator, n: int, sr: int, slope: float) -> np.ndarray:
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.maximum(np.fft.rfftfreq(n, 1 / sr), 20.0)
    x = np.fft.irfft(spec / f ** (slope / 2), n)
    return x / np.sqrt(np.mean(x**2))


def make(cat: int, seed: int) -> tuple[np.ndarray, int]:
    """One test clip of category ``cat``."""
    rng = np.random.default_rng([11, cat, seed])
    sr = 44100 if seed % 5 == 4 and cat < 7 else 48000
    n = int(SECONDS * sr)
    t = np.arange(n) / sr
    level = 10 ** (rng.uniform(-50, -6) / 20)
    if cat == 0:
        x = rng.standard_normal((n, 2)) * level / 3
    elif cat == 1:
        x = np.stack([_shaped(rng, n, sr, 1.0) for _ in range(2)], 1) * level / 3
    elif cat == 2:
        x = np.zeros((n, 2))
    elif cat == 3:
        x = rng.uniform(-1, 1, (n, 2)) * 2.0**-15
    elif cat == 4:
        f = np.concatenate(
            [
                rng.uniform(50, 18000, rng.integers(0, 4)),
                rng.uniform(19500, 23500, rng.integers(1, 4)),
            ]
        )
        f = np.append(f[f < sr / 2 - 100], rng.uniform(19500, 21000))
        x = sum(np.sin(2 * np.pi * fi * t + rng.uniform(0, 6.3)) for fi in f) / max(len(f), 1)
        x = np.stack([x, x], 1) * level
    elif cat == 5:
        period = rng.uniform(0.1, 1.0)
        env = np.exp(-rng.uniform(3, 15) * ((t % period) / period))
        x = np.stack([_shaped(rng, n, sr, -0.5) for _ in range(2)], 1) * env[:, None] * level
    elif cat == 6:
        f0 = rng.uniform(40, 2000)
        x = np.sign(np.sin(2 * np.pi * f0 * t))
        x = np.stack([x, x], 1) * rng.choice([1.0, 0.5])
    else:
        pool = _pool_clips()
        src = (
            pool[int(rng.integers(0, len(pool)))]
            if cat != 9
            else pool[3 * int(rng.integers(0, 4)) + 2]
        )
        o = int(rng.integers(0, src.shape[0] - n))
        x = src[o : o + n].astype(np.float64) * rng.uniform(0.1, 1.0)
        if cat >= 8:
            x = embed(x, sr, rng.bytes(8), WatermarkKey(rng.bytes(32)))
    peak = np.abs(x).max()
    if peak > 1.0:
        x = x / peak
    if seed % 3 == 0:
        x = np.clip(np.round(x * 32767), -32768, 32767).astype(np.int16)
    else:
        x = x.astype(np.float32)
    return x, sr


Row = tuple[int, float, bool, float, bool, float, bool]  # cat, combined, high, robust (p, found)


def _work(batch: list[tuple[int, int]]) -> list[Row]:
    out = []
    for cat, seed in batch:
        x, sr = make(cat, seed)
        d = detect(x, sr, TEST_KEY)
        hi, rb = d.layers["high"], d.layers["robust"]
        out.append((cat, d.p_value, d.found, hi.p_value, hi.found, rb.p_value, rb.found))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", type=int, default=10_000)
    ap.add_argument("--quick", action="store_true", help="500 clips, for a smoke run")
    ap.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument(
        "--section",
        default="false_positives",
        help="results section to write (a smaller rerun can go beside the full table)",
    )
    args = ap.parse_args()
    n = 500 if args.quick else args.clips
    jobs = [(i % len(CATEGORIES), i // len(CATEGORIES)) for i in range(n)]
    batches = [jobs[i : i + 100] for i in range(0, n, 100)]
    t0 = time.time()
    with ProcessPoolExecutor(max_workers=args.workers) as ex:
        res = [r for b in ex.map(_work, batches) for r in b]
    elapsed = time.time() - t0
    p = np.array([r[1] for r in res])
    found = sum(r[2] for r in res)
    rows = [
        "| clips | count | detections high / robust / combined | smallest p high / robust / combined | median p combined |",
        "|---|---|---|---|---|",
    ]

    def line(name: str, sel: list[Row], bold: bool = False) -> str:
        f = [sum(r[i] for r in sel) for i in (4, 6, 2)]
        m = [min(r[i] for r in sel) for i in (3, 5, 1)]
        b = "**" if bold else ""
        return (
            f"| {b}{name}{b} | {b}{len(sel)}{b} | {b}{f[0]} / {f[1]} / {f[2]}{b} | "
            f"{m[0]:.2g} / {m[1]:.2g} / {m[2]:.2g} | {np.median([r[1] for r in sel]):.2g} |"
        )

    for c, name in enumerate(CATEGORIES):
        rows.append(line(name, [r for r in res if r[0] == c]))
    rows.append(line("all", res, bold=True))
    dist = [
        "| p-value ≤ | 0.5 | 0.1 | 0.01 | 1e-3 | 1e-4 | 1e-6 |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, col in (("high band", 3), ("robust layer", 5), ("combined", 1)):
        pc = np.array([r[col] for r in res])
        fr = [np.mean(pc <= a) for a in (0.5, 0.1, 0.01, 1e-3, 1e-4, 1e-6)]
        dist.append(f"| fraction of clips, {label} | " + " | ".join(f"{v:.4f}" for v in fr) + " |")
    dist.append(
        "| a calibrated p-value would give at most | 0.5 | 0.1 | 0.01 | 0.001 | 0.0001 | 0.000001 |"
    )
    body = "\n".join(
        [
            "### False detections"
            + ("" if args.section == "false_positives" else f" ({p.size} clips, rerun)"),
            "",
            f"{p.size} clips of {SECONDS:.0f} s (48 kHz, every fifth synthetic clip at 44.1 kHz; one in "
            "three as int16) that do not carry the mark of the detection key, run through `detect` "
            f"with the default threshold p ≤ {DEFAULT_THRESHOLD:g} and both layers (robust layer "
            f"with its ±5 % speed search): **{found} false detections** combined. "
            "With a calibrated p-value the expected count at this threshold is "
            f"{p.size * DEFAULT_THRESHOLD:.2g}.",
            "",
            *rows,
            "",
            "Distribution of the p-values (fraction of clips at or below each level). The p-value is "
            "conservative by design (high band: the maximum of the sync statistic over all 4,800 "
            "timing shifts is treated as if the shifts were independent; robust layer: Bonferroni "
            "over every (speed, offset) pair tried; combined: twice the smaller of the two), so the "
            "fractions sit at or below the nominal levels. The clips closest to the threshold carry another key's mark: two "
            "keys' 2 s frames can correlate at one timing shift by chance, which is counted in the "
            "p-value like any other chance alignment.",
            "",
            *dist,
            "",
            f"Run time {elapsed:.0f} s with {args.workers} worker processes.",
        ]
    )
    write_section(args.section, body)
    print(body)


if __name__ == "__main__":
    main()
