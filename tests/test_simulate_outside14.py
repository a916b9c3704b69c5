"""Session 14's change to the year outside the market: the donors' year's frames in one chunk
(`Donors`) hold the same rows, and the donors' rows read from them equal those read from the frames
of several chunks (the parquet's row groups). And `sorted_union_of_kept` on frames of several chunks
(a column-by-column gather was tried, measured slower on the national rows and reverted; this test
of it stays): equal to session 12's gather (the oracle, a copy) and to filtering then
`sorted_union`, with nulls, empty and one-row frames."""

from __future__ import annotations

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from boligmix.simulate import lookup
from boligmix.simulate.lookup import sorted_union, sorted_union_of_kept


def _session12_union_of_kept(first: pl.DataFrame, keep: np.ndarray, second: pl.DataFrame, by: tuple[str, ...]
                             ) -> pl.DataFrame:
    """`sorted_union_of_kept` of session 12 (the oracle): one gather from both frames side by side."""
    second_sorted = lookup._strictly_sorted(second, by)
    if not second_sorted:
        second = second.sort(*by)
        second_sorted = lookup._strictly_sorted(second, by)
    if not (first.schema == second.schema and lookup._strictly_sorted(first, by) and second_sorted):
        return sorted_union(first.filter(pl.Series(keep, dtype=pl.Boolean)), second, by)
    kept = np.flatnonzero(keep)
    at = np.searchsorted(first[by[0]].to_numpy()[kept], second[by[0]].to_numpy()) + np.arange(second.height)
    take = np.empty(kept.size + second.height, dtype=np.int64)
    from_second = np.zeros(take.size, dtype=bool)
    from_second[at] = True
    take[~from_second] = kept
    take[from_second] = np.arange(first.height, first.height + second.height)
    return pl.concat([first, second], rechunk=False)[take]


def _chunked(frame: pl.DataFrame, cuts: list[int]) -> pl.DataFrame:
    """`frame` as several chunks, cut at `cuts` (row positions)."""
    bounds = sorted({0, frame.height, *(c % (frame.height + 1) for c in cuts)})
    parts = [frame[a:b] for a, b in zip(bounds, bounds[1:])] or [frame]
    return pl.concat(parts, rechunk=False)


@settings(max_examples=300, deadline=None)
@given(n_first=st.integers(0, 40), n_second=st.integers(0, 40), two_keys=st.booleans(), nulls=st.booleans(),
       cuts=st.lists(st.integers(0, 200), max_size=4), seed=st.integers(0, 2**32 - 1))
def test_union_of_kept_of_chunked_frames_equals_session12_and_the_filtered_union(n_first, n_second, two_keys, nulls,
                                                                               cuts, seed):
    rng = np.random.default_rng(seed)
    people = rng.permutation(np.unique(rng.integers(-(2**62), 2**62, n_first + n_second)))

    def frame(ids: np.ndarray) -> pl.DataFrame:
        ids = np.repeat(ids, rng.integers(1, 3 if two_keys else 2, ids.size))
        att = rng.choice(["a", "b", "c"], ids.size).tolist()
        text = rng.choice(["grundskole", "en længere tekst end tolv tegn", "x"] + ([None] if nulls else []),
                          ids.size).tolist()
        value = rng.random(ids.size)
        return pl.DataFrame({"p": ids, "att": pl.Series(att, dtype=pl.String), "text": pl.Series(text, dtype=pl.String),
                             "v": pl.Series(np.where(rng.random(ids.size) < 0.2, np.nan, value)),
                             "flag": pl.Series([None if nulls and f < 0.1 else bool(f < 0.5) for f in rng.random(ids.size)],
                                               dtype=pl.Boolean)})

    by = ("p", "att") if two_keys else ("p",)
    first = frame(people[:n_first]).unique(list(by), keep="first", maintain_order=True).sort(*by)
    second = frame(people[n_first:]).unique(list(by), keep="first", maintain_order=True).sort(*by)
    first, second = _chunked(first, cuts), _chunked(second, cuts[::-1])
    keep = rng.random(first.height) < 0.7
    got = sorted_union_of_kept(first, keep, second, by)
    assert got.schema == first.schema
    assert got.equals(_session12_union_of_kept(first, keep, second, by))
    assert got.equals(sorted_union(first.filter(pl.Series(keep, dtype=pl.Boolean)), second, by))


def test_union_of_kept_of_one_row_and_of_none():
    first = pl.DataFrame({"p": [3], "s": ["a"]})
    second = pl.DataFrame({"p": [-(2**62)], "s": [None]}, schema=first.schema)
    assert sorted_union_of_kept(first, np.array([True]), second, ("p",)).rows() == [(-(2**62), None), (3, "a")]
    assert sorted_union_of_kept(first, np.array([False]), second[:0], ("p",)).height == 0
    assert sorted_union_of_kept(first[:0], np.zeros(0, dtype=bool), second, ("p",)).equals(second)


def test_the_donors_year_in_one_chunk_holds_the_same_rows_and_gives_the_same_donated_rows():
    import copy

    from simulate_support import START, shared
    from synth_data import small_dataset_dir

    from boligmix.simulate.donors import Donors
    from boligmix.simulate.population import Population

    rates = shared().rates
    pop = Population.from_dataset(small_dataset_dir(), START)
    year = START - 1
    pop.labour[year] = _chunked(pop.labour[year], [7, 100, 1000])
    pop.person_years[year] = _chunked(pop.person_years[year], [3, 50, 2000])
    chunked = copy.deepcopy(pop)
    assert pop.labour[year].n_chunks() > 1 and pop.person_years[year].n_chunks() > 1
    donors = Donors(pop, year, rates.outside_statuses)
    for table in (pop.labour, pop.person_years):
        assert table[year].n_chunks("all") == [1] * table[year].width
    assert pop.labour[year].equals(chunked.labour[year])
    assert pop.person_years[year].equals(chunked.person_years[year])
    # the donated rows from the frames of several chunks (the gather before) equal those from one chunk
    rng = np.random.default_rng(5)
    donor = rng.choice(donors.pools[0], 500)
    recipient = rng.permutation(pop.pid)[:500]
    for frame, bounds in ((donors.labour, donors.labour_bounds), (donors.person_years, donors.person_years_bounds)):
        old = _chunked(frame, [1, 60, 700])
        assert frame.n_chunks() == 1 and old.n_chunks() > 1
        got = donors.rows(frame, bounds, donor, recipient)
        assert got.equals(donors.rows(old, bounds, donor, recipient))
        assert got.height >= donor.size if frame is donors.person_years else got.height > 0
