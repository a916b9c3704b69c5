"""`boligmix demo` and `boligmix run`: the main pipeline (data -> lists -> mix -> report)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from boligmix.cli._output import JsonOption, Output, QuietOption
from boligmix.years import year_span


def register(app: typer.Typer) -> None:
    app.command("demo")(demo_command)
    app.command("run")(run_command)


def _report(output: Output, result) -> None:
    latest = result.list_counts.filter(result.list_counts["year"] == result.list_years[-1]).row(0, named=True)
    payload = {"report": str(result.report_html), "excel": str(result.report_xlsx),
               "list_years": [result.list_years[0], result.list_years[-1]],
               "latest_list_counts": {k: v for k, v in latest.items() if k != "year"}, **result.files}
    output.result(payload, human=(
        f"lists {result.list_years[0]}-{result.list_years[-1]} computed; latest ({result.list_years[-1]}): "
        + ", ".join(f"{k} {v}" for k, v in latest.items() if k != "year")
        + f"\nreport: {result.report_html.resolve()}"))


def demo_command(
    out: Annotated[Path, typer.Option("--out", help="Output directory (data, lists, mix, report).")] = Path(
        "demo-output"),
    seed: Annotated[int, typer.Option("--seed", help="Seed of the synthetic data.")] = 1,
    scale: Annotated[str, typer.Option("--scale", help="small, municipality or national.")] = "municipality",
    years: Annotated[str, typer.Option("--years", help="Register years of the synthetic data.")] = "2004-2024",
    quiet: QuietOption = False,
    json_out: JsonOption = False,
) -> None:
    """Generate a synthetic Denmark, compute every list year and the social mix, and write a report."""
    from boligmix.pipeline import run_demo

    output = Output(quiet=quiet, json=json_out)
    with output.progress("demo", total=100) as bar:
        result = run_demo(out, seed=seed, scale=scale, years=year_span(years), on_progress=bar)
    _report(output, result)


def run_command(
    data: Annotated[Path, typer.Option("--data", help="Dataset directory (synthetic or ingested).")],
    out: Annotated[Path, typer.Option("--out", help="Output directory (lists, mix, report).")],
    years: Annotated[Optional[str], typer.Option("--years", help="List years, e.g. 2018-2024 "
                                                 "(default: every year the data allows).")] = None,
    quiet: QuietOption = False,
    json_out: JsonOption = False,
) -> None:
    """Run the main pipeline on an existing dataset: lists for every list year, social mix, report."""
    from boligmix.pipeline import run_pipeline

    output = Output(quiet=quiet, json=json_out)
    list_years = None
    if years:
        first, last = year_span(years)
        list_years = list(range(first, last + 1))
    with output.progress("pipeline", total=100) as bar:
        result = run_pipeline(out, dataset=data, list_years=list_years, on_progress=bar)
    _report(output, result)
