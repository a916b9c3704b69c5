"""Entry points: `generate` (tables in memory) and `write_synthetic` (streamed to a dataset directory)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import polars as pl

from boligmix.data.io import DatasetWriter, Manifest
from boligmix.data.schema import REQUIRED_TABLES, SEXES, ORIGINS, TABLES
from boligmix.data.synth.columns import dates, labels
from boligmix.data.synth.geography import build_geography, load_countries
from boligmix.data.synth.memory import heap_allocations, release_free_memory
from boligmix.data.synth.outcomes import YearInput, frames, generate_year
from boligmix.data.synth.pipeline import BackgroundSink
from boligmix.data.synth.scales import get_scale
from boligmix.data.synth.simulation import Simulation
from boligmix.data.synth.targets import load_targets
from boligmix.errors import ConfigurationError

VINTAGE = "synthetic-v1"
IN_MEMORY_REFUSED = ("national",)
"""Scales that `generate` refuses (too large for memory); `write_synthetic` streams them."""
ProgressCallback = Callable[[str, float], None]
Sink = Callable[[str, pl.DataFrame], None]

_PERSON_MULT = np.int64(0x5DEECE66D)
_HOUSEHOLD_MULT = np.int64(0x2545F491)


def person_id(index: np.ndarray) -> np.ndarray:
    """Pseudonymous person ids: an injective scramble of the simulation index."""
    return index.astype(np.int64) * _PERSON_MULT + np.int64(1_000_000_000_000)


def household_id(index: np.ndarray) -> np.ndarray:
    return index.astype(np.int64) * _HOUSEHOLD_MULT + np.int64(7_000_000_000_000)


def check_years(years: tuple[int, int]) -> tuple[int, int]:
    try:
        first, last = (int(years[0]), int(years[1]))
    except (TypeError, ValueError, IndexError):
        raise ConfigurationError(f"years must be two integers (first, last), got {years!r}", field="years") from None
    if first > last:
        raise ConfigurationError(f"first year {first} is after last year {last}", field="years")
    if first < 1990 or last > 2060:
        raise ConfigurationError(f"years {first}-{last} are outside 1990-2060", field="years")
    return first, last


def _country_weights(countries: pl.DataFrame) -> dict:
    codes = countries["country_code"].to_list()
    return {"stock": countries["stock"].to_numpy(), "w2004": countries["w2004"].to_numpy(),
            "w2015": countries["w2015"].to_numpy(), "w2022": countries["w2022"].to_numpy(),
            "dnk_index": codes.index("DNK")}


def _run(scale_name: str, seed: int, years: tuple[int, int], sink: Sink,
         on_progress: ProgressCallback | None) -> dict[str, float]:
    """Generate every table and hand each (possibly in yearly chunks) to `sink`; returns key figures.

    `sink` is called from one worker thread (`pipeline.BackgroundSink`), in submission order,
    while the simulation goes on; everything is handed over before this returns.
    """
    first, last = check_years(years)
    scale = get_scale(scale_name)
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ConfigurationError(f"seed must be a non-negative integer, got {seed!r}", field="seed")
    with heap_allocations():  # large numpy buffers are reused, not mmapped and page-faulted afresh
        background = BackgroundSink(sink)
        try:
            figures = _generate(scale, int(seed), (first, last), background, on_progress)
        except BaseException:
            background.abandon()
            raise
        background.close()
    return figures


def _generate(scale, seed: int, years: tuple[int, int], background: BackgroundSink,
              on_progress: ProgressCallback | None) -> dict[str, float]:
    first, last = years
    sink = background.write
    progress = on_progress or (lambda step, fraction: None)
    root = np.random.default_rng(seed)
    geo_rng, sim_rng, out_rng = root.spawn(3)
    targets = load_targets()
    progress("geography", 0.0)
    geo = build_geography(scale, (first, last), targets, geo_rng)
    countries = load_countries()
    western = countries["western"].to_numpy()
    for name in ("regions", "municipalities"):
        sink(name, geo.tables[name])
    sink("countries", countries.select(list(TABLES["countries"].column_names)))
    for name in ("areas", "housing_organisations", "departments", "dwellings"):
        sink(name, geo.tables[name])

    dw_region = geo.region_of(geo.dw_muni)
    figures: dict[str, float] = {}
    sim: Simulation | None = None

    def year_end(year: int, persons: np.ndarray, dwellings: np.ndarray) -> None:
        assert sim is not None
        p = sim.p
        order = np.argsort(persons, kind="stable")  # person ids grow with the index: rows come out sorted
        persons, dwellings = persons[order], dwellings[order]
        age_days = (np.int64((np.datetime64(f"{year}-12-31") - np.datetime64("1970-01-01")).astype(int))
                    - p.birth[persons])
        values = geo.profiles.values(year + 1) if geo.profiles.n else {}
        inp = YearInput(
            year=year, person=persons, age=age_days / 365.25, female=p.sex[persons] == 1,
            origin=p.origin[persons], western=western[p.country[persons]], arrival=p.arrival[persons].astype(int),
            z=p.z[persons].astype(float), edu_score=p.edu[persons].astype(float),
            area=geo.dw_area[dwellings].astype(np.int64), region=dw_region[dwellings],
            targets={k: values.get(k, np.zeros(0)) for k in ("outside", "crime_mult", "income_ratio")},
        )
        n_now = p.n

        def outcomes_and_frames() -> dict[str, pl.DataFrame]:
            # runs in the writer thread, one year after the other: out_rng is used in year order
            out = generate_year(inp, out_rng)
            figures[f"national_convicted_{year}"] = float(out["national_convicted"])
            return frames(inp, out, person_id(np.arange(n_now)))

        background.submit(outcomes_and_frames)

    sim = Simulation(geo, scale, (first, last), western, _country_weights(countries), sim_rng,
                     on_progress=lambda s, f: progress(s, 0.05 + 0.85 * f), on_year_end=year_end)
    result = sim.run()
    release_free_memory()  # the final tables are built by polars, which has its own allocator
    progress("writing persons and residences", 0.92)
    p = result.persons
    n = p.n
    sink("persons", pl.DataFrame({
        "person_id": person_id(np.arange(n)),
        "birth_date": dates(p.birth[:n]),
        "sex": labels(SEXES, p.sex[:n]),
        "origin": labels(ORIGINS, p.origin[:n]),
        "country_code": labels(countries["country_code"].to_list(), p.country[:n]),
    }, schema={"person_id": pl.Int64, "birth_date": pl.Date, "sex": pl.String, "origin": pl.String,
               "country_code": pl.String}))
    sp = result.spells
    reason = labels(["abroad", "death"], sp["reason"])
    residences = pl.DataFrame({
        "person_id": person_id(sp["person"]),
        "household_id": household_id(sp["household"]),
        "dwelling_id": geo.tables["dwellings"]["dwelling_id"].to_numpy()[sp["dwelling"]],
        "move_in": dates(sp["start"]),
        "move_out": dates(sp["end"]),
        "end_reason": reason,
    }, schema={"person_id": pl.Int64, "household_id": pl.Int64, "dwelling_id": pl.Int64, "move_in": pl.Date,
               "move_out": pl.Date, "end_reason": pl.String})
    residences = residences.with_columns(
        pl.when(pl.col("move_out") < pl.date(1971, 1, 1)).then(None).otherwise(pl.col("move_out")).alias("move_out")
    ).sort(["person_id", "move_in"])
    sink("residences", residences)
    figures.update({k: float(v) for k, v in result.stats.items()})
    figures["persons_ever"] = float(n)
    progress("done", 1.0)
    return figures


def generate(scale: str, seed: int, years: tuple[int, int] = (2004, 2024),
             on_progress: ProgressCallback | None = None) -> dict[str, pl.DataFrame]:
    """Generate a synthetic Denmark in memory: every required table of `boligmix.data.schema`.

    Only for the `small` and `municipality` scales. The national scale (about 7.8 million
    persons and 230 million yearly rows for 2004-2024) does not fit in 8 GiB of memory as
    tables: it is a `ConfigurationError` here; stream it to disk with `write_synthetic` and read
    the tables back lazily (`boligmix.data.io.scan_table`).
    """
    if get_scale(scale).name in IN_MEMORY_REFUSED:
        raise ConfigurationError(
            f"generate() holds every table in memory, which needs more than 8 GiB at the {scale} scale; "
            f"use write_synthetic(out_dir, scale={scale!r}, ...) (CLI: boligmix synth --scale {scale} --out DIR), "
            "which streams the tables to disk", field="scale")
    chunks: dict[str, list[pl.DataFrame]] = {}
    _run(scale, seed, years, lambda name, frame: chunks.setdefault(name, []).append(frame), on_progress)
    return {name: pl.concat(chunks[name], how="vertical") if len(chunks[name]) > 1 else chunks[name][0]
            for name in REQUIRED_TABLES}


def write_synthetic(out_dir: str | os.PathLike[str], *, scale: str, seed: int, years: tuple[int, int] = (2004, 2024),
                    overwrite: bool = False, on_progress: ProgressCallback | None = None) -> Path:
    """Generate a synthetic Denmark and write it as a dataset directory (atomic, streamed by year)."""
    first, last = check_years(years)
    get_scale(scale)
    manifest = Manifest(source="synthetic", vintage=VINTAGE, seed=int(seed), scale=scale, years=(first, last),
                        notes={"generator": "boligmix.data.synth", "targets": load_targets().version})
    with DatasetWriter(out_dir, manifest, overwrite=overwrite) as writer:
        _run(scale, seed, (first, last), writer.write, on_progress)
    return Path(out_dir)


__all__ = ["VINTAGE", "check_years", "generate", "write_synthetic"]
