"""The official-list indicators per unit and list year (rules-spec 1.1-1.4, 2-5).

`compute_area_indicators` returns one row per unit with residents and list year. The first
columns are the classify CSV format (`CLASSIFY_COLUMNS`), then support columns for explanations
(`SUPPORT_COLUMNS`) and provenance (`PROVENANCE_COLUMNS`). Definitions: docs/indicators.md.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from fractions import Fraction

import numpy as np
import polars as pl

from boligmix.data.io import read_manifest
from boligmix.errors import ConfigurationError, DatasetError
from boligmix.indicators.person_index import (
    CHUNK,
    Persons,
    Residents,
    birth_cutoff,
    read_dwellings,
    read_persons,
    read_spells,
)
from boligmix.indicators.population import (
    UNIT_COLUMN,
    Level,
    choose_nomenclature,
    scan_columns,
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

# Bits of the per-person person_years flags (`_Inputs.person_year`).
PY_HAS_ROW, PY_LEVEL_NULL, PY_GRUND, PY_UOPLYST, PY_DK, PY_EARNER, PY_INCOME = (1, 2, 4, 8, 16, 32, 64)


def output_columns(level: Level = "area") -> list[str]:
    """Every output column in order; the id column depends on the level."""
    support = [c for c in SUPPORT_COLUMNS if not (level == "municipality" and c == "municipality_code")]
    return [UNIT_COLUMN[level], *CLASSIFY_COLUMNS, *support, *PROVENANCE_COLUMNS]


class _Inputs:
    """Tables read once per call, as person-indexed arrays (`boligmix.indicators.person_index`)."""

    def __init__(self, dataset_dir: str | os.PathLike[str], level: Level, dates: list[date],
                 labour_years: set[int], delineation: str = "parcels",
                 person_group: np.ndarray | None = None) -> None:
        self.dataset_dir = dataset_dir
        self.dates = sorted(set(dates))
        self.labour_years = labour_years
        self.units = unit_table(dataset_dir, level)
        self.regions = sorted(scan_columns(dataset_dir, "municipalities", ["region_code"]).unique().collect()
                              .get_column("region_code").to_list())
        self.dwellings = read_dwellings(dataset_dir, level, self.units, self.regions, delineation)
        self.person_group = person_group
        if person_group is not None:  # unit u -> 2u (persons outside the group) and 2u + 1 (in it)
            self.units = (pl.concat([self.units.with_columns(pl.lit(g).alias("in_group"),
                                                             (pl.col("unit") * 2 + int(g)).alias("unit"))
                                     for g in (False, True)]).sort("unit"))
        self._persons: dict[str, Persons] = {}
        self._residents: dict[date, Residents] | None = None
        self._person_years: dict[int, dict[str, np.ndarray]] = {}
        self._labour_rows: dict[tuple[str, ...], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self._slot: np.ndarray | None = None
        self._convicted: dict[tuple[int, tuple[str, ...]], np.ndarray] = {}

    def persons(self, nomenclature: str) -> Persons:
        if nomenclature not in self._persons:
            self._persons.clear()  # keep one nomenclature's persons in memory
            self._persons[nomenclature] = read_persons(self.dataset_dir, nomenclature)
        return self._persons[nomenclature]

    def residents(self, on: date, nomenclature: str) -> Residents:
        """Who lives where on `on` (one of the dates given; all are found in one pass over the spells)."""
        if self._residents is None:  # the person index does not depend on the nomenclature
            _spells, self._residents = read_spells(self.dataset_dir, self.dates, self.dwellings,
                                                   self.persons(nomenclature))
            if self.person_group is not None:
                persons = self.persons(nomenclature)
                idx, found = persons.index(np.asarray(self.person_group, dtype=np.int64))
                member = np.zeros(persons.ids.size, dtype=np.int32)
                member[idx[found]] = 1
                for r in self._residents.values():
                    r.member_unit = r.member_unit * 2 + member[r.members]
        return self._residents[on]

    @property
    def n_persons(self) -> int:
        return next(iter(self._persons.values())).ids.size

    def _index(self, series: pl.Series) -> tuple[np.ndarray, np.ndarray]:
        return next(iter(self._persons.values())).index_column(series)

    def person_year(self, year: int) -> dict[str, np.ndarray]:
        """person_years facts of `year` over the person index: `flags` (bits `PY_*`) and `income` (0 if none).

        One year is kept; its arrays are reused (overwritten) for the next year asked for.
        """
        if year not in self._person_years:
            level, source = pl.col("highest_education"), pl.col("education_source")

            def bit(expr: pl.Expr, value: int) -> pl.Expr:
                return pl.when(expr.fill_null(False)).then(pl.lit(value, pl.UInt8)).otherwise(pl.lit(0, pl.UInt8))

            frame = (scan_columns(self.dataset_dir, "person_years", ["person_id", "year", *PERSON_YEAR_COLUMNS])
                     .filter(pl.col("year") == year)
                     .select("person_id",
                             (bit(pl.lit(True), PY_HAS_ROW) | bit(level.is_null(), PY_LEVEL_NULL)
                              | bit(level == "grundskole", PY_GRUND) | bit(level == "uoplyst", PY_UOPLYST)
                              | bit(source == "dk_registered", PY_DK)
                              | bit(pl.col("taxpayer") & ~pl.col("in_education"), PY_EARNER)
                              | bit(pl.col("gross_income_dkk").is_not_null(), PY_INCOME)).alias("flags"),
                             pl.col("gross_income_dkk").fill_null(0.0).alias("income")).collect())
            if self._person_years:
                facts = self._person_years.pop(next(iter(self._person_years)))
                flags, income = facts["flags"], facts["income"]
            else:
                flags = np.empty(self.n_persons, dtype=np.uint8)
                income = np.empty(self.n_persons, dtype=np.float64)
            flags.fill(PY_LEVEL_NULL)  # no row: education unknown
            income.fill(0.0)
            for part in frame.iter_slices(CHUNK):
                idx, found = self._index(part.get_column("person_id"))
                row_flags, row_income = part.get_column("flags").to_numpy(), part.get_column("income").to_numpy()
                if not found.all():  # rows of persons not in persons.parquet are never residents
                    idx, row_flags, row_income = idx[found], row_flags[found], row_income[found]
                flags[idx] = row_flags
                income[idx] = row_income
            self._person_years[year] = {"flags": flags, "income": income}
        return self._person_years[year]

    def outside_fte(self, year: int, attachments: tuple[str, ...], cap: bool, members: np.ndarray) -> np.ndarray:
        """Summed FTE on outside attachments in `year` (capped at 1.0 when `cap`) of each of `members`
        (distinct person indexes).

        The labour rows of every window year are read in one scan per attachment set.
        """
        if attachments not in self._labour_rows:
            frame = (scan_columns(self.dataset_dir, "labour", ["person_id", "year", "attachment", "fte"])
                     .filter(pl.col("year").is_in(sorted(self.labour_years))
                             & pl.col("attachment").is_in(attachments))
                     .select("person_id", pl.col("year").cast(pl.Int32), pl.col("fte").fill_null(0.0)).collect())
            idx, found = self._index(frame.get_column("person_id"))
            self._labour_rows = {attachments: (idx[found], frame.get_column("year").to_numpy()[found],
                                               frame.get_column("fte").to_numpy()[found])}
        idx, rows_year, fte = self._labour_rows[attachments]
        in_year = rows_year == year
        if self._slot is None:
            self._slot = np.full(self.n_persons, -1, dtype=np.int32)
        slot = self._slot  # person index -> position in members, -1 for everyone else
        slot[members] = np.arange(members.size, dtype=np.int32)
        position = slot[idx[in_year]]
        slot[members] = -1
        counted = position >= 0
        total = np.bincount(position[counted], weights=fte[in_year][counted], minlength=members.size)
        return np.minimum(total, 1.0) if cap else total

    def convicted(self, year: int, laws: tuple[str, ...]) -> np.ndarray:
        """Per person index: at least one conviction under `laws` in `year`."""
        key = (year, laws)
        if key not in self._convicted:
            frame = (scan_columns(self.dataset_dir, "convictions", ["person_id", "year", "law", "count"])
                     .filter((pl.col("year") == year) & pl.col("law").is_in(laws) & (pl.col("count") >= 1))
                     .select("person_id").collect())
            idx, found = self._index(frame.get_column("person_id"))
            flags = np.zeros(self.n_persons, dtype=bool)
            flags[idx[found]] = True
            if len(self._convicted) >= 2:
                self._convicted.pop(next(iter(self._convicted)))
            self._convicted[key] = flags
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
    n_units = inputs.units.height
    persons = inputs.persons(nomenclature)
    for register_year in settings.window(list_year):
        on = settings.window_population_date(register_year)
        res = inputs.residents(on, nomenclature)
        adult_cut, old_cut = birth_cutoff(on, CONVICTION_MIN_AGE), birth_cutoff(on, hi + 1)
        convicted = inputs.convicted(register_year, settings.conviction_laws)
        adults = (res.region >= 0) & (persons.born <= adult_cut)  # everyone resident, in or outside units
        national.append((int(np.count_nonzero(adults)), int(np.count_nonzero(adults & convicted))))
        members, units = res.members, res.member_unit
        born = persons.born[members]
        member_adult = born <= adult_cut
        n18 = np.bincount(units[member_adult], minlength=n_units)
        nconv = np.bincount(units[member_adult & convicted[members]], minlength=n_units)
        working = (born <= birth_cutoff(on, lo)) & (born > old_cut)
        fte_person = inputs.outside_fte(register_year, settings.outside_attachments, settings.cap_fte_at_one,
                                        members[working])
        n1864 = np.bincount(units[working], minlength=n_units)
        fte = np.bincount(units[working], weights=fte_person, minlength=n_units)
        present = np.flatnonzero((n18 > 0) | (n1864 > 0))
        yearly.append(pl.DataFrame({
            "unit": pl.Series(present, dtype=pl.UInt32), "n18": n18[present], "nconv": nconv[present],
            "n1864": n1864[present], "fte": fte[present].astype(np.float64),
            "register_year": pl.Series([register_year] * present.size, dtype=pl.Int32)}))
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
    ratios = _exact_conviction_ratios(frame, national, settings.window_average)
    return measures.join(ratios, on="unit", how="left"), national_pct


def _window_share(counts: Sequence[tuple[int, int]], average: str) -> Fraction | None:
    """The window share of (population, count) pairs as an exact fraction: the mean of the yearly
    shares over the years with population (`mean_of_shares`) or the pooled ratio; None without
    population."""
    years = [(n, c) for n, c in counts if n > 0]
    if not years:
        return None
    if average == "mean_of_shares":
        return sum((Fraction(c, n) for n, c in years), Fraction(0)) / len(years)
    return Fraction(sum(c for _, c in years), sum(n for n, _ in years))


def floor_to_float(value: Fraction) -> float:
    """The largest double <= `value`: with it, `float >= t` decides `value >= t` exactly for every
    threshold t that is itself a double (e.g. 2 and 3: "udgør mindst tre gange")."""
    out = float(value)  # int / int: correctly rounded
    if Fraction(out) > value:
        out = math.nextafter(out, -math.inf)
    return out


def exact_conviction_ratio(unit: Sequence[tuple[int, int]], national: Sequence[tuple[int, int]],
                           average: str) -> float | None:
    """conviction_ratio from the counts: the unit's window share over the national window share,
    computed as exact fractions of the (adults, convicted) counts per window year and rounded
    down to a double (`floor_to_float`), so an area at exactly N times the national average meets
    "mindst N gange" (in floating point 1/100 against 10/3000 gave 2.9999999999999996). None when
    the unit has no adults or the national share is 0."""
    share, reference = _window_share(unit, average), _window_share(national, average)
    if share is None or not reference:
        return None
    return floor_to_float(share / reference)


def _exact_conviction_ratios(frame: pl.DataFrame, national: list[tuple[int, int]], average: str) -> pl.DataFrame:
    """Per unit: `conviction_ratio` by `exact_conviction_ratio` from the yearly counts in `frame`."""
    by_unit: dict[int, list[tuple[int, int]]] = {}
    for unit, n18, nconv in frame.select("unit", "n18", "nconv").iter_rows():
        by_unit.setdefault(int(unit), []).append((int(n18), int(nconv)))
    units = sorted(by_unit)
    return pl.DataFrame({"unit": pl.Series(units, dtype=pl.UInt32),
                         "conviction_ratio": pl.Series([exact_conviction_ratio(by_unit[u], national, average)
                                                        for u in units], dtype=pl.Float64)})


def _basic_education(settings: IndicatorSettings, flags: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(counted in the denominator, counted as basic) for persons 30-59 with person_years `flags`."""
    level_null, grund, uoplyst = (flags & PY_LEVEL_NULL) > 0, (flags & PY_GRUND) > 0, (flags & PY_UOPLYST) > 0
    everyone = np.ones(flags.size, dtype=bool)
    if settings.education_rule == "uoplyst_is_basic":
        # No person_years row = education unknown = uoplyst.
        return everyone, level_null | grund | uoplyst
    registered = ((flags & PY_DK) > 0) & ~level_null & ~uoplyst
    if settings.unregistered_education == "basic":
        return everyone, ~registered | grund
    return registered, registered & grund


def _region_income(res: Residents, persons: Persons, facts: dict[str, np.ndarray], on: date,
                   n_regions: int) -> tuple[np.ndarray, np.ndarray]:
    """Per region: the number of residents (in or outside units) in the income group with an income,
    and the sum of their incomes; in chunks over the person index."""
    young, old = birth_cutoff(on, INCOME_AGES[0]), birth_cutoff(on, INCOME_AGES[1] + 1)
    bits = PY_HAS_ROW | PY_EARNER | PY_INCOME
    region_n = np.zeros(n_regions, dtype=np.int64)
    region_sum = np.zeros(n_regions, dtype=np.float64)
    for s in range(0, persons.born.size, CHUNK):
        part = slice(s, s + CHUNK)
        born, region = persons.born[part], res.region[part]
        valid = region >= 0
        valid &= born <= young
        valid &= born > old
        valid &= (facts["flags"][part] & bits) == bits
        valid_region = region[valid]
        region_n += np.bincount(valid_region, minlength=n_regions)
        region_sum += np.bincount(valid_region, weights=facts["income"][part][valid], minlength=n_regions)
    return region_n, region_sum


def _point_measures(inputs: _Inputs, settings: IndicatorSettings, list_year: int,
                    nomenclature: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Per unit: residents, non-western, education and income measures on the residents' date."""
    on = settings.resident_date(list_year)
    res = inputs.residents(on, nomenclature)
    persons = inputs.persons(nomenclature)
    n_units = inputs.units.height
    members, units = res.members, res.member_unit

    def count(mask: np.ndarray) -> np.ndarray:
        return np.bincount(units[mask], minlength=n_units)

    residents = np.bincount(units, minlength=n_units)
    n_non_western = count(persons.non_western[members])
    born = persons.born[members]

    def aged(born: np.ndarray, lo: int, hi: int) -> np.ndarray:
        return (born <= birth_cutoff(on, lo)) & (born > birth_cutoff(on, hi + 1))

    edu = aged(born, *EDUCATION_AGES)
    included, basic = _basic_education(
        settings, inputs.person_year(settings.education_year(list_year))["flags"][members[edu]])
    edu_units = units[edu]
    n_30_59 = np.bincount(edu_units[included], minlength=n_units)
    n_basic = np.bincount(edu_units[included & basic], minlength=n_units)
    facts = inputs.person_year(settings.income_year(list_year))
    earner_bits = PY_HAS_ROW | PY_EARNER
    member_flags = facts["flags"][members]
    earner = aged(born, *INCOME_AGES) & ((member_flags & earner_bits) == earner_bits)
    valid = earner & ((member_flags & PY_INCOME) > 0)
    n_income = count(earner)
    n_valid = count(valid)
    income_sum = np.bincount(units[valid], weights=facts["income"][members[valid]], minlength=n_units)
    present = np.flatnonzero(residents > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_income = np.where(n_valid > 0, income_sum / n_valid, np.nan)[present]
    point = pl.DataFrame({
        "unit": pl.Series(present, dtype=pl.UInt32), "residents": residents[present],
        "n_non_western": n_non_western[present], "n_30_59": n_30_59[present], "n_basic_30_59": n_basic[present],
        "n_income_group": n_income[present],
        "mean_income": pl.Series(mean_income, dtype=pl.Float64, nan_to_null=True)})
    region_n, region_sum = _region_income(res, persons, facts, on, len(inputs.regions))
    has = np.flatnonzero(region_n > 0)
    region = pl.DataFrame({"region_code": pl.Series([inputs.regions[i] for i in has], dtype=pl.Int64),
                           "region_mean_income": region_sum[has] / region_n[has]})
    return point, region


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
        pl.when(national > 0).then(pl.col("conviction_ratio")).alias("conviction_ratio"),
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
    person_group: Sequence[int] | np.ndarray | None = None,
) -> pl.DataFrame:
    """Official-list indicators of every unit with residents, per list year.

    `settings=None` uses the shipped defaults in force for each list year
    (`settings_for_list_year`); given settings apply to every list year; a mapping gives the
    settings per list year. `level` is "area",
    "department", "municipality" or "organisation" (the almene dwellings of the housing
    organisation); the id column is `area_id`, `department_id`, `org_id` or
    `municipality_code`. The data vintage and seed of the dataset manifest are the columns
    `vintage` and `seed`. Raises DatasetError when a needed register year is not in the dataset.

    `person_group` (person ids) splits every unit in two by person: the output then has a column
    `in_group` and up to two rows per unit and year, one over the unit's residents in the group and
    one over the others (national and regional references stay those of everyone), e.g. to see a
    unit with and without the households that moved in from listed areas (boligmix.monitor).
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
    # One pass over the registers per area delineation (rules-spec 1.2: the 2010/2013 lists counted
    # almene departments, the 2018+ lists the parcels with all their dwellings).
    groups: dict[str, list[int]] = {}
    for y in years:
        groups.setdefault(plan[y].area_delineation if level == "area" else "parcels", []).append(y)
    frames = []
    done = 0
    for delineation, group in groups.items():
        report("reading dwellings and units", done / len(years))
        dates = [d for y in group for d in (plan[y].resident_date(y),
                                            *(plan[y].window_population_date(t) for t in plan[y].window(y)))]
        inputs = _Inputs(dataset_dir, level, dates, {t for y in group for t in plan[y].window(y)}, delineation,
                         None if person_group is None else np.asarray(person_group, dtype=np.int64))
        for y in group:
            report(f"list year {y}", done / len(years))
            nomenclature = choose_nomenclature(dataset_dir, plan[y].country_nomenclature, y)
            frames.append(_one_year(inputs, plan[y], y, nomenclature))
            done += 1
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
    if person_group is not None:
        return result.select(*output_columns(level), "in_group").sort("year", id_column, "in_group")
    return result.select(output_columns(level)).sort("year", id_column)
