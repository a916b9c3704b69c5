"""Session 11's kernels of the year outside the market equal what they replaced, on random inputs
(Hypothesis): the indicators' check for a person with two open residence spells, a scatter over
the person index instead of a sort of the ids on every date, against a brute-force check."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from boligmix.errors import DataValidationError
from boligmix.indicators import person_index
from boligmix.indicators.person_index import Dwellings, Persons, read_spells
from boligmix.indicators.population import FramesDataset

_DATES = [date(2024, 1, 1), date(2025, 1, 1), date(2026, 1, 1)]


def _brute_force(frame: pl.DataFrame, dates: list[date], known: set[int]):
    """The error `read_spells` raises (message start, 1-based file row) or None: the first date with
    a person's two open spells (all their open rows flagged), then an unknown person among the
    spells open on any date."""
    rows = list(frame.iter_rows(named=True))
    for d in dates:
        open_rows = [i for i, r in enumerate(rows) if r["move_in"] <= d and (r["move_out"] is None or r["move_out"] > d)]
        ids = [rows[i]["person_id"] if rows[i]["person_id"] is not None else 0 for i in open_rows]
        twice = [i for i, p in zip(open_rows, ids) if ids.count(p) > 1]
        if twice:
            return "a person has two residence spells", min(twice) + 1
    unknown = [i for i, r in enumerate(rows) if r["person_id"] not in known
               and any(r["move_in"] <= d and (r["move_out"] is None or r["move_out"] > d) for d in dates)]
    if unknown:
        return "person_id is not in persons.parquet", min(unknown) + 1
    return None


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_two_open_spells_are_found_as_by_brute_force(tmp_path_factory, data):
    n_persons = data.draw(st.integers(1, 12))
    person_ids = np.array(sorted(data.draw(st.sets(st.integers(1, 10**17 + 50), min_size=n_persons,
                                                   max_size=n_persons))), dtype=np.int64)
    persons = Persons(person_ids, np.zeros(n_persons, dtype=np.int32), np.zeros(n_persons, dtype=bool))
    dwellings = Dwellings(np.arange(1, 6, dtype=np.int64), np.array([0, 1, -1, 0, 1], dtype=np.int32),
                          np.zeros(5, dtype=np.int8))
    n = data.draw(st.integers(0, 25))
    day = st.integers(-800, 800).map(lambda k: date(2025, 1, 1) + timedelta(days=k))
    unknown_ok = data.draw(st.booleans())
    person = st.sampled_from(person_ids.tolist()) | (st.integers(1, 10**17 + 60) if unknown_ok else st.nothing())
    spells = data.draw(st.lists(st.tuples(person, st.integers(1, 5), day, st.none() | day), min_size=n, max_size=n))
    frame = pl.DataFrame({"person_id": [s[0] for s in spells], "dwelling_id": [s[1] for s in spells],
                          "move_in": [s[2] for s in spells], "move_out": [s[3] for s in spells]},
                         schema={"person_id": pl.Int64, "dwelling_id": pl.Int64, "move_in": pl.Date,
                                 "move_out": pl.Date})
    dates = sorted(data.draw(st.sets(st.sampled_from(_DATES), min_size=1)))
    dataset = FramesDataset(tmp_path_factory.mktemp("spells"), {"residences": frame})
    expected = _brute_force(frame, dates, set(person_ids.tolist()))
    if expected is None:
        _spells, residents = read_spells(dataset, dates, dwellings, persons)
        for d in dates:                       # who lives where: each open spell's person in its region
            open_ids = [r["person_id"] for r in frame.iter_rows(named=True)
                        if r["move_in"] <= d and (r["move_out"] is None or r["move_out"] > d)]
            assert sorted(person_ids[residents[d].region >= 0].tolist()) == sorted(open_ids)
    else:
        with pytest.raises(DataValidationError) as info:
            read_spells(dataset, dates, dwellings, persons)
        assert info.value.reason.startswith(expected[0])
        assert info.value.row == expected[1]


def test_a_planted_bug_in_the_scatter_check_is_caught(tmp_path, monkeypatch):
    """Two open spells of one person among unordered spells: the check must raise (a check that
    compared the open spells with themselves would pass them)."""
    persons = Persons(np.array([10, 20, 30], dtype=np.int64), np.zeros(3, dtype=np.int32), np.zeros(3, dtype=bool))
    dwellings = Dwellings(np.array([1, 2], dtype=np.int64), np.array([0, 1], dtype=np.int32), np.zeros(2, dtype=np.int8))
    frame = pl.DataFrame({"person_id": [30, 10, 20, 10], "dwelling_id": [1, 1, 2, 2],
                          "move_in": [date(2020, 1, 1)] * 4, "move_out": [None, None, None, date(2025, 6, 1)]},
                         schema={"person_id": pl.Int64, "dwelling_id": pl.Int64, "move_in": pl.Date, "move_out": pl.Date})
    dataset = FramesDataset(tmp_path, {"residences": frame})
    with pytest.raises(DataValidationError, match="two residence spells open on 2025-01-01") as info:
        read_spells(dataset, [date(2025, 1, 1)], dwellings, persons)
    assert info.value.row == 2
    read_spells(dataset, [date(2026, 1, 1)], dwellings, persons)      # closed by then: no error
    assert person_index.read_spells is read_spells
