"""PDQ batch hashing: numpy against the optional torch accelerator (``pip install .[accel]``).

Hashes a batch of 720p (and 1080p) luminance frames with ``pdq_with_mirror`` on each available
path: numpy (one BLAS thread, as fingerprinting runs it), torch on the CPU (one thread), and
torch on CUDA when a GPU is present. Reports the median time per frame and the largest Hamming
distance to the numpy hashes.

    python -m bench.fingerprint_accel [--frames 32] [--repeats 7]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from bench.fingerprint_robustness import write_section
from provenance.fingerprint import accel, hamming
from provenance.fingerprint._blas import on_one_blas_thread
from provenance.fingerprint.pdq import pdq_with_mirror


def _frames(n: int, h: int, w: int) -> np.ndarray:
    rng = np.random.default_rng(7)
    base = rng.random((n, h // 8, w // 8)).astype(np.float32) * 255
    return np.kron(base, np.ones((8, 8), np.float32)) + rng.normal(0, 4, (n, h, w)).astype(
        np.float32
    )


@on_one_blas_thread
def _time(y: np.ndarray, repeats: int) -> tuple[float, np.ndarray]:
    hashes = pdq_with_mirror(y)[0]  # warm-up (filter matrices, device transfer paths)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        pdq_with_mirror(y)
        times.append(time.perf_counter() - t0)
    return statistics.median(times), hashes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--frames", type=int, default=32)
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    paths: list[tuple[str, str]] = [("numpy (1 BLAS thread)", "off")]
    try:
        import torch

        torch.set_num_threads(1)
        paths.append((f"torch {torch.__version__} CPU (1 thread)", "torch"))
        if torch.cuda.is_available():
            paths.append((f"torch CUDA ({torch.cuda.get_device_name(0)})", "auto"))
    except ImportError:
        print("torch is not installed: only numpy is measured (pip install '.[accel]')")
    rows = [
        "| frames | path | per frame, median | vs numpy | max Hamming distance to numpy |",
        "|---|---|---|---|---|",
    ]
    for h, w in ((720, 1280), (1080, 1920)):
        y = _frames(args.frames, h, w)
        base_t = 0.0
        base_h: np.ndarray | None = None
        for label, choice in paths:
            accel.set_accelerator(choice)
            if choice == "auto" and accel.accelerator() != "cuda":
                continue
            t, hashes = _time(y, args.repeats)
            if base_h is None:
                base_t, base_h = t, hashes
            dist = int(hamming(hashes, base_h).max())
            rows.append(
                f"| {args.frames} × {w}×{h} | {label} | {t / args.frames * 1000:.2f} ms | "
                f"{base_t / t:.2f}× | {dist} |"
            )
            print(rows[-1], flush=True)
    accel.set_accelerator(None)
    body = (
        "`pdq_with_mirror` on a batch of luminance frames (the hash and the mirrored hash; what "
        "fingerprinting runs per batch). The accelerator moves the two filter products; the "
        "DCT, threshold and quality stay in numpy.\n\n" + "\n".join(rows)
    )
    write_section(
        "fingerprint_accel",
        "PDQ hashing: numpy and the torch accelerator",
        f"python -m bench.fingerprint_accel --frames {args.frames} --repeats {args.repeats}",
        body,
    )


if __name__ == "__main__":
    main()
