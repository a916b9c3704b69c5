"""A worker's copy of each list's candidates between offer rounds (`store.list_cache`, PostgreSQL):
after every kind of change, by this worker or another, the candidates a round gets from the copy
are the candidates read whole from the database, and a stale copy is detected and brought up to
date (migration 0018: list versions and the log of changed households)."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select, text, update

from boligmix.errors import ConflictError
from boligmix.letting.store import answers, candidates, list_cache, service
from boligmix.letting.store.db import Store
from boligmix.letting.store.engine_rules import EngineRules
from boligmix.letting.store.follow_ups import update_applicant, withdraw_applicant
from boligmix.letting.store.errors import NotFoundError
from boligmix.letting.store.models import CHANNELS, Applicant, Offer
from boligmix.letting.store.selection import candidate_lists

from store_support import ORG, add_token, seed_stock

NOW = datetime(2025, 1, 1, 12, 0)
LISTS = ("internal", "external")

@pytest.fixture
def pg_url(pg_databases):
    url = pg_databases.new()
    yield url
    pg_databases.drop(url)


def _both(s, vacancy_id: int, owner: str = ORG) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """(the candidates from this worker's copy, the candidates read whole), as (entry id, version)."""
    v = SimpleNamespace(vacancy_id=vacancy_id)
    copied = candidates._candidates(s, v, owner, LISTS)
    read = candidates._candidates_read(s, vacancy_id, owner, LISTS)
    return ([(e.entry_id, e.row_version) for e in copied], [(e.entry_id, e.row_version) for e in read])


def _seed(store: Store, org, org2, n: int = 14) -> list[int]:
    """`n` households on ORG's external list, a few also on its internal list (same person) and on
    ORG2's list (same household), one pair sharing a household id."""
    def op(s):
        ids = []
        for i in range(n):
            body = {"applicant_id": 100 + i, "household_id": 500 + (i if i != 3 else 2), "list_type": "external",
                    "org_id": ORG, "household_size": 1 + i % 3, "seniority_date": date(2010, 1, 1) + timedelta(days=i)}
            ids.append(service.create_applicant(s, org, body)["entry_id"])
            if i % 4 == 0:
                ids.append(service.create_applicant(s, org, {**body, "list_type": "internal",
                                                             "seniority_date": date(2012, 1, 1)})["entry_id"])
            if i % 5 == 1:
                service.create_applicant(s, org2, {**body, "org_id": "ORG2"})
        return ids
    return store.transact(op)


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.postgres
def test_the_copy_equals_the_whole_list_after_every_change_by_two_workers(pg_url, seed):
    rng = random.Random(seed)
    workers = [Store(pg_url, pool_size=2), Store(pg_url, pool_size=2)]
    try:
        store = workers[0]
        _, org = add_token(store, "org1", "housing_organisation", [ORG])
        _, org2 = add_token(store, "org2", "housing_organisation", ["ORG2"])
        dwellings = seed_stock(store, org, dwellings=24)
        seed_stock(store, org2, dwellings=1, department_id="ORG2-01", org_id="ORG2")
        entries = _seed(store, org, org2)
        rules = EngineRules()
        vacancies: list[int] = []
        next_person = 900
        for step in range(40):
            w = rng.choice(workers)
            kind = rng.choice(["round", "round", "accept", "refuse", "update", "withdraw", "new", "sql"])
            with w.read() as s:
                open_offers = list(s.scalars(select(Offer.offer_id).where(Offer.status == "open")))
                active = list(s.scalars(select(Applicant.entry_id).where(Applicant.status == "active",
                                                                          Applicant.list_owner == ORG)))
            try:
                if kind == "round" and dwellings:
                    dw = dwellings.pop()
                    got = w.transact(lambda s: service.register_vacancy(
                        s, org, {"dwelling_id": dw, "available_from": date(2025, 1, 1)}, rules=rules, now=NOW))
                    if got["channel"] != "waiting_list":  # the municipality's quarter: not this list
                        continue
                    vid = got["vacancy_id"]
                    vacancies.append(vid)
                    w.transact(lambda s: service.make_offers(s, org, vid, None, rules=rules, now=NOW,
                                                             with_decisions=False))
                elif kind == "accept" and open_offers:
                    oid = rng.choice(open_offers)
                    w.transact(lambda s: answers.accept_offer(s, org, oid, rules=rules, now=NOW))
                elif kind == "refuse" and open_offers:
                    oid = rng.choice(open_offers)
                    w.transact(lambda s: answers.refuse_offer(s, org, oid, rules=rules, now=NOW))
                elif kind == "update" and active:
                    e = rng.choice(active)
                    w.transact(lambda s: update_applicant(s, org, e, {"household_size": rng.randint(1, 4)}))
                elif kind == "withdraw" and active:
                    e = rng.choice(active)
                    w.transact(lambda s: withdraw_applicant(s, org, e, now=NOW))
                elif kind == "new":
                    next_person += 1
                    w.transact(lambda s: service.create_applicant(s, org, {
                        "applicant_id": next_person, "household_id": rng.choice([None, 500 + rng.randint(0, 13)]),
                        "list_type": rng.choice(LISTS), "org_id": ORG,
                        "seniority_date": date(2009, 1, 1) + timedelta(days=rng.randint(0, 2000))}))
                elif kind == "sql" and active:  # a change outside the service (another program, by hand)
                    e = rng.choice(active)
                    w.transact(lambda s: s.execute(update(Applicant).where(Applicant.entry_id == e)
                                                   .values(passive_since=None if rng.random() < 0.5 else NOW)))
            except ConflictError:
                pass
            for worker in workers:  # both workers, for a new vacancy and for the ones with offers
                for vid in [-1, *vacancies[-2:]]:
                    with worker.write() as s:
                        copied, read = _both(s, vid)
                        s.rollback()
                    assert copied == read, (step, kind, vid)
        with store.read() as s:
            assert s.scalar(text("SELECT version FROM list_versions WHERE list_owner = :o"), {"o": ORG}) > 40
        assert entries
    finally:
        for w in workers:
            w.dispose()


@pytest.mark.postgres
def test_a_stale_copy_is_brought_up_to_date_and_the_round_decides_as_an_uncached_one(pg_url):
    """Worker A's copy is taken; worker B refuses an offer (the household is free again) and changes
    an entry; A's next round sees both, reading only the changed households, and offers what a round
    without any copy offers."""
    a, b = Store(pg_url, pool_size=2), Store(pg_url, pool_size=2)
    try:
        _, org = add_token(a, "org1", "housing_organisation", [ORG])
        _, org2 = add_token(a, "org2", "housing_organisation", ["ORG2"])
        dwellings = seed_stock(a, org, dwellings=4)
        seed_stock(a, org2, dwellings=1, department_id="ORG2-01", org_id="ORG2")
        _seed(a, org, org2)
        rules = EngineRules()

        def register(store, dw):
            return store.transact(lambda s: service.register_vacancy(
                s, org, {"dwelling_id": dw, "available_from": date(2025, 1, 1)}, rules=rules, now=NOW))["vacancy_id"]

        v1 = register(a, dwellings[0])
        first = a.transact(lambda s: service.make_offers(s, org, v1, None, rules=rules, now=NOW))
        with a.write() as s:
            copy = list_cache.copies_of(s.connection())[(ORG, LISTS)]
        offered = [o["entry_id"] for o in first["offers"]]
        assert offered and set(offered) <= {e.entry_id for e in copy.entries}  # taken before the round offered
        refused = first["offers"][0]
        b.transact(lambda s: answers.refuse_offer(s, org, refused["offer_id"], rules=rules, now=NOW))
        b.transact(lambda s: update_applicant(s, org, copy.entries[-1].entry_id, {"household_size": 4}))
        with a.read() as s:
            now_version = s.scalar(text("SELECT version FROM list_versions WHERE list_owner = :o"), {"o": ORG})
            logged = set(s.scalars(text("SELECT applicant_id FROM list_changes WHERE list_owner = :o AND version > :v"),
                                   {"o": ORG, "v": copy.version}))
        assert now_version > copy.version and refused["applicant_id"] in logged
        v2 = register(a, dwellings[1])
        whole_reads: list[int] = []
        read_whole = candidates._candidates_read
        with a.write() as s:
            candidates._candidates_read = lambda *args, **kw: whole_reads.append(1) or read_whole(*args, **kw)
            try:
                copied = [(e.entry_id, e.row_version) for e in candidates._candidates(
                    s, SimpleNamespace(vacancy_id=v2), ORG, LISTS)]
            finally:
                candidates._candidates_read = read_whole
            read = [(e.entry_id, e.row_version) for e in read_whole(s, v2, ORG, LISTS)]
            s.rollback()
        assert copied == read and whole_reads == []  # brought up to date from the log, not read whole
        assert refused["entry_id"] in {i for i, _ in copied}  # free again: a candidate of the next vacancy
        fresh = list_cache.copies_of(_conn(a))[(ORG, LISTS)]
        assert fresh.version == now_version
        # the decision: the round from the copy equals a round without it (rolled back)
        with a.write() as s:
            cached = service.make_offers(s, org, v2, None, rules=rules, now=NOW)
            s.rollback()
        list_cache.copies_of(_conn(a)).clear()
        with a.write() as s:
            list_cache.copies_of(s.connection())  # no copy: the round reads the list whole
            uncached = service.make_offers(s, org, v2, None, rules=rules, now=NOW)
            s.rollback()
        strip = lambda r: [(o["entry_id"], o["rank"], o["rule"]) for o in r["offers"]]  # noqa: E731
        assert strip(cached) == strip(uncached) and cached["outcomes"] == uncached["outcomes"]
    finally:
        a.dispose()
        b.dispose()


def _conn(store: Store):
    with store.write() as s:
        return s.connection()


@pytest.mark.postgres
def test_a_round_after_its_own_transactions_changes_reads_the_list_whole_and_keeps_no_copy(pg_url):
    """A transaction that refused an offer (the household free again) and then reads another
    vacancy's candidates sees its own change, though the log has it only at commit; the copy is
    not taken from that read, so a rollback leaves the copy right."""
    store = Store(pg_url, pool_size=2)
    try:
        _, org = add_token(store, "org1", "housing_organisation", [ORG])
        _, org2 = add_token(store, "org2", "housing_organisation", ["ORG2"])
        dwellings = seed_stock(store, org, dwellings=3)
        seed_stock(store, org2, dwellings=1, department_id="ORG2-01", org_id="ORG2")
        _seed(store, org, org2)
        rules = EngineRules()
        vids = [store.transact(lambda s, dw=dw: service.register_vacancy(
            s, org, {"dwelling_id": dw, "available_from": date(2025, 1, 1)}, rules=rules, now=NOW))["vacancy_id"]
            for dw in dwellings[:2]]
        first = store.transact(lambda s: service.make_offers(s, org, vids[0], None, rules=rules, now=NOW))
        refused = first["offers"][0]
        with store.write() as s:
            _both(s, vids[1])  # the copy, as of the committed lists
            s.rollback()
        copy = list_cache.copies_of(_conn(store))[(ORG, LISTS)]
        for end in ("rollback", "commit"):
            with store.write() as s:
                answers.refuse_offer(s, org, refused["offer_id"], rules=rules, now=NOW)
                copied, read = _both(s, vids[1])
                assert copied == read and refused["entry_id"] in {i for i, _ in copied}
                assert list_cache.copies_of(s.connection())[(ORG, LISTS)] is copy  # not taken from this read
                if end == "rollback":
                    s.rollback()
            with store.write() as s:
                copied, read = _both(s, vids[1])
                s.rollback()
            assert copied == read
            assert (refused["entry_id"] in {i for i, _ in copied}) == (end == "commit")
    finally:
        store.dispose()


@pytest.mark.postgres
def test_a_copy_older_than_the_log_kept_reads_the_list_whole(pg_url, monkeypatch):
    monkeypatch.setattr(list_cache, "KEEP_VERSIONS", 3)
    monkeypatch.setattr(list_cache, "PRUNE_EVERY", 1)
    a, b = Store(pg_url, pool_size=2), Store(pg_url, pool_size=2)
    try:
        _, org = add_token(a, "org1", "housing_organisation", [ORG])
        _, org2 = add_token(a, "org2", "housing_organisation", ["ORG2"])
        seed_stock(a, org2, dwellings=1, department_id="ORG2-01", org_id="ORG2")
        entries = _seed(a, org, org2)
        with a.write() as s:
            copied, read = _both(s, -1)
            assert copied == read
        old = list_cache.copies_of(_conn(a))[(ORG, LISTS)]
        for i, e in enumerate(entries[:8]):  # eight versions by worker B; its rounds prune the log
            b.transact(lambda s: update_applicant(s, org, e, {"household_size": 1 + i % 4}))
            with b.write() as s:
                _both(s, -1)
        with a.read() as s:
            oldest = s.scalar(text("SELECT min(version) FROM list_changes WHERE list_owner = :o"), {"o": ORG})
        assert oldest > old.version + 1  # A's copy is older than the log
        with a.write() as s:
            copied, read = _both(s, -1)
        assert copied == read and sorted(i for i, _ in copied) == sorted(i for i, _ in read)
    finally:
        a.dispose()
        b.dispose()


@pytest.mark.postgres
def test_a_change_raises_the_version_at_its_commit_and_a_rolled_back_one_does_not(pg_url):
    store = Store(pg_url, pool_size=2)
    try:
        _, org = add_token(store, "org1", "housing_organisation", [ORG])
        _, org2 = add_token(store, "org2", "housing_organisation", ["ORG2"])
        entries = _seed(store, org, org2, n=3)
        q = text("SELECT version, (SELECT count(*) FROM list_changes WHERE list_owner = :o) "
                 "FROM list_versions WHERE list_owner = :o")

        def now():
            with store.read() as s:
                return tuple(s.execute(q, {"o": ORG}).one())
        before = now()
        with store.write() as s:
            s.execute(update(Applicant).where(Applicant.entry_id == entries[0]).values(min_rooms=3))
            assert tuple(s.execute(q, {"o": ORG}).one()) == before  # raised at the commit (deferred)
            s.rollback()
        assert now() == before
        store.transact(lambda s: s.execute(update(Applicant).where(Applicant.entry_id == entries[0])
                                           .values(min_rooms=3)))
        assert now() == (before[0] + 1, before[1] + 1)
        with store.read() as s:
            last = s.execute(text("SELECT applicant_id, household_id FROM list_changes WHERE list_owner = :o "
                                  "AND version = :v"), {"o": ORG, "v": before[0] + 1}).one()
            entry = s.get(Applicant, entries[0])
            assert tuple(last) == (entry.applicant_id, entry.household_id)
    finally:
        store.dispose()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)   # the PostgreSQL half: the tests above
def test_sqlite_has_the_tables_and_reads_the_list_whole(store, tokens):
    _, org = tokens["org"]
    seed_stock(store, org, dwellings=1)
    with store.write() as s:
        copied, read = _both(s, -1)
        assert copied == read == []
        assert s.scalar(text("SELECT count(*) FROM list_versions")) == 0


def test_pruning_happens_once_the_version_passes_a_multiple():
    """Rounds see the version sparsely (several changes per letting), so pruning may not wait for
    a round to see an exact multiple of `PRUNE_EVERY`."""
    done: list[dict] = []
    cursor = SimpleNamespace(execute=lambda sql, params: done.append(params))
    keep, every = list_cache.KEEP_VERSIONS, list_cache.PRUNE_EVERY
    list_cache.prune(cursor, ORG, keep + every + 3, keep + every - 2)  # passed a multiple: pruned
    list_cache.prune(cursor, ORG, keep + every + 9, keep + every + 3)  # no multiple passed
    list_cache.prune(cursor, ORG, every + 1, every - 1)  # not above the versions kept
    assert done == [{"owner": ORG, "upto": every + 3}]


@pytest.mark.postgres
def test_the_round_start_reads_the_lists_state_of_every_channel_as_a_read_of_its_own(pg_url):
    """`candidates.round_start_pg` reads the vacancy (locked), takes the list's turn and reads the
    state of the worker's copy of the vacancy's lists in one round trip: for every channel the lists
    are those of `selection.candidate_lists`, the version the copy's, and the state the one
    `list_cache.state` reads on its own; a round then reads no state of its own."""
    a, b = Store(pg_url, pool_size=2), Store(pg_url, pool_size=2)
    try:
        _, org = add_token(a, "org1", "housing_organisation", [ORG])
        _, org2 = add_token(a, "org2", "housing_organisation", ["ORG2"])
        dwellings = seed_stock(a, org, dwellings=4)
        seed_stock(a, org2, dwellings=1, department_id="ORG2-01", org_id="ORG2")
        _seed(a, org, org2)
        rules = EngineRules()
        vids = [a.transact(lambda s, dw=dw: service.register_vacancy(
            s, org, {"dwelling_id": dw, "available_from": date(2025, 1, 1)}, rules=rules, now=NOW))["vacancy_id"]
            for dw in dwellings[:3]]
        first = a.transact(lambda s: service.make_offers(s, org, vids[0], None, rules=rules, now=NOW))
        b.transact(lambda s: answers.refuse_offer(s, org, first["offers"][0]["offer_id"], rules=rules, now=NOW))
        seen_states = 0
        for channel in CHANNELS:
            with a.write() as s:
                s.execute(text("UPDATE vacancies SET channel = :c WHERE vacancy_id = :v"),
                          {"c": channel, "v": vids[1]})
                v, _w, d, start = candidates.round_start_pg(s, vids[1])
                owner, types = candidate_lists(v, d)
                assert v.vacancy_id == vids[1] and v.channel == channel
                assert start.key == list_cache.copy_key(owner, types), channel
                copy = list_cache.copies_of(s.connection()).get((owner, types))
                assert start.since == (copy.version if copy is not None else -1)
                with s.connection().connection.driver_connection.cursor() as cursor:
                    alone = list_cache.state(cursor, owner, vids[1], start.since)
                assert start.state == (tuple(alone) if alone is not None else None), channel
                seen_states += start.state is not None and bool(start.state[2])
                s.rollback()
        assert seen_states  # the refusal by worker B is among the changes read after A's copy
        reads: list[int] = []
        state = list_cache.state
        list_cache.state = lambda *args: reads.append(1) or state(*args)  # type: ignore[assignment]
        try:
            with a.write() as s:
                cached = service.make_offers(s, org, vids[1], None, rules=rules, now=NOW)
                s.rollback()
        finally:
            list_cache.state = state  # type: ignore[assignment]
        assert reads == [] and cached["offers"]  # the state read with the vacancy was the round's
        list_cache.copies_of(_conn(a)).clear()
        with a.write() as s:
            uncached = service.make_offers(s, org, vids[1], None, rules=rules, now=NOW)
            s.rollback()
        strip = lambda r: [(o["entry_id"], o["rank"], o["rule"]) for o in r["offers"]]  # noqa: E731
        assert strip(cached) == strip(uncached) and cached["outcomes"] == uncached["outcomes"]
        with a.write() as s, pytest.raises(NotFoundError):
            candidates.round_start_pg(s, 2**31 - 7)
    finally:
        a.dispose()
        b.dispose()


@pytest.mark.parametrize("seed", range(6))
def test_the_changes_a_copys_history_gives_are_those_of_comparing_the_lists(seed):
    """`list_cache.changes_since` (what the kept ranking takes instead of comparing a round's
    candidates with its own): after random steps of `updated` (households changed: entries gone,
    read again unchanged, read again as a new row version, new entries), the entries gone and come
    since each earlier copy within `HISTORY` steps are those of comparing the two copies' entries;
    an older copy is not found."""
    rng = random.Random(seed)
    made = iter(range(10_000, 99_999))

    class Entry:  # one object per row version, compared by identity (as `candidates.CandidateEntry`)
        def __init__(self, **values):  # type: ignore[no-untyped-def]
            self.__dict__.update(values)

    def entry(aid: int, home: int | None, entry_id: int | None = None):
        return Entry(entry_id=entry_id or next(made), applicant_id=aid, household_id=home,
                     list_type=rng.choice(LISTS), referral_order=None,
                     seniority_date=date(2010, 1, 1) + timedelta(days=rng.randint(0, 999)))
    entries = [entry(aid, rng.choice([None, 500 + aid])) for aid in range(1, 30)]  # no household twice
    copies = [list_cache.whole(1, sorted(entries, key=list_cache.order_key))]
    for step in range(2, 30):
        copy = copies[-1]
        people = set(rng.sample(range(1, 40), rng.randint(0, 3)))
        homes = set(rng.sample(range(500, 540), rng.randint(0, 4)))
        touched = [e for e in copy.entries if e.applicant_id in people or e.household_id in homes]
        fresh = []
        for e in touched:  # still a candidate as it was, as a new row version, or no longer
            fresh += [[e], [entry(e.applicant_id, e.household_id, e.entry_id)], []][rng.randrange(3)]
        fresh += [entry(aid, 500 + rng.randrange(30)) for aid in people  # (perhaps a
                  if rng.random() < 0.8 and aid not in {e.applicant_id for e in touched}]  # household twice)
        copies.append(list_cache.updated(copy, step, people, homes, fresh))
        latest = copies[-1]
        for back, earlier in enumerate(reversed(copies)):
            got = list_cache.changes_since(latest, earlier)
            if back > list_cache.HISTORY:
                assert got is None
                continue
            was, now = set(earlier.entries), set(latest.entries)
            assert got == (was - now, now - was), (seed, step, back)


@pytest.mark.postgres
def test_a_round_from_the_copy_gives_its_rules_one_entry_per_household(pg_url):
    """With two members of one household and a person on both lists, each round's candidates (from
    the copy read whole, then brought up to date) hold one entry per household and per person."""
    store = Store(pg_url, pool_size=2)
    seen: list[list] = []

    class Recording(EngineRules):
        def plan(self, vacancy, dwelling, department, candidates, *args, **kwargs):  # type: ignore[no-untyped-def]
            seen.append(list(candidates))
            return super().plan(vacancy, dwelling, department, candidates, *args, **kwargs)
    try:
        _, org = add_token(store, "org1", "housing_organisation", [ORG])
        _, org2 = add_token(store, "org2", "housing_organisation", ["ORG2"])
        dwellings = seed_stock(store, org, dwellings=6)
        seed_stock(store, org2, dwellings=1, department_id="ORG2-01", org_id="ORG2")
        entries = _seed(store, org, org2)
        rules = Recording()
        for i, dw in enumerate(dwellings[:4]):
            got = store.transact(lambda s, dw=dw: service.register_vacancy(
                s, org, {"dwelling_id": dw, "available_from": date(2025, 1, 1)}, rules=rules, now=NOW))
            if got["channel"] != "waiting_list":
                continue
            store.transact(lambda s: service.make_offers(s, org, got["vacancy_id"], None, rules=rules, now=NOW))
            store.transact(lambda s, i=i: update_applicant(s, org, entries[-1 - i], {"household_size": 2}))
        copy = list_cache.copies_of(_conn(store))[(ORG, LISTS)]
        homes = [e.household_id for e in copy.entries if e.household_id is not None]
        assert len(set(homes)) < len(homes)  # the list holds a household twice
        assert len(seen) >= 2
        for candidates_ in seen:
            assert len({e.applicant_id for e in candidates_}) == len(candidates_)
            homes = [e.household_id for e in candidates_ if e.household_id is not None]
            assert len(set(homes)) == len(homes)
    finally:
        store.dispose()
