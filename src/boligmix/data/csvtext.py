"""Small CSV files that people write by hand or save from Excel, read as text with the dialect detected.

Used for the area-level inputs (AREAS.csv, HISTORY.csv, unit counts, list membership). What Danish
Excel writes is read: `;` between fields with decimal commas ("33,5") and thousands points ("1.437"),
Windows-1252/Latin-1 text, a byte-order mark, trailing blank rows (also `;;;;`). What cannot be read
safely is refused with advice: UTF-16 ("Unicode text"), binary files, a number whose point could be a
decimal point or a thousands separator ("12.5" in a `;` file). Every error names the file (and the
row and column where there is one).
"""

from __future__ import annotations

import csv
import io
import os
import re
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from boligmix.errors import DataValidationError

SAVE_ADVICE = "save it from Excel as 'CSV UTF-8 (kommasepareret)' or 'CSV (semikolonsepareret)'"

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_DK_PLAIN = r"[+-]?\d+(,\d+)?"
_DK_GROUPED = r"[+-]?\d{1,3}(\.\d{3})+(,\d+)?"


@dataclass(frozen=True)
class Dialect:
    """How a file was written: field separator, text encoding, decimal mark."""

    separator: str
    encoding: str

    @property
    def decimal_comma(self) -> bool:
        """`;`-separated files (Danish Excel) write decimals with a comma and thousands with a point."""
        return self.separator == ";"

    def describe(self) -> str:
        sep = {",": "','", ";": "';'", "\t": "tab"}[self.separator]
        return f"{sep}-separated, {self.encoding}, decimal {'comma' if self.decimal_comma else 'point'}"


def _decode(data: bytes, source: str) -> tuple[str, str]:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DataValidationError(f"the file is UTF-16 ('Unicode text'); {SAVE_ADVICE}", path=source)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if b"\x00" in data[:65536]:
        raise DataValidationError(f"the file is not text (it holds NUL bytes; a binary or UTF-16 file?); "
                                  f"{SAVE_ADVICE}", path=source)
    try:
        text, encoding = data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        text, encoding = data.decode("cp1252", errors="replace"), "Windows-1252/Latin-1"
        if "\ufffd" in text:
            raise DataValidationError(f"the file is neither UTF-8 nor Windows-1252/Latin-1 text; {SAVE_ADVICE}",
                                      path=source) from None
    bad = _CONTROL.search(text)
    if bad is not None:
        line = text.count("\n", 0, bad.start())
        raise DataValidationError(f"the file holds control characters (a binary file?); {SAVE_ADVICE}",
                                  path=source, row=line or None)
    return text, encoding


def read_text_csv(path: str | os.PathLike[str], *, what: str = "the file") -> tuple[pl.DataFrame, Dialect]:
    """Read a small CSV as text columns (stripped; empty cells are null) and the detected dialect.

    The separator is `;` when the header has `;` and no `,`, a tab when it has tabs and neither,
    else `,`. Trailing rows whose cells are all empty are dropped. `what` names the file's role
    in messages ("AREAS.csv")."""
    source = str(path)
    path = Path(path)
    if not path.is_file():
        raise DataValidationError("file not found", path=source)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataValidationError(f"cannot read {what}: {exc.strerror}", path=source) from exc
    text, encoding = _decode(data, source)
    lines = text.splitlines()
    if not any(line.strip() for line in lines):
        raise DataValidationError(f"{what} is empty (expected a header line and data rows)", path=source)
    header = next(line for line in lines if line.strip())
    separator = ";" if ";" in header and "," not in header else (
        "\t" if "\t" in header and "," not in header else ",")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=separator))
    while rows and not any(cell.strip() for cell in rows[-1]):
        rows.pop()
    while rows and not any(cell.strip() for cell in rows[0]):
        rows.pop(0)
    names = [name.strip() for name in rows[0]]
    if len(set(names)) != len(names):
        doubled = next(n for n in names if names.count(n) > 1)
        raise DataValidationError("the column is named twice in the header", path=source, column=doubled or "''")
    for i, row in enumerate(rows[1:], start=1):
        if len(row) != len(names):
            raise DataValidationError(f"the row has {len(row)} fields; the header has {len(names)} "
                                      f"(read as {Dialect(separator, encoding).describe()})", path=source, row=i)
    columns = {name: [cell.strip() or None for cell in col] for name, col in
               zip(names, zip(*rows[1:]))} if len(rows) > 1 else {name: [] for name in names}
    frame = pl.DataFrame({name: pl.Series(name, values, dtype=pl.String) for name, values in columns.items()})
    return frame, Dialect(separator, encoding)


def parse_numbers(text: pl.Series, dialect: Dialect, *, source: str, column: str) -> pl.Series:
    """Text cells -> Float64 (null where empty or not a number). In the decimal-comma dialect "33,5" is
    33.5 and "1.437" is 1437; a point that is not a thousands separator ("12.5") is an error, so a
    thousands point is never read as a decimal point (or the other way round)."""
    if not dialect.decimal_comma:
        return text.cast(pl.Float64, strict=False)
    has_point = text.str.contains(".", literal=True).fill_null(False)
    grouped = text.str.contains(f"^{_DK_GROUPED}$").fill_null(False)
    ambiguous = has_point & ~grouped
    if ambiguous.any():
        row = int(ambiguous.arg_true()[0])
        raise DataValidationError(
            f"'{text[row]}' in a ';'-separated file: there, decimals are written with a comma (33,5) and a "
            "point may only separate thousands (1.437); write the number so, or save the file with ',' "
            "between fields and '.' as decimal point", path=source, row=row + 1, column=column)
    cleaned = text.str.replace_all(".", "", literal=True).str.replace(",", ".", literal=True)
    return cleaned.cast(pl.Float64, strict=False)


__all__ = ["Dialect", "SAVE_ADVICE", "parse_numbers", "read_text_csv"]
