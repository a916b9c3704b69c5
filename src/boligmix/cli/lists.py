"""`boligmix classify` and `boligmix lists`: the official area lists."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from boligmix.cli._output import JsonOption, Output, QuietOption, check_lang
from boligmix.errors import ConfigurationError
from boligmix.years import year_list

RulesOption = Annotated[str, typer.Option(
    "--rules", help="auto (by list year), 2010, 2013, 2018, 2021, or a rule-set .yaml file (applied to every row).")]
SwitchOption = Annotated[Optional[list[str]], typer.Option(
    "--switch", help="Override a rule switch, NAME=VALUE (repeatable), e.g. haardt_ghetto_years=4.")]
AreasOption = Annotated[Path, typer.Option("--areas", help="AREAS.csv: one row per area and list year.")]
HistoryOption = Annotated[Optional[Path], typer.Option(
    "--history", help="HISTORY.csv: published list membership (area_id,year,parallelsamfund).")]
VintageOption = Annotated[Optional[str], typer.Option(
    "--vintage", help="Data vintage to record (default: the AREAS.csv name and hash).")]
ForceDirOption = Annotated[bool, typer.Option("--force", help="Replace an existing result directory.")]


def parse_switches(items: list[str] | None) -> dict[str, str]:
    """`NAME=VALUE` strings to a mapping (values are checked against the rule set later)."""
    switches: dict[str, str] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise ConfigurationError(f"--switch expects NAME=VALUE, got '{item}'", field="switch")
        switches[name.strip()] = value.strip()
    return switches


def parse_years(year: int | None, years: str | None) -> list[int]:
    """`--year Y` or `--years A-B` / `--years A,B,C` (exactly one of them) to a list of list years."""
    if (year is None) == (years is None):
        raise ConfigurationError("give either --year Y or --years FIRST-LAST", field="years")
    if year is not None:
        return [year]
    return year_list(years or "")


def classify_command(
    areas: AreasOption,
    out: Annotated[Path, typer.Option("--out", help="OUT.csv to write (plus OUT.provenance.json).")],
    history: HistoryOption = None,
    rules: RulesOption = "auto",
    switch: SwitchOption = None,
    vintage: VintageOption = None,
    quiet: QuietOption = False,
    json_: JsonOption = False,
) -> None:
    """Classify areas x list years under the official rules and write OUT.csv."""
    from boligmix.data.io import check_out_paths
    from boligmix.lists.classify import classify
    from boligmix.lists.csvio import file_sha256, provenance_path, read_areas_csv, read_history_csv, \
        write_classification

    output = Output(quiet=quiet, json=json_)
    switches = parse_switches(switch)
    inputs = {"--areas file": areas, "--history file": history}
    check_out_paths(out, inputs)
    check_out_paths(provenance_path(out), inputs)
    frame = read_areas_csv(areas, rules)
    past = read_history_csv(history) if history is not None else None
    data_vintage = vintage or f"{areas.name} sha256:{file_sha256(areas)[:16]}"
    with output.progress("classifying", total=100) as bar:
        result = classify(frame, rules=rules, history=past, switches=switches, data_vintage=data_vintage,
                          on_progress=bar)
    inputs = {"areas": areas, **({"history": history} if history is not None else {})}
    write_classification(out, result, inputs)
    _warn(result.history_warning())
    counts = {f: int(result.frame.get_column(f).sum()) for f in
              ("udsat", "parallelsamfund", "omdannelse", "forebyggelse")}
    payload = {"out": str(out), "provenance": str(provenance_path(out)), "rows": result.frame.height,
               "rule_versions": sorted(result.provenance["rule_versions"]), "on_list": counts}
    human = (f"wrote {out} ({result.frame.height} rows, rules {', '.join(payload['rule_versions'])}); "
             + ", ".join(f"{k} {v}" for k, v in counts.items()))
    output.result(payload, human)


def lists_command(
    data: Annotated[Path, typer.Option("--data", help="Dataset directory (person-level registers).")],
    out: Annotated[Path, typer.Option("--out", help="Result directory to write.")],
    year: Annotated[Optional[int], typer.Option("--year", help="List year (list published 1 December).")] = None,
    years: Annotated[Optional[str], typer.Option(
        "--years", help="Several list years in one indicator pass: FIRST-LAST (e.g. 2018-2024) or A,B,C.")] = None,
    rules: RulesOption = "auto",
    history: Annotated[Optional[Path], typer.Option(
        "--history", help="HISTORY.csv: published list membership for earlier years.")] = None,
    switch: SwitchOption = None,
    force: ForceDirOption = False,
    format_: Annotated[str, typer.Option(
        "--format", help="text: a table of the listed areas of the newest list year (default); "
                         "brief: only the one-line result.")] = "text",
    lang: Annotated[str, typer.Option("--lang", help="Language of the table: da (default) or en.")] = "da",
    quiet: QuietOption = False,
    json_: JsonOption = False,
) -> None:
    """Compute the official lists for a list year from person-level data, with explanations."""
    from boligmix.data.io import check_out_paths
    from boligmix.lists.csvio import read_history_csv
    from boligmix.lists.pipeline import compute_lists, write_lists

    output = Output(quiet=quiet, json=json_)
    if format_ not in ("text", "brief"):
        raise ConfigurationError(f"--format must be text or brief, got '{format_}'", field="format")
    check_lang(lang)
    switches = parse_switches(switch)
    wanted = parse_years(year, years)
    check_out_paths(out, {"dataset directory": data, "--history file": history})
    past = read_history_csv(history) if history is not None else None
    with output.progress("computing lists", total=100) as bar:
        result = compute_lists(data, wanted, rules=rules, history=past, switches=switches, on_progress=bar)
    write_lists(out, result, overwrite=force)
    _warn(result.classification.history_warning())
    flags = ("udsat", "parallelsamfund", "omdannelse", "forebyggelse")
    latest = [a for a in result.areas if a["year"] == result.year]
    on_list = {f: sum(1 for a in latest if a[f]) for f in flags}
    per_year = {y: {f: sum(1 for a in result.areas if a["year"] == y and a[f]) for f in flags}
                for y in result.years}
    payload = {"out": str(out), "year": result.year, "years": list(result.years), "areas": len(latest),
               "on_list": on_list, "on_list_by_year": per_year,
               "rule_versions": sorted(result.provenance["rule_versions"]),
               "years_computed": result.provenance["years_computed"],
               "data_vintage": result.provenance.get("data_vintage")}
    span = f"{result.years[0]}-{result.years[-1]}" if len(result.years) > 1 else str(result.year)
    human = (f"wrote {out}: list year {span}, {len(latest)} areas in {result.year}; "
             + ", ".join(f"{k} {v}" for k, v in on_list.items())
             + f" (years computed {payload['years_computed']})")
    if format_ == "text" and not (quiet or json_):
        rulesets = {v: result.classification.ruleset(v) for v in {a["rules"] for a in result.areas}}
        print_listed_table(result.areas, result.year, lang, rulesets)
    output.result(payload, human)


def print_listed_table(areas: list[dict], year: int, lang: str, rulesets: dict | None = None) -> None:
    """The compact summary of the listed areas of `year` as a Rich table on stdout."""
    from rich.console import Console
    from rich.table import Table

    from boligmix.lists.summary import HEADERS, listed_summary

    words = HEADERS[lang]  # type: ignore[index]
    rows = listed_summary(areas, year, lang, rulesets)  # type: ignore[arg-type]
    console = Console(highlight=False)
    if not rows:
        console.print(words["none"].format(year=year))
        return
    table = Table(title=words["title"].format(year=year), show_lines=True)
    for key in ("area_id", "lists", "criteria", "leave_year", "to_leave"):
        table.add_column(words[key], overflow="fold")
    names = {a["area_id"]: ", ".join(str(v) for v in (a.get("area_name"), a.get("municipality")) if v)
             for a in areas if a["year"] == year}
    for r in rows:
        name = names.get(r["area_id"])
        table.add_row(f"{r['area_id']}\n{name}" if name else str(r["area_id"]), r["lists"], r["criteria"],
                      "" if r["leave_year"] is None else str(r["leave_year"]), r["to_leave"])
    console.print(table)


def explain_command(
    areas: AreasOption,
    year: Annotated[int, typer.Option("--year", help="List year to explain.")],
    out: Annotated[Path, typer.Option("--out", help="Result directory to write.")],
    history: HistoryOption = None,
    rules: RulesOption = "auto",
    switch: SwitchOption = None,
    vintage: VintageOption = None,
    force: ForceDirOption = False,
    lang: Annotated[str, typer.Option("--lang", help="Language of the printed explanations: da (default) or en.")]
    = "da",
    quiet: QuietOption = False,
    json_: JsonOption = False,
) -> None:
    """Explain one list year of AREAS.csv: criteria margins, what it takes to cross them, history, exits."""
    from boligmix.data.io import check_out_paths
    from boligmix.lists.csvio import file_sha256, read_areas_csv, read_history_csv
    from boligmix.lists.pipeline import lists_from_indicators, write_lists

    output = Output(quiet=quiet, json=json_)
    check_lang(lang)
    switches = parse_switches(switch)
    check_out_paths(out, {"--areas file": areas, "--history file": history})
    frame = read_areas_csv(areas, rules)
    past = read_history_csv(history) if history is not None else None
    data_vintage = vintage or f"{areas.name} sha256:{file_sha256(areas)[:16]}"
    result = lists_from_indicators(frame, year, rules=rules, history=past, switches=switches,
                                   data_vintage=data_vintage)
    write_lists(out, result, overwrite=force)
    _warn(result.classification.history_warning())
    payload = {"out": str(out), "year": year, "areas": len(result.areas),
               "on_list": {f: sum(1 for a in result.areas if a[f]) for f in
                           ("udsat", "parallelsamfund", "omdannelse", "forebyggelse")}}
    human = "\n\n".join(a[f"explanation_{lang}"] for a in result.areas) + f"\n\nwrote {out}"
    output.result(payload, human)



def _warn(message: str | None) -> None:
    """A warning on stderr (also with --quiet/--json: it concerns the result's meaning)."""
    if message:
        typer.echo(message, err=True)


def register(app: typer.Typer) -> None:
    app.command("classify")(classify_command)
    app.command("lists")(lists_command)
    app.command("explain-lists")(explain_command)
