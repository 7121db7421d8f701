"""``provkit label``: read the GB 45438 implicit ``AIGC`` label of a file.

The ``ReservedCode1`` MAC is checked with this deployment's label key when it exists (it is never
created here): ``valid``, ``tampered``, ``unsigned`` (no provkit MAC) or ``unchecked``. Exit 1
when the file has no label or it was tampered with.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from provenance.labels import AigcLabel, LabelError, read_label
from service.cli.common import echo_json, fail, load_settings


@click.group("label")
def label() -> None:
    """AI-content labels (GB 45438 implicit AIGC label)."""


@label.command("read")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object.")
def label_read(file: Path, as_json: bool) -> None:
    """Read and check the AIGC label in FILE."""
    try:
        found = read_label(file)
    except LabelError as exc:
        fail(str(exc))
    if found is None:
        if as_json:
            echo_json({"found": False, "label": None, "integrity": None})
        else:
            click.echo("no AIGC label")
        raise click.exceptions.Exit(1)
    key_path = load_settings().label_key_path
    key = key_path.read_bytes() if key_path.is_file() else None
    integrity = found.integrity(key)
    view = found.view()
    if as_json:
        echo_json({"found": True, "label": view, "integrity": integrity})
    else:
        _print(found, view, integrity)
    if integrity == "tampered":
        raise click.exceptions.Exit(1)


def _print(found: AigcLabel, view: dict[str, Any], integrity: str) -> None:
    click.echo(f"AIGC label  {view['meaning']} (Label {found.Label})")
    click.echo(f"producer    {found.ContentProducer}, ProduceID {found.ProduceID}")
    if found.ContentPropagator or found.PropagateID:
        click.echo(f"propagator  {found.ContentPropagator}, PropagateID {found.PropagateID}")
    click.echo(f"integrity   {integrity} (ReservedCode1)")
