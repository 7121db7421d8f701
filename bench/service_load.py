"""Load on the real service over loopback: POST /v1/screen and POST /v1/verify.

Starts ``provkit serve`` (uvicorn, N workers) on a free 127.0.0.1 port with a fresh store, sends a
bounded number of requests from a thread pool of keep-alive clients, then stops. Reports
requests/s, p50/p99 latency, errors and the server's RSS before and after (memory stability).

    python -m bench.service_load [--workers 2] [--screen 10000] [--verify 200] [--quick]
"""

from __future__ import annotations

import argparse
import os
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

from bench._report import write_section

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


def _rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (uvicorn workers), in MB."""
    total = 0
    pids = [pid]
    try:
        out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
        pids += [int(p) for p in out.split()]
    except OSError:
        pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def _run(
    url: str, key: str, n: int, concurrency: int, make_request: object
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
                try:
                    r = make_request(c, wid * 100_000 + i)  # type: ignore[operator]
                    ok = r.status_code < 400
                except httpx.HTTPError:
                    ok = False
                dt = time.perf_counter() - t0
                with lock:
                    lat.append(dt)
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--screen", type=int, default=10_000)
    ap.add_argument("--verify", type=int, default=200)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--quick", action="store_true", help="1,000 screens, 30 verifies")
    args = ap.parse_args()
    if args.quick:
        args.screen, args.verify = 1000, 30
    root = Path(__file__).resolve().parents[1]
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
    key = subprocess.run(
        [*provkit, "keys", "create", "--scope", "admin", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp,
    ).stdout
    import json

    api_key = json.loads(key)["key"]
    # a registered 10 s 720p clip to verify (the verify path does its full work on it)
    clip = tmp / "clip.mp4"
    subprocess.run(
        [*provkit, "generate", "a slow pan over a city at night", "--duration", "10",
         "--width", "1280", "--height", "720", "--user", "bench", "-o", str(clip)],
        env=env, check=True, cwd=tmp, capture_output=True,
    )  # fmt: skip
    server = subprocess.Popen(
        [*provkit, "serve"], env=env, cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.25)
        else:
            raise SystemExit("server did not start")
        rows = []
        rss0 = _rss_mb(server.pid)

        def screen(c: httpx.Client, i: int) -> httpx.Response:
            return c.post("/v1/screen", json={"prompt": PROMPTS[i % len(PROMPTS)]})

        _run(url, api_key, 200, 4, screen)  # warm-up
        rss_warm = _rss_mb(server.pid)
        rows.append(_summary("POST /v1/screen", *_run(url, api_key, args.screen, args.concurrency, screen)))
        rss_screen = _rss_mb(server.pid)
        data = clip.read_bytes()

        def verify(c: httpx.Client, i: int) -> httpx.Response:
            return c.post("/v1/verify", files={"file": ("clip.mp4", data, "video/mp4")})

        rows.append(_summary("POST /v1/verify (10 s 720p)", *_run(url, api_key, args.verify, 4, verify)))
        rss_end = _rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
    lines = [
        "| endpoint | requests | req/s | p50 ms | p99 ms | errors |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['endpoint']} | {r['requests']} | {r['rps']:.0f} | {r['p50_ms']:.1f} | "
            f"{r['p99_ms']:.1f} | {r['errors']} |"
        )
    lines.append("")
    lines.append(
        f"Server RSS (all workers): {rss0:.0f} MB at start, {rss_warm:.0f} MB after warm-up, "
        f"{rss_screen:.0f} MB after the screen run, {rss_end:.0f} MB after the verify run."
    )
    text = "\n".join(lines)
    print(text)
    write_section(
        "service",
        "Service load (loopback)",
        f"python -m bench.service_load --workers {args.workers} --screen {args.screen} "
        f"--verify {args.verify}",
        text,
    )


if __name__ == "__main__":
    main()
