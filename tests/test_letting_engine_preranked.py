"""Candidates ranked before the round (`LettingEngine.next_offers(..., preranked=...)`, `ranking.PreRanked`,
what the letting store's kept ranking hands in): the round equals the engine's round over all the
candidates (the same offers, decisions, not-reached record and ledger refusal counts) whichever
eligible candidates are handed in ranked and whichever go through the loop; a record that does not
fit the round (another context, or candidates the ledger holds) is refused."""

from dataclasses import replace
from datetime import datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from boligmix.errors import LettingError
from boligmix.letting import candidate_selection
from boligmix.letting import engine as engine_module
from boligmix.letting.engine import LIST_TYPES_BY_CHANNEL, LettingEngine
from boligmix.letting.ledger import Entitlement
from boligmix.letting.model import Channel
from boligmix.letting.policy import POLICY_DIR
from boligmix.letting.ranking import PreRanked, meeting_lapsing_rules, rank_sorter
from boligmix.letting.scenario import ScenarioSettings, make_applicants, make_vacancy
from boligmix.simulate.scenario import build_policy_set

_POLICIES: dict[bool, object] = {}


def _policies(local: bool):
    if local not in _POLICIES:
        _POLICIES[local] = build_policy_set([POLICY_DIR / "local"] if local else [], {}, "test")
    return _POLICIES[local]


def _engine(policies, channel, vacancy, memo):
    engine = LettingEngine(policies, compact_ranking=True, assessments=memo)
    engine.ledger.vacancy_channel[vacancy.vacancy_id] = channel
    return engine


def _split(engine, vacancy, channel, applicants, now, pick, counted=False):
    """(PreRanked of the eligible applicants `pick` chooses, the others in list order), as a caller
    that assessed them with the engine's own table would hand them in; `counted`: with the count of
    them meeting every lapsing rule (`PreRanked.meeting`, as the store's kept ranking hands it in)."""
    on = now.date()
    in_force = engine.policies.in_force(vacancy.dwelling, on)
    table = engine._assessment_table_for(vacancy, channel, in_force, on)
    pre, rest = [], []
    for i, a in enumerate(applicants):
        assessment = engine._assess(vacancy, a, channel, in_force, on)
        if assessment.outcome is None and pick(i):
            pre.append(assessment)
        else:
            rest.append(a)
    pre.sort(key=rank_sorter(channel))
    record = PreRanked(channel, table, vacancy.dwelling.org_id, LIST_TYPES_BY_CHANNEL[channel], pre,
                       frozenset(x.applicant.applicant_id for x in pre),
                       {x.applicant.applicant_id: x.applicant.refusal_count for x in pre if x.applicant.refusal_count},
                       sum(not x.lapsed for x in pre) if counted else None)
    return record, rest


def _key(d):
    return (d.outcome, d.applicant_id, d.rank, d.rule_id, d.rule_version, d.law, d.reason, tuple(d.unknown_facts),
            tuple(sorted(d.facts.items(), key=lambda kv: kv[0])).__repr__())


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 80), local=st.booleans(),
       channel=st.sampled_from([Channel.WAITING_LIST, Channel.FLEKSIBEL]), share=st.floats(0, 1),
       days=st.integers(0, 1500), counted=st.booleans())
def test_a_round_with_candidates_ranked_beforehand_is_the_round_over_all(seed, n, local, channel, share, days,
                                                                         counted):
    policies = _policies(local)
    rng = np.random.default_rng(seed)
    scenario = ScenarioSettings(applicants=n)
    applicants = [replace(a, refusal_count=int(rng.integers(0, 3))) if rng.random() < 0.2 else a
                  for a in make_applicants(rng, scenario)]
    now = datetime(2024, 1, 8, 9) + timedelta(days=days)
    vacancy = make_vacancy(rng, 0, scenario, now.date())
    applicants = [replace(a, org_id=vacancy.dwelling.org_id) for a in applicants]
    memo: dict = {}
    plain = _engine(policies, channel, vacancy, memo)
    whole = plain.next_offers(vacancy, applicants, None, now)
    engine = _engine(policies, channel, vacancy, memo)
    picks = rng.random(len(applicants)) < share
    record, rest = _split(engine, vacancy, channel, applicants, now, lambda i: bool(picks[i]), counted)
    counts: list[int] = []  # the lengths of the lists the engine counts lapsing rules over

    def counting(ranked):  # type: ignore[no-untyped-def]
        counts.append(len(ranked))
        return meeting_lapsing_rules(ranked)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(engine_module, "meeting_lapsing_rules", counting)
        mp.setattr(candidate_selection, "meeting_lapsing_rules", counting)
        split = engine.next_offers(vacancy, rest, None, now, preranked=record)
    if counted:  # the record's count is taken: only the loop's own eligible are counted
        assert all(c <= len(rest) for c in counts), (counts, len(rest))
    assert [(o.applicant_id, o.rank) for o in split.offers] == [(o.applicant_id, o.rank) for o in whole.offers]
    assert [_key(d) for d in split.decisions] == [_key(d) for d in whole.decisions]
    assert (split.not_reached is None) == (whole.not_reached is None)
    if whole.not_reached is not None:
        assert list(split.not_reached.decision_fields()) == list(whole.not_reached.decision_fields())
    assert dict(engine.ledger.base_refusals) == dict(plain.ledger.base_refusals)


def test_a_record_that_does_not_fit_the_round_is_refused():
    policies = _policies(False)
    rng = np.random.default_rng(7)
    scenario = ScenarioSettings(applicants=30)
    now = datetime(2024, 3, 1, 9)
    vacancy = make_vacancy(rng, 0, scenario, now.date())
    applicants = [replace(a, org_id=vacancy.dwelling.org_id) for a in make_applicants(rng, scenario)]
    channel = Channel.WAITING_LIST
    engine = _engine(policies, channel, vacancy, {})
    record, rest = _split(engine, vacancy, channel, applicants, now, lambda i: True)
    assert record.assessments  # some are eligible
    holder = next(iter(record.ids))
    engine.ledger.entitlements[holder] = Entitlement(holder, vacancy.dwelling.org_id, None, "p", "1", "d1", "on_offer")
    with pytest.raises(LettingError, match="ranked beforehand do not fit"):
        engine.next_offers(vacancy, rest, None, now, preranked=record)  # a holder's right is the loop's
    other = _engine(policies, channel, vacancy, {})  # another memo: another table, another context
    with pytest.raises(LettingError, match="ranked beforehand do not fit"):
        other.next_offers(vacancy, rest, None, now, preranked=record)
    again = _engine(policies, channel, vacancy, engine._assessments)
    with pytest.raises(LettingError, match="listed twice"):  # a candidate both ranked and in the loop
        again.next_offers(vacancy, [*rest, record.assessments[0].applicant], None, now, preranked=record)


def test_a_record_with_its_count_gives_the_lapse_note_of_the_round_over_all():
    """Offers to applicants who fail a rule that lapses without a taker (the size rule) record how
    many meet it (`ranking.lapse_note`); with the count handed in (`PreRanked.meeting`) the note is
    the one of the round over all the candidates."""
    from boligmix.letting.ranking import LAPSE_MET_FACT

    policies = _policies(False)
    channel = Channel.WAITING_LIST
    for seed in range(200):
        rng = np.random.default_rng(seed)
        scenario = ScenarioSettings(applicants=60)
        now = datetime(2024, 3, 1, 9)
        vacancy = make_vacancy(rng, 0, scenario, now.date())
        applicants = [replace(a, org_id=vacancy.dwelling.org_id) for a in make_applicants(rng, scenario)]
        probe = _engine(policies, channel, vacancy, {})
        in_force = policies.in_force(vacancy.dwelling, now.date())
        assessed = [(a, probe._assess(vacancy, a, channel, in_force, now.date())) for a in applicants]
        lapsed = [a for a, x in assessed if x.outcome is None and x.lapsed]
        meeting = [a for a, x in assessed if x.outcome is None and not x.lapsed]
        if len(lapsed) >= 3 and meeting:
            break
    else:
        pytest.fail("no scenario with applicants failing a lapsing rule")
    for chosen in ([*meeting[:1], *lapsed], lapsed):  # one meets the rule, or none
        memo: dict = {}
        whole = _engine(policies, channel, vacancy, memo).next_offers(vacancy, chosen, None, now)
        engine = _engine(policies, channel, vacancy, memo)
        record, rest = _split(engine, vacancy, channel, chosen, now, lambda i: True, counted=True)
        split = engine.next_offers(vacancy, rest, None, now, preranked=record)
        notes = [d.facts[LAPSE_MET_FACT] for d in whole.decisions if LAPSE_MET_FACT in d.facts]
        assert notes and notes == [d.facts[LAPSE_MET_FACT] for d in split.decisions if LAPSE_MET_FACT in d.facts]
        assert [_key(d) for d in split.decisions] == [_key(d) for d in whole.decisions]
