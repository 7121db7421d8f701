"""End to end: `provkit video add|trace|remove|hash` through the click CLI."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from service.cli.main import cli

from .conftest import FPS, Frames, write_frames


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path / "var"
    monkeypatch.setenv("PROVKIT_DATA_DIR", str(data))
    monkeypatch.delenv("PROVKIT_DATABASE_URL", raising=False)
    monkeypatch.delenv("PROVKIT_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    return data


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_add_folder_trace_remove(
    env: Path,
    tmp_path: Path,
    source_video: Callable[[int], Path],
    source_frames: Callable[[int, float], Frames],
) -> None:
    folder = tmp_path / "sources"
    folder.mkdir()
    for seed in (1, 2):
        shutil.copy(source_video(seed), folder / f"clip{seed}.mp4")
    (folder / "notes.txt").write_text("not a video")
    code, out, err = _run("video", "add", str(folder))
    assert code == 0, err
    assert "added clip1" in out and "added clip2" in out
    assert (env / "fingerprints.map").is_file() and (env / "provkit.db").is_file()

    code, out, err = _run("video", "add", str(source_video(3)), "--id", "third", "--json")
    assert code == 0, err
    assert json.loads(out)["added"] == ["third"]

    start = round(4.6 * FPS)
    query = write_frames(tmp_path / "q.mp4", source_frames(2, 16.0)[start : start + 6 * FPS])
    code, out, err = _run("video", "trace", str(query), "--json")
    assert code == 0, err
    matches = json.loads(out)["matches"]
    assert matches[0]["video_id"] == "clip2"
    assert abs(matches[0]["offset_s"] - start / FPS) <= 0.5
    assert set(matches[0]) >= {
        "video_id",
        "score",
        "offset_s",
        "query_range",
        "ref_range",
        "matched_frames",
    }
    code, out, _ = _run("video", "trace", str(query))
    assert code == 0 and out.startswith("clip2\tscore")

    code, out, _ = _run("video", "remove", "clip2")
    assert code == 0 and "removed clip2" in out
    code, out, _ = _run("video", "trace", str(query), "--json")
    assert code == 0 and json.loads(out) == {"matches": []}
    code, out, _ = _run("video", "trace", str(query))
    assert out.strip() == "no match"


def test_hash_prints_time_quality_hex(env: Path, source_video: Callable[[int], Path]) -> None:
    code, out, err = _run("video", "hash", str(source_video(1)))
    assert code == 0, err
    lines = out.strip().splitlines()
    assert len(lines) >= 10
    t, q, h = lines[1].split(",")
    assert float(t) == pytest.approx(1.0) and 50 <= int(q) <= 100 and len(h) == 64
    code, out, _ = _run("video", "hash", str(source_video(1)), "--fps", "0", "--min-quality", "0")
    assert len(out.strip().splitlines()) == 16 * FPS


def test_bad_input_exits_2_with_one_line_and_writes_nothing(
    env: Path, tmp_path: Path, source_video: Callable[[int], Path]
) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"definitely not a video" * 100)
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    for args in (
        ("video", "add", str(junk), "--id", "x"),
        ("video", "add", str(empty), "--id", "x"),
        ("video", "trace", str(junk)),
        ("video", "hash", str(empty)),
    ):
        code, out, err = _run(*args)
        assert code == 2, args
        assert len(err.strip().splitlines()) == 1 and "error" in err, args
    # removing what is not there is a negative result, not bad input
    code, out, err = _run("video", "remove", "nothing-here")
    assert code == 1 and len(err.strip().splitlines()) == 1 and "error" in err
    # a folder with one bad video adds nothing at all
    folder = tmp_path / "mixed"
    folder.mkdir()
    shutil.copy(source_video(1), folder / "good.mp4")
    shutil.copy(junk, folder / "bad.mp4")
    code, _, err = _run("video", "add", str(folder))
    assert code == 2 and "bad.mp4" in err
    code, out, _ = _run("video", "add", str(source_video(1)), "--id", "good")
    assert code == 0 and "added good" in out
    code, _, err = _run("video", "add", str(source_video(1)), "--id", "good")
    assert code == 2 and "already registered" in err


def test_console_script_runs(env: Path, source_video: Callable[[int], Path]) -> None:
    exe = Path(sys.executable).with_name("provkit")
    if not exe.exists():
        pytest.skip("the provkit console script is not installed in this environment")
    proc = subprocess.run(
        [str(exe), "video", "hash", str(source_video(2))],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.splitlines()) >= 10
