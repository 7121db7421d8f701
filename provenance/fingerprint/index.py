"""``FingerprintIndex``: registered videos' frame hashes in the SQL store, searched in memory.

The SQL store (tables of migration ``0002_fingerprints``) is the source of truth. The hash index
(FAISS exact search; a multi-index hash above ``approx_min`` hashes) is derived from it and saved
in one file beside the store (written to a temporary file, then renamed, so a crash never leaves
a half-written index). On opening, the file is used when its recorded store state matches the
store; when the file is missing, unreadable or stale it is rebuilt from the store. Adds and
removals update the store in one transaction, then the index in place.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Engine, delete, func, insert, inspect, select

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
_FILE_VERSION = 2

Token = tuple[int, int, int, int, int]


def default_index_path(db_url: str) -> Path | None:
    """``<store>.fingerprints.npz`` beside a SQLite file store; ``None`` for server databases."""
    if db_url.startswith("sqlite") and "///" in db_url:
        path = db_url.split("///", 1)[1].split("?", 1)[0]
        if path and path != ":memory:":
            p = Path(path)
            return p.with_name(p.stem + ".fingerprints.npz")
    return None


def _frame_rows(
    fp: VideoFingerprint,
) -> tuple[
    npt.NDArray[np.uint8], npt.NDArray[np.float64], npt.NDArray[np.int32], npt.NDArray[np.int8]
]:
    """Hashes, times, qualities and variants of the rows a fingerprint is stored as: every frame,
    and (when present) the hash of its central region."""
    hashes, times, quality = fp.hashes, fp.times.astype(np.float64), fp.quality
    variant = np.zeros(len(fp), np.int8)
    if fp.crop is not None and len(fp):
        hashes = np.concatenate([hashes, fp.crop])
        times = np.concatenate([times, times])
        quality = np.concatenate([quality, quality])
        variant = np.concatenate([variant, np.ones(len(fp), np.int8)])
    return hashes, times, quality, variant


class FingerprintIndex:
    """Register video fingerprints and find the sources of a query video.

    ``db_url`` is the store (migrated to ``0002_fingerprints``); ``index_path`` the saved hash
    index (default: beside a SQLite store; ``None`` for a server database keeps it in memory and
    rebuilds it on every open). A source is reported when at least ``min_frames`` query frames
    (in distinct seconds) agree on its time offset within ``vote_threshold`` bits and at least
    one of them is within ``threshold`` bits, or, without such an anchor, when frames in at least
    ``min_unanchored_seconds`` distinct seconds agree (heavily overlaid copies). ``k`` is the neighbours fetched per query frame;
    ``approx_min`` is the size above which the index is approximate, ``approx`` its kind
    (``"mih"``: multi-index hash, the default; ``"ivf"``: FAISS IVF probed at ``nprobe`` lists).
    ``engine`` is the process's store engine when it has one (else the index makes its own).
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
        engine: Engine | None = None,
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
        # a process shares one engine (``engine``); the index makes its own only when alone
        self._owns_engine = engine is None
        self._engine = engine if engine is not None else make_engine(db_url)
        self._sessions = session_factory(self._engine)
        tables = set(inspect(self._engine).get_table_names())
        if not {"fingerprint_videos", "fingerprint_frames"} <= tables:
            self.close()
            raise FingerprintError("the store has no fingerprint tables: run `provkit db upgrade`")
        self._hash = HashIndex(approx_min=approx_min, approx=approx, nprobe=nprobe)
        self._ids = np.zeros(0, np.int64)
        # per indexed hash, sorted by id: its video key and time (compact: 16 bytes per hash)
        self._vpk = np.zeros(0, np.int32)
        self._t = np.zeros(0, np.float32)
        self._names: dict[int, str] = {}
        self._token: Token = (0, 0, 0, 0, 0)
        #: how the index was obtained on the last (re)load: "file" or "rebuilt"
        self.loaded_from = ""
        self.refresh()

    # -- lifecycle -------------------------------------------------------------------------
    def close(self) -> None:
        """Release the database connection pool (when the index made its own)."""
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
        """``"flat"`` (exact search), ``"mih"`` or ``"ivf"`` (approximate)."""
        return self._hash.kind

    @property
    def n_frames(self) -> int:
        """Number of indexed hashes (full-frame and central-region hashes)."""
        return self._hash.ntotal

    def videos(self) -> dict[str, int]:
        """Registered video ids and their number of frame hashes."""
        with self._sessions() as s:
            rows = s.execute(select(FingerprintVideo.video_id, FingerprintVideo.n_frames)).all()
        return {str(v): int(n) for v, n in rows}

    def _store_token(self) -> Token:
        with self._sessions() as s:
            nf, mf, sf = s.execute(
                select(
                    func.count(FingerprintFrame.id),
                    func.coalesce(func.max(FingerprintFrame.id), 0),
                    func.coalesce(func.sum(FingerprintFrame.id), 0),
                )
            ).one()
            nv, mv = s.execute(
                select(
                    func.count(FingerprintVideo.id),
                    func.coalesce(func.max(FingerprintVideo.id), 0),
                )
            ).one()
        return (int(nf), int(mf), int(sf), int(nv), int(mv))

    def _load_names(self) -> None:
        with self._sessions() as s:
            rows = s.execute(select(FingerprintVideo.id, FingerprintVideo.video_id)).all()
        self._names = {int(pk): str(v) for pk, v in rows}

    def refresh(self) -> str:
        """Bring the index in line with the store: load the saved file when it is current,
        rebuild from the store otherwise. Returns ``"current"``, ``"file"`` or ``"rebuilt"``."""
        token = self._store_token()
        if self.loaded_from and token == self._token:
            return "current"
        self._load_names()
        if self._load_file(token):
            self.loaded_from = "file"
        else:
            self._rebuild(token)
            self.loaded_from = "rebuilt"
        return self.loaded_from

    def _load_file(self, token: Token) -> bool:
        if self.index_path is None or not self.index_path.is_file():
            return False
        try:
            with np.load(self.index_path, allow_pickle=False) as z:
                if int(z["version"]) != _FILE_VERSION:
                    return False
                if tuple(int(x) for x in z["token"]) != token:
                    return False
                ids, vpk, t = z["ids"].astype(np.int64), z["vpk"].astype(np.int64), z["t"]
                self._hash.load_state({k[5:]: z[k] for k in z.files if k.startswith("hash_")})
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
            return False
        if not (len(ids) == len(vpk) == len(t) == self._hash.ntotal):
            return False
        self._ids, self._vpk, self._t = ids, vpk.astype(np.int32), t.astype(np.float32)
        self._token = token
        return True

    def _rebuild(self, token: Token) -> None:
        ids: list[npt.NDArray[np.int64]] = []
        vpk: list[npt.NDArray[np.int64]] = []
        ts: list[npt.NDArray[np.float64]] = []
        hs: list[npt.NDArray[np.uint8]] = []
        stmt = select(
            FingerprintFrame.id,
            FingerprintFrame.video_pk,
            FingerprintFrame.t_s,
            FingerprintFrame.pdq,
        ).order_by(FingerprintFrame.id)
        with self._sessions() as s:
            for part in s.execute(stmt.execution_options(yield_per=50_000)).partitions():
                ids.append(np.fromiter((r[0] for r in part), np.int64, len(part)))
                vpk.append(np.fromiter((r[1] for r in part), np.int64, len(part)))
                ts.append(np.fromiter((r[2] for r in part), np.float64, len(part)))
                hs.append(
                    np.frombuffer(b"".join(bytes(r[3]) for r in part), np.uint8).reshape(
                        -1, HASH_BYTES
                    )
                )
        self._ids = np.concatenate(ids) if ids else np.zeros(0, np.int64)
        self._vpk = (np.concatenate(vpk) if vpk else np.zeros(0)).astype(np.int32)
        self._t = (np.concatenate(ts) if ts else np.zeros(0)).astype(np.float32)
        codes = np.concatenate(hs) if hs else np.zeros((0, HASH_BYTES), np.uint8)
        self._hash.build(codes, self._ids)
        self._token = token
        if self.autosave:
            self.save()

    def save(self) -> None:
        """Write the index file (atomically: temporary file, then rename)."""
        if self.index_path is None:
            return
        self.index_path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(
            prefix=self.index_path.name + ".", suffix=".tmp", dir=self.index_path.parent
        )
        try:
            hash_arrays: dict[str, Any] = {f"hash_{k}": v for k, v in self._hash.state().items()}
            with os.fdopen(fd, "wb") as f:
                np.savez(
                    f,
                    version=np.array(_FILE_VERSION),
                    token=np.array(self._token, dtype=np.int64),
                    **hash_arrays,
                    ids=self._ids,
                    vpk=self._vpk,
                    t=self._t,
                )
            os.replace(tmp, self.index_path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

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
        """
        names = [v for v, _ in items]
        for v in names:
            if not v or len(v) > 255 or v != v.strip():
                raise FingerprintError("a video id is 1-255 characters without surrounding spaces")
        if len(set(names)) != len(names):
            raise FingerprintError("the same video id is given twice")
        if self._store_token() != self._token:
            self.refresh()
        added: list[
            tuple[int, npt.NDArray[np.uint8], npt.NDArray[np.float64], npt.NDArray[np.int64]]
        ] = []
        with transaction(self._sessions) as s:
            exists = s.scalars(
                select(FingerprintVideo.video_id).where(FingerprintVideo.video_id.in_(names))
            ).first()
            if exists is not None:
                raise FingerprintError(f"video {exists!r} is already registered")
            for video_id, fp in items:
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
                new_ids = np.zeros(0, np.int64)
                if len(hashes):
                    rows = [
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
                        rows,
                    )
                    new_ids = np.fromiter(result, np.int64, len(hashes))
                added.append((pk, hashes, times, new_ids))
        n_total = 0
        expected = list(self._token)
        for (pk, hashes, times, new_ids), name, (_, fp) in zip(added, names, items, strict=True):
            self._names[pk] = name
            n = len(new_ids)
            n_total += len(fp)
            expected[3] += 1
            expected[4] = max(expected[4], pk)
            if not n:
                continue
            expected[0] += n
            expected[1] = max(expected[1], int(new_ids.max()))
            expected[2] += int(new_ids.sum())
            order = np.argsort(new_ids)
            self._hash.add(hashes[order], new_ids[order])
            self._ids = np.concatenate([self._ids, new_ids[order]])
            self._vpk = np.concatenate([self._vpk, np.full(n, pk, np.int32)])
            self._t = np.concatenate([self._t, times[order].astype(np.float32)])
        if len(self._ids) > 1 and np.any(np.diff(self._ids) < 0):
            srt = np.argsort(self._ids, kind="stable")
            self._ids, self._vpk, self._t = self._ids[srt], self._vpk[srt], self._t[srt]
        e = expected
        self._sync_after_write((e[0], e[1], e[2], e[3], e[4]))
        return n_total

    def remove(self, video_id: str) -> int:
        """Delete a registered video from the store and from search; returns its frame count.

        Raises :class:`FingerprintError` when ``video_id`` is not registered.
        """
        token = self._store_token()
        if token != self._token:
            self.refresh()
        with transaction(self._sessions) as s:
            row = s.execute(
                select(FingerprintVideo.id).where(FingerprintVideo.video_id == video_id)
            ).first()
            if row is None:
                raise FingerprintError(f"video {video_id!r} is not registered")
            pk = int(row[0])
            gone = np.fromiter(
                s.scalars(select(FingerprintFrame.id).where(FingerprintFrame.video_pk == pk)),
                np.int64,
            )
            s.execute(delete(FingerprintFrame).where(FingerprintFrame.video_pk == pk))
            s.execute(delete(FingerprintVideo).where(FingerprintVideo.id == pk))
        self._names.pop(pk, None)
        self._hash.remove(gone)
        keep = self._vpk != pk
        self._ids, self._vpk, self._t = self._ids[keep], self._vpk[keep], self._t[keep]
        expected: Token = (
            self._token[0] - len(gone),
            int(self._ids.max()) if len(self._ids) else 0,
            self._token[2] - int(gone.sum()),
            self._token[3] - 1,
            -1,  # the largest video key after a removal is re-read from the store
        )
        store = self._store_token()
        expected = (*expected[:4], store[4])
        self._sync_after_write(expected, store)
        return len(gone)

    def _sync_after_write(self, expected: Token, store: Token | None = None) -> None:
        store = self._store_token() if store is None else store
        if store != expected:
            # someone else wrote to the store meanwhile: start again from the store
            self.loaded_from = ""
            self.refresh()
            return
        self._token = store
        if self.autosave:
            self.save()

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
        if n == 0 or self._hash.ntotal == 0:
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
        qi, ids, dist = self._hash.search(np.concatenate(blocks), self.k, vthr)
        if not len(qi):
            return []
        pos = np.clip(np.searchsorted(self._ids, ids), 0, len(self._ids) - 1)
        ok = self._ids[pos] == ids
        qi, pos, dist = qi[ok], pos[ok], dist[ok]
        mirrored = np.asarray(flipped)[qi // n]
        qi = qi % n
        # a source needs `need` distinct seconds of the query; it has at least as many frames
        clusters = vote(
            qi,
            fp.times,
            self._vpk[pos].astype(np.int64),
            self._t[pos].astype(np.float64),
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

    def stats(self) -> dict[str, Any]:
        """Index size and kind."""
        return {
            "videos": len(self._names),
            "frames": self._hash.ntotal,
            "kind": self._hash.kind,
            "index_path": str(self.index_path) if self.index_path else None,
        }
