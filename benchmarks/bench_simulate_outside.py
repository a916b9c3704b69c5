"""Benchmark: one national year outside the market, alone, from a saved state (the register
outcomes, the lists' registers and indicators), with CPU per step and a fingerprint of the results
(so two code versions run on the same state can be compared for identical outputs).

The state is `bench_simulate_market.py save`'s (the population of the first simulated year before
its market: the outcomes, registers and indicators run on it as on any year's population):

    flock /work/bench.lock env PYTHONPATH=src python benchmarks/bench_simulate_outside.py \\
        --state /tmp/s11-nat-state.pkl --prepared /tmp/s7-national-prepared-merged.pkl [--repeat 2]

`--repeat N` runs the outcomes and indicators N times on the same state (the year's rows are
dropped in between). Prints CPU seconds of this process (all threads), the peak RSS and the load.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import os
import pickle
import resource
import tempfile
import time
from pathlib import Path

import numpy as np


def _rss() -> str:
    return f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB"


def _digest(frame) -> str:
    """A hash of a polars frame's values (column by column, nulls included)."""
    h = hashlib.sha256()
    for name in frame.columns:
        col = frame[name]
        h.update(name.encode())
        h.update(col.hash(seed=0).to_numpy().tobytes())
    return h.hexdigest()[:16]


def _timers(module, names: list[str], totals: dict[str, float]) -> None:
    """Wrap module-level functions (and Class.method names) with CPU timers adding into `totals`."""
    for name in names:
        owner, attr = (module, name) if "." not in name else (getattr(module, name.split(".")[0]), name.split(".")[1])
        fn = getattr(owner, attr, None)
        if fn is None:
            continue

        def timed(*args, __fn=fn, __name=name, **kwargs):
            c = time.process_time()
            try:
                return __fn(*args, **kwargs)
            finally:
                totals[__name] = totals.get(__name, 0.0) + time.process_time() - c
        setattr(owner, attr, functools.wraps(fn)(timed))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--state", required=True)
    parser.add_argument("--prepared", required=True)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--kernels", action="store_true", help="CPU of the outcomes' steps (timers on its functions)")
    args = parser.parse_args()

    from boligmix.simulate import register_outcomes
    from boligmix.simulate.register_outcomes import Donors, outcomes
    from boligmix.simulate.yearly_lists import WorkingDataset

    print(f"load {os.getloadavg()}", flush=True)
    c = time.process_time()
    with open(args.prepared, "rb") as fh:
        shared = pickle.load(fh)
    with open(args.state, "rb") as fh:
        s = pickle.load(fh)
    pop, year, seed, rep = s["pop"], s["year"], s["seed"], s["rep"]
    del s
    print(f"state read: cpu {time.process_time() - c:.1f} s, {pop.size:,} persons, {_rss()}", flush=True)
    c = time.process_time()
    donors = Donors(pop, shared.start - 1, shared.rates.outside_statuses)
    print(f"donors: cpu {time.process_time() - c:.1f} s, {_rss()}", flush=True)
    totals: dict[str, float] = {}
    if args.kernels:
        _timers(register_outcomes, ["outside_years_sorted", "outside_probability", "resident_index", "is_in",
                                    "sorted_union_of_kept", "education_step", "area_outside_bands", "area_code",
                                    "status_on", "Donors.pick", "Donors.rows",
                                    "conviction_probability", "cumulative_draw"], totals)
    with tempfile.TemporaryDirectory(prefix="bench-outside-") as tmp:
        for r in range(args.repeat):
            for table in (pop.labour, pop.person_years, pop.convictions):
                table.pop(year, None)
            pop.status_cache.pop(year, None)
            totals.clear()
            c = time.process_time()
            outcomes(pop, shared.rates, donors, seed, rep, year)
            t_out = time.process_time() - c
            print(f"[{r}] register outcomes: cpu {t_out:.1f} s, {_rss()}, load {os.getloadavg()[0]:.1f}", flush=True)
            for name, t in sorted(totals.items(), key=lambda kv: -kv[1]):
                print(f"      {name:<28} cpu {t:6.2f} s")
            print(f"      labour {_digest(pop.labour[year])} person_years {_digest(pop.person_years[year])} "
                  f"convictions {_digest(pop.convictions[year])} status "
                  f"{hashlib.sha256(np.ascontiguousarray(pop.status_cache[year][1]).tobytes()).hexdigest()[:16]}",
                  flush=True)
            working = WorkingDataset(shared.dataset_dir, Path(tmp) / f"data{r}", shared.start)
            c = time.process_time()
            working.write(pop, year)
            t_write = time.process_time() - c
            c = time.process_time()
            new = working.indicators(year + 1)
            t_ind = time.process_time() - c
            print(f"[{r}] lists: write registers cpu {t_write:.1f} s, indicators cpu {t_ind:.1f} s, {_rss()}, "
                  f"indicators {_digest(new)}", flush=True)
    print(f"done: {_rss()}, load {os.getloadavg()}")


if __name__ == "__main__":
    main()
