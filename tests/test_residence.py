"""One definition of "resident on 1 January": the per-day test and the all-years form agree."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from boligmix.data.residence import january_years, resident_on

DAYS = st.integers(0, 9 * 366)
START = date(2008, 1, 1)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(DAYS, st.one_of(st.none(), st.integers(1, 3 * 366))), min_size=1, max_size=30))
def test_january_years_agree_with_resident_on(spells):
    frame = pl.DataFrame({"move_in": [START + timedelta(days=a) for a, _ in spells],
                          "move_out": [None if d is None else START + timedelta(days=a + d) for a, d in spells]},
                         schema={"move_in": pl.Date, "move_out": pl.Date})
    first, last = january_years(2030)
    span = frame.select(first.alias("first"), last.alias("last"))
    for year in range(2007, 2031):
        day = date(year, 1, 1)
        expected = frame.select(resident_on(day)).to_series().to_list()
        got = [f <= year <= l for f, l in span.iter_rows()]
        assert got == expected, year


def test_move_days_are_the_boundaries():
    frame = pl.DataFrame({"move_in": [date(2020, 1, 1), date(2020, 1, 2)], "move_out": [date(2021, 1, 1), None]})
    assert frame.select(resident_on(date(2020, 1, 1))).to_series().to_list() == [True, False]
    assert frame.select(resident_on(date(2021, 1, 1))).to_series().to_list() == [False, True]
