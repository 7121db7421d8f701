"""Anchoring against a real Ethereum node (anvil) over JSON-RPC on loopback.

``scripts/ensure_anvil.sh`` installs anvil from the npm package ``@foundry-rs/anvil`` into the
project-local ``.tools/`` folder. The test is skipped, loudly, only when npm is not installed.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from cert_testdata import CONTENT, full_actions
from click.testing import CliRunner

from provenance.certificate import CertificateStore, Chain, Signer, mint, verify_certificate
from provenance.registry import make_engine
from service.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]
#: anvil's first pre-funded development account (public, well-known test key)
ANVIL_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"


def _loud_skip(reason: str) -> None:
    msg = f"\n\n*** ANVIL (real JSON-RPC node) TEST SKIPPED: {reason} ***\n"
    warnings.warn(msg, stacklevel=2)
    print(msg)
    pytest.skip(msg.strip())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def anvil_url() -> Iterator[str]:
    if shutil.which("npm") is None:
        _loud_skip("npm is not installed, so anvil cannot be installed")
    proc = subprocess.run(
        ["bash", str(ROOT / "scripts" / "ensure_anvil.sh")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, f"ensure_anvil.sh failed: {proc.stderr.strip()}"
    binary = proc.stdout.strip().splitlines()[-1]
    port = _free_port()
    node = subprocess.Popen(
        [binary, "--host", "127.0.0.1", "--port", str(port), "--accounts", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        body = json.dumps(
            {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}
        ).encode()
        for _ in range(100):
            try:
                req = urllib.request.Request(url, body, {"Content-Type": "application/json"})
                urllib.request.urlopen(req, timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("anvil did not answer on loopback within 10 s")
        yield url
    finally:
        node.terminate()
        node.wait(timeout=10)


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    p = tmp_path / "anchor.key"
    p.write_text(ANVIL_KEY + "\n")
    os.chmod(p, 0o600)
    return p


def test_anchor_and_verify_on_anvil(anvil_url: str, key_file: Path, sqlite_db_url: str) -> None:
    deployer = Chain.connect(anvil_url, key_file=key_file)
    eas = deployer.deploy_timestamp_contract()
    chain = Chain.connect(anvil_url, key_file=key_file, eas_address=eas)
    assert chain.chain_id == 31337
    engine = make_engine(sqlite_db_url)
    store = CertificateStore(engine)
    signer = Signer.generate()
    rec = {"generation_id": "1", "model": "ref", "generated_at": "2026-01-01T00:00:00Z"}
    ids = [
        mint(rec, full_actions(), signer, content=CONTENT + bytes([i]), store=store).id
        for i in range(5)
    ]
    store.close_batches(force=True)
    (b,) = store.anchor_batches(chain)
    assert b.status == "anchored" and b.chain_id == 31337 and b.gas_used and b.gas_used < 60_000
    reader = Chain.connect(anvil_url)  # a verifier needs no key, only the endpoint
    for i in ids:
        res = verify_certificate(store.get(i).to_json(), chain=reader, allow_untrusted=True)
        assert res.status == "confirmed", res.to_dict()
    doc = store.get(ids[0]).to_dict()
    doc["anchor"]["block_time"] += 1
    assert verify_certificate(doc, chain=reader, allow_untrusted=True).failed == ["block_time"]
    engine.dispose()


def test_cli_anchor_and_verify_on_anvil(
    anvil_url: str, key_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PROVKIT_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("PROVKIT_DATABASE_URL", raising=False)
    (tmp_path / "r.json").write_text(
        json.dumps({"generation_id": "2", "model": "ref", "generated_at": "2026-01-01T00:00:00Z"})
    )
    (tmp_path / "a.json").write_text(json.dumps(full_actions()))
    (tmp_path / "x.wav").write_bytes(CONTENT)
    r = CliRunner()
    assert r.invoke(cli, ["cert", "keygen", "k.key"]).exit_code == 0
    m = r.invoke(
        cli,
        [
            "cert",
            "mint",
            "--record",
            "r.json",
            "--actions",
            "a.json",
            "--content",
            "x.wav",
            "--key",
            "k.key",
            "-o",
            "c.json",
        ],
    )
    assert m.exit_code == 0, m.output
    a = r.invoke(
        cli,
        ["cert", "anchor", "--rpc", anvil_url, "--chain-key", str(key_file), "--export-dir", "out"],
    )
    import re

    gas = re.search(r"\(chain 31337, (\d+) gas\)", a.stdout)
    # 21,000 + 10 gas per calldata token (4 per non-zero byte, 1 per zero byte of the root)
    assert a.exit_code == 0 and gas and 21_320 <= int(gas.group(1)) <= 22_280, a.output
    (cert,) = list((tmp_path / "out").glob("*.json"))
    v = r.invoke(cli, ["cert", "verify", str(cert), "--content", "x.wav", "--rpc", anvil_url])
    assert v.exit_code == 1 and "untrusted issuer" in v.stdout, v.output
    v = r.invoke(
        cli,
        [
            "cert",
            "verify",
            str(cert),
            "--content",
            "x.wav",
            "--rpc",
            anvil_url,
            "--allow-untrusted",
        ],
    )
    assert v.exit_code == 0 and "VALID (confirmed, untrusted issuer)" in v.stdout, v.output
    # the same through the EAS-compatible contract deployed from the CLI
    d = r.invoke(cli, ["cert", "deploy-contract", "--rpc", anvil_url, "--chain-key", str(key_file)])
    address = d.stdout.strip()
    assert d.exit_code == 0 and address.startswith("0x") and len(address) == 42, d.output
    m = r.invoke(
        cli,
        [
            "cert",
            "mint",
            "--record",
            "r.json",
            "--actions",
            "a.json",
            "--key",
            "k.key",
            "-o",
            "c2.json",
            "--content",
            "x.wav",
        ],
    )
    assert m.exit_code == 0, m.output
    a = r.invoke(
        cli,
        [
            "cert",
            "anchor",
            "--rpc",
            anvil_url,
            "--chain-key",
            str(key_file),
            "--eas",
            address,
            "--export-dir",
            "out2",
        ],
    )
    assert a.exit_code == 0, a.output
    (cert2,) = list((tmp_path / "out2").glob("*.json"))
    assert json.loads(cert2.read_text())["anchor"]["method"] == "eas-timestamp"
    v = r.invoke(cli, ["cert", "verify", str(cert2), "--rpc", anvil_url, "--allow-untrusted"])
    assert v.exit_code == 0 and "VALID (confirmed, untrusted issuer)" in v.stdout, v.output


def test_documented_by_hand_verifier_on_anvil(
    anvil_url: str, key_file: Path, tmp_path: Path, sqlite_db_url: str
) -> None:
    """The docs' provkit-free verifier checks calldata and EAS anchors over plain JSON-RPC."""
    import subprocess
    import sys

    from cert_testdata import by_hand_script

    script = tmp_path / "verify_by_hand.py"
    script.write_text(by_hand_script())
    engine = make_engine(sqlite_db_url)
    store = CertificateStore(engine)
    signer = Signer.generate()
    rec = {"generation_id": "3", "model": "ref", "generated_at": "2026-01-01T00:00:00Z"}
    eas = Chain.connect(anvil_url, key_file=key_file).deploy_timestamp_contract()
    content = tmp_path / "c.bin"
    content.write_bytes(CONTENT)
    for eas_address in (None, eas):
        c = mint(rec, full_actions(), signer, content=content, store=store)
        store.close_batches(force=True)
        (b,) = store.anchor_batches(
            Chain.connect(anvil_url, key_file=key_file, eas_address=eas_address)
        )
        assert b.status == "anchored"
        path = tmp_path / f"{c.id}.json"
        path.write_text(store.get(c.id).to_json())
        run = subprocess.run(
            [sys.executable, str(script), str(path), anvil_url, str(content)],
            capture_output=True,
            text=True,
        )
        assert run.returncode == 0 and "root on chain 31337" in run.stdout, run.stderr
        doc = json.loads(path.read_text())
        doc["anchor"]["block_time"] -= 1
        path.write_text(json.dumps(doc))
        run = subprocess.run(
            [sys.executable, str(script), str(path), anvil_url], capture_output=True, text=True
        )
        assert run.returncode != 0 and "block time" in run.stderr
    engine.dispose()
