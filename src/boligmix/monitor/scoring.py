"""Scoring units with an indicator set: list categories and criterion margins (legal sets) or
points and categories (points sets).

Everything is evaluated by the existing engine: `boligmix.lists.classify.classify` and
`boligmix.lists.explain.criteria_table` for legal sets (thresholds from the list rule files), the
evaluator's conditions of the set file for points sets. Frames here are keyed by `unit_id`
(string) and `year`; `classify` reads the same frame with `unit_id` renamed to `area_id`.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from boligmix.lists.classify import Classification, classify
from boligmix.lists.explain import criteria_table
from boligmix.lists.ruleset import OUTPUT_FLAGS, RuleSet
from boligmix.monitor.sets import IndicatorSet, derive_ruleset
from boligmix.rules.evaluator import evaluate_frame

LIST_ORDER: tuple[str, ...] = ("omdannelse", "parallelsamfund", "udsat", "forebyggelse")
"""The lists from the most to the least severe: a unit's category is the first it is on."""
NONE_CATEGORY = "none"
BELOW_SUFFIX = "_below_min_residents"
"""Category suffix of a unit that meets a list's criteria but not 'mindst 1.000 beboere'."""


def classify_years(frame: pl.DataFrame, rulesets: Mapping[int, RuleSet]) -> Classification:
    """Classify `frame` (unit_id, year, indicator columns) with a rule set per year.

    Runs of consecutive years with the same rule set are classified in order, each with the
    parallelsamfund results of the earlier runs as list history, so the omdannelse rule looks
    back across rule versions exactly as `classify(rules="auto")` does."""
    areas = frame.rename({"unit_id": "area_id"})
    years = sorted(rulesets)
    runs: list[tuple[RuleSet, list[int]]] = []
    for y in years:
        if runs and runs[-1][0] is rulesets[y]:
            runs[-1][1].append(y)
        else:
            runs.append((rulesets[y], [y]))
    parts: list[pl.DataFrame] = []
    provenance: dict = {"rule_versions": {}, "switches": {}}
    used: dict[str, RuleSet] = {}
    history = None
    for ruleset, run_years in runs:
        sub = areas.filter(pl.col("year").is_in(run_years))
        if sub.height == 0:
            continue
        result = classify(sub, rules=ruleset, history=history)
        parts.append(result.frame)
        used[ruleset.version] = ruleset
        provenance["rule_versions"].update(result.provenance["rule_versions"])
        provenance["switches"].update(result.provenance["switches"])
        done = pl.concat(parts, how="vertical_relaxed")
        history = done.select("area_id", "year", *[pl.col(f).cast(pl.Int8) for f in OUTPUT_FLAGS])
    if not parts:
        schema = {"area_id": pl.String, "year": pl.Int64, "rules": pl.String, "criteria_met": pl.Int32,
                  "criteria_unknown": pl.Int32, **{f: pl.Boolean for f in OUTPUT_FLAGS}}
        return Classification(pl.DataFrame(schema=schema), provenance, used)
    return Classification(pl.concat(parts, how="vertical_relaxed"), provenance, used)


def legal_categories(frame: pl.DataFrame, iset: IndicatorSet) -> tuple[Classification, pl.DataFrame]:
    """(classification under the set, unit_id/year/category).

    The category is the most severe list the unit is on; a unit below the residents gate that
    meets a list's other criteria gets `<list>_below_min_residents` (classified once more with the
    residents criterion left out, so departments under 1,000 residents are followed too)."""
    years = sorted(int(y) for y in frame.get_column("year").unique().to_list())
    rulesets = iset.rulesets(years)
    official = classify_years(frame, rulesets)
    ungated = classify_years(frame, {y: derive_ruleset(r, ("residents",), f"{iset.id}-ungated")
                                     for y, r in rulesets.items()})

    def first_list(c: Classification, suffix: str) -> pl.DataFrame:
        expr = pl.lit(None, dtype=pl.String)
        for flag in reversed(LIST_ORDER):
            expr = pl.when(pl.col(flag).fill_null(False)).then(pl.lit(flag + suffix)).otherwise(expr)
        return c.frame.select(pl.col("area_id").alias("unit_id"), "year", expr.alias("category"))

    cats = (first_list(official, "").join(first_list(ungated, BELOW_SUFFIX).rename({"category": "ungated"}),
                                          on=["unit_id", "year"], how="left")
            .select("unit_id", "year", pl.coalesce("category", "ungated", pl.lit(NONE_CATEGORY)).alias("category")))
    return official, cats


def legal_criteria(frame: pl.DataFrame, classification: Classification) -> pl.DataFrame:
    """Every criterion per unit and year (lists.explain.criteria_table), keyed by unit_id."""
    table = criteria_table(frame.rename({"unit_id": "area_id"}), classification)
    return table.rename({"area_id": "unit_id"})


# ------------------------------------------------------------------------------ points sets

def points_scores(values: pl.DataFrame, iset: IndicatorSet) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Points of every (unit_id, year, indicator) row and the category of every (unit_id, year).

    `values` has unit_id, year, indicator (the set's indicator id), value and reference. The
    oriented distance is value - reference (`difference`) or value / reference (`ratio`), with the
    sign or the ratio turned round when lower values are worse; a missing value or reference gives
    no points (null). Returns (rows with `distance` and `points`, unit_id/year/points/category)."""
    parts = []
    for ind in iset.spec.indicators:
        sub = values.filter(pl.col("indicator") == ind.id)
        v, r = pl.col("value"), pl.col("reference")
        if ind.distance == "difference":
            dist = (v - r) if ind.worse == "higher" else (r - v)
        else:
            ok = (r != 0) & (v != 0) if ind.worse == "lower" else (r != 0)
            dist = pl.when(ok).then((v / r) if ind.worse == "higher" else (r / v))
        sub = sub.with_columns(dist.cast(pl.Float64).alias("distance"))
        known = sub.get_column("distance").is_not_null()
        points = pl.Series([0] * sub.height, dtype=pl.Int64)
        for cond in iset.step_conditions[ind.id]:
            points = points + evaluate_frame(cond, sub).fill_null(False).cast(pl.Int64)
        sub = sub.with_columns(pl.when(known).then(points).alias("points"))
        parts.append(sub)
    rows = pl.concat(parts, how="vertical_relaxed") if parts else values.with_columns(
        pl.lit(None, pl.Float64).alias("distance"), pl.lit(None, pl.Int64).alias("points"))
    totals = rows.group_by("unit_id", "year").agg(pl.col("points").sum().cast(pl.Float64).alias("points"))
    category = pl.lit(None, dtype=pl.String)
    for cat, cond in reversed(iset.category_conditions):
        category = pl.when(evaluate_frame(cond, totals)).then(pl.lit(cat.id)).otherwise(category)
    totals = totals.with_columns(category.alias("category")).sort("unit_id", "year")
    return rows, totals


__all__ = ["BELOW_SUFFIX", "LIST_ORDER", "NONE_CATEGORY", "classify_years", "legal_categories", "legal_criteria",
           "points_scores"]
