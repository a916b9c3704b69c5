"""Indicator tables as they may be published: every count and share through `report.disclosure`.

`FIELD_COUNTS` is the one statement of which counts each official-list indicator is computed from
(numerator, denominator); the lists module uses it for its criteria table too. Unprotected
indicator files are internal: `internal_frame` marks them so in their first column.
"""

from __future__ import annotations

import polars as pl

from dataclasses import replace

from boligmix.report.disclosure import Additive, DisclosurePolicy, ProtectedTable, Share, protect

FIELD_COUNTS: dict[str, tuple[str | None, str]] = {
    "residents": ("residents", "residents"),
    "pct_non_western": ("n_non_western", "residents"),
    "pct_outside_work_edu": ("fte_outside_18_64", "n_18_64"),
    "pct_convicted": ("n_convicted_18plus", "n_18plus"),
    "conviction_ratio": ("n_convicted_18plus", "n_18plus"),
    "pct_basic_education": ("n_basic_30_59", "n_30_59"),
    "income_pct_of_region": (None, "n_income_group"),
    "mean_income": (None, "n_income_group"),
}
"""Official-list indicator -> (numerator count, denominator count) in the indicator frame."""

PERSON_COUNTS: tuple[str, ...] = ("residents", "n_non_western", "n_18_64", "fte_outside_18_64", "n_18plus",
                                  "n_convicted_18plus", "n_30_59", "n_basic_30_59", "n_income_group")
"""The person (or full-time person) counts of the indicator frame."""

PUBLISHED_INDICATORS: tuple[str, ...] = ("residents", "pct_non_western", "pct_outside_work_edu", "pct_convicted",
                                         "conviction_ratio", "pct_basic_education", "income_pct_of_region")
"""The indicator columns a public page shows (the other counts only serve to protect these)."""

INTERNAL_COLUMN = "INTERNAL_not_for_publication"
"""First column of an unprotected (internal) indicator file; every row says why."""


def part_counts(frame: pl.DataFrame | None = None) -> list[tuple[str, str]]:
    """(numerator, denominator) pairs of `FIELD_COUNTS` where the numerator counts (or sums the
    full-time equivalents of) a part of the denominator's persons, so that the rest, denominator -
    numerator, is a count that must be protected too; with `frame`, only pairs it holds."""
    return sorted({(n, d) for n, d in FIELD_COUNTS.values() if n is not None and n != d
                   and (frame is None or {n, d} <= set(frame.columns))})


def protect_indicators(frame: pl.DataFrame, policy: DisclosurePolicy | None = None,
                       name: str = "indicators") -> ProtectedTable:
    """The official-list indicator frame with small counts and the shares built on them suppressed.

    Works on the full frame of `compute_area_indicators` and on AREAS.csv frames (where only
    `residents` is a count and each share is protected by it). A person count is protected
    together with its remainder in the denominator, so "998 of 1,000" is not published when it
    tells that 2 lack the trait. Full-time equivalents (capped at 1 per person) are treated like the
    person counts they are suppressed as: their rest in the denominator too, so "12,0 of 12 outside
    work" (everyone) and "10,5 of 12" (1,5 full-time persons in work) are not published either."""
    counts = [c for c in PERSON_COUNTS if c in frame.columns]
    frame = frame.with_columns(pl.col(c).fill_null(0).fill_nan(0) if frame.schema[c].is_float()
                               else pl.col(c).fill_null(0) for c in counts)
    shares = []
    totals = [Additive([numerator], denominator, remainder=True) for numerator, denominator in part_counts(frame)]
    for field, (numerator, denominator) in FIELD_COUNTS.items():
        if field == "residents" or field not in frame.columns:
            continue
        if denominator not in frame.columns:
            denominator = "residents"
        if denominator in frame.columns:
            shares.append(Share(field, denominator, numerator if numerator in frame.columns else None))
    return protect(frame, counts=counts, shares=shares, totals=totals, policy=policy, name=name)


def protect_composition(frame: pl.DataFrame, policy: DisclosurePolicy | None = None) -> ProtectedTable:
    """The tidy composition table (`compute_composition`): numerator, denominator and value protected.

    A percentage's numerator is part of its denominator: the rest (those without the trait, or the
    full-time equivalents not in the state) is protected like a published count, so "48 of 50
    children" is not published when it tells that 2 residents are adults. A ratio of members per
    unit (persons per household) is protected with its rest too: persons - households counts the
    persons beyond the first of each household ("52 persons in 50 households")."""
    from boligmix.indicators.composition import INDICATORS

    members = [name for name, spec in INDICATORS.items() if spec.members]
    flagged = frame.with_columns((pl.col("kind") == "pct").alias("_part"),
                                 ((pl.col("kind") == "ratio") & pl.col("indicator").is_in(members)).alias("_members"))
    table = protect(flagged, counts=["numerator", "denominator"], shares=[Share("value", "denominator", "numerator")],
                    totals=[Additive(["numerator"], "denominator", remainder=True, where="_part"),
                            Additive(["denominator"], "numerator", remainder=True, where="_members")],
                    policy=policy, name="composition")
    return replace(table, frame=table.frame.drop("_part", "_members"))


def internal_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` with a first column saying that it holds unprotected person counts."""
    return frame.select(pl.lit("INTERNT: ubeskyttede antal personer, ikke til offentliggørelse / INTERNAL: "
                               "unprotected person counts, not for publication").alias(INTERNAL_COLUMN), pl.all())


__all__ = ["FIELD_COUNTS", "INTERNAL_COLUMN", "PERSON_COUNTS", "PUBLISHED_INDICATORS", "internal_frame", "part_counts",
           "protect_composition", "protect_indicators"]
