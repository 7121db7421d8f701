"""``provkit cert``: human-contribution certificates (keygen, mint, anchor, get, verify)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import click

from service.cli.common import (
    echo_json,
    fail,
    load_settings,
    negative,
    services,
    to_json,
    warn,
)

if TYPE_CHECKING:
    from provenance.certificate import CertificateCheck, CertificateStore, Keyring


def _read(path: Path, what: str, limit: int = 4 * 1024 * 1024) -> bytes:
    try:
        size = path.stat().st_size
        if size > limit:
            fail(f"{what} {path} is larger than {limit} bytes")
        return path.read_bytes()
    except OSError as exc:
        fail(f"cannot read {what} {path}: {exc.strerror}")


def _store() -> CertificateStore:
    return services().certificates


def _keyring(path: Path) -> Keyring:
    """A keyring file (``{"keys": [...]}``), or the ``KEYFILE.pub`` that ``cert keygen`` writes
    (``{"algorithm", "key_id", "public_key"}``): one trusted, active key. A third party who holds
    only the issuer's public key verifies with it as it is."""
    import json

    from provenance.certificate import Keyring

    raw = _read(path, "keyring", 1024 * 1024)
    try:
        doc = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        fail(f"keyring {path} is not JSON (a keyring file or a .pub file from `cert keygen`)")
    if isinstance(doc, dict) and "keys" not in doc and "public_key" in doc:
        try:
            public = bytes.fromhex(str(doc["public_key"]))
            ring = Keyring()
            key = ring.add(public)
        except ValueError as exc:
            fail(f"public key file {path}: {exc}")
        if doc.get("key_id") not in (None, key.key_id):
            fail(f"public key file {path}: key id does not match its public key")
        return ring
    return Keyring.load(path)


@click.group("cert")
def cert() -> None:
    """Human-contribution certificates: mint, anchor on chain, verify."""


@cert.command("keygen")
@click.argument("keyfile", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--keyring",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Add the public key to this keyring file.",
)
@click.option(
    "--rotate",
    is_flag=True,
    help="Retire the keyring's active keys (old certificates stay verifiable).",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object.")
def cert_keygen(keyfile: Path, keyring: Path | None, rotate: bool, as_json: bool) -> None:
    """Create an Ed25519 issuer key in KEYFILE (mode 0600) and KEYFILE.pub."""
    from provenance.certificate import Keyring, Signer

    if rotate and keyring is None:
        fail("--rotate needs --keyring")
    signer = Signer.generate()
    pub = signer.save(keyfile)
    if keyring is not None:
        ring = Keyring.load_or_new(keyring)
        if rotate:
            ring.rotate(signer)
        else:
            ring.add(signer.public_key)
        ring.save(keyring)
    if as_json:
        echo_json(
            {
                "key_id": signer.key_id,
                "key_file": str(keyfile),
                "public_key_file": str(pub),
                "keyring": str(keyring) if keyring is not None else None,
            }
        )
        return
    click.echo(f"key id {signer.key_id}")
    click.echo(f"public key written to {pub}", err=True)


@cert.command("mint")
@click.option(
    "--record",
    "record_path",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="Generation record (JSON).",
)
@click.option(
    "--actions",
    "actions_path",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="Action log (JSON).",
)
@click.option(
    "--content",
    type=click.Path(path_type=Path, dir_okay=False),
    help="The content file (hashed into the certificate).",
)
@click.option(
    "--profile",
    default="default",
    show_default=True,
    help="Scoring profile: default, seed or a YAML file.",
)
@click.option(
    "--key",
    "key_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Issuer key file (default: setting signing_key_file).",
)
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="Where to write the certificate.",
)
@click.option(
    "--no-queue", is_flag=True, help="Do not queue the certificate for anchoring in the store."
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary.")
def cert_mint(
    record_path: Path,
    actions_path: Path,
    content: Path | None,
    profile: str,
    key_path: Path | None,
    output: Path,
    no_queue: bool,
    as_json: bool,
) -> None:
    """Score the action log, sign a certificate and queue it for anchoring.

    The record's ``status`` (when given) must be ``complete``."""
    from provenance.certificate import Signer, mint

    if key_path is None:
        key_path = load_settings().signing_key_path

    record = _read(record_path, "record", 256 * 1024)
    actions = _read(actions_path, "action log")
    if content is not None and not content.is_file():
        fail(f"content file {content} does not exist")
    signer = Signer.load(key_path)
    store = None if no_queue else _store()
    c = mint(record, actions, signer, content=content, profile=profile, store=store)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(c.to_json() + "\n", encoding="utf-8")
    state = "not queued" if no_queue else "pending anchoring"
    if as_json:
        echo_json(
            {
                "certificate_id": c.id,
                "score": c.contribution.score,
                "profile": c.contribution.profile,
                "queued": not no_queue,
                "output": str(output),
            }
        )
        return
    click.echo(
        f"{c.id} score {c.contribution.score} ({c.contribution.profile}), {state} -> {output}"
    )


@cert.command("anchor")
@click.option(
    "--rpc",
    help="JSON-RPC URL (default: setting chain_rpc_url, else the store's development chain).",
)
@click.option(
    "--chain-key",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Hex Ethereum private key file (mode 0600) signing the anchor transactions "
    "(default: setting chain_key_file).",
)
@click.option(
    "--eas",
    "eas_address",
    help="EAS (or compatible) contract address: anchor with timestamp(bytes32) "
    "(default: setting eas_address).",
)
@click.option(
    "--max-size",
    default=10_000,
    show_default=True,
    type=click.IntRange(1, 1_000_000),
    help="Largest batch.",
)
@click.option(
    "--max-age",
    default=600,
    show_default=True,
    type=click.IntRange(0),
    help="Close a partial batch whose oldest certificate waited this many seconds.",
)
@click.option(
    "--due-only",
    is_flag=True,
    help="Close only full or aged batches (default: close every pending certificate).",
)
@click.option(
    "--export-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Write each newly anchored certificate here as ID.json.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def cert_anchor(
    rpc: str | None,
    chain_key: Path | None,
    eas_address: str | None,
    max_size: int,
    max_age: int,
    due_only: bool,
    export_dir: Path | None,
    as_json: bool,
) -> None:
    """Close pending batches and anchor their roots on chain (failed batches are retried, and
    batches whose transaction the chain lost are anchored again)."""
    from provenance.certificate import Chain, DevChain

    settings = load_settings()
    rpc = rpc or settings.chain_rpc_url
    chain_key = chain_key or settings.chain_key_file
    eas_address = eas_address or settings.eas_address
    store = _store()
    if rpc:
        chain = Chain.connect(rpc, key_file=chain_key, eas_address=eas_address)
    else:
        if eas_address:
            fail("--eas needs --rpc")
        warn(
            "provkit: note: no --rpc: anchoring on the development chain kept in the store"
            " (not a public chain)"
        )
        chain = DevChain(store.engine)
    closed = store.close_batches(
        max_size=max_size, max_age=timedelta(seconds=max_age), force=not due_only
    )
    tried = store.anchor_batches(chain)
    failed = 0
    batches = []
    for b in tried:
        batches.append(
            {
                "batch": b.id,
                "size": b.size,
                "status": b.status,
                "tx_hash": b.tx_hash,
                "block_number": b.block_number,
                "chain_id": b.chain_id,
                "gas_used": b.gas_used,
                "attempts": b.attempts,
                "error": b.last_error if b.status != "anchored" else None,
            }
        )
        if b.status == "anchored":
            if export_dir is not None:
                export_dir.mkdir(parents=True, exist_ok=True)
                for c in store.export_batch(b.id):
                    (export_dir / f"{c.id}.json").write_text(c.to_json() + "\n", encoding="utf-8")
            if as_json:
                continue
            click.echo(
                f"batch {b.id}: {b.size} certificate(s) anchored in tx {b.tx_hash} block {b.block_number} (chain {b.chain_id}, {b.gas_used} gas)"
            )
        else:
            failed += 1
            if as_json:
                continue
            click.echo(
                f"batch {b.id}: {b.size} certificate(s) NOT anchored (attempt {b.attempts}): {b.last_error}"
            )
    waiting = len(store.batches("closed"))
    if as_json:
        echo_json(
            {
                "closed": len(closed),
                "batches": batches,
                "awaiting": waiting,
                "unbatched": store.pending_count(),
            }
        )
    else:
        click.echo(
            f"closed {len(closed)} batch(es); {waiting} batch(es) await anchoring; {store.pending_count()} certificate(s) not yet batched"
        )
    if failed:
        raise SystemExit(1)


@cert.command("deploy-contract")
@click.option("--rpc", help="JSON-RPC URL (default: setting chain_rpc_url).")
@click.option(
    "--chain-key",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Hex Ethereum private key file (mode 0600) paying for the deployment "
    "(default: setting chain_key_file).",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object.")
def cert_deploy_contract(rpc: str | None, chain_key: Path | None, as_json: bool) -> None:
    """Deploy the minimal EAS-compatible timestamp contract (for chains without EAS); prints its
    address, to pass as --eas."""
    from provenance.certificate import Chain

    settings = load_settings()
    rpc = rpc or settings.chain_rpc_url
    if not rpc:
        fail("give --rpc (or set chain_rpc_url)")
    key = chain_key or settings.chain_key_file
    address = Chain.connect(rpc, key_file=key).deploy_timestamp_contract()
    if as_json:
        echo_json({"address": address})
        return
    click.echo(address)


@cert.command("get")
@click.argument("cert_id")
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write here instead of stdout.",
)
def cert_get(cert_id: str, output: Path | None) -> None:
    """Print a stored certificate with its current anchor block (exit 1: no such certificate)."""
    from provenance.certificate import CertificateNotFound

    try:
        c = _store().get(cert_id)
    except CertificateNotFound as exc:
        negative(str(exc))
    if output is None:
        click.echo(c.to_json())
    else:
        output.write_text(c.to_json() + "\n", encoding="utf-8")
        click.echo(f"{c.id} ({c.anchor.status}) -> {output}")


@cert.command("verify")
@click.argument("cert_file", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--content",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Check the content's SHA-256.",
)
@click.option("--rpc", help="JSON-RPC URL: read the root and block time back from the chain.")
@click.option(
    "--dev-chain",
    is_flag=True,
    help="Read the anchor back from the development chain kept in the store, and check the "
    "batch against the store.",
)
@click.option(
    "--keyring",
    type=click.Path(path_type=Path, dir_okay=False),
    help="The trusted issuer keys: a keyring file, or the issuer's KEYFILE.pub (required unless "
    "--allow-untrusted).",
)
@click.option(
    "--allow-untrusted",
    is_flag=True,
    help="Accept a certificate signed by any key (no keyring): it proves only that the document "
    "is intact, not who issued it.",
)
@click.option(
    "--require-anchor",
    is_flag=True,
    help="Accept only a certificate whose anchor was read back from a chain (--rpc or "
    "--dev-chain): pending or unchecked ones are invalid.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def cert_verify(
    cert_file: Path,
    content: Path | None,
    rpc: str | None,
    dev_chain: bool,
    keyring: Path | None,
    allow_untrusted: bool,
    require_anchor: bool,
    as_json: bool,
) -> None:
    """Verify CERT_FILE; exit 0 valid, 1 invalid (or untrusted issuer), 2 bad input.

    Without --keyring the issuer is untrusted and the certificate invalid, unless
    --allow-untrusted. Without --rpc or --dev-chain the anchor fields (chain id, transaction,
    block) are not read back: the result says "unchecked"."""
    from provenance.certificate import Chain, DevChain, verify_certificate

    if rpc and dev_chain:
        fail("give --rpc or --dev-chain, not both")
    if keyring is not None and allow_untrusted:
        fail("give --keyring or --allow-untrusted, not both")
    raw = _read(cert_file, "certificate", 1024 * 1024)
    if content is not None and not content.is_file():
        fail(f"content file {content} does not exist")
    ring = _keyring(keyring) if keyring is not None else None
    store = _store() if dev_chain else None
    chain: Chain | None = None
    if rpc:
        chain = Chain.connect(rpc, timeout=10)
    elif store is not None:
        chain = DevChain(store.engine)
    res = verify_certificate(
        raw,
        content=content,
        chain=chain,
        keyring=ring,
        allow_untrusted=allow_untrusted,
        store=store,
    )
    ok = res.valid and not (require_anchor and not res.anchored)
    if as_json:
        click.echo(to_json({**res.to_dict(), "accepted": ok}))
        raise SystemExit(0 if ok else 1)
    for c in res.checks:
        click.echo(f"{c.outcome:<8} {c.name:<13} {c.detail}")
    click.echo(_verdict(res, ok))
    raise SystemExit(0 if ok else 1)


def _verdict(res: CertificateCheck, ok: bool) -> str:
    """The last line of ``cert verify``."""
    cid = res.certificate_id
    if not res.valid:
        issuer = res.get("issuer")
        failed = ", ".join(res.failed) or "required checks missing"
        if issuer is not None and issuer.detail.startswith("untrusted issuer"):
            # no keyring given: say so first, whatever else failed
            return f"INVALID: untrusted issuer (give --keyring FILE, or --allow-untrusted); failed: {failed}"
        return f"INVALID: {failed}"
    trust = "" if res.trusted else ", untrusted issuer"
    if not ok:
        what = "not anchored yet" if res.status == "pending" else "anchor not read from a chain"
        return f"INVALID: {what} ({res.status}) certificate {cid}"
    if res.status == "unchecked":
        return f"VALID (unchecked: anchor not read from a chain{trust}) certificate {cid}"
    return f"VALID ({res.status}{trust}) certificate {cid}"
