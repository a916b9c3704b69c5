"""Session 11's kernels of the year outside the market equal what they replaced, on random inputs
(Hypothesis): the indicators' check for a person with two open residence spells, a scatter over
the person index instead of a sort of the ids on every date, against a brute-force check."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from boligmix.errors import DataValidationError
from boligmix.indicators import person_index
from boligmix.indicators.person_index import Dwellings, Persons, read_spells
from boligmix.indicators.population import FramesDataset

_DATES = [date(2024, 1, 1), date(2025, 1, 1), date(2026, 1, 1)]


def _brute_force(frame: pl.DataFrame, dates: list[date], known: set[int]):
    """The error `read_spells` raises (message start, 1-based file row) or None: the first date with
    a person's two open spells (all their open rows flagged), then an unknown person among the
    spells open on any date."""
    rows = list(frame.iter_rows(named=True))
    for d in dates:
        open_rows = [i for i, r in enumerate(rows) if r["move_in"] <= d and (r["move_out"] is None or r["move_out"] > d)]
        ids = [rows[i]["person_id"] if rows[i]["person_id"] is not None else 0 for i in open_rows]
        twice = [i for i, p in zip(open_rows, ids) if ids.count(p) > 1]
        if twice:
            return "a person has two residence spells", min(twice) + 1
    unknown = [i for i, r in enumerate(rows) if r["person_id"] not in known
               and any(r["move_in"] <= d and (r["move_out"] is None or r["move_out"] > d) for d in dates)]
    if unknown:
        return "person_id is not in persons.parquet", min(unknown) + 1
    return None


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_two_open_spells_are_found_as_by_brute_force(tmp_path_factory, data):
    n_persons = data.draw(st.integers(1, 12))
    person_ids = np.array(sorted(data.draw(st.sets(st.integers(1, 10**17 + 50), min_size=n_persons,
                                                   max_size=n_persons))), dtype=np.int64)
    persons = Persons(person_ids, np.zeros(n_persons, dtype=np.int32), np.zeros(n_persons, dtype=bool))
    dwellings = Dwellings(np.arange(1, 6, dtype=np.int64), np.array([0, 1, -1, 0, 1], dtype=np.int32),
                          np.zeros(5, dtype=np.int8))
    n = data.draw(st.integers(0, 25))
    day = st.integers(-800, 800).map(lambda k: date(2025, 1, 1) + timedelta(days=k))
    unknown_ok = data.draw(st.booleans())
    person = st.sampled_from(person_ids.tolist()) | (st.integers(1, 10**17 + 60) if unknown_ok else st.nothing())
    spells = data.draw(st.lists(st.tuples(person, st.integers(1, 5), day, st.none() | day), min_size=n, max_size=n))
    frame = pl.DataFrame({"person_id": [s[0] for s in spells], "dwelling_id": [s[1] for s in spells],
                          "move_in": [s[2] for s in spells], "move_out": [s[3] for s in spells]},
                         schema={"person_id": pl.Int64, "dwelling_id": pl.Int64, "move_in": pl.Date,
                                 "move_out": pl.Date})
    dates = sorted(data.draw(st.sets(st.sampled_from(_DATES), min_size=1)))
    dataset = FramesDataset(tmp_path_factory.mktemp("spells"), {"residences": frame})
    expected = _brute_force(frame, dates, set(person_ids.tolist()))
    if expected is None:
        _spells, residents = read_spells(dataset, dates, dwellings, persons)
        for d in dates:                       # who lives where: each open spell's person in its region
            open_ids = [r["person_id"] for r in frame.iter_rows(named=True)
                        if r["move_in"] <= d and (r["move_out"] is None or r["move_out"] > d)]
            assert sorted(person_ids[residents[d].region >= 0].tolist()) == sorted(open_ids)
    else:
        with pytest.raises(DataValidationError) as info:
            read_spells(dataset, dates, dwellings, persons)
        assert info.value.reason.startswith(expected[0])
        assert info.value.row == expected[1]


def test_a_planted_bug_in_the_scatter_check_is_caught(tmp_path, monkeypatch):
    """Two open spells of one person among unordered spells: the check must raise (a check that
    compared the open spells with themselves would pass them)."""
    persons = Persons(np.array([10, 20, 30], dtype=np.int64), np.zeros(3, dtype=np.int32), np.zeros(3, dtype=bool))
    dwellings = Dwellings(np.array([1, 2], dtype=np.int64), np.array([0, 1], dtype=np.int32), np.zeros(2, dtype=np.int8))
    frame = pl.DataFrame({"person_id": [30, 10, 20, 10], "dwelling_id": [1, 1, 2, 2],
                          "move_in": [date(2020, 1, 1)] * 4, "move_out": [None, None, None, date(2025, 6, 1)]},
                         schema={"person_id": pl.Int64, "dwelling_id": pl.Int64, "move_in": pl.Date, "move_out": pl.Date})
    dataset = FramesDataset(tmp_path, {"residences": frame})
    with pytest.raises(DataValidationError, match="two residence spells open on 2025-01-01") as info:
        read_spells(dataset, [date(2025, 1, 1)], dwellings, persons)
    assert info.value.row == 2
    read_spells(dataset, [date(2026, 1, 1)], dwellings, persons)      # closed by then: no error
    assert person_index.read_spells is read_spells


# --- register outcomes -------------------------------------------------------------------------

from types import SimpleNamespace  # noqa: E402

from boligmix.simulate import area_levels, per_resident, status_history  # noqa: E402
from boligmix.simulate.lookup import sorted_lookup  # noqa: E402


def _old_outside_years(pop, years, outside: np.ndarray, by_id: np.ndarray) -> np.ndarray:
    """`outside_years` of session 10: every resident's id looked up in every year's statuses."""
    ids = pop.pid[by_id]
    count = np.zeros(ids.size, dtype=np.int64)
    for year in years:
        st_ids, st = status_history.year_statuses(pop, year)
        count += outside[sorted_lookup(st_ids, st, ids, 0)]
    out = np.empty_like(count)
    out[by_id] = count
    return out


def _status_pop(rng: np.random.Generator, n: int, years: range, n_statuses: int, far: bool):
    pid = rng.choice(np.arange(3 * n + 10, dtype=np.int64), n, replace=False)
    if far:                                   # the simulation's new persons: ids from 5 * 10**15 on
        pid[: n // 3] += 5 * 10**15
    cache = {}
    for year in years:                        # the year's labour persons: some residents, some not
        others = rng.integers(0, 4 * n + 10, n // 2) + (5 * 10**15 if far else 0)
        ids = np.unique(np.concatenate([rng.choice(pid, rng.integers(0, n + 1), replace=False) if n else pid, others]))
        cache[year] = (ids, rng.integers(1, n_statuses, ids.size).astype(np.int8))
    return SimpleNamespace(pid=pid, status_cache=cache, labour={})


@settings(max_examples=120, deadline=None)
@given(n=st.integers(0, 300), n_years=st.integers(0, 5), n_statuses=st.integers(2, 18), far=st.booleans(),
       none_outside=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_outside_years_equal_the_lookup_of_every_id(n, n_years, n_statuses, far, none_outside, seed):
    rng = np.random.default_rng(seed)
    years = range(2024, 2024 - n_years, -1)
    pop = _status_pop(rng, n, years, n_statuses, far)
    outside = rng.random(n_statuses) < 0.4
    outside[0] = none_outside                 # status 0 (no labour rows) outside: the lookup path
    by_id = np.argsort(pop.pid, kind="stable")
    expected = _old_outside_years(pop, years, outside, by_id)
    got = status_history.outside_years(pop, years, outside, by_id)
    assert got.dtype == expected.dtype
    assert np.array_equal(got, expected)
    assert np.array_equal(status_history.outside_years_sorted(pop, years, outside, pop.pid[by_id]), expected[by_id])


def test_outside_years_at_the_joined_lookups_size():
    """More residents than `SEARCH_IN_ORDER`: the old code's polars join path."""
    rng = np.random.default_rng(3)
    years = range(2024, 2019, -1)
    pop = _status_pop(rng, 150_000, years, 18, True)
    outside = rng.random(18) < 0.3
    outside[0] = False
    by_id = np.argsort(pop.pid, kind="stable")
    assert np.array_equal(status_history.outside_years(pop, years, outside, by_id),
                          _old_outside_years(pop, years, outside, by_id))


@settings(max_examples=60, deadline=None)
@given(n=st.integers(0, 400), n_areas=st.integers(1, 6), chunk=st.sampled_from([1, 7, 64, 1 << 19]),
       seed=st.integers(0, 2**32 - 1))
def test_outside_probability_a_chunk_at_a_time_equals_at_once(n, n_areas, chunk, seed):
    """`outcomes` computes the outside rate chunk by chunk in the draws' loop: the same values as
    for every resident at once (both of `outside_probability`'s paths)."""
    rng = np.random.default_rng(seed)
    names = [f"A{i}" for i in range(n_areas)]
    for size in (n, 10**9):                   # the per-(cell, area) table, and the per-resident path
        pop = SimpleNamespace(size=size, dwellings=SimpleNamespace(area_codes=lambda: (None, names)))
        rates = SimpleNamespace(outside=rng.random((4, 7, 3)),
                                area_outside_effect={a: float(rng.normal()) for a in names if rng.random() < 0.7})
        bands, hist, ab = rng.integers(0, 4, n), rng.integers(0, 7, n), rng.integers(0, 3, n)
        age, code = rng.integers(0, 90, n), rng.integers(-1, n_areas, n)
        whole = area_levels.outside_probability(pop, rates, bands, hist, ab, age, code)
        parts = [area_levels.outside_probability(pop, rates, bands[s], hist[s], ab[s], age[s], code[s])
                 for s in (slice(lo, lo + chunk) for lo in range(0, n, chunk))]
        assert np.array_equal(np.concatenate([np.zeros(0), *parts]), whole)


# --- demography --------------------------------------------------------------------------------

from boligmix.simulate import demography  # noqa: E402
from boligmix.simulate.population import day  # noqa: E402


@settings(max_examples=60, deadline=None)
@given(year=st.integers(1990, 2060), months=st.lists(st.integers(1, 12), max_size=40),
       dom=st.sampled_from([demography.DEATH_DAY, demography.EMIGRATION_DAY, demography.BIRTH_DAY, 1, 28]))
def test_event_days_equal_a_date_per_event(year, months, dom):
    month = np.array(months, dtype=np.int64)
    expected = np.array([day(year, int(m), dom) for m in month], dtype=np.int64)   # the code it replaced
    got = demography.event_days(year, month, dom)
    assert got.dtype == expected.dtype and got.shape == expected.shape
    assert np.array_equal(got, expected)


def _old_resident_index(ascending: np.ndarray, by_id: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """`resident_index` of session 10 (no fast path for every resident's id in order)."""
    if ascending.size == 0 or not (ids.size > 1 and bool(np.all(ids[1:] >= ids[:-1]))):
        return sorted_lookup(ascending, by_id, ids, -1).astype(np.int32)
    pos = np.searchsorted(ascending, ids)
    np.minimum(pos, ascending.size - 1, out=pos)
    return np.where(ascending[pos] == ids, by_id[pos], -1).astype(np.int32)


@settings(max_examples=80, deadline=None)
@given(n=st.integers(0, 200), kind=st.sampled_from(["all", "some", "others", "unordered"]),
       seed=st.integers(0, 2**32 - 1))
def test_resident_index_of_every_resident_in_order(n, kind, seed):
    """The year's new person_years (a row per resident, in id order) take the residents' own order;
    any other ids the search, as before."""
    rng = np.random.default_rng(seed)
    pid = rng.choice(np.arange(4 * n + 5, dtype=np.int64), n, replace=False) + rng.integers(0, 2) * 10**17
    by_id = np.argsort(pid, kind="stable")
    ascending = pid[by_id]
    if kind == "all":
        ids = ascending.copy()
    elif kind == "some":
        ids = np.sort(rng.choice(ascending, rng.integers(0, n + 1), replace=False)) if n else ascending[:0]
    elif kind == "others":                    # as many ids as residents, not all of them residents'
        ids = np.sort(rng.choice(np.arange(5 * n + 5, dtype=np.int64), n, replace=False))
    else:
        ids = rng.permutation(ascending)
    got = per_resident.resident_index(ascending, by_id, ids)
    assert got.dtype == np.int32
    assert np.array_equal(got, _old_resident_index(ascending, by_id, ids))
    if kind == "all":
        assert np.array_equal(pid[got], ids)
