"""The other modules' own output files, read into published per-area views for the dashboard.

Each module's documented outputs, found in its results directory (see `modules.py`), become a view:

* monitor (`monitor/`, issue 14): `forecast.csv` (`area_id,year,list,probability`) -> next year's
  probability per list; it holds no counts and is shown as is. `warnings.csv`
  (`unit_id,level,kind,indicator,value,threshold,message`) -> the area's warnings (rows with level
  `area`); when the file carries the `suppressed` column of `protect`, values and messages are shown
  with its suppression, otherwise only kind, indicator and threshold (value and message may quote
  small counts that did not pass disclosure control).
* simulate (`simulate/` as one run, or `simulate/<name>/` per run; each with `areas.parquet` and
  `manifest.json`): per area, scenario and list year over the replications: the probability of each
  list (share of replications; list flags are public), residents, in- and out-movers (mean and the
  5-95 % interval, counts: through `protect`), and the list indicators (mean and interval, shares:
  suppressed with residents as their denominator). `summary.csv` -> the run's national paths
  (`count_<list>` are area counts, `mean_<indicator>` means over areas; `total_*` person counts go
  through `protect`).
* plan (`plan/`): `share.csv` of `plan share` (dwelling counts, not persons: shown as is);
  `plan/<area_id>/timeline.csv` (+ `plan.csv`, `summary.json`) of `plan optimise` -> the area's
  share path to the target; `plan/<name>/areas.csv` of `rehouse` (a directory with
  `assignment.csv`) -> per receiving area the households received (counts, through `protect`).
* evaluate (`evaluate/<name>/estimates.csv` of `evaluate did`, with `provenance.json`) -> effect
  estimates with intervals (regression estimates; `n_obs` counts unit-years, not persons).

Every view degrades to nothing (the page says "Ingen data") when its files are absent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from boligmix.indicators.publish import FIELD_COUNTS
from boligmix.report.disclosure import SUPPRESSED_COLUMN, Additive, DisclosurePolicy, Share, protect
from boligmix.web.dashboard.modules import Row, rows_of

LISTS = ("udsat", "parallelsamfund", "omdannelse", "forebyggelse")
SIM_INDICATORS = ("pct_non_western", "pct_outside_work_edu", "conviction_ratio", "pct_basic_education",
                  "income_pct_of_region")
SIM_COUNTS = ("residents", "in_movers", "out_movers")
FORECAST_COLUMNS = {"area_id", "year", "list", "probability"}
WARNING_COLUMNS = {"unit_id", "kind", "indicator", "threshold"}
"""A monitor file with other columns is not claimed here (the generic table hook may show it)."""
WARNING_PUBLIC = ("kind", "indicator", "threshold")
"""Columns of a warning shown when warnings.csv did not pass disclosure control."""


@dataclass
class SimRun:
    name: str
    title: str
    seed: Any
    replications: Any
    areas: dict[str, list[Row]]
    """area id -> one published row per list year (p_<list>, <count>_mean/_p05/_p95, <indicator>_...)."""
    summary: list[Row]


@dataclass
class PlanRun:
    name: str
    timeline: list[dict[str, Any]]
    chosen: list[str]
    summary: dict[str, Any]


@dataclass
class ModuleViews:
    forecast: dict[str, tuple[int, dict[str, float]]] = field(default_factory=dict)
    warnings: dict[str, list[Row]] = field(default_factory=dict)
    warnings_checked: bool = True
    """False: warnings.csv had no `suppressed` column; only WARNING_PUBLIC columns are kept."""
    simulations: list[SimRun] = field(default_factory=list)
    plan_share: dict[str, dict[str, Any]] = field(default_factory=dict)
    plans: dict[str, list[PlanRun]] = field(default_factory=dict)
    rehousing: dict[str, list[tuple[str, Row]]] = field(default_factory=dict)
    estimates: list[tuple[str, dict[str, Any], list[dict[str, Any]]]] = field(default_factory=list)
    claimed: set[Path] = field(default_factory=set)
    """Files read here (the generic table hook skips them)."""


def load_views(dirs: list[tuple[str, Path]], policy: DisclosurePolicy) -> ModuleViews:
    views = ModuleViews()
    for module, directory in dirs:
        {"monitor": _monitor, "simulate": _simulate, "plan": _plan, "evaluate": _evaluate}[module](
            views, directory, policy)
    return views


def _csv(path: Path) -> pl.DataFrame:
    return pl.read_csv(path, infer_schema_length=10_000)


def _monitor(views: ModuleViews, directory: Path, policy: DisclosurePolicy) -> None:
    path = directory / "forecast.csv"
    frame = _csv(path) if path.is_file() else None
    if frame is not None and FORECAST_COLUMNS <= set(frame.columns):
        for r in frame.iter_rows(named=True):
            if r.get("list") not in LISTS or r.get("probability") is None:
                continue
            year, probs = views.forecast.setdefault(str(r["area_id"]), (int(r["year"]), {}))
            probs[r["list"]] = float(r["probability"])
        views.claimed.add(path)
    path = directory / "warnings.csv"
    frame = _csv(path) if path.is_file() else None
    if frame is not None and WARNING_COLUMNS <= set(frame.columns):
        if "level" in frame.columns:
            frame = frame.filter(pl.col("level") == "area")
        checked = SUPPRESSED_COLUMN in frame.columns
        if not checked:
            frame = frame.select(["unit_id", *(c for c in WARNING_PUBLIC if c in frame.columns)])
        views.warnings_checked = views.warnings_checked and checked
        for row in rows_of(frame):
            views.warnings.setdefault(str(row.get("unit_id")), []).append(row)
        views.claimed.add(path)


def _run_dirs(directory: Path) -> list[Path]:
    if (directory / "areas.parquet").is_file():
        return [directory]
    return sorted(p for p in directory.iterdir() if p.is_dir() and (p / "areas.parquet").is_file())


def _simulate(views: ModuleViews, directory: Path, policy: DisclosurePolicy) -> None:
    for run in _run_dirs(directory):
        manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8")) \
            if (run / "manifest.json").is_file() else {}
        scenario = manifest.get("scenario") or {}
        name = scenario.get("name") or run.name
        title = _scenario_title(scenario.get("content")) or name
        areas = simulated_areas(pl.read_parquet(run / "areas.parquet"), policy)
        by_area: dict[str, list[Row]] = {}
        for row in areas:
            by_area.setdefault(str(row.get("area_id")), []).append(row)
        summary: list[Row] = []
        if (run / "summary.csv").is_file():
            summary = simulated_summary(_csv(run / "summary.csv"), policy)
            views.claimed.add(run / "summary.csv")
        views.simulations.append(SimRun(name if run == directory else run.name, title, manifest.get("seed"),
                                        manifest.get("replications"), by_area, summary))
        views.claimed |= {run / "areas.parquet", run / "lettings.parquet"}


def _scenario_title(content: str | None) -> str | None:
    for line in (content or "").splitlines():
        if line.startswith("title:"):
            return line.split(":", 1)[1].strip()
    return None


def simulated_areas(frame: pl.DataFrame, policy: DisclosurePolicy) -> list[Row]:
    """Per area and list year over replications: list probabilities, counts and indicators with the
    5-95 % interval, protected (counts primary, indicators with residents as denominator)."""
    stats = [pl.col(f).cast(pl.Float64).mean().alias(f"p_{f}") for f in LISTS if f in frame.columns]
    present = [c for c in (*SIM_COUNTS, *SIM_INDICATORS) if c in frame.columns]
    for c in present:
        stats += [pl.col(c).cast(pl.Float64).mean().alias(f"{c}_mean"),
                  pl.col(c).cast(pl.Float64).quantile(0.05, "linear").alias(f"{c}_p05"),
                  pl.col(c).cast(pl.Float64).quantile(0.95, "linear").alias(f"{c}_p95")]
    agg = frame.group_by("area_id", "year").agg(pl.len().alias("replications"), *stats).sort("area_id", "year")
    counts = [f"{c}_{s}" for c in SIM_COUNTS if c in frame.columns for s in ("mean", "p05", "p95")]
    # a share of the residents (non-western) gives its count back with them: that count and its
    # rest (the residents without the trait) are protected as counts (not shown)
    implied = {c: FIELD_COUNTS[c][0] for c in SIM_INDICATORS if c in frame.columns and "residents" in frame.columns
               and FIELD_COUNTS[c][1] == "residents" and FIELD_COUNTS[c][0] not in (None, "residents")}
    helpers = {f"{c}_{s}": f"_{n}_{s}" for c, n in implied.items() for s in ("mean", "p05", "p95")}
    agg = agg.with_columns(
        pl.min_horizontal((pl.col(share).fill_null(0.0).fill_nan(0.0) / 100 * pl.col(f"residents_{share.rsplit('_', 1)[1]}"))
                          .round(0), pl.col(f"residents_{share.rsplit('_', 1)[1]}")).alias(helper)
        for share, helper in helpers.items())
    shares = [Share(f"{c}_{s}", ("residents_mean", "residents_p05"), helpers.get(f"{c}_{s}"))
              for c in SIM_INDICATORS if c in frame.columns for s in ("mean", "p05", "p95")] \
        if "residents" in frame.columns else []
    totals = [Additive([helper], f"residents_{share.rsplit('_', 1)[1]}", remainder=True)
              for share, helper in helpers.items()]
    table = protect(agg, counts=[*counts, *helpers.values()], shares=shares, totals=totals, policy=policy,
                    name="simulate/areas.parquet")
    rows = [Row({k: v for k, v in r.values.items() if k not in helpers.values()},
                r.suppressed - set(helpers.values())) for r in rows_of(table)]
    return [_whole_triples(r, present) for r in rows]


def _whole_triples(row: Row, columns: list[str]) -> Row:
    """Mean, p05 and p95 of a column are suppressed together: with few replications one of them
    follows from the other two."""
    hidden = set(row.suppressed)
    for c in columns:
        triple = {f"{c}_mean", f"{c}_p05", f"{c}_p95"}
        if hidden & triple:
            hidden |= triple
    if hidden == set(row.suppressed):
        return row
    return Row({k: (None if k in hidden else v) for k, v in row.values.items()}, frozenset(hidden))


def simulated_summary(frame: pl.DataFrame, policy: DisclosurePolicy) -> list[Row]:
    """summary.csv: `total_*` rows are person counts (protected); area counts and means as they are."""
    people = frame.filter(pl.col("measure").str.starts_with("total_"))
    rest = frame.filter(~pl.col("measure").str.starts_with("total_"))
    out = rows_of(rest.with_columns(pl.lit(None, dtype=pl.String).alias(SUPPRESSED_COLUMN)))
    if people.height:
        out += rows_of(protect(people, counts=["mean", "p05", "p95"], policy=policy, name="simulate/summary.csv"))
    return sorted(out, key=lambda r: (r.get("measure"), r.get("year")))


def _plan(views: ModuleViews, directory: Path, policy: DisclosurePolicy) -> None:
    share = directory / "share.csv"
    if share.is_file():
        for r in _csv(share).iter_rows(named=True):
            views.plan_share[str(r["area_id"])] = r
        views.claimed.add(share)
    for sub in sorted(p for p in directory.iterdir() if p.is_dir()):
        if (sub / "timeline.csv").is_file():
            summary = json.loads((sub / "summary.json").read_text(encoding="utf-8")) \
                if (sub / "summary.json").is_file() else {}
            area = str(summary.get("area_id") or sub.name)
            chosen = [str(r["option_id"]) for r in _csv(sub / "plan.csv").iter_rows(named=True) if r.get("chosen")] \
                if (sub / "plan.csv").is_file() else []
            views.plans.setdefault(area, []).append(
                PlanRun(sub.name, _csv(sub / "timeline.csv").to_dicts(), chosen, summary))
            views.claimed |= {sub / "timeline.csv", sub / "plan.csv"}
        if (sub / "assignment.csv").is_file() and (sub / "areas.csv").is_file():
            for row in rehousing_areas(_csv(sub / "areas.csv"), policy):
                views.rehousing.setdefault(str(row.get("area_id")), []).append((sub.name, row))
            views.claimed |= {sub / "areas.csv", sub / "assignment.csv", sub / "unplaced.csv"}


def rehousing_areas(frame: pl.DataFrame, policy: DisclosurePolicy) -> list[Row]:
    """`rehouse`'s areas.csv: households received (and outside work) are counts, the residents 18-64
    too; the share before is computed over the residents, the share after rests on the households
    received (with them it would give a suppressed count back). Vacancies (dwellings) and the cap (a
    policy ceiling) are not person counts. A file `rehouse` already protected (it has the
    `suppressed` column) is protected again with the dashboard's policy (its blank cells count as 0
    there) and keeps its own blanks: the stricter of the two wins."""
    before: list[frozenset[str]] = []
    if SUPPRESSED_COLUMN in frame.columns:
        before = [frozenset(p.split(":", 1)[0] for p in (m or "").split(",") if p)
                  for m in frame.get_column(SUPPRESSED_COLUMN).to_list()]
        frame = frame.drop(SUPPRESSED_COLUMN)
    counts = [c for c in frame.columns if c.startswith("received")]
    shares: list[Share] = []
    if "adults_18_64" in frame.columns:
        frame = frame.with_columns(pl.col("adults_18_64").round(0).cast(pl.Int64))
        counts.append("adults_18_64")
        shares = [Share(c, "adults_18_64") if c == "pct_outside_work_before"
                  else Share(c, "received", "received_outside_work") for c in frame.columns
                  if c.startswith("pct_outside_work")]
    totals = [Additive(["received_outside_work"], "received", remainder=True)] \
        if {"received", "received_outside_work"} <= set(frame.columns) else []
    numbers = [c for c in frame.columns if c.startswith("pct_outside_work")]
    frame = frame.with_columns(*(pl.col(c).cast(pl.Int64, strict=False).fill_null(0) for c in counts),
                               *(pl.col(c).cast(pl.Float64, strict=False) for c in numbers))
    rows = rows_of(protect(frame, counts=counts, shares=shares, totals=totals, policy=policy,
                           name="plan/areas.csv"))
    if not before:
        return rows
    return [Row({k: None if k in hidden else v for k, v in row.values.items()}, row.suppressed | hidden)
            for row, hidden in zip(rows, before)]


def _evaluate(views: ModuleViews, directory: Path, policy: DisclosurePolicy) -> None:
    runs = [directory] if (directory / "estimates.csv").is_file() else \
        sorted(p for p in directory.iterdir() if p.is_dir() and (p / "estimates.csv").is_file())
    for run in runs:
        meta = json.loads((run / "provenance.json").read_text(encoding="utf-8")) \
            if (run / "provenance.json").is_file() else {}
        views.estimates.append((run.name, meta, _csv(run / "estimates.csv").to_dicts()))
        views.claimed |= {run / "estimates.csv", run / "pretrend.csv"}


__all__ = ["LISTS", "ModuleViews", "PlanRun", "SimRun", "load_views", "rehousing_areas", "simulated_areas",
           "simulated_summary"]
