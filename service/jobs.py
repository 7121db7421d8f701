"""Background jobs for work too long for one request (a two-hour video): 202 + a job to poll.

Job state lives in the SQL store, so any worker process can answer a poll. Work runs on a small
thread pool of the process that accepted it. While a job is queued or running, that process
touches its ``updated_at`` every :data:`HEARTBEAT_S` seconds (one UPDATE for all its live jobs),
so a job whose ``updated_at`` is older than :data:`STALE_AFTER` (ten missed beats) belongs to a
dead process, whichever worker or host it ran on: :meth:`JobRunner.fail_stale` (run by crash
recovery) marks it failed.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, update

from provenance.registry.db import hold_liveness, session_factory, transaction
from service.store import JobRow

log = logging.getLogger("provkit.jobs")

#: seconds between two touches of a live job's ``updated_at``
HEARTBEAT_S = 30.0
#: a queued or running job not touched for this long has lost its process
STALE_AFTER = timedelta(minutes=5)


@dataclass(frozen=True)
class Job:
    """A job as callers see it."""

    id: str
    kind: str
    status: str  # queued | running | done | failed
    created_at: datetime
    updated_at: datetime
    result: Any | None
    error: str | None
    owner_key_id: str | None


def _view(row: JobRow) -> Job:
    return Job(
        row.id,
        row.kind,
        row.status,
        row.created_at,
        row.updated_at,
        json.loads(row.result) if row.result else None,
        row.error,
        row.owner_key_id,
    )


class JobRunner:
    """Submit callables as jobs; results are stored as JSON."""

    def __init__(self, engine: Engine, workers: int = 2, heartbeat_s: float = HEARTBEAT_S) -> None:
        self.engine = engine
        self.sessions = session_factory(engine)
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="provkit-job")
        self.heartbeat_s = heartbeat_s
        self._live: set[str] = set()
        self._live_lock = threading.Lock()
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None

    def submit(
        self,
        kind: str,
        fn: Callable[[], Any],
        owner_key_id: str | None = None,
        cleanup: Callable[[], None] | None = None,
    ) -> tuple[Job, Future[None]]:
        """Record a queued job and start ``fn`` in the pool. ``cleanup`` runs afterwards always."""
        hold_liveness(self.engine.url.render_as_string(hide_password=False))
        now = datetime.now(UTC)
        row = JobRow(
            id=secrets.token_hex(12),
            kind=kind,
            status="queued",
            owner_key_id=owner_key_id,
            created_at=now,
            updated_at=now,
        )
        with transaction(self.sessions) as s:
            s.add(row)
        job = _view(row)
        with self._live_lock:
            self._live.add(job.id)
            if self._beat is None:
                self._beat = threading.Thread(
                    target=self._heartbeat, name="provkit-job-heartbeat", daemon=True
                )
                self._beat.start()
        return job, self.pool.submit(self._run, job.id, fn, cleanup)

    def _heartbeat(self) -> None:
        """Touch every live job of this process, until :meth:`shutdown`."""
        while not self._stop.wait(self.heartbeat_s):
            with self._live_lock:
                ids = list(self._live)
            if not ids:
                continue
            try:
                with transaction(self.sessions) as s:
                    s.execute(
                        update(JobRow)
                        .where(JobRow.id.in_(ids), JobRow.status.in_(("queued", "running")))
                        .values(updated_at=datetime.now(UTC))
                    )
            except Exception:  # the store is briefly unavailable: the next beat tries again
                log.warning("job heartbeat failed", exc_info=True)

    def _set(self, job_id: str, **values: Any) -> None:
        with transaction(self.sessions) as s:
            s.execute(
                update(JobRow)
                .where(JobRow.id == job_id)
                .values(updated_at=datetime.now(UTC), **values)
            )

    def _run(self, job_id: str, fn: Callable[[], Any], cleanup: Callable[[], None] | None) -> None:
        try:
            self._set(job_id, status="running")
            result = fn()
            self._set(job_id, status="done", result=json.dumps(result, default=str))
        except ValueError as exc:  # bad input discovered while working
            self._set(job_id, status="failed", error=str(exc)[:2000])
        except Exception as exc:
            log.exception("job failed", extra={"job_id": job_id})
            self._set(job_id, status="failed", error=f"internal error ({type(exc).__name__})")
        finally:
            with self._live_lock:
                self._live.discard(job_id)
            if cleanup is not None:
                cleanup()

    def get(self, job_id: str) -> Job | None:
        """The job with this id."""
        with self.sessions() as s:
            row = s.get(JobRow, job_id)
            return _view(row) if row is not None else None

    def fail_stale(self, older_than: timedelta = STALE_AFTER) -> int:
        """Mark queued/running jobs whose heartbeat stopped ``older_than`` ago as failed.

        ``timedelta(0)`` fails every unfinished job: right only when no process can own one.
        """
        cutoff = datetime.now(UTC) - older_than
        with transaction(self.sessions) as s:
            res = s.execute(
                update(JobRow)
                .where(JobRow.status.in_(("queued", "running")), JobRow.updated_at < cutoff)
                .values(status="failed", error="interrupted", updated_at=datetime.now(UTC))
            )
            return int(getattr(res, "rowcount", 0) or 0)

    def shutdown(self) -> None:
        """Stop accepting jobs and wait for running ones."""
        self.pool.shutdown(wait=True)
        self._stop.set()
