"""`provkit serve` (what `make run` runs) starts a real uvicorn process that answers /healthz."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_answers_health(tmp_path: Path) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "PROVKIT_DATA_DIR": str(tmp_path / "var"),
        "PROVKIT_PORT": str(port),
        "PYTHONPATH": str(ROOT),
    }
    env.pop("PROVKIT_DATABASE_URL", None)
    env.pop("PROVKIT_CONFIG", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "serve"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        last: Exception | None = None
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise AssertionError(f"server exited: {proc.stderr.read() if proc.stderr else ''}")
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                if r.status_code == 200:
                    break
            except httpx.HTTPError as exc:
                last = exc
            time.sleep(0.25)
        else:
            raise AssertionError(f"no answer on port {port}: {last}")
        assert r.json() == {"status": "ok"}
        ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5)
        assert ready.status_code == 200
        assert (tmp_path / "var" / "provkit.db").exists()
    finally:
        proc.terminate()
        try:
            _out, err = proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            _out, err = proc.communicate()
    # collected stderr is JSON lines only (the human banner is for a terminal), and says where
    lines = [json.loads(line) for line in err.splitlines() if line.strip()]
    assert any(f"127.0.0.1:{port}" in str(rec.get("msg", "")) for rec in lines), lines
