"""The local index shared by the workers of one machine: a mapped read-only base, private deltas.

Every worker used to hold its own copy of the local index (hashes, ids, multi-index hash tables,
vote data: about 84 bytes per hash, 0.9 GB per worker at 10 M hashes). Here the index at one
change-feed position is written once into a file (:mod:`provenance.fingerprint.mapfile`) that
every worker maps read-only, so the machine holds one copy in its page cache whatever the worker
count; each worker keeps privately only what the feed brought since the file was written:

```
    <data>/fingerprints.map   (feed position 41 200, 10 M hashes, mapped by every worker)
        │ search in place                         ┌─ worker A: delta +3 videos, -1 video
        └──────────────  hits merged  ◄───────────┤
                                                  └─ worker B: delta +3 videos, -1 video
    delta past fold_rows  ──►  one worker (file lock) writes base + delta as a new file at its
                               feed position, renames it over the old name; every worker
                               sees the new name on its next refresh(), maps it, drops its delta
```

:class:`MappedHashIndex` is the engine (the
:class:`~provenance.fingerprint.backend.HashEngine` protocol): a base searched in place (exact
FAISS search over the mapped hashes up to ``approx_min`` hashes, the multi-index hash over mapped
tables above) plus a private exact delta of added hashes and a list of removed ids. Searching it
gives the same hits as the in-memory engine holding the same hashes.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import numpy.typing as npt

from provenance.fingerprint import mapfile
from provenance.fingerprint.errors import FingerprintError
from provenance.fingerprint.faiss_index import DEFAULT_APPROX_MIN, HashIndex
from provenance.fingerprint.mih import MultiIndexHash, check_batch
from provenance.fingerprint.pdq import HASH_BYTES

Hits = tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int32]]
Arrays = dict[str, npt.NDArray[Any]]

#: A worker folds its delta into a new shared file once it holds this many rows (added hashes
#: plus removed ones), or 1/64 of the base if more.
DEFAULT_FOLD_ROWS = 100_000
_EMPTY: Hits = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int32))


def base_arrays(
    hashes: npt.NDArray[np.uint8], ids: npt.NDArray[np.int64], *, approx_min: int
) -> tuple[str, Arrays]:
    """The arrays of a base over ``hashes`` (ids sorted): ``("flat", codes and ids)`` up to
    ``approx_min`` hashes, else ``("mih", the multi-index hash's arrays)``."""
    h, i = check_batch(hashes, ids)
    if len(h) > approx_min:
        mih = MultiIndexHash()
        mih.build(h, i)
        return "mih", {f"mih_{k}": v for k, v in mih.state().items()}
    return "flat", {"flat_codes": h, "flat_ids": i}


class MappedHashIndex:
    """A read-only base (arrays of :func:`base_arrays`, typically mapped from a shared file) plus
    a private delta: added hashes in an exact in-memory index, removed base ids in a list."""

    def __init__(self, kind: str, arrays: Mapping[str, npt.NDArray[Any]]) -> None:
        self._set_base(kind, arrays)

    def _set_base(self, kind: str, arrays: Mapping[str, npt.NDArray[Any]]) -> None:
        self._base_kind = kind
        self._mih: MultiIndexHash | None = None
        if kind == "mih":
            self._mih = MultiIndexHash()
            self._mih.load_state({k[4:]: v for k, v in arrays.items() if k.startswith("mih_")})
            self._base_ids = self._mih.state()["ids"]
            self._codes = np.zeros((0, HASH_BYTES), np.uint8)
        elif kind == "flat":
            try:
                self._codes, self._base_ids = check_batch(arrays["flat_codes"], arrays["flat_ids"])
            except KeyError as exc:
                raise FingerprintError(f"shared index without {exc}") from exc
        else:
            raise FingerprintError(f"unknown shared index kind {kind!r}")
        if len(self._base_ids) > 1 and bool(np.any(self._base_ids[1:] <= self._base_ids[:-1])):
            raise FingerprintError("shared index ids are not sorted")
        #: sorted ids of base hashes removed since the base was written
        self._gone = np.zeros(0, np.int64)
        self._delta = HashIndex(approx_min=2**62)

    @property
    def base_ids(self) -> npt.NDArray[np.int64]:
        """Ids of the base's hashes, sorted (read-only; the vote rows share them)."""
        return self._base_ids

    # -- the HashEngine protocol -----------------------------------------------------------
    @property
    def kind(self) -> str:
        """The base's kind: ``"flat"`` (exact) or ``"mih"``."""
        return self._base_kind

    @property
    def ntotal(self) -> int:
        """Number of indexed hashes (base less removed, plus added)."""
        return len(self._base_ids) - len(self._gone) + self._delta.ntotal

    @property
    def pending(self) -> int:
        """Hashes in the private delta (added plus removed)."""
        return len(self._gone) + self._delta.ntotal

    def build(self, hashes: npt.NDArray[np.uint8], ids: npt.NDArray[np.int64]) -> None:
        """Replace the contents by a private base over ``hashes`` (exact search)."""
        h, i = check_batch(hashes, ids)
        order = np.argsort(i, kind="stable")
        self._set_base("flat", {"flat_codes": h[order], "flat_ids": i[order]})

    def add(self, hashes: npt.NDArray[np.uint8], ids: npt.NDArray[np.int64]) -> None:
        """Add hashes to the private delta."""
        self._delta.add(hashes, ids)

    def remove(self, ids: npt.NDArray[np.int64]) -> int:
        """Remove ``ids`` (from the delta, or listed as removed from the base)."""
        i = np.unique(np.ascontiguousarray(ids, dtype=np.int64).ravel())
        n = self._delta.remove(i)
        if len(self._base_ids) and len(i):
            pos = np.clip(np.searchsorted(self._base_ids, i), 0, len(self._base_ids) - 1)
            in_base = i[self._base_ids[pos] == i]
            fresh = np.setdiff1d(in_base, self._gone, assume_unique=True)
            self._gone = np.union1d(self._gone, fresh)
            n += len(fresh)
        return n

    def search(self, queries: npt.NDArray[np.uint8], k: int, radius: int) -> Hits:
        """Up to ``k`` nearest hashes within ``radius`` bits of each query: base hits (less the
        removed ones) and delta hits merged, by query, then distance (base first on ties)."""
        q = np.ascontiguousarray(queries, dtype=np.uint8)
        if q.ndim != 2 or q.shape[1] != HASH_BYTES:
            raise FingerprintError(f"expected (n, 32) query hashes, got {q.shape}")
        if not len(q) or k <= 0:
            return _EMPTY
        qb, ib, db = self._search_base(q, k + len(self._gone), radius)
        if len(self._gone) and len(ib):
            pos = np.clip(np.searchsorted(self._gone, ib), 0, len(self._gone) - 1)
            keep = self._gone[pos] != ib
            qb, ib, db = qb[keep], ib[keep], db[keep]
        qd, idd, dd = self._delta.search(q, k, radius)
        qi = np.concatenate([qb, qd])
        ids = np.concatenate([ib, idd])
        dist = np.concatenate([db, dd])
        if not len(qi):
            return _EMPTY
        order = np.lexsort((dist, qi))  # stable: base before delta, each in its own order
        qi, ids, dist = qi[order], ids[order], dist[order]
        starts = np.flatnonzero(np.r_[True, qi[1:] != qi[:-1]])
        rank = np.arange(len(qi)) - np.repeat(starts, np.diff(np.r_[starts, len(qi)]))
        top = rank < k
        return qi[top], ids[top], dist[top]

    def _search_base(self, q: npt.NDArray[np.uint8], k: int, radius: int) -> Hits:
        if self._mih is not None:
            return self._mih.search(q, k, radius)
        k = min(k, len(self._base_ids))
        if k <= 0:
            return _EMPTY
        dist, rows = faiss.knn_hamming(q, self._codes, k)
        mask = (rows >= 0) & (dist <= radius)
        qi = np.nonzero(mask)[0].astype(np.int64)
        return qi, self._base_ids[rows[mask]], dist[mask].astype(np.int32)

    # -- folding ---------------------------------------------------------------------------
    def merged_codes(self) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]:
        """Every live hash and its id, sorted by id (new arrays: the base less the removed
        hashes, plus the delta)."""
        if self._mih is not None:
            state = self._mih.state()
            codes, ids = state["codes"], state["ids"]
        else:
            codes, ids = self._codes, self._base_ids
        live = np.ones(len(ids), bool)
        if len(self._gone):
            live[np.searchsorted(ids, self._gone)] = False
        add_codes, add_ids = np.zeros((0, HASH_BYTES), np.uint8), np.zeros(0, np.int64)
        if self._delta.ntotal:
            add_codes, add_ids = self._delta.codes()
        all_codes = np.concatenate([codes[live], add_codes])
        all_ids = np.concatenate([ids[live], add_ids])
        order = np.argsort(all_ids, kind="stable")
        return all_codes[order], all_ids[order]


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive lock on ``path`` (created when missing), held for the block: one process
    at a time builds or folds the shared file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def write_shared(
    path: Path,
    hashes: npt.NDArray[np.uint8],
    rows: tuple[npt.NDArray[np.int64], npt.NDArray[np.int32], npt.NDArray[np.float32]],
    meta: Mapping[str, Any],
    *,
    approx_min: int = DEFAULT_APPROX_MIN,
) -> None:
    """Write a shared index file: the base over ``hashes`` (in the order of ``rows``' ids,
    sorted), the vote rows ``(ids, video keys, times)``, the distinct video keys and ``meta``."""
    ids, vpk, t = rows
    kind, arrays = base_arrays(hashes, ids, approx_min=approx_min)
    mapfile.write(
        path,
        {
            **arrays,
            "vpk": vpk.astype(np.int32),
            "t": t.astype(np.float32),
            "videos": np.unique(vpk).astype(np.int64),
        },
        {**meta, "kind": kind},
    )


def open_shared(path: Path) -> tuple[mapfile.MappedFile, MappedHashIndex]:
    """Map the shared index file at ``path``: the file (meta, video keys and times of the rows,
    whose ids are the engine's :attr:`MappedHashIndex.base_ids`) and its engine.

    Raises :class:`FingerprintError` when it is missing or corrupt.
    """
    mf = mapfile.open_file(path)
    engine = MappedHashIndex(str(mf.meta.get("kind")), mf.arrays)
    for name in ("vpk", "t", "videos"):
        if name not in mf.arrays:
            raise FingerprintError(f"shared index without {name!r}")
    if not len(mf.arrays["vpk"]) == len(mf.arrays["t"]) == engine.ntotal:
        raise FingerprintError("shared index rows and hashes differ in number")
    return mf, engine
