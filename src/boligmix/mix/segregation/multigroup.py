"""Multigroup segregation indices, vectorised over leading slice axes.

Every function takes `counts`, an array of shape (..., units, groups) whose groups partition
each unit's population, and returns one value per slice (shape (...)). The definitions are
those of Reardon & Firebaugh (2002) as implemented in PySAL `segregation` (`MultiDissim`,
`MultiGini`, `MultiInfoTheory`, `MultiNormExposure`); the code here is written from the formulas.

Notation: c_ik count of group k in unit i, t_i = sum_k c_ik, p_ik = c_ik / t_i (0 when
t_i = 0), T = sum_i t_i, P_k = sum_i c_ik / T, I = sum_k P_k (1 - P_k) (Simpson's
interaction index), E = sum_k P_k ln(1/P_k) (entropy, with 0 ln(1/0) = 0).

Units with t_i = 0 contribute nothing. Groups absent everywhere (P_k = 0) contribute nothing
either; PySAL returns NaN for `MultiInfoTheory` in that case (its E sums 0 * ln(1/0)), here
the limit 0 ln 0 = 0 is used, which equals the index computed without that group. A value is
NaN where the index is undefined: T = 0 or fewer than two groups present (I = E = 0).

References
----------
- Sakoda, J.M. (1981). A generalized index of dissimilarity. Demography 18(2), 245-250.
- Reardon, S.F. & Firebaugh, G. (2002). Measures of multigroup segregation.
  Sociological Methodology 32(1), 33-67.
- Theil, H. (1972). Statistical Decomposition Analysis. North-Holland.
- James, D.R. & Taeuber, K.E. (1985). Measures of segregation. Sociological Methodology 15, 1-32.
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
class MultiGroupData:
    """The shared quantities of a multigroup computation."""

    c: FloatArray  # (..., U, K) counts
    t: FloatArray  # (..., U) unit totals
    p: FloatArray  # (..., U, K) unit composition, 0 where t = 0
    T: FloatArray  # (...) population total
    P: FloatArray  # (..., K) overall composition

    @property
    def degenerate(self) -> npt.NDArray[np.bool_]:
        """No population or fewer than two groups present."""
        return (self.T == 0) | (np.count_nonzero(self.P > 0, axis=-1) < 2)

    @property
    def simpson_interaction(self) -> FloatArray:
        """I = sum_k P_k (1 - P_k)."""
        return np.sum(self.P * (1.0 - self.P), axis=-1)


def prepare(counts: npt.ArrayLike) -> MultiGroupData:
    """Check the counts and compute the quantities every multigroup index uses."""
    c = as_float(counts)
    if c.ndim < 2:
        raise SegregationSpecError(f"counts must have shape (..., units, groups) (got {c.shape})")
    if np.any(c < 0):
        raise DataValidationError("counts must be non-negative")
    t = c.sum(axis=-1)
    T = t.sum(axis=-1)
    return MultiGroupData(c=c, t=t, p=safe_divide(c, t[..., None]), T=T,
                       P=safe_divide(c.sum(axis=-2), T[..., None]))


def multi_dissimilarity(counts: npt.ArrayLike) -> FloatArray:
    """Multigroup dissimilarity D = sum_i sum_k t_i |p_ik - P_k| / (2 T I), in [0, 1] (Sakoda 1981)."""
    return multi_dissimilarity_of(prepare(counts))


def multi_dissimilarity_of(m: MultiGroupData) -> FloatArray:
    """`multi_dissimilarity` of prepared data."""
    num = np.sum(m.t[..., None] * np.abs(m.p - m.P[..., None, :]), axis=(-2, -1))
    return undefined_where(safe_divide(num, 2.0 * m.T * m.simpson_interaction), m.degenerate)


def multi_gini(counts: npt.ArrayLike) -> FloatArray:
    """Multigroup Gini G = sum_k sum_i sum_j t_i t_j |p_ik - p_jk| / (2 T^2 I), in [0, 1].

    (Reardon & Firebaugh 2002, eq. 11.)
    """
    return multi_gini_of(prepare(counts))


def multi_gini_of(m: MultiGroupData) -> FloatArray:
    """`multi_gini` of prepared data."""
    shares_by_group = np.moveaxis(m.p, -1, -2)  # (..., K, U)
    num = np.sum(pairwise_abs_sum(m.t[..., None, :], shares_by_group), axis=-1)
    return undefined_where(safe_divide(num, 2.0 * m.T**2 * m.simpson_interaction), m.degenerate)


def group_entropy(shares: FloatArray) -> FloatArray:
    """E = sum_k P_k ln(1/P_k) over the last axis, with 0 ln(1/0) = 0."""
    return -np.sum(x_log_x(shares), axis=-1)


def multi_information_theory(counts: npt.ArrayLike) -> FloatArray:
    """Theil's information theory index H = sum_i sum_k t_i p_ik ln(p_ik / P_k) / (T E), in [0, 1].

    Equivalently H = sum_i t_i (E - E_i) / (T E): the relative reduction in entropy from
    knowing the unit (Theil 1972; Reardon & Firebaugh 2002, eq. 15).
    """
    return multi_information_theory_of(prepare(counts))


def multi_information_theory_of(m: MultiGroupData) -> FloatArray:
    """`multi_information_theory` of prepared data."""
    ratio = safe_divide(m.p, m.P[..., None, :], fill=1.0)
    terms = m.t[..., None] * m.p * np.log(np.where(m.p > 0, ratio, 1.0))
    e_all = group_entropy(m.P)
    return undefined_where(safe_divide(np.sum(terms, axis=(-2, -1)), m.T * e_all), m.degenerate)


def multi_normalized_exposure(counts: npt.ArrayLike) -> FloatArray:
    """Normalised exposure P = sum_i sum_k t_i (p_ik - P_k)^2 / (1 - P_k) / T, in [0, 1].

    (James & Taeuber 1985; Reardon & Firebaugh 2002, eq. 13.)
    """
    return multi_normalized_exposure_of(prepare(counts))


def multi_normalized_exposure_of(m: MultiGroupData) -> FloatArray:
    """`multi_normalized_exposure` of prepared data."""
    one_minus = 1.0 - m.P[..., None, :]
    terms = safe_divide(m.t[..., None] * (m.p - m.P[..., None, :]) ** 2, one_minus)
    return undefined_where(safe_divide(np.sum(terms, axis=(-2, -1)), m.T), m.degenerate)


__all__ = [
    "MultiGroupData",
    "group_entropy",
    "multi_dissimilarity",
    "multi_dissimilarity_of",
    "multi_gini",
    "multi_gini_of",
    "multi_information_theory",
    "multi_information_theory_of",
    "multi_normalized_exposure",
    "multi_normalized_exposure_of",
    "prepare",
]
