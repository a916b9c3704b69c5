"""`boligmix ingest`: import a register extract (CSV/Parquet files) as a pseudonymised dataset."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from boligmix.cli._output import JsonOption, Output, QuietOption

KEY_ENV_NAME = "BOLIGMIX_PSEUDONYM_KEY"
"""`boligmix.data.pseudonymise.KEY_ENV`, spelled out so that the help needs no import (a test keeps them equal)."""


def ingest_command(
    src: Annotated[Path, typer.Argument(help="Directory with <table>.csv or <table>.parquet files.")],
    out: Annotated[Path, typer.Option("--out", help="Dataset directory to write.")],
    key_file: Annotated[Optional[Path], typer.Option(
        "--key-file", help=f"File holding the pseudonymisation key (else ${KEY_ENV_NAME}).")] = None,
    vintage: Annotated[Optional[str], typer.Option(
        "--vintage", help="Data vintage for the manifest (default: the source directory name).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing dataset at --out.")] = False,
    quiet: QuietOption = False,
    json_output: JsonOption = False,
) -> None:
    """Validate, pseudonymise and import a register extract; errors name file, row and column."""
    from boligmix.data.ingest import ingest
    from boligmix.data.pseudonymise import load_key

    output = Output(quiet=quiet, json=json_output)
    key = load_key(key_file)
    with output.progress("ingest", total=100) as bar:
        manifest = ingest(src, out, key=key, vintage=vintage or src.resolve().name,
                          overwrite=force, on_progress=bar)
    payload = {"dataset": str(out), **manifest.model_dump(mode="json")}
    rows = ", ".join(f"{name} {count}" for name, count in manifest.tables.items())
    output.result(payload, human=f"imported {src} -> {out} (vintage {manifest.vintage!r}, "
                                 f"years {manifest.years}): {rows}")


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest_command)
