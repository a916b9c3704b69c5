"""Supplying a fact a rule held the applicant for (`PATCH /api/applicants/{entry_id}`): an applicant
whose benefit history is unknown is held in an omdannelsesområde (§ 51 c: the municipality must check
before letting); once the history is known the next round offers the dwelling (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from boligmix.letting.store.engine_rules import EngineRules
from boligmix.web.app import create_app

from store_support import MUNI, ORG


@pytest.fixture
def client(db_url, store, tokens):
    with TestClient(create_app(db_url, pool_size=2, rules=EngineRules())) as c:
        yield c


def _h(tokens, who):
    return {"Authorization": f"Bearer {tokens[who][0]}"}


MEMBER = {"person_id": 3000, "role": "applicant", "birth_date": "1985-01-01", "facts": {}}


def test_a_held_applicant_is_offered_once_the_fact_is_known(client, tokens):
    org = _h(tokens, "org")
    assert client.post("/api/departments", headers=org, json={
        "department_id": "ORG1-OMD", "org_id": ORG, "department_name": "Omdannelse", "municipality_code": MUNI,
        "area_categories": ["omdannelse", "parallelsamfund", "udsat"]}).status_code == 201
    assert client.post("/api/dwellings", headers=org, json={
        "dwelling_id": 501, "department_id": "ORG1-OMD", "rooms": 2, "floor_area_m2": 60,
        "monthly_rent_dkk": 5000}).status_code == 201
    r = client.post("/api/applicants", headers=org, json={
        "applicant_id": 300, "list_type": "external", "org_id": ORG, "seniority_date": "2015-01-01",
        "household": {"members": [MEMBER]}})
    entry = r.json()["entry_id"]
    vid = client.post("/api/vacancies", headers=org, json={"dwelling_id": 501, "available_from": "2024-07-01"}
                      ).json()["vacancy_id"]
    first = client.post(f"/api/vacancies/{vid}/offers", headers=org, json={"as_of": "2024-06-15T10:00:00"}).json()
    [held] = [d for d in client.get(first["trail"], headers=org).json() if d["entry_id"] == entry]
    assert first["offers"] == [] and held["outcome"] == "skipped"
    assert held["rule"].startswith("dk.almenboligloven.51c#") and "listed_benefits_now" in held["unknown_facts"]

    history = {"known_from": "2020-01-01", "known_to": "2024-06-01", "spells": []}
    body = {"household": {"members": [{**MEMBER, "benefits": history}]}, "facts": {"note": "checked"}}
    assert client.patch(f"/api/applicants/{entry}", headers=_h(tokens, "org2"), json=body).status_code == 403
    assert client.patch(f"/api/applicants/{entry}", headers=_h(tokens, "analyst"), json=body).status_code == 403
    bad = {"household": {"members": [{**MEMBER, "role": "partner"}]}}
    r = client.patch(f"/api/applicants/{entry}", headers=org, json=bad)
    assert r.status_code == 422 and "role" in str(r.json()["detail"])
    assert client.patch(f"/api/applicants/{entry}", headers=org, json={"seniority_date": "2000-01-01"}
                        ).status_code == 422                     # seniority is not the owner's to change
    r = client.patch(f"/api/applicants/{entry}", headers={**org, "Idempotency-Key": "u1"}, json=body)
    assert r.status_code == 200, r.text
    assert r.json()["household"]["members"][0]["benefits"] == history and r.json()["facts"] == {"note": "checked"}
    assert r.json()["seniority_date"] == "2015-01-01" and r.json()["refusal_count"] == 0

    second = client.post(f"/api/vacancies/{vid}/offers", headers=org, json={"as_of": "2024-06-15T10:00:00"}).json()
    assert [o["entry_id"] for o in second["offers"]] == [entry]
    offered = next(d for d in client.get(second["trail"], headers=org).json()
                   if d["entry_id"] == entry and d["outcome"] == "offered")
    assert offered["outcome"] == "offered" and "listed_benefits_now" not in offered["unknown_facts"]
    # the first round's record still shows what was unknown then
    trail = client.get(f"/api/decisions?vacancy_id={vid}", headers=org).json()
    assert [d["outcome"] for d in trail if d["entry_id"] == entry] == ["skipped", "offered"]


def test_the_decision_trail_reads_in_danish_by_default(client, tokens):
    org = _h(tokens, "org")
    assert client.post("/api/departments", headers=org, json={
        "department_id": "ORG1-OMD", "org_id": ORG, "department_name": "Omdannelse", "municipality_code": MUNI,
        "area_categories": ["omdannelse", "parallelsamfund", "udsat"]}).status_code == 201
    assert client.post("/api/dwellings", headers=org, json={
        "dwelling_id": 501, "department_id": "ORG1-OMD", "rooms": 2, "floor_area_m2": 60,
        "monthly_rent_dkk": 5000}).status_code == 201
    client.post("/api/applicants", headers=org, json={
        "applicant_id": 300, "list_type": "external", "org_id": ORG, "seniority_date": "2015-01-01",
        "household": {"members": [MEMBER]}})
    vid = client.post("/api/vacancies", headers=org, json={"dwelling_id": 501, "available_from": "2024-07-01"}
                      ).json()["vacancy_id"]
    client.post(f"/api/vacancies/{vid}/offers", headers=org, json={"as_of": "2024-06-15T10:00:00"})
    danish = client.get(f"/api/decisions?vacancy_id={vid}", headers=org).json()
    english = client.get(f"/api/decisions?vacancy_id={vid}&lang=en", headers=org).json()
    held = next(d for d in danish if d["rule"].startswith("dk.almenboligloven.51c#"))
    assert held["reason_text"].startswith("afventer: det kan endnu ikke afgøres, om afvisningsgrunden er opfyldt: ansøger og")
    assert held["reason"] not in held["reason_text"] and "listed_benefits" not in held["reason_text"]
    assert [d["reason_text"] for d in english] == [d["reason"] for d in danish]
    by_header = client.get(f"/api/decisions?vacancy_id={vid}", headers={**org, "Accept-Language": "en-GB,en;q=0.8"})
    assert [d["reason_text"] for d in by_header.json()] == [d["reason"] for d in danish]
    danish_header = client.get(f"/api/decisions?vacancy_id={vid}", headers={**org, "Accept-Language": "da, en;q=0.5"})
    assert danish_header.json() == danish
    assert all(d["reason_text"] and "(begrundelsen" not in d["reason_text"] for d in danish)
    assert client.get(f"/api/decisions?vacancy_id={vid}&lang=de", headers=org).status_code == 422
