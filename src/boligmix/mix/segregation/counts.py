"""From one row per person (or per person-group count) to the wide count table the indices take."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from boligmix.errors import DataValidationError
from boligmix.mix.segregation.errors import SegregationSpecError

TOTAL_COLUMN = "total"


def wide_counts(
    rows: pl.DataFrame,
    *,
    unit: str,
    category: str,
    by: Sequence[str] = (),
    count: str | None = None,
    categories: Sequence[str] | None = None,
    source: str | None = None,
) -> pl.DataFrame:
    """Count rows per (by..., unit) and `category` value: one column per category plus `total`.

    `rows` has one row per person (or, with `count`, a count column to add up), e.g. persons
    with `year`, `population` (stock / in / out), `area` and `origin` or `income_quartile`.
    `categories` fixes the group columns and their order (values outside it are an error);
    by default they are the sorted distinct values. Missing combinations count 0. The result
    feeds `segregation_table(..., unit=unit, groups=categories, by=by)`.
    """
    by = list(by)
    wanted = [*by, unit, category, *([count] if count is not None else [])]
    missing = [name for name in wanted if name not in rows.columns]
    if missing:
        raise DataValidationError(f"column not found; columns are {rows.columns}", path=source,
                                  column=missing[0])
    if TOTAL_COLUMN in [*by, unit]:
        raise SegregationSpecError(f"'{TOTAL_COLUMN}' is the name of the output total; rename that column")
    for name in [*by, unit, category]:
        nulls = rows[name].is_null()
        if nulls.any():
            raise DataValidationError("value is missing", path=source, row=int(nulls.arg_true()[0]) + 1,
                                      column=name)
    labels = rows[category].cast(pl.String)
    if categories is None:
        categories = sorted(labels.unique().to_list())
    categories = [str(c) for c in categories]
    clash = TOTAL_COLUMN in categories or bool(set(categories) & set(wanted))
    if len(set(categories)) != len(categories) or clash:
        raise SegregationSpecError(
            f"category names must be distinct and not clash with columns: {categories}")
    unknown = ~labels.is_in(categories)
    if unknown.any():
        row = int(unknown.arg_true()[0])
        raise DataValidationError(f"value {labels[row]!r} is not one of {categories}", path=source,
                                  row=row + 1, column=category)
    weight = pl.col(count) if count is not None else pl.lit(1, dtype=pl.Int64)
    keys = [*by, unit]
    long = (rows.select([*keys, pl.col(category).cast(pl.String).alias("_category"), weight.alias("_n")])
            .group_by([*keys, "_category"]).agg(pl.col("_n").sum()))
    wide = long.pivot(on="_category", index=keys, values="_n")
    for name in categories:
        if name not in wide.columns:
            wide = wide.with_columns(pl.lit(0, dtype=pl.Int64).alias(name))
    wide = wide.select([*keys, *[pl.col(c).fill_null(0) for c in categories]]).sort(keys)
    return wide.with_columns(pl.sum_horizontal(categories).alias(TOTAL_COLUMN))


__all__ = ["TOTAL_COLUMN", "wide_counts"]
