"""`boligmix mix`: composition of residents, in- and out-movers, flows and decomposition, with a report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from boligmix.cli._output import JsonOption, Output, QuietOption


def register(app: typer.Typer) -> None:
    app.command("mix")(mix_command)


def mix_command(
    data: Annotated[Path, typer.Option("--data", help="Dataset directory (Parquet tables + manifest.json).")],
    out: Annotated[Path, typer.Option("--out", help="Output directory (tables, report.html, report.xlsx).")],
    years: Annotated[Optional[str], typer.Option(
        "--years", help="Years, e.g. 2004-2024 or 2010,2012 (default: all the data allows).")] = None,
    level: Annotated[str, typer.Option("--level", help="area, department, municipality or organisation.")] = "area",
    listed: Annotated[Optional[Path], typer.Option(
        "--listed", help="List membership: .csv/.parquet with area_id, year, listed, or the lists "
                         "module's lists.csv (listed = on any of --list-categories).")] = None,
    list_categories: Annotated[str, typer.Option(
        "--list-categories", help="With a lists.csv: which lists count, comma-separated.")] =
        "udsat,parallelsamfund,omdannelse,forebyggelse",
    settings: Annotated[Optional[Path], typer.Option(
        "--settings", help="Factor definitions YAML (default: the packaged mix_settings.yaml).")] = None,
    min_count: Annotated[Optional[int], typer.Option(
        "--min-count", help="Disclosure threshold (default: the policy's, 5).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Write into an existing, non-empty output directory "
                                                          "(replacing the files of an earlier run).")] = False,
    quiet: QuietOption = False,
    json_out: JsonOption = False,
) -> None:
    """Social mix per area/department/municipality/organisation and year, with an HTML/Excel report."""
    from boligmix.data.io import check_new_dir, check_out_paths
    from boligmix.mix.pipeline import compute_mix
    from boligmix.mix.population import load_mix_data, register_years, years_range
    from boligmix.mix.publish import write_outputs
    from boligmix.mix.settings import MixSettings
    from boligmix.mix.units import read_listed
    from boligmix.report import DisclosurePolicy

    output = Output(quiet=quiet, json=json_out)
    check_out_paths(out, {"dataset directory": data, "--listed file": listed, "--settings file": settings})
    check_new_dir(out, overwrite=force)
    policy = DisclosurePolicy.load(min_count=min_count)
    mix_settings = MixSettings.load(settings)
    categories = tuple(c.strip() for c in list_categories.split(",") if c.strip())
    listed_frame = read_listed(str(listed), categories) if listed is not None else None
    with output.progress("mix", total=100) as bar:
        lo, hi = register_years(data)
        year_list = years_range(years) if years else list(range(lo + 1, hi + 1))
        dataset = load_mix_data(data, year_list)
        if listed_frame is not None:
            covered = set(listed_frame.get_column("year").to_list())
            absent = [y for y in year_list if y not in covered]
            if absent:
                typer.echo(
                    f"warning: {listed} has no rows for year(s) {', '.join(map(str, absent))} of --years "
                    f"{year_list[0]}-{year_list[-1]} (it covers {', '.join(map(str, sorted(covered)))}): every "
                    "area counts as not listed in those years. Give --years inside the covered years or a "
                    "file with every year if that is not what you mean.", err=True)
        result = compute_mix(dataset, year_list, level=level, settings=mix_settings, listed=listed_frame,
                             on_progress=bar)
        bar.update(description="writing report")
        files = write_outputs(result, out, policy=policy, dataset=str(data),
                              command=f"boligmix mix --level {level} --years {year_list[0]}-{year_list[-1]}")
    payload = {"level": level, "years": [year_list[0], year_list[-1]], "out": str(out),
               "report": files["report_html"], "files": files,
               "rows": {name: t.height for name, t in result.tables.items()}}
    output.result(payload, human=f"mix: {level}, {year_list[0]}-{year_list[-1]} -> {files['report_html']}")
