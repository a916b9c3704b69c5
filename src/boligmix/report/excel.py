"""Write a report's tables to .xlsx (xlsxwriter): one sheet per table plus a provenance sheet.

Suppressed cells show the policy marker; numbers stay numbers. Sheet names are the table names,
cut to Excel's 31 characters and made unique.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import xlsxwriter

from boligmix.report._files import write_with
from boligmix.report.disclosure import SUPPRESSED_COLUMN
from boligmix.report.document import Report, TableBlock

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
        bold = book.add_format({"bold": True, "bg_color": "#EEEEFF"})
        sup = book.add_format({"align": "center", "font_color": "#AA3333"})
        for block, name in zip(tables, names):
            _write_table(book.add_worksheet(name), block, bold, sup)
        _write_provenance(book.add_worksheet("provenance"), report, tables, bold)
        book.close()

    return write_with(path, _write)


def _write_table(sheet, block: TableBlock, bold, sup) -> None:
    table = block.table
    columns = [c for c in table.frame.columns if c != SUPPRESSED_COLUMN]
    sheet.write(0, 0, block.caption.da, bold)
    sheet.write(1, 0, block.caption.en)
    header_row = 3
    for j, col in enumerate(columns):
        sheet.write(header_row, j, col, bold)
    if table.n_suppressed:
        sheet.write(header_row, len(columns), SUPPRESSED_COLUMN, bold)
    frame = table.frame
    for i, values in enumerate(frame.select(columns).iter_rows()):
        r = header_row + 1 + i
        for j, (col, value) in enumerate(zip(columns, values)):
            if table.is_suppressed(col, i):
                sheet.write_string(r, j, table.policy.marker, sup)
            elif value is None:
                sheet.write_blank(r, j, None)
            elif isinstance(value, bool):
                sheet.write_boolean(r, j, value)
            elif isinstance(value, (int, float)):
                sheet.write_number(r, j, value)
            else:
                sheet.write_string(r, j, str(value))
        if table.n_suppressed:
            marker = frame.get_column(SUPPRESSED_COLUMN)[i]
            if marker:
                sheet.write_string(r, len(columns), marker)
    sheet.freeze_panes(header_row + 1, 0)
    sheet.set_column(0, max(len(columns) - 1, 0), 14)


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
                 ("disclosure.publish_zeros", str(p.publish_zeros)),
                 ("disclosure.marker", p.marker)]
    rows.append(("title", report.title.da))
    for i, (key, value) in enumerate(rows, start=1):
        sheet.write_string(i, 0, key)
        sheet.write_string(i, 1, value)
    sheet.set_column(0, 0, 32)
    sheet.set_column(1, 1, 80)
