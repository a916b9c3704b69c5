"""Receiving areas (the waterbed effect, seed 001): who moved in from listed areas, and a warning
when those arrivals move a unit to within a margin of an udsat or forebyggelse threshold, or over it.

Arrivals of list year Y: residence spells that began in the `window_years` years before
1 January Y (1 January Y - window_years < move_in <= 1 January Y) and are still open on 1 January
Y, whose previous dwelling lay in an area on one of `origin_lists` of the list in force on the
move date (the list of 1 December t applies from that day), in another unit; and, when the
dataset has a `lettings` table, households let a dwelling through the `rehousing` channel in the
window. Nothing after 1 January Y is read.

The unit's indicators with and without the arrivals come from the one indicator engine
(`compute_area_indicators(person_group=...)`, which also gives the arrivals' own composition).
A criterion of the udsat or forebyggelse list of the rules of Y is *near* when its value lies
within `margin` x threshold on the near side of the threshold (`value >= (1 - margin) T` for
"overstiger"/"mindst", `value <= (1 + margin) T` for "mindre end"), *over* when it meets it.
`receiving_area` fires when the state with the arrivals (clear < near < over) is worse than
without them, for units of any size.
"""

from __future__ import annotations

import os
from datetime import date

import polars as pl

from boligmix.data.io import has_table, scan_table
from boligmix.indicators import compute_area_indicators
from boligmix.indicators.population import UNIT_COLUMN
from boligmix.lists.ruleset import RuleSet, load_ruleset, version_for_year
from boligmix.monitor.support import DENOMINATOR, NUMERATOR

ORIGIN_LISTS: tuple[str, ...] = ("udsat", "parallelsamfund", "omdannelse")
WATCHED_LISTS: tuple[str, ...] = ("udsat", "forebyggelse")
ARRIVAL_COLUMNS = ("unit_id", "n_households", "n_persons", "n_households_listed", "n_households_rehoused")


def _unit_of_dwelling(dataset_dir: str | os.PathLike[str], level: str) -> pl.DataFrame:
    dwellings = scan_table(dataset_dir, "dwellings").select("dwelling_id", "municipality_code", "department_id",
                                                           "area_id")
    if level == "organisation":
        departments = scan_table(dataset_dir, "departments").select("department_id", "org_id")
        dwellings = dwellings.join(departments, on="department_id", how="left")
    return dwellings.select("dwelling_id", "area_id", pl.col(UNIT_COLUMN[level]).cast(pl.String).alias("unit_id")
                            ).collect()


def arrivals(dataset_dir: str | os.PathLike[str], year: int, lists: pl.DataFrame, *, level: str = "area",
             window_years: int = 3, origin_lists: tuple[str, ...] = ORIGIN_LISTS) -> pl.DataFrame:
    """One row per arriving person still resident on 1 January Y: person_id, household_id, unit_id,
    from_listed, rehoused."""
    cut = date(year, 1, 1)
    start = date(year - window_years, 1, 1)
    scan = (scan_table(dataset_dir, "residences").select("person_id", "household_id", "dwelling_id", "move_in",
                                                        "move_out").filter(pl.col("move_in") <= cut))
    movers = scan.filter(pl.col("move_in") > start).select("person_id").unique()
    spells = scan.join(movers, on="person_id", how="semi").sort("person_id", "move_in").collect()
    spells = spells.with_columns(
        pl.when(pl.col("person_id").shift(1) == pl.col("person_id")).then(pl.col("dwelling_id").shift(1))
        .alias("prev_dwelling"))
    recent = spells.filter((pl.col("move_in") > start)
                           & (pl.col("move_out").is_null() | (pl.col("move_out") > cut)))
    units = _unit_of_dwelling(dataset_dir, level)
    recent = (recent.join(units, on="dwelling_id", how="left")
              .join(units.select(pl.col("dwelling_id").alias("prev_dwelling"), pl.col("area_id").alias("prev_area"),
                                 pl.col("unit_id").alias("prev_unit")), on="prev_dwelling", how="left")
              .filter(pl.col("unit_id").is_not_null()))
    in_force = (pl.when((pl.col("move_in").dt.month() == 12)).then(pl.col("move_in").dt.year())
                .otherwise(pl.col("move_in").dt.year() - 1).cast(pl.Int64).alias("list_year"))
    flags = [f for f in origin_lists if f in lists.columns]
    listed = lists.select(pl.col("area_id").alias("prev_area"), pl.col("year").alias("list_year"),
                          pl.any_horizontal([pl.col(f).fill_null(False) for f in flags]).alias("from_listed"))
    recent = (recent.with_columns(in_force).join(listed, on=["prev_area", "list_year"], how="left")
              .with_columns((pl.col("from_listed").fill_null(False)
                             & (pl.col("prev_unit").is_null() | (pl.col("prev_unit") != pl.col("unit_id"))))
                            .alias("from_listed")))
    if has_table(dataset_dir, "lettings"):
        rehousing = (scan_table(dataset_dir, "lettings").filter(
            (pl.col("channel") == "rehousing") & (pl.col("lease_start") > start) & (pl.col("lease_start") <= cut))
            .select("household_id", "dwelling_id", pl.lit(True).alias("rehoused")).unique().collect())
        recent = recent.join(rehousing, on=["household_id", "dwelling_id"], how="left")
    else:
        recent = recent.with_columns(pl.lit(None, pl.Boolean).alias("rehoused"))
    recent = recent.with_columns(pl.col("rehoused").fill_null(False))
    return recent.filter(pl.col("from_listed") | pl.col("rehoused")).select(
        "person_id", "household_id", "unit_id", "from_listed", "rehoused")


def arrival_counts(persons: pl.DataFrame) -> pl.DataFrame:
    """Per unit: arriving households and persons, households from listed areas and rehoused ones."""
    return persons.group_by("unit_id").agg(
        pl.col("household_id").n_unique().cast(pl.Int64).alias("n_households"),
        pl.len().cast(pl.Int64).alias("n_persons"),
        pl.col("household_id").filter(pl.col("from_listed")).n_unique().cast(pl.Int64).alias("n_households_listed"),
        pl.col("household_id").filter(pl.col("rehoused")).n_unique().cast(pl.Int64).alias("n_households_rehoused"),
    ).sort("unit_id")


ARRIVAL_FIELDS = ("pct_outside_work_edu", "conviction_ratio", "pct_basic_education", "income_pct_of_region",
                  "pct_non_western")


def arrival_rows(counts: pl.DataFrame, group: pl.DataFrame) -> pl.DataFrame:
    """Status rows of the arrivals per unit: `arrivals.households`, `.households_listed`,
    `.households_rehoused`, `.persons` (counts) and `arrivals.<field>` (their own composition, as the
    official indicators measure it). Columns unit_id, indicator, value, _den, _num, _kind."""
    parts = [counts.select("unit_id", pl.lit(f"arrivals.{c.removeprefix('n_')}").alias("indicator"),
                           pl.col(c).cast(pl.Float64).alias("value"), pl.col(c).cast(pl.Float64).alias("_den"),
                           pl.lit(None, pl.Float64).alias("_num"), pl.lit("count").alias("_kind"))
             for c in ("n_households", "n_households_listed", "n_households_rehoused", "n_persons")]
    if group.height:
        for f in ARRIVAL_FIELDS:
            parts.append(group.select(
                "unit_id", pl.lit(f"arrivals.{f}").alias("indicator"), pl.col(f).cast(pl.Float64).alias("value"),
                pl.col(DENOMINATOR[f]).cast(pl.Float64).alias("_den"),
                (pl.col(NUMERATOR[f]).cast(pl.Float64) if f in NUMERATOR else pl.lit(None, pl.Float64)).alias("_num"),
                pl.lit("share").alias("_kind")))
    return pl.concat(parts, how="vertical_relaxed").sort("unit_id", "indicator")


def watched_criteria(ruleset: RuleSet) -> list[tuple[str, str]]:
    """(list, criterion id) of the udsat and forebyggelse categories (not the residents gate)."""
    out = []
    for flag in WATCHED_LISTS:
        category = ruleset.category_for_output(flag)
        if category is None:
            continue
        for cid in (*category.requires, *category.of):
            if ruleset.criterion(cid).field != "residents" and (flag, cid) not in out:
                out.append((flag, cid))
    return out


def state(value: pl.Expr, op: str, threshold: float, margin: float) -> pl.Expr:
    """0 clear, 1 within `margin` x threshold of it, 2 meets it (null when the value is missing)."""
    meets = {">": value > threshold, ">=": value >= threshold, "<": value < threshold, "<=": value <= threshold}[op]
    near = value >= (1 - margin) * threshold if op in (">", ">=") else value <= (1 + margin) * threshold
    return pl.when(value.is_null()).then(None).when(meets).then(2).when(near).then(1).otherwise(0)


def receiving_warnings(dataset_dir: str | os.PathLike[str], year: int, lists: pl.DataFrame, with_all: pl.DataFrame,
                       *, level: str = "area", window_years: int = 3, margin: float = 0.1,
                       origin_lists: tuple[str, ...] = ORIGIN_LISTS) -> tuple[pl.DataFrame, pl.DataFrame,
                                                                              pl.DataFrame]:
    """(arrival counts per unit, warning rows, the arrivals' own indicators per unit).

    `with_all` are the unit indicators of list year Y (unit_id, ...). Warning rows: unit_id, list,
    criterion, field, op, threshold, value (with the arrivals), value_without, value_arrivals,
    n_households, n_persons, _den, _num."""
    persons = arrivals(dataset_dir, year, lists, level=level, window_years=window_years, origin_lists=origin_lists)
    counts = arrival_counts(persons)
    schema = {"unit_id": pl.String, "list": pl.String, "criterion": pl.String, "field": pl.String, "op": pl.String,
              "threshold": pl.Float64, "value": pl.Float64, "value_without": pl.Float64,
              "value_arrivals": pl.Float64, "n_households": pl.Int64, "n_persons": pl.Int64, "_den": pl.Float64,
              "_num": pl.Float64}
    if persons.height == 0:
        return counts, pl.DataFrame(schema=schema), pl.DataFrame(schema={"unit_id": pl.String})
    split = compute_area_indicators(dataset_dir, [year], level=level,  # type: ignore[arg-type]
                                    person_group=persons.get_column("person_id").unique().to_numpy())
    split = split.rename({UNIT_COLUMN[level]: "unit_id"}).with_columns(pl.col("unit_id").cast(pl.String))
    without = split.filter(~pl.col("in_group"))
    group = split.filter(pl.col("in_group"))
    now = with_all.filter(pl.col("year") == year) if "year" in with_all.columns else with_all
    ruleset = load_ruleset(version_for_year(year))
    parts = []
    for flag, cid in watched_criteria(ruleset):
        c = ruleset.criterion(cid)
        f = c.field
        frame = (counts.join(now.select("unit_id", pl.col(f).cast(pl.Float64).alias("value"),
                                        pl.col(DENOMINATOR[f]).cast(pl.Float64).alias("_den"),
                                        (pl.col(NUMERATOR[f]).cast(pl.Float64) if f in NUMERATOR
                                         else pl.lit(None, pl.Float64)).alias("_num")), on="unit_id", how="inner")
                 .join(without.select("unit_id", pl.col(f).cast(pl.Float64).alias("value_without")), on="unit_id",
                       how="left")
                 .join(group.select("unit_id", pl.col(f).cast(pl.Float64).alias("value_arrivals")), on="unit_id",
                       how="left"))
        with_state = state(pl.col("value"), c.op, c.threshold, margin)
        # a unit made up of arrivals only has no value without them: count that as clear
        without_state = state(pl.col("value_without"), c.op, c.threshold, margin).fill_null(0)
        fired = frame.filter(with_state > without_state)
        parts.append(fired.select("unit_id", pl.lit(flag).alias("list"), pl.lit(cid).alias("criterion"),
                                  pl.lit(f).alias("field"), pl.lit(c.op).alias("op"),
                                  pl.lit(float(c.threshold)).alias("threshold"), "value", "value_without",
                                  "value_arrivals", "n_households", "n_persons", "_den", "_num"))
    warnings = pl.concat(parts, how="vertical_relaxed") if parts else pl.DataFrame(schema=schema)
    return counts, warnings.sort("unit_id", "list", "criterion"), group


__all__ = ["ARRIVAL_COLUMNS", "ARRIVAL_FIELDS", "arrival_rows", "ORIGIN_LISTS", "WATCHED_LISTS", "arrival_counts", "arrivals", "receiving_warnings",
           "state", "watched_criteria"]
