"""Crash recovery: what a killed process left half-written is rolled back or finished.

A process killed mid-write (``kill -9``, the OOM killer, a power cut) runs no ``finally`` block.
It can leave, in the order :func:`service.pipeline.generate` writes them::

    .work-<rand>/ ──► record (pending) ──► frame hashes ──► thumbnail ──► <mark>/ ──► complete
                                                                                    + audit row

and, elsewhere, jobs stuck ``queued``/``running``, uploads spooled in ``upload_dir`` (``up-*``)
and certificate batches closed but never anchored. :func:`recover` clears all of it. It runs
synchronously when the app starts (before it serves), every ``recovery_interval_s`` seconds in
each worker (:class:`RecoveryTimer`), and as ``provkit recover``.

**Who may be in flight.** Every process that may leave such state holds the store's liveness lock
shared (:func:`provenance.registry.db.hold_liveness`; released by the kernel or PostgreSQL when
the process dies). When recovery obtains it exclusively, no other process is alive and nothing
is spared for being young: that is the case after a restart, and for ``provkit recover`` with the
service stopped. Otherwise another worker (or host) may be mid-generation, and only state older
than the **grace period** (:data:`GRACE`, 30 minutes) is touched: a pending record by its
``created_at``, a directory or file by its newest modification time. The longest generation the
API accepts (600 s of 1080p60) spends a few minutes between creating its work directory and
completing its record, and writes a file at least every minute or two of that; 30 minutes is a
margin of ten. A pending record only lives for the seconds between its frame hashes and its
completion.

**Pending generations are rolled back, never finished.** The caller receives the receipt only
after the record is complete and its screening decision stored (one transaction), so nobody holds
a pending generation's media or its mark id: finishing it would register media nobody was
handed, and the caller's retry would register the same request twice. The record is deleted
first, conditionally on still being pending (a generation that completes meanwhile is never
touched; one that tries to complete after the rollback fails cleanly), then its frame hashes
(``gen:<mark>``), media directory and thumbnail. Interrupted there, the next pass finds them as
orphans: frame hashes, media directories and thumbnails whose mark has no record are removed too
(``generate`` creates the record before any of them, so an orphan is never in flight).

**Stale jobs** are those whose heartbeat stopped (:data:`service.jobs.STALE_AFTER`: a live
process touches its jobs every 30 s), or every unfinished job when no other process is alive.

**Uploads** are removed once past the grace period and older than every live job (a job reads its
upload for as long as it runs; a three-hour video takes a while).

**Batches** closed but not anchored are anchored (``CertificateStore.anchor_batches``); after a
restart, anchored batches whose transaction the chain no longer holds are anchored again. A chain
error is logged and reported, and the next pass retries.

Every step is idempotent and conditional, so two workers recovering at once do no harm: a second
delete finds nothing, a second anchoring finds the batch claimed or anchored.
"""

from __future__ import annotations

import logging
import random
import shutil
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import ExitStack, asynccontextmanager, suppress
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from provenance.registry.db import exclusive_liveness, hold_liveness, session_factory
from provenance.registry.store import parse_mark_id
from service.context import Services
from service.jobs import STALE_AFTER
from service.pipeline import GEN_VIDEO_PREFIX
from service.store import JobRow

if TYPE_CHECKING:
    from fastapi import FastAPI

log = logging.getLogger("provkit.recovery")

#: state younger than this may belong to a live process (see the module docstring)
GRACE = timedelta(minutes=30)
WORK_PREFIX = ".work-"
UPLOAD_PREFIX = "up-"
THUMB_SUFFIX = ".thumb.jpg"


@dataclass
class RecoveryReport:
    """What one recovery pass found and did (counts), and what went wrong."""

    #: no other process was alive, so nothing was spared for being young
    alone: bool = False
    grace_s: float = 0.0
    generations_rolled_back: int = 0
    fingerprints_removed: int = 0
    media_removed: int = 0
    work_dirs_removed: int = 0
    uploads_removed: int = 0
    jobs_failed: int = 0
    batches_anchored: int = 0
    batches_unanchored: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def changed(self) -> int:
        """How many things this pass removed, failed or anchored."""
        return (
            self.generations_rolled_back
            + self.fingerprints_removed
            + self.media_removed
            + self.work_dirs_removed
            + self.uploads_removed
            + self.jobs_failed
            + self.batches_anchored
        )

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-able data."""
        return asdict(self)


def recover(
    svc: Services, *, grace: timedelta | None = None, now: datetime | None = None
) -> RecoveryReport:
    """One recovery pass (see the module docstring); never raises for a failing step.

    ``grace`` overrides the grace period (default: none when no other process is alive, else
    :data:`GRACE`). Only pass ``timedelta(0)`` when no process can be writing.
    """
    now = now or datetime.now(UTC)
    report = RecoveryReport()
    with ExitStack() as stack:
        try:
            alone = stack.enter_context(exclusive_liveness(svc.settings.db_url))
        except Exception as exc:  # the store is down: recover what can be, as if not alone
            report.errors.append(f"liveness lock: {type(exc).__name__}: {exc}"[:500])
            alone = False
        report.alone = alone
        g = grace if grace is not None else (timedelta(0) if alone else GRACE)
        report.grace_s = g.total_seconds()
        cutoff = now - g
        steps: list[tuple[str, Callable[[], None]]] = [
            ("pending generations", lambda: _rollback_pending(svc, cutoff, report)),
            ("orphan fingerprints", lambda: _orphan_fingerprints(svc, cutoff, report)),
            ("orphan media", lambda: _orphan_media(svc, cutoff, report)),
            ("work directories", lambda: _work_dirs(svc, cutoff, report)),
            ("jobs", lambda: _jobs(svc, alone, report)),
            ("uploads", lambda: _uploads(svc, cutoff, g, report)),
            ("certificate batches", lambda: _batches(svc, alone, report)),
        ]
        for name, step in steps:
            try:
                step()
            except Exception as exc:  # one failing step must not stop the others (or the server)
                log.exception("recovery step failed: %s", name)
                report.errors.append(f"{name}: {type(exc).__name__}: {exc}"[:500])
    if report.changed or report.errors:
        log.warning("crash recovery: %s", report.to_dict())
    return report


# -- generations --------------------------------------------------------------------------------


def _media_paths(svc: Services, mark_hex: str) -> tuple[Path, Path]:
    root = svc.settings.media_dir
    return root / mark_hex, root / f"{mark_hex}{THUMB_SUFFIX}"


def _remove_fingerprints(svc: Services, video_id: str) -> bool:
    from provenance.fingerprint import FingerprintError
    from provenance.fingerprint.models import FingerprintVideo

    with session_factory(svc.engine)() as s:
        q = select(func.count()).where(FingerprintVideo.video_id == video_id)
        if not s.scalar(q):
            return False  # not indexed: no need to load the index
    with svc.write_lock:
        try:
            svc.fingerprints.remove(video_id)
        except FingerprintError:  # another worker removed it first
            return False
    return True


def _remove_media(svc: Services, mark_hex: str) -> int:
    folder, thumb = _media_paths(svc, mark_hex)
    n = 0
    if folder.exists():
        shutil.rmtree(folder, ignore_errors=True)
        n += 1
    if thumb.exists():
        thumb.unlink(missing_ok=True)
        n += 1
    return n


def _rollback_pending(svc: Services, cutoff: datetime, report: RecoveryReport) -> None:
    while batch := svc.registry.pending(created_before=cutoff, limit=200):
        for gen in batch:
            if not svc.registry.delete_pending(gen.id):
                continue  # completed (or rolled back by another worker) meanwhile
            report.generations_rolled_back += 1
            if _remove_fingerprints(svc, GEN_VIDEO_PREFIX + gen.mark_hex):
                report.fingerprints_removed += 1
            report.media_removed += _remove_media(svc, gen.mark_hex)


def _generation_marks(video_ids: list[str]) -> dict[int, str]:
    """Mark id → video id of the ``gen:<mark>`` ids among ``video_ids``."""
    marks = {}
    for vid in video_ids:
        try:
            marks[parse_mark_id(vid[len(GEN_VIDEO_PREFIX) :])] = vid
        except ValueError:
            continue  # registered by hand under a name that only looks like a generation's
    return marks


def _orphan_fingerprints(svc: Services, cutoff: datetime, report: RecoveryReport) -> None:
    from provenance.fingerprint.models import FingerprintVideo

    # listed before the records are read: a generation registers its record before its frames,
    # so every id seen here whose record is missing has lost it
    with session_factory(svc.engine)() as s:
        ids = list(
            s.scalars(
                select(FingerprintVideo.video_id).where(
                    FingerprintVideo.video_id.startswith(GEN_VIDEO_PREFIX),
                    FingerprintVideo.created_at < cutoff,
                )
            )
        )
    marks = _generation_marks(ids)
    known = svc.registry.existing_marks(marks)
    for mark, vid in marks.items():
        if mark not in known and _remove_fingerprints(svc, vid):
            report.fingerprints_removed += 1


def _newest_mtime(path: Path) -> float:
    """The latest modification time of ``path`` and (for a directory) its entries."""
    newest = path.lstat().st_mtime
    if path.is_dir() and not path.is_symlink():
        for p in path.iterdir():
            with suppress(FileNotFoundError):
                newest = max(newest, p.lstat().st_mtime)
    return newest


def _older(path: Path, cutoff: datetime) -> bool:
    try:
        return _newest_mtime(path) < cutoff.timestamp()
    except FileNotFoundError:
        return False


def _mark_of(name: str) -> str | None:
    """The mark id a media entry (``<mark>`` or ``<mark>.thumb.jpg``) belongs to, if any."""
    stem = name[: -len(THUMB_SUFFIX)] if name.endswith(THUMB_SUFFIX) else name
    if len(stem) == 16 and all(c in "0123456789abcdef" for c in stem):
        return stem
    return None


def _orphan_media(svc: Services, cutoff: datetime, report: RecoveryReport) -> None:
    root = svc.settings.media_dir
    if not root.is_dir():
        return
    entries: dict[int, list[Path]] = {}
    for p in root.iterdir():
        mark_hex = _mark_of(p.name)
        if mark_hex is not None and _older(p, cutoff):
            entries.setdefault(int(mark_hex, 16), []).append(p)
    known = svc.registry.existing_marks(entries)
    for mark, paths in entries.items():
        if mark in known:
            continue
        for p in paths:
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink(missing_ok=True)
            report.media_removed += 1


def _work_dirs(svc: Services, cutoff: datetime, report: RecoveryReport) -> None:
    root = svc.settings.media_dir
    if not root.is_dir():
        return
    for p in root.iterdir():
        if p.name.startswith(WORK_PREFIX) and _older(p, cutoff):
            shutil.rmtree(p, ignore_errors=True)
            report.work_dirs_removed += 1


# -- jobs and uploads ---------------------------------------------------------------------------


def _jobs(svc: Services, alone: bool, report: RecoveryReport) -> None:
    report.jobs_failed += svc.jobs.fail_stale(timedelta(0) if alone else STALE_AFTER)


def _oldest_live_job(svc: Services) -> datetime | None:
    with session_factory(svc.engine)() as s:
        oldest = s.scalar(
            select(func.min(JobRow.created_at)).where(JobRow.status.in_(("queued", "running")))
        )
    if oldest is None:
        return None
    return oldest if oldest.tzinfo else oldest.replace(tzinfo=UTC)


def _uploads(svc: Services, cutoff: datetime, grace: timedelta, report: RecoveryReport) -> None:
    root = svc.settings.upload_dir
    if not root.is_dir():
        return
    oldest = _oldest_live_job(svc)
    if oldest is not None:
        # a live job reads an upload spooled just before the job was recorded
        cutoff = min(cutoff, oldest - max(grace, timedelta(minutes=5)))
    for p in root.iterdir():
        if p.name.startswith(UPLOAD_PREFIX) and p.is_file() and _older(p, cutoff):
            p.unlink(missing_ok=True)
            report.uploads_removed += 1


# -- certificates -------------------------------------------------------------------------------


def _batches(svc: Services, alone: bool, report: RecoveryReport) -> None:
    # when no other process is alive (a restart), anchored batches are re-checked too: a chain
    # that lost their transactions (a reset development chain) gets them anchored again; the
    # timer's passes only anchor closed batches (no chain lookup per anchored batch)
    recheck = alone and bool(svc.certificates.batches("anchored"))
    if not recheck and not svc.certificates.batches("closed"):
        report.batches_unanchored = 0
        return
    try:
        with svc.write_lock:
            if alone:
                # no process is alive, so a claim on a batch is a dead process's: take it over
                done = svc.certificates.anchor_batches(
                    svc.chain, lease=timedelta(0), recheck=recheck
                )
            else:
                done = svc.certificates.anchor_batches(svc.chain, recheck=False)
        report.batches_anchored += sum(1 for b in done if b.status == "anchored")
        failed = [b.last_error for b in done if b.status != "anchored" and b.last_error]
        if failed:
            report.errors.append(f"anchoring: {failed[0]}"[:500])
    except Exception as exc:  # the chain is down or misconfigured: the next pass retries
        log.warning("anchoring closed batches failed", exc_info=True)
        report.errors.append(f"anchoring: {type(exc).__name__}: {exc}"[:500])
    report.batches_unanchored = len(svc.certificates.batches("closed"))


# -- running it ---------------------------------------------------------------------------------


class RecoveryTimer:
    """Run :func:`recover` every ``interval_s`` seconds (±10 %, so workers drift apart) in a
    daemon thread, until :meth:`stop`."""

    def __init__(self, svc: Services, interval_s: float) -> None:
        self.svc = svc
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="provkit-recovery", daemon=True)

    def start(self) -> RecoveryTimer:
        """Start the thread (not when the interval is 0)."""
        if self.interval_s > 0:
            self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s * random.uniform(0.9, 1.1)):
            try:
                hold_liveness(self.svc.settings.db_url)  # re-taken if the database restarted
                recover(self.svc)
            except Exception:  # pragma: no cover - recover() reports its own failures
                log.exception("crash recovery pass failed")

    def stop(self) -> None:
        """Stop after the current pass (does not wait for it)."""
        self._stop.set()


def startup(svc: Services) -> tuple[RecoveryReport, RecoveryTimer]:
    """Recover before serving, take this process's liveness lock, start the timer."""
    report = recover(svc)
    hold_liveness(svc.settings.db_url)
    return report, RecoveryTimer(svc, svc.settings.recovery_interval_s).start()


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """FastAPI lifespan: :func:`startup` before the first request, the timer stopped at exit."""
    from starlette.concurrency import run_in_threadpool

    svc: Services = app.state.services
    _report, timer = await run_in_threadpool(startup, svc)
    try:
        yield
    finally:
        timer.stop()


def iter_leftovers(svc: Services) -> Iterator[str]:
    """Describe what a crash could have left behind and is still there (for checks and tests):
    pending records, orphan frame hashes, media without a record, work directories, spooled
    uploads, unfinished jobs and closed batches."""
    from provenance.fingerprint.models import FingerprintVideo

    with session_factory(svc.engine)() as s:
        for gen in svc.registry.pending(created_before=datetime.now(UTC) + timedelta(days=1)):
            yield f"pending generation {gen.mark_hex}"
        vids = list(
            s.scalars(
                select(FingerprintVideo.video_id).where(
                    FingerprintVideo.video_id.startswith(GEN_VIDEO_PREFIX)
                )
            )
        )
        for job_id, status in s.execute(
            select(JobRow.id, JobRow.status).where(JobRow.status.in_(("queued", "running")))
        ):
            yield f"{status} job {job_id}"
    marks = _generation_marks(vids)
    known = svc.registry.existing_marks(marks)
    for mark, vid in marks.items():
        if mark not in known:
            yield f"orphan fingerprints {vid}"
    media = svc.settings.media_dir
    if media.is_dir():
        found = {p: _mark_of(p.name) for p in media.iterdir()}
        have = svc.registry.existing_marks(int(m, 16) for m in found.values() if m)
        for p, m in found.items():
            if p.name.startswith(WORK_PREFIX):
                yield f"work directory {p.name}"
            elif m is not None and int(m, 16) not in have:
                yield f"orphan media {p.name}"
    if svc.settings.upload_dir.is_dir():
        for p in svc.settings.upload_dir.glob(UPLOAD_PREFIX + "*"):
            yield f"spooled upload {p.name}"
    for b in svc.certificates.batches("closed"):
        yield f"unanchored batch {b.id}"
