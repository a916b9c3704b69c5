"""A compact engine (`LettingEngine(compact_ranking=True)`, the letting store's rounds) offers exactly
what the full engine offers, and its `NotReached` record says of every candidate ranked below the
offers what the full engine's `skipped` decision says (rank, rule, reason, unknown facts, the
ranking's facts), on random applicants, vacancies, dates, channels and priority rights, and with
the local example policies (more priority classes)."""

from dataclasses import replace
from datetime import datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from boligmix.letting.engine import LettingContext, LettingEngine
from boligmix.letting.model import Channel, ListType, Outcome
from boligmix.letting.policy import POLICY_DIR
from boligmix.letting.ranking import REFERRAL_CHANNELS, NotReached
from boligmix.letting.scenario import ScenarioSettings, make_applicants, make_vacancy
from boligmix.simulate.scenario import build_policy_set

_POLICIES: dict[bool, object] = {}


def _policies(local: bool):
    if local not in _POLICIES:
        _POLICIES[local] = build_policy_set([POLICY_DIR / "local"] if local else [], {}, "test")
    return _POLICIES[local]


def _round(policies, vacancy, applicants, channel, now, compact):
    engine = LettingEngine(policies, compact_ranking=compact, assessments={} if compact else None)
    engine.ledger.vacancy_channel[vacancy.vacancy_id] = channel
    if channel in REFERRAL_CHANNELS:  # the municipality's referrals (in its order where it gave one)
        return engine.next_offers(vacancy, [], LettingContext(referrals=applicants), now)
    return engine.next_offers(vacancy, applicants, None, now)


def _key(d):
    return (d.outcome, d.applicant_id, d.household_id, d.rank, d.rule_id, d.rule_version, d.law, d.reason,
            tuple(d.unknown_facts))


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 120), local=st.booleans(),
       channel=st.sampled_from([Channel.WAITING_LIST, Channel.FLEKSIBEL, Channel.KOMMUNAL_ANVISNING]),
       rights=st.floats(0, 0.3),
       days=st.integers(0, 1500))
def test_a_compact_round_offers_what_the_full_ranking_offers(seed, n, local, channel, rights, days):
    policies = _policies(local)
    rng = np.random.default_rng(seed)
    scenario = ScenarioSettings(applicants=n)
    applicants = [replace(a, priority_rights=a.priority_rights | {"fortrinsret"}) if rng.random() < rights else a
                  for a in make_applicants(rng, scenario)]
    if channel in REFERRAL_CHANNELS:  # referrals, some ordered by the municipality
        applicants = [replace(a, list_type=ListType.MUNICIPAL_REFERRAL,
                              referral_order=int(rng.integers(0, 5)) if rng.random() < 0.3 else None)
                      for a in applicants]
    now = datetime(2024, 1, 8, 9) + timedelta(days=days)
    vacancy = make_vacancy(rng, 0, scenario, now.date())
    full = _round(policies, vacancy, applicants, channel, now, compact=False)
    compact = _round(policies, vacancy, applicants, channel, now, compact=True)
    assert compact.offers == full.offers
    below = compact.not_reached
    ranked_below = [d for d in full.decisions if d.outcome == Outcome.SKIPPED and d.rule_id.endswith("#ranking")]
    if not ranked_below:
        assert below is None and [_key(d) for d in compact.decisions] == [_key(d) for d in full.decisions]
        return
    assert isinstance(below, NotReached) and len(below) == len(ranked_below)
    # the decisions about the other candidates are the same, in the same order
    kept = [d for d in full.decisions if d not in ranked_below]
    assert [(_key(d), d.facts) for d in compact.decisions] == [(_key(d), d.facts) for d in kept]
    # and the compact record says of each not-reached candidate what its full decision says
    for d, f in zip(ranked_below, below.decision_fields()):
        assert (f["applicant_id"], f["household_id"], f["rank"], f["rule_id"], f["rule_version"], f["law"],
                f["reason"], f["unknown"]) == \
            (d.applicant_id, d.household_id, d.rank, d.rule_id, d.rule_version, d.law, d.reason, d.unknown_facts)
        assert f["facts"] == {k: d.facts[k] for k in f["facts"]}
    assert [r for r, _ in below.ranked()] == [d.rank for d in ranked_below] == \
        list(range(len(compact.offers) + 1, len(compact.offers) + len(ranked_below) + 1))


@pytest.mark.parametrize("local", [False, True])
def test_a_fortrinsret_holder_last_by_seniority_is_offered_first_by_a_compact_engine(local):
    """Every eligible candidate is ranked, not only the most senior ones: the one fortrinsret holder,
    the least senior of some 200 eligible, is offered first; the rest are not reached."""
    policies = _policies(local)
    rng = np.random.default_rng(3)
    scenario = ScenarioSettings(applicants=400)
    now = datetime(2024, 6, 3, 9)
    vacancy = make_vacancy(rng, 0, scenario, now.date())
    applicants = [replace(a, priority_rights=a.priority_rights - {"fortrinsret"}) for a in make_applicants(rng, scenario)]
    full = _round(policies, vacancy, applicants, Channel.WAITING_LIST, now, compact=False)
    eligible = [d.applicant_id for d in full.decisions if d.rule_id.endswith("#ranking")]
    last = max((a for a in applicants if a.applicant_id in eligible), key=lambda a: (a.seniority_date, a.applicant_id))
    holder = replace(last, priority_rights=last.priority_rights | {"fortrinsret"})
    pool = [holder if a is last else a for a in applicants]
    compact = _round(policies, vacancy, pool, Channel.WAITING_LIST, now, compact=True)
    assert compact.offers[0].applicant_id == holder.applicant_id and compact.offers[0].rank == 1
    assert compact.offers == _round(policies, vacancy, pool, Channel.WAITING_LIST, now, compact=False).offers
    below = [a.applicant for a in compact.not_reached.assessments]
    assert len(below) == len(eligible) - len(compact.offers) > 150
