"""Theil's information theory index H split into between-region and within-region parts.

With units nested in regions (e.g. areas in municipalities),

    H = H_between + sum_m w_m H_m,   w_m = T_m E_m / (T E),

where H_between is H computed with the regions as units, H_m is H of the units inside
region m, T_m and E_m are region m's population and entropy (natural log) and T, E those of
the whole. The weights are not shares: they sum to sum_m T_m E_m / (T E) <= 1. A region with
one group only has E_m = 0, H_m undefined (NaN) and contributes nothing.

References
----------
- Theil, H. (1972). Statistical Decomposition Analysis. North-Holland.
- Reardon, S.F., Yun, J.T. & Eitle, T.M. (2000). The changing structure of school
  segregation: measurement and evidence of multiracial metropolitan-area school
  segregation, 1989-1995. Demography 37(3), 351-364.
- Reardon, S.F. & Firebaugh, G. (2002). Measures of multigroup segregation.
  Sociological Methodology 32(1), 33-67.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from boligmix.errors import DataValidationError
from boligmix.mix.segregation._arrays import FloatArray, safe_divide
from boligmix.mix.segregation._frames import check_columns, check_unique_units, number_slices, numeric_values
from boligmix.mix.segregation.errors import SegregationSpecError
from boligmix.mix.segregation.multigroup import group_entropy
from boligmix.mix.segregation.validation import check_counts


@dataclass(frozen=True)
class TheilDecomposition:
    """`summary`: by..., total, between, within (one row per slice).

    `regions`: by..., region, population, entropy, weight (w_m), h (H_m), contribution (w_m H_m).
    Values are null where undefined (no population, or fewer than two groups present).
    """

    summary: pl.DataFrame
    regions: pl.DataFrame


def theil_decomposition(
    counts: pl.DataFrame,
    *,
    unit: str,
    region: str,
    groups: Sequence[str],
    by: Sequence[str] = (),
    source: str | None = None,
) -> TheilDecomposition:
    """Decompose the multigroup H of every slice into between-`region` and within-`region` parts.

    `counts` has one row per (by..., unit) with the region of the unit and a count per group
    (at least two groups; they partition the population). Every part is computed from its own
    definition, so `total == between + within` is a check, not an assumption.
    """
    if len(groups) < 2 or len(set(groups)) != len(groups):
        raise SegregationSpecError(
            f"the decomposition needs at least two distinct groups (got {list(groups)})")
    by = list(by)
    check_columns(counts, unit=unit, value_columns=list(groups), by=[*by, region], source=source)
    values = numeric_values(counts, list(groups), source)
    check_counts(values, list(groups), source=source)
    check_unique_units(counts, unit=unit, by=by, source=source)
    nulls = counts[region].is_null()
    if nulls.any():
        raise DataValidationError("region is missing", path=source, row=int(nulls.arg_true()[0]) + 1,
                                  column=region)
    keys, n_slices, slice_ids = number_slices(counts, by, source)
    region_keys = counts.select([*by, region]).unique().sort([*by, region]) if by else (
        counts.select(region).unique().sort(region))
    numbered = region_keys.with_row_index("_cell")
    cell_ids = (counts.select([*by, region]).with_row_index("_row")
                .join(numbered, on=[*by, region], how="left")
                .sort("_row")["_cell"].to_numpy().astype(np.int64))
    n_cells = region_keys.height
    cell_slice = (number_slices(region_keys, by, source)[2] if by else np.zeros(n_cells, dtype=np.int64))

    unit_total = values.sum(axis=1)
    unit_entropy = group_entropy(safe_divide(values, unit_total[:, None]))
    cell_counts = _sum_by(cell_ids, values, n_cells)
    cell_total = cell_counts.sum(axis=1)
    cell_entropy = group_entropy(safe_divide(cell_counts, cell_total[:, None]))
    cell_unit_entropy = _sum_by(cell_ids, (unit_total * unit_entropy)[:, None], n_cells)[:, 0]
    slice_counts = _sum_by(slice_ids, values, n_slices)
    slice_total = slice_counts.sum(axis=1)
    slice_entropy = group_entropy(safe_divide(slice_counts, slice_total[:, None]))
    slice_unit_entropy = _sum_by(slice_ids, (unit_total * unit_entropy)[:, None], n_slices)[:, 0]
    slice_cell_entropy = _sum_by(cell_slice, (cell_total * cell_entropy)[:, None], n_slices)[:, 0]

    te = slice_total * slice_entropy
    defined = te > 0
    total_h = np.where(defined, 1.0 - safe_divide(slice_unit_entropy, te), np.nan)
    between_h = np.where(defined, 1.0 - safe_divide(slice_cell_entropy, te), np.nan)
    cell_te = cell_total * cell_entropy
    weight = np.where(defined[cell_slice], safe_divide(cell_te, te[cell_slice]), np.nan)
    h_region = np.where(cell_te > 0, 1.0 - safe_divide(cell_unit_entropy, cell_te), np.nan)
    contribution = np.where(cell_te > 0, weight * h_region, np.where(defined[cell_slice], 0.0, np.nan))
    within_sum = _sum_by(cell_slice, np.nan_to_num(contribution)[:, None], n_slices)[:, 0]
    within_h = np.where(defined, within_sum, np.nan)

    def col(name: str, data: FloatArray) -> pl.Series:
        return pl.Series(name, data, dtype=pl.Float64).fill_nan(None)

    summary = pl.DataFrame([col("total", total_h), col("between", between_h), col("within", within_h)])
    if keys.width:
        summary = pl.concat([keys, summary], how="horizontal")
    regions = pl.concat([region_keys, pl.DataFrame([
        pl.Series("population", cell_total.astype(np.int64)), col("entropy", cell_entropy),
        col("weight", weight), col("h", h_region), col("contribution", contribution),
    ])], how="horizontal")
    return TheilDecomposition(summary=summary, regions=regions)


def _sum_by(ids: np.ndarray, values: FloatArray, n: int) -> FloatArray:
    out = np.zeros((n, values.shape[1]), dtype=np.float64)
    np.add.at(out, ids, values)
    return out


__all__ = ["TheilDecomposition", "theil_decomposition"]
