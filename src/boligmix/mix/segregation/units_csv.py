"""The unit-count CSV of `boligmix segregation`: one row per spatial unit, integer count columns.

Reading validates every used cell and names file, 1-based data row (header not counted) and
column on the first bad one. The index file written is `index,value`, atomically.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from boligmix.data.csvtext import Dialect, parse_numbers, read_text_csv
from boligmix.errors import DataValidationError
from boligmix.mix.segregation._arrays import FloatArray
from boligmix.mix.segregation.registry import IndexResult, multigroup_indices, two_group_indices
from boligmix.mix.segregation.table import index_kind
from boligmix.mix.segregation.validation import (
    check_counts,
    check_group_within_total,
    check_groups_sum_to_total,
)
from boligmix.report._files import write_with


@dataclass(frozen=True)
class UnitCounts:
    """Validated counts of one CSV: `groups` is units x groups, `total` per unit (or None)."""

    source: str
    group_names: tuple[str, ...]
    total_name: str | None
    groups: FloatArray
    total: FloatArray | None


def read_units_csv(path: str | os.PathLike[str], groups: Sequence[str],
                   total: str | None = None) -> UnitCounts:
    """Read and validate the count columns `groups` (and `total`) of a one-row-per-unit CSV.

    Errors (all `DataValidationError`, nothing is returned half-checked): a missing or empty
    file, no data rows, a single unit, a unit id (the first column, when it is not a count
    column) that repeats, an unknown column, an empty cell, text that is not a number, a count
    that is negative or not a whole number (`12.0` is accepted as 12), a group above its
    total, and, with several groups and a total, a total that is not the groups' sum.
    """
    source = str(path)
    kind = index_kind(groups, total)
    columns = [*groups, *([total] if total is not None else [])]
    frame, dialect = _read_text_columns(Path(path), source)
    missing = [name for name in columns if name not in frame.columns]
    if missing:
        hint = ""
        if frame.width == 1 and ";" in frame.columns[0]:
            hint = " (the file seems to use ';' as separator; write it with ',')"
        raise DataValidationError(f"column not found; the file has columns {frame.columns}{hint}",
                                  path=source, column=missing[0])
    if frame.height == 0:
        raise DataValidationError("the file has a header but no data rows", path=source)
    values = _parse_counts(frame, columns, source, dialect)
    check_counts(values, columns, source=source)
    group_values = values[:, : len(groups)]
    total_values = values[:, -1] if total is not None else None
    if total is not None and total_values is not None:
        if kind == "two_group":
            check_group_within_total(group_values, total_values, groups, total, source=source)
        else:
            check_groups_sum_to_total(group_values, total_values, total, source=source)
    _check_units(frame, columns, source)
    return UnitCounts(source, tuple(groups), total, group_values, total_values)


def _check_units(frame: pl.DataFrame, columns: Sequence[str], source: str) -> None:
    """At least two units (every index of one unit is 0 by definition), and each unit once: the id
    column (the first column, when it is not a count column) may not repeat."""
    if frame.height < 2:
        raise DataValidationError("the file has one unit; segregation compares units, so it needs at least two "
                                  "(with one, every index is 0 by definition)", path=source)
    id_column = frame.columns[0]
    if id_column in columns:
        return
    ids = frame.get_column(id_column)
    repeated = ids.is_not_null() & ids.is_duplicated()
    if repeated.any():
        rows = [int(i) + 1 for i in repeated.arg_true()]
        raise DataValidationError(f"unit '{ids[rows[0] - 1]}' appears more than once (rows {', '.join(map(str, rows[:5]))}); "
                                  "each unit must be one row: add its counts together first", path=source,
                                  row=rows[1], column=id_column)


def unit_indices(counts: UnitCounts) -> list[IndexResult]:
    """The two-group indices (one group and a total) or the multigroup indices (several groups)."""
    if len(counts.group_names) == 1 and counts.total is not None:
        return two_group_indices(counts.groups[:, 0], counts.total)
    return multigroup_indices(counts.groups)


def write_index_csv(path: str | os.PathLike[str], results: Sequence[IndexResult]) -> None:
    """Write `index,value` rows atomically (full float precision)."""
    def write(tmp: Path) -> None:
        with tmp.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["index", "value"])
            for result in results:
                writer.writerow([result.name, repr(result.statistic)])

    write_with(path, write)


def _read_text_columns(path: Path, source: str) -> tuple[pl.DataFrame, Dialect]:
    return read_text_csv(path, what="the unit-count file")


def _parse_counts(frame: pl.DataFrame, columns: Sequence[str], source: str, dialect: Dialect) -> FloatArray:
    """Text cells -> floats; the first empty or non-numeric cell (row-major) is an error."""
    text = frame.select([pl.col(name) for name in columns])
    parsed = pl.DataFrame([parse_numbers(text.get_column(name), dialect, source=source, column=name)
                           for name in columns])
    bad = (parsed.select([pl.col(name).is_null() for name in columns]).to_numpy())
    if bad.any():
        row, col = np.argwhere(bad)[0]
        cell = text[int(row), int(col)]
        reason = "empty cell; counts must be whole numbers >= 0" if not cell else (
            f"'{cell}' is not a number; counts must be whole numbers >= 0")
        raise DataValidationError(reason, path=source, row=int(row) + 1, column=columns[int(col)])
    return parsed.to_numpy().astype(np.float64)


__all__ = ["UnitCounts", "read_units_csv", "unit_indices", "write_index_csv"]
