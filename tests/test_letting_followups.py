"""Follow-ups of rejections, hand-written from the law (rules-spec 6.1, 6.3):

* § 51 b: an applicant registered before kombineret udlejning was introduced in the area and
  rejected by it is entitled to an offer of the organisation's dwellings outside the area;
* § 59, stk. 6: a referral barred from an udsat area must be referred elsewhere; the engine
  records it as redirected and carries it to the municipality's next referral dwelling.

Municipality 101's example agreement introduces kombineret udlejning on 2022-01-01.
"""

from datetime import date

import pytest
from letting_factories import NOW, applicant, decision_for, dwelling, follow_ups_for, history, member, vacancy

from boligmix.errors import ConfigurationError
from boligmix.letting.decision_log import read_decision_log, write_decision_log
from boligmix.letting.engine import ENTITLEMENT_RIGHT, LettingContext, LettingEngine, plan_offers
from boligmix.letting.model import Channel, ListType, Outcome
from boligmix.letting.policy import POLICY_DIR, load_default_policies, load_policies

KH_6 = ("kontanthjaelp", date(2023, 12, 1), date(2024, 5, 1))
SCHEME = ("kombineret_udlejning",)


@pytest.fixture(scope="module")
def with_local():
    return load_default_policies(include_local_examples=True)


def on_benefits(aid: int, seniority: date):
    return applicant(aid, seniority, benefits=history(KH_6))


# ---------------------------------------------------------------------------------------------
# § 51 b entitlement


def test_prior_registrant_rejected_by_51b_is_entitled(with_local):
    engine = LettingEngine(with_local)
    before, after = on_benefits(1, date(2021, 12, 31)), on_benefits(2, date(2022, 1, 1))
    r = engine.next_offers(vacancy(dwelling(1, categories=SCHEME, municipality=101)), [before, after], None, NOW)
    assert decision_for(r, 1).outcome == Outcome.REJECTED and decision_for(r, 2).outcome == Outcome.REJECTED
    [entitled] = follow_ups_for(r, 1)
    assert entitled.outcome == Outcome.ENTITLED and entitled.rule_id == "k0101.kombineret#offer_elsewhere"
    assert entitled.facts["registered_on"] == "2021-12-31"
    assert entitled.facts["scheme_introduced_on"] == "2022-01-01"
    assert entitled.facts["rejected_by"] == "k0101.kombineret#listed_benefits"
    assert follow_ups_for(r, 2) == []          # registered on the day of introduction: no entitlement
    assert [e.applicant_id for e in engine.entitlements()] == [1]


def test_entitled_applicant_ranks_first_outside_the_area_only(with_local):
    engine = LettingEngine(with_local)
    entitled = on_benefits(1, date(2021, 6, 1))
    engine.next_offers(vacancy(dwelling(1, categories=SCHEME, municipality=101)), [entitled], None, NOW)
    senior = [applicant(10 + i, date(2000, 1, 1)) for i in range(3)]
    # another dwelling of the organisation inside the scheme's area: still rejected, no priority
    inside = engine.next_offers(vacancy(dwelling(2, categories=SCHEME, municipality=101)), [*senior, entitled],
                                None, NOW)
    assert decision_for(inside, 1).outcome == Outcome.REJECTED
    # outside the area: ranked before more senior applicants (offers_per_round = 3)
    outside = engine.next_offers(vacancy(dwelling(3, municipality=101)), [*senior, entitled], None, NOW)
    assert [o.applicant_id for o in outside.offers] == [1, 10, 11]
    offered = decision_for(outside, 1)
    assert "dk.venteliste#kombineret_udlejning_tilbud" in offered.facts["priorities_met"]
    # one offer uses the entitlement up (entitlement_ends = on_offer)
    assert engine.entitlements() == []
    assert engine.ledger.entitlements[1].fulfilled_by == outside.offers[0].offer_id
    later = engine.next_offers(vacancy(dwelling(4, municipality=101)), [*senior, entitled], None, NOW)
    assert [o.applicant_id for o in later.offers] == [10, 11, 12]


def test_entitlement_is_for_the_same_organisation_only(with_local):
    engine = LettingEngine(with_local)
    engine.next_offers(vacancy(dwelling(1, categories=SCHEME, municipality=101)), [on_benefits(1, date(2021, 6, 1))],
                       None, NOW)
    entitled_elsewhere = applicant(1, date(2021, 6, 1), org_id="ORG2", benefits=history(KH_6))
    senior = [applicant(10 + i, date(2000, 1, 1), org_id="ORG2") for i in range(3)]
    r = engine.next_offers(vacancy(dwelling(2, municipality=101, org_id="ORG2", department_id="ORG2-1")),
                           [*senior, entitled_elsewhere], None, NOW)
    assert [o.applicant_id for o in r.offers] == [10, 11, 12]


def test_entitlement_switches(tmp_path):
    (tmp_path / "k.yaml").write_text(
        "id: local.komb\nbase: dk.almenboligloven.51b\nversion: '1'\neffective_from: 2015-01-01\nenabled: true\n"
        "scope: {municipality_codes: [461], area_categories: [kombineret_udlejning]}\n"
        "switches: {scheme_introduced_on: '2019-03-01', entitlement_ends: on_letting}\n", encoding="utf-8")
    policies = load_policies([POLICY_DIR / "statutory", tmp_path])
    engine = LettingEngine(policies)
    r = engine.next_offers(vacancy(dwelling(1, categories=SCHEME)),
                           [on_benefits(1, date(2019, 2, 28)), on_benefits(2, date(2019, 3, 1))], None, NOW)
    assert [d.applicant_id for d in r.decisions if d.outcome == Outcome.ENTITLED] == [1]
    out = engine.next_offers(vacancy(dwelling(2)), [on_benefits(1, date(2019, 2, 28))], None, NOW)
    engine.refuse(out.offers[0].offer_id, NOW)
    assert [e.applicant_id for e in engine.entitlements()] == [1]     # on_letting: a refusal keeps it
    (tmp_path / "k.yaml").write_text(
        "id: local.komb\nbase: dk.almenboligloven.51b\nversion: '1'\neffective_from: 2015-01-01\nenabled: true\n"
        "scope: {municipality_codes: [461], area_categories: [kombineret_udlejning]}\n"
        "switches: {offer_elsewhere_for_prior_registrants: false}\n", encoding="utf-8")
    off = LettingEngine(load_policies([POLICY_DIR / "statutory", tmp_path]))
    r = off.next_offers(vacancy(dwelling(1, categories=SCHEME)), [on_benefits(1, date(2010, 1, 1))], None, NOW)
    assert decision_for(r, 1).outcome == Outcome.REJECTED and follow_ups_for(r, 1) == []
    (tmp_path / "k.yaml").write_text(
        "id: local.komb\nbase: dk.almenboligloven.51b\nversion: '1'\neffective_from: 2015-01-01\n"
        "switches: {scheme_introduced_on: 'March 2019'}\n", encoding="utf-8")
    with pytest.raises(ConfigurationError) as err:
        load_policies([POLICY_DIR / "statutory", tmp_path])
    assert "scheme_introduced_on" in str(err.value)


def test_stateless_rounds_take_the_entitlement_as_a_priority_right(with_local):
    senior = [applicant(10 + i, date(2000, 1, 1)) for i in range(3)]
    holder = applicant(1, date(2021, 6, 1), priority_rights=frozenset({ENTITLEMENT_RIGHT}))
    r = plan_offers(with_local, vacancy(dwelling(3, municipality=101)), [*senior, holder], Channel.WAITING_LIST, NOW)
    assert [o.applicant_id for o in r.offers] == [1, 10, 11]
    # plan_offers leaves follow-up records out unless asked (the store must accept the outcomes)
    rej = plan_offers(with_local, vacancy(dwelling(1, categories=SCHEME, municipality=101)),
                      [on_benefits(2, date(2020, 1, 1))], Channel.WAITING_LIST, NOW)
    assert follow_ups_for(rej, 2) == []
    rej = plan_offers(with_local, vacancy(dwelling(1, categories=SCHEME, municipality=101)),
                      [on_benefits(2, date(2020, 1, 1))], Channel.WAITING_LIST, NOW, follow_ups=True)
    assert [d.outcome for d in follow_ups_for(rej, 2)] == [Outcome.ENTITLED]


# ---------------------------------------------------------------------------------------------
# § 59, stk. 6: barred referrals are redirected


def clean_referral(aid: int, **over):
    facts = dict(eu_eea_ch_citizen=True, enrolled_student=False, released_after_sentence_on=False,
                 lease_terminated_for_breach_on=False, released_from_youth_institution_after_sentence=False)
    facts.update(over)
    return applicant(aid, list_type=ListType.MUNICIPAL_REFERRAL,
                     members=(member(aid * 10, benefits=history(), **facts),))


def test_barred_referral_is_redirected_and_offered_the_next_referral_dwelling(with_local, tmp_path):
    engine = LettingEngine(with_local)             # municipality 183: 100 % anvisning
    barred = clean_referral(1, eu_eea_ch_citizen=False)
    r = engine.next_offers(vacancy(dwelling(1, municipality=183, categories=("udsat",))), [],
                           LettingContext(referrals=[barred]), NOW)
    assert decision_for(r, 1).outcome == Outcome.REJECTED
    [redirected] = follow_ups_for(r, 1)
    assert redirected.outcome == Outcome.REDIRECTED and redirected.rule_id == "dk.almenboligloven.59.stk6#redirect"
    assert redirected.facts["bar"] == "dk.almenboligloven.59.stk6#nr4"
    assert redirected.facts["nr4_not_eu_citizen"] is True and redirected.facts["area_categories"] == ["udsat"]
    assert [x.applicant.applicant_id for x in engine.redirected_referrals(183)] == [1]
    assert engine.redirected_referrals(101) == []
    # another udsat dwelling: rejected again, not redirected twice
    again = engine.next_offers(vacancy(dwelling(2, municipality=183, categories=("udsat",))), [],
                               LettingContext(referrals=[clean_referral(2)]), NOW)
    assert decision_for(again, 1).outcome == Outcome.REJECTED and follow_ups_for(again, 1) == []
    assert [o.applicant_id for o in again.offers] == [2]
    # a dwelling outside udsatte areas: the redirected referral comes before the new referral
    outside = engine.next_offers(vacancy(dwelling(3, municipality=183)), [],
                                 LettingContext(referrals=[clean_referral(3)]), NOW)
    assert [o.applicant_id for o in outside.offers] == [1, 3]
    engine.accept(outside.offers[0].offer_id, NOW)
    assert engine.redirected_referrals() == []
    # the log with the new outcomes round-trips
    path = tmp_path / "log.jsonl"
    write_decision_log(path, engine.decisions)
    assert [d.outcome for d in read_decision_log(path)] == [d.outcome for d in engine.decisions]


def test_redirect_switch_reject_only(tmp_path):
    (tmp_path / "r.yaml").write_text(
        "id: local.stk6\nbase: dk.almenboligloven.59.stk6@2018-12-01.1\nversion: '1'\neffective_from: 2019-01-01\n"
        "scope: {municipality_codes: [461], area_categories: [udsat]}\nswitches: {barred_referral: reject}\n",
        encoding="utf-8")
    (tmp_path / "a.yaml").write_text(
        "id: local.anv\nbase: dk.almenboligloven.59\nversion: '1'\neffective_from: 2019-01-01\n"
        "scope: {municipality_codes: [461]}\nshares: {kommunal_anvisning: 1.0}\n", encoding="utf-8")
    engine = LettingEngine(load_policies([POLICY_DIR / "statutory", tmp_path]))
    r = engine.next_offers(vacancy(dwelling(1, categories=("udsat",))), [],
                           LettingContext(referrals=[clean_referral(1, eu_eea_ch_citizen=False)]), NOW)
    assert decision_for(r, 1).outcome == Outcome.REJECTED and follow_ups_for(r, 1) == []
    assert engine.redirected_referrals() == []


def test_explanation_names_the_rejection_and_its_follow_up(with_local):
    engine = LettingEngine(with_local)
    engine.next_offers(vacancy(dwelling(1, categories=SCHEME, municipality=101)), [on_benefits(1, date(2021, 6, 1))],
                       None, NOW)
    text = engine.explain(1, 1).verdict
    assert text.startswith("Applicant 1 was rejected by rule k0101.kombineret#listed_benefits")
    assert "Then entitled by rule k0101.kombineret#offer_elsewhere" in text
