"""Lists from person-level data: indicators (boligmix.indicators) -> classification -> explanations.

`compute_lists(dataset, year)` computes the indicators for the list year and the earlier list
years the history rules look back over (as far as the dataset's register years reach), classifies
them, and explains the list year. `write_lists(out_dir, result)` writes the result directory
atomically:

    lists.csv        every computed list year: area_id,year,rules,criteria_met,udsat,parallelsamfund,
                     omdannelse,forebyggelse (0/1, empty when missing indicators leave it undecided),
                     history_missing (look-back years neither computed nor in --history)
    criteria.csv     the list year: per area and criterion value, threshold, met, margin, what it
                     would take to cross it (see boligmix.lists.explain.CRITERIA_COLUMNS), and the
                     counts behind the value (`count`, `base`)
    indicators.csv   the indicator frame used (all computed years)
    areas.json       the list year: per area flags, list history, years to/until omdannelse,
                     earliest exit year per list, and a text explanation

Every file is publishable: criteria.csv and indicators.csv pass disclosure control
(`boligmix.report.disclosure`; suppressed cells are empty and the `suppressed` column says why),
and the explanations in areas.json are written from the protected criteria. The flags themselves
are computed from the exact values.
    provenance.json  rule versions and hashes, switches, indicator settings, data vintage and seed
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from boligmix.data.io import read_manifest, staged_dir
from boligmix.errors import ConfigurationError, DatasetError
from boligmix.indicators.publish import protect_indicators
from boligmix.lists.classify import Classification, classify, history_missing_text
from boligmix.lists.publish import protect_criteria
from boligmix.lists.explain import area_summaries, criteria_by_area, criteria_table, explain_text
from boligmix.lists.ruleset import OUTPUT_FLAGS, RuleSet, load_ruleset, resolve_rules, version_for_year

Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class ListsResult:
    """`year` is the newest explained list year, `years` all explained list years (ascending);
    `criteria` and `areas` cover `years`, `classification` every computed year."""

    year: int
    indicators: pl.DataFrame
    classification: Classification
    criteria: pl.DataFrame
    areas: list[dict[str, Any]]
    provenance: dict[str, Any]
    years: tuple[int, ...] = ()


def list_years_arg(years: int | Sequence[int]) -> list[int]:
    """One list year or several, as a sorted list without repeats (at least one)."""
    out = sorted({int(years)} if isinstance(years, int) else {int(y) for y in years})
    if not out:
        raise ConfigurationError("no list years given", field="years")
    return out


def lookback_years(year: int, rules: str | RuleSet = "auto") -> int:
    """How many list years (incl. `year`) the history rules of `year`'s version can look at."""
    rules = resolve_rules(rules)
    ruleset = rules if isinstance(rules, RuleSet) else load_ruleset(
        version_for_year(year) if rules == "auto" else rules)
    spans = [1]
    for cat in ruleset.spec.categories:
        if cat.history is not None:
            if cat.history.years is not None:
                spans.append(cat.history.years)
            else:
                switch = ruleset.spec.switches[cat.history.years_switch]  # type: ignore[index]
                spans.append(max(int(v) for v in (switch.allowed or (switch.default,))))
    return max(spans)


def _feasible(year: int, available: set[int]) -> bool:
    from boligmix.indicators import settings_for_list_year

    try:
        settings = settings_for_list_year(year)
    except ConfigurationError:
        return False
    needed = {*settings.window(year), settings.education_year(year), settings.income_year(year)}
    return needed <= available


def lists_from_indicators(indicators: pl.DataFrame, year: int | Sequence[int], *, rules: str | RuleSet = "auto",
                          history: pl.DataFrame | None = None, switches: Mapping[str, Any] | None = None,
                          data_vintage: str | None = None) -> ListsResult:
    """Classify an indicator frame (AREAS columns, optionally support counts) and explain the list
    year(s) `year` (one year or several: one classification, criteria and areas for each).

    `rules`: 'auto', a built-in version, the path of a rule-set YAML file, or a RuleSet."""
    rules = resolve_rules(rules)
    years = list_years_arg(year)
    present = set(indicators.get_column("year").unique().to_list())
    absent = [y for y in years if y not in present]
    if absent:
        raise DatasetError(f"no areas with residents in list year {', '.join(map(str, absent))}")
    classification = classify(indicators, rules=rules, history=history, switches=switches,
                              data_vintage=data_vintage)
    criteria = criteria_table(indicators, classification, years[0] if len(years) == 1 else years)
    published = protect_criteria(criteria, indicators).frame  # explanations show only publishable values
    summaries = []
    names = area_names(indicators)
    for y in years:
        grouped = criteria_by_area(published, y)
        for s in area_summaries(classification, y, history, published):
            s["area_name"], s["municipality"] = names.get(s["area_id"], (None, None))
            rows, ruleset = grouped.get(s["area_id"], []), classification.ruleset(s["rules"])
            s["explanation_da"] = explain_text(s, rows, ruleset, lang="da")
            s["explanation_en"] = explain_text(s, rows, ruleset, lang="en")
            s["explanation"] = s["explanation_en"]  # the English text under its old name, for existing readers
            summaries.append(s)
    provenance = {**classification.provenance, "list_year": years[-1], "list_years": years,
                  "years_computed": sorted(present)}
    return ListsResult(years[-1], indicators, classification, criteria, summaries, provenance, tuple(years))


NAME_COLUMNS = ("area_name", "municipality")
"""Written beside `area_id` in every lists output when the input has them (datasets always do;
AREAS.csv may)."""


def area_names(frame: pl.DataFrame) -> dict[str, tuple[str | None, str | None]]:
    """area_id -> (area name, municipality name) from the columns of `frame` that hold them."""
    if not any(c in frame.columns for c in NAME_COLUMNS):
        return {}
    cols = [pl.col(c) if c in frame.columns else pl.lit(None, dtype=pl.String).alias(c) for c in NAME_COLUMNS]
    return {r[0]: (r[1], r[2]) for r in frame.select("area_id", *cols).unique("area_id").iter_rows()}


def with_names(frame: pl.DataFrame, names: dict[str, tuple[str | None, str | None]]) -> pl.DataFrame:
    """`frame` with area_name and municipality right after area_id (unchanged when no names are known)."""
    if not names or "area_id" not in frame.columns:
        return frame
    lookup = pl.DataFrame({"area_id": list(names), "area_name": [v[0] for v in names.values()],
                           "municipality": [v[1] for v in names.values()]},
                          schema={"area_id": pl.String, "area_name": pl.String, "municipality": pl.String})
    rest = [c for c in frame.columns if c not in ("area_id", *NAME_COLUMNS)]
    return frame.drop([c for c in NAME_COLUMNS if c in frame.columns]).join(
        lookup, on="area_id", how="left", maintain_order="left").select("area_id", *NAME_COLUMNS, *rest)


def dataset_area_names(dataset_dir: str | os.PathLike[str]) -> pl.DataFrame:
    """area_id, area_name, municipality (name) from a dataset's areas and municipalities tables."""
    from boligmix.data.io import read_table

    areas = read_table(dataset_dir, "areas", ["area_id", "area_name", "municipality_code"])
    municipalities = read_table(dataset_dir, "municipalities", ["municipality_code", "municipality_name"])
    return (areas.join(municipalities, on="municipality_code", how="left")
            .select("area_id", "area_name", pl.col("municipality_name").alias("municipality")))


def indicator_years(list_years: Sequence[int], available: set[int] | None, rules: str | RuleSet = "auto") -> list[int]:
    """The list years to compute indicators for: the requested ones, plus the earlier years each
    one's history rules look back over whose register years are `available` (None: unknown)."""
    wanted = set(list_years)
    if available is not None:
        for y in list_years:
            wanted |= {b for b in range(y - lookback_years(y, rules) + 1, y) if _feasible(b, available)}
    return sorted(wanted)


def compute_lists(dataset_dir: str | os.PathLike[str], year: int | Sequence[int], *, rules: str | RuleSet = "auto",
                  history: pl.DataFrame | None = None, switches: Mapping[str, Any] | None = None,
                  on_progress: Progress | None = None) -> ListsResult:
    """Lists from a dataset for one list year or several (e.g. `range(2018, 2025)`).

    The indicators of all the requested years and of the earlier years their history rules need
    are computed in one `compute_area_indicators` pass, then classified once."""
    from boligmix.indicators import compute_area_indicators

    manifest = read_manifest(dataset_dir)
    rules = resolve_rules(rules)
    years = list_years_arg(year)
    available = set(range(manifest.years[0], manifest.years[1] + 1)) if manifest.years is not None else None
    indicators = compute_area_indicators(dataset_dir, indicator_years(years, available, rules),
                                         on_progress=on_progress)
    indicators = indicators.join(dataset_area_names(dataset_dir), on="area_id", how="left", maintain_order="left")
    result = lists_from_indicators(indicators, years, rules=rules, history=history, switches=switches,
                                   data_vintage=manifest.vintage)
    settings = {}
    for column in ("register_years", "rules_basis", "country_nomenclature"):
        if column in indicators.columns:
            settings[column] = dict(indicators.group_by("year").agg(pl.col(column).first()).sort("year").iter_rows())
    result.provenance.update({"dataset": str(dataset_dir), "data_vintage": manifest.vintage,
                              "seed": manifest.seed, "schema_version": manifest.schema_version,
                              "indicator_settings": settings})
    return result


def write_lists(out_dir: str | os.PathLike[str], result: ListsResult, *, overwrite: bool = False) -> Path:
    """Write the result directory atomically (staged, then renamed into place)."""
    target = Path(out_dir)
    with staged_dir(target, overwrite=overwrite) as staging:
        flags = result.classification.frame.select(
            "area_id", "year", "rules", "criteria_met", *[pl.col(f).cast(pl.Int8) for f in OUTPUT_FLAGS],
            history_missing_text())
        names = area_names(result.indicators)
        with_names(flags, names).write_csv(staging / "lists.csv")
        with_names(protect_criteria(result.criteria, result.indicators).frame, names).write_csv(
            staging / "criteria.csv")
        with_names(protect_indicators(result.indicators).frame, names).write_csv(staging / "indicators.csv")
        (staging / "areas.json").write_text(json.dumps(result.areas, indent=2, ensure_ascii=False, default=str),
                                            encoding="utf-8")
        (staging / "provenance.json").write_text(
            json.dumps(result.provenance, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    return target


__all__ = ["ListsResult", "compute_lists", "feasible_list_years", "indicator_years", "list_years_arg",
           "lists_from_indicators", "lookback_years", "write_lists"]


def feasible_list_years(dataset_dir: str | os.PathLike[str], years: Sequence[int]) -> list[int]:
    """The list years among `years` whose register years the dataset holds (by its manifest)."""
    manifest = read_manifest(dataset_dir)
    if manifest.years is None:
        return sorted(set(years))
    available = set(range(manifest.years[0], manifest.years[1] + 1))
    return [y for y in sorted(set(years)) if _feasible(y, available)]
