"""The output directory of `boligmix plan optimise`: plan.csv, timeline.csv, summary.json, report.html.

The HTML report (Danish first, English toggle) goes through `boligmix.report`: the options table
holds displaced-household counts and passes `protect`; the timeline holds dwelling counts only.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import polars as pl

from boligmix.lists.csvio import file_sha256
from boligmix.plan.actions import Action, AreaState
from boligmix.plan.optimise import PlanResult
from boligmix.plan.output import csv_writer, json_writer, write_files
from boligmix.plan.share import ShareFormula
from boligmix.report import DisclosurePolicy, Provenance, Report, exempt, protect, write_html

KIND_DA = {"demolish": "nedrivning", "sell": "salg", "convert": "ommærkning", "build": "nybyggeri"}


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


def summary(state: AreaState, formula: ShareFormula, result: PlanResult, prov: Provenance,
            names: AreaNames = (None, None)) -> dict[str, Any]:
    return {"area_id": state.area_id, "area_name": names[0], "municipality": names[1], "minimise": result.minimise, "objective": result.objective,
            "bound": result.bound, "gap": result.gap, "status": result.status,
            "proven_optimal": result.proven_optimal, "seconds": round(result.seconds, 3),
            "cost_dkk": result.cost_dkk, "households": result.households, "chosen": result.chosen_ids(),
            "target": result.target, "target_year": result.target_year,
            "share_at_target_year": result.timeline[-1]["share"] if result.timeline else None,
            "switches": dict(formula.switches), "provenance": prov.model_dump()}


def build_report(state: AreaState, actions: Sequence[Action], formula: ShareFormula, result: PlanResult,
                 timeline: pl.DataFrame, prov: Provenance, policy: DisclosurePolicy,
                 names: AreaNames = (None, None)) -> Report:
    import plotly.graph_objects as go

    final = result.timeline[-1]["share"] if result.timeline else None
    da_share = "–" if final is None else f"{final * 100:.1f}".replace(".", ",") + " %"
    en_share = "–" if final is None else f"{final * 100:.1f} %"
    cost_da = f"{result.cost_dkk:,.0f}".replace(",", ".")
    report = Report(
        {"da": f"Udviklingsplan for {area_title(state.area_id, names, 'da')}",
         "en": f"Development plan for {area_title(state.area_id, names, 'en')}"},
        provenance=prov,
        intro={"da": (f"Planen vælger {len(result.chosen_ids())} af {len(actions)} mulige tiltag, så andelen af almene "
                      f"familieboliger 1. januar {result.target_year} er {da_share} (mål: højst "
                      f"{formula.target * 100:.0f} %). Samlet pris {cost_da} kr.; {result.households} husstande skal "
                      f"genhuses. Løsningen er {'bevist optimal' if result.proven_optimal else 'ikke bevist optimal'}."),
               "en": (f"The plan chooses {len(result.chosen_ids())} of {len(actions)} options, bringing the share of "
                      f"almene family dwellings on 1 January {result.target_year} to {en_share} (target: at most "
                      f"{formula.target * 100:.0f} %). Total cost {result.cost_dkk:,.0f} DKK; {result.households} "
                      f"households to rehouse. The solution is {'proven optimal' if result.proven_optimal else 'not proven optimal'}.")})
    options = pl.DataFrame({
        "option_id": [a.option_id for a in actions],
        "kind_da": [KIND_DA[a.kind] for a in actions], "kind_en": [a.kind for a in actions],
        "year": [a.year for a in actions], "family_dwellings": [a.family_dwellings for a in actions],
        "new_dwellings": [a.new_dwellings for a in actions], "commercial_m2": [float(a.commercial_m2) for a in actions],
        "cost_dkk": [float(a.cost_dkk) for a in actions], "households": [a.households for a in actions],
        "chosen": [bool(result.chosen[a.option_id]) for a in actions]})
    sec = report.section({"da": "Tiltag", "en": "Options"},
                         {"da": "Alle tiltag; de valgte er markeret. Husstande under 5 vises ikke (diskretionering).",
                          "en": "All options; the chosen ones are marked. Household counts below 5 are suppressed."})
    sec.table(protect(options, counts=["households"], policy=policy, name="options"),
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
    report = build_report(state, actions, formula, result, timeline, prov, policy, names)
    return write_files(out, {"plan.csv": csv_writer(plan), "timeline.csv": csv_writer(timeline),
                             "summary.json": json_writer(summary(state, formula, result, prov, names)),
                             "report.html": lambda p: write_html(report, p)})


__all__ = ["AreaNames", "area_title", "build_report", "plan_frames", "summary", "write_plan"]
