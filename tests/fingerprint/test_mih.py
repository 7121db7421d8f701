"""Multi-index hashing: exact where the pigeonhole says so, stated recall otherwise, writes and
persistence."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from provenance.fingerprint import FingerprintError, HashIndex
from provenance.fingerprint.mih import MultiIndexHash, mih_key_bits

Pairs = set[tuple[int, int]]


def _flip(codes: npt.NDArray[np.uint8], nbits: npt.NDArray[np.int64], seed: int) -> np.ndarray:
    """``codes`` with ``nbits[i]`` distinct random bits flipped in row ``i``."""
    rng = np.random.default_rng(seed)
    order = np.argsort(rng.random((len(codes), 256)), axis=1)
    mask = np.zeros((len(codes), 256), np.uint8)
    np.put_along_axis(mask, order, (np.arange(256)[None, :] < nbits[:, None]).astype(np.uint8), 1)
    return codes ^ np.packbits(mask, axis=1)


def _data(
    seed: int, n: int, nq: int, max_flip: int = 40
) -> tuple[np.ndarray, npt.NDArray[np.int64], np.ndarray]:
    """Video-like codes (runs of small random walks), shuffled ids, queries near random rows."""
    rng = np.random.default_rng(seed)
    runs = rng.integers(0, 256, (-(-n // 20), 32), dtype=np.uint8)
    codes = _flip(np.repeat(runs, 20, axis=0)[:n], rng.integers(0, 8, n), seed + 1)
    ids = rng.permutation(10 * n)[:n].astype(np.int64)
    q = _flip(codes[rng.integers(0, n, nq)], rng.integers(0, max_flip, nq), seed + 2)
    return codes, ids, q


def _brute(
    codes: np.ndarray, ids: npt.NDArray[np.int64], q: np.ndarray, radius: int
) -> tuple[Pairs, np.ndarray]:
    d = np.bitwise_count(q[:, None, :] ^ codes[None, :, :]).sum(axis=2)
    qi, row = np.nonzero(d <= radius)
    return set(zip(qi.tolist(), ids[row].tolist(), strict=True)), d


def _pairs(hits: tuple[np.ndarray, np.ndarray, np.ndarray]) -> Pairs:
    return set(zip(hits[0].tolist(), hits[1].tolist(), strict=True))


def _exact() -> MultiIndexHash:
    # 16 keys of 16 bits, 1 flip: a hash within 31 bits agrees within 1 bit on some key
    return MultiIndexHash(tables=16, key_bits=16, flips=1)


@given(st.integers(0, 2**31), st.integers(1, 600), st.integers(0, 31))
@settings(max_examples=25)
def test_pigeonhole_setting_is_exact_within_radius(seed: int, n: int, radius: int) -> None:
    codes, ids, q = _data(seed, n, 30)
    index = _exact()
    index.build(codes, ids)
    qi, hid, dist = index.search(q, 10 * n, radius)
    truth, d = _brute(codes, ids, q, radius)
    assert _pairs((qi, hid, dist)) == truth
    assert len(qi) == len(truth)  # no duplicates
    row = {int(i): r for r, i in enumerate(ids)}
    triples = zip(qi.tolist(), hid.tolist(), dist.tolist(), strict=True)
    assert all(d[a, row[b]] == c for a, b, c in triples)


@given(st.integers(0, 2**31), st.integers(1, 8))
@settings(max_examples=15)
def test_k_nearest_per_query_sorted_by_distance(seed: int, k: int) -> None:
    codes, ids, q = _data(seed, 400, 20, max_flip=10)
    index = _exact()
    index.build(codes, ids)
    qi, _, dist = index.search(q, k, 31)
    _, d = _brute(codes, ids, q, 31)
    for j in range(len(q)):
        got = dist[qi == j]
        want = np.sort(d[j][d[j] <= 31])[:k]
        assert np.array_equal(got, want)  # the k smallest distances, nearest first


@given(st.integers(0, 2**31))
@settings(max_examples=10)
def test_default_setting_meets_stated_recall(seed: int) -> None:
    # default: 7 keys, 2 flips; stated recall at radius 31 on video-like hashes >= 0.99
    codes, ids, q = _data(seed, 3000, 150, max_flip=28)
    index = MultiIndexHash()
    index.build(codes, ids)
    assert index.key_bits == mih_key_bits(3000)
    found = _pairs(index.search(q, 10_000, 31))
    truth, _ = _brute(codes, ids, q, 31)
    assert found <= truth
    assert len(found) >= 0.99 * len(truth)


@given(st.integers(0, 2**31), st.floats(0.0, 1.0))
@settings(max_examples=20)
def test_add_and_remove_match_a_fresh_build(seed: int, share: float) -> None:
    codes, ids, q = _data(seed, 500, 20)
    rng = np.random.default_rng(seed)
    cut = int(rng.integers(0, 500))
    grown = _exact()
    grown.build(codes[:cut], ids[:cut])
    grown.add(codes[cut:], ids[cut:])
    gone = ids[rng.random(500) < share]
    assert grown.remove(gone) == len(gone)
    assert grown.remove(gone) == 0
    keep = ~np.isin(ids, gone)
    assert grown.ntotal == int(keep.sum())
    truth, _ = _brute(codes[keep], ids[keep], q, 31)
    assert _pairs(grown.search(q, 10_000, 31)) == truth
    # and adds after removals still land in the right buckets
    grown.add(codes[~keep], ids[~keep])
    assert _pairs(grown.search(q, 10_000, 31)) == _brute(codes, ids, q, 31)[0]


def test_state_roundtrip_and_hash_index_serialization() -> None:
    codes, ids, q = _data(5, 800, 40)
    index = MultiIndexHash(tables=6, flips=2, seed=3)
    index.build(codes, ids)
    before = index.search(q, 64, 40)
    copy = MultiIndexHash()
    copy.load_state(index.state())
    assert (copy.tables, copy.key_bits, copy.flips, copy.seed) == (6, index.key_bits, 2, 3)
    after = copy.search(q, 64, 40)
    assert all(np.array_equal(before[j], after[j]) for j in range(3))

    hashes = HashIndex(approx_min=100)
    hashes.build(codes, ids)
    assert hashes.kind == "mih"
    loaded = HashIndex()
    loaded.load(hashes.serialize())
    assert loaded.kind == "mih" and loaded.ntotal == 800
    assert _pairs(loaded.search(q, 64, 31)) == _pairs(hashes.search(q, 64, 31))
    loaded.remove(ids[:100])
    assert hashes.ntotal == 800  # the loaded copy does not share writes
    # an empty multi-index hash round-trips too
    empty = MultiIndexHash()
    empty.load_state(MultiIndexHash().state())
    assert empty.ntotal == 0 and empty.search(q, 5, 31)[0].size == 0


def test_hash_index_switches_to_mih_when_it_grows() -> None:
    codes, ids, q = _data(2, 300, 20)
    index = HashIndex(approx_min=200)
    index.add(codes[:150], ids[:150])
    assert index.kind == "flat"
    index.add(codes[150:], ids[150:])
    assert index.kind == "mih" and index.ntotal == 300
    assert _pairs(index.search(q, 64, 31)) <= _brute(codes, ids, q, 31)[0]


def test_huge_bucket_is_capped() -> None:
    rng = np.random.default_rng(0)
    same = np.repeat(rng.integers(0, 256, (1, 32), dtype=np.uint8), 500, axis=0)
    codes = np.concatenate([same, rng.integers(0, 256, (100, 32), dtype=np.uint8)])
    ids = np.arange(len(codes), dtype=np.int64)
    index = MultiIndexHash(tables=4, key_bits=10, max_bucket=50)
    index.build(codes, ids)
    _, hid, dist = index.search(same[:1], 1000, 0)
    assert len(hid) == 50 and np.all(dist == 0)  # the first 50 rows of the bucket
    assert np.array_equal(hid, np.arange(50))
    assert len(index.search(codes[-1:], 10, 0)[1]) == 1


def test_bad_input_is_refused() -> None:
    index = MultiIndexHash()
    with pytest.raises(FingerprintError, match=r"\(n, 32\)"):
        index.build(np.zeros((3, 31), np.uint8), np.arange(3))
    with pytest.raises(FingerprintError, match="n ids"):
        index.build(np.zeros((3, 32), np.uint8), np.arange(2))
    with pytest.raises(FingerprintError, match="query"):
        index.search(np.zeros(32, np.uint8), 5, 31)
    with pytest.raises(FingerprintError, match="tables"):
        MultiIndexHash(tables=0)
    with pytest.raises(FingerprintError, match="key_bits"):
        MultiIndexHash(tables=16, key_bits=20)
    with pytest.raises(FingerprintError, match="flips"):
        MultiIndexHash(flips=4)
    with pytest.raises(FingerprintError, match="approx"):
        HashIndex(approx="hnsw")  # type: ignore[arg-type]
    codes, ids, _ = _data(1, 100, 1)
    index.build(codes, ids)
    state = index.state()
    broken = dict(state, rows0=state["rows0"][::-1][1:])
    with pytest.raises(FingerprintError, match="corrupt"):
        MultiIndexHash().load_state(broken)
    with pytest.raises(FingerprintError, match="corrupt"):
        MultiIndexHash().load_state({k: v for k, v in state.items() if k != "params"})
    with pytest.raises(FingerprintError, match="corrupt"):
        HashIndex().load(np.frombuffer(b"not an index", np.uint8))
