"""Benchmark: the backcast of the simulation at municipality scale (issue 17's check).

Cuts a dataset at 1 January of --start, simulates --years years with the baseline and compares
with the lists and indicators `boligmix lists` computes from the real history:
per year and list the real and simulated counts and the tolerance max(4, 30 %); per year and
indicator the mean absolute error over areas of the simulation and of "no change".

    flock /work/bench.lock env PYTHONPATH=src python benchmarks/bench_simulate_backcast.py \
        --data /work/data/municipality-seed1 --start 2012 --years 5 --replications 2
"""

from __future__ import annotations

import argparse
import os
import time

import polars as pl


def _cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--start", type=int, default=2012)
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--replications", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--save", help="write the simulated area rows to this parquet file")
    args = parser.parse_args()

    from boligmix.simulate.checks import backcast

    w0, c0 = time.perf_counter(), _cpu()
    result = backcast(args.data, args.start, args.years, replications=args.replications, seed=args.seed,
                      workers=args.workers)
    wall, cpu = time.perf_counter() - w0, _cpu() - c0
    if args.save:
        result.areas.write_parquet(args.save)
    pl.Config.set_tbl_rows(200)
    pl.Config.set_tbl_cols(20)
    print(f"backcast {args.data} from 1 January {args.start}, {args.years} years, {args.replications} replications, "
          f"seed {args.seed}")
    print("list counts (simulated: mean over replications; tolerance max(4, 30 % of real)):")
    print(result.counts)
    print(f"  all within tolerance: {bool(result.counts['within'].all())}")
    print("mean absolute error over areas, simulated vs no change:")
    print(result.errors.with_columns((pl.col("mae_simulated") < pl.col("mae_no_change")).alias("better")))
    last = result.errors.filter(pl.col("year") == result.errors["year"].max())
    print(f"  after {args.years} years, mean over indicators: simulated {last['mae_simulated'].mean():.3f}, "
          f"no change {last['mae_no_change'].mean():.3f}")
    if result.events:
        print(f"events: {result.events}")
    print(f"wall {wall:.1f} s, cpu {cpu:.1f} s (this process and its children), load {os.getloadavg()}")


if __name__ == "__main__":
    main()
