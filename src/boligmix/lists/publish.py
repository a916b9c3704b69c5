"""The list indicators and criteria under disclosure control, for dashboards and printed reports.

`protect_indicators` protects the indicator frame of `compute_lists` (one row per area and year):
residents and the person counts behind each share are counts (primary and secondary suppression;
a share's numerator is protected together with its remainder, so "998 of 1,000" is not published
when it tells that 2 lack the trait); each share is suppressed when its denominator is small or
suppressed, or its numerator is suppressed (`boligmix.report.disclosure`).

`protect_criteria` protects the criteria table (`boligmix.lists.explain.CRITERIA_COLUMNS`) the
same way: per criterion field the value, its margin to the threshold and what it takes to cross
it (number and texts) are shares of that field's counts. Whether the area met the criterion and
the list flags stay published: the lists themselves are public.

The support counts used here are the indicators' own (`n_18_64`, `n_30_59`, ...); for
window-averaged criteria they are window averages, as in the explanations.
"""

from __future__ import annotations

import polars as pl

from boligmix.report.disclosure import Additive, DisclosurePolicy, ProtectedTable, Share, protect

SHARE_COUNTS: dict[str, tuple[str, str | None]] = {
    "pct_non_western": ("residents", "n_non_western"),
    "pct_outside_work_edu": ("n_18_64", None),  # its numerator is full-time equivalents, not persons
    "pct_convicted": ("n_18plus", "n_convicted_18plus"),
    "conviction_ratio": ("n_18plus", "n_convicted_18plus"),
    "pct_basic_education": ("n_30_59", "n_basic_30_59"),
    "income_pct_of_region": ("n_income_group", None),  # a mean income over the group
}
"""Indicator share -> (denominator count, numerator count or None)."""

INDICATOR_COUNTS = ("residents", "n_non_western", "n_18_64", "n_18plus", "n_convicted_18plus", "n_30_59",
                    "n_basic_30_59", "n_income_group")
PUBLISHED_INDICATORS = ("residents", *SHARE_COUNTS)
"""The indicator columns a public page may show (the other counts only protect these)."""

_CRITERION_VALUES = ("value", "margin", "to_cross", "to_cross_text_da", "to_cross_text_en", "to_cross_text")
_DEN, _NUM = "_denominator", "_numerator"


def protect_indicators(indicators: pl.DataFrame, policy: DisclosurePolicy | None = None) -> ProtectedTable:
    """The indicator frame (area_id, year, residents, shares, support counts) under disclosure control.

    Missing support counts make the shares that need them unpublishable (they are suppressed with
    reason `denominator`), never published unprotected."""
    frame = indicators
    missing = [c for c in INDICATOR_COUNTS if c not in frame.columns]
    frame = frame.with_columns([pl.lit(0, dtype=pl.Int64).alias(c) for c in missing])
    frame = frame.with_columns([pl.col(c).fill_null(0).fill_nan(0) if frame.schema[c].is_float()
                                else pl.col(c).fill_null(0) for c in INDICATOR_COUNTS])
    shares = [Share(col, den, num) for col, (den, num) in SHARE_COUNTS.items() if col in frame.columns]
    totals = [Additive([num], den, remainder=True) for den, num in
              {(den, num) for den, num in SHARE_COUNTS.values() if num is not None}]
    totals.sort(key=lambda t: t.parts)
    return protect(frame, counts=INDICATOR_COUNTS, shares=shares, totals=totals, policy=policy,
                   name="list indicators")


def protect_criteria(criteria: pl.DataFrame, indicators: pl.DataFrame,
                     policy: DisclosurePolicy | None = None) -> ProtectedTable:
    """The criteria table under disclosure control: per row the value, margin and what it takes to
    cross are protected as shares of the criterion field's counts at (area, year)."""
    policy = policy or DisclosurePolicy.load()
    counts = indicators.select("area_id", "year", *[c for c in INDICATOR_COUNTS if c in indicators.columns])
    rows = criteria.with_row_index("_order").join(counts, on=["area_id", "year"], how="left")
    pieces: list[tuple[pl.DataFrame, ProtectedTable]] = []
    for (field,), part in rows.group_by("field", maintain_order=True):
        den, num = ("residents", None) if field == "residents" else SHARE_COUNTS.get(str(field), (None, None))
        cols = [c for c in _CRITERION_VALUES if c in part.columns]
        den_values = pl.col(den) if den is not None and den in part.columns else pl.lit(0)
        part = part.with_columns(den_values.fill_null(0).alias(_DEN))
        totals = []
        if num is not None and num in part.columns:
            part = part.with_columns(pl.col(num).fill_null(0).alias(_NUM))
            shares = [Share(c, _DEN, _NUM) for c in cols]
            totals = [Additive([_NUM], _DEN, remainder=True)]
            count_cols = [_DEN, _NUM]
        else:
            shares = [Share(c, _DEN) for c in cols]
            count_cols = [_DEN]
        keep = part.select([c for c in criteria.columns] + ["_order", *count_cols])
        protected = protect(keep, counts=count_cols, shares=shares, totals=totals, policy=policy,
                            name=f"criteria ({field})")
        pieces.append((protected.frame, protected))
    return _combine(pieces, criteria.columns, policy)


def _combine(pieces: list[tuple[pl.DataFrame, ProtectedTable]], columns: list[str],
             policy: DisclosurePolicy) -> ProtectedTable:
    """One ProtectedTable of protected pieces (rows back in their original order; the helper
    count columns are dropped: only the published criterion columns remain)."""
    if not pieces:
        return protect(pl.DataFrame(schema={c: pl.String for c in columns}), counts=[], policy=policy)
    frames, reasons = [], {c: [] for c in _CRITERION_VALUES}
    for frame, table in pieces:
        frames.append(frame.select(*columns, "suppressed", "_order"))
        for c in _CRITERION_VALUES:
            reasons[c].extend(table.reasons.get(c, [None] * frame.height))
    merged = pl.concat(frames, how="vertical_relaxed").with_row_index("_pos")
    order = merged.sort("_order").get_column("_pos").to_list()
    merged = merged.sort("_order").drop("_order", "_pos")
    merged = merged.with_columns(pl.col("suppressed").str.replace_all(rf"(,?)({_DEN}|{_NUM}):[a-z]+", "")
                                 .str.strip_chars(",").replace("", None))
    ordered = {c: [rs[i] for i in order] for c, rs in reasons.items() if len(rs) == len(order)}
    shares = tuple(s for _, t in pieces for s in t.shares if s.column in ordered)
    return ProtectedTable(merged, policy, (), shares, ordered)


__all__ = ["INDICATOR_COUNTS", "PUBLISHED_INDICATORS", "SHARE_COUNTS", "protect_criteria", "protect_indicators"]
