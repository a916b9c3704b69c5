"""Checks of the model against the data it was estimated from, and of its mechanisms.

`backcast`: cut a dataset at 1 January of an early year, simulate forward with a scenario and
compare with the lists and indicators computed from the real history by `boligmix lists`: list
counts per year (tolerance max(4, 30 %)) and, per horizon, the mean absolute error of the area
indicators against "no change" (the start year's values carried forward).

`in_mover_outside_share`: the share outside work and education (FTE of outside attachments per
person 18-64) among the households let an almen dwelling in given areas, per replication.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import polars as pl

from boligmix.lists.pipeline import compute_lists
from boligmix.simulate.run import prepare, run_replications
from boligmix.simulate.scenario import load_scenario

FLAGS = ("udsat", "parallelsamfund", "omdannelse", "forebyggelse")
INDICATORS = ("pct_non_western", "pct_outside_work_edu", "conviction_ratio", "pct_basic_education",
              "income_pct_of_region")


@dataclass(frozen=True)
class Backcast:
    counts: pl.DataFrame       # year, list, real, simulated (mean over replications), tolerance, within
    errors: pl.DataFrame       # year, indicator, mae_simulated, mae_no_change
    areas: pl.DataFrame        # the simulated area rows
    events: dict[str, int] | None = None   # events summed over replications


def backcast(dataset_dir: str | os.PathLike[str], start: int, years: int, *, replications: int = 1, seed: int = 1,
             scenario: str = "baseline", workers: int = 1) -> Backcast:
    loaded = load_scenario(scenario)
    shared = prepare(dataset_dir, loaded, start, years, seed)
    results = run_replications(shared, loaded, list(range(replications)), workers=workers)
    sim = pl.concat([r["areas"] for r in results])
    list_years = list(range(start + 1, start + years + 1))
    real = compute_lists(dataset_dir, [start, *list_years])
    flags = real.classification.frame
    counts = []
    for year in list_years:
        for flag in FLAGS:
            r = int(flags.filter(pl.col("year") == year)[flag].fill_null(False).sum())
            s = sim.filter(pl.col("year") == year).group_by("replication").agg(pl.col(flag).sum())[flag].mean()
            tol = max(4.0, 0.3 * r)
            counts.append({"year": year, "list": flag, "real": r, "simulated": float(s), "tolerance": tol,
                           "within": abs(float(s) - r) <= tol})
    ind = real.indicators.select("area_id", "year", *INDICATORS)
    base = ind.filter(pl.col("year") == start).drop("year")
    mean_sim = sim.group_by("area_id", "year").agg(*[pl.col(c).mean() for c in INDICATORS])
    errors = []
    for year in list_years:
        truth = ind.filter(pl.col("year") == year).drop("year")
        joined = truth.join(mean_sim.filter(pl.col("year") == year).drop("year"), on="area_id", suffix="_sim").join(
            base, on="area_id", suffix="_start")
        for c in INDICATORS:
            j = joined.drop_nulls([c, f"{c}_sim", f"{c}_start"])
            errors.append({"year": year, "indicator": c,
                           "mae_simulated": float((j[c] - j[f"{c}_sim"]).abs().mean()),
                           "mae_no_change": float((j[c] - j[f"{c}_start"]).abs().mean())})
    events: dict[str, int] = {}
    for r in results:
        for k, v in r["events"].items():
            events[k] = events.get(k, 0) + v
    return Backcast(pl.DataFrame(counts), pl.DataFrame(errors), sim, events)


def in_mover_outside_share(lettings: pl.DataFrame, areas: Sequence[str]) -> pl.DataFrame:
    """replication, share: outside FTE per in-moving person 18-64 over the lettings in `areas` to
    households that come from outside them (in-movers, as `areas.parquet` counts them: moves within
    the area are not moves in)."""
    return (lettings.filter(pl.col("area_id").is_in(list(areas))
                            & (pl.col("from_area_id").is_null() | ~pl.col("from_area_id").is_in(list(areas))))
            .group_by("replication").agg((pl.col("outside_fte_18_64").sum() / pl.col("adults_18_64").sum())
                                         .alias("share"), pl.len().alias("lettings"))
            .sort("replication"))


def paired_interval(a: np.ndarray, b: np.ndarray, z: float = 1.96) -> tuple[float, float, float]:
    """Mean difference b - a over paired replications and its normal interval (mean +- z x s.e.)."""
    d = np.asarray(b, float) - np.asarray(a, float)
    se = d.std(ddof=1) / np.sqrt(d.size) if d.size > 1 else float("inf")
    return float(d.mean()), float(d.mean() - z * se), float(d.mean() + z * se)


__all__ = ["Backcast", "backcast", "in_mover_outside_share", "paired_interval"]
