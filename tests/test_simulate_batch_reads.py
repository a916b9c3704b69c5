"""The pool's household facts read for many seekers at once (`boligmix.simulate.batch_reads`) are the
factory's per-seeker reads (`ApplicantFactory.size`, `urgent`, `_person`, `last_fte`).

On random sets of a simulated year's seekers (the small dataset; movers, home leavers, immigrants,
households to rehouse; repeats and seekers read before), two factories of the same year, one read
per seeker and one in a batch, give the same sizes, urgency and members; last year's outside FTE of
random persons equals `last_fte`; the screen's applicant facts read at once equal `facts`, and its
dwelling facts kept per the values they read equal `base_facts`. Whole years with the batch reads let as with the per-seeker reads:
`tests/test_simulate_month_ranking.py`."""

import copy
import dataclasses
from datetime import date, timedelta
from functools import lru_cache

import numpy as np
from hypothesis import given, settings, strategies as st

from simulate_support import START, shared
from synth_data import small_dataset_dir

from boligmix.indicators import settings_for_list_year
from boligmix.letting.ledger import LettingLedger
from boligmix.simulate.applicants import ApplicantFactory
from boligmix.letting.facts import base_facts
from boligmix.letting.model import AREA_CATEGORIES
from boligmix.simulate.batch_reads import applicant_facts, household_facts, outside_fte
from boligmix.simulate.column_facts import ColumnScreen
from boligmix.simulate.market import Market, draw_seekers
from boligmix.simulate.population import ALMEN, Population
from boligmix.simulate.scenario import load_scenario
from boligmix.simulate.screen import WindowScreen
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


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 60), before=st.integers(0, 20))
def test_batch_applicant_facts_are_the_per_seeker_facts(seed, n, before):
    """`applicant_facts` (the screen's columns read them) equals `ApplicantFactory.facts`: values,
    types and key order (the columns code a seeker's facts by their items)."""
    _, seekers, _ = _year()
    rng = np.random.default_rng(seed)
    everyone = np.array(sorted(seekers.kind), dtype=np.int64)
    sids = rng.choice(everyone, size=n, replace=False).tolist()
    on = date(START, 1, 1) + timedelta(days=int(rng.integers(0, 365)))
    one, many = _factory(), _factory()
    for s in rng.choice(everyone, size=before, replace=False).tolist():
        assert one.facts(s, seekers, on) == many.facts(s, seekers, on)
    expected = [one.facts(s, seekers, on) for s in sids]
    got = applicant_facts(many, sids, seekers, on)
    assert [[(k, v, type(v)) for k, v in f.items()] for f in got] == \
        [[(k, v, type(v)) for k, v in f.items()] for f in expected]


def test_batch_applicant_facts_meet_every_value():
    _, seekers, _ = _year()
    got = applicant_facts(_factory(), sorted(seekers.kind), seekers, date(START, 3, 1))
    assert {f["household.employed_or_in_education"] for f in got} == {True, False}
    assert {f["applicant.in_education"] for f in got} == {True, False}
    assert len({f["applicant.weekly_work_hours"] for f in got}) > 3


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_the_screens_dwelling_facts_kept_per_values_are_base_facts(seed):
    """`ColumnScreen._of_dwelling` keeps a dwelling's facts per the values they read: for every
    dwelling, the `dwelling.*` facts of `base_facts`."""
    pop, seekers, market = _year()
    rng = np.random.default_rng(seed)
    columns = ColumnScreen(market.factory, WindowScreen())
    almen = np.flatnonzero((pop.dwellings.tenure == ALMEN) & pop.dwellings.active)
    applicant = market.factory.applicant(sorted(seekers.kind)[0], seekers, market.almen.dwelling(int(almen[0])),
                                         date(START, 1, 1), None)
    for _ in range(30):
        dwelling = market.almen.dwelling(int(almen[rng.integers(almen.size)]))
        dwelling = dataclasses.replace(dwelling, rooms=int(rng.integers(1, 4)), shared=bool(rng.random() < 0.2),
                                       area_categories=frozenset(c for c in AREA_CATEGORIES if rng.random() < 0.3))
        on = date(START, 1, 1) + timedelta(days=int(rng.integers(0, 365)))
        expected = {k: (v, type(v)) for k, v in base_facts(applicant, dwelling, on, 0).items() if k.startswith("dwelling.")}
        assert {k: (v, type(v)) for k, v in columns._of_dwelling(dwelling, on).items()} == expected
