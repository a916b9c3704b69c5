"""The first reads of a pool's seekers for all at once (session 16, branch reads16) give what the
one-at-a-time reads gave: `kernels_applicants.household_roles` against `_roles`' Python on random
households and days, the vectorised look-ups against the scalar ones, `first_reads` against a fresh
factory's `size`, `urgent` and `facts` on every day of the year a read can come, and whole markets
with the first reads against the same markets reading every seeker one at a time (the oracle):
the same lettings, and every household read with the same members and roles fixed on the same day."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from simulate_support import START, market_before_letting, small_dataset_dir
from test_simulate_reads13 import brute_roles

from boligmix.simulate import market as market_module
from boligmix.simulate.applicant_reads import LastFtes, PersonSet, RowIndex
from boligmix.simulate.applicants import EMPLOYMENT, OPTIONS, ApplicantFactory
from boligmix.simulate.kernels_applicants import household_roles
from boligmix.simulate.market import Market
from boligmix.simulate.population import EPOCH, Population

IDS = st.integers(-2**62, 2**62)
BIRTHS = st.one_of(st.integers(-4000, 17000), st.integers(15300, 15750), st.sampled_from([-1, 0, 5479, 15340]))
"""Birth days (from 1970): adults, children and the 18-year-olds of 2030 (born 2012: days 15340-15705), ties."""
DAYS_OF_A_YEAR = [date(2030, m, 1) for m in range(1, 13)] + [date(2030, 12, 31)]


def _adult_on(birth: np.ndarray, on: date) -> np.ndarray:
    return birth + EPOCH.toordinal() <= date(on.year - 18, on.month, on.day).toordinal()


@settings(max_examples=400, deadline=None)
@given(st.lists(st.lists(st.tuples(IDS, BIRTHS), max_size=6, unique_by=lambda m: m[0]), max_size=8))
def test_household_roles_pick_the_head_and_partner_roles_picks_every_day(households):
    bounds = np.cumsum([0, *map(len, households)])
    pid = np.array([p for h in households for p, _ in h], dtype=np.int64)
    birth = np.array([b for h in households for _, b in h], dtype=np.int64)
    head, partner, stable = household_roles(bounds, birth, pid, float(OPTIONS.partner_max_age_gap_years),
                                            _adult_on(birth, date(2030, 1, 1)), _adult_on(birth, date(2030, 12, 31)))
    for s, members in enumerate(households):
        if not members:
            assert head[s] == -1 and not stable[s]
            continue
        people = [(int(pid[i]), int(birth[i]), False, "DNK") for i in range(bounds[s], bounds[s + 1])]
        partners = set()
        for on in DAYS_OF_A_YEAR:
            _, brute_head, brute_partner = brute_roles(people, on)
            assert people[head[s] - bounds[s]] == brute_head
            partners.add(brute_partner)
        if stable[s]:
            assert partners == {people[partner[s] - bounds[s]] if partner[s] >= 0 else None}
        else:                                   # not stable: the partner does change within the year
            assert len(partners) > 1


@settings(max_examples=200, deadline=None)
@given(st.lists(IDS, max_size=30), st.lists(IDS, max_size=10), st.data())
def test_vectorised_look_ups_equal_the_scalar_ones(ids, absent, data):
    pid = np.array(ids + data.draw(st.lists(st.sampled_from(ids), max_size=5)) if ids else [], dtype=np.int64)
    asked = np.array([*ids, *absent, -2**63, 2**63 - 1], dtype=np.int64)
    index, members = RowIndex(pid), PersonSet(pid)
    rows, found = index.rows(asked)
    for value, row, there in zip(asked.tolist(), rows.tolist(), found.tolist()):
        got = index.get(value)
        assert there == (got is not None) and (not there or row == got)
    assert members.contains(asked).tolist() == [v in members for v in asked.tolist()]
    persons = np.unique(np.array(data.draw(st.lists(st.sampled_from(ids), max_size=10)) if ids else [],
                                 dtype=np.int64))
    ftes = data.draw(st.lists(st.floats(-2, 2, allow_nan=False), min_size=pid.size, max_size=pid.size))
    order = np.argsort(pid, kind="stable")
    table = LastFtes(persons, pid[order], np.full(pid.size, 2030), np.zeros(pid.size, dtype=np.int64),
                     np.array(ftes)[order] if pid.size else np.zeros(0), ["employment"], 2030, [EMPLOYMENT])
    values, known = table.values(asked, EMPLOYMENT)
    for value, got, there in zip(asked.tolist(), values.tolist(), known.tolist()):
        scalar = table.get(value, EMPLOYMENT)
        assert there == (scalar is not None) and got == (scalar if there else 0.0)


@pytest.fixture(scope="module")
def population():
    return Population.from_dataset(small_dataset_dir(), START)


@pytest.mark.parametrize("seed, quarters", [(7, False), (13, False), (7, True)])
def test_first_reads_equal_a_fresh_factorys_reads_on_every_day(population, seed, quarters):
    """`quarters`: last year's FTEs rounded to quarters (both factories read the same table), so that
    the thresholds (0.5 outside, 0.5 - 1e-9 at work) are met exactly and 37 times an FTE ends in .25,
    .5 or .75 (half-even rounding)."""
    _, market, seekers = market_before_letting(population, seed)
    market._seekers = seekers
    market._index(seekers)
    factory = market.factory
    if quarters:
        factory._ftes._sums[:] = np.round(factory._ftes._sums * 4) / 4
    pools = [np.array(list(members), dtype=np.int64) for (_, almen), members in seekers._by_group.items() if almen]
    reads = [market_module.first_reads(factory, sids, seekers, market._opening_rows) for sids in pools]
    assert (reads[0].first_day, reads[0].last_day) == (date(START, 1, 1).toordinal(), date(START, 12, 31).toordinal())
    checked = invalid = 0
    for on in (date(START, 1, 1), date(START, 6, 1), date(START, 12, 1)):
        fresh = ApplicantFactory(market.pop, START, seed, 0, tuple(factory.outside))
        fresh.members_of, fresh._ftes = market.members_of, factory._ftes
        for sids, read in zip(pools, reads):
            for k, sid in enumerate(sids.tolist()):
                if not read.valid[k]:
                    invalid += on.month == 1
                    continue
                facts = fresh.facts(sid, seekers, on)
                assert int(read.size[k]) == fresh.size(sid, seekers)
                assert bool(read.urgent[k]) == fresh.urgent(sid, seekers)
                assert (bool(read.employed[k]), int(read.hours[k]), bool(read.in_education[k])) == (
                    facts["household.employed_or_in_education"], facts["applicant.weekly_work_hours"],
                    facts["applicant.in_education"]), (sid, on)
                checked += on.month == 1
    assert checked > 300 and invalid < checked / 10, (checked, invalid)


class Spied(Market):
    """A market counting the home leavers leaving a household first read from its `first_reads`
    (its members kept) and one not read yet (its first reads void)."""

    kept = void = 0

    def _member_leaves(self, household: int) -> None:
        group, row, _ = self._seeker_at.get(household, (None, None, None))
        valid = group is not None and group.reads is not None and bool(group.reads.valid[row])
        super()._member_leaves(household)
        if valid:
            if group.reads.valid[row]:
                Spied.kept += 1
            else:
                Spied.void += 1


def _one_at_a_time(factory, sids, seekers, household_rows):
    reads = _first_reads(factory, sids, seekers, household_rows)
    reads.valid[:] = False
    return reads


_first_reads = market_module.first_reads


def with_parents_seeking(pop, seekers) -> None:
    """Add the households the year's home leavers leave as almen movers deciding in their months
    (the draw takes leavers from households that do not move: this makes leavers leave seeking
    households, read and not yet read)."""
    dw = pop.dwellings
    for sid in [s for s, kind in seekers.kind.items() if kind == "leaver"]:
        row = int(np.flatnonzero(pop.pid == seekers.members[sid][0])[0])
        household = int(pop.household[row])
        at = dw.index[int(pop.dwelling[row])]
        seekers.add(household, "mover", 1 + household % 12, True, int(dw.municipality[at]), int(dw.ids[at]),
                    pop.pid[pop.household == household], None)


@pytest.mark.parametrize("seed", [3, 5, 11])
def test_a_market_with_first_reads_lets_and_reads_as_one_at_a_time(population, seed, monkeypatch):
    results = []
    for reads in (_first_reads, _one_at_a_time):
        monkeypatch.setattr(market_module, "first_reads", reads)
        pop, market, seekers = market_before_letting(population, seed, market_class=Spied)
        with_parents_seeking(pop, seekers)
        lettings = market.run(seekers).lettings
        factory = market.factory
        results.append((lettings, factory._roles_of, factory._people, factory._member_rows))
    (lettings, roles, people, rows), (oracle, oracle_roles, oracle_people, oracle_rows) = results
    assert len(lettings) > 50 and lettings == oracle
    # every household read by both (roles: the members, births, head, partner and the day fixed)
    common = roles.keys() & oracle_roles.keys()
    assert len(common) > 20 and all(roles[s] == oracle_roles[s] for s in common)
    assert people.keys() <= oracle_people.keys() and all(people[s] == oracle_people[s] for s in people)
    assert all(np.array_equal(rows[s], oracle_rows[s]) for s in rows)


def test_the_markets_home_leavers_left_households_read_and_not_read(population):
    """Its own markets (the markets above may run on another xdist worker)."""
    Spied.kept = Spied.void = 0
    for seed in (3, 5, 11):
        pop, market, seekers = market_before_letting(population, seed, market_class=Spied)
        with_parents_seeking(pop, seekers)
        market.run(seekers)
    assert Spied.kept > 0 and Spied.void > 0, (Spied.kept, Spied.void)
