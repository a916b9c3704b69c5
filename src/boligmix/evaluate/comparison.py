"""Comparison units: nearest-neighbour "twins" and synthetic control with placebo-in-space inference.

* `twins`: for every treated unit, the `k` never-treated units closest on pre-treatment indicators (the
  means over the `pre_years` years before its first treated year), after standardising each indicator
  over the units compared (as Landsbyggefonden's twin-area tool matches on pre-period indicators).
* `synthetic_control`: non-negative donor weights adding up to one that reproduce the treated unit's
  outcome in the pre-treatment years as closely as possible (least squares, solved with scipy's SLSQP),
  the synthetic path, the gap, and the pre/post RMSPE. `placebo_in_space` re-runs it for every donor as
  if it were treated; the p-value is the treated unit's rank on post/pre RMSPE ratio among all of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import polars as pl
from scipy.optimize import minimize
from scipy.spatial.distance import cdist

from boligmix.errors import DataValidationError


def twins(panel: pd.DataFrame, features: Sequence[str], *, k: int = 3, pre_years: int = 3) -> pl.DataFrame:
    """`panel` has `_unit, _time, _g` and the feature columns. Returns treated_unit, first_treated_year,
    rank, twin_unit, distance and the treated unit's and the twin's pre-period feature means."""
    if k < 1:
        raise DataValidationError("k must be at least 1", column="k")
    never = panel[panel["_g"].isna()]
    if never["_unit"].nunique() == 0:
        raise DataValidationError("no never-treated unit to match with", column="treated-from")
    rows = []
    for g, cohort in panel[panel["_g"].notna()].groupby("_g"):
        window = (panel["_time"] >= g - pre_years) & (panel["_time"] < g)
        treated = cohort[window.loc[cohort.index]].groupby("_unit")[list(features)].mean()
        pool = never[window.loc[never.index]].groupby("_unit")[list(features)].mean()
        treated, pool = treated.dropna(), pool.dropna()
        if treated.empty or pool.empty:
            continue
        both = pd.concat([treated, pool])
        sd = both.std(ddof=0).replace(0, 1.0)
        mu = both.mean()
        dist = cdist(((treated - mu) / sd).to_numpy(), ((pool - mu) / sd).to_numpy())
        for i, unit in enumerate(treated.index):
            order = np.argsort(dist[i], kind="stable")[:k]
            for rank, j in enumerate(order, start=1):
                rows.append({"treated_unit": unit, "first_treated_year": int(g), "rank": rank,
                             "twin_unit": pool.index[j], "distance": float(dist[i, j]),
                             **{f"{f}_treated": float(treated.loc[unit, f]) for f in features},
                             **{f"{f}_twin": float(pool.iloc[j][f]) for f in features}})
    if not rows:
        raise DataValidationError(f"no treated unit has the features in the {pre_years} years before treatment",
                                  column=",".join(features))
    return pl.DataFrame(rows).sort("treated_unit", "rank")


@dataclass
class SyntheticControl:
    treated_unit: str
    first_year: int
    weights: pl.DataFrame
    """donor, weight"""
    path: pl.DataFrame
    """year, actual, synthetic, gap"""
    pre_rmspe: float
    post_rmspe: float
    att: float
    """Mean gap over the post-treatment years."""

    @property
    def ratio(self) -> float:
        return self.post_rmspe / self.pre_rmspe if self.pre_rmspe > 0 else float("inf")


def _wide(panel: pd.DataFrame) -> pd.DataFrame:
    return panel.pivot(index="_time", columns="_unit", values="_y").sort_index()


def synthetic_control(panel: pd.DataFrame, treated_unit: str, first_year: int, *,
                      donors: Sequence[str] | None = None) -> SyntheticControl:
    """Synthetic control of `treated_unit` from `donors` (default: the never-treated units)."""
    wide = _wide(panel)
    if treated_unit not in wide.columns:
        raise DataValidationError(f"unit {treated_unit} is not in the panel", column="unit")
    if donors is None:
        donors = sorted(panel.loc[panel["_g"].isna(), "_unit"].unique())
    donors = [d for d in donors if d != treated_unit]
    wide = wide[[treated_unit, *donors]].dropna()
    pre, post = wide[wide.index < first_year], wide[wide.index >= first_year]
    if len(pre) < 2 or post.empty or len(donors) < 2:
        raise DataValidationError(f"synthetic control needs two or more donors and pre- and post-years around "
                                  f"{first_year} with the outcome in every donor ({len(donors)} donors, "
                                  f"{len(pre)} pre-years, {len(post)} post-years)", column="treated-from")
    y1, Y0 = pre[treated_unit].to_numpy(), pre[donors].to_numpy()
    scale = max(float(np.abs(Y0).max()), 1.0)
    n = len(donors)
    res = minimize(lambda w: float(np.sum((y1 - Y0 @ w) ** 2)) / scale**2, np.full(n, 1.0 / n),
                   jac=lambda w: -2 * Y0.T @ (y1 - Y0 @ w) / scale**2, method="SLSQP",
                   bounds=[(0.0, 1.0)] * n, constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1.0,
                                                           "jac": lambda w: np.ones_like(w)}],
                   options={"ftol": 1e-14, "maxiter": 1000})
    w = np.clip(res.x, 0, None)
    w = w / w.sum()
    synth = wide[donors].to_numpy() @ w
    gap = wide[treated_unit].to_numpy() - synth
    is_post = wide.index.to_numpy() >= first_year
    path = pl.DataFrame({"year": wide.index.to_numpy().astype(np.int64), "actual": wide[treated_unit].to_numpy(),
                         "synthetic": synth, "gap": gap})
    return SyntheticControl(treated_unit, first_year, pl.DataFrame({"donor": donors, "weight": w}).sort(
        "weight", descending=True), path, float(np.sqrt(np.mean(gap[~is_post] ** 2))),
        float(np.sqrt(np.mean(gap[is_post] ** 2))), float(np.mean(gap[is_post])))


def placebo_in_space(panel: pd.DataFrame, treated_unit: str, first_year: int) -> tuple[pl.DataFrame, float]:
    """Every donor in turn as the treated unit (the real one left out of its donors). Returns
    unit, placebo (bool), pre_rmspe, post_rmspe, ratio, att, and the p-value
    (rank of the treated unit's ratio, highest first, over all units)."""
    main = synthetic_control(panel, treated_unit, first_year)
    donors = main.weights["donor"].to_list()
    rows = [{"unit": treated_unit, "placebo": False, "pre_rmspe": main.pre_rmspe, "post_rmspe": main.post_rmspe,
             "ratio": main.ratio, "att": main.att}]
    for d in donors:
        sc = synthetic_control(panel, d, first_year, donors=[x for x in donors if x != d])
        rows.append({"unit": d, "placebo": True, "pre_rmspe": sc.pre_rmspe, "post_rmspe": sc.post_rmspe,
                     "ratio": sc.ratio, "att": sc.att})
    frame = pl.DataFrame(rows).sort("ratio", descending=True)
    rank = int(np.sum(frame["ratio"].to_numpy() >= main.ratio))
    return frame, rank / frame.height
