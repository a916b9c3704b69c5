"""Each letting tool on hand-written cases from the law (rules-spec section 6).

Assessment date NOW = 15 June 2024: "6 consecutive calendar months" are Dec 2023 - May 2024.
"""

from datetime import date

import pytest
from letting_factories import NOW, applicant, decision_for, dwelling, history, member, vacancy

from boligmix.letting.engine import LettingContext, LettingEngine
from boligmix.letting.model import Channel, ListType, MemberRole, Outcome
from boligmix.letting.policy import POLICY_DIR, load_default_policies, load_policies

OMDANNELSE = ("udsat", "parallelsamfund", "omdannelse")
KH_6 = ("kontanthjaelp", date(2023, 12, 1), date(2024, 5, 1))
KH_5 = ("kontanthjaelp", date(2024, 1, 1), date(2024, 5, 1))
KH_NOW = ("kontanthjaelp", date(2024, 6, 1), date(2024, 6, 1))   # June 2024 only: receives it now


@pytest.fixture(scope="module")
def statutory():
    return load_default_policies()


@pytest.fixture(scope="module")
def with_local():
    return load_default_policies(include_local_examples=True)


def one_round(policies, d, applicants, context=None, now=NOW):
    return LettingEngine(policies).next_offers(vacancy(d), applicants, context, now)


# ---------------------------------------------------------------------------------------------
# § 51 c: mandatory rejection in omdannelsesområder (version 2019-07-01.2: currently receives)


def test_51c_current_kontanthjaelp_rejected_in_omdannelse_only(statutory):
    a = applicant(1, benefits=history(KH_NOW))
    inside = decision_for(one_round(statutory, dwelling(1, categories=OMDANNELSE), [a]), 1)
    assert inside.outcome == Outcome.REJECTED
    assert inside.rule_id == "dk.almenboligloven.51c#listed_benefits"
    assert inside.rule_version == "2019-07-01.2"
    assert inside.facts["listed_benefits_now"] is True
    elsewhere = decision_for(one_round(statutory, dwelling(2, categories=("udsat",)), [a]), 1)
    assert elsewhere.outcome == Outcome.OFFERED


def test_51c_benefits_that_ended_before_the_assessment_month_are_not_current(statutory):
    a = applicant(1, benefits=history(KH_6))      # Dec 2023 - May 2024, none in June (covered)
    assert decision_for(one_round(statutory, dwelling(1, categories=OMDANNELSE), [a]), 1).outcome == Outcome.OFFERED


def test_51c_any_listed_benefit_counts(statutory):
    now = history(("uddannelseshjaelp", date(2024, 6, 1), date(2024, 6, 1)))
    d = decision_for(one_round(statutory, dwelling(1, categories=OMDANNELSE), [applicant(1, benefits=now)]), 1)
    assert d.outcome == Outcome.REJECTED
    dp = history(("dagpenge", date(2024, 6, 1), date(2024, 6, 1)))  # not a § 51 c benefit
    assert decision_for(one_round(statutory, dwelling(1, categories=OMDANNELSE), [applicant(2, benefits=dp)]),
                        2).outcome == Outcome.OFFERED


def test_51c_spouse_must_also_be_on_benefits(statutory):
    d = dwelling(1, categories=OMDANNELSE)
    head = member(10, benefits=history(KH_NOW))
    working_spouse = member(11, MemberRole.SPOUSE, benefits=history(("dagpenge", date(2024, 1, 1), date(2024, 2, 1))))
    both = member(11, MemberRole.SPOUSE, benefits=history(KH_NOW))
    assert decision_for(one_round(statutory, d, [applicant(1, members=(head, working_spouse))]), 1).outcome \
        == Outcome.OFFERED
    rejected = decision_for(one_round(statutory, d, [applicant(1, members=(head, both))]), 1)
    assert rejected.outcome == Outcome.REJECTED
    assert rejected.facts["listed_benefits_now.detail"]["partner_counts"] is True


def test_51c_short_cohabitation_does_not_count_as_partner(statutory):
    d = dwelling(1, categories=OMDANNELSE)
    head = member(10, benefits=history(KH_NOW))
    new_partner = member(11, MemberRole.COHABITANT, benefits=history(), cohabiting_since=date(2023, 1, 1))
    old_partner = member(11, MemberRole.COHABITANT, benefits=history(), cohabiting_since=date(2020, 1, 1))
    assert decision_for(one_round(statutory, d, [applicant(1, members=(head, new_partner))]), 1).outcome \
        == Outcome.REJECTED
    assert decision_for(one_round(statutory, d, [applicant(1, members=(head, old_partner))]), 1).outcome \
        == Outcome.OFFERED


def test_51c_unknown_benefit_history_is_held_not_passed(statutory):
    a = applicant(1, members=(member(10, benefits=None),))
    d = decision_for(one_round(statutory, dwelling(1, categories=OMDANNELSE), [a]), 1)
    assert d.outcome == Outcome.SKIPPED
    assert d.unknown_facts == ("listed_benefits_now",)
    assert "held" in d.reason
    lagging = applicant(2, benefits=history(KH_6, known_to=date(2024, 5, 1)))  # June not known yet
    d2 = decision_for(one_round(statutory, dwelling(1, categories=OMDANNELSE), [lagging]), 2)
    assert d2.outcome == Outcome.SKIPPED and d2.unknown_facts == ("listed_benefits_now",)


def test_51c_residents_of_the_department_and_dispensation_are_not_rejected(statutory):
    d = dwelling(1, categories=OMDANNELSE)
    resident = applicant(1, benefits=history(KH_NOW), list_type=ListType.INTERNAL, current_department_id="ORG1-1",
                         current_org_id="ORG1")
    assert decision_for(one_round(statutory, d, [resident]), 1).outcome == Outcome.OFFERED
    dispensed = applicant(2, benefits=history(KH_NOW), facts={"dispensation_51c": True})
    offered = decision_for(one_round(statutory, d, [dispensed]), 2)
    assert offered.outcome == Outcome.OFFERED
    assert offered.facts["dispensation:dk.almenboligloven.51c#listed_benefits"] is True


def test_51c_not_in_force_before_july_2019(statutory):
    from datetime import datetime
    a = applicant(1, benefits=history(("kontanthjaelp", date(2018, 6, 1), date(2019, 7, 1)),
                                      known_from=date(2018, 1, 1), known_to=date(2019, 7, 1)))
    before = one_round(statutory, dwelling(1, categories=OMDANNELSE), [a], now=datetime(2019, 6, 15))
    after = one_round(statutory, dwelling(1, categories=OMDANNELSE), [a], now=datetime(2019, 7, 15))
    assert decision_for(before, 1).outcome == Outcome.OFFERED
    assert decision_for(after, 1).outcome == Outcome.REJECTED


# ---------------------------------------------------------------------------------------------
# § 51 b: kombineret udlejning


def test_51b_off_unless_the_municipality_uses_it(statutory, with_local):
    a = applicant(1, benefits=history(KH_6))
    area = ("kombineret_udlejning",)
    assert decision_for(one_round(statutory, dwelling(1, categories=area, municipality=101), [a]), 1).outcome \
        == Outcome.OFFERED
    used = decision_for(one_round(with_local, dwelling(1, categories=area, municipality=101), [a]), 1)
    assert used.outcome == Outcome.REJECTED and used.rule_id == "k0101.kombineret#listed_benefits"
    other_municipality = decision_for(one_round(with_local, dwelling(1, categories=area, municipality=461), [a]), 1)
    assert other_municipality.outcome == Outcome.OFFERED


def test_51b_optional_foertidspension_group_by_switch(with_local):
    pension = history(("foertidspension", date(2022, 1, 1), date(2024, 6, 1)))
    a = applicant(1, benefits=pension)
    d = decision_for(one_round(with_local, dwelling(1, categories=("kombineret_udlejning",), municipality=101), [a]), 1)
    assert d.outcome == Outcome.REJECTED and d.rule_id == "k0101.kombineret#listed_benefits"
    assert d.facts["covered_benefits"] is True
    # dagpenge group is not switched on in the example agreement
    dp = applicant(2, benefits=history(("dagpenge", date(2023, 1, 1), date(2024, 5, 1))))
    assert decision_for(one_round(with_local, dwelling(1, categories=("kombineret_udlejning",), municipality=101),
                                  [dp]), 2).outcome == Outcome.OFFERED


# ---------------------------------------------------------------------------------------------
# § 59: kommunal anvisning and the bars of stk. 6 and 7


def referral(aid: int, **kw):
    return applicant(aid, list_type=ListType.MUNICIPAL_REFERRAL, **kw)


def test_every_fourth_vacancy_goes_to_the_municipality(statutory):
    engine = LettingEngine(statutory)
    channels = []
    for i in range(1, 9):
        r = engine.next_offers(vacancy(dwelling(i)), [applicant(100 + i)],
                               LettingContext(referrals=[referral(200 + i)]), NOW)
        channels.append(r.channel)
    assert [i + 1 for i, c in enumerate(channels) if c == Channel.KOMMUNAL_ANVISNING] == [4, 8]


def test_agreed_hundred_percent_anvisning(with_local):
    engine = LettingEngine(with_local)
    for i in range(1, 4):
        r = engine.next_offers(vacancy(dwelling(i, municipality=183)), [applicant(100 + i)],
                               LettingContext(referrals=[referral(200 + i)]), NOW)
        assert r.channel == Channel.KOMMUNAL_ANVISNING
        assert [o.applicant_id for o in r.offers] == [200 + i]


def test_unused_referral_vacancy_is_released_to_the_waiting_list(with_local):
    r = LettingEngine(with_local).next_offers(vacancy(dwelling(1, municipality=183)), [applicant(1)],
                                              LettingContext(), NOW)
    assert r.channel == Channel.WAITING_LIST and [o.applicant_id for o in r.offers] == [1]
    assert [d.channel for d in r.decisions if d.outcome == Outcome.CHANNEL] == \
        [Channel.KOMMUNAL_ANVISNING, Channel.WAITING_LIST]


def test_59_stk6_bars_referrals_to_udsat_areas_only(with_local):
    pension = history(("foertidspension", date(2020, 1, 1), date(2024, 6, 1)))
    person = referral(1, members=(member(10, benefits=pension, eu_eea_ch_citizen=True, enrolled_student=False,
                                         released_after_sentence_on=False, lease_terminated_for_breach_on=False,
                                         released_from_youth_institution_on=False),))
    udsat = decision_for(one_round(with_local, dwelling(1, municipality=183, categories=("udsat",)), [],
                                   LettingContext(referrals=[person])), 1)
    assert udsat.outcome == Outcome.REJECTED and udsat.rule_id == "dk.almenboligloven.59.stk6#nr6"
    assert udsat.law == "§ 59, stk. 6, nr. 6"
    elsewhere = decision_for(one_round(with_local, dwelling(1, municipality=183), [],
                                       LettingContext(referrals=[person])), 1)
    assert elsewhere.outcome == Outcome.OFFERED


def clean_member(pid: int, role=MemberRole.APPLICANT, **over):
    facts = dict(eu_eea_ch_citizen=True, enrolled_student=False, released_after_sentence_on=False,
                 lease_terminated_for_breach_on=False, released_from_youth_institution_on=False)
    facts.update(over)
    benefits = facts.pop("benefits", history())
    return member(pid, role, benefits=benefits, **facts)


@pytest.mark.parametrize("facts, outcome, rule", [
    ({}, Outcome.OFFERED, None),
    ({"released_after_sentence_on": date(2024, 1, 20)}, Outcome.REJECTED, "nr1"),
    ({"released_after_sentence_on": date(2023, 11, 20)}, Outcome.OFFERED, None),
    ({"lease_terminated_for_breach_on": date(2024, 5, 1)}, Outcome.REJECTED, "nr3"),
    ({"eu_eea_ch_citizen": False}, Outcome.REJECTED, "nr4"),
    ({"eu_eea_ch_citizen": False, "enrolled_student": True}, Outcome.OFFERED, None),
    ({"benefits": history(("sygedagpenge", date(2023, 12, 1), date(2024, 5, 1)))}, Outcome.REJECTED, "nr7"),
    ({"benefits": history(("sygedagpenge", date(2024, 1, 1), date(2024, 5, 1)))}, Outcome.OFFERED, None),
    ({"eu_eea_ch_citizen": None}, Outcome.SKIPPED, None),
])
def test_59_stk6_items(with_local, facts, outcome, rule):
    person = referral(1, members=(clean_member(10, **facts),))
    d = decision_for(one_round(with_local, dwelling(1, municipality=183, categories=("udsat",)), [],
                               LettingContext(referrals=[person])), 1)
    assert d.outcome == outcome
    if rule:
        assert d.rule_id == f"dk.almenboligloven.59.stk6#{rule}"


def test_59_stk6_bar_by_any_household_member(with_local):
    child = clean_member(12, MemberRole.CHILD, birth=date(2008, 1, 1),
                         released_from_youth_institution_on=date(2024, 3, 1))
    person = referral(1, members=(clean_member(10), child))
    d = decision_for(one_round(with_local, dwelling(1, rooms=2, municipality=183, categories=("udsat",)), [],
                               LettingContext(referrals=[person])), 1)
    assert d.outcome == Outcome.REJECTED and d.rule_id.endswith("#nr2")


def test_59_stk7_forebyggelse_kontanthjaelp_switch(tmp_path, with_local):
    kh = referral(1, members=(clean_member(10, benefits=history(KH_6)),))
    hjem = referral(2, members=(clean_member(20, benefits=history(("selvforsoergelse_hjemrejse", date(2023, 12, 1),
                                                                     date(2024, 5, 1)))),))
    d = dwelling(1, municipality=183, categories=("forebyggelse",))
    r = one_round(with_local, d, [], LettingContext(referrals=[kh, hjem]))
    assert decision_for(r, 1).outcome == Outcome.OFFERED      # default: stk. 7 does not cover kontanthjælp
    assert decision_for(r, 2).outcome == Outcome.REJECTED
    (tmp_path / "stk7.yaml").write_text(
        "id: k0183.stk7\nbase: dk.almenboligloven.59.stk7\nversion: '1'\neffective_from: 2021-11-30\n"
        "scope: {municipality_codes: [183], area_categories: [forebyggelse]}\n"
        "switches: {stk7_includes_kontanthjaelp_uddannelseshjaelp: true}\n", encoding="utf-8")
    switched = load_policies([POLICY_DIR / "statutory", POLICY_DIR / "local", tmp_path])
    assert decision_for(one_round(switched, d, [], LettingContext(referrals=[kh])), 1).outcome == Outcome.REJECTED


# ---------------------------------------------------------------------------------------------
# § 60: fleksibel udlejning


def test_voluntary_fleksibel_share_and_priority(with_local):
    engine = LettingEngine(with_local)
    senior = applicant(1, date(2010, 1, 1), facts={"applicant.weekly_work_hours": 10})
    worker = applicant(2, date(2022, 1, 1), facts={"applicant.weekly_work_hours": 37})
    rounds = [engine.next_offers(vacancy(dwelling(i, municipality=101)), [senior, worker], None, NOW)
              for i in range(1, 6)]
    allocated = [next(d.channel for d in r.decisions if d.outcome == Outcome.CHANNEL) for r in rounds]
    # 1/2 fleksibel and 1/4 anvisning: vacancy 4 is due to both, anvisning takes it, fleksibel catches up at 5
    assert allocated == [Channel.WAITING_LIST, Channel.FLEKSIBEL, Channel.WAITING_LIST,
                         Channel.KOMMUNAL_ANVISNING, Channel.FLEKSIBEL]
    assert [o.applicant_id for o in rounds[1].offers] == [2, 1]    # criteria met beats seniority
    assert [o.applicant_id for o in rounds[0].offers] == [1, 2]    # plain waiting list: seniority
    assert rounds[3].channel == Channel.WAITING_LIST               # no referral: released


def test_obligatory_fleksibel_in_udsat_areas(statutory):
    senior = applicant(1, date(2010, 1, 1), facts={"household.employed_or_in_education": False})
    worker = applicant(2, date(2022, 1, 1), facts={"household.employed_or_in_education": True})
    unknown = applicant(3, date(2005, 1, 1))
    r = one_round(statutory, dwelling(1, categories=("udsat",)), [senior, worker, unknown])
    assert [o.applicant_id for o in r.offers] == [2, 3, 1]
    assert decision_for(r, 3).unknown_facts == ("household.employed_or_in_education",)
    plain = one_round(statutory, dwelling(1), [senior, worker, unknown])
    assert [o.applicant_id for o in plain.offers] == [3, 1, 2]


def test_obligatory_fleksibel_before_2021_not_in_forebyggelse(statutory):
    from datetime import datetime
    senior = applicant(1, date(2010, 1, 1), facts={"household.employed_or_in_education": False})
    worker = applicant(2, date(2015, 1, 1), facts={"household.employed_or_in_education": True})
    d = dwelling(1, categories=("forebyggelse",))
    assert [o.applicant_id for o in one_round(statutory, d, [senior, worker], now=datetime(2021, 6, 1)).offers] == [1, 2]
    assert [o.applicant_id for o in one_round(statutory, d, [senior, worker], now=datetime(2022, 6, 1)).offers] == [2, 1]


def test_internal_transfer_exemption_and_exclusive_mode(tmp_path):
    (tmp_path / "agreement.yaml").write_text(
        "id: local.fleks\nbase: dk.almenboligloven.60.stk4@2021-11-30.1\nversion: '1'\neffective_from: 2024-01-01\n"
        "scope: {municipality_codes: [461], area_categories: [udsat]}\n"
        "switches: {exempt_internal_transfers: true, mode: exclusive}\n", encoding="utf-8")
    policies = load_policies([POLICY_DIR / "statutory", tmp_path])
    internal = applicant(1, date(2015, 1, 1), list_type=ListType.INTERNAL, current_department_id="ORG1-1",
                         current_org_id="ORG1", facts={"household.employed_or_in_education": False})
    outsider = applicant(2, date(2010, 1, 1), facts={"household.employed_or_in_education": False})
    worker = applicant(3, date(2020, 1, 1), facts={"household.employed_or_in_education": True})
    r = one_round(policies, dwelling(1, categories=("udsat",)), [internal, outsider, worker])
    assert [o.applicant_id for o in r.offers] == [1, 3]
    assert decision_for(r, 2).outcome == Outcome.SKIPPED and "exclusive" in decision_for(r, 2).reason


# ---------------------------------------------------------------------------------------------
# Waiting list order, size rules, annoncering, deleboliger, young people who grew up here


def test_oprykning_and_priority_rights_before_external_seniority(statutory):
    external = applicant(1, date(2000, 1, 1))
    org_internal = applicant(2, date(2015, 1, 1), list_type=ListType.INTERNAL, current_department_id="ORG1-9",
                             current_org_id="ORG1")
    dept_internal = applicant(3, date(2018, 1, 1), list_type=ListType.INTERNAL, current_department_id="ORG1-1",
                              current_org_id="ORG1")
    right = applicant(4, date(2023, 1, 1), priority_rights=frozenset({"fortrinsret"}))
    r = LettingEngine(statutory).next_offers(vacancy(dwelling(1)), [external, org_internal, dept_internal, right],
                                             None, NOW)
    ranked = sorted((d for d in r.decisions if d.rank), key=lambda d: d.rank)
    assert [d.applicant_id for d in ranked] == [4, 3, 2, 1]


@pytest.mark.parametrize("size, rooms, crowding_ok, underuse_ok", [
    (1, 2, True, True), (1, 3, True, False), (4, 2, True, True), (5, 2, False, True), (3, 4, True, True),
    (2, 4, True, False)])
def test_size_rules_persons_per_room(statutory, size, rooms, crowding_ok, underuse_ok):
    """Crowding bars; underuse lapses (the only applicant is offered the dwelling, with the lapsed
    rule recorded), and bars too with the switch size_rule=binding (version .2's rule)."""
    from boligmix.simulate.scenario import PolicyOverride, build_policy_set

    binding = build_policy_set([], {"dk.venteliste": PolicyOverride(switches={"size_rule": "binding"})}, "test")
    members = (member(10),) + tuple(member(11 + i, MemberRole.CHILD, birth=date(2015, 1, 1)) for i in range(size - 1))
    d = decision_for(one_round(statutory, dwelling(1, rooms=rooms), [applicant(1, members=members)]), 1)
    assert (d.outcome == Outcome.OFFERED) == crowding_ok
    if not crowding_ok:
        assert d.rule_id == "dk.venteliste#size_crowding"
    elif not underuse_ok:
        assert d.facts["lapsed_rules"] == ["dk.venteliste#size_underuse"] and "lapses for this applicant" in d.reason
    else:
        assert "lapsed_rules" not in d.facts
    b = decision_for(one_round(binding, dwelling(1, rooms=rooms), [applicant(1, members=members)]), 1)
    assert (b.outcome == Outcome.OFFERED) == (crowding_ok and underuse_ok)
    if not underuse_ok:
        assert b.rule_id == "dk.venteliste#size_underuse"


def test_applicant_wishes(statutory):
    r = one_round(statutory, dwelling(1, rooms=2, rent=9000), [applicant(1, min_rooms=3), applicant(2, max_rent=8000),
                                                                applicant(3, max_rent=9000)])
    assert [o.applicant_id for o in r.offers] == [3]


def test_annoncering_when_the_list_is_exhausted(with_local):
    respondent = applicant(9, date(2024, 6, 1), list_type=ListType.ADVERT_RESPONSE)
    too_big = applicant(1, members=(member(10),) + tuple(member(11 + i, MemberRole.CHILD) for i in range(5)))
    r = one_round(with_local, dwelling(1, municipality=101, rooms=2), [too_big],
                  LettingContext(advert_respondents=[respondent]))
    assert r.channel == Channel.ANNONCERING and [o.applicant_id for o in r.offers] == [9]
    nothing = one_round(with_local, dwelling(1, municipality=461, rooms=2), [too_big],
                        LettingContext(advert_respondents=[respondent]))
    assert nothing.offers == () and nothing.channel == Channel.WAITING_LIST


def test_delebolig_rooms_go_to_single_persons_one_at_a_time(with_local):
    engine = LettingEngine(with_local)
    shared = dwelling(1, rooms=4, municipality=101, shared=True)
    single = applicant(1)
    couple = applicant(2, date(2000, 1, 1), members=(member(20), member(21, MemberRole.SPOUSE)))
    first = engine.next_offers(vacancy(shared, unit="room-1"), [single, couple], None, NOW)
    assert [o.applicant_id for o in first.offers] == [1]
    assert decision_for(first, 2).rule_id == "k0101.delebolig#single_person"
    engine.accept(first.offers[0].offer_id, NOW)
    second = engine.next_offers(vacancy(shared, unit="room-2"), [applicant(3)], None, NOW)
    engine.accept(second.offers[0].offer_id, NOW)
    assert {(l.dwelling_id, l.unit) for l in engine.lettings} == {(1, "room-1"), (1, "room-2")}


def test_young_people_who_grew_up_in_the_area_get_priority(with_local):
    young = applicant(1, date(2023, 1, 1), birth=date(2002, 5, 1),
                      facts={"grew_up_in_area_id": "A1", "applicant.in_education": True,
                             "applicant.moving_out_from_parents": True})
    elsewhere = applicant(2, date(2023, 1, 1), birth=date(2002, 5, 1),
                          facts={"grew_up_in_area_id": "B7", "applicant.in_education": True,
                                 "applicant.moving_out_from_parents": True})
    senior = applicant(3, date(2001, 1, 1), facts={"household.employed_or_in_education": True})
    r = one_round(with_local, dwelling(1, municipality=101, categories=("forebyggelse",)), [senior, elsewhere, young])
    ranked = sorted((d for d in r.decisions if d.rank), key=lambda d: d.rank)
    assert ranked[0].applicant_id == 3          # obligatory fleksibel criteria (rank 1) come first
    assert ranked[1].applicant_id == 1
    assert "k0101.unge-opvokset#grew_up_here" in ranked[1].facts["priorities_met"]


def test_59_stk6_versions_items_5_to_7_only_from_the_2018_law(with_local):
    from datetime import datetime
    pension = clean_member(10, benefits=history(("foertidspension", date(2012, 1, 1), date(2024, 6, 1)),
                                                known_from=date(2012, 1, 1)))
    foreign = clean_member(20, eu_eea_ch_citizen=False)
    ghetto = dwelling(1, municipality=183, categories=("udsat", "parallelsamfund"))
    in_2015 = one_round(with_local, ghetto, [], LettingContext(referrals=[referral(1, members=(pension,)),
                                                                         referral(2, members=(foreign,))]),
                        now=datetime(2015, 3, 1))
    assert decision_for(in_2015, 1).outcome == Outcome.OFFERED
    barred = decision_for(in_2015, 2)
    assert barred.outcome == Outcome.REJECTED and barred.rule_version == "2011-01-01.1"
    in_2020 = one_round(with_local, ghetto, [], LettingContext(referrals=[referral(1, members=(pension,))]),
                        now=datetime(2020, 3, 1))
    assert decision_for(in_2020, 1).rule_id == "dk.almenboligloven.59.stk6#nr6"


def test_unused_referral_hold_keeps_the_vacancy_with_the_municipality(tmp_path):
    (tmp_path / "hold.yaml").write_text(
        "id: t.hold\nbase: dk.almenboligloven.59\nversion: '1'\neffective_from: 2020-01-01\n"
        "scope: {municipality_codes: [461], almen_types: [family]}\nshares: {kommunal_anvisning: 1.0}\n"
        "switches: {unused_referral: hold}\n", encoding="utf-8")
    engine = LettingEngine(load_policies([POLICY_DIR / "statutory", tmp_path]))
    v = vacancy(dwelling(1))
    first = engine.next_offers(v, [applicant(1)], LettingContext(), NOW)
    assert first.channel == Channel.KOMMUNAL_ANVISNING and first.offers == ()
    later = engine.next_offers(v, [applicant(1)], LettingContext(referrals=[referral(7)]), NOW)
    assert later.number == 2 and [o.applicant_id for o in later.offers] == [7]
