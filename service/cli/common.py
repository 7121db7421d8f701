"""Shared CLI plumbing: one-line errors with exit code 2 for bad input, settings loading."""

from __future__ import annotations

import json
import sys
from typing import Any, NoReturn

import click

from service.settings import Settings


class BadInput(click.ClickException):
    """Bad input from the user: one line on stderr, exit code 2."""

    exit_code = 2


def fail(message: str) -> NoReturn:
    """Stop with a one-line bad-input error (exit 2)."""
    raise BadInput(message)


def load_settings() -> Settings:
    """Settings from environment/TOML; a broken configuration is bad input."""
    try:
        return Settings()
    except Exception as exc:  # pydantic ValidationError, unreadable TOML
        first = str(exc).strip().splitlines()
        fail(f"invalid configuration: {' '.join(first[:3])}")


def echo_json(obj: Any) -> None:
    """Print one JSON object on one line."""
    click.echo(json.dumps(obj, ensure_ascii=False, separators=(",", ":")))


def warn(message: str) -> None:
    """A note on stderr."""
    click.echo(message, err=True, file=sys.stderr)
