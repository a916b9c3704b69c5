"""Shift-share decomposition of the change in a unit's composition between two 1 January stocks.

For a factor (e.g. share with only grundskole) and a unit, persons in the factor's population at
1 January of year_from or year_to are split into

* stayers: in the unit and the population at both dates;
* in_movers: in at year_to only, having moved in; out_movers: in at year_from only, having moved
  out (emigration included);
* other_entrants: in at year_to only without moving in (born after year_from, or aged into the
  age band while living in the unit); other_leavers: in at year_from only without moving out
  (died, or aged out of the band).

With stayers' shares s_K1, s_K2 (0 when there are no stayers), totals N1, N2 and, for each
group g, its size N_g and number with the trait X_g:

    change          = S2 - S1
    stayers         = s_K2 - s_K1                      (their own status changed)
    in_movers       = (X_in - N_in * s_K2) / N2        (how far in-movers pull from stayers' level)
    other_entrants  = (X_oe - N_oe * s_K2) / N2
    out_movers      = -(X_out - N_out * s_K1) / N1
    other_leavers   = -(X_ol - N_ol * s_K1) / N1

These add up to the change exactly (S2 = s_K2 + sum over entrants, S1 likewise); the test suite
checks it on random populations. Statuses are measured as in the stock (register year before
each 1 January).
"""

from __future__ import annotations

from datetime import date

import polars as pl

from boligmix.mix.factors import FACTOR_POPULATION, FACTORS
from boligmix.mix.population import MixData
from boligmix.mix.units import dwelling_units

COMPONENTS = ("stayers", "in_movers", "out_movers", "other_entrants", "other_leavers")


def deaths(data: MixData) -> pl.DataFrame:
    """person_id, death_date from spells that ended with end_reason 'death'."""
    return (data.residences.filter(pl.col("end_reason") == "death")
            .group_by("person_id").agg(pl.col("move_out").min().alias("death_date")))


def decompose(stock: pl.DataFrame, *, year_from: int, year_to: int, factor: str,
              death_dates: pl.DataFrame | None = None) -> pl.DataFrame:
    """Decompose the change in `factor` between the stocks of two years, per unit.

    `stock` holds stock rows with `unit_id`, `year`, `person_id`, `birth_date`, the factor flag
    and its population flag (see `FACTOR_POPULATION`).
    """
    if factor not in FACTORS:
        raise ValueError(f"unknown factor {factor}")
    return decompose_pairs(stock, [(year_from, year_to)], factors=(factor,), death_dates=death_dates)


def _wide(stock: pl.DataFrame, factors: tuple[str, ...], tag: str) -> pl.DataFrame:
    """One row per (unit, person) of a stock: birth date and, per factor, population flag and trait."""
    pops = sorted({FACTOR_POPULATION[f] for f in factors})
    return stock.unique(subset=["unit_id", "person_id"], keep="first").select(
        "unit_id", "person_id", pl.col("birth_date").alias(f"birth{tag}"), pl.lit(True).alias(f"in{tag}"),
        *[pl.col(p).alias(f"{p}{tag}") for p in pops],
        *[(pl.col(f) & pl.col(FACTOR_POPULATION[f])).cast(pl.Int64).alias(f"x_{f}{tag}") for f in factors])


def decompose_pairs(stock: pl.DataFrame, pairs: list[tuple[int, int]], *, factors: tuple[str, ...] = FACTORS,
                    death_dates: pl.DataFrame | None = None) -> pl.DataFrame:
    """`decompose` for every factor and year pair at once: the stock is split by year once, and each
    pair is one join and one group-by over all factors (not one filter of the whole stock and one
    join per pair and factor)."""
    for a, b in pairs:
        if b <= a:
            raise ValueError("year_to must be after year_from")
    by_year = stock.partition_by("year", as_dict=True, include_key=False)
    empty = stock.head(0).drop("year")
    wides: dict[tuple[int, str], pl.DataFrame] = {}

    def wide(year: int, tag: str) -> pl.DataFrame:
        if (year, tag) not in wides:
            wides[(year, tag)] = _wide(by_year.get((year,), empty), factors, tag)
        return wides[(year, tag)]

    dd = death_dates if death_dates is not None and death_dates.height else None
    parts = [_pair(wide(a, "1"), wide(b, "2"), a, b, factors, dd) for a, b in pairs]
    return pl.concat(parts).sort("unit_id", "factor", "year_from", "year_to")


_GROUPS = ("K", "IN", "OE", "OUT", "OL")


def _pair(a: pl.DataFrame, b: pl.DataFrame, year_from: int, year_to: int, factors: tuple[str, ...],
          death_dates: pl.DataFrame | None) -> pl.DataFrame:
    pops = sorted({FACTOR_POPULATION[f] for f in factors})
    j = a.join(b, on=["unit_id", "person_id"], how="full", coalesce=True).with_columns(
        pl.col("birth1").fill_null(pl.col("birth2")).alias("birth_date"),
        pl.col("in1").fill_null(False), pl.col("in2").fill_null(False),
        *[pl.col(f"{p}{t}").fill_null(False) for p in pops for t in ("1", "2")],
        *[pl.col(f"x_{f}{t}").fill_null(0) for f in factors for t in ("1", "2")])
    if death_dates is not None:
        j = j.join(death_dates, on="person_id", how="left")
    else:
        j = j.with_columns(pl.lit(None, dtype=pl.Date).alias("death_date"))
    d1, d2 = date(year_from, 1, 1), date(year_to, 1, 1)
    born_since = pl.col("birth_date") > pl.lit(d1)
    died_since = (pl.col("death_date") <= pl.lit(d2)).fill_null(False)
    both = pl.col("in1") & pl.col("in2")

    def group(pop: str) -> pl.Expr:
        p1, p2 = pl.col(f"{pop}1"), pl.col(f"{pop}2")
        return (pl.when(both & p1 & p2).then(pl.lit("K"))
                .when(both & p2).then(pl.lit("OE"))
                .when(both & p1).then(pl.lit("OL"))
                .when(pl.col("in2") & p2).then(pl.when(born_since).then(pl.lit("OE")).otherwise(pl.lit("IN")))
                .when(pl.col("in1") & p1).then(pl.when(died_since).then(pl.lit("OL")).otherwise(pl.lit("OUT")))
                .otherwise(None).alias(f"g_{pop}"))

    j = j.with_columns(group(p) for p in pops)
    aggs = []
    for f in factors:
        g = pl.col(f"g_{FACTOR_POPULATION[f]}")
        x1, x2 = pl.col(f"x_{f}1"), pl.col(f"x_{f}2")
        aggs += [(g == k).sum().cast(pl.Int64).alias(f"{f}|N_{k}") for k in _GROUPS]
        aggs += [x1.filter(g == "K").sum().alias(f"{f}|X_K1"), x2.filter(g == "K").sum().alias(f"{f}|X_K2"),
                 *[x2.filter(g == k).sum().alias(f"{f}|X_{k}") for k in ("IN", "OE")],
                 *[x1.filter(g == k).sum().alias(f"{f}|X_{k}") for k in ("OUT", "OL")]]
    wide = j.group_by("unit_id").agg(aggs)
    names = [f"N_{k}" for k in _GROUPS] + ["X_K1", "X_K2", "X_IN", "X_OE", "X_OUT", "X_OL"]
    agg = pl.concat([wide.select("unit_id", pl.lit(f).alias("factor"), *[pl.col(f"{f}|{n}").alias(n) for n in names])
                     .filter(pl.sum_horizontal([pl.col(f"N_{k}") for k in _GROUPS]) > 0) for f in factors])
    agg = agg.with_columns(pl.col(r"^X_.*$").fill_null(0).cast(pl.Float64))
    n1 = pl.col("N_K") + pl.col("N_OUT") + pl.col("N_OL")
    n2 = pl.col("N_K") + pl.col("N_IN") + pl.col("N_OE")
    sk1 = pl.when(pl.col("N_K") > 0).then(pl.col("X_K1") / pl.col("N_K")).otherwise(0.0)
    sk2 = pl.when(pl.col("N_K") > 0).then(pl.col("X_K2") / pl.col("N_K")).otherwise(0.0)
    ok = (n1 > 0) & (n2 > 0)

    def defined(e: pl.Expr) -> pl.Expr:
        return pl.when(ok).then(e).otherwise(None)

    s1 = (pl.col("X_K1") + pl.col("X_OUT") + pl.col("X_OL")) / n1
    s2 = (pl.col("X_K2") + pl.col("X_IN") + pl.col("X_OE")) / n2
    out = agg.with_columns(
        n1.alias("n_from"), n2.alias("n_to"),
        defined(s1).alias("share_from"), defined(s2).alias("share_to"),
        defined(s2 - s1).alias("change"),
        defined(sk2 - sk1).alias("stayers"),
        defined((pl.col("X_IN") - pl.col("N_IN") * sk2) / n2).alias("in_movers"),
        defined(-(pl.col("X_OUT") - pl.col("N_OUT") * sk1) / n1).alias("out_movers"),
        defined((pl.col("X_OE") - pl.col("N_OE") * sk2) / n2).alias("other_entrants"),
        defined(-(pl.col("X_OL") - pl.col("N_OL") * sk1) / n1).alias("other_leavers"),
    )
    return out.select(
        "unit_id", "factor", pl.lit(year_from, dtype=pl.Int64).alias("year_from"),
        pl.lit(year_to, dtype=pl.Int64).alias("year_to"), "n_from", "n_to", "share_from", "share_to", "change",
        *COMPONENTS,
        pl.col("N_K").alias("n_stayers"), pl.col("N_IN").alias("n_in_movers"),
        pl.col("N_OUT").alias("n_out_movers"), pl.col("N_OE").alias("n_other_entrants"),
        pl.col("N_OL").alias("n_other_leavers"),
    )


STOCK_COLUMNS = ("unit_id", "year", "person_id", "birth_date", *sorted(set(FACTORS) | set(FACTOR_POPULATION.values())))


def stock_in_units(rows: pl.DataFrame, data: MixData, level: str) -> pl.DataFrame:
    """Stock rows located in units of `level`, narrowed to what the decomposition needs."""
    du = dwelling_units(data, level).select("dwelling_id", "unit_id")
    return (rows.filter(pl.col("group") == "stock").join(du, on="dwelling_id", how="inner")
            .filter(pl.col("unit_id").is_not_null()).select(STOCK_COLUMNS))


def year_pairs(years: list[int]) -> list[tuple[int, int]]:
    """Year-on-year pairs (Y, Y+1) for every year, plus (first year, last year + 1) when that spans
    more than one year."""
    pairs = [(y, y + 1) for y in years]
    if years and years[-1] + 1 - years[0] > 1:
        pairs.append((years[0], years[-1] + 1))
    return pairs


def decomposition_table(unit_stock: pl.DataFrame, data: MixData, level: str, years: list[int],
                        pairs: list[tuple[int, int]] | None = None) -> pl.DataFrame:
    """Decompositions between the 1 January stocks of each pair of years (default `year_pairs`).

    `unit_stock` is `stock_in_units(rows, data, level)` for (at least) the years of the pairs."""
    pairs = pairs if pairs is not None else year_pairs(years)
    table = decompose_pairs(unit_stock, pairs, death_dates=deaths(data))
    return table.with_columns(pl.lit(level).alias("level")).select("level", pl.exclude("level"))
