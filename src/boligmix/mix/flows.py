"""Where in-movers come from and where out-movers go, per unit and year.

Each move into (`direction = 'in'`) or out of (`'out'`) a unit is given the first category that
fits the dwelling at the move's other end (for in-movers the previous dwelling, for out-movers
the next one):

1. `birth`, `death` (not moves: shown for completeness), `abroad`, `unknown` (spell ended with
   nothing after it and no end reason);
2. `same_department` (a move inside a department) and `same_unit` (inside the unit, e.g. between
   departments of one area) — internal moves, left out of the composition;
3. `listed_area` — a dwelling in an area listed in the move's year, in any municipality
   (list-membership frame `area_id, year, listed`, e.g. from `boligmix.lists`; without it the
   category is empty);
4. `other_municipality`;
5. `other_almen`, `private_rental`, `cooperative` (andel), `owner_occupied`, `other_tenure`.

`internal_almen` marks moves whose other end is an almen dwelling outside the unit (in any
municipality; the SFI study found about 40 % of moves to be between almen departments).
"""

from __future__ import annotations

import polars as pl

from boligmix.mix.population import MixData
from boligmix.mix.units import dwelling_units

CATEGORIES = ("birth", "death", "abroad", "unknown", "same_department", "same_unit", "listed_area",
              "other_municipality", "other_almen", "private_rental", "cooperative", "owner_occupied", "other_tenure")
NOT_MOVES = ("birth", "death")
INTERNAL = ("same_department", "same_unit")
TOTAL = "total"


def classified_moves(rows: pl.DataFrame, data: MixData, level: str,
                     listed: pl.DataFrame | None = None) -> pl.DataFrame:
    """In- and out-moves of units of `level` with their category and `internal_almen` flag."""
    du = dwelling_units(data, level)
    moves = rows.filter(pl.col("group").is_in(["in", "out"]))
    moves = moves.join(du, on="dwelling_id", how="inner").filter(pl.col("unit_id").is_not_null())
    other = du.select(
        pl.col("dwelling_id").alias("other_dwelling_id"), pl.col("unit_id").alias("o_unit"),
        pl.col("municipality_code").alias("o_mun"), pl.col("department_id").alias("o_dep"),
        pl.col("area_id").alias("o_area"), pl.col("tenure").alias("o_tenure"))
    moves = moves.join(other, on="other_dwelling_id", how="left")
    if listed is not None:
        moves = moves.join(listed.rename({"area_id": "o_area", "listed": "o_listed"}), on=["o_area", "year"],
                           how="left")
    else:
        moves = moves.with_columns(pl.lit(None, dtype=pl.Boolean).alias("o_listed"))
    kind = pl.col("other_kind")
    category = (
        pl.when(kind != "dwelling").then(kind)
        .when(pl.col("o_dep").is_not_null() & (pl.col("o_dep") == pl.col("department_id"))).then(pl.lit("same_department"))
        .when(pl.col("o_unit") == pl.col("unit_id")).then(pl.lit("same_unit"))
        .when(pl.col("o_listed").fill_null(False)).then(pl.lit("listed_area"))
        .when(pl.col("o_mun") != pl.col("municipality_code")).then(pl.lit("other_municipality"))
        .when(pl.col("o_tenure") == "almen").then(pl.lit("other_almen"))
        .when(pl.col("o_tenure") == "privat_udlejning").then(pl.lit("private_rental"))
        .when(pl.col("o_tenure") == "andel").then(pl.lit("cooperative"))
        .when(pl.col("o_tenure") == "ejer").then(pl.lit("owner_occupied"))
        .otherwise(pl.lit("other_tenure"))
    )
    internal_almen = ((kind == "dwelling") & (pl.col("o_tenure") == "almen")
                      & (pl.col("o_unit") != pl.col("unit_id")).fill_null(True))
    return moves.with_columns(category.alias("category"), internal_almen.fill_null(False).alias("internal_almen"))


def flow_table(moves: pl.DataFrame, level: str, years: list[int]) -> pl.DataFrame:
    """Counts per unit, year, direction and category, with a `total` row per unit/year/direction
    (all categories that are moves across the unit's boundary: not births, deaths or internal)."""
    m = moves.filter(pl.col("year").is_in(years))
    counts = m.group_by("unit_id", "year", "group", "category").agg(pl.len().cast(pl.Int64).alias("n"))
    keys = m.select("unit_id", "year", "group").unique()
    grid = keys.join(pl.DataFrame({"category": list(CATEGORIES)}), how="cross")
    table = grid.join(counts, on=["unit_id", "year", "group", "category"], how="left").with_columns(
        pl.col("n").fill_null(0))
    crossing = table.filter(~pl.col("category").is_in([*NOT_MOVES, *INTERNAL]))
    totals = crossing.group_by("unit_id", "year", "group").agg(pl.col("n").sum()).with_columns(
        pl.lit(TOTAL).alias("category"))
    table = pl.concat([table, totals.select(table.columns)])
    order = {c: i for i, c in enumerate([*CATEGORIES, TOTAL])}
    return (table.rename({"group": "direction"})
            .with_columns(pl.lit(level).alias("level"),
                          pl.col("category").replace_strict(order, return_dtype=pl.Int32).alias("_o"))
            .sort("unit_id", "year", "direction", "_o").drop("_o")
            .select("level", "unit_id", "year", "direction", "category", "n"))


def internal_almen_table(moves: pl.DataFrame, level: str, years: list[int]) -> pl.DataFrame:
    """Per unit, year and direction: moves across the boundary and how many are to/from another almen
    department (`n_internal_almen`, `share_internal_almen`)."""
    m = moves.filter(pl.col("year").is_in(years) & ~pl.col("category").is_in([*NOT_MOVES, *INTERNAL]))
    t = m.group_by("unit_id", "year", "group").agg(
        pl.len().cast(pl.Int64).alias("n_moves"), pl.col("internal_almen").sum().cast(pl.Int64).alias("n_internal_almen"))
    return (t.rename({"group": "direction"}).with_columns(
        pl.lit(level).alias("level"), (pl.col("n_internal_almen") / pl.col("n_moves")).alias("share_internal_almen"))
        .select("level", "unit_id", "year", "direction", "n_moves", "n_internal_almen", "share_internal_almen")
        .sort("unit_id", "year", "direction"))


def national_moves(rows: pl.DataFrame, data: MixData, years: list[int]) -> pl.DataFrame:
    """Per year, all moves between two dwellings in Denmark: how many end in an almen dwelling and
    how many of those come from an almen dwelling of another department (the SFI '40 %' figure).
    Moves inside a department (and new spells in the same dwelling) are left out, as in the SFI study."""
    d = data.dwellings.select("dwelling_id", "tenure", "department_id")
    m = (rows.filter((pl.col("group") == "in") & (pl.col("other_kind") == "dwelling") & pl.col("year").is_in(years)
                     & (pl.col("other_dwelling_id") != pl.col("dwelling_id")))
         .join(d, on="dwelling_id", how="inner")
         .join(d.rename({"dwelling_id": "other_dwelling_id", "tenure": "o_tenure", "department_id": "o_dep"}),
               on="other_dwelling_id", how="inner")
         .filter(~(pl.col("o_dep") == pl.col("department_id")).fill_null(False)))
    into_almen = pl.col("tenure") == "almen"
    almen_to_almen = into_almen & (pl.col("o_tenure") == "almen")
    t = m.group_by("year").agg(
        pl.len().cast(pl.Int64).alias("n_moves"),
        into_almen.sum().cast(pl.Int64).alias("n_into_almen"),
        almen_to_almen.sum().cast(pl.Int64).alias("n_almen_to_other_almen"),
    ).with_columns((pl.col("n_almen_to_other_almen") / pl.col("n_into_almen")).alias("share_of_almen_in_moves"))
    return t.sort("year")
