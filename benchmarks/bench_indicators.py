"""Benchmark: official-list indicators, polars implementation vs a plain pandas groupby implementation.

Runs each implementation in its own subprocess (so each peak memory is its own, and polars
is limited to 2 threads), checks that both give the same numbers and prints both times,
peak memory and the speed ratio. Targets (national scale, 2 cores): < 30 s, < 4 GiB,
>= 10x faster than pandas.

    PYTHONPATH=src python benchmarks/bench_indicators.py --dataset path/to/national-synthetic
    PYTHONPATH=src python benchmarks/bench_indicators.py --persons 5900000   # random dataset, cached

Without --dataset a random dataset (tests/indicators_support/random_dataset.py) is generated
once into --cache-dir and reused.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
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


def _settings(dataset: Path, list_year: int):
    from boligmix.indicators.population import choose_nomenclature
    from boligmix.indicators.settings import settings_for_list_year

    settings = settings_for_list_year(list_year)
    return settings.model_copy(update={
        "country_nomenclature": choose_nomenclature(dataset, settings.country_nomenclature, list_year)})


def run_one(impl: str, dataset: Path, list_year: int, out: Path) -> None:
    """Child process: run one implementation, write its result, print time and peak RSS as JSON."""
    settings = _settings(dataset, list_year)
    start, cpu_start = time.perf_counter(), time.process_time()
    if impl == "polars":
        from boligmix.indicators import compute_area_indicators

        frame = compute_area_indicators(dataset, [list_year], settings)
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        frame.write_parquet(out)
    else:
        from indicators_support.pandas_oracle import PandasIndicators

        frame = PandasIndicators(dataset, "area").compute(list_year, settings)
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        frame.to_parquet(out)
    usage = resource.getrusage(resource.RUSAGE_SELF)  # user/system split of the whole child process
    print(json.dumps({"seconds": elapsed, "cpu_seconds": cpu, "peak_gib": usage.ru_maxrss / 1024**2,
                      "rows": len(frame), "user": usage.ru_utime, "sys": usage.ru_stime}))


def _child(impl: str, dataset: Path, list_year: int, out: Path) -> dict:
    env = dict(os.environ, POLARS_MAX_THREADS="2", OMP_NUM_THREADS="2", PYTHONPATH=str(ROOT / "src"))
    proc = subprocess.run([sys.executable, __file__, "--child", impl, "--dataset", str(dataset),
                           "--list-year", str(list_year), "--out", str(out)],
                          env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.exit(f"{impl} run failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _compare(polars_out: Path, pandas_out: Path) -> str:
    import numpy as np
    import polars as pl

    got = pl.read_parquet(polars_out).sort("area_id")
    want = pl.read_parquet(pandas_out).sort("area_id")
    if got.get_column("area_id").to_list() != want.get_column("area_id").to_list():
        return "DIFFERENT units"
    for col in INT_COLUMNS:
        if got.get_column(col).to_list() != want.get_column(col).cast(pl.Int64).to_list():
            return f"DIFFERENT in {col}"
    for col in FLOAT_COLUMNS:
        a = got.get_column(col).to_numpy().astype(float)
        b = want.get_column(col).to_numpy().astype(float)
        if not np.allclose(a, b, rtol=1e-9, atol=1e-9, equal_nan=True):
            return f"DIFFERENT in {col} (max abs diff {np.nanmax(np.abs(a - b))})"
    return f"equal ({got.height} areas, {len(INT_COLUMNS) + len(FLOAT_COLUMNS)} columns)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, help="existing dataset directory (e.g. the national synthetic one)")
    parser.add_argument("--persons", type=int, default=5_900_000, help="size of the random dataset")
    parser.add_argument("--seed", type=int, default=20241201)
    parser.add_argument("--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "boligmix-bench")
    parser.add_argument("--list-year", type=int, help="default: the last register year + 1")
    parser.add_argument("--skip-pandas", action="store_true")
    parser.add_argument("--child", choices=["polars", "pandas"], help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        run_one(args.child, args.dataset, args.list_year, args.out)
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
    print(f"dataset {dataset} (vintage {manifest.vintage}, tables {manifest.tables.get('persons', '?'):,} persons, "
          f"{manifest.tables.get('residences', '?'):,} spells), list year {list_year}")

    with tempfile.TemporaryDirectory() as tmp:
        polars_out, pandas_out = Path(tmp) / "polars.parquet", Path(tmp) / "pandas.parquet"
        fast = _child("polars", dataset, list_year, polars_out)
        print(f"load average (1 min) before the runs: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        print(f"polars/boligmix : {fast['seconds']:8.2f} s wall {fast['cpu_seconds']:8.2f} s CPU  "
              f"peak {fast['peak_gib']:.2f} GiB  ({fast['rows']} areas; process user {fast['user']:.2f} s, "
              f"system {fast['sys']:.2f} s)")
        if args.skip_pandas:
            return
        slow = _child("pandas", dataset, list_year, pandas_out)
        print(f"pandas reference: {slow['seconds']:8.2f} s wall {slow['cpu_seconds']:8.2f} s CPU  "
              f"peak {slow['peak_gib']:.2f} GiB  ({slow['rows']} areas; process user {slow['user']:.2f} s, "
              f"system {slow['sys']:.2f} s)")
        print(f"speed ratio     : {slow['seconds'] / fast['seconds']:8.1f} x wall "
              f"{slow['cpu_seconds'] / fast['cpu_seconds']:8.1f} x CPU")
        print(f"load average (1 min) after the runs: {os.getloadavg()[0]:.1f}")
        print(f"results         : {_compare(polars_out, pandas_out)}")


if __name__ == "__main__":
    main()
