"""The stayer panel: residents of each unit at 1 January of a base year, followed wherever they live.

Comparing a unit's indicators over time mixes two things: the residents changing, and different people
living there. Following the base-year residents (the "stayers" cohort) separates them. One row per
person and year: the base unit, whether the person still lives in it (`in_base_unit`), in any almen
dwelling (`in_almen`), and the person-level factors of the mix analysis (`employed`, `low_edu`,
`nonwestern`, `low_income`, with their population flags `emp_pop`, `edu_pop`, `inc_pop`) from
`mix.factors.attach_factors` - the same definitions as the mix measures. Years in which a person lives
in no dwelling in the data (abroad, dead) have no row. Person ids are the dataset's pseudonyms.
`stayer_shares` aggregates the cohort per base unit and year with the mix module's counting, so the
panel can carry `stayers_share_*` beside the unit's own `mix_stock_share_*`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import polars as pl

from boligmix.errors import ConfigurationError
from boligmix.evaluate.panel import unit_column

FACTOR_COLUMNS = ("emp_pop", "employed", "edu_pop", "low_edu", "nonwestern", "inc_pop", "income_quartile", "low_income")


def stayer_panel(dataset: str | os.PathLike[str], years: Sequence[int], *, level: str = "area",
                 base_year: int | None = None) -> pl.DataFrame:
    """Person x year rows for the residents of every unit at 1 January `base_year` (default: first year)."""
    from boligmix.mix.factors import attach_factors, prepare_factor_inputs
    from boligmix.mix.population import load_mix_data, memberships, spells_with_neighbours
    from boligmix.mix.settings import MixSettings

    years = sorted(set(int(y) for y in years))
    base = years[0] if base_year is None else int(base_year)
    if base not in years:
        raise ConfigurationError(f"base year {base} is not among the panel years {years[0]}-{years[-1]}",
                                 field="base_year")
    uid = unit_column(level)
    data = load_mix_data(dataset)
    settings = MixSettings.load()
    spells = spells_with_neighbours(data, settings.birth_grace_days)
    stock = memberships(data, years, settings.birth_grace_days, spells).filter(
        (pl.col("group") == "stock") & pl.col("year").is_in(years))
    dwell = data.dwellings.select("dwelling_id", pl.col(uid).alias("_unit"), (pl.col("tenure") == "almen").alias("in_almen"))
    stock = stock.join(dwell, on="dwelling_id", how="left")
    cohort = stock.filter((pl.col("year") == base) & pl.col("_unit").is_not_null()).select(
        "person_id", pl.col("_unit").alias(f"base_{uid}")).unique(subset="person_id", keep="first")
    inputs = prepare_factor_inputs(data, settings)
    parts = []
    for year in years:  # factors on the whole stock of the year: income quartiles are national
        rows = attach_factors(stock.filter(pl.col("year") == year), data, settings, inputs)
        parts.append(rows.join(cohort, on="person_id", how="inner"))
    factors = pl.concat(parts, how="vertical_relaxed")
    cols = list(FACTOR_COLUMNS)
    return factors.select(
        "person_id", f"base_{uid}", pl.lit(base, pl.Int64).alias("base_year"), "year",
        (pl.col("_unit") == pl.col(f"base_{uid}")).fill_null(False).alias("in_base_unit"),
        pl.col("in_almen").fill_null(False), *cols,
    ).sort("person_id", "year")


def stayer_shares(stayers: pl.DataFrame, level: str = "area") -> pl.DataFrame:
    """Per base unit and year, the mix shares of the followed cohort (`stayers_share_employed`, ...,
    computed with the mix module's own counting, `mix.composition`) and `stayers_in_base_unit`, the
    share still living in the base unit."""
    from boligmix.mix.composition import _counts, _with_shares

    uid = unit_column(level)
    by = [f"base_{uid}", "year"]
    counts = _with_shares(_counts(stayers, by), prefix="stayers_")
    kept = stayers.group_by(by).agg(pl.col("in_base_unit").mean().alias("stayers_in_base_unit"))
    return (counts.join(kept, on=by).rename({f"base_{uid}": uid, "n": "stayers_n"})
            .select(uid, "year", "stayers_n", "stayers_in_base_unit", pl.col("^stayers_share_.*$")).sort(uid, "year"))
