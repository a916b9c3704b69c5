"""§ 59: the municipality alone decides who is referred. Its own order of the referrals
(`Applicant.referral_order`) decides the ranking of a referral dwelling's offers, before seniority
and before the model's redirect priority; unordered referrals come after the ordered ones. Hand
cases and a Hypothesis property (offers follow the municipality's order, whatever the seniority)."""

from dataclasses import replace
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st
from letting_factories import NOW, applicant, decision_for, dwelling, history, member, vacancy

from boligmix.letting.engine import LettingContext, LettingEngine, plan_offers
from boligmix.letting.model import Channel, ListType, Outcome
from boligmix.letting.policy import load_default_policies

POLICIES = load_default_policies()
WITH_LOCAL = load_default_policies(include_local_examples=True)


def referral(aid: int, seniority: date, order: int | None, **over) -> object:
    facts = dict(eu_eea_ch_citizen=True, enrolled_student=False, released_after_sentence_on=False,
                 lease_terminated_for_breach_on=False, released_from_youth_institution_after_sentence=False)
    facts.update(over)
    a = applicant(aid, seniority, list_type=ListType.MUNICIPAL_REFERRAL, members=(member(aid * 10, benefits=history(),
                                                                                        **facts),))
    return replace(a, referral_order=order)


def test_the_municipalitys_order_beats_seniority_and_is_recorded():
    refs = [referral(1, date(2001, 1, 1), None), referral(2, date(2020, 1, 1), 2), referral(3, date(2023, 1, 1), 1)]
    r = plan_offers(POLICIES, vacancy(dwelling(1)), refs, Channel.KOMMUNAL_ANVISNING, NOW)
    assert [(o.applicant_id, o.rank) for o in r.offers] == [(3, 1), (2, 2), (1, 3)]
    assert decision_for(r, 3).facts["referral_order"] == 1
    assert decision_for(r, 1).facts["referral_order"] is None      # unordered: after the ordered ones


def test_without_an_order_seniority_decides_as_before():
    refs = [referral(1, date(2020, 1, 1), None), referral(2, date(2010, 1, 1), None)]
    r = plan_offers(POLICIES, vacancy(dwelling(1)), refs, Channel.KOMMUNAL_ANVISNING, NOW)
    assert [o.applicant_id for o in r.offers] == [2, 1]


def test_rehousing_list_follows_the_order_and_the_waiting_list_ignores_it():
    refs = [replace(referral(1, date(2001, 1, 1), 5), list_type=ListType.REHOUSING),
            replace(referral(2, date(2020, 1, 1), 1), list_type=ListType.REHOUSING)]
    r = plan_offers(POLICIES, vacancy(dwelling(1)), refs, Channel.REHOUSING, NOW)
    assert [o.applicant_id for o in r.offers] == [2, 1]
    listed = [replace(applicant(1, date(2001, 1, 1)), referral_order=9), replace(applicant(2, date(2020, 1, 1)),
                                                                               referral_order=1)]
    w = plan_offers(POLICIES, vacancy(dwelling(2)), listed, Channel.WAITING_LIST, NOW)
    assert [o.applicant_id for o in w.offers] == [1, 2]          # seniority: the order is the municipality's
    assert "referral_order" not in decision_for(w, 1).facts


def test_an_ordered_referral_comes_before_an_unordered_redirected_one():
    """The redirect priority (UNCONFIRMED model choice) ranks among the referrals the municipality
    did not order; its own order comes first."""
    engine = LettingEngine(WITH_LOCAL)                 # municipality 183: 100 % anvisning
    barred = referral(1, date(2001, 1, 1), None, eu_eea_ch_citizen=False)
    r = engine.next_offers(vacancy(dwelling(1, municipality=183, categories=("udsat",))), [],
                           LettingContext(referrals=[barred]), NOW)
    assert [d.outcome for d in r.decisions if d.applicant_id == 1] == [Outcome.REJECTED, Outcome.REDIRECTED]
    outside = engine.next_offers(vacancy(dwelling(3, municipality=183)), [],
                                 LettingContext(referrals=[referral(3, date(2024, 1, 1), 1),
                                                           referral(4, date(2000, 1, 1), None)]), NOW)
    assert [o.applicant_id for o in outside.offers] == [3, 1, 4]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.one_of(st.none(), st.integers(0, 5)), st.integers(0, 3000)), min_size=1, max_size=8))
def test_offers_follow_the_municipalitys_order(rows):
    refs = [referral(i + 1, date(2015, 1, 1).fromordinal(date(2015, 1, 1).toordinal() + days), order)
            for i, (order, days) in enumerate(rows)]
    r = plan_offers(POLICIES, vacancy(dwelling(1)), refs, Channel.KOMMUNAL_ANVISNING, NOW)
    by_id = {a.applicant_id: a for a in refs}
    ranked = sorted((d for d in r.decisions if d.rank is not None), key=lambda d: d.rank)
    keys = [(by_id[d.applicant_id].referral_order is None, by_id[d.applicant_id].referral_order or 0,
             by_id[d.applicant_id].seniority_date) for d in ranked]
    assert keys == sorted(keys)
    assert len(ranked) == len(refs)                 # every clean referral is ranked
