"""Pooled results: all units of a level taken together, and listed vs. not listed areas.

Pooling treats the pool as one unit: a move between two areas of the same pool is internal to
it. For `listed` / `not_listed` the pool of an area depends on the year (list membership of that
year, from the `area_id, year, listed` frame; a department takes its area's membership).
"""

from __future__ import annotations

import polars as pl

from boligmix.mix.composition import _counts, _with_shares, drop_internal
from boligmix.mix.decomposition import deaths, decompose_pairs, year_pairs
from boligmix.mix.factors import FACTORS
from boligmix.mix.population import MixData
from boligmix.mix.units import dwelling_units

ALL = "all"


def _area_of_unit(data: MixData, level: str) -> pl.DataFrame | None:
    if level == "area":
        return pl.DataFrame({"unit_id": data.areas["area_id"], "area_id": data.areas["area_id"]})
    if level == "department":
        return data.departments.select(pl.col("department_id").alias("unit_id"), "area_id")
    return None


def _pooled_rows(rows: pl.DataFrame, data: MixData, level: str, listed: pl.DataFrame | None,
                 by_listing: bool) -> pl.DataFrame:
    du = dwelling_units(data, level).select("dwelling_id", "unit_id")
    out = rows.join(du, on="dwelling_id", how="inner").filter(pl.col("unit_id").is_not_null())
    out = out.join(du.rename({"dwelling_id": "other_dwelling_id", "unit_id": "other_unit_id"}),
                   on="other_dwelling_id", how="left")
    if not by_listing:
        out = out.with_columns(pl.lit(ALL).alias("unit_id"),
                               pl.when(pl.col("other_unit_id").is_not_null()).then(pl.lit(ALL)).alias("other_unit_id"))
        return drop_internal(out)
    areas = _area_of_unit(data, level)
    lst = listed.select("area_id", "year", "listed")

    def label(unit_col: str) -> pl.Expr:
        return (pl.when(pl.col(unit_col).is_null()).then(None)
                .when(pl.col(f"{unit_col}_listed").fill_null(False)).then(pl.lit("listed"))
                .otherwise(pl.lit("not_listed")))

    for col in ("unit_id", "other_unit_id"):
        out = (out.join(areas.rename({"unit_id": col, "area_id": f"{col}_area"}), on=col, how="left")
               .join(lst.rename({"area_id": f"{col}_area", "listed": f"{col}_listed"}), on=[f"{col}_area", "year"],
                     how="left"))
    out = out.with_columns(label("unit_id").alias("unit_id"), label("other_unit_id").alias("other_unit_id"))
    return drop_internal(out)


def pooled_composition(rows: pl.DataFrame, data: MixData, level: str, years: list[int],
                       listed: pl.DataFrame | None = None) -> pl.DataFrame:
    """Composition of the pool of all units (`pool = 'all'`) and, with a list-membership frame and
    level area/department, of listed and not listed areas (`'listed'`, `'not_listed'`)."""
    parts = [_pooled_rows(rows, data, level, listed, by_listing=False)]
    if listed is not None and _area_of_unit(data, level) is not None:
        parts.append(_pooled_rows(rows, data, level, listed, by_listing=True))
    frames = [_with_shares(_counts(p.filter(pl.col("year").is_in(years)), ["unit_id", "year", "group"]))
              for p in parts]
    group_order = pl.col("group").replace_strict({"stock": 0, "in": 1, "out": 2}, return_dtype=pl.Int8)
    out = pl.concat(frames).rename({"unit_id": "pool"})
    return out.with_columns(pl.lit(level).alias("level")).select("level", pl.exclude("level")).sort(
        ["pool", "year", group_order])


def pooled_decomposition(unit_stock: pl.DataFrame, data: MixData, level: str, years: list[int]) -> pl.DataFrame:
    """Decompositions (`year_pairs`: year on year and first -> last) for all units taken together.

    `unit_stock` is `decomposition.stock_in_units(rows, data, level)`."""
    stock = unit_stock.with_columns(pl.lit(ALL).alias("unit_id")).unique(subset=["unit_id", "year", "person_id"],
                                                                          keep="first", maintain_order=True)
    return (decompose_pairs(stock, year_pairs(years), death_dates=deaths(data)).rename({"unit_id": "pool"}).with_columns(pl.lit(level).alias("level"))
            .select("level", pl.exclude("level")).sort("factor", "year_from", "year_to"))


SEGREGATION_INDICES = ("dissimilarity", "isolation")


def segregation_by_factor(composition: pl.DataFrame, indices: tuple[str, ...] = SEGREGATION_INDICES) -> pl.DataFrame:
    """Two-group segregation indices (`boligmix.mix.segregation`) across the units of the level, per
    factor, year and group (stock / in / out): e.g. the dissimilarity between non-Western residents and
    the others. `n_trait` and `n_pop` are the totals over the units."""
    from boligmix.mix.composition import COUNT_NAMES
    from boligmix.mix.segregation import segregation_table

    parts = []
    for factor in FACTORS:
        num, den = COUNT_NAMES[factor]
        counts = composition.select("unit_id", "year", "group", num, den)
        idx = segregation_table(counts, unit="unit_id", groups=[num], total=den, by=["year", "group"],
                                indices=list(indices), source="composition")
        totals = counts.group_by("year", "group").agg(pl.col(num).sum().alias("n_trait"),
                                                      pl.col(den).sum().alias("n_pop"),
                                                      pl.len().cast(pl.Int64).alias("n_units"))
        parts.append(idx.join(totals, on=["year", "group"], how="left").with_columns(pl.lit(factor).alias("factor")))
    group_order = pl.col("group").replace_strict({"stock": 0, "in": 1, "out": 2}, return_dtype=pl.Int8)
    return (pl.concat(parts).select("factor", "year", "group", "index", "value", "n_units", "n_trait", "n_pop")
            .sort(["factor", "index", "year", group_order]))
