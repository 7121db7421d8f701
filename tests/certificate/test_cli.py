"""End to end through ``provkit cert``: keygen, mint, anchor, get, verify and their exit codes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from cert_testdata import CONTENT, full_actions
from click.testing import CliRunner

from service.cli.main import cli


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PROVKIT_DATA_DIR", str(tmp_path / "var"))
    for k in (
        "PROVKIT_DATABASE_URL",
        "PROVKIT_CONFIG",
        "PROVKIT_CHAIN_RPC_URL",
        "PROVKIT_CHAIN_KEY_FILE",
        "PROVKIT_EAS_ADDRESS",
        "PROVKIT_SIGNING_KEY_FILE",
    ):
        monkeypatch.delenv(k, raising=False)
    (tmp_path / "record.json").write_text(
        json.dumps(
            {
                "generation_id": 3,
                "model": "ref",
                "generated_at": "2026-01-01T00:00:00Z",
                "mark_id": "00000000000000aa",
            }
        )
    )
    (tmp_path / "actions.json").write_text(json.dumps(full_actions()))
    (tmp_path / "song.wav").write_bytes(CONTENT)
    return tmp_path


def run(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return r.exit_code, r.stdout, r.stderr


def test_mint_anchor_verify(env: Path) -> None:
    code, out, _ = run("cert", "keygen", "issuer.key", "--keyring", "ring.json")
    assert code == 0 and (env / "issuer.key").stat().st_mode & 0o777 == 0o600
    key_id = out.split()[-1]
    assert len(key_id) == 64 and "PRIVATE" not in out
    code, out, _ = run(
        "cert", "mint", "--record", "record.json", "--actions", "actions.json", "--content", "song.wav",
        "--profile", "seed", "--key", "issuer.key", "-o", "cert.json",
    )  # fmt: skip
    assert code == 0 and "score 0.9 (seed)" in out and "pending" in out
    code, out, _ = run(
        "cert", "verify", "cert.json", "--content", "song.wav", "--keyring", "ring.json"
    )
    assert code == 0 and "VALID (pending)" in out and "pass     signature" in out
    code, out, _ = run("cert", "verify", "cert.json", "--allow-untrusted")
    assert code == 0 and "VALID (pending, untrusted issuer)" in out
    assert run("cert", "verify", "cert.json", "--require-anchor", "--keyring", "ring.json")[0] == 1
    code, out, err = run("cert", "anchor", "--export-dir", "anchored")
    assert code == 0 and "1 certificate(s) anchored" in out and "development chain" in err
    (path,) = list((env / "anchored").glob("*.json"))
    code, out, _ = run(
        "cert", "verify", str(path), "--content", "song.wav", "--keyring", "ring.json", "--json"
    )
    res = json.loads(out)
    assert code == 0 and res["valid"] and res["status"] == "unchecked" and res["trusted_issuer"]
    assert {c["name"]: c["outcome"] for c in res["checks"]}["issuer"] == "pass"
    # without a chain read the anchor is never taken as proven
    code, out, _ = run("cert", "verify", str(path), "--keyring", "ring.json")
    assert code == 0 and "VALID (unchecked" in out and "VALID (anchored" not in out
    assert run("cert", "verify", str(path), "--keyring", "ring.json", "--require-anchor")[0] == 1
    # the development chain lives in the store: a later command reads the anchor back
    code, out, _ = run(
        "cert", "verify", str(path), "--keyring", "ring.json", "--dev-chain", "--require-anchor"
    )
    assert code == 0 and "VALID (confirmed) certificate" in out and "pass     batch" in out
    cid = path.stem
    code, out, _ = run("cert", "get", cid)
    assert code == 0 and json.loads(out)["anchor"]["status"] == "anchored"
    # tampering: exit 1 and the failed check is printed
    doc = json.loads(path.read_text())
    doc["contribution"]["score"] = 0.95
    (env / "forged.json").write_text(json.dumps(doc))
    code, out, _ = run("cert", "verify", "forged.json", "--keyring", "ring.json")
    assert code == 1 and "INVALID: signature, inclusion" in out
    code, out, _ = run("cert", "verify", str(path), "--content", "record.json")
    assert code == 1 and "content_hash" in out
    # rotation keeps old certificates verifiable
    assert run("cert", "keygen", "issuer2.key", "--keyring", "ring.json", "--rotate")[0] == 0
    assert run("cert", "verify", str(path), "--keyring", "ring.json")[0] == 0


def test_bad_input_exits_2_with_one_line(env: Path) -> None:
    assert run("cert", "keygen", "k.key")[0] == 0
    cases = [
        ("cert", "verify", "missing.json"),
        ("cert", "mint", "--record", "record.json", "--actions", "missing.json", "--key", "k.key", "-o", "c.json"),
        ("cert", "mint", "--record", "actions.json", "--actions", "actions.json", "--key", "k.key", "-o", "c.json"),
        ("cert", "mint", "--record", "record.json", "--actions", "actions.json", "--key", "k.key", "-o", "c.json", "--profile", "nope", "--content", "song.wav"),
        ("cert", "mint", "--record", "record.json", "--actions", "actions.json", "--key", "k.key", "-o", "c.json"),
        ("cert", "keygen", "k.key"),
        ("cert", "keygen", "k2.key", "--rotate"),
    ]  # fmt: skip
    (env / "bad.json").write_text("{oops")
    cases.append(("cert", "verify", "bad.json"))
    (env / "deep.json").write_text('{"a":' * 50_000)
    cases.append(("cert", "verify", "deep.json"))
    (env / "actions_bad.json").write_text(
        json.dumps([{"id": "x", "kind": "telepathy", "at": "2026-01-01T00:00:00Z"}])
    )
    cases.append(
        (
            "cert",
            "mint",
            "--record",
            "record.json",
            "--actions",
            "actions_bad.json",
            "--key",
            "k.key",
            "-o",
            "c.json",
            "--content",
            "song.wav",
        )
    )
    os.chmod(env / "k.key", 0o644)
    cases.append(
        (
            "cert",
            "mint",
            "--record",
            "record.json",
            "--actions",
            "actions.json",
            "--key",
            "k.key",
            "-o",
            "c.json",
            "--content",
            "song.wav",
        )
    )
    for args in cases:
        code, out, err = run(*args)
        assert code == 2, (args, out, err)
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, (args, err)


def test_unreachable_rpc_is_reported_not_valid(env: Path) -> None:
    assert run("cert", "keygen", "k.key")[0] == 0
    args = (
        "--record",
        "record.json",
        "--actions",
        "actions.json",
        "--content",
        "song.wav",
        "--key",
        "k.key",
    )
    assert run("cert", "mint", *args, "-o", "c.json")[0] == 0
    assert run("cert", "anchor", "--export-dir", "out")[0] == 0
    (path,) = list((env / "out").glob("*.json"))
    code, out, _ = run(
        "cert", "verify", str(path), "--rpc", "http://127.0.0.1:9", "--allow-untrusted"
    )
    assert code == 1 and "error    onchain_root" in out and "unreachable" in out
    # anchoring against a dead endpoint (from the settings): the batch waits, exit 1
    assert run("cert", "mint", *args, "-o", "c2.json")[0] == 0
    os.environ["PROVKIT_CHAIN_RPC_URL"] = "http://127.0.0.1:9"
    try:
        code, out, _ = run("cert", "anchor")
    finally:
        del os.environ["PROVKIT_CHAIN_RPC_URL"]
    assert code == 1 and "NOT anchored" in out and "1 batch(es) await anchoring" in out


def test_mint_uses_the_configured_signing_key(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROVKIT_SIGNING_KEY_FILE", str(env / "configured.key"))
    code, out, _ = run("cert", "keygen", "configured.key")
    assert code == 0
    args = ("--record", "record.json", "--actions", "actions.json", "--content", "song.wav")
    assert run("cert", "mint", *args, "-o", "c.json")[0] == 0
    assert json.loads((env / "c.json").read_text())["issuer"]["key_id"] == out.split()[-1]


def test_anchor_due_only_and_get(env: Path) -> None:
    assert run("cert", "keygen", "k.key")[0] == 0
    args = (
        "--record",
        "record.json",
        "--actions",
        "actions.json",
        "--content",
        "song.wav",
        "--key",
        "k.key",
    )
    for i in range(3):
        assert run("cert", "mint", *args, "-o", f"c{i}.json")[0] == 0
    # a full batch of 2 closes, the young remainder waits
    code, out, _ = run("cert", "anchor", "--due-only", "--max-size", "2", "--max-age", "3600")
    assert (
        code == 0
        and "2 certificate(s) anchored" in out
        and "1 certificate(s) not yet batched" in out
    )
    cid = json.loads((env / "c2.json").read_text())["id"]
    code, out, _ = run("cert", "get", cid, "-o", "got.json")
    assert code == 0 and "(pending)" in out
    assert json.loads((env / "got.json").read_text())["anchor"] == {"status": "pending"}
    code, out, _ = run("cert", "anchor", "--max-size", "2")
    assert code == 0 and "0 certificate(s) not yet batched" in out
    code, _, err = run("cert", "get", "f" * 32)
    assert code == 1 and err.startswith("provkit: error: no certificate")  # a negative result
    assert run("cert", "mint", *args, "-o", "n.json", "--no-queue")[0] == 0
    code, out, _ = run("cert", "anchor")
    assert "closed 0 batch(es)" in out
