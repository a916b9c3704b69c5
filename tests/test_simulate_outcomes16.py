"""Session 16's changes to the year outside the market, each against the code it replaced (the
oracle, a copy here) on random inputs: the merged row order of `sorted_union_of_kept`."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from boligmix.simulate import lookup


def _searched_take(first: np.ndarray, keep: np.ndarray, second: np.ndarray, dtype) -> np.ndarray:
    """Session 15's row order (the oracle): the kept keys gathered, every row of `second` placed by
    a binary search, then two scatters through a mask."""
    kept = np.flatnonzero(keep)
    at = np.searchsorted(first[kept], second) + np.arange(second.size)
    take = np.empty(kept.size + second.size, dtype=dtype)
    from_second = np.zeros(take.size, dtype=bool)
    from_second[at] = True
    take[~from_second] = kept
    take[from_second] = np.arange(first.size, first.size + second.size, dtype=dtype)
    return take


_KEYS = st.one_of(st.integers(-5, 5), st.integers(-(2**62), 2**62), st.sampled_from([-(2**63), 2**63 - 1, 0]))


@settings(max_examples=300, deadline=None)
@given(first=st.lists(_KEYS, max_size=60), second=st.lists(_KEYS, max_size=60),
       keep=st.lists(st.booleans(), min_size=60, max_size=60), wide=st.booleans())
def test_merged_take_equals_the_searched_order(first, second, keep, wide):
    """Ascending keys with repeats (a person's several labour rows), ties between the two frames,
    extreme ids, empty sides, nothing or everything kept; both index types."""
    first_keys = np.sort(np.array(first, dtype=np.int64))
    second_keys = np.sort(np.array(second, dtype=np.int64))
    kept = np.array(keep[:first_keys.size], dtype=bool)
    dtype = np.int64 if wide else np.uint32
    take = np.empty(int(kept.sum()) + second_keys.size, dtype=dtype)
    lookup._merged_take(first_keys, kept, second_keys, take)
    assert take.tolist() == _searched_take(first_keys, kept, second_keys, dtype).tolist()


@settings(max_examples=300, deadline=None)
@given(keys=st.lists(_KEYS, max_size=60, unique=True), wanted=st.lists(_KEYS, max_size=60))
def test_merged_positions_equal_the_binary_search(keys, wanted):
    """Positions of ascending ids among ascending unique keys (absent: -1), repeats among the
    wanted, extreme ids, empty sides: against session 15's binary search."""
    from boligmix.simulate.lookup import merged_positions

    keys_arr = np.sort(np.array(keys, dtype=np.int64))
    wanted_arr = np.sort(np.array(wanted, dtype=np.int64))
    if keys_arr.size:
        pos = np.minimum(np.searchsorted(keys_arr, wanted_arr), keys_arr.size - 1)
        want = np.where(keys_arr[pos] == wanted_arr, pos, -1)
    else:
        want = np.full(wanted_arr.size, -1)
    assert merged_positions(keys_arr, wanted_arr).tolist() == want.tolist()


@settings(max_examples=200, deadline=None)
@given(people=st.lists(_KEYS, max_size=50, unique=True), data=st.data())
def test_status_of_sorted_residents_equals_the_status_look_up(people, data):
    """Last year's status of the residents in id order (`status_of_sorted`) against `status_on`'s
    look-up (`sorted_lookup`): residents with and without labour rows, persons with rows who no
    longer reside, no rows at all."""
    from types import SimpleNamespace

    from boligmix.simulate.lookup import sorted_lookup
    from boligmix.simulate.status_history import status_of_sorted

    ids = np.sort(np.array(people, dtype=np.int64))
    with_rows = np.array(data.draw(st.lists(st.booleans(), min_size=ids.size, max_size=ids.size)), dtype=bool)
    resides = np.array(data.draw(st.lists(st.booleans(), min_size=ids.size, max_size=ids.size)), dtype=bool)
    st_ids = ids[with_rows]
    status = np.array(data.draw(st.lists(st.integers(1, 5), min_size=st_ids.size, max_size=st_ids.size)),
                      dtype=np.int8)
    pop = SimpleNamespace(status_cache={2030: (st_ids, status)}, labour={})
    got = status_of_sorted(pop, 2030, ids[resides])
    want = sorted_lookup(st_ids, status, ids[resides], 0)
    assert got.dtype == want.dtype and got.tolist() == want.tolist()
