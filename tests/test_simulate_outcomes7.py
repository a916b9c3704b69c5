"""Session 12's kernels of the year outside the market (branch outcomes7) against the code they
replaced or a brute-force oracle, on random inputs."""

from __future__ import annotations

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from boligmix.simulate.population import Dwellings


def _dwellings(ids: np.ndarray) -> Dwellings:
    n = ids.size
    return Dwellings(frame=pl.DataFrame(), ids=ids, tenure=np.zeros(n, np.int8), almen_type=np.full(n, None),
                     area=np.full(n, None), municipality=np.zeros(n, np.int64), rooms=np.ones(n, np.int64),
                     household=np.zeros(n, np.int64), active=np.ones(n, bool), vacant_from=np.ones(n, np.int64),
                     department=np.full(n, None), org=np.full(n, None), floor_area=np.ones(n), rent=np.ones(n))


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 12_000), far=st.integers(0, 3_000), stride=st.sampled_from([1, 7, 2_654_435_761]),
       repeats=st.booleans(), added=st.integers(0, 500), seed=st.integers(0, 2**32 - 1))
def test_dwelling_positions_of_many_ids_equal_the_binary_search(n, far, stride, repeats, added, seed):
    """The residents' dwellings (more than `indexed_from`) found through the bucket table: the data's
    ids (an arithmetic progression or dense, in any row order, repeats too: the first row counts),
    new ones far above, ids absent (the binary search's end position), and after dwellings are added."""
    rng = np.random.default_rng(seed)
    data = 3_000_000_000_000 + stride * np.arange(n, dtype=np.int64)
    if repeats:
        data = np.repeat(data, rng.integers(1, 3, n))
    ids = rng.permutation(np.concatenate([data, rng.integers(10**17, 2 * 10**17, far, dtype=np.int64)]))
    dw = _dwellings(ids)
    for step in range(2):
        wanted = np.concatenate([rng.choice(dw.ids, 3_000), dw.ids[:20] + 1, [dw.ids.min() - 1, dw.ids.max() + 1, -7,
                                                                              2**63 - 1, -(2**63)]]).astype(np.int64)
        wanted = rng.permutation(wanted)
        order = np.argsort(dw.ids, kind="stable")
        expected = order[np.minimum(np.searchsorted(dw.ids[order], wanted), dw.ids.size - 1)]
        assert dw.position(wanted, indexed_from=0).tolist() == expected.tolist()
        assert dw.position(wanted, indexed_from=10**9).tolist() == expected.tolist()     # the binary search
        if step == 0 and added:          # new dwellings: the table is rebuilt
            dw.ids = np.concatenate([dw.ids, 5 * 10**17 + rng.integers(0, 10**6, added, dtype=np.int64)])


def test_no_wanted_ids_and_one_dwelling():
    dw = _dwellings(np.array([42], dtype=np.int64))
    assert dw.position(np.zeros(0, dtype=np.int64), indexed_from=0).tolist() == []
    assert dw.position(np.array([42, 41, 43], dtype=np.int64), indexed_from=0).tolist() == [0, 0, 0]


@settings(max_examples=80, deadline=None)
@given(n=st.integers(0, 3_000), m=st.integers(0, 3_000), width=st.sampled_from([5, 1_000, 2**62]),
       sort_ids=st.booleans(), sort_wanted=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_is_in_by_merging_sorted_ids_equals_the_hash_set(n, m, width, sort_ids, sort_wanted, seed):
    """`is_in` of ascending ids (repeats, negative and huge ids too) by one merge, against numpy's
    `isin`; unsorted inputs take the hash set (the same answer)."""
    from boligmix.simulate import lookup

    rng = np.random.default_rng(seed)
    ids = rng.integers(-width, width, n, dtype=np.int64)
    wanted = np.concatenate([rng.choice(ids, min(n, m // 2)) if n else np.zeros(0, np.int64),
                             rng.integers(-width, width, m - min(n, m // 2), dtype=np.int64)])
    ids = np.sort(ids) if sort_ids else ids
    wanted = np.sort(wanted) if sort_wanted else rng.permutation(wanted)
    old = lookup.SEARCH_IN_ORDER
    lookup.SEARCH_IN_ORDER = 0                                 # the merge from one element on
    try:
        assert lookup.is_in(ids, wanted).tolist() == np.isin(wanted, ids).tolist()
    finally:
        lookup.SEARCH_IN_ORDER = old


def _old_rows(frame: pl.DataFrame, frame_ids: np.ndarray, donor: np.ndarray, recipient: np.ndarray) -> pl.DataFrame:
    """`Donors.rows` before session 12: two binary searches and `np.repeat` (the oracle)."""
    lo, hi = np.searchsorted(frame_ids, donor, "left"), np.searchsorted(frame_ids, donor, "right")
    counts = hi - lo
    first = np.repeat(lo - (np.cumsum(counts) - counts), counts)
    take = first + np.arange(int(counts.sum()), dtype=np.int64)
    return frame[take].with_columns(pl.Series("person_id", np.repeat(recipient, counts), dtype=pl.Int64))


@settings(max_examples=80, deadline=None)
@given(n_people=st.integers(0, 300), n_donors=st.integers(0, 400), seed=st.integers(0, 2**32 - 1))
def test_donated_rows_equal_the_two_searches(n_people, n_donors, seed):
    """The donors' rows as their recipients' (`Donors.rows`): each donor's bounds read at its
    position (`row_bounds`, one walk, once) and a compiled gather list, against the binary searches
    and `np.repeat` they replaced; donors with none, one or several rows, repeated donors, donors
    without rows in the frame, huge and negative ids."""
    from boligmix.simulate.donors import Donors, row_bounds

    rng = np.random.default_rng(seed)
    people = np.unique(rng.integers(-(2**62), 2**62, n_people, dtype=np.int64))
    frame_ids = np.sort(np.repeat(people, rng.integers(0, 4, people.size)))
    frame = pl.DataFrame({"person_id": frame_ids, "value": rng.random(frame_ids.size),
                          "label": pl.Series(rng.choice(["a", "b", None], frame_ids.size).tolist(), dtype=pl.String)})
    ids = np.unique(np.concatenate([people, rng.integers(-(2**62), 2**62, 5, dtype=np.int64)]))
    donor = rng.integers(0, ids.size, n_donors)
    recipient = rng.integers(0, 10**18, donor.size, dtype=np.int64)
    got = Donors.rows(frame, row_bounds(frame_ids, ids), donor, recipient)
    assert got.equals(_old_rows(frame, frame_ids, ids[donor], recipient))


def _old_pick(donors, status, bands, nw, ab, u, area):
    """`Donors.pick` before session 12: a vectorised pass per level (the oracle)."""
    from boligmix.simulate.donors import _LEVEL_DIVISOR, _cell_code

    n = status.size
    columns = [status, bands, nw.astype(np.int64), ab, area]
    out = np.zeros(n, dtype=np.int64)
    todo = np.arange(n)
    finest = _cell_code(columns, 5) if n else np.zeros(0, dtype=np.int64)
    for depth, (codes, starts, sizes), pool in zip((5, 4, 3, 2, 1), donors.levels, donors.pools):
        if todo.size == 0:
            break
        want = finest[todo] // _LEVEL_DIVISOR[depth]
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
        if at.size == 0:
            raise KeyError((0,))
        size = sizes[at[0]]
        out[todo] = donors.pools[4][starts[at[0]] + np.minimum((u[todo] * size).astype(np.int64), size - 1)]
    return out


def _donors(rng, n: int, statuses: int, areas: int, with_status0: bool):
    """A `Donors` of `n` random donors (its cells built as `Donors.__init__` builds them)."""
    from boligmix.simulate.donors import _KEY_RADIX, _LEVEL_DIVISOR, MIN_AREA_DONORS, Donors, _cell_code
    from boligmix.simulate.lookup import sorted_groups

    donors = Donors.__new__(Donors)
    ids = np.unique(rng.integers(-(2**62), 2**62, n, dtype=np.int64))
    status = rng.integers(0 if with_status0 else 1, statuses, ids.size)
    columns = [status, rng.integers(0, 3, ids.size), rng.integers(0, 2, ids.size), rng.integers(0, 3, ids.size),
               rng.integers(-1, areas, ids.size)]
    finest = _cell_code(columns, 5)
    donors.levels, donors.pools = [], []
    for depth in (5, 4, 3, 2, 1):
        code = finest // _LEVEL_DIVISOR[depth]
        by_cell = np.argsort(code, kind="stable")
        codes, starts, sizes = sorted_groups(code[by_cell])
        if depth == 5:
            usable = (codes % _KEY_RADIX[4] > 0) & (sizes >= min(MIN_AREA_DONORS, 3))
            codes, starts, sizes = codes[usable], starts[usable], sizes[usable]
        donors.levels.append((codes, starts, sizes))
        donors.pools.append(ids[by_cell])
    return donors


@settings(max_examples=80, deadline=None)
@given(n_donors=st.integers(1, 400), n=st.integers(0, 300), statuses=st.integers(2, 6), areas=st.integers(0, 5),
       with_status0=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_pick_by_the_compiled_walk_equals_the_vectorised_levels(n_donors, n, statuses, areas, with_status0, seed):
    """`Donors.pick` (one compiled walk per recipient through the levels) against the vectorised
    passes it replaced: recipients of cells at every level, of none (the status-0 pool, or the
    KeyError without one), u near 1."""
    rng = np.random.default_rng(seed)
    donors = _donors(rng, n_donors, statuses, areas, with_status0)
    status = rng.integers(0, statuses + 2, n)
    bands, nw, ab = rng.integers(0, 4, n), rng.integers(0, 2, n).astype(bool), rng.integers(0, 4, n)
    area = rng.integers(-1, areas + 2, n)
    u = np.where(rng.random(n) < 0.1, np.nextafter(1.0, 0.0), rng.random(n))
    try:
        want = _old_pick(donors, status, bands, nw, ab, u, area)
    except KeyError:
        try:
            donors.pick(status, bands, nw, ab, u, area)
        except KeyError:
            return
        raise AssertionError("no KeyError")
    assert donors.pick(status, bands, nw, ab, u, area).tolist() == want.tolist()


@settings(max_examples=200, deadline=None)
@given(n_first=st.integers(0, 60), n_second=st.integers(0, 60), two_keys=st.booleans(), presorted=st.booleans(),
       nulls=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_union_of_kept_rows_with_a_sorted_second_equals_the_filtered_sorted_union(n_first, n_second, two_keys,
                                                                                presorted, nulls, seed):
    """`sorted_union_of_kept` with a second frame already strictly sorted (the donated person_years:
    not sorted again) or not, against filtering and `sorted_union`."""
    from boligmix.simulate.lookup import sorted_union, sorted_union_of_kept

    rng = np.random.default_rng(seed)
    people = rng.permutation(np.unique(rng.integers(-(2**40), 2**40, n_first + n_second)))
    def frame(ids):
        ids = np.repeat(ids, rng.integers(1, 3 if two_keys else 2, ids.size))
        att = rng.choice(["a", "b", "c"] + ([None] if nulls else []), ids.size).tolist()
        return pl.DataFrame({"p": ids, "att": pl.Series(att, dtype=pl.String), "v": rng.random(ids.size)})
    by = ("p", "att") if two_keys else ("p",)
    first = frame(people[:n_first]).unique(list(by), keep="first", maintain_order=True).sort(*by)
    second = frame(people[n_first:]).unique(list(by), keep="first", maintain_order=True)
    if presorted:
        second = second.sort(*by)
    keep = rng.random(first.height) < 0.7
    expected = sorted_union(first.filter(pl.Series(keep, dtype=pl.Boolean)), second, by)
    assert sorted_union_of_kept(first, keep, second, by).equals(expected)


@settings(max_examples=200, deadline=None)
@given(n=st.integers(0, 2_000), cells=st.sampled_from([1, 3, 50, 10**6, 2**40]), divisor=st.sampled_from([1, 2, 64, 4096, 2**30]),
       seed=st.integers(0, 2**32 - 1))
def test_stable_order_of_coarser_codes_equals_the_stable_argsort(n, cells, divisor, seed):
    """The donors' pools of a coarser level ordered by counting from the finest level's order, against
    numpy's stable argsort of the coarser codes (ties in index order; few and many cells)."""
    from boligmix.simulate.donors import stable_order_of_coarser

    finest = np.random.default_rng(seed).integers(0, cells, n, dtype=np.int64)
    got = stable_order_of_coarser(finest, np.argsort(finest, kind="stable"), divisor)
    assert got.tolist() == np.argsort(finest // divisor, kind="stable").tolist()
