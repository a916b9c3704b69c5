"""Composition of the stock, the in-movers and the out-movers per unit and year.

Counts per (unit, year, group): `n` persons; `n_edu_pop`/`n_low_edu`; `n_emp_pop`/`n_employed`;
`n_nonwestern` (over `n`); `n_inc_pop` and `n_q1`..`n_q4` (household income quartiles).
Shares: `share_low_edu`, `share_employed`, `share_nonwestern`, `share_low_income` (= n_q1 / n_inc_pop).
Ratios: `ratio_mun_<factor>` = the share / the same share for the whole stock of the unit's
reference municipality (all tenures) at 1 January of the same year; `ratio_almen_<factor>` = the
share / the share for all residents of almene dwellings in Denmark at 1 January of the same year.

Moves within the unit are not moves in or out of it (the SFI study leaves out moves inside a
department; at area level moves between departments of the area are internal too). Births are
not in-movers, deaths not out-movers (both appear in the flow tables). A person who moves into
the same unit twice in a year counts once.
"""

from __future__ import annotations

import polars as pl

from boligmix.mix.factors import FACTORS
from boligmix.mix.population import MixData
from boligmix.mix.units import dwelling_units, unit_names

SHARE_NAMES = {"low_edu": "share_low_edu", "employed": "share_employed", "nonwestern": "share_nonwestern",
               "low_income": "share_low_income"}
COUNT_NAMES = {"low_edu": ("n_low_edu", "n_edu_pop"), "employed": ("n_employed", "n_emp_pop"),
               "nonwestern": ("n_nonwestern", "n"), "low_income": ("n_q1", "n_inc_pop")}
QUARTILES = ("n_q1", "n_q2", "n_q3", "n_q4")


def unit_rows(rows: pl.DataFrame, data: MixData, level: str) -> pl.DataFrame:
    """Membership rows located in units of `level`, with internal moves, births and deaths removed.

    Adds unit_id and, for movers, other_unit_id. Keeps one row per (unit, year, group, person).
    """
    du = dwelling_units(data, level)
    out = rows.join(du.select("dwelling_id", "unit_id"), on="dwelling_id", how="inner").filter(
        pl.col("unit_id").is_not_null())
    out = out.join(du.select(pl.col("dwelling_id").alias("other_dwelling_id"), pl.col("unit_id").alias("other_unit_id")),
                   on="other_dwelling_id", how="left")
    return drop_internal(out)


def drop_internal(out: pl.DataFrame) -> pl.DataFrame:
    """Drop moves whose both ends are in the same unit, births and deaths; one row per
    (unit, year, group, person). Needs unit_id and other_unit_id."""
    internal = pl.col("other_unit_id").is_not_null() & (pl.col("other_unit_id") == pl.col("unit_id"))
    not_a_move = pl.col("other_kind").is_in(["birth", "death"])
    out = out.filter((pl.col("group") == "stock") | ~(internal.fill_null(False) | not_a_move.fill_null(False)))
    return out.sort("event_date").unique(subset=["unit_id", "year", "group", "person_id"], keep="first",
                                         maintain_order=True)


def _counts(frame: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    return frame.group_by(by).agg(
        pl.len().cast(pl.Int64).alias("n"),
        pl.col("edu_pop").sum().cast(pl.Int64).alias("n_edu_pop"),
        pl.col("low_edu").sum().cast(pl.Int64).alias("n_low_edu"),
        pl.col("emp_pop").sum().cast(pl.Int64).alias("n_emp_pop"),
        pl.col("employed").sum().cast(pl.Int64).alias("n_employed"),
        pl.col("nonwestern").sum().cast(pl.Int64).alias("n_nonwestern"),
        pl.col("inc_pop").sum().cast(pl.Int64).alias("n_inc_pop"),
        *[(pl.col("income_quartile") == q).sum().cast(pl.Int64).alias(f"n_q{q}") for q in (1, 2, 3, 4)],
    )


def _with_shares(frame: pl.DataFrame, prefix: str = "") -> pl.DataFrame:
    exprs = []
    for f in FACTORS:
        num, den = COUNT_NAMES[f]
        exprs.append(pl.when(pl.col(den) > 0).then(pl.col(num) / pl.col(den)).otherwise(None)
                     .alias(prefix + SHARE_NAMES[f]))
    return frame.with_columns(exprs)


def reference_shares(rows: pl.DataFrame, data: MixData) -> pl.DataFrame:
    """Stock shares at 1 January per year for every municipality (all tenures) and for all almene
    dwellings in Denmark (`scope` = 'municipality' / 'almen', `municipality_code` null for almen)."""
    stock = rows.filter(pl.col("group") == "stock").join(
        data.dwellings.select("dwelling_id", "municipality_code", "tenure"), on="dwelling_id", how="inner")
    mun = _with_shares(_counts(stock, ["municipality_code", "year"])).with_columns(pl.lit("municipality").alias("scope"))
    alm = _with_shares(_counts(stock.filter(pl.col("tenure") == "almen"), ["year"])).with_columns(
        pl.lit("almen").alias("scope"), pl.lit(None, dtype=pl.Int64).alias("municipality_code"))
    cols = ["scope", "municipality_code", "year", *mun.columns[2:-1]]
    return pl.concat([mun.select(cols), alm.select(cols)]).sort("scope", "municipality_code", "year",
                                                                  nulls_last=True)


def composition_table(rows: pl.DataFrame, data: MixData, level: str, years: list[int],
                      reference: pl.DataFrame | None = None,
                      listed: pl.DataFrame | None = None) -> pl.DataFrame:
    """The composition table for `level` (see module docstring), one row per unit, year and group."""
    ur = unit_rows(rows, data, level).filter(pl.col("year").is_in(years))
    table = _with_shares(_counts(ur, ["unit_id", "year", "group"]))
    table = table.join(unit_names(data, level), on="unit_id", how="left")
    reference = reference if reference is not None else reference_shares(rows, data)
    share_cols = [SHARE_NAMES[f] for f in FACTORS]
    mun_ref = reference.filter(pl.col("scope") == "municipality").select(
        "municipality_code", "year", *[pl.col(c).alias(f"ref_mun_{c}") for c in share_cols])
    alm_ref = reference.filter(pl.col("scope") == "almen").select(
        "year", *[pl.col(c).alias(f"ref_almen_{c}") for c in share_cols])
    table = table.join(mun_ref, on=["municipality_code", "year"], how="left").join(alm_ref, on="year", how="left")
    ratios = []
    for f in FACTORS:
        c = SHARE_NAMES[f]
        for scope in ("mun", "almen"):
            ref = pl.col(f"ref_{scope}_{c}")
            ratios.append(pl.when(ref > 0).then(pl.col(c) / ref).otherwise(None).alias(f"ratio_{scope}_{f}"))
    table = table.with_columns(ratios).drop([f"ref_{s}_{c}" for s in ("mun", "almen") for c in share_cols])
    if listed is not None and level in ("area", "department"):
        area_of = (pl.DataFrame({"unit_id": data.areas["area_id"], "area_id": data.areas["area_id"]})
                   if level == "area" else data.departments.select(pl.col("department_id").alias("unit_id"), "area_id"))
        table = (table.join(area_of, on="unit_id", how="left")
                 .join(listed, on=["area_id", "year"], how="left")
                 .with_columns(pl.col("listed").fill_null(False)).drop("area_id"))
    group_order = pl.col("group").replace_strict({"stock": 0, "in": 1, "out": 2}, return_dtype=pl.Int8)
    front = ["unit_id", "unit_name", "municipality_code", "year", "group"] + (["listed"] if "listed" in table.columns else [])
    return (table.with_columns(pl.lit(level).alias("level"))
            .select(["level", *front, *[c for c in table.columns if c not in front]])
            .sort(["unit_id", "year", group_order]))
