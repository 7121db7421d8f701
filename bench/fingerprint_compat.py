"""PDQ compatibility against the external reference data (ThreatExchange samples).

Images: our hash of every ``pdq-images`` file vs ``expected-pdq.csv`` (upstream's reference
hasher). Videos: every frame of every sample video vs upstream's vPDQ frame hashes.

Run: ``python -m bench.fingerprint_compat``; writes ``bench/results/fingerprint.md``.
"""

from __future__ import annotations

import argparse
import csv
import time

import numpy as np

from bench.fingerprint_robustness import SHARED, write_section
from provenance.fingerprint import fingerprint_video, from_hex, hamming, pdq_hash_image


def main() -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    base = SHARED / "threatexchange"
    if not base.is_dir():
        raise SystemExit(f"reference data not found at {base}")
    t0 = time.perf_counter()
    lines = [
        "Images (`pdq-images/` vs `expected-pdq.csv`); bars: ≤ 8 bits each, goal ≤ 2:",
        "",
        "| image | Hamming distance | quality (ours / reference) |",
        "|---|---|---|",
    ]
    dists = []
    for hex_, quality, name in csv.reader((base / "pdq-images" / "expected-pdq.csv").open()):
        got, q = pdq_hash_image(base / "pdq-images" / name)
        dist = int(hamming(from_hex([got]), from_hex([hex_]))[0])
        dists.append(dist)
        lines.append(f"| {name} | {dist} | {q} / {quality} |")
    lines.append(f"| **max / mean** | **{max(dists)} / {np.mean(dists):.2f}** | |")
    lines += [
        "",
        "Videos: every frame (no sampling, no bar removal, no quality filter) vs upstream vPDQ "
        "hashes; bars: ≥ 99 % of frames within 31 bits, mean ≤ 4 bits:",
        "",
        "| video | frames | within 31 bits | mean bits | max bits |",
        "|---|---|---|---|---|",
    ]
    all_d, all_q = [], []
    for video in sorted((base / "videos").glob("*.mp4")):
        ref_file = base / "vpdq-hashes" / f"{video.stem}.txt"
        ref = [r.split(",") for r in ref_file.read_text().splitlines() if r.strip()]
        fp = fingerprint_video(
            video, sample_fps=None, scene_bits=None, remove_bars=False, min_quality=0
        )
        n = min(len(fp), len(ref))
        d = hamming(fp.hashes[:n], from_hex([r[2] for r in ref[:n]]))
        all_d.append(d)
        all_q.append(np.array([int(r[1]) for r in ref[:n]]))
        lines.append(
            f"| {video.stem} | {n} | {(d <= 31).mean():.4f} | {d.mean():.2f} | {d.max()} |"
        )
    d = np.concatenate(all_d)
    ref_q = np.concatenate(all_q)
    good = ref_q >= 50
    lines.append(
        f"| **all** | {len(d)} | **{(d <= 31).mean():.4f}** | **{d.mean():.2f}** | {d.max()} |"
    )
    lines.append(
        f"| all frames of reference quality ≥ 50 | {int(good.sum())} | "
        f"{(d[good] <= 31).mean():.4f} | {d[good].mean():.2f} | {d[good].max()} |"
    )
    lines += [
        "",
        "The misses are all in `doorknob-hd-no-bar`, a dark clip whose frames have PDQ quality "
        "≈ 45 (below the usual cut of 50): such hashes are unstable by nature (upstream notes that "
        "hashes differ by a few bits across FFmpeg builds).",
        "",
        f"Wall time: {time.perf_counter() - t0:.0f} s.",
    ]
    write_section(
        "fingerprint_compat",
        "PDQ compatibility",
        "python -m bench.fingerprint_compat",
        "\n".join(lines),
    )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
