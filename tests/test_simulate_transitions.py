"""The demographic transitions added for the backcast: education and moves between municipalities
(hand-computed estimates, Hypothesis against a per-person oracle), partnership/separation counts,
immigrants seeking where their donor household arrived, and dwellings that open in the year the
data shows them first occupied."""

import copy
import dataclasses
from datetime import date
from functools import lru_cache

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from simulate_support import START, shared
from synth_data import small_dataset_dir

from boligmix.data.io import read_table
from boligmix.simulate.demography import births, deaths, dwelling_stock, emigration
from boligmix.simulate.market import area_labels, draw_seekers
from boligmix.simulate.population import Population
from boligmix.simulate.rates import BIRTH_BANDS, band
from boligmix.simulate.transitions import PRIOR_WEIGHT, TransitionCounts, Transitions

# -- estimation on a hand-made history -----------------------------------------------------------

DW_MUNI = pl.DataFrame({"dwelling_id": [1, 2, 3, 7, 8, 9], "municipality_code": [101, 101, 202, 202, 202, 202]})


def _history() -> TransitionCounts:
    """H1 (A 40, B 38, C 20) moves from dwelling 1 (101) to 7 (202) without C, who leaves home to 8
    (202); D (35, alone in H2) moves into H3 (E 50, F 48), F leaves H3 for 9: one partnership, one
    separation, one leaving home. C goes from grundskole to gymnasial, D stays at grundskole."""
    now = pl.DataFrame({
        "person_id": [1, 2, 3, 4, 5, 6], "household_id": [10, 10, 10, 20, 30, 30],
        "dwelling_id": [1, 1, 1, 2, 3, 3], "age": [40, 38, 20, 35, 50, 48],
        "hh_next": [10, 10, 40, 30, 30, 50], "dw_next": [7, 7, 8, 3, 3, 9]})
    edu = ["grundskole", "gymnasial"]
    py = pl.DataFrame({"person_id": [3, 3, 4, 4], "year": [2010, 2011, 2010, 2011],
                       "highest_education": [edu[0], edu[1], edu[0], edu[0]],
                       "education_source": ["dk_registered"] * 4})
    counts = TransitionCounts(np.array([101, 202]), py, DW_MUNI)
    counts.add_year(2011, now, heads={1, 4, 5})
    return counts


def test_household_changes_count_partnership_separation_and_leaving_home():
    changes = _history().finish().household_changes.row(0, named=True)
    assert changes == {"year": 2011, "households": 3, "partnerships": 1, "separations": 1, "leaving_home": 1}


def test_education_and_municipality_estimates_by_hand():
    tr = _history().finish()
    states = {s: i for i, s in enumerate(tr.education_states)}
    grund, gym = states[("grundskole", "dk_registered")], states[("gymnasial", "dk_registered")]
    p = np.diff(tr.education[20, grund], prepend=0.0)
    # one observation at 20 (to gymnasial), the parent over all ages is half and half
    assert p[gym] == pytest.approx((1 + PRIOR_WEIGHT * 0.5) / (1 + PRIOR_WEIGHT))
    assert np.diff(tr.education[35, grund], prepend=0.0)[grund] == pytest.approx((1 + 10) / 21)
    assert np.diff(tr.education[30, grund], prepend=0.0)[gym] == pytest.approx(0.5)   # no data: the parent
    # the household move and the leaver both went 101 -> 202; nobody left 202, so its movers stay
    u = np.array([0.01, 0.99, 0.5, 0.5])
    assert tr.destination_municipality(0, np.array([101, 101, 202, 303]), u).tolist() == [202, 202, 202, 303]
    assert tr.destination_municipality(1, np.array([101]), np.array([0.0])).tolist() == [202]


# -- applying them: Hypothesis against a per-person oracle -----------------------------------------

@st.composite
def tables(draw):
    n = draw(st.integers(1, 4))
    ages = 3
    raw = np.array(draw(st.lists(st.integers(0, 5), min_size=ages * n * n, max_size=ages * n * n)),
                   dtype=float).reshape(ages, n, n) + np.eye(n)[None] * 0.5
    cum = np.cumsum(raw / raw.sum(axis=-1, keepdims=True), axis=-1)
    states = tuple((f"l{i}", f"s{i % 2}") for i in range(n))
    people = draw(st.integers(0, 30))
    state = np.array(draw(st.lists(st.integers(0, n), min_size=people, max_size=people)), dtype=int)   # n: unknown
    age = np.array(draw(st.lists(st.integers(0, 80), min_size=people, max_size=people)), dtype=int)
    u = np.array(draw(st.lists(st.floats(0, 1, exclude_max=True), min_size=people, max_size=people)))
    return cum, states, state, age, u


@settings(max_examples=60, deadline=None)
@given(tables())
def test_education_step_equals_a_per_person_draw_and_keeps_everyone(case):
    cum, states, state, age, u = case
    n = len(states)
    # the table's ages 0-2 stand in for 0..EDU_AGE_CAP: map every age to its capped row
    full = np.concatenate([cum, np.repeat(cum[-1:], 41 - cum.shape[0], axis=0)])
    tr = Transitions(states, full, np.array([1]), np.ones((2, 1, 1)), pl.DataFrame())
    level = np.array([states[s][0] if s < n else "unknown" for s in state], dtype=object)
    source = np.array([states[s][1] if s < n else "x" for s in state], dtype=object)
    out_level, out_source = tr.education_step(level, source, age, u)
    assert len(out_level) == len(out_source) == state.size
    for i in range(state.size):
        if state[i] == n:
            assert (out_level[i], out_source[i]) == ("unknown", "x")
            continue
        row = full[min(age[i], 40), state[i]]
        expected = next(j for j in range(n) if u[i] < row[j] or j == n - 1)
        assert (out_level[i], out_source[i]) == states[expected]


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_destination_municipality_equals_a_per_household_draw(data):
    m = data.draw(st.integers(1, 4))
    munis = np.array(sorted(data.draw(st.sets(st.integers(100, 999), min_size=m, max_size=m))))
    raw = np.array(data.draw(st.lists(st.integers(0, 4), min_size=2 * m * m, max_size=2 * m * m)), dtype=float
                   ).reshape(2, m, m) + np.eye(m)[None]
    cum = np.cumsum(raw / raw.sum(axis=-1, keepdims=True), axis=-1)
    tr = Transitions((), np.zeros((41, 0, 0)), munis, cum, pl.DataFrame())
    k = data.draw(st.integers(0, 1))
    pool = [*munis.tolist(), 5]
    start = np.array(data.draw(st.lists(st.sampled_from(pool), max_size=20)), dtype=np.int64)
    u = np.array(data.draw(st.lists(st.floats(0, 1, exclude_max=True), min_size=start.size, max_size=start.size)))
    out = tr.destination_municipality(k, start, u)
    assert out.size == start.size
    for i, muni in enumerate(start.tolist()):
        if muni == 5:
            assert out[i] == 5
            continue
        row = cum[k, munis.tolist().index(muni)]
        assert out[i] == munis[next(j for j in range(m) if u[i] < row[j] or j == m - 1)]


# -- in the simulation ------------------------------------------------------------------------------

def test_immigrants_seek_where_their_donor_household_arrived():
    sh = shared()
    pop = copy.deepcopy(Population.from_dataset(small_dataset_dir(), START))
    target = int(np.unique(pop.dwellings.municipality)[-1])
    area = sorted({a for a, m in zip(pop.dwellings.area, pop.dwellings.municipality) if a is not None
                   and int(m) == target})[-1]
    pool = sh.rates.immigrant_pool.with_columns(pl.lit(target).alias("municipality"), pl.lit(True).alias("almen"),
                                                pl.lit(area).alias("area_id"))
    rates = dataclasses.replace(sh.rates, immigrant_pool=pool)
    seekers = draw_seekers(pop, rates, 5, 0, START, {})
    immigrants = [s for s, k in seekers.kind.items() if k == "immigrant"]
    assert len(immigrants) >= 10
    assert {seekers.municipality[s] for s in immigrants} == {target}
    label = area_labels(pop)[1][area]
    assert all(seekers.wants_almen[s] and seekers.area_band[s] == label for s in immigrants)
    # the estimated pool: where the households of the estimation years arrived
    arrived = sh.rates.immigrant_pool.group_by("household").agg(pl.col("municipality").n_unique())
    assert arrived["municipality"].max() == 1


def test_backcast_start_opens_dwellings_in_the_year_the_data_first_shows_them_occupied():
    data = small_dataset_dir()
    start = 2012
    pop = Population.from_dataset(data, start)
    dw = pop.dwellings
    first = read_table(data, "residences").group_by("dwelling_id").agg(pl.col("move_in").min().alias("first"))
    later = first.filter(pl.col("first") > date(start, 1, 1))
    pos = dw.position(later["dwelling_id"].to_numpy())
    assert later.height > 50
    assert not dw.active[pos].any()
    assert dw.active[dw.household != 0].all()
    in_2013 = later.filter(pl.col("first").dt.year() == 2013)
    assert dw.open_built(2013) == in_2013.height
    pos13 = dw.position(in_2013["dwelling_id"].to_numpy())
    assert dw.active[pos13].all()
    assert dw.vacant_from[pos13].tolist() == in_2013["first"].dt.month().to_list()
    assert int(dw.active.sum()) == int((~np.isin(np.arange(dw.ids.size), pos)).sum()) + in_2013.height
    # a start after the data: every dwelling exists
    assert Population.from_dataset(data, 2025).dwellings.active.all()


def test_estimated_birth_rates_reproduce_the_births_of_the_estimation_years():
    """Applied to the women resident on 1 January of each estimation year, the birth rates give the
    children the data shows born in Denmark in those years."""
    data = small_dataset_dir()
    rates = shared().rates
    first, last = rates.years
    residences = read_table(data, "residences")
    persons = read_table(data, "persons")
    countries = read_table(data, "countries")
    western = set(countries.filter(pl.col("western"))["country_code"].to_list())
    # born in Denmark: the first residence spell begins on the birth day (not children who arrived)
    born_here = persons.join(residences.group_by("person_id").agg(pl.col("move_in").min()), on="person_id").filter(
        pl.col("move_in") == pl.col("birth_date"))
    expected = actual = 0.0
    for t in range(first, last + 1):
        on = date(t, 1, 1)
        resident = residences.filter((pl.col("move_in") <= on) & (pl.col("move_out").is_null()
                                                                   | (pl.col("move_out") > on)))
        women = resident.join(persons, on="person_id").filter(pl.col("sex") == "F").with_columns(
            ((on - pl.col("birth_date")).dt.total_days() // 365.25).cast(pl.Int64).alias("age"),
            (~pl.col("country_code").is_in(sorted(western)) & (pl.col("origin") != "dansk")).alias("nw")
        ).filter(pl.col("age").is_between(15, 49))
        expected += rates.birth[band(women["age"].to_numpy(), BIRTH_BANDS), women["nw"].to_numpy().astype(int)].sum()
        actual += born_here.filter(pl.col("birth_date").dt.year() == t).height
    assert expected == pytest.approx(actual, rel=0.04), (expected, actual)



def test_after_the_data_the_stock_grows_like_the_estimation_years_and_not_before():
    sh = shared()                                  # rates estimated for START (inside the data)
    built = sh.rates.transitions.built
    assert built.height > 0
    per_year = sh.rates.transitions.built_per_year
    assert per_year == pytest.approx(built.height / built["first_in"].dt.year().n_unique())
    forward = copy.deepcopy(Population.from_dataset(small_dataset_dir(), 2025))
    n0, vacant0 = forward.dwellings.ids.size, int((forward.dwellings.household == 0).sum())
    added = dwelling_stock(forward, sh.rates, 3, 0, 2025)
    dw = forward.dwellings
    assert added in (int(per_year), int(per_year) + 1)
    assert dw.ids.size == n0 + added and np.unique(dw.ids).size == dw.ids.size
    assert int((dw.household == 0).sum()) == vacant0 + added and dw.active[n0:].all()
    templates = {(m, t, a) for m, t, a in built.select("municipality_code", "tenure", "area_id").iter_rows()}
    new = dw.to_frame()[n0:]
    assert {(m, t, a) for m, t, a in new.select("municipality_code", "tenure", "area_id").iter_rows()} <= templates
    forward.check()
    # inside the data's years nothing is built beyond what the data shows
    inside = copy.deepcopy(Population.from_dataset(small_dataset_dir(), START))
    size = inside.dwellings.ids.size
    dwelling_stock(inside, sh.rates, 3, 0, START)
    assert inside.dwellings.ids.size == size


@lru_cache(maxsize=2)
def _start(year: int) -> Population:
    return Population.from_dataset(small_dataset_dir(), year)


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31 - 1), rep=st.integers(0, 50), forward=st.booleans())
def test_stock_and_demography_conserve_dwellings_and_persons_apart_from_events(seed, rep, forward):
    """Hypothesis: with the dwelling stock step (opening in a backcast, building after the data),
    dwellings = before + built, active ones = before + opened + built, persons = before - deaths -
    emigrants + births; one household per dwelling, one dwelling per household."""
    year = 2025 if forward else 2013
    pop = copy.deepcopy(_start(2025 if forward else 2012))
    rates = shared().rates
    n0, active0, persons0 = pop.dwellings.ids.size, int(pop.dwellings.active.sum()), pop.size
    added = dwelling_stock(pop, rates, seed, rep, year)
    died = deaths(pop, rates, seed, rep, year)
    left = emigration(pop, rates, seed, rep, year)
    born = births(pop, rates, seed, rep, year)
    pop.check()
    built, opened = pop.events.get("dwellings_built", 0), pop.events.get("dwellings_opened", 0)
    assert added == built + opened and (built > 0) == forward and (opened > 0) != forward
    assert pop.dwellings.ids.size == n0 + built
    assert int(pop.dwellings.active.sum()) == active0 + opened + built
    assert pop.size == persons0 - died - left + born


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_cumulative_draw_in_chunks_equals_a_per_row_count(data):
    """The draw (binary search of never-decreasing rows, else a value-by-value count; a few rows at a
    time) counts, per draw, the table values below its uniform: strictly (the status draw) or not
    (education, municipalities), whatever the chunk size."""
    import boligmix.simulate.transitions as transitions

    k = data.draw(st.integers(1, 9))             # widths across the halvings' bit lengths
    raw = np.array(data.draw(st.lists(st.integers(0, 3), min_size=3 * k, max_size=3 * k)), dtype=float).reshape(3, k) + 0.5
    table = np.cumsum(raw / raw.sum(axis=-1, keepdims=True), axis=-1)
    if k > 1 and data.draw(st.booleans()):         # a row that decreases: the value-by-value count
        table[1] = table[1][::-1]
    rows = np.array(data.draw(st.lists(st.integers(0, 2), max_size=40)), dtype=np.int64)
    u = np.array(data.draw(st.lists(st.sampled_from([0.0, 0.25, 0.5, 0.999]) | st.floats(0, 1, exclude_max=True),
                                    min_size=rows.size, max_size=rows.size)))
    u[: rows.size // 3] = table[rows[: rows.size // 3], 0]         # ties with a table value
    strict = data.draw(st.booleans())
    chunk = data.draw(st.integers(1, 80))
    old = transitions.CHUNK_ELEMENTS
    transitions.CHUNK_ELEMENTS = chunk
    try:
        out = transitions.cumulative_draw(table, (rows,), u, strict=strict)
    finally:
        transitions.CHUNK_ELEMENTS = old
    expected = [sum(1 for v in table[r] if (v < x if strict else v <= x)) for r, x in zip(rows, u)]
    assert out.tolist() == expected


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_add_counts_equals_numpys_add_at(data):
    """The estimation's counts by one bincount equal `np.add.at` (integer values, repeated cells,
    scalar, bool and integer increments, one index array or several)."""
    from boligmix.simulate.transitions import add_counts

    shape = tuple(data.draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    n = data.draw(st.integers(0, 50))
    index = tuple(np.array(data.draw(st.lists(st.integers(0, s - 1), min_size=n, max_size=n)), dtype=np.int8)
                  for s in shape)
    values = data.draw(st.sampled_from(["one", "bool", "int"]))
    inc = 1 if values == "one" else np.array(data.draw(st.lists(
        st.booleans() if values == "bool" else st.integers(0, 9), min_size=n, max_size=n)))
    start = np.array(data.draw(st.lists(st.integers(0, 5), min_size=int(np.prod(shape)),
                                        max_size=int(np.prod(shape)))), dtype=float).reshape(shape)
    want, got = start.copy(), start.copy()
    np.add.at(want, index if len(index) > 1 else index[0], inc)
    add_counts(got, index if len(index) > 1 else index[0], inc)
    assert got.tolist() == want.tolist()
