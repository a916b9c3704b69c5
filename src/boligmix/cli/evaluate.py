"""`boligmix evaluate`: programme registry, panels, surveys and effect estimates (difference in differences)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from boligmix.cli._output import JsonOption, Output, QuietOption

PanelOption = Annotated[Path, typer.Option("--panel", help="Unit x year panel (.parquet or .csv).")]
UnitOption = Annotated[str, typer.Option("--unit", help="Unit column, e.g. area_id.")]
TimeOption = Annotated[str, typer.Option("--time", help="Year column.")]
TreatedFromOption = Annotated[str, typer.Option(
    "--treated-from", help="Column of the first treated year (empty: never treated).")]
OutDirOption = Annotated[Path, typer.Option("--out", help="Output directory.")]
PopulationOption = Annotated[str, typer.Option(
    "--population", help="Column of the persons each unit-year's values are over (disclosure control).")]

evaluate_app = typer.Typer(help="Evaluation: programmes, panels, surveys and effect estimates.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(evaluate_app, name="evaluate")


@evaluate_app.command("did")
def did_command(
    panel: PanelOption,
    unit: UnitOption,
    time: TimeOption,
    outcome: Annotated[str, typer.Option("--outcome", help="Outcome column (numeric).")],
    treated_from: TreatedFromOption,
    out: OutDirOption,
    estimator: Annotated[str, typer.Option("--estimator", help="twfe, event, sunab or did2s.")] = "twfe",
    cluster: Annotated[Optional[str], typer.Option("--cluster", help="Cluster column (default: the unit).")] = None,
    window: Annotated[Optional[str], typer.Option(
        "--window", help="Relative years -K..L kept as own terms; outside them binned into the end terms.")] = None,
    controls: Annotated[Optional[str], typer.Option(
        "--controls", help="sunab: never (default) or notyet (last-treated cohort as control).")] = None,
    bootstrap: Annotated[int, typer.Option(
        "--bootstrap", help="twfe: wild cluster bootstrap repetitions for the ATT p-value (0: none).")] = 0,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the bootstrap.")] = 1,
    population: PopulationOption = "residents",
    quiet: QuietOption = False,
    json_out: JsonOption = False,
) -> None:
    """Difference-in-differences estimates, pre-trend test, event-study plot and report."""
    from boligmix.evaluate.did_run import run_did

    output = Output(quiet=quiet, json=json_out)
    files, result = run_did(panel=panel, unit=unit, time=time, outcome=outcome, treated_from=treated_from,
                            out=out, estimator=estimator, cluster=cluster, window=window, controls=controls,
                            bootstrap=bootstrap, seed=seed, population=population)
    import polars as pl

    published = pl.read_csv(files["estimates"])  # the protected estimates
    att = published.filter(pl.col("term") == "ATT")
    headline = ("estimates suppressed (the treated units have too few residents)"
                if published["estimate"].null_count() == published.height else
                f"{len(result.estimates)} event terms" if att.is_empty() else
                f"ATT {att['estimate'][0]:.4g} (SE {att['std_error'][0]:.3g})")
    pretrend_p = pl.read_csv(files["pretrend"])["p_value"][0]
    output.result({"estimator": estimator, "out": str(out), "files": files, "n_obs": result.n_obs,
                   "pretrend_p": pretrend_p},
                  human=f"evaluate did ({estimator}): {headline} -> {files['report']}")


@evaluate_app.command("panel")
def panel_command(
    data: Annotated[Path, typer.Option("--data", help="Dataset directory.")],
    years: Annotated[str, typer.Option("--years", help="Years A-B, e.g. 2010-2024.")],
    out: Annotated[Path, typer.Option("--out", help="Output panel file PANEL-internal.parquet (internal: the name must contain 'intern').")],
    level: Annotated[str, typer.Option("--level", help="area or department.")] = "area",
    registry: Annotated[Optional[Path], typer.Option("--registry", help="Programme registry (.csv/.xlsx).")] = None,
    activities: Annotated[Optional[Path], typer.Option("--activities", help="Activities CSV of the registry.")] = None,
    policies: Annotated[Optional[list[Path]], typer.Option(
        "--policies", help="Letting policy files or directories (first year of a letting tool).")] = None,
    stayers: Annotated[bool, typer.Option("--stayers/--no-stayers",
                                          help="Also write PANEL.stayers.parquet (base-year residents).")] = True,
    stayer_base_year: Annotated[Optional[int], typer.Option(
        "--stayer-base-year", help="Base year of the stayer cohort (default: the first year).")] = None,
    quiet: QuietOption = False,
    json_out: JsonOption = False,
) -> None:
    """The unit x year panel of list indicators, mix measures and treatment first years (+ stayer panel)."""
    from boligmix.evaluate.panel_run import run_panel

    output = Output(quiet=quiet, json=json_out)
    files, result = run_panel(data=data, years=years, out=out, level=level, registry=registry,
                              activities=activities, policies=policies or [], stayers=stayers,
                              stayer_base_year=stayer_base_year)
    output.result({"out": str(out), "files": files, "rows": result.panel.height, "notes": result.notes},
                  human=f"evaluate panel: {result.panel.height} rows ({level}, {years}) -> {out}")


@evaluate_app.command("programmes")
def programmes_command(
    data: Annotated[Path, typer.Option("--data", help="Dataset directory.")],
    registry: Annotated[Path, typer.Option("--registry", help="Programme registry (.csv or .xlsx).")],
    out: OutDirOption,
    activities: Annotated[Optional[Path], typer.Option("--activities", help="Activities CSV (programme_id,activity).")] = None,
    quiet: QuietOption = False,
    json_out: JsonOption = False,
) -> None:
    """Funding and coverage tables of the registry and how the covered departments' indicators moved."""
    from boligmix.data.io import check_out_dir, read_table
    from boligmix.evaluate.programmes import programme_tables, write_programme_outputs
    from boligmix.evaluate.registry import read_registry

    output = Output(quiet=quiet, json=json_out)
    for src, what in ((data, "dataset"), (registry, "registry file"), (activities, "activities file")):
        if src is not None:
            check_out_dir(src, out, source=what)
    deps = set(read_table(data, "departments", ["department_id"])["department_id"].to_list())
    reg = read_registry(registry, activities=activities, departments=deps)
    tables = programme_tables(data, reg)
    files = write_programme_outputs(tables, out, registry_file=str(registry), dataset=str(data),
                                    rules_version=reg.rules.version)
    output.result({"out": str(out), "files": files, "programmes": tables.funding.height},
                  human=f"evaluate programmes: {tables.funding.height} programmes -> {files['report']}")


@evaluate_app.command("survey")
def survey_command(
    responses: Annotated[Path, typer.Option("--responses", help="CSV respondent_id,area_id,year,weight,item,value.")],
    out: OutDirOption,
    index: Annotated[Optional[Path], typer.Option("--index", help="Index definition YAML (default: packaged).")] = None,
    quiet: QuietOption = False,
    json_out: JsonOption = False,
) -> None:
    """Tryghed og trivsel index (six dimensions) per area and year with survey weights and 95 % intervals."""
    from boligmix.data.io import check_out_dir
    from boligmix.evaluate.survey import SurveyIndex, comparisons, index_table, read_responses, respondent_scores
    from boligmix.evaluate.survey_output import write_survey_outputs

    output = Output(quiet=quiet, json=json_out)
    check_out_dir(responses, out, source="responses file")
    spec = SurveyIndex.load(index)
    scores = respondent_scores(read_responses(responses, spec), spec)
    table = index_table(scores)
    files = write_survey_outputs(table, comparisons(scores), out, index=spec, source=str(responses))
    output.result({"out": str(out), "files": files, "rows": table.height},
                  human=f"evaluate survey: {table.height} area-year-dimension rows -> {files['report']}")


@evaluate_app.command("synth-survey")
def synth_survey_command(
    out: Annotated[Path, typer.Option("--out", help="Responses CSV to write.")],
    areas: Annotated[str, typer.Option("--areas", help="Comma-separated area ids.")] = "A1,A2,A3",
    years: Annotated[str, typer.Option("--years", help="Comma-separated survey years.")] = "2018,2021",
    respondents: Annotated[int, typer.Option("--respondents", help="Respondents per area and year.")] = 200,
    seed: Annotated[int, typer.Option("--seed", help="Seed.")] = 1,
    quiet: QuietOption = False,
    json_out: JsonOption = False,
) -> None:
    """A synthetic tryghed og trivsel survey (responses CSV) for the demo."""
    import numpy as np

    from boligmix.evaluate.survey import SurveyIndex, synthetic_survey
    from boligmix.report._files import write_text_atomic
    from boligmix.years import year_list

    output = Output(quiet=quiet, json=json_out)
    frame = synthetic_survey(np.random.default_rng(seed), SurveyIndex.load(),
                             areas=[a.strip() for a in areas.split(",") if a.strip()],
                             years=year_list(years), respondents=respondents)
    write_text_atomic(out, frame.write_csv())
    output.result({"out": str(out), "rows": frame.height}, human=f"synth-survey: {frame.height} answers -> {out}")


@evaluate_app.command("twins")
def twins_command(
    panel: PanelOption,
    unit: UnitOption,
    time: TimeOption,
    treated_from: TreatedFromOption,
    features: Annotated[str, typer.Option("--features", help="Comma-separated indicator columns to match on.")],
    out: OutDirOption,
    k: Annotated[int, typer.Option("--k", help="Twins per treated unit.")] = 3,
    pre_years: Annotated[int, typer.Option("--pre-years", help="Pre-treatment years averaged.")] = 3,
    population: PopulationOption = "residents",
    quiet: QuietOption = False,
    json_out: JsonOption = False,
) -> None:
    """Nearest-neighbour twin units on pre-treatment indicators."""
    from boligmix.evaluate.comparison_run import run_twins

    output = Output(quiet=quiet, json=json_out)
    files = run_twins(panel=panel, unit=unit, time=time, treated_from=treated_from,
                      features=[f.strip() for f in features.split(",") if f.strip()], out=out, k=k,
                      pre_years=pre_years, population=population)
    output.result({"out": str(out), "files": files}, human=f"evaluate twins -> {files['twins']}")


@evaluate_app.command("synthcontrol")
def synthcontrol_command(
    panel: PanelOption,
    unit: UnitOption,
    time: TimeOption,
    outcome: Annotated[str, typer.Option("--outcome", help="Outcome column.")],
    treated_from: TreatedFromOption,
    treated_unit: Annotated[str, typer.Option("--treated-unit", help="The one treated unit to study.")],
    out: OutDirOption,
    population: PopulationOption = "residents",
    quiet: QuietOption = False,
    json_out: JsonOption = False,
) -> None:
    """Synthetic control for one treated unit (never-treated donors) with placebo-in-space inference."""
    from boligmix.evaluate.comparison_run import run_synthcontrol

    output = Output(quiet=quiet, json=json_out)
    files, att, p = run_synthcontrol(panel=panel, unit=unit, time=time, outcome=outcome,
                                     treated_from=treated_from, treated_unit=treated_unit, out=out,
                                     population=population)
    gap = "suppressed (small population)" if att is None else f"{att:.4g}"
    output.result({"out": str(out), "files": files, "att": att, "placebo_p_value": p},
                  human=f"evaluate synthcontrol: mean gap {gap}, placebo p {p:.3f} -> {files['report']}")
