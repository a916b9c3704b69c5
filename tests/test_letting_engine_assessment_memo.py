"""Assessments kept between rounds (`LettingEngine(assessments=...)`, as the letting store keeps
them per process) change nothing: on random applicants, dwellings, dates and channels, an engine
sharing one memo across many vacancies answers exactly as a fresh engine for each assessment
(outcome, deciding rule, reason, facts, unknown facts, priority key), also when dwellings differ
only in their id (a hit) or in one field (a miss)."""

from dataclasses import replace
from datetime import datetime, timedelta

import numpy as np
import pytest

from boligmix.letting.engine import LettingEngine
from boligmix.letting.model import Channel, ListType
from boligmix.letting.policy import POLICY_DIR
from boligmix.letting.scenario import ScenarioSettings, _applicant, make_applicants, make_vacancy
from boligmix.simulate.scenario import build_policy_set

CHANNELS = (Channel.WAITING_LIST, Channel.FLEKSIBEL, Channel.KOMMUNAL_ANVISNING)


def _same(a, b):
    assert (a.outcome, a.reason, a.priorities_met, a.priority_key, a.unknown) == \
        (b.outcome, b.reason, b.priorities_met, b.priority_key, b.unknown)
    assert dict(a.facts) == dict(b.facts)
    assert (a.hit.rule.rule_id if a.hit else None) == (b.hit.rule.rule_id if b.hit else None)


@pytest.mark.parametrize("seed", [1, 2])
def test_memoised_assessments_equal_fresh_ones(seed):
    policies = build_policy_set([POLICY_DIR / "local"], {}, "test")
    rng = np.random.default_rng(seed)
    settings = ScenarioSettings(applicants=40)
    waiting = make_applicants(rng, settings)
    referrals = [_applicant(rng, 90_000 + k, ListType.MUNICIPAL_REFERRAL, settings.start) for k in range(10)]
    memo: dict = {}
    shared = LettingEngine(policies, assessments=memo)
    compared = 0
    for j in range(8):
        now = datetime(2024, 1, 8, 9) + timedelta(days=int(rng.integers(0, 900)))
        vacancy = make_vacancy(rng, j, settings, now.date())
        twin = replace(vacancy, vacancy_id=f"{vacancy.vacancy_id}-twin",
                       dwelling=replace(vacancy.dwelling, dwelling_id=vacancy.dwelling.dwelling_id + 10**6))
        bigger = replace(vacancy, dwelling=replace(vacancy.dwelling, rooms=vacancy.dwelling.rooms + 1))
        for v in (vacancy, twin, bigger):
            for channel in CHANNELS:
                pool = referrals if channel == Channel.KOMMUNAL_ANVISNING else waiting
                for a in pool:
                    _same(shared.assess(v, a, channel, now), LettingEngine(policies).assess(v, a, channel, now))
                    compared += 1
    assert compared > 1000 and memo  # the memo was used


def test_a_changed_applicant_is_a_new_key():
    """The memo keys the applicant by identity: an applicant object changed into another (a changed
    row is a new engine applicant in the store) is assessed anew."""
    policies = build_policy_set([], {}, "test")
    rng = np.random.default_rng(5)
    settings = ScenarioSettings(applicants=60)
    now = datetime(2024, 3, 1, 9)
    vacancy = make_vacancy(rng, 0, settings, now.date())
    engine = LettingEngine(policies, assessments={})
    a, before = next((a, b) for a in make_applicants(rng, settings)
                     if (b := engine.assess(vacancy, a, Channel.WAITING_LIST, now)).outcome is None)
    moved = replace(a, min_rooms=vacancy.dwelling.rooms + 1)  # now wishes more rooms than the dwelling has
    after = engine.assess(vacancy, moved, Channel.WAITING_LIST, now)
    _same(after, LettingEngine(policies).assess(vacancy, moved, Channel.WAITING_LIST, now))
    assert before.outcome is None and after.outcome is not None


def test_the_memo_stays_bounded_and_right_across_round_contexts(monkeypatch):
    """One table of assessments per round context (dwelling fields, channel, policies, date); a table
    over the limit starts afresh, and all tables go when a new context finds them over the limit
    together: never more than twice the limit, and every answer still a fresh engine's."""
    from boligmix.letting import assessment

    monkeypatch.setattr(assessment, "_ASSESSMENT_LIMIT", 25)
    policies = build_policy_set([], {}, "test")
    rng = np.random.default_rng(11)
    settings = ScenarioSettings(applicants=40)
    applicants = make_applicants(rng, settings)
    memo: dict = {}
    engine = LettingEngine(policies, assessments=memo)
    now = datetime(2024, 3, 1, 9)
    sizes = []
    for j in range(6):
        vacancy = make_vacancy(rng, j, settings, now.date())
        for a in applicants:
            _same(engine.assess(vacancy, a, Channel.WAITING_LIST, now),
                  LettingEngine(policies).assess(vacancy, a, Channel.WAITING_LIST, now))
            sizes.append(sum(len(table) for _, table in memo.values()))
    assert max(sizes) <= 2 * 25 + 1 and len(memo) >= 1
