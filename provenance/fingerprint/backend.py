"""The hash index interface: add, remove and range-search 256-bit hashes keyed by int64 ids.

:class:`~provenance.fingerprint.index.FingerprintIndex` keeps the store, the change feed and the
temporal vote; the engine behind it only answers "which ids lie within ``radius`` bits of these
hashes". Two implementations:

- ``local`` (:class:`~provenance.fingerprint.faiss_index.HashIndex`): in this process's memory,
  FAISS exact search and a multi-index hash at scale, saved in a file beside the store;
- ``milvus`` (:class:`~provenance.fingerprint.milvus_index.MilvusHashIndex`): a Milvus
  collection of ``BINARY_VECTOR`` codes searched by ``HAMMING`` radius, shared by every worker
  (milvus-lite embedded in one process for tests; a cluster in production).

A *shared* engine outlives the process and is written by whichever worker applies a change
first; it records the feed position it reflects (:meth:`SharedHashEngine.synced_to`), so a
worker that starts or falls behind brings it forward from the feed instead of rebuilding it.
"""

from __future__ import annotations

import importlib
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from provenance.fingerprint.errors import FingerprintError

#: flat arrays ``(query_index, id, distance)`` of the hits of a batched search
Hits = tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int32]]

#: names accepted by :func:`provenance.fingerprint.backends.open_backend`
BACKENDS = ("local", "milvus")


@runtime_checkable
class HashEngine(Protocol):
    """An index of ``(n, 32)`` uint8 hashes keyed by int64 ids."""

    @property
    def kind(self) -> str:
        """What searches: ``"flat"``, ``"mih"``, ``"ivf"`` (local) or ``"milvus"``."""
        ...

    @property
    def ntotal(self) -> int:
        """Number of indexed hashes."""
        ...

    def build(self, hashes: npt.NDArray[np.uint8], ids: npt.NDArray[np.int64]) -> None:
        """Replace the contents with ``hashes`` under ``ids``."""
        ...

    def add(self, hashes: npt.NDArray[np.uint8], ids: npt.NDArray[np.int64]) -> None:
        """Add hashes (ids not yet present)."""
        ...

    def remove(self, ids: npt.NDArray[np.int64]) -> int:
        """Remove ``ids`` (absent ones are ignored); returns how many were removed."""
        ...

    def search(self, queries: npt.NDArray[np.uint8], k: int, radius: int) -> Hits:
        """Up to ``k`` neighbours within ``radius`` bits of each query, in one batched call."""
        ...


@runtime_checkable
class SharedHashEngine(HashEngine, Protocol):
    """An engine outside the process, shared by workers: it remembers how far in the store's
    change feed its contents are (written after the contents, so a crash between the two only
    makes a worker apply the same, idempotent, changes again)."""

    def upsert(
        self,
        hashes: npt.NDArray[np.uint8],
        ids: npt.NDArray[np.int64],
        videos: npt.NDArray[np.int64],
    ) -> None:
        """Add or replace codes by id, each tagged with its video key."""
        ...

    def remove_videos(self, videos: npt.NDArray[np.int64]) -> None:
        """Remove every code of the given video keys (which workers may no longer know the
        frame ids of: the store deleted them)."""
        ...

    def synced_to(self) -> tuple[int, str] | None:
        """The feed cursor ``(id, check)`` the contents reflect; ``None`` when never built."""
        ...

    def mark_synced(self, entry_id: int, check: str) -> None:
        """Record that the contents reflect the feed up to ``entry_id``."""
        ...


def open_backend(name: str, *, milvus_uri: str | None = None) -> HashEngine | None:
    """The engine named ``name``: ``None`` for ``"local"`` (the index makes its own in-process
    engine), a :class:`~provenance.fingerprint.milvus_index.MilvusHashIndex` for ``"milvus"``.

    Milvus's client is an optional dependency (the ``milvus`` extra), imported only when chosen.
    Raises :class:`FingerprintError` for an unknown name, a missing URI or a missing client.
    """
    if name == "local":
        return None
    if name != "milvus":
        raise FingerprintError(f"unknown fingerprint backend {name!r} (choose from {BACKENDS})")
    if not milvus_uri:
        raise FingerprintError("the milvus backend needs PROVKIT_MILVUS_URI")
    try:
        module = importlib.import_module("provenance.fingerprint.milvus_index")
    except ImportError as exc:
        raise FingerprintError(
            f"the milvus backend needs pymilvus and milvus-lite (pip install 'provkit[milvus]'): "
            f"{exc}"
        ) from exc
    engine: HashEngine = module.MilvusHashIndex(milvus_uri)
    return engine
