"""Benchmark: `boligmix monitor` (run_monitor + write_monitor) on a dataset, phase by phase.

    flock /work/bench.lock env PYTHONPATH=src python benchmarks/bench_monitor.py \
        --dataset /work/data/national-seed1 --year 2024 [--set legal] [--level area] [--draws 200]

Prints wall and CPU time (user + system of this process, imports excluded) per phase and in
total, the ratio to the target (60 s on 2 cores for the national dataset), peak memory, the load
average before and after, and the backtest's Brier scores (forecast against persistence).
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time

TARGET_S = 60.0


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", required=True)
    ap.add_argument("--year", type=int, default=2024)
    ap.add_argument("--set", default="legal")
    ap.add_argument("--level", default="area")
    ap.add_argument("--draws", type=int, default=200)
    args = ap.parse_args()

    import polars as pl

    from boligmix.monitor.backtest import summary
    from boligmix.monitor.pipeline import MonitorSettings, run_monitor
    from boligmix.monitor.publish import write_monitor

    load_before = os.getloadavg()
    phases: list[tuple[str, float, float]] = []
    marks = {"t": time.perf_counter(), "c": cpu(), "step": "start"}

    def progress(step: str, _fraction: float) -> None:
        name = step.split(":")[0].split(" ")[0]
        if name != marks["step"]:
            now, c = time.perf_counter(), cpu()
            phases.append((str(marks["step"]), now - float(marks["t"]), c - float(marks["c"])))
            marks.update(t=now, c=c, step=name)

    t0, c0 = time.perf_counter(), cpu()
    result = run_monitor(args.dataset, args.year,
                         MonitorSettings(set=args.set, level=args.level, draws=args.draws), on_progress=progress)
    progress("write", 1.0)
    with tempfile.TemporaryDirectory() as out:
        write_monitor(result, out)
        sizes = {f: os.path.getsize(os.path.join(out, f)) for f in os.listdir(out)}
    progress("end", 1.0)
    wall, used = time.perf_counter() - t0, cpu() - c0
    for name, w, c in phases[1:]:
        print(f"  {name:<12} wall {w:6.2f} s  CPU {c:6.2f} s")
    s = summary(result.forecast.backtest)
    pooled = s.filter(pl.col("list") == "all").row(0, named=True)
    print(f"monitor {args.year} set={args.set} level={args.level} draws={args.draws} on {args.dataset}")
    print(f"total wall {wall:.2f} s, CPU {used:.2f} s (target {TARGET_S:.0f} s, ratio {wall / TARGET_S:.2f}); "
          f"peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6:.2f} GB; "
          f"load average before {load_before[0]:.1f}, after {os.getloadavg()[0]:.1f}")
    print(f"units {result.status.categories.filter(pl.col('year') == args.year).height}, status rows "
          f"{result.status.rows.height}, warnings {result.warnings.height}, files {sizes}")
    print(f"backtest: {pooled['n']} predictions over list years "
          f"{result.forecast.backtest['year'].min()}-{result.forecast.backtest['year'].max()}; Brier forecast "
          f"{pooled['brier_forecast']:.4f}, persistence {pooled['brier_persistence']:.4f}, reduction "
          f"{pooled['reduction']:.1%}")
    with pl.Config(tbl_rows=10):
        print(s)
    from boligmix.lists.ruleset import version_for_year

    b = result.forecast.backtest
    same = [y for y in b["year"].unique().to_list() if version_for_year(y) == version_for_year(y - 1)]
    steady = summary(b.filter(pl.col("year").is_in(same))).filter(pl.col("list") == "all").row(0, named=True)
    print(f"without the years whose rules change (only {sorted(same)}): Brier forecast "
          f"{steady['brier_forecast']:.4f}, persistence {steady['brier_persistence']:.4f}, reduction "
          f"{steady['reduction']:.1%}")


if __name__ == "__main__":
    main()
