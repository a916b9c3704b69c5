"""General yearly composition indicators per unit, for monitoring: a registry of named indicators.

Each indicator is one function of a `YearContext` (the residents of every unit on 1 January of
year Y and the register facts of year Y-1) returning the tidy shape
`unit, numerator, denominator` — one row per unit with a non-empty denominator.
`compute_composition` adds the value (`100 * numerator / denominator` for a percentage,
`numerator / denominator` for a ratio) and provenance, for any selection of indicators and years.
Definitions: docs/indicators.md ("Composition indicators").
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

import polars as pl

from boligmix.data.io import read_manifest
from boligmix.errors import ConfigurationError, DatasetError
from boligmix.indicators.population import (
    UNIT_COLUMN,
    Level,
    choose_nomenclature,
    dwelling_units,
    located_spells,
    persons_frame,
    resident_snapshot,
    scan_columns,
    sorted_by,
    unit_table,
)

TIDY_COLUMNS = ("year", "indicator", "numerator", "denominator", "value", "kind", "reference_date",
                "facts_year", "vintage", "seed")
"""Output columns after the unit id column."""


@dataclass
class YearContext:
    """What an indicator of year Y may use: residents on 1 January Y and facts of year Y-1."""

    dataset_dir: str | os.PathLike[str]
    year: int
    residents: pl.DataFrame
    """person_id, unit (null outside every unit), region_code, age, non_western, household_id."""

    @property
    def facts_year(self) -> int:
        return self.year - 1

    @property
    def in_units(self) -> pl.DataFrame:
        return self.residents.filter(pl.col("unit").is_not_null())

    def labour_fte(self, attachments: Sequence[str]) -> pl.DataFrame:
        """person_id -> summed FTE (capped at 1.0) of `attachments` in the facts year."""
        return (scan_columns(self.dataset_dir, "labour", ["person_id", "year", "attachment", "fte"])
                .filter((pl.col("year") == self.facts_year) & pl.col("attachment").is_in(list(attachments)))
                .group_by("person_id").agg(pl.col("fte").sum().clip(upper_bound=1.0)).collect())

    def person_year(self, columns: list[str]) -> pl.DataFrame:
        return sorted_by(scan_columns(self.dataset_dir, "person_years", ["person_id", "year", *columns])
                         .filter(pl.col("year") == self.facts_year).drop("year").collect(), "person_id")


IndicatorFn = Callable[[YearContext], pl.DataFrame]


@dataclass(frozen=True)
class CompositionIndicator:
    """A named indicator: what it measures, of whom, and the function computing it."""

    name: str
    description: str
    population: str
    kind: Literal["pct", "ratio"]
    compute: IndicatorFn
    members: bool = False
    """For a ratio: the numerator counts the members of the denominator's units and every unit has at
    least one (persons per household), so numerator - denominator is a count of persons as well."""


def _share(frame: pl.DataFrame, flag: pl.Expr) -> pl.DataFrame:
    """Per unit: count of rows where `flag` holds / count of rows."""
    return frame.group_by("unit").agg(flag.cast(pl.Float64).sum().alias("numerator"),
                                      pl.len().cast(pl.Float64).alias("denominator"))


def share_children(ctx: YearContext) -> pl.DataFrame:
    return _share(ctx.in_units, pl.col("age") < 18)


def share_young_adults(ctx: YearContext) -> pl.DataFrame:
    return _share(ctx.in_units, pl.col("age").is_between(18, 29))


def share_elderly(ctx: YearContext) -> pl.DataFrame:
    return _share(ctx.in_units, pl.col("age") >= 65)


def share_non_western(ctx: YearContext) -> pl.DataFrame:
    return _share(ctx.in_units, pl.col("non_western"))


def _households(ctx: YearContext) -> pl.DataFrame:
    return ctx.in_units.group_by("unit", "household_id").agg(
        (pl.col("age") >= 18).sum().alias("adults"), (pl.col("age") < 18).sum().alias("children"),
        pl.len().alias("size"))


def share_single_parents(ctx: YearContext) -> pl.DataFrame:
    families = _households(ctx).filter(pl.col("children") > 0)
    return _share(families, pl.col("adults") == 1)


def mean_household_size(ctx: YearContext) -> pl.DataFrame:
    return _households(ctx).group_by("unit").agg(pl.col("size").sum().cast(pl.Float64).alias("numerator"),
                                                  pl.len().cast(pl.Float64).alias("denominator"))


def _fte_share(ctx: YearContext, attachments: Sequence[str]) -> pl.DataFrame:
    adults = ctx.in_units.filter(pl.col("age").is_between(18, 64))
    joined = adults.join(ctx.labour_fte(attachments), on="person_id", how="left")
    return joined.group_by("unit").agg(pl.col("fte").fill_null(0.0).sum().alias("numerator"),
                                       pl.len().cast(pl.Float64).alias("denominator"))


def share_foertidspension(ctx: YearContext) -> pl.DataFrame:
    return _fte_share(ctx, ["foertidspension"])


def share_employed(ctx: YearContext) -> pl.DataFrame:
    return _fte_share(ctx, ["employment"])


def share_students_18_29(ctx: YearContext) -> pl.DataFrame:
    young = ctx.in_units.filter(pl.col("age").is_between(18, 29))
    joined = young.join(ctx.person_year(["in_education"]), on="person_id", how="left")
    return _share(joined, pl.col("in_education").fill_null(False))


INDICATORS: dict[str, CompositionIndicator] = {i.name: i for i in (
    CompositionIndicator("share_children", "Children under 18", "residents", "pct", share_children),
    CompositionIndicator("share_young_adults", "Residents aged 18-29", "residents", "pct", share_young_adults),
    CompositionIndicator("share_elderly", "Residents aged 65 and over", "residents", "pct", share_elderly),
    CompositionIndicator("share_non_western", "Immigrants and descendants from non-western countries",
                         "residents", "pct", share_non_western),
    CompositionIndicator("share_single_parents", "Households with children that have exactly one adult (18+)",
                         "households with children under 18", "pct", share_single_parents),
    CompositionIndicator("mean_household_size", "Residents per household", "households", "ratio",
                         mean_household_size, members=True),
    CompositionIndicator("share_foertidspension", "Full-time persons on foertidspension in year Y-1",
                         "residents 18-64", "pct", share_foertidspension),
    CompositionIndicator("share_employed", "Full-time persons in employment in year Y-1", "residents 18-64",
                         "pct", share_employed),
    CompositionIndicator("share_students_18_29", "Enrolled in education in year Y-1", "residents 18-29", "pct",
                         share_students_18_29),
)}
"""The registry: every composition indicator by name."""


def compute_composition(
    dataset_dir: str | os.PathLike[str],
    years: Sequence[int],
    indicators: Sequence[str] | None = None,
    *,
    level: Level = "area",
    country_nomenclature: str | None = None,
    on_progress: Callable[[str, float], None] | None = None,
) -> pl.DataFrame:
    """Composition indicators (all, or the named ones) per unit and year, in the tidy shape.

    Year Y: residents on 1 January Y; labour and person_years facts of year Y-1.
    Columns: the unit id (`area_id`, `department_id` or `municipality_code`), then `TIDY_COLUMNS`.
    """
    if level not in UNIT_COLUMN:
        raise ConfigurationError(f"unknown level '{level}'; use one of {', '.join(UNIT_COLUMN)}", field="level")
    names = list(indicators) if indicators is not None else list(INDICATORS)
    unknown = [n for n in names if n not in INDICATORS]
    if unknown:
        raise ConfigurationError(f"unknown indicators {unknown}; known: {', '.join(INDICATORS)}",
                                 field="indicators")
    years = sorted(set(int(y) for y in years))
    if not years:
        raise ConfigurationError("no years given", field="years")
    manifest = read_manifest(dataset_dir)
    if manifest.years is not None:
        outside = [y - 1 for y in years if not manifest.years[0] <= y - 1 <= manifest.years[1]]
        if outside:
            raise DatasetError(f"register year(s) {outside} are needed but dataset {dataset_dir} covers "
                               f"{manifest.years[0]}-{manifest.years[1]}")
    report = on_progress or (lambda _s, _f: None)
    units = unit_table(dataset_dir, level)
    dwellings = dwelling_units(dataset_dir, level, units)
    dates = [date(y, 1, 1) for y in years]
    located: dict[str, pl.DataFrame] = {}
    frames = []
    for i, y in enumerate(years):
        nomenclature = choose_nomenclature(dataset_dir, country_nomenclature, y)
        if nomenclature not in located:
            located[nomenclature] = located_spells(dataset_dir, dates, dwellings,
                                                   persons_frame(dataset_dir, nomenclature), with_household=True)
        ctx = YearContext(dataset_dir, y, resident_snapshot(located[nomenclature], date(y, 1, 1)))
        for j, name in enumerate(names):
            report(f"{name} {y}", (i + j / len(names)) / len(years))
            spec = INDICATORS[name]
            part = spec.compute(ctx).filter(pl.col("denominator") > 0)
            scale = 100.0 if spec.kind == "pct" else 1.0
            frames.append(part.select(
                "unit", pl.lit(y, pl.Int64).alias("year"), pl.lit(name).alias("indicator"),
                pl.col("numerator").cast(pl.Float64), pl.col("denominator").cast(pl.Float64),
                (scale * pl.col("numerator") / pl.col("denominator")).alias("value"), pl.lit(spec.kind).alias("kind"),
                pl.lit(date(y, 1, 1)).alias("reference_date"), pl.lit(y - 1, pl.Int64).alias("facts_year")))
    report("done", 1.0)
    id_column = UNIT_COLUMN[level]
    result = (pl.concat(frames).join(units.select("unit", "id"), on="unit", how="left").drop("unit")
              .rename({"id": id_column})
              .with_columns(pl.lit(manifest.vintage).alias("vintage"), pl.lit(manifest.seed, pl.Int64).alias("seed")))
    return result.select(id_column, *TIDY_COLUMNS).sort("year", "indicator", id_column)
