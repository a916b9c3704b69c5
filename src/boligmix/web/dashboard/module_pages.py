"""What the area page and the results page show of the other modules (from `module_views`)."""

from __future__ import annotations

from typing import Any

from boligmix.web.dashboard.figures import _DASHES, _LINE_COLOURS, _SYMBOLS, _layout
from boligmix.web.dashboard.i18n import INDICATOR_TEXT, pick, word
from boligmix.web.dashboard.module_views import LISTS, ModuleViews

SIM_SHOWN = ("pct_outside_work_edu", "pct_non_western", "income_pct_of_region")
"""Indicators shown in the area page's simulation table (all are in the downloads of `simulate`)."""
FIG_INDICATOR = "pct_outside_work_edu"


def area_modules(views: ModuleViews | None, area_id: str, lang: str) -> dict[str, Any]:
    """Per module the area's content (None: the module has nothing for the area)."""
    if views is None:
        return {"monitor": None, "simulate": None, "plan": None}
    monitor = None
    if area_id in views.forecast or area_id in views.warnings:
        year, probs = views.forecast.get(area_id, (None, {}))
        monitor = {"year": year, "forecast": [(k, probs[k]) for k in LISTS if k in probs],
                   "warnings": views.warnings.get(area_id, []), "checked": views.warnings_checked}
    runs = [(r, r.areas[area_id]) for r in views.simulations if area_id in r.areas]
    simulate = None
    if runs:
        simulate = {"runs": runs, "indicators": SIM_SHOWN, "lists": LISTS,
                    "replications": max(int(r.replications or 0) for r, _ in runs),
                    "figure": simulation_figure(runs, lang)}
    plan = None
    if area_id in views.plan_share or area_id in views.plans or area_id in views.rehousing:
        plan = {"share": views.plan_share.get(area_id), "plans": views.plans.get(area_id, []),
                "rehousing": views.rehousing.get(area_id, [])}
    return {"monitor": monitor, "simulate": simulate, "plan": plan}


def simulation_figure(runs: list, lang: str) -> dict[str, Any] | None:
    """The indicator's mean per scenario and list year with the 5-95 % interval as error bars
    (suppressed values are gaps)."""
    traces = []
    years: list[int] = []
    for k, (run, rows) in enumerate(runs):
        xs = [r.get("year") for r in rows]
        ys = [r.get(f"{FIG_INDICATOR}_mean") for r in rows]
        hi = [None if r.get(f"{FIG_INDICATOR}_p95") is None or y is None else r.get(f"{FIG_INDICATOR}_p95") - y
              for r, y in zip(rows, ys)]
        lo = [None if r.get(f"{FIG_INDICATOR}_p05") is None or y is None else y - r.get(f"{FIG_INDICATOR}_p05")
              for r, y in zip(rows, ys)]
        years += xs
        traces.append({"type": "scatter", "mode": "lines+markers", "x": xs, "y": ys, "name": run.title,
                       "error_y": {"type": "data", "array": hi, "arrayminus": lo, "visible": True},
                       "line": {"dash": _DASHES[k % 4], "color": _LINE_COLOURS[k % 4]},
                       "marker": {"symbol": _SYMBOLS[k % 4], "size": 8}})
    if not any(y is not None for t in traces for y in t["y"]):
        return None
    layout = _layout(lang, title=word("mod_sim_fig", lang), y_title=pick(INDICATOR_TEXT[FIG_INDICATOR], lang),
                     percent=True, years=years, x_title=word("year", lang), height=340)
    return {"data": traces, "layout": layout, "label": word("mod_sim_fig", lang)}


__all__ = ["area_modules", "simulation_figure"]
