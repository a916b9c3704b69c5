"""`boligmix segregation`: segregation indices of a one-row-per-unit count CSV."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from boligmix.cli._output import JsonOption, Output, QuietOption


def segregation(
    units: Annotated[Path, typer.Option(
        "--units", help="CSV with one row per spatial unit and integer count columns.")],
    groups: Annotated[str, typer.Option("--groups", help="Group count column(s), comma-separated.")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the `index,value` CSV.")],
    total: Annotated[str | None, typer.Option(
        "--total", help="Total column (required with one group).")] = None,
    quiet: QuietOption = False,
    json: JsonOption = False,
) -> None:
    """Segregation indices (PySAL `segregation` definitions) of the units in UNITS.csv.

    One group with --total: dissimilarity, gini, entropy, isolation, interaction, atkinson
    (b=0.5), correlation_ratio. Several groups (the total is their sum): multi_dissimilarity,
    multi_gini, multi_information_theory, multi_normalized_exposure.
    """
    from boligmix.data.io import check_out_dir
    from boligmix.mix.segregation.errors import SegregationSpecError
    from boligmix.mix.segregation.units_csv import read_units_csv, unit_indices, write_index_csv

    output = Output(quiet=quiet, json=json)
    names = [name.strip() for name in groups.split(",") if name.strip()]
    if not names:
        raise SegregationSpecError("--groups names no column")
    check_out_dir(units, out, source="--units file")
    counts = read_units_csv(units, names, total)
    results = unit_indices(counts)
    write_index_csv(out, results)
    payload = {
        "units": str(units), "groups": names, "total": total, "out": str(out),
        "n_units": int(counts.groups.shape[0]),
        "indices": {result.name: result.statistic for result in results},
    }
    human = "\n".join(f"{result.name:<26} {result.statistic:.6f}" for result in results) + f"\nwritten: {out}"
    output.result(payload, human)


def register(app: typer.Typer) -> None:
    """Add `boligmix segregation`."""
    app.command("segregation")(segregation)
