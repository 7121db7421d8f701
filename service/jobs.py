"""Background jobs for work too long for one request (a two-hour video): 202 + a job to poll.

Job state lives in the SQL store, so any worker process can answer a poll. Work runs on a small
thread pool of the process that accepted it; a job whose process died stays ``running`` until
:meth:`JobRunner.fail_stale` marks it failed.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, update

from provenance.registry.db import session_factory, transaction
from service.store import JobRow

log = logging.getLogger("provkit.jobs")


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

    def __init__(self, engine: Engine, workers: int = 2) -> None:
        self.sessions = session_factory(engine)
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="provkit-job")

    def submit(
        self,
        kind: str,
        fn: Callable[[], Any],
        owner_key_id: str | None = None,
        cleanup: Callable[[], None] | None = None,
    ) -> tuple[Job, Future[None]]:
        """Record a queued job and start ``fn`` in the pool. ``cleanup`` runs afterwards always."""
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
        return job, self.pool.submit(self._run, job.id, fn, cleanup)

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
            if cleanup is not None:
                cleanup()

    def get(self, job_id: str) -> Job | None:
        """The job with this id."""
        with self.sessions() as s:
            row = s.get(JobRow, job_id)
            return _view(row) if row is not None else None

    def fail_stale(self, older_than: timedelta = timedelta(hours=6)) -> int:
        """Mark jobs stuck in queued/running for longer than ``older_than`` as failed."""
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
