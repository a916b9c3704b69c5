"""The store lets a large dwelling through the same engine when no applicant meets the waiting
list's size rule (it lapses: waiting_list.yaml 2010-01-01.3): a 4-room vacancy with only single
applicants goes to the best-ranked single; with one 3-person household further down the list, that
household gets it. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime

from boligmix.letting.store import service
from boligmix.letting.store.engine_rules import EngineRules
from boligmix.letting.store.explain import explain_from_store

from store_support import seed_applicants, seed_stock

NOW = datetime(2024, 6, 15, 10, 0)
UNDERUSE = "dk.venteliste#size_underuse"


def _four_rooms(store, org, dwelling_id: int) -> int:
    return store.transact(lambda s: service.register_dwelling(s, org, {
        "dwelling_id": dwelling_id, "department_id": "ORG1-01", "rooms": 4, "floor_area_m2": 95.0,
        "monthly_rent_dkk": 7000.0}))["dwelling_id"]


def _round(store, org, dwelling_id: int, rules: EngineRules):
    vid = store.transact(lambda s: service.register_vacancy(
        s, org, {"dwelling_id": dwelling_id, "available_from": date(2024, 8, 1)}, rules=rules, now=NOW))["vacancy_id"]
    made = store.transact(lambda s: service.make_offers(s, org, vid, None, rules=rules, now=NOW))
    return vid, made["offers"]


def test_a_four_room_vacancy_is_let_to_a_single_when_no_household_meets_the_size_rule(store, tokens):
    _, org = tokens["org"]
    rules = EngineRules()
    seed_stock(store, org, dwellings=1)
    big = _four_rooms(store, org, 900_001)
    singles = seed_applicants(store, org, 5, household_size=1)
    vid, offers = _round(store, org, big, rules)
    assert [o["entry_id"] for o in offers] == singles[:3]            # by seniority, the rule lapsed
    trail = store.transact(lambda s: service.list_decisions(s, org, vid))
    first = next(d for d in trail if d["outcome"] == "offered" and d["entry_id"] == singles[0])
    assert first["facts"]["lapsed_rules"] == [UNDERUSE] and first["facts"]["lapsed_rules_met_by"] == 0
    lease = store.transact(lambda s: service.accept_offer(s, org, offers[0]["offer_id"], rules=rules, now=NOW))
    assert lease["vacancy_id"] == vid
    why = explain_from_store(store, 1000, big)
    assert why.got_dwelling and "The size rule lapsed for this letting" in why.verdict
    assert "Belægningsreglen blev fraveget" in why.verdict_da


def test_a_household_meeting_the_size_rule_further_down_the_list_gets_it(store, tokens):
    _, org = tokens["org"]
    rules = EngineRules()
    seed_stock(store, org, dwellings=1)
    big = _four_rooms(store, org, 900_002)
    singles = seed_applicants(store, org, 6, household_size=1)
    [family] = seed_applicants(store, org, 1, start_id=2000, household_size=3, seniority_date=date(2019, 5, 1))
    vid, offers = _round(store, org, big, rules)
    assert [o["entry_id"] for o in offers] == [family, *singles[:2]]
    # a single accepting first waits; the family's acceptance wins
    waiting = store.transact(lambda s: service.accept_offer(s, org, offers[1]["offer_id"], rules=rules, now=NOW))
    assert waiting["lease_id"] is None
    lease = store.transact(lambda s: service.accept_offer(s, org, offers[0]["offer_id"], rules=rules, now=NOW))
    assert lease["lease_id"] is not None and lease["offer_id"] == offers[0]["offer_id"]
    why = explain_from_store(store, 2000, big)
    assert why.got_dwelling and "lapsed" not in why.verdict
