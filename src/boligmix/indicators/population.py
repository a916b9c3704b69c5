"""Who lives where on a date: resident snapshots from residence spells, with unit and region.

A person is resident on date d in a dwelling when a residence spell of theirs has
`move_in <= d` and (`move_out` is null or `d < move_out`); `move_out` is the day after the
last day, so a person moving out on 1 January is no longer resident that day and a person
moving in on 1 January is. Ages are completed years on the reference date.
"""

from __future__ import annotations

import os
import re
from datetime import date
from typing import Literal

import polars as pl

from boligmix.data.io import scan_table, table_path
from boligmix.errors import ConfigurationError, DataValidationError

Level = Literal["area", "department", "municipality"]
UNIT_COLUMN: dict[str, str] = {"area": "area_id", "department": "department_id",
                               "municipality": "municipality_code"}
"""The id column of each unit level (in `dwellings` and in the output)."""

_NON_WESTERN_ORIGINS = ("indvandrer", "efterkommer")


def scan_columns(dataset_dir: str | os.PathLike[str], table: str, columns: list[str]) -> pl.LazyFrame:
    """Scan a table, selecting `columns`; a missing column is a DataValidationError naming it."""
    frame = scan_table(dataset_dir, table)
    present = frame.collect_schema().names()
    for column in columns:
        if column not in present:
            raise DataValidationError("required column is missing", path=str(table_path(dataset_dir, table)),
                                      column=column)
    return frame.select(columns)


def age_on(reference: date, birth: str = "birth_date") -> pl.Expr:
    """Completed years of age on `reference` (a person born on the reference day has had the birthday)."""
    b = pl.col(birth)
    not_yet = (b.dt.month().cast(pl.Int32) * 100 + b.dt.day().cast(pl.Int32)) > (reference.month * 100 + reference.day)
    return (pl.lit(reference.year, pl.Int32) - b.dt.year().cast(pl.Int32) - not_yet.cast(pl.Int32)).alias("age")


def _fail_on_rows(frame: pl.DataFrame, message: str, path: str, column: str) -> None:
    """Raise a DataValidationError naming the first offending row (1-based) when `frame` has rows."""
    if frame.height:
        first = int(frame.get_column("_row").min()) + 1
        raise DataValidationError(f"{message} ({frame.height} row(s); first shown)", path=path, row=first,
                                  column=column)


def dwelling_units(dataset_dir: str | os.PathLike[str], level: Level) -> pl.DataFrame:
    """dwelling_id -> unit id of `level` (null if none) and the region of the dwelling's municipality."""
    unit = UNIT_COLUMN[level]
    cols = ["dwelling_id", "municipality_code"] + ([] if unit == "municipality_code" else [unit])
    dwellings = scan_columns(dataset_dir, "dwellings", cols).with_row_index("_row")
    municipalities = scan_columns(dataset_dir, "municipalities", ["municipality_code", "region_code"])
    joined = dwellings.join(municipalities, on="municipality_code", how="left").collect()
    _fail_on_rows(joined.filter(pl.col("region_code").is_null()),
                  "municipality_code is not in municipalities.parquet",
                  str(table_path(dataset_dir, "dwellings")), "municipality_code")
    return joined.select("dwelling_id", pl.col(unit).alias("unit"), "region_code")


def unit_regions(dataset_dir: str | os.PathLike[str], level: Level) -> pl.DataFrame:
    """unit -> municipality_code and region_code, from the unit's own table (areas, departments)."""
    municipalities = scan_columns(dataset_dir, "municipalities", ["municipality_code", "region_code"])
    if level == "municipality":
        return municipalities.select(pl.col("municipality_code").alias("unit"), "municipality_code",
                                     "region_code").collect()
    table = "areas" if level == "area" else "departments"
    units = scan_columns(dataset_dir, table, [UNIT_COLUMN[level], "municipality_code"]).with_row_index("_row")
    joined = units.join(municipalities, on="municipality_code", how="left").collect()
    _fail_on_rows(joined.filter(pl.col("region_code").is_null()),
                  "municipality_code is not in municipalities.parquet",
                  str(table_path(dataset_dir, table)), "municipality_code")
    return joined.select(pl.col(UNIT_COLUMN[level]).alias("unit"), "municipality_code", "region_code")


def choose_nomenclature(dataset_dir: str | os.PathLike[str], wanted: str | None, list_year: int) -> str:
    """The country nomenclature version to use: `wanted`, or the latest not newer than the list year.

    Automatic choice: versions whose label ends in a 4-digit year; the latest with year <= list
    year, else the earliest; a dataset with a single version uses it whatever its label.
    """
    versions = sorted(scan_columns(dataset_dir, "countries", ["nomenclature_version"]).unique()
                      .collect().get_column("nomenclature_version").to_list())
    if wanted is not None:
        if wanted not in versions:
            raise ConfigurationError(f"country nomenclature '{wanted}' is not in the dataset's countries "
                                     f"table (versions: {', '.join(versions) or 'none'})",
                                     field="country_nomenclature")
        return wanted
    if len(versions) == 1:
        return versions[0]
    dated = sorted((int(m.group(1)), v) for v in versions if (m := re.search(r"(\d{4})$", v)))
    if not dated:
        raise ConfigurationError(f"cannot choose a country nomenclature among {versions}: set "
                                 "country_nomenclature", field="country_nomenclature")
    not_newer = [v for y, v in dated if y <= list_year]
    return not_newer[-1] if not_newer else dated[0][1]


def persons_frame(dataset_dir: str | os.PathLike[str], nomenclature: str) -> pl.DataFrame:
    """person_id, birth_date and `non_western` (immigrant or descendant from a non-western country)."""
    persons = scan_columns(dataset_dir, "persons", ["person_id", "birth_date", "origin", "country_code"])
    countries = (scan_columns(dataset_dir, "countries", ["country_code", "western", "nomenclature_version"])
                 .filter(pl.col("nomenclature_version") == nomenclature).select("country_code", "western"))
    joined = persons.with_row_index("_row").join(countries, on="country_code", how="left").collect()
    foreign = pl.col("origin").is_in(_NON_WESTERN_ORIGINS)
    _fail_on_rows(joined.filter(foreign & pl.col("western").is_null()),
                  f"country_code of an immigrant/descendant is not in countries ({nomenclature})",
                  str(table_path(dataset_dir, "persons")), "country_code")
    return joined.select("person_id", "birth_date",
                         (foreign & ~pl.col("western").fill_null(True)).alias("non_western"))


def resident_snapshot(dataset_dir: str | os.PathLike[str], on: date, dwellings: pl.DataFrame,
                      persons: pl.DataFrame) -> pl.DataFrame:
    """Everyone resident on `on`: person_id, unit (null outside every unit), region_code, age, non_western."""
    path = str(table_path(dataset_dir, "residences"))
    spells = (scan_columns(dataset_dir, "residences", ["person_id", "dwelling_id", "move_in", "move_out"])
              .with_row_index("_row")
              .filter((pl.col("move_in") <= on) & (pl.col("move_out").is_null() | (pl.col("move_out") > on)))
              .select("_row", "person_id", "dwelling_id")
              .collect())
    _fail_on_rows(spells.filter(pl.col("person_id").is_duplicated()),
                  f"a person has two residence spells open on {on.isoformat()}", path, "move_in")
    located = spells.join(dwellings, on="dwelling_id", how="left")
    _fail_on_rows(located.filter(pl.col("region_code").is_null()),
                  "dwelling_id is not in dwellings.parquet", path, "dwelling_id")
    people = located.join(persons, on="person_id", how="left")
    _fail_on_rows(people.filter(pl.col("birth_date").is_null()),
                  "person_id is not in persons.parquet", path, "person_id")
    return people.select("person_id", "unit", "region_code", age_on(on), "non_western")
