"""`boligmix plan share`: the 40 % share of every planned area from a dataset's dwellings.

The dataset's `dwellings` table gives, per area, the almene family dwellings (numerator) and the
dwellings counted in the denominator (almene youth/elderly and non-almen dwellings on the area's
parcels by the switches of `rules/plan/share_2018.yaml`). The schema has no demolitions and no
commercial floor space, so those come from an optional EXTRAS.csv
(`area_id,demolished_since_2010,commercial_m2`); areas it does not name, or every area when it is
not given, get 0 and the provenance sidecar lists them under `assumed_zero`. The dwellings table
is the dataset's current stock; `year` picks the list year whose omdannelse and parallelsamfund
areas are reported (from LISTS.csv of `boligmix lists`, or computed from the dataset).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from boligmix.data.io import read_manifest, read_table
from boligmix.errors import DatasetError
from boligmix.plan.actions import AreaState
from boligmix.plan.csvread import read_text_table
from boligmix.plan.share import ShareFormula

SHARE_COLUMNS = ("area_id", "year", "family_dwellings", "all_dwellings", "demolished_since_2010", "commercial_m2",
                 "share")
EXTRAS_COLUMNS = ("area_id", "demolished_since_2010", "commercial_m2")


@dataclass
class ShareTable:
    frame: pl.DataFrame
    """SHARE_COLUMNS, one row per planned area."""
    names: dict[str, str]
    lists: dict[str, list[str]]
    provenance: dict[str, Any] = field(default_factory=dict)

    def states(self) -> list[AreaState]:
        return [AreaState(r["area_id"], r["family_dwellings"], r["all_dwellings"], r["demolished_since_2010"],
                          r["commercial_m2"]) for r in self.frame.iter_rows(named=True)]


def read_extras(path: str | os.PathLike[str], known_areas: set[str]) -> dict[str, tuple[int, float]]:
    """EXTRAS.csv: area_id -> (demolished_since_2010, commercial_m2); ids must be areas of the dataset."""
    t = read_text_table(path, EXTRAS_COLUMNS)
    ids = t.ids("area_id", unique=True)
    demolished, commercial = t.counts("demolished_since_2010"), t.amounts("commercial_m2")
    t.check_refs("area_id", ids, known_areas, "area", "not in the dataset's areas table")
    t.raise_if_any()
    return {a: (d, c) for a, d, c in zip(ids, demolished, commercial)}


def read_list_flags(path: str | os.PathLike[str], year: int) -> pl.DataFrame:
    """LISTS.csv of `boligmix lists` (area_id, year and 0/1 list flags): the rows up to `year`."""
    flags = ("udsat", "parallelsamfund", "omdannelse", "forebyggelse")
    t = read_text_table(path, ("area_id", "year"), optional=flags)
    ids, years = t.ids("area_id"), t.counts("year")
    values = {f: t.flags(f) for f in flags if t.has(f)}
    t.raise_if_any()
    frame = pl.DataFrame({"area_id": ids, "year": years, **values})
    return frame.filter(pl.col("year") <= year)


def listed_areas(lists: pl.DataFrame, year: int, formula: ShareFormula) -> dict[str, list[str]]:
    """area_id -> why it is reported: the plan lists it is on in `year`, and `under plan since Y` when it
    was on the plan-duty list (omdannelse) in an earlier list year from the first plan year on."""
    spec = formula.rules.spec
    out: dict[str, list[str]] = {}
    for row in lists.filter(pl.col("year") == year).iter_rows(named=True):
        on = [f for f in spec.plan_lists if row.get(f)]
        if on:
            out[str(row["area_id"])] = on
    if spec.plan_duty_list in lists.columns:
        earlier = (lists.filter((pl.col("year") >= spec.plan_duty_first_list_year) & (pl.col("year") < year)
                                & pl.col(spec.plan_duty_list).fill_null(False))
                   .group_by("area_id").agg(pl.col("year").min()))
        for area, first in earlier.iter_rows():
            if str(area) not in out:
                out[str(area)] = [f"under plan since {first} ({spec.plan_duty_list})"]
    return out


def dwelling_counts(dwellings: pl.DataFrame, formula: ShareFormula) -> pl.DataFrame:
    """Per area of `dwellings` (area_id, tenure, almen_type): `family_dwellings` (almene family
    dwellings, the numerator) and `all_dwellings` (the dwellings the formula's switches count in the
    denominator). The one counting rule of the share, used by `plan share` and by the simulation."""
    values = formula.switches
    family = (pl.col("tenure") == "almen") & (pl.col("almen_type") == "family")
    counted = family
    if values["youth_elderly_in_denominator"]:
        counted = counted | ((pl.col("tenure") == "almen") & pl.col("almen_type").is_in(["youth", "elderly"]))
    if values["non_almen_in_denominator"]:
        counted = counted | (pl.col("tenure") != "almen")
    return dwellings.group_by("area_id").agg(family.fill_null(False).sum().alias("family_dwellings"),
                                             counted.fill_null(False).sum().alias("all_dwellings"))


def share_table(dataset_dir: str | os.PathLike[str], year: int, formula: ShareFormula, *,
                lists: Mapping[str, list[str]] | None,
                extras: Mapping[str, tuple[int, float]] | None = None) -> ShareTable:
    """The share per area on `lists` (area_id -> lists it is on; None: every area of the dataset)."""
    values = formula.switches
    manifest = read_manifest(dataset_dir)
    areas = read_table(dataset_dir, "areas", ["area_id", "area_name"])
    names = dict(zip(areas.get_column("area_id").to_list(), areas.get_column("area_name").to_list()))
    wanted = sorted(names) if lists is None else sorted(lists)
    unknown = [a for a in wanted if a not in names]
    if unknown:
        raise DatasetError(f"list area {unknown[0]} is not in the dataset's areas table")
    dw = read_table(dataset_dir, "dwellings", ["area_id", "tenure", "almen_type"]).filter(
        pl.col("area_id").is_in(wanted))
    per_area = dwelling_counts(dw, formula)
    by_area = {r["area_id"]: r for r in per_area.iter_rows(named=True)}
    extras = dict(extras or {})
    rows, assumed_zero = [], []
    for area in wanted:
        r = by_area.get(area, {"family_dwellings": 0, "all_dwellings": 0})
        demolished, commercial = extras.get(area, (0, 0.0))
        if area not in extras:
            assumed_zero.append(area)
        state = AreaState(area, int(r["family_dwellings"]), int(r["all_dwellings"]), demolished, commercial)
        rows.append({"area_id": area, "year": year, "family_dwellings": state.family_dwellings,
                     "all_dwellings": state.all_dwellings, "demolished_since_2010": demolished,
                     "commercial_m2": float(commercial), "share": formula.share(state)})
    schema = {"area_id": pl.String, "year": pl.Int64, "family_dwellings": pl.Int64, "all_dwellings": pl.Int64,
              "demolished_since_2010": pl.Int64, "commercial_m2": pl.Float64, "share": pl.Float64}
    frame = pl.DataFrame(rows, schema=schema)
    provenance = {"command": "boligmix plan share", "dataset": str(dataset_dir), "data_vintage": manifest.vintage,
                  "seed": manifest.seed, "year": year, "rules": formula.rules.provenance(), "switches": values,
                  "areas": {a: {"area_name": names[a], "lists": (lists or {}).get(a, [])} for a in wanted},
                  "assumed_zero": {"columns": ["demolished_since_2010", "commercial_m2"], "areas": assumed_zero,
                                   "why": "the dataset schema holds neither; give them with --extras"},
                  "dwelling_stock": "the dataset's dwellings table (current stock, not dated)"}
    return ShareTable(frame, {a: names[a] for a in wanted}, {a: (lists or {}).get(a, []) for a in wanted}, provenance)


def known_area_ids(dataset_dir: str | os.PathLike[str]) -> set[str]:
    return set(read_table(dataset_dir, "areas", ["area_id"]).get_column("area_id").to_list())


__all__ = ["EXTRAS_COLUMNS", "SHARE_COLUMNS", "ShareTable", "known_area_ids", "listed_areas",
           "read_extras", "read_list_flags", "share_table"]
