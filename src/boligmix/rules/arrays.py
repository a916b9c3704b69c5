"""The evaluator on numpy arrays: the same parsed conditions, vectorised over broadcasting arrays.

`evaluate_frame` (polars) is the backend for data frames; this one is for callers that evaluate
a rule thousands of times on arrays (the synthetic generator's design loop classifies a grid of
shifts x noise replicates x areas at once). Semantics are those of `evaluator.evaluate`: Kleene
three-valued logic with NaN as a missing fact; the result is an int8 array of `Truth` values
(FALSE 0, UNKNOWN 1, TRUE 2), so `result == TRUE` is "holds".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from boligmix.errors import DataValidationError
from boligmix.rules.evaluator import All, Any_, AtLeast, Compare, Condition, In, Known, Not, _threshold
from boligmix.rules.truth import Truth

FALSE, UNKNOWN, TRUE = (np.int8(t.value) for t in (Truth.FALSE, Truth.UNKNOWN, Truth.TRUE))

_OPS = {">": np.greater, ">=": np.greater_equal, "<": np.less, "<=": np.less_equal,
        "==": np.equal, "!=": np.not_equal}


def _facts(facts: Mapping[str, Any], field: str) -> np.ndarray:
    if field not in facts:
        raise DataValidationError(f"no array for field '{field}' (given: {', '.join(sorted(facts))})", column=field)
    return np.asarray(facts[field], dtype=float)


Pair = tuple[np.ndarray, "np.ndarray | None"]
"""(TRUE mask, UNKNOWN mask or None when nothing is unknown); the two masks never overlap."""


def _leaf(values: np.ndarray, truth: np.ndarray) -> Pair:
    missing = np.isnan(values)
    if not missing.any():
        return np.asarray(truth, bool), None
    return np.asarray(truth, bool) & ~missing, missing


def _or(a: np.ndarray | None, b: np.ndarray | None) -> np.ndarray | None:
    return b if a is None else (a if b is None else a | b)


def _pair(cond: Condition, facts: Mapping[str, Any], constants: Mapping[str, Any]) -> Pair:
    if isinstance(cond, Compare):
        values = _facts(facts, cond.field)
        threshold = _threshold(cond, constants)
        if threshold is None:
            return np.zeros(values.shape, bool), np.ones(values.shape, bool)
        with np.errstate(invalid="ignore"):
            return _leaf(values, _OPS[cond.op](values, float(threshold)))
    if isinstance(cond, Known):
        return ~np.isnan(_facts(facts, cond.field)), None
    if isinstance(cond, In):
        values = _facts(facts, cond.field)
        return _leaf(values, np.isin(values, [float(v) for v in cond.values]))
    if isinstance(cond, Not):
        t, u = _pair(cond.child, facts, constants)
        return (~t if u is None else ~t & ~u), u
    pairs = [_pair(c, facts, constants) for c in getattr(cond, "children", ())]
    if isinstance(cond, All):
        t, unknown, false = pairs[0][0], None, None
        for ti, ui in pairs[1:]:
            t = t & ti
        for ti, ui in pairs:
            unknown = _or(unknown, ui)
        if unknown is None:
            return t, None
        for ti, ui in pairs:
            false = _or(false, ~ti if ui is None else ~ti & ~ui)
        return t, unknown & ~false
    if isinstance(cond, Any_):
        t, unknown = pairs[0][0], None
        for ti, _ in pairs[1:]:
            t = t | ti
        for _, ui in pairs:
            unknown = _or(unknown, ui)
        return t, (None if unknown is None else unknown & ~t)
    if isinstance(cond, AtLeast):
        n_true = sum(ti.astype(np.int16) for ti, _ in pairs)
        t = np.asarray(n_true >= cond.n)
        unknowns = [ui for _, ui in pairs if ui is not None]
        if not unknowns:
            return t, None
        return t, ~t & (n_true + sum(ui.astype(np.int16) for ui in unknowns) >= cond.n)
    raise TypeError(f"not a condition node: {cond!r}")


def evaluate_arrays(cond: Condition, facts: Mapping[str, Any],
                    constants: Mapping[str, Any] | None = None) -> np.ndarray:
    """Truth values (int8 array, the broadcast shape of the fields read) of `cond` for array facts."""
    t, u = _pair(cond, facts, constants or {})
    codes = np.where(t, TRUE, FALSE).astype(np.int8)
    if u is not None:
        codes[np.broadcast_to(u, codes.shape)] = UNKNOWN
    return codes


def holds(cond: Condition, facts: Mapping[str, Any], constants: Mapping[str, Any] | None = None) -> np.ndarray:
    """Boolean array: where `cond` is TRUE (FALSE and UNKNOWN give False)."""
    return _pair(cond, facts, constants or {})[0]


__all__ = ["FALSE", "TRUE", "UNKNOWN", "evaluate_arrays", "holds"]
