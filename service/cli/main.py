"""The ``provkit`` command line.

Every part contributes one subcommand group (``watermark``, ``video``, ``screen``, ``cert``);
``serve``, ``keys`` and ``db`` belong to the service. Bad input exits 2 with one line on stderr.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from service.cli.common import BadInput

#: (module, attribute) of each subcommand; a part adds its group here.
COMMANDS: tuple[tuple[str, str], ...] = (
    ("service.cli.server", "serve"),
    ("service.cli.keys", "keys"),
    ("service.cli.db", "db"),
    ("service.cli.info", "info_cmd"),
    ("service.cli.recover", "recover_cmd"),
    ("service.cli.pipeline_cmds", "generate_cmd"),
    ("service.cli.pipeline_cmds", "verify_cmd"),
    ("service.cli.pipeline_cmds", "demo_cmd"),
    ("service.cli.watermark", "watermark"),
    ("service.cli.video", "video"),
    ("service.cli.cert", "cert"),
    ("service.cli.screen", "screen"),
)


class ProvkitGroup(click.Group):
    """A group whose errors are one line: ``provkit: error: ...``."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        try:
            rv = super().main(*args, **kwargs)
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)
        except click.exceptions.Abort:
            click.echo("provkit: aborted", err=True)
            sys.exit(130)
        except click.UsageError as exc:
            msg = exc.format_message().replace("\n", " ")
            cmd = exc.ctx.command_path if exc.ctx else "provkit"
            click.echo(f"{cmd}: error: {msg} (see '{cmd} --help')", err=True)
            sys.exit(2)
        except click.ClickException as exc:
            click.echo(f"provkit: error: {exc.format_message()}".replace("\n", " "), err=True)
            sys.exit(exc.exit_code)
        except (ValueError, OSError) as exc:
            click.echo(f"provkit: error: {exc}".replace("\n", " "), err=True)
            sys.exit(2)
        except KeyboardInterrupt:
            sys.exit(130)
        sys.exit(rv if isinstance(rv, int) else 0)


@click.group(cls=ProvkitGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option("0.1.0", prog_name="provkit")
def cli() -> None:
    """provkit: prove where generated audio and video came from."""


for _module, _attr in COMMANDS:
    cli.add_command(getattr(importlib.import_module(_module), _attr))


def main() -> None:
    """Console-script entry point."""
    cli.main(prog_name="provkit")


__all__ = ["BadInput", "cli", "main"]
