"""Permutation inference for segregation indices under random allocation.

The null hypothesis is that people are allocated to units at random: unit sizes and group
totals stay as observed and the group labels of all persons are shuffled (a multivariate
hypergeometric allocation; PySAL `segregation` calls it "person_permutation"). Under this
null the indices are positive in expectation when units are small, so `null_mean` is worth
reporting next to the observed value. Randomness comes only from the injected
`numpy.random.Generator`: the same seed gives the same result.

Cost: O(n_permutations x persons) time; memory is bounded by `batch_size` draws at a time.

Reference: Allen, R., Burgess, S., Davidson, R. & Windmeijer, F. (2015). More reliable
inference for the dissimilarity index of segregation. The Econometrics Journal 18(1), 40-66;
Cortes, R.X., Rey, S., Knaap, E. & Wolf, L.J. (2020). An open-source framework for
non-spatial and spatial segregation measures. Journal of Computational Social Science 3, 135-166.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from boligmix.mix.segregation._arrays import FloatArray, as_float
from boligmix.mix.segregation.errors import IndexUndefinedError, SegregationSpecError
from boligmix.mix.segregation.registry import INDICES, IndexSpec
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
        return float(np.mean(self.null_distribution))

    @property
    def n_permutations(self) -> int:
        return int(self.null_distribution.size)


def permutation_test(
    index: str,
    counts: npt.ArrayLike,
    *,
    rng: np.random.Generator,
    total: npt.ArrayLike | None = None,
    n_permutations: int = 999,
    alternative: Alternative = "greater",
    batch_size: int = 100,
) -> PermutationResult:
    """Test whether `index` differs from what random allocation of persons to units gives.

    For a two-group index, `counts` is the group count per unit and `total` the unit totals;
    for a multigroup index, `counts` is a units x groups array (no `total`). The p-value is
    (1 + #{null >= observed}) / (1 + n_permutations) for "greater" ("less" mirrors it,
    "two-sided" doubles the smaller, capped at 1).
    """
    if not isinstance(rng, np.random.Generator):
        raise SegregationSpecError("rng must be a numpy.random.Generator (seeded by the caller)")
    if n_permutations < 1 or batch_size < 1:
        raise SegregationSpecError("n_permutations and batch_size must be at least 1")
    if alternative not in ("greater", "less", "two-sided"):
        raise SegregationSpecError(f"unknown alternative {alternative!r}")
    spec = INDICES.get(index)
    if spec is None:
        raise SegregationSpecError(f"unknown index {index!r}; known: {', '.join(INDICES)}")
    table = _partition(spec, counts, total)
    observed = float(_evaluate(spec, table[None, ...])[0])
    if np.isnan(observed):
        raise IndexUndefinedError(f"{index} is undefined for these data; nothing to test")

    unit_sizes = table.sum(axis=1).astype(np.int64)
    labels = np.repeat(np.arange(table.shape[1]), table.sum(axis=0).astype(np.int64))
    unit_of_person = np.repeat(np.arange(table.shape[0]), unit_sizes)
    null = np.empty(n_permutations, dtype=np.float64)
    n_cells = table.size
    for start in range(0, n_permutations, batch_size):
        stop = min(start + batch_size, n_permutations)
        draws = np.empty((stop - start, *table.shape), dtype=np.float64)
        for b in range(stop - start):
            shuffled = rng.permutation(labels)
            cells = np.bincount(unit_of_person * table.shape[1] + shuffled, minlength=n_cells)
            draws[b] = cells.reshape(table.shape)
        null[start:stop] = _evaluate(spec, draws)
    return PermutationResult(index, observed, null, _p_value(observed, null, alternative), alternative)


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


def _evaluate(spec: IndexSpec, draws: FloatArray) -> FloatArray:
    """The index of each draw (draws x units x groups)."""
    if spec.kind == "two_group":
        return spec.function(draws[..., 0], draws.sum(axis=-1))
    return spec.function(draws)


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


__all__ = ["PermutationResult", "permutation_test"]
