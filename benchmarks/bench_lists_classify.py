"""Benchmark: vectorised classification of many areas x list years.

Target (issue 4): thousands of areas x years "in well under a second". Prints the time per run
and its ratio to a 1-second budget. Run: PYTHONPATH=src python benchmarks/bench_lists_classify.py
"""

from __future__ import annotations

import time

import numpy as np
import polars as pl

from boligmix.lists.classify import classify


def synthetic_areas(n_areas: int, years: range, seed: int = 7) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    n = n_areas * len(years)
    return pl.DataFrame({
        "area_id": np.repeat([f"A{i:05d}" for i in range(n_areas)], len(years)),
        "year": np.tile(np.array(list(years), dtype=np.int64), n_areas),
        "residents": rng.integers(500, 6000, n),
        "pct_non_western": rng.uniform(0, 90, n),
        "pct_outside_work_edu": rng.uniform(10, 60, n),
        "pct_convicted": rng.uniform(0, 5, n),
        "conviction_ratio": rng.uniform(0, 5, n),
        "pct_basic_education": rng.uniform(20, 80, n),
        "income_pct_of_region": rng.uniform(35, 110, n),
    })


def main() -> None:
    budget = 1.0
    for n_areas, years in ((2_000, range(2010, 2025)), (10_000, range(2010, 2025))):
        frame = synthetic_areas(n_areas, years)
        classify(frame)  # warm-up (rule files are loaded and cached once)
        times = []
        for _ in range(5):
            start = time.perf_counter()
            result = classify(frame)
            times.append(time.perf_counter() - start)
        best, median = min(times), float(np.median(times))
        counts = {f: int(result.frame.get_column(f).sum()) for f in
                  ("udsat", "parallelsamfund", "omdannelse", "forebyggelse")}
        print(f"{n_areas} areas x {len(years)} years = {frame.height} rows (rules auto, 4 versions): "
              f"best {best:.3f} s, median {median:.3f} s; ratio to {budget:.0f} s budget: {median / budget:.2f}; "
              f"{counts}")


if __name__ == "__main__":
    main()
