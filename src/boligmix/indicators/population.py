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
from boligmix.data.residence import resident_on
from boligmix.errors import ConfigurationError, DataValidationError

Level = Literal["area", "department", "municipality", "organisation"]
UNIT_COLUMN: dict[str, str] = {"area": "area_id", "department": "department_id",
                               "municipality": "municipality_code", "organisation": "org_id"}
"""The id column of each unit level (in the output; in `dwellings` except `org_id`, which is the
organisation of the dwelling's department: the almene dwellings of the housing organisation)."""


def dwelling_column(dataset_dir: str | os.PathLike[str], level: Level) -> pl.LazyFrame:
    """dwelling_id, municipality_code and the dwelling's unit id column of `level` (not for municipality)."""
    if level != "organisation":
        return scan_columns(dataset_dir, "dwellings", ["dwelling_id", "municipality_code", UNIT_COLUMN[level]])
    departments = scan_columns(dataset_dir, "departments", ["department_id", "org_id"])
    return (scan_columns(dataset_dir, "dwellings", ["dwelling_id", "municipality_code", "department_id"])
            .join(departments, on="department_id", how="left", maintain_order="left").drop("department_id"))

_NON_WESTERN_ORIGINS = ("indvandrer", "efterkommer")


class FramesDataset(os.PathLike):
    """A dataset directory (manifest and the other tables on disk) some of whose tables are polars
    frames in memory instead of files: what the policy simulation passes for its yearly registers
    (`boligmix.simulate.yearly_lists`), so they go through this indicator code without being written.
    Everything else sees the directory (`os.fspath`)."""

    def __init__(self, root: str | os.PathLike[str], tables: dict[str, pl.DataFrame | pl.LazyFrame]) -> None:
        self.root = os.fspath(root)
        self.tables = tables

    def __fspath__(self) -> str:
        return self.root

    def __str__(self) -> str:
        return self.root


def scan_columns(dataset_dir: str | os.PathLike[str], table: str, columns: list[str]) -> pl.LazyFrame:
    """Scan a table, selecting `columns`; a missing column is a DataValidationError naming it."""
    if isinstance(dataset_dir, FramesDataset) and table in dataset_dir.tables:
        frame = dataset_dir.tables[table].lazy()
    else:
        frame = scan_table(dataset_dir, table)
    present = frame.collect_schema().names()
    for column in columns:
        if column not in present:
            raise DataValidationError("required column is missing", path=str(table_path(dataset_dir, table)),
                                      column=column)
    return frame.select(columns)


def sorted_by(frame: pl.DataFrame, key: str) -> pl.DataFrame:
    """`frame` sorted by `key` and flagged so, so polars joins on `key` take the fast merge path."""
    if frame.get_column(key).is_sorted():
        return frame.with_columns(pl.col(key).set_sorted())
    return frame.sort(key)


def _fail_on_rows(frame: pl.DataFrame, message: str, path: str, column: str) -> None:
    """Raise a DataValidationError naming the first offending row (1-based) when `frame` has rows."""
    if frame.height:
        first = int(frame.get_column("_row").min()) + 1
        raise DataValidationError(f"{message} ({frame.height} row(s); first shown)", path=path, row=first,
                                  column=column)


def dwelling_units(dataset_dir: str | os.PathLike[str], level: Level, units: pl.DataFrame) -> pl.DataFrame:
    """dwelling_id -> `unit` (row number in `units`, null if none) and the region of its municipality."""
    unit = UNIT_COLUMN[level]
    if unit == "municipality_code":
        dwellings = scan_columns(dataset_dir, "dwellings", ["dwelling_id", "municipality_code"])
    else:
        dwellings = dwelling_column(dataset_dir, level)
    dwellings = dwellings.with_row_index("_row")
    if unit == "municipality_code":
        dwellings = dwellings.with_columns(pl.col("municipality_code").alias("_unit_id"))
    else:
        dwellings = dwellings.rename({unit: "_unit_id"})
    municipalities = scan_columns(dataset_dir, "municipalities", ["municipality_code", "region_code"])
    index = units.lazy().select(pl.col("id").alias("_unit_id"), pl.col("unit"))
    joined = (dwellings.join(municipalities, on="municipality_code", how="left")
              .join(index, on="_unit_id", how="left").collect())
    path = str(table_path(dataset_dir, "dwellings"))
    _fail_on_rows(joined.filter(pl.col("region_code").is_null()), "municipality_code is not in municipalities.parquet",
                  path, "municipality_code")
    _fail_on_rows(joined.filter(pl.col("_unit_id").is_not_null() & pl.col("unit").is_null()),
                  f"{unit} is not in its table", path, unit)
    return sorted_by(joined.select("dwelling_id", "unit", "region_code"), "dwelling_id")


def unit_table(dataset_dir: str | os.PathLike[str], level: Level) -> pl.DataFrame:
    """Every unit of `level`: `unit` (row number), `id`, municipality_code and region_code."""
    municipalities = scan_columns(dataset_dir, "municipalities", ["municipality_code", "region_code"])
    if level == "municipality":
        units = municipalities.select(pl.col("municipality_code").alias("id"), "municipality_code",
                                      "region_code").collect()
    else:
        table = {"area": "areas", "department": "departments", "organisation": "housing_organisations"}[level]
        raw = scan_columns(dataset_dir, table, [UNIT_COLUMN[level], "municipality_code"]).with_row_index("_row")
        joined = raw.join(municipalities, on="municipality_code", how="left").collect()
        _fail_on_rows(joined.filter(pl.col("region_code").is_null()),
                      "municipality_code is not in municipalities.parquet",
                      str(table_path(dataset_dir, table)), "municipality_code")
        units = joined.select(pl.col(UNIT_COLUMN[level]).alias("id"), "municipality_code", "region_code")
    return units.with_row_index("unit")


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
    """person_id, birth year, birth month*100+day and `non_western` under `nomenclature`.

    non_western: immigrant or descendant whose country is not western in the nomenclature.
    """
    countries = (scan_columns(dataset_dir, "countries", ["country_code", "western", "nomenclature_version"])
                 .filter(pl.col("nomenclature_version") == nomenclature).collect())
    known = countries.get_column("country_code").implode()
    non_western_codes = countries.filter(~pl.col("western")).get_column("country_code").implode()
    persons = scan_columns(dataset_dir, "persons", ["person_id", "birth_date", "origin", "country_code"])
    foreign = pl.col("origin").is_in(_NON_WESTERN_ORIGINS)
    b = pl.col("birth_date")
    frame = persons.select(  # one pass over the file: the facts and the check
        "person_id", b.dt.year().cast(pl.Int32).alias("birth_year"),
        (b.dt.month().cast(pl.Int32) * 100 + b.dt.day().cast(pl.Int32)).alias("birth_md"),
        (foreign & pl.col("country_code").is_in(non_western_codes)).alias("non_western"),
        (foreign & ~pl.col("country_code").is_in(known)).alias("_unknown")).collect()
    if frame.get_column("_unknown").any():
        _fail_on_rows(frame.with_row_index("_row").filter("_unknown"),
                      f"country_code of an immigrant/descendant is not in countries ({nomenclature})",
                      str(table_path(dataset_dir, "persons")), "country_code")
    return sorted_by(frame.drop("_unknown"), "person_id")


def _open_on(on: date) -> pl.Expr:
    return resident_on(on)


def located_spells(dataset_dir: str | os.PathLike[str], dates: list[date], dwellings: pl.DataFrame,
                   persons: pl.DataFrame, *, with_household: bool = False) -> pl.DataFrame:
    """Residence spells open on any of `dates`, with the dwelling's unit and region and the person's facts.

    Checks, for each date, that nobody has two open spells, and that every dwelling and person
    is known; errors name the residences.parquet row.
    """
    path = str(table_path(dataset_dir, "residences"))
    open_any = pl.any_horizontal([_open_on(d) for d in dates])
    columns = ["person_id", "dwelling_id", "move_in", "move_out"] + (["household_id"] if with_household else [])
    spells = (scan_columns(dataset_dir, "residences", columns)
              .with_row_index("_row").filter(open_any).collect())
    # Sorted merge joins: several times cheaper than hash joins at national scale.
    located = sorted_by(spells, "dwelling_id").join(dwellings, on="dwelling_id", how="left")
    _fail_on_rows(located.filter(pl.col("region_code").is_null()), "dwelling_id is not in dwellings.parquet",
                  path, "dwelling_id")
    located = sorted_by(located, "person_id")
    for d in dates:  # person_id is sorted, so these uniqueness counts take polars' sorted fast path
        on_day = located.filter(_open_on(d))
        if on_day.get_column("person_id").n_unique() != on_day.height:
            _fail_on_rows(on_day.filter(pl.col("person_id").is_duplicated()),
                          f"a person has two residence spells open on {d.isoformat()}", path, "move_in")
    people = located.join(persons, on="person_id", how="left", maintain_order="left")
    _fail_on_rows(people.filter(pl.col("birth_year").is_null()), "person_id is not in persons.parquet",
                  path, "person_id")
    return sorted_by(people.drop("_row", "dwelling_id"), "person_id")


def resident_snapshot(located: pl.DataFrame, on: date) -> pl.DataFrame:
    """Everyone resident on `on`: person_id, unit (null outside every unit), region_code, age, non_western
    (and household_id when the spells carry it)."""
    age = (pl.lit(on.year, pl.Int32) - pl.col("birth_year")
           - (pl.col("birth_md") > on.month * 100 + on.day).cast(pl.Int32)).alias("age")
    extra = ["household_id"] if "household_id" in located.columns else []
    return located.filter(_open_on(on)).select("person_id", "unit", "region_code", age, "non_western", *extra)
