"""Vectorised classification of areas x list years under the 2010/2013/2018/2021 rule sets.

Each category of a rule set is compiled into one evaluator condition (parent category, required
criteria, `at_least N of` criteria, and the exclusion when its switch is on) and evaluated with
`evaluate_frame` on all rows of that version at once. Categories that need list history
(hårdt ghettoområde, omdannelsesområde) then look at the history list in each of the N most
recent list years Y-N+1..Y: year Y is this run's result; each earlier year is taken from the
published history when it covers (area, year), else from this run's own result for that year,
else the area counts as not on the list.

Results are three-valued: a flag is null when missing indicators leave it undecided.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import polars as pl

from boligmix.errors import ConfigurationError, DataValidationError
from boligmix.rules.area_lists import (
    AREA_FIELDS,
    BUILTIN_VERSIONS,
    OUTPUT_FLAGS,
    Category,
    RuleSet,
    category_condition,
    category_condition_data,
    load_ruleset,
    resolve_rules,
    version_for_year,
)
from boligmix.rules.evaluator import condition_fields, evaluate_frame

KEY = ("area_id", "year")


def required_fields(ruleset: RuleSet) -> tuple[str, ...]:
    """The indicator fields a rule set reads, in AREAS.csv column order."""
    used = frozenset().union(*(condition_fields(c) for c in ruleset.conditions.values()))
    return tuple(f for f in AREA_FIELDS if f in used)


@dataclass(frozen=True)
class Classification:
    """Per (area, year): rule version, criteria met, and the four list flags (null = undecided).

    `frame` columns: area_id, year, rules, criteria_met, criteria_unknown, udsat,
    parallelsamfund, omdannelse, forebyggelse, history_missing (the look-back years of a history
    rule that neither the published history nor this run covers, counted as "not on the list";
    filled only where this year's test holds or is undecided, i.e. where the missing years decide).
    `provenance` records rule versions (with file hashes), switches in effect, data vintage,
    history source and `history_incomplete`: the rows whose history list decision rests on
    missing years (the current-year test holds, some look-back years are missing).
    """

    frame: pl.DataFrame
    provenance: dict[str, Any] = field(default_factory=dict)
    rulesets: dict[str, RuleSet] = field(default_factory=dict)
    """The rule sets used, by the version written in the `rules` column."""

    def ruleset(self, version: str) -> RuleSet:
        return self.rulesets[version] if version in self.rulesets else load_ruleset(version)

    def as_flags(self) -> pl.DataFrame:
        """The OUT.csv shape: flags as 0/1 integers (requires every flag to be decided)."""
        undecided = self.frame.filter(pl.any_horizontal([pl.col(f).is_null() for f in OUTPUT_FLAGS]))
        if undecided.height:
            row = undecided.row(0, named=True)
            raise DataValidationError(
                f"area {row['area_id']} year {row['year']}: a list flag is undecided because indicators "
                "are missing", column=next(f for f in OUTPUT_FLAGS if row[f] is None))
        return self.frame.select(
            "area_id", "year", "rules", "criteria_met", *[pl.col(f).cast(pl.Int8) for f in OUTPUT_FLAGS],
            history_missing_text())

    def history_warning(self) -> str | None:
        """Warnings about the history input, one paragraph each, or None: --history areas that are
        not in the input, and areas whose history-list result (omdannelse, hårdt ghettoområde) was
        decided with look-back years missing from the input."""
        texts = []
        unknown = self.provenance.get("history_unknown_areas") or []
        if unknown:
            texts.append(f"warning: --history names {len(unknown)} area(s) that are not in the input, and they "
                         f"are ignored: {', '.join(unknown[:20])}{' ...' if len(unknown) > 20 else ''} "
                         "(check the area ids: same spelling, leading zeros)")
        rows = self.provenance.get("history_incomplete") or []
        if rows:
            texts.append(self._incomplete_text(rows))
        return "\n".join(texts) or None

    @staticmethod
    def _incomplete_text(rows: list[dict[str, Any]]) -> str:
        shown = "; ".join(f"{r['area_id']} {r['year']} ({r['list']}: {', '.join(map(str, r['missing_years']))} "
                          "missing)" for r in rows[:10])
        more = f" and {len(rows) - 10} more" if len(rows) > 10 else ""
        return (f"warning: {len(rows)} area-year(s) meet this year's test of a list that needs earlier years, "
                f"but those years are neither in the input nor in --history, so they count as 'not on the "
                f"list': {shown}{more}. Add the earlier years (or --history) to decide them; see the "
                "history_missing column.")


def history_missing_text() -> pl.Expr:
    """`history_missing` as text for CSV files: the missing years comma-separated, empty when none."""
    return (pl.when(pl.col("history_missing").list.len() > 0)
            .then(pl.col("history_missing").cast(pl.List(pl.String)).list.join(","))
            .otherwise(pl.lit(None, dtype=pl.String)).alias("history_missing"))


def _resolve_rulesets(rules: str | RuleSet, years: list[int]) -> dict[int, RuleSet]:
    rules = resolve_rules(rules)
    if isinstance(rules, RuleSet):
        return {y: rules for y in years}
    if rules == "auto":
        return {y: load_ruleset(version_for_year(y)) for y in years}
    if rules not in BUILTIN_VERSIONS:
        raise ConfigurationError(f"unknown rule version '{rules}'; use auto or one of "
                                 f"{', '.join(BUILTIN_VERSIONS)}", field="rules")
    ruleset = load_ruleset(rules)
    return {y: ruleset for y in years}


def _switches_per_ruleset(rulesets: list[RuleSet], overrides: Mapping[str, Any]) -> dict[str, dict]:
    unknown = [n for n in overrides if not any(n in r.spec.switches for r in rulesets)]
    if unknown:
        known = sorted({n for r in rulesets for n in r.spec.switches})
        raise ConfigurationError(f"no rule set used here has the switch '{unknown[0]}'; switches: "
                                 f"{', '.join(known) or 'none'}", field=unknown[0])
    return {r.version: r.switch_values({k: v for k, v in overrides.items() if k in r.spec.switches})
            for r in rulesets}


def _check_frame(areas: pl.DataFrame, needed: dict[str, tuple[str, ...]]) -> None:
    for col in KEY:
        if col not in areas.columns:
            raise DataValidationError("missing column", column=col)
    for version, fields in needed.items():
        for f in fields:
            if f not in areas.columns:
                raise DataValidationError(f"missing column (rules {version} need it)", column=f)
            if not areas.schema[f].is_numeric() and areas.schema[f] != pl.Null:
                raise DataValidationError(f"must be numeric, is {areas.schema[f]}", column=f)
    repeated = ~areas.select(pl.struct(KEY).is_first_distinct()).to_series()
    if repeated.any():
        row = int(repeated.arg_true()[0]) + 1
        raise DataValidationError("duplicate (area_id, year)", row=row, column="area_id,year")


def _history_status(results: pl.DataFrame, output: str, history: pl.DataFrame | None) -> pl.DataFrame:
    """(area_id, year, on_list): published history where it covers, else this run's result."""
    own = results.select(*KEY, pl.col(output).alias("on_list"))
    if history is None or output not in history.columns:
        return own
    published = history.select(*KEY, pl.col(output).cast(pl.Boolean).alias("on_list"))
    own_only = own.join(published.select(KEY), on=list(KEY), how="anti")
    return pl.concat([published, own_only], how="vertical")


def _window(targets: pl.DataFrame, status: pl.DataFrame, years: int) -> pl.DataFrame:
    """Kleene AND of the status in years Y-1..Y-years+1 for each target (area_id, year), and the
    look-back years neither the published history nor this run covers (`missing`, a sorted list)."""
    if years <= 1:
        return targets.select(*KEY, pl.lit(True).alias("window"),
                              pl.lit([], dtype=pl.List(pl.Int64)).alias("missing"))
    offsets = pl.DataFrame({"offset": list(range(1, years))}, schema={"offset": pl.Int64})
    lookups = (targets.select(KEY).join(offsets, how="cross")
               .with_columns((pl.col("year") - pl.col("offset")).alias("prev_year"))
               .join(status.rename({"year": "prev_year"}).with_columns(pl.lit(True).alias("covered")),
                     on=["area_id", "prev_year"], how="left")
               .with_columns(pl.when(pl.col("covered").is_null()).then(pl.lit(False))
                             .otherwise(pl.col("on_list")).alias("on_list")))
    return lookups.group_by(KEY).agg(
        pl.when((pl.col("on_list") == False).any()).then(pl.lit(False))  # noqa: E712
        .when(pl.col("on_list").is_null().any()).then(pl.lit(None, dtype=pl.Boolean))
        .otherwise(pl.lit(True)).alias("window"),
        pl.col("prev_year").filter(pl.col("covered").is_null()).sort().alias("missing"))


def classify(
    areas: pl.DataFrame,
    *,
    rules: str | RuleSet = "auto",
    history: pl.DataFrame | None = None,
    switches: Mapping[str, Any] | None = None,
    data_vintage: str | None = None,
    on_progress: Callable[[str, float], None] | None = None,
) -> Classification:
    """Classify every (area_id, year) row of `areas` (AREAS.csv columns).

    `rules` is 'auto' (by list year), a version ('2010', '2013', '2018', '2021') or a loaded
    `RuleSet`. `history` holds published list membership (area_id, year, parallelsamfund 0/1).
    `switches` overrides named switches of the rule sets used.
    """
    overrides = dict(switches or {})
    rules = resolve_rules(rules)
    for col in KEY:
        if col not in areas.columns:
            raise DataValidationError("missing column", column=col)
    if not areas.schema["year"].is_integer():
        raise DataValidationError(f"must hold integer years, is {areas.schema['year']}", column="year")
    areas = areas.with_columns(pl.col("area_id").cast(pl.String), pl.col("year").cast(pl.Int64))
    if history is not None:
        for col in (*KEY, "parallelsamfund"):
            if col not in history.columns:
                raise DataValidationError("history: missing column", column=col)
        history = history.with_columns(pl.col("area_id").cast(pl.String), pl.col("year").cast(pl.Int64))
    frame = areas.with_row_index("_row")
    years = sorted(int(y) for y in frame.get_column("year").unique().to_list()) if frame.height else []
    by_year = _resolve_rulesets(rules, years)
    used = {r.version: r for r in by_year.values()}
    switch_values = _switches_per_ruleset(list(used.values()) or
                                          ([load_ruleset(rules)] if isinstance(rules, str) and
                                           rules in BUILTIN_VERSIONS else []), overrides)
    year_version = pl.DataFrame({"year": years, "rules": [by_year[y].version for y in years]},
                                schema={"year": pl.Int64, "rules": pl.String})
    frame = frame.join(year_version, on="year", how="left")
    _check_frame(areas, {v: required_fields(r) for v, r in used.items()})

    parts: list[pl.DataFrame] = []
    history_jobs: list[tuple[RuleSet, Category]] = []
    for i, (version, ruleset) in enumerate(sorted(used.items())):
        if on_progress:
            on_progress(f"rules {version}", i / max(len(used), 1))
        sub = frame.filter(pl.col("rules") == version)
        sw = switch_values[version]
        counted = [evaluate_frame(ruleset.conditions[c], sub) for c in ruleset.spec.counted_criteria]
        cols: dict[str, pl.Series] = {}
        met = pl.DataFrame({f"c{i}": s for i, s in enumerate(counted)})
        cols["criteria_met"] = met.select(
            pl.sum_horizontal([pl.col(c).fill_null(False).cast(pl.Int32) for c in met.columns])).to_series()
        cols["criteria_unknown"] = met.select(
            pl.sum_horizontal([pl.col(c).is_null().cast(pl.Int32) for c in met.columns])).to_series()
        for cat in ruleset.spec.categories:
            cols[cat.output] = evaluate_frame(category_condition(ruleset, cat, sw), sub)
            if cat.history is not None:
                history_jobs.append((ruleset, cat))
        for flag in OUTPUT_FLAGS:
            cols.setdefault(flag, pl.Series([False] * sub.height, dtype=pl.Boolean))
        parts.append(sub.select("_row", *KEY, "rules").with_columns(
            *[s.alias(name) for name, s in cols.items()]))
    columns = ["_row", *KEY, "rules", "criteria_met", "criteria_unknown", *OUTPUT_FLAGS]
    if parts:
        result = pl.concat([p.select(columns) for p in parts], how="vertical")
    else:
        result = pl.DataFrame(schema={"_row": pl.UInt32, "area_id": frame.schema["area_id"],
                                      "year": frame.schema["year"], "rules": pl.String,
                                      "criteria_met": pl.Int32, "criteria_unknown": pl.Int32,
                                      **{f: pl.Boolean for f in OUTPUT_FLAGS}})

    # Phase B: history windows (the history list itself never depends on history; checked on load).
    result = result.with_columns(pl.lit([], dtype=pl.List(pl.Int64)).alias("history_missing"))
    incomplete: list[dict[str, Any]] = []
    for ruleset, cat in history_jobs:
        assert cat.history is not None
        n_years = ruleset.history_years(cat, switch_values[ruleset.version])
        status = _history_status(result, cat.history.output, history)
        targets = result.filter(pl.col("rules") == ruleset.version)
        window = _window(targets, status, n_years)
        joined = targets.join(window, on=list(KEY), how="left")
        incomplete += [{"area_id": r["area_id"], "year": r["year"], "list": cat.output,
                        "missing_years": r["missing"]}
                       for r in joined.filter(pl.col(cat.output).fill_null(True)
                                              & (pl.col("missing").list.len() > 0)).iter_rows(named=True)]
        updated = (joined.with_columns((pl.col(cat.output) & pl.col("window")).alias(cat.output),
                                       pl.when(pl.col(cat.output).fill_null(True))
                                       .then(pl.concat_list("history_missing", "missing").list.unique().list.sort())
                                       .otherwise(pl.col("history_missing")).alias("history_missing"))
                   .select("_row", cat.output, "history_missing"))
        result = result.update(updated, on="_row", include_nulls=True)
    result = result.sort("_row").drop("_row")
    if on_progress:
        on_progress("done", 1.0)
    provenance = {
        "rule_versions": {v: {"file": r.source, "sha256": r.sha256, "name": r.spec.name}
                          for v, r in sorted(used.items())},
        "rules_requested": rules.version if isinstance(rules, RuleSet) else rules,
        "switches": switch_values,
        "data_vintage": data_vintage,
        "history": "supplied" if history is not None else "none (earlier years from this run only)",
        "history_incomplete": incomplete,
        "history_unknown_areas": [] if history is None else sorted(
            set(history.get_column("area_id").to_list()) - set(areas.get_column("area_id").to_list())),
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    return Classification(frame=result, provenance=provenance, rulesets=dict(used))


__all__ = ["Classification", "category_condition", "category_condition_data", "classify",
           "required_fields"]
