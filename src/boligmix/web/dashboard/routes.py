"""The dashboard's pages and downloads (FastAPI routes on a `DashboardData`).

Public pages (no login; everything on them is published-level data that passed disclosure control):

    /                        overview: map of all areas coloured and patterned by list status, counts per year
    /lists                   the list table of a year, filters by list and municipality; /lists.csv downloads it
    /lists.pdf               the printable list report of a year (boligmix.report.list_report)
    /areas/{area_id}         an area: criteria, values, thresholds, margins, explanation, history, trends, mix,
                             module results; /areas/{area_id}/criteria.csv downloads its criteria
    /municipalities[/{code}] municipalities and their areas
    /results                 dataset-wide module results: simulated paths per scenario, effect estimates
    /static/...              CSS, JS and the bundled plotly.js

Every page takes `?lang=en` (Danish otherwise) and `?year=`.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

import jinja2
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from boligmix import __version__
from boligmix.report.svgmap import Shape, legend_swatch, svg_map
from boligmix.web.dashboard import figures
from boligmix.web.dashboard.data import STATUSES, DashboardData
from boligmix.web.dashboard.downloads import csv_text
from boligmix.web.dashboard.i18n import (
    FACTOR_TEXT, GROUP_TEXT, INDICATOR_DIGITS, INDICATOR_TEXT, MODULE_TEXT, STATUS_TEXT, UNIT_TEXT, lang_of, num, pct,
    pick, status_styles, word,
)
from boligmix.web.dashboard.modules import MODULES
from boligmix.web.dashboard.printable import to_leave_text

_env = jinja2.Environment(loader=jinja2.PackageLoader("boligmix.web.dashboard", "templates"), autoescape=True,
                          undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
_env.filters["truncate_reason"] = lambda marker: marker.split(":", 1)[0]
LIST_COLUMNS = ("area_id", "area_name", "municipality_code", "municipality_name", "year", "rules", "status",
                "udsat", "parallelsamfund", "omdannelse", "forebyggelse", "criteria_met", "residents",
                "pct_non_western", "pct_outside_work_edu", "pct_convicted", "conviction_ratio",
                "pct_basic_education", "income_pct_of_region")
COUNT_COLUMNS = ("residents",)
"""Columns of person counts in the downloads (checked by the disclosure crawl test)."""


@lru_cache(maxsize=1)
def plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


def _static(name: str) -> str:
    return resources.files("boligmix.web.dashboard").joinpath("static", name).read_text(encoding="utf-8")


class Page:
    """Rendering helpers bound to one request's language."""

    def __init__(self, data: DashboardData, request: Request) -> None:
        self.data = data
        self.request = request
        self.lang = lang_of(request.query_params.get("lang"))

    def url(self, path: str, **params: Any) -> str:
        query = {k: v for k, v in params.items() if v not in (None, "")}
        if self.lang == "en":
            query["lang"] = "en"
        return path + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")

    def toggle_url(self) -> str:
        params = {k: v for k, v in self.request.query_params.items() if k != "lang"}
        if self.lang == "da":
            params["lang"] = "en"
        return self.request.url.path + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")

    def year(self) -> int:
        raw = self.request.query_params.get("year")
        try:
            year = int(raw) if raw else self.data.years[-1]
        except ValueError:
            year = self.data.years[-1]
        return year if year in self.data.years else self.data.years[-1]

    def render(self, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        d = self.data
        html = _env.get_template(template).render(
            lang=self.lang, w=lambda k, **kw: word(k, self.lang, **kw), num=lambda v, digits=1: num(v, self.lang, digits),
            pct=lambda v: pct(v, self.lang), pick=lambda pair: pick(pair, self.lang), url=self.url,
            cell=lambda v, c: module_cell(v, c, self.lang),
            toggle_url=self.toggle_url(), provenance=d.provenance.rows(), version=__version__,
            min_count=d.policy.min_count, marker=d.policy.marker, path=self.request.url.path,
            letting_on=getattr(self.request.app.state, "letting_pages", False), **context)
        return HTMLResponse(html, status_code=status_code)

    def not_found(self, message: str) -> HTMLResponse:
        return self.render("not_found.html.j2", status_code=404, message=message)

    def legend(self, counts: dict[str, int] | None = None) -> list[dict[str, Any]]:
        styles = status_styles(self.lang)
        return [{"key": k, "label": styles[k].legend, "swatch": legend_swatch(styles[k], "m"),
                 "count": (counts or {}).get(k)} for k in STATUSES]

    def map(self, year: int, area_ids: list[str] | None = None, highlight: str | None = None,
            width: int = 720, height: int = 560) -> str:
        d = self.data
        ids = area_ids if area_ids is not None else sorted(d.areas)
        shapes = []
        for a in ids:
            area = d.areas[a]
            status = d.area_status(a, year)
            label = f"{area.name} ({a}): {pick(STATUS_TEXT[status], self.lang)}"
            shapes.append(Shape(a, label, area.polygons, status, self.url(f"/areas/{a}", year=year)))
        return svg_map(shapes, status_styles(self.lang), width=width, height=height, id_prefix="m",
                       title=word("map_title", self.lang, year=year), description=word("map_desc", self.lang, year=year),
                       highlight=highlight)


def module_cell(value: Any, column: str, lang: str) -> str:
    """A module table's cell: numbers in the language's format, years, codes and ids as they are."""
    if value is None:
        return "–"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, int) and (column == "year" or column.endswith(("_year", "_code", "_id"))):
        return str(value)
    return num(value, lang, 0 if isinstance(value, int) else 2)


def _figure_json(fig: dict[str, Any]) -> str:
    return json.dumps({"data": fig["data"], "layout": fig["layout"]}, separators=(",", ":")).replace("</", "<\\/")


TEMPLATES = ("overview.html.j2", "lists.html.j2", "area.html.j2", "municipalities.html.j2", "municipality.html.j2",
             "not_found.html.j2", "results.html.j2", "letting.html.j2")


def build_router(data: DashboardData) -> APIRouter:
    for name in TEMPLATES:  # compile once now, not on the first request
        _env.get_template(name)
    router = APIRouter(include_in_schema=False)

    @router.get("/", response_class=HTMLResponse)
    def overview(request: Request) -> HTMLResponse:
        page = Page(data, request)
        year = page.year()
        counts: dict[str, int] = {}
        for a in data.areas:
            s = data.area_status(a, year)
            counts[s] = counts.get(s, 0) + 1
        listed = sorted((a for a in data.areas if data.area_status(a, year) in figures.STATUS_ORDER),
                        key=lambda a: (figures.STATUS_ORDER.index(data.area_status(a, year)), a))
        without = [data.areas[a] for a in sorted(data.areas) if not data.areas[a].polygons]
        return page.render("overview.html.j2", year=year, years=data.years, map_svg=page.map(year),
                           legend=page.legend(counts), listed=[data.areas[a] for a in listed],
                           status_of=lambda a: data.area_status(a, year), status_text=STATUS_TEXT,
                           without_map=without, munis=data.municipalities,
                           fig=_figure_json(figures.list_counts(data, page.lang)))

    by_year: dict[int, list[tuple[dict, frozenset]]] = {}
    for row, hidden in zip(data.list_table.iter_rows(named=True), data.list_suppressed):
        by_year.setdefault(row["year"], []).append((row, hidden))

    def _list_rows(page: Page, year: int, status: str | None, muni: int | None) -> list[tuple[dict, frozenset]]:
        out = []
        for row, hidden in by_year.get(year, []):
            if muni is not None and row["municipality_code"] != muni:
                continue
            if status == "listed" and row["status"] not in figures.STATUS_ORDER:
                continue
            if status and status != "listed" and row["status"] != status:
                continue
            out.append((row, hidden))
        return out

    def _filters(request: Request) -> tuple[str | None, int | None]:
        status = request.query_params.get("status") or None
        if status not in (None, "listed", *STATUSES):
            status = None
        raw = request.query_params.get("municipality")
        muni = int(raw) if raw and raw.isdigit() and int(raw) in data.municipalities else None
        return status, muni

    @router.get("/lists", response_class=HTMLResponse)
    def lists_page(request: Request) -> HTMLResponse:
        page = Page(data, request)
        year = page.year()
        status, muni = _filters(request)
        rows = _list_rows(page, year, status, muni)
        return page.render("lists.html.j2", year=year, years=data.years, rows=rows, status=status, muni=muni,
                           statuses=STATUSES, status_text=STATUS_TEXT, munis=data.municipalities,
                           indicators=INDICATOR_TEXT, digits=INDICATOR_DIGITS, units=UNIT_TEXT,
                           csv_url=page.url("/lists.csv", year=year, status=status, municipality=muni),
                           pdf_url=page.url("/lists.pdf", year=year))

    @router.get("/lists.csv")
    def lists_csv(request: Request) -> Response:
        page = Page(data, request)
        year = page.year()
        status, muni = _filters(request)
        rows = _list_rows(page, year, status, muni)
        body = csv_text([*LIST_COLUMNS, "suppressed"],
                        ([r.get(c) for c in LIST_COLUMNS] + [",".join(sorted(s)) or None] for r, s in rows), page.lang)
        return Response(body, media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="boligmix-lister-{year}.csv"'})

    @router.get("/lists.pdf")
    def lists_pdf(request: Request) -> Response:
        page = Page(data, request)
        year = page.year()
        pdf = _list_pdf(data, year)
        return Response(pdf, media_type="application/pdf",
                        headers={"Content-Disposition": f'attachment; filename="boligmix-listerapport-{year}.pdf"'})

    @router.get("/areas/{area_id}", response_class=HTMLResponse)
    def area_page(area_id: str, request: Request) -> HTMLResponse:
        page = Page(data, request)
        area = data.areas.get(area_id)
        if area is None:
            return page.not_found(word("not_found_area", page.lang, id=area_id))
        year = page.year()
        rows = data.indicators.get(area_id, [])
        criteria_by_year = {y: data.criteria.get((area_id, y), []) for y in data.years}
        summary = data.summaries.get((area_id, year))
        explanation = to_leave = None
        if summary is not None and data.explanation_ok.get((area_id, year), False):
            explanation = summary.get(f"explanation_{page.lang}")
            to_leave = to_leave_text(summary, year, page.lang)
        history = [(y, data.area_status(area_id, y)) for y in data.years]
        mix = data.mix.get(area_id, [])
        neighbours = [a.area_id for a in data.areas_in(area.municipality_code)]
        return page.render(
            "area.html.j2", area=area, year=year, years=data.years, status=data.area_status(area_id, year),
            status_text=STATUS_TEXT, muni_name=data.municipalities.get(area.municipality_code, ""),
            criteria=criteria_by_year.get(year, []), digits=INDICATOR_DIGITS, explanation=explanation, to_leave=to_leave,
            has_summary=summary is not None, history=history, indicator_rows=rows, indicators=INDICATOR_TEXT,
            units=UNIT_TEXT,
            trend_figs=[(f["label"], _figure_json(f)) for f in figures.indicator_trends(rows, criteria_by_year, page.lang)],
            mix=mix, mix_figs=[(f["label"], _figure_json(f)) for f in figures.mix_trends(mix, page.lang)] if mix else [],
            factors=FACTOR_TEXT, groups=GROUP_TEXT, notes=data.notes, modules=data.modules.for_area(area_id), module_names=MODULES,
            module_text=MODULE_TEXT, views=_area_views(data, area_id, page.lang),
            map_svg=page.map(year, neighbours, highlight=area_id, width=420, height=300),
            legend=page.legend(), csv_url=page.url(f"/areas/{area_id}/criteria.csv", year=year))

    @router.get("/areas/{area_id}/criteria.csv")
    def area_csv(area_id: str, request: Request) -> Response:
        page = Page(data, request)
        if area_id not in data.areas:
            return page.not_found(word("not_found_area", page.lang, id=area_id))
        cols = ("area_id", "year", "rules", "criterion", "label_da", "label_en", "field", "value", "op", "threshold",
                "met", "margin", "to_cross", f"to_cross_text_{page.lang}")
        rows = [r for y in data.years for r in data.criteria.get((area_id, y), [])]
        body = csv_text([*cols, "suppressed"],
                        ([r.get(c) for c in cols] + [",".join(sorted(r.suppressed)) or None] for r in rows), page.lang)
        return Response(body, media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="boligmix-{area_id}-kriterier.csv"'})

    @router.get("/results", response_class=HTMLResponse)
    def results_page(request: Request) -> HTMLResponse:
        page = Page(data, request)
        views = data.modules.views
        return page.render("results.html.j2", module_text=MODULE_TEXT, simulations=views.simulations if views else [],
                           estimates=views.estimates if views else [])

    @router.get("/municipalities", response_class=HTMLResponse)
    def municipalities(request: Request) -> HTMLResponse:
        page = Page(data, request)
        year = page.year()
        rows = []
        for code, name in sorted(data.municipalities.items(), key=lambda kv: kv[1]):
            ids = [a.area_id for a in data.areas_in(code)]
            listed = sum(1 for a in ids if data.area_status(a, year) in figures.STATUS_ORDER)
            rows.append((code, name, len(ids), listed))
        return page.render("municipalities.html.j2", year=year, years=data.years, rows=rows)

    @router.get("/municipalities/{code}", response_class=HTMLResponse)
    def municipality(code: str, request: Request) -> HTMLResponse:
        page = Page(data, request)
        if not code.isdigit() or int(code) not in data.municipalities:
            return page.not_found(word("not_found_muni", page.lang, id=code))
        number = int(code)
        year = page.year()
        areas = data.areas_in(number)
        ids = [a.area_id for a in areas]
        return page.render("municipality.html.j2", code=number, name=data.municipalities[number], year=year,
                           years=data.years, areas=areas, status_of=lambda a: data.area_status(a, year),
                           status_text=STATUS_TEXT, residents={a: _latest(data, a, year) for a in ids},
                           map_svg=page.map(year, ids) if any(a.polygons for a in areas) else "",
                           legend=page.legend(), modules=data.modules.for_municipality(number),
                           module_names=MODULES, module_text=MODULE_TEXT,
                           fig=_figure_json(figures.list_counts(data, page.lang, ids)))

    @router.get("/static/plotly.min.js")
    def plotly_bundle() -> Response:
        return Response(plotly_js(), media_type="text/javascript",
                        headers={"Cache-Control": "public, max-age=86400"})

    @router.get("/static/{name}")
    def static(name: str, request: Request) -> Response:
        types = {"dashboard.css": "text/css", "dashboard.js": "text/javascript"}
        if name not in types:
            return Page(data, request).not_found(word("not_found", "da"))
        return Response(_static(name), media_type=types[name], headers={"Cache-Control": "public, max-age=3600"})

    return router


def _area_views(data: DashboardData, area_id: str, lang: str) -> dict[str, Any]:
    from boligmix.web.dashboard.module_pages import area_modules

    views = area_modules(data.modules.views, area_id, lang)
    sim = views.get("simulate")
    if sim and sim["figure"]:
        sim["figure_json"] = _figure_json(sim["figure"])
    views["estimates"] = bool(data.modules.views and data.modules.views.estimates)
    return views


def _latest(data: DashboardData, area_id: str, year: int) -> Any:
    for row in data.indicators.get(area_id, []):
        if row.get("year") == year:
            return row
    return None


_PDF_CACHE: dict[tuple[int, int], bytes] = {}


def _list_pdf(data: DashboardData, year: int) -> bytes:
    from boligmix.report.list_report import render_list_report_pdf
    from boligmix.web.dashboard.printable import list_report

    key = (id(data), year)
    if key not in _PDF_CACHE:
        _PDF_CACHE[key] = render_list_report_pdf(list_report(data, year))
    return _PDF_CACHE[key]
