"""Synthetic unit x year panels with a known injected effect, for tests, benchmarks and the demo.

`staggered_panel` draws units in adoption cohorts; the effect in a treated unit-year is
`base + growth * (year - first treated year)` (times a cohort factor), so it grows with exposure:
the setting where plain TWFE is biased and `sunab`/`did2s` are not. `true_att` is the truth the
estimators' `ATT` targets: the mean effect over treated post-treatment unit-years.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl


def staggered_panel(
    rng: np.random.Generator,
    *,
    n_units: int = 60,
    years: tuple[int, int] = (2005, 2020),
    cohorts: Sequence[int] = (2009, 2012, 2015),
    never_share: float = 0.25,
    base: float = 1.0,
    growth: float = 0.5,
    cohort_factor: Sequence[float] | None = None,
    noise_sd: float = 1.0,
    unit_sd: float = 2.0,
    drop_share: float = 0.0,
    n_clusters: int | None = None,
) -> pl.DataFrame:
    """A panel `unit_id, year, treated_from, outcome, true_effect, cluster_id` (`treated_from` null = never).

    `drop_share` drops that share of unit-years at random (an unbalanced panel); `cohort_factor`
    scales the effect per cohort (heterogeneity across cohorts); noise has an AR-free unit-level
    random effect plus a year shock shared by all units.
    """
    n_never = int(round(n_units * never_share))
    treated_units = n_units - n_never
    g = np.concatenate([np.array(cohorts, dtype=float)[np.arange(treated_units) % len(cohorts)],
                        np.full(n_never, np.nan)])
    factor = dict(zip(cohorts, cohort_factor or [1.0] * len(cohorts)))
    year = np.arange(years[0], years[1] + 1)
    unit_fe = rng.normal(0, unit_sd, n_units)
    year_fe = np.cumsum(rng.normal(0.1, 0.3, len(year)))
    uu, yy = np.meshgrid(np.arange(n_units), np.arange(len(year)), indexing="ij")
    uu, yy = uu.ravel(), yy.ravel()
    gg = g[uu]
    rel = year[yy] - gg
    treated = ~np.isnan(gg) & (rel >= 0)
    fac = np.array([factor.get(c, 1.0) if not np.isnan(c) else 0.0 for c in gg])
    effect = np.where(treated, (base + growth * np.nan_to_num(rel)) * fac, 0.0)
    y = unit_fe[uu] + year_fe[yy] + effect + rng.normal(0, noise_sd, len(uu))
    keep = rng.random(len(uu)) >= drop_share
    clusters = n_clusters or n_units
    return pl.DataFrame({
        "unit_id": [f"U{u:03d}" for u in uu[keep]],
        "year": year[yy][keep].astype(np.int64),
        "treated_from": pl.Series(gg[keep], dtype=pl.Float64).fill_nan(None).cast(pl.Int64),
        "outcome": y[keep],
        "true_effect": effect[keep],
        "cluster_id": [f"C{u % clusters:03d}" for u in uu[keep]],
    })


def true_att(panel: pl.DataFrame) -> float:
    """Mean injected effect over treated post-treatment unit-years."""
    treated = panel.filter(pl.col("treated_from").is_not_null() & (pl.col("year") >= pl.col("treated_from")))
    return float(treated["true_effect"].mean())


def true_event_effects(panel: pl.DataFrame) -> dict[int, float]:
    """Mean injected effect per relative year (treated units only)."""
    treated = panel.filter(pl.col("treated_from").is_not_null()).with_columns(
        (pl.col("year") - pl.col("treated_from")).alias("rel"))
    agg = treated.group_by("rel").agg(pl.col("true_effect").mean()).sort("rel")
    return dict(zip(agg["rel"].to_list(), agg["true_effect"].to_list()))
