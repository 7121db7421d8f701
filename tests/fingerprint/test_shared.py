"""The shared local index: one mapped file per machine, private deltas, folding, same results.

Fingerprints are random 256-bit frame hashes plus near copies of them (a few bits flipped), so
queries find several candidates at different distances and the k-nearest cut and the vote have
something to decide. Every comparison is against the in-memory (private) index on the same store.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from provenance.fingerprint import FingerprintIndex, VideoFingerprint, mapfile
from provenance.fingerprint.errors import FingerprintError
from provenance.fingerprint.faiss_index import HashIndex
from provenance.fingerprint.matching import VideoMatch
from provenance.fingerprint.rowtable import RowTable
from provenance.fingerprint.shared import MappedHashIndex, base_arrays


def _flip(h: npt.NDArray[np.uint8], bits: int, rng: np.random.Generator) -> npt.NDArray[np.uint8]:
    unpacked = np.unpackbits(h, axis=1)
    for row in unpacked:
        row[rng.choice(256, bits, replace=False)] ^= 1
    return np.packbits(unpacked, axis=1)


def _fp(hashes: npt.NDArray[np.uint8]) -> VideoFingerprint:
    n = len(hashes)
    return VideoFingerprint(
        hashes=hashes,
        times=np.arange(n, dtype=np.float64),
        quality=np.full(n, 100, np.int32),
        duration=float(n),
    )


def _videos(seed: int, count: int) -> list[tuple[str, VideoFingerprint]]:
    """``count`` videos of 12 frames: every third one a near copy (6-20 bits) of the one before."""
    rng = np.random.default_rng(seed)
    out: list[tuple[str, VideoFingerprint]] = []
    prev = rng.integers(0, 256, (12, 32), dtype=np.uint8)
    for i in range(count):
        h = (
            _flip(prev, int(rng.integers(6, 21)), rng)
            if i % 3 == 2
            else rng.integers(0, 256, (12, 32), dtype=np.uint8)
        )
        out.append((f"v{seed}-{i}", _fp(h)))
        prev = h
    return out


def _queries(items: list[tuple[str, VideoFingerprint]], seed: int) -> list[VideoFingerprint]:
    """Noisy excerpts of registered videos, some spliced from two videos."""
    rng = np.random.default_rng(seed)
    out = []
    for j in range(0, len(items), 4):
        a = items[j][1].hashes[2:10]
        b = items[(j + 5) % len(items)][1].hashes[:6]
        out.append(_fp(_flip(np.concatenate([a, b]), int(rng.integers(2, 14)), rng)))
    return out


def _results(index: FingerprintIndex, queries: list[VideoFingerprint]) -> list[list[VideoMatch]]:
    index.refresh()
    return [index.search(q, vote_threshold=60) for q in queries]


def _store(request: pytest.FixtureRequest, kind: str) -> str:
    """A migrated store: SQLite, or a fresh PostgreSQL database."""
    if kind == "sqlite":
        return str(request.getfixturevalue("sqlite_db_url"))
    from service.schema import upgrade

    url = str(request.getfixturevalue("pg_url"))
    upgrade(url)
    return url


@pytest.mark.parametrize(
    ("store", "approx_min"), [("sqlite", 1_000_000), ("sqlite", 50), ("postgres", 50)]
)
def test_shared_index_gives_the_same_results_as_the_in_memory_one(
    request: pytest.FixtureRequest, tmp_path: Path, store: str, approx_min: int
) -> None:
    db_url = _store(request, store)
    first = _videos(1, 30)
    writer = FingerprintIndex(db_url, tmp_path / "w.npz", approx_min=approx_min)
    writer.add_many(first)
    private = FingerprintIndex(db_url, tmp_path / "p.npz", approx_min=approx_min)
    shared = FingerprintIndex(
        db_url, tmp_path / "s.npz", approx_min=approx_min, shared=True, fold_rows=10_000
    )
    assert shared.shared_path == tmp_path / "s.map" and shared.loaded_from == "rebuilt"
    assert shared.kind == private.kind == ("flat" if approx_min > 1000 else "mih")
    queries = _queries(first, 7)
    expect = _results(private, queries)
    assert sum(len(r) for r in expect) >= len(queries)  # the queries find their sources
    assert _results(shared, queries) == expect

    # changes made elsewhere: held in the shared index's private delta, then folded
    second = _videos(2, 12)
    writer.add_many(second)
    gone = [first[4][0], first[9][0], second[1][0]]
    for name in gone:
        writer.remove(name)
    identity = mapfile.identity(tmp_path / "s.map")
    queries += _queries(second, 8)
    expect = _results(private, queries)
    assert {m.video_id for r in expect for m in r} >= {first[5][0], second[4][0]}
    for stage in ("delta", "folded"):
        got = _results(shared, queries)
        assert got == expect, stage
        assert not {m.video_id for r in got for m in r} & set(gone)
        assert all(not m.video_id.startswith("#") for r in got for m in r)
        assert shared.n_frames == private.n_frames
        assert (mapfile.identity(tmp_path / "s.map") == identity) == (stage == "delta")
        shared.save()  # folds the delta into a new shared file
    for index in (writer, private, shared):
        index.close()


def test_workers_share_one_file_and_follow_each_others_folds(
    sqlite_db_url: str, tmp_path: Path
) -> None:
    db_url = sqlite_db_url
    items = _videos(3, 24)
    a = FingerprintIndex(db_url, tmp_path / "fp.npz", shared=True, fold_rows=60)
    a.add_many(items[:12])
    b = FingerprintIndex(db_url, tmp_path / "fp.npz", shared=True, fold_rows=60)
    assert b.loaded_from == "file"  # mapped what `a` wrote, not rebuilt
    private = FingerprintIndex(db_url, tmp_path / "p.npz")
    for name, fp in items[12:]:  # 12 rows each: `a` folds every fifth video
        a.add(name, fp)
    queries = _queries(items, 11)
    assert _results(b, queries) == _results(private, queries) == _results(a, queries)
    # b mapped a's newest file: both map the same inode, so its pages are held once
    assert b._map_identity == a._map_identity == mapfile.identity(tmp_path / "fp.map")
    # b's next registration lands in its delta and reaches a through the feed
    late = _videos(9, 1)[0][1]
    b.add("late", late)
    assert a.refresh() == "synced"
    assert [m.video_id for m in a.search(late)] == ["late"]
    for index in (a, b, private):
        index.close()


def test_unusable_shared_file_is_rebuilt(sqlite_db_url: str, tmp_path: Path) -> None:
    items = _videos(4, 6)
    with FingerprintIndex(sqlite_db_url, tmp_path / "fp.npz", shared=True) as a:
        a.add_many(items)
        a.save()
    path = tmp_path / "fp.map"
    path.write_bytes(path.read_bytes()[:5000])  # truncated
    with FingerprintIndex(sqlite_db_url, tmp_path / "fp.npz", shared=True) as b:
        assert b.loaded_from == "rebuilt" and b.n_frames == 72
        assert [m.video_id for m in b.search(items[3][1])][:1] == [items[3][0]]
    # a file of another store is not trusted
    other = f"sqlite:///{tmp_path / 'other.db'}"
    from service.schema import upgrade

    upgrade(other)
    with FingerprintIndex(other, tmp_path / "fp.npz", shared=True) as c:
        assert c.loaded_from == "rebuilt" and c.n_frames == 0


def test_mapped_file_round_trip_is_read_only(tmp_path: Path) -> None:
    arrays: dict[str, npt.NDArray[Any]] = {
        "a": np.arange(5000, dtype=np.int64),
        "b": np.ones((3, 32), np.uint8),
        "empty": np.zeros(0, np.float32),
    }
    mapfile.write(tmp_path / "x.map", arrays, {"cursor": 3})
    mf = mapfile.open_file(tmp_path / "x.map")
    assert mf.meta == {"cursor": 3}
    for name, arr in arrays.items():
        assert np.array_equal(mf.arrays[name], arr) and mf.arrays[name].dtype == arr.dtype
    assert not mf.arrays["a"].flags.writeable
    assert mf.arrays["a"].ctypes.data % 4096 == 0  # arrays start on a page
    assert mf.touch() == 5000 * 8 + 96
    assert not list(tmp_path.glob("*.tmp"))
    (tmp_path / "junk.map").write_bytes(b"not an index" * 10)
    with pytest.raises(FingerprintError):
        mapfile.open_file(tmp_path / "junk.map")
    assert mapfile.identity(tmp_path / "missing") is None
    assert os.stat(tmp_path / "x.map").st_size % 4096 == 0


@pytest.mark.parametrize("approx_min", [10**9, 100])
def test_mapped_engine_matches_the_in_memory_engine(approx_min: int) -> None:
    rng = np.random.default_rng(5)
    base = rng.integers(0, 256, (3000, 32), dtype=np.uint8)
    base[1::2] = _flip(base[::2], 9, rng)  # near pairs
    ids = np.arange(3000, dtype=np.int64) * 2 + 1
    kind, arrays = base_arrays(base, ids, approx_min=approx_min)
    engine, reference = MappedHashIndex(kind, arrays), HashIndex(approx_min=approx_min)
    reference.build(base, ids)
    extra = _flip(base[:200], 5, rng)
    extra_ids = np.arange(200, dtype=np.int64) * 2 + 10_000
    for e in (engine, reference):
        e.add(extra, extra_ids)
        assert e.remove(np.r_[ids[10:40], extra_ids[:5], 999_999]) == 35
    queries = _flip(np.concatenate([base[:150], extra[:50]]), 3, rng)
    for k in (1, 3, 8):
        got, want = engine.search(queries, k, 40), reference.search(queries, k, 40)
        for part in range(3):
            assert np.array_equal(got[part], want[part])
    assert engine.ntotal == reference.ntotal == 3165
    _codes, merged_ids = engine.merged_codes()
    assert len(merged_ids) == 3165 and bool(np.all(np.diff(merged_ids) > 0))


def test_row_table_lookups_follow_adds_and_removals() -> None:
    ids = np.arange(1, 101, dtype=np.int64) * 3
    rows = RowTable(ids, (ids // 30).astype(np.int32), ids.astype(np.float32))
    rows.append(
        np.array([400, 401], np.int64), np.array([50, 50], np.int32), np.ones(2, np.float32)
    )
    dropped = rows.drop_videos(np.array([1, 50], np.int64))
    assert sorted(dropped.tolist()) == [30, 33, 36, 39, 42, 45, 48, 51, 54, 57, 400, 401]
    ok, vpk, t = rows.lookup(np.array([3, 30, 60, 400, 7], np.int64))
    assert ok.tolist() == [True, False, True, False, False]
    assert vpk[[0, 2]].tolist() == [0, 2] and t[2] == 60.0
    assert len(rows) == 90 and rows.pending == 10
    merged = rows.merged()
    rows.fold()
    assert rows.pending == 0 and np.array_equal(rows.base_ids, merged[0])
    assert 1 not in rows.videos() and 2 in rows.videos()
