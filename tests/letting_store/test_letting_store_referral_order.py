"""The municipality's own order of its referrals in the letting store (migration 0010): set at
registration or with `POST /api/applicants/{id}/referral-order` by the municipality only, followed
by the engine's referral rounds and by the list order, recorded in the decisions (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from fastapi.testclient import TestClient

from boligmix.letting.store import service
from boligmix.letting.store.engine_rules import EngineRules
from boligmix.letting.store.errors import InvalidRequestError
from boligmix.web.app import create_app

from store_support import MUNI, ORG, seed_stock

NOW = datetime(2024, 6, 15, 10, 0)
AGREEMENT = ("id: k0101.anvisning_alle\nbase: dk.almenboligloven.59\nversion: '2024-01-01.1'\n"
             "effective_from: 2010-01-01\nscope: {municipality_codes: [101], almen_types: [family]}\n"
             "shares: {kommunal_anvisning: 1.0}\n")


@pytest.fixture(scope="module")
def rules(tmp_path_factory) -> EngineRules:
    from boligmix.letting.policy import POLICY_DIR, load_policies

    folder = tmp_path_factory.mktemp("anvisning")
    (folder / "k0101_anvisning.yaml").write_text(AGREEMENT, encoding="utf-8")
    return EngineRules(load_policies([POLICY_DIR / "statutory", folder]))


def _h(tokens, who):
    return {"Authorization": f"Bearer {tokens[who][0]}"}


def test_municipality_orders_its_referrals_and_the_round_follows(db_url, store, tokens, rules):
    _, org = tokens["org"]
    [dw] = seed_stock(store, org, dwellings=1)
    with TestClient(create_app(db_url, pool_size=2, rules=rules)) as client:
        ids = []
        for aid, seniority, order in ((1, "2001-01-01", None), (2, "2020-01-01", None), (3, "2023-01-01", 1)):
            r = client.post("/api/applicants", headers=_h(tokens, "muni"), json={
                "applicant_id": aid, "list_type": "municipal_referral", "municipality_code": MUNI,
                "seniority_date": seniority, "referral_order": order})
            assert r.status_code == 201, r.text
            ids.append(r.json()["entry_id"])
        r = client.post("/api/applicants", headers=_h(tokens, "org"), json={
            "applicant_id": 9, "list_type": "external", "org_id": ORG, "seniority_date": "2001-01-01",
            "referral_order": 1})
        assert r.status_code == 422                                   # an organisation's list has no such order
        path = f"/api/applicants/{ids[1]}/referral-order"
        assert client.post(path, headers=_h(tokens, "org"), json={"referral_order": 0}).status_code == 403
        assert client.post(path, headers=_h(tokens, "muni2"), json={"referral_order": 0}).status_code == 403
        assert client.post(path, headers=_h(tokens, "analyst"), json={"referral_order": 0}).status_code == 403
        r = client.post(path, headers=_h(tokens, "muni"), json={"referral_order": 0})
        assert r.status_code == 200 and r.json()["referral_order"] == 0
        listed = client.get("/api/applicants", headers=_h(tokens, "muni"), params={"municipality_code": MUNI}).json()
        assert [a["entry_id"] for a in listed] == [ids[1], ids[2], ids[0]]
        v = client.post("/api/vacancies", headers=_h(tokens, "org"),
                        json={"dwelling_id": dw, "available_from": "2024-07-01"}).json()
        assert v["channel"] == "kommunal_anvisning"
        made = client.post(f"/api/vacancies/{v['vacancy_id']}/offers", headers=_h(tokens, "muni"),
                           json={"as_of": NOW.isoformat()}).json()
        assert [o["entry_id"] for o in made["offers"]] == [ids[1], ids[2], ids[0]]
        offered = {d["entry_id"]: d["facts"]["referral_order"] for d in client.get(made["trail"], headers=_h(tokens, "muni")).json()
                   if d["outcome"] == "offered"}
        assert offered == {ids[1]: 0, ids[2]: 1, ids[0]: None}
        r = client.post(f"/api/applicants/{ids[1]}/referral-order", headers=_h(tokens, "muni"),
                        json={"referral_order": None})
        assert r.status_code == 200 and r.json()["referral_order"] is None


def test_organisation_entry_cannot_be_ordered(store, tokens):
    from boligmix.letting.store import follow_ups

    _, org = tokens["org"]
    entry = store.transact(lambda s: service.create_applicant(s, org, {
        "applicant_id": 5, "list_type": "external", "org_id": ORG, "seniority_date": date(2020, 1, 1)}))
    with pytest.raises(InvalidRequestError, match="only a municipality"):
        store.transact(lambda s: follow_ups.set_referral_order(s, org, entry["entry_id"], 1))
