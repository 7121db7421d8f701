"""Per indexed hash, what the temporal vote needs: its id, video key and time.

The rows are a *base* (sorted by id; read-only, possibly a memory-mapped file shared by every
worker on the machine) plus a private *delta*: rows added since the base was written, and base
rows removed since (their positions). Lookups search both; :meth:`RowTable.merged` folds them
into one sorted table when the delta has grown (written to a new shared file, or kept in memory).

```
    base  (mapped, shared)    ids 1 2 3 4 5 6 7 8      gone: positions {3, 4}  (video 2 removed)
    delta (private)           ids 9 10 11              (video 5 added)
    lookup(ids)  ──►  base (unless gone) or delta  ──►  found?, video key, time
```
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Ids = npt.NDArray[np.int64]


def _take_sorted(
    keys: npt.NDArray[np.int64], wanted: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.int64]]:
    """For each of ``wanted``: found in the sorted ``keys``, and its position there."""
    if not len(keys):
        return np.zeros(len(wanted), bool), np.zeros(len(wanted), np.int64)
    pos = np.clip(np.searchsorted(keys, wanted), 0, len(keys) - 1)
    return keys[pos] == wanted, pos.astype(np.int64)


class RowTable:
    """Vote data of the indexed hashes: a read-only base sorted by id plus a private delta."""

    def __init__(
        self,
        ids: npt.NDArray[np.int64] | None = None,
        vpk: npt.NDArray[np.int32] | None = None,
        t: npt.NDArray[np.float32] | None = None,
    ) -> None:
        self.base_ids = ids if ids is not None else np.zeros(0, np.int64)
        self.base_vpk = vpk if vpk is not None else np.zeros(0, np.int32)
        self.base_t = t if t is not None else np.zeros(0, np.float32)
        if not len(self.base_ids) == len(self.base_vpk) == len(self.base_t):
            raise ValueError("ids, video keys and times differ in length")
        #: sorted positions of base rows removed since the base was written
        self.gone = np.zeros(0, np.int64)
        self.add_ids = np.zeros(0, np.int64)
        self.add_vpk = np.zeros(0, np.int32)
        self.add_t = np.zeros(0, np.float32)

    def __len__(self) -> int:
        return len(self.base_ids) - len(self.gone) + len(self.add_ids)

    @property
    def pending(self) -> int:
        """Rows in the delta: added ones plus removed base rows."""
        return len(self.gone) + len(self.add_ids)

    def videos(self) -> set[int]:
        """Video keys with at least one row."""
        live = np.delete(self.base_vpk, self.gone) if len(self.gone) else self.base_vpk
        return {int(v) for v in np.unique(np.concatenate([live, self.add_vpk]))}

    def append(
        self, ids: npt.NDArray[np.int64], vpk: npt.NDArray[np.int32], t: npt.NDArray[np.float32]
    ) -> None:
        """Add rows (ids not present) to the delta."""
        if not len(ids):
            return
        self.add_ids = np.concatenate([self.add_ids, ids.astype(np.int64)])
        self.add_vpk = np.concatenate([self.add_vpk, vpk.astype(np.int32)])
        self.add_t = np.concatenate([self.add_t, t.astype(np.float32)])
        if len(self.add_ids) > 1 and bool(np.any(np.diff(self.add_ids) < 0)):
            order = np.argsort(self.add_ids, kind="stable")
            self.add_ids, self.add_vpk, self.add_t = (
                self.add_ids[order],
                self.add_vpk[order],
                self.add_t[order],
            )

    def drop_videos(self, pks: npt.NDArray[np.int64]) -> Ids:
        """Remove every row of the video keys ``pks``; returns the removed rows' ids."""
        if not len(pks):
            return np.zeros(0, np.int64)
        hit = np.flatnonzero(np.isin(self.base_vpk, pks)).astype(np.int64)
        if len(self.gone):
            hit = np.setdiff1d(hit, self.gone, assume_unique=True)
        self.gone = np.union1d(self.gone, hit)
        d = np.isin(self.add_vpk, pks)
        out = np.concatenate([self.base_ids[hit], self.add_ids[d]])
        if np.any(d):
            keep = ~d
            self.add_ids, self.add_vpk, self.add_t = (
                self.add_ids[keep],
                self.add_vpk[keep],
                self.add_t[keep],
            )
        return out

    def lookup(
        self, ids: npt.NDArray[np.int64]
    ) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        """For each id: held here, its video key and time (0 where not held)."""
        ok, pos = _take_sorted(self.base_ids, ids)
        if len(self.gone):
            ok &= ~_take_sorted(self.gone, pos)[0]
        vpk = np.where(ok, self.base_vpk[pos] if len(self.base_ids) else 0, 0).astype(np.int64)
        t = np.where(ok, self.base_t[pos] if len(self.base_ids) else 0, 0).astype(np.float64)
        ok_d, pos_d = _take_sorted(self.add_ids, ids)
        if np.any(ok_d):
            vpk[ok_d] = self.add_vpk[pos_d[ok_d]]
            t[ok_d] = self.add_t[pos_d[ok_d]]
            ok = ok | ok_d
        return ok, vpk, t

    def merged(
        self,
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int32], npt.NDArray[np.float32]]:
        """Every live row, sorted by id (new arrays)."""
        ids = np.concatenate([np.delete(self.base_ids, self.gone), self.add_ids])
        vpk = np.concatenate([np.delete(self.base_vpk, self.gone), self.add_vpk])
        t = np.concatenate([np.delete(self.base_t, self.gone), self.add_t])
        if len(ids) > 1 and bool(np.any(np.diff(ids) < 0)):
            order = np.argsort(ids, kind="stable")
            ids, vpk, t = ids[order], vpk[order], t[order]
        return ids, vpk, t

    def fold(self) -> None:
        """Make the merged rows the new (private) base."""
        if self.pending:
            self.base_ids, self.base_vpk, self.base_t = self.merged()
            self.gone = np.zeros(0, np.int64)
            self.add_ids = np.zeros(0, np.int64)
            self.add_vpk = np.zeros(0, np.int32)
            self.add_t = np.zeros(0, np.float32)
