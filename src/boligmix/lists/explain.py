"""Explanations of a classification: every criterion's value, threshold, margin and what it would
take to cross it; the area's list history; and the earliest year it could leave each list.

"What it would take" is given in the criterion's own unit (percentage points, times the national
average) and, when the person-level support counts of `boligmix.indicators` are present
(`n_18_64`, `n_30_59`, `n_18plus`, `national_conviction_pct`, `region_mean_income`, ...), in
persons, full-time equivalents or DKK. For a window-averaged criterion these counts are the
window averages, so the person figures are the change needed in the averaged quantities.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from boligmix.lists.classify import KEY, Classification, category_condition
from boligmix.lists.leave import leave_plan
from boligmix.lists.ruleset import OUTPUT_FLAGS, Category, Criterion, RuleSet, load_ruleset
from boligmix.lists.texts import (
    CHANGE_UNITS, LANGS, LOWER_HIGHER, UNIT_CHANGE_NAMES, WORDS, Lang, change_text, value_with_limit,
)
from boligmix.rules.evaluator import Truth, evaluate, evaluate_frame

CRITERIA_COLUMNS: tuple[str, ...] = (
    "area_id", "year", "rules", "criterion", "label_da", "label_en", "field", "value", "op", "threshold",
    "unit", "average_years", "counted", "met", "margin", "direction", "qualifier", "to_cross",
    "to_cross_unit", "to_cross_text_da", "to_cross_text_en", "to_cross_text",
)
"""One row per area, list year and criterion of the version used. `to_cross_text` is the English
text (`to_cross_text_en`), kept for existing readers; `to_cross_unit` is English."""


# Persons (or DKK) per one unit of the criterion's value, and the support columns that needs.
_PER_UNIT: dict[str, tuple[pl.Expr, tuple[str, ...]]] = {
    "residents": (pl.lit(1.0), ("residents",)),
    "pct_non_western": (pl.col("residents") / 100, ("residents",)),
    "pct_outside_work_edu": (pl.col("n_18_64") / 100, ("n_18_64",)),
    "pct_convicted": (pl.col("n_18plus") / 100, ("n_18plus",)),
    "conviction_ratio": (pl.col("national_conviction_pct") * pl.col("n_18plus") / 100,
                         ("national_conviction_pct", "n_18plus")),
    "pct_basic_education": (pl.col("n_30_59") / 100, ("n_30_59",)),
    "income_pct_of_region": (pl.col("region_mean_income") / 100, ("region_mean_income",)),
}
_SUPPORT_FIELDS = ("n_18_64", "n_18plus", "national_conviction_pct", "n_30_59", "region_mean_income")


def person_scale(field: str) -> tuple[pl.Expr, tuple[str, ...]]:
    """Persons (FTE, DKK) per one unit of `field`'s value and the support columns that needs: the
    scale of `to_cross` (for the monitor's margins in persons)."""
    return _PER_UNIT[field]


def uses_person_units(frame: pl.DataFrame, field: str) -> bool:
    """Can the distance to a threshold on `field` be given in persons/FTE/DKK for this frame?

    It needs the indicators' support counts (support fields other than `residents` only come from
    boligmix.indicators, never from AREAS.csv)."""
    _, support = _PER_UNIT[field]
    return field in frame.columns and all(c in frame.columns for c in support) and (
        field == "residents" or any(c in frame.columns for c in _SUPPORT_FIELDS))


def change_units(criterion: Criterion, person: bool, lang: Lang) -> tuple[str, str, str]:
    """(kind, text when the value goes down, text when it goes up) for `criterion` in `lang`."""
    if person:
        return CHANGE_UNITS[lang][criterion.field]
    name = UNIT_CHANGE_NAMES[lang].get(criterion.unit, criterion.unit)
    lower, higher = LOWER_HIGHER[lang]
    return "unit", f"{name} {lower}", f"{name} {higher}"


def _criterion_rows(frame: pl.DataFrame, ruleset: RuleSet, criterion: Criterion) -> pl.DataFrame:
    present = criterion.field in frame.columns
    value = pl.col(criterion.field).cast(pl.Float64).fill_nan(None) if present else pl.lit(None, pl.Float64)
    t = float(criterion.threshold)
    met = evaluate_frame(ruleset.conditions[criterion.id], frame)
    # A criterion "value > T" or "value >= T" that holds must go down to stop holding; one that
    # does not hold must go up to hold; "value < T" the other way round.
    goes_down = met if criterion.op != "<" else ~met
    # Is reaching the threshold exactly enough ("at least") or must it pass it ("more than")?
    target_inclusive = pl.when(pl.col("met")).then(pl.lit(criterion.op in (">", "<"))).otherwise(
        pl.lit(criterion.op == ">="))
    per_unit, _ = _PER_UNIT[criterion.field]
    person = uses_person_units(frame, criterion.field)
    amount = (value - t).abs() * per_unit if person else (value - t).abs()
    kind, down, up = change_units(criterion, person, "en")
    out = frame.select(*KEY, "rules").with_columns(
        pl.lit(criterion.id).alias("criterion"), pl.lit(criterion.label_da).alias("label_da"),
        pl.lit(criterion.label_en).alias("label_en"), pl.lit(criterion.field).alias("field"),
        frame.select(value.alias("value")).to_series(),
        pl.lit(criterion.op).alias("op"), pl.lit(t).alias("threshold"), pl.lit(criterion.unit).alias("unit"),
        pl.lit(criterion.average_years).alias("average_years"),
        pl.lit(criterion.id in ruleset.spec.counted_criteria).alias("counted"),
        met.alias("met"), goes_down.alias("_down"),
        frame.select(amount.alias("to_cross")).to_series(),
    ).with_columns(
        (pl.col("value") - pl.col("threshold")).alias("margin"),
        pl.when(pl.col("met")).then(pl.lit("to_stop_meeting")).when(~pl.col("met")).then(pl.lit("to_meet"))
        .alias("direction"),
        pl.when(pl.col("met").is_not_null()).then(
            pl.when(target_inclusive).then(pl.lit("at least")).otherwise(pl.lit("more than"))).alias("qualifier"),
        pl.when(pl.col("_down")).then(pl.lit(down)).when(~pl.col("_down")).then(pl.lit(up)).alias("to_cross_unit"),
    )
    texts: dict[str, list[str | None]] = {}
    for lang in LANGS:
        _, down_l, up_l = change_units(criterion, person, lang)
        texts[lang] = [change_text(q, a, kind, None if d is None else down_l if d else up_l, lang)
                       for q, a, d in zip(out.get_column("qualifier"), out.get_column("to_cross"),
                                          out.get_column("_down"))]
    return out.with_columns(
        pl.Series("to_cross_text_da", texts["da"], dtype=pl.String),
        pl.Series("to_cross_text_en", texts["en"], dtype=pl.String),
        pl.Series("to_cross_text", texts["en"], dtype=pl.String),
    ).select(CRITERIA_COLUMNS)


def criteria_table(indicators: pl.DataFrame, classification: Classification,
                   year: int | Sequence[int] | None = None) -> pl.DataFrame:
    """Every criterion of the version used, per area and list year (`year`: keep just that year
    or those years)."""
    rules = classification.frame.select(*KEY, "rules")
    frame = indicators.join(rules, on=list(KEY), how="inner")
    if isinstance(year, int):
        frame = frame.filter(pl.col("year") == year)
    elif year is not None:
        frame = frame.filter(pl.col("year").is_in(list(year)))
    parts = []
    for version in sorted(frame.get_column("rules").unique().to_list()):
        ruleset = classification.ruleset(version)
        sub = frame.filter(pl.col("rules") == version)
        parts.extend(_criterion_rows(sub, ruleset, c) for c in ruleset.spec.criteria)
    if not parts:
        return pl.DataFrame(schema={c: pl.String for c in CRITERIA_COLUMNS})
    return pl.concat(parts, how="vertical_relaxed").sort("area_id", "year", maintain_order=True)


# ------------------------------------------------------------------------------ history and exits

def history_status(classification: Classification, history: pl.DataFrame | None) -> pl.DataFrame:
    """(area_id, year, parallelsamfund, source): published where the history covers, else computed."""
    own = classification.frame.select(*KEY, "parallelsamfund").with_columns(pl.lit("computed").alias("source"))
    if history is None:
        return own
    published = history.select(*KEY, pl.col("parallelsamfund").cast(pl.Boolean)).with_columns(
        pl.lit("published").alias("source"))
    return pl.concat([published, own.join(published.select(KEY), on=list(KEY), how="anti")])


def _exit_year(ruleset: RuleSet, category: Category, met: Mapping[str, bool | None], year: int) -> int | None:
    """Earliest list year by which the area is sure to be off `category` if every criterion it
    now meets stops holding in register data not yet used: a point-in-time criterion clears in
    the next list (year + 1), an N-year average only once its whole window is new (year + N)."""
    def clear(cid: str) -> int | None:
        if cid == "residents" or not met.get(cid):
            return None  # not met now (or a gate that is not an indicator): nothing to clear
        return year + ruleset.criterion(cid).average_years

    options: list[int] = []
    if category.parent is not None:
        parent = _exit_year(ruleset, ruleset.category(category.parent), met, year)
        if parent is not None:
            options.append(parent)
    options.extend(y for y in (clear(cid) for cid in category.requires) if y is not None)
    if category.at_least is not None:
        clears = sorted(y for y in (clear(cid) for cid in category.of) if y is not None)
        need = len(clears) - category.at_least + 1
        if need >= 1 and len(clears) >= need:
            options.append(clears[need - 1])
    return min(options) if options else None


def _counting_category(ruleset: RuleSet, flag: str) -> Category | None:
    """The category whose "at least N of M" decides list `flag` (itself, its parent, or the list
    its history rule is about: udsat for parallelsamfund and omdannelse)."""
    category = ruleset.category_for_output(flag)
    seen = set()
    while category is not None and category.at_least is None and category.id not in seen:
        seen.add(category.id)
        if category.parent is not None:
            category = ruleset.category(category.parent)
        elif category.history is not None:
            category = ruleset.category_for_output(category.history.output)
        else:
            return None
    return category


def area_summaries(classification: Classification, year: int, history: pl.DataFrame | None = None,
                   criteria: pl.DataFrame | None = None) -> list[dict[str, Any]]:
    """Per area on list year `year`: flags, list history, years to/until omdannelse, exit years."""
    result = classification.frame.filter(pl.col("year") == year)
    status_by_area: dict[str, dict[int, dict[str, Any]]] = {}
    for r in history_status(classification, history).filter(
            pl.col("year").is_between(year - 9, year)).to_dicts():
        status_by_area.setdefault(r["area_id"], {})[r["year"]] = r
    met_lookup: dict[str, dict[str, bool | None]] = {}
    facts_lookup: dict[str, dict[str, Any]] = {}
    rows_lookup: dict[str, dict[str, dict[str, Any]]] = {}
    if criteria is not None:
        for r in criteria.filter(pl.col("year") == year).iter_rows(named=True):
            met_lookup.setdefault(r["area_id"], {})[r["criterion"]] = r["met"]
            facts_lookup.setdefault(r["area_id"], {})[r["field"]] = r["value"]
            rows_lookup.setdefault(r["area_id"], {})[r["criterion"]] = r
    summaries = []
    for row in result.to_dicts():
        ruleset = classification.ruleset(row["rules"])
        switches = classification.provenance.get("switches", {}).get(row["rules"], {})
        omdannelse = ruleset.category_for_output("omdannelse")
        n_years = ruleset.history_years(omdannelse, {**{k: s.default for k, s in ruleset.spec.switches.items()},
                                                      **switches}) if omdannelse is not None else None
        span = n_years or 5
        past = status_by_area.get(row["area_id"], {})
        hist = [{"year": y, "parallelsamfund": past[y]["parallelsamfund"] if y in past else False,
                 "source": past[y]["source"] if y in past else "none"} for y in range(year - span + 1, year + 1)]
        run = 0
        for entry in reversed(hist):
            if entry["parallelsamfund"] is not True:
                break
            run += 1
        met = met_lookup.get(row["area_id"], {})
        exits = {}
        for flag in OUTPUT_FLAGS:
            category = ruleset.category_for_output(flag)
            if category is not None and row[flag]:
                exits[flag] = _exit_year(ruleset, category if category.history is None else
                                         ruleset.category(category.parent), met, year)
        excluded = {}
        for category in ruleset.spec.categories:
            unless = category.unless
            if (unless is not None and unless.switch is not None and switches.get(unless.switch)
                    and row[unless.output] and not row[category.output] and row["area_id"] in facts_lookup):
                alone = category_condition(ruleset, category, {**switches, unless.switch: False})
                if evaluate(alone, facts_lookup[row["area_id"]]) is Truth.TRUE:
                    excluded[category.output] = unless.output
        counts = {}
        for flag in OUTPUT_FLAGS:
            counted = _counting_category(ruleset, flag)
            if counted is not None and row["area_id"] in met_lookup:
                counts[flag] = {"met": sum(met_lookup[row["area_id"]].get(c) is True for c in counted.of),
                                "of": len(counted.of), "at_least": counted.at_least}
        to_leave = ({flag: leave_plan(ruleset, flag, rows_lookup[row["area_id"]], year, n_years)
                     for flag in OUTPUT_FLAGS if row[flag]} if row["area_id"] in rows_lookup else {})
        summary = {
            "area_id": row["area_id"], "year": year, "rules": row["rules"],
            "criteria_met": row["criteria_met"], "criteria_unknown": row["criteria_unknown"],
            **{flag: row[flag] for flag in OUTPUT_FLAGS},
            "history": hist,
            "consecutive_parallelsamfund_years": run if n_years is not None else None,
            "omdannelse_years_required": n_years,
            "years_to_omdannelse": (max(n_years - run, 0) if row["parallelsamfund"] and not row["omdannelse"]
                                    else 0 if row["omdannelse"] else None) if n_years is not None else None,
            "earliest_exit_year": exits,
            "excluded_by": excluded,
            "years_until_leave_omdannelse": (exits["omdannelse"] - year
                                             if row["omdannelse"] and exits.get("omdannelse") else None),
            "to_leave": to_leave,
            "criteria_met_by_list": counts,
        }
        summaries.append(summary)
    return summaries


def criteria_by_area(criteria: pl.DataFrame, year: int) -> dict[str, list[dict[str, Any]]]:
    """The criteria rows of one list year grouped by area (input order kept)."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    for r in criteria.filter(pl.col("year") == year).to_dicts():
        grouped.setdefault(r["area_id"], []).append(r)
    return grouped


def criterion_lists(ruleset: RuleSet) -> dict[str, str]:
    """Criterion id -> the list (category label) whose test names it first: the udsat criteria go
    with udsat boligområde, the lower ones with forebyggelsesområde (the 1,000-residents floor with
    the first list)."""
    out: dict[str, str] = {}
    for category in ruleset.spec.categories:
        for cid in (*category.requires, *(category.of or ())):
            out.setdefault(cid, category.label_da)
    return out


def counted_list_label(ruleset: RuleSet) -> str:
    """The list whose criteria `criteria_met` counts: the category that needs `at_least` N of the
    counted criteria (udsat boligområde; ghettoområde before 2021)."""
    counted = set(ruleset.spec.counted_criteria)
    for category in ruleset.spec.categories:
        if category.at_least is not None and set(category.of) == counted:
            return category.label_da
    return ", ".join(ruleset.spec.counted_criteria)


def _label(ruleset: RuleSet, flag: str) -> str:
    category = ruleset.category_for_output(flag)
    return category.label_da if category is not None else flag


def explain_text(summary: Mapping[str, Any], criteria: pl.DataFrame | list[dict[str, Any]],
                 ruleset: RuleSet | None = None, lang: Lang = "da") -> str:
    """A short human-readable explanation of one area in one list year, in Danish (`lang="da"`,
    decimal comma) or English (`"en"`). Danish legal terms stay Danish in both.

    `criteria` is the criteria table, or this area's rows of it (see `criteria_by_area`);
    `ruleset` the rule set used (default: the built-in one of `summary['rules']`)."""
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}, got {lang!r}")
    w = WORDS[lang]
    rs = ruleset or load_ruleset(summary["rules"])
    on = [_label(rs, f) for f in OUTPUT_FLAGS if summary[f] and rs.category_for_output(f) is not None]
    name = ", ".join(str(v) for v in (summary.get("area_name"), summary.get("municipality")) if v)
    area = f"{summary['area_id']} {name}" if name else summary["area_id"]
    lines = [w["head"].format(area=area, year=summary["year"], rules=summary["rules"],
                              lists=", ".join(on) if on else w["no_list"], met=summary["criteria_met"],
                              n=len(rs.spec.counted_criteria), counted=counted_list_label(rs))]
    if isinstance(criteria, pl.DataFrame):
        rows = criteria.filter((pl.col("area_id") == summary["area_id"])
                               & (pl.col("year") == summary["year"])).to_dicts()
    else:
        rows = criteria
    for r in rows:
        state = {True: w["met"], False: w["not_met"], None: w["unknown"]}[r["met"]]
        shown = value_with_limit(r["value"], r["op"], r["threshold"], r["unit"], lang, w["missing"])
        cross = r.get(f"to_cross_text_{lang}") or (r.get("to_cross_text") if lang == "en" else None)
        action = f"; {w['to_stop'] if r['met'] else w['to_meet']}: {cross}" if cross else ""
        label = r["label_da"] if lang == "da" else r["label_en"]
        lines.append(f"  - {label}: {shown} \u2014 {state}{action}")
    if summary.get("omdannelse_years_required"):
        lines.append(f"  {w['history']}: " + ", ".join(
            f"{h['year']}: {w['yes'] if h['parallelsamfund'] else w['no'] if h['parallelsamfund'] is False else '?'}"
            f" ({w[h['source']]})" for h in summary["history"]))
        if summary["parallelsamfund"] and not summary["omdannelse"]:
            lines.append("  " + w["becomes"].format(label=_label(rs, "omdannelse"), n=summary["years_to_omdannelse"]))
    for flag, other in summary.get("excluded_by", {}).items():
        if lang == "en":
            lines.append("  " + w["excluded"].format(flag=flag, other=other))
        else:
            lines.append("  " + w["excluded"].format(flag=_label(rs, flag), other=_label(rs, other)))
    for flag, exit_year in summary["earliest_exit_year"].items():
        if exit_year is not None:
            lines.append("  " + w["exit"].format(flag=flag if lang == "en" else _label(rs, flag), year=exit_year))
    for flag, plan in summary.get("to_leave", {}).items():
        lines.append("  " + (plan[f"text_{lang}"] if plan is not None
                             else w["cannot_leave"].format(label=_label(rs, flag))))
    return "\n".join(lines)


__all__ = ["CRITERIA_COLUMNS", "area_summaries", "person_scale", "criteria_by_area", "criteria_table", "explain_text",
           "history_status"]
