"""Who lives where on a day: the one definition of "resident on 1 January" (and on any day).

A residence spell covers the days `move_in <= day < move_out` (an open spell, `move_out` null,
has not ended): the move-out day is the first day elsewhere, so a person moving out on 1 January
is no longer resident that day and a person moving in on 1 January is. `resident_on` is that
test for one day; `january_years` gives, for every spell at once, the first and last year Y whose
1 January it covers (the same test for every 1 January, in one pass; a test checks they agree).
Used by the indicators (`indicators.population`), the mix (`mix.population`) and the synthetic
generator's checks.
"""

from __future__ import annotations

from datetime import date

import polars as pl


def resident_on(day: date) -> pl.Expr:
    """True for the spells (`move_in`, `move_out` columns) that cover `day`."""
    return (pl.col("move_in") <= day) & (pl.col("move_out").is_null() | (pl.col("move_out") > day))


def january_years(open_until: int) -> tuple[pl.Expr, pl.Expr]:
    """(first, last): the first and last year Y with `resident_on(date(Y, 1, 1))`; an open spell
    counts until `open_until`. A spell that covers no 1 January has first > last."""
    on_new_year = (pl.col("move_in").dt.month() == 1) & (pl.col("move_in").dt.day() == 1)
    first = pl.when(on_new_year).then(pl.col("move_in").dt.year()).otherwise(pl.col("move_in").dt.year() + 1)
    out_new_year = (pl.col("move_out").dt.month() == 1) & (pl.col("move_out").dt.day() == 1)
    last = (pl.when(pl.col("move_out").is_null()).then(pl.lit(open_until))
            .when(out_new_year).then(pl.col("move_out").dt.year() - 1)
            .otherwise(pl.col("move_out").dt.year()))
    return first.cast(pl.Int64), last.cast(pl.Int64)


__all__ = ["january_years", "resident_on"]
