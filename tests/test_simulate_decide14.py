"""Session 14's cuts of the year's decisions outside the market (demography and the seekers), each
against the code it replaced: the households' heads by a stable sort of the households and a
compiled pass (`demography.heads`) against session 13's sort by (household, birth, person id)."""

from types import SimpleNamespace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from boligmix.simulate.demography import heads
from boligmix.simulate.lookup import sort_order

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
