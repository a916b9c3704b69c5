"""Benchmark: `compute_mix` + protection/report on a dataset, and `protect` on a large random table.

    PYTHONPATH=src python benchmarks/bench_mix.py [DATASET_DIR] [--years 2010-2020] [--level area]
    PYTHONPATH=src flock /work/bench.lock python benchmarks/bench_mix.py --national [--years 2022-2023]

`--national` runs on the shared national dataset (NATIONAL_DIR) once its `.ready` marker exists
(5.9 M persons; 2 years: about 2 minutes and 14 GB; run it under the machine's benchmark lock).

Prints wall times and the ratio to the targets below (ratio < 1 = within target).
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time

import numpy as np
import polars as pl

from boligmix.report import Additive, Share, protect

NATIONAL_DIR = "/work/data/national-seed1"
"""The shared national synthetic dataset (seed 1, 2004-2024) on the project's machines."""
TARGET_PROTECT_100K_S = 10.0
"""protect() on 100,000 rows x 6 counts with 2 equations and 2 shares."""
TARGET_MIX_S = 120.0
"""compute_mix + write_outputs on the 'municipality' synthetic scale (about 380,000 persons), 20 years,
area level."""


def bench_protect(rows: int = 100_000, seed: int = 1) -> float:
    rng = np.random.default_rng(seed)
    parts = rng.poisson(8, size=(rows, 4))
    frame = pl.DataFrame({"q1": parts[:, 0], "q2": parts[:, 1], "q3": parts[:, 2], "q4": parts[:, 3],
                          "n": parts.sum(axis=1), "k": rng.binomial(parts.sum(axis=1), 0.3)})
    frame = frame.with_columns((pl.col("k") / pl.col("n")).alias("share"), (pl.col("q1") / pl.col("n")).alias("s1"))
    t0 = time.perf_counter()
    out = protect(frame, counts=["q1", "q2", "q3", "q4", "n", "k"],
                  totals=[Additive(["q1", "q2", "q3", "q4"], "n"), Additive(["k"], "n", remainder=True)],
                  shares=[Share("share", "n", "k"), Share("s1", "n", "q1")])
    dt = time.perf_counter() - t0
    print(f"protect: {rows} rows, {out.n_suppressed} cells suppressed, {dt:.2f} s "
          f"(target {TARGET_PROTECT_100K_S:.0f} s, ratio {dt / TARGET_PROTECT_100K_S:.2f})")
    return dt


def bench_mix(dataset: str, years: str, level: str) -> None:
    from boligmix.mix import compute_mix, write_outputs
    from boligmix.mix.population import years_range

    t0 = time.perf_counter()
    result = compute_mix(dataset, years_range(years), level=level)
    t1 = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        write_outputs(result, out)
    t2 = time.perf_counter()
    rows = {k: v.height for k, v in result.tables.items()}
    print(f"compute_mix: {t1 - t0:.2f} s; protect + write (Parquet, CSV, HTML, Excel): {t2 - t1:.2f} s; rows {rows}")
    print(f"total {t2 - t0:.2f} s (target {TARGET_MIX_S:.0f} s, ratio {(t2 - t0) / TARGET_MIX_S:.2f}); "
          f"CPU {time.process_time():.1f} s; peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6:.2f} GB")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("dataset", nargs="?")
    ap.add_argument("--years", default="2010-2019")
    ap.add_argument("--level", default="area")
    ap.add_argument("--national", action="store_true", help=f"use {NATIONAL_DIR} (when {NATIONAL_DIR}/.ready exists)")
    args = ap.parse_args()
    if args.national:
        from pathlib import Path

        if not (Path(NATIONAL_DIR) / ".ready").exists():
            raise SystemExit(f"{NATIONAL_DIR}/.ready does not exist: the national dataset is not there yet")
        args.dataset = NATIONAL_DIR
    bench_protect()
    if args.dataset:
        bench_mix(args.dataset, args.years, args.level)
