"""Checks of count tables before any index is computed; errors name the row and column."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from boligmix.errors import DataValidationError
from boligmix.mix.segregation._arrays import FloatArray


def check_counts(values: FloatArray, columns: Sequence[str], *, source: str | None = None) -> None:
    """Raise `DataValidationError` at the first cell (row-major) that is not a whole number >= 0.

    `values` is a rows x columns float array (NaN marks a missing or unreadable cell); rows are
    reported 1-based, as a spreadsheet shows data rows.
    """
    missing = np.isnan(values)
    checks = (
        (missing, "count is missing"),
        (~missing & ~np.isfinite(values), "count {} is not a finite number"),
        (values < 0, "count {} is negative; counts must be >= 0"),
        (np.isfinite(values) & (values != np.floor(values)),
         "count {} is not a whole number; counts must be integers"),
    )
    for mask, reason in checks:
        if mask.any():
            row, col = np.argwhere(mask)[0]
            raise DataValidationError(reason.format(_show(values[row, col])), path=source, row=int(row) + 1,
                                      column=columns[col])


def check_group_within_total(groups: FloatArray, total: FloatArray, group_names: Sequence[str],
                             total_name: str, *, source: str | None = None) -> None:
    """Raise if any group count exceeds its unit's total (`groups` is rows x groups)."""
    bad = groups > total[:, None]
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise DataValidationError(
            f"group count {_show(groups[row, col])} exceeds the total "
            f"{_show(total[row])} in column '{total_name}'",
            path=source, row=int(row) + 1, column=group_names[col],
        )


def check_groups_sum_to_total(groups: FloatArray, total: FloatArray, total_name: str, *,
                              source: str | None = None) -> None:
    """Raise if the groups (rows x groups) do not add up to the total in some row."""
    bad = groups.sum(axis=1) != total
    if bad.any():
        row = int(np.argmax(bad))
        raise DataValidationError(
            f"the groups add up to {_show(groups[row].sum())} but the total is {_show(total[row])}; "
            "with several groups the total must be their sum (or leave the total out)",
            path=source, row=row + 1, column=total_name,
        )


def _show(value: float) -> str:
    return str(int(value)) if np.isfinite(value) and value == np.floor(value) else repr(float(value))


__all__ = ["check_counts", "check_group_within_total", "check_groups_sum_to_total"]
