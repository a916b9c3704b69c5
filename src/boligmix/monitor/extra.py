"""The optional area-level indicator CSV (`--extra`): `unit_id,year,indicator,value`.

For indicators the register data model does not hold (school absence, tryghed, ...). Read as
UTF-8 or Latin-1, comma- or semicolon-separated (a Danish CSV with `;` may use decimal commas).
A bad file raises `DataValidationError` naming the file, the row (1-based, header not counted)
and the column.
"""

from __future__ import annotations

import io
from pathlib import Path

import polars as pl

from boligmix.errors import DataValidationError

EXTRA_COLUMNS = ("unit_id", "year", "indicator", "value")
NATIONAL_IDS = ("DK", "national")
"""unit_id of a row that gives the national reference value of an indicator."""


def read_extra(path: str | Path) -> pl.DataFrame:
    """unit_id (string), year (int), indicator (string), value (float); one row per key."""
    source = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise DataValidationError(f"cannot read the indicator file: {exc}", path=source) from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    header = text.splitlines()[0] if text else ""
    semicolon = header.count(";") > header.count(",")
    try:
        frame = pl.read_csv(io.StringIO(text), separator=";" if semicolon else ",", infer_schema=False)
    except pl.exceptions.PolarsError as exc:
        raise DataValidationError(f"not a readable CSV ({exc.__class__.__name__}); expected columns "
                                  f"{','.join(EXTRA_COLUMNS)}", path=source) from exc
    for col in EXTRA_COLUMNS:
        if col not in frame.columns:
            raise DataValidationError(f"column is missing; expected {','.join(EXTRA_COLUMNS)} (a Danish CSV "
                                      "may use ';' and decimal commas)", path=source, column=col)
    frame = frame.select(EXTRA_COLUMNS).with_row_index("_row")
    for col in EXTRA_COLUMNS:
        empty = frame.get_column(col).is_null() | (frame.get_column(col).str.strip_chars() == "")
        if empty.any():
            raise DataValidationError("value is missing", path=source, row=int(empty.arg_true()[0]) + 1, column=col)
    number = pl.col("value").str.strip_chars()
    if semicolon:
        number = number.str.replace_all(".", "", literal=True).str.replace(",", ".", literal=True)
    parsed = frame.with_columns(pl.col("unit_id").str.strip_chars(), pl.col("indicator").str.strip_chars(),
                                pl.col("year").str.strip_chars().cast(pl.Int64, strict=False).alias("year_n"),
                                number.cast(pl.Float64, strict=False).alias("value_n"))
    for col, new in (("year", "year_n"), ("value", "value_n")):
        bad = parsed.get_column(new).is_null()
        if bad.any():
            i = int(bad.arg_true()[0])
            raise DataValidationError(f"not a number: {parsed.get_column(col)[i]!r}", path=source, row=i + 1,
                                      column=col)
    out = parsed.select("unit_id", pl.col("year_n").alias("year"), "indicator", pl.col("value_n").alias("value"))
    dup = out.select(pl.struct("unit_id", "year", "indicator").is_duplicated()).to_series()
    if dup.any():
        raise DataValidationError("unit_id, year and indicator appear twice", path=source,
                                  row=int(dup.arg_true()[0]) + 1, column="unit_id")
    return out


__all__ = ["EXTRA_COLUMNS", "NATIONAL_IDS", "read_extra"]
