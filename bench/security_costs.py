"""What each attack of docs/security.md costs a running server: answer, time, and peak memory.

Starts ``provkit serve`` with 2 workers on a throw-away SQLite store, replays the attacks of
``tests/service/test_redteam.py`` and samples the whole process tree's resident memory every
20 ms while each runs. Writes ``bench/results/security.md``.

    python -m bench.security_costs
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from bench import procstat
from bench._report import write_section

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "service.cli"]


class Peak:
    """The highest resident memory of a process tree while the block runs, over its start."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self.base = pid, 0.0, 0.0
        self._stop = threading.Event()

    def __enter__(self) -> Peak:
        self.base = self.peak = procstat.rss_mb(self.pid)
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, procstat.rss_mb(self.pid))
            time.sleep(0.02)

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._t.join()

    @property
    def growth(self) -> float:
        return self.peak - self.base


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _raw(url: str, data: bytes, timeout: float = 15.0) -> bytes:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as s:
        s.sendall(data)
        try:
            return s.recv(200)
        except (TimeoutError, ConnectionResetError):
            return b""


def _ffmpeg(args: list[str], out: Path, pipe: bool = False) -> Path:
    cmd = ["ffmpeg", "-v", "error", "-y", *args]
    if pipe:
        with out.open("wb") as f:
            subprocess.run([*cmd, "pipe:1"], stdout=f, check=True)
    else:
        subprocess.run([*cmd, str(out)], check=True)
    return out


def main() -> None:
    if shutil.which("ffmpeg") is None:
        subprocess.run(["bash", str(ROOT / "scripts" / "ensure_media_tools.sh"), "ffmpeg"])
    work = Path(tempfile.mkdtemp(prefix="provkit-sec-"))
    env = {
        **os.environ,
        "PROVKIT_DATA_DIR": str(work / "var"),
        "PROVKIT_PORT": str(_port()),
        "PROVKIT_WORKERS": "2",
        "PROVKIT_LOG_LEVEL": "WARNING",
        "PROVKIT_MAX_MEDIA_DURATION_S": "600",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("PROVKIT_DATABASE_URL", None)
    key = json.loads(
        subprocess.run(
            [*CLI, "keys", "create", "--scope", "admin", "--json"],
            env=env, capture_output=True, text=True, check=True,
        ).stdout
    )["key"]  # fmt: skip
    proc = subprocess.Popen([*CLI, "serve"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    url = f"http://127.0.0.1:{env['PROVKIT_PORT']}"
    auth = {"Authorization": f"Bearer {key}"}
    rows: list[tuple[str, str, float, float]] = []
    try:
        procstat.wait_ready(url, 240)
        time.sleep(1.0)
        for _ in range(4):  # warm the chain routes (web3 raises the recursion limit on import)
            httpx.post(url + "/v1/certificates/anchor", headers=auth, timeout=120)

        def row(name: str, fn: Callable[[], str]) -> None:
            with Peak(proc.pid) as peak:
                t0 = time.perf_counter()
                answer = fn()
                elapsed = time.perf_counter() - t0
            rows.append((name, answer, elapsed, peak.growth))
            print(f"{name:60s} {answer:28s} {elapsed:7.2f} s  +{peak.growth:6.0f} MB", flush=True)

        deep = b"[" * 300_000 + b"]" * 300_000
        h = {"Content-Type": "application/json"}
        row("deep JSON (600 KB, 300k levels), no key",
            lambda: str(httpx.post(url + "/v1/screen", content=deep, headers=h).status_code))  # fmt: skip
        row("deep JSON, verify key, ×10",
            lambda: ",".join(sorted({str(httpx.post(url + "/v1/certificates/verify", content=deep,
                                    headers={**h, **auth}).status_code) for _ in range(10)})))  # fmt: skip
        head = (b"POST /v1/verify HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; "
                b"boundary=z\r\nContent-Length: 62914560\r\n\r\n")  # fmt: skip

        def uploads() -> str:
            out: list[bytes] = []
            ts = [threading.Thread(target=lambda: out.append(_raw(url, head + b"\0" * 262_144)))
                  for _ in range(20)]  # fmt: skip
            for t in ts:
                t.start()
            for t in ts:
                t.join()
            return ",".join(sorted({a[9:12].decode() for a in out}))

        row("20 parallel 60 MB uploads, no key", uploads)
        flac = _ffmpeg(["-f", "lavfi", "-i", "anullsrc=r=48000:cl=stereo", "-t", "1200",
                        "-c:a", "flac", "-f", "flac"], work / "pipe.flac", pipe=True)  # fmt: skip

        def verify(path: Path) -> httpx.Response:
            with path.open("rb") as f:
                return httpx.post(url + "/v1/verify", files={"file": (path.name, f)},
                                  headers=auth, timeout=300)  # fmt: skip

        def job(r: httpx.Response) -> str:
            if r.status_code != 202:
                return str(r.status_code)
            for _ in range(3000):
                j = httpx.get(url + r.headers["location"], headers=auth).json()
                if j["status"] in ("done", "failed"):
                    return f"202 → job {j['status']}"
                time.sleep(0.1)
            return "202 → job unfinished"

        kb = flac.stat().st_size // 1024
        row(f"FLAC to a pipe, 20 min, {kb} KB: request", lambda: str(verify(flac).status_code))
        row("  the same, request + job (600 s cap)", lambda: job(verify(flac)))
        small = _ffmpeg(["-f", "lavfi", "-i", "testsrc=s=64x64:r=30:d=1", "-c:v", "libx264",
                         "-preset", "ultrafast", "-f", "h264"], work / "a.h264")  # fmt: skip
        big = _ffmpeg(["-f", "lavfi", "-i", "testsrc=s=4096x2304:r=30:d=0.2", "-c:v", "libx264",
                       "-preset", "ultrafast", "-f", "h264"], work / "b.h264")  # fmt: skip
        grows = work / "grows.h264"
        grows.write_bytes(small.read_bytes() + big.read_bytes())
        row("raw H.264 64x64 → 4096x2304 midway", lambda: str(verify(grows).status_code))
        long = _ffmpeg(["-f", "lavfi", "-i", "testsrc=s=1280x720:r=30:d=300", "-c:v", "libx264",
                        "-preset", "ultrafast", "-f", "h264"], work / "long.h264")  # fmt: skip
        mb = long.stat().st_size / 1e6
        row(f"raw H.264, 5 min of 720p, no duration, {mb:.1f} MB: request",
            lambda: str(verify(long).status_code))  # fmt: skip
        row("  the same, request + job", lambda: job(verify(long)))

        def slow_headers() -> str:
            t0 = time.perf_counter()
            a = _raw(url, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ", timeout=30)
            return f"closed after {time.perf_counter() - t0:.1f} s" if a == b"" else a[:12].decode()

        row("slow headers (never finished)", slow_headers)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
    body = "\n".join(
        [
            "Each attack of docs/security.md against `provkit serve` (2 workers, SQLite, "
            "`sync_verify_max_s` 120, `max_media_duration_s` 600): the answer, the wall time of "
            "the request (and of its background job), and the peak growth of the whole server's "
            "resident memory (both workers, sampled every 20 ms) over its value before the attack.",
            "",
            "| attack | answer | seconds | peak memory growth |",
            "|---|---|---:|---:|",
            *[f"| {n.strip()} | {a} | {e:.2f} | {g:.0f} MB |" for n, a, e, g in rows],
        ]
    )
    write_section(
        "security", "Attack costs (a 2-worker server)", "python -m bench.security_costs", body
    )


if __name__ == "__main__":
    main()
