"""`boligmix export-csv`: write a dataset's tables as CSV files that `boligmix ingest` reads back."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from boligmix.cli._output import JsonOption, Output, QuietOption


def export_csv_command(
    data_dir: Annotated[Path, typer.Argument(help="Dataset directory (with manifest.json) to export.")],
    out: Annotated[Path, typer.Option("--out", help="Directory to write <table>.csv files into.")],
    force: Annotated[bool, typer.Option("--force", help="Replace an existing directory at --out.")] = False,
    quiet: QuietOption = False,
    json_output: JsonOption = False,
) -> None:
    """Export every table of a dataset to <table>.csv (person-level microdata: not for publication)."""
    from boligmix.data.export import export_csv

    output = Output(quiet=quiet, json=json_output)
    with output.progress("export-csv", total=100) as bar:
        files = export_csv(data_dir, out, overwrite=force, on_progress=bar)
    payload = {"dataset": str(data_dir), "out": str(out), "files": [str(f) for f in files]}
    output.result(payload, human=f"exported {data_dir} -> {out}: {len(files)} CSV files "
                                 f"({', '.join(f.name for f in files)})")


def register(app: typer.Typer) -> None:
    app.command("export-csv")(export_csv_command)
