"""Benchmark the two parts of `boligmix mix` that grew faster than the data: the shift-share
decomposition and the Excel writer.

    PYTHONPATH=src python benchmarks/bench_mix_parts.py [DATASET_DIR] [--years 2010-2024]
        [--old-decomposition OLD/decomposition.py]
    PYTHONPATH=src python benchmarks/bench_mix_parts.py --excel-only [--excel-rows 5000]

* decomposition: `decomposition_table` + `pooled_decomposition` on the unit stocks of DATASET_DIR
  (built as `compute_mix` builds them), against `_reference_loop`: the former algorithm, one
  `decompose` per year pair and factor, each filtering the whole stock. Both results must agree.
* Excel: `write_excel` of one protected table at N and 4N rows; a linear writer takes about 4x as
  long for 4x the rows (the former writer counted every suppressed cell once per row: quadratic).

Prints wall and CPU seconds and the ratios.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np
import polars as pl


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _since(start: tuple[float, float]) -> str:
    wall, cpu = time.perf_counter() - start[0], time.process_time() - start[1]
    return f"{wall:.2f} s wall, {cpu:.2f} s CPU"


def _reference_loop(unit_stock: pl.DataFrame, data, years: list[int]) -> pl.DataFrame:
    """The decomposition as it was computed before: one call per (year pair, factor)."""
    from boligmix.mix.decomposition import deaths, decompose, year_pairs
    from boligmix.mix.factors import FACTORS

    dd = deaths(data)
    parts = [decompose(unit_stock, year_from=a, year_to=b, factor=f, death_dates=dd)
             for a, b in year_pairs(years) for f in FACTORS]
    return pl.concat(parts).sort("unit_id", "factor", "year_from", "year_to")


def _load_old(path: str):
    """`decomposition.py` of another version (e.g. `git show 70e9d41:src/boligmix/mix/decomposition.py`)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("old_decomposition", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def bench_decomposition(dataset: str, years: list[int], level: str = "area", old_file: str | None = None) -> None:
    from boligmix.mix.decomposition import decomposition_table, stock_in_units
    from boligmix.mix.factors import attach_factors, prepare_factor_inputs
    from boligmix.mix.population import load_mix_data, memberships, spells_with_neighbours
    from boligmix.mix.settings import MixSettings

    t = _clock()
    data = load_mix_data(dataset)
    settings = MixSettings.load()
    spells = spells_with_neighbours(data, settings.birth_grace_days)
    inputs = prepare_factor_inputs(data, settings)
    stocks = []
    for year in years:
        rows = attach_factors(memberships(data, [year], settings.birth_grace_days, spells), data, settings, inputs)
        stock = stock_in_units(rows, data, level)
        stocks.append(stock.filter(pl.col("year").is_in([year, year + 1] if year == years[-1] else [year])))
    unit_stock = pl.concat(stocks, how="vertical_relaxed")
    print(f"unit stocks {years[0]}-{years[-1] + 1}: {unit_stock.height:,} rows ({_since(t)})")

    t = _clock()
    new = decomposition_table(unit_stock, data, level, years)
    t_new = time.perf_counter() - t[0]
    print(f"decomposition_table: {new.height:,} rows, {_since(t)}")
    t = _clock()
    old = _reference_loop(unit_stock, data, years)
    t_old = time.perf_counter() - t[0]
    print(f"one decompose per (year pair, factor): {old.height:,} rows, {_since(t)}")
    same = new.drop("level").equals(old)
    print(f"ratio per-call loop / decomposition_table: {t_old / t_new:.1f}x; results identical: {same}")
    if old_file:
        previous = _load_old(old_file)
        t = _clock()
        before = previous.decomposition_table(unit_stock, data, level, years)
        print(f"decomposition_table of {old_file}: {_since(t)}; results identical: {before.equals(new)}")


def _time(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def bench_excel(rows: int = 5_000, seed: int = 1) -> None:
    from boligmix.report import Share, protect
    from boligmix.report.document import Report, Text
    from boligmix.report.excel import write_excel
    from boligmix.report.provenance import Provenance

    times = {}
    for n in (rows, 4 * rows):
        rng = np.random.default_rng(seed)
        counts = rng.poisson(12, size=(n, 4))
        frame = pl.DataFrame({"unit": [f"u{i}" for i in range(n)], "year": rng.integers(2010, 2025, n),
                              **{f"n{j}": counts[:, j] for j in range(4)}})
        frame = frame.with_columns((pl.col("n1") / pl.col("n0")).alias("share"))
        table = protect(frame, counts=["n0", "n1", "n2", "n3"], shares=[Share("share", "n0", "n1")])
        report = Report(Text("bench", "bench"), provenance=Provenance(data_vintage="bench", seed=seed,
                                                                      command="bench"))
        report.section(Text("s", "s")).table(table, Text("t", "t"), name="t", formats={"share": ".1%"})
        with tempfile.TemporaryDirectory() as out:
            t = _clock()
            write_excel(report, os.path.join(out, "r.xlsx"))
            times[n] = time.perf_counter() - t[0]
            print(f"write_excel: {n:,} rows x 7 columns, {table.n_suppressed:,} suppressed cells, {_since(t)}")
    print(f"time ratio for 4x the rows: {times[4 * rows] / times[rows]:.1f} (linear: ~4, quadratic: ~16)")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("dataset", nargs="?")
    ap.add_argument("--years", default="2010-2024")
    ap.add_argument("--excel-only", action="store_true")
    ap.add_argument("--old-decomposition", help="decomposition.py of an earlier version to compare with")
    ap.add_argument("--excel-rows", type=int, default=5_000, help="N: the Excel writer runs at N and 4N rows")
    args = ap.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f}")
    bench_excel(args.excel_rows)
    if args.dataset and not args.excel_only:
        first, last = (int(y) for y in args.years.split("-"))
        bench_decomposition(args.dataset, list(range(first, last + 1)), old_file=args.old_decomposition)
