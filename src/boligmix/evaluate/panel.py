"""The unit x year evaluation panel, assembled from the existing indicator, list, mix and policy code.

No indicator is defined here: the columns come from `indicators.compute_area_indicators` (official list
indicators), `indicators.compute_composition` (`comp_*`), `mix.compute_mix` (`mix_<group>_share_*`,
residents at 1 January / in-movers / out-movers), `lists.compute_lists` (`on_<list>`), the programme
registry and the letting policy files. Treatments are first years (null: never in the panel's years):

* `first_<list>` (udsat, parallelsamfund, omdannelse, forebyggelse): first list year the unit is on the
  list; a unit on it in the first computed list year is left-censored (`censored_<list>` = true);
* `first_programme`, `first_<kind>` (e.g. `first_helhedsplan`), `first_demolition` (kind `nedrivning`):
  first start year of a registry programme covering the unit (an area: any of its departments);
* `first_letting_<tool>`, `first_letting_any`: first year a local letting policy's scope (municipality,
  organisation or department) covers the unit; area categories and almen types in a scope are not
  resolved (the policy counts as covering the department).

Years before the first indicator-settings version (2010) have null official indicators.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from boligmix.data.io import read_manifest, read_table
from boligmix.errors import ConfigurationError, DatasetError

LEVELS = ("area", "department")
LIST_FLAGS = ("udsat", "parallelsamfund", "omdannelse", "forebyggelse")
DEMOLITION_KIND = "nedrivning"
Progress = Callable[[str, float], None]


@dataclass
class PanelResult:
    panel: pl.DataFrame
    level: str
    years: list[int]
    vintage: str
    seed: int | None
    notes: list[str] = field(default_factory=list)


def unit_column(level: str) -> str:
    return "area_id" if level == "area" else "department_id"


def build_panel(dataset: str | os.PathLike[str], years: Sequence[int], *, level: str = "area",
                registry=None, policies: Sequence[str | Path] = (),
                on_progress: Progress | None = None) -> PanelResult:
    """One row per unit and year (every unit of the level in the dataset, every year in `years`)."""
    if level not in LEVELS:
        raise ConfigurationError(f"unknown level {level!r}; use area or department", field="level")
    years = sorted(set(int(y) for y in years))
    if not years:
        raise ConfigurationError("no years given", field="years")
    step = on_progress or (lambda _s, _f: None)
    manifest = read_manifest(dataset)
    lo, hi = manifest.years if manifest.years is not None else (years[0] - 1, years[-1])
    outside = [y for y in years if not lo + 1 <= y <= hi + 1]
    if outside:
        raise DatasetError(f"years {outside[0]}-{outside[-1]} need register years the dataset {dataset} does not "
                           f"hold ({lo}-{hi}); use years {lo + 1}-{hi + 1} at most")
    uid = unit_column(level)
    deps = read_table(dataset, "departments", ["department_id", "org_id", "municipality_code", "area_id"])
    names = (read_table(dataset, "areas", ["area_id", "area_name"]).rename({"area_name": "unit_name"})
             if level == "area" else
             read_table(dataset, "departments", ["department_id", "department_name"]).rename(
                 {"department_name": "unit_name"}))
    grid = names.join(pl.DataFrame({"year": years}, schema={"year": pl.Int64}), how="cross").sort(uid, "year")
    notes: list[str] = []

    step("official indicators", 0.05)
    grid = grid.join(_official(dataset, years, level, notes), on=[uid, "year"], how="left")
    step("composition indicators", 0.25)
    grid = grid.join(_composition(dataset, years, level), on=[uid, "year"], how="left")
    step("social mix", 0.4)
    grid = grid.join(_mix(dataset, years, level), on=[uid, "year"], how="left")
    step("lists", 0.7)
    on_lists, first = _lists(dataset, years, level, deps, notes)
    grid = grid.join(on_lists, on=[uid, "year"], how="left").join(first, on=uid, how="left")
    if registry is not None:
        grid = grid.join(programme_first_years(registry, level, deps, years), on=uid, how="left")
    if policies:
        step("letting policies", 0.9)
        grid = grid.join(letting_first_years(policies, level, deps, years), on=uid, how="left")
    step("done", 1.0)
    return PanelResult(grid.sort(uid, "year"), level, years, manifest.vintage, manifest.seed, notes)


def _official(dataset, years, level, notes) -> pl.DataFrame:
    from boligmix.indicators import compute_area_indicators
    from boligmix.indicators.official import CLASSIFY_COLUMNS
    from boligmix.indicators.settings import settings_for_list_year
    from boligmix.lists.pipeline import feasible_list_years

    uid = unit_column(level)
    usable = []
    for y in feasible_list_years(dataset, years):
        try:
            settings_for_list_year(y)
        except ConfigurationError:
            continue
        usable.append(y)
    if len(usable) < len(years):
        notes.append(f"official indicators exist for {len(usable)} of {len(years)} years "
                     f"({usable[0] if usable else '-'}-{usable[-1] if usable else '-'})")
    cols = [c for c in CLASSIFY_COLUMNS if c != "year"]
    if not usable:
        return pl.DataFrame(schema={uid: pl.String, "year": pl.Int64, **{c: pl.Float64 for c in cols}})
    ind = compute_area_indicators(dataset, usable, level=level)
    return ind.select(uid, "year", *cols)


def _composition(dataset, years, level) -> pl.DataFrame:
    from boligmix.indicators.composition import compute_composition

    uid = unit_column(level)
    tidy = compute_composition(dataset, years, level=level)
    return tidy.select(uid, "year", ("comp_" + pl.col("indicator")).alias("indicator"), "value").pivot(
        on="indicator", index=[uid, "year"], values="value")


def _mix(dataset, years, level) -> pl.DataFrame:
    from boligmix.mix.pipeline import compute_mix

    uid = unit_column(level)
    comp = compute_mix(dataset, years, level=level).tables["composition"]
    shares = [c for c in comp.columns if c.startswith("share_")]
    long = comp.select(pl.col("unit_id").alias(uid), "year", "group", *shares).unpivot(
        index=[uid, "year", "group"], on=shares, variable_name="measure")
    long = long.with_columns(("mix_" + pl.col("group") + "_" + pl.col("measure")).alias("measure"))
    return long.pivot(on="measure", index=[uid, "year"], values="value")


def _lists(dataset, years, level, deps, notes) -> tuple[pl.DataFrame, pl.DataFrame]:
    from boligmix.lists.pipeline import compute_lists, feasible_list_years

    uid = unit_column(level)
    list_years = [y for y in feasible_list_years(dataset, years)]
    if not list_years:
        empty = pl.DataFrame(schema={uid: pl.String, "year": pl.Int64})
        return empty, pl.DataFrame(schema={uid: pl.String})
    frame = compute_lists(dataset, list_years).classification.frame.select("area_id", "year", *LIST_FLAGS)
    if level == "department":
        frame = deps.select("department_id", "area_id").join(frame, on="area_id", how="inner").drop("area_id")
    on = frame.select(uid, "year", *[pl.col(f).cast(pl.Int8).alias(f"on_{f}") for f in LIST_FLAGS])
    first_year = list_years[0]
    first = frame.group_by(uid).agg(
        *[pl.col("year").filter(pl.col(f).fill_null(False)).min().alias(f"first_{f}") for f in LIST_FLAGS])
    first = first.with_columns(*[(pl.col(f"first_{f}") == first_year).fill_null(False).alias(f"censored_{f}")
                                 for f in LIST_FLAGS])
    notes.append(f"list flags computed for list years {list_years[0]}-{list_years[-1]}")
    return on, first


def _covered(level: str, deps: pl.DataFrame, dep_first: pl.DataFrame, name: str) -> pl.DataFrame:
    """First year per unit from first years per department (an area: its earliest department)."""
    if level == "department":
        return dep_first.rename({"first": name})
    return (dep_first.join(deps.select("department_id", "area_id"), on="department_id", how="inner")
            .filter(pl.col("area_id").is_not_null()).group_by("area_id").agg(pl.col("first").min().alias(name)))


def programme_first_years(registry, level: str, deps: pl.DataFrame, years: Sequence[int]) -> pl.DataFrame:
    """`first_programme`, `first_<kind>` and `first_demolition` per unit (null when not in `years`)."""
    uid = unit_column(level)
    dp = registry.department_programmes().filter(pl.col("start_year").is_between(years[0], years[-1]))
    units = deps.select(uid).drop_nulls().unique()
    out = units.join(_covered(level, deps, dp.group_by("department_id").agg(pl.col("start_year").min()
                                                                          .alias("first")), "first_programme"),
                     on=uid, how="left")
    for kind in registry.rules.kinds:
        name = "first_demolition" if kind == DEMOLITION_KIND else f"first_{kind}"
        sub = dp.filter(pl.col("kind") == kind).group_by("department_id").agg(pl.col("start_year").min().alias("first"))
        out = out.join(_covered(level, deps, sub, name), on=uid, how="left")
    return out


def letting_first_years(paths: Sequence[str | Path], level: str, deps: pl.DataFrame,
                        years: Sequence[int]) -> pl.DataFrame:
    """`first_letting_<tool>` and `first_letting_any` from the given policy files (enabled policies only;
    the packaged statutory policies are loaded beside them as bases, not counted as treatments)."""
    from boligmix.letting.policy import POLICY_DIR, load_policies, policy_files

    uid = unit_column(level)
    given = {f.resolve() for f in policy_files(paths)}
    context = {f.resolve() for f in policy_files([POLICY_DIR / "statutory"])}  # the bases local files name
    rows = []
    for p in load_policies(sorted(given | context)).policies:
        if Path(p.source).resolve() not in given:
            continue
        spec = p.spec
        if not spec.enabled or spec.tool == "waiting_list":
            continue
        sc = spec.scope
        match = pl.lit(True)
        if sc.municipality_codes is not None:
            match &= pl.col("municipality_code").is_in(list(sc.municipality_codes))
        if sc.org_ids is not None:
            match &= pl.col("org_id").is_in(list(sc.org_ids))
        if sc.department_ids is not None:
            match &= pl.col("department_id").is_in(list(sc.department_ids))
        year = spec.effective_from.year
        if not years[0] <= year <= years[-1]:
            year = years[0] if year < years[0] and (spec.effective_to is None or
                                                    spec.effective_to.year >= years[0]) else None
        if year is None:
            continue
        for d in deps.filter(match)["department_id"]:
            rows.append({"department_id": d, "tool": spec.tool, "first": year})
    units = deps.select(uid).drop_nulls().unique()
    frame = pl.DataFrame(rows, schema={"department_id": pl.String, "tool": pl.String, "first": pl.Int64})
    out = units.join(_covered(level, deps, frame.group_by("department_id").agg(pl.col("first").min()),
                              "first_letting_any"), on=uid, how="left")
    for tool in sorted(set(frame["tool"].to_list())):
        sub = frame.filter(pl.col("tool") == tool).group_by("department_id").agg(pl.col("first").min())
        out = out.join(_covered(level, deps, sub, f"first_letting_{tool}"), on=uid, how="left")
    return out
