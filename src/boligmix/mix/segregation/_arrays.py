"""Small numeric helpers shared by the index functions (no warnings, explicit zero handling)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def as_float(values: npt.ArrayLike) -> FloatArray:
    """`values` as a float64 array (a copy only when needed)."""
    return np.asarray(values, dtype=np.float64)


def safe_divide(numerator: npt.ArrayLike, denominator: npt.ArrayLike, fill: float = 0.0) -> FloatArray:
    """numerator / denominator, `fill` where the denominator is 0 (no warning)."""
    num, den = np.broadcast_arrays(as_float(numerator), as_float(denominator))
    out = np.full(num.shape, fill, dtype=np.float64)
    np.divide(num, den, out=out, where=den != 0)
    return out


def undefined_where(values: FloatArray, mask: npt.NDArray[np.bool_]) -> FloatArray:
    """`values` with NaN where `mask` is true (the index is undefined there)."""
    return np.where(mask, np.nan, values)


def x_log_x(p: FloatArray) -> FloatArray:
    """p * ln(p) with the convention 0 * ln(0) = 0."""
    out = np.zeros_like(p)
    np.multiply(p, np.log(p, out=np.ones_like(p), where=p > 0), out=out, where=p > 0)
    return out


def pairwise_abs_sum(weights: FloatArray, values: FloatArray) -> FloatArray:
    """sum_i sum_j w_i w_j |v_i - v_j| over the last axis (both orders, i.e. twice the i<j sum).

    O(n log n) by sorting: for values sorted ascending, the sum over i<j of w_i w_j (v_j - v_i)
    equals sum_j w_j (v_j W_j - S_j), with W_j and S_j the sums of w and w*v over i<j.
    """
    order = np.argsort(values, axis=-1, kind="stable")
    v = np.take_along_axis(values, order, axis=-1)
    w = np.take_along_axis(np.broadcast_to(weights, values.shape), order, axis=-1)
    zeros = np.zeros(v.shape[:-1] + (1,), dtype=np.float64)
    w_before = np.concatenate([zeros, np.cumsum(w, axis=-1)[..., :-1]], axis=-1)
    wv_before = np.concatenate([zeros, np.cumsum(w * v, axis=-1)[..., :-1]], axis=-1)
    return 2.0 * np.sum(w * (v * w_before - wv_before), axis=-1)
