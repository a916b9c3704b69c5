"""The candidates of an offer round, read in list order, and the locks that keep one household to
one open offer while concurrent rounds run (`rounds.make_offers` calls these)."""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass
from itertools import compress
from operator import attrgetter, not_
from typing import Any

from sqlalchemy import ARRAY, Integer, any_, bindparam, case, literal_column, null, select, union_all
from sqlalchemy.orm import Session

from boligmix.letting.store.context import (
    _DEPARTMENT_COLUMNS,
    _DWELLING_COLUMNS,
    _VACANCY_COLUMNS,
    _VACANCY_CONTEXT_PG_SQL,
)

from boligmix.letting.store import list_cache
from boligmix.letting.store.errors import InvalidRequestError, NotFoundError
from boligmix.letting.store.models import Applicant, Department, Dwelling, Offer, Vacancy
from boligmix.letting.store.selection import MUNICIPAL_LISTS

WHOLE_LIST = 2**31 - 1
"""The page size of rules that rank the whole list (the engine): every eligible applicant is a
candidate, however long the list (until issue 11 the list was cut at 5,000 by seniority, so a
fortrinsret holder behind 5,000 more senior applicants was never considered)."""


def _candidates(s: Session, v: Vacancy, owner: str, list_types: tuple[str, ...], *, offset: int = 0,
                limit: int = WHOLE_LIST, start: RoundStart | None = None) -> list[CandidateEntry]:
    """Candidates in list order: active entries of the lists, without an offer for this vacancy and
    whose household holds no open or accepted offer (one household, one dwelling); `limit` of them
    from `offset` (`WHOLE_LIST`: all). The entries come from the process's cache when their row
    version is the one cached (`_cache_of`); only new and changed rows are read.

    One branch per list type, each read in list order and cut at `offset + limit`: on the
    municipality's lists its `referral_order` first (unordered entries after the ordered ones),
    then seniority and entry, which on the other lists is the order of the queue index (list owner,
    list type, status, seniority, entry), so the database reads the head of each list instead of
    sorting the whole list every round; the branches are merged in list order (internal before the
    others). `start`: the list's state read with the vacancy (`round_start_pg`)."""
    conn = s.connection()
    if offset == 0 and limit >= WHOLE_LIST and conn.dialect.name == "postgresql":
        got = _candidates_by_copy(s, v, owner, tuple(list_types), start)
        if got is not None:
            return got
    return _candidates_read(s, v.vacancy_id, owner, list_types, offset=offset, limit=limit)


def _candidates_by_copy(s: Session, v: Vacancy, owner: str, list_types: tuple[str, ...],
                        start: RoundStart | None = None) -> list[CandidateEntry] | None:
    """`_candidates` of the whole list from this worker's copy of it (`store.list_cache`): the
    version and the households changed since the copy in one statement, then their entries; the
    list read whole when the copy is missing or too old. None: the owner's lists have no version
    row, or this transaction changed entries or offers itself (read them as before, keep no copy).
    `start`: the state read with the vacancy (used when read for this list and this copy's version)."""
    conn = s.connection()
    copies = list_cache.copies_of(conn)
    key = (owner, list_types)
    copy = copies.get(key)
    since = copy.version if copy is not None else -1
    with conn.connection.driver_connection.cursor() as cursor:
        if start is not None and start.since == since and start.key == list_cache.copy_key(owner, list_types):
            state = start.state
        else:  # no state read with the vacancy, or read for another copy (a thread stored a newer one)
            state = list_cache.state(cursor, owner, v.vacancy_id, since)
        if state is None or state[5]:  # no version row, or this transaction's own changes are not logged yet
            return None
        version, offered_here, people, homes, oldest, _pending = state
        if not list_cache.log_covers(copy, version, oldest) or len(people) + len(homes) > list_cache.MAX_CHANGED:
            entries = _candidates_read(s, _NO_VACANCY, owner, list_types)  # read after the version: never newer
            copy = list_cache.whole(version, entries)
        elif version != copy.version:  # type: ignore[union-attr]
            # not prepared: a plan for these few persons and households (their indexes); the generic
            # plan a prepared statement settles on reads the whole list by the queue index (~1 ms of
            # PostgreSQL per round against ~0.4 ms planned each time)
            keys = cursor.execute(list_cache.CHANGED_ENTRIES_SQL, {
                "owner": owner, "types": list(list_types), "people": people, "homes": homes},
                prepare=False).fetchall()
            fresh = _entries(s, keys)
            if fresh is None:  # a row changed between the two statements: read the list whole
                copy = list_cache.whole(version, _candidates_read(s, _NO_VACANCY, owner, list_types))
            else:
                copy = list_cache.updated(copy, version, set(people), set(homes), fresh)  # type: ignore[arg-type]
        copies[key] = copy
        list_cache.prune(cursor, owner, version, since)
    if not offered_here:
        return list_cache.CopiedList(copy)  # (the copy's own list: its changes tell the kept ranking's)
    offered = set(offered_here)
    entries = copy.entries
    return list(compress(entries, map(not_, map(offered.__contains__, map(_APPLICANT_ID, entries)))))


_APPLICANT_ID = attrgetter("applicant_id")


@dataclass(frozen=True)
class RoundStart:
    """The state of a vacancy's lists (`list_cache.state`) as read with the vacancy's row."""

    key: str
    """The lists' `list_cache.copy_key` (from the vacancy's row)."""
    since: int
    """The version of the worker's copy it was read after (-1: none)."""
    state: tuple[Any, ...] | None
    """`list_cache.state`'s row (None: the owner has no version row)."""


def round_start_pg(s: Session, vacancy_id: int) -> tuple[Vacancy, Dwelling, Department, RoundStart]:
    """`context.locked_vacancy_context_pg`, then the turn on the list's queue
    (`rounds._queue_on_list`), then the list's state (`list_cache.state`) for this worker's copy,
    in one round trip (PostgreSQL): three statements sent at once (psycopg's pipeline mode), each
    with its own snapshot (read committed), so the state is read after the vacancy's row lock and
    the list's turn were taken and sees what the rounds before committed, as when they were three
    round trips. Each statement is prepared on the connection (`prepare=True`): sent as one string
    of three statements with the values bound in the client they were parsed and planned again
    every round, ~1.25 ms of PostgreSQL's CPU per round (the state statement's plan ~0.95 ms)."""
    conn = s.connection()
    copies = list(list_cache.copies_of(conn).items())
    params = {"vacancy_id": vacancy_id, "space": _LIST_LOCK_SPACE,
              "keys": [list_cache.copy_key(owner, types) for (owner, types), _ in copies],
              "versions": [c.version for _, c in copies]}
    driver = conn.connection.driver_connection
    cursors = [driver.cursor() for _ in _ROUND_START]
    try:
        with driver.pipeline():
            for cursor, (sql, names) in zip(cursors, _ROUND_START):
                cursor.execute(sql, {k: params[k] for k in names}, prepare=True)
        row = cursors[0].fetchone()
        if row is None:
            raise NotFoundError(f"vacancy {vacancy_id} does not exist")
        key, since, *state = cursors[2].fetchone()
    finally:
        for cursor in cursors:
            cursor.close()
    n, m = len(_VACANCY_COLUMNS), len(_DWELLING_COLUMNS)
    return (Vacancy(**dict(zip(_VACANCY_COLUMNS, row[:n]))), Dwelling(**dict(zip(_DWELLING_COLUMNS, row[n:n + m]))),
            Department(**dict(zip(_DEPARTMENT_COLUMNS, row[n + m:]))),
            RoundStart(key, since, tuple(state) if state[0] is not None else None))


_LIST_LOCK_SPACE = 0x6C657474
"""The advisory-lock key space of offer rounds per list owner ('lett'; `rounds._queue_on_list`)."""
_VACANCY_SQL = _VACANCY_CONTEXT_PG_SQL.replace("%s", "%(vacancy_id)s")
_ROUND_START = [(_VACANCY_SQL, ("vacancy_id",)), (list_cache.QUEUE_SQL, ("space", "vacancy_id")),
                (list_cache.ROUND_STATE_SQL, ("vacancy_id", "keys", "versions"))]
"""The round start's statements and the parameters each takes."""

_NO_VACANCY = -1
"""A vacancy id no offer has: the list's candidates for any vacancy (the copy's)."""


def _entries(s: Session, keys: list[tuple[int, int]]) -> list[CandidateEntry] | None:
    """The cached entries of these (entry id, row version) keys, reading the ones not cached; None
    when a row's version changed meanwhile."""
    if not keys:
        return []
    conn = s.connection()
    cache = _cache_of(conn)
    missing = [key[0] for key in keys if key not in cache]
    if missing:
        if len(cache) + len(missing) > CACHE_LIMIT:
            cache.clear()
        for row in s.execute(_ENTRIES_BY_ID_PG, {"ids": missing}):
            cache[(row.entry_id, row.row_version)] = CandidateEntry(row)
    out = []
    for key in keys:
        entry = cache.get(key)
        if entry is None:
            return None
        out.append(entry)
    return out


def _candidates_read(s: Session, vacancy_id: int, owner: str, list_types: tuple[str, ...], *, offset: int = 0,
                     limit: int = WHOLE_LIST) -> list[CandidateEntry]:
    """`_candidates` read from the database (for the vacancy `vacancy_id`)."""
    params = {"owner": owner, "vacancy_id": vacancy_id, "head": min(offset + limit, WHOLE_LIST), "offset": offset,
              "limit": limit}
    conn = s.connection()
    stmt, sql = _candidate_ids_statement(list_types, conn.dialect)
    if sql is not None:  # driver SQL compiled once per list types: nothing to build again every round
        # on the transaction's own driver connection: plain (entry id, row version) tuples, without
        # building a result row object for each of the ~2,000 candidates (1.5-2 ms -> 0.3 ms of CPU)
        with conn.connection.driver_connection.cursor() as cursor:
            keys = cursor.execute(sql, params).fetchall()
    else:
        keys = [(r[0], r[1]) for r in s.execute(stmt, params)]
    if not keys:
        return []
    cache = _cache_of(conn)
    missing = [key[0] for key in keys if key not in cache]
    if missing:  # then the entries by primary key (a join could make the planner scan the whole table)
        if len(cache) + len(missing) > CACHE_LIMIT:
            cache.clear()
        for row in s.execute(_ENTRIES_BY_ID_PG if conn.dialect.name == "postgresql" else _ENTRIES_BY_ID,
                             {"ids": missing}):
            cache[(row.entry_id, row.row_version)] = CandidateEntry(row)
    out = []
    for key in keys:
        entry = cache.get(key)
        if entry is None:  # changed between the two statements (a concurrent commit): read it as it is now
            return _candidates_uncached(s, [i for i, _ in keys])
        out.append(entry)
    return out


def _candidates_uncached(s: Session, ids: list[int]) -> list[Any]:
    conn = s.connection()
    by_id = {a.entry_id: CandidateEntry(a) for a in s.execute(
        _ENTRIES_BY_ID_PG if conn.dialect.name == "postgresql" else _ENTRIES_BY_ID, {"ids": ids})}
    return [by_id[i] for i in ids if i in by_id]


_COLUMNS = tuple(c.key for c in Applicant.__mapper__.column_attrs)


class CandidateEntry:
    """An applicant entry as an offer round reads it: the row's values as attributes (as an
    `Applicant`), and `engine`, the engine's applicant built from them (`engine_rules`) once."""

    __slots__ = (*_COLUMNS, "engine")

    def __init__(self, row: Any) -> None:
        for name in _COLUMNS:
            object.__setattr__(self, name, getattr(row, name))
        self.engine: Any = None


CACHE_LIMIT = 50_000
"""Entries kept per database by a process (cleared when full; an entry with its engine applicant
holds a few kB)."""
_CACHES: weakref.WeakKeyDictionary[Any, dict[tuple[int, int], CandidateEntry]] = weakref.WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()


def _cache_of(conn: Any) -> dict[tuple[int, int], CandidateEntry]:
    """The candidate entries this process read from the database of `conn`, by (entry id, row
    version). `applicants.row_version` is new for every insert and update of the row (migration
    0016: a trigger sets it from a sequence on PostgreSQL, to a random 63-bit number on SQLite,
    also when the change is another worker's or is rolled back), so an entry cached under its
    current version is the row as it is in the database, and a change is never missed."""
    engine = conn.engine
    with _CACHES_LOCK:
        cache = _CACHES.get(engine)
        if cache is None:
            cache = _CACHES[engine] = {}
        return cache


_ENTRIES_BY_ID = (select(*(getattr(Applicant, c.key) for c in Applicant.__mapper__.column_attrs))
                  .where(Applicant.entry_id.in_(bindparam("ids", expanding=True))))
"""The candidates as plain rows (an offer round only reads them; a row has the entry's attribute names)."""
_ENTRIES_BY_ID_PG = (select(*(getattr(Applicant, c.key) for c in Applicant.__mapper__.column_attrs))
                     .where(Applicant.entry_id == any_(bindparam("ids", type_=ARRAY(Integer)))))
"""The same with one array parameter (PostgreSQL): no statement text growing with the list."""
_CANDIDATE_IDS: dict[tuple[tuple[str, ...], str], tuple[Any, str | None]] = {}


def _candidate_ids_statement(list_types: tuple[str, ...], dialect: Any) -> tuple[Any, str | None]:
    """The statement of `_candidates`' entry ids for these list types (parameters owner, vacancy_id,
    head = offset + limit, offset, limit), built once; on PostgreSQL also its driver SQL."""
    key = (tuple(list_types), dialect.name)
    if key in _CANDIDATE_IDS:
        return _CANDIDATE_IDS[key]
    offer = Offer.__table__
    # The household counts, not the entry: offered this vacancy on any of its entries, or holding an
    # open or accepted offer anywhere (one household, one dwelling; an accepted offer with a lease
    # holds it for good), by the person id or by the household id.
    offered_here = select(offer.c.offer_id).where(offer.c.applicant_id == Applicant.applicant_id,
                                                   offer.c.vacancy_id == bindparam("vacancy_id"))
    holds = offer.c.status.in_([literal_column("'open'"), literal_column("'accepted'")])
    person_held = select(offer.c.offer_id).where(offer.c.applicant_id == Applicant.applicant_id, holds)
    household_held = select(offer.c.offer_id).where(offer.c.household_id == Applicant.household_id, holds)
    branches = []
    for list_type in list_types:
        if list_type in MUNICIPAL_LISTS:
            unordered = case((Applicant.referral_order.is_(None), literal_column("1")), else_=literal_column("0"))
            order_key = Applicant.referral_order
        else:  # only the municipality orders its lists (create_applicant refuses referral_order elsewhere)
            unordered, order_key = literal_column("1"), null()
        head = (select(Applicant.entry_id, Applicant.row_version, Applicant.seniority_date,
                       literal_column("0" if list_type == "internal" else "1").label("list_rank"),
                       unordered.label("unordered"), order_key.label("referral_order"))
                .where(Applicant.list_owner == bindparam("owner"),
                       Applicant.list_type == literal_column(f"'{_sql_word(list_type)}'"),
                       Applicant.status == literal_column("'active'"), Applicant.passive_since.is_(None),
                       ~offered_here.exists(), ~person_held.exists(), ~household_held.exists())
                .order_by(*((unordered, order_key) if list_type in MUNICIPAL_LISTS else ()),
                          Applicant.seniority_date, Applicant.entry_id)
                .limit(bindparam("head")).subquery())
        branches.append(select(head))
    heads = union_all(*branches).subquery()
    stmt = (select(heads.c.entry_id, heads.c.row_version)
            .order_by(heads.c.list_rank, heads.c.unordered, heads.c.referral_order, heads.c.seniority_date,
                      heads.c.entry_id).offset(bindparam("offset")).limit(bindparam("limit")))
    sql = str(stmt.compile(dialect=dialect)) if dialect.name == "postgresql" else None
    _CANDIDATE_IDS[key] = (stmt, sql)
    return stmt, sql


def _sql_word(word: str) -> str:
    """A list type as a SQL literal's text (list types are fixed words of the schema)."""
    if not word.replace("_", "").isalnum():
        raise InvalidRequestError(f"unknown list type {word!r}")
    return word


def _busy_candidates(s: Session, v: Vacancy, owner: str, list_types: tuple[str, ...]) -> list[Applicant]:
    """Entries `_candidates` held back because they hold an open offer elsewhere (active, not
    passive, not offered this vacancy), in list order."""
    offered_here = select(Offer.applicant_id).where(Offer.vacancy_id == v.vacancy_id)
    open_elsewhere = select(Offer.applicant_id).where(Offer.status == "open", Offer.vacancy_id != v.vacancy_id)
    return list(s.scalars(
        select(Applicant).where(Applicant.list_owner == owner, Applicant.list_type.in_(list_types),
                                Applicant.status == "active", Applicant.passive_since.is_(None),
                                Applicant.applicant_id.not_in(offered_here),
                                Applicant.applicant_id.in_(open_elsewhere))
        .order_by(Applicant.seniority_date, Applicant.entry_id)))


def _lock_offerable(s: Session, entry_ids: list[int]) -> set[int]:
    """Lock the entries about to get an offer; return those still free to get one.

    `FOR UPDATE SKIP LOCKED` passes over an entry a concurrent transaction is offering (or letting)
    right now; after the lock, an entry that meanwhile got an open offer or a lease is dropped. So
    one applicant never holds two open offers, even with concurrent rounds (on SQLite the write
    transactions are serialised and the check is exact anyway).
    """
    if not entry_ids:
        return set()
    # Entries seen with an open offer are not locked at all (a lock held until this round commits
    # would make an acceptance of that offer wait for the round); the check after the lock, with a
    # new snapshot, catches the offers committed meanwhile.
    conn = s.connection()
    if conn.dialect.name == "postgresql":
        # Driver SQL with an array parameter: no statement to build and compile again for every
        # lost race (with concurrent rounds on one list this runs about once per concurrent round).
        locked = {r[0] for r in conn.exec_driver_sql(_LOCK_OFFERABLE_SQL, {"ids": list(entry_ids)})}
        if not locked:
            return locked
        busy = {r[0] for r in conn.exec_driver_sql(_BUSY_SQL, {"ids": list(locked)})}
        return locked - busy
    at, ot = Applicant.__table__, Offer.__table__
    holds = ot.c.status.in_(("open", "accepted"))
    held = select(ot.c.offer_id).where(holds, (ot.c.applicant_id == at.c.applicant_id)
                                       | ((ot.c.household_id == at.c.household_id) & at.c.household_id.is_not(None)))
    locked = set(conn.scalars(select(at.c.entry_id).where(at.c.entry_id.in_(entry_ids), at.c.status == "active",
                                                          ~held.exists())
                              .with_for_update(skip_locked=True)))
    return locked  # SQLite serialises write transactions: what it read is what holds


def _lock_first_offerable(s: Session, entry_ids: list[int], n: int) -> list[int]:
    """Lock the first `n` entries of `entry_ids` (in that order) still free to get an offer, passing
    over those a concurrent transaction holds; return them in order (fewer when fewer are free).

    One statement for what `_lock_offerable` would find one lost race at a time: PostgreSQL locks
    the rows in the given order with `SKIP LOCKED` and stops after `n`; the check after the lock
    (a new snapshot) drops an entry that meanwhile got an open offer. Other entries stay unlocked."""
    if not entry_ids or n <= 0:
        return []
    conn = s.connection()
    if conn.dialect.name == "postgresql":
        # The database function (migration 0020) walks a window of the ranking in order and stops at
        # the n-th free entry: per entry a primary-key lookup, `FOR UPDATE SKIP LOCKED`, and the
        # held-offer check again after the lock (a new snapshot; an entry found busy then stays locked
        # and is passed over). A window that gives fewer than asked has no other free entry, so the
        # next one starts after it (the whole ranking is not sent: a round needs a few entries).
        free: list[int] = []
        rest = list(entry_ids)
        while len(free) < n and rest:
            window = rest[:max(_LOCK_WINDOW, 4 * (n - len(free)))]
            free += conn.exec_driver_sql(_LOCK_FIRST_OFFERABLE_SQL, {"ids": window, "n": n - len(free)}).scalar_one()
            rest = rest[len(window):]
        return free
    free = _lock_offerable(s, entry_ids)  # SQLite serialises write transactions: nothing to pass over
    return [i for i in entry_ids if i in free][:n]


_LOCK_WINDOW = 64
"""Entries of the ranking offered to the lock statement at once (`_lock_first_offerable`)."""
_HOUSEHOLD_FREE = """
  AND NOT EXISTS (SELECT 1 FROM offers o WHERE o.applicant_id = a.applicant_id AND o.status IN ('open', 'accepted'))
  AND NOT EXISTS (SELECT 1 FROM offers o WHERE o.household_id = a.household_id AND o.status IN ('open', 'accepted'))"""
_LOCK_FIRST_OFFERABLE_SQL = "SELECT boligmix_lock_first_offerable(%(ids)s::integer[], %(n)s::integer)"
_LOCK_OFFERABLE_SQL = """
SELECT a.entry_id FROM applicants a
WHERE a.entry_id = ANY(%(ids)s::integer[]) AND a.status = 'active'""" + _HOUSEHOLD_FREE + """
FOR UPDATE OF a SKIP LOCKED
"""
_BUSY_SQL = """
SELECT a.entry_id FROM applicants a
WHERE a.entry_id = ANY(%(ids)s::integer[]) AND (
  EXISTS (SELECT 1 FROM offers o WHERE o.applicant_id = a.applicant_id AND o.status IN ('open', 'accepted'))
  OR EXISTS (SELECT 1 FROM offers o WHERE o.household_id = a.household_id AND o.status IN ('open', 'accepted')))
"""
"""Entries whose household got an open or accepted offer meanwhile (a new snapshot after the lock);
a household taken by a transaction not yet committed is caught by the unique indexes (retried)."""
