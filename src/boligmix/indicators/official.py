"""The official-list indicators per unit and list year (rules-spec 1.1-1.4, 2-5).

`compute_area_indicators` returns one row per unit with residents and list year. The first
columns are the classify CSV format (`CLASSIFY_COLUMNS`), then support columns for explanations
(`SUPPORT_COLUMNS`) and provenance (`PROVENANCE_COLUMNS`). Definitions: docs/indicators.md.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from datetime import date

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
from boligmix.indicators.settings import IndicatorSettings, settings_for_list_year

CLASSIFY_COLUMNS = ("year", "residents", "pct_non_western", "pct_outside_work_edu", "pct_convicted",
                    "conviction_ratio", "pct_basic_education", "income_pct_of_region")
"""After the unit id column: the columns the list classification reads (percentages 0-100)."""
SUPPORT_COLUMNS = ("n_non_western", "n_18_64", "fte_outside_18_64", "n_18plus", "n_convicted_18plus",
                   "national_conviction_pct", "n_30_59", "n_basic_30_59", "n_income_group", "mean_income",
                   "region_mean_income", "municipality_code", "region_code", "meets_min_residents")
PROVENANCE_COLUMNS = ("register_years", "rules_basis", "country_nomenclature", "vintage", "seed")

PERSON_YEAR_COLUMNS = ("highest_education", "education_source", "in_education", "gross_income_dkk", "taxpayer")
LABOUR_AGES = (18, 64)
CONVICTION_MIN_AGE = 18
EDUCATION_AGES = (30, 59)
INCOME_AGES = (15, 64)

Progress = Callable[[str, float], None]


def output_columns(level: Level = "area") -> list[str]:
    """Every output column in order; the id column depends on the level."""
    support = [c for c in SUPPORT_COLUMNS if not (level == "municipality" and c == "municipality_code")]
    return [UNIT_COLUMN[level], *CLASSIFY_COLUMNS, *support, *PROVENANCE_COLUMNS]


class _Inputs:
    """Tables read once per call; resident snapshots are filters of one located-spells frame."""

    def __init__(self, dataset_dir: str | os.PathLike[str], level: Level, dates: list[date]) -> None:
        self.dataset_dir = dataset_dir
        self.dates = sorted(set(dates))
        self.units = unit_table(dataset_dir, level)
        self.dwellings = dwelling_units(dataset_dir, level, self.units)
        self._located: dict[str, pl.DataFrame] = {}
        self._person_years: dict[int, pl.DataFrame] = {}
        self._labour: dict[tuple[int, tuple[str, ...], bool], pl.DataFrame] = {}
        self._convicted: dict[tuple[int, tuple[str, ...]], pl.Series] = {}

    def snapshot(self, on: date, nomenclature: str) -> pl.DataFrame:
        if nomenclature not in self._located:
            persons = persons_frame(self.dataset_dir, nomenclature)
            self._located[nomenclature] = located_spells(self.dataset_dir, self.dates, self.dwellings, persons)
        return resident_snapshot(self._located[nomenclature], on)

    def person_year(self, year: int, columns: list[str]) -> pl.DataFrame:
        """person_years of `year` (every column, read once per year), sorted by person_id."""
        if year not in self._person_years:
            self._person_years.clear()  # list years are processed in order; keep one year in memory
            self._person_years[year] = sorted_by(
                scan_columns(self.dataset_dir, "person_years", ["person_id", "year", *PERSON_YEAR_COLUMNS])
                .filter(pl.col("year") == year).drop("year").collect(), "person_id")
        return self._person_years[year].select("person_id", *columns)

    def outside_fte(self, year: int, attachments: tuple[str, ...], cap: bool) -> pl.DataFrame:
        """person_id -> summed FTE on outside attachments in `year` (capped at 1.0 when `cap`)."""
        key = (year, attachments, cap)
        if key not in self._labour:
            fte = pl.col("fte").sum()
            self._labour[key] = (
                scan_columns(self.dataset_dir, "labour", ["person_id", "year", "attachment", "fte"])
                .filter((pl.col("year") == year) & pl.col("attachment").is_in(attachments))
                .group_by("person_id").agg((fte.clip(upper_bound=1.0) if cap else fte).alias("fte"))
                .sort("person_id").collect())
        return self._labour[key]

    def convicted(self, year: int, laws: tuple[str, ...]) -> pl.Series:
        """Distinct persons with at least one conviction under `laws` in `year` (an imploded Series)."""
        key = (year, laws)
        if key not in self._convicted:
            self._convicted[key] = (
                scan_columns(self.dataset_dir, "convictions", ["person_id", "year", "law", "count"])
                .filter((pl.col("year") == year) & pl.col("law").is_in(laws) & (pl.col("count") >= 1))
                .select(pl.col("person_id").unique().implode()).collect().to_series())
        return self._convicted[key]


def _available_years(dataset_dir: str | os.PathLike[str], manifest_years: tuple[int, int] | None) -> set[int]:
    if manifest_years is not None:
        return set(range(manifest_years[0], manifest_years[1] + 1))
    years = scan_columns(dataset_dir, "person_years", ["year"]).unique().collect().get_column("year")
    return set(years.to_list())


def _check_years(list_year: int, settings: IndicatorSettings, available: set[int], dataset: str) -> None:
    needed = {f"labour/conviction window {settings.window(list_year)[0]}-{settings.window(list_year)[-1]}":
              set(settings.window(list_year)),
              "education": {settings.education_year(list_year)},
              "income": {settings.income_year(list_year)}}
    for what, years in needed.items():
        missing = sorted(years - available)
        if missing:
            span = f"{min(available)}-{max(available)}" if available else "no years"
            raise DatasetError(f"list year {list_year} needs register year(s) {missing} ({what}); "
                               f"dataset {dataset} covers {span}")


def _window_measures(inputs: _Inputs, settings: IndicatorSettings, list_year: int,
                     nomenclature: str) -> tuple[pl.DataFrame, float | None]:
    """Per unit: window-averaged labour and conviction measures; and the national conviction pct."""
    yearly: list[pl.DataFrame] = []
    national: list[tuple[int, int]] = []
    lo, hi = LABOUR_AGES
    for register_year in settings.window(list_year):
        snap = inputs.snapshot(settings.window_population_date(register_year), nomenclature)
        convicted = inputs.convicted(register_year, settings.conviction_laws)
        adults = (snap.filter(pl.col("age") >= CONVICTION_MIN_AGE)
                  .with_columns(pl.col("person_id").is_in(convicted).alias("convicted")))
        national.append((adults.height, int(adults.get_column("convicted").sum())))
        crime = (adults.filter(pl.col("unit").is_not_null()).group_by("unit")
                 .agg(pl.len().alias("n18"), pl.col("convicted").sum().alias("nconv")))
        work = (snap.filter(pl.col("unit").is_not_null() & pl.col("age").is_between(lo, hi))
                .join(inputs.outside_fte(register_year, settings.outside_attachments, settings.cap_fte_at_one),
                      on="person_id", how="left")
                .group_by("unit").agg(pl.len().alias("n1864"), pl.col("fte").fill_null(0.0).sum().alias("fte")))
        yearly.append(crime.join(work, on="unit", how="full", coalesce=True)
                      .with_columns(pl.lit(register_year).alias("register_year")))
    frame = pl.concat(yearly).with_columns(pl.col("n18", "nconv", "n1864").fill_null(0).cast(pl.Float64),
                                           pl.col("fte").fill_null(0.0))
    k = float(settings.window_years)
    if settings.window_average == "mean_of_shares":
        pct_outside = (pl.col("fte") / pl.col("n1864")).filter(pl.col("n1864") > 0).mean() * 100
        pct_convicted = (pl.col("nconv") / pl.col("n18")).filter(pl.col("n18") > 0).mean() * 100
        shares = [c / n for n, c in national if n > 0]
        national_pct = 100 * sum(shares) / len(shares) if shares else None
    else:
        pct_outside = 100 * pl.col("fte").sum() / pl.when(pl.col("n1864").sum() > 0).then(pl.col("n1864").sum())
        pct_convicted = 100 * pl.col("nconv").sum() / pl.when(pl.col("n18").sum() > 0).then(pl.col("n18").sum())
        total = sum(n for n, _ in national)
        national_pct = 100 * sum(c for _, c in national) / total if total else None
    measures = frame.group_by("unit").agg(
        pct_outside.alias("pct_outside_work_edu"), pct_convicted.alias("pct_convicted"),
        (pl.col("n1864").sum() / k).alias("n_18_64"), (pl.col("fte").sum() / k).alias("fte_outside_18_64"),
        (pl.col("n18").sum() / k).alias("n_18plus"), (pl.col("nconv").sum() / k).alias("n_convicted_18plus"))
    return measures, national_pct


def _basic_education(settings: IndicatorSettings) -> tuple[pl.Expr, pl.Expr]:
    """(counted in the denominator, counted as basic) for a person 30-59."""
    level, source = pl.col("highest_education"), pl.col("education_source")
    if settings.education_rule == "uoplyst_is_basic":
        # No person_years row = education unknown = uoplyst.
        return pl.lit(True), level.is_null() | level.is_in(["grundskole", "uoplyst"])
    registered = (source == "dk_registered") & (level != "uoplyst")
    registered = registered.fill_null(False)
    if settings.unregistered_education == "basic":
        return pl.lit(True), ~registered | (level == "grundskole")
    return registered, registered & (level == "grundskole")


def _point_measures(inputs: _Inputs, settings: IndicatorSettings, list_year: int,
                    nomenclature: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Per unit: residents, non-western, education and income measures on the residents' date."""
    snap = inputs.snapshot(settings.resident_date(list_year), nomenclature)
    in_units = snap.filter(pl.col("unit").is_not_null())
    base = in_units.group_by("unit").agg(pl.len().alias("residents"),
                                         pl.col("non_western").sum().alias("n_non_western"))
    included, basic = _basic_education(settings)
    edu = (in_units.filter(pl.col("age").is_between(*EDUCATION_AGES))
           .join(inputs.person_year(settings.education_year(list_year), ["highest_education", "education_source"]),
                 on="person_id", how="left")
           .with_columns(included.alias("inc"), basic.alias("basic"))
           .filter("inc")
           .group_by("unit").agg(pl.len().alias("n_30_59"), pl.col("basic").sum().alias("n_basic_30_59")))
    earners = (snap.filter(pl.col("age").is_between(*INCOME_AGES))
               .join(inputs.person_year(settings.income_year(list_year),
                                        ["gross_income_dkk", "taxpayer", "in_education"]),
                     on="person_id", how="inner")
               .filter(pl.col("taxpayer") & ~pl.col("in_education")))
    region = earners.group_by("region_code").agg(pl.col("gross_income_dkk").mean().alias("region_mean_income"))
    income = (earners.filter(pl.col("unit").is_not_null()).group_by("unit")
              .agg(pl.len().alias("n_income_group"), pl.col("gross_income_dkk").mean().alias("mean_income")))
    return (base.join(edu, on="unit", how="left").join(income, on="unit", how="left")
            .with_columns(pl.col("n_30_59", "n_basic_30_59", "n_income_group").fill_null(0)),
            region)


def _one_year(inputs: _Inputs, settings: IndicatorSettings, list_year: int,
              nomenclature: str) -> pl.DataFrame:
    point, region = _point_measures(inputs, settings, list_year, nomenclature)
    window, national_pct = _window_measures(inputs, settings, list_year, nomenclature)
    frame = (point.join(inputs.units, on="unit", how="left")
             .join(window, on="unit", how="left")
             .join(region, on="region_code", how="left"))
    def pct(num: str, den: str) -> pl.Expr:
        return pl.when(pl.col(den) > 0).then(100 * pl.col(num) / pl.col(den))

    national = pl.lit(national_pct, pl.Float64)
    return frame.with_columns(
        pl.lit(list_year, pl.Int64).alias("year"),
        pct("n_non_western", "residents").alias("pct_non_western"),
        pct("n_basic_30_59", "n_30_59").alias("pct_basic_education"),
        pl.when(pl.col("region_mean_income") != 0)
        .then(100 * pl.col("mean_income") / pl.col("region_mean_income")).alias("income_pct_of_region"),
        national.alias("national_conviction_pct"),
        pl.when(national > 0).then(pl.col("pct_convicted") / national).alias("conviction_ratio"),
        (pl.col("residents") >= settings.min_residents).alias("meets_min_residents"),
        pl.lit(settings.register_years_text(list_year)).alias("register_years"),
        pl.lit(settings.rules_basis).alias("rules_basis"),
        pl.lit(nomenclature).alias("country_nomenclature"),
    )


def compute_area_indicators(
    dataset_dir: str | os.PathLike[str],
    list_years: Sequence[int],
    settings: IndicatorSettings | Mapping[int, IndicatorSettings] | None = None,
    *,
    level: Level = "area",
    on_progress: Progress | None = None,
) -> pl.DataFrame:
    """Official-list indicators of every unit with residents, per list year.

    `settings=None` uses the shipped defaults in force for each list year
    (`settings_for_list_year`); given settings apply to every list year; a mapping gives the
    settings per list year. `level` is "area",
    "department" or "municipality"; the id column is `area_id`, `department_id` or
    `municipality_code`. The data vintage and seed of the dataset manifest are the columns
    `vintage` and `seed`. Raises DatasetError when a needed register year is not in the dataset.
    """
    if level not in UNIT_COLUMN:
        raise ConfigurationError(f"unknown level '{level}'; use one of {', '.join(UNIT_COLUMN)}", field="level")
    years = sorted(set(int(y) for y in list_years))
    if not years:
        raise ConfigurationError("no list years given", field="list_years")
    report = on_progress or (lambda _step, _fraction: None)
    manifest = read_manifest(dataset_dir)
    if isinstance(settings, Mapping):
        absent = [y for y in years if y not in settings]
        if absent:
            raise ConfigurationError(f"no settings given for list year(s) {absent}", field="settings")
        plan = {y: settings[y] for y in years}
    else:
        plan = {y: settings or settings_for_list_year(y) for y in years}
    available = _available_years(dataset_dir, manifest.years)
    for y in years:
        _check_years(y, plan[y], available, str(dataset_dir))
    report("reading dwellings and units", 0.0)
    dates = [d for y in years for d in (plan[y].resident_date(y),
                                        *(plan[y].window_population_date(t) for t in plan[y].window(y)))]
    inputs = _Inputs(dataset_dir, level, dates)
    frames = []
    for i, y in enumerate(years):
        report(f"list year {y}", i / len(years))
        nomenclature = choose_nomenclature(dataset_dir, plan[y].country_nomenclature, y)
        frames.append(_one_year(inputs, plan[y], y, nomenclature))
    report("done", 1.0)
    id_column = UNIT_COLUMN[level]
    merged = pl.concat(frames, how="vertical_relaxed")
    if level == "municipality":
        merged = merged.drop("municipality_code")
    result = merged.with_columns(
        pl.lit(manifest.vintage).alias("vintage"), pl.lit(manifest.seed, pl.Int64).alias("seed"),
        pl.col("residents", "n_non_western", "n_30_59", "n_basic_30_59", "n_income_group").cast(pl.Int64),
        pl.col("n_18_64", "fte_outside_18_64", "n_18plus", "n_convicted_18plus", "mean_income",
               "region_mean_income", "pct_non_western", "pct_outside_work_edu", "pct_convicted",
               "conviction_ratio", "pct_basic_education", "income_pct_of_region").cast(pl.Float64),
    ).drop("unit").rename({"id": id_column})
    return result.select(output_columns(level)).sort("year", id_column)
