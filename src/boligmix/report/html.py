"""Write a `Report` as one self-contained, offline HTML file (plotly JS inlined once).

Texts are bilingual: Danish is shown first and a button toggles English. Every text and table
cell is HTML-escaped by the Jinja2 template (autoescape); figures are rendered by plotly with
`include_plotlyjs=False` and the plotly library is inlined once in the page head, only when the
report has figures. The footer records the provenance (rule versions, data vintage, seed,
boligmix version, creation time) and the disclosure policy.
"""

from __future__ import annotations

import os
from importlib import resources
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from boligmix.numbers import fmt_number, fmt_spec
from boligmix.report._files import write_text_atomic
from boligmix.report.disclosure import SUPPRESSED_COLUMN
from boligmix.report.document import (
    LANGUAGES,
    FigureBlock,
    Report,
    TableBlock,
    Text,
    TextBlock,
    display_order,
    format_cell,
)
from boligmix.report.labels import column_label

_TEMPLATE = "report.html.j2"
_env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)


def _template() -> jinja2.Template:
    return _env.from_string(resources.files("boligmix.report").joinpath(_TEMPLATE).read_text(encoding="utf-8"))


@dataclass(frozen=True)
class _Cell:
    text: str | Text
    """Plain text, or a `Text` when the cell is worded per language."""
    cls: str
    title: str = ""


_YES_NO = {True: Text("ja", "yes"), False: Text("nej", "no")}


def render_html(report: Report) -> str:
    """The report as an HTML string."""
    blocks_by_section = []
    fig_no = 0
    for section in report.sections:
        rendered: list[dict[str, Any]] = []
        for block in section.blocks:
            if isinstance(block, TextBlock):
                rendered.append({"kind": "text", "text": block.text})
            elif isinstance(block, TableBlock):
                rendered.append(_table_context(block))
            elif isinstance(block, FigureBlock):
                fig_no += 1
                langs = LANGUAGES if block.bilingual else (None,)
                html = {lang: _figure_html(block.figures[lang or "da"],
                                           f"fig-{fig_no}" + (f"-{lang}" if lang else "")) for lang in langs}
                rendered.append({"kind": "figure", "html": html, "caption": block.caption})
        blocks_by_section.append({"title": section.title, "blocks": rendered})
    plotly_js = _plotly_js() if fig_no else ""
    policy_versions = {b.table.policy.version for b in report.tables()}
    prov = report.provenance
    rows = prov.rows()
    if policy_versions:
        rows.append(("rule_version.disclosure_policy", ", ".join(sorted(policy_versions))))
    return _template().render(
        title=report.title,
        intro=report.intro,
        links=report.links,
        sections=blocks_by_section,
        plotly_js=plotly_js,
        provenance=prov,
        provenance_rows=rows,
        provenance_title=Text("Oprindelse", "Provenance"),
        disclosure_text=_disclosure_text(report),
    )


def write_html(report: Report, path: str | os.PathLike[str]) -> Path:
    """Write the report to `path` atomically and return the path."""
    return write_text_atomic(path, render_html(report))


def _figure_html(figure: Any, div_id: str) -> str:
    return figure.to_html(full_html=False, include_plotlyjs=False, div_id=div_id, default_height="460px",
                          config={"displaylogo": False, "responsive": True})


def _plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


def _table_context(block: TableBlock) -> dict[str, Any]:
    table = block.table
    frame = table.frame
    twins = set(block.bilingual.values())
    columns = [c for c in frame.columns if c != SUPPRESSED_COLUMN and c not in twins]
    marker = table.policy.marker
    numeric = {c for c in columns if frame.schema[c].is_numeric()}
    rows = []
    limit = frame.height if block.max_rows is None else min(block.max_rows, frame.height)
    order = display_order(frame)[:limit]  # newest year first
    all_rows = frame.select(columns).rows()
    data = [(i, all_rows[i]) for i in order]
    english = {da: frame.get_column(en).to_list() for da, en in block.bilingual.items()}
    for i, values in data:
        cells = []
        for col, value in zip(columns, values):
            reason = _suppression_reason(block, col, i)
            if reason is not None:
                cells.append(_Cell(marker, "sup", f"suppressed ({reason})"))
            elif col in english:
                cells.append(_Cell(Text(format_cell(value, None), format_cell(english[col][i], None)), ""))
            elif isinstance(value, bool):
                cells.append(_Cell(_YES_NO[value], ""))
            elif col in numeric and value is not None:
                spec = block.formats.get(col)
                cells.append(_Cell(Text(fmt_spec(value, spec, "da"), fmt_spec(value, spec, "en")), "num"))
            else:
                cells.append(_Cell(format_cell(value, block.formats.get(col)), "num" if col in numeric else ""))
        rows.append(cells)
    truncated = None
    if limit < frame.height:
        truncated = Text(f"Viser de første {limit} af {frame.height} rækker; alle rækker findes i Excel/CSV.",
                         f"Showing the first {limit} of {frame.height} rows; all rows are in the Excel/CSV files.")
    n_sup = table.n_suppressed
    return {
        "kind": "table",
        "name": block.name,
        "caption": block.caption,
        "columns": [column_label(block.labels, c) for c in columns],
        "rows": rows,
        "truncated": truncated,
        "n_suppressed": n_sup,
        "suppression_note": Text(
            f"{marker} = diskretioneret ({fmt_number(n_sup, 0, 'da')} celler i tabellen).",
            f"{marker} = suppressed for confidentiality ({n_sup} cells in the table)."),
    }


def _suppression_reason(block: TableBlock, column: str, row: int) -> str | None:
    """Why the cell is suppressed (a bilingual cell is suppressed when either language's value is)."""
    for col in (column, block.bilingual.get(column)):
        if col is not None and block.table.is_suppressed(col, row):
            return block.table.reasons[col][row]
    return None


def _disclosure_text(report: Report) -> Text:
    tables = report.tables()
    if not tables:
        return Text("Rapporten indeholder ingen tabeller.", "The report holds no tables.")
    p = tables[0].table.policy
    zeros_da = {"suppress": " (også nuller)", "publish": " (nuller vises)",
                "protect_groups": " (nuller vises, undtagen når de afslører, at alle i en gruppe er i samme "
                                  "kategori)"}[p.zero_counts]
    zeros_en = {"suppress": " (zeros too)", "publish": " (zeros are shown)",
                "protect_groups": " (zeros are shown unless they reveal that everyone in a group is in one "
                                  "category)"}[p.zero_counts]
    return Text(
        f"Diskretionering (politik {p.version}): antal under {p.min_count}{zeros_da} undertrykkes, "
        f"andele med nævner under {p.min_denominator} undertrykkes, og yderligere celler undertrykkes, "
        f"så de undertrykte ikke kan beregnes fra totaler. Undertrykte celler vises som {p.marker}.",
        f"Disclosure control (policy {p.version}): counts below {p.min_count}{zeros_en} are suppressed, "
        f"shares with a denominator below {p.min_denominator} are suppressed, and further cells are "
        f"suppressed so that suppressed cells cannot be derived from totals. Suppressed cells show {p.marker}.",
    )
