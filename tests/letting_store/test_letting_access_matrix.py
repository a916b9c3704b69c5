"""Every route × role × scope of the letting API against one expectation table.

Principals: the organisation that owns the objects (`org`), another organisation (`org2`), the
municipality the department lies in (`muni`), another municipality (`muni2`), an analyst, a
revoked token and no token. A denied request is 403 (401 without a valid token) and changes
nothing; an allowed one is not refused for access (its own answer may be 2xx, 404, 409 ...).
Every route of the app must have a row here and in `access.ROUTES`; who may set which applicant
facts (the municipality's § 51 c dispensation) has its own matrix below."""

from __future__ import annotations

import shutil
from datetime import date

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from boligmix.letting.store import access, service
from boligmix.letting.store.db import Store
from boligmix.letting.store.models import Applicant, Decision, Lease, Offer, Vacancy
from boligmix.letting.store.selection import StoreOrderRules
from boligmix.web.app import create_app

from store_support import STORE_ORDER, MUNI, ORG, add_token, seed_applicants, seed_stock

WHO = ("org", "org2", "muni", "muni2", "analyst", "revoked", "none")
ALL = frozenset(WHO) - {"revoked", "none"}

# route -> (method, path template with {names} from the world, body, principals allowed)
CASES: list[tuple[str, str, dict | None, frozenset[str]]] = [
    ("GET", "/api/health", None, frozenset(WHO)),
    ("GET", "/docs", None, frozenset(WHO)),
    ("GET", "/api/whoami", None, ALL),
    ("POST", "/api/departments", {"department_id": "ORG1-NEW", "org_id": ORG, "department_name": "Ny",
                                  "municipality_code": MUNI}, frozenset({"org"})),
    ("GET", "/api/departments", None, ALL),
    ("POST", "/api/dwellings", {"dwelling_id": 77_001, "department_id": "ORG1-01", "rooms": 2, "floor_area_m2": 50,
                                "monthly_rent_dkk": 4000}, frozenset({"org"})),
    ("POST", "/api/shared-dwellings", {"shared_dwelling_id": 88, "department_id": "ORG1-01", "rooms": 3},
     frozenset({"org"})),
    ("GET", "/api/shared-dwellings/{shared}", None, frozenset({"org", "muni", "analyst"})),
    ("GET", "/api/departments/ORG1-01/dwellings", None, frozenset({"org", "muni", "analyst"})),
    ("POST", "/api/applicants", {"applicant_id": 4242, "list_type": "external", "org_id": ORG,
                                 "seniority_date": "2020-01-01"}, frozenset({"org"})),
    ("GET", "/api/applicants?org_id=ORG1", None, frozenset({"org"})),
    ("GET", f"/api/applicants?municipality_code={MUNI}", None, frozenset({"muni"})),
    ("PATCH", "/api/applicants/{entry}", {"facts": {"employed": True}}, frozenset({"org"})),
    ("PATCH", "/api/applicants/{referral}", {"facts": {"employed": True}}, frozenset({"muni"})),
    ("POST", "/api/applicants/{entry}/reactivate", {}, frozenset({"org"})),
    ("POST", "/api/applicants/{entry}/withdraw", {}, frozenset({"org"})),
    ("POST", "/api/applicants/{referral}/withdraw", {}, frozenset({"muni"})),
    ("POST", "/api/applicants/{referral}/referral-order", {"referral_order": 1}, frozenset({"muni"})),
    ("GET", f"/api/redirected-referrals?municipality_code={MUNI}", None, frozenset({"muni"})),
    ("POST", "/api/vacancies", {"dwelling_id": "{free_dwelling}", "available_from": "2025-01-01"},
     frozenset({"org"})),
    ("GET", "/api/vacancies", None, ALL),
    ("GET", "/api/vacancies/{vacancy}", None, frozenset({"org", "muni", "analyst"})),
    ("POST", "/api/vacancies/{vacancy}/offers", {"count": 1}, frozenset({"org"})),
    ("POST", "/api/vacancies/{referral_vacancy}/offers", {"count": 1}, frozenset({"muni"})),
    ("POST", "/api/offers/{offer}/accept", {}, frozenset({"org"})),
    ("POST", "/api/offers/{referral_offer}/accept", {}, frozenset({"muni"})),
    ("POST", "/api/offers/{offer}/refuse", {}, frozenset({"org"})),
    ("POST", "/api/vacancies/{vacancy}/expire", {}, frozenset({"org"})),
    ("GET", "/api/entitlements?org_id=ORG1", None, frozenset({"org"})),
    ("GET", f"/api/reports/dispensations?municipality_code={MUNI}&period_end=2025-07-01", None,
     frozenset({"muni", "analyst"})),
    ("GET", f"/api/reports/rejections-51b?municipality_code={MUNI}&period_end=2025-07-01", None,
     frozenset({"muni", "analyst"})),
    ("GET", f"/api/reports/decisions?municipality_code={MUNI}&period_end=2099-07-01", None,
     frozenset({"muni", "analyst"})),
    ("GET", "/api/decisions?vacancy_id={vacancy}", None, frozenset({"org", "muni"})),
]


def _world(url: str) -> tuple[dict[str, str], dict[str, int]]:
    store = Store(url, pool_size=2)
    try:
        tokens = {"org": add_token(store, "org1", "housing_organisation", [ORG]),
                  "org2": add_token(store, "org2", "housing_organisation", ["ORG2"]),
                  "muni": add_token(store, "kbh", "municipality", [str(MUNI)]),
                  "muni2": add_token(store, "aarhus", "municipality", ["751"]),
                  "analyst": add_token(store, "analyst", "analyst", []),
                  "revoked": add_token(store, "gone", "housing_organisation", [ORG])}
        _, org = tokens["org"]
        _, muni = tokens["muni"]
        dws = seed_stock(store, org, dwellings=3, department_id="ORG1-01", dwelling_base=1000)
        entries = seed_applicants(store, org, 3, household_size=2)
        referrals = seed_applicants(store, muni, 2, start_id=3000, list_type="municipal_referral",
                                    org_id=None, municipality_code=MUNI)

        def op(s):
            service.register_shared_dwelling(s, org, {"shared_dwelling_id": 5, "department_id": "ORG1-01",
                                                      "rooms": 2})
            v = service.register_vacancy(s, org, {"dwelling_id": dws[0], "available_from": date(2025, 1, 1)})
            offers = service.make_offers(s, org, v["vacancy_id"], 2, rules=STORE_ORDER)["offers"]
            rv = service.register_vacancy(s, org, {"dwelling_id": dws[1], "available_from": date(2025, 1, 1),
                                                   "channel": "kommunal_anvisning"})
            roffers = service.make_offers(s, muni, rv["vacancy_id"], 1, rules=STORE_ORDER)["offers"]
            return v["vacancy_id"], offers[0]["offer_id"], rv["vacancy_id"], roffers[0]["offer_id"]
        vacancy, offer, referral_vacancy, referral_offer = store.transact(op)
        from boligmix.letting.store.models import ApiToken, utcnow
        with store.write() as s:
            s.get(ApiToken, tokens["revoked"][1].token_id).revoked_at = utcnow()
        ids = {"entry": entries[2], "referral": referrals[1], "vacancy": vacancy, "offer": offer,
               "referral_vacancy": referral_vacancy, "referral_offer": referral_offer, "free_dwelling": dws[2],
               "shared": 5}
        return {k: v[0] for k, v in tokens.items()}, ids
    finally:
        store.dispose()


def _counts(url: str) -> dict[str, int]:
    store = Store(url, pool_size=1)
    try:
        with store.read() as s:
            return {m.__tablename__: s.scalar(select(func.count()).select_from(m)) or 0
                    for m in (Applicant, Vacancy, Offer, Lease, Decision)}
    finally:
        store.dispose()


def _fill(value, ids):
    if isinstance(value, str):
        out = value.format(**ids)
        return int(out) if value.startswith("{") and out.isdigit() else out
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    return value


@pytest.fixture(scope="module")
def world_template(tmp_path_factory, sqlite_template):
    path = tmp_path_factory.mktemp("access") / "world.sqlite"
    shutil.copy(sqlite_template, path)
    secrets, ids = _world(f"sqlite:///{path}")
    return path, secrets, ids


def test_every_route_has_an_access_rule_and_a_matrix_row(world_template):
    path, _secrets, _ids = world_template
    app = create_app(f"sqlite:///{path}", rules=StoreOrderRules())
    routes = {(m, r.path) for r in app.routes if isinstance(r, APIRoute) for m in r.methods}
    assert routes == set(access.ROUTES)
    covered = {(m, p.split("?")[0].replace("{entry}", "{entry_id}").replace("{referral}", "{entry_id}")
                .replace("{vacancy}", "{vacancy_id}").replace("{referral_vacancy}", "{vacancy_id}")
                .replace("{offer}", "{offer_id}").replace("{referral_offer}", "{offer_id}")
                .replace("{shared}", "{shared_dwelling_id}").replace("ORG1-01", "{department_id}"))
               for m, p, _b, _w in CASES}
    assert covered == routes


@pytest.fixture(scope="module")
def shared_world(world_template, tmp_path_factory):
    """One world for the whole matrix: a denied request changes nothing, and an allowed one is only
    checked not to be refused for access, so the order of the rows does not matter."""
    template, secrets, ids = world_template
    db = tmp_path_factory.mktemp("matrix") / "w.sqlite"
    shutil.copy(template, db)
    url = f"sqlite:///{db}"
    with TestClient(create_app(url, rules=StoreOrderRules())) as client:
        yield client, url, secrets, ids


@pytest.mark.parametrize("method,path,body,allowed", CASES, ids=[f"{m} {p}" for m, p, _b, _a in CASES])
def test_route_role_scope_matrix(shared_world, method, path, body, allowed):
    client, url, secrets, ids = shared_world
    target = _fill(path, ids)
    payload = _fill(body, ids)
    # the denied first (they must change nothing), the allowed after
    for who in sorted(WHO, key=lambda w: w in allowed):
        headers = {} if who == "none" else {"Authorization": f"Bearer {secrets[who]}"}
        before = _counts(url)
        r = client.request(method, target, headers=headers, json=payload)
        if who in allowed:
            assert r.status_code not in (401, 403), (who, r.status_code, r.text)
            assert r.status_code < 500, (who, r.status_code, r.text)
        else:
            expected = 401 if who in ("revoked", "none") else 403
            assert r.status_code == expected, (who, r.status_code, r.text)
            assert set(r.json()) == {"error", "detail"}
            assert _counts(url) == before, who


DISPENSATION = {"dispensation_51c": True, "dispensation_51c_grounds": "imminent_pension"}


@pytest.mark.parametrize("who,facts,status", [
    ("org", DISPENSATION, 403),                       # the organisation cannot grant itself a dispensation
    ("org", {"dispensation_51c_grounds": "x"}, 403),  # nor its grounds
    ("org", {"employed": True}, 200),                 # its other facts it sets
    ("muni", DISPENSATION, 200),                      # the municipality of the department grants it (bek. § 37)
    ("muni", {"employed": True}, 403),                # and sets nothing else on an organisation's entry
    ("muni2", DISPENSATION, 403),                     # another municipality cannot
    ("org2", DISPENSATION, 403),
    ("analyst", DISPENSATION, 403),
])
def test_who_may_set_which_applicant_facts(world_template, tmp_path, who, facts, status):
    template, secrets, ids = world_template
    db = tmp_path / "w.sqlite"
    shutil.copy(template, db)
    with TestClient(create_app(f"sqlite:///{db}", rules=StoreOrderRules())) as client:
        r = client.patch(f"/api/applicants/{ids['entry']}", headers={"Authorization": f"Bearer {secrets[who]}"},
                         json={"facts": facts})
        assert r.status_code == status, r.text
        org = {"Authorization": f"Bearer {secrets['org']}"}
        stored = next(a for a in client.get("/api/applicants", params={"org_id": ORG}, headers=org).json()
                      if a["entry_id"] == ids["entry"])["facts"]
        assert stored == (facts if status == 200 else {})
        if who == "muni" and status == 200:
            # the organisation's later replacement of its facts keeps the municipality's dispensation
            r = client.patch(f"/api/applicants/{ids['entry']}", headers=org, json={"facts": {"employed": True}})
            assert r.status_code == 200 and r.json()["facts"] == {**DISPENSATION, "employed": True}
            # and registering an applicant with a dispensation is refused to the organisation
            r = client.post("/api/applicants", headers=org, json={
                "applicant_id": 9, "list_type": "external", "org_id": ORG, "seniority_date": "2020-01-01",
                "facts": {"dispensation_51c": True}})
            assert r.status_code == 403
