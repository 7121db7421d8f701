"""Shared fixtures: a fresh, migrated store on SQLite and on a real PostgreSQL server.

PostgreSQL comes from 127.0.0.1:5432 (trust auth). When nothing answers there,
``scripts/ensure_postgres.sh`` installs Debian's package and starts it. PostgreSQL tests are
skipped only when that fails, with a loud message.
"""

from __future__ import annotations

import os
import subprocess
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# Deterministic property tests: the same examples on every run and machine.
settings.register_profile(
    "provkit",
    derandomize=True,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "provkit"))

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("PROVKIT_SHARED_DATA", ROOT.parent / "shared" / "data"))
PG_HOST = os.environ.get("PROVKIT_TEST_PG_HOST", "127.0.0.1")
PG_USER = os.environ.get("PROVKIT_TEST_PG_USER", "postgres")

_pg_state: dict[str, object] = {}


def _pg_available() -> str | None:
    """None when PostgreSQL answers, else the reason it does not."""
    if "reason" in _pg_state:
        return _pg_state["reason"]  # type: ignore[return-value]
    reason: str | None = None
    try:
        import psycopg
    except ImportError:
        reason = "psycopg is not installed"
    else:
        try:
            psycopg.connect(
                host=PG_HOST, user=PG_USER, dbname="postgres", connect_timeout=3
            ).close()
        except Exception:
            proc = subprocess.run(
                ["bash", str(ROOT / "scripts" / "ensure_postgres.sh")],
                capture_output=True,
                text=True,
                timeout=600,
            )
            try:
                psycopg.connect(
                    host=PG_HOST, user=PG_USER, dbname="postgres", connect_timeout=3
                ).close()
            except Exception as exc:
                reason = f"PostgreSQL unavailable ({exc}); setup said: {proc.stderr.strip()}"
    if reason:
        msg = f"\n\n*** POSTGRESQL TESTS SKIPPED: {reason} ***\n"
        warnings.warn(msg, stacklevel=1)
        print(msg)
    _pg_state["reason"] = reason
    return reason


@contextmanager
def fresh_pg_database() -> Iterator[str]:
    """URL of a new, empty PostgreSQL database, dropped afterwards (skips when none answers)."""
    reason = _pg_available()
    if reason:
        pytest.skip(f"*** POSTGRESQL TESTS SKIPPED: {reason} ***")
    import psycopg

    name = f"provkit_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(host=PG_HOST, user=PG_USER, dbname="postgres", autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://{PG_USER}@{PG_HOST}:5432/{name}"
    finally:
        with psycopg.connect(host=PG_HOST, user=PG_USER, dbname="postgres", autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_url() -> Iterator[str]:
    """URL of a fresh, empty PostgreSQL database, dropped afterwards."""
    with fresh_pg_database() as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """URL of a fresh SQLite file."""
    return f"sqlite:///{tmp_path / 'provkit.db'}"


@pytest.fixture(params=["sqlite", "postgres"])
def empty_db_url(request: pytest.FixtureRequest) -> str:
    """A fresh, empty store: once on SQLite, once on PostgreSQL."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def db_url(empty_db_url: str) -> str:
    """A fresh store with every migration applied, the service's included (SQLite and
    PostgreSQL)."""
    from service.schema import upgrade

    upgrade(empty_db_url)
    return empty_db_url


@pytest.fixture
def sqlite_db_url(sqlite_url: str) -> str:
    """A fresh migrated SQLite store (for tests that need only one backend)."""
    from service.schema import upgrade

    upgrade(sqlite_url)
    return sqlite_url


@pytest.fixture
def shared_data() -> Path:
    """``../shared/data``; tests that need it skip with a clear message when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared reference data not found at {SHARED_DATA} (set PROVKIT_SHARED_DATA)")
    return SHARED_DATA
