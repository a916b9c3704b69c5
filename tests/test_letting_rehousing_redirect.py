"""§ 59 stk. 6/7 for the municipality's rehousing households (rules-spec 6.1): the bars cover every
household the municipality refers, also from its rehousing list (§ 59 stk. 1, up to every 3rd
vacancy). A barred rehousing household is redirected like a barred referral: kept for the
municipality's next rehousing dwelling, where it ranks first - and not carried into the referral
channel (the kommunal anvisning list is the municipality's other list)."""

from dataclasses import replace
from datetime import date

from letting_factories import NOW, applicant, decision_for, dwelling, follow_ups_for, history, member, vacancy

from boligmix.letting.engine import LettingContext, LettingEngine
from boligmix.letting.model import Channel, ListType, Outcome
from boligmix.letting.policy import load_default_policies

POLICIES = load_default_policies()


def household(aid: int, seniority: date, **over):
    facts = dict(eu_eea_ch_citizen=True, enrolled_student=False, released_after_sentence_on=False,
                 lease_terminated_for_breach_on=False, released_from_youth_institution_after_sentence=False)
    facts.update(over)
    return applicant(aid, seniority, list_type=ListType.REHOUSING,
                     members=(member(aid * 10, benefits=history(), **facts),))


def _round(engine, d, channel, people):
    engine.ledger.vacancy_channel[f"V{d.dwelling_id}"] = channel
    ctx = LettingContext(rehousing=people) if channel == Channel.REHOUSING else LettingContext(referrals=people)
    return engine.next_offers(vacancy(d), [], ctx, NOW)


def test_barred_rehousing_household_is_redirected_to_the_next_rehousing_dwelling():
    engine = LettingEngine(POLICIES)
    barred = household(1, date(2024, 1, 1), eu_eea_ch_citizen=False)        # § 59 stk. 6 nr. 4
    r = _round(engine, dwelling(1, categories=("udsat",)), Channel.REHOUSING, [barred, household(2, date(2024, 2, 1))])
    assert decision_for(r, 1).outcome == Outcome.REJECTED and [o.applicant_id for o in r.offers] == [2]
    [redirect] = follow_ups_for(r, 1)
    assert redirect.outcome == Outcome.REDIRECTED and redirect.facts["redirect_channel"] == "rehousing"
    assert "next rehousing dwelling" in redirect.reason
    # a referral dwelling outside the area: the rehousing household is not one of the referrals
    referral = replace(household(3, date(2020, 1, 1)), list_type=ListType.MUNICIPAL_REFERRAL)
    ref = _round(engine, dwelling(2), Channel.KOMMUNAL_ANVISNING, [referral])
    assert [o.applicant_id for o in ref.offers] == [3] and not [d for d in ref.decisions if d.applicant_id == 1]
    # the next rehousing dwelling outside udsatte areas: carried and ranked first (redirect priority)
    nxt = _round(engine, dwelling(3), Channel.REHOUSING, [household(4, date(2010, 1, 1))])
    assert [o.applicant_id for o in nxt.offers] == [1, 4]
    offered = decision_for(nxt, 1)
    assert offered.facts["redirect_decision"] == redirect.decision_id
    assert "dk.almenboligloven.59.redirect#redirected_referral" in offered.facts["priorities_met"]
    assert "redirected referral" in engine.explain(1, 3).verdict
    danish = engine.explain(1, 3).verdict_da
    assert "ny anvisning (§ 59, stk. 6/7)" in danish and "ikke statsborger i et EU/EØS-land" in danish


def test_a_second_restricted_rehousing_dwelling_rejects_again_without_a_second_redirect():
    engine = LettingEngine(POLICIES)
    barred = household(1, date(2024, 1, 1), eu_eea_ch_citizen=False)
    _round(engine, dwelling(1, categories=("udsat",)), Channel.REHOUSING, [barred])
    again = _round(engine, dwelling(2, categories=("forebyggelse",)), Channel.REHOUSING, [])
    assert decision_for(again, 1).outcome == Outcome.REJECTED and follow_ups_for(again, 1) == []
    assert [r.applicant.applicant_id for r in engine.redirected_referrals()] == [1]
