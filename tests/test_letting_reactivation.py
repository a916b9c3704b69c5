"""Passive applicants made active again, the public channel allocation, and the § 59 stk. 6/7
redirected referral ranked first at the municipality's next referral dwelling (engine level)."""

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from letting_factories import NOW, applicant, decision_for, dwelling, follow_ups_for, history, member, vacancy

from boligmix.errors import LettingError
from boligmix.letting.engine import LettingContext, LettingEngine
from boligmix.letting.model import Channel, ListType, Outcome
from boligmix.letting.policy import POLICY_DIR, load_default_policies, load_policies

STATUTORY = load_default_policies(include_local_examples=False)
WITH_LOCAL = load_default_policies(include_local_examples=True)


def _refuse_until_passive(engine, people, first_dwelling=1):
    """Applicant 1 (oldest seniority) refuses three offers in a row and is set passive (the
    others' offers stay open)."""
    for j in range(3):
        r = engine.next_offers(vacancy(dwelling(first_dwelling + j, municipality=461)), people, None, NOW)
        mine = [o for o in r.offers if o.applicant_id == 1]
        assert mine, r.decisions
        update = engine.refuse(mine[0].offer_id, NOW)
    return update


# ---------------------------------------------------------------------------------------------
# Reactivation


def test_passive_applicant_reactivated_keeps_seniority_and_counts_refusals_from_zero():
    engine = LettingEngine(STATUTORY)
    people = [applicant(1, date(2005, 1, 1)), applicant(2, date(2010, 1, 1))]
    # Municipality 461 has the 1/4 rule: vacancy 4 goes to kommunal anvisning; use org scope ORG1.
    last = _refuse_until_passive(engine, people)
    assert [d.outcome for d in last.decisions if d.applicant_id == 1] == [Outcome.REFUSED, Outcome.PASSIVE]
    skipped = engine.next_offers(vacancy(dwelling(5, municipality=461)), people, None, NOW)
    assert decision_for(skipped, 1).outcome == Outcome.SKIPPED
    assert "passive" in decision_for(skipped, 1).reason
    for o in skipped.offers:
        engine.refuse(o.offer_id, NOW)

    decision = engine.reactivate(1, NOW + timedelta(days=1))
    assert decision.outcome == Outcome.REACTIVATED and decision.rule_id == "dk.venteliste#reactivation"
    assert decision.rule_version == STATUTORY.get("dk.venteliste").version
    assert decision.facts["refusals_before"] == 3 and decision.facts["reactivation_keeps_seniority"] is True
    assert decision.vacancy_id == "V3"                       # where the applicant was set passive
    with pytest.raises(LettingError, match="not set passive"):
        engine.reactivate(1, NOW)                            # active already
    again = engine.next_offers(vacancy(dwelling(6, municipality=461)), people, None, NOW + timedelta(days=1))
    offered = decision_for(again, 1)
    assert offered.outcome == Outcome.OFFERED and offered.rank == 1      # seniority 2005 kept: first
    assert offered.facts["seniority_date"] == "2005-01-01"
    update = engine.refuse(next(o for o in again.offers if o.applicant_id == 1).offer_id, NOW)
    assert Outcome.PASSIVE not in [d.outcome for d in update.decisions]  # one refusal after the reset


def test_reactivation_switches_new_seniority_and_no_reset(tmp_path):
    (tmp_path / "wl.yaml").write_text(
        "id: k0461.venteliste\nbase: dk.venteliste\nversion: '2024.1'\neffective_from: 2010-01-01\n"
        "scope: {municipality_codes: [461]}\n"
        "switches: {reactivation_keeps_seniority: false, reactivation_resets_refusals: false}\n", encoding="utf-8")
    engine = LettingEngine(load_policies([POLICY_DIR / "statutory", tmp_path]))
    people = [applicant(1, date(2005, 1, 1)), applicant(2, date(2010, 1, 1))]
    _refuse_until_passive(engine, people)
    later = NOW + timedelta(days=30)
    decision = engine.reactivate(1, later)
    assert decision.rule_id == "k0461.venteliste#reactivation"
    assert decision.facts["seniority_date"] == later.date().isoformat()
    r = engine.next_offers(vacancy(dwelling(6, municipality=461)), people, None, later)
    assert [o.applicant_id for o in r.offers] == [2, 1]     # new seniority: after applicant 2
    update = engine.refuse(next(o for o in r.offers if o.applicant_id == 1).offer_id, later)
    assert Outcome.PASSIVE in [d.outcome for d in update.decisions if d.applicant_id == 1]  # refusals kept: 4


def test_unknown_reactivation_switch_is_a_configuration_error(tmp_path):
    from boligmix.errors import ConfigurationError

    (tmp_path / "wl.yaml").write_text(
        "id: k0461.venteliste\nbase: dk.venteliste\nversion: '1'\neffective_from: 2010-01-01\n"
        "scope: {municipality_codes: [461]}\nswitches: {reactivation_keeps_seniority: 'sometimes'}\n",
        encoding="utf-8")
    with pytest.raises(ConfigurationError) as info:
        load_policies([POLICY_DIR / "statutory", tmp_path])
    assert "wl.yaml" in str(info.value) and "reactivation_keeps_seniority" in str(info.value)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(["round", "accept", "refuse", "reactivate", "expire"]),
                          st.integers(0, 5)), min_size=1, max_size=40))
def test_property_reactivation_never_lets_twice_and_passive_applicants_get_no_offers(ops):
    engine = LettingEngine(STATUTORY)
    people = [applicant(i, date(2000 + i, 1, 1)) for i in range(1, 5)]
    now = NOW
    next_dwelling = 1
    for kind, k in ops:
        now += timedelta(hours=1)
        open_offers = [o for o in engine.ledger.offers.values() if o.status.value == "open"]
        if kind == "round":
            d = dwelling(next_dwelling, municipality=461)
            next_dwelling += 1
            engine.next_offers(vacancy(d), people, None, now)
        elif kind in ("accept", "refuse") and open_offers:
            offer = open_offers[k % len(open_offers)]
            (engine.accept if kind == "accept" else engine.refuse)(offer.offer_id, now)
        elif kind == "reactivate" and engine.ledger.passive:
            engine.reactivate(sorted(engine.ledger.passive)[k % len(engine.ledger.passive)], now)
        elif kind == "expire":
            engine.expire(now + timedelta(days=8))
            now += timedelta(days=8)
    lettings = engine.lettings
    assert len({(x.dwelling_id, x.unit) for x in lettings}) == len(lettings)
    assert len({x.applicant_id for x in lettings}) == len(lettings)
    passive: set[int] = set()
    for d in engine.decisions:                       # in order: no offer while passive
        if d.outcome == Outcome.PASSIVE:
            passive.add(d.applicant_id)
        elif d.outcome == Outcome.REACTIVATED:
            assert d.applicant_id in passive
            passive.discard(d.applicant_id)
        elif d.outcome == Outcome.OFFERED:
            assert d.applicant_id not in passive
    assert passive == engine.ledger.passive


# ---------------------------------------------------------------------------------------------
# Channel allocation (public API)


def test_allocate_channel_gives_every_fourth_vacancy_to_the_municipality():
    engine = LettingEngine(STATUTORY)
    got = [engine.allocate_channel(vacancy(dwelling(i, municipality=461)), NOW) for i in range(1, 9)]
    assert [a.channel for a in got] == [Channel.WAITING_LIST] * 3 + [Channel.KOMMUNAL_ANVISNING] \
        + [Channel.WAITING_LIST] * 3 + [Channel.KOMMUNAL_ANVISNING]
    fourth = got[3].decision
    assert fourth.outcome == Outcome.CHANNEL and fourth.rule_id == "dk.almenboligloven.59#shares.kommunal_anvisning"
    assert fourth.facts == {"share": 0.25, "vacancies_seen": 4, "taken_before": 0, "entitled": 1,
                            "count_per": "organisation", "scope_key": "ORG1"}
    assert got[0].decision.rule_id == "dk.venteliste#default_channel"
    [counter] = engine.ledger.counters.values()
    assert counter.seen == 8 and counter.used == {Channel.KOMMUNAL_ANVISNING: 2}
    with pytest.raises(LettingError, match="already has the channel"):
        engine.allocate_channel(vacancy(dwelling(1, municipality=461)), NOW)
    # next_offers keeps the allocated channel and records no second channel decision
    r = engine.next_offers(vacancy(dwelling(4, municipality=461)), [], LettingContext(), NOW)
    assert r.channel == Channel.WAITING_LIST            # no referral: released to the waiting list
    channel_decisions = [d for d in engine.decisions if d.vacancy_id == "V4" and d.outcome == Outcome.CHANNEL]
    assert [d.rule_id for d in channel_decisions] == ["dk.almenboligloven.59#shares.kommunal_anvisning",
                                                      "dk.almenboligloven.59#unused_referral"]


def test_allocate_channel_counts_per_scope_and_not_outside_family_dwellings():
    engine = LettingEngine(STATUTORY)
    org2 = [engine.allocate_channel(vacancy(dwelling(i, org_id="ORG2", municipality=461)), NOW).channel
            for i in range(1, 4)]
    youth = engine.allocate_channel(vacancy(dwelling(10, municipality=461, almen_type="youth")), NOW)
    org1 = [engine.allocate_channel(vacancy(dwelling(i, municipality=461)), NOW).channel for i in range(20, 24)]
    assert org2 == [Channel.WAITING_LIST] * 3 and youth.channel == Channel.WAITING_LIST
    assert org1 == [Channel.WAITING_LIST] * 3 + [Channel.KOMMUNAL_ANVISNING]  # ORG1 counts its own four
    assert youth.decision.facts == {}                          # no share policy for youth dwellings


# ---------------------------------------------------------------------------------------------
# § 59 stk. 6/7: the redirected referral ranks first


def referral(aid: int, seniority: date, **over):
    facts = dict(eu_eea_ch_citizen=True, enrolled_student=False, released_after_sentence_on=False,
                 lease_terminated_for_breach_on=False, released_from_youth_institution_after_sentence=False)
    facts.update(over)
    return applicant(aid, seniority, list_type=ListType.MUNICIPAL_REFERRAL,
                     members=(member(aid * 10, benefits=history(), **facts),))


def test_redirected_referral_ranks_before_older_referrals_at_the_next_dwelling():
    engine = LettingEngine(WITH_LOCAL)                   # municipality 183: 100 % anvisning
    barred = referral(1, date(2023, 1, 1), eu_eea_ch_citizen=False)
    senior = referral(2, date(2010, 1, 1))
    r = engine.next_offers(vacancy(dwelling(1, municipality=183, categories=("forebyggelse",))), [],
                           LettingContext(referrals=[barred]), NOW)
    [redirect] = follow_ups_for(r, 1)
    assert redirect.rule_id == "dk.almenboligloven.59.stk7#redirect"   # § 59 stk. 7 (forebyggelse) bars nr. 4 too
    outside = engine.next_offers(vacancy(dwelling(2, municipality=183)), [],
                                 LettingContext(referrals=[senior, barred]), NOW)
    assert [o.applicant_id for o in outside.offers] == [1, 2]      # despite 2's older seniority
    first = decision_for(outside, 1)
    assert "dk.almenboligloven.59.redirect#redirected_referral" in first.facts["priorities_met"]
    assert first.facts["redirect_decision"] == redirect.decision_id
    assert first.facts["redirected_from_vacancy"] == "V1"
    assert first.facts["redirect_bar"].startswith("dk.almenboligloven.59.stk7#")
    assert "priority_right.redirected_referral" in first.facts
    assert decision_for(outside, 2).facts["priorities_met"] == []
    text = engine.explain(1, 2).verdict
    assert "redirected referral" in text and "dk.almenboligloven.59.redirect#redirected_referral" in text


def test_redirect_priority_only_in_the_same_municipality_and_only_for_referrals():
    engine = LettingEngine(WITH_LOCAL)
    barred = referral(1, date(2023, 1, 1), eu_eea_ch_citizen=False)
    engine.next_offers(vacancy(dwelling(1, municipality=183, categories=("udsat",))), [],
                       LettingContext(referrals=[barred]), NOW)
    a = engine.assess(vacancy(dwelling(2, municipality=183)), barred, Channel.KOMMUNAL_ANVISNING, NOW)
    b = engine.assess(vacancy(dwelling(3, municipality=101)), barred, Channel.KOMMUNAL_ANVISNING, NOW)
    assert "dk.almenboligloven.59.redirect#redirected_referral" in a.priorities_met
    assert "dk.almenboligloven.59.redirect#redirected_referral" not in b.priorities_met


CATEGORIES = st.sampled_from([(), ("udsat",), ("forebyggelse",), ("omdannelse",)])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(CATEGORIES, st.booleans(), st.integers(0, 4000)), min_size=1, max_size=10),
       st.randoms(use_true_random=False))
def test_property_a_barred_referral_is_never_let_in_a_barred_area(plan, rnd):
    """Barred referrals (not EU/EEA citizens: § 59 stk. 6 nr. 4 and stk. 7) are redirected, never
    let in an udsat area or forebyggelsesområde, and are let before any referral listed after the
    redirect at the first dwelling outside such areas."""
    engine = LettingEngine(WITH_LOCAL)
    barred_ids: set[int] = set()
    for j, (categories, barred, days) in enumerate(plan, start=1):
        ref = referral(100 + j, date(2010, 1, 1) + timedelta(days=days), eu_eea_ch_citizen=not barred)
        if barred:
            barred_ids.add(ref.applicant_id)
        pending = {x.applicant.applicant_id for x in engine.redirected_referrals(183)}
        r = engine.next_offers(vacancy(dwelling(j, municipality=183, categories=categories)), [],
                               LettingContext(referrals=[ref]), NOW)
        if r.offers:
            if not categories and pending:
                assert r.offers[0].applicant_id in pending     # a redirected referral ranks first
            offer = r.offers[rnd.randrange(len(r.offers))]
            engine.accept(offer.offer_id, NOW)
            for other in r.offers:
                if other.offer_id != offer.offer_id and engine.ledger.offers[other.offer_id].status.value == "open":
                    engine.refuse(other.offer_id, NOW)
    by_dwelling = {j: categories for j, (categories, _, _) in enumerate(plan, start=1)}
    for letting in engine.lettings:
        if letting.applicant_id in barred_ids:
            assert by_dwelling[letting.dwelling_id] == ()
    redirected = [d.applicant_id for d in engine.decisions if d.outcome == Outcome.REDIRECTED]
    assert len(redirected) == len(set(redirected)) and set(redirected) <= barred_ids
