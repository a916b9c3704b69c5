"""Session 10's kernels of the year outside the market equal the code they replaced, on random
inputs (Hypothesis): the bucketed cumulative draw against the binary search per draw."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import boligmix.simulate.transitions as transitions


def _binary_search_draw(table: np.ndarray, index: tuple[np.ndarray, ...], u: np.ndarray, strict: bool) -> np.ndarray:
    """The draw `cumulative_draw` made on never-decreasing tables before the buckets (session 9)."""
    n, width = u.size, table.shape[-1]
    flat = table.reshape(-1)
    row = np.ravel_multi_index(tuple(np.asarray(i, dtype=np.int64) for i in index), table.shape[:-1]) * width
    lo = np.zeros(n, dtype=np.int64)
    hi = np.full(n, width, dtype=np.int64)
    for _ in range(int(width).bit_length()):
        mid = (lo + hi) >> 1
        v = flat[row + np.minimum(mid, width - 1)]
        below = v < u if strict else v <= u
        below &= lo < hi
        lo = np.where(below, mid + 1, lo)
        hi = np.where(below | (lo >= hi), hi, mid)
    return lo


# values on and near the bucket edges (b / 4096), repeated values (categories of probability 0),
# values outside [0, 1] and the float just above 1 that a normalised cumsum can end on
_EDGES = [0.0, 1 / 4096, 2 / 4096, 0.5, 0.5 + 1 / 4096, np.nextafter(0.5, 0), np.nextafter(0.5, 1), 1 - 1 / 4096,
          np.nextafter(1.0, 0), 1.0, np.nextafter(1.0, 2), -0.25, 1.5]
_value = st.sampled_from(_EDGES) | st.floats(-0.1, 1.1, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_bucketed_draw_equals_the_binary_search(data):
    shape = tuple(data.draw(st.lists(st.integers(1, 3), min_size=0, max_size=2)))
    width = data.draw(st.integers(1, 20))
    rows = int(np.prod(shape, dtype=np.int64))
    table = np.sort(np.array(data.draw(st.lists(_value, min_size=rows * width, max_size=rows * width))
                             ).reshape(rows, width), axis=1).reshape(*shape, width)
    n = data.draw(st.integers(0, 60))
    index = tuple(np.array(data.draw(st.lists(st.integers(0, s - 1), min_size=n, max_size=n)), dtype=np.int64)
                  for s in shape)
    u = np.array(data.draw(st.lists(_value | st.just(float("nan")) | st.sampled_from(table.reshape(-1).tolist()),
                                    min_size=n, max_size=n)), dtype=np.float64)
    strict = data.draw(st.booleans())
    chunk = data.draw(st.sampled_from([8, 80, transitions.CHUNK_ELEMENTS]))
    old = transitions.CHUNK_ELEMENTS
    transitions.CHUNK_ELEMENTS = chunk
    try:
        got = transitions.cumulative_draw(table, index, u, strict=strict)
    finally:
        transitions.CHUNK_ELEMENTS = old
    assert got.dtype == np.int64
    assert np.array_equal(got, _binary_search_draw(table, index, u, strict))


def test_bucketed_draw_on_a_status_like_table():
    """Thousands of draws on a cumulative table with many categories of probability 0 (repeated
    values), as the status and education tables have."""
    rng = np.random.default_rng(7)
    p = rng.random((6, 5, 18))
    p[rng.random(p.shape) < 0.6] = 0
    p[..., 0] += 1e-3
    table = np.cumsum(p / p.sum(axis=-1, keepdims=True), axis=-1)
    index = (rng.integers(0, 6, 50_000), rng.integers(0, 5, 50_000))
    u = np.concatenate([rng.random(49_000), table[index[0][:1000], index[1][:1000], rng.integers(0, 18, 1000)]])
    for strict in (True, False):
        expected = (table[index] < u[:, None]).sum(axis=1) if strict else (table[index] <= u[:, None]).sum(axis=1)
        got = transitions.cumulative_draw(table, index, u, strict=strict)
        assert np.array_equal(got, expected)
        assert np.array_equal(got, _binary_search_draw(table, index, u, strict))


def _old_mix(x: np.ndarray) -> np.ndarray:
    """The SplitMix64 finaliser as `rng._mix` computed it before (a fresh array per operation)."""
    from boligmix.simulate.rng import _GOLDEN, _M1, _M2, _S27, _S30, _S31

    with np.errstate(over="ignore"):
        z = x + _GOLDEN
        z = (z ^ (z >> _S30)) * _M1
        z = (z ^ (z >> _S27)) * _M2
        return z ^ (z >> _S31)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(-(2**63), 2**63 - 1), max_size=50), st.integers(0, 2**31), st.integers(0, 2**31),
       st.integers(1900, 2100), st.integers(0, 40))
def test_in_place_random_streams_equal_the_old_formulas(ids, seed, replication, year, event):
    """`rng.hash64` and `rng.uniform` written in place give the bits of the old expressions, and
    leave the caller's ids untouched."""
    from boligmix.simulate import rng

    arr = np.array(ids, dtype=np.int64)
    kept = arr.copy()
    head = _old_mix(_old_mix(np.array([seed], dtype=np.int64).view(np.uint64)) ^ np.uint64(replication & 0xFFFFFFFF))
    tail = np.uint64(((year & 0xFFFF) << 16) | (event & 0xFFFF))
    old = _old_mix(_old_mix(head ^ arr.view(np.uint64)) ^ tail)
    assert np.array_equal(rng.hash64(seed, replication, arr, year, event), old)
    assert np.array_equal(rng.uniform(seed, replication, arr, year, event),
                          (old >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0))
    assert np.array_equal(arr, kept)
    if ids:
        assert rng.uniform(seed, replication, ids[0], year, event).shape == (1,)
