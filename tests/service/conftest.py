"""Fixtures for pipeline and API tests: a fresh Services on a SQLite store, short clips."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from provenance.registry.migrate import upgrade
from service.context import Services
from service.settings import Settings

SMALL = {"duration_s": 6.0, "width": 320, "height": 180, "fps": 15}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    s = Settings(data_dir=tmp_path / "var", sync_verify_max_s=60.0)
    s.data_dir.mkdir(parents=True)
    upgrade(s.db_url)
    return s


@pytest.fixture
def svc(settings: Settings) -> Iterator[Services]:
    services = Services(settings)
    yield services
    if "jobs" in services.__dict__:
        services.jobs.shutdown()


ROOT = Path(__file__).resolve().parents[2]


def provkit_env(tmp: Path, **extra: str) -> dict[str, str]:
    """Environment for a ``provkit`` subprocess with its own store under ``tmp``."""
    import os
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ,
        "PROVKIT_DATA_DIR": str(tmp / "var"),
        "PROVKIT_PORT": str(port),
        "PROVKIT_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
        **extra,
    }
    env.pop("PROVKIT_DATABASE_URL", None)
    env.pop("PROVKIT_CONFIG", None)
    return env


CLI = [__import__("sys").executable, "-m", "service.cli"]


@contextmanager
def running_server(env: dict[str, str], cwd: Path) -> Iterator[str]:
    """Run ``provkit serve`` until the block ends; yields its base URL once /readyz answers."""
    import subprocess
    import time

    import httpx

    proc = subprocess.Popen(
        [*CLI, "serve"], env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    url = f"http://127.0.0.1:{env['PROVKIT_PORT']}"
    try:
        for _ in range(240):
            if proc.poll() is not None:
                raise AssertionError(proc.stderr.read().decode() if proc.stderr else "server died")
            try:
                if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        else:
            raise AssertionError("server did not become ready")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
