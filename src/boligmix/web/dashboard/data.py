"""What the dashboard shows, computed once per dataset at startup and kept in memory.

`load_dashboard(dataset)` computes the lists of every list year the data allows
(`boligmix.lists.pipeline.compute_lists`: classification, criteria, explanations, history), the
social mix of the newest years (`boligmix.mix.pipeline.compute_mix`), protects every table with
`boligmix.report.disclosure` (`boligmix.lists.publish`, `boligmix.mix.publish.protect_tables`),
and indexes the published rows per area and year so a page is a few dictionary look-ups.
Only published values are kept: nothing unprotected reaches a page.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from boligmix.data.io import read_manifest, read_table
from boligmix.errors import DatasetError
from boligmix.lists.ruleset import OUTPUT_FLAGS
from boligmix.report.disclosure import SUPPRESSED_COLUMN, DisclosurePolicy
from boligmix.report.liststatus import LIST_STATUSES, status_of
from boligmix.report.provenance import Provenance
from boligmix.report.svgmap import Polygon, parse_wkt
from boligmix.web.dashboard.modules import ModuleResults, Row, load_module_results, rows_of

Progress = Callable[[str, float], None]

STATUS_ORDER = LIST_STATUSES[:4]
"""The highest list an area is on decides its status on the map (then none/undecided/nodata)."""
STATUSES = LIST_STATUSES

DEFAULT_MIX_YEARS = 6
"""The social mix is computed for this many of the newest years (`--mix-years` changes it)."""
MAX_PERSONS_FOR_MIX = 1_000_000
"""By default the mix is computed at startup only for datasets up to this many persons (the
municipality scale needs 1.7 GiB; the national one would need many times that): larger data
reads a published `boligmix mix` output (`mix_dir`) or asks for `mix_years` explicitly."""


@dataclass(frozen=True)
class Area:
    area_id: str
    name: str
    municipality_code: int
    polygons: list[Polygon]


@dataclass
class DashboardData:
    """Everything the pages show, indexed for fast look-up (see `load_dashboard`)."""

    dataset: Path
    provenance: Provenance
    policy: DisclosurePolicy
    areas: dict[str, Area]
    municipalities: dict[int, str]
    years: list[int]
    status: dict[int, dict[str, str]]
    """year -> area id -> status (one of STATUSES)."""
    indicators: dict[str, list[Row]]
    """area id -> published indicator rows (residents and shares), ascending year."""
    criteria: dict[tuple[str, int], list[Row]]
    summaries: dict[tuple[str, int], dict[str, Any]]
    """(area id, list year) -> the lists module's area summary (areas.json entry)."""
    explanation_ok: dict[tuple[str, int], bool]
    """False when a criterion of the area and year is suppressed (its explanation texts hold the values)."""
    list_table: pl.DataFrame
    """Published per area and year: ids, names, status, flags, criteria met, residents, shares."""
    list_suppressed: list[frozenset[str]]
    mix: dict[str, list[Row]]
    mix_years: list[int]
    modules: ModuleResults
    notes: list[str] = field(default_factory=list)

    def area_status(self, area_id: str, year: int) -> str:
        return self.status.get(year, {}).get(area_id, "nodata")

    def areas_in(self, municipality_code: int) -> list[Area]:
        return sorted((a for a in self.areas.values() if a.municipality_code == municipality_code),
                      key=lambda a: a.area_id)


def load_dashboard(dataset: str | os.PathLike[str], *, list_years: Sequence[int] | None = None,
                   mix_years: int | Sequence[int] | None | str = "auto",
                   results: Sequence[str | os.PathLike[str]] = (), policy: DisclosurePolicy | None = None,
                   mix_dir: str | os.PathLike[str] | None = None, on_progress: Progress | None = None) -> DashboardData:
    """Compute and protect everything the dashboard shows for `dataset`.

    `list_years`: default every list year the data allows. `mix_years`: a number (that many of the
    newest years), explicit years, None/0 for no mix, or 'auto' (DEFAULT_MIX_YEARS when the dataset
    has at most MAX_PERSONS_FOR_MIX persons, else none, with a note on the pages). `mix_dir`: instead, read the published
    composition of a `boligmix mix --level area` output directory (for data too large to compute the
    mix at startup). `results`: module result directories (see `boligmix.web.dashboard.modules`)."""
    from boligmix.lists.pipeline import compute_lists, feasible_list_years
    from boligmix.lists.publish import PUBLISHED_INDICATORS, protect_criteria, protect_indicators

    step = on_progress or (lambda _s, _f: None)
    policy = policy or DisclosurePolicy.load()
    manifest = read_manifest(dataset)
    last = manifest.years[1] if manifest.years else 2100
    wanted = list(list_years) if list_years is not None else list(range(2010, last + 1))
    years = [y for y in feasible_list_years(dataset, wanted) if y <= last] if wanted else []
    if not years:
        asked = f"{min(wanted)}-{max(wanted)}" if wanted else "(none)"
        raise DatasetError(f"{dataset}: its register years allow no list year among {asked} "
                           "(official lists start in 2010)")
    step("lists", 0.0)
    lists = compute_lists(dataset, years, on_progress=lambda s, f: step(f"lists: {s}", 0.5 * f))

    area_frame = read_table(dataset, "areas")
    areas = {}
    for row in area_frame.iter_rows(named=True):
        polygons = parse_wkt(row.get("polygon_wkt"), where=f"areas.polygon_wkt ({row['area_id']})")
        areas[row["area_id"]] = Area(row["area_id"], row["area_name"], int(row["municipality_code"]), polygons)
    munis = {int(c): n for c, n in read_table(dataset, "municipalities", ["municipality_code", "municipality_name"])
             .iter_rows()}

    flags = lists.classification.frame.filter(pl.col("year").is_in(years))
    status: dict[int, dict[str, str]] = {y: {} for y in years}
    for r in flags.iter_rows(named=True):
        status[r["year"]][r["area_id"]] = status_of(r)

    step("disclosure control", 0.5)
    indicators = protect_indicators(lists.indicators.filter(pl.col("year").is_in(years)), policy)
    keep = ["area_id", "year", *PUBLISHED_INDICATORS, SUPPRESSED_COLUMN]
    ind_frame = indicators.frame.select(keep).with_columns(
        pl.col(SUPPRESSED_COLUMN).str.replace_all(r"(^|,)n_[a-z0-9_]+:[a-z]+", "").str.strip_chars(",")
        .replace("", None))
    ind_rows: dict[str, list[Row]] = {}
    for r in rows_of(ind_frame.sort("area_id", "year")):
        ind_rows.setdefault(r.values["area_id"], []).append(r)

    criteria = protect_criteria(lists.criteria, lists.indicators, policy)
    crit_rows: dict[tuple[str, int], list[Row]] = {}
    for r in rows_of(criteria.frame):
        crit_rows.setdefault((r.values["area_id"], r.values["year"]), []).append(r)
    explanation_ok = {k: not any(r.suppressed for r in v) for k, v in crit_rows.items()}
    summaries = {(s["area_id"], s["year"]): s for s in lists.areas}

    list_table = (ind_frame.join(flags.select("area_id", "year", "rules", "criteria_met", *OUTPUT_FLAGS),
                                 on=["area_id", "year"], how="left")
                  .join(area_frame.select("area_id", "area_name", "municipality_code"), on="area_id", how="left")
                  .with_columns(pl.col("municipality_code").replace_strict(munis, default=None,
                                                                           return_dtype=pl.String)
                                .alias("municipality_name"))
                  .sort("year", "area_id"))
    list_table = list_table.with_columns(
        pl.Series("status", [status.get(y, {}).get(a, "nodata") for a, y in
                             zip(list_table["area_id"], list_table["year"])], dtype=pl.String))
    suppressed = [frozenset(p.split(":", 1)[0] for p in (m or "").split(",") if p)
                  for m in list_table.get_column(SUPPRESSED_COLUMN)]

    step("social mix", 0.6)
    notes: list[str] = []
    if mix_years == "auto":
        persons = manifest.tables.get("persons", 0)
        mix_years = DEFAULT_MIX_YEARS if persons <= MAX_PERSONS_FOR_MIX else 0
        if not mix_years and mix_dir is None:
            notes.append("mix_too_large")
    if mix_dir is not None:
        mix_rows, chosen_mix = read_published_mix(mix_dir)
    else:
        mix_rows, chosen_mix = _mix(dataset, manifest, years, flags, mix_years, policy,
                                    lambda s, f: step(f"mix: {s}", 0.6 + 0.35 * f))
    modules = load_module_results(results, policy)
    rule_versions = {f"list {y}": str(v) for y, v in
                     flags.group_by("year").agg(pl.col("rules").first()).sort("year").iter_rows()}
    rule_versions["disclosure_policy"] = policy.version
    prov = Provenance(data_vintage=manifest.vintage, seed=manifest.seed, rule_versions=rule_versions,
                      command="boligmix serve", dataset=str(dataset),
                      settings={"list_years": f"{years[0]}-{years[-1]}",
                                "mix_years": ", ".join(map(str, chosen_mix)) or "-"})
    step("done", 1.0)
    return DashboardData(Path(dataset), prov, policy, areas, munis, years, status, ind_rows, crit_rows, summaries,
                         explanation_ok, list_table.drop(SUPPRESSED_COLUMN), suppressed, mix_rows, chosen_mix,
                         modules, notes)


def read_published_mix(mix_dir: str | os.PathLike[str]) -> tuple[dict[str, list[Row]], list[int]]:
    """The area composition written by `boligmix mix --level area` (already protected: it has the
    `suppressed` column; anything else is refused)."""
    path = Path(mix_dir) / "composition.parquet"
    if not path.is_file():
        raise DatasetError(f"{path} is missing: give the output directory of `boligmix mix --level area`")
    frame = pl.read_parquet(path)
    if SUPPRESSED_COLUMN not in frame.columns:
        raise DatasetError(f"{path} has no '{SUPPRESSED_COLUMN}' column: it did not pass disclosure control")
    levels = set(frame.get_column("level").unique().to_list()) if "level" in frame.columns else set()
    if levels != {"area"}:
        raise DatasetError(f"{path} is at level {sorted(levels)}; the dashboard needs --level area")
    return _index_mix(frame), sorted(set(frame.get_column("year").to_list()))


def _index_mix(frame: pl.DataFrame) -> dict[str, list[Row]]:
    order = {"stock": 0, "in": 1, "out": 2}
    frame = frame.with_columns(pl.col("group").replace_strict(order, default=9).alias("_g"))
    out: dict[str, list[Row]] = {}
    for r in rows_of(frame.sort("unit_id", "year", "_g").drop("_g")):
        out.setdefault(r.values["unit_id"], []).append(r)
    return out


def _mix(dataset, manifest, years: list[int], flags: pl.DataFrame, mix_years: int | Sequence[int] | None,
         policy: DisclosurePolicy, step: Progress) -> tuple[dict[str, list[Row]], list[int]]:
    """Composition of stock, in-movers and out-movers per area (protected), for the chosen years."""
    from boligmix.mix.pipeline import compute_mix
    from boligmix.mix.publish import protect_tables

    first = manifest.years[0] if manifest.years else None
    possible = [y for y in range(years[0], years[-1] + 1) if first is None or y > first]
    if not mix_years or isinstance(mix_years, str):
        return {}, []
    chosen = possible[-int(mix_years):] if isinstance(mix_years, int) else sorted(set(mix_years) & set(possible))
    if not chosen:
        return {}, []
    listed = flags.select("area_id", "year", pl.any_horizontal([pl.col(f).fill_null(False) for f in OUTPUT_FLAGS])
                          .alias("listed"))
    result = compute_mix(dataset, chosen, level="area", listed=listed, on_progress=step)
    composition = protect_tables(result, policy)["composition"]
    out: dict[str, list[Row]] = {}
    order = {"stock": 0, "in": 1, "out": 2}
    frame = composition.frame.with_columns(pl.col("group").replace_strict(order, default=9).alias("_g"))
    for r in rows_of(frame.sort("unit_id", "year", "_g").drop("_g")):
        out.setdefault(r.values["unit_id"], []).append(r)
    return out, chosen


__all__ = ["Area", "DashboardData", "Row", "STATUSES", "STATUS_ORDER", "load_dashboard", "rows_of", "status_of"]
