"""Segregation indices: two-group and multigroup, for residents and flows, per slice.

- `two_group`, `multigroup`: one pure, vectorised function per index (PySAL `segregation`
  definitions, written from the cited formulas).
- `registry`: `INDICES` (name -> `IndexSpec`), `IndexResult` (.name, .statistic).
- `table.segregation_table`: tidy (by..., index, value) rows for every slice of a count table.
- `decomposition`: Theil's H split into between- and within-region parts.
- `inference`: permutation tests (one data set or every slice of a table) with an injected
  `numpy.random.Generator`.
- `counts.wide_counts`: one row per person -> one count column per group (+ total).
- `units_csv`: the one-row-per-unit CSV format of `boligmix segregation`.
"""

from boligmix.mix.segregation.counts import wide_counts
from boligmix.mix.segregation.decomposition import TheilDecomposition, theil_decomposition
from boligmix.mix.segregation.errors import IndexUndefinedError, SegregationSpecError
from boligmix.mix.segregation.registry import (
    INDICES,
    MULTIGROUP_INDICES,
    TWO_GROUP_INDICES,
    IndexResult,
    IndexSpec,
    multigroup_indices,
    two_group_indices,
)
from boligmix.mix.segregation.inference import (
    PermutationResult,
    permutation_table,
    permutation_test,
    random_allocations,
)
from boligmix.mix.segregation.table import segregation_table

__all__ = [
    "INDICES",
    "MULTIGROUP_INDICES",
    "TWO_GROUP_INDICES",
    "IndexResult",
    "IndexSpec",
    "IndexUndefinedError",
    "PermutationResult",
    "SegregationSpecError",
    "TheilDecomposition",
    "multigroup_indices",
    "permutation_table",
    "permutation_test",
    "random_allocations",
    "segregation_table",
    "theil_decomposition",
    "two_group_indices",
    "wide_counts",
]
