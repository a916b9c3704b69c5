"""Protect the monitor's tables and write status.csv, forecast.csv, warnings.csv, backtest.csv,
report.html and provenance.json into an output directory (staged, then moved into place).

Disclosure control (`boligmix.report.disclosure`): a status or warning value is a share, mean or
ratio over the population `_den` of a count `_num`; it is suppressed (with its margin) when
`_den` or `_num` is below the policy's minimum or the rest `_den - _num` is (group disclosure);
thresholds in persons reveal `_den` and are suppressed with it. Values from the user's --extra
file are published as given (exempt: area-level values the user supplied). forecast.csv holds
probabilities only and backtest.csv counts of areas and list outcomes, which are public: both
are exempt. Suppressed cells are empty in the CSVs; provenance.json counts them by reason.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import polars as pl

from boligmix.monitor.backtest import backtest_table
from boligmix.monitor.forecast import FORECAST_COLUMNS
from boligmix.monitor.messages import warning_messages
from boligmix.monitor.pipeline import WARNING_COLUMNS, MonitorResult
from boligmix.monitor.status import STATUS_COLUMNS
from boligmix.report import Additive, DisclosurePolicy, ProtectedTable, Share, exempt, protect
from boligmix.report._files import staged_files

FILES = ("status.csv", "forecast.csv", "warnings.csv", "backtest.csv", "report.html", "provenance.json")


def _protect_rows(frame: pl.DataFrame, policy: DisclosurePolicy, name: str,
                  extra_counts: tuple[str, ...] = ()) -> tuple[pl.DataFrame, dict[str, int]]:
    """Protect rows with `_den`/`_num` support; rows without any (`_kind` extra/forecast) pass as given."""
    frame = frame.with_row_index("_order")
    free = frame.filter(pl.col("_den").is_null() & pl.col("_num").is_null()
                        & pl.col("_kind").is_in(["extra", "forecast"]))
    rest = frame.join(free.select("_order"), on="_order", how="anti").with_columns(
        pl.col("_den").fill_null(0.0), *[pl.col(c).fill_null(0) for c in extra_counts])
    summary: dict[str, int] = {}
    parts = [free]
    for with_num in (True, False):
        sub = rest.filter(pl.col("_num").is_not_null() == with_num)
        if sub.height == 0:
            continue
        shares = [Share("value", "_den", "_num" if with_num else None),
                  Share("margin", "_den", "_num" if with_num else None)]
        persons = sub.with_columns((pl.col("_kind") == "persons").alias("_persons"))
        if "points" in sub.columns:
            shares.append(Share("points", "_den", "_num" if with_num else None))
        counts = ["_den", *(["_num"] if with_num else []), *extra_counts]
        totals = [Additive(["_num"], "_den", remainder=True)] if with_num else []
        table: ProtectedTable = protect(persons.with_columns(
            pl.when(pl.col("_persons")).then(pl.col("threshold")).alias("_threshold_p")),
            counts=counts, shares=[*shares, Share("_threshold_p", "_den")], totals=totals, policy=policy, name=name)
        out = table.frame.with_columns(
            pl.when(pl.col("_persons") & pl.col("_threshold_p").is_null()).then(None)
            .otherwise(pl.col("threshold")).alias("threshold"))
        for reason, n in table.summary().items():
            summary[reason] = summary.get(reason, 0) + n
        parts.append(out.drop("_persons", "_threshold_p", "suppressed"))
    merged = pl.concat(parts, how="diagonal_relaxed").sort("_order").drop("_order")
    return merged, summary


def protect_status(result: MonitorResult, policy: DisclosurePolicy) -> tuple[pl.DataFrame, dict[str, int]]:
    """status.csv under disclosure control; the category of a unit with fewer residents than the
    policy's minimum count is suppressed too (it tells which criteria its few residents meet)."""
    frame, summary = _protect_rows(result.status.rows, policy, "status.csv")
    residents = result.status.indicators.select("unit_id", "year", pl.col("residents").alias("_res"))
    frame = frame.join(residents, on=["unit_id", "year"], how="left").with_columns(
        pl.when(pl.col("_res").fill_null(0) < policy.min_count).then(None).otherwise(pl.col("category"))
        .alias("category"))
    return frame.select(STATUS_COLUMNS), summary


def protect_warnings(result: MonitorResult, policy: DisclosurePolicy, lang: str) -> tuple[pl.DataFrame, dict]:
    w = result.warnings.with_columns(
        pl.when(pl.col("kind") == "forecast_listing").then(pl.lit("forecast")).otherwise(pl.lit("share"))
        .alias("_kind"), pl.lit(None, pl.Float64).alias("margin"))
    if w.height == 0:
        return pl.DataFrame(schema={c: pl.String for c in WARNING_COLUMNS}), {}
    receiving = w.filter(pl.col("kind") == "receiving_area").with_columns(
        pl.col("n_households").cast(pl.Float64), pl.col("n_persons").cast(pl.Float64))
    others = w.filter(pl.col("kind") != "receiving_area").with_columns(
        pl.lit(None, pl.Float64).alias("n_households"), pl.lit(None, pl.Float64).alias("n_persons"))
    summary: dict[str, int] = {}
    parts = []
    for frame, counts in ((receiving, ("n_households", "n_persons")), (others, ())):
        if frame.height:
            part, part_summary = _protect_rows(frame, policy, "warnings.csv", extra_counts=counts)
            parts.append(part)
            for reason, n in part_summary.items():
                summary[reason] = summary.get(reason, 0) + n
    protected = pl.concat(parts, how="diagonal_relaxed").sort("unit_id", "kind", "indicator")
    # values without / of the arrivals reveal the arrivals' counts: published only with the value itself
    protected = protected.with_columns(
        *[pl.when(pl.col("value").is_null() | pl.col("n_persons").is_null()).then(None).otherwise(pl.col(c)).alias(c)
          for c in ("value_without", "value_arrivals")])
    # a warning caused by fewer arrivals than the policy's minimum would tell which trait they have:
    # it is published without the criterion and the values, once per unit
    small = (pl.col("kind") == "receiving_area") & pl.col("n_persons").is_null()
    protected = protected.with_columns(
        *[pl.when(small).then(None).otherwise(pl.col(c)).alias(c)
          for c in ("indicator", "list", "value", "threshold", "value_without", "value_arrivals")])
    protected = pl.concat([protected.filter(~small), protected.filter(small).unique(["unit_id"], keep="first")],
                          how="vertical_relaxed").sort("unit_id", "kind", "indicator", nulls_last=True)
    messages = warning_messages(protected, result, lang)
    out = protected.with_columns(pl.Series("message", messages, dtype=pl.String), pl.lit(result.settings.level)
                                 .alias("level"))
    return out.select(WARNING_COLUMNS), summary


def write_monitor(result: MonitorResult, out_dir: str | os.PathLike[str], *, lang: str = "da",
                  policy: DisclosurePolicy | None = None, dataset: str | None = None,
                  command: str = "boligmix monitor") -> dict[str, str]:
    """Protect and write every output file into `out_dir` (other files there are left alone)."""
    from boligmix.monitor.report import build_report, write_report

    policy = policy or DisclosurePolicy.load()
    status, status_summary = protect_status(result, policy)
    warnings, warning_summary = protect_warnings(result, policy, lang)
    forecast = exempt(result.forecast.forecast.select(FORECAST_COLUMNS),
                      reason="probabilities of public list outcomes; no counts").frame
    backtest = exempt(backtest_table(result.forecast.backtest),
                      reason="scores over areas and public list outcomes").frame
    report = build_report(result, status, warnings, forecast, backtest, policy, dataset, command)
    target = Path(out_dir)
    with staged_files(target, "monitor") as staging:
        status.write_csv(staging / "status.csv")
        forecast.write_csv(staging / "forecast.csv")
        warnings.write_csv(staging / "warnings.csv")
        backtest.write_csv(staging / "backtest.csv")
        write_report(report, staging / "report.html", lang)
        payload = {**result.provenance, "provenance": report.provenance.model_dump(),
                   "disclosure": policy.model_dump(),
                   "suppressed": {"status.csv": status_summary, "warnings.csv": warning_summary},
                   "rows": {"status.csv": status.height, "forecast.csv": forecast.height,
                            "warnings.csv": warnings.height, "backtest.csv": backtest.height}}
        (staging / "provenance.json").write_text(json.dumps(payload, indent=2, ensure_ascii=False, default=str),
                                                 encoding="utf-8")
    return {name: str(target / name) for name in FILES}


__all__ = ["FILES", "protect_status", "protect_warnings", "write_monitor"]
