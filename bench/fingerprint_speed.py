"""Speed of video fingerprinting and of the FAISS index at scale.

1. Fingerprinting × real time of a 720p30 H.264 video at the default sampling, on one decoder
   thread and with FFmpeg's default threading (median of repeats).
2. An index of N frame hashes (default 10 M; ``--quick``: 1 M): build time, memory, and the median
   latency of a 60-frame query on one core, with recall of the approximate indexes (multi-index
   hash, FAISS IVF) against exact search at radius 31 and 48. The hashes are synthetic but shaped like video: runs of 600 frames where each frame
   differs from the previous by a few bits; queries are 60 consecutive frames of a random video
   with 8–24 bits of noise each.

Run: ``python -m bench.fingerprint_speed [--quick]``; writes ``bench/results/fingerprint.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import gc
import os
import shlex
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import faiss
import numpy as np
import numpy.typing as npt

from bench.fingerprint_robustness import write_section
from provenance.fingerprint import HashIndex, fingerprint_video
from provenance.fingerprint.faiss_index import ivf_nlist
from provenance.fingerprint.mih import DEFAULT_FLIPS, DEFAULT_TABLES
from provenance.fingerprint.synthetic import write_synthetic_video


def rss_mb() -> float:
    """Resident memory of this process (MB), after handing freed heap back to the OS."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def video_like_hashes(n: int, run: int, rng: np.random.Generator) -> npt.NDArray[np.uint8]:
    """``n`` 256-bit codes in runs of ``run`` frames, each a few bit flips from the previous."""
    runs = -(-n // run)
    out = np.empty((runs * run, 32), np.uint8)
    per_chunk = max(1, 200_000 // run)
    for r0 in range(0, runs, per_chunk):
        r1 = min(runs, r0 + per_chunk)
        m = (r1 - r0) * run
        steps = np.packbits(rng.random((m, 256), dtype=np.float32) < 0.02, axis=1)
        steps = steps.reshape(r1 - r0, run, 32)
        steps[:, 0] = rng.integers(0, 256, (r1 - r0, 32), dtype=np.uint8)
        out[r0 * run : r1 * run] = np.bitwise_xor.accumulate(steps, axis=1).reshape(m, 32)
    return out[:n]


def video_recall(hits: list[set[tuple[int, int]]], sources: list[int]) -> float:
    """Share of queries whose source video has hits on at least 3 distinct query frames."""
    ok = 0
    for found, v in zip(hits, sources, strict=True):
        frames = {q for q, hid in found if hid // 600 == v}
        ok += len(frames) >= 3
    return ok / max(len(sources), 1)


def bench_fingerprinting(seconds: float, repeats: int) -> list[str]:
    work = Path(tempfile.mkdtemp(prefix="fpspeed-"))
    path = write_synthetic_video(work / "720p.mp4", seconds, width=1280, height=720, fps=30, seed=3)
    rows = [
        f"Video: procedural {seconds:.0f} s, 1280×720, 30 fps, H.264 (libx264 veryfast CRF 23). "
        "Default sampling (1 frame/s + scene cuts, bars removed, quality filter). "
        f"Median of {repeats} runs.",
        "",
        "| decoder threads | wall time | × real time | hashed frames |",
        "|---|---|---|---|",
    ]
    for threads, label in ((1, "1 (one core)"), (0, "FFmpeg default (2 cores)")):
        times = []
        n = 0
        fingerprint_video(path, threads=threads)  # warm caches
        for _ in range(repeats):
            t0 = time.perf_counter()
            n = len(fingerprint_video(path, threads=threads))
            times.append(time.perf_counter() - t0)
        med = statistics.median(times)
        rows.append(f"| {label} | {med:.2f} s | {seconds / med:.1f}× | {n} |")
    t0 = time.perf_counter()
    every = fingerprint_video(path, sample_fps=None, threads=1, min_quality=0)
    dt = time.perf_counter() - t0
    rows.append(
        f"| 1, every frame hashed ({len(every)} frames) | {dt:.2f} s | {seconds / dt:.1f}× | "
        f"{len(every)} |"
    )
    return rows


def _timed_search(
    index: HashIndex,
    queries: list[npt.NDArray[np.uint8]],
    truth: list[set[tuple[int, int]]],
    truth48: list[set[tuple[int, int]]],
    sources: list[int],
    repeats: int,
) -> tuple[list[float], float, float, float]:
    """Latencies of every query (``repeats`` passes), frame recall at radius 31 and 48 and video
    recall (from the first pass)."""
    lat: list[float] = []
    got = want = got48 = want48 = 0
    hits = []
    for rep in range(repeats):
        for q, tr, tr48 in zip(queries, truth, truth48, strict=True):
            t1 = time.perf_counter()
            qi, hid, _ = index.search(q, 64, 31)
            lat.append(time.perf_counter() - t1)
            if rep:
                continue
            found = set(zip(qi.tolist(), hid.tolist(), strict=True))
            hits.append(found)
            got += len(found & tr)
            want += len(tr)
            qi, hid, _ = index.search(q, 64, 48)
            got48 += len(set(zip(qi.tolist(), hid.tolist(), strict=True)) & tr48)
            want48 += len(tr48)
    return lat, got / max(want, 1), got48 / max(want48, 1), video_recall(hits, sources)


def bench_index(
    n: int,
    n_queries: int,
    log: Callable[[str], None],
    mih: list[tuple[int, int | None, int]] | None = None,
    nlists: list[int | None] | None = None,
    nprobes: tuple[int, ...] = (32, 64, 128, 256),
    query_threads: tuple[int, ...] = (1,),
    build_threads: int = 1,
    repeats: int = 3,
) -> list[str]:
    """Exact search, then each multi-index-hash setting ``(tables, key_bits, flips)`` (``None``
    key bits: the size rule), then each IVF list count (an empty list: no IVF rows)."""
    faiss.omp_set_num_threads(1)
    load0 = os.getloadavg()[0]
    rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    codes = video_like_hashes(n, 600, rng)
    ids = np.arange(n, dtype=np.int64)
    log(f"generated {n} codes in {time.perf_counter() - t0:.0f} s")
    # queries: 60 consecutive frames of random videos, each frame with 8-24 flipped bits
    queries = []
    sources = []
    for _ in range(n_queries):
        v = int(rng.integers(0, n // 600))
        sources.append(v)
        s = v * 600 + int(rng.integers(0, 540))
        q = codes[s : s + 60].copy()
        nbits = rng.integers(8, 25, 60)
        for j in range(60):
            bits = rng.choice(256, nbits[j], replace=False)
            np.bitwise_xor.at(q[j], bits // 8, (1 << (bits % 8)).astype(np.uint8))
        queries.append(q)
    extra = 16 * n / 2**20  # FingerprintIndex's id (int64), video key (int32), time (float32)
    rows = [
        f"{n:,} synthetic video-like frame hashes (runs of 600 frames, ~5 bits between neighbours); "
        f"{n_queries} queries of 60 frames (8–24 bits of noise per frame). Search on one core: "
        "the multi-index hash is numpy (single-threaded); FAISS on "
        f"{' or '.join(map(str, query_threads))} thread(s) (1 unless a row says otherwise). "
        f"Latency: median and p95 over {repeats} passes over the queries. "
        "Frame recall = share of the exact search's hits within 31 bits (and within 48, the vote "
        "distance `FingerprintIndex` searches at) that the index returns (k = 64 neighbours per "
        "frame, as `FingerprintIndex` asks); video recall = share of queries whose source video "
        "still gets hits on ≥ 3 query frames (what matching needs). Memory: RSS growth of the "
        f"index; the total adds `FingerprintIndex`'s id/time arrays (16 bytes per hash, "
        f"{extra:.0f} MB)."
        + (f" IVF built on {build_threads} threads." if build_threads != 1 else ""),
        "",
        "| index | build | memory (RSS growth) | total with id/time arrays | 60-frame query, "
        "median | p95 | frame recall vs exact (≤ 31) | (≤ 48) | video recall |",
        "|---|---|---|---|---|---|---|---|---|",
    ]

    def row(
        name: str, build: float, mem: float, lat: list[float], r31: float, r48: float, vrec: float
    ) -> str:
        return (
            f"| {name} | {build:.1f} s | {mem:.0f} MB | {mem + extra:.0f} MB | "
            f"{1000 * statistics.median(lat):.1f} ms | {1000 * float(np.percentile(lat, 95)):.1f} ms"
            f" | {r31:.4f} | {r48:.4f} | {vrec:.3f} |"
        )

    gc.collect()
    base = rss_mb()
    exact = HashIndex(approx_min=n + 1)
    t0 = time.perf_counter()
    exact.build(codes, ids)
    build_exact = time.perf_counter() - t0
    mem_exact = rss_mb() - base
    truth, truth48 = [], []
    lat = []
    for q in queries:
        t1 = time.perf_counter()
        qi, hid, dist = exact.search(q, 64, 48)
        lat.append(time.perf_counter() - t1)
        truth48.append(set(zip(qi.tolist(), hid.tolist(), strict=True)))
        near = dist <= 31
        truth.append(set(zip(qi[near].tolist(), hid[near].tolist(), strict=True)))
    rows.append(
        row(
            "exact (IndexBinaryFlat)",
            build_exact,
            mem_exact,
            lat,
            1.0,
            1.0,
            video_recall(truth, sources),
        )
    )
    log(rows[-1])
    del exact
    for tables, key_bits, flips in mih or []:
        gc.collect()
        base = rss_mb()
        index = HashIndex(approx_min=0, tables=tables, key_bits=key_bits, flips=flips)
        t0 = time.perf_counter()
        index.build(codes, ids)
        build = time.perf_counter() - t0
        gc.collect()
        mem = rss_mb() - base
        lat, r31, r48, vrec = _timed_search(index, queries, truth, truth48, sources, repeats)
        bits = index.state()["mih_params"][1]
        rows.append(
            row(
                f"multi-index hash, {tables} × {bits}-bit keys, {flips} flip" + "s" * (flips != 1),
                build,
                mem,
                lat,
                r31,
                r48,
                vrec,
            )
        )
        log(rows[-1])
        del index
    for nlist in nlists or []:
        gc.collect()
        base = rss_mb()
        approx = HashIndex(approx_min=0, approx="ivf", nlist=nlist)
        faiss.omp_set_num_threads(build_threads)
        t0 = time.perf_counter()
        approx.build(codes, ids)
        build_ivf = time.perf_counter() - t0
        mem_ivf = rss_mb() - base
        lists = nlist or ivf_nlist(n)
        for threads in query_threads:
            faiss.omp_set_num_threads(threads)
            tlabel = f", {threads} threads" if threads != 1 else ""
            for nprobe in nprobes:
                approx.nprobe = nprobe
                lat, r31, r48, vrec = _timed_search(
                    approx, queries, truth, truth48, sources, repeats
                )
                rows.append(
                    row(
                        f"IVF, {lists} lists, nprobe {nprobe}{tlabel}",
                        build_ivf,
                        mem_ivf,
                        lat,
                        r31,
                        r48,
                        vrec,
                    )
                )
                log(rows[-1])
        del approx
    faiss.omp_set_num_threads(1)
    rows += [
        "",
        f"Load average (1 min) at the start: {load0:.1f}; at the end: "
        f"{os.getloadavg()[0]:.1f} (2 cores).",
    ]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 M hashes, a 20 s video")
    parser.add_argument("--hashes", type=int, default=None, help="index size (default 10 M)")
    parser.add_argument("--skip-video", action="store_true", help="index part only")
    parser.add_argument("--skip-index", action="store_true", help="fingerprinting part only")
    parser.add_argument(
        "--mih",
        default="default",
        help="comma-separated multi-index-hash settings TABLESxKEYBITSxFLIPS (KEYBITS may be "
        "'auto'), 'default' for the default setting, '' for none",
    )
    parser.add_argument(
        "--nlist",
        default="rule",
        help="comma-separated IVF list counts ('rule': the ivf_nlist rule; '': no IVF rows)",
    )
    parser.add_argument("--nprobe", default="64,256", help="comma-separated nprobe values")
    parser.add_argument(
        "--query-threads", default="1", help="comma-separated FAISS thread counts for queries"
    )
    parser.add_argument("--build-threads", type=int, default=1, help="FAISS threads for builds")
    parser.add_argument("--repeats", type=int, default=3, help="passes over the queries")
    args = parser.parse_args()

    def ints(text: str) -> tuple[int, ...]:
        return tuple(int(x) for x in text.split(",") if x.strip())

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    def mih_settings(text: str) -> list[tuple[int, int | None, int]]:
        out: list[tuple[int, int | None, int]] = []
        for item in (x.strip() for x in text.split(",") if x.strip()):
            if item == "default":
                out.append((DEFAULT_TABLES, None, DEFAULT_FLIPS))
                continue
            t, b, f = item.split("x")
            out.append((int(t), None if b == "auto" else int(b), int(f)))
        return out

    n = args.hashes or (1_000_000 if args.quick else 10_000_000)
    cmd = ("python -m bench.fingerprint_speed " + shlex.join(sys.argv[1:])).strip()
    suffix = " (quick run)" if args.quick else ""
    if not args.skip_video:
        video = bench_fingerprinting(20.0 if args.quick else 60.0, 3 if args.quick else 5)
        write_section("fingerprint_speed", "Fingerprinting speed" + suffix, cmd, "\n".join(video))
        print("\n".join(video))
    if not args.skip_index:
        idx = bench_index(
            n,
            30 if args.quick else 50,
            log,
            mih=mih_settings(args.mih),
            nlists=[None] if args.nlist == "rule" else list(ints(args.nlist)),
            nprobes=ints(args.nprobe),
            query_threads=ints(args.query_threads),
            build_threads=args.build_threads,
            repeats=args.repeats,
        )
        write_section("fingerprint_index", "Index at scale" + suffix, cmd, "\n".join(idx))
        print("\n".join(idx))


if __name__ == "__main__":
    main()
