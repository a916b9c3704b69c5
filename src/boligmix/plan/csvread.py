"""Strict reading of the plan and rehousing CSV inputs: every error names file, row and column.

Files are UTF-8 with ',' separators and '.' decimals. A Danish export (';' separators, decimal
comma, Latin-1) is refused with advice on how to save it, never guessed at. Rows are 1-based data
rows as a spreadsheet shows them (header not counted). Of several problems the one on the
smallest row is reported.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from pathlib import Path

import polars as pl

from boligmix.errors import DataValidationError, FirstRowError

ADVICE = ("save it as CSV UTF-8 with ',' between columns and '.' as decimal point "
          "(in Excel: 'CSV UTF-8 (kommasepareret)' with English number format)")


def read_text_table(path: str | Path, required: Sequence[str], optional: Sequence[str] = ()) -> "TextTable":
    """Read a CSV as text columns; refuse a missing file, a Danish export or a missing column."""
    path = Path(path)
    if not path.is_file():
        raise DataValidationError("file not found", path=str(path))
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataValidationError(f"not UTF-8 (byte {exc.start}; probably Latin-1/Windows-1252): {ADVICE}",
                                  path=str(path)) from exc
    header = text.split("\n", 1)[0]
    if ";" in header and "," not in header:
        raise DataValidationError(f"the header is separated by ';' (a Danish export): {ADVICE}", path=str(path))
    if not text.strip():
        raise DataValidationError("the file is empty (no header)", path=str(path))
    try:
        frame = pl.read_csv(text.encode("utf-8"), infer_schema=False, truncate_ragged_lines=False)
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise DataValidationError(f"cannot read CSV: {exc}", path=str(path)) from exc
    frame = frame.rename({c: c.strip() for c in frame.columns})
    for col in required:
        if col not in frame.columns:
            raise DataValidationError(f"missing column (the file has: {', '.join(frame.columns)})",
                                      path=str(path), column=col)
    known = set(required) | set(optional)
    keep = [c for c in frame.columns if c in known]
    frame = frame.select(keep).with_columns(pl.col(c).str.strip_chars() for c in keep)
    frame = frame.with_columns(pl.when(pl.col(c) == "").then(None).otherwise(pl.col(c)).alias(c) for c in keep)
    return TextTable(str(path), {c: frame.get_column(c).to_list() for c in keep}, frame.height)


class TextTable:
    """Text columns of one CSV and typed accessors that collect the first error by row."""

    def __init__(self, path: str, columns: dict[str, list[str | None]], height: int) -> None:
        self.path, self.columns, self.height = path, columns, height
        self._errors = FirstRowError(path)

    def has(self, column: str) -> bool:
        return column in self.columns

    def fail(self, row_index: int, column: str, message: str) -> None:
        """Record a problem at 0-based `row_index` (kept when it is the smallest row so far)."""
        self._errors.keep(row_index + 1, column, message)

    def raise_if_any(self) -> None:
        self._errors.raise_if_any()

    def _typed(self, column: str, parse: Callable[[str], object], what: str, *, optional: bool = False,
               default: object = None) -> list:
        values = self.columns.get(column)
        if values is None:
            return [default] * self.height
        out = []
        for i, text in enumerate(values):
            if text is None:
                if not optional:
                    self.fail(i, column, "empty value")
                out.append(default)
                continue
            try:
                out.append(parse(text))
            except ValueError as exc:
                self.fail(i, column, f"{exc}" if str(exc) else f"not {what}: '{text}'")
                out.append(default)
        return out

    def ids(self, column: str, *, unique: bool = False) -> list[str]:
        out = self._typed(column, str, "an id")
        if unique:
            seen: dict[str, int] = {}
            for i, v in enumerate(out):
                if v is not None and v in seen:
                    self.fail(i, column, f"duplicate id '{v}' (first on row {seen[v] + 1})")
                elif v is not None:
                    seen[v] = i
        return out

    def text(self, column: str) -> list[str | None]:
        return self._typed(column, str, "text", optional=True)

    def counts(self, column: str, *, optional: bool = False, minimum: int = 0) -> list[int]:
        def parse(text: str) -> int:
            number = _number(text)
            if number != math.floor(number):
                raise ValueError(f"not a whole number: '{text}'")
            if number < minimum:
                raise ValueError(f"negative count: '{text}'" if minimum == 0 else f"must be at least {minimum}: '{text}'")
            return int(number)
        return self._typed(column, parse, "a whole number", optional=optional, default=0)

    def amounts(self, column: str, *, optional: bool = False) -> list[float]:
        def parse(text: str) -> float:
            number = _number(text)
            if number < 0:
                raise ValueError(f"negative value: '{text}'")
            return number
        return self._typed(column, parse, "a number", optional=optional, default=0.0)

    def flags(self, column: str) -> list[bool]:
        def parse(text: str) -> bool:
            if text not in ("0", "1"):
                raise ValueError(f"must be 0 or 1, got '{text}'")
            return text == "1"
        return self._typed(column, parse, "0/1", default=False)

    def dates(self, column: str, *, optional: bool = False) -> list[date | None]:
        def parse(text: str) -> date:
            try:
                return date.fromisoformat(text)
            except ValueError:
                raise ValueError(f"not a date YYYY-MM-DD: '{text}'") from None
        return self._typed(column, parse, "a date", optional=optional)

    def id_lists(self, column: str) -> list[tuple[str, ...]]:
        def parse(text: str) -> tuple[str, ...]:
            return tuple(p.strip() for p in text.split(";") if p.strip())
        return self._typed(column, parse, "';'-separated ids", optional=True, default=())

    def check_refs(self, column: str, values: Iterable[object], known: set, what: str, note: str = "") -> None:
        """Every non-null value (or every item of a tuple value) must be in `known`; `note` explains where."""
        for i, value in enumerate(values):
            items = value if isinstance(value, tuple) else (value,)
            for item in items:
                if item is not None and item not in known:
                    self.fail(i, column, f"unknown {what} '{item}'" + (f" ({note})" if note else ""))
                    break


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        hint = " (decimal comma? write a '.')" if "," in text else ""
        raise ValueError(f"not a number: '{text}'{hint}") from None
    if not math.isfinite(value):
        raise ValueError(f"not a finite number: '{text}'")
    return value


__all__ = ["ADVICE", "TextTable", "read_text_table"]
