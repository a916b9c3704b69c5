"""The letting API over HTTP (in-process client): endpoints, auth, roles, idempotency, OpenAPI."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from boligmix.letting.store.selection import StoreOrderRules
from boligmix.web.app import create_app

from store_support import MUNI, ORG


@pytest.fixture
def client(db_url, store, tokens):
    with TestClient(create_app(db_url, pool_size=4, rules=StoreOrderRules())) as c:
        yield c


def _h(tokens, who, key=None):
    headers = {"Authorization": f"Bearer {tokens[who][0]}"}
    if key:
        headers["Idempotency-Key"] = key
    return headers


def _setup(client, tokens, n_applicants=3):
    org = _h(tokens, "org")
    r = client.post("/api/departments", headers=org, json={
        "department_id": "ORG1-7", "org_id": ORG, "department_name": "Syvtallet", "municipality_code": MUNI,
        "area_categories": ["udsat"]})
    assert r.status_code == 201, r.text
    r = client.post("/api/dwellings", headers=org, json={
        "dwelling_id": 9001, "department_id": "ORG1-7", "rooms": 3, "floor_area_m2": 75, "monthly_rent_dkk": 5500})
    assert r.status_code == 201, r.text
    for i in range(n_applicants):
        r = client.post("/api/applicants", headers=org, json={
            "applicant_id": 100 + i, "household_id": 200 + i, "list_type": "external", "org_id": ORG,
            "seniority_date": f"2019-0{i + 1}-01", "min_rooms": 2})
        assert r.status_code == 201, r.text
    r = client.post("/api/vacancies", headers=org, json={"dwelling_id": 9001, "available_from": "2025-03-01"})
    assert r.status_code == 201, r.text
    return r.json()["vacancy_id"]


def test_letting_flow_over_http(client, tokens):
    org = _h(tokens, "org")
    vid = _setup(client, tokens)
    r = client.post(f"/api/vacancies/{vid}/offers", headers=org, json={"count": 2})
    assert r.status_code == 201, r.text
    offers = r.json()["offers"]
    assert [o["applicant_id"] for o in offers] == [100, 101]
    assert all(o["rule"] and o["rule_version"] for o in offers)
    r = client.post(f"/api/offers/{offers[0]['offer_id']}/refuse", headers=org, json={"reason": "no"})
    assert r.status_code == 200 and r.json()["status"] == "refused"
    r = client.post(f"/api/offers/{offers[1]['offer_id']}/accept", headers=org)
    assert r.status_code == 201 and r.json()["applicant_id"] == 101 and r.json()["lease_start"] == "2025-03-01"
    r = client.post(f"/api/offers/{offers[1]['offer_id']}/accept", headers=org)
    assert r.status_code == 409
    r = client.get(f"/api/vacancies/{vid}", headers=org)
    assert r.json()["status"] == "let" and r.json()["lease"]["applicant_id"] == 101
    trail = client.get("/api/decisions", params={"vacancy_id": vid}, headers=org).json()
    assert [d["outcome"] for d in trail] == ["channel", "offered", "offered", "refused", "let"]
    assert all(d["actor"] == "org1" for d in trail)
    listed = client.get("/api/applicants", params={"org_id": ORG}, headers=org).json()
    assert [a["applicant_id"] for a in listed] == [100, 102]  # 101 is housed
    assert client.get("/api/departments", headers=org).json()[0]["area_categories"] == ["udsat"]
    assert [w["dwelling_id"] for w in client.get("/api/departments/ORG1-7/dwellings", headers=org).json()] == [9001]


def test_tokens_and_scopes(client, tokens):
    vid = _setup(client, tokens)
    assert client.get("/api/vacancies").status_code == 401
    r = client.get("/api/vacancies", headers={"Authorization": "Bearer bmx_not-a-token"})
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert client.get("/api/vacancies", headers={"Authorization": "Basic abc"}).status_code == 401
    assert client.get("/api/whoami", headers=_h(tokens, "org2")).json()["scope"] == ["ORG2"]
    assert client.get("/api/vacancies", headers=_h(tokens, "org2")).json() == []
    assert client.post(f"/api/vacancies/{vid}/offers", headers=_h(tokens, "org2")).status_code == 403
    assert client.post(f"/api/vacancies/{vid}/offers", headers=_h(tokens, "analyst")).status_code == 403
    assert client.get("/api/decisions", params={"vacancy_id": vid}, headers=_h(tokens, "muni2")).status_code == 403
    assert client.get("/api/decisions", params={"vacancy_id": vid}, headers=_h(tokens, "muni")).status_code == 200
    r = client.post("/api/applicants", headers=_h(tokens, "org2"), json={
        "applicant_id": 1, "list_type": "external", "org_id": ORG, "seniority_date": "2020-01-01"})
    assert r.status_code == 403
    assert client.get("/api/applicants", params={"org_id": ORG}, headers=_h(tokens, "muni")).status_code == 403
    assert client.get("/api/vacancies/99999", headers=_h(tokens, "org")).status_code == 404
    r = client.post("/api/vacancies", headers=_h(tokens, "org"), json={"dwelling_id": 9001,
                                                                        "available_from": "not a date"})
    assert r.status_code == 422


def test_analyst_responses_are_pseudonymised(client, tokens):
    """Analysts see pseudonymised ids only, and no row-level applicant or decision data (403)."""
    vid = _setup(client, tokens)
    client.post(f"/api/vacancies/{vid}/offers", headers=_h(tokens, "org"), json={"count": 3})
    analyst = _h(tokens, "analyst")
    offers = client.get(f"/api/vacancies/{vid}", headers=analyst).json()["offers"]
    ids = [o["applicant_id"] for o in offers]
    assert len(ids) == 3 and all(isinstance(i, str) and i.startswith("p_") for i in ids) and len(set(ids)) == 3
    assert all(o["household_id"].startswith("p_") for o in offers)
    for path, params in (("/api/decisions", {"vacancy_id": vid}), ("/api/applicants", {"org_id": ORG}),
                         ("/api/entitlements", {"org_id": ORG}),
                         ("/api/redirected-referrals", {"municipality_code": MUNI})):
        r = client.get(path, params=params, headers=analyst)
        assert r.status_code == 403 and r.json()["error"] == "AuthorizationError", path
    # the trail in aggregate instead, through disclosure control (3 offers: below the minimum count)
    period = {"period_start": "2000-01-01", "period_end": "2199-01-01"}
    report = client.get("/api/reports/decisions", params=period, headers=analyst).json()
    assert report["suppression"] == "disclosure policy" and report["rows"]
    offered = [r for r in report["rows"] if r["outcome"] == "offered"]
    assert len(offered) == 1 and offered[0]["decisions"] is None and offered[0]["applicants"] is None
    assert all(set(r) <= {"municipality_code", "org_id", "channel", "outcome", "rule", "rule_version", "decisions",
                          "applicants", "suppressed"} for r in report["rows"])  # no person id, no facts
    muni = client.get("/api/reports/decisions", params={"municipality_code": MUNI, **period},
                      headers=_h(tokens, "muni")).json()
    assert [r["decisions"] for r in muni["rows"] if r["outcome"] == "offered"] == [3]  # exact for the municipality


def test_idempotency_keys_over_http(client, tokens):
    vid = _setup(client, tokens)
    org = _h(tokens, "org", key="round-1")
    first = client.post(f"/api/vacancies/{vid}/offers", headers=org, json={"count": 1})
    again = client.post(f"/api/vacancies/{vid}/offers", headers=org, json={"count": 1})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["idempotency-replayed"] == "true"
    assert len(client.get(f"/api/vacancies/{vid}", headers=org).json()["offers"]) == 1
    r = client.post(f"/api/vacancies/{vid}/offers", headers=org, json={"count": 2})
    assert r.status_code == 422 and "different request" in r.json()["detail"]
    offer_id = first.json()["offers"][0]["offer_id"]
    a1 = client.post(f"/api/offers/{offer_id}/accept", headers=_h(tokens, "org", key="acc"))
    a2 = client.post(f"/api/offers/{offer_id}/accept", headers=_h(tokens, "org", key="acc"))
    assert a1.status_code == a2.status_code == 201 and a1.json() == a2.json()
    a3 = client.post(f"/api/offers/{offer_id}/accept", headers=_h(tokens, "org", key="acc-2"))
    assert a3.status_code == 409


def test_openapi_lists_the_endpoints(client):
    spec = client.get("/openapi.json").json()
    for path, method in [("/api/vacancies", "post"), ("/api/vacancies/{vacancy_id}/offers", "post"),
                         ("/api/offers/{offer_id}/accept", "post"), ("/api/offers/{offer_id}/refuse", "post"),
                         ("/api/decisions", "get"), ("/api/applicants", "post"), ("/api/applicants", "get"),
                         ("/api/departments", "post"), ("/api/dwellings", "post")]:
        assert method in spec["paths"][path], path
    assert client.get("/api/health").json()["status"] == "ok"


def test_offers_by_the_letting_engine(db_url, store, tokens):
    """Default rules: the engine's policies. In an omdannelsesområde, § 51 c rejects a household where
    applicant and spouse received kontanthjælp; the rest are ranked and offered by the waiting list."""
    org = _h(tokens, "org")
    with TestClient(create_app(db_url, pool_size=4)) as client:
        assert client.get("/api/health").json()["rules"] == "engine"
        r = client.post("/api/departments", headers=org, json={
            "department_id": "ORG1-9", "org_id": ORG, "department_name": "Omdannelse", "municipality_code": MUNI,
            "area_id": "A9", "area_categories": ["udsat", "parallelsamfund", "omdannelse"]})
        assert r.status_code == 201, r.text
        assert client.post("/api/dwellings", headers=org, json={
            "dwelling_id": 9901, "department_id": "ORG1-9", "rooms": 2, "floor_area_m2": 60,
            "monthly_rent_dkk": 5000}).status_code == 201

        def household(pid, benefit):
            spells = [{"benefit": benefit, "first_month": "2023-01-01", "last_month": "2024-06-01"}] if benefit else []
            hist = {"known_from": "2020-01-01", "known_to": "2024-06-01", "spells": spells}
            return {"members": [
                {"person_id": pid, "role": "applicant", "birth_date": "1985-01-01", "benefits": hist,
                 "facts": {"eu_eea_ch_citizen": True}},
                {"person_id": pid + 1, "role": "spouse", "birth_date": "1986-01-01", "benefits": hist,
                 "facts": {"eu_eea_ch_citizen": True}}]}

        for i, benefit in enumerate(["kontanthjaelp", None, None]):
            r = client.post("/api/applicants", headers=org, json={
                "applicant_id": 300 + i, "household_id": 400 + i, "list_type": "external", "org_id": ORG,
                "seniority_date": f"2015-0{i + 1}-01", "household": household(1000 + 10 * i, benefit)})
            assert r.status_code == 201, r.text
        bad = client.post("/api/applicants", headers=org, json={
            "applicant_id": 399, "list_type": "external", "org_id": ORG, "seniority_date": "2015-01-01",
            "household": {"members": [{"person_id": 1, "role": "boss"}]}})
        # the typed household schema names the field (body > household > members > 0 > role) and the
        # allowed roles; the refused value itself is not echoed (it may be person data)
        detail = str(bad.json()["detail"])
        assert bad.status_code == 422 and "members.0.role" in detail and "'spouse'" in detail
        assert "boss" not in detail
        vid = client.post("/api/vacancies", headers=org,
                          json={"dwelling_id": 9901, "available_from": "2024-07-01"}).json()["vacancy_id"]
        r = client.post(f"/api/vacancies/{vid}/offers", headers=org, json={"as_of": "2024-06-15T10:00:00"})
        assert r.status_code == 201, r.text
        out = r.json()
        assert out["rules"] == "engine"
        # The answer names the offers and links the trail; the round's decisions are read there.
        assert "decisions" not in out and out["trail"] == f"/api/decisions?vacancy_id={vid}"
        trail = client.get(out["trail"], headers=org).json()
        assert trail[0]["outcome"] == "channel"
        decisions = trail[1:]
        assert len(decisions) == sum(out["outcomes"].values()) and out["considered"] == 3
        by_applicant = {d["applicant_id"]: d for d in decisions if d["applicant_id"] is not None}
        assert set(by_applicant) == {300, 301, 302}
        assert by_applicant[300]["outcome"] == "rejected"
        assert by_applicant[300]["rule"].startswith("dk.almenboligloven.51c")
        assert "51 c" in by_applicant[300]["law"]
        assert [o["applicant_id"] for o in out["offers"]] and 300 not in [o["applicant_id"] for o in out["offers"]]
        assert all(o["rule"].startswith("dk.") and o["rule_version"] for o in out["offers"])
        assert [d["position"] for d in decisions] == list(range(1, len(decisions) + 1))  # one compact row
        assert len({d["decision_id"] for d in decisions}) == 1
        # The round was assessed as of 2024-06-15, so its answer deadline (7 days) has long passed:
        # the acceptance is refused and the offer expires (recorded in the trail).
        accepted = client.post(f"/api/offers/{out['offers'][0]['offer_id']}/accept", headers=org)
        assert accepted.status_code == 409 and accepted.json()["error"] == "OfferExpiredError", accepted.text
        trail = client.get("/api/decisions", params={"vacancy_id": vid}, headers=org).json()
        assert trail[-1]["outcome"] == "expired" and trail[-1]["facts"]["at_accept"] is True
