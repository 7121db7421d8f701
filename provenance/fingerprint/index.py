"""``FingerprintIndex``: registered videos' frame hashes in the SQL store, searched by an engine.

The SQL store (tables of migrations ``0002_fingerprints`` and ``0006_fingerprint_feed``) is the
source of truth. The hash engine (:mod:`provenance.fingerprint.backend`: in-process FAISS and
multi-index hash, or a shared Milvus collection) is derived from it. Every write appends to the
store's change feed (:mod:`provenance.fingerprint.feed`) in the same transaction; every index
remembers the last feed entry it applied, so keeping up with other workers costs one primary-key
lookup when nothing changed and O(changes) when something did, never a rescan of the frame table:

```
    refresh()  ──  feed head == cursor?  ── yes ─►  "current"          (0.2-0.4 ms at any size)
                          │ no
                          ▼
               entries after cursor ─► net effect per video ─► load added videos' frames,
                                                               drop removed ones  ─► "synced"
```

A local engine is saved in one file beside the store (temporary file, then rename, so a crash
never leaves a half-written index) together with its feed cursor; on opening, a file whose cursor
belongs to this store's feed is loaded and brought forward from the feed, and the index is
rebuilt from the store only when the file is missing or unreadable. With ``shared=True`` (what
the service's workers use) that file is mapped read-only and shared by every process of the
machine, which keeps only its recent changes privately (:mod:`provenance.fingerprint.shared`). Per indexed hash, the video key
and time are kept in this process (16 bytes per hash) for the temporal vote, whatever the engine.
"""

from __future__ import annotations

import os
import tempfile
import threading
import zipfile
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Engine, delete, func, insert, inspect, select
from sqlalchemy.orm import Session

from provenance.fingerprint import feed, mapfile
from provenance.fingerprint.backend import HashEngine, SharedHashEngine
from provenance.fingerprint.errors import FingerprintError
from provenance.fingerprint.faiss_index import (
    DEFAULT_APPROX_MIN,
    DEFAULT_NPROBE,
    Approx,
    HashIndex,
)
from provenance.fingerprint.matching import VideoMatch, vote
from provenance.fingerprint.models import FingerprintFrame, FingerprintVideo
from provenance.fingerprint.pdq import HASH_BYTES
from provenance.fingerprint.rowtable import RowTable
from provenance.fingerprint.shared import (
    DEFAULT_FOLD_ROWS,
    MappedHashIndex,
    file_lock,
    open_shared,
    write_shared,
)
from provenance.fingerprint.video import VideoFingerprint
from provenance.registry.db import make_engine, session_factory, transaction

#: Hamming distance at or below which two frame hashes match (PDQ's recommended 31): every
#: reported source has at least one frame this close.
DEFAULT_THRESHOLD = 31
#: Looser distance at which further frames of an already anchored (video, offset) may vote.
DEFAULT_VOTE_THRESHOLD = 48
#: Default frame rate for fingerprinting a query (denser than registration's 1 frame/s, so that
#: some query frames fall close to the registered frames whatever the phase of the sampling).
QUERY_SAMPLE_FPS = 4.0
#: A local index rewrites its file once it is this many feed entries ahead of it (the file is
#: a start-up cache: an older file plus the feed's later entries opens just as well).
DEFAULT_SAVE_LAG = 256
_FILE_VERSION = 3
#: video keys per ``IN (...)`` query when loading changed videos
_PK_CHUNK = 500

_TABLES = {"fingerprint_videos", "fingerprint_frames", "fingerprint_changes"}


def default_index_path(db_url: str) -> Path | None:
    """``<store>.fingerprints.npz`` beside a SQLite file store; ``None`` for server databases."""
    if db_url.startswith("sqlite") and "///" in db_url:
        path = db_url.split("///", 1)[1].split("?", 1)[0]
        if path and path != ":memory:":
            p = Path(path)
            return p.with_name(p.stem + ".fingerprints.npz")
    return None


#: Stored variant of the first reference window (see :mod:`provenance.fingerprint.windows`).
WINDOW_VARIANT = 2


def _frame_rows(
    fp: VideoFingerprint,
) -> tuple[
    npt.NDArray[np.uint8], npt.NDArray[np.float64], npt.NDArray[np.int32], npt.NDArray[np.int8]
]:
    """Hashes, times, qualities and variants of the rows a fingerprint is stored as: every frame,
    (when present) the hash of its central region (variant 1), and the reference windows that
    apply to the frame (variant ``WINDOW_VARIANT + k`` for window ``k`` of ``fp.windows``; a
    window equal to the full-frame hash is not stored twice)."""
    hashes, times, quality = fp.hashes, fp.times.astype(np.float64), fp.quality
    variant = np.zeros(len(fp), np.int8)
    if fp.crop is not None and len(fp):
        hashes = np.concatenate([hashes, fp.crop])
        times = np.concatenate([times, times])
        quality = np.concatenate([quality, quality])
        variant = np.concatenate([variant, np.ones(len(fp), np.int8)])
    if fp.windows is not None and len(fp):
        frame, k = np.nonzero(np.any(fp.windows != fp.hashes[:, None, :], axis=2))
        hashes = np.concatenate([hashes, fp.windows[frame, k]])
        times = np.concatenate([times, fp.times[frame].astype(np.float64)])
        quality = np.concatenate([quality, fp.quality[frame]])
        variant = np.concatenate([variant, (WINDOW_VARIANT + k).astype(np.int8)])
    return hashes, times, quality, variant


class _Rows:
    """Frame rows read from the store: ids (sorted), video keys, times and (optionally) codes."""

    def __init__(
        self,
        ids: npt.NDArray[np.int64],
        vpk: npt.NDArray[np.int32],
        t: npt.NDArray[np.float32],
        codes: npt.NDArray[np.uint8] | None,
    ) -> None:
        self.ids, self.vpk, self.t, self.codes = ids, vpk, t, codes


def _read_rows(session: Session, video_pks: Iterable[int] | None, codes: bool) -> _Rows:
    """Frame rows of ``video_pks`` (every video when ``None``), ordered by id."""
    cols: list[Any] = [FingerprintFrame.id, FingerprintFrame.video_pk, FingerprintFrame.t_s]
    if codes:
        cols.append(FingerprintFrame.pdq)
    if video_pks is None:
        groups: list[list[int] | None] = [None]
    else:
        pks = sorted(video_pks)
        groups = [pks[i : i + _PK_CHUNK] for i in range(0, len(pks), _PK_CHUNK)]
    ids: list[npt.NDArray[np.int64]] = []
    vpk: list[npt.NDArray[np.int64]] = []
    ts: list[npt.NDArray[np.float64]] = []
    hs: list[npt.NDArray[np.uint8]] = []
    for group in groups:
        stmt = select(*cols).order_by(FingerprintFrame.id)
        if group is not None:
            stmt = stmt.where(FingerprintFrame.video_pk.in_(group))
        for part in session.execute(stmt.execution_options(yield_per=50_000)).partitions():
            ids.append(np.fromiter((r[0] for r in part), np.int64, len(part)))
            vpk.append(np.fromiter((r[1] for r in part), np.int64, len(part)))
            ts.append(np.fromiter((r[2] for r in part), np.float64, len(part)))
            if codes:
                raw = b"".join(bytes(r[3]) for r in part)
                hs.append(np.frombuffer(raw, np.uint8).reshape(-1, HASH_BYTES))
    out = _Rows(
        np.concatenate(ids) if ids else np.zeros(0, np.int64),
        (np.concatenate(vpk) if vpk else np.zeros(0)).astype(np.int32),
        (np.concatenate(ts) if ts else np.zeros(0)).astype(np.float32),
        (np.concatenate(hs) if hs else np.zeros((0, HASH_BYTES), np.uint8)) if codes else None,
    )
    if len(groups) > 1 and len(out.ids) > 1:
        order = np.argsort(out.ids, kind="stable")
        out.ids, out.vpk, out.t = out.ids[order], out.vpk[order], out.t[order]
        out.codes = out.codes[order] if out.codes is not None else None
    return out


class FingerprintIndex:
    """Register video fingerprints and find the sources of a query video.

    ``db_url`` is the store (migrated to ``0006_fingerprint_feed``); ``index_path`` the saved
    local index (default: beside a SQLite store; ``None`` for a server database keeps it in memory
    and rebuilds it on every open). A source is reported when at least ``min_frames`` query frames
    (in distinct seconds) agree on its time offset within ``vote_threshold`` bits and at least
    one of them is within ``threshold`` bits, or, without such an anchor, when frames in at least
    ``min_unanchored_seconds`` distinct seconds agree (heavily overlaid copies). ``k`` is the
    neighbours fetched per query frame; ``approx_min`` is the size above which the local index is
    approximate, ``approx`` its kind (``"mih"``: multi-index hash, the default; ``"ivf"``: FAISS
    IVF probed at ``nprobe`` lists). ``backend`` replaces the local engine (a
    :class:`~provenance.fingerprint.backend.SharedHashEngine` such as Milvus is shared by every
    worker and not saved to ``index_path``). ``engine`` is the process's store engine when it has
    one (else the index makes its own). ``shared``: the local engine is one file beside
    ``index_path`` (``.map``) mapped read-only by every process of the machine that opens it
    this way, each keeping privately only the changes since the file was written, folded into a
    new file past ``fold_rows`` rows (:mod:`provenance.fingerprint.shared`). One instance may be
    used from several threads.
    """

    def __init__(
        self,
        db_url: str,
        index_path: str | os.PathLike[str] | None = None,
        *,
        threshold: int = DEFAULT_THRESHOLD,
        vote_threshold: int = DEFAULT_VOTE_THRESHOLD,
        min_frames: int = 3,
        min_unanchored_seconds: int = 6,
        k: int = 64,
        approx_min: int = DEFAULT_APPROX_MIN,
        nprobe: int = DEFAULT_NPROBE,
        approx: Approx = "mih",
        autosave: bool = True,
        save_lag: int = DEFAULT_SAVE_LAG,
        backend: HashEngine | None = None,
        engine: Engine | None = None,
        shared: bool = False,
        fold_rows: int = DEFAULT_FOLD_ROWS,
    ) -> None:
        if not 0 <= threshold <= vote_threshold < 256:
            raise FingerprintError("need 0 <= threshold <= vote_threshold < 256 bits")
        self.db_url = db_url
        self.index_path = Path(index_path) if index_path is not None else default_index_path(db_url)
        self.threshold = threshold
        self.vote_threshold = vote_threshold
        self.min_frames = max(1, min_frames)
        self.min_unanchored_seconds = max(1, min_unanchored_seconds)
        self.k = max(1, k)
        self.autosave = autosave
        self.save_lag = max(1, save_lag)
        # a process shares one engine (``engine``); the index makes its own only when alone
        self._owns_engine = engine is None
        self._engine = engine if engine is not None else make_engine(db_url)
        self._sessions = session_factory(self._engine)
        self._poller = feed.HeadPoller(self._engine)
        if not set(inspect(self._engine).get_table_names()) >= _TABLES:
            self.close()
            raise FingerprintError("the store has no fingerprint tables: run `provkit db upgrade`")
        self._hash: HashEngine = (
            backend
            if backend is not None
            else HashIndex(approx_min=approx_min, approx=approx, nprobe=nprobe)
        )
        self._shared: SharedHashEngine | None = (
            backend if isinstance(backend, SharedHashEngine) else None
        )
        self._approx_min = approx_min
        #: the local engine is a mapped file shared by the machine's workers (multi-index hash
        #: or exact kinds only) beside the saved index: ``fingerprints.map``
        self.shared_path: Path | None = (
            self.index_path.with_suffix(".map")
            if shared and backend is None and approx == "mih" and self.index_path is not None
            else None
        )
        self.fold_rows = max(1, fold_rows)
        self._map_identity: tuple[int, int, int] | None = None
        self._mapped: mapfile.MappedFile | None = None
        self._lock = threading.RLock()
        # per indexed hash, sorted by id: its video key and time (compact: 16 bytes per hash)
        self._rows = RowTable()
        self._names: dict[int, str] = {}
        #: video keys whose frames are in the index
        self._indexed: set[int] = set()
        self._cursor = feed.Cursor()
        self._saved_at = -1
        #: how the index was obtained on the last (re)load: "file" or "rebuilt"
        self.loaded_from = ""
        self.refresh()

    # -- lifecycle -------------------------------------------------------------------------
    def close(self) -> None:
        """Release the feed poller's connection and the database connection pool (when the
        index made its own)."""
        self._poller.close()
        if self._owns_engine:
            self._engine.dispose()

    def __enter__(self) -> FingerprintIndex:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def kind(self) -> str:
        """``"flat"`` (exact search), ``"mih"``, ``"ivf"`` (approximate) or ``"milvus"``."""
        return self._hash.kind

    @property
    def n_frames(self) -> int:
        """Number of indexed hashes (full-frame and central-region hashes)."""
        return len(self._rows)

    @property
    def cursor(self) -> int:
        """Id of the last change-feed entry this index has applied."""
        return self._cursor.id

    def videos(self) -> dict[str, int]:
        """Registered video ids and their number of frame hashes."""
        with self._sessions() as s:
            rows = s.execute(select(FingerprintVideo.video_id, FingerprintVideo.n_frames)).all()
        return {str(v): int(n) for v, n in rows}

    def is_current(self) -> bool:
        """True when no change was written to the store since this index last looked (one
        primary-key lookup on the change feed)."""
        return self._poller.read() == self._cursor.id

    def refresh(self) -> str:
        """Bring the index in line with the store.

        Returns ``"current"`` (nothing changed), ``"synced"`` (the feed's new entries were
        applied), or, on the first call and whenever the feed went backwards (a replaced store),
        ``"file"`` (the saved file, brought forward from the feed) or ``"rebuilt"``.
        """
        with self._lock:
            if self.shared_path is not None and self.loaded_from:
                self._follow_shared_file()
            top = self._poller.read()
            if self.loaded_from and top == self._cursor.id:
                return "current"
            if self.loaded_from and top > self._cursor.id:
                self._catch_up()
                return "synced"
            self._open()
            return self.loaded_from

    def reindex(self) -> int:
        """Rebuild the engine from the store (a shared engine or file too); returns the hashes
        indexed."""
        with self._lock:
            if self.shared_path is not None:
                with file_lock(self.shared_path.with_suffix(".lock")):
                    self._rebuild(full_engine=True)
            else:
                self._rebuild(full_engine=True)
            self.loaded_from = "rebuilt"
            self._catch_up()
            return self.n_frames

    # -- opening ---------------------------------------------------------------------------
    def _open(self) -> None:
        with self._sessions() as s:
            self._names = {
                int(pk): str(v)
                for pk, v in s.execute(select(FingerprintVideo.id, FingerprintVideo.video_id))
            }
        if self.shared_path is not None:
            with file_lock(self.shared_path.with_suffix(".lock")):
                if self._open_shared():
                    self.loaded_from = "file"
                else:
                    self._rebuild(full_engine=True)
                    self.loaded_from = "rebuilt"
        elif self._shared is None and self._load_file():
            self.loaded_from = "file"
        else:
            self._rebuild(full_engine=self._shared is None)
            self.loaded_from = "rebuilt"
        self._catch_up()

    def _load_file(self) -> bool:
        if self.index_path is None or not self.index_path.is_file():
            return False
        try:
            with np.load(self.index_path, allow_pickle=False) as z:
                if int(z["version"]) != _FILE_VERSION:
                    return False
                saved = feed.Cursor(int(z["cursor"]), str(z["cursor_check"]))
                with self._sessions() as s:
                    if feed.cursor_at(s, saved.id) != saved:
                        return False  # a file of another store, or of a store since replaced
                ids, vpk, t = z["ids"].astype(np.int64), z["vpk"].astype(np.int64), z["t"]
                state = {k[5:]: z[k] for k in z.files if k.startswith("hash_")}
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
            return False
        if not len(ids) == len(vpk) == len(t) or not isinstance(self._hash, HashIndex):
            return False
        try:
            self._hash.load_state(state)
        except FingerprintError:
            return False
        if self._hash.ntotal != len(ids):
            return False
        self._rows = RowTable(ids, vpk.astype(np.int32), t.astype(np.float32))
        self._indexed = self._rows.videos()
        self._cursor = saved
        self._saved_at = saved.id
        return True

    def _rebuild(self, *, full_engine: bool) -> None:
        """Reload every frame row; ``full_engine``: also refill the engine with their codes."""
        # the cursor first: whatever commits during the scan is applied again (idempotently)
        with self._sessions() as s:
            cursor = feed.cursor_at(s, feed.head(s))
        with self._sessions() as s:
            rows = _read_rows(s, None, codes=full_engine)
        self._cursor = cursor
        if self.shared_path is not None and rows.codes is not None:
            self._write_shared(rows.codes, (rows.ids, rows.vpk, rows.t))
            return
        self._rows = RowTable(rows.ids, rows.vpk, rows.t)
        self._indexed = self._rows.videos()
        if full_engine and rows.codes is not None:
            if self._shared is not None:
                self._shared.build(np.zeros((0, HASH_BYTES), np.uint8), np.zeros(0, np.int64))
                self._shared.upsert(rows.codes, rows.ids, rows.vpk.astype(np.int64))
                self._shared.mark_synced(cursor.id, cursor.check)
            else:
                self._hash.build(rows.codes, rows.ids)
        if self.autosave:
            self.save()

    # -- following the feed ----------------------------------------------------------------
    def _catch_up(self) -> None:
        """Apply the feed's entries after the cursor (O(changes)), then bring the engine's
        storage forward: a shared engine to this cursor, a delta grown past ``fold_rows`` into
        the shared file (or the in-memory base), the saved file past ``save_lag`` entries."""
        self._apply_feed()
        if self._shared is not None:
            self._sync_shared()
        elif self.shared_path is not None:
            if self._rows.pending >= max(self.fold_rows, len(self._rows) // 64):
                self._fold_shared()
        else:
            if self._rows.pending >= max(self.fold_rows, len(self._rows) // 64):
                self._rows.fold()
            if self.autosave and self._cursor.id - self._saved_at >= self.save_lag:
                self.save()

    def _apply_feed(self) -> None:
        with self._sessions() as s:
            changes = feed.since(s, self._cursor.id)
            if changes:
                last = feed.cursor_at(s, changes[-1].id)
                added, removed = feed.net_effect(changes)
                added -= self._indexed
                removed = {pk for pk in removed if pk in self._indexed or pk in self._names}
                rows = _read_rows(s, added, codes=self._shared is None) if added else None
                if added:
                    names = s.execute(
                        select(FingerprintVideo.id, FingerprintVideo.video_id).where(
                            FingerprintVideo.id.in_(sorted(added))
                        )
                    ).all()
                    self._names.update({int(pk): str(v) for pk, v in names})
        if changes:
            self._drop_videos(removed)
            if rows is not None:
                self._append(rows, added)
            self._cursor = last

    def _drop_videos(self, pks: set[int]) -> None:
        for pk in pks:
            self._names.pop(pk, None)
        if not pks or not len(self._rows):
            self._indexed -= pks
            return
        gone = self._rows.drop_videos(np.fromiter(pks, np.int64, len(pks)))
        if self._shared is None and len(gone):
            self._hash.remove(gone)
        self._indexed -= pks

    def _append(self, rows: _Rows, pks: Iterable[int]) -> None:
        if len(rows.ids):
            if self._shared is None and rows.codes is not None:
                self._hash.add(rows.codes, rows.ids)
            self._rows.append(rows.ids, rows.vpk, rows.t)
        self._indexed |= set(pks)

    def _sync_shared(self) -> None:
        """Bring a shared engine up to this index's cursor, from wherever the engine stands.

        The engine records its own feed position; whichever worker finds it behind applies the
        entries in between (upserts of added videos' codes read from the store, deletions of
        removed videos by key), so the engine reflects the store without any worker rebuilding it.
        """
        engine = self._shared
        assert engine is not None
        synced = engine.synced_to()
        if synced is not None and synced[0] >= self._cursor.id:
            return
        with self._sessions() as s:
            valid = synced is not None and feed.cursor_at(s, synced[0]) == feed.Cursor(*synced)
            if not valid:
                rows = _read_rows(s, None, codes=True)
                removed: set[int] = set()
                added: set[int] | None = None
            else:
                assert synced is not None
                changes = [c for c in feed.since(s, synced[0]) if c.id <= self._cursor.id]
                added, removed = feed.net_effect(changes)
                rows = _read_rows(s, added, codes=True)
        assert rows.codes is not None
        if added is None:
            engine.build(np.zeros((0, HASH_BYTES), np.uint8), np.zeros(0, np.int64))
        if removed:
            engine.remove_videos(np.fromiter(removed, np.int64, len(removed)))
        if len(rows.ids):
            engine.upsert(rows.codes, rows.ids, rows.vpk.astype(np.int64))
        engine.mark_synced(self._cursor.id, self._cursor.check)

    # -- the shared local file -------------------------------------------------------------
    def _open_shared(self) -> bool:
        """Map the shared file when it is this store's; ``False`` when missing, corrupt or of
        another store."""
        assert self.shared_path is not None
        try:
            mf, engine = open_shared(self.shared_path)
            if int(mf.meta["version"]) != _FILE_VERSION:
                return False
            saved = feed.Cursor(int(mf.meta["cursor"]), str(mf.meta["cursor_check"]))
            videos = mf.arrays["videos"]
        except (FingerprintError, KeyError, ValueError, TypeError):
            return False
        with self._sessions() as s:
            if feed.cursor_at(s, saved.id) != saved:
                return False
        if self.loaded_from and saved.id > self._cursor.id:
            self._learn_names(self._cursor.id, saved.id)
        self._hash = engine
        self._rows = RowTable(engine.base_ids, mf.arrays["vpk"], mf.arrays["t"])
        self._indexed = set(videos.tolist())
        self._cursor = saved
        self._saved_at = saved.id
        self._map_identity = mf.identity
        self._mapped = mf
        return True

    def _learn_names(self, after: int, upto: int) -> None:
        """Names of the videos added (and forget those removed) by feed entries ``after < id <=
        upto``: a file written by another worker may hold videos this index never applied."""
        with self._sessions() as s:
            added, removed = feed.net_effect([c for c in feed.since(s, after) if c.id <= upto])
            pks = sorted(added)
            for i in range(0, len(pks), _PK_CHUNK):
                rows = s.execute(
                    select(FingerprintVideo.id, FingerprintVideo.video_id).where(
                        FingerprintVideo.id.in_(pks[i : i + _PK_CHUNK])
                    )
                ).all()
                self._names.update({int(pk): str(v) for pk, v in rows})
        for pk in removed:
            self._names.pop(pk, None)

    def _follow_shared_file(self) -> None:
        """Map the shared file anew when another worker replaced it (one ``stat``): its pages
        are the ones every worker shares, and this worker's delta shrinks to what came after."""
        assert self.shared_path is not None
        found = mapfile.identity(self.shared_path)
        if found is not None and found != self._map_identity:
            self._open_shared()

    def _write_shared(
        self,
        codes: npt.NDArray[np.uint8],
        rows: tuple[npt.NDArray[np.int64], npt.NDArray[np.int32], npt.NDArray[np.float32]],
    ) -> None:
        """Write the shared file at this index's cursor and map it (call under the file lock)."""
        assert self.shared_path is not None
        meta = {
            "version": _FILE_VERSION,
            "cursor": self._cursor.id,
            "cursor_check": self._cursor.check,
        }
        write_shared(self.shared_path, codes, rows, meta, approx_min=self._approx_min)
        if not self._open_shared():
            raise FingerprintError("the shared index file could not be read back")

    def _fold_shared(self) -> None:
        """Write base + delta as the new shared file, unless another worker just did."""
        assert self.shared_path is not None
        with file_lock(self.shared_path.with_suffix(".lock")):
            if mapfile.identity(self.shared_path) != self._map_identity and self._open_shared():
                self._apply_feed()  # another worker's newer file: only its later entries remain
                if self._rows.pending < max(self.fold_rows, len(self._rows) // 64):
                    return
            if not self._rows.pending and self._map_identity is not None:
                return
            assert isinstance(self._hash, MappedHashIndex)
            codes, code_ids = self._hash.merged_codes()
            rows = self._rows.merged()
            if not np.array_equal(code_ids, rows[0]):
                self._rebuild(full_engine=True)  # never expected: the store decides
                return
            self._write_shared(codes, rows)

    def save(self) -> None:
        """Write the local index file (atomically: temporary file, then rename); a shared local
        index folds its delta into a new shared file."""
        if self.shared_path is not None:
            self._fold_shared()
            return
        if self.index_path is None or not isinstance(self._hash, HashIndex):
            return  # a shared engine keeps itself; another in-process engine is not saved
        self.index_path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(
            prefix=self.index_path.name + ".", suffix=".tmp", dir=self.index_path.parent
        )
        try:
            hash_arrays: dict[str, Any] = {f"hash_{k}": v for k, v in self._hash.state().items()}
            ids, vpk, t = self._rows.merged()
            with os.fdopen(fd, "wb") as f:
                np.savez(
                    f,
                    version=np.array(_FILE_VERSION),
                    cursor=np.array(self._cursor.id, dtype=np.int64),
                    cursor_check=np.array(self._cursor.check),
                    **hash_arrays,
                    ids=ids,
                    vpk=vpk,
                    t=t,
                )
            os.replace(tmp, self.index_path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self._saved_at = self._cursor.id

    # -- writes ----------------------------------------------------------------------------
    def add(self, video_id: str, fp: VideoFingerprint) -> int:
        """Register ``fp`` under ``video_id``; returns the number of frame hashes indexed.

        Raises :class:`FingerprintError` when the id is empty, too long or already registered.
        """
        return self.add_many([(video_id, fp)])

    def add_many(self, items: list[tuple[str, VideoFingerprint]]) -> int:
        """Register several videos in one transaction (all or none); returns the frames indexed.

        Each frame is stored and indexed as its full-frame hash plus, when the fingerprint has
        them, the hash of its central region (so a copy cropped at the borders still matches).
        The transaction also appends one change-feed entry per video, which is how every other
        worker learns of them.
        """
        names = [v for v, _ in items]
        for v in names:
            if not v or len(v) > 255 or v != v.strip():
                raise FingerprintError("a video id is 1-255 characters without surrounding spaces")
        if len(set(names)) != len(names):
            raise FingerprintError("the same video id is given twice")
        self.refresh()
        # the store's transaction runs outside the index lock: searches in this process go on
        # while the rows are written (the lock guards memory, the store orders the writers)
        with transaction(self._sessions) as s:
            exists = s.scalars(
                select(FingerprintVideo.video_id).where(FingerprintVideo.video_id.in_(names))
            ).first()
            if exists is not None:
                raise FingerprintError(f"video {exists!r} is already registered")
            written = [self._insert(s, video_id, fp) for video_id, fp in items]
            entries = feed.append(s, [(pk, feed.ADD) for pk, _ in written])
        with self._lock:
            if entries and self._cursor.id < min(entries):
                # nothing here has read past these entries: index the rows in hand (the feed
                # then skips them); otherwise a refresh in between already read them back
                for (pk, rows), name in zip(written, names, strict=True):
                    self._names[pk] = name
                    self._append(rows, [pk])
            self._catch_up()
        return sum(len(fp) for _, fp in items)

    def _insert(self, s: Session, video_id: str, fp: VideoFingerprint) -> tuple[int, _Rows]:
        """Insert one video and its frame rows; returns its key and the rows as indexed."""
        hashes, times, quality, variant = _frame_rows(fp)
        video = FingerprintVideo(
            video_id=video_id,
            duration_s=float(fp.duration),
            n_frames=len(fp),
            created_at=datetime.now(UTC),
        )
        s.add(video)
        s.flush()
        pk = int(video.id)
        ids = np.zeros(0, np.int64)
        if len(hashes):
            values = [
                {
                    "video_pk": pk,
                    "t_s": float(t),
                    "quality": int(q),
                    "variant": int(v),
                    "pdq": bytes(h),
                }
                for t, q, v, h in zip(times, quality, variant, hashes, strict=True)
            ]
            result = s.scalars(
                insert(FingerprintFrame).returning(
                    FingerprintFrame.id, sort_by_parameter_order=True
                ),
                values,
            )
            ids = np.fromiter(result, np.int64, len(hashes))
        order = np.argsort(ids, kind="stable")
        rows = _Rows(
            ids[order],
            np.full(len(ids), pk, np.int32),
            times[order].astype(np.float32),
            np.ascontiguousarray(hashes[order], dtype=np.uint8),
        )
        return pk, rows

    def remove(self, video_id: str) -> int:
        """Delete a registered video from the store and from search; returns its frame count.

        Raises :class:`FingerprintError` when ``video_id`` is not registered.
        """
        self.refresh()
        with transaction(self._sessions) as s:  # outside the index lock, as in add_many
            row = s.execute(
                select(FingerprintVideo.id).where(FingerprintVideo.video_id == video_id)
            ).first()
            if row is None:
                raise FingerprintError(f"video {video_id!r} is not registered")
            pk = int(row[0])
            n = int(s.scalar(select(func.count()).where(FingerprintFrame.video_pk == pk)) or 0)
            s.execute(delete(FingerprintFrame).where(FingerprintFrame.video_pk == pk))
            s.execute(delete(FingerprintVideo).where(FingerprintVideo.id == pk))
            feed.append(s, [(pk, feed.REMOVE)])
        with self._lock:
            self._drop_videos({pk})
            self._catch_up()
        return n

    # -- search ----------------------------------------------------------------------------
    def search(
        self,
        fp: VideoFingerprint,
        *,
        threshold: int | None = None,
        vote_threshold: int | None = None,
        min_frames: int | None = None,
        mirror: bool = True,
        max_results: int = 20,
    ) -> list[VideoMatch]:
        """Registered videos that parts of the query ``fp`` come from, best first.

        Every query frame (and, with ``mirror``, its horizontally flipped hash) is searched in one
        batched index call; hits within ``vote_threshold`` bits vote for (video, time offset). A
        source is reported when at least ``min_frames`` query frames agree on its offset and one of
        them is within ``threshold`` bits (a query shorter than ``min_frames`` seconds needs all
        its seconds, and at least two frames). ``score`` is the share of the query's seconds that
        the source explains. Fingerprint queries at :data:`QUERY_SAMPLE_FPS` for the best recall.
        """
        thr = self.threshold if threshold is None else threshold
        vthr = max(thr, self.vote_threshold if vote_threshold is None else vote_threshold)
        need = self.min_frames if min_frames is None else max(1, min_frames)
        n = len(fp)
        if n == 0 or not len(self._rows):
            return []
        seconds = np.floor(fp.times).astype(np.int64)
        n_seconds = len(np.unique(seconds))
        need = min(need, max(n_seconds, 2))
        blocks = [fp.hashes]
        flipped = [False]
        if mirror and fp.mirror is not None:
            blocks.append(fp.mirror)
            flipped.append(True)
        if fp.filled is not None and bool(np.any(fp.filled != fp.hashes)):
            blocks.append(fp.filled)
            flipped.append(False)
        with self._lock:
            qi, ids, dist = self._hash.search(np.concatenate(blocks), self.k, vthr)
            if not len(qi) or not len(self._rows):
                return []
            # hits on ids this index does not hold (a shared engine ahead of it) are dropped
            ok, vpk, ref_t = self._rows.lookup(ids)
            qi, dist, vpk, ref_t = qi[ok], dist[ok], vpk[ok], ref_t[ok]
        mirrored = np.asarray(flipped)[qi // n]
        qi = qi % n
        # a source needs `need` distinct seconds of the query; it has at least as many frames
        clusters = vote(
            qi,
            fp.times,
            vpk,
            ref_t,
            dist,
            mirrored,
            min_frames=need,
            anchor_distance=thr,
            max_results=max_results,
        )
        out: list[VideoMatch] = []
        for c in clusters:
            covered = len(np.unique(seconds[c.query_frames]))
            if covered < (need if c.anchored else self.min_unanchored_seconds):
                continue
            out.append(
                VideoMatch(
                    video_id=self._names.get(c.video, f"#{c.video}"),
                    score=covered / n_seconds,
                    offset_s=c.offset_s,
                    query_range=c.query_range,
                    ref_range=c.ref_range,
                    matched_frames=len(c.query_frames),
                    mirrored=c.mirrored,
                )
            )
        out.sort(key=lambda m: (-m.score, -m.matched_frames, m.query_range[0]))
        return out

    def warm(self) -> int:
        """Read every page of the shared file (a shared local index only), so that the first
        queries after a start do not wait for the disk; returns the bytes mapped (0 otherwise)."""
        with self._lock:
            return self._mapped.touch() if self._mapped is not None else 0

    def stats(self) -> dict[str, Any]:
        """Index size, kind and feed position."""
        return {
            "videos": len(self._names),
            "frames": self.n_frames,
            "kind": self._hash.kind,
            "cursor": self._cursor.id,
            "index_path": str(self.index_path) if self.index_path else None,
            "shared_path": str(self.shared_path) if self.shared_path else None,
            "delta_rows": self._rows.pending,
        }
