"""Shared CLI plumbing: one-line errors (exit 2 for bad input, 1 for a negative result), the
one JSON style of every ``--json`` output, settings loading, and the one place the CLI builds its
services (the same :class:`~service.context.Services` the API uses, on the store that
:mod:`service.settings` finds).

This module stays light (click and the standard library): every command imports it, and
commands that never touch the store must start fast.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any, NoReturn

import click

if TYPE_CHECKING:
    from service.context import Services
    from service.settings import Settings

#: The one JSON style of the CLI: UTF-8 text as is, compact separators, one object per line.
JSON_STYLE: dict[str, Any] = {"ensure_ascii": False, "separators": (",", ":")}


class BadInput(click.ClickException):
    """Bad input from the user: one line on stderr, exit code 2."""

    exit_code = 2


class NegativeResult(click.ClickException):
    """A well-formed request whose answer is no (not found, refused, invalid): exit code 1."""

    exit_code = 1


def fail(message: str) -> NoReturn:
    """Stop with a one-line bad-input error (exit 2)."""
    raise BadInput(message)


def negative(message: str) -> NoReturn:
    """Stop with a one-line negative result (exit 1), e.g. ``no active key 'k1'``."""
    raise NegativeResult(message)


def load_settings() -> Settings:
    """Settings from environment/TOML; a broken configuration is bad input."""
    from service.settings import Settings

    try:
        return Settings()
    except Exception as exc:  # pydantic ValidationError, unreadable TOML
        first = str(exc).strip().splitlines()
        fail(f"invalid configuration: {' '.join(first[:3])}")


def to_json(obj: Any) -> str:
    """``obj`` in the CLI's one JSON style."""
    return json.dumps(obj, **JSON_STYLE)


def echo_json(obj: Any) -> None:
    """Print one JSON object on one line (the CLI's one JSON style)."""
    click.echo(to_json(obj))


def warn(message: str) -> None:
    """A note on stderr."""
    click.echo(message, err=True, file=sys.stderr)


def services() -> Services:
    """The services over the configured store, its schema brought up to date.

    A store that did not exist yet is created, and unless ``PROVKIT_DATA_DIR`` named it, the
    command says so on stderr (with where the location came from): a command run with another
    configuration must never silently work on a new, empty store with a new watermark key.
    """
    from service.context import Services
    from service.schema import current_revisions, head_revisions, upgrade

    s = load_settings()
    svc = Services(s)
    current = current_revisions(svc.engine)
    if current != head_revisions():
        upgrade(s.db_url)
        source = s.data_dir_source()
        if not current and source != "PROVKIT_DATA_DIR":  # an explicit location needs no note
            warn(f"provkit: created a new store in {s.data_dir} (from {source})")
    return svc
