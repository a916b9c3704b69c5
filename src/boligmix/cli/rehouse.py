"""`boligmix rehouse` and `boligmix rehouse caps`: rehousing without new concentrations."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from boligmix.cli._output import JsonOption, Output, QuietOption
from boligmix.errors import ConfigurationError

rehouse_app = typer.Typer(help="Rehousing (genhusning, almenlejeloven §§ 85-86 a) and receiving-area caps.",
                          invoke_without_command=True)


@rehouse_app.callback()
def rehouse_command(
    ctx: typer.Context,
    households: Annotated[Optional[Path], typer.Option("--households", help="H.csv: the households to rehouse.")] = None,
    vacancies: Annotated[Optional[Path], typer.Option("--vacancies", help="V.csv: the vacant dwellings.")] = None,
    out: Annotated[Optional[Path], typer.Option("--out", help="Result directory.")] = None,
    wishes: Annotated[Optional[Path], typer.Option("--wishes", help="W.csv: household_id,rank,area_id.")] = None,
    caps: Annotated[Optional[Path], typer.Option("--caps", help="C.csv: area_id,max_outside_work (e.g. the "
                                                                "internal file of `boligmix rehouse caps --internal`)."
                                                 )] = None,
    mode: Annotated[str, typer.Option("--mode", help="optimal (least cost with caps) or stable (deferred "
                                                     "acceptance on wishes, no caps).")] = "optimal",
    time_limit: Annotated[float, typer.Option("--time-limit", help="Solver time limit in seconds.")] = 60.0,
    max_rent_share: Annotated[Optional[float], typer.Option(
        "--max-rent-share", help="Highest rent as a share of monthly income (UNCONFIRMED default 0.40).")] = None,
    switch: Annotated[Optional[list[str]], typer.Option(
        "--switch", help="Suitability switch NAME=VALUE (repeatable): same_municipality, within_scope_area, "
                         "size_rule, rent_rule, available_by_move_date.")] = None,
    quiet: QuietOption = False,
    json_: JsonOption = False,
) -> None:
    """Place households in suitable vacancies at least cost without exceeding the areas' caps."""
    if ctx.invoked_subcommand is not None:
        return
    from boligmix.cli.lists import parse_switches
    from boligmix.plan.output import check_inputs
    from boligmix.plan.rehouse import rehouse
    from boligmix.plan.rehouse_io import read_problem
    from boligmix.plan.rehouse_model import Suitability
    from boligmix.plan.rehouse_report import write_rehousing

    output = Output(quiet=quiet, json=json_)
    missing = [name for name, v in (("--households", households), ("--vacancies", vacancies), ("--out", out))
               if v is None]
    if missing:
        raise ConfigurationError(f"missing option {', '.join(missing)}", field=missing[0].lstrip("-"))
    if mode not in ("optimal", "stable"):
        raise ConfigurationError(f"--mode must be optimal or stable, got '{mode}'", field="mode")
    inputs = {k: v for k, v in (("households", households), ("vacancies", vacancies), ("wishes", wishes),
                                ("caps", caps)) if v is not None}
    check_inputs(out, {f"--{k}": v for k, v in inputs.items()})  # type: ignore[arg-type]
    switches = parse_switches(switch)
    if max_rent_share is not None:
        switches["max_rent_share"] = str(max_rent_share)
    suit = Suitability.load(switches)
    problem = read_problem(households, vacancies, wishes, caps)  # type: ignore[arg-type]
    result = rehouse(problem, suit, time_limit=time_limit)
    files = write_rehousing(out, result, mode, inputs, time_limit)  # type: ignore[arg-type]
    figures = result.modes[mode].figures()
    payload = {"out": str(out), **{k: figures[k] for k in ("mode", "status", "objective", "bound", "gap", "placed",
                                                           "unplaced", "first_wish_share")}, "files": files}
    gap = "" if figures["gap"] is None else f", gap {figures['gap']:.2%}"
    human = (f"wrote {out}: {mode} {figures['status']}{gap}; {figures['placed']} of {figures['households']} placed, "
             f"{figures['first_wish_share']:.1%} in their first wish, {figures['unplaced']} unplaced")
    output.result(payload, human)


@rehouse_app.command("caps")
def caps_command(
    data: Annotated[Path, typer.Option("--data", help="Dataset directory.")],
    year: Annotated[int, typer.Option("--year", help="List year whose indicators and rules to use.")],
    out: Annotated[Path, typer.Option("--out", help="C.csv to write (plus C.provenance.json).")],
    margin: Annotated[float, typer.Option("--margin", help="Percentage points to stay below each threshold.")] = 2.0,
    internal: Annotated[bool, typer.Option(
        "--internal", help="Write the exact caps and counts that `boligmix rehouse --caps` reads (internal use "
                           "only: the file name must contain 'intern' and its first column says so). Default: "
                           "as for publication, small counts and the caps they bound blank.")] = False,
    quiet: QuietOption = False,
    json_: JsonOption = False,
) -> None:
    """Each area's cap on rehoused households outside work, from its distance to the list thresholds."""
    from boligmix.cli._output import require_internal_name
    from boligmix.indicators.publish import internal_frame
    from boligmix.lists.csvio import provenance_path
    from boligmix.plan.caps import compute_caps
    from boligmix.plan.output import check_inputs, csv_writer, json_writer, write_file

    output = Output(quiet=quiet, json=json_)
    check_inputs(out, {"--data": data})
    if internal:
        require_internal_name(out)
    with output.progress("computing indicators", total=100) as bar:
        frame, published, provenance = compute_caps(data, year, margin, on_progress=bar)
    meta = provenance_path(out)
    write_file(meta, json_writer({**provenance, "internal": internal}))
    write_file(out, csv_writer(internal_frame(frame) if internal else published))
    small = frame.filter(frame.get_column("residents") < 1000).height
    payload = {"out": str(out), "areas": frame.height, "areas_below_1000_residents": small,
               "total_cap": int(frame.get_column("max_outside_work").sum()),
               "areas_with_zero_cap": frame.filter(frame.get_column("max_outside_work") == 0).height}
    human = (f"wrote {out}{' (internal)' if internal else ''}: {frame.height} areas ({small} below 1,000 residents), {payload['areas_with_zero_cap']} "
             f"with cap 0, {payload['total_cap']} households outside work in all")
    output.result(payload, human)


def register(app: typer.Typer) -> None:
    app.add_typer(rehouse_app, name="rehouse")
