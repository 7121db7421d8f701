"""The hash engine interface: the local engine and Milvus (embedded milvus-lite) give the same
matches, Milvus is shared by workers and brought forward from the change feed, and rebuilt by
``provkit video reindex``.

Milvus tests are skipped, loudly, only when pymilvus or milvus-lite cannot be imported (install
the ``milvus`` extra).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from provenance.fingerprint import FingerprintError, FingerprintIndex, fingerprint_video
from provenance.fingerprint.backend import HashEngine, SharedHashEngine, open_backend
from provenance.fingerprint.faiss_index import HashIndex
from provenance.fingerprint.index import QUERY_SAMPLE_FPS
from service.cli.main import cli

from .conftest import FPS, Frames, write_frames
from .test_feed import found, random_fp

try:
    import milvus_lite  # noqa: F401
    import pymilvus  # noqa: F401

    from provenance.fingerprint.milvus_index import MilvusHashIndex

    MILVUS_MISSING = ""
except ImportError as exc:  # the optional extra is not installed
    MILVUS_MISSING = f"pymilvus/milvus-lite cannot be imported ({exc}): pip install '.[milvus]'"
    warnings.warn(f"\n\n*** MILVUS TESTS SKIPPED: {MILVUS_MISSING} ***\n", stacklevel=1)

needs_milvus = pytest.mark.skipif(
    bool(MILVUS_MISSING), reason=f"*** MILVUS TESTS SKIPPED: {MILVUS_MISSING} ***"
)


@pytest.fixture
def milvus_uri(tmp_path: Path) -> str:
    """A fresh embedded milvus-lite database file."""
    return str(tmp_path / "milvus.db")


def test_both_engines_implement_the_interface(tmp_path: Path) -> None:
    assert isinstance(HashIndex(), HashEngine) and not isinstance(HashIndex(), SharedHashEngine)
    if not MILVUS_MISSING:
        engine = MilvusHashIndex(str(tmp_path / "m.db"))
        assert isinstance(engine, SharedHashEngine)
        engine.close()


def test_backend_choice_errors_are_clear() -> None:
    assert open_backend("local") is None
    with pytest.raises(FingerprintError, match="unknown fingerprint backend"):
        open_backend("redis")
    with pytest.raises(FingerprintError, match="PROVKIT_MILVUS_URI"):
        open_backend("milvus")


def test_cli_reindex_with_the_local_backend(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "var"
    monkeypatch.setenv("PROVKIT_DATA_DIR", str(data))
    monkeypatch.delenv("PROVKIT_DATABASE_URL", raising=False)
    monkeypatch.delenv("PROVKIT_CONFIG", raising=False)
    monkeypatch.delenv("PROVKIT_FINGERPRINT_BACKEND", raising=False)
    runner = CliRunner()
    assert runner.invoke(cli, ["db", "upgrade"]).exit_code == 0
    FingerprintIndex(f"sqlite:///{data / 'provkit.db'}", autosave=False).add("v1", random_fp(1))
    result = runner.invoke(cli, ["video", "reindex"])
    assert result.exit_code == 0, result.output
    assert "reindexed 1 videos (20 frame hashes, flat)" in result.stdout
    result = runner.invoke(cli, ["video", "reindex", "--json"])
    assert json.loads(result.stdout) == {"videos": 1, "hashes": 20, "engine": "flat"}
    # the service's workers share one mapped file: reopened as they open it, it is current
    reopened = FingerprintIndex(
        f"sqlite:///{data / 'provkit.db'}", data / "fingerprints.npz", shared=True
    )
    assert reopened.loaded_from == "file" and found(reopened, 1) == ["v1"]
    monkeypatch.setenv("PROVKIT_FINGERPRINT_BACKEND", "faiss")
    result = runner.invoke(cli, ["video", "reindex"])
    assert result.exit_code == 2 and "fingerprint_backend" in result.stderr


@needs_milvus
def test_milvus_finds_what_the_local_engine_finds(
    sqlite_db_url: str,
    tmp_path: Path,
    milvus_uri: str,
    source_video: Callable[[int], Path],
    source_frames: Callable[[int, float], Frames],
) -> None:
    local = FingerprintIndex(sqlite_db_url, tmp_path / "fp.npz")
    for seed in (1, 2, 3):
        local.add(f"s{seed}", fingerprint_video(source_video(seed)))
    # a second worker on the same store, searching Milvus: it fills the collection from the store
    remote = FingerprintIndex(sqlite_db_url, backend=MilvusHashIndex(milvus_uri))
    assert remote.kind == "milvus" and remote.n_frames == local.n_frames
    excerpt = source_frames(2, 16.0)[round(5.4 * FPS) : round(5.4 * FPS) + 7 * FPS]
    compilation = (
        source_frames(1, 16.0)[3 * FPS : 9 * FPS]
        + source_frames(3, 16.0)[round(8.2 * FPS) : round(8.2 * FPS) + 6 * FPS]
    )
    mirrored = [f[:, ::-1].copy() for f in source_frames(3, 16.0)[2 * FPS : 10 * FPS]]
    clips = {"excerpt": excerpt, "compilation": compilation, "mirrored": mirrored}
    queries = {
        name: fingerprint_video(write_frames(tmp_path / f"{name}.mp4", frames), sample_fps=4.0)
        for name, frames in clips.items()
    }
    queries["unrelated"] = fingerprint_video(source_video(9), sample_fps=QUERY_SAMPLE_FPS)
    for name, q in queries.items():
        expected = local.search(q)
        assert remote.search(q) == expected, name
        assert bool(expected) == (name != "unrelated"), name
    local.remove("s3")
    assert remote.refresh() == "synced"
    assert remote.search(queries["mirrored"]) == local.search(queries["mirrored"]) == []
    assert remote.search(queries["excerpt"]) == local.search(queries["excerpt"])


@needs_milvus
def test_workers_share_one_milvus_collection(db_url: str, milvus_uri: str) -> None:
    a = FingerprintIndex(db_url, backend=MilvusHashIndex(milvus_uri))
    b = FingerprintIndex(db_url, backend=MilvusHashIndex(milvus_uri))
    a.add_many([("v1", random_fp(1)), ("v2", random_fp(2))])
    assert b.refresh() == "synced" and found(b, 1) == ["v1"]
    b.remove("v1")
    assert a.refresh() == "synced" and found(a, 1) == [] and found(a, 2) == ["v2"]
    engine = MilvusHashIndex(milvus_uri)
    assert engine.ntotal == a.n_frames == b.n_frames == 20
    synced = engine.synced_to()
    assert synced is not None and synced[0] == a.cursor == b.cursor
    # a worker that starts later finds the collection current: no rebuild, no upsert
    c = FingerprintIndex(db_url, backend=engine)
    assert found(c, 2) == ["v2"] and engine.ntotal == 20
    # the collection lost (dropped by hand): `reindex` refills it from the store
    engine.build(np.zeros((0, 32), np.uint8), np.zeros(0, np.int64))
    assert found(c, 2) == []
    assert c.reindex() == 20 and found(c, 2) == ["v2"] and found(a, 2) == ["v2"]
    for index in (a, b, c):
        index.close()


@needs_milvus
def test_collection_behind_the_feed_is_brought_forward(sqlite_db_url: str, milvus_uri: str) -> None:
    writer = FingerprintIndex(sqlite_db_url, autosave=False)
    worker = FingerprintIndex(sqlite_db_url, backend=MilvusHashIndex(milvus_uri))
    worker.close()
    # the workers are all down while the store changes (the CLI registers and removes)
    writer.add_many([("v1", random_fp(1)), ("v2", random_fp(2)), ("v3", random_fp(3))])
    worker = FingerprintIndex(sqlite_db_url, backend=MilvusHashIndex(milvus_uri))
    assert found(worker, 3) == ["v3"]
    writer.remove("v3")
    worker2 = FingerprintIndex(sqlite_db_url, backend=MilvusHashIndex(milvus_uri))
    assert found(worker2, 3) == [] and found(worker2, 1) == ["v1"]
    assert MilvusHashIndex(milvus_uri).ntotal == 40


@needs_milvus
def test_cli_reindex_with_the_milvus_backend(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, milvus_uri: str
) -> None:
    monkeypatch.setenv("PROVKIT_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("PROVKIT_DATABASE_URL", raising=False)
    monkeypatch.delenv("PROVKIT_CONFIG", raising=False)
    monkeypatch.setenv("PROVKIT_FINGERPRINT_BACKEND", "milvus")
    monkeypatch.setenv("PROVKIT_MILVUS_URI", milvus_uri)
    runner = CliRunner()
    assert runner.invoke(cli, ["db", "upgrade"]).exit_code == 0
    FingerprintIndex(f"sqlite:///{tmp_path / 'var' / 'provkit.db'}").add("v1", random_fp(1))
    result = runner.invoke(cli, ["video", "reindex"])
    assert result.exit_code == 0, result.output
    assert "reindexed 1 videos (20 frame hashes, milvus)" in result.stdout
    assert MilvusHashIndex(milvus_uri).ntotal == 20
    monkeypatch.delenv("PROVKIT_MILVUS_URI")
    result = runner.invoke(cli, ["video", "reindex"])
    assert result.exit_code == 2 and "PROVKIT_MILVUS_URI" in result.stderr
