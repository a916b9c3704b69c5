"""`boligmix letting report-dispensations|report-rejections`: statutory reports from the letting store.

With `--municipality CODE` the report is that municipality's own (exact counts); without it, it
covers every municipality as an analyst sees it (small counts suppressed by the disclosure policy).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

import typer

from boligmix.cli._output import JsonOption, Output, QuietOption
from boligmix.cli.letting_admin import DbOption, current_store, letting_group

if TYPE_CHECKING:
    from boligmix.letting.store.auth import Principal

MunicipalityOption = Annotated[int | None, typer.Option(
    "--municipality", help="The reporting municipality (exact counts); omit for all municipalities, suppressed.")]
PeriodEndOption = Annotated[str | None, typer.Option(
    "--period-end", help="First day after the period (ISO date); default the latest 1 July.")]
PeriodStartOption = Annotated[str | None, typer.Option(
    "--period-start", help="First day of the period (ISO date); default one year before the end.")]


def _principal(municipality: int | None) -> "Principal":
    from boligmix.letting.store.auth import Principal

    if municipality is None:
        return Principal(0, "cli", "analyst", frozenset())
    return Principal(0, "cli", "municipality", frozenset({str(municipality)}))


def _date(value: str | None, option: str) -> date | None:
    from boligmix.errors import ConfigurationError

    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigurationError(f"{option} must be an ISO date (YYYY-MM-DD), got {value!r}", field=option) from None


def _run(db: str | None, out: Output, what: str, build: Any) -> dict[str, Any]:
    with current_store(db) as store, out.progress(what), store.read() as s:
        return build(s)


def _text(report: dict[str, Any], columns: list[str]) -> str:
    head = (f"{report['report']} ({report['law']}), {report['period_start']} to before "
            f"{report['period_end_exclusive']}; {report['suppression']}")
    lines = [head, "  ".join(columns)]
    for row in report["rows"]:
        lines.append("  ".join("·" if row.get(c) is None else str(row.get(c)) for c in columns))
    if not report["rows"]:
        lines.append("(none in the period)")
    return "\n".join(lines)


def report_dispensations(
    db: DbOption = None, municipality: MunicipalityOption = None, period_end: PeriodEndOption = None,
    period_start: PeriodStartOption = None,
    level: Annotated[str, typer.Option("--level", help="municipality, organisation or department.")] = "department",
    quiet: QuietOption = False, json: JsonOption = False,
) -> None:
    """§ 51 c dispensations used in the reporting period (reported each 1 July), by ground."""
    from boligmix.letting.store.reports import dispensation_report, LEVELS

    out = Output(quiet, json)
    end, start = _date(period_end, "--period-end"), _date(period_start, "--period-start")
    report = _run(db, out, "reading the trail", lambda s: dispensation_report(
        s, _principal(municipality), municipality_code=municipality, period_end=end, period_start=start,
        level=level))
    keys = ["municipality_code", "org_id", "department_id"][: LEVELS.index(level) + 1]
    out.result(report, _text(report, [*keys, "applicants", "offers", "lettings",
                                      *(f"grounds.{g}" for g in report["grounds"])]))


def report_rejections(
    db: DbOption = None, municipality: MunicipalityOption = None, period_end: PeriodEndOption = None,
    period_start: PeriodStartOption = None, quiet: QuietOption = False, json: JsonOption = False,
) -> None:
    """§ 51 b (kombineret udlejning) rejections in the period, per area and department."""
    from boligmix.letting.store.reports import rejection_report

    out = Output(quiet, json)
    end, start = _date(period_end, "--period-end"), _date(period_start, "--period-start")
    report = _run(db, out, "reading the trail", lambda s: rejection_report(
        s, _principal(municipality), municipality_code=municipality, period_end=end, period_start=start))
    out.result(report, _text(report, ["municipality_code", "area_id", "org_id", "department_id",
                                      "applicants_rejected", "rejections"]))


def register(app: typer.Typer) -> None:
    group = letting_group(app)
    group.command("report-dispensations")(report_dispensations)
    group.command("report-rejections")(report_rejections)
