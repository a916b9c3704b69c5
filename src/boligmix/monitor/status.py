"""Status and trend of every unit and indicator: the rows of status.csv.

`STATUS_COLUMNS`: unit_id, level, year, set, indicator, value, threshold, margin, points, category.

Legal sets, per unit, year and criterion of the list rules (`boligmix.lists.explain.criteria_table`):

* `<criterion>`: the value, the threshold and the margin value - threshold in the criterion's
  unit (percentage points for shares, times the national average, % of the region, persons);
* `<criterion>.persons` (`.dkk` for income): the same three in persons, full-time persons or DKK,
  scaled as `lists` scales "what it would take" (`lists.explain.person_scale`);
* `<criterion>.trend` (year Y only): value = the least-squares slope per year over the status
  years, threshold as above, margin = the margin one year on if the trend holds.

`category` is the unit's list that year (`omdannelse`, `parallelsamfund`, `udsat`,
`forebyggelse`, `<list>_below_min_residents`, `none`). Points sets: per indicator the value, the
reference as `threshold`, margin = value - reference, `points`; a row `points_total` per unit
with the summed points and the category.

Rows keep two support columns for disclosure control, `_den` (the population the value is
measured on) and `_num` (the count it is a share of, when it is one), dropped when published.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from boligmix.data.io import read_table
from boligmix.indicators import compute_area_indicators
from boligmix.indicators.population import UNIT_COLUMN
from boligmix.lists.explain import person_scale
from boligmix.monitor.extra import NATIONAL_IDS
from boligmix.monitor.history import IndicatorHistory
from boligmix.monitor.scoring import legal_categories, legal_criteria, points_scores
from boligmix.monitor.sets import IndicatorSet
from boligmix.monitor.support import DENOMINATOR, NUMERATOR

STATUS_COLUMNS = ("unit_id", "level", "year", "set", "indicator", "value", "threshold", "margin", "points",
                  "category")
LEVELS = ("area", "department", "organisation", "municipality")
HISTORY_SPAN = 5
"""List years the omdannelse rule looks back over (classification needs them before the status years)."""

Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class Status:
    rows: pl.DataFrame
    """STATUS_COLUMNS plus `_den`, `_num`, `_kind` (support for disclosure control)."""
    categories: pl.DataFrame
    """unit_id, year, category (and `points` for points sets)."""
    indicators: pl.DataFrame
    """The unit indicators used (unit_id, year, official indicator and support columns)."""
    names: pl.DataFrame
    """unit_id, unit_name, municipality_code."""
    years: tuple[int, ...]


def unit_names(dataset_dir: str | os.PathLike[str], level: str) -> pl.DataFrame:
    table, name = {"area": ("areas", "area_name"), "department": ("departments", "department_name"),
                   "organisation": ("housing_organisations", "org_name"),
                   "municipality": ("municipalities", "municipality_name")}[level]
    frame = read_table(dataset_dir, table, [UNIT_COLUMN[level], name, "municipality_code"]
                       if level != "municipality" else ["municipality_code", name])
    return frame.select(pl.col(UNIT_COLUMN[level]).cast(pl.String).alias("unit_id"),
                        pl.col(name).alias("unit_name"), pl.col("municipality_code"))


def unit_indicators(dataset_dir: str | os.PathLike[str], years: list[int], level: str,
                    history: IndicatorHistory | None) -> pl.DataFrame:
    """Official indicators of every unit of `level` per list year, keyed by unit_id (string)."""
    if level == "area" and history is not None and all(y in history.list_years for y in years):
        return pl.concat([history.native(y) for y in years], how="vertical_relaxed")
    frame = compute_area_indicators(dataset_dir, years, level=level)  # type: ignore[arg-type]
    return frame.rename({UNIT_COLUMN[level]: "unit_id"}).with_columns(pl.col("unit_id").cast(pl.String))


def _trend(frame: pl.DataFrame, keys: list[str], value: str = "value") -> pl.DataFrame:
    """Least-squares slope of `value` over `year` per `keys` (null with fewer than two years)."""
    x = pl.col("year").cast(pl.Float64)
    y = pl.col(value)
    ok = frame.filter(y.is_not_null())
    return ok.group_by(keys).agg(
        pl.when(pl.len() >= 2).then(((x - x.mean()) * (y - y.mean())).sum() / ((x - x.mean()) ** 2).sum())
        .alias("slope"))


def legal_status(frame: pl.DataFrame, iset: IndicatorSet, level: str, years: list[int]) -> Status:
    classification, cats = legal_categories(frame, iset)
    crit = legal_criteria(frame, classification).filter(pl.col("year").is_in(years))
    support = frame.select("unit_id", "year", *sorted({c for f in DENOMINATOR.values() for c in [f]}
                                                      | set(NUMERATOR.values())
                                                      | {"national_conviction_pct", "region_mean_income"}))
    crit = crit.join(support, on=["unit_id", "year"], how="left").join(cats, on=["unit_id", "year"], how="left")
    parts = []
    for field in crit.get_column("field").unique().sort().to_list():
        sub = crit.filter(pl.col("field") == field)
        den = pl.col(DENOMINATOR[field]).cast(pl.Float64)
        num = pl.col(NUMERATOR[field]).cast(pl.Float64) if field in NUMERATOR else pl.lit(None, pl.Float64)
        base = sub.with_columns(den.alias("_den"), num.alias("_num"))
        parts.append(base.select("unit_id", "year", pl.col("criterion").alias("indicator"), "value", "threshold",
                                 "margin", "category", "_den", "_num", pl.lit("share").alias("_kind")))
        if field != "residents":
            scale, _ = person_scale(field)
            suffix = ".dkk" if field == "income_pct_of_region" else ".persons"
            parts.append(base.select(
                "unit_id", "year", (pl.col("criterion") + suffix).alias("indicator"),
                (pl.col("value") * scale).alias("value"), (pl.col("threshold") * scale).alias("threshold"),
                (pl.col("margin") * scale).alias("margin"), "category", "_den", "_num",
                pl.lit("persons").alias("_kind")))
    rows = pl.concat(parts, how="vertical_relaxed") if parts else pl.DataFrame()
    latest = max(years)
    if rows.height:
        shares = rows.filter(pl.col("_kind") == "share")
        slopes = _trend(shares, ["unit_id", "indicator"])
        trend = (shares.filter(pl.col("year") == latest).join(slopes, on=["unit_id", "indicator"], how="inner")
                 .select("unit_id", "year", (pl.col("indicator") + ".trend").alias("indicator"),
                         pl.col("slope").alias("value"), "threshold", (pl.col("margin") + pl.col("slope")).alias("margin"),
                         "category", "_den", "_num", pl.lit("trend").alias("_kind")))
        rows = pl.concat([rows, trend], how="vertical_relaxed")
    rows = rows.with_columns(pl.lit(level).alias("level"), pl.lit(iset.id).alias("set"),
                             pl.lit(None, pl.Float64).alias("points"))
    return Status(rows.select(*STATUS_COLUMNS, "_den", "_num", "_kind").sort("unit_id", "year", "indicator"),
                  cats.filter(pl.col("year").is_in(years)), frame, pl.DataFrame(), tuple(years))


def _national(frame: pl.DataFrame, field: str) -> pl.DataFrame:
    """year -> the average of the municipalities weighted by the field's population."""
    w = pl.col(DENOMINATOR[field]).cast(pl.Float64)
    return frame.group_by("year").agg(((pl.col(field) * w).sum() / w.filter(pl.col(field).is_not_null()).sum())
                                      .alias("reference"))


def points_values(frame: pl.DataFrame, municipal: pl.DataFrame, extra: pl.DataFrame | None, iset: IndicatorSet,
                  level: str, years: list[int]) -> pl.DataFrame:
    """unit_id, year, indicator, value, reference, _den, _num for every indicator of a points set."""
    reference = iset.spec.reference if level != "municipality" else "national"
    parts = []
    units = frame.select("unit_id", "year", pl.col("municipality_code").cast(pl.String) if "municipality_code"
                         in frame.columns else pl.col("unit_id").alias("municipality_code"))
    for ind in iset.spec.indicators:
        if ind.source == "official":
            den = DENOMINATOR[ind.field]
            num = NUMERATOR.get(ind.field)
            values = frame.select("unit_id", "year", pl.col(ind.field).cast(pl.Float64).alias("value"),
                                  pl.col(den).cast(pl.Float64).alias("_den"),
                                  (pl.col(num).cast(pl.Float64) if num else pl.lit(None, pl.Float64)).alias("_num"))
            if reference == "municipality":
                ref = municipal.select(pl.col("unit_id").alias("municipality_code"), "year",
                                       pl.col(ind.field).cast(pl.Float64).alias("reference"))
                values = values.join(units, on=["unit_id", "year"], how="left").join(
                    ref, on=["municipality_code", "year"], how="left").drop("municipality_code")
            else:
                values = values.join(_national(municipal, ind.field), on="year", how="left")
        else:
            rows = (extra.filter(pl.col("indicator") == ind.field) if extra is not None
                    else pl.DataFrame(schema={"unit_id": pl.String, "year": pl.Int64, "value": pl.Float64}))
            values = (units.join(rows.select("unit_id", "year", "value"), on=["unit_id", "year"], how="left")
                      .with_columns(pl.lit(None, pl.Float64).alias("_den"), pl.lit(None, pl.Float64).alias("_num")))
            if reference == "municipality":
                given = rows.select(pl.col("unit_id").alias("municipality_code"), "year",
                                    pl.col("value").alias("given"))
                mean = values.group_by("municipality_code", "year").agg(pl.col("value").mean().alias("mean"))
                values = (values.join(given, on=["municipality_code", "year"], how="left")
                          .join(mean, on=["municipality_code", "year"], how="left")
                          .with_columns(pl.coalesce("given", "mean").alias("reference")))
            else:
                given = rows.filter(pl.col("unit_id").is_in(NATIONAL_IDS)).select("year", pl.col("value").alias("given"))
                mean = values.group_by("year").agg(pl.col("value").mean().alias("mean"))
                values = (values.join(given, on="year", how="left").join(mean, on="year", how="left")
                          .with_columns(pl.coalesce("given", "mean").alias("reference")))
            values = values.select("unit_id", "year", "value", "_den", "_num", "reference")
        parts.append(values.with_columns(pl.lit(ind.id).alias("indicator"),
                                         pl.lit("share" if ind.source == "official" else "extra").alias("_kind")))
    return pl.concat([p.select("unit_id", "year", "indicator", "value", "reference", "_den", "_num", "_kind")
                      for p in parts], how="vertical_relaxed").filter(pl.col("year").is_in(years))


def points_status(frame: pl.DataFrame, municipal: pl.DataFrame, extra: pl.DataFrame | None, iset: IndicatorSet,
                  level: str, years: list[int]) -> Status:
    values = points_values(frame, municipal, extra, iset, level, years)
    rows, totals = points_scores(values, iset)
    rows = rows.join(totals.select("unit_id", "year", "category"), on=["unit_id", "year"], how="left")
    body = rows.select("unit_id", "year", "indicator", "value", pl.col("reference").alias("threshold"),
                       (pl.col("value") - pl.col("reference")).alias("margin"), pl.col("points").cast(pl.Float64),
                       "category", "_den", "_num", "_kind")
    residents = frame.select("unit_id", "year", pl.col("residents").cast(pl.Float64).alias("_den"))
    total = totals.join(residents, on=["unit_id", "year"], how="left").select(
        "unit_id", "year", pl.lit("points_total").alias("indicator"), pl.col("points").alias("value"),
        pl.lit(None, pl.Float64).alias("threshold"), pl.lit(None, pl.Float64).alias("margin"), "points", "category",
        "_den", pl.lit(None, pl.Float64).alias("_num"), pl.lit("points").alias("_kind"))
    out = pl.concat([body, total], how="vertical_relaxed").with_columns(
        pl.lit(level).alias("level"), pl.lit(iset.id).alias("set"))
    return Status(out.select(*STATUS_COLUMNS, "_den", "_num", "_kind").sort("unit_id", "year", "indicator"),
                  totals, frame, pl.DataFrame(), tuple(years))


def compute_status(dataset_dir: str | os.PathLike[str], year: int, iset: IndicatorSet, *, level: str = "area",
                   history: IndicatorHistory | None = None, extra: pl.DataFrame | None = None,
                   status_years: int = 5, on_progress: Progress | None = None) -> Status:
    """Status rows of every unit of `level` for the list years Y-status_years+1..Y the data allows."""
    report = on_progress or (lambda _s, _f: None)
    available = history.list_years if history is not None else (year,)
    years = [y for y in available if y > year - status_years]
    if iset.kind == "legal":
        needed = [y for y in available if y > year - status_years - (HISTORY_SPAN - 1)]
        report(f"status: {level} indicators", 0.0)
        frame = unit_indicators(dataset_dir, needed, level, history)
        status = legal_status(frame, iset, level, years)
    else:
        report(f"status: {level} indicators", 0.0)
        frame = unit_indicators(dataset_dir, years, level, history)
        municipal = frame if level == "municipality" else unit_indicators(dataset_dir, years, "municipality", None)
        status = points_status(frame, municipal, extra, iset, level, years)
    names = unit_names(dataset_dir, level)
    return Status(status.rows, status.categories, status.indicators, names, status.years)


__all__ = ["LEVELS", "STATUS_COLUMNS", "Status", "compute_status", "legal_status", "points_status", "points_values",
           "unit_indicators", "unit_names"]
