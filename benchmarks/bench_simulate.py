"""Benchmark: the policy microsimulation (boligmix.simulate).

Part 1 (--data DIR, e.g. the national synthetic dataset): one replication of the baseline for
--years years, timed (wall, CPU) with peak memory (ru_maxrss), in this process.

Part 2 (--small DIR --households N, default 10,000): one year's demographic and seeker decisions
(deaths, emigration, births with the child's origin, moves by the origin hazard, destination, municipality,
leaving home, area choice: the rule table in `simulate_mesa.py`) of N
households, vectorised with the simulation's own functions against an equivalent agent-per-object Mesa 3
model (one Agent per person and per household, each drawing its own events from the same keyed random
streams with the same estimated rate tables), for --years years on a population that does not change
(decisions only). Both must produce the same events, seeker by seeker (checked), and the vectorised
first year must equal the simulation's own functions run on a copy (checked); the times and the ratio
are printed (the vectorised years after one untimed warm-up year, as the Mesa model's build is untimed:
loading the compiled kernels once per process; the ratio with it counted is printed too). The letting in the
loop is the same `LettingEngine` in both designs and is timed in part 1.

    flock /work/bench.lock env PYTHONPATH=src python benchmarks/bench_simulate.py --data /work/data/national-seed1 --years 10
    flock /work/bench.lock env PYTHONPATH=src python benchmarks/bench_simulate.py --small /work/data/small-seed1 --households 10000
    flock /work/bench.lock env PYTHONPATH=src python benchmarks/bench_simulate.py --small /work/data/small-seed1 --mesa-draws numpy
    flock /work/bench.lock env PYTHONPATH=src python benchmarks/bench_simulate.py --national [DIR] [--years N]

--national: part 1 on the national synthetic dataset with the CPU per phase (start state,
demography, seekers, market and inside it the engine rounds, register outcomes, the yearly lists)
and the figures against the issue's target (a shorter --years run is scaled to 10 years, said so).
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from typing import ClassVar


NATIONAL = "/work/data/national-seed1"
TARGET_CPU_S, TARGET_GIB = 120.0, 8.0
"""Issue 17: the national synthetic dataset for 10 years in under 2 minutes per replication and under
8 GiB on 2 cores (measured here as CPU time, which a loaded machine does not inflate)."""


def _cpu() -> float:
    return time.process_time()      # user + system CPU of this process (all threads), ns resolution


def _peak() -> float:
    """Peak resident memory of this process so far, GiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2


def _rss() -> float:
    """Resident memory of this process now, GiB (Linux)."""
    try:
        with open("/proc/self/status") as fh:
            return next(int(line.split()[1]) for line in fh if line.startswith("VmRSS:")) / 1024 ** 2
    except (OSError, StopIteration):
        return float("nan")


class _Phases:
    """CPU and wall time per phase of a replication: wraps the functions the yearly loop calls
    (`boligmix.simulate.replication`'s imports) and `Market` methods; nested phases count in both."""

    NAMES: ClassVar[dict[str, str]] = {"Population.from_dataset": "start state", "deaths": "demography", "emigration": "demography",
             "births": "demography", "draw_seekers": "seekers", "ApplicantFactory": "applicant facts (per year)",
             "Market.run": "market", "outcomes": "register outcomes", "WorkingDataset.write": "lists: write registers",
             "WorkingDataset.indicators": "lists: indicators", "lists_from_indicators": "lists: classify",
             "Donors": "donors (once)", "Population.check": "invariant check",
             "release_garbage": "release the year's market (trim)"}

    def __init__(self) -> None:
        from boligmix.letting.engine import LettingEngine
        from boligmix.simulate import market, replication, screen

        self.cpu: dict[str, float] = {}
        self.wall: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self.market = market
        for name in ("deaths", "emigration", "births", "draw_seekers", "ApplicantFactory", "outcomes",
                     "lists_from_indicators", "Donors", "release_garbage"):
            if hasattr(replication, name):
                setattr(replication, name, self._wrap(self.NAMES[name], getattr(replication, name)))
        population = replication.Population
        population.from_dataset = classmethod(self._wrap("start state", population.from_dataset.__func__))
        for cls, attr, label in ((replication.Market, "run", "market"),
                                 (replication.WorkingDataset, "write", "lists: write registers"),
                                 (replication.WorkingDataset, "indicators", "lists: indicators"),
                                 (population, "check", "invariant check"),
                                 (market.Market, "_let_almen", "market: almen lettings"),
                                 (market.Market, "_let_other", "market: other tenures"),
                                 (market.Market, "_move_in", "market: moves"),
                                 (LettingEngine, "next_offers", "market: almen lettings: engine rounds"),
                                 (screen.WindowScreen, "candidates", "market: almen lettings: screen"),
                                 (LettingEngine, "accept", "market: almen lettings: engine accept")):
            setattr(cls, attr, self._wrap(label, getattr(cls, attr)))

    def _wrap(self, label: str, fn):
        def timed(*args, **kwargs):
            w, c = time.perf_counter(), _cpu()
            try:
                return fn(*args, **kwargs)
            finally:
                self.cpu[label] = self.cpu.get(label, 0.0) + _cpu() - c
                self.wall[label] = self.wall.get(label, 0.0) + time.perf_counter() - w
                self.calls[label] = self.calls.get(label, 0) + 1
                if not label.startswith("market: "):      # progress of the top-level phases, with memory
                    print(f"    .. {label}: cpu {_cpu() - c:.1f} s, RSS now {_rss():.2f} GiB, peak {_peak():.2f} GiB",
                          flush=True)
        return timed

    def report(self, total_cpu: float) -> None:
        for label in sorted(self.cpu):
            print(f"    {label:<42} cpu {self.cpu[label]:8.1f} s ({100 * self.cpu[label] / total_cpu:4.1f} %), "
                  f"wall {self.wall[label]:8.1f} s, calls {self.calls[label]}")


def part1(data: str, years: int, seed: int, phases: bool = False, prepared: str | None = None,
          prepare_only: bool = False) -> float:
    """One replication; returns its CPU time scaled to 10 years (with the phases: the start state
    and the donors counted once). `prepared`: a pickle of the prepared inputs (rates, data indicators): read when it
    exists, else written after preparing, so a later run measures the replication in a fresh process."""
    import dataclasses
    import pickle

    from boligmix.simulate.replication import run_replication
    from boligmix.simulate.run import prepare
    from boligmix.simulate.scenario import load_scenario

    timer = _Phases() if phases else None
    scenario = load_scenario("baseline")
    w0, c0 = time.perf_counter(), _cpu()
    if prepared and os.path.exists(prepared):
        with open(prepared, "rb") as fh:
            shared = dataclasses.replace(pickle.load(fh), years=years, seed=seed)
        what = f"prepared inputs read from {prepared}"
    else:
        shared = prepare(data, scenario, None, years, seed)
        what = "estimate rates + data indicators"
        if prepared:
            with open(prepared, "wb") as fh:
                pickle.dump(shared, fh)
    w1, c1 = time.perf_counter(), _cpu()
    peak_prepare = _peak()
    print(f"part 1: {data}, {years} years from {shared.start}", flush=True)
    print(f"  {what}: wall {w1 - w0:.1f} s, cpu {c1 - c0:.1f} s, "
          f"peak RSS so far {peak_prepare:.2f} GiB, load {os.getloadavg()}", flush=True)
    if prepare_only:
        return 0.0
    out = run_replication(shared, 0, scenario)
    w2, c2 = time.perf_counter(), _cpu()
    print(f"  one replication: wall {w2 - w1:.1f} s, cpu {c2 - c1:.1f} s, peak RSS {_peak():.2f} GiB")
    print(f"  lettings {out['lettings'].height}, events {out['events']}, load {os.getloadavg()}")
    if timer is not None:
        print("  where the replication's CPU goes:")
        timer.report(c2 - c1)
        engine_calls = timer.calls.get("market: almen lettings: engine rounds", 0)
        print(f"  engine rounds per almen letting: {engine_calls / max(out['lettings'].height, 1):.2f}")
        once = timer.cpu.get("start state", 0.0) + timer.cpu.get("donors (once)", 0.0)
        return once + (c2 - c1 - once) * 10 / years     # the start state and donors once, the rest per year
    return (c2 - c1) * 10 / years


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", help="dataset for part 1 (one replication of the baseline)")
    parser.add_argument("--small", help="dataset for part 2 (the households are taken from its start state)")
    parser.add_argument("--households", type=int, default=10_000)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--national", nargs="?", const=NATIONAL, metavar="DIR",
                        help=f"part 1 on the national synthetic dataset (default {NATIONAL}) with the CPU per "
                             f"phase, against the target of {TARGET_CPU_S:.0f} s CPU and {TARGET_GIB:.0f} GiB per "
                             f"replication of 10 years")
    parser.add_argument("--mesa-draws", choices=("python", "numpy"), default="python",
                        help="part 2: the agents' keyed draws in plain Python (default) or through "
                             "boligmix.simulate.rng one value per call")
    parser.add_argument("--phases", action="store_true", help="part 1: print the CPU per phase")
    parser.add_argument("--prepared", metavar="FILE", help="part 1: read the prepared inputs (rates, data "
                        "indicators) from FILE when it exists, else write them there")
    parser.add_argument("--prepare-only", action="store_true", help="part 1: stop after preparing")
    args = parser.parse_args()
    if args.small:
        from simulate_mesa import part2

        part2(args.small, args.households, args.years, args.seed, args.mesa_draws == "numpy")
    if args.data:
        part1(args.data, args.years, args.seed, args.phases, args.prepared, args.prepare_only)
    if args.national:
        per_ten = part1(args.national, args.years, args.seed, True, args.prepared, args.prepare_only)
        if args.prepare_only:
            return
        peak = _peak()
        print(f"  target: one replication of 10 years in {TARGET_CPU_S:.0f} s and {TARGET_GIB:.0f} GiB on 2 cores; "
              f"measured {'' if args.years == 10 else 'scaled to 10 years '}{per_ten:.0f} s CPU "
              f"({per_ten / TARGET_CPU_S:.1f}x the target), peak RSS {peak:.2f} GiB "
              f"({'within' if peak <= TARGET_GIB else 'over'} {TARGET_GIB:.0f} GiB)")


if __name__ == "__main__":
    main()
