"""``provkit keys``: API keys (secrets are printed once, at creation, and stored hashed)."""

from __future__ import annotations

import click

from service.auth import SCOPES, KeyStore
from service.cli.common import echo_json, fail, services


def _store() -> KeyStore:
    return services().keys


@click.group("keys")
def keys() -> None:
    """Create, list and revoke API keys."""


@keys.command("create")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    required=True,
    type=click.Choice(SCOPES),
    help="Scope to grant (repeatable).",
)
@click.option("--name", default="", help="A label for the key.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object.")
def keys_create(scopes: tuple[str, ...], name: str, as_json: bool) -> None:
    """Create an API key and print it once."""
    try:
        key, info = _store().create(scopes, name)
    except ValueError as exc:
        fail(str(exc))
    if as_json:
        echo_json({"key": key, "key_id": info.key_id, "scopes": list(info.scopes)})
        return
    click.echo(key)
    click.echo(
        f"key id {info.key_id}, scopes {','.join(info.scopes)}. "
        "This is the only time the key is shown: store it now.",
        err=True,
    )


@keys.command("list")
def keys_list() -> None:
    """List keys (ids, names, scopes; never secrets)."""
    for k in _store().list():
        state = "revoked" if k.revoked else "active"
        click.echo(f"{k.key_id}\t{state}\t{','.join(k.scopes)}\t{k.created_at:%Y-%m-%d}\t{k.name}")


@keys.command("revoke")
@click.argument("key_id")
def keys_revoke(key_id: str) -> None:
    """Revoke the key KEY_ID."""
    if not _store().revoke(key_id):
        fail(f"no active key {key_id!r}")
    click.echo(f"revoked {key_id}")
