"""`run_monitor`: status, forecast with backtest, and warnings for one list year Y.

Everything is computed from what is known when the lists of Y are computed (residents on
1 January Y, register years up to Y-1). Warnings:

* `approaching_threshold`: a criterion of the udsat or forebyggelse list not met in Y whose value
  lies within `margin` x threshold of it, or would meet it next year if its trend over the status
  years holds (`.trend` rows); for legal sets the set's own criteria, for points sets the
  statutory ones;
* `receiving_area`: see `boligmix.monitor.waterbed`;
* `forecast_listing` (area level): an area not on a list in Y with a forecast probability of at
  least `forecast_warning` of being on it in Y+1.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from boligmix.monitor.extra import read_extra
from boligmix.monitor.forecast import ForecastResult, forecast
from boligmix.monitor.history import load_history
from boligmix.monitor.sets import IndicatorSet, load_set
from boligmix.monitor.status import LEVELS, Status, compute_status, unit_indicators
from boligmix.monitor.status import STATUS_COLUMNS
from boligmix.monitor.waterbed import arrival_rows, receiving_warnings, state, watched_criteria

Progress = Callable[[str, float], None]
WARNING_COLUMNS = ("unit_id", "level", "kind", "indicator", "value", "threshold", "message")


@dataclass(frozen=True)
class MonitorSettings:
    set: str = "legal"
    level: str = "area"
    extra: str | None = None
    status_years: int = 5
    margin: float = 0.1
    window_years: int = 3
    draws: int = 200
    seed: int = 0
    forecast_warning: float = 0.5


@dataclass(frozen=True)
class MonitorResult:
    year: int
    settings: MonitorSettings
    iset: IndicatorSet
    status: Status
    forecast: ForecastResult
    warnings: pl.DataFrame
    """Wide: unit_id, kind, indicator, list, value, threshold, value_without, value_arrivals,
    n_households, n_persons, slope, _den, _num."""
    arrivals: pl.DataFrame
    provenance: dict[str, Any] = field(default_factory=dict)


def _approaching(legal: Status, legal_set: IndicatorSet, year: int, margin: float) -> pl.DataFrame:
    """Criteria of the watched lists not met in Y but near their threshold, now or by next year's trend."""
    rows = legal.rows.filter(pl.col("year") == year)
    shares = rows.filter(pl.col("_kind") == "share")
    trend = rows.filter(pl.col("_kind") == "trend").select(
        "unit_id", pl.col("indicator").str.strip_suffix(".trend").alias("indicator"), pl.col("value").alias("slope"))
    frame = shares.join(trend, on=["unit_id", "indicator"], how="left")
    parts = []
    ruleset = legal_set.rulesets([year])[year]
    seen: set[str] = set()
    for flag, cid in watched_criteria(ruleset):
        if cid in seen:
            continue
        seen.add(cid)
        c = ruleset.criterion(cid)
        sub = frame.filter(pl.col("indicator") == cid)
        now = state(pl.col("value"), c.op, c.threshold, margin)
        nxt = state(pl.col("value") + pl.col("slope").fill_null(0.0), c.op, c.threshold, 0.0)
        near = sub.with_columns(now.alias("_now"), nxt.alias("_next")).filter(
            (pl.col("_now") == 1) | ((pl.col("_now") == 0) & (pl.col("_next") == 2)))
        parts.append(near.select("unit_id", pl.lit("approaching_threshold").alias("kind"), "indicator",
                                 pl.lit(flag).alias("list"), "value", "threshold", "slope", "_den", "_num",
                                 pl.lit(c.op).alias("op")))
    return pl.concat(parts, how="vertical_relaxed") if parts else pl.DataFrame()


def _with_arrivals(status: Status, rows: pl.DataFrame, year: int, level: str, set_id: str) -> Status:
    """Status plus the arrivals' rows of year Y (with the unit's category of Y)."""
    if rows.height == 0:
        return status
    cats = status.categories.filter(pl.col("year") == year).select("unit_id", "category")
    extra = rows.join(cats, on="unit_id", how="left").with_columns(
        pl.lit(level).alias("level"), pl.lit(year, pl.Int64).alias("year"), pl.lit(set_id).alias("set"),
        *[pl.lit(None, pl.Float64).alias(c) for c in ("threshold", "margin", "points")])
    merged = pl.concat([status.rows, extra.select(*STATUS_COLUMNS, "_den", "_num", "_kind")], how="vertical_relaxed")
    return Status(merged.sort("unit_id", "year", "indicator"), status.categories, status.indicators, status.names,
                  status.years)


def run_monitor(dataset_dir: str | os.PathLike[str], year: int, settings: MonitorSettings | None = None, *,
                on_progress: Progress | None = None) -> MonitorResult:
    s = settings or MonitorSettings()
    report = on_progress or (lambda _s, _f: None)
    if s.level not in LEVELS:
        from boligmix.errors import ConfigurationError
        raise ConfigurationError(f"unknown level '{s.level}'; use one of {', '.join(LEVELS)}", field="level")
    iset = load_set(s.set)
    extra = read_extra(s.extra) if s.extra is not None else None
    history = load_history(dataset_dir, year, on_progress=report)
    result = forecast(history, draws=s.draws, seed=s.seed, on_progress=report)
    report("status", 0.9)
    status = compute_status(dataset_dir, year, iset, level=s.level, history=history, extra=extra,
                            status_years=s.status_years)
    legal_set = iset if iset.kind == "legal" else load_set("legal")
    legal = status if iset.kind == "legal" else compute_status(dataset_dir, year, legal_set, level=s.level,
                                                               history=history, status_years=s.status_years)
    report("receiving areas", 0.95)
    now = unit_indicators(dataset_dir, [year], s.level, history) if s.level == "area" else \
        status.indicators.filter(pl.col("year") == year)
    arrivals, receiving, group = receiving_warnings(dataset_dir, year, result.lists, now, level=s.level,
                                                    window_years=s.window_years, margin=s.margin)
    status = _with_arrivals(status, arrival_rows(arrivals, group), year, s.level, iset.id)
    parts = [_approaching(legal, legal_set, year, s.margin)]
    if receiving.height:
        parts.append(receiving.select("unit_id", pl.lit("receiving_area").alias("kind"),
                                      pl.col("criterion").alias("indicator"), "list", "value", "threshold",
                                      "value_without", "value_arrivals", "n_households", "n_persons", "_den", "_num",
                                      "op"))
    if s.level == "area":
        current = result.lists.filter(pl.col("year") == year).unpivot(
            index="area_id", on=["udsat", "parallelsamfund", "omdannelse", "forebyggelse"], variable_name="list",
            value_name="on").select(pl.col("area_id").alias("unit_id"), "list", pl.col("on").fill_null(False))
        likely = (result.forecast.rename({"area_id": "unit_id"}).join(current, on=["unit_id", "list"], how="left")
                  .filter(~pl.col("on").fill_null(False) & (pl.col("probability") >= s.forecast_warning)))
        parts.append(likely.select("unit_id", pl.lit("forecast_listing").alias("kind"),
                                   pl.col("list").alias("indicator"), "list", pl.col("probability").alias("value"),
                                   pl.lit(s.forecast_warning).alias("threshold")))
    warnings = pl.concat([p for p in parts if p.height], how="diagonal_relaxed") if any(p.height for p in parts) \
        else pl.DataFrame(schema={"unit_id": pl.String, "kind": pl.String, "indicator": pl.String})
    for col, dtype in (("list", pl.String), ("value", pl.Float64), ("threshold", pl.Float64),
                       ("value_without", pl.Float64), ("value_arrivals", pl.Float64), ("n_households", pl.Int64),
                       ("n_persons", pl.Int64), ("slope", pl.Float64), ("_den", pl.Float64), ("_num", pl.Float64),
                       ("op", pl.String)):
        if col not in warnings.columns:
            warnings = warnings.with_columns(pl.lit(None, dtype).alias(col))
    provenance = {
        "list_year": year, "forecast_year": year + 1, "set": iset.id, "set_file": iset.source,
        "set_sha256": iset.sha256, "level": s.level, "settings": s.__dict__,
        "rule_versions": sorted(set(result.lists.get_column("rules").unique().to_list())),
        "data_vintage": history.vintage, "seed": history.seed, "forecast_seed": s.seed,
        "list_years_used": list(history.list_years),
        "register_years_read": f"up to {year - 1} (residents on 1 January {year})",
    }
    report("done", 1.0)
    return MonitorResult(year, s, iset, status, result, warnings.sort("unit_id", "kind", "indicator"), arrivals,
                         provenance)


__all__ = ["MonitorResult", "MonitorSettings", "WARNING_COLUMNS", "run_monitor"]
