"""The engine's memoised rule verdicts (`LettingEngine._truth`, `_hit`) change nothing: one engine
assessing many varied applicants, vacancies and channels (its memo shared by all of them) says
exactly what a fresh engine (empty memo) says about each one: outcome, reason, deciding rule,
priorities, the facts recorded and the unknown facts."""

from datetime import datetime, timedelta

import numpy as np
import pytest

from boligmix.letting.engine import LettingEngine
from boligmix.letting.model import Channel, ListType
from boligmix.letting.policy import POLICY_DIR
from boligmix.letting.scenario import ScenarioSettings, _applicant, make_applicants, make_vacancy
from boligmix.simulate.scenario import PolicyOverride, build_policy_set

CHANNELS = (Channel.WAITING_LIST, Channel.INTERNAL, Channel.FLEKSIBEL, Channel.ANNONCERING,
            Channel.KOMMUNAL_ANVISNING, Channel.REHOUSING)
LIST_TYPE = {Channel.KOMMUNAL_ANVISNING: ListType.MUNICIPAL_REFERRAL, Channel.REHOUSING: ListType.REHOUSING,
             Channel.ANNONCERING: ListType.ADVERT_RESPONSE}


def _view(a):
    return (a.applicant.applicant_id, a.outcome, a.reason, a.hit.rule.rule_id if a.hit else None,
            a.policy.id if a.policy else None, a.priorities_met, a.priority_key, dict(a.facts), a.unknown)


@pytest.mark.parametrize("seed", [1, 2])
def test_memoised_verdicts_equal_a_fresh_engine(seed):
    policies = build_policy_set([POLICY_DIR / "local"], {
        "dk.almenboligloven.51b": PolicyOverride(enabled=True, switches={"include_foertidspension": True})}, "test")
    rng = np.random.default_rng(seed)
    settings = ScenarioSettings(applicants=40)
    waiting = make_applicants(rng, settings)
    shared = LettingEngine(policies)
    outcomes = set()
    for j in range(6):
        now = datetime(2024, 1, 8, 9) + timedelta(days=int(rng.integers(0, 900)))
        vacancy = make_vacancy(rng, j, settings, now.date())
        for channel in CHANNELS:
            applicants = ([_applicant(rng, 10_000 + 100 * j + k, LIST_TYPE[channel], settings.start)
                           for k in range(10)] if channel in LIST_TYPE else waiting)
            for a in applicants:
                memoised = shared.assess(vacancy, a, channel, now)
                fresh = LettingEngine(policies).assess(vacancy, a, channel, now)
                assert _view(memoised) == _view(fresh)
                outcomes.add(memoised.outcome)
    assert shared._memo, "the shared engine memoised verdicts"
    assert len(outcomes) >= 2  # ranked and not ranked both occur
