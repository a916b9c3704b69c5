"""Session 14's almen letting glue (branch select14): a vacancy's `Dwelling` read from the
population's columns by `ndarray.item` (`AlmenLetting.dwelling`) against session 13's reads through
numpy scalars (the oracle below): the same fields, of the same types; the column screen's dwelling
facts (`column_facts.dwelling_facts`) against `base_facts`' `dwelling.` facts on a stand-in applicant."""

from __future__ import annotations

import math
from datetime import date
from types import SimpleNamespace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from boligmix.letting.facts import BASE_FACTS, base_facts
from boligmix.letting.model import AREA_CATEGORIES, Applicant, Dwelling, Household, HouseholdMember, ListType, \
    MemberRole
from boligmix.simulate.almen_letting import AlmenLetting
from boligmix.simulate.column_facts import dwelling_facts

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


STAND_IN = Applicant(0, "", ListType.EXTERNAL, date(2000, 1, 1),
                     Household(0, (HouseholdMember(0, MemberRole.APPLICANT, date(1980, 1, 1)),)))
"""Session 13's stand-in applicant for reading a dwelling's own facts off `base_facts`."""


@settings(max_examples=300, deadline=None)
@given(st.builds(Dwelling, st.integers(-2**63, 2**63 - 1), st.integers(0, 999), IDS, IDS, st.integers(1, 20),
                 st.one_of(st.none(), IDS), st.frozensets(st.sampled_from(AREA_CATEGORIES)),
                 st.sampled_from(["family", "youth", "elderly", ""]), st.one_of(st.none(), st.floats()),
                 st.one_of(st.none(), RENTS), st.booleans(), st.just({}), st.booleans()),
       st.dates(date(1990, 1, 1), date(2040, 12, 31)))
def test_dwelling_facts_are_base_facts(dwelling, on):
    base = {k: v for k, v in base_facts(STAND_IN, dwelling, on, 0).items() if k.startswith("dwelling.")}
    facts = dwelling_facts(dwelling)
    assert list(facts) == [n for n in BASE_FACTS if n.startswith("dwelling.")] == list(base)
    assert [(type(v), repr(v)) for v in facts.values()] == [(type(v), repr(v)) for v in base.values()]
