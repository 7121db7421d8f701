"""``provkit keys``: API keys (secrets are printed once, at creation, and stored hashed)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from service.cli.common import echo_json, fail, negative, services

if TYPE_CHECKING:
    from service.auth import KeyStore

#: The key scopes (``service.auth.SCOPES``; a test holds the two equal). Written out here so
#: that ``provkit keys --help`` does not import the store.
SCOPES = ("generate", "verify", "mint", "screen", "admin")


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
@click.option("--json", "as_json", is_flag=True, help='Print {"keys": [...]} as JSON.')
def keys_list(as_json: bool) -> None:
    """List keys (ids, names, scopes; never secrets), tab-separated under a header row."""
    found = _store().list()
    if as_json:
        echo_json(
            {
                "keys": [
                    {
                        "key_id": k.key_id,
                        "state": "revoked" if k.revoked else "active",
                        "scopes": list(k.scopes),
                        "created_at": k.created_at.isoformat(),
                        "name": k.name,
                    }
                    for k in found
                ]
            }
        )
        return
    click.echo("key_id\tstate\tscopes\tcreated\tname")
    for k in found:
        state = "revoked" if k.revoked else "active"
        click.echo(f"{k.key_id}\t{state}\t{','.join(k.scopes)}\t{k.created_at:%Y-%m-%d}\t{k.name}")


@keys.command("revoke")
@click.argument("key_id")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object.")
def keys_revoke(key_id: str, as_json: bool) -> None:
    """Revoke the key KEY_ID (exit 1 when there is no such active key)."""
    if not _store().revoke(key_id):
        negative(f"no active key {key_id!r}")
    if as_json:
        echo_json({"revoked": key_id})
        return
    click.echo(f"revoked {key_id}")
