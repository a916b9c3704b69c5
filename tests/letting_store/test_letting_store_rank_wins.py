"""The best-ranked acceptor within the answer period gets the dwelling (not the fastest): a
lower-ranked acceptance is provisional (202 over the API) until the better-ranked offers are
refused, expire or are withdrawn. SQLite (`answers`) and PostgreSQL (`boligmix_accept_offer`)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from boligmix.errors import ConflictError
from boligmix.letting.store import follow_ups, service
from boligmix.letting.store.engine_rules import EngineRules
from boligmix.letting.store.errors import SettledElsewhereError

from store_support import STORE_ORDER, seed_applicants, seed_stock

NOW = datetime(2024, 6, 15, 10, 0)


def _three_offers(store, org, rules=None, *, n=3, now=None):
    rules = rules or STORE_ORDER
    [dw] = seed_stock(store, org, dwellings=1)
    entries = seed_applicants(store, org, n, household_size=3)
    vid = store.transact(lambda s: service.register_vacancy(
        s, org, {"dwelling_id": dw, "available_from": date(2024, 8, 1)}, rules=rules, now=now))["vacancy_id"]
    made = store.transact(lambda s: service.make_offers(s, org, vid, 3, rules=rules, now=now))
    offers = made["offers"]
    assert [o["rank"] for o in offers] == sorted(o["rank"] for o in offers)
    assert [o["offer_id"] for o in offers] == sorted(o["offer_id"] for o in offers)  # ids in rank order
    return vid, [o["offer_id"] for o in offers], entries


def _accept(store, org, offer_id, **kw):
    return store.transact(lambda s: service.accept_offer(s, org, offer_id, **kw))


def _statuses(store, org, vid):
    return [o["status"] for o in store.transact(lambda s: service.list_offers(s, org, vid))]


def test_the_best_ranked_acceptor_wins_over_the_first(store, tokens):
    _, org = tokens["org"]
    vid, (o1, o2, o3), _ = _three_offers(store, org)
    waiting = _accept(store, org, o3, lease_start=date(2024, 9, 1))
    assert waiting["lease_id"] is None and waiting["status"] == "accepted" and waiting["waiting_for"] == [o1, o2]
    assert _statuses(store, org, vid) == ["open", "open", "accepted"]
    lease = _accept(store, org, o1)
    assert lease["offer_id"] == o1 and lease["lease_id"] is not None
    assert _statuses(store, org, vid) == ["accepted", "withdrawn", "withdrawn"]
    with pytest.raises(ConflictError, match="already let"):
        _accept(store, org, o2)
    trail = store.transact(lambda s: service.list_decisions(s, org, vid))
    assert [(d["outcome"], d["offer_id"]) for d in trail if d["outcome"] in ("accepted", "let", "withdrawn")] == [
        ("accepted", o3), ("let", o1), ("withdrawn", o2), ("withdrawn", o3)]
    assert next(d for d in trail if d["outcome"] == "accepted")["facts"]["waiting_for"] == [o1, o2]


def test_a_provisional_acceptor_gets_the_dwelling_once_the_better_ranked_refuse_or_withdraw(store, tokens):
    _, org = tokens["org"]
    vid, (o1, o2, o3), entries = _three_offers(store, org)
    assert _accept(store, org, o3, lease_start=date(2024, 9, 1))["waiting_for"] == [o1, o2]
    store.transact(lambda s: service.refuse_offer(s, org, o1))
    assert _statuses(store, org, vid) == ["refused", "open", "accepted"]
    store.transact(lambda s: follow_ups.withdraw_applicant(s, org, entries[1]))  # o2's applicant leaves the list
    lease = store.transact(lambda s: service.get_lease(s, org, vid))
    assert lease["offer_id"] == o3 and lease["lease_start"] == "2024-09-01"
    assert _statuses(store, org, vid) == ["refused", "withdrawn", "accepted"]
    let = [d for d in store.transact(lambda s: service.list_decisions(s, org, vid)) if d["outcome"] == "let"]
    assert len(let) == 1 and "withdrew" in let[0]["facts"]["settled_after"]


def test_better_ranked_offers_that_expire_let_the_provisional_acceptor(store, tokens):
    _, org = tokens["org"]
    rules = EngineRules()
    vid, (o1, o2, o3), _ = _three_offers(store, org, rules, now=NOW)
    assert _accept(store, org, o2, rules=rules, now=NOW + timedelta(days=1))["waiting_for"] == [o1]
    expired = store.transact(lambda s: service.expire_offers(s, org, vid, NOW + timedelta(days=8), rules=rules))
    assert [o["offer_id"] for o in expired] == [o1, o3] or [o["offer_id"] for o in expired] == [o1]
    assert store.transact(lambda s: service.get_lease(s, org, vid))["offer_id"] == o2


def test_an_acceptance_expires_stale_better_ranked_offers_of_an_earlier_round(store, tokens):
    """Round 1 (deadline day 7) is still open when round 2 is made on day 5; its offer accepted on
    day 8 expires round 1's offers (counted by the rules) and lets the dwelling; a better-ranked
    provisional acceptor of round 2 waiting on them gets it instead."""
    _, org = tokens["org"]
    rules = EngineRules()
    [dw] = seed_stock(store, org, dwellings=1)
    seed_applicants(store, org, 6, household_size=3)
    vid = store.transact(lambda s: service.register_vacancy(
        s, org, {"dwelling_id": dw, "available_from": date(2024, 8, 1)}, rules=rules, now=NOW))["vacancy_id"]
    first = store.transact(lambda s: service.make_offers(s, org, vid, None, rules=rules, now=NOW))["offers"]
    later = NOW + timedelta(days=5)
    second = store.transact(lambda s: service.make_offers(s, org, vid, None, rules=rules, now=later))["offers"]
    assert first and len(second) >= 2 and max(o["offer_id"] for o in first) < min(o["offer_id"] for o in second)
    # Day 6: the second round's rank 2 accepts, waiting for round 1 and round 2's rank 1.
    waiting = _accept(store, org, second[1]["offer_id"], rules=rules, now=NOW + timedelta(days=6))
    assert waiting["waiting_for"] == [o["offer_id"] for o in first] + [second[0]["offer_id"]]
    # Day 8: round 2's rank 1 accepts; round 1 is past its deadline and expires first.
    lease = _accept(store, org, second[0]["offer_id"], rules=rules, now=NOW + timedelta(days=8))
    assert lease["offer_id"] == second[0]["offer_id"]
    trail = store.transact(lambda s: service.list_decisions(s, org, vid))
    assert {d["offer_id"] for d in trail if d["outcome"] == "expired"} == {o["offer_id"] for o in first}
    assert all(d["facts"]["counts_as_refusal"] for d in trail if d["outcome"] == "expired")


def test_expiring_stale_offers_at_an_acceptance_may_let_to_a_better_provisional_acceptor(store, tokens):
    _, org = tokens["org"]
    rules = EngineRules()
    [dw] = seed_stock(store, org, dwellings=1)
    seed_applicants(store, org, 6, household_size=3)
    vid = store.transact(lambda s: service.register_vacancy(
        s, org, {"dwelling_id": dw, "available_from": date(2024, 8, 1)}, rules=rules, now=NOW))["vacancy_id"]
    store.transact(lambda s: service.make_offers(s, org, vid, None, rules=rules, now=NOW))
    second = store.transact(lambda s: service.make_offers(s, org, vid, None, rules=rules,
                                                          now=NOW + timedelta(days=5)))["offers"]
    assert len(second) >= 2
    _accept(store, org, second[0]["offer_id"], rules=rules, now=NOW + timedelta(days=6))  # waits for round 1
    with pytest.raises(SettledElsewhereError, match="better-ranked acceptor"):
        _accept(store, org, second[1]["offer_id"], rules=rules, now=NOW + timedelta(days=8))
    lease = store.transact(lambda s: service.get_lease(s, org, vid))
    assert lease["offer_id"] == second[0]["offer_id"]  # committed: expiries and the letting


def test_over_the_api_a_provisional_acceptance_is_202(db_url, store, tokens):
    from fastapi.testclient import TestClient

    from boligmix.letting.store.selection import StoreOrderRules
    from boligmix.web.app import create_app

    secret, org = tokens["org"]
    vid, (o1, o2, _o3), _ = _three_offers(store, org)
    client = TestClient(create_app(db_url, rules=StoreOrderRules(), fast_path=False))
    headers = {"Authorization": f"Bearer {secret}"}
    r = client.post(f"/api/offers/{o2}/accept", headers={**headers, "Idempotency-Key": "k2"})
    assert r.status_code == 202 and r.json()["waiting_for"] == [o1]
    again = client.post(f"/api/offers/{o2}/accept", headers={**headers, "Idempotency-Key": "k2"})
    assert again.status_code == 202 and again.headers.get("Idempotency-Replayed") == "true"
    r1 = client.post(f"/api/offers/{o1}/accept", headers=headers)
    assert r1.status_code == 201 and r1.json()["offer_id"] == o1


def test_a_rounds_offers_are_stored_as_answered_in_rank_order(store, tokens):
    """The round's offers (driver SQL on PostgreSQL, the ORM on SQLite) read back from the database
    exactly as the round answered them: ids in rank order, each entry's applicant and household,
    open, the engine's answer deadline; the decisions that made them name their ids."""
    from sqlalchemy import select

    from boligmix.letting.store.models import Applicant, Offer

    _, org = tokens["org"]
    rules = EngineRules()
    vid, ids, entries = _three_offers(store, org, rules, n=5, now=NOW)
    made = store.transact(lambda s: service.list_offers(s, org, vid))
    with store.read() as s:
        rows = [(o.offer_id, o.entry_id, o.rank, o.applicant_id, o.household_id, o.status, o.channel, o.created_at,
                 o.deadline) for o in s.scalars(select(Offer).where(Offer.vacancy_id == vid).order_by(Offer.offer_id))]
        people = {a.entry_id: (a.applicant_id, a.household_id) for a in s.scalars(select(Applicant))}
        offered = {d["offer_id"] for d in service.list_decisions(s, org, vid) if d["outcome"] == "offered"}
    assert [r[0] for r in rows] == ids == [o["offer_id"] for o in made]
    assert [r[2] for r in rows] == sorted(r[2] for r in rows) and len({r[1] for r in rows}) == len(rows)
    for offer_id, entry_id, rank, applicant_id, household_id, status, channel, created_at, deadline in rows:
        assert (applicant_id, household_id) == people[entry_id]
        assert status == "open" and channel == "waiting_list" and created_at is not None
        assert deadline is not None and deadline.replace(tzinfo=None) > NOW
    assert set(ids) <= offered
