"""The ``provkit`` command line.

Every part contributes one subcommand group (``watermark``, ``video``, ``screen``, ``cert``,
``c2pa``, ``label``); ``serve``, ``keys`` and ``db`` belong to the service.

Commands load lazily: ``provkit --help`` lists them from :data:`COMMANDS` without importing any,
and ``provkit watermark ...`` imports only ``service.cli.watermark`` (and what it imports), not
SQLAlchemy, Alembic or the screener. A new command group is one more line in the table.

Exit codes (the same for every command): 0 success, 1 a negative result (a certificate that is
invalid, a refused prompt, something not found, a step that failed), 2 a usage error or bad input.
Every error is one line on stderr: ``provkit: error: ...``.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

#: Version of the package (see CHANGELOG.md for the version policy).
VERSION = "0.1.0"

#: name → (module, attribute, one-line help). A part adds its command group with one line here;
#: the help text is what ``provkit --help`` lists without importing the module.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "serve": ("service.cli.server", "serve", "Initialise the store and serve the verification API."),
    "keys": ("service.cli.keys", "keys", "Create, list and revoke API keys."),
    "db": ("service.cli.db", "db", "Create, migrate and inspect the SQL store."),
    "info": ("service.cli.info", "info_cmd", "Say which store, configuration and key files provkit uses."),
    "recover": ("service.cli.recover", "recover_cmd", "Roll back what a killed process left half-written."),
    "generate": ("service.cli.pipeline_cmds", "generate_cmd", "Screen a prompt, generate, watermark, fingerprint and register."),
    "verify": ("service.cli.pipeline_cmds", "verify_cmd", "Verify a file: watermark, fingerprint and hash evidence."),
    "demo": ("service.cli.pipeline_cmds", "demo_cmd", "Generate, transform and verify clips; print a table."),
    "watermark": ("service.cli.watermark", "watermark", "Keyed audio watermark: keys, embed, detect."),
    "video": ("service.cli.video", "video", "Video fingerprints: register videos and trace copies."),
    "cert": ("service.cli.cert", "cert", "Human-contribution certificates: mint, anchor, verify."),
    "screen": ("service.cli.screen", "screen", "Screen a prompt for voice impersonation."),
    "c2pa": ("service.cli.c2pa", "c2pa", "C2PA Content Credentials: signing chain, sign, read."),
    "label": ("service.cli.label", "label", "AI-content labels (GB 45438 implicit AIGC label)."),
}  # fmt: skip


class ProvkitGroup(click.Group):
    """The root group: loads each command from :data:`COMMANDS` when it is used, and turns every
    error into one line ``provkit: error: ...`` with exit code 2 (usage, bad input) or 1."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every command's name, without importing any."""
        return sorted({*COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command ``cmd_name``, imported on first use."""
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            module, attr, _ = COMMANDS[cmd_name]
            self.add_command(getattr(importlib.import_module(module), attr), cmd_name)
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list of ``--help``, from the table's help texts."""
        rows = [
            (name, COMMANDS[name][2] if name in COMMANDS else self.commands[name].get_short_help_str())
            for name in self.list_commands(ctx)
        ]  # fmt: skip
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def main(self, *args: Any, **kwargs: Any) -> Any:
        """Run the command line; never returns (exits with the codes in the module docstring)."""
        kwargs["standalone_mode"] = False
        try:
            rv = super().main(*args, **kwargs)
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)
        except click.exceptions.Abort:
            click.echo("provkit: error: aborted", err=True)
            sys.exit(130)
        except click.UsageError as exc:
            msg = exc.format_message().replace("\n", " ")
            cmd = exc.ctx.command_path if exc.ctx else "provkit"
            click.echo(f"provkit: error: {msg} (see '{cmd} --help')", err=True)
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
@click.version_option(VERSION, prog_name="provkit")
def cli() -> None:
    """provkit: prove where generated audio and video came from."""


def main() -> None:
    """Console-script entry point."""
    cli.main(prog_name="provkit")


__all__ = ["COMMANDS", "VERSION", "cli", "main"]
