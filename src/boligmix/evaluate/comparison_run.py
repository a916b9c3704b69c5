"""`evaluate twins` and `evaluate synthcontrol` end to end: read and check the panel, compute, write.

The panel is internal; every published file (CSV and report) passes disclosure control over the
panel's population column (`evaluate.comparison_publish`).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from boligmix.data.io import check_out_dir
from boligmix.errors import DataValidationError
from boligmix.evaluate.comparison import placebo_in_space, synthetic_control, twins
from boligmix.evaluate.comparison_publish import (POPULATION, population_table, protect_path, protect_twins,
                                                  protect_unit_stats)
from boligmix.evaluate.panel_input import PanelColumns, numeric_column, check_panel, read_panel
from boligmix.numbers import fmt_number
from boligmix.report import DisclosurePolicy, Provenance, Report, Text, exempt, write_html
from boligmix.report._files import write_text_atomic

_WEIGHTS_EXEMPT = ("optimisation weights of the donor units, no person statistic (the values they weight are "
                   "protected in the path table)")


def run_twins(*, panel: Path, unit: str, time: str, treated_from: str, features: list[str], out: Path,
              k: int = 3, pre_years: int = 3, population: str = POPULATION) -> dict[str, str]:
    check_out_dir(panel, out, source="panel file")
    raw = read_panel(panel)
    pop = population_table(raw, unit, time, population, str(panel))
    full = check_panel(raw.with_columns(pl.lit(0.0).alias("_zero")), PanelColumns(unit, time, "_zero", treated_from),
                       source=str(panel))
    for f in features:
        if f not in raw.columns:
            raise DataValidationError("column is missing", path=str(panel), column=f)
        full[f] = numeric_column(raw, f, str(panel), integer=False)
    policy = DisclosurePolicy.load()
    table = protect_twins(twins(full, features, k=k, pre_years=pre_years), pop, features, pre_years, policy)
    out.mkdir(parents=True, exist_ok=True)
    files = {"twins": str(write_text_atomic(out / "twins.csv", table.frame.write_csv()))}
    prov = Provenance(data_vintage="see panel", dataset=str(panel), command="boligmix evaluate twins",
                      settings={"features": features, "k": k, "pre_years": pre_years, "population": population},
                      rule_versions={"disclosure_policy": policy.version})
    report = Report(Text("Tvillingeområder", "Twin areas"), provenance=prov, intro=Text(
        f"For hver behandlet enhed de {k} aldrig-behandlede enheder, der lignede mest i de {pre_years} år før start "
        f"(standardiserede {', '.join(features)}).",
        f"For every treated unit the {k} never-treated units most alike in the {pre_years} years before the start "
        f"(standardised {', '.join(features)})."))
    report.section(Text("Tvillinger", "Twins")).table(table, Text("Tvillinger", "Twins"),
                                                      name="twins", formats={"distance": ",.3f"})
    files["report"] = str(write_html(report, out / "report.html"))
    return files


def run_synthcontrol(*, panel: Path, unit: str, time: str, outcome: str, treated_from: str, treated_unit: str,
                     out: Path, population: str = POPULATION) -> tuple[dict[str, str], float | None, float]:
    """Returns the files written, the published mean gap after the start (None: suppressed) and the
    placebo p-value."""
    check_out_dir(panel, out, source="panel file")
    raw = read_panel(panel)
    pop = population_table(raw, unit, time, population, str(panel))
    frame = check_panel(raw, PanelColumns(unit, time, outcome, treated_from), source=str(panel))
    g = frame.loc[frame["_unit"] == treated_unit, "_g"]
    if g.empty:
        raise DataValidationError(f"unit {treated_unit} is not in the panel", path=str(panel), column=unit)
    if g.isna().all():
        raise DataValidationError(f"unit {treated_unit} is never treated (its {treated_from} is empty)",
                                  path=str(panel), column=treated_from)
    first = int(g.iloc[0])
    sc = synthetic_control(frame, treated_unit, first)
    placebo, p = placebo_in_space(frame, treated_unit, first)
    policy = DisclosurePolicy.load()
    path = protect_path(sc.path, sc.weights, pop, treated_unit, policy)
    years = sc.path["year"].to_list()  # the years of the fit
    placebo_table = protect_unit_stats(placebo, "unit", pop, years, policy, "placebo")
    summary = protect_unit_stats(pl.DataFrame({
        "treated_unit": [treated_unit], "first_year": [first], "att": [sc.att], "pre_rmspe": [sc.pre_rmspe],
        "post_rmspe": [sc.post_rmspe], "ratio": [sc.ratio], "placebo_p_value": [p],
        "n_placebos": [placebo.height - 1]}), "treated_unit", pop, years, policy, "summary")
    out.mkdir(parents=True, exist_ok=True)
    files = {"weights": str(write_text_atomic(out / "weights.csv", sc.weights.write_csv())),
             "path": str(write_text_atomic(out / "path.csv", path.frame.write_csv())),
             "placebo": str(write_text_atomic(out / "placebo.csv", placebo_table.frame.write_csv())),
             "summary": str(write_text_atomic(out / "summary.csv", summary.frame.write_csv()))}
    prov = Provenance(data_vintage="see panel", dataset=str(panel), command="boligmix evaluate synthcontrol",
                      settings={"outcome": outcome, "treated_unit": treated_unit, "first_year": first,
                                "population": population},
                      rule_versions={"disclosure_policy": policy.version})
    att = summary.frame["att"].item()
    att_da, att_en = (("diskretioneret", "suppressed") if att is None
                      else (fmt_number(att, 3, "da"), fmt_number(att, 3, "en")))
    report = Report(Text(f"Syntetisk kontrol: {treated_unit}", f"Synthetic control: {treated_unit}"), provenance=prov,
                    intro=Text(f"Gennemsnitligt gab efter {first}: {att_da}; placebo-p-værdi "
                               f"{fmt_number(p, 3, 'da')} ({placebo.height - 1} placebo-enheder).",
                               f"Mean gap after {first}: {att_en}; placebo p-value {p:.3f} "
                               f"({placebo.height - 1} placebo units)."))
    sec = report.section(Text("Faktisk og syntetisk forløb", "Actual and synthetic path"))
    sec.figure(_path_figure(path.frame, first, outcome), Text("Faktisk mod syntetisk", "Actual against synthetic"))
    sec.table(exempt(sc.weights, reason=_WEIGHTS_EXEMPT), Text("Donorvægte", "Donor weights"), name="weights",
              formats={"weight": ".3f"})
    report.section(Text("Placebo i rum", "Placebo in space")).table(
        placebo_table, Text("RMSPE før/efter for den behandlede og placebo-enhederne",
                                              "Pre/post RMSPE of the treated and the placebo units"), name="placebo")
    files["report"] = str(write_html(report, out / "report.html"))
    return files, att, p


def _path_figure(path: pl.DataFrame, first: int, outcome: str):
    import plotly.graph_objects as go

    fig = go.Figure([go.Scatter(x=path["year"], y=path["actual"], name="faktisk / actual"),
                     go.Scatter(x=path["year"], y=path["synthetic"], name="syntetisk / synthetic",
                                line={"dash": "dash"})])
    fig.add_vline(x=first - 0.5, line_dash="dot", line_color="grey")
    fig.update_layout(yaxis_title=outcome, template="simple_white")
    return fig


__all__ = ["run_synthcontrol", "run_twins"]
