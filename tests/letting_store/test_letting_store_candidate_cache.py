"""The candidate entries a worker caches between offer rounds (`store.candidates`) are never stale:
`applicants.row_version` is new for every insert and update (migration 0016 triggers), also for a
change another worker made or a change rolled back, so a round always assesses the rows as stored."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select, text, update

from boligmix.letting.store import candidates, service
from boligmix.letting.store.db import Store
from boligmix.letting.store.engine_rules import EngineRules
from boligmix.letting.store.follow_ups import update_applicant
from boligmix.letting.store.models import Applicant

from store_support import ORG, seed_stock

NOW = datetime(2025, 1, 1, 12, 0)


def _versions(store: Store) -> dict[int, int]:
    with store.read() as s:
        return dict(s.execute(select(Applicant.entry_id, Applicant.row_version)).all())


def test_every_change_gives_the_row_a_new_version_even_after_a_rollback(store, tokens):
    _, org = tokens["org"]
    seed_stock(store, org, dwellings=1)
    entry = store.transact(lambda s: service.create_applicant(s, org, {
        "applicant_id": 1, "household_id": 2, "list_type": "external", "org_id": ORG,
        "seniority_date": date(2010, 1, 1)}))["entry_id"]
    first = _versions(store)[entry]
    seen = {first}
    rolled_back = None
    with store.write() as s:  # a change that is rolled back: its version is never used again
        s.execute(update(Applicant).where(Applicant.entry_id == entry).values(min_rooms=4))
        rolled_back = s.scalar(select(Applicant.row_version).where(Applicant.entry_id == entry))
        s.rollback()
    assert rolled_back not in seen and _versions(store)[entry] == first
    seen.add(rolled_back)
    for rooms in (4, 2, 4):  # the same values again still make a new version
        store.transact(lambda s, rooms=rooms: s.execute(
            update(Applicant).where(Applicant.entry_id == entry).values(min_rooms=rooms)))
        now = _versions(store)[entry]
        assert now not in seen
        seen.add(now)


def test_a_change_by_another_worker_is_seen_by_the_next_round(db_url, store, tokens):
    """Two workers (two stores, each with its own cache) on one database: worker A's round caches the
    list; worker B changes an entry (its facts through the API service, and a household size by
    SQL); A's next round assesses the changed rows, not its cached copies."""
    _, org = tokens["org"]
    dwellings = seed_stock(store, org, dwellings=3)
    worker_b = Store(db_url, pool_size=2)
    try:
        ids = store.transact(lambda s: [service.create_applicant(s, org, {
            "applicant_id": 100 + i, "household_id": 200 + i, "list_type": "external", "org_id": ORG,
            "household_size": 2, "seniority_date": date(2010, 1, 1) + timedelta(days=i)})["entry_id"]
            for i in range(6)])
        rules = EngineRules()

        def round_(dw):
            vid = store.transact(lambda s: service.register_vacancy(
                s, org, {"dwelling_id": dw, "available_from": date(2025, 1, 1)}, rules=rules, now=NOW))["vacancy_id"]
            made = store.transact(lambda s: service.make_offers(s, org, vid, None, rules=rules, now=NOW))
            return {d["entry_id"]: d for d in made["decisions"] if d["entry_id"] is not None}

        first = round_(dwellings[0])
        assert {first[i]["outcome"] for i in ids[3:]} == {"skipped"}  # ranked below the offers
        cache = candidates._cache_of(_connection(store))
        assert {i for i, _ in cache} >= set(ids[3:])  # worker A keeps the entries it read
        # worker B: the most senior free entry becomes too large for 3 rooms; another gets a fact
        worker_b.transact(lambda s: s.execute(update(Applicant).where(Applicant.entry_id == ids[3])
                                              .values(household_size=9)))
        worker_b.transact(lambda s: update_applicant(s, org, ids[4], {"facts": {"note": "changed"}}))
        second = round_(dwellings[1])
        assert second[ids[3]]["outcome"] == "skipped" and second[ids[3]]["rule"] == "dk.venteliste#size_crowding"
        assert first[ids[3]]["rule"].endswith("#ranking")
        assert ids[4] in {o for o, d in second.items() if d["outcome"] == "offered"}
        with store.read() as s:
            current = dict(s.execute(select(Applicant.entry_id, Applicant.row_version)).all())
        assert (ids[3], current[ids[3]]) in cache and cache[(ids[3], current[ids[3]])].household_size == 9
        assert cache[(ids[4], current[ids[4]])].facts == {"note": "changed"}
    finally:
        worker_b.dispose()


def _connection(store: Store):
    """A connection of `store`'s write engine (the engine the offer rounds' cache is kept for)."""
    with store.write() as s:
        return s.connection()


def test_sqlite_and_postgres_version_triggers_exist(store):
    with store.read() as s:
        if store.dialect == "postgresql":
            names = set(s.scalars(text("SELECT tgname FROM pg_trigger WHERE tgrelid = 'applicants'::regclass")))
            assert "applicants_row_version" in names
        else:
            names = set(s.scalars(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")))
            assert {"applicants_row_version_insert", "applicants_row_version_update"} <= names
