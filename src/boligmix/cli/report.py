"""`boligmix report lists`: the printable list report (PDF or HTML), one page per listed area."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from boligmix.cli._output import JsonOption, Output, QuietOption
from boligmix.errors import ConfigurationError

report_app = typer.Typer(help="Printable reports for boards and politicians (Danish).", no_args_is_help=True)


@report_app.command("lists")
def lists_report_command(
    data: Annotated[Path, typer.Option("--data", help="Dataset directory (person-level registers).")],
    year: Annotated[int, typer.Option("--year", help="List year (list published 1 December).")],
    out: Annotated[Path, typer.Option("--out", help="File to write (.pdf or .html).")],
    format_: Annotated[str, typer.Option("--format", help="pdf (WeasyPrint) or html.")] = "pdf",
    min_count: Annotated[int | None, typer.Option("--min-count", min=1,
                                                  help="Disclosure: suppress counts below this (default: policy).")]
    = None,
    quiet: QuietOption = False,
    json_: JsonOption = False,
) -> None:
    """The areas on the lists in YEAR: a first page with provenance and a summary, then one page per
    listed area (criteria, margins, explanation, history, a small map)."""
    from boligmix.data.io import check_out_dir
    from boligmix.report.disclosure import DisclosurePolicy
    from boligmix.report.list_report import write_list_report
    from boligmix.web.dashboard.data import load_dashboard
    from boligmix.web.dashboard.printable import list_report

    output = Output(quiet=quiet, json=json_)
    if format_ not in ("pdf", "html"):
        raise ConfigurationError(f"--format must be pdf or html, got '{format_}'", field="format")
    check_out_dir(data, out, source="dataset directory")
    policy = DisclosurePolicy.load(min_count=min_count)
    with output.progress("computing the lists", total=100) as bar:
        dashboard = load_dashboard(data, list_years=range(2010, year + 1), mix_years=0, policy=policy,
                                   on_progress=bar)
    if year not in dashboard.years:
        raise ConfigurationError(f"the dataset's register years do not allow list year {year} "
                                 f"(possible: {dashboard.years[0]}-{dashboard.years[-1]})", field="year")
    report = list_report(dashboard, year)
    write_list_report(report, out, format_)
    payload = {"out": str(out), "format": format_, "year": year, "listed_areas": len(report.areas),
               "data_vintage": dashboard.provenance.data_vintage, "seed": dashboard.provenance.seed}
    output.result(payload, f"wrote {out} ({format_}, list year {year}, {len(report.areas)} listed areas)")


def register(app: typer.Typer) -> None:
    app.add_typer(report_app, name="report")
