"""FingerprintIndex: store + FAISS, temporal matching, persistence, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from provenance.fingerprint import (
    FingerprintError,
    FingerprintIndex,
    HashIndex,
    VideoFingerprint,
    fingerprint_video,
)
from provenance.fingerprint.index import QUERY_SAMPLE_FPS
from provenance.fingerprint.matching import vote
from provenance.registry.migrate import upgrade

from .conftest import FPS, Frames, write_frames


def _query(path: Path) -> VideoFingerprint:
    return fingerprint_video(path, sample_fps=QUERY_SAMPLE_FPS)


@pytest.fixture
def registered(
    db_url: str, tmp_path: Path, source_video: Callable[[int], Path]
) -> FingerprintIndex:
    index = FingerprintIndex(db_url, tmp_path / "fp.npz")
    for seed in (1, 2, 3):
        assert index.add(f"s{seed}", fingerprint_video(source_video(seed))) >= 16
    return index


def test_excerpt_is_traced_with_its_offset(
    registered: FingerprintIndex,
    tmp_path: Path,
    source_frames: Callable[[int, float], Frames],
) -> None:
    start = round(5.4 * FPS)
    clip = write_frames(tmp_path / "clip.mp4", source_frames(2, 16.0)[start : start + 7 * FPS])
    matches = registered.search(_query(clip))
    assert matches, "the excerpt was not found"
    best = matches[0]
    assert best.video_id == "s2"
    assert abs(best.offset_s - start / FPS) <= 0.5
    assert best.score >= 0.8
    assert not best.mirrored
    assert best.query_range[0] <= 1.0 and best.query_range[1] >= 5.5
    assert abs(best.ref_range[0] - best.query_range[0] - best.offset_s) <= 1.0
    assert all(m.video_id == "s2" for m in matches)


def test_unrelated_video_matches_nothing(
    registered: FingerprintIndex, source_video: Callable[[int], Path]
) -> None:
    assert registered.search(_query(source_video(9))) == []


def test_compilation_of_two_sources(
    registered: FingerprintIndex,
    tmp_path: Path,
    source_frames: Callable[[int, float], Frames],
) -> None:
    a = source_frames(1, 16.0)[3 * FPS : 9 * FPS]
    b0 = round(8.2 * FPS)
    b = source_frames(3, 16.0)[b0 : b0 + 6 * FPS]
    clip = write_frames(tmp_path / "comp.mp4", a + b)
    matches = {m.video_id: m for m in registered.search(_query(clip))}
    assert set(matches) == {"s1", "s3"}
    assert abs(matches["s1"].offset_s - 3.0) <= 0.5
    assert abs(matches["s3"].offset_s - (8.2 - 6.0)) <= 0.5
    assert matches["s1"].query_range[1] < 6.5 and matches["s3"].query_range[0] >= 5.5
    assert 0.3 <= matches["s1"].score <= 0.7


def test_mirrored_copy_is_found(
    registered: FingerprintIndex,
    tmp_path: Path,
    source_frames: Callable[[int, float], Frames],
) -> None:
    frames = [f[:, ::-1].copy() for f in source_frames(3, 16.0)[2 * FPS : 10 * FPS]]
    clip = write_frames(tmp_path / "flip.mp4", frames)
    matches = registered.search(_query(clip))
    assert matches and matches[0].video_id == "s3" and matches[0].mirrored
    assert abs(matches[0].offset_s - 2.0) <= 0.5
    assert registered.search(_query(clip), mirror=False) == []


def test_remove_deletes_from_search_and_store(
    registered: FingerprintIndex, db_url: str, tmp_path: Path, source_video: Callable[[int], Path]
) -> None:
    q = _query(source_video(2))
    assert registered.search(q)[0].video_id == "s2"
    n = registered.remove("s2")
    assert n >= 16
    assert all(m.video_id != "s2" for m in registered.search(q))
    assert "s2" not in registered.videos()
    reopened = FingerprintIndex(db_url, tmp_path / "fp.npz")
    assert reopened.loaded_from == "file"
    assert reopened.n_frames == registered.n_frames
    assert reopened.search(q) == []
    with pytest.raises(FingerprintError, match="not registered"):
        registered.remove("s2")


def test_index_file_is_reused_rebuilt_when_missing_corrupt_or_stale(
    registered: FingerprintIndex, db_url: str, tmp_path: Path, source_video: Callable[[int], Path]
) -> None:
    path = tmp_path / "fp.npz"
    q = _query(source_video(1))
    expected = registered.search(q)
    assert expected and path.is_file()

    again = FingerprintIndex(db_url, path)
    assert again.loaded_from == "file" and again.search(q) == expected

    path.unlink()
    assert FingerprintIndex(db_url, path).loaded_from == "rebuilt"
    assert path.is_file()

    path.write_bytes(b"this is not an index")
    fresh = FingerprintIndex(db_url, path)
    assert fresh.loaded_from == "rebuilt" and fresh.search(q) == expected

    # another writer changes the store without saving the file: the file is behind the store,
    # and is brought forward from the change feed (not rebuilt)
    other = FingerprintIndex(db_url, tmp_path / "elsewhere.npz", autosave=False)
    other.add("s4", fingerprint_video(source_video(4)))
    stale = FingerprintIndex(db_url, path)
    assert stale.loaded_from == "file" and stale.cursor == other.cursor
    assert stale.search(_query(source_video(4)))[0].video_id == "s4"
    # an open index notices on refresh, and applies only the new entry
    assert registered.refresh() == "synced"
    assert registered.search(_query(source_video(4)))[0].video_id == "s4"
    assert registered.refresh() == "current"

    # a file saved against another store (same feed position, other entry) is not trusted
    elsewhere = tmp_path / "other.db"
    if db_url.startswith("sqlite"):
        upgrade(f"sqlite:///{elsewhere}")
        foreign = FingerprintIndex(f"sqlite:///{elsewhere}", path)
        assert foreign.loaded_from == "rebuilt" and foreign.n_frames == 0
        foreign.close()


def test_add_is_all_or_nothing(
    registered: FingerprintIndex, source_video: Callable[[int], Path]
) -> None:
    fp = fingerprint_video(source_video(5))
    before = (registered.videos(), registered.n_frames)
    with pytest.raises(FingerprintError, match="already registered"):
        registered.add_many([("s5", fp), ("s1", fp)])
    with pytest.raises(FingerprintError, match="twice"):
        registered.add_many([("x", fp), ("x", fp)])
    with pytest.raises(FingerprintError, match="video id"):
        registered.add(" padded ", fp)
    with pytest.raises(FingerprintError, match="video id"):
        registered.add("", fp)
    assert (registered.videos(), registered.n_frames) == before


@pytest.mark.parametrize("approx", ["mih", "ivf"])
def test_approximate_index_above_threshold(
    db_url: str, tmp_path: Path, source_video: Callable[[int], Path], approx: str
) -> None:
    path = tmp_path / "approx.npz"
    fp1 = fingerprint_video(source_video(1))
    # the threshold: exactly the hashes s1 is stored as (however many variants a frame has)
    with FingerprintIndex(db_url, None, autosave=False) as probe:
        probe.add("probe", fp1)
        size = probe.n_frames
        probe.remove("probe")
    index = FingerprintIndex(db_url, path, approx_min=size, nprobe=16, approx=approx)  # type: ignore[arg-type]
    index.add("s1", fp1)
    assert index.kind == "flat"
    index.add("s2", fingerprint_video(source_video(2)))
    assert index.kind == approx
    assert index.search(_query(source_video(2)))[0].video_id == "s2"
    reopened = FingerprintIndex(db_url, path, approx_min=size, nprobe=16, approx=approx)  # type: ignore[arg-type]
    assert reopened.loaded_from == "file" and reopened.kind == approx
    assert reopened.search(_query(source_video(2)))[0].video_id == "s2"
    index.remove("s2")
    assert index.search(_query(source_video(2))) == []
    assert index.search(_query(source_video(1)))[0].video_id == "s1"


def test_unmigrated_store_is_refused(sqlite_url: str) -> None:
    with pytest.raises(FingerprintError, match="db upgrade"):
        FingerprintIndex(sqlite_url)


@pytest.mark.parametrize(("approx", "min_recall"), [("mih", 0.999), ("ivf", 0.95)])
def test_hash_index_approximate_recall_vs_exact(approx: str, min_recall: float) -> None:
    rng = np.random.default_rng(0)
    # clustered codes like frame hashes of videos: random walks of a few bit flips
    base = rng.integers(0, 256, (400, 32), dtype=np.uint8)
    walk = np.repeat(base, 10, axis=0)
    flips = np.zeros((len(walk), 256), dtype=np.uint8)
    idx = rng.integers(0, 256, (len(walk), 6))
    np.put_along_axis(flips, idx, 1, axis=1)
    codes = walk ^ np.packbits(flips, axis=1)
    ids = np.arange(len(codes), dtype=np.int64)
    exact = HashIndex()
    approximate = HashIndex(approx_min=100, nprobe=32, approx=approx)  # type: ignore[arg-type]
    exact.build(codes, ids)
    approximate.build(codes, ids)
    assert exact.kind == "flat" and approximate.kind == approx
    q = codes[::7] ^ np.packbits(rng.random((len(codes[::7]), 256)) < 0.06, axis=1)
    e = set(zip(*exact.search(q, 64, 31)[:2], strict=True))
    a = set(zip(*approximate.search(q, 64, 31)[:2], strict=True))
    assert a <= e
    assert len(a) / len(e) >= min_recall


@given(
    st.floats(min_value=-30.0, max_value=30.0),
    st.integers(min_value=4, max_value=30),
    st.integers(min_value=0, max_value=2**31),
)
@settings(max_examples=40)
def test_vote_recovers_offset_of_a_sampled_alignment(offset: float, n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    tq = np.sort(rng.uniform(0, 60, n))
    # every query frame hits the true frame (jitter below half a second) and a random decoy
    qi = np.concatenate([np.arange(n), np.arange(n)])
    tr = np.concatenate([tq + offset + rng.uniform(-0.4, 0.4, n), rng.uniform(0, 500, n)])
    vid = np.concatenate([np.zeros(n, np.int64), rng.integers(1, 50, n)])
    dist = np.concatenate([rng.integers(0, 20, n), rng.integers(0, 31, n)]).astype(np.int32)
    clusters = vote(qi, tq, vid, tr, dist, np.zeros(2 * n, bool), min_frames=3, anchor_distance=31)
    assert clusters[0].video == 0
    assert abs(clusters[0].offset_s - offset) <= 0.5
    assert len(clusters[0].query_frames) == n


def test_copy_with_a_large_static_logo_is_found(
    registered: FingerprintIndex,
    tmp_path: Path,
    source_frames: Callable[[int, float], Frames],
) -> None:
    from provenance.fingerprint import fingerprint_query

    frames = [f.copy() for f in source_frames(1, 16.0)[3 * FPS : 15 * FPS]]
    logo = np.random.default_rng(1).integers(0, 255, (28, 52, 3), dtype=np.uint8)
    logo = np.kron(logo[::4, ::4], np.ones((4, 4, 1), np.uint8))[:28, :52]
    for f in frames:
        f[4:32, -58:-6] = logo
    clip = write_frames(tmp_path / "logo.mp4", frames)
    matches = registered.search(fingerprint_query(clip))
    assert matches and matches[0].video_id == "s1"
    assert abs(matches[0].offset_s - 3.0) <= 0.5
