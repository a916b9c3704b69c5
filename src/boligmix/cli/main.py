"""The `boligmix` command: a Typer app whose subcommands live one module each in this package.

Each module in `COMMAND_MODULES` has a `register(app)` function that adds its commands.
Commands parse arguments, call the library and print; they hold no domain logic.

Start-up stays fast (`boligmix --help` and `--version` well under 0.3 s) because a command
module imports only typer, the standard library, `boligmix.errors` and `boligmix.cli._output`
at module level; polars, numpy, SQLAlchemy, FastAPI, plotly and the domain packages are imported
inside the command function that needs them (tests/test_cli_startup.py checks this for every
module in `COMMAND_MODULES`).
"""

from __future__ import annotations

import importlib
import sys

import typer

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

app = typer.Typer(
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
    """Console entry point: run the app and turn boligmix errors into a message and exit code 2."""
    try:
        app()
    except BoligmixError as exc:
        from boligmix.cli._output import print_error

        print_error(exc)
        sys.exit(2)


if __name__ == "__main__":  # pragma: no cover
    main()
