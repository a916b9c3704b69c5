"""The printable list report's content from the dashboard's published data (`ListReport`).

Used by `/lists.pdf` and by `boligmix report lists`; every number comes from the protected rows
of `DashboardData` (nothing unprotected is formatted here).
"""

from __future__ import annotations

from boligmix.lists.summary import listed_summary
from boligmix.lists.texts import fmt_signed, fmt_threshold
from boligmix.report.list_report import CriterionLine, ListedArea, ListReport
from boligmix.report.svgmap import Shape, svg_map
from boligmix.web.dashboard.data import STATUS_ORDER, DashboardData, Row
from boligmix.web.dashboard.i18n import INDICATOR_DIGITS, STATUS_TEXT, num, status_styles

LANG = "da"
SHORT_STATUS = {"omdannelse": "Omdannelse / hårdt ghetto", "parallelsamfund": "Parallelsamfund / ghetto",
                "udsat": "Udsat", "forebyggelse": "Forebyggelse", "none": "Ikke på en liste",
                "undecided": "Uafklaret", "nodata": "Ingen data"}
"""Short status names for the compact list history of the printed pages."""


def _lists_label(summary: dict | None, status: str) -> str:
    if summary is None:
        return STATUS_TEXT[status][0]
    on = [STATUS_TEXT[f][0] for f in STATUS_ORDER if summary.get(f)]
    return ", ".join(on) or STATUS_TEXT[status][0]


def _criterion(row: Row) -> CriterionLine:
    marker = "·"
    digits = INDICATOR_DIGITS.get(row.get("field"), 1)
    value = marker if row.hidden("value") else num(row.get("value"), LANG, digits)
    margin = marker if row.hidden("margin") else (
        "–" if row.get("margin") is None else fmt_signed(row.get("margin"), digits, LANG))
    cross = marker if row.hidden("to_cross_text_da") else (row.get("to_cross_text_da") or "–")
    met = {True: "ja", False: "nej", None: "ukendt"}[row.get("met")]
    return CriterionLine(row.get("label_da"), value, f"{row.get('op')} {fmt_threshold(row.get('threshold'), LANG)}",
                         met, margin, cross)


def to_leave_text(summary: dict, year: int, lang: str = LANG) -> str | None:
    """What it takes to leave the highest list, and from which list year (boligmix.lists.summary);
    None when the area is on no list."""
    rows = listed_summary([summary], year, lang)  # type: ignore[arg-type]
    if not rows:
        return None
    r = rows[0]
    if lang == "da":
        when = f" Tidligst ude af listen i listeår {r['leave_year']}." if r["leave_year"] is not None else ""
        return f"For at komme af listen: {r['to_leave']}.{when}"
    when = f" Off the list from list year {r['leave_year']} at the earliest." if r["leave_year"] is not None else ""
    return f"To leave the list: {r['to_leave']}.{when}"


def list_report(data: DashboardData, year: int) -> ListReport:
    """The report of list year `year` (one of `data.years`)."""
    marker = data.policy.marker
    styles = status_styles(LANG)
    listed = sorted((a for a in data.areas if data.area_status(a, year) in STATUS_ORDER),
                    key=lambda a: (STATUS_ORDER.index(data.area_status(a, year)), a))
    counts = [(STATUS_TEXT[f][0], sum(1 for a in data.areas if (data.summaries.get((a, year)) or {}).get(f)))
              for f in STATUS_ORDER]
    areas = []
    for a in listed:
        area = data.areas[a]
        summary = data.summaries.get((a, year))
        status = data.area_status(a, year)
        neighbours = data.areas_in(area.municipality_code)
        shapes = [Shape(n.area_id, f"{n.name} ({n.area_id})", n.polygons, data.area_status(n.area_id, year))
                  for n in neighbours]
        svg = svg_map(shapes, styles, width=360, height=260, highlight=a, id_prefix=f"m{len(areas)}",
                      title=f"Kort: {area.name}", description="Området med tyk kant; kommunens øvrige områder omkring.")
        ind = next((r for r in data.indicators.get(a, []) if r.get("year") == year), None)
        residents = marker if ind is None or ind.hidden("residents") else num(ind.get("residents"), LANG)
        criteria = [_criterion(r) for r in data.criteria.get((a, year), []) if r.get("field") != "residents"]
        explanation = to_leave_text(summary, year) if summary and data.explanation_ok.get((a, year)) else None
        met = "–" if summary is None else str(summary.get("criteria_met"))
        areas.append(ListedArea(a, area.name, data.municipalities.get(area.municipality_code, ""),
                                _lists_label(summary, status), met, residents, svg, criteria, explanation,
                                [(y, SHORT_STATUS[data.area_status(a, y)]) for y in data.years if y <= year]))
    p = data.policy
    note = (f"Diskretionering (politik {p.version}): antal under {p.min_count} undertrykkes, andele med nævner "
            f"under {p.min_denominator} undertrykkes, og yderligere celler undertrykkes, så de undertrykte ikke kan "
            f"beregnes. Undertrykte værdier vises som {marker}.")
    prov = [(k, v) for k, v in data.provenance.rows() if k not in ("command", "setting.mix_years")]
    prov.insert(0, ("command", "boligmix report lists"))
    return ListReport(year, f"Listerne over almene boligområder {year}", counts, areas, prov, note)


__all__ = ["list_report", "to_leave_text"]
