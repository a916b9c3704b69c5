"""The registry of indices and the thin result object.

`TWO_GROUP_INDICES` and `MULTIGROUP_INDICES` map an index name (as used in tables and the
CLI) to its `IndexSpec`, in the order of the PySAL classes they correspond to.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from boligmix.mix.segregation import multigroup, two_group
from boligmix.mix.segregation._arrays import FloatArray
from boligmix.mix.segregation.errors import IndexUndefinedError, SegregationSpecError

IndexKind = Literal["two_group", "multigroup"]


@dataclass(frozen=True)
class IndexSpec:
    """One index: its name, kind, vectorised function, PySAL counterpart and reference.

    `function` takes counts ((group, total) or the multigroup array); `kernel` takes the
    prepared data (`two_group.prepare` / `multigroup.prepare`), so many indices of the same
    data share one preparation.
    """

    name: str
    kind: IndexKind
    function: Callable[..., FloatArray]
    kernel: Callable[..., FloatArray]
    pysal_class: str
    reference: str


@dataclass(frozen=True)
class IndexResult:
    """The value of one index on one data set."""

    name: str
    statistic: float

    def __float__(self) -> float:
        return self.statistic


_MD = "Massey & Denton (1988)"
_RF = "Reardon & Firebaugh (2002)"


def _two(name: str, pysal_class: str, reference: str) -> IndexSpec:
    return IndexSpec(name, "two_group", getattr(two_group, name), getattr(two_group, f"{name}_of"),
                     pysal_class, reference)


def _multi(name: str, pysal_class: str, reference: str) -> IndexSpec:
    return IndexSpec(name, "multigroup", getattr(multigroup, name), getattr(multigroup, f"{name}_of"),
                     pysal_class, reference)


TWO_GROUP_INDICES: Mapping[str, IndexSpec] = {
    spec.name: spec
    for spec in (
        _two("dissimilarity", "Dissim", f"Duncan & Duncan (1955); {_MD}"),
        _two("gini", "Gini", _MD),
        _two("entropy", "Entropy", f"Theil & Finizza (1971); {_MD}"),
        _two("isolation", "Isolation", f"Bell (1954); {_MD}"),
        _two("interaction", "Interaction", f"Bell (1954); {_MD}"),
        _two("atkinson", "Atkinson(b=0.5)", f"Atkinson (1970); {_MD}"),
        _two("correlation_ratio", "CorrelationR", f"White (1986); {_MD}"),
    )
}

MULTIGROUP_INDICES: Mapping[str, IndexSpec] = {
    spec.name: spec
    for spec in (
        _multi("multi_dissimilarity", "MultiDissim", "Sakoda (1981)"),
        _multi("multi_gini", "MultiGini", _RF),
        _multi("multi_information_theory", "MultiInfoTheory", f"Theil (1972); {_RF}"),
        _multi("multi_normalized_exposure", "MultiNormExposure", f"James & Taeuber (1985); {_RF}"),
    )
}

INDICES: Mapping[str, IndexSpec] = {**TWO_GROUP_INDICES, **MULTIGROUP_INDICES}


def select_indices(kind: IndexKind, names: Sequence[str] | None = None) -> list[IndexSpec]:
    """The specs of `kind` named in `names` (all of that kind, in registry order, when None)."""
    registry = TWO_GROUP_INDICES if kind == "two_group" else MULTIGROUP_INDICES
    if names is None:
        return list(registry.values())
    unknown = [name for name in names if name not in registry]
    if unknown:
        raise SegregationSpecError(
            f"unknown {kind.replace('_', '-')} index {', '.join(map(repr, unknown))}; "
            f"known: {', '.join(registry)}"
        )
    return [registry[name] for name in names]


def _result(spec: IndexSpec, value: FloatArray) -> IndexResult:
    statistic = float(value)
    if np.isnan(statistic):
        raise IndexUndefinedError(
            f"{spec.name} is undefined for these data (zero denominator: no population, "
            "or fewer than two groups present)"
        )
    return IndexResult(spec.name, statistic)


def two_group_indices(group: npt.ArrayLike, total: npt.ArrayLike,
                      names: Sequence[str] | None = None) -> list[IndexResult]:
    """Two-group indices of one data set (1-D arrays over units); raises if one is undefined."""
    if np.ndim(group) != 1:
        raise SegregationSpecError("two_group_indices takes one data set: 1-D arrays over units")
    return [_result(spec, spec.function(group, total)) for spec in select_indices("two_group", names)]


def multigroup_indices(counts: npt.ArrayLike, names: Sequence[str] | None = None) -> list[IndexResult]:
    """Multigroup indices of one data set (a units x groups array); raises if one is undefined."""
    if np.ndim(counts) != 2:
        raise SegregationSpecError("multigroup_indices takes one data set: a units x groups array")
    return [_result(spec, spec.function(counts)) for spec in select_indices("multigroup", names)]


__all__ = [
    "INDICES",
    "MULTIGROUP_INDICES",
    "TWO_GROUP_INDICES",
    "IndexResult",
    "IndexSpec",
    "multigroup_indices",
    "select_indices",
    "two_group_indices",
]
