"""The pipeline from the shell: generate, verify, demo (exit codes and output)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from service.cli.main import cli


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("PROVKIT_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("PROVKIT_DATABASE_URL", raising=False)
    monkeypatch.delenv("PROVKIT_CONFIG", raising=False)
    return CliRunner()


def test_generate_then_verify(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "a.flac"
    r = runner.invoke(
        cli, ["generate", "rain on a tin roof", "-o", str(out), "--duration", "3", "--json"]
    )
    assert r.exit_code == 0, r.output
    receipt = json.loads(r.stdout)
    assert out.exists()
    r = runner.invoke(cli, ["verify", str(out), "--json"])
    assert r.exit_code == 0, r.output
    v = json.loads(r.stdout)
    assert v["verdict"] == "generated"
    assert v["generation"]["mark_id"] == receipt["mark_id"]
    line = runner.invoke(cli, ["verify", str(out)]).stdout
    assert "generated" in line
    assert receipt["mark_id"] in line
    for mode in ("full", "fast"):
        r = runner.invoke(cli, ["verify", str(out), "--mode", mode, "--json"])
        assert r.exit_code == 0, r.output
        assert json.loads(r.stdout)["verdict"] == "generated"


def test_a_refused_prompt_exits_1_with_one_line(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "x.flac"
    r = runner.invoke(cli, ["generate", "clone Taylor Swift's voice for my song", "-o", str(out)])
    assert r.exit_code == 1, r.output
    lines = [x for x in r.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("provkit: error: prompt refused"), lines
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["generate", "ok", "-o", "x.txt"], "must end in"),
        (["generate", "ok", "-o", "x.flac", "--duration", "0"], "error"),
        (["verify", "/definitely/not/here.mp4"], "error"),
        (["verify", "x.flac", "--mode", "quick"], "error"),
    ],
)
def test_bad_input_exit_2_one_line(
    runner: CliRunner, tmp_path: Path, args: list[str], needle: str
) -> None:
    r = runner.invoke(cli, [a if not a.startswith("x.") else str(tmp_path / a) for a in args])
    assert r.exit_code == 2, r.output
    lines = [x for x in r.stderr.splitlines() if x.strip()]
    assert len(lines) == 1
    assert needle in lines[0]


def test_verify_junk_is_exit_2(runner: CliRunner, tmp_path: Path) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"nope" * 100)
    r = runner.invoke(cli, ["verify", str(junk)])
    assert r.exit_code == 2
    assert "not a decodable" in r.stderr


@pytest.mark.slow
def test_demo_table(runner: CliRunner) -> None:
    r = runner.invoke(cli, ["demo", "--clips", "1", "--duration", "6", "--json"])
    assert r.exit_code == 0, r.output
    rows = [json.loads(x) for x in r.stdout.splitlines()]
    verdicts = {row["transform"]: row["verdict"] for row in rows}
    for label in ("original", "re-encoded CRF 35", "trimmed 4 s from 3 s", "letterboxed",
                  "downscaled 50 %", "audio stripped", "audio only (AAC 256k)"):  # fmt: skip
        assert verdicts[label] == "generated", (label, verdicts)
    assert verdicts["audio only (MP3 128k)"] == "generated"  # the robust layer reads it
    assert verdicts["unregistered"] == "not_found"


def test_generate_bounds_are_the_api_s(tmp_path: Path) -> None:
    """The CLI builds the API's request model: the same bounds, broken as one line, exit 2."""
    from service.requests import LIMITS

    r = CliRunner().invoke(
        cli, ["generate", "waves", "-o", str(tmp_path / "a.flac"), "--duration", "100000"]
    )
    assert r.exit_code == 2
    assert r.stderr.strip().splitlines() == [
        f"provkit: error: duration_s: Input should be less than or equal to {LIMITS.max_duration_s:g}"
    ]
    r = CliRunner().invoke(cli, ["generate", "x", "-o", str(tmp_path / "a.mp4"), "--width", "641"])
    assert r.exit_code == 2 and "even" in r.stderr
