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


# values on and near the bucket edges (b / DRAW_BUCKETS), repeated values (categories of probability
# 0), values outside [0, 1] and the float just above 1 that a normalised cumsum can end on
_G = transitions.DRAW_BUCKETS
_EDGES = [0.0, 1 / _G, 2 / _G, 0.5, 0.5 + 1 / _G, np.nextafter(0.5, 0), np.nextafter(0.5, 1), 1 - 1 / _G,
          np.nextafter(1 / _G, 0), np.nextafter(1 / _G, 1), np.nextafter(1.0, 0), 1.0, np.nextafter(1.0, 2), -0.25, 1.5]
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
    """The SplitMix64 finaliser as `rng._mix` computed it before (numpy, a fresh array per operation;
    the oracle of the compiled streams, too)."""
    _GOLDEN, _M1, _M2 = np.uint64(0x9E3779B97F4A7C15), np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
    _S27, _S30, _S31 = np.uint64(27), np.uint64(30), np.uint64(31)
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


# --- register outcomes: per-area tables gathered per resident, the donors' cell codes --------------

class _Dwellings:
    def __init__(self, names: list[str]) -> None:
        self.names = names

    def area_codes(self):
        return np.zeros(0, dtype=np.int64), self.names


class _Pop:
    """What the per-area look-ups read of a `Population`: the area ids and the number of residents."""

    def __init__(self, names: list[str], size: int) -> None:
        self.dwellings, self.size = _Dwellings(names), size


def _old_per_area(names, values, code):
    by_code = np.array([values.get(a, 0.0) for a in names] + [0.0], dtype=float)
    return by_code[code], code >= 0


_share = st.sampled_from([0.0, 0.15, 0.25, 0.3, 0.45, 0.65, 1.0, -0.1, 0.01, 0.045]) | st.floats(-0.5, 1.5)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_area_tables_equal_the_per_resident_formulas(data):
    """The outside band, the conviction band and the outside probability with the area effect,
    computed per area code and gathered, equal the old per-resident formulas (`outside_band`,
    `area_bands`, `with_area_effect` of the cell's rate and the area's effect for 18-64s)."""
    from types import SimpleNamespace

    from boligmix.simulate import area_levels as ro
    from boligmix.simulate.rates import CONVICTION_BANDS, area_bands, outside_band, with_area_effect

    n_areas = data.draw(st.integers(0, 6))
    names = [f"a{i}" for i in range(n_areas)]
    shares = {a: data.draw(_share) for a in names if data.draw(st.booleans())}
    n = data.draw(st.integers(0, 80))
    code = np.array(data.draw(st.lists(st.integers(-1, n_areas - 1), min_size=n, max_size=n)), dtype=np.int64)
    pop = _Pop(names, n)
    assert np.array_equal(ro.area_outside_bands(pop, 2030, None, None, shares, code),
                          outside_band(*_old_per_area(names, shares, code)))
    table = ro.per_area_table(pop, shares, lambda value, has: area_bands(value, has, CONVICTION_BANDS))
    assert np.array_equal(table[code], area_bands(*_old_per_area(names, shares, code), CONVICTION_BANDS))

    shape = (3, 2, 4)
    outside = np.array(data.draw(st.lists(st.sampled_from([0.0, 1.0, 0.5, 1e-12]) | st.floats(0, 1),
                                          min_size=24, max_size=24))).reshape(shape)
    effects = {a: data.draw(st.sampled_from([0.0, -0.7, 2.5]) | st.floats(-5, 5)) for a in names if data.draw(st.booleans())}
    rates = SimpleNamespace(outside=outside, area_outside_effect=effects)
    index = tuple(np.array(data.draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)), dtype=np.int64)
                  for k in shape)
    age = np.array(data.draw(st.lists(st.integers(0, 90) | st.sampled_from([17, 18, 64, 65]), min_size=n, max_size=n)),
                   dtype=np.int64)
    effect, _ = _old_per_area(names, effects, code)
    old = outside[index] if not effects else with_area_effect(outside[index], np.where((age >= 18) & (age <= 64),
                                                                                       effect, 0.0))
    pop.size = data.draw(st.sampled_from([n, 10**6]))        # few residents: the per-resident path itself
    got = ro.outside_probability(pop, rates, *index, age, code)
    assert got.dtype == old.dtype and np.array_equal(got, old, equal_nan=True)


def _old_pick(donors, status, bands, nw, ab, u, area):
    """`Donors.pick` before the finest code was computed once (a cell code per level)."""
    from boligmix.simulate.donors import _cell_code

    n = np.asarray(status).size
    columns = [np.asarray(c) for c in (status, bands, nw.astype(np.int64), ab, area)]
    out = np.zeros(n, dtype=np.int64)
    todo = np.arange(n)
    for depth, (codes, starts, sizes), pool in zip((5, 4, 3, 2, 1), donors.levels, donors.pools):
        if todo.size == 0:
            break
        want = _cell_code([c[todo] for c in columns], depth)
        if codes.size == 0:
            continue
        pos = np.minimum(np.searchsorted(codes, want), codes.size - 1)
        hit = codes[pos] == want
        size = sizes[pos[hit]]
        offset = np.minimum((u[todo[hit]] * size).astype(np.int64), size - 1)
        out[todo[hit]] = pool[starts[pos[hit]] + offset]
        todo = todo[~hit]
    if todo.size:
        codes, starts, sizes = donors.levels[4]
        at = np.flatnonzero(codes == 0)
        size = sizes[at[0]]
        out[todo] = donors.pools[4][starts[at[0]] + np.minimum((u[todo] * size).astype(np.int64), size - 1)]
    return out


def _key(data, n):
    return (np.array(data.draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)), dtype=np.int64),
            np.array(data.draw(st.lists(st.integers(0, 4), min_size=n, max_size=n)), dtype=np.int64),
            np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool),
            np.array(data.draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)), dtype=np.int64),
            np.array(data.draw(st.lists(st.integers(-1, 3), min_size=n, max_size=n)), dtype=np.int64))


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_donor_pick_from_the_finest_code_equals_a_code_per_level(data):
    from boligmix.simulate.lookup import sorted_groups
    from boligmix.simulate.donors import _KEY_RADIX, Donors, _cell_code

    m = data.draw(st.integers(1, 40))
    key = list(_key(data, m))
    key[0][0] = 0                                   # a status-0 donor: the last resort exists
    ids = np.arange(m, dtype=np.int64) * 3 + 5
    donors = Donors.__new__(Donors)
    donors.levels, donors.pools = [], []
    min_area = data.draw(st.integers(1, 3))
    for depth in (5, 4, 3, 2, 1):
        code = _cell_code([k.astype(np.int64) for k in key], depth)
        by_cell = np.argsort(code, kind="stable")
        codes, starts, sizes = sorted_groups(code[by_cell])
        if depth == 5:
            usable = (codes % _KEY_RADIX[4] > 0) & (sizes >= min_area)
            codes, starts, sizes = codes[usable], starts[usable], sizes[usable]
        donors.levels.append((codes, starts, sizes))
        donors.pools.append(ids[by_cell])
    n = data.draw(st.integers(0, 60))
    status, bands, nw, ab, area = _key(data, n)
    u = np.array(data.draw(st.lists(st.floats(0, 1, exclude_max=True), min_size=n, max_size=n)))
    assert np.array_equal(donors.pick(status, bands, nw, ab, u, area), _old_pick(donors, status, bands, nw, ab, u, area))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(-50_000, 50_000), max_size=40), st.sampled_from([np.int64, np.int32]))
def test_whole_years_in_place_leaves_the_days_and_equals_the_float_floor(days, dtype):
    from boligmix.simulate.population import whole_years

    d = np.array(days, dtype=dtype)
    kept = d.copy()
    got = whole_years(d)
    assert got.dtype == np.int64 and got.tolist() == (kept // 365.25).astype(np.int64).tolist()
    assert np.array_equal(d, kept)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 400), unique=True, max_size=60), st.lists(st.integers(0, 400), max_size=80),
       st.data(), st.sampled_from([0, 1 << 16]))
def test_masks_through_the_resident_index_equal_the_hash_sets(pids, rows, data, joined_from):
    """The register outcomes' masks read through `resident_index` (has a row last year, a kept or a
    switching person's row) equal the `is_in` calls they replaced; sorted rows (repeats allowed) or
    not, through the binary search and through the polars join."""
    import boligmix.simulate.lookup as lookup
    from boligmix.simulate.lookup import is_in
    from boligmix.simulate.per_resident import flag_at, resident_index

    pid = np.array(pids, dtype=np.int64) * 7 + 3
    ids = np.array(rows, dtype=np.int64) * 7 + 3
    if data.draw(st.booleans()):
        ids = np.sort(ids)
    by_id = np.argsort(pid, kind="stable")
    ascending = pid[by_id]
    keep = np.array(data.draw(st.lists(st.booleans(), min_size=pid.size, max_size=pid.size)), dtype=bool)
    old = lookup.SEARCH_IN_ORDER
    lookup.SEARCH_IN_ORDER = joined_from
    try:
        res = resident_index(ascending, by_id, ids)
    finally:
        lookup.SEARCH_IN_ORDER = old
    has = np.zeros(pid.size, dtype=bool)
    has[res[res >= 0]] = True
    assert np.array_equal(has, is_in(ids, pid))
    assert np.array_equal(flag_at(keep, res), is_in(ascending[keep[by_id]], ids))
    assert np.array_equal(flag_at(~keep, res), is_in(ascending[~keep[by_id]], ids))
