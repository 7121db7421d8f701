"""Settings sources, secret redaction and the CLI's exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from service.cli.main import cli
from service.settings import Settings, redact_url


def test_env_and_toml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    toml = tmp_path / "provkit.toml"
    toml.write_text('port = 9001\nlog_level = "debug"\ndata_dir = "/srv/provkit"\n')
    monkeypatch.setenv("PROVKIT_CONFIG", str(toml))
    s = Settings()
    assert s.port == 9001
    assert s.log_level == "DEBUG"
    assert s.db_url == "sqlite:////srv/provkit/provkit.db"
    monkeypatch.setenv("PROVKIT_PORT", "9002")  # environment wins over the file
    assert Settings().port == 9002


def test_missing_config_file_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROVKIT_CONFIG", str(tmp_path / "absent.toml"))
    with pytest.raises(ValueError, match="does not exist"):
        Settings()


def test_secrets_redacted() -> None:
    s = Settings(
        database_url="postgresql://app:hunter2@db:5432/prov",
        milvus_uri="http://root:hunter2@milvus:19530",
    )
    assert "hunter2" not in json.dumps(s.public())
    assert redact_url("postgresql://app:hunter2@db/prov") == "postgresql://app:***@db/prov"
    assert redact_url("sqlite:///var/provkit.db") == "sqlite:///var/provkit.db"


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("PROVKIT_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("PROVKIT_CONFIG", raising=False)
    monkeypatch.delenv("PROVKIT_DATABASE_URL", raising=False)
    return CliRunner()


def test_keys_cli_lifecycle(runner: CliRunner) -> None:
    r = runner.invoke(cli, ["keys", "create", "--scope", "verify", "--scope", "mint", "--json"])
    assert r.exit_code == 0, r.output
    created = json.loads(r.stdout)
    assert created["key"].startswith("pk_")
    assert created["scopes"] == ["mint", "verify"]
    r = runner.invoke(cli, ["keys", "list"])
    assert created["key_id"] in r.stdout
    assert created["key"] not in r.stdout
    assert runner.invoke(cli, ["keys", "revoke", created["key_id"]]).exit_code == 0
    r = runner.invoke(cli, ["keys", "revoke", created["key_id"]])
    assert r.exit_code == 1  # a negative result: no such active key
    assert "no active key" in r.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["keys", "create"],
        ["keys", "create", "--scope", "root"],
        ["nonsense"],
        ["db", "downgrade", "base"],
        ["serve", "--port", "70000"],
    ],
)
def test_bad_arguments_exit_2_with_one_line(runner: CliRunner, args: list[str]) -> None:
    r = runner.invoke(cli, args)
    assert r.exit_code == 2, r.output
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, r.stderr
    assert "error" in lines[0]
    assert "Traceback" not in r.output


def test_bad_config_exit_2(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROVKIT_PORT", "not-a-port")
    r = runner.invoke(cli, ["db", "current"])
    assert r.exit_code == 2
    assert len(r.stderr.strip().splitlines()) == 1


def test_db_commands(runner: CliRunner) -> None:
    r = runner.invoke(cli, ["db", "current"])
    assert "empty" in r.stdout
    assert runner.invoke(cli, ["db", "upgrade"]).exit_code == 0
    assert "up to date" in runner.invoke(cli, ["db", "current"]).stdout
    assert runner.invoke(cli, ["db", "downgrade", "base", "--yes"]).exit_code == 0
    assert "empty" in runner.invoke(cli, ["db", "current"]).stdout


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A user with no provkit variables: the store is whatever the lookup order finds."""
    for var in ("PROVKIT_DATA_DIR", "PROVKIT_CONFIG", "PROVKIT_DATABASE_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return tmp_path


def test_the_store_does_not_depend_on_the_current_folder(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = set()
    for folder in ("a", "b/c"):
        (home / folder).mkdir(parents=True)
        monkeypatch.chdir(home / folder)
        seen.add(Settings().data_dir)
    assert seen == {home / "data" / "provkit"}
    assert Settings().data_dir_source() == "the per-user default"


def test_lookup_order(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = home / "config" / "provkit" / "provkit.toml"
    cfg.parent.mkdir(parents=True)
    cfg.write_text(f'data_dir = "{home / "srv"}"\n')
    assert Settings().data_dir == home / "srv"
    assert Settings().data_dir_source() == f"data_dir in {cfg}"
    monkeypatch.setenv("PROVKIT_DATA_DIR", str(home / "env"))
    assert Settings().data_dir == home / "env"
    assert Settings().data_dir_source() == "PROVKIT_DATA_DIR"


def test_info_says_which_store_and_the_first_command_says_it_created_one(home: Path) -> None:
    runner = CliRunner()
    r = runner.invoke(cli, ["info", "--json"])
    assert r.exit_code == 0, r.output
    info = json.loads(r.stdout)
    assert info["data_dir"] == str(home / "data" / "provkit")
    assert info["data_dir_from"] == "the per-user default"
    assert info["schema"] == "absent" and not (home / "data" / "provkit").exists()
    r = runner.invoke(cli, ["keys", "list"])
    assert r.exit_code == 0
    assert f"created a new store in {home / 'data' / 'provkit'}" in r.stderr
    r = runner.invoke(cli, ["keys", "list"])
    assert "created" not in r.stderr  # once only
    info = json.loads(runner.invoke(cli, ["info", "--json"]).stdout)
    assert (info["schema"], info["generations"]) == ("up to date", 0)
