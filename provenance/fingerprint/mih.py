"""Multi-index hashing (MIH) of 256-bit frame hashes in numpy.

The 256 bits are shuffled by a fixed permutation and cut into ``tables`` disjoint keys of
``key_bits`` bits each. Every table is a compressed sparse row (CSR) map from a key value to the
rows whose hash has that key: the row numbers sorted by key (``uint32``, 4 bytes per hash) and the
start of every key's run (``2 ** key_bits + 1`` offsets). A query probes, in every table, its own
key and every key within ``flips`` bits of it, gathers the candidate rows' hashes, keeps those
within the search radius and returns the ``k`` nearest.

By the pigeonhole principle a hash fewer than ``tables * (flips + 1)`` bits away differs from the
query in at most ``flips`` bits on at least one key, so it is always found (16 keys of 16 bits
with 1 flip are exact at radius 31, as in FAISS's ``IndexBinaryMultiHash``). With fewer, longer
keys the candidates per probe drop from ``n / 2**16`` to about two, and hashes beyond that bound
are found with high probability: with the default 7 keys of ``log2(n) - 1`` bits (22 at 10 M
hashes) and 2 flips, every hash within 20 bits is found, one 25 bits away with probability
0.99999, 31 bits 0.9986, 40 bits 0.95, 48 bits 0.80 (differing bits at random positions; the
measured recall is in the benchmark). Memory is the hashes (32 bytes each), their ids (8 bytes)
and ``tables * (4 + 4 * 2**key_bits / n)`` bytes per hash: about 80 bytes per hash in all at 10 M.

Every step of a search is vectorized over all query hashes; adds merge into the tables in
``O(n)`` per table, removals compact them.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from provenance.fingerprint.errors import FingerprintError
from provenance.fingerprint.pdq import HASH_BITS, HASH_BYTES

Hits = tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int32]]

#: Default number of key tables.
DEFAULT_TABLES = 7
#: Default number of bits flipped in each query key.
DEFAULT_FLIPS = 2
#: Rows read per probed key at most (a guard against a huge bucket of near-identical hashes).
DEFAULT_MAX_BUCKET = 4096
#: Query hashes handled per vectorized block (bounds the temporaries).
_QUERY_BLOCK = 256
#: Rows per block when computing keys (bounds the unpacked-bit temporaries).
_KEY_BLOCK = 1 << 16


def mih_key_bits(n: int) -> int:
    """Bits per key for ``n`` hashes: one less than ``log2(n)``, clipped to 8..24 (about two rows
    per key value, so the offsets stay below the row lists in memory)."""
    return int(np.clip(round(math.log2(max(n, 2))) - 1, 8, 24))


def _flip_masks(bits: int, flips: int) -> npt.NDArray[np.uint32]:
    masks = [0]
    for r in range(1, flips + 1):
        for combo in itertools.combinations(range(bits), r):
            masks.append(sum(1 << i for i in combo))
    return np.asarray(masks, dtype=np.uint32)


def check_batch(
    hashes: npt.NDArray[np.uint8], ids: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]:
    """``hashes`` as contiguous ``(n, 32)`` uint8 and ``ids`` as ``(n,)`` int64, or an error."""
    h = np.ascontiguousarray(hashes, dtype=np.uint8)
    i = np.ascontiguousarray(ids, dtype=np.int64)
    if h.ndim != 2 or h.shape[1] != HASH_BYTES or i.ndim != 1 or len(h) != len(i):
        raise FingerprintError(f"expected (n, 32) hashes and n ids, got {h.shape} and {i.shape}")
    return h, i


class MultiIndexHash:
    """A multi-index hash of ``(n, 32)`` uint8 hashes keyed by int64 ids (see the module doc)."""

    def __init__(
        self,
        *,
        tables: int = DEFAULT_TABLES,
        key_bits: int | None = None,
        flips: int = DEFAULT_FLIPS,
        max_bucket: int = DEFAULT_MAX_BUCKET,
        seed: int = 0,
    ) -> None:
        if not 1 <= tables <= HASH_BITS:
            raise FingerprintError(f"tables must be 1..{HASH_BITS}, got {tables}")
        if key_bits is not None and not (1 <= key_bits <= 24 and tables * key_bits <= HASH_BITS):
            raise FingerprintError(
                f"key_bits must be 1..24 with tables * key_bits <= {HASH_BITS}, "
                f"got {tables} x {key_bits}"
            )
        if not 0 <= flips <= 3:
            raise FingerprintError(f"flips must be 0..3, got {flips}")
        if max_bucket < 1:
            raise FingerprintError(f"max_bucket must be positive, got {max_bucket}")
        self.tables = tables
        #: bits per key; ``None`` until built: :func:`mih_key_bits` of the size at build time
        self.key_bits_setting = key_bits
        self.flips = flips
        self.max_bucket = max_bucket
        self.seed = seed
        self._perm = np.random.default_rng(seed).permutation(HASH_BITS)
        self._bits = 0
        self._codes = np.zeros((0, 4), np.uint64)
        self._ids = np.zeros(0, np.int64)
        self._rows: list[npt.NDArray[np.uint32]] = []
        self._offsets: list[npt.NDArray[np.uint32]] = []
        self._masks = np.zeros(1, np.uint32)
        self._cols = np.zeros(0, np.intp)

    # -- layout ----------------------------------------------------------------------------
    @property
    def key_bits(self) -> int:
        """Bits per key of the current tables."""
        return self._bits

    @property
    def ntotal(self) -> int:
        """Number of indexed hashes."""
        return len(self._ids)

    def nbytes(self) -> int:
        """Bytes held by the hashes, ids and tables."""
        return int(
            self._codes.nbytes
            + self._ids.nbytes
            + sum(r.nbytes for r in self._rows)
            + sum(o.nbytes for o in self._offsets)
        )

    def _set_bits(self, bits: int) -> None:
        if self.tables * bits > HASH_BITS:
            bits = HASH_BITS // self.tables
        self._bits = bits
        self._masks = _flip_masks(bits, min(self.flips, bits))
        # columns of the unpacked permuted bits making each key, padded to 32 (masked off later)
        cols = np.zeros((self.tables, 32), np.intp)
        cols[:, :bits] = self._perm[: self.tables * bits].reshape(self.tables, bits)
        self._cols = cols.ravel()

    def _keys(self, codes: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint32]:
        """``(tables, n)`` keys of ``(n, 32)`` uint8 hashes."""
        n = len(codes)
        out = np.empty((self.tables, n), np.uint32)
        mask = np.uint32((1 << self._bits) - 1)
        for s in range(0, n, _KEY_BLOCK):
            bits = np.take(np.unpackbits(codes[s : s + _KEY_BLOCK], axis=1), self._cols, axis=1)
            packed = np.packbits(bits, axis=1, bitorder="little")
            out[:, s : s + _KEY_BLOCK] = packed.view("<u4").T & mask
        return out

    # -- writes ----------------------------------------------------------------------------
    def build(self, hashes: npt.NDArray[np.uint8], ids: npt.NDArray[np.int64]) -> None:
        """Replace the contents with ``hashes``; the key length follows the size."""
        h, i = check_batch(hashes, ids)
        if len(h) >= 2**32:
            raise FingerprintError("at most 2**32 - 1 hashes per multi-index hash")
        self._set_bits(self.key_bits_setting or mih_key_bits(len(h)))
        self._codes = h.view(np.uint64).reshape(-1, 4).copy()
        self._ids = i.copy()
        self._rows, self._offsets = [], []
        keys = self._keys(h)
        for t in range(self.tables):
            self._rows.append(np.argsort(keys[t], kind="stable").astype(np.uint32))
            self._offsets.append(self._starts(keys[t]))
        del keys

    def _starts(self, keys: npt.NDArray[np.uint32]) -> npt.NDArray[np.uint32]:
        out = np.zeros((1 << self._bits) + 1, np.uint32)
        np.cumsum(np.bincount(keys, minlength=1 << self._bits), out=out[1:])
        return out

    def add(self, hashes: npt.NDArray[np.uint8], ids: npt.NDArray[np.int64]) -> None:
        """Append hashes, merging them into every table (each key's rows stay in row order)."""
        h, i = check_batch(hashes, ids)
        if not len(h):
            return
        if not self._rows:
            self.build(h, i)
            return
        n0 = self.ntotal
        if n0 + len(h) >= 2**32:
            raise FingerprintError("at most 2**32 - 1 hashes per multi-index hash")
        keys = self._keys(h)
        new_rows = np.arange(n0, n0 + len(h), dtype=np.uint32)
        for t in range(self.tables):
            order = np.argsort(keys[t], kind="stable")
            kt = keys[t][order]
            at = self._offsets[t][kt.astype(np.int64) + 1].astype(np.int64)
            self._rows[t] = np.insert(self._rows[t], at, new_rows[order])
            self._offsets[t] = self._offsets[t] + self._starts(keys[t])
        self._codes = np.concatenate([self._codes, h.view(np.uint64).reshape(-1, 4)])
        self._ids = np.concatenate([self._ids, i])

    def remove(self, ids: npt.NDArray[np.int64]) -> int:
        """Remove every hash whose id is in ``ids``; returns how many were removed."""
        i = np.ascontiguousarray(ids, dtype=np.int64).ravel()
        if not len(i) or not self.ntotal:
            return 0
        gone = np.isin(self._ids, i)
        n_gone = int(np.count_nonzero(gone))
        if not n_gone:
            return 0
        keep = ~gone
        gone_codes = np.compress(gone, self._codes, axis=0)
        gone_keys = self._keys(gone_codes.view(np.uint8).reshape(-1, HASH_BYTES))
        # new row number of every kept row
        renumber = (np.cumsum(keep, dtype=np.int64) - 1).astype(np.uint32)
        for t in range(self.tables):
            rows = self._rows[t]
            rows = np.compress(np.take(keep, rows), rows)
            self._rows[t] = np.take(renumber, rows)
            self._offsets[t] = self._offsets[t] - self._starts(gone_keys[t])
        self._codes = np.compress(keep, self._codes, axis=0)
        self._ids = np.compress(keep, self._ids)
        return n_gone

    # -- search ----------------------------------------------------------------------------
    def search(self, queries: npt.NDArray[np.uint8], k: int, radius: int) -> Hits:
        """Up to ``k`` nearest hashes within ``radius`` bits of each query among the candidates
        the probes find (ties broken by insertion order).

        Returns flat arrays ``(query_index, id, distance)``, by query, then distance.
        """
        q = np.ascontiguousarray(queries, dtype=np.uint8)
        if q.ndim != 2 or q.shape[1] != HASH_BYTES:
            raise FingerprintError(f"expected (n, 32) query hashes, got {q.shape}")
        empty: Hits = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int32))
        if not len(q) or k <= 0 or not self.ntotal or not self._rows:
            return empty
        qcodes = q.view(np.uint64).reshape(-1, 4)
        qkeys = self._keys(q)
        found_q: list[npt.NDArray[np.int64]] = []
        found_r: list[npt.NDArray[np.int64]] = []
        found_d: list[npt.NDArray[np.int32]] = []
        n_masks = len(self._masks)
        for b0 in range(0, len(q), _QUERY_BLOCK):
            b1 = min(len(q), b0 + _QUERY_BLOCK)
            probe_q = np.repeat(np.arange(b0, b1, dtype=np.int64), n_masks)
            for t in range(self.tables):
                keys = (qkeys[t, b0:b1, None] ^ self._masks[None, :]).ravel().astype(np.int64)
                offsets = self._offsets[t]
                lo = np.take(offsets, keys).astype(np.int64)
                keys += 1
                lens = np.take(offsets, keys).astype(np.int64)
                lens -= lo
                np.minimum(lens, self.max_bucket, out=lens)
                ends = np.cumsum(lens)
                total = int(ends[-1])
                if not total:
                    continue
                lo -= ends
                lo += lens
                pos = np.repeat(lo, lens)
                pos += np.arange(total, dtype=np.int64)
                rows = np.take(self._rows[t], pos)
                qi = np.repeat(probe_q, lens)
                # Hamming distances: gather, XOR, popcount in place, add the four words
                x = np.take(self._codes, rows, axis=0)
                x ^= np.take(qcodes, qi, axis=0)
                np.bitwise_count(x, out=x)
                dist = x[:, 0] + x[:, 1]
                dist += x[:, 2]
                dist += x[:, 3]
                hit = dist <= radius
                found_q.append(qi[hit])
                found_r.append(rows[hit].astype(np.int64))
                found_d.append(dist[hit].astype(np.int32))
        if not found_q:
            return empty
        qi_all = np.concatenate(found_q)
        rows_all = np.concatenate(found_r)
        d_all = np.concatenate(found_d)
        order = np.lexsort((rows_all, d_all, qi_all))
        qi_all, rows_all, d_all = qi_all[order], rows_all[order], d_all[order]
        # the same (query, row) found in several tables sits side by side: keep one
        first = np.ones(len(qi_all), bool)
        first[1:] = (qi_all[1:] != qi_all[:-1]) | (rows_all[1:] != rows_all[:-1])
        qi_all, rows_all, d_all = qi_all[first], rows_all[first], d_all[first]
        # rank within each query's run; keep the k nearest
        starts = np.flatnonzero(np.r_[True, qi_all[1:] != qi_all[:-1]])
        run = np.diff(np.r_[starts, len(qi_all)])
        rank = np.arange(len(qi_all)) - np.repeat(starts, run)
        top = rank < k
        return qi_all[top], self._ids[rows_all[top]], d_all[top]

    # -- persistence -----------------------------------------------------------------------
    def state(self) -> dict[str, npt.NDArray[Any]]:
        """The index as named arrays (for ``np.savez``; views, not copies); :meth:`load_state`
        restores it."""
        out: dict[str, npt.NDArray[Any]] = {
            "params": np.array(
                [self.tables, self._bits, self.flips, self.max_bucket, self.seed], np.int64
            ),
            "codes": self._codes.view(np.uint8).reshape(-1, HASH_BYTES),
            "ids": self._ids,
        }
        for t, (rows, offsets) in enumerate(zip(self._rows, self._offsets, strict=True)):
            out[f"rows{t}"] = rows
            out[f"offsets{t}"] = offsets
        return out

    def load_state(self, state: Mapping[str, npt.NDArray[Any]]) -> None:
        """Replace the contents by :meth:`state`'s arrays.

        Raises :class:`FingerprintError` when they are missing or inconsistent.
        """
        try:
            tables, bits, flips, max_bucket, seed = (int(x) for x in state["params"])
            codes = np.asarray(state["codes"])
            ids = np.asarray(state["ids"])
            built = "rows0" in state
            rows = [np.asarray(state[f"rows{t}"]) for t in range(tables if built else 0)]
            offsets = [np.asarray(state[f"offsets{t}"]) for t in range(tables if built else 0)]
        except (KeyError, ValueError, TypeError) as exc:
            raise FingerprintError(f"corrupt multi-index hash ({exc})") from exc
        if codes.dtype != np.uint8 or ids.dtype != np.int64:
            raise FingerprintError("corrupt multi-index hash (hash or id type)")
        codes, ids = check_batch(codes, ids)
        fresh = MultiIndexHash(
            tables=tables, key_bits=bits or None, flips=flips, max_bucket=max_bucket, seed=seed
        )
        n = len(ids)
        if built:
            fresh._set_bits(bits)
            size = (1 << fresh._bits) + 1
            for r, o in zip(rows, offsets, strict=True):
                if (
                    r.dtype != np.uint32
                    or o.dtype != np.uint32
                    or r.shape != (n,)
                    or o.shape != (size,)
                    or (n and int(r.max()) >= n)
                    or o[0] != 0
                    or o[-1] != n
                    or bool(np.any(o[1:] < o[:-1]))
                ):
                    raise FingerprintError("corrupt multi-index hash (inconsistent tables)")
            fresh._rows = [np.ascontiguousarray(r) for r in rows]
            fresh._offsets = [np.ascontiguousarray(o) for o in offsets]
        elif n:
            raise FingerprintError("corrupt multi-index hash (tables missing)")
        fresh._codes = codes.view(np.uint64).reshape(-1, 4)
        fresh._ids = ids
        self.__dict__.update(fresh.__dict__)
