"""``provkit db``: create and migrate the store."""

from __future__ import annotations

import click

from provenance.registry import make_engine
from provenance.registry.migrate import current_revisions, downgrade, head_revisions, upgrade
from service.cli.common import load_settings
from service.settings import redact_url


@click.group("db")
def db() -> None:
    """Create, migrate and inspect the SQL store."""


@db.command("upgrade")
@click.option("--revision", default="heads", show_default=True, help="Target revision.")
def db_upgrade(revision: str) -> None:
    """Create the store or apply pending migrations."""
    s = load_settings()
    upgrade(s.db_url, revision)
    click.echo(f"store {redact_url(s.db_url)} is at {', '.join(sorted(_current(s.db_url)))}")


@db.command("downgrade")
@click.argument("revision")
@click.option("--yes", is_flag=True, help="Confirm: downgrading drops tables and their data.")
def db_downgrade(revision: str, yes: bool) -> None:
    """Revert migrations down to REVISION ('base' drops everything)."""
    if not yes:
        raise click.UsageError("downgrade drops data; pass --yes to confirm")
    s = load_settings()
    downgrade(s.db_url, revision)
    click.echo(
        f"store {redact_url(s.db_url)} is at {', '.join(sorted(_current(s.db_url))) or 'base'}"
    )


@db.command("current")
def db_current() -> None:
    """Print the store's revision and whether it is up to date."""
    s = load_settings()
    cur = _current(s.db_url)
    state = "up to date" if cur == head_revisions() else "needs `provkit db upgrade`"
    click.echo(f"{redact_url(s.db_url)}: {', '.join(sorted(cur)) or 'empty'} ({state})")


def _current(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return current_revisions(engine)
    finally:
        engine.dispose()
