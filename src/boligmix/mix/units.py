"""Units of analysis: which area, department, municipality or organisation a dwelling belongs to.

* `area`: the dwelling's `area_id` (every tenure on the area's parcels counts, as in the lists);
* `department`: the almen department;
* `municipality`: the almen dwellings of the municipality (its reference is the whole municipality);
* `organisation`: the almen dwellings of the housing organisation (its reference municipality is
  the organisation's main office).
"""

from __future__ import annotations

import polars as pl

from boligmix.errors import ConfigurationError, DataValidationError
from boligmix.mix.population import MixData

LEVELS = ("area", "department", "municipality", "organisation")


def check_level(level: str) -> str:
    if level not in LEVELS:
        raise ConfigurationError(f"unknown level '{level}'; use one of {', '.join(LEVELS)}", field="level")
    return level


def dwelling_units(data: MixData, level: str) -> pl.DataFrame:
    """dwelling_id -> unit_id (string; null when the dwelling is in no unit of this level) and the
    dwelling's own municipality, department, area and tenure."""
    check_level(level)
    d = data.dwellings
    unit = {
        "area": pl.col("area_id"),
        "department": pl.col("department_id"),
        "municipality": pl.when(pl.col("tenure") == "almen").then(pl.col("municipality_code").cast(pl.String)),
        "organisation": pl.col("org_id"),
    }[level]
    return d.select("dwelling_id", unit.cast(pl.String).alias("unit_id"), "municipality_code", "department_id",
                    "area_id", "tenure")


def unit_names(data: MixData, level: str) -> pl.DataFrame:
    """unit_id, unit_name, municipality_code (the unit's reference municipality)."""
    check_level(level)
    if level == "area":
        f = data.areas.select(pl.col("area_id").alias("unit_id"), pl.col("area_name").alias("unit_name"),
                              "municipality_code")
    elif level == "department":
        f = data.departments.select(pl.col("department_id").alias("unit_id"),
                                    pl.col("department_name").alias("unit_name"), "municipality_code")
    elif level == "municipality":
        f = data.municipalities.select(pl.col("municipality_code").cast(pl.String).alias("unit_id"),
                                       pl.col("municipality_name").alias("unit_name"), "municipality_code")
    else:
        f = data.organisations.select(pl.col("org_id").alias("unit_id"), pl.col("org_name").alias("unit_name"),
                                      "municipality_code")
    return f.with_columns(pl.col("unit_id").cast(pl.String))


def check_listed(listed: pl.DataFrame | None, source: str = "listed") -> pl.DataFrame | None:
    """Validate a list-membership frame `area_id, year, listed` (e.g. the lists module's output)."""
    if listed is None:
        return None
    for col, ok in (("area_id", lambda t: t == pl.String), ("year", lambda t: t.is_integer()),
                    ("listed", lambda t: t == pl.Boolean)):
        if col not in listed.columns:
            raise DataValidationError("column is missing from the list-membership table", path=source, column=col)
        if not ok(listed.schema[col]):
            raise DataValidationError(f"has type {listed.schema[col]}", path=source, column=col)
        nulls = listed.get_column(col).is_null()
        if nulls.any():
            raise DataValidationError("value is missing", path=source, row=int(nulls.arg_true()[0]) + 1,
                                      column=col)
    dup = ~listed.select(pl.struct("area_id", "year").is_first_distinct()).to_series()
    if dup.any():
        raise DataValidationError("area_id and year appear twice", path=source,
                                  row=int(dup.arg_true()[0]) + 1, column="area_id")
    return listed.select("area_id", pl.col("year").cast(pl.Int64), "listed")


LIST_FLAGS = ("udsat", "parallelsamfund", "omdannelse", "forebyggelse")
"""Flag columns of the lists module's `lists.csv` (`boligmix lists`); 0/1, empty when undecided."""


def listed_from_flags(frame: pl.DataFrame, categories: tuple[str, ...] = LIST_FLAGS,
                      source: str = "lists") -> pl.DataFrame:
    """`area_id, year, listed` from a lists-module frame: listed = on any of `categories` that year
    (an undecided/empty flag counts as not on that list)."""
    present = [c for c in categories if c in frame.columns]
    if not present:
        raise DataValidationError(f"has neither a 'listed' column nor any of the list flags {', '.join(categories)}",
                                  path=source, column="listed")
    flag = pl.any_horizontal([pl.col(c).cast(pl.Int64, strict=False).fill_null(0) == 1 for c in present])
    return frame.select(pl.col("area_id").cast(pl.String), pl.col("year").cast(pl.Int64), flag.alias("listed"))


def _typed_listed_csv(path: str) -> pl.DataFrame:
    """A list-membership CSV (any dialect `read_text_csv` reads): year and 0/1 flags as integers."""
    from boligmix.data.csvtext import read_text_csv

    text, _ = read_text_csv(path, what="the list-membership file")
    if text.height == 0:
        raise DataValidationError("the list-membership file has a header but no data rows", path=path)
    frame = text
    for col in [c for c in text.columns if c not in ("area_id", "listed")]:
        number = text.get_column(col).cast(pl.Int64, strict=False)
        bad = number.is_null() & text.get_column(col).is_not_null()
        if bad.any() and col in ("year", *LIST_FLAGS):
            raise DataValidationError(f"'{text.get_column(col)[int(bad.arg_true()[0])]}' is not a whole number",
                                      path=path, row=int(bad.arg_true()[0]) + 1, column=col)
        if not bad.any():
            frame = frame.with_columns(number.alias(col))
    return frame


def read_listed(path: str, categories: tuple[str, ...] = LIST_FLAGS) -> pl.DataFrame:
    """Read list membership (.csv or .parquet): either `area_id, year, listed` or the lists module's
    `lists.csv` (`area_id, year, udsat, parallelsamfund, omdannelse, forebyggelse`, 0/1), where an
    area is listed in a year when it is on any of `categories`."""
    try:
        if path.endswith(".parquet"):
            frame = pl.read_parquet(path)
        else:
            frame = _typed_listed_csv(path)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise DataValidationError(f"cannot read list-membership file: {exc}", path=path) from exc
    if "listed" not in frame.columns:
        for col in ("area_id", "year"):
            if col not in frame.columns:
                raise DataValidationError("column is missing from the list-membership table", path=path, column=col)
        frame = listed_from_flags(frame, categories, path)
    elif frame.schema["listed"] == pl.String:
        frame = frame.with_columns(pl.col("listed").str.to_lowercase().replace_strict(
            {"true": True, "false": False, "1": True, "0": False}, default=None, return_dtype=pl.Boolean))
        bad = frame.get_column("listed").is_null()
        if bad.any():
            raise DataValidationError("listed must be true/false/1/0", path=path, row=int(bad.arg_true()[0]) + 1,
                                      column="listed")
    elif frame.schema["listed"].is_integer():
        frame = frame.with_columns(pl.col("listed").cast(pl.Boolean))
    return check_listed(frame, path)
