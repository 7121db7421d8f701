"""The generation registry on SQLite and PostgreSQL: records, migrations, crash safety."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import inspect

from provenance.registry import (
    MediaHash,
    Registry,
    RegistryError,
    downgrade,
    is_up_to_date,
    make_engine,
    parse_mark_id,
    upgrade,
)
from provenance.registry.migrate import current_revisions, head_revisions
from provenance.registry.store import to_signed64

ROOT = Path(__file__).resolve().parents[2]
SHA = hashlib.sha256(b"media").hexdigest()


def test_record_roundtrip(db_url: str) -> None:
    reg = Registry(make_engine(db_url))
    gen = reg.create(
        user_id="u1",
        model="ref-gen-1",
        prompt="a calm piano piece",
        preset_id="p9",
        media=[MediaHash("audio", "track.wav", SHA)],
    )
    assert 0 <= gen.mark_id < 1 << 64
    assert len(gen.mark_hex) == 16
    got = reg.by_mark_id(gen.mark_id)
    assert got is not None
    assert got.id == gen.id
    assert got.prompt_sha256 == hashlib.sha256(b"a calm piano piece").hexdigest()
    assert got.prompt_length == len("a calm piano piece")
    assert got.disclosure == "ai-generated"
    assert [m.sha256 for m in got.media] == [SHA]
    assert [g.id for g in reg.by_media_sha256(SHA)] == [gen.id]
    assert reg.by_mark_id((gen.mark_id + 1) % (1 << 64)) is None


def test_high_mark_ids_survive_signed_bigint(db_url: str) -> None:
    reg = Registry(make_engine(db_url))
    for mid in (0, 1, (1 << 63) - 1, 1 << 63, (1 << 64) - 1):
        gen = reg.create(user_id="u", model="m", prompt="p", mark_id=mid)
        assert reg.by_mark_id(mid) is not None
        assert gen.mark_id == mid


def test_duplicate_mark_id_rejected_and_nothing_lost(db_url: str) -> None:
    reg = Registry(make_engine(db_url))
    reg.create(user_id="u", model="m", prompt="p", mark_id=42)
    with pytest.raises(RegistryError, match="already registered"):
        reg.create(user_id="v", model="m", prompt="q", mark_id=42)
    assert reg.count() == 1
    rec = reg.by_mark_id(42)
    assert rec is not None
    assert rec.user_id == "u"


def test_bad_media_rolls_back_whole_record(db_url: str) -> None:
    reg = Registry(make_engine(db_url))
    with pytest.raises(RegistryError):
        reg.create(user_id="u", model="m", prompt="p", media=[MediaHash("audio", "x", "zz")])
    with pytest.raises(RegistryError):
        reg.create(user_id="u", model="m", prompt="p", media=[MediaHash("hologram", "x", SHA)])
    assert reg.count() == 0


def test_delete_cascades_media(db_url: str) -> None:
    reg = Registry(make_engine(db_url))
    gen = reg.create(user_id="u", model="m", prompt="p", media=[MediaHash("video", "v.mp4", SHA)])
    assert reg.delete(gen.id)
    assert not reg.delete(gen.id)
    assert reg.by_media_sha256(SHA) == []


def test_migrations_up_and_down(empty_db_url: str) -> None:
    engine = make_engine(empty_db_url)
    assert current_revisions(engine) == set()
    assert not is_up_to_date(empty_db_url)
    upgrade(empty_db_url)
    assert current_revisions(engine) == head_revisions()
    assert is_up_to_date(empty_db_url)
    assert {"generations", "media", "api_keys"} <= set(inspect(engine).get_table_names())
    downgrade(empty_db_url, "base")
    assert current_revisions(engine) == set()
    assert not {"generations", "media", "api_keys"} & set(
        inspect(make_engine(empty_db_url)).get_table_names()
    )
    upgrade(empty_db_url)  # and up again
    assert is_up_to_date(empty_db_url)


def test_sqlite_uses_wal(sqlite_db_url: str) -> None:
    engine = make_engine(sqlite_db_url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


_WRITER = textwrap.dedent(
    """
    import sys, time, hashlib
    from provenance.registry import make_engine, session_factory
    from provenance.registry.models import Generation, Media
    from datetime import datetime, UTC
    engine = make_engine(sys.argv[1])
    factory = session_factory(engine)
    s = factory()
    s.begin()
    now = datetime.now(UTC)
    for i in range(50):
        g = Generation(mark_id_signed=1000 + i, user_id="killed", model="m", created_at=now,
                       prompt_sha256="0" * 64, prompt_length=1, disclosure="d")
        g.media = [Media(kind="audio", name="a", sha256="1" * 64, created_at=now)]
        s.add(g)
    s.flush()
    print("flushed", flush=True)
    time.sleep(60)
    """
)


def test_killed_writer_loses_nothing_committed(db_url: str) -> None:
    reg = Registry(make_engine(db_url))
    kept = reg.create(user_id="before", model="m", prompt="p", media=[MediaHash("audio", "a", SHA)])
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", _WRITER, db_url], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.strip() == "flushed", line
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    time.sleep(0.2)
    fresh = Registry(make_engine(db_url))
    assert fresh.count() == 1
    rec = fresh.by_mark_id(kept.mark_id)
    assert rec is not None
    assert [m.sha256 for m in rec.media] == [SHA]
    assert fresh.by_mark_id(1000) is None
    # the store still takes writes after the crash
    fresh.create(user_id="after", model="m", prompt="p")
    assert fresh.count() == 2
    if db_url.startswith("sqlite"):
        with make_engine(db_url).connect() as conn:
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"


@given(st.integers(min_value=0, max_value=(1 << 64) - 1))
def test_signed_mapping_is_a_bijection(value: int) -> None:
    signed = to_signed64(value)
    assert -(1 << 63) <= signed < 1 << 63
    assert signed & ((1 << 64) - 1) == value
    assert parse_mark_id(f"{value:016x}") == value


@pytest.mark.parametrize("text", ["", "123", "g" * 16, "0" * 17, "0x" + "0" * 14])
def test_parse_mark_id_rejects(text: str) -> None:
    with pytest.raises(RegistryError):
        parse_mark_id(text)
