"""Reading count tables (polars) for the segregation functions: columns, numbers, slices."""

from __future__ import annotations

import numpy as np
import polars as pl

from boligmix.errors import DataValidationError
from boligmix.mix.segregation._arrays import FloatArray
from boligmix.mix.segregation.errors import SegregationSpecError


def check_columns(counts: pl.DataFrame, *, unit: str, value_columns: list[str], by: list[str],
                  source: str | None) -> None:
    wanted = [unit, *value_columns, *by]
    if len(set(wanted)) != len(wanted):
        raise SegregationSpecError(
            f"the unit, group, total and by columns must be distinct (got {wanted})")
    missing = [name for name in wanted if name not in counts.columns]
    if missing:
        raise DataValidationError(
            f"column(s) {', '.join(map(repr, missing))} not found; columns are {counts.columns}",
            path=source, column=missing[0])


def numeric_values(counts: pl.DataFrame, columns: list[str], source: str | None) -> FloatArray:
    for name in columns:
        dtype = counts.schema[name]
        if not (dtype.is_numeric() or dtype == pl.Null):
            raise DataValidationError(f"counts must be numbers, the column has type {dtype}",
                                      path=source, column=name)
    if counts.height == 0:
        return np.zeros((0, len(columns)))
    return counts.select([pl.col(name).cast(pl.Float64) for name in columns]).to_numpy().astype(np.float64)


def check_unique_units(counts: pl.DataFrame, *, unit: str, by: list[str], source: str | None) -> None:
    keys = counts.select([*by, unit])
    if not keys.is_duplicated().any():
        return
    repeated = ~keys.select(pl.struct(keys.columns).is_first_distinct()).to_series()
    if repeated.any():
        row = int(repeated.arg_true()[0])
        raise DataValidationError(
            f"unit appears more than once in the same slice ({', '.join([*by, unit])})",
            path=source, row=row + 1, column=unit)


def number_slices(counts: pl.DataFrame, by: list[str],
                  source: str | None) -> tuple[pl.DataFrame, int, np.ndarray]:
    """The distinct `by` keys (sorted; no columns when `by` is empty), their number and each row's slice."""
    if not by:
        return pl.DataFrame(), (1 if counts.height else 0), np.zeros(counts.height, dtype=np.int64)
    for name in by:
        nulls = counts[name].is_null()
        if nulls.any():
            raise DataValidationError("a slice key is missing", path=source,
                                      row=int(nulls.arg_true()[0]) + 1, column=name)
    keys = counts.select(by).unique().sort(by)
    numbered = keys.with_row_index("_slice")
    ids = (counts.select(by).with_row_index("_row").join(numbered, on=by, how="left")
           .sort("_row")["_slice"].to_numpy().astype(np.int64))
    return keys, keys.height, ids


__all__ = ["check_columns", "check_unique_units", "numeric_values", "number_slices"]
