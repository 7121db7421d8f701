"""The fingerprint index at scale: staleness checks, propagation between workers, local vs Milvus.

1. **Staleness check** at N frame rows (1 M; ``--big``: also 10 M), on SQLite (and PostgreSQL with
   ``--postgres URL``; 10 M there with ``--big-postgres``): *before*, the query every trace and
   verify ran until the change feed (count, max and sum over ``fingerprint_frames`` plus count
   and max over the videos) through an ORM session; *after*, the change feed's head (one
   primary-key lookup) as the index reads it, on a held autocommit connection, and through a
   pooled ORM session for comparison. Medians of repeated calls.
2. **Propagation** (1 M rows, SQLite): two index objects on one store; one registers a 20 s
   video (40 frame hashes), the other's next ``refresh()`` applies it and finds it. Reported: the
   time of that ``refresh()`` (what a worker's next request pays) and, for comparison, a full
   reload of the index from the store (what every worker paid on every change before).
3. **Local vs Milvus** (1 M rows): memory and the median time of a 60-frame query (60 hashes,
   4 bits of noise each) through ``FingerprintIndex.search``, on the local engine (FAISS exact
   search at this size) and on embedded milvus-lite (``BIN_FLAT``, ``HAMMING`` range search).
   Milvus's memory is the resident memory of its server process after loading.

4. **Shared memory** (``--shared-memory``, 10 M rows on SQLite): resident memory of 1 and of 2
   worker processes holding the local index, first each with its own in-memory copy (loaded
   from the saved ``.npz``), then mapping one shared file (``shared=True``). Each worker opens the
   index, runs the same 60-frame query (the matches must agree across all runs), reads every
   page of its index (so nothing is left on disk), and then holds still while its memory is read
   from ``/proc/<pid>/smaps_rollup``: PSS (shared pages divided among the processes mapping them:
   the sum is what the machine really spends) and RSS (shared pages counted in every process).
   This mode rewrites only its own subsection of the results file.

Rows are random 256-bit codes, 40 per video (20 s, full frame and central region), written
straight into a migrated store.

Run: ``python -m bench.index_scale [--big] [--postgres URL] [--no-milvus]``, and
``python -m bench.index_scale --shared-memory [--rows N] [--store FILE]``; writes
``bench/results/index_scale.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import numpy.typing as npt
import psycopg
from sqlalchemy import func, select

from bench._report import RESULTS, replace_subsection, write_section
from bench.procstat import rss_mb, smaps_mb, tree
from provenance.fingerprint import FingerprintIndex, VideoFingerprint
from provenance.fingerprint import feed as feed_module
from provenance.fingerprint.mih import mih_key_bits
from provenance.fingerprint.models import FingerprintFrame, FingerprintVideo
from provenance.registry.db import make_engine, session_factory
from provenance.registry.migrate import upgrade

PER_VIDEO = 40
SEED = 20261203


def median_ms(fn: Callable[[], object], repeats: int) -> float:
    """Median wall time of ``fn`` in milliseconds."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1000 * statistics.median(times)


def codes(n: int, rng: np.random.Generator) -> npt.NDArray[np.uint8]:
    return rng.integers(0, 256, (n, 32), dtype=np.uint8)


def _rows(n: int, start_video: int, rng: np.random.Generator) -> Iterator[tuple[object, ...]]:
    """Frame rows ``(video_pk, t_s, quality, variant, pdq)`` in chunks of random codes."""
    done = 0
    while done < n:
        m = min(500_000, n - done)
        block = codes(m, rng)
        for j in range(m):
            k = done + j
            yield (
                start_video + k // PER_VIDEO,
                float((k % PER_VIDEO) // 2),
                100,
                k % 2,
                block[j].tobytes(),
            )
        done += m


def fill_sqlite(url: str, n: int, rng: np.random.Generator) -> None:
    """Write ``n`` frame rows (and their videos and feed entries) into a migrated SQLite store."""
    path = url.split("///", 1)[1]
    videos = n // PER_VIDEO
    con = sqlite3.connect(path)
    with con:
        con.executemany(
            "INSERT INTO fingerprint_videos (id, video_id, duration_s, n_frames, created_at) "
            "VALUES (?, ?, 20.0, 20, '2026-01-01 00:00:00.000000')",
            ((v + 1, f"bench-{v + 1}") for v in range(videos)),
        )
        con.executemany(
            "INSERT INTO fingerprint_frames (video_pk, t_s, quality, variant, pdq) "
            "VALUES (?, ?, ?, ?, ?)",
            _rows(n, 1, rng),
        )
        con.executemany(
            "INSERT INTO fingerprint_changes (video_pk, op, created_at) "
            "VALUES (?, 1, '2026-01-01 00:00:00.000000')",
            ((v + 1,) for v in range(videos)),
        )
    con.close()


def fill_postgres(url: str, n: int, rng: np.random.Generator) -> None:
    """The same rows into a migrated PostgreSQL store, by COPY."""
    videos = n // PER_VIDEO
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain) as con, con.cursor() as cur:
        with cur.copy(
            "COPY fingerprint_videos (id, video_id, duration_s, n_frames, created_at) FROM STDIN"
        ) as cp:
            for v in range(videos):
                cp.write_row((v + 1, f"bench-{v + 1}", 20.0, 20, "2026-01-01 00:00:00+00"))
        with cur.copy(
            "COPY fingerprint_frames (video_pk, t_s, quality, variant, pdq) FROM STDIN"
        ) as cp:
            for row in _rows(n, 1, rng):
                cp.write_row(row)
        with cur.copy("COPY fingerprint_changes (video_pk, op, created_at) FROM STDIN") as cp:
            for v in range(videos):
                cp.write_row((v + 1, 1, "2026-01-01 00:00:00+00"))
        cur.execute(
            "SELECT setval(pg_get_serial_sequence('fingerprint_videos', 'id'), %s)",
            (videos,),
        )
        cur.execute("ANALYZE")


@contextmanager
def pg_database(server: str) -> Iterator[str]:
    """A fresh database on the PostgreSQL server at ``server``, dropped afterwards."""
    plain = server.replace("postgresql+psycopg://", "postgresql://")
    name = f"provkit_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(plain, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    base = plain.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(plain, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def staleness(url: str, repeats_before: int) -> tuple[float, float, float]:
    """Median ms of the old whole-table token query, of the feed-head lookup as the index reads
    it (a held autocommit connection), and of the same lookup through a pooled session."""
    engine = make_engine(url)
    sessions = session_factory(engine)

    def before() -> None:
        with sessions() as s:
            s.execute(
                select(
                    func.count(FingerprintFrame.id),
                    func.coalesce(func.max(FingerprintFrame.id), 0),
                    func.coalesce(func.sum(FingerprintFrame.id), 0),
                )
            ).one()
            s.execute(
                select(
                    func.count(FingerprintVideo.id),
                    func.coalesce(func.max(FingerprintVideo.id), 0),
                )
            ).one()

    poller = feed_module.HeadPoller(engine)

    def after_session() -> None:
        with sessions() as s:
            feed_module.head(s)

    before()  # warm the page cache: all are measured hot
    poller.read()
    out = (
        median_ms(before, repeats_before),
        median_ms(poller.read, 300),
        median_ms(after_session, 300),
    )
    poller.close()
    engine.dispose()
    return out


def video_fp(seed: int, noise_bits: int = 0) -> VideoFingerprint:
    """A 20 s fingerprint of random codes (``noise_bits`` flipped per hash: a query)."""
    rng = np.random.default_rng(seed)
    h = codes(20, rng)
    if noise_bits:
        bits = np.unpackbits(h, axis=1)
        for row in bits:
            row[rng.choice(256, noise_bits, replace=False)] ^= 1
        h = np.packbits(bits, axis=1)
    return VideoFingerprint(
        hashes=h,
        times=np.arange(20, dtype=np.float64),
        quality=np.full(20, 100, np.int32),
        duration=20.0,
    )


def query_of_store(url: str, rng: np.random.Generator) -> VideoFingerprint:
    """A 60-frame query: 60 consecutive full-frame hashes of three stored videos, 4 bits noisy."""
    engine = make_engine(url)
    with engine.connect() as c:
        rows = c.execute(
            select(FingerprintFrame.pdq)
            .where(FingerprintFrame.variant == 0, FingerprintFrame.video_pk.in_([7, 8, 9]))
            .order_by(FingerprintFrame.id)
        ).all()
    engine.dispose()
    h = np.frombuffer(b"".join(bytes(r[0]) for r in rows), np.uint8).reshape(-1, 32)[:60].copy()
    bits = np.unpackbits(h, axis=1)
    for row in bits:
        row[rng.choice(256, 4, replace=False)] ^= 1
    return VideoFingerprint(
        hashes=np.packbits(bits, axis=1),
        times=np.arange(60, dtype=np.float64),
        quality=np.full(60, 100, np.int32),
    )


def propagation_and_engines(
    url: str, workdir: Path, milvus: bool, rng: np.random.Generator
) -> list[str]:
    lines: list[str] = []
    rss0 = rss_mb(os.getpid())
    t0 = time.perf_counter()
    # exact search on both sides (the local engine turns approximate above 2 M hashes here)
    writer = FingerprintIndex(url, workdir / "writer.npz", approx_min=2_000_000)
    full_reload = time.perf_counter() - t0
    local_mb = rss_mb(os.getpid()) - rss0
    t0 = time.perf_counter()
    reader = FingerprintIndex(url, workdir / "writer.npz", autosave=False, approx_min=2_000_000)
    from_file = time.perf_counter() - t0
    assert reader.loaded_from == "file"
    applied, checks = [], []
    for i in range(15):
        writer.add(f"new-{i}", video_fp(1000 + i))
        t0 = time.perf_counter()
        assert reader.refresh() == "synced"
        applied.append(time.perf_counter() - t0)
        assert reader.search(video_fp(1000 + i, noise_bits=4))[0].video_id == f"new-{i}"
        t0 = time.perf_counter()
        assert reader.refresh() == "current"
        checks.append(time.perf_counter() - t0)
    lines += [
        "| step (1 M frame rows, SQLite) | median |",
        "|---|---|",
        f"| `refresh()` when nothing changed | {1000 * statistics.median(checks):.2f} ms |",
        f"| `refresh()` applying one video registered by another index object | "
        f"{1000 * statistics.median(applied):.1f} ms |",
        f"| before the feed: full reload from the store on any change elsewhere | "
        f"{full_reload:.1f} s |",
        f"| opening from the saved file | {from_file:.2f} s |",
        "",
        "A registration reaches another worker's searches on that worker's next request (which "
        "calls `refresh()`): the delay is the time to that request plus the apply time above, "
        "with no full reload.",
        "",
    ]
    q = query_of_store(url, rng)
    expect = [m.video_id for m in writer.search(q)]
    local_q = median_ms(lambda: writer.search(q), 20)
    rows = [
        "| engine (1 M hashes) | 60-frame query, median | memory | fill from the store |",
        "|---|---|---|---|",
        f"| local (FAISS exact, {writer.kind}) | {local_q:.1f} ms | "
        f"{local_mb:.0f} MB in each worker (codes, ids, video key and time) | "
        f"{full_reload:.1f} s |",
    ]
    if milvus:
        from provenance.fingerprint.milvus_index import MilvusHashIndex

        before = rss_mb(os.getpid())
        engine = MilvusHashIndex(str(workdir / "milvus.db"))
        t0 = time.perf_counter()
        remote = FingerprintIndex(url, backend=engine)
        fill = time.perf_counter() - t0
        assert [m.video_id for m in remote.search(q)] == expect, "milvus disagrees with local"
        remote_q = median_ms(lambda: remote.search(q), 20)
        server = [p for p in tree(os.getpid()) if p != os.getpid()]
        server_mb = sum(rss_mb(p) for p in server)
        worker_mb = rss_mb(os.getpid()) - before - server_mb
        rows.append(
            f"| milvus-lite (BIN_FLAT, HAMMING range) | {remote_q:.1f} ms | "
            f"{server_mb:.0f} MB in the Milvus server + {max(worker_mb, 0):.0f} MB per worker "
            f"(video key and time) | {fill:.1f} s |"
        )
        lines += [
            *rows,
            "",
            f"Both engines return the same matches for the query ({expect}).",
        ]
        remote.close()
        engine.close()
    else:
        lines += rows
    writer.close()
    reader.close()
    return lines


SHARED_TITLE = "### Shared memory across the workers of one machine"


def _worker(url: str, index_path: str, shared: bool) -> None:
    """One worker: open the index, answer the query, read every page, report, wait for stdin."""
    faiss.omp_set_num_threads(1)
    t0 = time.perf_counter()
    index = FingerprintIndex(url, index_path, shared=shared)
    opened = time.perf_counter() - t0
    q = query_of_store(url, np.random.default_rng(SEED))
    matches = [m.video_id for m in index.search(q)]
    search_ms = median_ms(lambda: index.search(q), 5)
    mapped = index.warm()
    print(
        json.dumps(
            {
                "open_s": opened,
                "loaded_from": index.loaded_from,
                "kind": index.kind,
                "frames": index.n_frames,
                "matches": matches,
                "search_ms": search_ms,
                "mapped_mb": mapped / 2**20,
            }
        ),
        flush=True,
    )
    sys.stdin.readline()
    index.close()


def _start(url: str, index_path: Path, shared: bool) -> subprocess.Popen[str]:
    cmd = [sys.executable, "-m", "bench.index_scale", "--worker", url, str(index_path)]
    return subprocess.Popen(
        [*cmd, *(["--shared"] if shared else [])],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )


@dataclass
class WorkersRun:
    """Summed memory of a set of workers (MB) and each worker's report."""

    pss: float
    rss: float
    private: float
    reports: list[dict[str, Any]]


def _workers(url: str, index_path: Path, shared: bool, count: int) -> WorkersRun:
    """Start ``count`` workers together; once all are ready, their summed PSS and RSS (MB)."""
    procs = [_start(url, index_path, shared) for _ in range(count)]
    try:
        reports = []
        for p in procs:
            assert p.stdout is not None
            line = p.stdout.readline()
            if not line:
                raise RuntimeError(f"worker {p.pid} exited with {p.wait()}")
            reports.append(json.loads(line))
        time.sleep(1.0)
        mem = [smaps_mb(p.pid) for p in procs]
    finally:
        for p in procs:
            if p.stdin is not None:
                p.stdin.write("\n")
                p.stdin.close()
        for p in procs:
            p.wait(timeout=120)
    return WorkersRun(
        pss=sum(m.get("Pss", 0.0) for m in mem),
        rss=sum(m.get("Rss", 0.0) for m in mem),
        private=sum(m.get("Private_Dirty", 0.0) for m in mem),
        reports=reports,
    )


def shared_file_bytes(n: int) -> int:
    """Size model of a shared index file of ``n`` rows (multi-index hash above 1 M rows)."""
    offsets = 7 * 4 * ((1 << mih_key_bits(n)) + 1) if n > 1_000_000 else 0
    return 76 * n + offsets


def shared_memory(url: str, work: Path, n: int) -> list[str]:
    """Memory of 1 and 2 workers, each with a private copy and sharing one mapped file."""
    rows: list[str] = []
    matches: set[str] = set()
    results: dict[tuple[bool, int], WorkersRun] = {}
    builds: dict[bool, float] = {}
    for shared in (False, True):
        path = work / ("shared.npz" if shared else "private.npz")
        t0 = time.perf_counter()
        first = _workers(url, path, shared, 1)  # builds the file from the store
        builds[shared] = time.perf_counter() - t0
        for count in (1, 2):
            res = _workers(url, path, shared, count)
            results[shared, count] = res
            for r in res.reports:
                matches.add(json.dumps(r["matches"]))
            print(f"shared={shared} workers={count}: {res}", file=sys.stderr)
        del first
    if len(matches) != 1:
        raise AssertionError(f"workers disagree: {matches}")
    rep = results[True, 1].reports[0]
    file_mb = (work / "shared.map").stat().st_size / 2**20
    rows += [
        SHARED_TITLE,
        "",
        f"Command: `python -m bench.index_scale --shared-memory --rows {n}`. {n:,} frame rows "
        f"({n // PER_VIDEO:,} videos) on SQLite, local backend ({rep['kind']}). "
        f"Shared file: {file_mb:,.0f} MB. Every worker returned the same matches for the "
        f"60-frame query ({json.loads(next(iter(matches)))}).",
        "",
        "| layout | workers | PSS, all workers | RSS, all workers | private (anonymous) | "
        "2 workers / 1 (PSS) | open | 60-frame query |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for shared in (False, True):
        one = results[shared, 1].pss
        for count in (1, 2):
            res = results[shared, count]
            r0 = res.reports[0]
            ratio = f"{res.pss / one:.2f}×" if count == 2 else ""
            rows.append(
                f"| {'one shared mapped file' if shared else 'private copy per worker'} | "
                f"{count} | {res.pss:,.0f} MB | {res.rss:,.0f} MB | "
                f"{res.private:,.0f} MB | {ratio} | {r0['open_s']:.1f} s "
                f"({r0['loaded_from']}) | {r0['search_ms']:.0f} ms |"
            )
    model = shared_file_bytes(n) / 2**20
    rows += [
        "",
        f"Building the index from the store (first worker, nothing saved yet): private "
        f"{builds[False]:.0f} s, shared {builds[True]:.0f} s. RSS counts every mapped page in "
        "every process that maps it, so it doubles with two workers whichever the layout; PSS "
        "splits shared pages among their processes and its sum is the machine's memory.",
        "",
        f"File size model (76 bytes per row: 32 of hash, 8 of id, 7 × 4 of multi-index hash row "
        f"lists, 4 of video key, 4 of time; plus 7 × 4 × 2^key_bits bytes of offsets): "
        f"{model:,.0f} MB at {n:,} rows against {file_mb:,.0f} MB measured. 10 M registered "
        f"frames: the reference windows store about 10 rows per landscape frame, so about "
        f"100 M rows, a {shared_file_bytes(100_000_000) / 2**30:.1f} GB shared file once per "
        "machine, plus each worker's private part.",
    ]
    return rows


MILVUS_TITLE = "### Local and Milvus side by side at scale"


def milvus_scale(url: str, work: Path, n: int) -> list[str]:
    """60-frame query time and memory at ``n`` rows: the shared local index in a worker process,
    and milvus-lite (``BIN_FLAT``) filled from the store by this process."""
    from provenance.fingerprint.milvus_index import MilvusHashIndex

    _workers(url, work / "fp.npz", True, 1)  # builds the shared file
    local = _workers(url, work / "fp.npz", True, 1)
    q = query_of_store(url, np.random.default_rng(SEED))  # the workers' query
    before = rss_mb(os.getpid())
    engine = MilvusHashIndex(str(work / "milvus.db"))
    t0 = time.perf_counter()
    remote = FingerprintIndex(url, backend=engine)
    fill = time.perf_counter() - t0
    got = [m.video_id for m in remote.search(q)]
    remote_q = median_ms(lambda: remote.search(q), 5)
    server_mb = sum(rss_mb(p) for p in tree(os.getpid()) if p != os.getpid())
    worker_mb = rss_mb(os.getpid()) - before - server_mb
    remote.close()
    engine.close()
    want = local.reports[0]["matches"]
    r0 = local.reports[0]
    return [
        MILVUS_TITLE,
        "",
        f"Command: `python -m bench.index_scale --milvus-scale --rows {n}`. {n:,} frame rows on "
        f"SQLite; the same 60-frame query on both engines "
        f"({'same matches' if got == want else f'DIFFERENT matches: {got} vs {want}'}: {want}).",
        "",
        "| engine | 60-frame query, median | memory | fill from the store |",
        "|---|---|---|---|",
        f"| local, shared file ({r0['kind']}) | {r0['search_ms']:.0f} ms | {local.pss:,.0f} MB "
        f"PSS for one worker (file {r0['mapped_mb']:,.0f} MB, once per machine) | "
        "see the shared-memory table |",
        f"| milvus-lite (BIN_FLAT, HAMMING range) | {remote_q:,.0f} ms | {server_mb:,.0f} MB in "
        f"the Milvus server + {max(worker_mb, 0):,.0f} MB per worker (video key and time) | "
        f"{fill:,.0f} s |",
    ]


def _replace_subsection(title: str, lines: list[str]) -> Path:
    """Rewrite only the ``title`` subsection of ``bench/results/index_scale.md``."""
    return replace_subsection(
        RESULTS / "index_scale.md", "## Fingerprint index at scale", title, lines
    )


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        _worker(sys.argv[2], sys.argv[3], "--shared" in sys.argv[4:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big", action="store_true", help="also measure staleness at 10 M rows")
    parser.add_argument("--postgres", help="PostgreSQL server URL (a database is created)")
    parser.add_argument(
        "--big-postgres", action="store_true", help="with --big, 10 M rows on PostgreSQL too"
    )
    parser.add_argument("--no-milvus", action="store_true", help="skip the Milvus engine")
    parser.add_argument(
        "--shared-memory", action="store_true", help="only the shared-memory measurement"
    )
    parser.add_argument(
        "--milvus-scale", action="store_true", help="only local vs Milvus at --rows rows"
    )
    parser.add_argument(
        "--rows", type=int, default=10_000_000, help="rows for --shared-memory, --milvus-scale"
    )
    parser.add_argument("--store", help="an existing SQLite store filled with --rows rows")
    args = parser.parse_args()
    if args.shared_memory or args.milvus_scale:
        with tempfile.TemporaryDirectory(prefix="index-shm-") as tmp:
            url = f"sqlite:///{args.store}" if args.store else f"sqlite:///{Path(tmp) / 's.db'}"
            if not args.store:
                upgrade(url)
                fill_sqlite(url, args.rows, np.random.default_rng(SEED))
            load = os.getloadavg()[0]
            title = SHARED_TITLE if args.shared_memory else MILVUS_TITLE
            mode = shared_memory if args.shared_memory else milvus_scale
            lines = mode(url, Path(tmp), args.rows)
        lines += [
            "",
            f"Load average (1 min): {load:.1f} at the start, {os.getloadavg()[0]:.1f} "
            "at the end (memory figures do not depend on it).",
        ]
        print("\n".join(lines))
        print(f"wrote {_replace_subsection(title, lines)}", file=sys.stderr)
        return
    # one thread per search, as a service worker runs it
    faiss.omp_set_num_threads(1)
    rng = np.random.default_rng(SEED)
    load_start = os.getloadavg()[0]
    sizes = [1_000_000] + ([10_000_000] if args.big else [])
    table = [
        "| store | frame rows | before: count/max/sum | after: feed head | ratio "
        "| (feed head through a pooled session) |",
        "|---|---|---|---|---|---|",
    ]
    body: list[str] = []
    with tempfile.TemporaryDirectory(prefix="index-scale-") as tmp:
        work = Path(tmp)
        for n in sizes:
            url = f"sqlite:///{work / f'store-{n}.db'}"
            upgrade(url)
            t0 = time.perf_counter()
            fill_sqlite(url, n, rng)
            print(f"sqlite {n:,} rows written in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
            before, after, via_session = staleness(url, 5 if n <= 1_000_000 else 3)
            table.append(
                f"| SQLite | {n:,} | {before:.1f} ms | {after:.3f} ms | {before / after:,.0f}× "
                f"| {via_session:.3f} ms |"
            )
            if n == 1_000_000:
                body = propagation_and_engines(url, work, not args.no_milvus, rng)
            Path(url.split("///", 1)[1]).unlink()
        if args.postgres:
            for n in sizes[: 2 if args.big_postgres else 1]:
                with pg_database(args.postgres) as url:
                    upgrade(url)
                    t0 = time.perf_counter()
                    fill_postgres(url, n, rng)
                    print(
                        f"postgres {n:,} rows in {time.perf_counter() - t0:.0f} s", file=sys.stderr
                    )
                    before, after, via_session = staleness(url, 5 if n <= 1_000_000 else 3)
                    table.append(
                        f"| PostgreSQL | {n:,} | {before:.1f} ms | {after:.3f} ms | "
                        f"{before / after:,.0f}× | {via_session:.3f} ms |"
                    )
    cmd = "python -m bench.index_scale " + shlex.join(sys.argv[1:])
    text = "\n".join(
        [
            "Staleness check (what every trace and verify runs first), median of repeated calls "
            "(the feed head as the index reads it: on a held autocommit connection):",
            "",
            *table,
            "",
            *body,
            "",
            f"Load average (1 min) at the start: {load_start:.1f}; at the end: "
            f"{os.getloadavg()[0]:.1f} ({os.cpu_count()} cores, shared with other jobs: compare "
            "ratios within the run).",
        ]
    )
    path = write_section("index_scale", "Fingerprint index at scale", cmd.strip(), text)
    print(text)
    print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
