"""Write the survey index: index.csv, comparisons.csv and a bilingual report, all through disclosure control."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from boligmix.evaluate.survey import TOTAL, SurveyIndex
from boligmix.report import DisclosurePolicy, Provenance, Report, Share, Text, protect, write_excel, write_html
from boligmix.report._files import write_text_atomic
from boligmix.report.document import per_language

_STATS = ("mean", "std_error", "ci_low", "ci_high")
_DIFF = ("difference", "std_error", "ci_low", "ci_high", "p_value")


def write_survey_outputs(index_tab: pl.DataFrame, comp: pl.DataFrame, out: str | Path, *, index: SurveyIndex,
                         source: str) -> dict[str, str]:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    policy = DisclosurePolicy.load()
    idx = protect(index_tab, counts=["n_respondents"], shares=[Share(c, "n_respondents") for c in _STATS],
                  policy=policy, name="index")
    cmp_ = protect(comp, counts=["n_compared", "n_against"],
                   shares=[Share(c, ("n_compared", "n_against")) for c in _DIFF], policy=policy, name="comparisons")
    files = {"index": str(write_text_atomic(out / "index.csv", idx.frame.write_csv())),
             "comparisons": str(write_text_atomic(out / "comparisons.csv", cmp_.frame.write_csv()))}
    prov = Provenance(data_vintage="survey", dataset=source, command="boligmix evaluate survey",
                      rule_versions={"survey_index": index.version, "disclosure_policy": policy.version})
    labels = {d: Text(s.label_da, s.label_en) for d, s in index.dimensions.items()} | {
        TOTAL: Text("Samlet tryghed og trivsel", "Overall safety and well-being")}
    report = Report(Text("Tryghed og trivsel", "Safety and well-being"), provenance=prov, intro=Text(
        "Indeks 0-100 pr. dimension (vægtede gennemsnit af spørgsmålene), vægtet med surveyvægte, med 95 %-"
        f"konfidensintervaller. Definition: {index.version}.",
        "Index 0-100 per dimension (weighted means of the items), weighted with the survey weights, with 95 % "
        f"confidence intervals. Definition: {index.version}."))
    sec = report.section(Text("Indeks pr. område og år", "Index per area and year"))
    sec.figure(per_language(_figure, idx.frame, labels), Text("Gennemsnit med 95 %-interval", "Mean with 95 % interval"))
    sec.table(idx, Text("Indeks med konfidensinterval", "Index with confidence interval"), name="index",
              formats={c: ",.1f" for c in _STATS} | {"sum_weights": ",.1f"})
    report.section(Text("Sammenligninger", "Comparisons"), Text(
        "Seneste år mod første år i hvert område, og hvert område mod de øvrige samme år (forskel i indekspoint).",
        "Last year against first year in each area, and each area against the others in the same year "
        "(difference in index points).")).table(
        cmp_, Text("Forskelle med 95 %-interval", "Differences with 95 % interval"), name="comparisons",
        formats={c: ",.1f" for c in _DIFF[:-1]} | {"p_value": ".3f"})
    files["report"] = str(write_html(report, out / "report.html"))
    files["excel"] = str(write_excel(report, out / "report.xlsx"))
    return files


def _figure(frame: pl.DataFrame, labels: dict, lang: str = "da"):
    import plotly.graph_objects as go

    fig = go.Figure()
    for (area, year), g in frame.drop_nulls("mean").group_by(["area_id", "year"], maintain_order=True):
        g = g.sort("dimension")
        fig.add_trace(go.Scatter(
            x=[labels[d].pick(lang) if d in labels else d for d in g["dimension"]], y=g["mean"], mode="markers",
            name=f"{area} {year}", error_y={"type": "data", "symmetric": False,
                                            "array": g["ci_high"] - g["mean"], "arrayminus": g["mean"] - g["ci_low"]}))
    fig.update_layout(yaxis_title="indeks 0-100" if lang == "da" else "index 0-100", template="simple_white",
                      separators=",." if lang == "da" else ".,")
    return fig
