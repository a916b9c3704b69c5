"""Withdrawing an application in the letting store and over the API (migration 0009): the entry
leaves its list, its open offers are withdrawn with a decision each, repeating is harmless, only the
list owner may do it, a withdrawn applicant cannot accept, and `explain` says so (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from fastapi.testclient import TestClient

from boligmix.errors import AuthorizationError, ConflictError
from boligmix.letting.store import follow_ups, service
from boligmix.letting.store.engine_rules import EngineRules
from boligmix.letting.store.explain import explain_from_store
from boligmix.web.app import create_app

from store_support import MUNI, ORG, seed_applicants, seed_stock

NOW = datetime(2024, 6, 15, 10, 0)


def _round(store, org, dw, rules):
    vid = store.transact(lambda s: service.register_vacancy(
        s, org, {"dwelling_id": dw, "available_from": date(2024, 7, 1)}, rules=rules, now=NOW))["vacancy_id"]
    return vid, store.transact(lambda s: service.make_offers(s, org, vid, None, rules=rules, now=NOW))


def test_withdrawal_withdraws_open_offers_and_the_entry_leaves_the_list(store, tokens):
    rules = EngineRules()
    _, org = tokens["org"]
    _, org2 = tokens["org2"]
    dw1, dw2 = seed_stock(store, org, dwellings=2)
    entries = seed_applicants(store, org, 4, household_size=2)
    vid, made = _round(store, org, dw1, rules)
    first = made["offers"][0]
    assert first["entry_id"] == entries[0]
    with pytest.raises(AuthorizationError):   # not the list owner
        store.transact(lambda s: follow_ups.withdraw_applicant(s, org2, entries[0], now=NOW))
    out = store.transact(lambda s: follow_ups.withdraw_applicant(s, org, entries[0], reason="moved abroad", now=NOW))
    assert out["status"] == "withdrawn" and out["withdrawn_at"].startswith("2024-06-15")
    assert out["withdrawn_offers"] == [first["offer_id"]]
    again = store.transact(lambda s: follow_ups.withdraw_applicant(s, org, entries[0], now=NOW))
    assert again == out                                                    # idempotent
    trail = store.transact(lambda s: service.list_decisions(s, org, vid))
    [w] = [d for d in trail if d["outcome"] == "withdrawn"]
    assert w["entry_id"] == entries[0] and w["rule"] == "boligmix.store#withdraw_application"
    assert "moved abroad" in w["reason"] and w["facts"]["withdrawn_by_applicant"] is True
    with pytest.raises(ConflictError):
        store.transact(lambda s: service.accept_offer(s, org, first["offer_id"], now=NOW))
    listed = store.transact(lambda s: service.list_applicants(s, org, org_id=ORG))
    assert entries[0] not in {a["entry_id"] for a in listed}
    _, later = _round(store, org, dw2, rules)                               # not a candidate any more
    assert entries[0] not in {d["entry_id"] for d in later["decisions"]}
    why = explain_from_store(store, 1000, dw1)
    assert not why.got_dwelling and "moved abroad" in why.verdict and "withdrew the application" in why.verdict
    danish = "\n".join(why.lines("da"))
    assert "trak ansøgningen på" in why.verdict_da and "»moved abroad«" in danish
    assert "(begrundelsen findes ikke på dansk)" not in danish and "withdrew" not in danish


def test_housed_entry_cannot_withdraw(store, tokens):
    rules = EngineRules()
    _, org = tokens["org"]
    [dw] = seed_stock(store, org, dwellings=1)
    [entry] = seed_applicants(store, org, 1, household_size=2)
    _vid, made = _round(store, org, dw, rules)
    store.transact(lambda s: service.accept_offer(s, org, made["offers"][0]["offer_id"], now=NOW))
    with pytest.raises(ConflictError, match="housed"):
        store.transact(lambda s: follow_ups.withdraw_applicant(s, org, entry, now=NOW))


def test_municipality_withdraws_its_referral_over_the_api(db_url, store, tokens):
    _, org = tokens["org"]
    seed_stock(store, org, dwellings=1)
    muni_h = {"Authorization": f"Bearer {tokens['muni'][0]}"}
    org_h = {"Authorization": f"Bearer {tokens['org'][0]}"}
    with TestClient(create_app(db_url, pool_size=2, rules=EngineRules())) as client:
        r = client.post("/api/applicants", headers=muni_h, json={
            "applicant_id": 7, "list_type": "municipal_referral", "municipality_code": MUNI,
            "seniority_date": "2024-01-01"})
        entry = r.json()["entry_id"]
        assert client.post(f"/api/applicants/{entry}/withdraw", headers=org_h).status_code == 403
        r = client.post(f"/api/applicants/{entry}/withdraw", headers={**muni_h, "Idempotency-Key": "w1"},
                        json={"reason": "housed privately"})
        assert r.status_code == 200 and r.json()["status"] == "withdrawn" and r.json()["withdrawn_offers"] == []
        r2 = client.post(f"/api/applicants/{entry}/withdraw", headers=muni_h)
        assert r2.status_code == 200 and r2.json()["withdrawn_at"] == r.json()["withdrawn_at"]
        assert client.post("/api/applicants/999999/withdraw", headers=muni_h).status_code == 404
