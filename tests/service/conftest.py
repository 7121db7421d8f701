"""Fixtures for pipeline and API tests: a fresh Services on a SQLite store, short clips."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.context import Services
from service.schema import upgrade
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


@pytest.fixture
def client(settings: Settings) -> TestClient:
    """The app on ``settings`` through Starlette's test client (no server process)."""
    return TestClient(create_app(settings))


def key_headers(client: TestClient, *scopes: str) -> dict[str, str]:
    """Headers carrying a new API key with ``scopes``, created in the client's store."""
    key, _ = client.app.state.services.keys.create(list(scopes))  # type: ignore[attr-defined]
    return {"X-API-Key": key}


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
def running_server(env: dict[str, str], cwd: Path, log: Path | None = None) -> Iterator[str]:
    """Run ``provkit serve`` until the block ends; yields its base URL once /readyz answers.

    With ``log``, the server's stderr (its JSON log) goes to that file.
    """
    import subprocess
    import time

    import httpx

    err = log.open("wb") if log is not None else subprocess.PIPE
    proc = subprocess.Popen(
        [*CLI, "serve"], env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=err
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
        if log is not None:
            err.close()  # type: ignore[union-attr]


def media_tool(name: str) -> str:
    """A media tool (``ffmpeg``, ``chromium``), installed from Debian's packages when missing;
    skips loudly when that is impossible."""
    import shutil
    import subprocess

    # the script returns at once when the tool (and, for chromium, its CJK font) is present
    subprocess.run(["bash", str(ROOT / "scripts" / "ensure_media_tools.sh"), name], check=False)
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"*** {name} unavailable and could not be installed: test skipped ***")
    return path


def ffmpeg_path() -> str:
    """ffmpeg (see :func:`media_tool`)."""
    return media_tool("ffmpeg")


def admin_key(env: dict[str, str], cwd: Path) -> str:
    """A new admin API key in the store ``env`` names, made with the CLI."""
    import json
    import subprocess

    out = subprocess.run(
        [*CLI, "keys", "create", "--scope", "admin", "--json"],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return str(json.loads(out)["key"])
