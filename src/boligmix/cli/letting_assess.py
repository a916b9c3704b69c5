"""`boligmix letting assess`: the letting rules' verdict on caseworkers' cases (JSON Lines in the
API's registration shapes) as a CSV, `case_id,outcome,rule,law,reason`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from boligmix.cli._output import JsonOption, Output, QuietOption


def assess_command(
    cases: Annotated[Path, typer.Option("--cases", help="Cases, one JSON object a line: case_id, date, channel, "
                                                        "department, dwelling, applicant (API shapes).")],
    out: Annotated[Path, typer.Option("--out", help="CSV to write: case_id,outcome,rule,law,reason.")],
    policies: Annotated[list[Path] | None, typer.Option(
        "--policies", help="Policy files/directories (default: the packaged statutory policies); give the "
                           "statutory directory too when local agreements name it as base.")] = None,
    quiet: QuietOption = False,
    json_: JsonOption = False,
) -> None:
    """Assess cases: eligible, rejected, barred (§ 59, stk. 6/7) or unknown (a fact is missing),
    with the deciding rule, its law and the reason. A bad line stops the command (exit 2) and
    nothing is written."""
    from boligmix.letting.assess_io import run_assessment

    output = Output(quiet=quiet, json=json_)
    with output.progress("assessing cases"):
        summary = run_assessment(cases, out, policies or None)
    counts = ", ".join(f"{k} {v}" for k, v in summary["outcomes"].items())
    output.result(summary, f"wrote {summary['out']} ({summary['cases']} cases: {counts})")


def register(app: typer.Typer) -> None:
    from boligmix.cli.letting_admin import letting_group

    letting_group(app).command("assess")(assess_command)
