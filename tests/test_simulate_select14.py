"""Session 14's almen letting glue (branch select14): a vacancy's `Dwelling` read from the
population's columns by `ndarray.item` (`AlmenLetting.dwelling`) against session 13's reads through
numpy scalars (the oracle below): the same fields, of the same types."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from boligmix.letting.model import AREA_CATEGORIES, Dwelling
from boligmix.simulate.almen_letting import AlmenLetting

RENTS = st.one_of(st.just(float("nan")), st.just(-0.0), st.just(0.0), st.floats(allow_nan=False, allow_infinity=True),
                  st.integers(-2**53, 2**53).map(float))
IDS = st.text("ABC-1", min_size=0, max_size=3)


def old_dwelling(pop, categories: dict, pos: int) -> Dwelling:
    """Session 13's `AlmenLetting.dwelling` (numpy scalars converted by `int` and `float`)."""
    dw = pop.dwellings
    area = dw.area[pos]
    rent = float(dw.rent[pos])
    return Dwelling(int(dw.ids[pos]), int(dw.municipality[pos]), dw.org[pos], dw.department[pos], int(dw.rooms[pos]),
                    area, categories.get(area, frozenset()) if area else frozenset(),
                    dw.almen_type[pos] or "family", float(dw.floor_area[pos]), None if np.isnan(rent) else rent)


@st.composite
def dwellings(draw):
    n = draw(st.integers(1, 30))

    def column(values, dtype):
        return np.array(draw(st.lists(values, min_size=n, max_size=n)), dtype=dtype)
    areas = st.one_of(st.none(), IDS)
    return SimpleNamespace(
        ids=column(st.integers(-2**63, 2**63 - 1), np.int64), municipality=column(st.integers(-2**31, 2**31), np.int64),
        rooms=column(st.integers(1, 2**40), np.int64), floor_area=column(st.floats(), np.float64),
        rent=column(RENTS, np.float64), area=column(areas, object), org=column(st.one_of(st.none(), IDS), object),
        department=column(st.one_of(st.none(), IDS), object),
        almen_type=column(st.sampled_from([None, "", "family", "youth", "elderly"]), object))


def _fields(d: Dwelling) -> list:
    """Each field's type and value (floats by their bits: -0.0 and NaN told apart)."""
    out = []
    for name in d.__dataclass_fields__:
        v = getattr(d, name)
        out.append((name, type(v), math.copysign(1.0, v) if isinstance(v, float) else None,
                    v if not isinstance(v, float) or not math.isnan(v) else "nan"))
    return out


@settings(max_examples=300, deadline=None)
@given(dwellings(), st.dictionaries(IDS, st.frozensets(st.sampled_from(sorted(AREA_CATEGORIES)))), st.data())
def test_dwelling_reads_as_before(dw, categories, data):
    pos = data.draw(st.integers(0, dw.ids.size - 1))
    letting = SimpleNamespace(pop=SimpleNamespace(dwellings=dw), categories=categories)
    new, old = AlmenLetting.dwelling(letting, pos), old_dwelling(letting.pop, categories, pos)
    assert _fields(new) == _fields(old)
