"""``provkit recover``: clear what a killed process left half-written (see service.recovery)."""

from __future__ import annotations

from datetime import timedelta

import click

from service.cli.common import echo_json, services


@click.command("recover")
@click.option(
    "--grace",
    type=click.FloatRange(min=0),
    default=None,
    help="Seconds of grace for state a live process may still be writing (default: none when "
    "no provkit process uses the store, else 1800). 0 only with the service stopped.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the counts as one JSON object.")
def recover_cmd(grace: float | None, as_json: bool) -> None:
    """Roll back pending generations and remove leftovers of crashed processes; fail stale jobs;
    anchor closed certificate batches. Prints what was done. Exit 1 when a step failed."""
    from service.recovery import recover

    svc = services()
    report = recover(svc, grace=None if grace is None else timedelta(seconds=grace))
    if as_json:
        echo_json(report.to_dict())
    else:
        who = "no other process alive" if report.alone else "other processes alive"
        click.echo(f"recovery ({who}, grace {report.grace_s:g} s):")
        for name, value in report.to_dict().items():
            if isinstance(value, int) and not isinstance(value, bool):
                click.echo(f"  {name.replace('_', ' ')}: {value}")
        for err in report.errors:
            click.echo(f"  error: {err}", err=True)
    if report.errors:
        raise click.exceptions.Exit(1)
