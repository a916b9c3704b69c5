"""`IdIndex` (the bucket-table id lookup of the official indicators) against a binary-search oracle."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from boligmix.indicators import person_index
from boligmix.indicators.person_index import IdIndex


def _oracle(table: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First position of each id in the sorted `table` (0 when absent) and the found mask."""
    pos = np.searchsorted(table, ids, side="left")
    pos[pos == table.size] = 0
    found = table[pos] == ids if table.size else np.zeros(ids.size, dtype=bool)
    return np.where(found, pos, 0), found


def _check(table: np.ndarray, ids: np.ndarray) -> None:
    idx, found = IdIndex(table).index(ids)
    want_idx, want_found = _oracle(table, ids)
    assert found.tolist() == want_found.tolist()
    assert idx.tolist() == want_idx.tolist()


@settings(max_examples=60, deadline=None)
@given(n=st.integers(0, 20_000), spread=st.sampled_from([1, 3, 1_000, 25_214_903_917, 2**40, 2**61]),
       offset=st.integers(-(2**40), 2**40), repeats=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_index_matches_binary_search(n, spread, offset, repeats, seed):
    rng = np.random.default_rng(seed)
    width = min(spread * max(n, 1), 2**62)
    table = np.sort(offset + rng.integers(0, width, n, dtype=np.int64))
    if not repeats:
        table = np.unique(table)
    present = rng.choice(table, size=min(table.size, 5_000)) if table.size else np.zeros(0, dtype=np.int64)
    absent = offset + rng.integers(-min(spread * 3, 2**60), width + min(spread * 3, 2**60), 2_000, dtype=np.int64)
    ids = rng.permutation(np.concatenate([present, absent]))
    _check(table, ids)
    _check(table, np.sort(ids))


def test_evenly_spread_ids_take_one_probe_and_chunks_join_up(monkeypatch):
    monkeypatch.setattr(person_index, "CHUNK", 1000)  # many chunks, in the build and in the lookup
    table = 1_000_000_000_000 + 25_214_903_917 * np.arange(50_000, dtype=np.int64)
    index = IdIndex(table)
    assert index.max_per_bucket == 1
    ids = np.concatenate([table[::-7], table[:5] + 1, [table[0] - 1, table[-1] + 1, -5]])
    _check(table, ids)


def test_ids_spread_over_the_whole_int64_range_fall_back_to_a_binary_search():
    table = np.array(sorted({-(2**63) + 5, -3, 0, 7, 2**62, 2**63 - 1} | set(range(10_000))), dtype=np.int64)
    _check(table, np.array([-(2**63) + 5, 2**63 - 1, 4, -4, 10_000, 9_999], dtype=np.int64))


def test_an_empty_table_finds_nothing():
    idx, found = IdIndex(np.zeros(0, dtype=np.int64)).index(np.array([1, 2], dtype=np.int64))
    assert idx.tolist() == [0, 0] and found.tolist() == [False, False]


@settings(max_examples=30, deadline=None)
@given(n=st.integers(5_000, 20_000), far=st.integers(1, 50), seed=st.integers(0, 2**32 - 1))
def test_bunched_ids_past_the_probes_are_binary_searched(n, far, seed):
    """Dense ids and a few far-off ones (the simulation's dwellings: the data's and newly built):
    the buckets are crowded, the probes stop at PROBES and the rest are found by a binary search."""
    rng = np.random.default_rng(seed)
    dense = 3_000_000_000_000 + np.sort(rng.choice(10 * n, n, replace=False)).astype(np.int64)
    table = np.concatenate([np.repeat(dense, rng.integers(1, 3, n)),
                            np.sort(rng.integers(2**57, 2**58, far, dtype=np.int64))])
    index = IdIndex(table)
    assert index.max_per_bucket - 1 > person_index.PROBES
    ids = rng.permutation(np.concatenate([rng.choice(table, 3_000), dense[:50] + 1, table[-far:], [table[-1] + 1]]))
    _check(table, ids)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(4_200, 12_000), far=st.integers(1, 6_000), clusters=st.integers(1, 4),
       repeats=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_bunched_ids_split_at_the_widest_gap_equal_the_binary_search(n, far, clusters, repeats, seed):
    """Dense ids and clusters of far-off ones, many or few (the simulation's dwellings and persons:
    the data's ids and new ones from 10^17 on): the table is split at its widest gaps and each side
    looked up with buckets of its own; positions are the first equal id's in the whole table."""
    rng = np.random.default_rng(seed)
    dense = 3_000_000 + np.sort(rng.choice(10 * n, n, replace=False)).astype(np.int64)
    parts = [np.repeat(dense, rng.integers(1, 3, n)) if repeats else dense]
    for c in range(clusters):
        base = 10**17 * (c + 1)
        parts.append(np.sort(rng.integers(base, base + 2**54 // (c + 1), far, dtype=np.int64)))
    table = np.sort(np.concatenate(parts))
    index = IdIndex(table)
    assert index.max_per_bucket - 1 > person_index.PROBES and index._split is not None
    ids = rng.permutation(np.concatenate([rng.choice(table, 4_000), dense[:50] + 1, table[-5:] + 1,
                                          [table[0] - 1, 10**17 - 1, 10**17]]))
    _check(table, ids)


def test_a_crowded_table_of_one_repeated_id_is_not_split():
    table = np.concatenate([np.full(6_000, 7, dtype=np.int64), 10**15 + np.arange(100, dtype=np.int64)])
    _check(table, np.array([7, 8, 10**15, 10**15 + 99, 10**15 + 100, 6], dtype=np.int64))
    _check(np.full(6_000, 7, dtype=np.int64), np.array([7, 6, 8], dtype=np.int64))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(-(2**40), 2**40), min_size=2, max_size=60), st.integers(1, 7))
def test_widest_gap_in_chunks_is_the_first_largest_difference(values, chunk):
    import boligmix.indicators.person_index as pi

    ids = np.sort(np.array(values, dtype=np.int64))
    old = pi.CHUNK
    pi.CHUNK = chunk
    try:
        got = pi._widest_gap(ids)
    finally:
        pi.CHUNK = old
    assert got == int(np.argmax(np.diff(ids))) + 1


def test_a_split_table_looks_up_chunk_by_chunk(monkeypatch):
    monkeypatch.setattr(person_index, "CHUNK", 1000)  # many chunks, in the build, the split and the lookup
    rng = np.random.default_rng(3)
    table = np.sort(np.concatenate([5_000_000 + np.sort(rng.choice(80_000, 20_000, replace=False)),
                                    rng.integers(10**17, 10**17 + 2**54, 3_000, dtype=np.int64)]))
    assert IdIndex(table)._split is not None
    _check(table, rng.permutation(np.concatenate([rng.choice(table, 9_000), table[:30] + 1, [table[-1] + 1, 7]])))
