"""The lettings' household profiles read at the year's end in one pass (session 14, branch
direct14: `simulate.letting_profiles`) equal `ApplicantFactory.profile` read per letting (the
oracle): ages by the calendar against `letting.facts.age_on`, on random households (ties of the
oldest, FTEs of every magnitude, NaN and -0.0, persons without labour rows, immigrants, rows past the
factory's index) and on a year's seekers of the tests' small dataset."""

from __future__ import annotations

import calendar
import math
from datetime import date
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from simulate_support import START, year_of_seekers

from boligmix.indicators import settings_for_list_year
from boligmix.letting.facts import age_on
from boligmix.simulate.applicant_reads import LastFtes
from boligmix.simulate.applicants import ApplicantFactory
from boligmix.simulate.letting_profiles import PROFILE_FIELDS, Pending, profiles, whole_years_between
from boligmix.simulate.population import EPOCH, AlmenColumn, to_date

DAYS = st.integers(date(1, 1, 1).toordinal() - EPOCH.toordinal(), date(9999, 12, 31).toordinal() - EPOCH.toordinal())
FTES = st.one_of(st.floats(-1e6, 1e6, allow_nan=False), st.sampled_from([0.0, -0.0, 0.1, 0.2, 0.3, 1.0, 1e-17, 1e17,
                                                                          float("nan"), float("inf")]))


def same(a, b) -> bool:
    """Equal in type and value (floats bit for bit: NaN equal to NaN, 0.0 not to -0.0)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    return a == b


def assert_columns_equal_profiles(columns: dict, factory, seekers, sids, ons) -> None:
    assert set(columns) == set(PROFILE_FIELDS)
    for k, (sid, on) in enumerate(zip(sids, ons)):
        wanted = factory.profile(sid, seekers, date.fromordinal(on))
        got = {name: columns[name][k] for name in PROFILE_FIELDS}
        assert list(wanted) == list(PROFILE_FIELDS)
        assert all(same(got[n], wanted[n]) for n in PROFILE_FIELDS), (sid, got, wanted)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(DAYS, DAYS), min_size=0, max_size=30),
       st.lists(st.sampled_from([(2, 28), (2, 29), (3, 1), (12, 31), (1, 1)]), max_size=4), st.integers(1904, 2096))
def test_whole_years_between_counts_as_age_on(pairs, birthdays, year):
    # births on awkward days (29 February, the turn of the year) against days around their birthdays
    leap_years = [y for y in range(year - 8, year + 1) if calendar.isleap(y)]   # (1900 is not one)
    for month, day in birthdays:
        born = date(leap_years[0], month, day) if (month, day) == (2, 29) else date(year - 7, month, day)
        for on in (date(year, 2, 28), date(year, 3, 1), date(year, 12, 31), date(year, 1, 1)):
            pairs.append((born.toordinal() - EPOCH.toordinal(), on.toordinal() - EPOCH.toordinal()))
    birth = np.array([b for b, _ in pairs], dtype=np.int64)
    on = np.array([o for _, o in pairs], dtype=np.int64)
    got = whole_years_between(birth, on)
    assert got.dtype == np.int64
    assert got.tolist() == [age_on(to_date(b), to_date(o)) for b, o in pairs]


class FakeFactory:
    """What `ApplicantFactory.profile` reads, with the factory's own `profile`, `_nonwestern` and `last_fte`."""

    profile = ApplicantFactory.profile
    _nonwestern = ApplicantFactory._nonwestern
    last_fte = ApplicantFactory.last_fte

    def __init__(self, people, member_rows, ftes, outside, org, indexed, nonwestern):
        self._people, self._member_rows = people, member_rows
        self._ftes, self.outside, self._org = ftes, outside, org
        self.index, self.pop = SimpleNamespace(size=indexed), SimpleNamespace(nonwestern=nonwestern)
        self._readable, self._fte, self.span = None, {}, (2020, 2022)

    def _person(self, sid, seekers):
        return self._people[sid]


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_profiles_equal_profile_on_random_households(data):
    outside = frozenset({"a", "b"})
    n_persons = data.draw(st.integers(1, 25))
    pids = data.draw(st.lists(st.integers(-2**62, 2**62), min_size=n_persons, max_size=n_persons, unique=True))
    on = date(2023, data.draw(st.integers(1, 12)), 1)
    # births within a few days of ages 0, 18 and 65 (and ties): the oldest and the 18-64 bounds
    edges = [on.toordinal() - EPOCH.toordinal() - round(365.25 * a) for a in (0, 18, 65, 40)]
    births = data.draw(st.lists(st.tuples(st.sampled_from(edges), st.integers(-2, 2)), min_size=n_persons,
                                max_size=n_persons))                 # (one draw per list: much faster)
    births_of = {p: edge + days for p, (edge, days) in zip(pids, births)}
    # labour rows: persons with none, several rows (summed in order), attachments inside and outside `outside`
    per_person = data.draw(st.lists(st.integers(0, 3), min_size=n_persons, max_size=n_persons))
    drawn = data.draw(st.lists(st.tuples(st.sampled_from([2021, 2022]), st.integers(0, 2), FTES),
                               min_size=sum(per_person), max_size=sum(per_person)))
    owners = [p for p, k in zip(pids, per_person) for _ in range(k)]
    rows = sorted(((p, *row) for p, row in zip(owners, drawn)), key=lambda r: r[0])
    with_rows = sorted({r[0] for r in rows})
    ftes = LastFtes(np.array(with_rows, dtype=np.int64), np.array([r[0] for r in rows], dtype=np.int64),
                    np.array([r[1] for r in rows], dtype=np.int64), np.array([r[2] for r in rows], dtype=np.uint32),
                    np.array([r[3] for r in rows], dtype=np.float64), ["a", "b", "c"], 2022, (outside,))
    n_rows = n_persons + 3
    nonwestern = np.array(data.draw(st.lists(st.booleans(), min_size=n_rows, max_size=n_rows)))
    indexed = data.draw(st.integers(0, n_rows))             # rows at or past it: born after the index
    people, member_rows, members, new_members, dwelling = {}, {}, {}, {}, {}
    sids, ons = [], []
    for sid in range(data.draw(st.integers(0, 6))):
        chosen = data.draw(st.lists(st.sampled_from(pids), min_size=1, max_size=4, unique=True))
        people[sid] = [(p, births_of[p], False, "DK") for p in chosen]
        members[sid] = np.array(chosen, dtype=np.int64)
        if data.draw(st.booleans()):                         # an immigrant: origins from its new members
            new_members[sid] = {"nonwestern": np.array(data.draw(st.lists(st.booleans(), min_size=len(chosen),
                                                                          max_size=len(chosen))))}
        else:
            new_members[sid] = None
            member_rows[sid] = data.draw(st.lists(st.integers(0, n_rows - 1), min_size=len(chosen),
                                                  max_size=len(chosen)))
        dwelling[sid] = data.draw(st.sampled_from([None, 1, 2]))
        sids.append(sid)
        ons.append(on.toordinal() + data.draw(st.sampled_from([0, 0, 1, 31])))
    factory = FakeFactory(people, member_rows, ftes, outside, {2}, indexed, nonwestern)
    seekers = SimpleNamespace(new_members=new_members, members=members, dwelling=dwelling)
    columns = profiles(factory, seekers, sids, [people[s] for s in sids], [member_rows.get(s) for s in sids], ons)
    assert_columns_equal_profiles(columns, factory, seekers, sids, ons)


def test_a_household_without_members_is_an_error():
    factory = FakeFactory({}, {}, None, frozenset(), set(), 0, np.zeros(0, dtype=bool))
    with pytest.raises(ValueError):
        profiles(factory, SimpleNamespace(dwelling={1: None}), [1], [[]], [None], [date(2023, 1, 1).toordinal()])


@pytest.fixture(scope="module")
def year():
    return year_of_seekers(7)


def test_a_years_seekers_profiles_in_one_pass_equal_profile(year):
    pop, seekers = year
    factory = ApplicantFactory(pop, START, 7, 0, settings_for_list_year(START + 1).outside_attachments,
                               persons=np.concatenate([np.zeros(0, np.int64), *seekers.members.values()]))
    factory.set_dwellings(AlmenColumn(pop.dwellings, pop.dwellings.department),
                          AlmenColumn(pop.dwellings, pop.dwellings.org))
    pending = Pending(factory)
    sids = list(seekers.kind)
    ons = [date(START + 1, 1 + k % 12, 1) for k in range(len(sids))]
    records = [dict.fromkeys(PROFILE_FIELDS) for _ in sids]
    for record, sid, on in zip(records, sids, ons):
        pending.add(record, sid, seekers, on)
    pending.fill(seekers)
    assert not pending.records
    for record, sid, on in zip(records, sids, ons):
        wanted = factory.profile(sid, seekers, on)
        assert all(same(record[n], wanted[n]) for n in PROFILE_FIELDS), (sid, record, wanted)
    kinds = {seekers.kind[s] for s in sids}
    assert {"mover", "leaver", "immigrant"} <= kinds
    assert any(r["from_almen"] for r in records) and any(r["head_non_western"] for r in records)
    assert any(r["outside_fte_18_64"] > 0 for r in records) and any(r["adults_18_64"] > 1 for r in records)
