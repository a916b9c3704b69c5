"""`boligmix plan share` and `boligmix plan optimise`: the 40 % rule and development plans."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from boligmix.cli._output import JsonOption, Output, QuietOption, print_error

SwitchOption = Annotated[Optional[list[str]], typer.Option(
    "--switch", help="Override a switch of rules/plan/share_2018.yaml, NAME=VALUE (repeatable), "
                     "e.g. youth_elderly_in_denominator=false.")]
INFEASIBLE_EXIT = 3


def share_command(
    data: Annotated[Path, typer.Option("--data", help="Dataset directory.")],
    year: Annotated[int, typer.Option("--year", help="List year whose omdannelse/parallelsamfund areas to report.")],
    out: Annotated[Path, typer.Option("--out", help="OUT.csv to write (plus OUT.provenance.json).")],
    lists: Annotated[Optional[Path], typer.Option(
        "--lists", help="lists.csv of `boligmix lists` (area_id,year,omdannelse,parallelsamfund,...); "
                        "default: computed from the dataset.")] = None,
    extras: Annotated[Optional[Path], typer.Option(
        "--extras", help="EXTRAS.csv: area_id,demolished_since_2010,commercial_m2 (not in the dataset "
                         "schema; areas it does not name count 0).")] = None,
    all_areas: Annotated[bool, typer.Option("--all-areas", help="Every area of the dataset, not only listed ones.")]
    = False,
    switch: SwitchOption = None,
    quiet: QuietOption = False,
    json_: JsonOption = False,
) -> None:
    """The 40 % share (almenboligloven § 168 a) of every omdannelse and parallelsamfund area, and of areas
    still under a development plan (on the omdannelse list in an earlier year from 2018)."""
    from boligmix.cli.lists import parse_switches
    from boligmix.lists.csvio import provenance_path
    from boligmix.plan.output import check_inputs, csv_writer, json_writer, write_file
    from boligmix.plan.share import ShareFormula
    from boligmix.plan.stock import known_area_ids, listed_areas, read_extras, read_list_flags, share_table

    output = Output(quiet=quiet, json=json_)
    check_inputs(out, {"--data": data, "--lists": lists, "--extras": extras})
    formula = ShareFormula.load(parse_switches(switch))
    if all_areas:
        on_lists = None
    elif lists is not None:
        on_lists = listed_areas(read_list_flags(lists, year), year, formula)
    else:
        from boligmix.lists.pipeline import compute_lists

        with output.progress("computing lists", total=100) as bar:
            result = compute_lists(data, year, on_progress=bar)
        frame = result.classification.frame
        on_lists = listed_areas(frame.filter(frame.get_column("year") <= year), year, formula)
    extra_values = read_extras(extras, known_area_ids(data)) if extras is not None else None
    table = share_table(data, year, formula, lists=on_lists, extras=extra_values)
    table.provenance["inputs"] = {"lists": str(lists) if lists else "computed", "extras": str(extras or "")}
    from boligmix.lists.pipeline import area_names, dataset_area_names, with_names

    meta = provenance_path(out)
    write_file(meta, json_writer(table.provenance))
    write_file(out, csv_writer(with_names(table.frame, area_names(dataset_area_names(data)))))
    over = table.frame.filter(table.frame.get_column("share") > formula.target)
    payload = {"out": str(out), "provenance": str(meta), "areas": table.frame.height,
               "above_target": over.height, "target": formula.target,
               "assumed_zero": len(table.provenance["assumed_zero"]["areas"])}
    human = (f"wrote {out}: {table.frame.height} areas, {over.height} above {formula.target:.0%}"
             + (f"; demolished/commercial m² assumed 0 for {payload['assumed_zero']} areas (give --extras)"
                if payload["assumed_zero"] else ""))
    output.result(payload, human)


def optimise_command(
    options: Annotated[Path, typer.Option("--options", help="OPTIONS.csv: the candidate actions.")],
    area_state: Annotated[Path, typer.Option("--area-state", help="STATE.csv: the area being planned.")],
    out: Annotated[Path, typer.Option("--out", help="Result directory.")],
    target: Annotated[Optional[float], typer.Option("--target", help="Target share (default 0.40, the rule file's).")]
    = None,
    by: Annotated[Optional[int], typer.Option("--by", help="Target year: the share counts on 1 January (default 2030).")]
    = None,
    minimise: Annotated[str, typer.Option("--minimise", help="cost, or households (displaced; cost breaks ties).")]
    = "cost",
    area: Annotated[Optional[str], typer.Option("--area", help="The area's row when STATE.csv holds several.")] = None,
    start: Annotated[Optional[int], typer.Option(
        "--from", help="First year of the timeline (default: STATE's year + 1, else the first option's).")] = None,
    time_limit: Annotated[float, typer.Option("--time-limit", help="Solver time limit in seconds.")] = 60.0,
    data: Annotated[Optional[Path], typer.Option(
        "--data", help="Dataset directory to take the area's name and municipality from (default: STATE.csv's "
                       "area_name and municipality columns, as `plan share` writes them).")] = None,
    switch: SwitchOption = None,
    quiet: QuietOption = False,
    json_: JsonOption = False,
) -> None:
    """Choose the options that bring the share to the target at least cost. Exit 3 when none can."""
    from boligmix.cli.lists import parse_switches
    from boligmix.plan.optimise import PlanInfeasibleError, optimise_plan
    from boligmix.plan.output import check_inputs
    from boligmix.plan.plan_io import read_options, read_state, read_state_names
    from boligmix.plan.plan_report import area_title, write_plan
    from boligmix.plan.share import ShareFormula

    output = Output(quiet=quiet, json=json_)
    try:
        check_inputs(out, {"--options": options, "--area-state": area_state, "--data": data})
        formula = ShareFormula.load(parse_switches(switch), target=target, target_year=by)
        state, state_year = read_state(area_state, area=area)
        names = read_state_names(area_state, state.area_id)
        if data is not None and names == (None, None):
            from boligmix.lists.pipeline import area_names, dataset_area_names

            names = area_names(dataset_area_names(data)).get(state.area_id, (None, None))
        actions = read_options(options)
        first = start if start is not None else (state_year + 1 if state_year is not None else None)
        result = optimise_plan(state, actions, formula, minimise=minimise, start=first,  # type: ignore[arg-type]
                               time_limit=time_limit)
        files = write_plan(out, state, actions, formula, result, inputs={"options": options, "area_state": area_state},
                           names=names)
    except PlanInfeasibleError as exc:
        print_error(exc)
        if json_:
            output.result({"status": "INFEASIBLE", "lowest_share": exc.lowest_share, "binding": exc.binding,
                           "relaxed": exc.relaxed})
        raise typer.Exit(INFEASIBLE_EXIT) from exc
    final = result.timeline[-1]["share"] if result.timeline else None
    payload = {"out": str(out), "area_id": state.area_id, "area_name": names[0], "municipality": names[1],
               "status": result.status, "objective": result.objective, "cost_dkk": result.cost_dkk,
               "households": result.households, "chosen": result.chosen_ids(), "share_at_target_year": final,
               "files": files}
    human = (f"wrote {out}: {area_title(state.area_id, names, 'en')}: {result.status}, {len(result.chosen_ids())} options, cost {result.cost_dkk:,.0f} DKK, "
             f"{result.households} households; share on 1 January {result.target_year}: "
             + (f"{final:.4f}" if final is not None else "n/a"))
    output.result(payload, human)


def register(app: typer.Typer) -> None:
    plan_app = typer.Typer(help="Development plans: the 40 % rule (almenboligloven § 168 a).", no_args_is_help=True)
    plan_app.command("share")(share_command)
    plan_app.command("optimise")(optimise_command)
    app.add_typer(plan_app, name="plan")
