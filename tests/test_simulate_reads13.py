"""The applicant factory's household reads (session 13, branch reads13) give what the per-person
Python reads they replaced gave: last year's FTEs summed for all persons at once
(`kernels_applicants.labour_sums`) against `sum` over the person's labour rows, the scalar look-ups
(`RowIndex.get`, `PersonSet.__contains__`) against `np.searchsorted`, and a year's seekers'
members, FTEs, urgency, facts and letting profiles against brute-force reads of the population."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from simulate_support import START, year_of_seekers

from boligmix.errors import SimulationError
from boligmix.indicators import settings_for_list_year
from boligmix.letting.facts import age_on
from boligmix.simulate.applicants import EMPLOYMENT, OPTIONS, WORK, ApplicantFactory, PersonSet, RowIndex
from boligmix.simulate.kernels_applicants import labour_sums
from boligmix.simulate.population import to_date

IDS = st.integers(-2**62, 2**62)
FTES = st.one_of(st.floats(-1e6, 1e6, allow_nan=False), st.sampled_from([0.0, -0.0, 0.1, 0.2, 0.3, 1e-17, 1e17,
                                                                          float("nan"), float("inf")]))


def same_float(a: float, b: float) -> bool:
    """Equal bit for bit (NaN equal to NaN, 0.0 not equal to -0.0)."""
    return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_labour_sums_equal_sum_over_each_persons_rows(data):
    persons = np.array(sorted(set(data.draw(st.lists(IDS, max_size=12)))), dtype=np.int64)
    others = data.draw(st.lists(IDS, max_size=3))          # rows of persons the factory does not hold
    codes = data.draw(st.integers(1, 5))
    sets = data.draw(st.integers(1, 4))
    matches = np.array(data.draw(st.lists(st.lists(st.booleans(), min_size=codes, max_size=codes),
                                          min_size=sets, max_size=sets)), dtype=np.bool_)
    last = data.draw(st.integers(2000, 2030))
    rows = data.draw(st.lists(st.tuples(st.sampled_from([*persons.tolist(), *others] or [0]),
                                        st.sampled_from([last - 2, last - 1, last]), st.integers(0, codes - 1), FTES),
                              max_size=40))
    rows.sort(key=lambda r: r[0])                            # ascending ids, register order within a person
    pid = np.array([r[0] for r in rows], dtype=np.int64)
    year = np.array([r[1] for r in rows], dtype=np.int64)
    code = np.array([r[2] for r in rows], dtype=np.uint32)
    fte = np.array([r[3] for r in rows], dtype=np.float64)
    sums, found = labour_sums(persons, pid, year, code, fte, last, matches)
    assert sums.shape == found.shape == (persons.size, sets)
    for j, p in enumerate(persons.tolist()):
        for q in range(sets):
            wanted = sum(f for i, y, c, f in rows if i == p and y == last and matches[q, c])
            if isinstance(wanted, int):                     # no such row: `sum` gives the integer 0
                assert not found[j, q] and sums[j, q] == 0
            else:
                assert found[j, q] and same_float(float(sums[j, q]), wanted)


def searchsorted_get(pid: np.ndarray, value: int) -> int | None:
    """Main's `RowIndex.get` (d6b2b40)."""
    order = np.argsort(pid, kind="stable")
    ordered = pid[order]
    i = int(np.searchsorted(ordered, value))
    return int(order[i]) if i < ordered.size and ordered[i] == value else None


@settings(max_examples=300, deadline=None)
@given(st.lists(IDS, max_size=30), st.lists(IDS, max_size=10), st.data())
def test_row_index_and_person_set_find_what_searchsorted_found(ids, absent, data):
    pid = np.array(ids + data.draw(st.lists(st.sampled_from(ids), max_size=5)) if ids else [], dtype=np.int64)
    index, members = RowIndex(pid), PersonSet(pid)
    assert index.size == pid.size
    for value in [*ids, *absent, -2**63, 2**63 - 1]:
        for asked in (value, np.int64(value)):
            got = index.get(asked)
            assert got == searchsorted_get(pid, value) and type(got) is (int if got is not None else type(None))
            assert (asked in members) == (value in set(ids))
    assert index.get(absent[0] if absent and absent[0] not in ids else 2**62 + 1, -7) in (-7, *range(pid.size))


# -- a year's seekers on the tests' small dataset ---------------------------------------------

@pytest.fixture(scope="module")
def year():
    return year_of_seekers(7)


def _members(seekers) -> np.ndarray:
    return np.concatenate([np.zeros(0, np.int64), *seekers.members.values()])


def brute_fte(factory: ApplicantFactory, pid: int, kinds: frozenset[str] | None):
    """Main's `last_fte`: `sum` over the person's labour rows of last year on `kinds`."""
    return sum(f for y, a, f in factory.rows(pid) if y == factory.span[1] and (kinds is None or a in kinds))


@pytest.mark.parametrize("keep", ["members", "every"])
def test_last_fte_equals_the_sum_over_the_persons_rows(year, keep):
    pop, seekers = year
    outside = settings_for_list_year(START + 1).outside_attachments
    factory = ApplicantFactory(pop, START, 7, 0, outside, persons=_members(seekers) if keep == "members" else None)
    persons = np.unique(_members(seekers)).tolist()
    assert len(persons) > 100
    kinds_asked = (factory.outside, WORK, EMPLOYMENT, frozenset({"unemployment"}), None)
    nonzero = 0
    for pid in persons:
        for kinds in kinds_asked:
            got, wanted = factory.last_fte(pid, kinds), brute_fte(factory, pid, kinds)
            assert type(got) is type(wanted) and same_float(float(got), float(wanted)), (pid, kinds, got, wanted)
            nonzero += got != 0
    assert nonzero > 50
    if keep == "members":                     # someone else's FTE is an error, as his rows are
        stranger = np.setdiff1d(pop.pid, _members(seekers))[0]
        with pytest.raises(SimulationError, match="not a member of a seeker"):
            factory.last_fte(int(stranger), WORK)


def brute_people(pop, seekers, sid):
    """The seeker's members as main's `_read_people` read them (without the market: by household)."""
    new = seekers.new_members[sid]
    if new is not None:
        return [(int(p), int(b), bool(f), str(c)) for p, b, f, c in zip(seekers.members[sid], new["birth"],
                                                                         new["female"], new["country"])]
    ids = seekers.members[sid] if seekers.kind[sid] == "leaver" else pop.pid[pop.household == sid]
    rows = [int(np.flatnonzero(pop.pid == p)[0]) for p in ids]
    return [(int(pop.pid[i]), int(pop.birth[i]), bool(pop.female[i]), str(pop.country[i])) for i in rows]


def brute_profile(factory, pop, seekers, sid, on):
    """Main's `profile` on brute-force reads."""
    people = brute_people(pop, seekers, sid)
    ages = [age_on(to_date(b), on) or 0 for _, b, _, _ in people]
    working = [p for (p, _, _, _), a in zip(people, ages) if 18 <= a <= 64]
    head = max(range(len(people)), key=lambda i: ages[i])
    new = seekers.new_members[sid]
    pid = people[head][0]
    nonwestern = bool(new["nonwestern"][list(seekers.members[sid]).index(pid)]) if new is not None else \
        bool(pop.nonwestern[np.flatnonzero(pop.pid == pid)[0]])
    return {"persons": len(people), "head_age": ages[head], "head_non_western": nonwestern,
            "adults_18_64": len(working),
            "outside_fte_18_64": float(sum(min(brute_fte(factory, p, factory.outside), 1.0) for p in working)),
            "from_almen": seekers.dwelling[sid] is not None and seekers.dwelling[sid] in factory._org}


def brute_roles(people, on):
    """Main's `_roles` on the members: (birth dates, head, partner)."""
    births = {p: to_date(b) for p, b, _, _ in people}
    adults = sorted((p for p in people if (age_on(births[p[0]], on) or 0) >= 18), key=lambda p: (p[1], p[0]))
    if not adults:
        adults = sorted(people, key=lambda p: (p[1], p[0]))[:1]
    head = adults[0]
    partners = [p for p in adults[1:] if abs(p[1] - head[1]) / 365.25 <= OPTIONS.partner_max_age_gap_years]
    return births, head, min(partners, key=lambda p: (abs(p[1] - head[1]), p[0])) if partners else None


def test_a_years_seekers_read_as_brute_force_reads_them(year):
    pop, seekers = year
    outside = settings_for_list_year(START + 1).outside_attachments
    factory = ApplicantFactory(pop, START, 7, 0, outside, persons=_members(seekers))
    factory.set_dwellings({}, {})
    on = to_date(int(pop.birth.max()) + 40)
    kinds = {"mover": 0, "leaver": 0, "immigrant": 0, "rehousing": 0}
    alone = children = mixed = 0
    for sid in list(seekers.kind):
        people = factory._person(sid, seekers)
        assert people == brute_people(pop, seekers, sid)
        assert [tuple(map(type, p)) for p in people] == [(int, int, bool, str)] * len(people)
        assert factory.size(sid, seekers) == len(people)
        new = seekers.new_members[sid]
        if not (seekers.kind[sid] == "immigrant" and new is not None and "outside_fte" in new):
            assert factory.urgent(sid, seekers) == any(brute_fte(factory, p, outside) >= 0.5 for p, _, _, _ in people)
        assert factory.profile(sid, seekers, on) == brute_profile(factory, pop, seekers, sid, on)
        if new is None:                       # every member's origin, not only the head's
            assert [factory._nonwestern(k, p[0], seekers, sid) for k, p in enumerate(people)] == \
                [bool(pop.nonwestern[np.flatnonzero(pop.pid == p[0])[0]]) for p in people]
            mixed += len({bool(pop.nonwestern[np.flatnonzero(pop.pid == p[0])[0]]) for p in people}) > 1
        facts = factory.facts(sid, seekers, on)
        _, births, head, partner, _ = factory._roles(sid, seekers, on)
        assert (births, head, partner) == brute_roles(people, on)
        alone += len(people) == 1
        children += any(age_on(b, on) < 18 for b in births.values())
        adults = [p[0] for p in (head, partner) if p is not None]
        assert facts["household.employed_or_in_education"] == any(
            brute_fte(factory, p, WORK) >= OPTIONS.employed_or_in_education_fte - 1e-9 for p in adults)
        assert facts["applicant.weekly_work_hours"] == int(round(37 * brute_fte(factory, head[0], EMPLOYMENT)))
        kinds[seekers.kind[sid]] += 1
    assert kinds["mover"] > 20 and kinds["leaver"] > 5 and kinds["immigrant"] > 5, kinds
    assert alone > 20 and children > 20 and mixed > 0, (alone, children, mixed)
