"""Write a `DidResult`: estimates.csv, pretrend.csv, event_study.html and a bilingual report (Danish first).

Every file is written atomically; the estimates and the pre-trend test pass `report.disclosure`:
they are statistics over the treated units' persons, `n_residents_treated` (the sum over the treated
units of each one's smallest population in the panel's years, `treated_population`), and are
suppressed with it (one treated department of 3 residents gives its own change back). `n_obs`
counts unit-years, not persons.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl

from boligmix.evaluate.comparison_publish import count_series
from boligmix.evaluate.did import DidResult
from boligmix.numbers import fmt_number
from boligmix.report import DisclosurePolicy, ProtectedTable, Provenance, Report, Share, Text, protect, write_html
from boligmix.report._files import write_text_atomic
from boligmix.report.document import per_language

ESTIMATE_COLUMNS = ("term", "estimate", "std_error", "ci_low", "ci_high", "n_obs")
ESTIMATOR_TEXT = {
    "twfe": Text("tovejs faste effekter (TWFE)", "two-way fixed effects (TWFE)"),
    "event": Text("event study (TWFE med relative år)", "event study (TWFE with relative years)"),
    "sunab": Text("Sun og Abraham (interaktionsvægtet)", "Sun and Abraham (interaction-weighted)"),
    "did2s": Text("Gardners to-trins-estimator (did2s)", "Gardner's two-stage estimator (did2s)"),
}
TREATED = "n_residents_treated"
"""The persons the estimates are statistics of (see the module docstring)."""
_PRETREND = ("terms", "statistic", "df1", "df2", "p_value")


def estimates_frame(result: DidResult) -> pl.DataFrame:
    return pl.from_pandas(result.estimates[list(ESTIMATE_COLUMNS)].reset_index(drop=True))


def protected_tables(result: DidResult, treated_persons: float,
                     policy: DisclosurePolicy) -> tuple[ProtectedTable, ProtectedTable]:
    """The estimates and the pre-trend test through `protect`, over `treated_persons`."""
    est = estimates_frame(result)
    est = est.with_columns(count_series(TREATED, [treated_persons] * est.height))
    pre = pl.DataFrame([{k: result.pretrend[k] for k in _PRETREND}]).with_columns(
        count_series(TREATED, [treated_persons]))
    return (protect(est, counts=[TREATED], shares=[Share(c, TREATED) for c in ESTIMATE_COLUMNS[1:5]], policy=policy,
                    name="estimates"),
            protect(pre, counts=[TREATED], shares=[Share(c, TREATED) for c in ("statistic", "p_value")],
                    policy=policy, name="pretrend"))


def write_did_outputs(result: DidResult, out: str | Path, *, provenance: Provenance, estimator: str,
                      outcome: str, treated_persons: float) -> dict[str, str]:
    """Write the outputs into `out` (created if needed); returns name -> path."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, str] = {}
    est, pre = protected_tables(result, treated_persons, DisclosurePolicy.load())
    files["estimates"] = str(write_text_atomic(out / "estimates.csv", est.frame.write_csv(float_precision=12)))
    files["pretrend"] = str(write_text_atomic(out / "pretrend.csv", pre.frame.write_csv(float_precision=12)))
    meta = {"n_obs": result.n_obs, "n_units": result.n_units, "n_clusters": result.n_clusters,
            "n_treated_units": result.n_treated_units, "notes": result.notes,
            "provenance": provenance.model_dump()}
    files["provenance"] = str(write_text_atomic(out / "provenance.json", json.dumps(meta, indent=2, default=str)))
    events = _published_events(result, est)
    if not events.empty:
        fig = event_study_figure(events, outcome, lang="da")
        files["plot"] = str(write_text_atomic(out / "event_study.html",
                                              fig.to_html(include_plotlyjs=True, full_html=True)))
    report = build_did_report(result, provenance, estimator, outcome, est, pre)
    files["report"] = str(write_html(report, out / "report.html"))
    return files


def event_study_figure(events: pd.DataFrame, outcome: str, *, lang: str = "da"):
    """Estimates per relative year with 95 % intervals; the reference year -1 is drawn at zero."""
    import plotly.graph_objects as go

    ev = pd.concat([events, pd.DataFrame({"rel_time": [-1], "estimate": [0.0], "ci_low": [0.0], "ci_high": [0.0]})])
    ev = ev.sort_values("rel_time")
    fig = go.Figure(go.Scatter(
        x=ev["rel_time"], y=ev["estimate"], mode="markers+lines",
        error_y={"type": "data", "symmetric": False, "array": ev["ci_high"] - ev["estimate"],
                 "arrayminus": ev["estimate"] - ev["ci_low"]},
        name="estimat" if lang == "da" else "estimate"))
    fig.add_hline(y=0, line_dash="dash", line_color="grey")
    fig.add_vline(x=-0.5, line_dash="dot", line_color="grey")
    fig.update_layout(
        title=(f"Effekt på {outcome} pr. år før/efter start (95 %-interval)" if lang == "da"
               else f"Effect on {outcome} per year before/after start (95 % interval)"),
        xaxis_title="år i forhold til første behandlede år" if lang == "da" else "years relative to first treated year",
        yaxis_title=outcome, template="simple_white",
        separators=",." if lang == "da" else ".,")
    return fig


def _published_events(result: DidResult, est: ProtectedTable) -> pd.DataFrame:
    """The event-study terms, none when the estimates are suppressed."""
    if est.frame["estimate"].null_count():
        return result.estimates.iloc[0:0]
    return result.estimates[result.estimates["term"] != "ATT"]


def build_did_report(result: DidResult, prov: Provenance, estimator: str, outcome: str, table: ProtectedTable,
                     pretrend: ProtectedTable) -> Report:
    """The bilingual report from the protected estimates and pre-trend tables (`protected_tables`)."""
    est = ESTIMATOR_TEXT[estimator]
    report = Report(
        Text(f"Effektestimat: {outcome}", f"Effect estimate: {outcome}"), provenance=prov,
        intro=Text(
            f"Estimator: {est.da}. {result.n_units} enheder ({result.n_treated_units} behandlede), "
            f"{result.n_obs} enhed-år, standardfejl klynget på {result.n_clusters} klynger (CRV1). "
            "Et estimat er ikke i sig selv bevis for en årsagssammenhæng: tjek før-perioden (parallelle trends).",
            f"Estimator: {est.en}. {result.n_units} units ({result.n_treated_units} treated), "
            f"{result.n_obs} unit-years, standard errors clustered on {result.n_clusters} clusters (CRV1). "
            "An estimate is not by itself proof of causation: check the pre-period (parallel trends)."))
    sec = report.section(Text("Estimater", "Estimates"), Text(
        "ATT er den gennemsnitlige effekt over behandlede enhed-år efter start; rel_k er effekten k år efter "
        "start (år -1 er reference).",
        "ATT is the average effect over treated unit-years after the start; rel_k is the effect k years after the "
        "start (year -1 is the reference)."))
    events = _published_events(result, table)
    if not events.empty:
        sec.figure(per_language(event_study_figure, events, outcome),
                   Text("Event study med 95 %-konfidensintervaller", "Event study with 95 % confidence intervals"))
    sec.table(table, Text("Estimater med 95 %-konfidensinterval", "Estimates with 95 % confidence interval"),
              name="estimates", labels={"term": Text("led", "term"), "estimate": Text("estimat", "estimate"),
                                        "std_error": Text("standardfejl", "std. error"),
                                        "ci_low": Text("nedre", "lower"), "ci_high": Text("øvre", "upper"),
                                        "n_obs": Text("enhed-år", "unit-years"),
                                        TREATED: Text("beboere i de behandlede", "residents of the treated")},
              formats={c: ",.3f" for c in ("estimate", "std_error", "ci_low", "ci_high")})
    p = result.pretrend
    verdict = (_pretrend_text(p) if pretrend.frame["p_value"].null_count() == 0 else Text(
        "Testen er diskretioneret: de behandlede enheder har for få beboere.",
        "The test is suppressed: the treated units have too few residents."))
    sec = report.section(Text("Test for trends før start", "Pre-trend test"), verdict)
    sec.table(pretrend, Text("F-test af at alle førperiode-led er nul",
                                                "F test that all pre-period terms are zero"), name="pretrend")
    if result.notes:
        report.section(Text("Bemærkninger", "Notes"), Text(" ".join(result.notes), " ".join(result.notes)))
    return report


def _pretrend_text(p: dict) -> Text:
    if p["df1"] == 0 or not np.isfinite(p["p_value"]):
        return Text("Ingen førperiode-led ud over referenceåret: trends før start kan ikke testes.",
                    "No pre-period term besides the reference year: pre-trends cannot be tested.")
    pv, pv_da = fmt_number(p["p_value"], 3, "en"), fmt_number(p["p_value"], 3, "da")
    if p["p_value"] < 0.05:
        return Text(f"Førperiode-ledene er samlet signifikant forskellige fra nul (p = {pv_da}): "
                    "antagelsen om parallelle trends er tvivlsom.",
                    f"The pre-period terms are jointly significantly different from zero (p = {pv}): "
                    "the parallel-trends assumption is doubtful.")
    return Text(f"Førperiode-ledene er ikke samlet signifikante (p = {pv_da}); det beviser ikke "
                "parallelle trends, men taler ikke imod.",
                f"The pre-period terms are not jointly significant (p = {pv}); this does not prove parallel trends, "
                "but does not speak against them.")
