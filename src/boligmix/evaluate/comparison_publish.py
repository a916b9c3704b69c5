"""Disclosure control of what `evaluate twins`, `synthcontrol` and `did` publish.

The panel they read is internal (`evaluate panel`): a unit's outcome or feature in a year is a
share, mean or rate over that unit-year's persons, the panel's population column (`--population`,
default `residents`). Every published value carries the count it is computed over and passes
`report.disclosure.protect` as a `Share` of it:

* twins: the pre-period means of the treated unit and of the twin over the smallest population of
  the years averaged (`n_residents_treated`, `n_residents_twin`); the distance over both;
* synthetic control path: `actual` over the treated unit's residents that year, `synthetic` over the
  smallest population of the donors it uses (weight above zero) that year, `gap` over both;
* summary and placebo rows: the RMSPEs, their ratio and the mean gap over the unit's smallest
  population in the years of the fit (the treated unit's path).

* did (`evaluate.did_output`): every estimate over the treated units' persons (`treated_population`).

A value of a unit-year with an empty population is suppressed (its count is 0); a statistic over
several years takes the smallest population of the years where it is known (the panel's list
indicators, `residents` among them, are empty before 2010 and where register data are missing) and
is suppressed when none is known.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from boligmix.errors import DataValidationError
from boligmix.evaluate.panel_input import numeric_column
from boligmix.report import DisclosurePolicy, ProtectedTable, Share, protect

POPULATION = "residents"
"""Default population column of a panel written by `evaluate panel`."""
_WEIGHT_USED = 1e-9
_STATS = ("pre_rmspe", "post_rmspe", "ratio", "att")


def population_table(raw: pl.DataFrame, unit: str, time: str, population: str, source: str) -> pl.DataFrame:
    """`_unit` (string), `_time` (int), `n` (persons) from the panel; unit-years with an empty population
    are left out (see `_min_population`)."""
    if population not in raw.columns:
        raise DataValidationError("column is missing: the persons the panel's values are computed over, needed "
                                  "for disclosure control (name it with --population)", path=source, column=population)
    n = numeric_column(raw, population, source, integer=False)
    return pl.DataFrame({"_unit": raw[unit].cast(pl.String), "_time": numeric_column(raw, time, source, integer=True),
                         "n": n}).with_columns(pl.col("_time").cast(pl.Int64)).filter(pl.col("n").is_not_nan())


def _min_population(pop: pl.DataFrame, units: Sequence[str], years: Sequence[int] | None = None) -> float:
    """The smallest known population of `units` in `years`; 0 (so: suppress) when none is known."""
    rows = pop.filter(pl.col("_unit").is_in(list(units)))
    if years is not None:
        rows = rows.filter(pl.col("_time").is_in(list(years)))
    return float(rows["n"].min()) if rows.height else 0.0


def count_series(name: str, values: Sequence[float]) -> pl.Series:
    """A count column: whole numbers as integers (a population column may also hold averages)."""
    series = pl.Series(name, [float(v) for v in values], dtype=pl.Float64)
    return series.cast(pl.Int64) if (series == series.round(0)).all() else series


def treated_population(frame, pop: pl.DataFrame) -> float:
    """The persons of the treated units of a checked panel (`_unit, _time, _g`, pandas): the sum over
    them of each one's smallest population in its years with the outcome (`evaluate did`)."""
    treated = frame[frame["_g"].notna()]
    return float(sum(_min_population(pop, [str(u)], rows["_time"].tolist()) for u, rows in treated.groupby("_unit")))


def protect_twins(result: pl.DataFrame, pop: pl.DataFrame, features: Sequence[str], pre_years: int,
                  policy: DisclosurePolicy) -> ProtectedTable:
    """`comparison.twins`' table with the pre-period populations, through `protect`."""
    treated_n, twin_n = [], []
    for row in result.iter_rows(named=True):
        window = range(row["first_treated_year"] - pre_years, row["first_treated_year"])
        treated_n.append(_min_population(pop, [str(row["treated_unit"])], window))
        twin_n.append(_min_population(pop, [str(row["twin_unit"])], window))
    frame = result.with_columns(count_series("n_residents_treated", treated_n),
                                count_series("n_residents_twin", twin_n))
    shares = [Share(f"{f}_{side}", f"n_residents_{side}") for f in features for side in ("treated", "twin")]
    return protect(frame, counts=["n_residents_treated", "n_residents_twin"],
                   shares=[*shares, Share("distance", ("n_residents_treated", "n_residents_twin"))],
                   policy=policy, name="twins")


def protect_path(path: pl.DataFrame, weights: pl.DataFrame, pop: pl.DataFrame, treated_unit: str,
                 policy: DisclosurePolicy) -> ProtectedTable:
    """The synthetic control path (year, actual, synthetic, gap) through `protect`."""
    donors = weights.filter(pl.col("weight") > _WEIGHT_USED)["donor"].cast(pl.String).to_list()
    years = path["year"].to_list()
    frame = path.with_columns(
        count_series("n_residents", [_min_population(pop, [treated_unit], [y]) for y in years]),
        count_series("n_residents_donors_min", [_min_population(pop, donors, [y]) for y in years]))
    return protect(frame, counts=["n_residents", "n_residents_donors_min"],
                   shares=[Share("actual", "n_residents"), Share("synthetic", "n_residents_donors_min"),
                           Share("gap", ("n_residents", "n_residents_donors_min"))], policy=policy, name="path")


def protect_unit_stats(frame: pl.DataFrame, unit_column: str, pop: pl.DataFrame, years: Sequence[int],
                       policy: DisclosurePolicy, name: str) -> ProtectedTable:
    """Rows of one unit's fit statistics (summary, placebo) over its smallest population in `years`."""
    n = [_min_population(pop, [str(u)], years) for u in frame[unit_column].to_list()]
    frame = frame.with_columns(count_series("n_residents_min", n))
    return protect(frame, counts=["n_residents_min"], shares=[Share(c, "n_residents_min") for c in _STATS],
                   policy=policy, name=name)


__all__ = ["POPULATION", "count_series", "population_table", "protect_path", "protect_twins", "protect_unit_stats",
           "treated_population"]
