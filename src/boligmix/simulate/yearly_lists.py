"""The official lists of every simulated year, computed by the same code as `boligmix lists`.

The simulated registers are written as a dataset directory of the data model (a working copy:
the input's static tables, and persons, residences, person_years, labour and convictions as
simulated), and `boligmix.indicators.compute_area_indicators` and
`boligmix.lists.pipeline.lists_from_indicators` run on it: no indicator or threshold is computed
here. The earlier list years the history rules look back over come from the input dataset.
"""

from __future__ import annotations

import functools

import os
import shutil
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from boligmix.data.io import MANIFEST_NAME, Manifest, read_manifest
from boligmix.indicators import compute_area_indicators
from boligmix.lists.pipeline import feasible_list_years, lists_from_indicators, lookback_years
from boligmix.lists.ruleset import OUTPUT_FLAGS
from boligmix.simulate.population import TENURES, Population

STATIC_TABLES = ("regions", "municipalities", "countries", "areas", "housing_organisations", "departments")
INDICATOR_COLUMNS = ("residents", "pct_non_western", "pct_outside_work_edu", "conviction_ratio",
                     "pct_basic_education", "income_pct_of_region")


def history_indicators(dataset_dir: str | os.PathLike[str], start: int) -> pl.DataFrame:
    """Indicators of the data's list years that the lists of `start+1` onwards look back over."""
    span = lookback_years(start + 1)
    wanted = feasible_list_years(dataset_dir, range(start + 1 - span - 1, start + 1))
    return compute_area_indicators(dataset_dir, wanted)


def data_categories(history: pl.DataFrame, year: int, vintage: str | None) -> dict[str, frozenset[str]]:
    """Area -> list categories of list year `year` from the data's indicators."""
    result = lists_from_indicators(history, year, data_vintage=vintage)
    return categories_of(result.classification.frame, year)


def categories_of(frame: pl.DataFrame, year: int) -> dict[str, frozenset[str]]:
    out: dict[str, frozenset[str]] = {}
    for row in frame.filter(pl.col("year") == year).iter_rows(named=True):
        out[row["area_id"]] = frozenset(f for f in OUTPUT_FLAGS if row.get(f))
    return out


class WorkingDataset:
    """A dataset directory holding the simulated registers of one replication."""

    def __init__(self, source: str | os.PathLike[str], root: Path, start: int) -> None:
        self.source, self.root, self.start = Path(source), root, start
        self.manifest = read_manifest(source)
        root.mkdir(parents=True, exist_ok=True)
        for table in STATIC_TABLES:
            shutil.copyfile(self.source / f"{table}.parquet", root / f"{table}.parquet")

    def write(self, pop: Population, last_year: int) -> None:
        """Write the registers through `last_year` (earliest year kept: start-2, the first window year)."""
        first = self.start - 2
        pop.persons_frame.write_parquet(self.root / "persons.parquet")
        spells = pop.residences().filter(pl.col("move_out").is_null() | (pl.col("move_out") > date(self.start, 1, 1)))
        spells.write_parquet(self.root / "residences.parquet")
        pop.dwellings.to_frame().write_parquet(self.root / "dwellings.parquet")
        for name, table in (("person_years", pop.person_years), ("labour", pop.labour), ("convictions", pop.convictions)):
            years = sorted(y for y in table if first <= y <= last_year)
            pl.concat([table[y] for y in years], how="vertical_relaxed").write_parquet(self.root / f"{name}.parquet")
        manifest = Manifest(vintage=f"{self.manifest.vintage} (simulated)", source="synthetic", seed=self.manifest.seed,
                            scale=self.manifest.scale, years=(first, last_year),
                            notes={"simulated_from": str(self.source)})
        (self.root / MANIFEST_NAME).write_text(manifest.model_dump_json(indent=2), encoding="utf-8")

    def write_full(self, pop: Population, last_year: int, target: Path) -> None:
        """The input's history with the simulated years appended, as a complete dataset directory
        (what `boligmix lists` would read had the simulated years been observed)."""
        from boligmix.data.io import read_table

        target.mkdir(parents=True)
        for table in STATIC_TABLES:
            shutil.copyfile(self.source / f"{table}.parquet", target / f"{table}.parquet")
        pop.persons_frame.write_parquet(target / "persons.parquet")
        pop.residences().write_parquet(target / "residences.parquet")
        pop.dwellings.to_frame().write_parquet(target / "dwellings.parquet")
        kept = min(min(pop.labour), self.start - 2)
        for name, table in (("person_years", pop.person_years), ("labour", pop.labour), ("convictions", pop.convictions)):
            older = read_table(self.source, name).filter(pl.col("year") < kept)
            newer = [table[y] for y in sorted(table) if kept <= y <= last_year]
            pl.concat([older, *newer], how="vertical_relaxed").write_parquet(target / f"{name}.parquet")
        years = self.manifest.years
        manifest = Manifest(vintage=f"{self.manifest.vintage} (simulated)", source="synthetic", seed=self.manifest.seed,
                            scale=self.manifest.scale, years=(years[0] if years else kept, last_year),
                            notes={"simulated_from": str(self.source)})
        (target / MANIFEST_NAME).write_text(manifest.model_dump_json(indent=2), encoding="utf-8")

    def indicators(self, list_year: int) -> pl.DataFrame:
        return compute_area_indicators(self.root, [list_year])


def family_share(pop: Population, demolished: dict[str, int]) -> dict[str, float]:
    """The 40 % share of almenboligloven § 168 a (rules-spec 7.2) per area, by the plan module's one
    formula and counting rule (`plan.share.ShareFormula`, `plan.stock.dwelling_counts`) with its
    default switches; `demolished` are the almene family dwellings the simulation demolished.
    Commercial floor space is not in the data model and counts as 0."""
    from boligmix.plan.actions import AreaState
    from boligmix.plan.stock import dwelling_counts

    formula = _share_formula()
    dw = pop.dwellings
    has = (dw.area != None) & dw.active  # noqa: E711
    frame = pl.DataFrame({"area_id": dw.area[has].astype(str).tolist(),
                          "tenure": [TENURES[int(t)] for t in dw.tenure[has]],
                          "almen_type": dw.almen_type[has].tolist()},
                         schema={"area_id": pl.String, "tenure": pl.String, "almen_type": pl.String})
    shares = {}
    for a, family, counted in dwelling_counts(frame, formula).iter_rows():
        share = formula.share(AreaState(a, int(family), int(counted), demolished.get(a, 0)))
        if share is not None:
            shares[a] = share
    return shares


@functools.lru_cache(maxsize=1)
def _share_formula():
    from boligmix.plan.share import ShareFormula

    return ShareFormula.load()


def households_by_area(pop: Population) -> dict[str, int]:
    dw = pop.dwellings
    occupied = (dw.household != 0) & (dw.area != None)  # noqa: E711
    areas, counts = np.unique(dw.area[occupied].astype(str), return_counts=True)
    return dict(zip(areas.tolist(), counts.tolist()))


__all__ = ["INDICATOR_COLUMNS", "WorkingDataset", "categories_of", "data_categories", "family_share",
           "history_indicators", "households_by_area"]
