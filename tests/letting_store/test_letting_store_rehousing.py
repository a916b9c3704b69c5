"""The rehousing list (migration 0007): a municipality that demands up to every 3rd vacancy for
households whose dwelling must be vacated (almenboligloven § 59, stk. 1; rules-spec 6.1) names
them on its rehousing list; the store's rehousing vacancies are offered to them, by the
municipality, and their refusals do not count towards passive status (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from boligmix.errors import AuthorizationError
from boligmix.letting.policy import POLICY_DIR, load_policies
from boligmix.letting.store import service
from boligmix.letting.store.engine_rules import EngineRules

from store_support import MUNI, seed_applicants, seed_stock

NOW = datetime(2024, 6, 15, 10, 0)


@pytest.fixture(scope="module")
def rules(tmp_path_factory) -> EngineRules:
    folder = tmp_path_factory.mktemp("rehousing")
    (folder / "k0101_genhusning.yaml").write_text(
        "id: k0101.genhusning\nbase: dk.almenboligloven.59\nversion: '2024-01-01.1'\neffective_from: 2010-01-01\n"
        "scope: {municipality_codes: [101], almen_types: [family]}\n"
        "shares: {kommunal_anvisning: 0.25, rehousing: 0.3333333333333333}\n", encoding="utf-8")
    return EngineRules(load_policies([POLICY_DIR / "statutory", folder]))


def test_every_third_vacancy_goes_to_the_rehousing_list(store, tokens, rules):
    _, org = tokens["org"]
    _, muni = tokens["muni"]
    dws = seed_stock(store, org, dwellings=4)
    seed_applicants(store, org, 2, household_size=3)
    rehoused = store.transact(lambda s: service.create_applicant(s, muni, {
        "applicant_id": 77, "household_id": 770, "list_type": "rehousing", "municipality_code": MUNI,
        "seniority_date": date(2024, 5, 1), "household_size": 3}))
    assert rehoused["list_type"] == "rehousing" and rehoused["org_id"] is None
    referral = store.transact(lambda s: service.create_applicant(s, muni, {
        "applicant_id": 78, "list_type": "municipal_referral", "municipality_code": MUNI,
        "seniority_date": date(2001, 1, 1), "household_size": 3}))
    with pytest.raises(AuthorizationError):  # an organisation cannot fill the municipality's lists
        store.transact(lambda s: service.create_applicant(s, org, {
            "applicant_id": 79, "list_type": "rehousing", "municipality_code": MUNI,
            "seniority_date": date(2024, 5, 1)}))
    vacancies = [store.transact(lambda s, dw=dw: service.register_vacancy(
        s, org, {"dwelling_id": dw, "available_from": date(2024, 7, 1)}, rules=rules, now=NOW)) for dw in dws]
    assert [v["channel"] for v in vacancies] == ["waiting_list", "waiting_list", "rehousing", "kommunal_anvisning"]
    third = vacancies[2]["vacancy_id"]
    with pytest.raises(AuthorizationError, match="rehousing of municipality"):
        store.transact(lambda s: service.make_offers(s, org, third, None, rules=rules, now=NOW))
    made = store.transact(lambda s: service.make_offers(s, muni, third, None, rules=rules, now=NOW))
    assert [o["entry_id"] for o in made["offers"]] == [rehoused["entry_id"]]   # not the referral, not the list
    assert referral["entry_id"] not in {d["entry_id"] for d in made["decisions"]}
    store.transact(lambda s: service.refuse_offer(s, muni, made["offers"][0]["offer_id"], rules=rules, now=NOW))
    listed = store.transact(lambda s: service.list_applicants(s, muni, municipality_code=MUNI, list_type="rehousing"))
    assert listed[0]["refusal_count"] == 1 and listed[0]["passive_since"] is None
    # the only rehousing household refused: nobody left for this vacancy, so it goes to the waiting list
    again = store.transact(lambda s: service.make_offers(s, muni, third, None, rules=rules, now=NOW))
    assert again["offers"] == [] and again["channel"] == "waiting_list"   # released (unused_referral)
    fourth = vacancies[3]["vacancy_id"]
    ref = store.transact(lambda s: service.make_offers(s, muni, fourth, None, rules=rules, now=NOW))
    assert [o["entry_id"] for o in ref["offers"]] == [referral["entry_id"]]
    lease = store.transact(lambda s: service.accept_offer(s, muni, ref["offers"][0]["offer_id"], now=NOW))
    assert lease["channel"] == "kommunal_anvisning"


def _rehousing_member(pid: int, eu: bool) -> dict:
    return {"person_id": pid, "role": "applicant", "birth_date": "1985-01-01",
            "benefits": {"known_from": "2020-01-01", "known_to": "2024-06-01", "spells": []},
            "facts": {"eu_eea_ch_citizen": eu, "enrolled_student": False, "released_after_sentence_on": False,
                      "lease_terminated_for_breach_on": False,
                      "released_from_youth_institution_after_sentence": False}}


def test_barred_rehousing_household_is_redirected_to_the_next_rehousing_dwelling(store, tokens, rules):
    """§ 59 stk. 6 nr. 4 bars a household with a non-EU member from an udsat dwelling also when the
    municipality refers it from its rehousing list; the store keeps the redirect and the household
    ranks first at the municipality's next rehousing dwelling outside the area."""
    from boligmix.letting.store import follow_ups
    from boligmix.letting.store.models import Department

    _, org = tokens["org"]
    _, muni = tokens["muni"]
    [udsat] = seed_stock(store, org, dwellings=1, department_id="ORG1-U", dwelling_base=500)
    outside = seed_stock(store, org, dwellings=5, department_id="ORG1-N", dwelling_base=600)

    def mark_udsat(s):
        s.get(Department, "ORG1-U").area_categories = ["udsat"]
    store.transact(mark_udsat)
    entries = {}
    for aid, seniority, eu in [(80, date(2024, 3, 1), False), (81, date(2024, 4, 1), True),
                               (82, date(2020, 1, 1), True)]:
        entries[aid] = store.transact(lambda s, aid=aid, seniority=seniority, eu=eu: service.create_applicant(s, muni, {
            "applicant_id": aid, "list_type": "rehousing", "municipality_code": MUNI, "seniority_date": seniority,
            "household": {"members": [_rehousing_member(aid * 10, eu)]}}))["entry_id"]
    order = [outside[0], outside[1], udsat, outside[2], outside[3], outside[4]]
    vacancies = [store.transact(lambda s, dw=dw: service.register_vacancy(
        s, org, {"dwelling_id": dw, "available_from": date(2024, 7, 1)}, rules=rules, now=NOW)) for dw in order]
    assert [v["channel"] for v in vacancies] == ["waiting_list", "waiting_list", "rehousing", "kommunal_anvisning",
                                                 "waiting_list", "rehousing"]
    made = store.transact(lambda s: service.make_offers(s, muni, vacancies[2]["vacancy_id"], None, rules=rules,
                                                        now=NOW))
    outcomes = {d["entry_id"]: d["outcome"] for d in made["decisions"] if d["entry_id"] and d["outcome"] != "redirected"}
    assert outcomes == {entries[80]: "rejected", entries[81]: "offered", entries[82]: "offered"}
    [red] = [d for d in made["decisions"] if d["outcome"] == "redirected"]
    assert red["entry_id"] == entries[80] and red["facts"]["redirect_channel"] == "rehousing"
    kept = store.transact(lambda s: follow_ups.list_redirected_referrals(s, muni, MUNI))
    assert [r["entry_id"] for r in kept] == [entries[80]] and kept[0]["open"]
    # the referral vacancy (4th) does not take the rehousing household
    ref = store.transact(lambda s: service.make_offers(s, muni, vacancies[3]["vacancy_id"], None, rules=rules,
                                                       now=NOW))
    assert entries[80] not in {d["entry_id"] for d in ref["decisions"]}
    refused = next(o for o in made["offers"] if o["entry_id"] == entries[82])   # 82 is free again
    store.transact(lambda s: service.refuse_offer(s, muni, refused["offer_id"], rules=rules, now=NOW))
    nxt = store.transact(lambda s: service.make_offers(s, muni, vacancies[5]["vacancy_id"], None, rules=rules,
                                                       now=NOW))
    # the redirected household first, before 82 (older seniority); 81 holds an open offer
    assert [o["entry_id"] for o in nxt["offers"]] == [entries[80], entries[82]]
    first = next(d for d in nxt["decisions"] if d["outcome"] == "offered")
    assert first["facts"]["redirect_decision"] == f"store:{red['decision_id']}"
    assert "dk.almenboligloven.59.redirect#redirected_referral" in first["facts"]["priorities_met"]
