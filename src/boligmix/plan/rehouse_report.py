"""The output directory of `boligmix rehouse`: assignment.csv, unplaced.csv, areas.csv,
summary-internal.json and report.html (Danish first; optimal and stable side by side; every table
through `protect`).

assignment.csv and unplaced.csv are the planner's household-level working lists, and
summary-internal.json the solver's record with exact counts (objective, placements by wish rank):
internal. areas.csv and the report are published: areas.csv and the report's tables pass
`boligmix.report.disclosure.protect`, and the report's opening figures come from its protected
outcome table."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import polars as pl

from boligmix.numbers import Lang, fmt_number, fmt_percent
from boligmix.plan.output import csv_writer, json_writer, write_files
from boligmix.plan.plan_report import input_vintage
from boligmix.plan.rehouse import RehousingResult
from boligmix.report import (
    Additive,
    DisclosurePolicy,
    GroupTotal,
    ProtectedTable,
    Provenance,
    Report,
    Share,
    protect,
    write_html,
)
from boligmix.report.disclosure import SUPPRESSED_COLUMN

REASON_KINDS = {"caps": ("loft over husstande uden for arbejde", "caps on households outside work"),
                "taken": ("alle egnede boliger gik til andre", "every suitable dwelling went to others"),
                "no": ("ingen egnet bolig", "no suitable dwelling")}


SUMMARY_FILE = "summary-internal.json"
INTERNAL_KEY = "INTERNAL_not_for_publication"


def summary(result: RehousingResult, mode: str, prov: Provenance) -> dict[str, Any]:
    """The solver's record with exact counts; internal (its first key says so)."""
    chosen = result.modes[mode].figures()
    return {INTERNAL_KEY: "INTERNT: ubeskyttede antal husstande, ikke til offentliggørelse / INTERNAL: unprotected "
                          "household counts, not for publication", **chosen, "seconds_suitability": round(result.seconds_edges, 3), "suitable_pairs": result.edges.height,
            "switches": result.suitability.switches(),
            "costs": result.suitability.rules.spec.costs.model_dump(),
            "comparison": {m: r.figures() for m, r in result.modes.items()}, "provenance": prov.model_dump()}


def _outcome_table(result: RehousingResult) -> pl.DataFrame:
    labels = [("1", "1. ønske", "1st wish"), ("2", "2. ønske", "2nd wish"), ("3", "3. ønske", "3rd wish"),
              ("4", "4. ønske", "4th wish"), ("5+", "5. ønske og senere", "5th wish or later"),
              ("unwished", "område uden ønske", "area not wished"), ("unplaced", "ikke placeret", "not placed"),
              ("total", "husstande i alt", "households")]
    rows = {key: {"outcome_da": da, "outcome_en": en} for key, da, en in labels}
    for mode, r in result.modes.items():
        a = r.assignment
        rank = a.get_column("wish_rank")
        placed = a.get_column("dwelling_id").is_not_null()
        counts = {"1": int((rank == 1).sum()), "2": int((rank == 2).sum()), "3": int((rank == 3).sum()),
                  "4": int((rank == 4).sum()), "5+": int((rank >= 5).sum()),
                  "unwished": int((placed & rank.is_null()).sum()), "unplaced": int((~placed).sum()),
                  "total": a.height}
        for key in rows:
            rows[key][mode] = counts[key]
    return pl.DataFrame(list(rows.values()))


def _reason_table(result: RehousingResult) -> pl.DataFrame:
    reasons = []
    for m, r in result.modes.items():
        kinds = r.unplaced.get_column("reason").str.split(":").list.first().str.split(" ").list.first().to_list()
        for key in REASON_KINDS:
            reasons.append((m, key, sum(1 for k in kinds if k == key)))
    return pl.DataFrame({
        "reason_da": [REASON_KINDS[k][0] for k in REASON_KINDS],
        "reason_en": [REASON_KINDS[k][1] for k in REASON_KINDS],
        **{m: [c for mm, _, c in reasons if mm == m] for m in result.modes}})


def protected_outcomes(result: RehousingResult, policy: DisclosurePolicy) -> tuple[ProtectedTable, ProtectedTable]:
    """The outcome table (households by wish rank, not placed, in all) and the reasons of the not
    placed, protected in one call: the reasons are parts of the "not placed" row of the outcome table
    (with an unpublished rest for other reasons), so a suppressed reason cannot be recovered as
    "not placed" minus the published reasons, nor a suppressed "not placed" as their sum."""
    modes = list(result.modes)
    outcome, reasons = _outcome_table(result), _reason_table(result)
    stacked = pl.concat([
        outcome.with_columns(pl.when(pl.col("outcome_en") == "not placed").then(pl.lit("_total"))
                             .otherwise(pl.lit("_other")).alias("_reason")),
        reasons.with_columns(pl.lit("_reason").alias("outcome_en"), pl.col("reason_en").alias("_reason"))],
        how="diagonal_relaxed")
    table = protect(stacked, counts=modes, policy=policy, name="outcome",
                    totals=[*(GroupTotal(m, "outcome_en", "households", exclude=["_reason"]) for m in modes),
                            *(GroupTotal(m, "_reason", "_total", remainder=True, exclude=["_other"]) for m in modes)])

    def part(rows: slice, columns: list[str]) -> ProtectedTable:
        frame = table.frame[rows].select(*columns, *modes, SUPPRESSED_COLUMN)
        return ProtectedTable(frame, table.policy, table.counts, table.shares,
                              {c: r[rows] for c, r in table.reasons.items()})

    n = outcome.height
    return part(slice(0, n), ["outcome_da", "outcome_en"]), part(slice(n, None), ["reason_da", "reason_en"])


def _areas_table(result: RehousingResult) -> pl.DataFrame:
    base = None
    for mode, r in result.modes.items():
        cols = ["area_id", "received", "received_outside_work"]
        if "pct_outside_work_after" in r.areas.columns:
            cols.append("pct_outside_work_after")
        part = r.areas.select(cols).rename({c: f"{c}_{mode}" for c in cols if c != "area_id"})
        if base is None:
            keep = [c for c in ("area_id", "area_name", "vacancies", "max_outside_work", "adults_18_64",
                                "pct_outside_work_before") if c in r.areas.columns]
            base = r.areas.select(keep).join(part, on="area_id", how="left")
        else:
            base = base.join(part, on="area_id", how="left")
    assert base is not None
    if "adults_18_64" in base.columns:
        base = base.with_columns(pl.col("adults_18_64").round(0).cast(pl.Int64))
    return base


def _published_outcome(outcome: pl.DataFrame, mode: str) -> dict[str, int | float | None]:
    """households, placed and the first-wish share of `mode` from the protected outcome table:
    None where a count they rest on is suppressed."""
    cell = {r["outcome_en"]: r[mode] for r in outcome.iter_rows(named=True)}
    total, unplaced, first = cell["households"], cell["not placed"], cell["1st wish"]
    placed = None if total is None or unplaced is None else int(total) - int(unplaced)
    return {"households": total, "placed": placed,
            "first_wish_share": None if total is None or first is None or total == 0 else first / total}


def build_report(result: RehousingResult, mode: str, prov: Provenance, policy: DisclosurePolicy) -> Report:
    figures = {m: r.figures() for m, r in result.modes.items()}
    chosen = figures[mode]
    modes = list(result.modes)
    outcome, reason_table = protected_outcomes(result, policy)
    shown = _published_outcome(outcome.frame, mode)

    def pct(x: float | None, lang: Lang) -> str:
        return fmt_percent(x, 1, lang, ratio=True, missing="–")

    def count(x: float | None, lang: Lang) -> str:
        return fmt_number(x, 0, lang, missing="·")
    hidden = ({"da": " (· og –: diskretioneret)", "en": " (· and –: suppressed)"} if None in shown.values()
              else {"da": "", "en": ""})
    gap = chosen.get("gap")
    report = Report({"da": "Genhusning", "en": "Rehousing"}, provenance=prov, intro={
        "da": (f"{count(shown['households'], 'da')} husstande skal genhuses; {count(shown['placed'], 'da')} placeres "
               f"({mode}), {pct(shown['first_wish_share'], 'da')} i deres 1. ønske{hidden['da']}. "
               f"Status {chosen['status']}"
               + (f", afstand til nedre grænse {pct(gap, 'da')}." if gap is not None else ".")),
        "en": (f"{count(shown['households'], 'en')} households to rehouse; {count(shown['placed'], 'en')} placed "
               f"({mode}), {pct(shown['first_wish_share'], 'en')} in their first wish{hidden['en']}. "
               f"Status {chosen['status']}"
               + (f", gap to the lower bound {pct(gap, 'en')}." if gap is not None else "."))})
    sec = report.section({"da": "Optimal med lofter og stabil uden lofter", "en": "Optimal with caps and stable without"},
                         {"da": "Optimal: mindste samlede omkostning med lofter over husstande uden for arbejde pr. "
                                "modtageområde. Stabil: udskudt accept på ønskerne (tidligste fraflytning først) uden "
                                "lofter. Forskellen viser, hvad lofterne koster i ønsker, og hvad de forhindrer af "
                                "koncentration.",
                          "en": "Optimal: least total cost with caps on households outside work per receiving area. "
                                "Stable: deferred acceptance on the wishes (earliest move first) without caps. The "
                                "difference shows what the caps cost in wishes and what concentration they prevent."})
    sec.table(outcome,
              {"da": "Husstande efter udfald", "en": "Households by outcome"}, name="outcome",
              labels={"outcome_da": {"da": "Udfald", "en": "Outcome"}, "optimal": "Optimal", "stable": {"da": "Stabil", "en": "Stable"}},
              bilingual={"outcome_da": "outcome_en"})
    areas = _areas_table(result)
    counts = [c for c in areas.columns if c.startswith("received")]
    shares = []
    if "adults_18_64" in areas.columns:
        counts.append("adults_18_64")
        # the share after rests on the households received: with received, residents and the share
        # before it would give a suppressed "received outside work" back
        shares = [Share(c, "adults_18_64") if c == "pct_outside_work_before"
                  else Share(c, c.replace("pct_outside_work_after", "received"),
                             c.replace("pct_outside_work_after", "received_outside_work"))
                  for c in areas.columns if c.startswith("pct_outside_work")]
    totals = [Additive([f"received_outside_work_{m}"], f"received_{m}", remainder=True) for m in modes]
    protected = protect(areas, counts=counts, shares=shares, totals=totals, policy=policy, name="areas")
    sec2 = report.section({"da": "Modtageområder", "en": "Receiving areas"},
                          {"da": "Husstande modtaget i alt og uden for arbejde, loftet, og andelen af 18-64-årige uden for "
                                 "arbejde og uddannelse før og efter (antager "
                                 f"{result.suitability.rules.spec.caps.adults_per_household.default:g} voksen pr. husstand).",
                           "en": "Households received in all and outside work, the cap, and the share of residents 18-64 "
                                 "outside work and education before and after (assuming "
                                 f"{result.suitability.rules.spec.caps.adults_per_household.default:g} adult per household)."})
    labels = {"area_id": {"da": "Område", "en": "Area"}, "area_name": {"da": "Navn", "en": "Name"},
              "vacancies": {"da": "Ledige boliger", "en": "Vacancies"}, "max_outside_work": {"da": "Loft", "en": "Cap"},
              "adults_18_64": {"da": "18-64-årige", "en": "Residents 18-64"},
              "pct_outside_work_before": {"da": "% uden for arbejde før", "en": "% outside work before"}}
    for m, (da, en) in {"optimal": ("optimal", "optimal"), "stable": ("stabil", "stable")}.items():
        labels[f"received_{m}"] = {"da": f"Modtaget ({da})", "en": f"Received ({en})"}
        labels[f"received_outside_work_{m}"] = {"da": f"Uden for arbejde ({da})", "en": f"Outside work ({en})"}
        labels[f"pct_outside_work_after_{m}"] = {"da": f"% efter ({da})", "en": f"% after ({en})"}
    sec2.table(protected, {"da": "Modtageområder før og efter", "en": "Receiving areas before and after"}, name="areas",
               labels=labels, formats={c: ".1f" for c in areas.columns if c.startswith("pct")})
    _figure(sec2, protected.frame, modes)
    sec3 = report.section({"da": "Ikke placerede", "en": "Not placed"},
                          {"da": "Hvorfor husstande ikke fik en bolig (unplaced.csv har grunden for hver husstand).",
                           "en": "Why households got no dwelling (unplaced.csv has each household's reason)."})
    sec3.table(reason_table,
               {"da": "Grunde", "en": "Reasons"}, name="unplaced", bilingual={"reason_da": "reason_en"},
               labels={"reason_da": {"da": "Grund", "en": "Reason"}, "optimal": "Optimal", "stable": {"da": "Stabil", "en": "Stable"}})
    return report


def _figure(section, frame: pl.DataFrame, modes: list[str]) -> None:
    """Households outside work received per area by mode, against the cap (suppressed cells are not drawn)."""
    import plotly.graph_objects as go

    if frame.height == 0:
        return
    top = frame.sort("max_outside_work", nulls_last=True).head(40)
    figs = {}
    for lang in ("da", "en"):
        fig = go.Figure()
        names = {"optimal": "optimal", "stable": "stabil" if lang == "da" else "stable"}
        for m in modes:
            fig.add_trace(go.Bar(x=top.get_column("area_id").to_list(),
                                 y=top.get_column(f"received_outside_work_{m}").to_list(), name=names[m]))
        fig.add_trace(go.Scatter(x=top.get_column("area_id").to_list(), y=top.get_column("max_outside_work").to_list(),
                                 mode="markers", name="loft" if lang == "da" else "cap", marker={"symbol": "line-ew-open",
                                                                                                  "size": 18}))
        fig.update_layout(barmode="group", separators=",." if lang == "da" else ".,",
                          yaxis_title="Husstande uden for arbejde" if lang == "da" else "Households outside work")
        figs[lang] = fig
    section.figure(figs, {"da": "Husstande uden for arbejde pr. modtageområde (de 40 med lavest loft)",
                          "en": "Households outside work per receiving area (the 40 with the lowest cap)"})


def published_areas(areas: pl.DataFrame, policy: DisclosurePolicy) -> pl.DataFrame:
    """areas.csv as published: the households received (in all, outside work) and the residents
    18-64 through `protect` (a count below the limit, and the rest of "received" when it would give
    a suppressed "outside work" back, are blank; `suppressed` says why); the share after, and
    whether the area is over its cap, are blank when the counts they rest on are (with the cap
    they would bound a suppressed count)."""
    counts = ["received", "received_outside_work", *[c for c in ("adults_18_64",) if c in areas.columns]]
    shares = [Share("pct_outside_work_after", "received", "received_outside_work")] \
        if "pct_outside_work_after" in areas.columns else []
    if "adults_18_64" in areas.columns:
        areas = areas.with_columns(pl.col("adults_18_64").round(0).cast(pl.Int64))
    protected = protect(areas, counts=counts, shares=shares, policy=policy, name="areas.csv",
                        totals=[Additive(["received_outside_work"], "received", remainder=True)]).frame
    return protected.with_columns(pl.when(pl.col("received_outside_work").is_null()).then(None)
                                  .otherwise(pl.col("over_cap")).alias("over_cap"))


def write_rehousing(out: str | os.PathLike[str], result: RehousingResult, mode: str,
                    inputs: Mapping[str, str | os.PathLike[str]], time_limit: float) -> dict[str, str]:
    """Write every output file together (or none)."""
    policy = DisclosurePolicy.load()
    rules = result.suitability.rules
    prov = Provenance(data_vintage=input_vintage(inputs), command="boligmix rehouse",
                      rule_versions={"rehousing_rules": rules.version, "disclosure_policy": policy.version},
                      settings={"mode": mode, "time_limit": time_limit,
                                **{f"switch.{k}": v for k, v in result.suitability.switches().items()}},
                      dataset=", ".join(str(p) for p in inputs.values()))
    chosen = result.modes[mode]
    report = build_report(result, mode, prov, policy)
    return write_files(out, {"assignment.csv": csv_writer(chosen.assignment), "unplaced.csv": csv_writer(chosen.unplaced),
                             "areas.csv": csv_writer(published_areas(chosen.areas, policy)),
                             SUMMARY_FILE: json_writer(summary(result, mode, prov)),
                             "report.html": lambda p: write_html(report, p)})


__all__ = ["SUMMARY_FILE", "build_report", "published_areas", "summary", "write_rehousing"]
