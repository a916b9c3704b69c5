"""The `boligmix` command: a Typer app whose subcommands live one module each in this package.

Each module in `COMMAND_MODULES` has a `register(app)` function that adds its commands.
Commands parse arguments, call the library and print; they hold no domain logic.

Start-up stays fast (`boligmix --help` and `--version` well under 0.3 s) because a command
module imports only typer, the standard library, `boligmix.errors` and `boligmix.cli._output`
at module level; polars, numpy, SQLAlchemy, FastAPI, plotly and the domain packages are imported
inside the command function that needs them (tests/test_cli_startup.py checks this for every
module in `COMMAND_MODULES`).

Errors are handled in ONE place, `BoligmixGroup.invoke`: every command runs inside it, so a
`BoligmixError` from any command (and any command group's callback) becomes the message on stderr
and exit code 2, never a traceback, whether the app runs as `boligmix`, `python -m
boligmix.cli.main` or under Typer's `CliRunner` (tests/test_cli_errors.py walks every command).
Commands therefore raise `boligmix.errors` exceptions and do not catch them.
"""

from __future__ import annotations

import importlib
from typing import Any

import typer
from typer.core import TyperGroup

from boligmix.errors import BoligmixError

COMMAND_MODULES: tuple[str, ...] = (
    "synth",
    "ingest",
    "export",
    "lists",
    "mix",
    "segregation",
    "letting",
    "serve",
    "letting_admin",
    "letting_reports",
    "letting_assess",
    "demo",
    "indicators",
    "evaluate",
    "simulate",
    "plan",
    "rehouse",
    "report",
    "monitor",
)
"""Modules of `boligmix.cli` whose `register(app)` adds commands, in help order."""



class BoligmixGroup(TyperGroup):
    """The root command group: runs the chosen command and turns a `BoligmixError` into its message
    on stderr and exit code 2 (the one error wrapper of the CLI)."""

    def invoke(self, ctx: typer.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BoligmixError as exc:
            from boligmix.cli._output import print_error

            print_error(exc)
            raise typer.Exit(2) from None


app = typer.Typer(
    cls=BoligmixGroup,
    name="boligmix",
    help="Danish almene housing from register data: lists, mix, letting, simulation, evaluation.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version_callback(value: bool) -> None:
    if value:
        from boligmix import __version__

        typer.echo(f"boligmix {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version_callback, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """boligmix: Danish almene housing from register data."""


for _name in COMMAND_MODULES:
    importlib.import_module(f"boligmix.cli.{_name}").register(app)


def main() -> None:
    """Console entry point (errors become exit code 2 in `BoligmixGroup.invoke`)."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
