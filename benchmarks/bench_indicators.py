"""Benchmark: official-list indicators and all lists, boligmix vs a plain pandas groupby implementation.

Times, for one list year, (1) the indicators and (2) the indicators and all lists (udsat,
parallelsamfund, omdannelse, forebyggelse under the list year's rules, with criteria and
explanations), the way `boligmix.lists.pipeline.compute_lists` does it: the indicators of the
list year and of the earlier list years the history rules look back over (as far as the dataset's
register years reach, `indicator_years`) in one `compute_area_indicators` call, then
`lists_from_indicators` with the list history. When the dataset cannot give the earlier list
years (e.g. only 2 register years), a list history file (HISTORY.csv) stands in for them: a
seeded draw, written once before the runs, that puts a fixed share of the areas on the
parallelsamfund list in every earlier year; both implementations read it with
`read_history_csv` inside the timed part.

The reference is `tests/indicators_support/pandas_oracle.py` (read the Parquet tables with
pandas, merge and group by; when the dataset holds more register years than needed it reads
only the needed ones of person_years, labour and convictions, with a `filters` argument, as
boligmix does), computing the same indicator years; its indicators then go through
the same `lists_from_indicators` step. Each implementation runs in its own subprocess (so each
peak memory is its own; polars limited to 2 threads); the benchmark checks that the indicators
are equal (integers exactly, floats to 1e-9) and the lists identical, and prints the times
(wall and CPU), peak memory, the ratios and the user/system split. Targets (national scale, 2
cores): < 30 s, < 4 GiB, >= 10x faster than pandas.

    PYTHONPATH=src python benchmarks/bench_indicators.py --dataset path/to/national-synthetic --runs 3
    PYTHONPATH=src python benchmarks/bench_indicators.py --persons 5900000   # random dataset, cached

Without --dataset a random dataset (tests/indicators_support/random_dataset.py) is generated
once into --cache-dir and reused.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "tests")]

FLOAT_COLUMNS = ["pct_non_western", "pct_outside_work_edu", "pct_convicted", "conviction_ratio",
                 "pct_basic_education", "income_pct_of_region", "n_18_64", "fte_outside_18_64", "n_18plus",
                 "n_convicted_18plus", "national_conviction_pct", "mean_income", "region_mean_income"]
INT_COLUMNS = ["residents", "n_non_western", "n_30_59", "n_basic_30_59", "n_income_group"]
HISTORY_SHARE = 0.3
"""Share of the areas the generated list history puts on the parallelsamfund list in every earlier year."""


def _settings(dataset: Path, list_year: int):
    from boligmix.indicators.population import choose_nomenclature
    from boligmix.indicators.settings import settings_for_list_year

    settings = settings_for_list_year(list_year)
    return settings.model_copy(update={
        "country_nomenclature": choose_nomenclature(dataset, settings.country_nomenclature, list_year)})


def _indicator_years(dataset: Path, list_year: int) -> list[int]:
    from boligmix.data.io import read_manifest
    from boligmix.lists.pipeline import indicator_years

    manifest = read_manifest(dataset)
    available = set(range(manifest.years[0], manifest.years[1] + 1)) if manifest.years is not None else None
    return indicator_years([list_year], available)


def _register_years(dataset: Path, settings: dict) -> list[int] | None:
    """The register years the indicator years read, when the dataset holds others too (else None:
    the pandas reference reads whole tables, as before)."""
    from boligmix.data.io import read_manifest

    needed = sorted({t for y, s in settings.items()
                     for t in (*s.window(y), s.education_year(y), s.income_year(y))})
    years = read_manifest(dataset).years
    held = set(range(years[0], years[1] + 1)) if years is not None else None
    return needed if held is None or held - set(needed) else None


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_one(impl: str, dataset: Path, list_year: int, history: Path | None, out: Path) -> None:
    """Child process: run one implementation, write its results, print times and peak RSS as JSON."""
    import polars as pl

    from boligmix.data.io import read_manifest
    from boligmix.lists.csvio import read_history_csv
    from boligmix.lists.pipeline import lists_from_indicators

    years = _indicator_years(dataset, list_year)
    settings = {y: _settings(dataset, y) for y in years}  # the pandas reference needs the nomenclature set
    vintage = read_manifest(dataset).vintage
    start, cpu_start = time.perf_counter(), _cpu()
    if impl == "polars":
        from boligmix.indicators import compute_area_indicators

        indicators = compute_area_indicators(dataset, years)  # as compute_lists calls it
    else:
        import pandas as pd

        from indicators_support.pandas_oracle import PandasIndicators

        reference = PandasIndicators(dataset, "area", _register_years(dataset, settings))
        indicators = pl.from_pandas(pd.concat([reference.compute(y, settings[y]) for y in years]))
    seconds, cpu = time.perf_counter() - start, _cpu() - cpu_start
    result = lists_from_indicators(indicators, list_year, history=read_history_csv(history) if history else None,
                                   data_vintage=vintage)
    total_seconds, total_cpu = time.perf_counter() - start, _cpu() - cpu_start
    indicators.write_parquet(out.with_suffix(".indicators.parquet"))
    result.classification.frame.write_parquet(out.with_suffix(".lists.parquet"))
    usage = resource.getrusage(resource.RUSAGE_SELF)  # user/system split of the whole child process
    print(json.dumps({"seconds": seconds, "cpu": cpu, "total_seconds": total_seconds, "total_cpu": total_cpu,
                      "peak_gib": usage.ru_maxrss / 1024**2, "rows": indicators.height,
                      "user": usage.ru_utime, "sys": usage.ru_stime}))


def _child(impl: str, dataset: Path, list_year: int, history: Path | None, out: Path) -> dict:
    env = dict(os.environ, POLARS_MAX_THREADS="2", OMP_NUM_THREADS="2", PYTHONPATH=str(ROOT / "src"))
    command = [sys.executable, __file__, "--child", impl, "--dataset", str(dataset), "--list-year", str(list_year),
               "--out", str(out)] + (["--history", str(history)] if history else [])
    proc = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.exit(f"{impl} run failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _compare(ours: Path, reference: Path) -> str:
    import numpy as np
    import polars as pl

    key = ["year", "area_id"]
    got = pl.read_parquet(ours.with_suffix(".indicators.parquet")).sort(key)
    want = pl.read_parquet(reference.with_suffix(".indicators.parquet")).sort(key)
    if not got.select(key).equals(want.select(key)):
        return "DIFFERENT units"
    for col in INT_COLUMNS:
        if got.get_column(col).to_list() != want.get_column(col).cast(pl.Int64).to_list():
            return f"DIFFERENT in {col}"
    for col in FLOAT_COLUMNS:
        a = got.get_column(col).to_numpy().astype(float)
        b = want.get_column(col).to_numpy().astype(float)
        if not np.allclose(a, b, rtol=1e-9, atol=1e-9, equal_nan=True):
            return f"DIFFERENT in {col} (max abs diff {np.nanmax(np.abs(a - b))})"
    lists = pl.read_parquet(ours.with_suffix(".lists.parquet")).sort(key)
    lists_ref = pl.read_parquet(reference.with_suffix(".lists.parquet")).sort(key)
    if not lists.equals(lists_ref):
        return "DIFFERENT lists"
    return (f"equal ({got.height} area-years, {len(INT_COLUMNS) + len(FLOAT_COLUMNS)} indicator columns; "
            f"lists identical)")


def write_history(dataset: Path, list_year: int, years: list[int], seed: int, path: Path) -> int:
    """HISTORY.csv for the list years before `list_year` the history rules look at but `years` lacks:
    a seeded HISTORY_SHARE of the areas on the parallelsamfund list in each of them. Returns its row count."""
    import numpy as np
    import polars as pl

    from boligmix.data.io import read_table
    from boligmix.lists.pipeline import lookback_years

    earlier = [y for y in range(list_year - lookback_years(list_year) + 1, list_year) if y not in years]
    if not earlier:
        return 0
    areas = read_table(dataset, "areas", ["area_id"]).get_column("area_id").sort()
    on_list = np.random.default_rng(seed).random(areas.len()) < HISTORY_SHARE
    frame = pl.concat([pl.DataFrame({"area_id": areas, "year": y, "parallelsamfund": on_list.astype(np.int8)})
                       for y in earlier])
    frame.write_csv(path)
    return frame.height


def _summary(label: str, runs: list[dict], seconds: str, cpu: str) -> str:
    walls, cpus = [r[seconds] for r in runs], [r[cpu] for r in runs]
    return (f"{label:<28}: wall min {min(walls):7.2f} s median {statistics.median(walls):7.2f} s   "
            f"CPU min {min(cpus):7.2f} s median {statistics.median(cpus):7.2f} s")


def _ratio(label: str, ours: list[dict], reference: list[dict], seconds: str, cpu: str) -> str:
    def med(runs: list[dict], key: str) -> float:
        return statistics.median(r[key] for r in runs)

    return (f"{label:<28}: wall {med(reference, seconds) / med(ours, seconds):6.1f}x (medians), "
            f"{min(r[seconds] for r in reference) / min(r[seconds] for r in ours):6.1f}x (minima)   "
            f"CPU {med(reference, cpu) / med(ours, cpu):6.1f}x (medians), "
            f"{min(r[cpu] for r in reference) / min(r[cpu] for r in ours):6.1f}x (minima)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, help="existing dataset directory (e.g. the national synthetic one)")
    parser.add_argument("--persons", type=int, default=5_900_000, help="size of the random dataset")
    parser.add_argument("--seed", type=int, default=20241201, help="seed of the random dataset and of the history")
    parser.add_argument("--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "boligmix-bench")
    parser.add_argument("--list-year", type=int, help="default: the last register year + 1")
    parser.add_argument("--runs", type=int, default=1, help="runs of each implementation (min and median shown)")
    parser.add_argument("--skip-pandas", action="store_true")
    parser.add_argument("--child", choices=["polars", "pandas"], help=argparse.SUPPRESS)
    parser.add_argument("--history", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        run_one(args.child, args.dataset, args.list_year, args.history, args.out)
        return

    from boligmix.data.io import read_manifest

    dataset = args.dataset
    if dataset is None:
        from indicators_support import random_dataset

        dataset = args.cache_dir / f"random-{args.persons}-{args.seed}"
        if not (dataset / "manifest.json").is_file():
            print(f"generating a random dataset of {args.persons:,} persons in {dataset} ...", flush=True)
            t0 = time.perf_counter()
            random_dataset.write(dataset, args.persons, args.seed, years=(2022, 2023))
            print(f"  generated in {time.perf_counter() - t0:.1f} s", flush=True)
    manifest = read_manifest(dataset)
    list_year = args.list_year or (manifest.years[1] + 1 if manifest.years else None)
    if list_year is None:
        sys.exit("give --list-year (the manifest has no register years)")
    years = _indicator_years(dataset, list_year)
    span = f"{manifest.years[0]}-{manifest.years[1]}" if manifest.years else "?"
    print(f"dataset {dataset} (vintage {manifest.vintage}, seed {manifest.seed}, register years {span}, "
          f"{manifest.tables.get('persons', 0):,} persons, {manifest.tables.get('residences', 0):,} spells)")
    with tempfile.TemporaryDirectory() as tmp:
        history = Path(tmp) / "HISTORY.csv"
        rows = write_history(dataset, list_year, years, args.seed, history)
        print(f"list year {list_year}; indicators computed for list years {years}; list history: "
              + (f"generated HISTORY.csv ({rows} rows, seed {args.seed})" if rows else "the computed years"))
        history_arg = history if rows else None
        print(f"load average (1/5/15 min) before the runs: {'/'.join(f'{x:.1f}' for x in os.getloadavg())} "
              f"on {os.cpu_count()} cores")
        ours, reference = [], []
        impls = ["polars"] if args.skip_pandas else ["polars", "pandas"]
        for run in range(args.runs):
            for impl in impls:
                out = Path(tmp) / f"{impl}-{run}"
                r = _child(impl, dataset, list_year, history_arg, out)
                (ours if impl == "polars" else reference).append(r)
                name = "boligmix" if impl == "polars" else "pandas  "
                print(f"  run {run + 1} {name}: indicators {r['seconds']:7.2f} s wall {r['cpu']:7.2f} s CPU; "
                      f"with lists {r['total_seconds']:7.2f} s wall {r['total_cpu']:7.2f} s CPU; "
                      f"peak {r['peak_gib']:.2f} GiB (process user {r['user']:.2f} s, system {r['sys']:.2f} s; "
                      f"load {os.getloadavg()[0]:.1f})", flush=True)
        print(f"load average (1/5/15 min) after the runs: {'/'.join(f'{x:.1f}' for x in os.getloadavg())}")
        print(_summary("boligmix indicators", ours, "seconds", "cpu"))
        print(_summary("boligmix indicators + lists", ours, "total_seconds", "total_cpu"))
        print(f"{'boligmix peak memory':<28}: {max(r['peak_gib'] for r in ours):.2f} GiB")
        if args.skip_pandas:
            return
        print(_summary("pandas indicators", reference, "seconds", "cpu"))
        print(_summary("pandas indicators + lists", reference, "total_seconds", "total_cpu"))
        print(f"{'pandas peak memory':<28}: {max(r['peak_gib'] for r in reference):.2f} GiB")
        print(_ratio("speed-up, indicators", ours, reference, "seconds", "cpu"))
        print(_ratio("speed-up, with lists", ours, reference, "total_seconds", "total_cpu"))
        results = {_compare(Path(tmp) / f"polars-{run}", Path(tmp) / f"pandas-{run}") for run in range(args.runs)}
        print(f"{'results':<28}: {'; '.join(sorted(results))}")


if __name__ == "__main__":
    main()
