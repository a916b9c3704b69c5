"""`boligmix rehouse caps`: how many rehoused households outside work each area can receive.

For every area with residents (also those below 1,000 residents, which the lists do not cover but
where new concentrations can arise too; seed 001), the cap is the number of households with
`outside_work = 1` the area can receive before its share of residents 18-64 outside work and
education reaches a list threshold minus `margin` percentage points:

    (p n / 100 + k a) / (n + k a) <= (T - margin) / 100   =>   k <= n (T - margin - p) / ((100 - T + margin) a)

with p the area's `pct_outside_work_edu` and n its residents 18-64 (boligmix.indicators), T the
threshold of each list's criterion on that indicator (read from the list rule set of the year:
forebyggelse 30 %, udsat 40 % under the 2021 rules; no threshold is copied here) and a the adults per
household (rules/plan/rehousing_2021.yaml). The cap is the smallest over the lists, never below 0.

The exact caps file is the planner's internal input to `boligmix rehouse` (`internal_frame` marks it);
the published one (`published_caps`) takes residents, residents 18-64 and the share from the
indicators as `indicators.publish.protect_indicators` publishes them, and leaves the cap blank where
those are blank (with the threshold and the share it would bound the residents 18-64).
"""

from __future__ import annotations

import math
import os
from typing import Any

import polars as pl

from boligmix.errors import ConfigurationError
from boligmix.indicators.publish import protect_indicators
from boligmix.lists.ruleset import RuleSet, load_ruleset, version_for_year
from boligmix.plan.rules import RuleFile, load_rehousing_rules
from boligmix.report.disclosure import SUPPRESSED_COLUMN, DisclosurePolicy

CAPS_COLUMNS = ("area_id", "max_outside_work", "area_name", "municipality_code", "residents", "adults_18_64",
                "pct_outside_work_edu", "threshold_pct", "margin_pp", "binding_list")


def list_thresholds(ruleset: RuleSet, lists: tuple[str, ...], field: str) -> dict[str, tuple[float, str]]:
    """list -> (threshold, operator) of the criterion on `field` that the list's category counts."""
    out: dict[str, tuple[float, str]] = {}
    for name in lists:
        category = ruleset.category_for_output(name)
        if category is None:
            continue
        for cid in (*category.requires, *category.of):
            criterion = ruleset.criterion(cid)
            if criterion.field == field:
                if criterion.op not in (">", ">="):
                    raise ConfigurationError(f"criterion {cid} on {field} must be '>' or '>=' to give a cap",
                                             source=ruleset.source, rule=cid, field="op")
                out[name] = (float(criterion.threshold), criterion.op)
    if not out:
        raise ConfigurationError(f"no list among {list(lists)} has a criterion on {field} in rules "
                                 f"{ruleset.version}", source=ruleset.source, field=field)
    return out


def cap_for(p: float | None, n: float | None, threshold: float, op: str, margin: float, adults: float) -> int:
    """Households outside work an area with share `p` % of `n` adults can receive (see module docstring)."""
    if p is None or n is None or n <= 0 or (isinstance(p, float) and math.isnan(p)):
        return 0
    limit = threshold - margin
    if limit >= 100:
        raise ConfigurationError("threshold minus margin must be below 100 %", field="margin")
    k = n * (limit - p) / ((100 - limit) * adults)
    if k < 0:
        return 0
    whole = math.floor(k + 1e-9)
    if op == ">=" and abs(k - whole) < 1e-9:
        whole -= 1  # reaching the limit exactly would meet an "at least" criterion
    return max(whole, 0)


def caps_from_indicators(indicators: pl.DataFrame, ruleset: RuleSet, margin: float, rules: RuleFile | None = None,
                         names: dict[str, str] | None = None) -> pl.DataFrame:
    """CAPS_COLUMNS for every row of an indicator frame of one list year."""
    rules = rules or load_rehousing_rules()
    spec = rules.spec.caps
    adults = float(spec.adults_per_household.default)
    thresholds = list_thresholds(ruleset, spec.lists, spec.field)
    rows: list[dict[str, Any]] = []
    for r in indicators.iter_rows(named=True):
        p, n = r.get(spec.field), r.get("n_18_64")
        per_list = {name: cap_for(p, n, t, op, margin, adults) for name, (t, op) in thresholds.items()}
        binding = min(per_list, key=lambda k: (per_list[k], thresholds[k][0]))
        rows.append({"area_id": r["area_id"], "max_outside_work": per_list[binding],
                     "area_name": (names or {}).get(r["area_id"]), "municipality_code": r.get("municipality_code"),
                     "residents": r.get("residents"), "adults_18_64": n, "pct_outside_work_edu": p,
                     "threshold_pct": thresholds[binding][0], "margin_pp": float(margin), "binding_list": binding})
    schema = {"area_id": pl.String, "max_outside_work": pl.Int64, "area_name": pl.String,
              "municipality_code": pl.Int64, "residents": pl.Int64, "adults_18_64": pl.Float64,
              "pct_outside_work_edu": pl.Float64, "threshold_pct": pl.Float64, "margin_pp": pl.Float64,
              "binding_list": pl.String}
    return pl.DataFrame(rows, schema=schema, orient="row").sort("area_id")


PUBLISHED_FROM_INDICATORS = {"residents": "residents", "n_18_64": "adults_18_64",
                             "pct_outside_work_edu": "pct_outside_work_edu"}
"""Indicator column -> caps column that the published caps take from the protected indicators."""


def published_caps(caps: pl.DataFrame, indicators: pl.DataFrame, policy: DisclosurePolicy | None = None) -> pl.DataFrame:
    """The caps as they may be published: residents, residents 18-64 and the share outside work as
    `protect_indicators` publishes them (the full-time count outside work protects the share), and the
    cap blank where the residents 18-64 or the share are; `suppressed` says why per row."""
    keep = ["area_id", *PUBLISHED_FROM_INDICATORS, *[c for c in ("fte_outside_18_64",) if c in indicators.columns]]
    protected = protect_indicators(indicators.select(keep), policy, name="caps").frame
    out = caps.drop(*PUBLISHED_FROM_INDICATORS.values()).join(
        protected.select("area_id", *[pl.col(k).alias(v) for k, v in PUBLISHED_FROM_INDICATORS.items()],
                         SUPPRESSED_COLUMN), on="area_id", how="left")
    bounded = (pl.col("adults_18_64").is_null() | pl.col("pct_outside_work_edu").is_null()).alias("_bounded")
    out = out.with_columns(pl.when(bounded).then(None).otherwise(pl.col("max_outside_work")).alias("max_outside_work"),
                           bounded)
    notes = [_caps_reasons(m, b) for m, b in zip(out.get_column(SUPPRESSED_COLUMN).to_list(),
                                                  out.get_column("_bounded").to_list())]
    return out.with_columns(pl.Series(SUPPRESSED_COLUMN, notes, dtype=pl.String)).select(*CAPS_COLUMNS,
                                                                                          SUPPRESSED_COLUMN)


def _caps_reasons(marker: str | None, cap_blank: bool) -> str | None:
    """The indicators' `column:reason` list in the caps file's column names (the full-time count
    outside work is not published, so its reason is not listed), plus the blank cap."""
    parts = []
    for part in (marker or "").split(","):
        column, _, reason = part.partition(":")
        if column in PUBLISHED_FROM_INDICATORS:
            parts.append(f"{PUBLISHED_FROM_INDICATORS[column]}:{reason}")
    if cap_blank:
        parts.append("max_outside_work:secondary")
    return ",".join(parts) or None


def compute_caps(dataset_dir: str | os.PathLike[str], year: int, margin: float,
                 on_progress=None) -> tuple[pl.DataFrame, pl.DataFrame, dict[str, Any]]:
    """Caps for every area with residents in list year `year`: exact (internal), as published
    (`published_caps`), and their provenance."""
    from boligmix.data.io import read_manifest, read_table
    from boligmix.indicators import compute_area_indicators

    if margin < 0:
        raise ConfigurationError(f"--margin must be 0 or more percentage points, got {margin}", field="margin")
    ruleset = load_ruleset(version_for_year(year))
    rules = load_rehousing_rules()
    indicators = compute_area_indicators(dataset_dir, [year], on_progress=on_progress)
    areas = read_table(dataset_dir, "areas", ["area_id", "area_name"])
    names = dict(zip(areas.get_column("area_id").to_list(), areas.get_column("area_name").to_list()))
    of_year = indicators.filter(pl.col("year") == year)
    frame = caps_from_indicators(of_year, ruleset, margin, rules, names)
    manifest = read_manifest(dataset_dir)
    provenance = {"command": "boligmix rehouse caps", "dataset": str(dataset_dir), "data_vintage": manifest.vintage,
                  "seed": manifest.seed, "year": year, "margin_pp": margin,
                  "list_rules": {"version": ruleset.version, "file": ruleset.source, "sha256": ruleset.sha256},
                  "rehousing_rules": rules.provenance(),
                  "thresholds": {k: {"threshold": t, "op": op} for k, (t, op) in
                                 list_thresholds(ruleset, rules.spec.caps.lists, rules.spec.caps.field).items()},
                  "adults_per_household": rules.spec.caps.adults_per_household.default,
                  "indicator_settings": indicators.select("register_years").unique().to_series().to_list()}
    return frame, published_caps(frame, of_year), provenance


__all__ = ["CAPS_COLUMNS", "cap_for", "caps_from_indicators", "compute_caps", "list_thresholds", "published_caps"]
