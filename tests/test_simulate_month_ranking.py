"""A waiting-list vacancy's candidates taken from its dwelling class's ranking of the month
(`candidates.Ranking`, `select(reuse=True)`) are those `select` sorts for it, and they are read at
the same moments.

Hypothesis: random pools (sizes, seniority, bands, where seekers live, facts read before or not) and
a month's sequence of vacancies (dwellings, rooms, size limits, seekers assessed before, seekers
housed between them, months moving on), each selected with and without the rankings on two copies
of the pool: the same candidates (meeting, lapsed, complete) and the same seekers' facts read at
each vacancy. Whole years: the market with the rankings and the batch reads
(`boligmix.simulate.batch_reads`) lets as the market without them, in three scenarios."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from simulate_support import START, shared
from synth_data import small_dataset_dir

from boligmix.indicators import settings_for_list_year
from boligmix.letting.ledger import LettingLedger
from boligmix.simulate.applicants import ApplicantFactory, Seekers
from boligmix.simulate.candidates import select
from boligmix.simulate.market import Market, draw_seekers
from boligmix.simulate.pools import SeekerPool
from boligmix.simulate.population import Population
from boligmix.simulate.scenario import load_scenario
from boligmix.simulate.yearly_lists import data_categories

KINDS = ("mover", "leaver", "immigrant", "rehousing")
LIMITS = ((None, None), (2.0, None), (2.0, 1), (None, 1), (1.5, 0))


@st.composite
def months(draw):
    n = draw(st.integers(0, 60))
    sids = draw(st.lists(st.integers(1, 10**6), min_size=n, max_size=n, unique=True))
    seekers = Seekers()
    facts = {}
    for sid in sids:
        seekers.add(sid, draw(st.sampled_from(KINDS)), draw(st.integers(1, 4)), True, 101,
                    draw(st.one_of(st.none(), st.integers(1, 4))), np.array([sid]), None)
        if draw(st.booleans()):
            seekers.area_band[sid] = draw(st.integers(0, 2))
        if draw(st.booleans()):
            seekers.second_band[sid] = draw(st.integers(0, 2))
        facts[sid] = (draw(st.integers(1, 6)), draw(st.booleans()))
    seniority = draw(st.lists(st.integers(0, 8), min_size=n, max_size=n))     # ties broken by seeker id
    read = draw(st.lists(st.sampled_from(sids), max_size=n // 2)) if sids else []
    classes = draw(st.lists(st.tuples(
        st.one_of(st.none(), st.integers(0, 2)), st.booleans(),   # band, as its second choice
        st.integers(1, 5), st.sampled_from(LIMITS), st.sampled_from(LIMITS)), min_size=1, max_size=3))
    steps = draw(st.lists(st.tuples(
        st.sampled_from((0, 0, 0, 1, 2)),                  # months on (decided seekers join)
        st.integers(1, 4),                                 # the dwelling (seekers of 1-4 live in one)
        st.sampled_from(classes),                          # its class (vacancies of a class share a ranking)
        st.lists(st.sampled_from(sids), max_size=6) if sids else st.just([]),   # assessed before
        st.lists(st.sampled_from(sids), max_size=4) if sids else st.just([])),  # housed after
        min_size=1, max_size=12))
    return seekers, facts, seniority, read, steps


def _pool(seekers: Seekers, facts: dict, seniority: list[int], read: list[int], log: list) -> SeekerPool:
    group = SeekerPool(list(seekers._by_group.get((101, True), [])), seekers)
    group.set_keys(np.array(seniority, dtype=np.int64), np.zeros(group.sid.size))
    many = _reader(facts, log)
    if read:
        group.fill(np.array(sorted({group.row[s] for s in read}), dtype=np.int64), None, None, None, None, many)
    return group


def _reader(facts: dict, log: list):
    def many(sids):
        log.append(list(sids))
        return [facts[s][0] for s in sids], [facts[s][1] for s in sids]
    return many


@settings(max_examples=150, deadline=None)
@given(months())
def test_the_month_ranking_gives_selects_candidates_read_at_the_same_moments(case):
    seekers, facts, seniority, read, steps = case
    logs = ([], [])
    pools = [_pool(seekers, facts, seniority, read, log) for log in logs]
    month = 1
    for on, dwelling, (band, second, rooms, binding, preferred), done, housed in steps:
        month = min(month + on, 12)
        preferred = preferred if preferred != binding else binding
        tried = (np.array(sorted(set(done)), dtype=np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64), 0, None) \
            if done else None
        found = []
        for group, log, reuse in zip(pools, logs, (False, True)):
            log.append(("vacancy", dwelling))
            fits, _, _ = select(group, dwelling, rooms, month, band, tried, binding, preferred, second, True,
                                None, None, None, None, _reader(facts, log), reuse)
            found.append((fits.meeting, fits.lapsed, fits.complete))
        assert found[0] == found[1]
        for s in housed:
            for group in pools:
                group.housed(s)
    assert logs[0] == logs[1]


def test_the_month_ranking_serves_later_vacancies_and_meets_lapsed_and_assessed_seekers():
    """A fixed month: five vacancies of one class, candidates housed between them, one assessed before."""
    seekers = Seekers()
    facts = {}
    for sid in range(1, 201):
        seekers.add(sid, "mover", 1, True, 101, sid % 7 or None, np.array([sid]), None)
        facts[sid] = (1 + sid % 5, sid % 3 == 0)
    seniority = [(sid * 37) % 50 for sid in range(1, 201)]
    pools = [_pool(seekers, facts, seniority, [], []) for _ in range(2)]
    for k in range(5):
        tried = (np.array([k + 1, 40], dtype=np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64), 0, None) \
            if k == 2 else None
        got = [select(g, 1 + k % 2, 3, 1, None, tried, (2.0, None), (2.0, 1), False, True, None, None, None, None,
                      _reader(facts, []), reuse) for g, reuse in zip(pools, (False, True))]
        assert got[0][0].meeting == got[1][0].meeting and got[0][0].lapsed == got[1][0].lapsed
        assert len(got[0][0].meeting) == 75 and got[0][0].lapsed and not got[0][0].complete
        for s in got[0][0].meeting[:10]:
            for g in pools:
                g.housed(s)
    assert len(pools[1].rankings) == 1


def _market_year(scenario: str, fast: bool):
    sh = shared()
    pop = copy.deepcopy(Population.from_dataset(small_dataset_dir(), START))
    seekers = draw_seekers(pop, sh.rates, 7, 0, START, {})
    factory = ApplicantFactory(pop, START, 7, 0, settings_for_list_year(START + 1).outside_attachments)
    market = Market(pop, load_scenario(scenario).policies(), factory, data_categories(sh.history, START, sh.vintage),
                    7, 0, START, LettingLedger(), set(), check_rules=True)
    market.almen.month_rankings = market.almen.batch_reads = fast
    result = market.run(seekers)
    counters = {k: (v.seen, dict(v.used)) for k, v in market.almen.engine.ledger.counters.items()}
    return result.lettings, pop.dwellings.household.copy(), counters


@pytest.mark.parametrize("scenario", ["baseline", "fleksibel_half", "kombineret_udsat"])
def test_a_year_with_the_month_rankings_and_batch_reads_lets_as_without(scenario):
    fast, slow = _market_year(scenario, True), _market_year(scenario, False)
    assert len(fast[0]) > 100
    assert fast[0] == slow[0] and np.array_equal(fast[1], slow[1]) and fast[2] == slow[2]
