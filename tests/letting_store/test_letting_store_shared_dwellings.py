"""Deleboliger as units (migration 0011): a shared dwelling is registered with its number of
rooms, its rooms are dwellings tied to it (one letting room each, same department, no more than
it has), and each room goes to one person under the packaged delebolig policy (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from fastapi.testclient import TestClient

from boligmix.letting.store import service
from boligmix.letting.store.engine_rules import EngineRules
from boligmix.web.app import create_app

from store_support import seed_applicants, seed_stock

NOW = datetime(2024, 6, 15, 10, 0)


def _h(tokens, who):
    return {"Authorization": f"Bearer {tokens[who][0]}"}


def test_shared_dwelling_rooms_over_the_api_and_let_to_single_persons(db_url, store, tokens):
    _, org = tokens["org"]
    seed_stock(store, org, dwellings=0, department_id="ORG1-DELE")
    seed_stock(store, org, dwellings=0, department_id="ORG1-OTHER")
    couple = seed_applicants(store, org, 1, start_id=10, household_size=2)[0]
    singles = seed_applicants(store, org, 2, start_id=20, household_size=1)
    with TestClient(create_app(db_url, pool_size=2, rules=EngineRules())) as client:
        h = _h(tokens, "org")
        r = client.post("/api/shared-dwellings", headers=h, json={
            "shared_dwelling_id": 900, "department_id": "ORG1-DELE", "rooms": 2, "floor_area_m2": 110,
            "facts": {"shared_kitchen": True}})
        assert r.status_code == 201, r.text
        assert client.post("/api/shared-dwellings", headers=_h(tokens, "org2"), json={
            "shared_dwelling_id": 901, "department_id": "ORG1-DELE", "rooms": 2}).status_code == 403

        def room(dwelling_id, **over):
            body = {"dwelling_id": dwelling_id, "department_id": "ORG1-DELE", "rooms": 1, "floor_area_m2": 16,
                    "monthly_rent_dkk": 2600, "shared_dwelling_id": 900, **over}
            return client.post("/api/dwellings", headers=h, json=body)

        assert room(9001).status_code == 201 and room(9002).status_code == 201
        assert room(9001).status_code == 201                              # an identical repeat
        assert room(9003).status_code == 422 and "all registered" in room(9003).json()["detail"]
        assert room(9004, rooms=2).status_code == 422                      # a room is one letting room
        assert room(9005, department_id="ORG1-OTHER").status_code == 422   # in the delebolig's department
        assert room(9006, shared_dwelling_id=999).status_code == 404
        got = client.get("/api/shared-dwellings/900", headers=h).json()
        assert got["room_dwelling_ids"] == [9001, 9002] and got["rooms"] == 2
        assert client.get("/api/shared-dwellings/900", headers=_h(tokens, "org2")).status_code == 403
        listed = client.get("/api/departments/ORG1-DELE/dwellings", headers=h).json()
        assert {w["dwelling_id"]: w["shared_dwelling_id"] for w in listed} == {9001: 900, 9002: 900}
        v = client.post("/api/vacancies", headers=h, json={"dwelling_id": 9001, "available_from": "2024-07-01"}).json()
        made = client.post(f"/api/vacancies/{v['vacancy_id']}/offers", headers=h,
                           json={"as_of": NOW.isoformat()}).json()
        assert [o["entry_id"] for o in made["offers"]] == singles
        [skip] = [d for d in client.get(made["trail"], headers=h).json() if d["entry_id"] == couple]
        assert skip["outcome"] == "skipped" and skip["rule"] == "dk.delebolig#single_person"


def test_an_ordinary_dwelling_is_not_shared_and_goes_to_the_couple(store, tokens):
    _, org = tokens["org"]
    [dw] = seed_stock(store, org, dwellings=1)
    couple = seed_applicants(store, org, 1, start_id=10, household_size=2)[0]
    vid = store.transact(lambda s: service.register_vacancy(
        s, org, {"dwelling_id": dw, "available_from": date(2024, 7, 1)}, rules=EngineRules(), now=NOW))["vacancy_id"]
    made = store.transact(lambda s: service.make_offers(s, org, vid, None, rules=EngineRules(), now=NOW))
    assert [o["entry_id"] for o in made["offers"]] == [couple]


def test_shared_dwelling_repeat_with_other_data_conflicts(store, tokens):
    from boligmix.errors import ConflictError

    _, org = tokens["org"]
    seed_stock(store, org, dwellings=0, department_id="ORG1-DELE")
    body = {"shared_dwelling_id": 5, "department_id": "ORG1-DELE", "rooms": 3}
    store.transact(lambda s: service.register_shared_dwelling(s, org, body))
    assert store.transact(lambda s: service.register_shared_dwelling(s, org, body))["rooms"] == 3
    with pytest.raises(ConflictError):
        store.transact(lambda s: service.register_shared_dwelling(s, org, {**body, "rooms": 4}))
