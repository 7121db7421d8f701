"""``provkit c2pa``: the C2PA signing chain, and signing and reading manifests by hand.

``init`` creates the development CA and signing certificate (generation does so on first use
too); ``sign`` signs a manifest into a file (with ``--mark-id``, the manifest of that registered
generation); ``read`` reads and validates a file's manifest (exit 1 when there is none or it is
invalid). Keys are never printed.

``provkit c2pa --help`` imports neither the C2PA library nor the settings: each command loads
them when it runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from service.cli.common import echo_json, fail, load_settings, services

if TYPE_CHECKING:
    from provenance.c2pa import ManifestCheck, ManifestReader, SigningAlg, SigningChain
    from service.settings import Settings


def _chain(s: Settings) -> SigningChain:
    from provenance.c2pa import SigningChain, dev_chain

    if s.c2pa_cert_file and s.c2pa_key_file:
        return SigningChain.load(s.c2pa_cert_file, s.c2pa_key_file)
    return dev_chain(s.c2pa_dir, "es256" if s.c2pa_alg == "es256" else "ed25519")


def _reader(s: Settings) -> ManifestReader:
    from provenance.c2pa import ManifestReader

    anchors = s.c2pa_trust_anchors_file
    try:
        return ManifestReader(anchors.read_text() if anchors else None)
    except OSError as exc:
        fail(f"cannot read the trust anchors: {exc.strerror}")


@click.group("c2pa")
def c2pa() -> None:
    """C2PA Content Credentials: signing chain, sign, read."""


@c2pa.command("init")
@click.option("--alg", type=click.Choice(["ed25519", "es256"]), default=None, help="Key type.")
@click.option("--force", is_flag=True, help="Replace an existing development chain.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object.")
def c2pa_init(alg: str | None, force: bool, as_json: bool) -> None:
    """Create the development CA and signing certificate (valid but untrusted)."""
    from provenance.c2pa import create_dev_chain, dev_chain

    s = load_settings()
    if s.c2pa_cert_file or s.c2pa_key_file:
        fail("an operator signing chain is configured (c2pa_cert_file); nothing to create")
    chosen = alg or s.c2pa_alg
    kind: SigningAlg = "es256" if chosen == "es256" else "ed25519"
    exists = (s.c2pa_dir / "signer.key").exists()
    if exists and not force:
        chain = dev_chain(s.c2pa_dir)
        created = False
    else:
        chain = create_dev_chain(s.c2pa_dir, kind)
        created = True
    info = {**chain.describe(), "folder": str(s.c2pa_dir), "created": created}
    if as_json:
        echo_json(info)
        return
    verb = "created" if created else "kept the existing"
    click.echo(f"{verb} development signing chain in {s.c2pa_dir}")
    click.echo(f"signer  {info['subject']}  ({info['alg']}, serial {info['serial']})")
    click.echo(
        f"issuer  {info['issuer']}  (a development CA: manifests read as valid but untrusted)"
    )


@c2pa.command("sign")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--out", type=click.Path(dir_okay=False, path_type=Path), help="Write here.")
@click.option("--mark-id", help="Sign the manifest of this registered generation (16 hex).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object.")
def c2pa_sign(file: Path, out: Path | None, mark_id: str | None, as_json: bool) -> None:
    """Sign a C2PA manifest into FILE (in place unless --out)."""
    from provenance.c2pa import (
        EMBEDDED,
        GenerationFacts,
        ManifestError,
        ManifestSigner,
        build_manifest,
    )

    if file.suffix.lower() not in EMBEDDED:
        fail(f"{file.suffix or 'this format'}: C2PA manifests go in {', '.join(sorted(EMBEDDED))}")
    s = load_settings()
    gen_id, mark, model = None, None, "unknown"
    if mark_id:
        from provenance.registry import RegistryError, parse_mark_id

        try:
            gen = services().registry.by_mark_id(parse_mark_id(mark_id))
        except RegistryError as exc:
            fail(str(exc))
        if gen is None:
            fail(f"no generation with mark id {mark_id.lower()}")
        gen_id, mark, model = gen.id, gen.mark_hex, gen.model
    facts = GenerationFacts(gen_id, mark, model, file.name)
    try:
        ManifestSigner(_chain(s)).sign_file(file, build_manifest(facts), dest=out)
        check = _reader(s).read(out or file)
    except ManifestError as exc:
        fail(str(exc))
    _show(check, as_json)


@c2pa.command("read")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object.")
def c2pa_read(file: Path, as_json: bool) -> None:
    """Read and validate the C2PA manifest in FILE (or its FILE.c2pa sidecar)."""
    from provenance.c2pa import ManifestError

    try:
        check = _reader(load_settings()).read(file)
    except ManifestError as exc:
        fail(str(exc))
    _show(check, as_json)


def _show(check: ManifestCheck, as_json: bool) -> None:
    """Print the check; exit 1 (a negative result) when there is no manifest or it is invalid."""
    view = check.to_dict()
    if as_json:
        echo_json(view)
    elif check.state == "absent":
        click.echo("no C2PA manifest")
    else:
        _print(view, check.state)
    if check.state in ("absent", "invalid"):
        raise click.exceptions.Exit(1)


def _print(view: dict[str, Any], state_code: str) -> None:
    state = {"trusted": "trusted", "valid_untrusted": "valid but untrusted", "invalid": "INVALID"}
    click.echo(f"manifest   {view['manifest_id']} ({view['source']})")
    click.echo(f"state      {state[state_code]}")
    for f in view["failures"]:
        click.echo(f"  check    {f['code']}: {f['explanation']}")
    signer = view["signer"]
    click.echo(
        f"signer     {signer.get('common_name')} / {signer.get('issuer')} ({signer.get('alg')})"
    )
    for a in view["actions"]:
        src = str(a.get("digitalSourceType", "")).rsplit("/", 1)[-1]
        agent = a.get("softwareAgent") or {}
        click.echo(
            f"action     {a.get('action')} by {agent.get('name')} {agent.get('version')} ({src})"
        )
    for sb in view["soft_bindings"]:
        click.echo(f"binding    {sb['alg']} ({sb['blocks']} blocks)")
    if view["generation"]:
        g = view["generation"]
        click.echo(
            f"generation {g.get('generation_id')} (mark {g.get('mark_id')}, model {g.get('model')})"
        )
