"""Crash recovery (service.recovery) on a store seeded by hand with each kind of leftover."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import update

from provenance.certificate import mint
from provenance.fingerprint import VideoFingerprint
from provenance.registry import Generation, MediaHash
from provenance.registry.db import exclusive_liveness, hold_liveness, transaction
from service.app import create_app
from service.cli.main import cli
from service.context import Services
from service.jobs import JobRunner
from service.recovery import GRACE, iter_leftovers, recover
from service.settings import Settings
from service.store import JobRow

ROOT = Path(__file__).resolve().parents[2]
ACTIONS = [
    {"id": "a1", "kind": "selection", "at": "2026-01-01T10:05:00Z",
     "details": {"chosen": ["take-2"], "rejected": ["take-1", "take-3"]}},
]  # fmt: skip
OLD = datetime.now(UTC) - timedelta(hours=2)


def _fp(seed: int) -> VideoFingerprint:
    rng = np.random.default_rng(seed)
    n = 4
    return VideoFingerprint(
        hashes=rng.integers(0, 256, (n, 32), dtype=np.uint8),
        times=np.arange(n, dtype=np.float64),
        quality=np.full(n, 100, np.int32),
        duration=float(n),
    )


def _generation(svc: Services, mark: int, status: str, *, video: bool = True) -> Generation:
    """A record as ``generate`` leaves it, with its media folder, thumbnail and frame hashes."""
    folder = svc.settings.media_dir / f"{mark:016x}"
    folder.mkdir(parents=True)
    (folder / "audio.flac").write_bytes(b"fLaC" + bytes(64))
    gen = svc.registry.create(
        user_id="u",
        model="ref",
        prompt="p",
        media=[MediaHash("audio", "audio.flac", "ab" * 32)],
        mark_id=mark,
        status=status,
    )
    if video:
        folder.with_suffix(".thumb.jpg").write_bytes(b"\xff\xd8jpeg")
        svc.fingerprints.add(f"gen:{mark:016x}", _fp(mark % 1000))
    return gen


def _age(path: Path) -> None:
    t = OLD.timestamp()
    for p in [path, *path.rglob("*")] if path.is_dir() else [path]:
        os.utime(p, (t, t))


def _job(svc: Services, job_id: str, status: str, updated: datetime) -> None:
    with transaction(svc.jobs.sessions) as s:
        s.add(
            JobRow(id=job_id, kind="verify", status=status, created_at=updated, updated_at=updated)
        )


def _seed(svc: Services) -> dict[str, object]:
    """One leftover of every kind, plus a complete generation that must survive."""
    done = _generation(svc, 0x1111_0000_0000_0001, "complete")
    pending = _generation(svc, 0x2222_0000_0000_0002, "pending")
    pending_audio = _generation(svc, 0x2222_0000_0000_0003, "pending", video=False)
    svc.fingerprints.add("gen:3333000000000003", _fp(3))  # its record was deleted
    svc.fingerprints.add("upload-42", _fp(4))  # registered by hand: not a generation's
    orphan = svc.settings.media_dir / "4444000000000004"
    orphan.mkdir()
    (orphan / "video.mp4").write_bytes(b"x")
    orphan.with_suffix(".thumb.jpg").write_bytes(b"x")
    work = svc.settings.media_dir / ".work-0123456789abcdef"
    work.mkdir()
    (work / "video.mp4").write_bytes(b"half")
    svc.settings.upload_dir.mkdir(parents=True)
    upload = svc.settings.upload_dir / "up-abc.wav"
    upload.write_bytes(b"RIFF")
    _job(svc, "q" * 24, "queued", OLD)
    _job(svc, "r" * 24, "running", OLD)
    _job(svc, "d" * 24, "done", OLD)
    record = {"generation_id": str(done.id), "model": "ref", "generated_at": "2026-01-01T00:00:00Z"}
    mint(record, ACTIONS, svc.signer, content=b"song", store=svc.certificates)
    svc.certificates.close_batches(force=True)
    return {"done": done, "pending": [pending, pending_audio], "paths": [orphan, work, upload]}


def test_recover_rolls_back_and_clears_every_leftover(svc: Services) -> None:
    seeded = _seed(svc)
    left = list(iter_leftovers(svc))
    assert len(left) == 10, "; ".join(left)
    report = recover(svc)
    assert report.alone and report.grace_s == 0 and report.errors == []
    assert report.generations_rolled_back == 2
    assert report.fingerprints_removed == 2  # the pending one's and the orphan
    assert report.media_removed == 2 + 1 + 2  # pending: folder+thumb, audio: folder, orphan: 2
    assert (report.work_dirs_removed, report.uploads_removed, report.jobs_failed) == (1, 1, 2)
    assert (report.batches_anchored, report.batches_unanchored) == (1, 0)
    assert list(iter_leftovers(svc)) == []
    # nothing stored was lost: the complete record, its files, its frames, the hand-registered
    done = seeded["done"]
    assert isinstance(done, Generation)
    assert svc.registry.get(done.id) is not None
    assert (svc.settings.media_dir / done.mark_hex / "audio.flac").is_file()
    assert (svc.settings.media_dir / f"{done.mark_hex}.thumb.jpg").is_file()
    assert set(svc.fingerprints.videos()) == {f"gen:{done.mark_hex}", "upload-42"}
    assert [m.video_id for m in svc.fingerprints.search(_fp(0x1111_0000_0000_0001 % 1000))] == [
        f"gen:{done.mark_hex}"
    ]
    assert svc.jobs.get("d" * 24).status == "done"  # type: ignore[union-attr]
    assert svc.jobs.get("r" * 24).error == "interrupted"  # type: ignore[union-attr]
    assert svc.registry.count() == 1
    # idempotent: a second pass (another worker's) finds nothing to do
    again = recover(svc)
    assert again.changed == 0 and again.errors == []


def test_grace_spares_what_a_live_process_may_be_writing(svc: Services) -> None:
    hold_liveness(svc.settings.db_url)  # as a serving worker does: recovery is not alone
    seeded = _seed(svc)
    _job(svc, "f" * 24, "running", datetime.now(UTC))  # heartbeat just now
    report = recover(svc)
    assert not report.alone and report.grace_s == GRACE.total_seconds()
    assert report.generations_rolled_back == report.media_removed == report.work_dirs_removed == 0
    assert report.uploads_removed == 0
    assert report.jobs_failed == 2  # heartbeat stopped two hours ago; the fresh one is spared
    assert svc.jobs.get("f" * 24).status == "running"  # type: ignore[union-attr]
    # the same leftovers, past the grace period, go
    with transaction(svc.registry.sessions) as s:
        s.execute(update(Generation).values(created_at=OLD))
    for p in svc.settings.media_dir.iterdir():
        _age(p)
    _age(svc.settings.upload_dir / "up-abc.wav")
    report = recover(svc)  # the upload is older than the live job: not its upload
    assert report.generations_rolled_back == 2 and report.work_dirs_removed == 1
    assert report.uploads_removed == 1
    done = seeded["done"]
    assert isinstance(done, Generation) and svc.registry.get(done.id) is not None
    # orphan fingerprints are old only by their created_at, still fresh here: spared
    assert "gen:3333000000000003" in svc.fingerprints.videos()


def test_upload_of_a_live_job_is_kept(svc: Services) -> None:
    hold_liveness(svc.settings.db_url)
    svc.settings.upload_dir.mkdir(parents=True)
    upload = svc.settings.upload_dir / "up-long.mp4"
    upload.write_bytes(b"x")
    _age(upload)  # spooled two hours ago, for a job still running (heartbeat fresh)
    _job(svc, "l" * 24, "running", datetime.now(UTC))
    with transaction(svc.jobs.sessions) as s:
        s.execute(update(JobRow).values(created_at=OLD + timedelta(seconds=5)))
    assert recover(svc).uploads_removed == 0 and upload.exists()


def test_liveness_lock_between_processes(settings: Settings) -> None:
    url = settings.db_url
    with exclusive_liveness(url) as alone:
        assert alone
    code = f"from provenance.registry.db import hold_liveness; hold_liveness({url!r}); input()"
    holder = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, cwd=ROOT, env={**os.environ}
    )
    try:
        for _ in range(100):
            with exclusive_liveness(url) as alone:
                if not alone:
                    break
            time.sleep(0.05)
        assert not alone
    finally:
        holder.kill()  # kill -9: the kernel releases the lock
        holder.wait()
    with exclusive_liveness(url) as alone:
        assert alone


@pytest.mark.parametrize(("spec", "code"), [("b", -9), ("a:2", 0), ("a:1", -9), ("", 0)])
def test_crash_point(spec: str, code: int) -> None:
    prog = "from provenance.registry.db import crash_point; crash_point('a'); crash_point('b')"
    env = {**os.environ, "PROVKIT_CRASH_AT": spec}
    assert subprocess.run([sys.executable, "-c", prog], env=env, cwd=ROOT).returncode == code


def test_job_heartbeat_keeps_a_long_job_alive(svc: Services) -> None:
    runner = JobRunner(svc.engine, workers=1, heartbeat_s=0.05)
    gate = threading.Event()
    job, fut = runner.submit("verify", lambda: gate.wait(10))
    with transaction(runner.sessions) as s:
        s.execute(update(JobRow).where(JobRow.id == job.id).values(updated_at=OLD))
    for _ in range(100):
        got = runner.get(job.id)
        assert got is not None
        if got.updated_at.replace(tzinfo=UTC) > OLD + timedelta(hours=1):
            break
        time.sleep(0.05)
    assert runner.fail_stale() == 0
    gate.set()
    fut.result(timeout=10)
    assert runner.get(job.id).status == "done"  # type: ignore[union-attr]
    runner.shutdown()


def test_chain_down_is_reported_not_raised(tmp_path: Path) -> None:
    from service.schema import upgrade

    s = Settings(data_dir=tmp_path / "var", chain_rpc_url="http://127.0.0.1:9")
    upgrade(s.db_url)
    svc = Services(s)
    record = {"generation_id": "1", "model": "ref", "generated_at": "2026-01-01T00:00:00Z"}
    mint(record, ACTIONS, svc.signer, content=b"song", store=svc.certificates)
    svc.certificates.close_batches(force=True)
    report = recover(svc)
    assert report.batches_anchored == 0 and report.batches_unanchored == 1
    assert report.errors and "anchoring" in report.errors[0]


def test_startup_recovers_before_serving(settings: Settings) -> None:
    svc = Services(settings)
    pending = _generation(svc, 0x5555_0000_0000_0005, "pending")
    svc.fingerprints.close()
    with TestClient(create_app(settings)) as client:
        assert client.get("/healthz").status_code == 200
        app_svc: Services = client.app.state.services  # type: ignore[attr-defined]
        assert app_svc.registry.get(pending.id) is None
        assert list(iter_leftovers(app_svc)) == []


def test_cli_recover(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROVKIT_DATA_DIR", str(settings.data_dir))
    monkeypatch.delenv("PROVKIT_DATABASE_URL", raising=False)
    work = settings.media_dir / ".work-feedfacecafebeef"
    work.mkdir(parents=True)
    r = CliRunner().invoke(cli, ["recover", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["work_dirs_removed"] == 1 and out["alone"] is True and out["errors"] == []
    r = CliRunner().invoke(cli, ["recover"])
    assert r.exit_code == 0 and "generations rolled back: 0" in r.stdout, r.output
