"""Session 16's cuts of the year's decisions (mesa16), each against the code it replaced: the bands
of values in one compiled pass (`rates.band`) against numpy's search (`rates._band_search`, the code
before) for integer and float values of every width, NaN, infinities, the int64 extremes, empty
and one-element inputs and ties on the edges; rate tables read by one index array per dimension
(`lookup.table_at`) against numpy's indexing, negative indices and an index out of range (the
same IndexError) included; the members of chosen households (`demography.members_of_chosen`) in one
pass against session 15's repeat and scatter; the area bands of seekers (`seekers.area_band_of`)
against session 15's."""

from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from boligmix.simulate.demography import households, members_of_chosen
from boligmix.simulate.lookup import TABLE_AT_FROM, TABLE_AT_UP_TO, table_at
from boligmix.simulate.rates import (AREA_BANDS, BIRTH_BANDS, COMPILED_BANDS_UP_TO, DEATH_BANDS, HEAD_BANDS, OUTSIDE_BANDS, SIZE_BANDS,
                                     STATUS_BANDS, _band_search, area_band, band)
from boligmix.simulate.seekers import area_band_of

EDGES = [DEATH_BANDS, BIRTH_BANDS, HEAD_BANDS, SIZE_BANDS, STATUS_BANDS, AREA_BANDS, OUTSIDE_BANDS,
         np.array([5]), np.array([-3.5, 0.0, 2.0])]

BIG = 2**62


def _same(values, edges) -> None:
    got, want = band(values, edges), _band_search(np.asarray(values), edges)
    assert got.dtype == want.dtype and got.shape == want.shape
    assert np.array_equal(got, want)


@settings(max_examples=300, deadline=None)
@given(hnp.arrays(st.sampled_from([np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32]),
                  st.integers(0, 300)), st.sampled_from(EDGES))
def test_integer_bands_equal_numpys_search(values, edges):
    _same(values, edges)


@settings(max_examples=300, deadline=None)
@given(hnp.arrays(np.int64, st.integers(0, 200), elements=st.integers(-2**63, 2**63 - 1)), st.sampled_from(EDGES))
def test_integer_bands_over_the_whole_int64_range(values, edges):
    _same(values, edges)


@settings(max_examples=300, deadline=None)
@given(hnp.arrays(st.sampled_from([np.float32, np.float64]), st.integers(0, 200),
                  elements=st.floats(width=32, allow_nan=True, allow_infinity=True)), st.sampled_from(EDGES))
def test_float_bands_equal_numpys_search(values, edges):
    _same(values, edges)


@pytest.mark.parametrize("edges", EDGES)
def test_bands_on_the_edges_in_tables_and_searches(edges):
    """Every edge and its neighbours, as a small input (a search per value) and inside a long one
    (the table of the range), as 0-d and 2-d arrays, floats and ints."""
    points = np.unique(np.r_[edges, edges - 1, edges + 1, edges.min() - 100, edges.max() + 100])
    ints = np.floor(points).astype(np.int64)
    for values in (ints, np.repeat(ints, 200), points.astype(float), np.r_[points, np.nan].astype(float),
                   ints.reshape(1, -1), np.int64(7), np.array([], dtype=np.int64), np.array([], dtype=float)):
        _same(values, edges)


def test_other_value_types_take_numpys_search():
    _same(np.array([True, False]), SIZE_BANDS)
    _same(np.array([0, 2**63 + 5], dtype=np.uint64), DEATH_BANDS)
    _same(np.array([0.5, 40.0], dtype=np.float16), DEATH_BANDS)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(1, 5), min_size=2, max_size=5), st.sampled_from([0, 1, 5, TABLE_AT_FROM, 3000]),
       st.sampled_from([np.int8, np.int32, np.int64, np.uint8, np.uint32]), st.booleans(), st.integers(0, 2**32 - 1))
def test_table_at_equals_numpys_indexing(shape, n, dtype, negative, seed):
    r = np.random.default_rng(seed)
    table = r.random(shape)
    indices = [r.integers(-s if negative and np.dtype(dtype).kind == "i" else 0, s, n).astype(dtype) for s in shape]
    got, want = table_at(table, *indices), table[tuple(indices)]
    assert got.dtype == want.dtype and np.array_equal(got, want)


@pytest.mark.parametrize("bad", [-7, 6, 2**40])
def test_table_at_out_of_range_raises_numpys_error(bad):
    table = np.random.default_rng(0).random((6, 2, 3))
    i = np.zeros(TABLE_AT_FROM + 5, dtype=np.int64)
    first = i.copy()
    first[-1] = bad
    with pytest.raises(IndexError) as numpy_error:
        table[first, i, i]
    with pytest.raises(IndexError) as error:
        table_at(table, first, i, i)
    assert str(error.value) == str(numpy_error.value)


def test_table_at_takes_numpys_indexing_for_other_shapes_and_types():
    table = np.arange(12.0).reshape(3, 4)
    n = TABLE_AT_FROM
    rows = np.r_[np.zeros(n - 1, dtype=np.int64), 2]
    for indices in [(rows, np.ones(n, dtype=np.uint64)), (rows, 3), (rows[:, None], np.arange(4)),
                    (np.ones(3, dtype=bool), slice(None))]:
        assert np.array_equal(table_at(table, *indices), table[indices])
    ints = np.arange(12).reshape(3, 4)
    assert np.array_equal(table_at(ints, rows, rows % 4), ints[rows, rows % 4])
    assert table_at(np.asfortranarray(table), rows, rows)[-1] == table[2, 2]


def _members_of_chosen_before(groups, chosen, persons=None) -> np.ndarray:
    """Session 15's `members_of_chosen`: the choices repeated per member and scattered."""
    out = np.empty(groups.order.size, dtype=bool) if persons is None else np.zeros(persons, dtype=bool)
    out[groups.order] = np.repeat(np.asarray(chosen, dtype=bool), groups.size)
    return out


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(-BIG, BIG), st.integers(-5, 5)), max_size=60), st.integers(0, 2**32 - 1),
       st.booleans())
def test_members_of_chosen_equals_the_repeat_and_scatter(persons, seed, some):
    r = np.random.default_rng(seed)
    pop = SimpleNamespace(household=np.array([h for h, _ in persons], dtype=np.int64),
                          birth=np.array([b for _, b in persons], dtype=np.int64), pid=np.arange(len(persons)) * 3 - 7)
    rows = np.flatnonzero(r.random(len(persons)) < 0.6) if some else None
    groups = households(pop, rows)
    chosen = r.random(groups.ids.size) < 0.5
    size = len(persons) if some else None
    assert np.array_equal(members_of_chosen(groups, chosen, size), _members_of_chosen_before(groups, chosen, size))
    with pytest.raises(ValueError):
        members_of_chosen(groups, np.r_[chosen, True], size)


@settings(max_examples=200, deadline=None)
@given(hnp.arrays(np.float64, st.integers(0, 50), elements=st.one_of(st.floats(0, 1), st.just(np.nan),
                                                                    st.sampled_from([0.0, 0.3, 0.5, 1.0]))),
       st.integers(0, 2**32 - 1))
def test_area_band_of_equals_session_15s(share, seed):
    code = np.random.default_rng(seed).integers(-1, share.size, 300)
    before = np.r_[area_band(np.nan_to_num(share), np.ones(share.size, dtype=bool)), 0][code]
    got = area_band_of(share, code)
    assert got.dtype == before.dtype and np.array_equal(got, before)


def test_many_values_take_numpys_passes():
    """Above the compiled passes' sizes (millions of persons) the answers are numpy's, the same."""
    r = np.random.default_rng(5)
    ages = r.integers(0, 110, COMPILED_BANDS_UP_TO + 7)
    _same(ages, DEATH_BANDS)
    _same(ages.astype(float) + 0.5, AREA_BANDS)
    table = r.random((20, 2))
    rows, cols = band(ages, DEATH_BANDS), ages % 2
    assert np.array_equal(table_at(table, rows, cols), table[rows, cols])
    assert TABLE_AT_UP_TO < ages.size
