"""Bad input to the letting API is a documented 4xx with the one error shape `{"error", "detail"}`;
client times that decide rights are never in the server's future."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from boligmix.letting.store import service
from boligmix.letting.store.engine_rules import EngineRules
from boligmix.web.app import create_app

from store_support import ORG, seed_applicants, seed_stock


@pytest.fixture
def client(db_url, store, tokens):
    with TestClient(create_app(db_url, pool_size=4, rules=EngineRules()), raise_server_exceptions=False) as c:
        yield c


def _h(tokens, who="org"):
    return {"Authorization": f"Bearer {tokens[who][0]}"}


def _engine_offers(store, org):
    from datetime import date

    rules = EngineRules()
    [dw] = seed_stock(store, org, dwellings=1)
    seed_applicants(store, org, 3, household_size=3)
    vid = store.transact(lambda s: service.register_vacancy(
        s, org, {"dwelling_id": dw, "available_from": date(2025, 1, 1)}, rules=rules))["vacancy_id"]
    offers = store.transact(lambda s: service.make_offers(s, org, vid, None, rules=rules))["offers"]
    assert offers and all(o["deadline"] for o in offers)
    return vid, offers


@pytest.mark.parametrize("as_of", ["2999-01-01T00:00:00Z", "9999-12-31T23:59:59"])
def test_a_client_cannot_expire_offers_early(client, store, tokens, as_of):
    """Before: `as_of` a week ahead expired the offers and counted refusals (three make passive)."""
    _, org = tokens["org"]
    vid, offers = _engine_offers(store, org)
    r = client.post(f"/api/vacancies/{vid}/expire", headers=_h(tokens), json={"as_of": as_of})
    assert r.status_code == 422 and set(r.json()) == {"error", "detail"}, r.text
    statuses = {o["status"] for o in client.get(f"/api/vacancies/{vid}", headers=_h(tokens)).json()["offers"]}
    assert statuses == {"open"}
    r = client.post(f"/api/vacancies/{vid}/expire", headers=_h(tokens), json={})  # the server's time: none due
    assert r.status_code == 200 and r.json() == []
    for path in (f"/api/vacancies/{vid}/offers", f"/api/applicants/{offers[0]['entry_id']}/withdraw"):
        r = client.post(path, headers=_h(tokens), json={"as_of": as_of})
        assert r.status_code == 422, (path, r.text)


BIG = 2**31
HUGE = 2**63


@pytest.mark.parametrize("method,path", [
    ("GET", f"/api/vacancies/{BIG}"), ("POST", f"/api/vacancies/{BIG}/offers"), ("POST", f"/api/offers/{BIG}/accept"),
    ("POST", f"/api/offers/{BIG}/refuse"), ("POST", f"/api/vacancies/{BIG}/expire"),
    ("PATCH", f"/api/applicants/{BIG}"), ("POST", f"/api/applicants/{BIG}/withdraw"),
    ("POST", f"/api/applicants/{BIG}/reactivate"), ("POST", f"/api/applicants/{BIG}/referral-order"),
    ("GET", f"/api/decisions?vacancy_id={BIG}"), ("GET", f"/api/shared-dwellings/{HUGE}"),
    ("GET", f"/api/applicants?org_id={ORG}&offset={HUGE}"), ("GET", "/api/departments/A%00B/dwellings"),
    ("GET", "/api/applicants?org_id=OR%00G1"), ("GET", "/api/reports/dispensations?period_end=9999-12-31"),
])
def test_out_of_range_ids_and_nul_bytes_are_4xx(client, tokens, method, path):
    body = {"referral_order": 1} if path.endswith("referral-order") else {}
    r = client.request(method, path, headers=_h(tokens), json=body)
    assert 400 <= r.status_code < 500 and set(r.json()) == {"error", "detail"}, r.text


@pytest.mark.parametrize("household", [
    {"members": [{"person_id": 1, "role": "applicant", "benefits": {"known_to": "2024-01-01"}}]},
    {"members": [{"person_id": 1, "role": "applicant",
                  "benefits": {"known_from": "2020-01-01", "known_to": "2024-01-01", "spells": [7]}}]},
    {"members": [{"person_id": "x", "role": "applicant"}]},
    {"members": [{"person_id": 1, "role": "applicant", "facts": [1, 2]}]},
    {"members": "everyone"},
    {"members": [{"person_id": 1, "role": "applicant", "birth_date": ["1980"]}]},
])
def test_malformed_households_are_422(client, tokens, household):
    r = client.post("/api/applicants", headers=_h(tokens), json={
        "applicant_id": 5, "list_type": "external", "org_id": ORG, "seniority_date": "2020-01-01",
        "household": household})
    assert r.status_code == 422 and set(r.json()) == {"error", "detail"}, r.text


def test_nul_in_a_body_string_and_the_validation_error_shape(client, tokens):
    r = client.post("/api/applicants", headers=_h(tokens), json={
        "applicant_id": 5, "list_type": "external", "org_id": ORG, "seniority_date": "2020-01-01",
        "facts": {"note": "a\x00b"}})
    assert r.status_code == 422 and r.json()["error"] == "ValidationError" and "NUL" in r.json()["detail"]
    r = client.post("/api/applicants", headers=_h(tokens), json={"applicant_id": -1})
    assert r.status_code == 422 and set(r.json()) == {"error", "detail"} and "applicant_id" in r.json()["detail"]


def test_a_database_outage_is_503_json(db_url, store, tokens, tmp_path):
    from sqlalchemy import create_engine

    app = create_app(db_url, rules=EngineRules(), fast_path=False)
    dead = create_engine(f"sqlite:///{tmp_path / 'missing' / 'dir' / 'x.sqlite'}" if db_url.startswith("sqlite")
                         else "postgresql+psycopg://nobody:x@127.0.0.1:9/none", hide_parameters=True)
    app.state.store._read_sessions.configure(bind=dead)
    app.state.store._write_sessions.configure(bind=dead)
    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.get("/api/departments", headers=_h(tokens))  # the token is not cached yet: its check needs the database
        assert r.status_code == 503 and set(r.json()) == {"error", "detail"} and r.headers["Retry-After"]


def test_openapi_documents_the_error_answers_and_docs_are_offline(client):
    spec = client.get("/openapi.json").json()
    accept = spec["paths"]["/api/offers/{offer_id}/accept"]["post"]["responses"]
    assert {"201", "202", "401", "403", "404", "409", "422", "503"} <= set(accept)
    ref = accept["422"]["content"]["application/json"]["schema"]["$ref"]
    assert ref.endswith("/ErrorOut") and set(spec["components"]["schemas"]["ErrorOut"]["required"]) == {"error",
                                                                                                        "detail"}
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    html = client.get("/docs").text
    assert "/docs-static/swagger-ui-bundle.js" in html and "cdn" not in html.lower()
    assert client.get("/docs-static/swagger-ui-bundle.js").status_code == 200


def test_database_errors_carry_no_person_data(store, tokens, caplog):
    """SQL parameters (person ids, reasons, facts) appear neither in the error nor in the log (before:
    database errors logged the statement's parameters, up to 80 KB)."""
    import logging

    from sqlalchemy.exc import IntegrityError

    from boligmix.letting.store.models import Offer
    from boligmix.web.errors import log_db_error

    _, org = tokens["org"]
    with pytest.raises(IntegrityError) as info:
        with store.write() as s:
            s.add(Offer(vacancy_id=424242, entry_id=313131, applicant_id=987654321, household_id=55555,
                        rank=1, channel="waiting_list", rule="secret reason", rule_version="0", status="open"))
            s.flush()
    with caplog.at_level(logging.ERROR, logger="boligmix.web"):
        log_db_error(info.value)
    assert "secret reason" not in str(info.value) and "hidden due to hide_parameters" in str(info.value)
    # (PostgreSQL's own message may name a key's value; the log takes the class, SQLSTATE and constraint only)
    assert "987654321" not in caplog.text and "313131" not in caplog.text and "secret reason" not in caplog.text
    assert "IntegrityError" in caplog.text
