"""The pool's household facts read for many seekers at once (`boligmix.simulate.batch_reads`) are the
factory's per-seeker reads (`ApplicantFactory.size`, `urgent`, `_person`, `last_fte`).

On random sets of a simulated year's seekers (the small dataset; movers, home leavers, immigrants,
households to rehouse; repeats and seekers read before), two factories of the same year, one read
per seeker and one in a batch, give the same sizes, urgency and members; last year's outside FTE of
random persons equals `last_fte`. Whole years with the batch reads let as with the per-seeker reads:
`tests/test_simulate_month_ranking.py`."""

import copy
from functools import lru_cache

import numpy as np
from hypothesis import given, settings, strategies as st

from simulate_support import START, shared
from synth_data import small_dataset_dir

from boligmix.indicators import settings_for_list_year
from boligmix.letting.ledger import LettingLedger
from boligmix.simulate.applicants import ApplicantFactory
from boligmix.simulate.batch_reads import household_facts, outside_fte
from boligmix.simulate.market import Market, draw_seekers
from boligmix.simulate.population import Population
from boligmix.simulate.scenario import load_scenario
from boligmix.simulate.yearly_lists import data_categories


@lru_cache(maxsize=1)
def _year():
    sh = shared()
    pop = copy.deepcopy(Population.from_dataset(small_dataset_dir(), START))
    seekers = draw_seekers(pop, sh.rates, 5, 0, START, {})
    factory = ApplicantFactory(pop, START, 5, 0, settings_for_list_year(START + 1).outside_attachments)
    market = Market(pop, load_scenario("baseline").policies(), factory,
                    data_categories(sh.history, START, sh.vintage), 5, 0, START, LettingLedger(), set())
    market._index(seekers)                     # the factory reads a moving household's members through the market
    return pop, seekers, market


def _factory() -> ApplicantFactory:
    pop, _, market = _year()
    factory = ApplicantFactory(pop, START, 5, 0, settings_for_list_year(START + 1).outside_attachments)
    factory.members_of = market.members_of
    return factory


def test_the_year_has_every_kind_of_seeker():
    _, seekers, _ = _year()
    kinds = {k for s, k in seekers.kind.items() if seekers.wants_almen[s]}
    assert {"mover", "leaver", "immigrant"} <= kinds


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 400), before=st.integers(0, 40))
def test_batch_reads_are_the_per_seeker_reads(seed, n, before):
    _, seekers, _ = _year()
    rng = np.random.default_rng(seed)
    everyone = np.array(sorted(seekers.kind), dtype=np.int64)
    sids = rng.choice(everyone, size=n, replace=True).tolist()          # repeats included
    read_before = rng.choice(everyone, size=before, replace=False).tolist()
    one, many = _factory(), _factory()
    for s in read_before:                       # seekers whose facts were read earlier in the year
        assert one.size(s, seekers) == many.size(s, seekers)
        assert one.urgent(s, seekers) == many.urgent(s, seekers)
    expected = ([one.size(s, seekers) for s in sids], [one.urgent(s, seekers) for s in sids])
    assert household_facts(many, sids, seekers) == expected
    assert {s: many._people[s] for s in sids} == {s: one._people[s] for s in sids}
    assert all(type(v) is bool for v in expected[1]) and all(type(v) is bool for v in household_facts(many, sids, seekers)[1])


def test_batch_reads_meet_urgent_households_and_every_size():
    _, seekers, _ = _year()
    sids = sorted(seekers.kind)
    sizes, urgent = household_facts(_factory(), sids, seekers)
    assert 0 < sum(urgent) < len(sids) and {1, 2, 3, 4} <= set(sizes)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 300))
def test_outside_fte_is_last_fte(seed, n):
    pop, _, _ = _year()
    factory = _factory()
    rng = np.random.default_rng(seed)
    labour = np.unique(factory._lab_pid)
    # persons with labour rows (several a year among them), without, and ids outside the data
    pids = np.concatenate([rng.choice(labour, size=n), rng.choice(pop.pid, size=n // 3),
                           rng.integers(-5, 10**12, size=n // 10)]).astype(np.int64)
    factory._readable = None
    got = outside_fte(factory, pids)
    assert got.tolist() == [factory.last_fte(int(p), factory.outside) for p in pids.tolist()]


def test_outside_fte_meets_persons_with_several_rows_a_year():
    factory = _factory()
    last = factory._lab_pid[factory._lab_year == factory.span[1]]
    repeated = np.unique(last[np.r_[False, last[1:] == last[:-1]]])
    assert repeated.size > 0
    assert outside_fte(factory, repeated).tolist() == [factory.last_fte(int(p), factory.outside)
                                                       for p in repeated.tolist()]
