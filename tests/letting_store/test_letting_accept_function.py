"""The PostgreSQL function `boligmix_accept_offer` (migration 0012), called as the API's fast path
calls it (token and Idempotency-Key checked by the function) and as the service calls it: every
outcome, what it writes, and that nothing is written when it hands the request back."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import text

from boligmix.errors import AuthorizationError, ConflictError
from boligmix.letting.store import accept_sql, service
from boligmix.letting.store.engine_rules import EngineRules
from boligmix.letting.store.errors import NotFoundError
from boligmix.letting.store.idempotency import request_fingerprint

from store_support import STORE_ORDER, MUNI, seed_applicants, seed_stock

pytestmark = pytest.mark.postgres

NOW = datetime(2024, 6, 15, 10, 0, tzinfo=timezone.utc)


@pytest.fixture
def db_url(pg_databases):
    """PostgreSQL only: the function does not exist on SQLite (the migration is a no-op there)."""
    url = pg_databases.new()
    yield url
    pg_databases.drop(url)


def _call(store, p, offer_id, *, token=True, key=None, lease_start=None, as_of=None):
    path = f"/api/offers/{offer_id}/accept"
    sha = request_fingerprint("POST", path, b'{"lease_start":null}') if key else None
    params = accept_sql.call_params(p, offer_id, lease_start, as_of, token_id=p.token_id if token else None,
                                    key=key, path=path, request_sha256=sha)
    return tuple(store.transact(lambda s: s.connection().exec_driver_sql(accept_sql.CALL_SQL, params).one()))


def _counts(store):
    with store.read() as s:
        return {t: s.scalar(text(f"SELECT count(*) FROM {t}"))
                for t in ("leases", "decisions", "idempotency_keys")} | {
            "open_offers": s.scalar(text("SELECT count(*) FROM offers WHERE status = 'open'"))}


def _round(store, org, dwelling_id, count=2, channel="waiting_list", who=None):
    v = store.transact(lambda s: service.register_vacancy(
        s, org, {"dwelling_id": dwelling_id, "available_from": date(2025, 1, 1), "channel": channel}))
    made = store.transact(lambda s: service.make_offers(s, who or org, v["vacancy_id"], count, rules=STORE_ORDER))
    return v["vacancy_id"], [o["offer_id"] for o in made["offers"]]


def test_win_then_lost_race_with_stored_answers(store, tokens):
    """Rank 2 accepts first: provisional (202, stored); rank 1 then wins (201) and rank 2's offer is
    withdrawn; a later acceptance is a 409 that writes nothing but its stored answer."""
    _, org = tokens["org"]
    [dw] = seed_stock(store, org, dwellings=1)
    seed_applicants(store, org, 2)
    vid, (first, second) = _round(store, org, dw)
    outcome, status, body = _call(store, org, second, key="k-wait", lease_start=date(2025, 3, 1))
    assert (outcome, status) == ("provisional", 202)
    assert body["lease_id"] is None and body["status"] == "accepted" and body["waiting_for"] == [first]
    outcome, status, body = _call(store, org, first, key="k-win", lease_start=date(2025, 2, 1))
    assert (outcome, status) == ("done", 201)
    with store.read() as s:
        lease = dict(s.execute(text("SELECT * FROM leases")).mappings().one())
        offers = dict(s.execute(text("SELECT offer_id, status FROM offers")).all())
        trail = s.execute(text("SELECT outcome, offer_id, rule, facts FROM decisions WHERE vacancy_id = :v "
                               "ORDER BY decision_id"), {"v": vid}).all()
        stored = s.execute(text("SELECT status_code, response, request_sha256 FROM idempotency_keys "
                                "WHERE idem_key = 'k-win'")).one()
        waited = s.execute(text("SELECT status_code FROM idempotency_keys WHERE idem_key = 'k-wait'")).scalar()
    assert body == {"lease_id": lease["lease_id"], "vacancy_id": vid, "offer_id": first,
                    "entry_id": lease["entry_id"], "dwelling_id": dw, "applicant_id": lease["applicant_id"],
                    "household_id": lease["household_id"], "lease_start": "2025-02-01", "channel": "waiting_list"}
    assert offers == {first: "accepted", second: "withdrawn"} and waited == 202
    assert [(t.outcome, t.offer_id, t.rule) for t in trail[-3:]] == [
        ("accepted", second, "boligmix.store#accept_provisional"), ("let", first, "boligmix.store#accept"),
        ("withdrawn", second, "boligmix.store#withdraw")]
    assert trail[-2].facts["lease_start"] == "2025-02-01" and trail[-1].facts == {
        "lease_id": lease["lease_id"], "winning_offer_id": first}
    assert stored.status_code == 201 and stored.response == body
    assert stored.request_sha256 == request_fingerprint("POST", f"/api/offers/{first}/accept",
                                                        b'{"lease_start":null}')
    # the loser: 409, nothing written but its stored answer
    before = _counts(store)
    outcome, status, body = _call(store, org, second, key="k-lose")
    assert (outcome, status) == ("conflict", 409)
    assert body == {"error": "ConflictError",
                    "detail": f"vacancy {vid} is already let (lease {lease['lease_id']})"}
    assert _counts(store) == {**before, "idempotency_keys": before["idempotency_keys"] + 1}
    # the service raises the same conflict
    with pytest.raises(ConflictError, match=rf"vacancy {vid} is already let \(lease {lease['lease_id']}\)"):
        store.transact(lambda s: service.accept_offer(s, org, second))


def test_closed_offer_inactive_entry_and_closed_vacancy_are_conflicts(store, tokens):
    _, org = tokens["org"]
    dws = seed_stock(store, org, dwellings=3)
    entries = seed_applicants(store, org, 3)
    _, [refused] = _round(store, org, dws[0], count=1)
    store.transact(lambda s: service.refuse_offer(s, org, refused))
    assert _call(store, org, refused)[:2] == ("conflict", 409)
    assert _call(store, org, refused)[2]["detail"] == f"offer {refused} is refused"
    _, [offer] = _round(store, org, dws[1], count=1)
    with store.engine.begin() as c:
        entry = c.execute(text("SELECT entry_id FROM offers WHERE offer_id = :o"), {"o": offer}).scalar_one()
        c.execute(text("UPDATE applicants SET status = 'withdrawn' WHERE entry_id = :e"), {"e": entry})
    vid, [offer3] = _round(store, org, dws[2], count=1)
    with store.engine.begin() as c:
        c.execute(text("UPDATE vacancies SET status = 'withdrawn' WHERE vacancy_id = :v"), {"v": vid})
    before = _counts(store)
    assert _call(store, org, offer)[2]["detail"] == (
        f"applicant entry {entry} is withdrawn; it cannot accept offer {offer}")
    assert _call(store, org, offer3)[2] == {"error": "ConflictError", "detail": f"vacancy {vid} is withdrawn"}
    assert _counts(store) == before  # without a key a conflict writes nothing
    assert entry in entries


def test_handed_back_cases_write_nothing(store, tokens):
    """Unknown offer, revoked or unknown token, a replayed key, out of scope, past the deadline: the
    function answers with the reason and writes nothing (the full app then answers)."""
    _, org = tokens["org"]
    _, org2 = tokens["org2"]
    _, muni = tokens["muni"]
    _, analyst = tokens["analyst"]
    dws = seed_stock(store, org, dwellings=2)
    seed_applicants(store, org, 4, household_size=3)
    _, [offer, _other] = _round(store, org, dws[0])
    assert _call(store, org, 99_999)[0] == "not_found"
    with pytest.raises(NotFoundError, match="offer 99999 does not exist"):
        store.transact(lambda s: service.accept_offer(s, org, 99_999))
    before = _counts(store)
    for who in (org2, muni, analyst):
        outcome, status, body = _call(store, who, offer)
        assert (outcome, status) == ("forbidden", None)
        assert body["org_id"] == "ORG1" and body["municipality_code"] == MUNI
    with pytest.raises(AuthorizationError, match="outside the scope of token 'org2'"):
        store.transact(lambda s: service.accept_offer(s, org2, offer))
    with pytest.raises(AuthorizationError, match="read-only"):
        store.transact(lambda s: service.accept_offer(s, analyst, offer))
    # past the answer deadline (an engine round sets one): handed back, the offer stays open
    rules = EngineRules()
    vid2 = store.transact(lambda s: service.register_vacancy(
        s, org, {"dwelling_id": dws[1], "available_from": date(2024, 8, 1)}, rules=rules,
        now=NOW.replace(tzinfo=None)))["vacancy_id"]
    late_offer = store.transact(lambda s: service.make_offers(s, org, vid2, None, rules=rules,
                                                              now=NOW.replace(tzinfo=None)))["offers"][0]["offer_id"]
    before = _counts(store)
    assert _call(store, org, late_offer, as_of=NOW + timedelta(days=8))[:2] == ("expired", None)
    assert _counts(store) == before
    # a replayed key: the stored answer is the full app's to give
    assert _call(store, org, offer, key="once")[:2] == ("done", 201)
    after = _counts(store)
    assert _call(store, org, offer, key="once") == ("replay", None, None)
    assert _call(store, org, _other, key="once") == ("replay", None, None)  # reused for another request
    assert _counts(store) == after
    # a revoked token (and an unknown one): nothing at all, not even a replay
    with store.engine.begin() as c:
        c.execute(text("UPDATE api_tokens SET revoked_at = now() WHERE token_id = :t"), {"t": org.token_id})
    assert _call(store, org, offer, key="once") == ("unauthenticated", None, None)
    assert _call(store, org, _other) == ("unauthenticated", None, None)
    assert _call(store, replace(org, token_id=4242), _other)[0] == "unauthenticated"
    assert _counts(store) == after
    # the service leaves the token to its caller: the same call without the token check lets
    assert _call(store, org, _other, token=False)[0] == "conflict"  # the vacancy is let already


def test_municipality_lets_its_referral_vacancy(store, tokens):
    _, org = tokens["org"]
    _, muni = tokens["muni"]
    _, muni2 = tokens["muni2"]
    [dw] = seed_stock(store, org, dwellings=1)
    store.transact(lambda s: service.create_applicant(s, muni, {
        "applicant_id": 777, "household_id": 778, "list_type": "municipal_referral",
        "municipality_code": MUNI, "seniority_date": date(2024, 5, 1)}))
    _, [offer] = _round(store, org, dw, count=1, channel="kommunal_anvisning", who=muni)
    assert _call(store, org, offer)[0] == "forbidden"
    assert _call(store, muni2, offer)[0] == "forbidden"
    outcome, status, body = _call(store, muni, offer)
    assert (outcome, status) == ("done", 201)
    assert body["channel"] == "kommunal_anvisning" and body["applicant_id"] == 777 and body["household_id"] == 778


def _waiting_for_a_lock(store) -> bool:
    with store.read() as s:
        return bool(s.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                  "AND datname = current_database()")))


def test_loser_waiting_for_the_lock_sees_the_winners_lease(store, tokens):
    """The loser's call reads the vacancy open, waits for the winner's lock, then answers 409 naming
    the lease the winner committed meanwhile."""
    _, org = tokens["org"]
    [dw] = seed_stock(store, org, dwellings=1)
    seed_applicants(store, org, 2)
    vid, (first, second) = _round(store, org, dw)
    result: list = []
    with store.engine.connect() as winner:
        won = winner.exec_driver_sql(accept_sql.CALL_SQL, accept_sql.call_params(
            org, first, None, token_id=org.token_id)).one()  # locks held until the commit below
        loser = threading.Thread(target=lambda: result.append(_call(store, org, second)))
        loser.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not _waiting_for_a_lock(store):
            time.sleep(0.02)
        assert _waiting_for_a_lock(store) and not result  # the loser waits for the vacancy lock
        winner.commit()
    loser.join(timeout=30)
    lease_id = won[2]["lease_id"]
    assert won[:2] == ("done", 201)
    assert result == [("conflict", 409, {"error": "ConflictError",
                                         "detail": f"vacancy {vid} is already let (lease {lease_id})"})]
