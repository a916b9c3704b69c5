"""The simulation's direct letting (`AlmenLetting._let_direct`) equals the engine's decision.

On random waiting lists, dwellings, ledger states and policy variants (Hypothesis), the candidate
the screen picks (`WindowScreen.candidates`, the compiled decision with the engine's ranking) is
the one `LettingEngine.next_offers` offers the dwelling to first, its letting's channel and
ranking rule are the ones the engine's acceptance records, and when the screen finds no one the
engine offers no one. Whole years run both ways are in `tests/test_simulate_market.py`."""

from datetime import datetime, timedelta

import numpy as np
from hypothesis import given, settings, strategies as st

from boligmix.letting.engine import LettingContext, LettingEngine
from boligmix.letting.model import Channel, ListType
from boligmix.letting.policy import POLICY_DIR
from boligmix.letting.scenario import ScenarioSettings, _applicant, make_vacancy
from boligmix.simulate.almen_letting import direct_channel, ranking_rule
from boligmix.simulate.scenario import PolicyOverride, build_policy_set, load_scenario
from boligmix.simulate.screen import WindowScreen

VARIANTS = {
    "statutory": lambda: build_policy_set([], {}, "test"),
    "statutory+local": lambda: build_policy_set([POLICY_DIR / "local"], {}, "test"),
    "exclusive fleksibel": lambda: build_policy_set(
        [], {"dk.almenboligloven.60.stk4": PolicyOverride(switches={"mode": "exclusive"})}, "test"),
    "binding size rule": lambda: build_policy_set(
        [], {"dk.venteliste": PolicyOverride(switches={"size_rule": "binding"})}, "test"),
    "fleksibel_half": lambda: load_scenario("fleksibel_half").policies(),
}
_POLICIES: dict = {}


def _policies(variant: str):
    if variant not in _POLICIES:
        _POLICIES[variant] = VARIANTS[variant]()
    return _POLICIES[variant]


def _engine(policies, vacancy, channel, housed, offered) -> LettingEngine:
    engine = LettingEngine(policies, id_prefix="t/")
    engine.ledger.vacancy_channel[vacancy.vacancy_id] = channel   # allocated before the round, as the market does
    for aid in housed:
        engine.ledger.housed[aid] = 0
    if offered:
        engine.ledger.offered[vacancy.vacancy_id] = set(offered)
    return engine


def _compare(seed: int, variant: str, channel: Channel, n: int, days: int) -> str:
    """Screen and engine on one random case; returns what happened (`engine`: a policy in force
    rejects, so the screen hands the engine the window; `none`; `waiting_list`, `internal`, `fleksibel`:
    the channel of the letting)."""
    rng = np.random.default_rng(seed)
    policies = _policies(variant)
    config = ScenarioSettings()
    now = datetime(2024, 1, 8, 9) + timedelta(days=days)
    vacancy = make_vacancy(rng, 0, config, now.date())
    applicants = [_applicant(rng, i + 1, ListType.INTERNAL if rng.random() < 0.2 else ListType.EXTERNAL, config.start)
                  for i in range(n)]
    ids = [a.applicant_id for a in applicants]
    housed = [i for i in ids if rng.random() < 0.1]                 # the screen reads the engine's list checks
    offered = [i for i in ids if rng.random() < 0.1]
    screen_engine = _engine(policies, vacancy, channel, housed, offered)
    handed = WindowScreen().candidates(screen_engine, vacancy, channel, applicants, now)
    if handed is None:                                              # a policy in force rejects: the engine decides
        return "engine"
    engine = _engine(policies, vacancy, channel, housed, offered)
    round_ = engine.next_offers(vacancy, applicants, LettingContext(), now)
    if not handed:
        assert not round_.offers
        return "none"
    assert len(handed) == 1 and round_.offers
    winner = handed[0]
    assert round_.offers[0].applicant_id == winner.applicant_id
    assessment = engine.assess(vacancy, winner, round_.offers[0].channel, now)
    assert assessment.outcome is None                              # eligible, rule by rule
    letting = engine.accept(round_.offers[0].offer_id, now).lettings[0]
    assert letting.channel == direct_channel(channel, winner)
    assert ranking_rule(policies.in_force(vacancy.dwelling, now.date())) == round_.policies[0].policy_id
    return letting.channel.value


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), variant=st.sampled_from(sorted(VARIANTS)),
       channel=st.sampled_from([Channel.WAITING_LIST, Channel.FLEKSIBEL]), n=st.integers(0, 25),
       days=st.integers(0, 900))
def test_the_screened_winner_is_the_engines_letting(seed, variant, channel, n, days):
    _compare(seed, variant, channel, n, days)


def test_the_comparison_meets_lettings_of_every_kind_and_empty_screens():
    """The same comparison on fixed cases, which meet every outcome the property is about."""
    seen = {}
    for k in range(200):
        kind = _compare(k, sorted(VARIANTS)[k % len(VARIANTS)], (Channel.WAITING_LIST, Channel.FLEKSIBEL)[k % 2],
                        k % 26, 7 * k)
        seen[kind] = seen.get(kind, 0) + 1
    assert seen.get("waiting_list", 0) > 20 and seen.get("internal", 0) > 5 and seen.get("fleksibel", 0) > 10, seen
    assert seen.get("none", 0) > 0 and seen.get("engine", 0) > 0, seen


def test_policies_in_force_kept_per_scope_facts_equal_the_policy_sets():
    """`InForce` answers as `PolicySet.in_force` for random dwellings and dates (the same objects)."""
    from boligmix.simulate.in_force import InForce

    rng = np.random.default_rng(3)
    config = ScenarioSettings()
    for variant in sorted(VARIANTS):
        policies = _policies(variant)
        kept = InForce(policies)
        for j in range(60):
            on = (datetime(2010, 1, 1) + timedelta(days=int(rng.integers(0, 6000)))).date()
            dwelling = make_vacancy(rng, j, config, on).dwelling
            want = policies.in_force(dwelling, on)
            assert kept.in_force(dwelling, on) == want and kept.in_force(dwelling, on) == want
            assert all(a is b for a, b in zip(kept.in_force(dwelling, on), want))
