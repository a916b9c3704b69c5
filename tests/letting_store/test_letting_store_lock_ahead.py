"""The offer round's lock-ahead on PostgreSQL (`candidates._lock_first_offerable`, the database
function `boligmix_lock_first_offerable` of migration 0020) against a brute-force oracle: on random
lists (entries active, housed or withdrawn; persons and households holding open, accepted, refused
or withdrawn offers; households shared by entries; rows locked by a concurrent transaction) it
returns the first n entries of the ranking that are active, whose person and household hold no open
or accepted offer and that no other transaction holds, in ranking order; it locks exactly those it
returns (and none that is held or busy)."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.orm import Session

from boligmix.letting.store import candidates, service

from store_support import add_token, seed_stock

_owners = itertools.count()

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def pg_store(pg_databases):  # type: ignore[no-untyped-def]
    from boligmix.letting.store.db import Store

    store = Store(pg_databases.new(), pool_size=3)
    _, org = add_token(store, "o1", "housing_organisation", ["ORG1"])
    dwelling = seed_stock(store, org, dwellings=1, department_id="L1", dwelling_base=10)[0]
    vacancy = store.transact(lambda s: service.register_vacancy(
        s, org, {"dwelling_id": dwelling, "available_from": date(2025, 1, 1)}))["vacancy_id"]
    yield store, vacancy
    store.dispose()


_ENTRY = st.fixed_dictionaries({
    "status": st.sampled_from(["active", "active", "active", "housed", "withdrawn"]),
    "household": st.integers(0, 7),  # shared household numbers within one list
    "shared_household": st.booleans(),
    "person_offer": st.sampled_from([None, None, "open", "accepted", "refused", "withdrawn"]),
    "locked": st.integers(0, 5).map(lambda k: k == 0),
})


def _insert(conn, list_no: int, entries: list[dict]) -> list[dict]:  # type: ignore[no-untyped-def]
    """Insert the list's entries (persons and households unique to this list); their ids, persons
    and households."""
    out = []
    now = datetime(2026, 12, 7, tzinfo=timezone.utc)
    for i, e in enumerate(entries):
        person = 10_000_000 + 1000 * list_no + i
        household = (20_000_000 + 1000 * list_no + (e["household"] if e["shared_household"] else 100 + i))
        entry_id = conn.execute(text(
            "INSERT INTO applicants (applicant_id, household_id, list_type, list_owner, org_id, seniority_date, "
            "household_size, min_rooms, household, priority_rights, facts, refusal_count, status, created_at) "
            "VALUES (:p, :h, 'external', :owner, 'ORG1', :sen, 1, 1, '{}', '[]', '{}', 0, :status, :now) "
            "RETURNING entry_id"),
            {"p": person, "h": household, "owner": f"LOCK{list_no}", "sen": date(2000, 1, 1),
             "status": e["status"], "now": now}).scalar_one()
        out.append({**e, "entry_id": entry_id, "person": person, "household_id": household})
    return out


def _offer(conn, vacancy: int, entry: dict, status: str, rank: int) -> None:  # type: ignore[no-untyped-def]
    conn.execute(text(
        "INSERT INTO offers (vacancy_id, entry_id, applicant_id, household_id, rank, channel, rule, rule_version, "
        "status, created_at) VALUES (:v, :e, :p, :h, :r, 'waiting_list', 'test', '1', :s, now())"),
        {"v": vacancy, "e": entry["entry_id"], "p": entry["person"], "h": entry["household_id"], "r": rank,
         "s": status})


def _oracle(rows: list[dict], order: list[int], n: int) -> list[int]:
    held_people = {r["person"] for r in rows if r["person_offer"] in ("open", "accepted")}
    held_homes = {r["household_id"] for r in rows if r["person_offer"] in ("open", "accepted")}
    by_id = {r["entry_id"]: r for r in rows}
    free = [i for i in order if by_id[i]["status"] == "active" and not by_id[i]["locked"]
            and by_id[i]["person"] not in held_people and by_id[i]["household_id"] not in held_homes]
    return free[:n]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(entries=st.lists(_ENTRY, min_size=1, max_size=40), n=st.integers(1, 6), window=st.sampled_from([2, 5, 64]),
       seed=st.randoms(use_true_random=False))
def test_the_lock_ahead_takes_the_first_free_entries_in_rank_order(pg_store, monkeypatch, entries, n, window, seed):
    store, vacancy = pg_store
    list_no = next(_owners)
    with store.engine.begin() as conn:
        rows = _insert(conn, list_no, entries)
        # at most one held offer per person and household (the unique indexes): a person's offer that
        # holds counts only for the first entry of its household
        holding: set[int] = set()
        for rank, r in enumerate(rows):
            status = r["person_offer"]
            if status in ("open", "accepted") and r["household_id"] in holding:
                r["person_offer"] = status = "refused"
            if status is not None:
                _offer(conn, vacancy, r, status, rank)
                if status in ("open", "accepted"):
                    holding.add(r["household_id"])
    order = [r["entry_id"] for r in rows]
    seed.shuffle(order)
    expected = _oracle(rows, order, n)
    monkeypatch.setattr(candidates, "_LOCK_WINDOW", window)
    other = store.engine.connect()
    mine = store.engine.connect()
    try:
        other.begin()
        locked = [r["entry_id"] for r in rows if r["locked"]]
        if locked:
            other.execute(text("SELECT entry_id FROM applicants WHERE entry_id = ANY(:ids) FOR UPDATE"),
                          {"ids": locked})
        mine.begin()
        with Session(bind=mine) as s:
            got = candidates._lock_first_offerable(s, order, n)
            assert got == expected
            # exactly the entries returned are locked by this transaction (a third connection's
            # SKIP LOCKED passes over them and over the other transaction's)
            with store.engine.connect() as third:
                free_now = set(third.execute(text(
                    "SELECT entry_id FROM applicants WHERE entry_id = ANY(:ids) FOR UPDATE SKIP LOCKED"),
                    {"ids": order}).scalars())
                third.rollback()
            assert set(order) - free_now == set(got) | set(locked)
    finally:
        mine.rollback()
        mine.close()
        other.rollback()
        other.close()


def test_the_lock_ahead_function_with_no_ids_no_wanted_duplicates_and_nulls(pg_store):
    """Edge cases of the database function: no ids, n 0, duplicates and NULLs in the ranking."""
    store, _ = pg_store
    list_no = next(_owners)
    with store.engine.begin() as conn:
        rows = _insert(conn, list_no, [{"status": "active", "household": 0, "shared_household": False,
                                        "person_offer": None, "locked": False}] * 3)
    ids = [r["entry_id"] for r in rows]
    with store.engine.connect() as c:
        call = text("SELECT boligmix_lock_first_offerable(CAST(:ids AS integer[]), :n)")
        assert c.execute(call, {"ids": [], "n": 3}).scalar_one() == []
        assert c.execute(call, {"ids": ids, "n": 0}).scalar_one() == []
        assert c.execute(call, {"ids": [ids[1], None, ids[1], ids[0], ids[2]], "n": 2}).scalar_one() == [ids[1], ids[0]]
        c.rollback()


def test_the_lock_ahead_goes_on_in_the_next_window_where_the_last_one_ended(pg_store, monkeypatch):
    """A window (4 x the entries still wanted) that gives fewer than wanted is followed by the next
    one starting right after it: no entry is skipped or tried twice."""
    store, _ = pg_store
    list_no = next(_owners)
    entry = {"household": 0, "shared_household": False, "person_offer": None, "locked": False}
    with store.engine.begin() as conn:
        rows = _insert(conn, list_no, [{**entry, "status": "withdrawn"}] * 11 + [{**entry, "status": "active"}] * 9)
    order = [r["entry_id"] for r in rows]
    monkeypatch.setattr(candidates, "_LOCK_WINDOW", 2)
    with store.engine.connect() as c:
        with Session(bind=c) as s:
            assert candidates._lock_first_offerable(s, order, 3) == order[11:14]
            assert candidates._lock_first_offerable(s, order[:11], 3) == []
        c.rollback()
