"""Plotly figures of the dashboard as plain JSON specs (`{"data", "layout"}`), drawn in the browser by
the bundled plotly.js (`/static/plotly.min.js`, from the installed plotly package: no CDN).

Built as dictionaries rather than `plotly.graph_objects` so an area page renders in milliseconds.
Only published (protected) values are plotted; a suppressed value is a gap in the line. Lines
differ by dash and marker symbol as well as colour, and every legend entry is a text label.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from boligmix.web.dashboard.data import STATUS_ORDER, DashboardData, Row
from boligmix.web.dashboard.i18n import (FACTOR_TEXT, GROUP_TEXT, INDICATOR_TEXT, STATUS_LINE, STATUS_TEXT, UNIT_TEXT,
                                         pick, word)

Figure = dict[str, Any]

_DASHES = ("solid", "dash", "dot", "dashdot")
_SYMBOLS = ("circle", "square", "diamond", "triangle-up")
_LINE_COLOURS = ("#1b4f72", "#b03a2e", "#196f3d", "#6c3483")  # dark: contrast >= 4.5:1 on white


def _layout(lang: str, *, title: str, y_title: str, height: int = 300, percent: bool = False,
            years: Sequence[int] = (), x_title: str | None = None, legend: bool = True) -> dict[str, Any]:
    span = (max(years) - min(years)) if years else 0
    return {
        "title": {"text": title, "font": {"size": 14}},
        "separators": ",." if lang == "da" else ".,",
        "height": height, "margin": {"l": 56, "r": 16, "t": 40, "b": (110 if x_title else 90) if legend else 40},
        "xaxis": {"title": {"text": x_title or ""}, "tickformat": "d", "dtick": max(1, -(-span // 10))},
        "yaxis": {"title": {"text": y_title}, "rangemode": "tozero",
                  **({"ticksuffix": " %" if lang == "da" else "%"} if percent else {})},
        "showlegend": legend,
        "legend": {"orientation": "h", "y": -0.3 if x_title else -0.18, "yanchor": "top"},
        "font": {"family": "system-ui, sans-serif", "color": "#1a1a1a"},
    }


def list_counts(data: DashboardData, lang: str, areas: Sequence[str] | None = None) -> Figure:
    """Areas on each list per list year (all areas, or those in `areas`)."""
    wanted = set(areas) if areas is not None else None
    traces = []
    for k, status in enumerate(STATUS_ORDER):
        ys = [sum(1 for a, s in data.status[y].items() if s == status and (wanted is None or a in wanted))
              for y in data.years]
        traces.append({"type": "scatter", "mode": "lines+markers", "x": data.years, "y": ys,
                       "name": pick(STATUS_TEXT[status], lang),
                       "line": {"dash": _DASHES[k], "color": STATUS_LINE[status]},
                       "marker": {"symbol": _SYMBOLS[k], "size": 8}})
    layout = _layout(lang, title=word("counts_title", lang), y_title=word("n_areas", lang), years=data.years,
                     x_title=word("year", lang), height=380)
    if max((max(t["y"], default=0) for t in traces), default=0) < 10:
        layout["yaxis"]["dtick"] = 1
    return {"data": traces, "layout": layout}


def indicator_trends(rows: Sequence[Row], criteria: dict[int, list[Row]], lang: str) -> list[Figure]:
    """One figure per list indicator: the area's published value per year and the threshold."""
    years = [r.get("year") for r in rows]
    figures = []
    for field, text in INDICATOR_TEXT.items():
        values = [r.get(field) for r in rows]
        if all(v is None for v in values):
            continue
        thresholds = []
        for y in years:
            t = next((c.get("threshold") for c in criteria.get(y, []) if c.get("field") == field), None)
            thresholds.append(t)
        traces = [{"type": "scatter", "mode": "lines+markers", "x": years, "y": values,
                   "name": pick(text, lang), "line": {"color": _LINE_COLOURS[0]},
                   "marker": {"symbol": "circle", "size": 7}, "connectgaps": False}]
        if any(t is not None for t in thresholds):
            traces.append({"type": "scatter", "mode": "lines", "x": years, "y": thresholds,
                           "name": word("threshold", lang), "line": {"dash": "dash", "color": "#444"},
                           "connectgaps": False})
        figures.append({"data": traces, "layout": _layout(lang, title=pick(text, lang), y_title=pick(UNIT_TEXT[field], lang),
                                                          height=260, years=years, legend=False),
                        "label": pick(text, lang)})
    return figures


def mix_trends(rows: Sequence[Row], lang: str) -> list[Figure]:
    """Per factor: the share among residents, in-movers and out-movers over the years."""
    figures = []
    for factor, text in FACTOR_TEXT.items():
        traces = []
        for k, group in enumerate(("stock", "in", "out")):
            sub = [r for r in rows if r.get("group") == group]
            ys = [None if r.get(factor) is None else 100 * r.get(factor) for r in sub]
            traces.append({"type": "scatter", "mode": "lines+markers", "x": [r.get("year") for r in sub], "y": ys,
                           "name": pick(GROUP_TEXT[group], lang),
                           "line": {"dash": _DASHES[k], "color": _LINE_COLOURS[k]},
                           "marker": {"symbol": _SYMBOLS[k], "size": 8}, "connectgaps": False})
        years = sorted({r.get("year") for r in rows})
        figures.append({"data": traces, "layout": _layout(lang, title=pick(text, lang), y_title="", height=330,
                                                          percent=True, years=years),
                        "label": pick(text, lang)})
    return figures
