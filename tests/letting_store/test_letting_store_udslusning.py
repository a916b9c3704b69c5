"""Udslusningsboliger in the letting store (almenboligloven § 63, migration 0015): a dwelling marked
`udslusningsbolig` is let through the channel `udslusning` to the municipality's referrals, by the
municipality, outside the share counts, obligatory fleksibel udlejning and (UNCONFIRMED, see
`statutory/udslusning.yaml`) the § 59 stk. 6 bars; an unused one stays with the municipality
(SQLite and PostgreSQL; on PostgreSQL the acceptance runs through `boligmix_accept_offer`)."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from fastapi.testclient import TestClient

from boligmix.errors import AuthorizationError
from boligmix.letting.store import service
from boligmix.letting.store.engine_rules import EngineRules
from boligmix.web.app import create_app

from store_support import MUNI, ORG

NOW = datetime(2024, 6, 15, 10, 0)
DEPT = {"department_id": "ORG1-U", "org_id": ORG, "department_name": "Udsat", "municipality_code": MUNI,
        "area_id": "U1", "area_categories": ["udsat"], "facts": {}}


@pytest.fixture(scope="module")
def rules() -> EngineRules:
    return EngineRules()  # the packaged statutory policies


def _dwelling(dwelling_id: int, udslusning: bool) -> dict:
    return {"dwelling_id": dwelling_id, "department_id": "ORG1-U", "rooms": 2, "floor_area_m2": 60.0,
            "monthly_rent_dkk": 5000.0, "udslusningsbolig": udslusning}


def _released_on_kontanthjaelp(pid: int) -> dict:
    """Released from prison 10 weeks before NOW and on kontanthjælp for the last 12 months: barred by
    § 59, stk. 6, nr. 1 and nr. 5 from a kommunal anvisning to an udsat area."""
    return {"members": [{
        "person_id": pid, "role": "applicant", "birth_date": "1990-01-01",
        "benefits": {"known_from": "2020-01-01", "known_to": "2024-06-01",
                     "spells": [{"benefit": "kontanthjaelp", "first_month": "2023-06-01", "last_month": "2024-06-01"}]},
        "facts": {"eu_eea_ch_citizen": True, "enrolled_student": False, "released_after_sentence_on": "2024-04-06",
                  "lease_terminated_for_breach_on": False, "released_from_youth_institution_on": False}}]}


def test_udslusningsbolig_is_let_by_the_municipality_to_its_referral(store, tokens, rules):
    _, org = tokens["org"]
    _, muni = tokens["muni"]
    _, muni2 = tokens["muni2"]

    def stock(s):
        service.register_department(s, org, DEPT)
        return [service.register_dwelling(s, org, _dwelling(7001, True)),
                service.register_dwelling(s, org, _dwelling(7002, False))]
    special, ordinary = store.transact(stock)
    assert special["udslusningsbolig"] is True and ordinary["udslusningsbolig"] is False
    waiting = store.transact(lambda s: service.create_applicant(s, org, {
        "applicant_id": 1, "household_id": 11, "list_type": "external", "org_id": ORG,
        "seniority_date": date(2001, 1, 1), "household_size": 1}))
    referral = store.transact(lambda s: service.create_applicant(s, muni, {
        "applicant_id": 2, "household_id": 12, "list_type": "municipal_referral", "municipality_code": MUNI,
        "seniority_date": date(2024, 5, 1), "household": _released_on_kontanthjaelp(2)}))

    v = store.transact(lambda s: service.register_vacancy(
        s, org, {"dwelling_id": 7001, "available_from": date(2024, 7, 1)}, rules=rules, now=NOW))
    assert v["channel"] == "udslusning"
    trail = store.transact(lambda s: service.list_decisions(s, muni, v["vacancy_id"]))
    assert trail[0]["rule"] == "dk.almenboligloven.63#udslusningsbolig" and trail[0]["law"] == "almenboligloven § 63"
    # the share counters did not see it: the ordinary dwelling's vacancy is the organisation's 1st (of 4)
    w = store.transact(lambda s: service.register_vacancy(
        s, org, {"dwelling_id": 7002, "available_from": date(2024, 7, 1)}, rules=rules, now=NOW))
    counted = store.transact(lambda s: service.list_decisions(s, org, w["vacancy_id"]))[0]
    assert counted["facts"]["dk.almenboligloven.59"]["vacancies_seen"] == 1 and w["channel"] == "waiting_list"

    with pytest.raises(AuthorizationError, match="udslusning of municipality"):   # the municipality's right
        store.transact(lambda s: service.make_offers(s, org, v["vacancy_id"], None, rules=rules, now=NOW))
    with pytest.raises(AuthorizationError):
        store.transact(lambda s: service.make_offers(s, muni2, v["vacancy_id"], None, rules=rules, now=NOW))
    made = store.transact(lambda s: service.make_offers(s, muni, v["vacancy_id"], None, rules=rules, now=NOW))
    assert made["channel"] == "udslusning"
    # the referral, not the waiting list; no § 59 stk. 6 bar, no fleksibel criteria
    assert [o["entry_id"] for o in made["offers"]] == [referral["entry_id"]]
    assert waiting["entry_id"] not in {d["entry_id"] for d in made["decisions"]}
    assert not [d for d in made["decisions"] if d["outcome"] in ("rejected", "redirected")]
    offer_id = made["offers"][0]["offer_id"]
    with pytest.raises(AuthorizationError):
        store.transact(lambda s: service.accept_offer(s, org, offer_id, now=NOW))
    lease = store.transact(lambda s: service.accept_offer(s, muni, offer_id, now=NOW))
    assert lease["channel"] == "udslusning" and lease["applicant_id"] == 2

    # vacant again, no referral left: it stays with the municipality (§ 63, stk. 4), not released
    again = store.transact(lambda s: service.register_vacancy(
        s, org, {"dwelling_id": 7001, "available_from": date(2025, 1, 1)}, rules=rules, now=NOW))
    assert again["channel"] == "udslusning"
    none = store.transact(lambda s: service.make_offers(s, muni, again["vacancy_id"], None, rules=rules, now=NOW))
    assert none["offers"] == [] and none["channel"] == "udslusning" and none["exhausted"]


def test_refusals_of_an_udslusningsbolig_do_not_make_the_referral_passive(store, tokens, rules):
    """As kommunal anvisning: a referral channel's refusals are counted but never set the entry
    passive (the waiting-list policy's passive_after_refusals is 3 in the packaged rules)."""
    _, org = tokens["org"]
    _, muni = tokens["muni"]
    store.transact(lambda s: [service.register_department(s, org, DEPT)] + [
        service.register_dwelling(s, org, _dwelling(7100 + i, True)) for i in range(4)])
    entry = store.transact(lambda s: service.create_applicant(s, muni, {
        "applicant_id": 3, "household_id": 13, "list_type": "municipal_referral", "municipality_code": MUNI,
        "seniority_date": date(2024, 5, 1), "household_size": 1}))
    for i in range(4):
        v = store.transact(lambda s, i=i: service.register_vacancy(
            s, org, {"dwelling_id": 7100 + i, "available_from": date(2024, 7, 1)}, rules=rules, now=NOW))
        made = store.transact(lambda s, v=v: service.make_offers(s, muni, v["vacancy_id"], None, rules=rules, now=NOW))
        assert [o["entry_id"] for o in made["offers"]] == [entry["entry_id"]]
        store.transact(lambda s, made=made: service.refuse_offer(
            s, muni, made["offers"][0]["offer_id"], rules=rules, now=NOW))
    [listed] = store.transact(lambda s: service.list_applicants(s, muni, municipality_code=MUNI))
    assert listed["refusal_count"] == 4 and listed["passive_since"] is None and listed["status"] == "active"


def test_api_registers_an_udslusningsbolig_and_names_the_channel(db_url, store, tokens):
    org = {"Authorization": f"Bearer {tokens['org'][0]}"}
    with TestClient(create_app(db_url, pool_size=2)) as client:
        spec = client.get("/openapi.json").json()["components"]["schemas"]
        assert spec["DwellingIn"]["properties"]["udslusningsbolig"]["type"] == "boolean"
        assert "udslusning" in str(spec["VacancyIn"]["properties"]["channel"])
        assert client.post("/api/departments", headers=org, json=DEPT).status_code == 201
        r = client.post("/api/dwellings", headers=org, json=_dwelling(7201, True))
        assert r.status_code == 201 and r.json()["udslusningsbolig"] is True
        again = client.post("/api/dwellings", headers=org, json=_dwelling(7201, False))
        assert again.status_code == 409                                  # same id, other data
        r = client.post("/api/vacancies", headers=org, json={"dwelling_id": 7201, "available_from": "2024-07-01"})
        assert r.status_code == 201 and r.json()["channel"] == "udslusning"
