"""The register outcomes' leaner kernels (less memory at national scale) equal the code they
replaced, on random inputs: the education states coded by small integers per column against the
left join on the two string columns (nulls equal, values of no state, repeated states); the kept
register rows merged with the donated ones by one gather against filtering them and then
`sorted_union` (keys distinct or not, nulls, sorted or not: the frames of `sorted_union`'s test)."""

from __future__ import annotations

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from boligmix.simulate.lookup import sorted_union, sorted_union_of_kept
from boligmix.simulate.education_moves import education_state_codes
from test_simulate_outside_kernels import _frames   # the frames of `sorted_union`'s test

LEVELS = [None, "grundskole", "gymnasial", "erhvervsfaglig", "videregående", "ukendt"]
SOURCES = [None, "register", "imputeret", "x"]


def _joined(person_years: pl.DataFrame, states: pl.DataFrame) -> np.ndarray:
    """The code `education_state_codes` replaced."""
    return (person_years.select("highest_education", "education_source")
            .join(states, on=["highest_education", "education_source"], how="left", nulls_equal=True,
                  maintain_order="left")["state"].fill_null(-1).to_numpy())


pair = st.tuples(st.sampled_from(LEVELS), st.sampled_from(SOURCES))


@settings(max_examples=200, deadline=None)
@given(st.lists(pair, max_size=12), st.lists(pair, max_size=60), st.booleans())
def test_education_state_codes_equal_the_join_on_the_string_columns(state_pairs, rows, unique):
    if unique:
        state_pairs = list(dict.fromkeys(state_pairs))
    states = pl.DataFrame({"highest_education": [s[0] for s in state_pairs],
                           "education_source": [s[1] for s in state_pairs],
                           "state": np.arange(len(state_pairs), dtype=np.int64)},
                          schema={"highest_education": pl.String, "education_source": pl.String, "state": pl.Int64})
    person_years = pl.DataFrame({"person_id": np.arange(len(rows), dtype=np.int64),
                                 "highest_education": [r[0] for r in rows], "education_source": [r[1] for r in rows]},
                                schema={"person_id": pl.Int64, "highest_education": pl.String,
                                        "education_source": pl.String})
    got = education_state_codes(person_years, states)
    assert got.dtype == np.int64     # repeated states: the same join (its rows then are not one per person)
    assert np.array_equal(got, _joined(person_years, states))


def test_education_state_codes_by_hand():
    states = pl.DataFrame({"highest_education": ["a", "a", None, "b"], "education_source": ["r", None, "r", "r"],
                           "state": [0, 1, 2, 3]})
    person_years = pl.DataFrame({"highest_education": ["a", "a", None, "b", "b", "c", None, "a"],
                                 "education_source": ["r", None, "r", "r", None, "r", None, "q"]})
    assert education_state_codes(person_years, states).tolist() == [0, 1, 2, 3, -1, -1, -1, -1]


@settings(max_examples=300, deadline=None)
@given(_frames(), st.sampled_from([("p", "att"), ("p",)]), st.data())
def test_union_of_kept_rows_equals_filtering_then_the_sorted_union(frames, by, data):
    first, second = frames
    if by == ("p",):          # one row per person, as the person_years
        first, second = first.unique("p", keep="first", maintain_order=True), second.unique("p", keep="first")
    keep = np.array(data.draw(st.lists(st.booleans(), min_size=first.height, max_size=first.height)), dtype=bool)
    expected = sorted_union(first.filter(pl.Series(keep, dtype=pl.Boolean)), second, by)
    got = sorted_union_of_kept(first, keep, second, by)
    assert got.schema == expected.schema
    if expected.select(pl.struct(*by).is_duplicated().any()).item():   # ties: the same fallback sort
        assert got.sort(*by, "v", nulls_last=True).equals(expected.sort(*by, "v", nulls_last=True))
    else:
        assert got.equals(expected)


def test_union_of_kept_rows_by_hand():
    first = pl.DataFrame({"p": [1, 1, 3, 5, 7], "att": ["a", "b", "a", "a", "c"], "v": [0.1, 0.2, 0.3, 0.4, 0.5]})
    second = pl.DataFrame({"p": [6, 2, 2, 9], "att": ["b", "b", "a", "a"], "v": [1.0, 2.0, 3.0, 4.0]})
    got = sorted_union_of_kept(first, np.array([True, True, False, True, False]), second, ("p", "att"))
    assert got.rows() == [(1, "a", 0.1), (1, "b", 0.2), (2, "a", 3.0), (2, "b", 2.0), (5, "a", 0.4), (6, "b", 1.0),
                          (9, "a", 4.0)]


def test_the_outcomes_drawn_in_small_chunks_equal_those_drawn_at_once(monkeypatch):
    """The status, conviction and education draws a chunk of persons at a time (`DRAW_CHUNK`, memory)
    give every register row, status and conviction that one draw of everyone gives."""
    import copy

    from simulate_support import START, shared
    from synth_data import small_dataset_dir

    from boligmix.simulate import per_resident, register_outcomes
    from boligmix.simulate.demography import deaths
    from boligmix.simulate.population import Population

    rates = shared().rates
    start = Population.from_dataset(small_dataset_dir(), START)
    results = []
    for chunk in (1 << 40, 97):
        monkeypatch.setattr(per_resident, "DRAW_CHUNK", chunk)
        pop = copy.deepcopy(start)
        donors = register_outcomes.Donors(pop, START - 1, rates.outside_statuses)
        deaths(pop, rates, 3, 0, START)
        for year in (START, START + 1):
            register_outcomes.outcomes(pop, rates, donors, 3, 0, year)
        assert pop.size > 20 * chunk or chunk > pop.size
        results.append(pop)
    once, chunked = results
    for year in (START, START + 1):
        assert chunked.labour[year].equals(once.labour[year])
        assert chunked.person_years[year].equals(once.person_years[year])
        assert chunked.convictions[year].equals(once.convictions[year])
        assert all(np.array_equal(a, b) for a, b in zip(chunked.status_cache[year], once.status_cache[year]))
    assert once.convictions[START].height > 0
    assert not once.person_years[START + 1].equals(once.person_years[START].with_columns(pl.lit(START + 1).alias("year")))
