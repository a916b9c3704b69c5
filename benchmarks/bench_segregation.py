"""Benchmark: all segregation indices for units x years x populations, boligmix vs PySAL.

Target (issue 5): 2,000 units x 21 years x 3 populations (stock, in-movers, out-movers), all 11
indices (7 two-group + 4 multigroup), at least 20x faster than PySAL `segregation`.
Prints both times, the ratio and the largest absolute difference. Needs PySAL only for the
comparison (`pip install segregation`; not a boligmix dependency).

    PYTHONPATH=src /work/venv/bin/python benchmarks/bench_segregation.py [--units 2000 --years 21]
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable

import numpy as np
import polars as pl

from boligmix.mix.segregation import segregation_table
from boligmix.mix.segregation.registry import MULTIGROUP_INDICES, TWO_GROUP_INDICES

GROUPS = ["dansk", "indvandrer", "efterkommer"]
POPULATIONS = {"stock": 1.0, "in": 0.12, "out": 0.10}  # relative size of each population


def make_counts(n_units: int, n_years: int, seed: int) -> pl.DataFrame:
    """Synthetic origin counts per (year, population, unit); flows are small and often zero."""
    rng = np.random.default_rng(seed)
    size = rng.lognormal(5.0, 0.8, n_units)
    share = rng.dirichlet([8.0, 1.0, 0.6], n_units)
    frames = []
    for year in range(2000, 2000 + n_years):
        drift = rng.normal(1.0, 0.05, n_units)[:, None]
        for population, scale in POPULATIONS.items():
            counts = rng.poisson(size[:, None] * scale * share * drift)
            frames.append(pl.DataFrame({
                "year": np.full(n_units, year), "population": [population] * n_units,
                "unit": np.arange(n_units), **{g: counts[:, k] for k, g in enumerate(GROUPS)},
            }))
    return pl.concat(frames).with_columns(total=pl.sum_horizontal(GROUPS))


def run_boligmix(counts: pl.DataFrame) -> pl.DataFrame:
    two = segregation_table(counts, unit="unit", groups=["indvandrer"], total="total",
                            by=["year", "population"])
    multi = segregation_table(counts, unit="unit", groups=GROUPS, by=["year", "population"])
    return pl.concat([two, multi])


def run_pysal(counts: pl.DataFrame) -> pl.DataFrame:
    import segregation.multigroup as mg
    import segregation.singlegroup as sg

    two = [(name, getattr(sg, spec.pysal_class.split("(")[0])) for name, spec in TWO_GROUP_INDICES.items()]
    multi = [(name, getattr(mg, spec.pysal_class)) for name, spec in MULTIGROUP_INDICES.items()]
    rows = []
    for (year, population), part in counts.sort("unit").group_by(["year", "population"], maintain_order=True):
        frame = part.select(["unit", *GROUPS, "total"]).to_pandas()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for name, cls in two:
                rows.append((year, population, name, float(cls(frame, "indvandrer", "total").statistic)))
            for name, cls in multi:
                rows.append((year, population, name, float(cls(frame, GROUPS).statistic)))
    return pl.DataFrame(rows, schema=["year", "population", "index", "value"], orient="row")


def best_of(repeats: int, fn: Callable[..., pl.DataFrame],
            *args: object) -> tuple[float, float, pl.DataFrame]:
    """Best wall-clock time over `repeats` runs, the CPU time (all threads) of that run, the result."""
    best, best_cpu, result = float("inf"), float("inf"), pl.DataFrame()
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = fn(*args)
        wall, cpu = time.perf_counter() - start, time.process_time() - start_cpu
        if wall < best:
            best, best_cpu = wall, cpu
    return best, best_cpu, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=2000)
    parser.add_argument("--years", type=int, default=21)
    parser.add_argument("--seed", type=int, default=20241201)
    parser.add_argument("--repeats", type=int, default=5, help="boligmix runs (best is reported)")
    parser.add_argument("--pysal-repeats", type=int, default=2)
    args = parser.parse_args()

    counts = make_counts(args.units, args.years, args.seed)
    n_slices = args.years * len(POPULATIONS)
    print(f"data: {args.units} units x {args.years} years x {len(POPULATIONS)} populations = "
          f"{n_slices} slices, {counts.height} rows, 11 indices per slice")
    ours_time, ours_cpu, ours = best_of(args.repeats, run_boligmix, counts)
    print(f"boligmix: {ours_time:.3f} s wall, {ours_cpu:.3f} s CPU (best of {args.repeats})")
    try:
        import segregation  # noqa: F401
    except ImportError:
        print("PySAL segregation not installed: no comparison (pip install segregation)")
        return
    warm = make_counts(50, 1, 1)
    run_pysal(warm)  # numba JIT compilation of PySAL's Gini is not counted
    pysal_time, pysal_cpu, reference = best_of(args.pysal_repeats, run_pysal, counts)
    print(f"PySAL segregation {segregation.__version__}: {pysal_time:.3f} s wall, {pysal_cpu:.3f} s CPU "
          f"(best of {args.pysal_repeats})")
    print(f"speed-up: {pysal_time / ours_time:.1f}x wall-clock (target >= 20x), "
          f"{pysal_cpu / ours_cpu:.1f}x CPU")

    joined = ours.join(reference, on=["year", "population", "index"], suffix="_pysal")
    assert joined.height == n_slices * 11, joined.height
    comparable = joined.filter(pl.col("value").is_not_null() & pl.col("value_pysal").is_not_nan())
    diff = (comparable["value"] - comparable["value_pysal"]).abs().max()
    print(f"largest absolute difference: {diff:.3e} over {comparable.height} values "
          f"({joined.height - comparable.height} undefined values left out)")


if __name__ == "__main__":
    main()
