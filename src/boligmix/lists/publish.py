"""The criteria table as it may be published: each criterion's value, margin and "what it takes"
are suppressed with the counts they are computed from (`report.disclosure`).

Each row gets the counts behind its value (`count`: the numerator, `base`: the denominator, from
`indicators.publish.FIELD_COUNTS`); a value computed from fewer than `min_count` persons, or over a
base below `min_denominator`, is published as empty, and so are its margin, distance and texts
(they would give the value back). Where `count` is a part of `base` (persons with a trait, or
their full-time equivalents), the rest `base - count` is protected as a count too (`_part` rows:
"48 of 50" is not published when it tells that 2 lack the trait). Classification itself always
uses the exact values.
"""

from __future__ import annotations

from dataclasses import replace

import polars as pl

from boligmix.indicators.publish import FIELD_COUNTS, PUBLISHED_INDICATORS, part_counts, protect_indicators
from boligmix.report.disclosure import Additive, DisclosurePolicy, ProtectedTable, Share, protect

KEY = ["area_id", "year"]
TEXT_COLUMNS = ("to_cross_text_da", "to_cross_text_en", "to_cross_text")


def _counts_per_row(criteria: pl.DataFrame, indicators: pl.DataFrame) -> pl.DataFrame:
    """`criteria` with `count` and `base`: the counts behind each row's value (0 when unknown)."""
    columns = {c for pair in FIELD_COUNTS.values() for c in pair if c is not None} & set(indicators.columns)
    support = indicators.select(*KEY, *[pl.col(c).cast(pl.Float64).alias(f"_{c}") for c in sorted(columns)])
    joined = criteria.join(support, on=KEY, how="left")

    def pick(index: int) -> pl.Expr:
        expr = pl.lit(None, dtype=pl.Float64)
        for field, pair in FIELD_COUNTS.items():
            column = pair[index] or pair[1]
            if column not in columns:
                column = "residents" if "residents" in columns else None
            if column is not None:
                expr = pl.when(pl.col("field") == field).then(pl.col(f"_{column}")).otherwise(expr)
        return expr.fill_null(0.0)

    parts = [field for field, pair in FIELD_COUNTS.items() if pair in part_counts(indicators)]
    return joined.with_columns(pick(0).alias("count"), pick(1).alias("base"),
                               pl.col("field").is_in(parts).fill_null(False).alias("_part")).drop(
        [f"_{c}" for c in sorted(columns)])


def protect_criteria(criteria: pl.DataFrame, indicators: pl.DataFrame,
                     policy: DisclosurePolicy | None = None) -> ProtectedTable:
    """The criteria table (`explain.criteria_table`) protected for publication."""
    frame = _counts_per_row(criteria, indicators)
    shares = [Share(c, "base", "count") for c in ("value", "margin", "to_cross") if c in frame.columns]
    table = protect(frame, counts=["count", "base"], shares=shares, policy=policy, name="criteria",
                    totals=[Additive(["count"], "base", remainder=True, where="_part")])
    table = replace(table, frame=table.frame.drop("_part"))
    frame = frame.drop("_part")
    hidden = table.frame.get_column("value").is_null() & frame.get_column("value").is_not_null()
    if hidden.any():
        texts = [c for c in TEXT_COLUMNS if c in table.frame.columns]
        table = replace(table, frame=table.frame.with_columns(
            pl.when(hidden).then(pl.lit(None, dtype=pl.String)).otherwise(pl.col(c)).alias(c) for c in texts))
    return table


__all__ = ["PUBLISHED_INDICATORS", "protect_criteria", "protect_indicators"]
