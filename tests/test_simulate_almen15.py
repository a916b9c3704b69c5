"""Session 15's cheaper steps of an almen vacancy's try give the old steps' answers (branch almen15).

- `engine_dwelling` (the engine's `Dwelling` without the frozen dataclass's `__init__`) against
  `Dwelling(...)` on random fields (ids over the whole int64 range, None and empty areas, every
  subset of the area categories and unknown ones, rooms from -2 up, NaN, -0.0, infinite and None
  rents): the same fields in the same order, equal objects and reprs, or the constructor's error.
The column screen's window (verdicts per seeker, one eligible key without the sort) is compared with
a fresh screen per window by `test_simulate_select13` and with the row path by
`test_simulate_column_facts`; the empty window decided without the screens' calls and the empty band
without the selection's kernel by the market's oracles (`test_simulate_market`,
`test_simulate_direct_years`) and `test_simulate_almen12`.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings, strategies as st

from boligmix.errors import DataValidationError
from boligmix.letting.model import AREA_CATEGORIES, Dwelling
from boligmix.simulate.engine_dwelling import engine_dwelling

INT64 = st.integers(-2**63, 2**63 - 1)
TEXT = st.text(max_size=6)
FLOAT = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([0.0, -0.0, math.nan, math.inf]))


@settings(max_examples=400, deadline=None)
@given(dwelling_id=INT64, municipality=INT64, org=TEXT, department=TEXT, rooms=st.integers(-2, 12),
       area=st.one_of(st.none(), st.just(""), TEXT),
       categories=st.frozensets(st.sampled_from([*AREA_CATEGORIES, "ukendt", ""]), max_size=4),
       almen_type=st.sampled_from(["family", "youth", "elderly"]), floor_area=FLOAT,
       rent=st.one_of(st.none(), FLOAT))
def test_engine_dwelling_is_the_constructors(dwelling_id, municipality, org, department, rooms, area, categories,
                                             almen_type, floor_area, rent):
    args = (dwelling_id, municipality, org, department, rooms, area, categories, almen_type, floor_area, rent)
    try:
        expected = Dwelling(*args)
    except DataValidationError as error:
        with pytest.raises(DataValidationError) as caught:
            engine_dwelling(*args)
        assert str(caught.value) == str(error)
        return
    got = engine_dwelling(*args)
    assert type(got) is Dwelling
    assert list(vars(got)) == list(vars(expected))              # the fields in the same order
    for name, value in vars(expected).items():
        assert type(getattr(got, name)) is type(value) and repr(getattr(got, name)) == repr(value), name
    if floor_area == floor_area and (rent is None or rent == rent):
        assert got == expected                                  # (NaN fields are never equal)
    assert repr(got) == repr(expected)
    assert got.facts == {} and got.facts is not engine_dwelling(*args).facts
    with pytest.raises(AttributeError):                         # still frozen
        got.rooms = 2
