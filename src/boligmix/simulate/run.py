"""`simulate`: Monte Carlo replications of a scenario, in process or on Dask, written to a run directory.

    run_simulation(data_dir, "baseline", out_dir, start=None, years=10, replications=20, seed=1, workers=2)

Output directory (written atomically: staged, then renamed into place). It is INTERNAL: its rows
start from the register counts and are not disclosure-controlled, so it is boligmix's working
material, not a publication. What is published from it passes `boligmix.report.disclosure`: the
`simulate compare` report and the dashboard's simulation views. Each file says so:

    INTERNAL_not_for_publication.txt   what the directory is and what to publish instead
    areas.parquet     replication, list year and area rows (see AREA_COLUMNS); Parquet metadata
                      `INTERNAL_not_for_publication`
    lettings.parquet  every simulated letting of an almen dwelling, with its deciding rules (idem)
    summary.csv       year, measure, mean, p05, p95 over replications (national)
    rates-internal/   the estimated rates (CSV), each with a first column `INTERNAL_not_for_publication`:
                      rates from register counts, some of them over a handful of persons
    manifest.json     first key `INTERNAL_not_for_publication`; scenario text and hash, policies, seed,
                      replications, data vintage, boligmix version

Replication r uses only the keyed streams of (seed, r), so its rows are the same whether 2 or 50
replications run, on one worker or many (Dask or in process).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from boligmix import __version__
from boligmix.data.io import check_out_dir, read_manifest, replace_dir
from boligmix.indicators.publish import INTERNAL_COLUMN, internal_frame
from boligmix.errors import DatasetError, SimulationError
from boligmix.lists.ruleset import version_for_year
from boligmix.simulate.estimation import estimate_rates
from boligmix.simulate.rates import HISTORY_YEARS
from boligmix.simulate.replication import AREA_COLUMNS, LETTING_SCHEMA, Shared, run_replication
from boligmix.simulate.scenario import Scenario, load_scenario
from boligmix.simulate.yearly_lists import history_indicators

Progress = Callable[[int, int], None]
LIST_MEASURES = ("udsat", "parallelsamfund", "omdannelse", "forebyggelse")
MEAN_MEASURES = ("pct_non_western", "pct_outside_work_edu", "conviction_ratio", "pct_basic_education",
                 "income_pct_of_region", "family_share")


def _replication_task(shared: Shared, replication: int, scenario_path: str) -> dict[str, Any]:
    """The unit of work sent to a worker: the scenario is reloaded from its file there."""
    return run_replication(shared, replication, load_scenario(scenario_path))


def prepare(dataset_dir: str | os.PathLike[str], scenario: Scenario, start: int | None, years: int,
            seed: int) -> Shared:
    manifest = read_manifest(dataset_dir)
    if manifest.years is None:
        raise DatasetError(f"{dataset_dir}: the manifest gives no register years; pass --start")
    start = manifest.years[1] + 1 if start is None else start
    if not manifest.years[0] + HISTORY_YEARS <= start <= manifest.years[1] + 1:
        raise SimulationError(f"--start {start}: the dataset covers {manifest.years[0]}-{manifest.years[1]}; the "
                              f"start must lie in {manifest.years[0] + HISTORY_YEARS}-{manifest.years[1] + 1} "
                              f"({HISTORY_YEARS} years of history estimate the rates)")
    if years < 1:
        raise SimulationError("--years must be at least 1")
    rates = estimate_rates(dataset_dir, start)
    history = history_indicators(dataset_dir, start)
    return Shared(str(dataset_dir), start, years, seed, rates, history, manifest.vintage, str(scenario.source))


def run_replications(shared: Shared, scenario: Scenario, replications: list[int], *, workers: int = 1,
                     scheduler: str | None = None, on_progress: Progress | None = None,
                     spill_dir: Path | None = None) -> list[dict[str, Any]]:
    """Run the given replications (in process when workers <= 1 and no scheduler, else on Dask);
    results in replication order. With `spill_dir` each result is written there as soon as it
    arrives and only its file names are kept (bounded memory)."""
    report = on_progress or (lambda _done, _total: None)
    results: dict[int, dict[str, Any]] = {}

    def keep(rep: int, result: dict[str, Any]) -> None:
        if spill_dir is not None:
            for name in ("areas", "lettings"):
                result[name].write_parquet(spill_dir / f"{name}-{rep:06d}.parquet")
            result = {"events": result["events"]}
        results[rep] = result
        report(len(results), len(replications))

    if workers <= 1 and scheduler is None:
        for rep in replications:
            keep(rep, run_replication(shared, rep, scenario))
    else:
        from dask.distributed import Client, LocalCluster, as_completed

        cluster = None
        if scheduler is None:
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                                   memory_limit=0)
            client = Client(cluster)
        else:
            client = Client(scheduler)
        try:
            shared_future = client.scatter(shared, broadcast=True)
            pending = iter(replications)
            futures = {}
            for rep in [next(pending, None) for _ in range(max(workers, 1) * 2)]:
                if rep is not None:
                    futures[client.submit(_replication_task, shared_future, rep, str(scenario.source),
                                          key=f"boligmix-rep-{rep}-{id(shared)}", pure=False)] = rep
            queue = as_completed(list(futures))
            for future in queue:
                rep = futures.pop(future)
                keep(rep, future.result())
                future.release()
                nxt = next(pending, None)
                if nxt is not None:        # at most 2 tasks per worker in flight: memory stays bounded
                    f = client.submit(_replication_task, shared_future, nxt, str(scenario.source),
                                      key=f"boligmix-rep-{nxt}-{id(shared)}", pure=False)
                    futures[f] = nxt
                    queue.add(f)
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
    return [results[r] for r in sorted(results)]


RATES_DIR = "rates-internal"
"""The run's directory of estimated rates (internal: estimates from unprotected register counts)."""
INTERNAL_NOTE = ("INTERNT: simuleringskørsel, ubeskyttede tal fra registrene, ikke til offentliggørelse; offentliggør "
                 "rapporten fra `boligmix simulate compare` eller dashboardets visning, som er diskretioneret. / "
                 "INTERNAL: a simulation run, unprotected figures from the registers, not for publication; publish "
                 "the `boligmix simulate compare` report or the dashboard's view, which pass disclosure control.")


def write_internal(staging: Path, areas: pl.DataFrame, lettings: pl.DataFrame, rates: Any) -> None:
    """The run's tables, each marked internal (see the module docstring)."""
    (staging / f"{INTERNAL_COLUMN}.txt").write_text(
        INTERNAL_NOTE + "\n\nareas.parquet, lettings.parquet, summary.csv, " + RATES_DIR + "/, manifest.json\n",
        encoding="utf-8")
    marker = {INTERNAL_COLUMN: INTERNAL_NOTE}
    areas.write_parquet(staging / "areas.parquet", statistics=False, metadata=marker)
    lettings.sort("replication", "date", "dwelling_id").write_parquet(staging / "lettings.parquet", statistics=False,
                                                                      metadata=marker)
    summarise(areas).write_csv(staging / "summary.csv")
    rates.write(staging / RATES_DIR)
    for path in sorted((staging / RATES_DIR).glob("*.csv")):
        internal_frame(pl.read_csv(path, infer_schema_length=None)).write_csv(path)


def summarise(areas: pl.DataFrame) -> pl.DataFrame:
    """year, measure, mean, p05, p95 over replications: list counts and mean area indicators."""
    per_rep = areas.group_by("replication", "year").agg(
        *[pl.col(m).cast(pl.Int64).sum().cast(pl.Float64).alias(f"count_{m}") for m in LIST_MEASURES],
        *[pl.col(m).mean().alias(f"mean_{m}") for m in MEAN_MEASURES],
        pl.col("residents").sum().cast(pl.Float64).alias("total_residents"),
        pl.col("in_movers").sum().cast(pl.Float64).alias("total_in_movers"))
    long = per_rep.unpivot(index=["replication", "year"], variable_name="measure", value_name="value")
    return (long.group_by("year", "measure").agg(
        pl.col("value").mean().alias("mean"), pl.col("value").quantile(0.05, "linear").alias("p05"),
        pl.col("value").quantile(0.95, "linear").alias("p95")).sort("year", "measure"))


def run_simulation(dataset_dir: str | os.PathLike[str], scenario: str | Path, out_dir: str | os.PathLike[str], *,
                   start: int | None = None, years: int = 10, replications: int = 1, seed: int = 1,
                   workers: int = 1, scheduler: str | None = None, overwrite: bool = False,
                   on_progress: Progress | None = None) -> Path:
    target = Path(out_dir)
    check_out_dir(dataset_dir, target, source="dataset")
    if target.exists() and not overwrite:
        raise DatasetError(f"{target} exists; pass --force to replace it")
    if replications < 1:
        raise SimulationError("--replications must be at least 1")
    loaded = load_scenario(scenario)
    shared = prepare(dataset_dir, loaded, start, years, seed)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        spill = staging / ".replications"
        spill.mkdir()
        results = run_replications(shared, loaded, list(range(replications)), workers=workers, scheduler=scheduler,
                                   on_progress=on_progress, spill_dir=spill)
        areas = pl.concat([pl.read_parquet(p) for p in sorted(spill.glob("areas-*.parquet"))]).sort(
            "replication", "year", "area_id").select(AREA_COLUMNS)
        lettings = pl.concat([pl.read_parquet(p) for p in sorted(spill.glob("lettings-*.parquet"))],
                             how="vertical_relaxed") if any(spill.glob("lettings-*.parquet")) else \
            pl.DataFrame(schema=LETTING_SCHEMA)
        shutil.rmtree(spill)
        write_internal(staging, areas, lettings, shared.rates)
        manifest = read_manifest(dataset_dir)
        events = {}
        for r in results:
            for k, v in r["events"].items():
                events[k] = events.get(k, 0) + v
        payload = {
            INTERNAL_COLUMN: INTERNAL_NOTE,
            "boligmix_version": __version__, "scenario": {"name": loaded.spec.name, "file": str(loaded.source),
                                                          "sha256": loaded.sha256, "content": loaded.text,
                                                          "policy_files": loaded.policy_texts()},
            "policies": sorted(f"{p.id}@{p.version}" for p in loaded.policies().policies),
            "seed": seed, "replications": replications, "start": shared.start, "years": years,
            "list_years": [shared.start + 1, shared.start + years],
            "list_rules": {str(y): version_for_year(y) for y in range(shared.start + 1, shared.start + years + 1)},
            "dataset": str(dataset_dir), "data_vintage": manifest.vintage, "data_seed": manifest.seed,
            "rates_estimated_from": list(shared.rates.years), "events_all_replications": events,
            "rng": "SplitMix64 keyed by (seed, replication, id, year, event)",
        }
        (staging / "manifest.json").write_text(json.dumps(payload, indent=2, ensure_ascii=False, default=str),
                                               encoding="utf-8")
        replace_dir(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def interval(values: np.ndarray) -> tuple[float, float, float]:
    """(mean, p05, p95) of replication values (linear quantiles)."""
    v = np.asarray(values, dtype=float)
    return float(v.mean()), float(np.quantile(v, 0.05)), float(np.quantile(v, 0.95))


__all__ = ["INTERNAL_NOTE", "RATES_DIR", "interval", "prepare", "run_replications", "run_simulation", "summarise",
           "write_internal"]
