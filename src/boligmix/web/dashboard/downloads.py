"""CSV downloads of the dashboard: only published values, with the `suppressed` column.

Danish (default): `;`-separated, decimal comma, UTF-8 with a byte-order mark so Excel opens it
with æøå. English (`?lang=en`): `,`-separated, decimal point. Suppressed cells are empty and the
`suppressed` column names them (as every boligmix export does, docs/disclosure.md).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any


def _cell(value: Any, lang: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        if value != value:
            return ""
        text = f"{value:.6g}" if abs(value) < 1e15 else repr(value)
        if "e" in text:
            text = f"{value:.6f}".rstrip("0").rstrip(".")
        return text.replace(".", ",") if lang == "da" else text
    if isinstance(value, int):
        return str(value)
    return str(value)


def csv_text(columns: Sequence[str], rows: Iterable[Sequence[Any]], lang: str) -> str:
    """The rows as CSV text in the language's format (BOM included for Danish)."""
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";" if lang == "da" else ",", lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(v, lang) for v in row])
    return ("\ufeff" if lang == "da" else "") + buf.getvalue()


__all__ = ["csv_text"]
