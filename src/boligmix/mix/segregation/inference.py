"""Permutation inference for segregation indices under random allocation.

The null hypothesis is that people are allocated to units at random: unit sizes and group
totals stay as observed and the persons are shuffled between units (a multivariate
hypergeometric allocation; PySAL `segregation` calls it "person_permutation"). Draws are made
unit by unit from the remaining pool with conditional hypergeometric draws, vectorised over
permutations, so the cost does not grow with the number of persons:
O(n_permutations x units x groups). Under this null the indices are positive in expectation
when units are small (e.g. one year's in-movers), so `null_mean` is worth reporting next to
the observed value. Randomness comes only from the injected `numpy.random.Generator`: the
same seed gives the same result.

References
----------
- Allen, R., Burgess, S., Davidson, R. & Windmeijer, F. (2015). More reliable inference for
  the dissimilarity index of segregation. The Econometrics Journal 18(1), 40-66.
- Cortes, R.X., Rey, S., Knaap, E. & Wolf, L.J. (2020). An open-source framework for
  non-spatial and spatial segregation measures. Journal of Computational Social Science 3, 135-166.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import polars as pl

from boligmix.mix.segregation._arrays import FloatArray, as_float
from boligmix.mix.segregation.errors import IndexUndefinedError, SegregationSpecError
from boligmix.mix.segregation.registry import INDICES, IndexSpec, select_indices
from boligmix.mix.segregation.table import compute_cube, index_kind, load_slices
from boligmix.mix.segregation.validation import check_counts

Alternative = Literal["greater", "less", "two-sided"]


@dataclass(frozen=True)
class PermutationResult:
    """Observed index, its null distribution under random allocation and the p-value."""

    name: str
    statistic: float
    null_distribution: FloatArray
    p_value: float
    alternative: Alternative

    @property
    def null_mean(self) -> float:
        """Expected value under random allocation (the index's small-unit bias)."""
        return float(np.nanmean(self.null_distribution))

    @property
    def n_permutations(self) -> int:
        return int(self.null_distribution.size)


def random_allocations(counts: npt.ArrayLike, n: int, rng: np.random.Generator) -> FloatArray:
    """`n` random allocations (n x units x groups) of the persons in `counts` (units x groups).

    Each draw keeps every unit's size and every group's total; given those, all allocations
    of persons to places are equally likely (unit by unit, group by group, each count is a
    hypergeometric draw from what is left).
    """
    table = np.asarray(counts, dtype=np.int64)
    n_units, n_groups = table.shape
    left = np.broadcast_to(table.sum(axis=0), (n, n_groups)).copy()  # persons not yet placed, per group
    draws = np.zeros((n, n_units, n_groups), dtype=np.float64)
    for i, size in enumerate(table.sum(axis=1)):
        if size == 0:
            continue
        to_place = np.full(n, size, dtype=np.int64)
        later_groups = left.sum(axis=1)
        for k in range(n_groups - 1):
            later_groups -= left[:, k]  # persons left in groups k+1, ...
            placed = rng.hypergeometric(left[:, k], later_groups, to_place)
            draws[:, i, k] = placed
            left[:, k] -= placed
            to_place -= placed
        draws[:, i, -1] = to_place
        left[:, -1] -= to_place
    return draws


def permutation_test(
    index: str,
    counts: npt.ArrayLike,
    *,
    rng: np.random.Generator,
    total: npt.ArrayLike | None = None,
    n_permutations: int = 999,
    alternative: Alternative = "greater",
    batch_size: int = 250,
) -> PermutationResult:
    """Test whether `index` differs from what random allocation of persons to units gives.

    For a two-group index, `counts` is the group count per unit and `total` the unit totals;
    for a multigroup index, `counts` is a units x groups array (no `total`). The p-value is
    (1 + #{null >= observed}) / (1 + n_permutations) for "greater" ("less" mirrors it,
    "two-sided" doubles the smaller, capped at 1).
    """
    _check_options(rng, n_permutations, batch_size, alternative)
    spec = INDICES.get(index)
    if spec is None:
        raise SegregationSpecError(f"unknown index {index!r}; known: {', '.join(INDICES)}")
    table = _partition(spec, counts, total)
    return _test_many([spec], table, rng, n_permutations, alternative, batch_size)[0]


def permutation_table(
    counts: pl.DataFrame,
    *,
    unit: str,
    groups: Sequence[str],
    rng: np.random.Generator,
    total: str | None = None,
    by: Sequence[str] = (),
    indices: Sequence[str] | None = None,
    n_permutations: int = 999,
    alternative: Alternative = "greater",
    source: str | None = None,
) -> pl.DataFrame:
    """Permutation tests of every index in every slice: rows (by..., index, value, null_mean, p_value).

    Same input rules as `segregation_table`. All indices of a slice share the same draws;
    slices are processed in the order of their `by` values with the one generator, so the
    result depends only on the data and the seed. Undefined indices give null in all three
    columns.
    """
    _check_options(rng, n_permutations, 250, alternative)
    specs = select_indices(index_kind(groups, total), indices)
    slices = load_slices(counts, unit=unit, groups=groups, total=total, by=by, source=source)
    keys, n_slices = slices.keys, slices.cube.shape[0]
    cube = slices.cube
    if slices.kind == "two_group":  # (group, total) -> (group, rest): a partition of each unit
        cube = np.stack([cube[..., 0], cube[..., 1] - cube[..., 0]], axis=-1)
    rows: list[tuple[float | None, float | None, float | None]] = []
    for s in range(n_slices):
        table = cube[s][cube[s].sum(axis=1) > 0]  # empty units change no index
        for result in _test_many(specs, table, rng, n_permutations, alternative, 250, strict=False):
            rows.append((result.statistic, result.null_mean, result.p_value) if result is not None
                        else (None, None, None))
    out = pl.DataFrame(
        {"index": [spec.name for spec in specs] * n_slices,
         "value": [r[0] for r in rows], "null_mean": [r[1] for r in rows], "p_value": [r[2] for r in rows]},
        schema={"index": pl.String, "value": pl.Float64, "null_mean": pl.Float64, "p_value": pl.Float64},
    )
    if keys.width:
        out = pl.concat([keys[np.repeat(np.arange(n_slices), len(specs))], out], how="horizontal")
    return out


def _test_many(specs: Sequence[IndexSpec], table: FloatArray, rng: np.random.Generator, n_permutations: int,
               alternative: Alternative, batch_size: int, *,
               strict: bool = True) -> list[PermutationResult | None]:
    """Observed value and null distribution of each index, the draws shared by all of them."""
    observed = (_evaluate(specs, table[None, ...])[:, 0].tolist() if table.size
                else [float("nan")] * len(specs))
    undefined = [np.isnan(value) for value in observed]
    if strict and any(undefined):
        raise IndexUndefinedError(f"{specs[undefined.index(True)].name} is undefined for these data; "
                                  "nothing to test")
    if all(undefined):
        return [None] * len(specs)
    null = np.empty((len(specs), n_permutations), dtype=np.float64)
    for start in range(0, n_permutations, batch_size):
        stop = min(start + batch_size, n_permutations)
        null[:, start:stop] = _evaluate(specs, random_allocations(table, stop - start, rng))
    return [
        None if undefined[j] else PermutationResult(
            spec.name, observed[j], null[j], _p_value(observed[j], null[j], alternative), alternative)
        for j, spec in enumerate(specs)
    ]


def _check_options(rng: object, n_permutations: int, batch_size: int, alternative: str) -> None:
    if not isinstance(rng, np.random.Generator):
        raise SegregationSpecError("rng must be a numpy.random.Generator (seeded by the caller)")
    if n_permutations < 1 or batch_size < 1:
        raise SegregationSpecError("n_permutations and batch_size must be at least 1")
    if alternative not in ("greater", "less", "two-sided"):
        raise SegregationSpecError(f"unknown alternative {alternative!r}")


def _partition(spec: IndexSpec, counts: npt.ArrayLike, total: npt.ArrayLike | None) -> FloatArray:
    """Units x groups counts that partition each unit (group, rest for two-group indices)."""
    values = as_float(counts)
    if spec.kind == "two_group":
        if total is None or values.ndim != 1:
            raise SegregationSpecError(f"{spec.name} needs 1-D group counts and a total")
        totals = as_float(total)
        check_counts(np.column_stack([values, totals]), ["group", "total"])
        if np.any(values > totals):
            raise SegregationSpecError("a group count exceeds its unit's total")
        return np.column_stack([values, totals - values])
    if total is not None or values.ndim != 2:
        raise SegregationSpecError(f"{spec.name} needs a units x groups array and no total")
    check_counts(values, [f"group {k + 1}" for k in range(values.shape[1])])
    return values


def _evaluate(specs: Sequence[IndexSpec], draws: FloatArray) -> FloatArray:
    """Every index (rows) of every draw (columns); `draws` is draws x units x groups, a partition."""
    if specs[0].kind == "two_group":  # (group, rest) -> (group, total)
        draws = np.stack([draws[..., 0], draws.sum(axis=-1)], axis=-1)
    return compute_cube(draws, specs[0].kind, specs)


def _p_value(observed: float, null: FloatArray, alternative: Alternative) -> float:
    finite = null[~np.isnan(null)]
    n = finite.size
    upper = (1 + np.count_nonzero(finite >= observed)) / (n + 1)
    lower = (1 + np.count_nonzero(finite <= observed)) / (n + 1)
    if alternative == "greater":
        return float(upper)
    if alternative == "less":
        return float(lower)
    return float(min(1.0, 2 * min(upper, lower)))


__all__ = ["PermutationResult", "permutation_table", "permutation_test", "random_allocations"]
