"""The official lists of every simulated year, computed by the same code as `boligmix lists`.

The simulated registers are a dataset of the data model (a working directory with the input's
static tables and a manifest; persons, residences, dwellings, person_years, labour and
convictions as simulated, held as polars frames in memory and handed to the indicator code as a
`boligmix.indicators.population.FramesDataset`), and `boligmix.indicators.compute_area_indicators`
and `boligmix.lists.pipeline.lists_from_indicators` run on it: no indicator or threshold is
computed here. Only the register years a list year reads are handed over (`register_years`), and
nothing is rewritten each year. The earlier list years the history rules look back over come from
the input dataset.
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
from boligmix.indicators import compute_area_indicators, settings_for_list_year
from boligmix.indicators.population import FramesDataset
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


def register_years(list_year: int) -> set[int]:
    """The register years (labour, convictions, person_years) the indicators of `list_year` read
    under the settings in force."""
    settings = settings_for_list_year(list_year)
    return {*settings.window(list_year), settings.education_year(list_year), settings.income_year(list_year)}


class WorkingDataset:
    """The simulated registers of one replication as a dataset (directory + in-memory frames)."""

    def __init__(self, source: str | os.PathLike[str], root: Path, start: int) -> None:
        self.source, self.root, self.start = Path(source), root, start
        self.manifest = read_manifest(source)
        root.mkdir(parents=True, exist_ok=True)
        for table in STATIC_TABLES:
            shutil.copyfile(self.source / f"{table}.parquet", root / f"{table}.parquet")
        self.registers: FramesDataset | None = None

    def write(self, pop: Population, last_year: int) -> None:
        """Hold the registers through `last_year` for the lists of `last_year + 1` (the manifest's
        years start at start-2, the first window year; of person_years, labour and convictions only
        the years those lists read)."""
        first = self.start - 2
        spells = pop.residences().filter(pl.col("move_out").is_null() | (pl.col("move_out") > date(self.start, 1, 1)))
        tables: dict[str, pl.DataFrame] = {"persons": pop.persons_frame, "residences": spells,
                                           "dwellings": pop.dwellings.to_frame()}
        wanted = register_years(last_year + 1)
        for name, table in (("person_years", pop.person_years), ("labour", pop.labour), ("convictions", pop.convictions)):
            years = sorted(y for y in table if first <= y <= last_year and y in wanted)
            missing = sorted(y for y in wanted if first <= y <= last_year and y not in table)
            if missing:
                raise AssertionError(f"the {name} of {missing} are no longer held")
            tables[name] = pl.concat([table[y] for y in years], how="vertical_relaxed")
        manifest = Manifest(vintage=f"{self.manifest.vintage} (simulated)", source="synthetic", seed=self.manifest.seed,
                            scale=self.manifest.scale, years=(first, last_year),
                            notes={"simulated_from": str(self.source)})
        (self.root / MANIFEST_NAME).write_text(manifest.model_dump_json(indent=2), encoding="utf-8")
        self.registers = FramesDataset(self.root, tables)

    def write_full(self, pop: Population, last_year: int, target: Path) -> None:
        """The input's history with the simulated years appended, as a complete dataset directory
        (what `boligmix lists` would read had the simulated years been observed)."""
        from boligmix.data.io import read_table

        target.mkdir(parents=True)
        for table in STATIC_TABLES:
            shutil.copyfile(self.source / f"{table}.parquet", target / f"{table}.parquet")
        pop.persons_frame.write_parquet(target / "persons.parquet")
        on = date(self.start, 1, 1)     # the spells the data closed before the start are not held
        closed = read_table(self.source, "residences").filter(pl.col("move_out").is_not_null()
                                                              & (pl.col("move_out") <= on))
        pl.concat([closed, pop.residences()], how="vertical_relaxed").write_parquet(target / "residences.parquet")
        pop.dwellings.to_frame().write_parquet(target / "dwellings.parquet")
        kept = self.start               # the data's years from the input, the simulated ones from memory
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
        """The indicators of `list_year` from the registers last `write`n."""
        if self.registers is None:
            raise AssertionError("no registers written")
        registers, self.registers = self.registers, None
        return compute_area_indicators(registers, [list_year])


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
           "history_indicators", "households_by_area", "register_years"]
