"""Load on the real service over loopback: POST /v1/screen and POST /v1/verify.

Starts ``provkit serve`` (uvicorn, N workers) on a free 127.0.0.1 port with a fresh store, then:

* ``/v1/screen``: ``wrk`` (Debian package, installed when missing; C, so the load generator takes
  little of the machine it measures) for a bounded time, keep-alive connections, mixed prompts;
  then a bounded count of requests in rounds while the server's RSS is sampled (memory
  stability over ``--soak`` requests);
* ``/v1/verify``: bounded counts of multipart uploads from 4 keep-alive httpx clients: platform-style
  re-encodes (2 s key frames, CRF 23–30) of a registered, marked 10 s 720p clip in each verify
  mode; the same clip with its audio stripped; an unrelated clip that was never registered.

Reports requests/s, p50/p99 latency, errors, RSS. It only talks to 127.0.0.1 and then stops.

    python -m bench.service_load [--workers 2] [--seconds 10] [--soak 10000] [--verify 100]

``--production URL`` runs the production load test instead (its own subsection of the results):
a fresh database on the PostgreSQL server at URL seeded with ``--frames`` fingerprint frame rows
(random codes, 40 per video, written by COPY), 2 workers on the shared local index, then

* *idle*: ``--verify`` default-mode verifies of the re-encoded copies (2 clients);
* *busy*: the same verifies while one client generates continuously (short 360p clips), mints a
  certificate for every generation, and traces every generated clip until it is found
  ``--trace-checks`` times on fresh connections (spread over the workers by the kernel).

It reports verify p50/p99 in both phases and their ratio, errors, duplicate mark ids, and how long
after its generation returned every clip was traceable.

    python -m bench.service_load --production postgresql://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np

from bench._report import RESULTS, replace_subsection, write_section
from bench.index_scale import fill_postgres, pg_database
from bench.procstat import rss_mb, wait_ready

PROMPTS = [
    "a calm piano piece for a rainy afternoon",
    "用周杰伦的声音唱一首新歌",
    "make it sound exactly like Taylor Swift singing my lyrics",
    "模仿猫叫的声音",
    "a deep male narrator voice reading a bedtime story",
    "call my grandma pretending to be her grandson asking for money",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_timing(value: str) -> dict[str, float]:
    """``Server-Timing: a;dur=1.5, b;dur=2`` as ``{"a": 1.5, "b": 2.0}`` (milliseconds)."""
    out: dict[str, float] = {}
    for part in value.split(","):
        name, _, rest = part.strip().partition(";")
        if rest.startswith("dur="):
            out[name] = float(rest[4:])
    return out


def _run(
    url: str,
    key: str,
    n: int,
    concurrency: int,
    make_request: object,
    timings: list[dict[str, float]] | None = None,
) -> tuple[list[float], int, float]:
    lat: list[float] = []
    errors = 0
    lock = threading.Lock()
    per = [n // concurrency + (1 if i < n % concurrency else 0) for i in range(concurrency)]

    def worker(count: int, wid: int) -> None:
        nonlocal errors
        with httpx.Client(base_url=url, headers={"X-API-Key": key}, timeout=120) as c:
            for i in range(count):
                t0 = time.perf_counter()
                spent: dict[str, float] = {}
                try:
                    r = make_request(c, wid * 100_000 + i)  # type: ignore[operator]
                    ok = r.status_code < 400
                    spent = server_timing(r.headers.get("server-timing", ""))
                except httpx.HTTPError:
                    ok = False
                dt = time.perf_counter() - t0
                with lock:
                    lat.append(dt)
                    if timings is not None:
                        timings.append(spent)
                    if not ok:
                        errors += 1

    t0 = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(worker, per, range(concurrency)))
    return lat, errors, time.perf_counter() - t0


def _summary(name: str, lat: list[float], errors: int, wall: float) -> dict[str, object]:
    q = statistics.quantiles(lat, n=100) if len(lat) >= 2 else [lat[0]] * 99
    return {
        "endpoint": name,
        "requests": len(lat),
        "rps": len(lat) / wall,
        "p50_ms": statistics.median(lat) * 1000,
        "p99_ms": q[98] * 1000,
        "errors": errors,
    }


WRK_LUA = """
local prompts = {%s}
local i = 0
request = function()
  i = i + 1
  local body = '{"prompt": "' .. prompts[(i %% #prompts) + 1] .. '"}'
  return wrk.format("POST", "/v1/screen", nil, body)
end
"""


def _wrk(url: str, key: str, seconds: int, connections: int, tmp: Path) -> dict[str, object]:
    """Run wrk against /v1/screen; parse requests/s, latency percentiles and errors."""
    import re

    script = tmp / "screen.lua"
    script.write_text(WRK_LUA % ", ".join(json.dumps(p, ensure_ascii=False) for p in PROMPTS))
    out = subprocess.run(
        ["wrk", "-t", "1", "-c", str(connections), "-d", f"{seconds}s", "--latency",
         "-H", f"X-API-Key: {key}", "-H", "Content-Type: application/json",
         "-s", str(script), url],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip

    def ms(label: str) -> float:
        m = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not m:
            return float("nan")
        return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]

    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(non2xx.group(1)) if non2xx else 0) + (sum(map(int, sock.groups())) if sock else 0)
    return {"endpoint": f"POST /v1/screen (wrk, {connections} conns, {seconds} s)", "requests": total,
            "rps": rps, "p50_ms": ms("50"), "p99_ms": ms("99"), "errors": errors}  # fmt: skip


PRODUCTION_TITLE = "### Production load: PostgreSQL, 2 workers, generation running"
ACTIONS = [
    {"id": "a1", "kind": "human_asset", "at": "2026-01-01T10:00:00Z",
     "details": {"asset_type": "lyrics", "perceptible": True}, "refs": ["a" * 64]},
    {"id": "a2", "kind": "selection", "at": "2026-01-01T10:05:00Z",
     "details": {"chosen": ["take-2"], "rejected": ["take-1", "take-3"]}},
]  # fmt: skip


class Generations:
    """One client that generates, mints and traces in a loop until stopped (the busy phase).

    It generates and mints on ``url`` and traces on ``trace_url`` (the same server, or the
    verification pool when generation runs in a pool of its own), on fresh connections, until
    ``checks`` traces found the clip and every one of ``workers`` workers (told apart by their
    ``X-Provkit-Worker`` header) found it at least once.
    """

    def __init__(
        self, url: str, key: str, checks: int, tmp: Path, *, trace_url: str, workers: int
    ) -> None:
        self.url, self.key, self.checks, self.tmp = url, key, checks, tmp
        self.trace_url, self.workers = trace_url, workers
        self.stop = threading.Event()
        self.marks: list[str] = []
        self.errors: list[str] = []
        self.delays: list[float] = []  # generation returned -> found by every worker
        self.first: list[float] = []  # generation returned -> the first trace that found it
        self.untraced: list[str] = []
        self.gen_lat: list[float] = []
        self.workers_seen: set[str] = set()
        self.traces = 0  # traces answered
        self.misses = 0  # traces answered without the clip
        self.reached: list[float] = []  # per clip and worker: when its first finding trace was sent
        self.start = 0

    def run(self) -> None:
        """Loop: generate (4 s 640x360), mint, trace on fresh connections until found."""
        i = self.start
        while not self.stop.is_set():
            i += 1
            try:
                self._one(i)
            except (httpx.HTTPError, KeyError, ValueError) as exc:
                self.errors.append(f"{type(exc).__name__}: {exc}"[:200])

    def _one(self, i: int) -> None:
        h = {"X-API-Key": self.key}
        with httpx.Client(base_url=self.url, headers=h, timeout=300) as c:
            t0 = time.perf_counter()
            r = c.post("/v1/generate", json={"prompt": f"a paper boat on a pond, take {i}",
                                             "duration_s": 4, "seed": i})  # fmt: skip
            if r.status_code != 201:
                self.errors.append(f"generate {r.status_code}: {r.text[:120]}")
                return
            done = time.perf_counter()
            self.gen_lat.append(done - t0)
            receipt = r.json()
            mark = receipt["mark_id"]
            self.marks.append(mark)
            m = c.post("/v1/certificates", json={"mark_id": mark, "actions": ACTIONS})
            if m.status_code != 201:
                self.errors.append(f"mint {m.status_code}: {m.text[:120]}")
            video = next(f for f in receipt["files"] if f["name"].endswith(".mp4"))
            blob = c.get(video["url"]).content
        found = 0
        by: set[str] = set()

        def trace() -> tuple[float, float, str, bool] | None:
            sent = time.perf_counter() - done
            with httpx.Client(base_url=self.trace_url, headers=h, timeout=300) as fresh:
                t = fresh.post("/v1/video/trace", files={"file": ("g.mp4", blob, "video/mp4")})
            if t.status_code != 200:
                self.errors.append(f"trace {t.status_code}: {t.text[:120]}")
                return None
            hit = any(x["video_id"].endswith(mark) for x in t.json()["matches"])
            return sent, time.perf_counter() - done, t.headers.get("x-provkit-worker", "?"), hit

        # a burst of 2 traces per worker the moment the generation returns (fresh connections,
        # so every worker is likely to serve one at once), then one at a time
        with ThreadPoolExecutor(2 * self.workers) as pool:
            burst = list(pool.map(lambda _: trace(), range(2 * self.workers)))
        rest = (trace() for _ in range(self.checks * 4 + self.workers * 8))
        for got in itertools.chain(burst, rest):
            if got is None:
                continue
            sent, answered, worker, hit = got
            self.workers_seen.add(worker)
            self.traces += 1
            if not hit:
                self.misses += 1  # this worker's searches did not have the clip yet
                continue
            if not found:
                self.first.append(answered)
            if worker not in by:
                # the first trace this worker served had the clip: the registration had reached
                # its searches by the time that trace was sent
                self.reached.append(sent)
            found += 1
            by.add(worker)
            if found >= self.checks and len(by) >= self.workers:
                self.delays.append(time.perf_counter() - done)
                return
        self.untraced.append(mark)


def _pct(values: list[float], q: float) -> float:
    """The ``q`` quantile (0-1) of ``values`` (nan when empty)."""
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]


def production(args: argparse.Namespace, root: Path) -> list[str]:
    """The production load test (see the module doc); returns its subsection's lines."""
    with tempfile.TemporaryDirectory(prefix="provkit-prod-") as work:
        return _production(args, root, Path(work))


def _production(args: argparse.Namespace, root: Path, tmp: Path) -> list[str]:
    provkit = [sys.executable, "-m", "service.cli"]
    with pg_database(args.production) as db:
        port = _free_port()
        env = {**os.environ, "PROVKIT_DATA_DIR": str(tmp / "var"), "PROVKIT_PORT": str(port),
               "PROVKIT_WORKERS": str(args.workers), "PROVKIT_LOG_LEVEL": "WARNING",
               "PROVKIT_DATABASE_URL": db, "PYTHONPATH": str(root),
               "PROVKIT_GENERATION_NICE": str(args.generation_nice)}  # fmt: skip
        subprocess.run([*provkit, "db", "upgrade"], env=env, check=True, cwd=tmp,
                       capture_output=True)  # fmt: skip
        t0 = time.perf_counter()
        fill_postgres(db, args.frames, np.random.default_rng(20261203))
        seeded = time.perf_counter() - t0
        created = subprocess.run(
            [*provkit, "keys", "create", "--scope", "admin", "--json"],
            env=env, capture_output=True, text=True, check=True, cwd=tmp,
        ).stdout  # fmt: skip
        key = json.loads(created)["key"]
        clip = tmp / "clip.mp4"
        subprocess.run(
            [*provkit, "generate", "a slow pan over a city at night", "--duration", "10",
             "--width", "1280", "--height", "720", "--user", "bench", "-o", str(clip)],
            env=env, check=True, cwd=tmp, capture_output=True,
        )  # fmt: skip
        from service.media.transforms import transform

        copies = [
            transform(clip, tmp / f"copy{crf}.mp4", crf=crf, keyint=60).read_bytes()
            for crf in (23, 26, 28, 30)
        ]

        def verify(c: httpx.Client, i: int) -> httpx.Response:
            blob = copies[i % len(copies)]
            # a new connection per request, as from many clients: the kernel hands each one to
            # a worker, so no phase depends on where two kept-alive connections happened to land
            return c.post(
                "/v1/verify",
                files={"file": ("upload.mp4", blob, "video/mp4")},
                headers={"Connection": "close"},
            )

        server = subprocess.Popen([*provkit, "serve"], env=env, cwd=tmp,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        gen_server: subprocess.Popen[bytes] | None = None
        phases: list[tuple[str, dict[str, object], list[dict[str, float]], float, Generations]] = []
        try:
            if not wait_ready(url, 480):
                raise SystemExit("server did not start")
            _run(url, key, 8, 2, verify)  # warm-up: both workers open the index

            def phase(name: str, gens: Generations | None) -> None:
                thread = None
                if gens is not None:
                    thread = threading.Thread(target=gens.run)
                    thread.start()
                    while not gens.marks and thread.is_alive():  # generation is under way
                        time.sleep(0.5)
                load = os.getloadavg()[0]
                spent: list[dict[str, float]] = []
                result = _summary(name, *_run(url, key, args.verify, 2, verify, spent))
                if gens is not None and thread is not None:
                    gens.stop.set()
                    thread.join(timeout=900)
                phases.append((name, result, spent, load, gens or Generations(
                    url, key, 0, tmp, trace_url=url, workers=args.workers)))  # fmt: skip

            phase("idle index", None)
            same = Generations(url, key, args.trace_checks, tmp, trace_url=url,
                               workers=args.workers)  # fmt: skip
            phase(
                f"generation running, same workers (generation_nice {args.generation_nice})", same
            )
            mem = rss_mb(server.pid)
            # a generation pool of its own (1 worker, lower CPU priority) on the same store and
            # data folder: its registrations reach the verifying workers through the change feed
            gport = _free_port()
            gen_server = subprocess.Popen(
                ["nice", "-n", str(args.generation_nice), *provkit, "serve"],
                env={**env, "PROVKIT_PORT": str(gport), "PROVKIT_WORKERS": "1",
                     "PROVKIT_GENERATION_NICE": "0"}, cwd=tmp,
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            )  # fmt: skip
            gurl = f"http://127.0.0.1:{gport}"
            if not wait_ready(gurl, 480):
                raise SystemExit("generation server did not start")
            pool = Generations(gurl, key, args.trace_checks, tmp, trace_url=url,
                               workers=args.workers)  # fmt: skip
            pool.start = 10_000
            phase(f"generation running, own pool (nice {args.generation_nice})", pool)
        finally:
            for proc in (gen_server, server):
                if proc is not None:
                    proc.terminate()
                    proc.wait(timeout=30)
    idle = phases[0][1]
    rows = [
        "| phase | verifies | p50 ms | p99 ms | index sync p50 / p99 ms | queue p99 ms | "
        "errors | load average |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, res, spent, load, _ in phases:
        sync = [t.get("index-sync", 0.0) for t in spent if t]
        queue = [t.get("queue", 0.0) for t in spent if t]
        rows.append(
            f"| {name} | {res['requests']} | {float(res['p50_ms']):.0f} | "  # type: ignore[arg-type]
            f"{float(res['p99_ms']):.0f} | {_pct(sync, 0.5):.1f} / {_pct(sync, 0.99):.1f} | "  # type: ignore[arg-type]
            f"{_pct(queue, 0.99):.0f} | {res['errors']} | {load:.1f} |"
        )
    notes = []
    for name, res, _, _, gens in phases[1:]:
        ratio = float(res["p99_ms"]) / float(idle["p99_ms"])  # type: ignore[arg-type]
        dup = len(gens.marks) - len(set(gens.marks))
        notes.append(
            f"- **{name}**: verify p99 busy / idle {ratio:.2f}× (bar: 1.2×). Alongside: "
            f"{len(gens.marks)} generations (4 s 640x360, median "
            f"{statistics.median(gens.gen_lat or [0]):.1f} s each), as many mints, "
            f"{len(gens.errors)} errors in that client"
            + (f" ({gens.errors[:3]})" if gens.errors else "")
            + f", {dup} duplicate mark ids, {len(gens.untraced)} clips not traced. "
            f"{gens.traces} traces on fresh connections, sent from the moment each generation "
            f"returned, {gens.misses} of them without the clip"
            + (
                f"; each of the {len(gens.workers_seen)} verifying workers (told apart by "
                "`X-Provkit-Worker`) found every clip on the first trace it served, sent at "
                f"most {max(gens.reached or [float('nan')]):.2f} s after the generation "
                "returned, so the registration had reached every worker's searches by then"
                if not gens.misses
                else " (a worker whose searches did not have it yet)"
            )
            + " (a trace itself decodes and hashes the clip: the first answer came within "
            f"{max(gens.first or [float('nan')]):.1f} s)."
        )
    return [
        PRODUCTION_TITLE,
        "",
        f"Command: `python -m bench.service_load --production URL --frames {args.frames} "
        f"--verify {args.verify} --trace-checks {args.trace_checks} --generation-nice "
        f"{args.generation_nice}`. PostgreSQL store seeded "
        f"with {args.frames:,} frame rows ({seeded:.0f} s by COPY), {args.workers} workers on "
        "the shared local index, 2 verify clients (default `auto` mode, re-encoded copies of a "
        "registered 10 s 720p clip). Index sync and queue come from each verify's "
        "`Server-Timing` header (time spent bringing the index up to date with the store; time "
        "waiting for the worker's media slot).",
        "",
        *rows,
        "",
        *notes,
        f"- Server RSS after the second phase (2 workers, RSS counts the shared index in both): "
        f"{mem:.0f} MB.",
    ]


def _replace_subsection(title: str, lines: list[str]) -> Path:
    """Rewrite only the ``title`` subsection of ``bench/results/service.md``."""
    return replace_subsection(RESULTS / "service.md", "## Service load (loopback)", title, lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seconds", type=int, default=10, help="wrk duration for /v1/screen")
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--soak", type=int, default=10_000, help="screen requests for the RSS check")
    ap.add_argument("--verify", type=int, default=100)
    ap.add_argument(
        "--verify-soak", type=int, default=0, help="default-mode verifies for the verify RSS check"
    )
    ap.add_argument("--quick", action="store_true", help="3 s wrk, 2,000 soak, 20 verifies")
    ap.add_argument("--production", metavar="URL", help="PostgreSQL server: production load test")
    ap.add_argument("--frames", type=int, default=1_000_000, help="frame rows seeded (production)")
    ap.add_argument("--trace-checks", type=int, default=4, help="traces per generated clip")
    ap.add_argument(
        "--generation-nice",
        type=int,
        default=10,
        help="niceness of the generation pool (production)",
    )
    args = ap.parse_args()
    if args.production:
        # a killed run still stops its server and drops its database (the `finally` blocks)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        lines = production(args, Path(__file__).resolve().parents[1])
        print("\n".join(lines))
        print(f"wrote {_replace_subsection(PRODUCTION_TITLE, lines)}", file=sys.stderr)
        return
    if args.quick:
        args.seconds, args.soak, args.verify = 3, 2000, 20
    root = Path(__file__).resolve().parents[1]
    subprocess.run(["bash", str(root / "scripts" / "ensure_media_tools.sh"), "wrk"], check=True)
    tmp = Path(tempfile.mkdtemp(prefix="provkit-load-"))
    port = _free_port()
    env = {
        **os.environ,
        "PROVKIT_DATA_DIR": str(tmp / "var"),
        "PROVKIT_PORT": str(port),
        "PROVKIT_WORKERS": str(args.workers),
        "PROVKIT_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(root),
    }
    provkit = [sys.executable, "-m", "service.cli"]
    created = subprocess.run(
        [*provkit, "keys", "create", "--scope", "admin", "--json"],
        env=env, capture_output=True, text=True, check=True, cwd=tmp,
    ).stdout  # fmt: skip
    api_key = json.loads(created)["key"]
    clip = tmp / "clip.mp4"  # a registered 10 s 720p clip: verify does its full work on it
    subprocess.run(
        [*provkit, "generate", "a slow pan over a city at night", "--duration", "10",
         "--width", "1280", "--height", "720", "--user", "bench", "-o", str(clip)],
        env=env, check=True, cwd=tmp, capture_output=True,
    )  # fmt: skip
    server = subprocess.Popen(
        [*provkit, "serve"], env=env, cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    url = f"http://127.0.0.1:{port}"
    rows: list[dict[str, object]] = []
    rss: list[tuple[int, float]] = []
    verify_rss: list[tuple[int, float]] = []
    try:
        if not wait_ready(url, 240):
            raise SystemExit("server did not start")

        def screen(c: httpx.Client, i: int) -> httpx.Response:
            return c.post("/v1/screen", json={"prompt": PROMPTS[i % len(PROMPTS)]})

        _run(url, api_key, 400, 4, screen)  # warm-up: every worker loads the registry
        rss.append((0, rss_mb(server.pid)))
        rows.append(_wrk(url, api_key, args.seconds, args.connections, tmp))
        done = 0
        step = max(1, args.soak // 5)
        while done < args.soak:
            _lat, errors, _wall = _run(url, api_key, step, 8, screen)
            done += step
            rss.append((done, rss_mb(server.pid)))
            if errors:
                rows.append({"endpoint": "soak errors", "requests": step, "rps": 0.0,
                             "p50_ms": 0.0, "p99_ms": 0.0, "errors": errors})  # fmt: skip
        # platform-style re-encodes (2 s key frames): not the registered bytes, so no signal is a
        # free exact-hash hit; several copies, so no request repeats the previous one's bytes
        from service.generator import GenerationRequest, ReferenceGenerator
        from service.media.encode import write_mp4
        from service.media.transforms import transform

        gop = 60  # 2 s at 30 fps
        copies = [
            transform(clip, tmp / f"copy{crf}.mp4", crf=crf, keyint=gop).read_bytes()
            for crf in (23, 26, 28, 30)
        ]
        silent = transform(clip, tmp / "silent.mp4", crf=26, keyint=gop, keep_audio=False)
        media = ReferenceGenerator().generate(
            GenerationRequest("unrelated", duration_s=10, width=1280, height=720, seed=991)
        )
        unrelated = tmp / "unrelated.mp4"  # never registered: the verdict is not_found
        write_mp4(unrelated, media.video, media.audio[0], crf=26)  # type: ignore[arg-type]
        unrelated = transform(unrelated, tmp / "unrelated-copy.mp4", crf=26, keyint=gop)

        def poster(query: str, blobs: list[bytes]) -> object:
            def post(c: httpx.Client, i: int) -> httpx.Response:
                blob = blobs[i % len(blobs)]
                return c.post(
                    "/v1/verify" + query, files={"file": ("upload.mp4", blob, "video/mp4")}
                )

            return post

        _run(url, api_key, 8, 2, poster("", copies))  # warm-up
        for label, query, blobs, n in [
            ("POST /v1/verify (default `auto`: every signal; marked re-encoded copies)", "",
             copies, args.verify),
            ("POST /v1/verify?mode=full (every signal at full depth; same copies)", "?mode=full",
             copies, max(20, args.verify // 4)),
            ("POST /v1/verify?mode=fast (stops at the first conclusive signal; same copies)",
             "?mode=fast", copies, args.verify),
            ("POST /v1/verify, audio stripped (fingerprint alone, full depth)", "",
             [silent.read_bytes()], max(20, args.verify // 4)),
            ("POST /v1/verify, unrelated unregistered clip (`not_found`, full depth)", "",
             [unrelated.read_bytes()], max(20, args.verify // 4)),
        ]:  # fmt: skip
            rows.append(_summary(label, *_run(url, api_key, n, 4, poster(query, blobs))))
            rss.append((done, rss_mb(server.pid)))
        verify_rss.append((0, rss_mb(server.pid)))
        vdone = 0
        vstep = max(1, args.verify_soak // 5)
        while vdone < args.verify_soak:
            _lat, errors, _wall = _run(url, api_key, vstep, 4, poster("", copies))
            vdone += vstep
            verify_rss.append((vdone, rss_mb(server.pid)))
            if errors:
                rows.append({"endpoint": "verify soak errors", "requests": vstep, "rps": 0.0,
                             "p50_ms": 0.0, "p99_ms": 0.0, "errors": errors})  # fmt: skip
    finally:
        server.terminate()
        server.wait(timeout=30)
    lines = [
        "| endpoint | requests | req/s | p50 ms | p99 ms | errors |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['endpoint']} | {r['requests']} | {float(r['rps']):.0f} | {float(r['p50_ms']):.1f} | "  # type: ignore[arg-type]
            f"{float(r['p99_ms']):.1f} | {r['errors']} |"  # type: ignore[arg-type]
        )
    lines.append("")
    lines.append(
        f"Server RSS, {args.workers} workers together, after N soak requests to /v1/screen: "
        + ", ".join(f"{n}: {mb:.0f} MB" for n, mb in rss[: len(rss) - 5])
        + "; after each verify row above: "
        + ", ".join(f"{mb:.0f} MB" for _, mb in rss[len(rss) - 5 :])
        + "."
    )
    lines.append("")
    lines.append(
        "Verify modes: `auto` (the default) runs every signal and, when the watermark already "
        "names a registered generation, confirms the video on its key frames (about 5 decoded "
        "frames per 10 s at 2 s key-frame spacing) instead of decoding every reference frame; "
        "whenever those do not confirm the same generation it searches in full. `full` always "
        "decodes and hashes at 4 frames/s (plus motion frames); the audio-stripped and unrelated "
        "rows get that full search under `auto` too, since no watermark names a generation."
    )
    if len(verify_rss) > 1:
        lines.append("")
        lines.append(
            "Server RSS over default-mode verifies of the re-encoded copies (after N more): "
            + ", ".join(f"{n}: {mb:.0f} MB" for n, mb in verify_rss)
            + "."
        )
    text = "\n".join(lines)
    print(text)
    write_section(
        "service",
        "Service load (loopback)",
        f"python -m bench.service_load --workers {args.workers} --seconds {args.seconds} "
        f"--soak {args.soak} --verify {args.verify}"
        + (f" --verify-soak {args.verify_soak}" if args.verify_soak else ""),
        text,
    )


if __name__ == "__main__":
    main()
