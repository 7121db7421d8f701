"""In-memory FAISS binary index over 256-bit frame hashes with int64 ids.

Exact search (``IndexBinaryFlat``) up to ``approx_min`` hashes; above it an inverted-file index
(``IndexBinaryIVF``) whose coarse centroids are a random sample of the indexed hashes (no k-means:
building stays fast and frame hashes of real videos are clustered already), probed at ``nprobe``
lists. Removal works on both.
"""

from __future__ import annotations

from typing import Any

import faiss
import numpy as np
import numpy.typing as npt

from provenance.fingerprint.errors import FingerprintError
from provenance.fingerprint.pdq import HASH_BITS, HASH_BYTES

#: Above this many hashes the index is approximate (IVF).
DEFAULT_APPROX_MIN = 1_000_000
#: IVF lists probed per query.
DEFAULT_NPROBE = 64

Hits = tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int32]]


def ivf_nlist(n: int) -> int:
    """Number of IVF lists for ``n`` hashes: the power of two nearest ``2 * sqrt(n)``."""
    target = max(16.0, 2.0 * np.sqrt(max(n, 1)))
    return int(2 ** round(np.log2(target)))


class HashIndex:
    """A FAISS binary index of ``(n, 32)`` uint8 hashes keyed by int64 ids."""

    def __init__(
        self,
        *,
        approx_min: int = DEFAULT_APPROX_MIN,
        nprobe: int = DEFAULT_NPROBE,
        nlist: int | None = None,
        seed: int = 0,
    ) -> None:
        self.approx_min = approx_min
        self.nprobe = nprobe
        #: IVF lists; ``None``: :func:`ivf_nlist` of the size at build time.
        self.nlist = nlist
        self.seed = seed
        self._index: Any = self._flat()

    @staticmethod
    def _flat() -> Any:
        return faiss.IndexBinaryIDMap(faiss.IndexBinaryFlat(HASH_BITS))

    @property
    def kind(self) -> str:
        """``"flat"`` (exact) or ``"ivf"`` (approximate)."""
        return "ivf" if isinstance(self._index, faiss.IndexBinaryIVF) else "flat"

    @property
    def ntotal(self) -> int:
        """Number of indexed hashes."""
        return int(self._index.ntotal)

    @staticmethod
    def _check(
        hashes: npt.NDArray[np.uint8], ids: npt.NDArray[np.int64]
    ) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]:
        h = np.ascontiguousarray(hashes, dtype=np.uint8)
        i = np.ascontiguousarray(ids, dtype=np.int64)
        if h.ndim != 2 or h.shape[1] != HASH_BYTES or len(h) != len(i):
            raise FingerprintError(
                f"expected (n, 32) hashes and n ids, got {h.shape} and {i.shape}"
            )
        return h, i

    def build(self, hashes: npt.NDArray[np.uint8], ids: npt.NDArray[np.int64]) -> None:
        """Replace the contents with ``hashes``; the kind follows the size."""
        h, i = self._check(hashes, ids)
        if len(h) > self.approx_min:
            rng = np.random.default_rng(self.seed)
            nlist = self.nlist or ivf_nlist(len(h))
            sample = h[rng.choice(len(h), size=min(nlist, len(h)), replace=False)]
            quantizer = faiss.IndexBinaryFlat(HASH_BITS)
            quantizer.add(sample)
            index: Any = faiss.IndexBinaryIVF(quantizer, HASH_BITS, len(sample))
            index.own_fields = True
            quantizer.this.disown()  # type: ignore[attr-defined]
            index.is_trained = True
            index.nprobe = self.nprobe
        else:
            index = self._flat()
        if len(h):
            index.add_with_ids(h, i)
        self._index = index

    def codes(self) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]:
        """All indexed hashes and their ids (exact kind only; used when switching kinds)."""
        if self.kind != "flat":
            raise FingerprintError("codes() is available on the exact index only")
        flat: Any = faiss.downcast_IndexBinary(self._index.index)
        codes = faiss.vector_to_array(flat.xb).reshape(-1, HASH_BYTES)
        ids = faiss.vector_to_array(self._index.id_map).astype(np.int64)
        return codes, ids

    def add(self, hashes: npt.NDArray[np.uint8], ids: npt.NDArray[np.int64]) -> None:
        """Add hashes; an exact index that grows past ``approx_min`` becomes approximate."""
        h, i = self._check(hashes, ids)
        if not len(h):
            return
        if self.kind == "flat" and self.ntotal + len(h) > self.approx_min:
            old_h, old_i = self.codes()
            self.build(np.concatenate([old_h, h]), np.concatenate([old_i, i]))
            return
        self._index.add_with_ids(h, i)

    def remove(self, ids: npt.NDArray[np.int64]) -> int:
        """Remove ``ids``; returns how many hashes were removed."""
        i = np.ascontiguousarray(ids, dtype=np.int64)
        if not len(i):
            return 0
        return int(self._index.remove_ids(faiss.IDSelectorBatch(len(i), faiss.swig_ptr(i))))

    def search(self, queries: npt.NDArray[np.uint8], k: int, radius: int) -> Hits:
        """Up to ``k`` neighbours within ``radius`` bits of each query, in one batched call.

        Returns flat arrays ``(query_index, id, distance)`` of the hits.
        """
        q = np.ascontiguousarray(queries, dtype=np.uint8)
        if q.ndim != 2 or q.shape[1] != HASH_BYTES:
            raise FingerprintError(f"expected (n, 32) query hashes, got {q.shape}")
        k = min(k, self.ntotal)
        if not len(q) or k <= 0:
            empty = np.zeros(0, np.int64)
            return empty, empty.copy(), np.zeros(0, np.int32)
        if isinstance(self._index, faiss.IndexBinaryIVF):
            self._index.nprobe = self.nprobe
        dist, ids = self._index.search(q, k)
        mask = (ids >= 0) & (dist <= radius)
        qi = np.nonzero(mask)[0].astype(np.int64)
        return qi, ids[mask].astype(np.int64), dist[mask].astype(np.int32)

    def serialize(self) -> npt.NDArray[np.uint8]:
        """The index as bytes (FAISS's own format)."""
        return np.asarray(faiss.serialize_index_binary(self._index), dtype=np.uint8)

    def load(self, data: npt.NDArray[np.uint8]) -> None:
        """Replace the index by one serialized with :meth:`serialize`."""
        try:
            index = faiss.deserialize_index_binary(np.ascontiguousarray(data, dtype=np.uint8))
        except RuntimeError as exc:
            raise FingerprintError(f"corrupt FAISS index ({exc})".splitlines()[0]) from exc
        if index.d != HASH_BITS:
            raise FingerprintError(f"index has {index.d}-bit codes, expected {HASH_BITS}")
        if isinstance(index, faiss.IndexBinaryIVF):
            index.nprobe = self.nprobe
        self._index = index
