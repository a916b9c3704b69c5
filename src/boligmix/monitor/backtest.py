"""Backtest scores: Brier score of the forecast and of persistence, per list and pooled, and the
calibration table (predicted against observed by probability decile).

backtest.csv columns: `list, method, measure, bin_from, bin_to, n, predicted, observed, value`.

* `measure = brier`: `value` is the mean squared difference between the probability (forecast;
  for persistence 1 if the area was on the list in the year before, else 0) and the outcome (1 on
  the list, 0 not), over `n` area-years; `list = all` pools the four lists.
* `measure = brier_reduction` (method forecast): `value = 1 - brier(forecast) / brier(persistence)`.
* `measure = calibration`: areas whose probability lies in [bin_from, bin_to) (the last bin
  includes 1): `n`, mean `predicted` probability, `observed` share on the list.
"""

from __future__ import annotations

import polars as pl

from boligmix.monitor.forecast import LISTS

BACKTEST_COLUMNS = ("list", "method", "measure", "bin_from", "bin_to", "n", "predicted", "observed", "value")
BINS = 10


def brier(frame: pl.DataFrame, column: str) -> float | None:
    if frame.height == 0:
        return None
    return float(frame.select(((pl.col(column) - pl.col("observed")) ** 2).mean()).item())


def summary(backtest: pl.DataFrame) -> pl.DataFrame:
    """list, n, brier_forecast, brier_persistence, reduction (lists and `all`)."""
    rows = []
    for name in (*LISTS, "all"):
        sub = backtest if name == "all" else backtest.filter(pl.col("list") == name)
        bf, bp = brier(sub, "probability"), brier(sub, "persistence")
        rows.append({"list": name, "n": sub.height, "brier_forecast": bf, "brier_persistence": bp,
                     "reduction": None if not bp or bf is None else 1 - bf / bp})
    return pl.DataFrame(rows, schema={"list": pl.String, "n": pl.Int64, "brier_forecast": pl.Float64,
                                      "brier_persistence": pl.Float64, "reduction": pl.Float64})


def calibration(backtest: pl.DataFrame, column: str = "probability") -> pl.DataFrame:
    """Per probability decile: n, mean predicted, observed share."""
    b = pl.col(column).mul(BINS).floor().clip(0, BINS - 1).cast(pl.Int64)
    return (backtest.with_columns(b.alias("_bin")).group_by("_bin")
            .agg(pl.len().cast(pl.Int64).alias("n"), pl.col(column).mean().alias("predicted"),
                 pl.col("observed").mean().alias("observed"))
            .with_columns((pl.col("_bin") / BINS).alias("bin_from"), ((pl.col("_bin") + 1) / BINS).alias("bin_to"))
            .sort("_bin").drop("_bin"))


def backtest_table(backtest: pl.DataFrame) -> pl.DataFrame:
    """The backtest.csv table (see the module docstring)."""
    parts = []
    s = summary(backtest)
    for row in s.iter_rows(named=True):
        for method, col in (("forecast", "brier_forecast"), ("persistence", "brier_persistence")):
            parts.append({"list": row["list"], "method": method, "measure": "brier", "n": row["n"],
                          "value": row[col]})
        parts.append({"list": row["list"], "method": "forecast", "measure": "brier_reduction", "n": row["n"],
                      "value": row["reduction"]})
    frame = pl.DataFrame(parts, schema={"list": pl.String, "method": pl.String, "measure": pl.String,
                                        "n": pl.Int64, "value": pl.Float64})
    cal = []
    for name in (*LISTS, "all"):
        sub = backtest if name == "all" else backtest.filter(pl.col("list") == name)
        for method, col in (("forecast", "probability"), ("persistence", "persistence")):
            if sub.height:
                cal.append(calibration(sub, col).with_columns(pl.lit(name).alias("list"), pl.lit(method).alias("method"),
                                                               pl.lit("calibration").alias("measure")))
    out = pl.concat([frame, *cal], how="diagonal_relaxed") if cal else frame
    for col in BACKTEST_COLUMNS:
        if col not in out.columns:
            out = out.with_columns(pl.lit(None, pl.Float64).alias(col))
    return out.select(BACKTEST_COLUMNS)


__all__ = ["BACKTEST_COLUMNS", "backtest_table", "brier", "calibration", "summary"]
