"""``provkit db``: create and migrate the store."""

from __future__ import annotations

import click

from service.cli.common import echo_json, load_settings


@click.group("db")
def db() -> None:
    """Create, migrate and inspect the SQL store."""


def _report(url: str, as_json: bool, empty: str) -> None:
    """The store's revisions after a command, as text or JSON."""
    from service.schema import head_revisions
    from service.settings import redact_url

    cur = _current(url)
    if as_json:
        echo_json(
            {
                "database": redact_url(url),
                "revisions": sorted(cur),
                "up_to_date": cur == head_revisions(),
            }
        )
        return
    click.echo(f"store {redact_url(url)} is at {', '.join(sorted(cur)) or empty}")


@db.command("upgrade")
@click.option("--revision", default="heads", show_default=True, help="Target revision.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object.")
def db_upgrade(revision: str, as_json: bool) -> None:
    """Create the store or apply pending migrations."""
    from service.schema import upgrade

    s = load_settings()
    upgrade(s.db_url, revision)
    _report(s.db_url, as_json, "base")


@db.command("downgrade")
@click.argument("revision")
@click.option("--yes", is_flag=True, help="Confirm: downgrading drops tables and their data.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object.")
def db_downgrade(revision: str, yes: bool, as_json: bool) -> None:
    """Revert migrations down to REVISION ('base' drops everything)."""
    from service.schema import downgrade

    if not yes:
        raise click.UsageError("downgrade drops data; pass --yes to confirm")
    s = load_settings()
    downgrade(s.db_url, revision)
    _report(s.db_url, as_json, "base")


@db.command("current")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object.")
def db_current(as_json: bool) -> None:
    """Print the store's revision and whether it is up to date (exit 1 when it is not)."""
    from service.schema import head_revisions
    from service.settings import redact_url

    s = load_settings()
    cur = _current(s.db_url)
    ok = cur == head_revisions()
    if as_json:
        echo_json({"database": redact_url(s.db_url), "revisions": sorted(cur), "up_to_date": ok})
    else:
        state = "up to date" if ok else "needs `provkit db upgrade`"
        click.echo(f"{redact_url(s.db_url)}: {', '.join(sorted(cur)) or 'empty'} ({state})")
    if not ok:
        raise click.exceptions.Exit(1)


def _current(url: str) -> set[str]:
    from provenance.registry import make_engine
    from service.schema import current_revisions

    engine = make_engine(url)
    try:
        return current_revisions(engine)
    finally:
        engine.dispose()
