"""A Milvus collection as the hash index: 256-bit binary vectors searched by Hamming radius.

When one machine's memory no longer holds the frame hashes, the codes move to Milvus, which
shards and replicates them across a cluster; every worker searches the same collection. The SQL
store stays the source of truth: the collection is derived from it, brought forward from the
change feed by whichever worker sees a change first (writes are upserts and deletes by frame id,
so two workers applying the same change leave one copy), and rebuilt by ``provkit video reindex``.

Layout: collection ``<name>`` holds ``(id INT64 primary key, video INT64, code BINARY_VECTOR(256))``
(``video``: the store's video key, so that a removal needs no frame ids) with a
``BIN_FLAT`` index by default (exact; ``BIN_IVF_FLAT`` on a cluster at 100 M+ codes), and
``<name>_sync`` one row recording the feed position the codes reflect. A search is a range search
(``radius``: Milvus keeps distances strictly below it, so ``radius + 1`` is sent) at strong
consistency, so a worker sees the codes another worker upserted before it read the feed.

milvus-lite (``uri`` a local ``.db`` file) runs the same API inside the process; release 2.5.1
supports binary vectors with Hamming range search (a 3.x release did not).
"""

from __future__ import annotations

import uuid
from typing import Any

import numpy as np
import numpy.typing as npt
from pymilvus import (  # type: ignore[import-untyped]
    Collection,
    DataType,
    MilvusClient,
    connections,
)

from provenance.fingerprint.backend import Hits
from provenance.fingerprint.errors import FingerprintError
from provenance.fingerprint.pdq import HASH_BITS, HASH_BYTES

#: default collection name
DEFAULT_COLLECTION = "provkit_fingerprints"
#: codes per insert or delete call (Milvus caps one request at 64 MB)
_BATCH = 50_000
_CONSISTENCY = "Strong"


class MilvusHashIndex:
    """Frame hashes in the Milvus collection ``collection`` at ``uri`` (a server URL, or a local
    file for milvus-lite); ``index_type`` is Milvus's binary index (``"BIN_FLAT"`` exact,
    ``"BIN_IVF_FLAT"`` with ``nlist``/``nprobe``). ``token`` authenticates on a secured cluster.
    """

    def __init__(
        self,
        uri: str,
        *,
        collection: str = DEFAULT_COLLECTION,
        index_type: str = "BIN_FLAT",
        nlist: int = 1024,
        nprobe: int = 64,
        token: str = "",
    ) -> None:
        if not uri:
            raise FingerprintError("the milvus backend needs a URI (PROVKIT_MILVUS_URI)")
        if index_type not in ("BIN_FLAT", "BIN_IVF_FLAT"):
            raise FingerprintError(f"unsupported Milvus index type {index_type!r}")
        self.uri = uri
        self.collection = collection
        self.index_type = index_type
        self.nlist = nlist
        self.nprobe = nprobe
        # bulk upserts go through the column-wise ORM call: MilvusClient's row-wise insert
        # appends each binary vector to one growing buffer (quadratic: 50,000 codes took
        # gigabytes), the column-wise call joins them once
        # unique per engine: an id() may be reused once an engine is gone, while pymilvus still
        # holds the alias with the old URI
        self._alias = f"provkit-fingerprints-{uuid.uuid4().hex}"
        try:
            self._client = MilvusClient(uri, token=token) if token else MilvusClient(uri)
            connections.connect(alias=self._alias, uri=uri, token=token)
        except Exception as exc:  # pymilvus raises its own exception types, or OSError
            raise FingerprintError(f"cannot reach Milvus at {uri}: {exc}") from exc
        self._ensure()

    # -- collections -----------------------------------------------------------------------
    @property
    def _sync_name(self) -> str:
        return self.collection + "_sync"

    def _ensure(self) -> None:
        c = self._client
        if not c.has_collection(self.collection):
            schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
            schema.add_field("id", DataType.INT64, is_primary=True)
            schema.add_field("video", DataType.INT64)
            schema.add_field("code", DataType.BINARY_VECTOR, dim=HASH_BITS)
            params = c.prepare_index_params()
            extra = {"nlist": self.nlist} if self.index_type == "BIN_IVF_FLAT" else {}
            params.add_index(
                "code", index_type=self.index_type, metric_type="HAMMING", params=extra
            )
            c.create_collection(
                self.collection,
                schema=schema,
                index_params=params,
                consistency_level=_CONSISTENCY,
            )
        if not c.has_collection(self._sync_name):
            schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
            schema.add_field("id", DataType.INT64, is_primary=True)
            schema.add_field("entry", DataType.INT64)
            schema.add_field("check", DataType.VARCHAR, max_length=128)
            # Milvus requires a vector field in every collection; this one carries nothing
            schema.add_field("unused", DataType.FLOAT_VECTOR, dim=2)
            params = c.prepare_index_params()
            params.add_index("unused", index_type="FLAT", metric_type="L2")
            c.create_collection(
                self._sync_name,
                schema=schema,
                index_params=params,
                consistency_level=_CONSISTENCY,
            )

    def close(self) -> None:
        """Close the client connections."""
        connections.disconnect(self._alias)
        self._client.close()

    # -- the engine interface --------------------------------------------------------------
    @property
    def kind(self) -> str:
        """``"milvus"``."""
        return "milvus"

    @property
    def ntotal(self) -> int:
        """Number of codes in the collection (a count query on the server)."""
        rows = self._client.query(
            self.collection, output_fields=["count(*)"], consistency_level=_CONSISTENCY
        )
        return int(rows[0]["count(*)"]) if rows else 0

    def build(self, hashes: npt.NDArray[np.uint8], ids: npt.NDArray[np.int64]) -> None:
        """Drop the collection and fill a new one with ``hashes``."""
        self._client.drop_collection(self.collection)
        self._client.drop_collection(self._sync_name)
        self._ensure()
        self.add(hashes, ids)

    def add(self, hashes: npt.NDArray[np.uint8], ids: npt.NDArray[np.int64]) -> None:
        """Upsert codes by id, without a video key (``-1``)."""
        self.upsert(hashes, ids, np.full(len(ids), -1, np.int64))

    def upsert(
        self,
        hashes: npt.NDArray[np.uint8],
        ids: npt.NDArray[np.int64],
        videos: npt.NDArray[np.int64],
    ) -> None:
        """Add or replace codes by id (adding an id twice keeps one copy)."""
        h = np.ascontiguousarray(hashes, dtype=np.uint8)
        i = np.ascontiguousarray(ids, dtype=np.int64).ravel()
        v = np.ascontiguousarray(videos, dtype=np.int64).ravel()
        if h.ndim != 2 or h.shape[1] != HASH_BYTES or not len(h) == len(i) == len(v):
            raise FingerprintError(f"expected (n, 32) hashes with n ids, got {h.shape}, {i.shape}")
        if not len(i):
            return
        collection = Collection(self.collection, using=self._alias)
        for s in range(0, len(i), _BATCH):
            codes = [row.tobytes() for row in h[s : s + _BATCH]]
            collection.upsert([i[s : s + _BATCH].tolist(), v[s : s + _BATCH].tolist(), codes])

    def remove(self, ids: npt.NDArray[np.int64]) -> int:
        """Delete codes by id; returns how many ids were asked for (Milvus does not say how
        many existed)."""
        i = np.ascontiguousarray(ids, dtype=np.int64).ravel()
        for s in range(0, len(i), _BATCH):
            self._client.delete(self.collection, ids=[int(k) for k in i[s : s + _BATCH]])
        return len(i)

    def remove_videos(self, videos: npt.NDArray[np.int64]) -> None:
        """Delete every code of the given video keys."""
        v = [int(k) for k in np.ascontiguousarray(videos, dtype=np.int64).ravel()]
        for s in range(0, len(v), 1000):
            self._client.delete(self.collection, filter=f"video in {v[s : s + 1000]}")

    def search(self, queries: npt.NDArray[np.uint8], k: int, radius: int) -> Hits:
        """Up to ``k`` codes within ``radius`` bits of each query, nearest first (range search)."""
        q = np.ascontiguousarray(queries, dtype=np.uint8)
        if q.ndim != 2 or q.shape[1] != HASH_BYTES:
            raise FingerprintError(f"expected (n, 32) query hashes, got {q.shape}")
        empty: Hits = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int32))
        if not len(q) or k <= 0:
            return empty
        params: dict[str, Any] = {"radius": radius + 1}
        if self.index_type == "BIN_IVF_FLAT":
            params["nprobe"] = self.nprobe
        result = self._client.search(
            self.collection,
            data=[row.tobytes() for row in q],
            anns_field="code",
            limit=min(k, 16_384),
            search_params={"metric_type": "HAMMING", "params": params},
            consistency_level=_CONSISTENCY,
        )
        counts = [len(hits) for hits in result]
        total = sum(counts)
        if not total:
            return empty
        qi = np.repeat(np.arange(len(q), dtype=np.int64), counts)
        ids = np.fromiter((h["id"] for hits in result for h in hits), np.int64, total)
        dist = np.fromiter((h["distance"] for hits in result for h in hits), np.float64, total)
        keep = dist <= radius
        return qi[keep], ids[keep], np.rint(dist[keep]).astype(np.int32)

    # -- feed position ---------------------------------------------------------------------
    def synced_to(self) -> tuple[int, str] | None:
        """The feed cursor the codes reflect, ``None`` when never recorded."""
        rows = self._client.query(
            self._sync_name,
            filter="id == 0",
            output_fields=["entry", "check"],
            consistency_level=_CONSISTENCY,
        )
        if not rows:
            return None
        return int(rows[0]["entry"]), str(rows[0]["check"])

    def mark_synced(self, entry_id: int, check: str) -> None:
        """Record the feed cursor the codes reflect."""
        self._client.upsert(
            self._sync_name,
            [{"id": 0, "entry": int(entry_id), "check": check[:128], "unused": [0.0, 0.0]}],
        )
