"""Memory the replication no longer holds between years, with the same outputs: the closed residence
spells no later list reads (`Population.forget_closed_spells`, `replication.first_resident_day`)."""

from datetime import date

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from simulate_support import START, shared

from boligmix.indicators import settings_for_list_year
from boligmix.simulate import replication
from boligmix.simulate.population import Population, day, to_date
from boligmix.simulate.scenario import load_scenario


def _population(frames: list[pl.DataFrame]) -> Population:
    """A population holding only `frames` as its closed spells (the rest is not read)."""
    empty = np.zeros(0, dtype=np.int64)
    schema = frames[0].schema
    return Population(start=2025, pid=empty, birth=empty, female=empty.astype(bool), origin=empty.astype(np.int8),
                      country=empty.astype(object), nonwestern=empty.astype(bool), household=empty, dwelling=empty,
                      spell_start=empty, dwellings=None, persons_frame=pl.DataFrame(),
                      closed_spells=[pl.DataFrame(schema=schema), *frames], person_years={}, labour={}, convictions={})


spell_lists = st.lists(st.lists(st.tuples(st.integers(1, 50), st.integers(0, 60)), max_size=12), min_size=1, max_size=4)


@settings(max_examples=60, deadline=None)
@given(spell_lists, st.integers(-5, 70))
def test_forgetting_keeps_exactly_the_spells_open_after_the_day_in_order(parts, before):
    base = day(2025)
    frames = [pl.DataFrame({"person_id": [p for p, _ in part], "household_id": [p * 10 for p, _ in part],
                            "dwelling_id": [p * 100 for p, _ in part],
                            "move_in": [to_date(base - 400 + e) for _, e in part],
                            "move_out": [to_date(base + e) for _, e in part],
                            "end_reason": [None if e % 2 else "death" for _, e in part]},
                           schema={"person_id": pl.Int64, "household_id": pl.Int64, "dwelling_id": pl.Int64,
                                   "move_in": pl.Date, "move_out": pl.Date, "end_reason": pl.String})
              for part in parts]
    pop = _population(frames)
    pending = np.array([3, 4], dtype=np.int64)      # a spell still pending is flushed, then judged too
    pop.pid = pending
    pop.add_closed_spells(np.array([0, 1]), pending, pending, np.full(2, base - 9), np.array([base + 1, base + 40]), None)
    every = pl.concat([*frames, pl.DataFrame({"person_id": [3, 4], "household_id": [3, 4], "dwelling_id": [3, 4],
                                              "move_in": [to_date(base - 9)] * 2,
                                              "move_out": [to_date(base + 1), to_date(base + 40)],
                                              "end_reason": [None, None]}, schema=frames[0].schema)])
    dropped = pop.forget_closed_spells(base + before)
    held = pl.concat(pop.closed_spells, how="vertical_relaxed")
    expected = every.filter(pl.col("move_out") > to_date(base + before))
    assert_frame_equal(held, expected)
    assert dropped == every.height - expected.height
    # what is dropped is open on no day from `before` on: a spell open on such a day is kept
    for on in range(before, 62):
        d = to_date(base + on)
        assert_frame_equal(held.filter((pl.col("move_in") <= d) & (pl.col("move_out") > d)),
                           every.filter((pl.col("move_in") <= d) & (pl.col("move_out") > d)))


@pytest.mark.parametrize("first", [2020, 2026, 2031])
def test_first_resident_day_is_the_earliest_date_the_lists_read(first):
    years = range(first, first + 3)
    dates = set()
    for y in years:
        s = settings_for_list_year(y)
        dates |= {s.resident_date(y), *(s.window_population_date(t) for t in s.window(y))}
    got = to_date(replication.first_resident_day(years))
    assert got == min(dates) and isinstance(got, date)
    assert got.year <= first                 # a list year counts residents in itself or before


def test_a_replication_forgetting_spells_gives_the_same_outputs(monkeypatch):
    sh = shared(START, 3, 3)
    calls = []
    forget = Population.forget_closed_spells

    def counted(self, before):
        calls.append(n := forget(self, before))
        return n

    monkeypatch.setattr(Population, "forget_closed_spells", counted)
    lean = replication.run_replication(sh, 0, load_scenario("baseline"))
    monkeypatch.setattr(Population, "forget_closed_spells", lambda self, before: 0)
    full = replication.run_replication(sh, 0, load_scenario("baseline"))
    assert len(calls) == 2 and sum(calls) > 0          # years 1 and 2 forget; the last list year needs none
    assert_frame_equal(lean["areas"], full["areas"])
    assert_frame_equal(lean["lettings"], full["lettings"])
    assert lean["events"] == full["events"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.sampled_from(["d1", "d2", None])), min_size=1, max_size=30),
       st.lists(st.integers(-3, 40), max_size=20))
def test_almen_column_answers_as_the_dictionary_of_almen_dwellings(rows, asked):
    """`AlmenColumn` against `dict(zip(ids, column[almen]))`, the dictionary the market built before."""
    from boligmix.simulate.population import ALMEN, AlmenColumn, Dwellings

    n = len(rows)
    ids = np.arange(n, dtype=np.int64) * 2 + 1           # odd ids; even ones and negatives are unknown
    tenure = np.array([t for t, _ in rows], dtype=np.int8)
    column = np.array([c for _, c in rows], dtype=object)
    dw = Dwellings.__new__(Dwellings)
    dw.ids, dw.tenure, dw.index = ids, tenure, {int(d): i for i, d in enumerate(ids)}
    almen = np.flatnonzero(tenure == ALMEN)
    oracle = dict(zip(ids[almen].tolist(), column[almen].tolist()))
    lean = AlmenColumn(dw, column)
    tenure[:] = ALMEN + 1                                 # changed afterwards: the column answers as made
    for d in [*asked, *ids.tolist()]:
        assert (d in lean) == (d in oracle)
        assert lean.get(d) == oracle.get(d) and lean.get(d, "x") == oracle.get(d, "x")
        if d in oracle:
            assert lean[d] == oracle[d]
        else:
            with pytest.raises(KeyError):
                lean[d]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 10**6), st.integers(-2000, 30000)), max_size=40))
def test_open_spells_equal_the_frame_built_from_python_lists(people):
    """`open_spells` with its null columns built by polars, against the columns of Python Nones."""
    pop = _population([pl.DataFrame(schema={"person_id": pl.Int64, "move_out": pl.Date})])
    pop.pid = np.array([p for p, _ in people], dtype=np.int64)
    pop.household, pop.dwelling = pop.pid * 3, pop.pid * 5
    pop.spell_start = np.array([d for _, d in people], dtype=np.int64)
    old = pl.DataFrame({
        "person_id": pop.pid, "household_id": pop.household, "dwelling_id": pop.dwelling,
        "move_in": pl.Series(pop.spell_start.astype("datetime64[D]")).cast(pl.Date),
        "move_out": pl.Series([None] * pop.size, dtype=pl.Date), "end_reason": pl.Series([None] * pop.size, dtype=pl.String)})
    assert_frame_equal(pop.open_spells(), old)
