"""Segregation indices for every slice of a tidy count table, vectorised across slices.

A slice is one combination of the `by` columns, e.g. (year, population) with population one
of stock, in-movers, out-movers. The counts of all slices are packed into one array
(slices x units x groups, zero-padded: units of total 0 contribute nothing to any index),
so every index is computed for all slices by a handful of numpy operations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import polars as pl

from boligmix.mix.segregation import multigroup, two_group
from boligmix.mix.segregation._arrays import FloatArray
from boligmix.mix.segregation._frames import check_columns, check_unique_units, number_slices, numeric_values
from boligmix.mix.segregation.errors import IndexUndefinedError, SegregationSpecError
from boligmix.mix.segregation.registry import IndexKind, IndexSpec, select_indices
from boligmix.mix.segregation.validation import (
    check_counts,
    check_group_within_total,
    check_groups_sum_to_total,
)

UndefinedPolicy = Literal["null", "error"]

INDEX_COLUMN = "index"
VALUE_COLUMN = "value"


def index_kind(groups: Sequence[str], total: str | None) -> IndexKind:
    """One group with a total -> two-group indices; several groups -> multigroup indices."""
    if len(groups) == 0:
        raise SegregationSpecError("name at least one group column")
    if len(set(groups)) != len(groups):
        raise SegregationSpecError(f"group columns repeat: {list(groups)}")
    if len(groups) == 1:
        if total is None:
            raise SegregationSpecError(
                f"one group ('{groups[0]}') needs a total column for the two-group indices; "
                "give several groups for the multigroup indices"
            )
        return "two_group"
    return "multigroup"


def segregation_table(
    counts: pl.DataFrame,
    *,
    unit: str,
    groups: Sequence[str],
    total: str | None = None,
    by: Sequence[str] = (),
    indices: Sequence[str] | None = None,
    undefined: UndefinedPolicy = "null",
    source: str | None = None,
) -> pl.DataFrame:
    """Segregation indices for every slice of `counts`, as tidy rows (by..., index, value).

    `counts` has one row per (by..., unit) with integer counts in the `groups` columns and,
    optionally, `total`. One group with `total` gives the two-group indices (group vs the
    rest of the total); several groups give the multigroup indices (the groups must then
    partition the population: `total`, if given, must equal their sum in every row).
    `indices` picks indices by registry name (default: all of the kind, in registry order).

    Rows are ordered by the `by` values, then by index. `value` is null where an index is
    undefined for a slice (e.g. no in-movers of the group that year); `undefined="error"`
    raises `IndexUndefinedError` instead. `source` names the data in error messages.
    Bad counts (missing, negative, non-integer, group above total) raise `DataValidationError`
    naming the 1-based row and the column.
    """
    if undefined not in ("null", "error"):
        raise SegregationSpecError(f"undefined must be 'null' or 'error' (got {undefined!r})")
    specs = select_indices(index_kind(groups, total), indices)
    slices = load_slices(counts, unit=unit, groups=groups, total=total, by=by, source=source)
    kind, keys, cube = slices.kind, slices.keys, slices.cube
    results = compute_cube(cube, kind, specs)  # (indices, slices)
    if undefined == "error":
        _raise_first_undefined(results, specs, keys)
    return _tidy(keys, specs, results)


@dataclass(frozen=True)
class Slices:
    """Validated counts packed as slices x units x columns (zero-padded).

    For two-group data the columns are (group, total); for multigroup data the groups.
    `keys` holds the sorted `by` values, one row per slice (no columns when `by` is empty).
    """

    kind: IndexKind
    keys: pl.DataFrame
    cube: FloatArray


def load_slices(counts: pl.DataFrame, *, unit: str, groups: Sequence[str], total: str | None,
                by: Sequence[str], source: str | None) -> Slices:
    """Check `counts` (columns, numbers, group <= total, unique units per slice) and pack it."""
    kind = index_kind(groups, total)
    by = list(by)
    value_columns = [*groups, *([total] if total is not None else [])]
    check_columns(counts, unit=unit, value_columns=value_columns, by=by, source=source)
    values = numeric_values(counts, value_columns, source)
    check_counts(values, value_columns, source=source)
    group_values = values[:, : len(groups)]
    if total is not None:
        total_values = values[:, -1]
        if kind == "two_group":
            check_group_within_total(group_values, total_values, groups, total, source=source)
        else:
            check_groups_sum_to_total(group_values, total_values, total, source=source)
    check_unique_units(counts, unit=unit, by=by, source=source)
    keys, n_slices, slice_ids = number_slices(counts, by, source)
    cube = pack_slices(values if kind == "two_group" else group_values, slice_ids, n_slices)
    return Slices(kind=kind, keys=keys, cube=cube)


def compute_cube(cube: FloatArray, kind: IndexKind, specs: Sequence[IndexSpec]) -> FloatArray:
    """Index values (indices x slices) of a slices x units x columns array.

    For two-group indices the columns are (group, total); for multigroup ones the groups.
    """
    prepared = (two_group.prepare(cube[..., 0], cube[..., 1]) if kind == "two_group"
                else multigroup.prepare(cube))
    return np.stack([spec.kernel(prepared) for spec in specs])


def pack_slices(values: FloatArray, slice_ids: np.ndarray, n_slices: int) -> FloatArray:
    """Rows x columns values -> slices x units x columns, zero-padded to the largest slice."""
    n_rows = len(slice_ids)
    order = np.argsort(slice_ids, kind="stable")
    sorted_ids = slice_ids[order]
    starts = np.searchsorted(sorted_ids, np.arange(n_slices))
    position = np.empty(n_rows, dtype=np.int64)
    position[order] = np.arange(n_rows) - starts[sorted_ids]
    width = int(position.max()) + 1 if n_rows else 0
    cube = np.zeros((n_slices, width, values.shape[1]), dtype=np.float64)
    cube[slice_ids, position] = values
    return cube


def _raise_first_undefined(results: FloatArray, specs: Sequence[IndexSpec], keys: pl.DataFrame) -> None:
    undefined = np.isnan(results).T  # slices x indices
    if undefined.any():
        slice_pos, index_pos = np.argwhere(undefined)[0]
        key = keys.row(int(slice_pos), named=True) if keys.width else {}
        where = ", ".join(f"{k}={v}" for k, v in key.items())
        raise IndexUndefinedError(
            f"{specs[int(index_pos)].name} is undefined{' for ' + where if where else ''}: "
            "zero denominator (no population, or the group absent or making up everybody)")


def _tidy(keys: pl.DataFrame, specs: Sequence[IndexSpec], results: FloatArray) -> pl.DataFrame:
    n_indices, n_slices = results.shape
    names = pl.Series(INDEX_COLUMN, [spec.name for spec in specs] * n_slices, dtype=pl.String)
    values = pl.Series(VALUE_COLUMN, results.T.ravel(), dtype=pl.Float64).fill_nan(None)
    if not keys.width:
        return pl.DataFrame([names, values])
    return keys[np.repeat(np.arange(n_slices), n_indices)].with_columns(names, values)


__all__ = ["Slices", "compute_cube", "index_kind", "load_slices", "pack_slices", "segregation_table"]
