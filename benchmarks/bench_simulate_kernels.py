"""Benchmark: the simulation's array kernels at national size (7.7 million persons, 3.85 million
households, random ids), each against the numpy call it replaced, with the result checked equal.

    env PYTHONPATH=src python benchmarks/bench_simulate_kernels.py [--persons N]

Then the kernels of the year outside the market (session 9): the year's labour rows merged,
the education step, the residents' dwelling positions, the donor cells, adding the seekers and
drawing their areas; and session 10's: the bucketed cumulative draw, the in-place random streams
and ages, the outside rate with its area effect per (cell, area), the residents of last year's
person_years rows found once.

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
    outside_the_market(rng, n)
    print(f"load {os.getloadavg()}")
    year_kernels(rng, n)
    print(f"load {os.getloadavg()}")


def outside_the_market(rng: np.random.Generator, n: int) -> None:
    """Session 9's kernels of the year outside the market, each against the code it replaced."""
    import polars as pl

    from boligmix.simulate.applicants import Seekers
    from boligmix.simulate.destination import AreaChoice
    from boligmix.simulate.lookup import sorted_groups, sorted_union
    from boligmix.simulate.population import Dwellings
    from boligmix.simulate.education_moves import with_education_states

    pid = np.sort(rng.choice(10**10, n, replace=False))
    per = rng.integers(1, 3, n)                               # one or two labour rows a person
    rows = np.repeat(pid, per)
    within = np.arange(rows.size) - np.repeat(np.cumsum(per) - per, per)
    names = np.array(["arbejdsloes", "beskaeftiget", "foertidspension", "kontanthjaelp", "pension", "uddannelse"])
    labour = pl.DataFrame({"person_id": rows, "year": np.full(rows.size, 2024), "attachment":
                           names[(np.repeat(rng.integers(0, 6, n), per) + within) % 6], "fte": rng.random(rows.size)}
                          ).sort("person_id", "attachment")
    switch = np.repeat(rng.random(n) < 0.3, per)              # rows of persons who take a donor's
    kept, donated = labour.filter(pl.Series(~switch)), labour.filter(pl.Series(switch)).sample(fraction=1.0, seed=1)
    a = _timed(f"year's labour ({rows.size:,} rows): concat + sort by person, attachment",
               lambda: pl.concat([kept, donated]).sort("person_id", "attachment"))
    b = _timed("year's labour: lookup.sorted_union (merge the sorted donated rows)",
               lambda: sorted_union(kept, donated, ("person_id", "attachment")))
    assert a.equals(b)
    pairs = [("grundskole", "dk"), ("gymnasial", "dk"), ("erhvervsfaglig", "dk"), ("uoplyst", "none"),
             ("lang_videregaaende", "imputed")]
    states = pl.DataFrame({"highest_education": [p[0] for p in pairs], "education_source": [p[1] for p in pairs],
                           "state": np.arange(len(pairs))})
    code = rng.integers(0, len(pairs), n)
    person_years = pl.DataFrame({"person_id": pid}).with_columns(
        states["highest_education"].gather(code), states["education_source"].gather(code))
    nxt = np.where(rng.random(n) < 0.03, rng.integers(0, len(pairs), n), code)
    own = np.arange(n)

    def every_row():
        at = pl.Series(own, dtype=pl.Int64)
        drawn = states[nxt]
        level = pl.repeat(None, n, dtype=pl.String, eager=True).scatter(at, drawn["highest_education"])
        source = pl.repeat(None, n, dtype=pl.String, eager=True).scatter(at, drawn["education_source"])
        return person_years.with_columns(pl.coalesce(level, "highest_education").alias("highest_education"),
                                         pl.coalesce(source, "education_source").alias("education_source"))

    a = _timed("education step: every row scattered and coalesced", every_row)
    b = _timed("education step: with_education_states (the rows that change)",
               lambda: with_education_states(person_years, own, code, nxt, states))
    assert a.equals(b)
    ids = np.arange(n // 2 - n // 10, dtype=np.int64) * 2_654_435_761 + 3 * 10**12      # dwellings, spread out
    k = ids.size
    dw = Dwellings(frame=pl.DataFrame(), ids=ids, tenure=np.zeros(k, np.int8), almen_type=np.full(k, None),
                   area=np.full(k, None), municipality=np.zeros(k, np.int64), rooms=np.ones(k, np.int64),
                   household=np.zeros(k, np.int64), active=np.ones(k, bool), vacant_from=np.ones(k, np.int64),
                   department=np.full(k, None), org=np.full(k, None), floor_area=np.ones(k), rent=np.ones(k))
    wanted = ids[rng.integers(0, k, n)]
    dw.position(wanted[:10])

    def sort_and_search():
        by_id = np.argsort(wanted)
        found = np.empty(wanted.size, dtype=np.int64)
        found[by_id] = np.searchsorted(dw._sorted, wanted[by_id])
        return dw._order[np.minimum(found, k - 1)]

    a = _timed(f"residents' dwelling positions ({k:,} dwellings): sort + search", sort_and_search)
    b = _timed("residents' dwelling positions: Dwellings.position (hash join)", lambda: dw.position(wanted))
    assert np.array_equal(a, b)
    cells = np.sort(rng.integers(0, 5000, n) * 1_000_003)
    a = _timed("donor cells of sorted codes: np.unique(return_index, return_counts)",
               lambda: np.unique(cells, return_index=True, return_counts=True))
    b = _timed("donor cells of sorted codes: lookup.sorted_groups", lambda: sorted_groups(cells))
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    m = n // 15                                                # the year's seekers
    sids = rng.choice(10**12, m, replace=False).tolist()
    month, wants = rng.integers(1, 13, m).tolist(), (rng.random(m) < 0.3).tolist()
    muni = rng.choice(np.arange(101, 1000, 9), m).tolist()
    dwelling = rng.integers(1, 10**9, m).tolist()
    members = np.split(np.arange(2 * m, dtype=np.int64), np.arange(2, 2 * m, 2))

    def one_by_one():
        s = Seekers()
        for row in zip(sids, ["mover"] * m, month, wants, muni, dwelling, members, [None] * m):
            s.add(*row)
        return s

    def at_once():
        s = Seekers()
        s.add_many(sids, "mover", month, wants, muni, dwelling, members)
        return s

    a = _timed(f"{m:,} seekers: Seekers.add one by one", one_by_one)
    b = _timed(f"{m:,} seekers: Seekers.add_many", at_once)
    assert list(a.kind) == list(b.kind) and [list(g) for g in a._by_group.values()] == \
        [list(g) for g in b._by_group.values()]
    areas = [f"A{i}" for i in range(8)] + [None]
    choice = AreaChoice({(g, bb, mu): (areas, np.cumsum(np.full(len(areas), 1 / len(areas))))
                         for g in (0, 1) for bb in (0, 1) for mu in range(101, 1000, 9)})
    label = {a: i + 1 for i, a in enumerate(areas[:-1])}
    nw, basic, mu, u = rng.integers(0, 2, m), rng.integers(0, 2, m), np.array(muni), rng.random(m)
    a = _timed("seekers' areas: AreaChoice.draw_many + a label per seeker",
               lambda: [label.get(x, 0) for x in choice.draw_many(nw, basic, mu, u)])
    b = _timed("seekers' areas: AreaChoice.draw_labels", lambda: choice.draw_labels(nw, basic, mu, u, label))
    assert a == b.tolist()


def year_kernels(rng: np.random.Generator, n: int) -> None:
    """Session 10's kernels of the register outcomes, each against the code it replaced (the old
    code as in tests/test_simulate_year_kernels.py)."""
    from types import SimpleNamespace

    import boligmix.simulate.rng as keyed
    from boligmix.simulate.lookup import is_in
    from boligmix.simulate.population import whole_years
    from boligmix.simulate.rates import outside_band, with_area_effect
    from boligmix.simulate.area_levels import area_outside_bands, outside_probability
    from boligmix.simulate.per_resident import flag_at, resident_index
    from boligmix.simulate.transitions import cumulative_draw

    import test_simulate_year_kernels as old          # tests/ on the path (below)

    p = rng.random((10, 2, 18, 2, 18))
    p[rng.random(p.shape) < 0.6] = 0
    p[..., 0] += 1e-3
    table = np.cumsum(p / p.sum(axis=-1, keepdims=True), axis=-1)       # status-like: 18 categories, zeros
    index = tuple(rng.integers(0, k, n) for k in table.shape[:-1])
    u = rng.random(n)
    a = _timed(f"status draw of {n:,}: binary search per draw (session 9)",
               lambda: old._binary_search_draw(table, index, u, True))
    b = _timed("status draw: cumulative_draw by bucket", lambda: cumulative_draw(table, index, u, strict=True))
    assert np.array_equal(a, b)
    pid = rng.permutation(np.arange(n, dtype=np.int64) * 7 + 10**12)
    head = old._old_mix(old._old_mix(np.array([1], dtype=np.int64).view(np.uint64)) ^ np.uint64(0))
    tail = np.uint64((2030 << 16) | keyed.STATUS)
    a = _timed("uniform draws: a fresh array per operation (session 9)", lambda: (old._old_mix(old._old_mix(
        head ^ pid.view(np.uint64)) ^ tail) >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0))
    b = _timed("uniform draws: rng.uniform, one compiled loop (session 12)", lambda: keyed.uniform(1, 0, pid, 2030, keyed.STATUS))
    assert np.array_equal(a, b)
    birth = rng.integers(-30_000, 20_000, n)
    a = _timed("ages: (days * 4) // 1461, fresh arrays (session 9)",
               lambda: np.floor_divide((22_000 - birth).astype(np.int64) * 4, 1461))
    b = _timed("ages: whole_years in place", lambda: whole_years(22_000 - birth))
    assert np.array_equal(a, b)
    names = [f"A{i}" for i in range(200)]                    # the national dataset's 200 areas
    pop = old._Pop(names, n)
    code = np.where(rng.random(n) < 0.85, -1, rng.integers(0, 200, n))
    shares = {a: float(x) for a, x in zip(names, rng.random(200) * 0.7)}
    effects = {a: float(x) for a, x in zip(names, rng.normal(0, 0.4, 200))}
    a = _timed("outside bands: outside_band per resident (session 9)",
               lambda: outside_band(*old._old_per_area(names, shares, code)))
    b = _timed("outside bands: per area code, gathered", lambda: area_outside_bands(pop, 2030, None, None, shares, code))
    assert np.array_equal(a, b)
    outside = rng.random((10, 7, 8))
    cells = (rng.integers(0, 10, n), rng.integers(0, 7, n), rng.integers(0, 8, n))
    age = rng.integers(0, 100, n)

    def per_resident():
        effect, _ = old._old_per_area(names, effects, code)
        return with_area_effect(outside[cells], np.where((age >= 18) & (age <= 64), effect, 0.0))

    a = _timed("outside rate with the area effect: per resident (session 9)", per_resident)
    b = _timed("outside rate with the area effect: per (cell, area), gathered", lambda: outside_probability(
        pop, SimpleNamespace(outside=outside, area_outside_effect=effects), *cells, age, code))
    assert np.array_equal(a, b)
    prev = np.sort(pid[rng.random(n) < 0.92])                # last year's person_years ids
    keep = rng.random(n) < 0.8
    by_id = np.argsort(pid, kind="stable")
    ascending = pid[by_id]

    def hash_sets():
        return is_in(prev, pid), is_in(ascending[keep[by_id]], prev), is_in(ascending[~keep[by_id]], prev)

    def through_residents():
        res = resident_index(ascending, by_id, prev)
        has = np.zeros(n, dtype=bool)
        has[res[res >= 0]] = True
        return has, flag_at(keep, res), flag_at(~keep, res)

    a = _timed("has a row / kept / switching rows: three hash sets (session 9)", hash_sets)
    b = _timed("has a row / kept / switching rows: resident_index once", through_residents)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))


if __name__ == "__main__":
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    main()
