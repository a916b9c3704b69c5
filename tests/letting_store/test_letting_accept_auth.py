"""The accept and auth path: offers accepted after their deadline, token revocation across app
instances, and the PostgreSQL fast path giving the full app's answers (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from boligmix.cli.main import app as cli
from boligmix.errors import ConflictError
from boligmix.letting.store import service
from boligmix.letting.store.engine_rules import EngineRules
from boligmix.letting.store.errors import OfferExpiredError
from boligmix.letting.store.selection import StoreOrderRules
from boligmix.web.app import create_app

from store_support import STORE_ORDER, ORG, seed_applicants, seed_stock

NOW = datetime(2024, 6, 15, 10, 0)


def _h(tokens, who, key=None):
    headers = {"Authorization": f"Bearer {tokens[who][0]}"}
    if key:
        headers["Idempotency-Key"] = key
    return headers


def _engine_round(store, org, dwelling_id, now):
    rules = EngineRules()
    vid = store.transact(lambda s: service.register_vacancy(
        s, org, {"dwelling_id": dwelling_id, "available_from": date(2024, 8, 1)}, rules=rules, now=now))["vacancy_id"]
    made = store.transact(lambda s: service.make_offers(s, org, vid, None, rules=rules, now=now))
    assert made["offers"]
    return vid, made["offers"]


def _refusals(store, org):
    return {a["entry_id"]: a["refusal_count"] for a in store.transact(
        lambda s: service.list_applicants(s, org, org_id=ORG))}


def test_accept_after_the_deadline_expires_the_offer(store, tokens):
    """An offer accepted after its answer deadline (round time + answer_days 7) is refused with
    OfferExpiredError; the expiry is committed as `expire` would do it (status, `expired` decision
    marked at_accept, a counted refusal by no_answer_counts_as_refusal); before the deadline an
    acceptance works."""
    _, org = tokens["org"]
    rules = EngineRules()
    dw, dw2 = seed_stock(store, org, dwellings=2)
    seed_applicants(store, org, 4, household_size=3)
    vid, offers = _engine_round(store, org, dw, NOW)
    first = offers[0]
    late = NOW + timedelta(days=8)
    with pytest.raises(OfferExpiredError, match="expired at its answer deadline"):
        store.transact(lambda s: service.accept_offer(s, org, first["offer_id"], rules=rules, now=late))
    # committed: the offer is expired, the decision recorded, the refusal counted, nothing let
    listed = {o["offer_id"]: o for o in store.transact(lambda s: service.list_offers(s, org, vid))}
    assert listed[first["offer_id"]]["status"] == "expired"
    trail = store.transact(lambda s: service.list_decisions(s, org, vid))
    expired = [d for d in trail if d["outcome"] == "expired"]
    assert len(expired) == 1 and expired[0]["offer_id"] == first["offer_id"]
    assert expired[0]["facts"]["at_accept"] is True and expired[0]["facts"]["counts_as_refusal"] is True
    assert expired[0]["rule"] == "boligmix.store#expire"
    assert _refusals(store, org)[first["entry_id"]] == 1
    assert store.transact(lambda s: service.get_lease(s, org, vid)) is None
    assert store.transact(lambda s: service.get_vacancy(s, org, vid))["status"] == "open"
    # a second try is a plain conflict and records nothing more
    with pytest.raises(ConflictError, match="is expired") as again:
        store.transact(lambda s: service.accept_offer(s, org, first["offer_id"], rules=rules, now=late))
    assert not isinstance(again.value, OfferExpiredError)
    assert len(store.transact(lambda s: service.list_decisions(s, org, vid))) == len(trail)
    # the deadline is exclusive of earlier times: an acceptance one day before it is a letting
    vid2, offers2 = _engine_round(store, org, dw2, NOW)
    lease = store.transact(lambda s: service.accept_offer(s, org, offers2[0]["offer_id"], rules=rules,
                                                          now=NOW + timedelta(days=6)))
    assert lease["vacancy_id"] == vid2


def test_accept_after_the_deadline_over_http_is_a_stored_409(db_url, store, tokens):
    """Over HTTP (on PostgreSQL the fast path hands the request to the full app): 409
    OfferExpiredError, the expiry recorded once, and a retry with the same key replays the 409."""
    _, org = tokens["org"]
    [dw] = seed_stock(store, org, dwellings=1)
    seed_applicants(store, org, 3, household_size=3)
    vid, offers = _engine_round(store, org, dw, NOW)  # deadline NOW + 7 days: long past
    app = create_app(db_url, pool_size=4, rules=EngineRules())
    with TestClient(app) as client:
        path = f"/api/offers/{offers[0]['offer_id']}/accept"
        assert client.get("/api/whoami", headers=_h(tokens, "org")).status_code == 200
        r = client.post(path, headers=_h(tokens, "org", "late-1"))
        assert r.status_code == 409 and r.json()["error"] == "OfferExpiredError", r.text
        again = client.post(path, headers=_h(tokens, "org", "late-1"))
        assert again.status_code == 409 and again.json() == r.json()
        assert again.headers.get("Idempotency-Replayed") == "true"
        trail = client.get("/api/decisions", params={"vacancy_id": vid}, headers=_h(tokens, "org")).json()
        assert [d["outcome"] for d in trail].count("expired") == 1
        if app.state.fast_path_stats is not None:
            assert app.state.fast_path_stats.delegated >= 2  # the full app expired it
    assert _refusals(store, org)[offers[0]["entry_id"]] == 1


def test_revocation_acts_at_once_in_every_app_instance(db_url, store, tokens):
    """Two app instances (as two worker processes) have both seen the token; after
    `boligmix letting revoke-token` every request with it is refused with 401 in both at once:
    reads, writes, the fast path's accept and the replay of a stored answer."""
    _, org = tokens["org"]
    [dw] = seed_stock(store, org, dwellings=1)
    seed_applicants(store, org, 2)
    vid = store.transact(lambda s: service.register_vacancy(
        s, org, {"dwelling_id": dw, "available_from": date(2025, 1, 1)}))["vacancy_id"]
    offers = store.transact(lambda s: service.make_offers(s, org, vid, 2, rules=STORE_ORDER))["offers"]
    apps = [create_app(db_url, pool_size=2, rules=StoreOrderRules()) for _ in range(2)]
    with TestClient(apps[0]) as a, TestClient(apps[1]) as b:
        for c in (a, b):
            assert c.get("/api/whoami", headers=_h(tokens, "org")).status_code == 200
        refused = a.post(f"/api/offers/{offers[1]['offer_id']}/refuse", headers=_h(tokens, "org", "r1"))
        assert refused.status_code == 200
        result = CliRunner().invoke(cli, ["letting", "revoke-token", "--db", db_url, "--name", "org1", "--quiet"])
        assert result.exit_code == 0, result.output
        for c in (a, b):
            assert c.get("/api/whoami", headers=_h(tokens, "org")).status_code == 401
            assert c.get("/api/decisions", params={"vacancy_id": vid}, headers=_h(tokens, "org")).status_code == 401
            r = c.post(f"/api/offers/{offers[0]['offer_id']}/accept", headers=_h(tokens, "org", "a1"))
            assert r.status_code == 401 and r.headers["WWW-Authenticate"] == "Bearer"
            replay = c.post(f"/api/offers/{offers[1]['offer_id']}/refuse", headers=_h(tokens, "org", "r1"))
            assert replay.status_code == 401
        # another token is not affected
        assert a.get("/api/whoami", headers=_h(tokens, "analyst")).status_code == 200
    assert store.transact(lambda s: service.get_lease(s, org, vid)) is None


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)  # the fast path is for PostgreSQL only
def test_fast_path_answers_as_the_full_app(db_url, store, tokens):
    """PostgreSQL: the fast path answers accepts (201 and 409) with the full app's bodies and
    stores idempotency records the full app replays (same fingerprint), and hands other cases over."""
    assert db_url.startswith("postgresql")
    url = db_url
    _, org = tokens["org"]
    dws = seed_stock(store, org, dwellings=2)
    seed_applicants(store, org, 4)
    offers = []
    for dw in dws:
        vid = store.transact(lambda s: service.register_vacancy(
            s, org, {"dwelling_id": dw, "available_from": date(2025, 1, 1)}))["vacancy_id"]
        offers.append(store.transact(lambda s: service.make_offers(s, org, vid, 2, rules=STORE_ORDER))["offers"])
    fast_app = create_app(url, pool_size=2, rules=StoreOrderRules())
    full_app = create_app(url, pool_size=2, rules=StoreOrderRules(), fast_path=False)
    assert full_app.state.fast_path_stats is None
    org_h = _h(tokens, "org")
    with TestClient(fast_app) as fast, TestClient(full_app) as full:
        stats = fast_app.state.fast_path_stats
        assert fast.get("/api/whoami", headers=org_h).status_code == 200  # first sight: the full app
        assert stats.delegated == 1 and stats.answered == 0
        assert fast.get("/api/whoami", headers=org_h).json()["name"] == "org1"
        assert stats.answered == 1
        won = fast.post(f"/api/offers/{offers[0][0]['offer_id']}/accept", headers=_h(tokens, "org", "k1"))
        assert won.status_code == 201 and stats.answered == 2
        lost = fast.post(f"/api/offers/{offers[0][1]['offer_id']}/accept", headers=_h(tokens, "org", "k2"))
        lost_full = full.post(f"/api/offers/{offers[0][1]['offer_id']}/accept", headers=_h(tokens, "org", "k3"))
        assert lost.status_code == lost_full.status_code == 409 and lost.json() == lost_full.json()
        assert lost.json()["detail"] == f"vacancy {won.json()['vacancy_id']} is already let (lease " \
                                        f"{won.json()['lease_id']})"
        assert stats.answered == 3
        # the stored answers replay in both apps, and the fingerprints agree with the full app's
        for c in (fast, full):
            replay = c.post(f"/api/offers/{offers[0][0]['offer_id']}/accept", headers=_h(tokens, "org", "k1"))
            assert replay.status_code == 201 and replay.json() == won.json()
            assert replay.headers["Idempotency-Replayed"] == "true"
            assert c.post(f"/api/offers/{offers[0][1]['offer_id']}/accept", json={"lease_start": None},
                          headers=_h(tokens, "org", "k2")).json() == lost.json()
            other = c.post(f"/api/offers/{offers[0][0]['offer_id']}/accept", json={"lease_start": "2025-03-01"},
                           headers=_h(tokens, "org", "k1"))
            assert other.status_code == 422
        # the same acceptance by the full app writes the same lease body and trail
        second = full.post(f"/api/offers/{offers[1][0]['offer_id']}/accept", json={"lease_start": "2025-02-01"},
                           headers=org_h)
        assert second.status_code == 201
        assert set(second.json()) == set(won.json()) and second.json()["lease_start"] == "2025-02-01"
        for vid in (won.json()["vacancy_id"], second.json()["vacancy_id"]):
            trail = fast.get("/api/decisions", params={"vacancy_id": vid}, headers=org_h).json()
            assert [d["outcome"] for d in trail] == ["channel", "offered", "offered", "let", "withdrawn"]
            assert trail[3]["facts"]["lease_id"] == trail[4]["facts"]["lease_id"]
        # handed over: an analyst (read-only, 403), an unknown offer (404), a body the fast path does not parse
        before = stats.delegated
        assert fast.get("/api/whoami", headers=_h(tokens, "analyst")).status_code == 200
        assert fast.post(f"/api/offers/{offers[1][1]['offer_id']}/accept",
                         headers=_h(tokens, "analyst")).status_code == 403
        assert fast.post("/api/offers/999999/accept", headers=org_h).status_code == 404
        bad = fast.post(f"/api/offers/{offers[1][1]['offer_id']}/accept", json={"lease_start": "soon"},
                        headers=org_h)
        assert bad.status_code == 422
        assert stats.delegated == before + 4
