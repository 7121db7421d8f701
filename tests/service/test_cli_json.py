"""The CLI for scripts: ``--json`` in one style, exit codes 0 / 1 / 2, one error prefix, and a
command table that loads each command only when it is used."""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import stat
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from service.auth import SCOPES
from service.cli import keys as keys_cli
from service.cli.main import COMMANDS, cli

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("PROVKIT_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("PROVKIT_CONFIG", raising=False)
    monkeypatch.delenv("PROVKIT_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    return CliRunner()


def _one_json(out: str) -> dict[str, object]:
    """The single JSON line a ``--json`` command prints, checked for the CLI's one style."""
    lines = [x for x in out.splitlines() if x.strip()]
    assert len(lines) == 1, out
    obj = json.loads(lines[0])
    assert lines[0] == json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    assert isinstance(obj, dict)
    return obj


def test_table_names_each_command() -> None:
    import importlib

    for name, (module, attr, help_text) in COMMANDS.items():
        cmd = getattr(importlib.import_module(module), attr)
        assert isinstance(cmd, click.Command) and cmd.name == name
        assert help_text and len(help_text) < 80
    assert keys_cli.SCOPES == SCOPES


def test_light_copies_match_the_libraries() -> None:
    """The constants the command modules write out (to start fast) equal the libraries'."""
    from provenance.fingerprint.index import QUERY_SAMPLE_FPS
    from screening.policy import TIERS
    from service.cli import pipeline_cmds, video, watermark
    from watermark.layers import DEFAULT_THRESHOLD, LAYERS

    assert watermark.LAYERS == LAYERS and watermark.DEFAULT_THRESHOLD == DEFAULT_THRESHOLD
    assert video.QUERY_SAMPLE_FPS == QUERY_SAMPLE_FPS
    assert pipeline_cmds.TIERS == TIERS


#: Every help screen, every command group's subcommands' included, in one process: after all
#: of them, none of the store, the DSP stack or the settings may have been imported.
_HELP_SCRIPT = """
import sys
from service.cli.main import COMMANDS, cli, main

HEAVY = ("sqlalchemy", "alembic", "scipy", "numpy", "pydantic", "c2pa", "faiss", "cryptography")
screens = 0


def show(argv):
    global screens
    sys.argv = ["provkit", *argv]
    try:
        main()
    except SystemExit as e:
        assert e.code == 0, (argv, e.code)
    heavy = [m for m in HEAVY if m in sys.modules]
    assert not heavy, (argv, heavy)
    screens += 1


show(["--help"])
for name in sorted(COMMANDS):
    show([name, "--help"])  # loads the command's module
    for sub in sorted(getattr(cli.get_command(None, name), "commands", {})):
        show([name, sub, "--help"])
print("SCREENS", screens, file=sys.stderr)
"""


def test_help_imports_no_store_or_dsp() -> None:
    r = subprocess.run(
        [sys.executable, "-c", _HELP_SCRIPT],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert r.returncode == 0, r.stderr[-2000:]
    screens = int(r.stderr.split("SCREENS ")[1].split()[0])
    assert screens >= 40
    for name in COMMANDS:
        assert f"  {name} " in r.stdout


def test_label_read_starts_light(tmp_path: Path) -> None:
    """A command that runs without the store (reading a file's AIGC label) imports neither the
    store nor the DSP stack."""
    wav = tmp_path / "a.wav"
    wav.write_bytes(
        b"RIFF" + (36).to_bytes(4, "little") + b"WAVEfmt " + (16).to_bytes(4, "little")
        + bytes.fromhex("01000100803e0000007d00000200100064617461") + (0).to_bytes(4, "little")
    )  # fmt: skip
    code = (
        "import sys\n"
        "from service.cli.main import main\n"
        f"sys.argv = ['provkit', 'label', 'read', {str(wav)!r}]\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert e.code == 1, e.code\n"
        "print('HEAVY', [m for m in ('sqlalchemy', 'alembic', 'scipy', 'numpy') "
        "if m in sys.modules], file=sys.stderr)\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT), "PROVKIT_DATA_DIR": str(tmp_path / "var")},
        check=True,
    )
    assert "HEAVY []" in r.stderr and "no AIGC label" in r.stdout
    assert not (tmp_path / "var").exists()


@pytest.mark.parametrize(
    ("argv", "heavy"),
    [
        (["watermark", "keygen"], ("sqlalchemy", "alembic", "scipy", "numpy")),
        (["cert", "keygen"], ("sqlalchemy", "alembic", "scipy", "web3")),
    ],
)
def test_keygen_starts_light(tmp_path: Path, argv: list[str], heavy: tuple[str, ...]) -> None:
    """The keygen commands import only the key modules: the packages load their other modules
    when a name is first used."""
    out = tmp_path / "new.key"
    code = (
        "import sys\n"
        "from service.cli.main import main\n"
        f"sys.argv = ['provkit', *{argv!r}, {str(out)!r}]\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
        f"print('HEAVY', [m for m in {heavy!r} if m in sys.modules], file=sys.stderr)\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT), "PROVKIT_DATA_DIR": str(tmp_path / "var")},
    )
    assert r.returncode == 0, r.stderr[-2000:]
    assert "HEAVY []" in r.stderr
    assert out.exists()


@pytest.mark.parametrize("package", ["watermark", "provenance.certificate"])
def test_lazy_packages_export_what_they_list(package: str) -> None:
    """Every name in a lazily loading package's ``__all__`` resolves, and nothing else does."""
    mod = importlib.import_module(package)
    assert set(mod.__all__) == set(mod._MODULE_OF)
    # submodules named like an export (``watermark.embed``, ``certificate.mint``) load first
    for info in pkgutil.iter_modules(mod.__path__):
        importlib.import_module(f"{package}.{info.name}")
    for name in mod.__all__:
        assert getattr(mod, name) is getattr(importlib.import_module(mod._MODULE_OF[name]), name)
    with pytest.raises(AttributeError):
        _ = mod.no_such_name


def test_keys_json_and_exit_codes(runner: CliRunner) -> None:
    r = runner.invoke(cli, ["keys", "create", "--scope", "verify", "--name", "安娜", "--json"])
    created = _one_json(r.stdout)
    r = runner.invoke(cli, ["keys", "list", "--json"])
    listed = _one_json(r.stdout)
    assert listed["keys"] == [
        {
            "key_id": created["key_id"],
            "state": "active",
            "scopes": ["verify"],
            "created_at": listed["keys"][0]["created_at"],  # type: ignore[index]
            "name": "安娜",
        }
    ]
    text = runner.invoke(cli, ["keys", "list"]).stdout.splitlines()
    assert text[0] == "key_id\tstate\tscopes\tcreated\tname"
    assert _one_json(
        runner.invoke(cli, ["keys", "revoke", str(created["key_id"]), "--json"]).stdout
    )
    r = runner.invoke(cli, ["keys", "revoke", str(created["key_id"])])
    assert r.exit_code == 1  # a negative result, not bad input
    assert r.stderr.startswith("provkit: error: no active key")


def test_usage_errors_exit_2_with_one_prefix(runner: CliRunner) -> None:
    for args in (["keys", "create"], ["nosuch"], ["watermark", "embed", "--bogus"]):
        r = runner.invoke(cli, args)
        assert r.exit_code == 2, args
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("provkit: error: "), r.stderr


def test_keygen_commands_json(runner: CliRunner, tmp_path: Path) -> None:
    wm = _one_json(runner.invoke(cli, ["watermark", "keygen", "wm.key", "--json"]).stdout)
    assert wm["key_file"] == "wm.key" and len(str(wm["key_id"])) > 0
    r = runner.invoke(cli, ["cert", "keygen", "issuer.key", "--keyring", "ring.json", "--json"])
    ck = _one_json(r.stdout)
    assert ck["public_key_file"] and ck["keyring"] == "ring.json"
    assert stat.S_IMODE((tmp_path / "issuer.key").stat().st_mode) == 0o600


def test_db_current_json(runner: CliRunner) -> None:
    r = runner.invoke(cli, ["db", "current", "--json"])
    assert r.exit_code == 1  # an empty store is not up to date
    assert _one_json(r.stdout)["up_to_date"] is False
    up = _one_json(runner.invoke(cli, ["db", "upgrade", "--json"]).stdout)
    assert up["up_to_date"] is True and up["revisions"]
    r = runner.invoke(cli, ["db", "current", "--json"])
    assert r.exit_code == 0 and _one_json(r.stdout)["up_to_date"] is True


def test_json_keeps_non_ascii(runner: CliRunner) -> None:
    r = runner.invoke(cli, ["screen", "用周杰伦的声音唱一首新歌", "--json"])
    assert r.exit_code == 0
    d = _one_json(r.stdout)
    assert "周杰伦" in r.stdout and d["action"] == "deny"


def test_video_remove_unknown_is_negative(runner: CliRunner) -> None:
    r = runner.invoke(cli, ["video", "remove", "never-added", "--json"])
    assert r.exit_code == 1
    assert r.stderr.startswith("provkit: error: ")


def test_serve_logs_json_lines_only(tmp_path: Path) -> None:
    """``provkit serve``: uvicorn's start-up lines as JSON, no plain access lines, one JSON
    access record per request."""
    import httpx

    from .conftest import provkit_env, running_server

    env = provkit_env(tmp_path, PROVKIT_LOG_LEVEL="INFO")
    log = tmp_path / "serve.log"
    with running_server(env, tmp_path, log=log) as base:
        assert httpx.get(base + "/healthz?probe=1", timeout=10).status_code == 200
    lines = [x for x in log.read_text().splitlines() if x.strip()]
    records = [json.loads(x) for x in lines]  # every line is JSON
    assert any(r["logger"].startswith("uvicorn") for r in records)
    access = [r for r in records if r.get("path") == "/healthz"]
    assert len(access) == 1 and "probe" not in json.dumps(access[0])
