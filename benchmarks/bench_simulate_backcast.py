"""Benchmark: the backcast of the simulation at municipality scale (issue 17's check).

Cuts a dataset at 1 January of --start, simulates --years years with the baseline and compares
with the lists and indicators `boligmix lists` computes from the real history:
per year and list the real and simulated counts and the tolerance max(4, 30 %); per year and
indicator the mean absolute error over areas of the simulation and of "no change".

    flock /work/bench.lock env PYTHONPATH=src python benchmarks/bench_simulate_backcast.py \
        --data /work/data/municipality-seed1 --start 2012 --years 5 --replications 2

--by-replications: the error after the last year of the mean of the first k replications, k = 1 ..
--replications, as mean absolute and root mean square error (docs/simulate.md, Backcast, session 8).
"""

from __future__ import annotations

import argparse
import os
import time

import polars as pl


def _cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _by_replications(data: str, start: int, last: int, areas: pl.DataFrame) -> None:
    """The forecast of a stochastic model is its expectation, estimated by the mean over replications:
    how the error after the last year falls with the number of replications averaged (the mean of the
    first k; replication r is the same in any run), and root mean square beside mean absolute error."""
    import numpy as np

    from boligmix.indicators import compute_area_indicators
    from boligmix.simulate.checks import INDICATORS

    real = compute_area_indicators(data, [start, last])
    reps = sorted(areas["replication"].unique().to_list())
    print(f"error after {last - start} years by replications averaged (mean of the first k), MAE / RMSE:")
    for c in INDICATORS:
        truth = real.filter(pl.col("year") == last).select("area_id", c)
        base = truth.join(real.filter(pl.col("year") == start).select("area_id", c), on="area_id", suffix="_f")
        row = []
        for k in [0, *range(1, len(reps) + 1)]:
            joined = base if k == 0 else truth.join(
                areas.filter((pl.col("year") == last) & pl.col("replication").is_in(reps[:k]))
                .group_by("area_id").agg(pl.col(c).mean().alias(f"{c}_f")), on="area_id")
            d = joined.drop_nulls([c, f"{c}_f"]).select(pl.col(c) - pl.col(f"{c}_f")).to_series().to_numpy()
            row.append(f"{'no change' if k == 0 else f'k={k}'} {np.abs(d).mean():.3f} / {np.sqrt((d ** 2).mean()):.3f}")
        print(f"  {c}: " + ", ".join(row))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--start", type=int, default=2012)
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--replications", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--save", help="write the simulated area rows to this parquet file")
    parser.add_argument("--by-replications", action="store_true",
                        help="after the last year: per indicator the error of the mean of the first k "
                             "replications, k = 1 .. --replications, as mean absolute and root mean square "
                             "error, against no change")
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
    if args.by_replications:
        _by_replications(args.data, args.start, args.start + args.years, result.areas)
    if result.events:
        print(f"events: {result.events}")
    print(f"wall {wall:.1f} s, cpu {cpu:.1f} s (this process and its children), load {os.getloadavg()}")


if __name__ == "__main__":
    main()
