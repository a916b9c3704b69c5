"""Benchmark of the synthetic generator: time, peak memory and key figures versus targets.

    PYTHONPATH=src python benchmarks/bench_synth.py [--scale national] [--seed 1] [--out DIR] [--keep]

Prints wall time, CPU time and peak resident memory of the generation (targets for the national
scale: < 5 minutes, < 8 GiB), then key figures of the written dataset next to their targets
(population, almen residents, areas with 1,000+ residents, non-Western share, almen move
circulation, the profile-level list counts per list year), and the list counts 2018-2024
computed from the person-level data with the official pipeline (`boligmix.lists.compute_lists`)
next to the published counts; see docs/synthetic-data.md.

    PYTHONPATH=src python benchmarks/bench_synth.py --reuse DIR   # figures of an existing dataset only
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path

import polars as pl

from boligmix.data.io import read_manifest, read_table, scan_table
from boligmix.data.synth import checks, write_synthetic
from boligmix.data.synth.targets import load_targets

TIME_TARGET_S = {"national": 300.0, "municipality": 60.0, "small": 10.0}
MEMORY_TARGET_GIB = 8.0


def _tables_for(path: Path, years: list[int]) -> dict[str, pl.DataFrame]:
    """Small tables whole; the big yearly tables only for the given years."""
    tables = {name: read_table(path, name) for name in ("regions", "municipalities", "countries", "areas",
                                                        "dwellings", "persons", "residences")}
    for name in ("person_years", "labour", "convictions"):
        tables[name] = scan_table(path, name).filter(pl.col("year").is_in(years)).collect()
    return tables


def official_lists(path: Path, years: range, targets, national: bool) -> None:
    """Print the list counts computed from person-level data with the official pipeline, next to
    the published counts (targets.yaml; shown for the national scale only)."""
    wall0, cpu0 = time.perf_counter(), time.process_time()
    from boligmix.lists.counts import official_list_counts

    counts = official_list_counts(path, years)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    print(f"\nofficial lists from person-level data (boligmix.lists.compute_lists, {wall:.0f} s wall, "
          f"{cpu:.0f} s CPU); generated (published)")
    print(f"{'list year':10s} {'udsat':>10s} {'ghetto/parallelsamf.':>21s} {'hårde/omdannelse':>17s} "
          f"{'forebyggelse':>13s}")
    for year in years:
        target = targets.lists.get(year)
        cells = []
        for key, width in (("udsat", 10), ("ghetto", 21), ("haardt", 17), ("forebyggelse", 13)):
            got = counts[year].get(key)
            want = target.get(key) if (target is not None and national) else None
            cell = "–" if got is None else (f"{got} ({want})" if want is not None else str(got))
            cells.append(f"{cell:>{width}s}")
        print(f"{year:<10d} " + " ".join(cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="national")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--keep", action="store_true", help="keep the generated dataset")
    parser.add_argument("--list-years", default="2010,2014,2018,2021,2024")
    parser.add_argument("--official-years", default="2018-2024",
                        help="list years whose counts are computed with the official pipeline ('' to skip)")
    parser.add_argument("--reuse", type=Path, default=None, help="skip generation: figures of this dataset")
    args = parser.parse_args()
    if args.reuse is not None:
        out = args.reuse
        manifest = read_manifest(out)
        args.scale = manifest.scale or args.scale
        print(f"dataset {out} (scale {manifest.scale}, seed {manifest.seed}, vintage {manifest.vintage}, "
              f"calibration {manifest.notes.get('targets')})")
    else:
        out = args.out or Path(tempfile.mkdtemp(prefix="bench-synth-")) / args.scale
        wall0, cpu0 = time.perf_counter(), time.process_time()
        usage0, load0 = resource.getrusage(resource.RUSAGE_SELF), os.getloadavg()
        write_synthetic(out, scale=args.scale, seed=args.seed, years=(2004, 2024), overwrite=True)
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        peak_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
        target_s = TIME_TARGET_S.get(args.scale, 300.0)
        print(f"scale {args.scale}, seed {args.seed}: {out}")
        print(f"generation wall time  {wall:8.1f} s   target {target_s:6.0f} s   ratio {wall / target_s:5.2f}")
        print(f"generation CPU time   {cpu:8.1f} s   (the machine may be shared: CPU time is the stable figure)")
        usage1, load1 = resource.getrusage(resource.RUSAGE_SELF), os.getloadavg()
        user, system = usage1.ru_utime - usage0.ru_utime, usage1.ru_stime - usage0.ru_stime
        print(f"  user {user:.1f} s, system {system:.1f} s, {usage1.ru_minflt - usage0.ru_minflt:,} minor "
              f"page faults; load average (1 min) {load0[0]:.2f} before, {load1[0]:.2f} after; "
              f"CPU / wall {cpu / wall:.2f}")
        print(f"peak resident memory  {peak_gib:8.2f} GiB target {MEMORY_TARGET_GIB:6.1f} GiB ratio "
              f"{peak_gib / MEMORY_TARGET_GIB:5.2f}")
        manifest = read_manifest(out)
    print("rows:", ", ".join(f"{k} {v:,}" for k, v in manifest.tables.items()))
    targets = load_targets()
    if args.official_years:
        first, _, last = args.official_years.partition("-")
        official_lists(out, range(int(first), int(last or first) + 1), targets, args.scale == "national")

    list_years = [int(y) for y in args.list_years.split(",")]
    need = sorted({y - k for y in list_years for k in (1, 2)})
    tables = _tables_for(out, need)
    h04, h24 = checks.headline(tables, 2004), checks.headline(tables, 2024)
    moves = checks.move_figures(tables)
    rows = [
        ("residents 1 Jan 2004", h04["residents"], targets.value("population", "persons_2004") if args.scale == "national" else None),
        ("residents 1 Jan 2024", h24["residents"], targets.value("population", "persons_2024") if args.scale == "national" else None),
        ("almen residents 2024", h24["almen_residents"], targets.value("population", "almen_residents_2024") if args.scale == "national" else None),
        ("areas with 1,000+ residents 2024", h24["areas_1000_plus"], targets.value("population", "areas_1000_plus") if args.scale == "national" else None),
        ("non-Western share 2004", h04["nonwestern_share"], targets.value("population", "nonwestern_share_2004")),
        ("non-Western share 2024", h24["nonwestern_share"], targets.value("population", "nonwestern_share_2024")),
        ("almen moves to another almen department", moves["almen_to_other_almen_share"],
         targets.value("mobility", "almen_to_other_almen_share")),
        ("moves to another municipality", moves["other_municipality_share"], None),
    ]
    print(f"\n{'figure':42s} {'generated':>12s} {'target':>12s}")
    for name, value, target in rows:
        fmt = (lambda v: f"{v:12.3f}") if value < 2 else (lambda v: f"{v:12,.0f}")
        print(f"{name:42s} {fmt(value)} {fmt(target) if target is not None else '':>12s}")
    print(f"\n{'list year':10s} {'rules':6s} generated (measured profile level)          target")
    for year in list_years:
        target = targets.lists[year]
        counts = checks.list_counts(checks.area_profiles(tables, year), target.rules)
        want = {k: target.get(k) for k in ("udsat", "ghetto", "forebyggelse") if target.get(k) is not None}
        print(f"{year:<10d} {target.rules:6s} {str(counts):44s} {want}")
    if not args.keep and args.out is None and args.reuse is None:
        shutil.rmtree(out.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
