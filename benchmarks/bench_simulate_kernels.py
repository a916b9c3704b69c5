"""Benchmark: the simulation's array kernels at national size (7.7 million persons, 3.85 million
households, random ids), each against the numpy call it replaced, with the result checked equal.

    env PYTHONPATH=src python benchmarks/bench_simulate_kernels.py [--persons N]

Prints CPU seconds (this process, all threads: polars sorts on every core) and the load average.
Peak memory is under 2 GiB at the default size.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np


def _timed(label: str, fn):
    c = time.process_time()
    out = fn()
    print(f"  {label:<58} cpu {time.process_time() - c:6.2f} s", flush=True)
    return out


def main() -> None:
    from boligmix.simulate.lookup import is_in, sort_order
    from boligmix.simulate.transitions import cumulative_draw

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, default=7_700_000)
    n = parser.parse_args().persons
    rng = np.random.default_rng(1)
    household = rng.integers(6 * 10**15, 7 * 10**15, n // 2)[rng.integers(0, n // 2, n)]
    pid = rng.permutation(np.arange(n, dtype=np.int64) * 7 + 10**12)
    birth = rng.integers(-30_000, 20_000, n)
    print(f"{n:,} persons, load {os.getloadavg()}")
    a = _timed("households' heads: np.lexsort((pid, birth, household))", lambda: np.lexsort((pid, birth, household)))
    b = _timed("households' heads: lookup.sort_order(household, birth, pid)", lambda: sort_order(household, birth, pid,
                                                                                             stable=False))
    assert np.array_equal(a, b)

    def unique_and_search():
        hh, first = np.unique(household, return_index=True)
        return hh, np.searchsorted(hh, household)

    def grouped():
        order = np.argsort(household, kind="stable")
        ordered = household[order]
        return ordered[np.r_[True, ordered[1:] != ordered[:-1]]]

    hh, _ = _timed("invariant check's households: np.unique + search of each person's", unique_and_search)
    assert np.array_equal(hh, _timed("invariant check's households: stable argsort, one pass", grouped))
    moving = np.unique(household[rng.integers(0, n, n // 20)])
    a = _timed(f"members of {moving.size:,} moving households: np.isin", lambda: np.isin(household, moving))
    b = _timed("members of the moving households: lookup.is_in (hash set)", lambda: is_in(moving, household))
    assert np.array_equal(a, b)
    table = rng.random((100, 30, 30))
    table[rng.random(table.shape) < 0.5] = 0
    table = np.cumsum(table, axis=-1)
    table /= np.maximum(table[..., -1:], 1e-9)
    index = (rng.integers(0, 100, n), rng.integers(0, 30, n))
    u = rng.random(n)
    drawn = _timed("status-like draw: transitions.cumulative_draw (strict)",
                   lambda: cumulative_draw(table, index, u, strict=True))
    some = slice(0, 500_000)                                          # the reference: a count per row
    assert np.array_equal(drawn[some], (table[index[0][some], index[1][some]] < u[some, None]).sum(axis=1))
    print(f"load {os.getloadavg()}")


if __name__ == "__main__":
    main()
