"""Session 14's cuts of the year's decisions outside the market (demography and the seekers), each
against the code it replaced: the households' heads by a stable sort of the households and a
compiled pass (`demography.heads`) against session 13's sort by (household, birth, person id); the
members of chosen households spread by the groups' order (`demography.members_of_chosen`) against
`is_in` of their ids; the basic education segment looked up in ascending order
(`destination.basic_education`) against the hashed `is_in` it replaced."""

from types import SimpleNamespace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import polars as pl

from boligmix.simulate.demography import heads, households, members_of_chosen
from boligmix.simulate.destination import basic_education, basic_expr
from boligmix.simulate.lookup import SEARCH_IN_ORDER, is_in, sort_order

BIG = 2**62


def _heads_by_sort(pop) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Session 13's `heads`: the first row of each household sorted by (household, birth, person id)."""
    order = sort_order(pop.household, pop.birth, pop.pid, stable=False)
    hh_sorted = pop.household[order]
    starts = np.flatnonzero(np.r_[True, hh_sorted[1:] != hh_sorted[:-1]])
    return hh_sorted[starts], order[starts], np.diff(np.r_[starts, hh_sorted.size])


persons = st.lists(st.tuples(st.sampled_from([-BIG, -7, 0, 1, 2, 3, 5, BIG]) | st.integers(-BIG, BIG),
                             st.integers(-3, 3) | st.integers(-BIG, BIG)), min_size=1, max_size=40)


@settings(max_examples=400, deadline=None)
@given(persons, st.randoms(use_true_random=False))
def test_heads_are_the_sorted_first(members, random):
    """Households negative, huge and repeated in any order, ties of birth (the person id decides),
    person ids distinct and negative or huge, one-person households (no persons: below, the
    sorting code failed on them)."""
    pid = np.array(random.sample(range(-BIG, BIG, BIG // 50), len(members)), dtype=np.int64)
    pop = SimpleNamespace(household=np.array([m[0] for m in members], dtype=np.int64),
                          birth=np.array([m[1] for m in members], dtype=np.int64), pid=pid)
    got, want = heads(pop), _heads_by_sort(pop)
    for a, b in zip(got, want):
        assert a.dtype == b.dtype and np.array_equal(a, b)


def test_heads_of_nobody_and_of_one():
    none = SimpleNamespace(household=np.zeros(0, np.int64), birth=np.zeros(0, np.int64), pid=np.zeros(0, np.int64))
    assert [x.size for x in heads(none)] == [0, 0, 0]
    one = SimpleNamespace(household=np.array([9]), birth=np.array([-4]), pid=np.array([3]))
    assert [x.tolist() for x in heads(one)] == [[9], [0], [1]]


@settings(max_examples=300, deadline=None)
@given(persons, st.randoms(use_true_random=False))
def test_members_of_chosen_households_are_is_in(members, random):
    """Any households chosen (none, all, some), households of one member, repeated ids in any order."""
    pop = SimpleNamespace(household=np.array([m[0] for m in members], dtype=np.int64),
                          birth=np.array([m[1] for m in members], dtype=np.int64),
                          pid=np.arange(len(members), dtype=np.int64))
    groups = households(pop)
    chosen = np.array([random.random() < 0.4 for _ in range(groups.ids.size)], dtype=bool)
    got = members_of_chosen(groups, chosen)
    assert got.dtype == bool and np.array_equal(got, is_in(groups.ids[chosen], pop.household))


def _basic_by_hash(pop, rows: np.ndarray, year: int) -> np.ndarray:
    """Session 13's `basic_education`: a hashed `is_in` of the persons among the higher educated."""
    py = pop.person_years.get(year - 1)
    if py is None:
        return np.ones(np.asarray(rows).size, dtype=bool)
    return ~is_in(py.filter(~basic_expr())["person_id"].to_numpy(), pop.pid[rows])


LEVELS = [None, "grundskole", "uoplyst", "gymnasial", "erhvervsfaglig", "lang videregående"]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(-BIG, BIG), st.sampled_from(LEVELS), st.booleans()), max_size=60),
       st.lists(st.integers(-BIG, BIG), max_size=20), st.booleans(), st.booleans(), st.booleans())
def test_basic_education_is_the_hashed_lookup(registered, strangers, sort_register, repeat, big):
    """Persons with a register row of any level or none, persons not in the register, register ids
    sorted or not and repeated, the persons' ids in any order; `big`: more than SEARCH_IN_ORDER
    persons (the merge path of `is_in`, persons in nearly ascending order)."""
    ids = [r[0] for r in registered]
    register = [(pid, level) for pid, level, _ in registered] + ([(ids[0], "gymnasial")] if repeat and ids else [])
    if sort_register:
        register.sort(key=lambda r: r[0])
    py = pl.DataFrame({"person_id": [r[0] for r in register], "highest_education": [r[1] for r in register]},
                      schema={"person_id": pl.Int64, "highest_education": pl.String})
    pid = np.array(list(dict.fromkeys(ids + strangers)), dtype=np.int64)
    if big:
        pid = np.r_[np.arange(SEARCH_IN_ORDER + 10, dtype=np.int64) * 7 - 10**6, pid]
    pop = SimpleNamespace(pid=pid, person_years={2024: py})
    for rows in (np.arange(pid.size), np.arange(0, pid.size, 2), np.zeros(0, dtype=np.int64)):
        got = basic_education(pop, rows, 2025)
        assert got.dtype == bool and np.array_equal(got, _basic_by_hash(pop, rows, 2025))
    assert basic_education(pop, np.arange(pid.size), 2030).all()
