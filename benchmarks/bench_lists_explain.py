"""Benchmark: classification plus explanations (criteria table, area summaries, texts) for one list year.

Prints the time for `lists_from_indicators` on N areas x 5 list years (with support counts) and
its ratio to a 5-second budget. Run: PYTHONPATH=src python benchmarks/bench_lists_explain.py
"""

from __future__ import annotations

import time

import numpy as np
import polars as pl

from boligmix.lists.pipeline import lists_from_indicators


def indicator_frame(n_areas: int, years: range, seed: int = 3) -> pl.DataFrame:
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
        "n_18_64": rng.uniform(300, 4000, n),
        "n_18plus": rng.uniform(400, 5000, n),
        "national_conviction_pct": np.full(n, 0.72),
        "n_30_59": rng.uniform(200, 3000, n),
        "region_mean_income": np.full(n, 380_000.0),
    })


def main() -> None:
    budget = 5.0
    for n_areas in (200, 3000):
        frame = indicator_frame(n_areas, range(2020, 2025))
        lists_from_indicators(frame.filter(pl.col("area_id") == "A00000"), 2024)  # warm-up
        start = time.perf_counter()
        result = lists_from_indicators(frame, 2024)
        elapsed = time.perf_counter() - start
        print(f"{n_areas} areas x 5 years: classification + explanations of 2024 in {elapsed:.2f} s; "
              f"ratio to {budget:.0f} s budget: {elapsed / budget:.2f}; criteria rows {result.criteria.height}")


if __name__ == "__main__":
    main()
