"""`boligmix synth`: generate a synthetic Denmark dataset."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from boligmix.cli._output import JsonOption, Output, QuietOption
from boligmix.years import year_span


def parse_years(text: str) -> tuple[int, int]:
    """'2004-2024' -> (2004, 2024); anything else is a ConfigurationError (`boligmix.years.year_span`)."""
    return year_span(text)


def register(app: typer.Typer) -> None:
    @app.command("synth")
    def synth(
        out: Annotated[Path, typer.Option("--out", help="Dataset directory to write.")],
        scale: Annotated[str, typer.Option("--scale", help="small | municipality | national")] = "small",
        seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same bytes).")] = 1,
        years: Annotated[str, typer.Option("--years", help="First-last register year, e.g. 2004-2024.")] = "2004-2024",
        force: Annotated[bool, typer.Option("--force", help="Replace an existing dataset at --out.")] = False,
        quiet: QuietOption = False,
        json: JsonOption = False,
    ) -> None:
        """Generate a synthetic Denmark (register-shaped tables + manifest) into --out."""
        from boligmix.data.io import read_manifest
        from boligmix.data.synth import write_synthetic

        output = Output(quiet=quiet, json=json)
        first_last = parse_years(years)
        started = time.perf_counter()
        with output.progress(f"synth {scale}", total=100) as bar:
            path = write_synthetic(out, scale=scale, seed=seed, years=first_last, overwrite=force,
                                   on_progress=bar)
        manifest = read_manifest(path)
        elapsed = time.perf_counter() - started
        payload = {"path": str(path), "scale": scale, "seed": seed, "years": list(first_last),
                   "vintage": manifest.vintage, "seconds": round(elapsed, 1), "tables": manifest.tables}
        human = (f"wrote {path} ({scale}, seed {seed}, {first_last[0]}-{first_last[1]}) in {elapsed:.1f} s: "
                 f"{manifest.tables.get('persons', 0):,} persons, {manifest.tables.get('person_years', 0):,} person-years")
        output.result(payload, human)
