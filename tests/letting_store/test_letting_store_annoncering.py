"""Offentlig annoncering (§ 60 a) in the letting store: when the waiting list gives no eligible
applicant and an advertising policy is in force (municipality 101's example agreement from 2022),
the engine advertises the vacancy; the store follows (channel `annoncering`, migration 0008) and
offers it to the organisation's respondents (list type `advert_response`) (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from boligmix.letting.policy import load_default_policies
from boligmix.letting.store import service
from boligmix.letting.store.engine_rules import EngineRules

from store_support import MUNI, ORG, seed_applicants, seed_stock

NOW = datetime(2024, 6, 15, 10, 0)


def test_exhausted_list_advertises_and_respondents_get_offers(store, tokens):
    rules = EngineRules(load_default_policies(include_local_examples=True))
    _, org = tokens["org"]
    [dw] = seed_stock(store, org, dwellings=1)                       # 3 rooms, municipality 101
    [too_big] = seed_applicants(store, org, 1, min_rooms=4, household_size=3)   # wants 4 rooms: skipped
    respondent = store.transact(lambda s: service.create_applicant(s, org, {
        "applicant_id": 42, "list_type": "advert_response", "org_id": ORG, "municipality_code": MUNI,
        "seniority_date": date(2024, 6, 10), "household_size": 3}))["entry_id"]
    vid = store.transact(lambda s: service.register_vacancy(
        s, org, {"dwelling_id": dw, "available_from": date(2024, 7, 1)}, rules=rules, now=NOW))["vacancy_id"]
    first = store.transact(lambda s: service.make_offers(s, org, vid, None, rules=rules, now=NOW))
    assert first["offers"] == [] and first["channel"] == "annoncering"
    assert [d["rule"] for d in first["decisions"] if d["outcome"] == "channel"] == ["k0101.annoncering#trigger"]
    assert [d["channel"] for d in first["decisions"] if d["outcome"] == "channel"] == ["annoncering"]
    assert [d["outcome"] for d in first["decisions"] if d["entry_id"] == too_big] == ["skipped"]
    assert respondent not in {d["entry_id"] for d in first["decisions"]}    # not a waiting-list candidate
    second = store.transact(lambda s: service.make_offers(s, org, vid, None, rules=rules, now=NOW))
    assert [o["entry_id"] for o in second["offers"]] == [respondent] and second["channel"] == "annoncering"
    assert too_big not in {d["entry_id"] for d in second["decisions"]}       # the list is not read again
    lease = store.transact(lambda s: service.accept_offer(s, org, second["offers"][0]["offer_id"], now=NOW))
    assert lease["channel"] == "annoncering" and lease["applicant_id"] == 42


def test_statutory_default_does_not_advertise(store, tokens):
    """The packaged § 60 a policy is off (its conditions are UNCONFIRMED): an exhausted list just
    gives no offers and the vacancy stays on the waiting list."""
    rules = EngineRules()
    _, org = tokens["org"]
    [dw] = seed_stock(store, org, dwellings=1)
    seed_applicants(store, org, 1, min_rooms=4, household_size=3)
    vid = store.transact(lambda s: service.register_vacancy(
        s, org, {"dwelling_id": dw, "available_from": date(2024, 7, 1)}, rules=rules, now=NOW))["vacancy_id"]
    made = store.transact(lambda s: service.make_offers(s, org, vid, None, rules=rules, now=NOW))
    assert made["offers"] == [] and made["channel"] == "waiting_list" and made["exhausted"]


def test_delebolig_room_goes_to_a_single_person(store, tokens):
    """A delebolig is registered room by room (`facts.shared = true`); municipality 101's example
    (seed 000) lets a room to one person only, and the size rule's under-use limit does not apply."""
    rules = EngineRules(load_default_policies(include_local_examples=True))
    _, org = tokens["org"]
    seed_stock(store, org, dwellings=0, department_id="ORG1-DELE")

    def rooms(s):
        for room in (1, 2):
            service.register_dwelling(s, org, {"dwelling_id": 8800 + room, "department_id": "ORG1-DELE", "rooms": 1,
                                               "floor_area_m2": 18.0, "monthly_rent_dkk": 2500.0,
                                               "facts": {"shared": True, "delebolig": 8800}})
    store.transact(rooms)
    couple = seed_applicants(store, org, 1, start_id=10, household_size=2)[0]
    single = seed_applicants(store, org, 1, start_id=20, household_size=1)[0]
    vid = store.transact(lambda s: service.register_vacancy(
        s, org, {"dwelling_id": 8801, "available_from": date(2024, 7, 1)}, rules=rules, now=NOW))["vacancy_id"]
    made = store.transact(lambda s: service.make_offers(s, org, vid, None, rules=rules, now=NOW))
    assert [o["entry_id"] for o in made["offers"]] == [single]
    [skip] = [d for d in made["decisions"] if d["entry_id"] == couple]
    assert skip["outcome"] == "skipped" and skip["rule"] == "k0101.delebolig#single_person"


def _busy_rules(tmp_path, mode: str | None) -> EngineRules:
    from boligmix.letting.policy import POLICY_DIR, load_policies

    switch = f"switches: {{busy_applicants: {mode}}}\n" if mode else ""
    (tmp_path / "a.yaml").write_text(
        "id: t.annoncering\nbase: dk.almenboligloven.60a\nversion: '1'\neffective_from: 2020-01-01\nenabled: true\n"
        "scope: {municipality_codes: [101]}\n" + switch, encoding="utf-8")
    return EngineRules(load_policies([POLICY_DIR / "statutory", tmp_path]))


@pytest.mark.parametrize("mode", [None, "ignore"])
def test_a_busy_applicant_holds_the_advert_unless_switched_off(store, tokens, tmp_path, mode):
    """The only fitting applicant holds an open offer for dwelling 1 when dwelling 2's round runs.
    Default (busy_applicants = wait): dwelling 2 is not advertised and goes to that applicant once
    they refused dwelling 1; `ignore`: dwelling 2 is advertised to the respondent at once."""
    rules = _busy_rules(tmp_path, mode)
    _, org = tokens["org"]
    dw1, dw2 = seed_stock(store, org, dwellings=2)
    [applicant] = seed_applicants(store, org, 1, household_size=2)
    respondent = store.transact(lambda s: service.create_applicant(s, org, {
        "applicant_id": 42, "list_type": "advert_response", "org_id": ORG, "seniority_date": date(2024, 6, 10),
        "household_size": 2}))["entry_id"]
    v1, v2 = (store.transact(lambda s, dw=dw: service.register_vacancy(
        s, org, {"dwelling_id": dw, "available_from": date(2024, 7, 1)}, rules=rules, now=NOW))["vacancy_id"]
        for dw in (dw1, dw2))
    first = store.transact(lambda s: service.make_offers(s, org, v1, None, rules=rules, now=NOW))
    assert [o["entry_id"] for o in first["offers"]] == [applicant]
    second = store.transact(lambda s: service.make_offers(s, org, v2, None, rules=rules, now=NOW))
    channels = [(d["rule"], d["channel"]) for d in second["decisions"] if d["outcome"] == "channel"]
    if mode == "ignore":
        assert second["channel"] == "annoncering" and channels == [("t.annoncering#trigger", "annoncering")]
        again = store.transact(lambda s: service.make_offers(s, org, v2, None, rules=rules, now=NOW))
        assert [o["entry_id"] for o in again["offers"]] == [respondent]
        return
    assert second["offers"] == [] and second["channel"] == "waiting_list"
    assert channels == [("t.annoncering#busy_applicants", "waiting_list")]
    [held] = [d for d in second["decisions"] if d["rule"] == "t.annoncering#busy_applicants"]
    assert held["facts"]["busy_eligible"] == 1 and held["facts"]["busy_applicants"] == "wait"
    store.transact(lambda s: service.refuse_offer(s, org, first["offers"][0]["offer_id"], rules=rules, now=NOW))
    third = store.transact(lambda s: service.make_offers(s, org, v2, None, rules=rules, now=NOW))
    assert [o["entry_id"] for o in third["offers"]] == [applicant] and third["channel"] == "waiting_list"
