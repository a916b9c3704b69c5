"""The printable list report (`boligmix report lists`): for boards and politicians, in Danish.

First page: title, list year, how many areas are on each list, a table of the listed areas, and the
provenance (rule versions, data vintage, seed, boligmix version, disclosure policy). Then one page
per listed area: its lists, a small map (inline SVG), the criteria with value, threshold, margin and
what it takes to cross, the explanation, and the list history.

The report formats what it is given (`ListReport`, built from published, disclosure-controlled
rows by `boligmix.web.dashboard.printable`); it computes nothing. HTML is self-contained; PDF is
made from the same HTML by WeasyPrint (print CSS with `@page`, not a screenshot).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import jinja2

from boligmix.report._files import write_text_atomic, write_with

_env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)


@dataclass(frozen=True)
class CriterionLine:
    label: str
    value: str
    threshold: str
    met: str
    margin: str
    to_cross: str


@dataclass(frozen=True)
class ListedArea:
    area_id: str
    name: str
    municipality: str
    lists: str
    criteria_met: str
    residents: str
    map_svg: str
    criteria: list[CriterionLine]
    explanation: str | None
    history: list[tuple[int, str]]


@dataclass(frozen=True)
class ListReport:
    """Everything on the printed pages, already formatted (Danish) and disclosure-controlled."""

    year: int
    title: str
    counts: list[tuple[str, int]]
    """(list label, number of areas)."""
    areas: list[ListedArea]
    provenance: list[tuple[str, str]]
    disclosure_note: str
    overview_svg: str = ""
    notes: list[str] = field(default_factory=list)


def _template() -> jinja2.Template:
    text = resources.files("boligmix.report").joinpath("list_report.html.j2").read_text(encoding="utf-8")
    return _env.from_string(text)


def render_list_report_html(report: ListReport) -> str:
    return _template().render(r=report)


def render_list_report_pdf(report: ListReport) -> bytes:
    """The report as PDF bytes (WeasyPrint; needs its system libraries pango and harfbuzz)."""
    from weasyprint import HTML

    return HTML(string=render_list_report_html(report)).write_pdf()


def write_list_report(report: ListReport, path: str | os.PathLike[str], fmt: str) -> Path:
    """Write `fmt` ('html' or 'pdf') to `path` atomically."""
    if fmt == "html":
        return write_text_atomic(path, render_list_report_html(report))
    pdf = render_list_report_pdf(report)
    return write_with(path, lambda tmp: tmp.write_bytes(pdf))


__all__ = ["CriterionLine", "ListReport", "ListedArea", "render_list_report_html", "render_list_report_pdf",
           "write_list_report"]
