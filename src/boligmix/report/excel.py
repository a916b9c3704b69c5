"""Write a report's tables to .xlsx (xlsxwriter): one sheet per table plus a provenance sheet.

Each sheet: the Danish and English caption, a note on suppression, then the table with Danish
column headers, an autofilter and frozen header row, column widths fitted to the contents,
Excel number formats from the table's format specs (percent, thousands separator, decimals), and
Ja/Nej for yes/no values. Suppressed cells are left empty (so sums and filters work) with a grey
fill, and the note says so; numbers stay numbers. Sheet names are the table names, cut to Excel's
31 characters and made unique.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import xlsxwriter

from boligmix.report._files import write_with
from boligmix.report.disclosure import SUPPRESSED_COLUMN
from boligmix.report.document import Report, TableBlock, display_order
from boligmix.report.labels import column_label

_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def sheet_names(names: list[str]) -> list[str]:
    """Valid, unique Excel sheet names (max 31 characters) for `names`, in order."""
    used: set[str] = {"provenance"}
    out = []
    for name in names:
        base = _BAD_SHEET_CHARS.sub("_", name).strip("'") or "table"
        candidate, k = base[:31], 1
        while candidate.lower() in used:
            k += 1
            suffix = f"_{k}"
            candidate = base[: 31 - len(suffix)] + suffix
        used.add(candidate.lower())
        out.append(candidate)
    return out


def write_excel(report: Report, path: str | os.PathLike[str]) -> Path:
    """Write every table of `report` and a provenance sheet to `path` atomically."""
    tables = report.tables()
    names = sheet_names([t.name for t in tables])

    def _write(tmp: Path) -> None:
        book = xlsxwriter.Workbook(str(tmp), {"nan_inf_to_errors": True})
        bold = book.add_format({"bold": True, "bg_color": "#EEEEFF", "text_wrap": True, "valign": "top"})
        sup = book.add_format({"bg_color": "#E0E0E0"})
        formats: dict[str, object] = {}
        for block, name in zip(tables, names):
            _write_table(book, book.add_worksheet(name), block, bold, sup, formats)
        _write_provenance(book.add_worksheet("provenance"), report, tables, bold)
        book.close()

    return write_with(path, _write)


_YES_NO = {True: "Ja", False: "Nej"}


def excel_number_format(spec: str | None) -> str | None:
    """A Python format spec of a table ('.1%', ',.0f', '.2f', ',d') as an Excel number format."""
    if not spec:
        return None
    match = re.fullmatch(r"(,?)\.?(\d*)([%fdg]?)", spec)
    if match is None:
        return None
    thousands, digits, kind = match.groups()
    places = int(digits) if digits else 0
    body = ("#,##0" if thousands else "0") + ("." + "0" * places if places else "")
    return body + "%" if kind == "%" else body


def _cell_format(book, cache: dict[str, object], spec: str | None, dtype) -> object | None:
    number = excel_number_format(spec) or ("#,##0" if dtype.is_integer() else None)
    if number is None:
        return None
    if number not in cache:
        cache[number] = book.add_format({"num_format": number})
    return cache[number]


def _write_table(book, sheet, block: TableBlock, bold, sup, cache: dict[str, object]) -> None:
    table = block.table
    frame = table.frame
    columns = [c for c in frame.columns if c != SUPPRESSED_COLUMN]
    n_suppressed = table.n_suppressed  # counted once (it walks every protected cell)
    sheet.write(0, 0, block.caption.da, book.add_format({"bold": True, "font_size": 12}))
    sheet.write(1, 0, block.caption.en)
    if n_suppressed:
        sheet.write(2, 0, f"Tomme grå celler er diskretioneret (undertrykt) for at beskytte personer: "
                          f"{n_suppressed} celler; se arket provenance og kolonnen {SUPPRESSED_COLUMN}. "
                          f"Grey empty cells are suppressed for confidentiality.")
    header_row = 3
    headers = [column_label(block.labels, c).da for c in columns]
    for j, text in enumerate(headers):
        sheet.write(header_row, j, text, bold)
    if n_suppressed:
        sheet.write(header_row, len(columns), SUPPRESSED_COLUMN, bold)
    formats = [_cell_format(book, cache, block.formats.get(c), frame.schema[c]) for c in columns]
    widths = [min(max(len(h), 6), 40) for h in headers]
    markers = frame.get_column(SUPPRESSED_COLUMN).to_list() if n_suppressed else None
    all_rows = frame.select(columns).rows()
    for k, i in enumerate(display_order(frame)):  # newest year first
        values = all_rows[i]
        r = header_row + 1 + k
        for j, (col, value) in enumerate(zip(columns, values)):
            if table.is_suppressed(col, i):
                sheet.write_blank(r, j, None, sup)
                continue
            if value is None:
                sheet.write_blank(r, j, None)
                continue
            if isinstance(value, bool):
                text = _YES_NO[value]
                sheet.write_string(r, j, text)
            elif isinstance(value, (int, float)):
                sheet.write_number(r, j, value, formats[j])
                text = f"{value:,.2f}" if isinstance(value, float) else f"{value:,}"
            else:
                text = str(value)
                sheet.write_string(r, j, text)
            widths[j] = min(max(widths[j], len(text) + 2), 60)
        if markers is not None and markers[i]:
            sheet.write_string(r, len(columns), markers[i])
    last_col = len(columns) - 1 + (1 if n_suppressed else 0)
    if columns:
        sheet.autofilter(header_row, 0, header_row + max(frame.height, 1), max(last_col, 0))
    sheet.freeze_panes(header_row + 1, 0)
    sheet.set_row(header_row, 30)
    for j, width in enumerate(widths):
        sheet.set_column(j, j, width)
    if n_suppressed:
        sheet.set_column(len(columns), len(columns), 30)


def _write_provenance(sheet, report: Report, tables: list[TableBlock], bold) -> None:
    sheet.write(0, 0, "key", bold)
    sheet.write(0, 1, "value", bold)
    rows = report.provenance.rows()
    versions = sorted({t.table.policy.version for t in tables})
    if versions:
        p = tables[0].table.policy
        rows += [("rule_version.disclosure_policy", ", ".join(versions)),
                 ("disclosure.min_count", str(p.min_count)),
                 ("disclosure.min_denominator", str(p.min_denominator)),
                 ("disclosure.zero_counts", p.zero_counts),
                 ("disclosure.marker", p.marker)]
    rows.append(("title", report.title.da))
    for i, (key, value) in enumerate(rows, start=1):
        sheet.write_string(i, 0, key)
        sheet.write_string(i, 1, value)
    sheet.set_column(0, 0, 32)
    sheet.set_column(1, 1, 80)
