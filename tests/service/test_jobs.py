"""Background jobs persist their state in the store."""

from __future__ import annotations

from datetime import timedelta

from provenance.registry import make_engine
from service.jobs import JobRunner


def test_job_lifecycle(db_url: str) -> None:
    runner = JobRunner(make_engine(db_url), workers=1)
    cleaned: list[bool] = []
    job, fut = runner.submit(
        "verify", lambda: {"verdict": "generated"}, "k1", lambda: cleaned.append(True)
    )
    assert job.status == "queued"
    fut.result(timeout=10)
    done = runner.get(job.id)
    assert done is not None
    assert done.status == "done"
    assert done.result == {"verdict": "generated"}
    assert done.owner_key_id == "k1"
    assert cleaned == [True]

    def bad() -> None:
        raise ValueError("video has no decodable frames")

    job2, fut2 = runner.submit("verify", bad)
    fut2.result(timeout=10)
    failed = runner.get(job2.id)
    assert failed is not None
    assert failed.status == "failed"
    assert failed.error == "video has no decodable frames"

    def boom() -> None:
        raise RuntimeError("secret internals")

    job3, fut3 = runner.submit("verify", boom)
    fut3.result(timeout=10)
    crashed = runner.get(job3.id)
    assert crashed is not None
    assert crashed.error == "internal error (RuntimeError)"
    assert runner.get("nope") is None
    runner.shutdown()


def test_fail_stale(sqlite_db_url: str) -> None:
    runner = JobRunner(make_engine(sqlite_db_url), workers=1)
    import threading

    gate = threading.Event()
    job, fut = runner.submit("verify", lambda: gate.wait(10))
    assert runner.fail_stale(timedelta(hours=1)) == 0
    assert runner.fail_stale(timedelta(seconds=-1)) == 1
    stale = runner.get(job.id)
    assert stale is not None
    assert stale.status == "failed"
    gate.set()
    fut.result(timeout=10)
    runner.shutdown()
