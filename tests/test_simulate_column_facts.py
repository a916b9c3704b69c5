"""The screen's column facts (`boligmix.simulate.column_facts`) are the engine's facts.

On random seekers of a simulated year (the small dataset), random almen dwellings (rooms, area
categories, organisation and department varied so that internal applicants and oprykning occur),
dates and policy sets (Hypothesis): every fact a column gives equals, in value and type,
`base_facts`/`policy_facts` of the seeker's engine applicant (`ApplicantFactory.applicant`); and
the round the columns decide (winner, list type, or no one) is the one `WindowScreen.candidates`
decides on the window's applicants, under random ledger states. Whole years are compared in
`tests/test_simulate_market.py` and `tests/test_simulate_direct_years.py`."""

import copy
import dataclasses
from datetime import date, datetime, timedelta
from functools import lru_cache

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from simulate_support import START, shared
from synth_data import small_dataset_dir

from boligmix.indicators import settings_for_list_year
from boligmix.letting.engine import LettingEngine
from boligmix.letting.facts import BASE_FACTS, base_facts
from boligmix.letting.assessment import policy_facts
from boligmix.letting.ledger import LettingLedger
from boligmix.letting.model import AREA_CATEGORIES, Channel, Vacancy
from boligmix.letting.policy import POLICY_DIR
from boligmix.simulate.applicants import ApplicantFactory
from boligmix.simulate.column_facts import _CANDIDATE_FACTS, ColumnScreen
from boligmix.simulate.market import Market, draw_seekers
from boligmix.simulate.pools import SeekerPool
from boligmix.simulate.population import ALMEN, Population
from boligmix.simulate.scenario import PolicyOverride, build_policy_set, load_scenario
from boligmix.simulate.screen import WindowScreen
from boligmix.simulate.yearly_lists import data_categories

POLICY_SETS = {
    "statutory": lambda: build_policy_set([], {}, "test"),
    "statutory+local": lambda: build_policy_set([POLICY_DIR / "local"], {}, "test"),
    "exclusive fleksibel": lambda: build_policy_set(
        [], {"dk.almenboligloven.60.stk4": PolicyOverride(switches={"mode": "exclusive"})}, "test"),
    "binding size rule": lambda: build_policy_set(
        [], {"dk.venteliste": PolicyOverride(switches={"size_rule": "binding"})}, "test"),
    "fleksibel_half": lambda: load_scenario("fleksibel_half").policies(),
}
BASE_PLAN = (*_CANDIDATE_FACTS.items(), *((n, "dwelling") for n in BASE_FACTS if n.startswith("dwelling.")))
"""Every base fact with a column."""


@lru_cache(maxsize=1)
def _year():
    """A simulated year's seekers and the market's letting (not run): its factory, pools, dwellings."""
    sh = shared()
    pop = copy.deepcopy(Population.from_dataset(small_dataset_dir(), START))
    seekers = draw_seekers(pop, sh.rates, 5, 0, START, {})
    factory = ApplicantFactory(pop, START, 5, 0, settings_for_list_year(START + 1).outside_attachments)
    market = Market(pop, load_scenario("baseline").policies(), factory,
                    data_categories(sh.history, START, sh.vintage), 5, 0, START, LettingLedger(), set())
    groups = [SeekerPool(list(sids), seekers) for (_, almen), sids in seekers._by_group.items() if almen and sids]
    for group in groups:
        market.almen.key_pool(group, seekers)
    almen = np.flatnonzero((pop.dwellings.tenure == ALMEN) & pop.dwellings.active)
    policies = {name: make() for name, make in POLICY_SETS.items()}
    return market.almen, factory, seekers, groups, almen, policies


def _case(seed: int, n: int):
    """A random window of one pool, a random dwelling of the year (varied) and a date."""
    almen, factory, seekers, groups, positions, _ = _year()
    rng = np.random.default_rng(seed)
    group = groups[int(rng.integers(len(groups)))]
    rows = np.sort(rng.choice(group.sid.size, size=min(n, group.sid.size), replace=False))
    group.fill(rows, lambda s: factory.size(s, seekers), lambda s: factory.urgent(s, seekers), None, None)
    dwelling = almen.dwelling(int(positions[rng.integers(positions.size)]))
    homes = [factory.current(int(s), seekers) for s in group.sid[rows].tolist()]
    homes = [h for h in homes if h[0] is not None]
    if homes and rng.random() < 0.6:             # the organisation (and department) some candidates live in
        org, department = homes[int(rng.integers(len(homes)))]
        dwelling = dataclasses.replace(dwelling, org_id=org,
                                       department_id=department if rng.random() < 0.6 else dwelling.department_id)
    categories = frozenset(c for c in AREA_CATEGORIES if rng.random() < 0.3)
    dwelling = dataclasses.replace(dwelling, rooms=int(rng.integers(1, 7)), area_categories=categories,
                                   shared=bool(rng.random() < 0.1))
    on = date(START, 1, 1) + timedelta(days=int(rng.integers(0, 365)))
    return group, rows, dwelling, on, rng


def _typed(facts: dict, names) -> dict:
    return {name: (facts.get(name), type(facts.get(name))) for name in names}


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 25))
def test_every_column_fact_is_the_engines_fact(seed, n):
    almen, factory, seekers, _, _, policy_sets = _year()
    group, rows, dwelling, on, _ = _case(seed, n)
    columns = ColumnScreen(factory, WindowScreen())
    columns.fill(group, rows, seekers, on)
    codes = columns.signatures(group, rows, dwelling)
    dwelling_facts = columns._of_dwelling(dwelling, on)
    checked = 0
    for sid, code in zip(group.sid[rows].tolist(), codes.tolist()):
        applicant = factory.applicant(sid, seekers, dwelling, on, None)
        base = base_facts(applicant, dwelling, on, 0)
        row = columns._row(BASE_PLAN, columns._decode(code), dwelling, dwelling_facts)
        assert _typed(row, row) == _typed(base, row) and len(row) == len(BASE_PLAN)
        assert group.seniority[group.row[sid]] == applicant.seniority_date.toordinal()
        for policies in policy_sets.values():
            for policy in policies.policies:
                row = columns.fact_row(policy, code, dwelling, on)
                if row is None:                  # a fact without a column: the row path decides
                    continue
                names = columns.screen.decider.fields(policy)
                assert _typed(row, names) == _typed(policy_facts(policy, applicant, base, on)[0], names), policy.id
                checked += 1
    assert checked > 0


def test_the_policies_in_force_read_only_facts_with_columns():
    """The baseline's waiting-list and fleksibel policies and the scenario's are decided from the
    columns; a policy deriving facts (benefit months: § 51 b, § 59) is not."""
    _, factory, _, _, _, policy_sets = _year()
    columns = ColumnScreen(factory, WindowScreen())
    plans = {p.id: columns._plan(p) for policies in policy_sets.values() for p in policies.policies}
    assert plans["dk.venteliste"] is not None and plans["dk.almenboligloven.60.stk4"] is not None
    assert plans["scenario.fleksibel_half_listed"] is not None
    assert plans["dk.almenboligloven.51b"] is None


def _ledger_state(engine: LettingEngine, vacancy_id: str, sids: list[int], rng) -> None:
    ledger = engine.ledger
    for s in sids:
        draw = rng.random()
        if draw < 0.08:
            ledger.housed[s] = 0
        elif draw < 0.16:
            ledger.offered.setdefault(vacancy_id, set()).add(s)
        elif draw < 0.2:
            ledger.passive.add(s)
        elif draw < 0.22:
            ledger.withdrawn[s] = datetime(START, 1, 1)


@settings(max_examples=80, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 25), variant=st.sampled_from(sorted(POLICY_SETS)),
       channel=st.sampled_from([Channel.WAITING_LIST, Channel.FLEKSIBEL]))
def test_the_columns_decide_the_round_the_applicants_decide(seed, n, variant, channel):
    almen, factory, seekers, _, _, policy_sets = _year()
    group, rows, dwelling, on, rng = _case(seed, max(n, 1))
    rows = rows[:n]
    sids = group.sid[rows].tolist()
    policies = policy_sets[variant]
    now = datetime(on.year, on.month, on.day, 9)
    vacancy_id = f"v{seed}"
    vacancy = Vacancy(vacancy_id, dwelling, on)
    engine = LettingEngine(policies, id_prefix="t/")
    _ledger_state(engine, vacancy_id, sids, rng)
    in_force = policies.in_force(dwelling, on)
    found = ColumnScreen(factory, WindowScreen()).candidates(engine, vacancy, channel, group, sids, seekers, now, in_force)
    handed = WindowScreen().candidates(engine, vacancy, channel,
                                       [factory.applicant(s, seekers, dwelling, on, None) for s in sids], now, in_force)
    if found is None:                            # the row path decides (a policy reads a derived fact, or rejects)
        return
    if found is False:
        assert handed == []
    else:
        assert handed and (handed[0].applicant_id, handed[0].list_type.value) == found


def test_the_round_comparison_meets_winners_internal_lists_and_empty_rounds():
    """The same comparison on fixed cases meets every outcome it is about."""
    seen = {"winner": 0, "internal": 0, "none": 0, "rows": 0}
    almen, factory, seekers, _, _, policy_sets = _year()
    for k in range(120):
        variant = sorted(POLICY_SETS)[k % len(POLICY_SETS)]
        channel = (Channel.WAITING_LIST, Channel.FLEKSIBEL)[k % 2]
        group, rows, dwelling, on, rng = _case(k, 1 + k % 25)
        engine = LettingEngine(policy_sets[variant], id_prefix="t/")
        _ledger_state(engine, "v", group.sid[rows].tolist(), rng)
        found = ColumnScreen(factory, WindowScreen()).candidates(
            engine, Vacancy("v", dwelling, on), channel, group, group.sid[rows].tolist(), seekers,
            datetime(on.year, on.month, on.day, 9), policy_sets[variant].in_force(dwelling, on))
        kind = "rows" if found is None else "none" if found is False else "winner"
        seen[kind] += 1
        seen["internal"] += kind == "winner" and found[1] == "internal"
    assert seen["winner"] > 40 and seen["internal"] > 5 and seen["none"] > 0 and seen["rows"] > 0, seen


def _market_year(scenario: str, columns: bool):
    sh = shared()
    pop = copy.deepcopy(Population.from_dataset(small_dataset_dir(), START))
    seekers = draw_seekers(pop, sh.rates, 7, 0, START, {})
    factory = ApplicantFactory(pop, START, 7, 0, settings_for_list_year(START + 1).outside_attachments)
    market = Market(pop, load_scenario(scenario).policies(), factory, data_categories(sh.history, START, sh.vintage),
                    7, 0, START, LettingLedger(), set(), check_rules=True)
    if not columns:
        market.almen.columns = None              # the screen on the window's applicants (the row path)
    return market, market.run(seekers).lettings


@pytest.mark.parametrize("scenario", ["baseline", "fleksibel_half", "kombineret_udsat"])
def test_a_year_decided_from_the_columns_lets_as_the_row_path(scenario):
    fast, fast_lettings = _market_year(scenario, True)
    slow, slow_lettings = _market_year(scenario, False)
    # direct: the rounds decided from the columns, and the referral rounds (`WindowScreen.referrals`)
    assert fast.almen.columns.screened + fast.almen.screen.referred >= fast.almen.direct_lettings \
        > len(fast_lettings) // 2
    assert fast_lettings == slow_lettings and fast.checked == len(fast_lettings)
