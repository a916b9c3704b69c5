"""Follow-ups of rejections, hand-written from the law (rules-spec 6.1, 6.3):

* § 51 b: an applicant registered before kombineret udlejning was introduced in the area and
  rejected by it is entitled to an offer of the organisation's dwellings outside the area;
* § 59, stk. 6: a referral barred from an udsat area must be referred elsewhere; the engine
  records it as redirected and carries it to the municipality's next referral dwelling.

Municipality 101's example agreement introduces kombineret udlejning on 2022-01-01.
"""

from datetime import date

import pytest
from letting_factories import (
    NOW,
    applicant,
    decision_for,
    dwelling,
    follow_ups_for,
    history,
    member,
    organisation_offer_policies,
    vacancy,
)

from boligmix.errors import ConfigurationError
from boligmix.letting.decision_log import read_decision_log, write_decision_log
from boligmix.letting.engine import ENTITLEMENT_RIGHT, LettingContext, LettingEngine, plan_offers
from boligmix.letting.model import Channel, ListType, Outcome
from boligmix.letting.policy import POLICY_DIR, load_policies

KH_6 = ("kontanthjaelp", date(2023, 12, 1), date(2024, 5, 1))
SCHEME = ("kombineret_udlejning",)


@pytest.fixture(scope="module")
def with_local():
    return organisation_offer_policies()


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
        "switches: {scheme_introduced_on: '2019-03-01', entitlement_ends: on_letting, offer_elsewhere_by: organisation}\n", encoding="utf-8")
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
        "id: local.stk6\nbase: dk.almenboligloven.59.stk6@2018-12-01.3\nversion: '1'\neffective_from: 2019-01-01\n"
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


# ---------------------------------------------------------------------------------------------
# Properties (Hypothesis)

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_POLICIES = organisation_offer_policies()
_INTRODUCED = date(2022, 1, 1)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(-900, 900), st.booleans(), st.booleans()), min_size=1, max_size=8))
def test_property_entitled_exactly_when_rejected_prior_registrant_and_ranked_first_outside(people):
    apps = []
    for i, (days, on_kh, unknown) in enumerate(people, start=1):
        seniority = _INTRODUCED + __import__("datetime").timedelta(days=days)
        benefits = None if unknown else history(KH_6) if on_kh else history()
        apps.append(applicant(i, seniority, members=(member(i * 10, benefits=benefits),)))
    engine = LettingEngine(_POLICIES)
    inside = engine.next_offers(vacancy(dwelling(1, categories=SCHEME, municipality=101)), apps, None, NOW)
    rejected = {d.applicant_id for d in inside.decisions
                if d.outcome == Outcome.REJECTED and d.rule_id.startswith("k0101.kombineret#")}
    entitled = {d.applicant_id for d in inside.decisions if d.outcome == Outcome.ENTITLED}
    assert entitled == {a.applicant_id for a in apps if a.applicant_id in rejected and a.seniority_date < _INTRODUCED}
    assert rejected == {a.applicant_id for a, (_, on_kh, unknown) in zip(apps, people) if on_kh and not unknown}
    outside = engine.next_offers(vacancy(dwelling(2, municipality=101)), apps, None, NOW)
    ranks = {d.applicant_id: d.rank for d in outside.decisions if d.rank is not None
             and d.outcome in (Outcome.OFFERED, Outcome.SKIPPED)}
    ranked_entitled = [r for a, r in ranks.items() if a in entitled]
    ranked_other = [r for a, r in ranks.items() if a not in entitled]
    if ranked_entitled and ranked_other:
        assert max(ranked_entitled) < min(ranked_other)
    assert {a for a in entitled if ranks.get(a) is not None} == entitled   # eligible outside: all ranked


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.booleans(), st.booleans()), min_size=2, max_size=10))
def test_property_barred_referrals_are_redirected_once_and_reach_the_next_unrestricted_round(plan):
    engine = LettingEngine(_POLICIES)          # municipality 183: every vacancy is referred
    pending: set[int] = set()
    for j, (udsat, barred) in enumerate(plan, start=1):
        ref = clean_referral(100 + j, eu_eea_ch_citizen=not barred)
        r = engine.next_offers(vacancy(dwelling(j, municipality=183, categories=("udsat",) if udsat else ())), [],
                               LettingContext(referrals=[ref]), NOW)
        considered = {d.applicant_id for d in r.decisions if d.applicant_id is not None}
        redirected = {d.applicant_id for d in r.decisions if d.outcome == Outcome.REDIRECTED}
        if not udsat:
            assert pending <= considered           # carried forward to an unrestricted dwelling
            assert redirected == set()
        else:
            assert redirected == ({ref.applicant_id} if barred else set())
        pending |= redirected
        if r.offers:                               # the best-ranked referral accepts
            update = engine.accept(r.offers[0].offer_id, NOW)
            pending -= {l.applicant_id for l in update.lettings}
        assert {x.applicant.applicant_id for x in engine.redirected_referrals(183)} == pending
    redirects = [d.applicant_id for d in engine.decisions if d.outcome == Outcome.REDIRECTED]
    assert len(redirects) == len(set(redirects))
