"""The change feed: O(1) staleness checks, incremental sync between index objects, crash safety.

Run on SQLite and on PostgreSQL (``db_url``). Fingerprints are random 256-bit frame hashes (a
query is the same frames with a few bits flipped), which keeps these tests fast and exact.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import event, select, text

from provenance.fingerprint import FingerprintError, FingerprintIndex, VideoFingerprint
from provenance.fingerprint import feed as feed_module
from provenance.fingerprint import index as index_module
from provenance.fingerprint.models import FingerprintChange
from provenance.registry.db import make_engine, session_factory, transaction
from provenance.registry.migrate import upgrade


def random_fp(seed: int, seconds: int = 20) -> VideoFingerprint:
    """A fingerprint of ``seconds`` random frame hashes at 1 frame/s."""
    rng = np.random.default_rng(seed)
    hashes = rng.integers(0, 256, (seconds, 32), dtype=np.uint8)
    return VideoFingerprint(
        hashes=hashes,
        times=np.arange(seconds, dtype=np.float64),
        quality=np.full(seconds, 100, np.int32),
        duration=float(seconds),
    )


def noisy_query(fp: VideoFingerprint, seed: int = 0) -> VideoFingerprint:
    """The same frames with 4 random bits flipped in each hash."""
    rng = np.random.default_rng(seed)
    bits = np.unpackbits(fp.hashes, axis=1)
    for row in bits:
        row[rng.choice(256, 4, replace=False)] ^= 1
    return VideoFingerprint(
        hashes=np.packbits(bits, axis=1), times=fp.times.copy(), quality=fp.quality.copy()
    )


def found(index: FingerprintIndex, seed: int) -> list[str]:
    return [m.video_id for m in index.search(noisy_query(random_fp(seed)))]


def feed_ids(db_url: str) -> list[int]:
    engine = make_engine(db_url)
    try:
        with engine.connect() as c:
            return [int(i) for i in c.scalars(select(FingerprintChange.id).order_by("id"))]
    finally:
        engine.dispose()


def no_full_reload(index: FingerprintIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any full reload of ``index`` from the store fail the test."""

    def boom(**_: Any) -> None:
        raise AssertionError("the index was reloaded in full")

    monkeypatch.setattr(index, "_rebuild", boom)
    monkeypatch.setattr(index, "_open", boom)


def test_two_indexes_see_each_others_adds_and_removes_incrementally(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = FingerprintIndex(db_url, tmp_path / "a.npz")
    b = FingerprintIndex(db_url, tmp_path / "b.npz")
    no_full_reload(a, monkeypatch)
    no_full_reload(b, monkeypatch)
    a.add("v1", random_fp(1))
    assert not b.is_current()
    assert b.refresh() == "synced" and b.is_current()
    assert found(b, 1) == ["v1"] and b.n_frames == a.n_frames == 20
    b.add_many([("v2", random_fp(2)), ("v3", random_fp(3))])
    assert a.refresh() == "synced"
    assert found(a, 2) == ["v2"] and found(a, 3) == ["v3"]
    # b's own entries are already applied: nothing is loaded twice
    assert b.refresh() == "current" and b.n_frames == 60
    assert a.remove("v2") == 20
    assert b.refresh() == "synced"
    assert found(b, 2) == [] and found(b, 1) == ["v1"] and b.n_frames == 40
    assert "v2" not in b.videos()
    # added then removed between two looks: nothing to load, nothing left
    a.add("v4", random_fp(4))
    a.remove("v4")
    assert b.refresh() == "synced" and found(b, 4) == [] and b.n_frames == 40
    assert a.cursor == b.cursor == feed_ids(db_url)[-1]
    a.close()
    b.close()


def test_staleness_check_reads_only_the_feed_head(db_url: str, tmp_path: Path) -> None:
    index = FingerprintIndex(db_url, tmp_path / "fp.npz")
    index.add("v1", random_fp(1))
    statements: list[str] = []

    def record(_c: Any, _cur: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(index._engine, "before_cursor_execute", record)
    try:
        assert index.refresh() == "current"
    finally:
        event.remove(index._engine, "before_cursor_execute", record)
    queries = [q for q in statements if q.lstrip().upper().startswith("SELECT")]
    assert len(queries) == 1
    assert "fingerprint_changes" in queries[0] and "fingerprint_frames" not in queries[0]
    index.close()


def test_rolled_back_write_leaves_no_feed_entry(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = FingerprintIndex(db_url, tmp_path / "fp.npz")
    other = FingerprintIndex(db_url, tmp_path / "other.npz")
    index.add("v1", random_fp(1))
    other.refresh()
    before = feed_ids(db_url)
    real_append = feed_module.append

    def append_then_fail(session: Any, changes: Any) -> list[int]:
        ids = real_append(session, changes)
        assert ids, "the entry was appended inside the transaction"
        raise RuntimeError("the process fails before commit")

    monkeypatch.setattr(index_module.feed, "append", append_then_fail)
    with pytest.raises(RuntimeError, match="before commit"):
        index.add("v2", random_fp(2))
    with pytest.raises(RuntimeError, match="before commit"):
        index.remove("v1")
    monkeypatch.undo()
    with pytest.raises(FingerprintError, match="already registered"):
        index.add("v1", random_fp(1))
    assert feed_ids(db_url) == before
    assert set(index.videos()) == {"v1"}
    assert other.refresh() == "current" and found(other, 1) == ["v1"]
    # the failed add reached neither index's search
    assert found(index, 2) == [] and index.n_frames == 20
    index.close()
    other.close()


def test_file_behind_the_store_is_brought_forward(db_url: str, tmp_path: Path) -> None:
    writer = FingerprintIndex(db_url, tmp_path / "w.npz", autosave=False)
    reader = FingerprintIndex(db_url, tmp_path / "r.npz")
    writer.add("v1", random_fp(1))
    reader.refresh()
    reader.save()
    for seed in (2, 3):
        writer.add(f"v{seed}", random_fp(seed))
    writer.remove("v1")
    reopened = FingerprintIndex(db_url, tmp_path / "r.npz")
    assert reopened.loaded_from == "file"
    assert found(reopened, 1) == [] and found(reopened, 3) == ["v3"] and reopened.n_frames == 40
    writer.close()
    reader.close()
    reopened.close()


def test_migration_writes_existing_videos_into_the_feed(empty_db_url: str) -> None:
    upgrade(empty_db_url, "0002_fingerprints")
    engine = make_engine(empty_db_url)
    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO fingerprint_videos (video_id, duration_s, n_frames, created_at) "
                "VALUES ('old1', 1.0, 0, CURRENT_TIMESTAMP), ('old2', 1.0, 0, CURRENT_TIMESTAMP)"
            )
        )
    upgrade(empty_db_url)
    with engine.connect() as c:
        rows = c.execute(text("SELECT video_pk, op FROM fingerprint_changes ORDER BY id")).all()
        pks = c.scalars(text("SELECT id FROM fingerprint_videos ORDER BY id")).all()
    engine.dispose()
    assert [(int(p), int(o)) for p, o in rows] == [(int(p), 1) for p in pks]


def test_feed_ids_follow_commit_order_on_postgres(pg_url: str) -> None:
    """A second writer waits for the first one's commit before drawing its entry's id."""
    upgrade(pg_url)
    engine = make_engine(pg_url)
    sessions = session_factory(engine)
    first = sessions()
    first.begin()
    first_ids = feed_module.append(first, [(101, feed_module.ADD)])
    second_ids: list[int] = []

    def second_writer() -> None:
        with transaction(sessions) as s:
            second_ids.extend(feed_module.append(s, [(102, feed_module.ADD)]))

    worker = threading.Thread(target=second_writer)
    worker.start()
    time.sleep(0.5)
    assert worker.is_alive(), "the second append did not wait for the first transaction"
    first.commit()
    first.close()
    worker.join(timeout=10)
    assert not worker.is_alive() and second_ids[0] > first_ids[0]
    engine.dispose()


def test_saved_cursor_holds_across_session_time_zones(pg_url: str, tmp_path: Path) -> None:
    """A feed entry's check reads the same whatever time zone a worker's sessions use."""
    upgrade(pg_url)
    path = tmp_path / "fp.npz"
    first = FingerprintIndex(pg_url, path)
    first.add("v1", random_fp(1))
    first.save()
    first.close()
    tokyo = make_engine(pg_url, connect_args={"options": "-c TimeZone=Asia/Tokyo"})
    second = FingerprintIndex(pg_url, path, engine=tokyo)
    assert second.loaded_from == "file" and found(second, 1) == ["v1"]
    second.close()
    tokyo.dispose()


def test_concurrent_writers_are_all_seen(db_url: str, tmp_path: Path) -> None:
    """Two index objects registering at once from two threads: every index ends with all ten."""
    a = FingerprintIndex(db_url, tmp_path / "a.npz")
    b = FingerprintIndex(db_url, tmp_path / "b.npz")
    reader = FingerprintIndex(db_url, tmp_path / "r.npz")
    errors: list[BaseException] = []

    def register(index: FingerprintIndex, seeds: range) -> None:
        try:
            for seed in seeds:
                index.add(f"v{seed}", random_fp(seed))
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [
        threading.Thread(target=register, args=(a, range(0, 5))),
        threading.Thread(target=register, args=(b, range(5, 10))),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    for index in (a, b, reader):
        index.refresh()
        assert index.n_frames == 200 and index.cursor == feed_ids(db_url)[-1]
        assert all(found(index, seed) == [f"v{seed}"] for seed in range(10))
        index.close()


def test_searches_go_on_while_a_registration_writes(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store's transaction runs outside the index lock: a search in the same process is
    answered while a registration is still writing (before, it waited for the commit)."""
    index = FingerprintIndex(db_url, tmp_path / "i.npz")
    index.add("v1", random_fp(1))
    writing, release = threading.Event(), threading.Event()
    real = index._insert

    def slow_insert(s: Any, video_id: str, fp: VideoFingerprint) -> Any:
        writing.set()
        assert release.wait(30)
        return real(s, video_id, fp)

    monkeypatch.setattr(index, "_insert", slow_insert)
    writer = threading.Thread(target=index.add, args=("v2", random_fp(2)))
    writer.start()
    try:
        assert writing.wait(30)
        t0 = time.perf_counter()
        assert found(index, 1) == ["v1"]  # answered while v2's transaction is open
        assert time.perf_counter() - t0 < 5 and not release.is_set()
    finally:
        release.set()
        writer.join(timeout=30)
    assert found(index, 2) == ["v2"] and index.n_frames == 40
    # its own entry is applied once, whoever reads the feed first
    assert index.refresh() == "current" and index.cursor == feed_ids(db_url)[-1]
    index.close()


def test_a_refresh_between_commit_and_apply_loads_the_rows_once(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another thread's refresh may read a registration's feed entry after its commit and
    before the registering thread applies it: the rows are indexed once, not twice."""
    index = FingerprintIndex(db_url, tmp_path / "i.npz")
    index.add("v1", random_fp(1))
    real = feed_module.append

    def append_then_refresh(session: Any, changes: Any) -> list[int]:
        ids = real(session, changes)
        session.commit()  # the entry is visible to other readers now
        index.refresh()  # a concurrent search's refresh reads it back from the store
        return ids

    monkeypatch.setattr(index_module.feed, "append", append_then_refresh)
    index.add("v2", random_fp(2))
    assert index.n_frames == 40 and index._hash.ntotal == 40 and len(index._rows) == 40
    assert found(index, 2) == ["v2"] and found(index, 1) == ["v1"]
    index.close()
