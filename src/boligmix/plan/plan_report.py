"""The output directory of `boligmix plan optimise`: plan.csv, timeline.csv, summary.json, report.html.

The HTML report (Danish first, English toggle) goes through `boligmix.report`: the options table
holds displaced-household counts and passes `protect` with a total row for the chosen options
(`protected_options`); the timeline holds dwelling counts only. summary.json is published: its
displaced-household total (and the objective, when that is the total) is the protected total row's.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import polars as pl

from boligmix.lists.csvio import file_sha256
from boligmix.numbers import fmt_number, fmt_percent
from boligmix.plan.actions import Action, AreaState
from boligmix.plan.optimise import PlanResult
from boligmix.plan.output import csv_writer, json_writer, write_files
from boligmix.plan.share import ShareFormula
from boligmix.report import (
    DisclosurePolicy,
    GroupTotal,
    ProtectedTable,
    Provenance,
    Report,
    exempt,
    protect,
    write_html,
)
from boligmix.report.disclosure import SUPPRESSED_COLUMN

KIND_DA = {"demolish": "nedrivning", "sell": "salg", "convert": "ommærkning", "build": "nybyggeri"}
TOTAL_ID = ""
"""option_id of the options table's total row (option ids are never empty)."""


def input_vintage(inputs: Mapping[str, str | os.PathLike[str]]) -> str:
    return "; ".join(f"{Path(p).name} sha256:{file_sha256(p)[:16]}" for p in inputs.values())


AreaNames = tuple[str | None, str | None]
"""(area name, municipality) of the planned area; None where unknown."""


def area_title(area_id: str, names: AreaNames, lang: str) -> str:
    """'Name (id), Municipality' — the id alone with a note when the names are unknown."""
    name, municipality = names
    if name is None and municipality is None:
        return f"{area_id} ({'navn ukendt' if lang == 'da' else 'name unknown'})"
    return f"{name or area_id} ({area_id})" + (f", {municipality}" if municipality else "")


def plan_frames(actions: Sequence[Action], result: PlanResult, state: AreaState | None = None,
                names: AreaNames = (None, None)) -> tuple[pl.DataFrame, pl.DataFrame]:
    plan = pl.DataFrame({"option_id": [a.option_id for a in actions],
                         "chosen": [int(result.chosen[a.option_id]) for a in actions]})
    timeline = pl.DataFrame(result.timeline, schema={"year": pl.Int64, "family_dwellings": pl.Int64,
                                                     "denominator": pl.Float64, "share": pl.Float64})
    if state is not None:
        timeline = timeline.select(pl.lit(state.area_id).alias("area_id"),
                                   pl.lit(names[0], dtype=pl.String).alias("area_name"),
                                   pl.lit(names[1], dtype=pl.String).alias("municipality"), pl.all())
    return plan, timeline


def protected_options(actions: Sequence[Action], result: PlanResult, policy: DisclosurePolicy) -> ProtectedTable:
    """Every option with its displaced households, and a last row (option_id `TOTAL_ID`) with the
    households of the chosen ones, through `protect`: the total is a declared sum of the chosen
    options' counts, so it never gives a suppressed one back."""
    options = pl.DataFrame({
        "option_id": [a.option_id for a in actions] + [TOTAL_ID],
        "kind_da": [KIND_DA[a.kind] for a in actions] + ["i alt, valgte tiltag"],
        "kind_en": [a.kind for a in actions] + ["total, chosen options"],
        "year": [a.year for a in actions] + [None], "family_dwellings": [a.family_dwellings for a in actions] + [None],
        "new_dwellings": [a.new_dwellings for a in actions] + [None],
        "commercial_m2": [float(a.commercial_m2) for a in actions] + [None],
        "cost_dkk": [float(a.cost_dkk) for a in actions] + [result.cost_dkk],
        "households": [a.households for a in actions] + [result.households],
        "chosen": [bool(result.chosen[a.option_id]) for a in actions] + [None]})
    unchosen = [a.option_id for a in actions if not result.chosen[a.option_id]]
    return protect(options, counts=["households"], policy=policy, name="options",
                   totals=[GroupTotal("households", "option_id", TOTAL_ID, exclude=unchosen)])


def published_households(options: ProtectedTable) -> tuple[int | None, str | None]:
    """The chosen options' displaced households as published (None when suppressed) and why."""
    total = options.frame.filter(pl.col("option_id") == TOTAL_ID).row(0, named=True)
    return total["households"], total[SUPPRESSED_COLUMN]


def summary(state: AreaState, formula: ShareFormula, result: PlanResult, prov: Provenance,
            options: ProtectedTable, names: AreaNames = (None, None)) -> dict[str, Any]:
    """The run's figures as published: the displaced households from `protected_options` (the
    objective too when it is that count)."""
    households, suppressed = published_households(options)
    objective = result.objective if result.minimise != "households" or households is not None else None
    return {"area_id": state.area_id, "area_name": names[0], "municipality": names[1], "minimise": result.minimise, "objective": objective,
            "bound": result.bound if objective is not None else None, "gap": result.gap, "status": result.status,
            "proven_optimal": result.proven_optimal, "seconds": round(result.seconds, 3),
            "cost_dkk": result.cost_dkk, "households": households, "suppressed": suppressed,
            "chosen": result.chosen_ids(),
            "target": result.target, "target_year": result.target_year,
            "share_at_target_year": result.timeline[-1]["share"] if result.timeline else None,
            "switches": dict(formula.switches), "provenance": prov.model_dump()}


def build_report(state: AreaState, actions: Sequence[Action], formula: ShareFormula, result: PlanResult,
                 timeline: pl.DataFrame, prov: Provenance, policy: DisclosurePolicy,
                 names: AreaNames = (None, None), options: ProtectedTable | None = None) -> Report:
    import plotly.graph_objects as go

    options = options if options is not None else protected_options(actions, result, policy)
    households, _ = published_households(options)
    displaced_da = (f"{fmt_number(households, 0, 'da')} husstande skal genhuses" if households is not None
                    else "antallet af husstande, der skal genhuses, vises ikke (diskretionering)")
    displaced_en = (f"{households:,} households to rehouse" if households is not None
                    else "the number of households to rehouse is suppressed (disclosure control)")

    final = result.timeline[-1]["share"] if result.timeline else None
    da_share = fmt_percent(final, 1, "da", ratio=True, missing="–")
    en_share = fmt_percent(final, 1, "en", ratio=True, missing="–")
    cost_da = fmt_number(result.cost_dkk, 0, "da")
    report = Report(
        {"da": f"Udviklingsplan for {area_title(state.area_id, names, 'da')}",
         "en": f"Development plan for {area_title(state.area_id, names, 'en')}"},
        provenance=prov,
        intro={"da": (f"Planen vælger {len(result.chosen_ids())} af {len(actions)} mulige tiltag, så andelen af almene "
                      f"familieboliger 1. januar {result.target_year} er {da_share} (mål: højst "
                      f"{formula.target * 100:.0f} %). Samlet pris {cost_da} kr.; {displaced_da}. Løsningen er {'bevist optimal' if result.proven_optimal else 'ikke bevist optimal'}."),
               "en": (f"The plan chooses {len(result.chosen_ids())} of {len(actions)} options, bringing the share of "
                      f"almene family dwellings on 1 January {result.target_year} to {en_share} (target: at most "
                      f"{formula.target * 100:.0f} %). Total cost {result.cost_dkk:,.0f} DKK; {displaced_en}. "
                      f"The solution is {'proven optimal' if result.proven_optimal else 'not proven optimal'}.")})
    sec = report.section({"da": "Tiltag", "en": "Options"},
                         {"da": "Alle tiltag; de valgte er markeret. Husstande under 5 vises ikke (diskretionering).",
                          "en": "All options; the chosen ones are marked. Household counts below 5 are suppressed."})
    sec.table(options,
              {"da": "Tiltag og valg", "en": "Options and choice"}, name="options",
              labels={"option_id": "Id", "kind_da": {"da": "Type", "en": "Kind"}, "year": {"da": "Færdig år", "en": "Complete"},
                      "family_dwellings": {"da": "Familieboliger", "en": "Family dwellings"},
                      "new_dwellings": {"da": "Nye boliger", "en": "New dwellings"},
                      "commercial_m2": {"da": "Erhverv m²", "en": "Commercial m²"},
                      "cost_dkk": {"da": "Pris (kr.)", "en": "Cost (DKK)"},
                      "households": {"da": "Husstande", "en": "Households"}, "chosen": {"da": "Valgt", "en": "Chosen"}},
              formats={"cost_dkk": ",.0f", "commercial_m2": ",.0f"}, bilingual={"kind_da": "kind_en"})
    sec2 = report.section({"da": "Forløb", "en": "Timeline"})
    sec2.table(exempt(timeline.select("year", "family_dwellings", "denominator", "share"), reason="dwelling counts of one area, no person data", policy=policy),
               {"da": "Andel 1. januar hvert år", "en": "Share on 1 January of each year"}, name="timeline",
               labels={"year": {"da": "År", "en": "Year"}, "family_dwellings": {"da": "Familieboliger", "en": "Family dwellings"},
                       "denominator": {"da": "Nævner", "en": "Denominator"}, "share": {"da": "Andel", "en": "Share"}},
               formats={"share": ".1%", "denominator": ",.1f"})
    figs = {}
    for lang in ("da", "en"):
        fig = go.Figure()
        fig.add_trace(go.Scatter(x=timeline.get_column("year").to_list(), y=timeline.get_column("share").to_list(),
                                 mode="lines+markers", name="andel" if lang == "da" else "share"))
        fig.add_hline(y=formula.target, line_dash="dash",
                      annotation_text=("mål" if lang == "da" else "target"))
        fig.update_layout(yaxis_tickformat=".0%", xaxis_title="1. januar" if lang == "da" else "1 January",
                          yaxis_title="Andel almene familieboliger" if lang == "da" else "Share of almene family dwellings",
                          separators=",." if lang == "da" else ".,")
        figs[lang] = fig
    sec2.figure(figs, {"da": "Andelen af almene familieboliger", "en": "The share of almene family dwellings"})
    return report


def write_plan(out: str | os.PathLike[str], state: AreaState, actions: Sequence[Action], formula: ShareFormula,
               result: PlanResult, *, inputs: Mapping[str, str | os.PathLike[str]],
               names: AreaNames = (None, None)) -> dict[str, str]:
    """Write plan.csv, timeline.csv, summary.json and report.html together (or nothing); the area's
    name and municipality (`names`) stand beside its id in the timeline, the summary and the report."""
    policy = DisclosurePolicy.load()
    prov = Provenance(data_vintage=input_vintage(inputs), command="boligmix plan optimise",
                      rule_versions={"share_rules": formula.rules.version, "disclosure_policy": policy.version},
                      settings={"target": formula.target, "target_year": result.target_year,
                                "minimise": result.minimise, **{f"switch.{k}": v for k, v in formula.switches.items()}},
                      dataset=", ".join(str(p) for p in inputs.values()))
    plan, timeline = plan_frames(actions, result, state, names)
    options = protected_options(actions, result, policy)
    report = build_report(state, actions, formula, result, timeline, prov, policy, names, options)
    return write_files(out, {"plan.csv": csv_writer(plan), "timeline.csv": csv_writer(timeline),
                             "summary.json": json_writer(summary(state, formula, result, prov, options, names)),
                             "report.html": lambda p: write_html(report, p)})


__all__ = ["AreaNames", "area_title", "build_report", "plan_frames", "protected_options", "published_households",
           "summary", "write_plan"]
