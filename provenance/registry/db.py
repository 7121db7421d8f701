"""Database engine and session helpers for the provkit SQL store.

The store is the source of truth for everything provkit keeps: generation records, frame hashes,
screening decisions, certificates, anchor batches and (hashed) API keys. SQLite is the embedded
default (WAL mode, foreign keys on); PostgreSQL is used in production by URL.

Two helpers serve crash recovery. The *liveness lock* tells whether any other process uses the
store: each process that may have writes in flight holds it shared (:func:`hold_liveness`), so one
that obtains it exclusively (:func:`exclusive_liveness`) knows every half-written thing it finds
was left by a dead process. :func:`crash_point` kills the process at a named write boundary when
``PROVKIT_CRASH_AT`` names it, for crash tests.
"""

from __future__ import annotations

import fcntl
import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Connection, Engine, MetaData, create_engine, event, text
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import NullPool

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base shared by every table of the provkit store."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def normalize_url(url: str) -> str:
    """Map plain ``postgresql://`` URLs to the psycopg 3 driver SQLAlchemy expects."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine for ``url``.

    SQLite files get their parent directory created, WAL journaling and foreign keys.
    """
    url = normalize_url(url)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory bound to ``engine`` (objects stay usable after commit)."""
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commits on success, rolls back on any exception."""
    with factory() as session, session.begin():
        yield session


# -- crash recovery helpers -----------------------------------------------------------------------

#: environment variable naming the write boundary at which :func:`crash_point` kills the process
CRASH_ENV = "PROVKIT_CRASH_AT"
_crash_hits: dict[str, int] = {}
_crash_lock = threading.Lock()


def crash_point(name: str) -> None:
    """Fault injection: ``kill -9`` this process here when ``PROVKIT_CRASH_AT`` is ``name``.

    ``PROVKIT_CRASH_AT=generate.pending:3`` kills on the third time the boundary
    ``generate.pending`` is reached (counted per process). Unset (always, in production), this
    is one dictionary lookup. SIGKILL, not an exception: no ``finally`` block or rollback runs, as
    when the machine loses power or the kernel's OOM killer strikes.
    """
    spec = os.environ.get(CRASH_ENV)
    if not spec:
        return
    target, _, nth = spec.partition(":")
    if target != name:
        return
    with _crash_lock:
        _crash_hits[name] = hits = _crash_hits.get(name, 0) + 1
    if hits >= int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)


#: PostgreSQL advisory lock key of the liveness lock ("provkit" in ASCII)
LIVENESS_KEY = 0x70726F766B6974


def _liveness_file(url: str) -> Path | None:
    """``<db file>-live`` beside a SQLite file store (like its ``-wal`` and ``-shm`` files)."""
    if url.startswith("sqlite") and "///" in url:
        path = url.split("///", 1)[1].split("?", 1)[0]
        if path and path != ":memory:":
            return Path(path + "-live")
    return None


class _Held:
    """This process's shared hold on one store's liveness lock."""

    def __init__(self, url: str) -> None:
        self.url = normalize_url(url)
        self.file: IO[bytes] | None = None
        self.conn: Connection | None = None

    def ensure(self) -> None:
        if self.url.startswith("postgresql"):
            if self.conn is not None:
                try:
                    self.conn.execute(text("SELECT 1"))
                    return
                except Exception:  # the server restarted: the lock went with the session
                    self.conn.invalidate()
                    self.conn = None
            conn = _lock_engine(self.url).connect().execution_options(isolation_level="AUTOCOMMIT")
            conn.execute(text("SELECT pg_advisory_lock_shared(:k)"), {"k": LIVENESS_KEY})
            self.conn = conn
            return
        path = _liveness_file(self.url)
        if path is None or self.file is not None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        f = path.open("ab")
        fcntl.flock(f.fileno(), fcntl.LOCK_SH)  # waits while a recovery holds it exclusively
        self.file = f


_held: dict[str, _Held] = {}
_held_lock = threading.Lock()
_lock_engines: dict[str, Engine] = {}


def _lock_engine(url: str) -> Engine:
    if url not in _lock_engines:
        _lock_engines[url] = create_engine(url, poolclass=NullPool)
    return _lock_engines[url]


def hold_liveness(url: str) -> None:
    """Hold the store's liveness lock shared until this process exits (idempotent).

    Every process that may leave half-written state (a generation in flight, a queued job, a
    spooled upload) calls this before writing. The kernel (a SQLite store's ``-live`` file lock)
    or PostgreSQL (a session advisory lock) releases it when the process dies, however it dies.
    Called again, it re-takes a PostgreSQL lock lost with its connection.
    """
    with _held_lock:
        h = _held.setdefault(normalize_url(url), _Held(url))
        h.ensure()


@contextmanager
def exclusive_liveness(url: str) -> Iterator[bool]:
    """Try to take the store's liveness lock exclusively, without waiting.

    Yields ``True`` while it is held: no other process (nor this one, if it holds the lock
    shared) can have writes in flight, and processes starting meanwhile wait in
    :func:`hold_liveness`. Yields ``False`` when some process holds it, or for a store without
    one (an in-memory SQLite database, another dialect).
    """
    url = normalize_url(url)
    if url.startswith("postgresql"):
        with _lock_engine(url).connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            got = bool(conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": LIVENESS_KEY}))
            try:
                yield got
            finally:
                if got:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": LIVENESS_KEY})
        return
    path = _liveness_file(url)
    if path is None:
        yield False
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("ab") as f:
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            got = True
        except BlockingIOError:
            got = False
        try:
            yield got
        finally:
            if got:
                fcntl.flock(f.fileno(), fcntl.LOCK_UN)
