"""`evaluate twins` and `evaluate synthcontrol` end to end: read and check the panel, compute, write."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from boligmix.data.io import check_out_dir
from boligmix.errors import DataValidationError
from boligmix.evaluate.comparison import placebo_in_space, synthetic_control, twins
from boligmix.evaluate.panel_input import PanelColumns, numeric_column, check_panel, read_panel
from boligmix.numbers import fmt_number
from boligmix.report import DisclosurePolicy, Provenance, Report, Text, exempt, write_html
from boligmix.report._files import write_text_atomic

_EXEMPT = "unit-level aggregates already published in the panel; no person-level data"


def run_twins(*, panel: Path, unit: str, time: str, treated_from: str, features: list[str], out: Path,
              k: int = 3, pre_years: int = 3) -> dict[str, str]:
    check_out_dir(panel, out, source="panel file")
    raw = read_panel(panel)
    full = check_panel(raw.with_columns(pl.lit(0.0).alias("_zero")), PanelColumns(unit, time, "_zero", treated_from),
                       source=str(panel))
    for f in features:
        if f not in raw.columns:
            raise DataValidationError("column is missing", path=str(panel), column=f)
        full[f] = numeric_column(raw, f, str(panel), integer=False)
    result = twins(full, features, k=k, pre_years=pre_years)
    out.mkdir(parents=True, exist_ok=True)
    files = {"twins": str(write_text_atomic(out / "twins.csv", result.write_csv()))}
    prov = Provenance(data_vintage="see panel", dataset=str(panel), command="boligmix evaluate twins",
                      settings={"features": features, "k": k, "pre_years": pre_years},
                      rule_versions={"disclosure_policy": DisclosurePolicy.load().version})
    report = Report(Text("Tvillingeområder", "Twin areas"), provenance=prov, intro=Text(
        f"For hver behandlet enhed de {k} aldrig-behandlede enheder, der lignede mest i de {pre_years} år før start "
        f"(standardiserede {', '.join(features)}).",
        f"For every treated unit the {k} never-treated units most alike in the {pre_years} years before the start "
        f"(standardised {', '.join(features)})."))
    report.section(Text("Tvillinger", "Twins")).table(exempt(result, reason=_EXEMPT), Text("Tvillinger", "Twins"),
                                                      name="twins", formats={"distance": ",.3f"})
    files["report"] = str(write_html(report, out / "report.html"))
    return files


def run_synthcontrol(*, panel: Path, unit: str, time: str, outcome: str, treated_from: str, treated_unit: str,
                     out: Path) -> tuple[dict[str, str], object, float]:
    check_out_dir(panel, out, source="panel file")
    frame = check_panel(read_panel(panel), PanelColumns(unit, time, outcome, treated_from), source=str(panel))
    g = frame.loc[frame["_unit"] == treated_unit, "_g"]
    if g.empty:
        raise DataValidationError(f"unit {treated_unit} is not in the panel", path=str(panel), column=unit)
    if g.isna().all():
        raise DataValidationError(f"unit {treated_unit} is never treated (its {treated_from} is empty)",
                                  path=str(panel), column=treated_from)
    first = int(g.iloc[0])
    sc = synthetic_control(frame, treated_unit, first)
    placebo, p = placebo_in_space(frame, treated_unit, first)
    out.mkdir(parents=True, exist_ok=True)
    files = {"weights": str(write_text_atomic(out / "weights.csv", sc.weights.write_csv())),
             "path": str(write_text_atomic(out / "path.csv", sc.path.write_csv())),
             "placebo": str(write_text_atomic(out / "placebo.csv", placebo.write_csv()))}
    summary = pl.DataFrame({"treated_unit": [treated_unit], "first_year": [first], "att": [sc.att],
                            "pre_rmspe": [sc.pre_rmspe], "post_rmspe": [sc.post_rmspe], "ratio": [sc.ratio],
                            "placebo_p_value": [p], "n_placebos": [placebo.height - 1]})
    files["summary"] = str(write_text_atomic(out / "summary.csv", summary.write_csv()))
    prov = Provenance(data_vintage="see panel", dataset=str(panel), command="boligmix evaluate synthcontrol",
                      settings={"outcome": outcome, "treated_unit": treated_unit, "first_year": first},
                      rule_versions={"disclosure_policy": DisclosurePolicy.load().version})
    report = Report(Text(f"Syntetisk kontrol: {treated_unit}", f"Synthetic control: {treated_unit}"), provenance=prov,
                    intro=Text(f"Gennemsnitligt gab efter {first}: {fmt_number(sc.att, 3, 'da')}; placebo-p-værdi "
                               f"{fmt_number(p, 3, 'da')} ({placebo.height - 1} placebo-enheder).",
                               f"Mean gap after {first}: {sc.att:.3f}; placebo p-value {p:.3f} "
                               f"({placebo.height - 1} placebo units)."))
    sec = report.section(Text("Faktisk og syntetisk forløb", "Actual and synthetic path"))
    sec.figure(_path_figure(sc.path, first, outcome), Text("Faktisk mod syntetisk", "Actual against synthetic"))
    sec.table(exempt(sc.weights, reason=_EXEMPT), Text("Donorvægte", "Donor weights"), name="weights",
              formats={"weight": ".3f"})
    report.section(Text("Placebo i rum", "Placebo in space")).table(
        exempt(placebo, reason=_EXEMPT), Text("RMSPE før/efter for den behandlede og placebo-enhederne",
                                              "Pre/post RMSPE of the treated and the placebo units"), name="placebo")
    files["report"] = str(write_html(report, out / "report.html"))
    return files, sc, p


def _path_figure(path: pl.DataFrame, first: int, outcome: str):
    import plotly.graph_objects as go

    fig = go.Figure([go.Scatter(x=path["year"], y=path["actual"], name="faktisk / actual"),
                     go.Scatter(x=path["year"], y=path["synthetic"], name="syntetisk / synthetic",
                                line={"dash": "dash"})])
    fig.add_vline(x=first - 0.5, line_dash="dot", line_color="grey")
    fig.update_layout(yaxis_title=outcome, template="simple_white")
    return fig


__all__ = ["run_synthcontrol", "run_twins"]
