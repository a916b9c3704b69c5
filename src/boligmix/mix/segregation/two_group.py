"""Two-group (single-group) segregation indices, vectorised over leading slice axes.

Every function takes `group` and `total`, arrays of shape (..., units) holding the count of
the group of interest and the total count of each spatial unit, and returns one value per
slice (shape (...)). The definitions are those of Massey & Denton (1988) as implemented in
PySAL `segregation` (`Dissim`, `Gini`, `Entropy`, `Isolation`, `Interaction`, `Atkinson`,
`CorrelationR`); the code here is written from the formulas.

Notation: x_i group count, t_i total of unit i, p_i = x_i / t_i (0 when t_i = 0),
X = sum x_i, T = sum t_i, P = X / T.

Units with t_i = 0 contribute nothing to any index (the same as leaving them out). A value
is NaN where the index is undefined because a denominator is zero: T = 0, or P = 0 or P = 1
for indices normalised by P(1-P) (isolation and interaction are only undefined for X = 0).

References
----------
- Massey, D.S. & Denton, N.A. (1988). The dimensions of residential segregation.
  Social Forces 67(2), 281-315.
- Duncan, O.D. & Duncan, B. (1955). A methodological analysis of segregation indexes.
  American Sociological Review 20(2), 210-217.
- Theil, H. & Finizza, A.J. (1971). A note on the measurement of racial integration of
  schools by means of informational concepts. Journal of Mathematical Sociology 1, 187-194.
- Bell, W. (1954). A probability model for the measurement of ecological segregation.
  Social Forces 32(4), 357-364.
- Atkinson, A.B. (1970). On the measurement of inequality. Journal of Economic Theory 2, 244-263.
- White, M.J. (1986). Segregation and diversity measures in population distribution.
  Population Index 52(2), 198-221.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from boligmix.errors import DataValidationError
from boligmix.mix.segregation._arrays import (
    FloatArray,
    as_float,
    pairwise_abs_sum,
    safe_divide,
    undefined_where,
    x_log_x,
)
from boligmix.mix.segregation.errors import SegregationSpecError


@dataclass(frozen=True)
class TwoGroupData:
    """The shared quantities of a two-group computation."""

    x: FloatArray  # (..., U) group counts
    t: FloatArray  # (..., U) totals
    p: FloatArray  # (..., U) group share per unit, 0 where t = 0
    X: FloatArray  # (...) group total
    T: FloatArray  # (...) population total
    P: FloatArray  # (...) overall group share (0 where T = 0)

    @property
    def share_degenerate(self) -> npt.NDArray[np.bool_]:
        """P(1-P) = 0: no population, the group absent, or everybody in the group."""
        return (self.T == 0) | (self.X == 0) | (self.X == self.T)


def prepare(group: npt.ArrayLike, total: npt.ArrayLike) -> TwoGroupData:
    """Check the counts and compute the quantities every two-group index uses."""
    x, t = as_float(group), as_float(total)
    if x.shape != t.shape or x.ndim == 0:
        raise SegregationSpecError(f"group and total must have the same shape (got {x.shape} and {t.shape})")
    if np.any(x < 0) or np.any(t < 0):
        raise DataValidationError("counts must be non-negative")
    if np.any(x > t):
        raise DataValidationError("a group count exceeds its unit's total")
    X, T = x.sum(axis=-1), t.sum(axis=-1)
    return TwoGroupData(x=x, t=t, p=safe_divide(x, t), X=X, T=T, P=safe_divide(X, T))


def dissimilarity(group: npt.ArrayLike, total: npt.ArrayLike) -> FloatArray:
    """Index of dissimilarity D = sum_i t_i |p_i - P| / (2 T P (1 - P)), in [0, 1].

    The share of the group that would have to move to give every unit the overall
    composition (Duncan & Duncan 1955; Massey & Denton 1988, evenness).
    """
    return dissimilarity_of(prepare(group, total))


def dissimilarity_of(d: TwoGroupData) -> FloatArray:
    """`dissimilarity` of prepared data."""
    num = np.sum(d.t * np.abs(d.p - d.P[..., None]), axis=-1)
    den = 2.0 * d.T * d.P * (1.0 - d.P)
    return undefined_where(safe_divide(num, den), d.share_degenerate)


def gini(group: npt.ArrayLike, total: npt.ArrayLike) -> FloatArray:
    """Gini index G = sum_i sum_j t_i t_j |p_i - p_j| / (2 T^2 P (1 - P)), in [0, 1].

    Mean absolute difference of unit shares weighted by unit size (Massey & Denton 1988).
    """
    return gini_of(prepare(group, total))


def gini_of(d: TwoGroupData) -> FloatArray:
    """`gini` of prepared data."""
    num = pairwise_abs_sum(d.t, d.p)
    den = 2.0 * d.T**2 * d.P * (1.0 - d.P)
    return undefined_where(safe_divide(num, den), d.share_degenerate)


def _binary_entropy(p: FloatArray) -> FloatArray:
    """E(p) = p ln(1/p) + (1 - p) ln(1/(1 - p)), with 0 ln(1/0) = 0."""
    return -(x_log_x(p) + x_log_x(1.0 - p))


def entropy(group: npt.ArrayLike, total: npt.ArrayLike) -> FloatArray:
    """Theil's entropy (information theory) index H = sum_i t_i (E - E_i) / (E T), in [0, 1].

    E is the binary entropy of the overall share P, E_i of unit share p_i
    (Theil & Finizza 1971; Massey & Denton 1988).
    """
    return entropy_of(prepare(group, total))


def entropy_of(d: TwoGroupData) -> FloatArray:
    """`entropy` of prepared data."""
    e_all = _binary_entropy(d.P)
    num = np.sum(d.t * (e_all[..., None] - _binary_entropy(d.p)), axis=-1)
    return undefined_where(safe_divide(num, e_all * d.T), d.share_degenerate)


def isolation(group: npt.ArrayLike, total: npt.ArrayLike) -> FloatArray:
    """Isolation xPx = sum_i (x_i / X)(x_i / t_i), in [P, 1] (xPx >= P by Cauchy-Schwarz).

    The share of the group in the unit of the average group member (Bell 1954;
    Massey & Denton 1988, exposure). Undefined when X = 0.
    """
    return isolation_of(prepare(group, total))


def isolation_of(d: TwoGroupData) -> FloatArray:
    """`isolation` of prepared data."""
    value = np.sum(safe_divide(d.x, d.X[..., None]) * d.p, axis=-1)
    return undefined_where(value, d.X == 0)


def interaction(group: npt.ArrayLike, total: npt.ArrayLike) -> FloatArray:
    """Interaction xPy = sum_i (x_i / X)((t_i - x_i) / t_i) = 1 - xPx, in [0, 1].

    Exposure of the group to the other group: the other group's share in the unit of the
    average group member (Bell 1954; Massey & Denton 1988). Undefined when X = 0.
    """
    return interaction_of(prepare(group, total))


def interaction_of(d: TwoGroupData) -> FloatArray:
    """`interaction` of prepared data."""
    other_share = safe_divide(d.t - d.x, d.t)
    value = np.sum(safe_divide(d.x, d.X[..., None]) * other_share, axis=-1)
    return undefined_where(value, d.X == 0)


def atkinson(group: npt.ArrayLike, total: npt.ArrayLike, *, b: float = 0.5) -> FloatArray:
    """Atkinson index A = 1 - P/(1-P) |sum_i (1-p_i)^(1-b) p_i^b t_i / (P T)|^(1/(1-b)), in [0, 1].

    `b` in (0, 1) weights the tails: b = 0.5 weights both groups equally (Atkinson 1970;
    James & Taeuber 1985; Massey & Denton 1988, evenness).
    """
    return atkinson_of(prepare(group, total), b=b)


def atkinson_of(d: TwoGroupData, *, b: float = 0.5) -> FloatArray:
    """`atkinson` of prepared data."""
    if not 0.0 < b < 1.0:
        raise SegregationSpecError(f"Atkinson's b must lie strictly between 0 and 1 (got {b})")
    inner = np.sum((1.0 - d.p) ** (1.0 - b) * d.p**b * d.t, axis=-1)
    ratio = np.abs(safe_divide(inner, d.P * d.T)) ** (1.0 / (1.0 - b))
    value = 1.0 - safe_divide(d.P, 1.0 - d.P) * ratio
    return undefined_where(value, d.share_degenerate)


def correlation_ratio(group: npt.ArrayLike, total: npt.ArrayLike) -> FloatArray:
    """Correlation ratio (eta squared) V = (xPx - P) / (1 - P), isolation net of the group share.

    In [0, 1] (Bell 1954; White 1986; Massey & Denton 1988). Undefined when P = 0 or P = 1.
    """
    return correlation_ratio_of(prepare(group, total))


def correlation_ratio_of(d: TwoGroupData) -> FloatArray:
    """`correlation_ratio` of prepared data."""
    xpx = np.sum(safe_divide(d.x, d.X[..., None]) * d.p, axis=-1)
    value = safe_divide(xpx - d.P, 1.0 - d.P)
    return undefined_where(value, d.share_degenerate)


__all__ = [
    "TwoGroupData",
    "atkinson",
    "atkinson_of",
    "correlation_ratio",
    "correlation_ratio_of",
    "dissimilarity",
    "dissimilarity_of",
    "entropy",
    "entropy_of",
    "gini",
    "gini_of",
    "interaction",
    "interaction_of",
    "isolation",
    "isolation_of",
    "prepare",
]
