"""Who is counted: the stock at 1 January, in-movers and out-movers, from residence spells.

Definitions (docs/mix.md):

* **stock at 1 January Y**: persons with a spell `move_in <= Y-01-01 < move_out` (or open).
* **in-mover during Y**: a spell starting in (Y-01-01, (Y+1)-01-01]. Its origin is the person's
  previous spell's dwelling; with no previous spell the person came from abroad, unless the
  spell starts within `birth_grace_days` of the birth date (a **birth**, which is not an in-move).
  A previous spell that ended with `end_reason = 'abroad'` also means "from abroad".
* **out-mover during Y**: a spell ending in (Y-01-01, (Y+1)-01-01]. Its destination is the next
  spell's dwelling, or `abroad` / `death` from `end_reason` (`unknown` if neither is there).

Whether a move crosses a unit's boundary depends on the level (area, department, ...), so the
rows keep the other dwelling and `boligmix.mix.composition` drops internal moves per level.

Each row has a *reference year* for the person's characteristics: the stock at 1 January Y and
out-movers during Y use register year Y-1 (what they were in the stock they leave), in-movers
during Y use year Y (what they bring to the stock at 1 January Y+1). So the stock at Y+1 and the
in-movers of Y are measured alike, which the decomposition relies on.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from boligmix.data.io import read_manifest, read_table, scan_table
from boligmix.data.residence import january_years
from boligmix.errors import DatasetError
from boligmix.years import year_list

GROUPS = ("stock", "in", "out")
"""Membership groups: stock at 1 January, in-movers and out-movers during the year."""


@dataclass(frozen=True)
class MixData:
    """The tables the mix analysis reads, with dwellings resolved to their units."""

    dwellings: pl.DataFrame
    """dwelling_id, municipality_code, tenure, department_id, area_id, org_id"""
    residences: pl.DataFrame
    persons: pl.DataFrame
    person_years: pl.DataFrame
    labour: pl.DataFrame
    countries: pl.DataFrame
    areas: pl.DataFrame
    departments: pl.DataFrame
    organisations: pl.DataFrame
    municipalities: pl.DataFrame
    vintage: str
    seed: int | None
    register_years: tuple[int, int]
    """First and last year with person_years rows."""


def register_years(dataset_dir: str | os.PathLike[str]) -> tuple[int, int]:
    """First and last year with person_years rows (a lazy scan of the year column)."""
    lo, hi = scan_table(dataset_dir, "person_years").select(
        pl.col("year").min().alias("lo"), pl.col("year").max().alias("hi")).collect().row(0)
    if lo is None:
        raise DatasetError(f"{dataset_dir}: person_years is empty")
    return int(lo), int(hi)


def load_mix_data(dataset_dir: str | os.PathLike[str], years: Sequence[int] | None = None) -> MixData:
    """Read the tables the mix analysis needs from a dataset directory.

    With `years` (the years to analyse) only the register years they read (Y-1 and Y, with a year's
    margin) of the yearly tables person_years and labour are loaded, so a few years of the national
    scale fit in memory; without, all of them."""
    manifest = read_manifest(dataset_dir)
    lo, hi = register_years(dataset_dir)
    wanted = pl.lit(True) if not years else pl.col("year").is_between(min(years) - 2, max(years) + 1)
    departments = read_table(dataset_dir, "departments")
    dwellings = read_table(dataset_dir, "dwellings", ["dwelling_id", "municipality_code", "tenure",
                                                      "department_id", "area_id"])
    dwellings = dwellings.join(departments.select("department_id", "org_id"), on="department_id", how="left")
    person_years = scan_table(dataset_dir, "person_years").select(
        "person_id", "year", "highest_education", "education_source", "gross_income_dkk").filter(wanted).collect()
    return MixData(
        dwellings=dwellings,
        residences=read_table(dataset_dir, "residences"),
        persons=read_table(dataset_dir, "persons", ["person_id", "birth_date", "origin", "country_code"]),
        person_years=person_years,
        labour=scan_table(dataset_dir, "labour").filter(wanted).collect(),
        countries=read_table(dataset_dir, "countries"),
        areas=read_table(dataset_dir, "areas", ["area_id", "area_name", "municipality_code"]),
        departments=departments,
        organisations=read_table(dataset_dir, "housing_organisations"),
        municipalities=read_table(dataset_dir, "municipalities", ["municipality_code", "municipality_name"]),
        vintage=manifest.vintage,
        seed=manifest.seed,
        register_years=(lo, hi),
    )


def check_years(data: MixData, years: Sequence[int]) -> None:
    """Each year Y needs register years Y-1 (stock, out-movers) and Y (in-movers)."""
    lo, hi = data.register_years
    bad = [y for y in years if y - 1 < lo or y > hi]
    if bad:
        raise DatasetError(
            f"years {bad[0]}..{bad[-1]} cannot be analysed: year Y needs register years Y-1 and Y, "
            f"and the data covers {lo}-{hi} (use years {lo + 1}-{hi})")


def memberships(data: MixData, years: Sequence[int], birth_grace_days: int,
                spells: pl.DataFrame | None = None) -> pl.DataFrame:
    """One row per person, year and group (stock / in / out) with the dwelling and the move's other end.

    The stock is also given at 1 January Y+1 for each year Y (the end of the year: needed for the
    decomposition and for the income distribution the in-movers of Y are placed in).

    Columns: year, group, person_id, household_id, dwelling_id, event_date, ref_year,
    other_dwelling_id (previous dwelling for in-movers, next for out-movers), other_kind
    ('dwelling', 'abroad', 'birth', 'death', 'unknown'; null for the stock). `spells` is the result of
    `spells_with_neighbours` when the caller computes it once for several calls.
    """
    years = sorted(set(int(y) for y in years))
    if not years:
        raise DatasetError("no years to analyse")
    y_min, y_max = years[0], years[-1]
    stock_years = sorted(set(years) | {y + 1 for y in years})
    res = spells if spells is not None else spells_with_neighbours(data, birth_grace_days)

    first, last = january_years(y_max + 1)  # the one definition of "resident on 1 January"
    stock = (
        res.with_columns(first.clip(lower_bound=y_min).alias("_a"), last.clip(upper_bound=y_max + 1).alias("_b"))
        .filter(pl.col("_a") <= pl.col("_b"))
        .with_columns(pl.int_ranges(pl.col("_a"), pl.col("_b") + 1).alias("year"))
        .explode("year")
        .filter(pl.col("year").is_in(stock_years))
        .select(
            pl.col("year").cast(pl.Int64), pl.lit("stock").alias("group"), "person_id", "household_id",
            "dwelling_id", pl.date(pl.col("year"), 1, 1).alias("event_date"),
            (pl.col("year") - 1).cast(pl.Int64).alias("ref_year"),
            pl.lit(None, dtype=pl.Int64).alias("other_dwelling_id"),
            pl.lit(None, dtype=pl.String).alias("other_kind"),
        )
    )

    def move_year(col: str) -> pl.Expr:
        d = pl.col(col)
        jan1 = (d.dt.month() == 1) & (d.dt.day() == 1)
        return pl.when(jan1).then(d.dt.year() - 1).otherwise(d.dt.year())

    moved_in = (
        res.with_columns(move_year("move_in").alias("year"))
        .filter(pl.col("year").is_in(years))
        .select(
            pl.col("year").cast(pl.Int64), pl.lit("in").alias("group"), "person_id", "household_id",
            "dwelling_id", pl.col("move_in").alias("event_date"), pl.col("year").cast(pl.Int64).alias("ref_year"),
            pl.col("prev_dwelling_id").alias("other_dwelling_id"), pl.col("in_kind").alias("other_kind"),
        )
    )
    moved_out = (
        res.filter(pl.col("move_out").is_not_null())
        .with_columns(move_year("move_out").alias("year"))
        .filter(pl.col("year").is_in(years))
        .select(
            pl.col("year").cast(pl.Int64), pl.lit("out").alias("group"), "person_id", "household_id",
            "dwelling_id", pl.col("move_out").alias("event_date"),
            (pl.col("year") - 1).cast(pl.Int64).alias("ref_year"),
            pl.col("next_dwelling_id").alias("other_dwelling_id"), pl.col("out_kind").alias("other_kind"),
        )
    )
    return pl.concat([stock, moved_in, moved_out], how="vertical")


def spells_with_neighbours(data: MixData, birth_grace_days: int) -> pl.DataFrame:
    """Residence spells with the kind of move that starts and ends them and the dwellings before/after."""
    res = data.residences.sort("person_id", "move_in")
    res = res.join(data.persons.select("person_id", "birth_date"), on="person_id", how="left", maintain_order="left")
    same_prev = pl.col("person_id").shift(1) == pl.col("person_id")  # sorted: a shift stays within a person
    same_next = pl.col("person_id").shift(-1) == pl.col("person_id")
    prev_end = pl.when(same_prev).then(pl.col("end_reason").shift(1))
    prev_dw = pl.when(same_prev).then(pl.col("dwelling_id").shift(1))
    next_dw = pl.when(same_next).then(pl.col("dwelling_id").shift(-1))
    born_here = (pl.col("move_in") - pl.col("birth_date")).dt.total_days() <= birth_grace_days
    return res.with_columns(
        pl.when(prev_dw.is_null() & born_here).then(pl.lit("birth"))
        .when(prev_dw.is_null() | (prev_end == "abroad")).then(pl.lit("abroad"))
        .otherwise(pl.lit("dwelling")).alias("in_kind"),
        pl.when(prev_dw.is_not_null() & (prev_end != "abroad").fill_null(True)).then(prev_dw)
        .otherwise(None).alias("prev_dwelling_id"),
        pl.when(pl.col("end_reason") == "abroad").then(pl.lit("abroad"))
        .when(pl.col("end_reason") == "death").then(pl.lit("death"))
        .when(next_dw.is_not_null()).then(pl.lit("dwelling"))
        .otherwise(pl.lit("unknown")).alias("out_kind"),
        pl.when(next_dw.is_not_null() & pl.col("end_reason").is_null()).then(next_dw)
        .otherwise(None).alias("next_dwelling_id"),
    )


def years_range(spec: str) -> list[int]:
    """Parse '2004-2024' or '2010' or '2010,2012' into a sorted list of years (`boligmix.years.year_list`)."""
    return year_list(spec)
