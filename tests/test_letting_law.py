"""The statute's exact conditions (rules-spec 6.6), each at its boundary, computed by hand.

Assessment time NOW = 15 June 2024 10:00 unless a test says otherwise: the assessment month is
June 2024, "the month before" May 2024, "6 consecutive months" December 2023 - May 2024, and
"within the last 6 months" means on or after 15 December 2023 (`months_before`).
"""

from __future__ import annotations

from datetime import date, datetime

import pytest
from letting_factories import NOW, applicant, decision_for, dwelling, follow_ups_for, history, member, vacancy

from boligmix.letting.engine import LettingContext, LettingEngine
from boligmix.letting.model import Channel, ListType, MemberRole, Outcome
from boligmix.letting.policy import POLICY_DIR, load_default_policies, load_policies

OMDANNELSE = ("udsat", "parallelsamfund", "omdannelse")
SCHEME = ("kombineret_udlejning",)


@pytest.fixture(scope="module")
def statutory():
    return load_default_policies()


@pytest.fixture(scope="module")
def with_local():
    return load_default_policies(include_local_examples=True)


def one(policies, d, applicants=(), context=None, now=NOW, aid=1):
    return decision_for(LettingEngine(policies).next_offers(vacancy(d), list(applicants), context, now), aid)


def couple(aid: int, head_spells, partner_spells, known_to=date(2024, 6, 1)):
    head = member(aid * 10, benefits=history(*head_spells, known_to=known_to))
    spouse = member(aid * 10 + 1, MemberRole.SPOUSE, benefits=history(*partner_spells, known_to=known_to))
    return applicant(aid, members=(head, spouse))


def clean(pid: int, role=MemberRole.APPLICANT, *, birth=date(1985, 3, 1), benefits=None, **over):
    facts = dict(eu_eea_ch_citizen=True, enrolled_student=False, released_after_sentence_on=False,
                 lease_terminated_for_breach_on=False, released_from_youth_institution_on=False)
    facts.update(over)
    return member(pid, role, birth=birth, benefits=benefits if benefits is not None else history(), **facts)


def referral(aid: int, *members):
    return applicant(aid, list_type=ListType.MUNICIPAL_REFERRAL, members=tuple(members))


def local(tmp_path, name: str, text: str):
    (tmp_path / name).write_text(text, encoding="utf-8")
    return load_policies([POLICY_DIR / "statutory", tmp_path])


# ---------------------------------------------------------------------------------------------
# 1. § 51 c: "modtager" = currently receives; no 6-month condition


KH = "kontanthjaelp"


@pytest.mark.parametrize("head, partner, outcome", [
    ([(KH, date(2024, 6, 1), date(2024, 6, 1))], [(KH, date(2024, 6, 1), date(2024, 6, 1))], Outcome.REJECTED),
    # one month each, different listed benefits: still both receive one now
    ([(KH, date(2024, 6, 1), date(2024, 6, 1))], [("uddannelseshjaelp", date(2024, 6, 1), date(2024, 6, 1))],
     Outcome.REJECTED),
    # 6 consecutive months that ended in May: not receiving now (June covered, none)
    ([(KH, date(2023, 12, 1), date(2024, 5, 1))], [(KH, date(2023, 12, 1), date(2024, 5, 1))], Outcome.OFFERED),
    # the partner stopped in May
    ([(KH, date(2024, 1, 1), date(2024, 6, 1))], [(KH, date(2024, 1, 1), date(2024, 5, 1))], Outcome.OFFERED),
])
def test_51c_rejects_on_current_receipt_only(statutory, head, partner, outcome):
    d = one(statutory, dwelling(1, categories=OMDANNELSE), [couple(1, head, partner)])
    assert d.outcome == outcome
    if outcome == Outcome.REJECTED:
        assert (d.rule_id, d.rule_version, d.law) == ("dk.almenboligloven.51c#listed_benefits", "2019-07-01.2", "§ 51 c")
        assert d.facts["listed_benefits_now"] is True


def test_51c_receipt_month_switch_reads_the_month_before(tmp_path):
    policies = local(tmp_path, "c.yaml", "id: t.51c\nbase: dk.almenboligloven.51c\nversion: '1'\n"
                     "effective_from: 2019-07-01\nscope: {municipality_codes: [461], area_categories: [omdannelse]}\n"
                     "switches: {receipt_month: previous_month}\n")
    may = couple(1, [(KH, date(2024, 5, 1), date(2024, 5, 1))], [(KH, date(2024, 5, 1), date(2024, 5, 1))])
    june = couple(2, [(KH, date(2024, 6, 1), date(2024, 6, 1))], [(KH, date(2024, 6, 1), date(2024, 6, 1))])
    assert one(policies, dwelling(1, categories=OMDANNELSE), [may]).outcome == Outcome.REJECTED
    assert one(policies, dwelling(1, categories=OMDANNELSE), [june], aid=2).outcome == Outcome.OFFERED


# ---------------------------------------------------------------------------------------------
# 2. § 59, stk. 6, nr. 2: under 18 and released from a youth institution within 6 months


@pytest.mark.parametrize("released, child_birth, outcome", [
    (date(2023, 12, 15), date(2010, 1, 1), Outcome.REJECTED),     # 15 Dec 2023: exactly 6 months before
    (date(2023, 12, 14), date(2010, 1, 1), Outcome.OFFERED),      # one day earlier: outside the window
    (date(2024, 6, 15), date(2010, 1, 1), Outcome.REJECTED),      # released today
    (date(2024, 3, 1), date(2006, 6, 16), Outcome.REJECTED),      # 17 on 15 June 2024
    (date(2024, 3, 1), date(2006, 6, 15), Outcome.OFFERED),       # 18 on 15 June 2024: not under 18
    (False, date(2010, 1, 1), Outcome.OFFERED),                   # never
])
def test_59_stk6_nr2_six_month_window(with_local, released, child_birth, outcome):
    child = clean(12, MemberRole.CHILD, birth=child_birth, released_from_youth_institution_on=released)
    d = one(with_local, dwelling(1, rooms=2, municipality=183, categories=("udsat",)), (),
            LettingContext(referrals=[referral(1, clean(10), child)]))
    assert d.outcome == outcome
    if outcome == Outcome.REJECTED:
        assert d.rule_id == "dk.almenboligloven.59.stk6#nr2" and d.rule_version == "2018-12-01.3"
        assert d.law == "§ 59, stk. 6, nr. 2"


def test_59_stk7_nr2_same_window_in_forebyggelse(with_local):
    def case(released):
        child = clean(12, MemberRole.CHILD, birth=date(2010, 1, 1), released_from_youth_institution_on=released)
        return one(with_local, dwelling(1, rooms=2, municipality=183, categories=("forebyggelse",)), (),
                   LettingContext(referrals=[referral(1, clean(10), child)]))
    assert case(date(2023, 12, 15)).rule_id == "dk.almenboligloven.59.stk7#nr2"
    assert case(date(2023, 12, 14)).outcome == Outcome.OFFERED


def test_59_stk6_nr2_stored_yes_no_fact_is_never_or_unknown(with_local):
    """Households stored before the date fact: False still means never; True lacks the date."""
    def case(flag):
        child = member(12, MemberRole.CHILD, birth=date(2010, 1, 1), benefits=history(), eu_eea_ch_citizen=True,
                       enrolled_student=False, released_after_sentence_on=False, lease_terminated_for_breach_on=False,
                       released_from_youth_institution_after_sentence=flag)
        return one(with_local, dwelling(1, rooms=2, municipality=183, categories=("udsat",)), (),
                   LettingContext(referrals=[referral(1, clean(10), child)]))
    assert case(False).outcome == Outcome.OFFERED
    held = case(True)
    assert held.outcome == Outcome.SKIPPED and held.unknown_facts == ("nr2_youth_institution_6m",)


# ---------------------------------------------------------------------------------------------
# 3. § 51 b: applicant and partner may receive benefits of different groups


KH_6 = (KH, date(2023, 12, 1), date(2024, 5, 1))
KH_5 = (KH, date(2024, 1, 1), date(2024, 5, 1))
FP = ("foertidspension", date(2024, 5, 1), date(2024, 6, 1))      # receives it (May, the month before)


@pytest.mark.parametrize("head, partner, outcome", [
    ([KH_6], [FP], Outcome.REJECTED),        # kontanthjælp 6 months + førtidspension: covered together
    ([FP], [KH_6], Outcome.REJECTED),
    ([FP], [FP], Outcome.REJECTED),
    ([KH_5], [FP], Outcome.OFFERED),         # the applicant's kontanthjælp is one month short
    ([KH_6], [], Outcome.OFFERED),           # the partner receives nothing
])
def test_51b_mixed_couples_with_foertidspension_enabled(with_local, head, partner, outcome):
    d = one(with_local, dwelling(1, categories=SCHEME, municipality=101), [couple(1, head, partner)])
    assert d.outcome == outcome
    if outcome == Outcome.REJECTED:
        assert d.rule_id == "k0101.kombineret#listed_benefits" and d.law == "§ 51 b, stk. 1"


def test_51b_mixed_couple_not_covered_when_the_optional_group_is_off(tmp_path):
    policies = local(tmp_path, "k.yaml", "id: t.51b\nbase: dk.almenboligloven.51b\nversion: '1'\nenabled: true\n"
                     "effective_from: 2015-01-01\nscope: {municipality_codes: [461], "
                     "area_categories: [kombineret_udlejning]}\n")
    assert one(policies, dwelling(1, categories=SCHEME), [couple(1, [KH_6], [FP])]).outcome == Outcome.OFFERED
    assert one(policies, dwelling(1, categories=SCHEME), [couple(1, [KH_6], [KH_6])]).outcome == Outcome.REJECTED


# ---------------------------------------------------------------------------------------------
# 4. Ressourceforløbsydelse: only under jobafklaringsforløb


def sickness_policies(tmp_path):
    return local(tmp_path, "k.yaml", "id: t.51b\nbase: dk.almenboligloven.51b\nversion: '1'\nenabled: true\n"
                 "effective_from: 2015-01-01\nscope: {municipality_codes: [461], "
                 "area_categories: [kombineret_udlejning]}\nswitches: {include_unemployment_sickness: true}\n")


@pytest.mark.parametrize("benefit, outcome", [
    ("ressourceforloebsydelse_jobafklaring", Outcome.REJECTED),
    ("ressourceforloebsydelse", Outcome.OFFERED),
])
def test_51b_ressourceforloebsydelse_only_under_jobafklaring(tmp_path, benefit, outcome):
    spell = (benefit, date(2023, 12, 1), date(2024, 5, 1))
    assert one(sickness_policies(tmp_path), dwelling(1, categories=SCHEME), [couple(1, [spell], [spell])]).outcome \
        == outcome


@pytest.mark.parametrize("benefit, first, outcome", [
    ("ressourceforloebsydelse_jobafklaring", date(2023, 12, 1), Outcome.REJECTED),
    ("ressourceforloebsydelse_jobafklaring", date(2024, 1, 1), Outcome.OFFERED),    # 5 months
    ("ressourceforloebsydelse", date(2023, 1, 1), Outcome.OFFERED),
])
def test_59_stk6_nr7_ressourceforloebsydelse_only_under_jobafklaring(with_local, benefit, first, outcome):
    person = clean(10, benefits=history((benefit, first, date(2024, 5, 1))))
    d = one(with_local, dwelling(1, municipality=183, categories=("udsat",)), (), LettingContext(referrals=[referral(1, person)]))
    assert d.outcome == outcome
    if outcome == Outcome.REJECTED:
        assert d.rule_id == "dk.almenboligloven.59.stk6#nr7"


# ---------------------------------------------------------------------------------------------
# 5. The 2010 referral bars start 1 January 2011 (UNCONFIRMED date; not before 22 December 2010)


@pytest.mark.parametrize("when, outcome", [
    (datetime(2010, 7, 1, 10), Outcome.OFFERED),     # the old start date: no law yet
    (datetime(2010, 12, 31, 10), Outcome.OFFERED),
    (datetime(2011, 1, 1, 10), Outcome.REJECTED),
])
def test_2010_bars_start_on_1_january_2011(with_local, when, outcome):
    foreign = clean(10, eu_eea_ch_citizen=False)
    ghetto = dwelling(1, municipality=183, categories=("udsat", "parallelsamfund"))
    d = one(with_local, ghetto, (), LettingContext(referrals=[referral(1, foreign)]), now=when)
    assert d.outcome == outcome
    if outcome == Outcome.REJECTED:
        assert (d.rule_id, d.rule_version) == ("dk.almenboligloven.59.stk6#nr4", "2011-01-01.1")


# ---------------------------------------------------------------------------------------------
# 9. § 51 b prior registrants: the offer elsewhere comes from the municipality (default)


def test_51b_prior_registrant_is_offered_elsewhere_by_the_municipality(with_local):
    engine = LettingEngine(with_local)
    entitled = applicant(1, date(2021, 6, 1), benefits=history(KH_6))
    r = engine.next_offers(vacancy(dwelling(1, categories=SCHEME, municipality=101)), [entitled], None, NOW)
    [ent] = follow_ups_for(r, 1)
    assert ent.outcome == Outcome.ENTITLED and ent.facts["offer_elsewhere_by"] == "municipality"
    assert "from municipality 101" in ent.reason
    # no waiting-list priority at the organisation's dwellings outside the area
    senior = [applicant(10 + i, date(2000, 1, 1)) for i in range(3)]
    outside = engine.next_offers(vacancy(dwelling(2, municipality=101)), [*senior, entitled], None, NOW)
    assert [o.applicant_id for o in outside.offers] == [10, 11, 12]
    assert [e.applicant_id for e in engine.entitlements()] == [1]
    # the municipality refers the household to a dwelling in another area: that offer uses it up
    as_referral = applicant(1, date(2021, 6, 1), list_type=ListType.MUNICIPAL_REFERRAL,
                            members=(clean(10, benefits=history(KH_6)),))
    other_org = dwelling(3, municipality=101, org_id="ORG2", department_id="ORG2-1", area_id="B1")
    v = vacancy(other_org)
    engine.ledger.vacancy_channel[v.vacancy_id] = Channel.KOMMUNAL_ANVISNING
    referred = engine.next_offers(v, [], LettingContext(referrals=[as_referral]), NOW)
    assert [o.applicant_id for o in referred.offers] == [1]
    assert engine.entitlements() == []
    assert engine.ledger.entitlements[1].fulfilled_by == referred.offers[0].offer_id


# ---------------------------------------------------------------------------------------------
# 6. Offentlig annoncering: lots among qualifying respondents (BEK 977/2024 § 38), seeded and
#    replayable; letting outside an exhausted list is § 51, stk. 5


def advert_policies(tmp_path, extra: str = ""):
    return local(tmp_path, "a.yaml", "id: t.annoncering\nbase: dk.almenboligloven.60a\nversion: '1'\n"
                 "effective_from: 2020-01-01\nenabled: true\nscope: {municipality_codes: [461]}\n" + extra)


def advert_round(policies, respondents, rng=None, categories=()):
    too_big = applicant(1, date(2010, 1, 1), min_rooms=4)      # the waiting list is exhausted
    engine = LettingEngine(policies, lottery_rng=rng)
    return engine.next_offers(vacancy(dwelling(1, rooms=2, categories=categories)), [too_big],
                              LettingContext(advert_respondents=respondents), NOW)


def respondents(n=6, **kw):
    # responded in id order: 101 first
    return [applicant(100 + i, date(2024, 6, 1 + i), list_type=ListType.ADVERT_RESPONSE, **kw) for i in range(1, n + 1)]


def sha_order(seed: str, ids):
    """The documented draw, computed independently: order by sha256("<seed>:<id>")."""
    import hashlib
    return sorted(ids, key=lambda i: hashlib.sha256(f"{seed}:{i}".encode()).hexdigest())


def test_lots_are_drawn_among_respondents_with_the_injected_seed(tmp_path):
    import random

    people = respondents()
    ids = [a.applicant_id for a in people]
    r = advert_round(advert_policies(tmp_path), people, rng=random.Random(7))
    seed = str(random.Random(7).getrandbits(62))
    expected = sha_order(seed, ids)
    assert expected != ids                                   # not the order of response
    ranked = sorted((d for d in r.decisions if d.rank), key=lambda d: d.rank)
    assert [d.applicant_id for d in ranked] == expected
    assert [o.applicant_id for o in r.offers] == expected[:3]
    assert {d.facts["lottery_seed"] for d in ranked} == {seed}
    assert all(d.facts["lottery_law"] == "bek. nr. 977 af 21/08/2024 § 38" for d in ranked)
    channel = next(d for d in r.decisions if d.outcome == Outcome.CHANNEL and d.channel == Channel.ANNONCERING)
    assert "§ 51, stk. 5" in channel.law and "§ 60 a" in channel.law


def test_the_draw_replays_from_the_audit_trail(tmp_path):
    import random
    from dataclasses import replace

    from boligmix.letting.lottery import replay_lottery

    r = advert_round(advert_policies(tmp_path), respondents(), rng=random.Random(11))
    assert replay_lottery(r.decisions, r.round_id) == []
    again = advert_round(advert_policies(tmp_path), respondents(), rng=random.Random(11))
    assert [o.applicant_id for o in again.offers] == [o.applicant_id for o in r.offers]
    first = next(d for d in r.decisions if d.rank == 1)
    forged = [replace(d, rank=2) if d is first else replace(d, rank=1) if d.rank == 2 else d for d in r.decisions]
    assert replay_lottery(forged, r.round_id)                # swapped ranks are found
    # without a generator the seed is derived from the round id (reproducible, recorded)
    derived = advert_round(advert_policies(tmp_path), respondents())
    assert next(d for d in derived.decisions if d.rank == 1).facts["lottery_seed"] == "derived:V1/r1"
    assert replay_lottery(derived.decisions, derived.round_id) == []


def test_priorities_come_before_lots_and_first_come_is_a_switch(tmp_path):
    import random

    people = respondents(4, facts={"household.employed_or_in_education": False})
    worker = applicant(120, date(2024, 6, 30), list_type=ListType.ADVERT_RESPONSE,
                       facts={"household.employed_or_in_education": True})
    r = advert_round(advert_policies(tmp_path), [*people, worker], rng=random.Random(3), categories=("udsat",))
    assert r.offers[0].applicant_id == 120           # obligatory fleksibel criteria (they cover annoncering)
    first_come = advert_round(advert_policies(tmp_path, "switches: {selection: first_come}\n"), respondents())
    assert [o.applicant_id for o in first_come.offers] == [101, 102, 103]
    assert all("lottery_seed" not in d.facts for d in first_come.decisions)


# ---------------------------------------------------------------------------------------------
# 7. § 60 b: reviewed within 4 years; lapses only when the agreement ends or covers <= 50 %


AGREEMENT = """id: k0461.fleks
tool: fleksibel_udlejning
slot: fleksibel_frivillig
version: "2023-01-01.1"
law: almenboligloven § 60, stk. 1
effective_from: 2023-01-01
%s
scope: {municipality_codes: [461], org_ids: [A, B]}
channels: [fleksibel]
shares: {fleksibel: 1.0}
input_facts: {applicant.in_education: enrolled}
priorities:
  - {id: criteria, rank: 5, on_unknown: no_priority,
     condition: {compare: {field: applicant.in_education, op: "==", value: true}}}
"""


def imposition_case(tmp_path, end: str = ""):
    from boligmix.letting.imposition import assess_imposition, impose

    policies = local(tmp_path, "agreement.yaml", AGREEMENT % end)
    agreement = policies.get("k0461.fleks")
    verdict = assess_imposition(agreement, {"A": 300, "B": 210, "C": 490}, 461, date(2024, 3, 1))
    return policies, agreement, impose(agreement, verdict)


def channel_for_c(policies, when):
    c_dwelling = dwelling(1, org_id="C", department_id="C-1")
    student = applicant(1, org_id="C", facts={"applicant.in_education": True})
    return LettingEngine(policies).next_offers(vacancy(c_dwelling), [student], None, when).channel


def test_60b_imposition_does_not_lapse_at_the_review_date(tmp_path):
    from boligmix.letting.imposition import with_imposition

    policies, _, imposed = imposition_case(tmp_path)
    assert imposed.spec.effective_to is None
    combined = with_imposition(policies, imposed)
    assert channel_for_c(combined, datetime(2028, 2, 29, 10)) == Channel.FLEKSIBEL
    assert channel_for_c(combined, datetime(2028, 3, 1, 10)) == Channel.FLEKSIBEL     # review date
    assert channel_for_c(combined, datetime(2031, 1, 1, 10)) == Channel.FLEKSIBEL


@pytest.mark.parametrize("counts, lapsed", [
    ({"A": 300, "B": 201, "C": 499}, False),     # 501/1000 > 50 %
    ({"A": 300, "B": 200, "C": 500}, True),      # exactly 50 %: no longer more than half
    ({"A": 300, "B": 210, "C": 1000}, True),     # C built more dwellings: 510/1510
])
def test_60b_recheck_when_the_counts_change(tmp_path, counts, lapsed):
    from boligmix.letting.imposition import review_imposition, with_imposition

    policies, agreement, imposed = imposition_case(tmp_path)
    review = review_imposition(agreement, imposed, counts, 461, date(2026, 5, 1))
    assert review.lapsed is lapsed
    combined = with_imposition(policies, review.policy)
    assert channel_for_c(combined, datetime(2026, 4, 30, 10)) == Channel.FLEKSIBEL
    assert channel_for_c(combined, datetime(2026, 5, 1, 10)) == (Channel.WAITING_LIST if lapsed else Channel.FLEKSIBEL)


def test_60b_imposition_ends_with_the_joint_agreement(tmp_path):
    from boligmix.letting.imposition import review_imposition

    _, agreement, imposed = imposition_case(tmp_path, "effective_to: 2026-01-01")
    assert imposed.spec.effective_to == date(2026, 1, 1)
    review = review_imposition(agreement, imposed, {"A": 300, "B": 210, "C": 490}, 461, date(2026, 2, 1))
    assert review.lapsed and "ended on 2026-01-01" in review.reason


# ---------------------------------------------------------------------------------------------
# 10. Udslusningsboliger (§ 63): the municipality's channel, outside obligatory fleksibel udlejning


def udslusningsbolig(categories=("udsat",)):
    from dataclasses import replace
    return replace(dwelling(1, rooms=2, categories=categories), udslusningsbolig=True)


def test_udslusningsbolig_goes_to_the_municipality_outside_fleksibel_criteria(statutory):
    idle = applicant(1, date(2010, 1, 1), list_type=ListType.MUNICIPAL_REFERRAL, members=(clean(10),),
                     facts={"household.employed_or_in_education": False})
    worker = applicant(2, date(2020, 1, 1), list_type=ListType.MUNICIPAL_REFERRAL, members=(clean(20),),
                       facts={"household.employed_or_in_education": True})
    waiting = applicant(3, date(2000, 1, 1), facts={"household.employed_or_in_education": True})
    r = LettingEngine(statutory).next_offers(vacancy(udslusningsbolig()), [waiting],
                                             LettingContext(referrals=[worker, idle]), NOW)
    assert r.channel == Channel.UDSLUSNING
    channel = next(d for d in r.decisions if d.outcome == Outcome.CHANNEL)
    assert channel.rule_id == "dk.almenboligloven.63#udslusningsbolig" and channel.law == "almenboligloven § 63"
    # ranked by seniority alone: the obligatory fleksibel criteria (§ 60, stk. 4) do not apply
    assert [o.applicant_id for o in r.offers] == [1, 2]
    assert all("fleksibel" not in str(d.facts.get("priorities_met")) for d in r.decisions if d.rank)
    assert all(d.applicant_id != 3 for d in r.decisions)     # the waiting list has no part in it
    # the same dwelling as an ordinary referral dwelling in the udsat area: criteria first
    plain = LettingEngine(statutory).next_offers(vacancy(dwelling(1, rooms=2, categories=("udsat",))),
                                                 [waiting, applicant(4, date(2001, 1, 1))], None, NOW)
    assert plain.channel == Channel.WAITING_LIST and plain.offers[0].applicant_id == 3


def test_unused_udslusningsbolig_stays_with_the_municipality(statutory):
    r = LettingEngine(statutory).next_offers(vacancy(udslusningsbolig(())), [applicant(3)], LettingContext(), NOW)
    assert r.channel == Channel.UDSLUSNING and r.offers == ()


def test_stateless_round_for_an_udslusningsbolig(statutory):
    from boligmix.letting.engine import plan_offers

    r = plan_offers(statutory, vacancy(udslusningsbolig()), [referral(1, clean(10))], Channel.UDSLUSNING, NOW)
    assert r.channel == Channel.UDSLUSNING and [o.applicant_id for o in r.offers] == [1]


# ---------------------------------------------------------------------------------------------
# The new policy-file features are checked when the files are loaded


@pytest.mark.parametrize("derived, field", [
    ("{kind: benefit_months, who: applicant, groups: [{benefits: [kontanthjaelp], months: 6, enabled_by: nope}]}",
     "groups[0].enabled_by"),
    ("{kind: benefit_months, who: applicant, months: 1, benefits: [kontanthjaelp], window_end_switch: nope}",
     "window_end_switch"),
    ("{kind: benefit_months, who: applicant, groups: [{benefits: [salary], months: 6}]}", "derived_facts"),
    ("{kind: member_condition, who: any_member, condition: {compare: {field: member.age, op: '<', value: 18}}, "
     "where: {compare: {field: member.age, op: '<', value: 18}}}", "derived_facts"),
])
def test_bad_derived_facts_are_configuration_errors(tmp_path, derived, field):
    from boligmix.errors import ConfigurationError

    (tmp_path / "p.yaml").write_text(
        "id: t.bad\ntool: omdannelse_afvisning\nversion: '1'\neffective_from: 2020-01-01\n"
        f"derived_facts:\n  x: {derived}\n"
        "rejections:\n  - {id: r, condition: {compare: {field: x, op: '==', value: true}}, on_unknown: hold}\n",
        encoding="utf-8")
    with pytest.raises(ConfigurationError) as err:
        load_policies([tmp_path])
    assert field in str(err.value)


# ---------------------------------------------------------------------------------------------
# § 59, stk. 6, nr. 6 "modtager førtidspension": the assessment month, as § 51 c (switch receipt_month)

PENSION = "foertidspension"


def _nr6(policies, spells, known_to=date(2024, 6, 1)):
    head = clean(10, benefits=history(*spells, known_to=known_to))
    return one(policies, dwelling(1, rooms=2, municipality=183, categories=("udsat",)), (),
               LettingContext(referrals=[referral(1, head)]))


@pytest.mark.parametrize("spells, known_to, outcome", [
    # received until May, none in June (the assessment month): not receiving now
    ([(PENSION, date(2020, 1, 1), date(2024, 5, 1))], date(2024, 6, 1), Outcome.OFFERED),
    # granted from June: receives now
    ([(PENSION, date(2024, 6, 1), date(2024, 6, 1))], date(2024, 6, 1), Outcome.REJECTED),
    # ongoing, but the history ends in May: June unknown, held until the municipality has checked
    ([(PENSION, date(2020, 1, 1), date(2024, 5, 1))], date(2024, 5, 1), Outcome.SKIPPED),
    ([], date(2024, 6, 1), Outcome.OFFERED),
])
def test_59_stk6_nr6_reads_the_assessment_month(with_local, spells, known_to, outcome):
    d = _nr6(with_local, spells, known_to)
    assert d.outcome == outcome
    if outcome == Outcome.REJECTED:
        assert (d.rule_id, d.rule_version, d.law) == ("dk.almenboligloven.59.stk6#nr6", "2018-12-01.3",
                                                      "§ 59, stk. 6, nr. 6")
    if outcome == Outcome.SKIPPED:
        assert d.unknown_facts == ("nr6_foertidspension",)


def test_59_stk6_nr6_and_51c_follow_one_switch(tmp_path):
    """receipt_month previous_month (register data that lag) reads May for both rules."""
    (tmp_path / "k0183.yaml").write_text((POLICY_DIR / "local" / "k0183_anvisning.yaml").read_text("utf-8"), "utf-8")
    policies = local(tmp_path, "lag.yaml",
                     "id: t.59.6\nbase: dk.almenboligloven.59.stk6@2018-12-01.3\nversion: '1'\neffective_from: 2018-12-01\n"
                     "scope: {municipality_codes: [183], area_categories: [udsat]}\n"
                     "switches: {receipt_month: previous_month}\n")
    may_only = [(PENSION, date(2020, 1, 1), date(2024, 5, 1))]
    assert _nr6(policies, may_only).rule_id == "t.59.6#nr6"
    assert _nr6(policies, [(PENSION, date(2024, 6, 1), date(2024, 6, 1))]).outcome == Outcome.OFFERED
    assert _nr6(policies, may_only, known_to=date(2024, 5, 1)).outcome == Outcome.REJECTED
    from boligmix.letting.policy import RECEIPT_MONTH, TOOL_SWITCHES
    assert TOOL_SWITCHES["anvisning_restriction"]["receipt_month"] is RECEIPT_MONTH
    assert TOOL_SWITCHES["omdannelse_afvisning"]["receipt_month"] is RECEIPT_MONTH
