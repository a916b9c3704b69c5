"""A worker's copy of each list's candidates between offer rounds (PostgreSQL).

An offer round by the engine reads the whole list (every eligible applicant is ranked): some 2,000
entries with three anti-joins each (offered this vacancy, person or household holding an open or
accepted offer) were ~3.7 ms of PostgreSQL per round. Here a worker keeps, per list owner and list
types, the candidates in list order as of a list version (`models.ListVersion`, raised by the
triggers of migration 0018 with a `ListChange` row per household changed) and in each round reads,
in one statement, the version, the households changed since its copy and the persons offered this
vacancy; then only the changed households' entries (an indexed read) and the entries it has no
row version of. The database stays the truth:

* the version and the log are written in the transaction of each change and ordered by the version
  row's lock, so the copy of version N plus the changes logged after N is the list as stored;
* the version is read before the list, so a copy is never labelled newer than what it holds (a
  change committed in between is read again in the next round, never missed);
* a worker whose copy is older than the log kept (`KEEP_VERSIONS`), or with many changes, or a list
  without a version row, reads the list whole (`candidates._candidates` as before);
* a round in a transaction that itself changed entries or offers before (not logged until it
  commits, marked by a statement trigger) reads the list whole and keeps no copy;
* the lock-ahead still checks under a row lock that each household to be offered is free.

`tests/letting_store/test_letting_store_list_cache.py` checks the copy against the whole read after
every kind of change, by two workers.
"""

from __future__ import annotations

import bisect
import threading
import weakref
from dataclasses import dataclass
from typing import Any

from boligmix.letting.store.selection import MUNICIPAL_CHANNEL_LISTS, MUNICIPAL_LISTS

KEEP_VERSIONS = 1024
"""Versions of an owner's log kept (older rows are pruned by the rounds, `prune`)."""
PRUNE_EVERY = 256
"""A worker's round prunes its owner's log when the version passed a multiple of this since the
worker's copy (so each worker prunes about once per this many versions)."""
MAX_CHANGED = 256
"""More changed households than this since a copy: read the list whole."""


@dataclass(frozen=True)
class ListCopy:
    """The candidates of an owner's lists (of these list types) as of `version`, in list order,
    for any vacancy (the persons offered a vacancy are left out per round); never changed in place."""

    version: int
    entries: tuple[Any, ...]
    keys: tuple[tuple[Any, ...], ...]
    history: tuple[tuple[Any, tuple[Any, ...], tuple[Any, ...]], ...] = ()
    """The changes that made this copy, oldest first, at most `HISTORY` steps: (a weak reference to
    the copy before the step, the entries it took out, the entries it put in); a step's entries are
    the candidate entry objects (one per row version), so `changes_since` gives the entries gone
    and come since an earlier copy without comparing the whole lists (`store.kept_ranking`)."""


class CopiedList(list):  # type: ignore[type-arg]
    """Every candidate of a list copy, in list order, as a round's list of candidates; `source`: the
    copy (so the kept ranking can take the copy's changes, `changes_since`)."""

    __slots__ = ("source",)

    def __init__(self, copy: ListCopy) -> None:
        super().__init__(copy.entries)
        self.source = copy


HISTORY = 8
"""Steps of a copy's `history` kept (an older copy's changes are found by comparing the lists)."""


def changes_since(copy: ListCopy, earlier: ListCopy) -> tuple[set[Any], set[Any]] | None:
    """(the entries of `earlier` not in `copy`, the entries of `copy` not in `earlier`) from
    `copy`'s history; None when `earlier` is not among the copies it records."""
    if copy is earlier:
        return set(), set()
    steps = copy.history
    for i in range(len(steps) - 1, -1, -1):
        if steps[i][0]() is earlier:
            break
    else:
        return None
    # An entry's first step tells whether `earlier` had it: `updated` takes out every entry of a
    # changed household (and every entry read again) before putting in the fresh ones, so an entry
    # first touched by a taking out was in the copy, one first touched by a putting in was not.
    was: dict[Any, bool] = {}
    now: dict[Any, bool] = {}
    for _, gone, came in steps[i:]:
        for e in gone:
            was.setdefault(e, True)
            now[e] = False
        for e in came:
            was.setdefault(e, False)
            now[e] = True
    removed = {e for e, here in now.items() if not here and was[e]}
    added = {e for e, here in now.items() if here and not was[e]}
    return removed, added


_COPIES: weakref.WeakKeyDictionary[Any, dict[tuple[str, tuple[str, ...]], ListCopy]] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def copies_of(conn: Any) -> dict[tuple[str, tuple[str, ...]], ListCopy]:
    """This process's list copies for the database of `conn` (per SQLAlchemy engine)."""
    with _LOCK:
        copies = _COPIES.get(conn.engine)
        if copies is None:
            copies = _COPIES[conn.engine] = {}
        return copies


def order_key(entry: Any) -> tuple[Any, ...]:
    """An entry's place in list order, as `candidates._candidate_ids_statement` sorts: internal
    before the other lists; on the municipality's lists its `referral_order` first (unordered after
    the ordered ones); then seniority and entry id."""
    if entry.list_type in MUNICIPAL_LISTS and entry.referral_order is not None:
        unordered, referral = 0, entry.referral_order
    else:
        unordered, referral = 1, 0
    return (0 if entry.list_type == "internal" else 1, unordered, referral, entry.seniority_date, entry.entry_id)


def _state_columns(owner: str, since: str) -> str:
    """The columns of `STATE_SQL` for a list owner and a version given as SQL expressions."""
    return f"""lv.version,
       ARRAY(SELECT o.applicant_id FROM offers o WHERE o.vacancy_id = %(vacancy_id)s),
       ARRAY(SELECT DISTINCT c.applicant_id FROM list_changes c
             WHERE c.list_owner = {owner} AND c.version > {since} AND c.applicant_id IS NOT NULL),
       ARRAY(SELECT DISTINCT c.household_id FROM list_changes c
             WHERE c.list_owner = {owner} AND c.version > {since} AND c.household_id IS NOT NULL),
       (SELECT min(c.version) FROM list_changes c WHERE c.list_owner = {owner}),
       coalesce(current_setting('boligmix.list_changes_pending', true), '') = 'on'"""


STATE_SQL = ("SELECT " + _state_columns("%(owner)s", "%(since)s")
             + " FROM list_versions lv WHERE lv.list_owner = %(owner)s")
"""The owner's list version, the persons offered this vacancy, and the persons and households
changed after version `since`, with the oldest version the log still holds (one snapshot), and
whether this transaction changed entries or offers itself (not logged before its commit)."""


def copy_key(owner: str, list_types: tuple[str, ...]) -> str:
    """A copy's key (owner, list types) as `ROUND_STATE_SQL` spells it."""
    return owner + "|" + ",".join(list_types)


def _round_lists_sql() -> tuple[str, str]:
    """SQL expressions over a vacancy `v` and its department `d`: the list owner and the list types
    (`copy_key`'s spelling) of the vacancy's candidates, as `selection.candidate_lists` gives them
    (a round checks the two agree, `candidates.round_start_pg`, and reads its state again if not;
    `test_letting_store_list_cache.py` compares them for every channel)."""
    municipal = ", ".join(f"'{c}'" for c in MUNICIPAL_CHANNEL_LISTS)
    owner = f"CASE WHEN v.channel IN ({municipal}) THEN 'kommune:' || d.municipality_code::text ELSE d.org_id END"
    types = ("CASE v.channel " + " ".join(f"WHEN '{c}' THEN '{t}'" for c, t in MUNICIPAL_CHANNEL_LISTS.items())
             + " WHEN 'annoncering' THEN 'advert_response' ELSE 'internal,external' END")
    return owner, types


_OWNER, _TYPES = _round_lists_sql()
_VACANCY_LISTS_FROM = """FROM vacancies v JOIN dwellings w ON w.dwelling_id = v.dwelling_id
JOIN departments d ON d.department_id = w.department_id WHERE v.vacancy_id = %(vacancy_id)s"""
QUEUE_SQL = f"SELECT pg_advisory_xact_lock(%(space)s, hashtext({_OWNER})) " + _VACANCY_LISTS_FROM
"""The turn on the vacancy's list owner's queue (`rounds._queue_on_list`'s lock, keyed by the
owner's `hashtext`)."""
ROUND_STATE_SQL = f"""WITH r AS (SELECT {_OWNER} AS owner, {_OWNER} || '|' || {_TYPES} AS key {_VACANCY_LISTS_FROM}),
q AS (SELECT r.owner, r.key, coalesce((SELECT k.version FROM unnest(%(keys)s::text[], %(versions)s::bigint[])
                                       AS k(key, version) WHERE k.key = r.key LIMIT 1), -1) AS since FROM r)
SELECT q.key, q.since, {_state_columns("q.owner", "q.since")}
FROM q LEFT JOIN list_versions lv ON lv.list_owner = q.owner"""
"""`STATE_SQL` of the vacancy's lists (owner and list types from the vacancy's row) after the
version of this worker's copy of them (`keys`/`versions`: the worker's copies, -1 without one),
with the key and version it was read for; the version NULL when the owner has no version row."""

CHANGED_ENTRIES_SQL = """
SELECT a.entry_id, a.row_version FROM applicants a
WHERE a.list_owner = %(owner)s AND a.list_type = ANY(%(types)s::text[]) AND a.status = 'active'
  AND a.passive_since IS NULL
  AND (a.applicant_id = ANY(%(people)s::bigint[]) OR a.household_id = ANY(%(homes)s::bigint[]))
  AND NOT EXISTS (SELECT 1 FROM offers o WHERE o.applicant_id = a.applicant_id AND o.status IN ('open', 'accepted'))
  AND NOT EXISTS (SELECT 1 FROM offers o WHERE o.household_id = a.household_id AND o.status IN ('open', 'accepted'))
"""
"""The changed households' entries that are candidates now (as `candidates._candidates` selects them,
for any vacancy)."""

PRUNE_SQL = "DELETE FROM list_changes WHERE list_owner = %(owner)s AND version <= %(upto)s"


def state(cursor: Any, owner: str, vacancy_id: int, since: int) -> tuple[Any, ...] | None:
    """(version, persons offered the vacancy, changed persons, changed households, oldest logged
    version, changes pending in this transaction) of `owner`'s lists; None when the owner has no
    version row (never changed since 0018)."""
    return cursor.execute(STATE_SQL, {"owner": owner, "vacancy_id": vacancy_id, "since": since}).fetchone()


def log_covers(copy: ListCopy | None, version: int, oldest: int | None) -> bool:
    """Whether the log holds every change after `copy`'s version up to `version` (each version has
    at least one log row, and pruning removes the oldest versions first)."""
    if copy is None or copy.version > version:
        return False
    if copy.version == version:
        return True
    return oldest is not None and oldest <= copy.version + 1


def updated(copy: ListCopy, version: int, people: set[int], homes: set[int], fresh: list[Any]) -> ListCopy:
    """`copy` without the changed households' entries, with `fresh` (their entries that are candidates
    now) in list order, as of `version`."""
    again = {e.entry_id for e in fresh}
    gone: list[Any] = []
    keep = [(k, e) for k, e in zip(copy.keys, copy.entries)  # (`gone.append` only for those left out)
            if e.applicant_id not in people and (e.household_id is None or e.household_id not in homes)
            and e.entry_id not in again or gone.append(e)]
    keys = [k for k, _ in keep]
    entries = [e for _, e in keep]
    for e in sorted(fresh, key=order_key):
        k = order_key(e)
        i = bisect.bisect_left(keys, k)
        keys.insert(i, k)
        entries.insert(i, e)
    history = (*copy.history[1 - HISTORY:], (weakref.ref(copy), tuple(gone), tuple(fresh)))
    return ListCopy(version, tuple(entries), tuple(keys), history)


def whole(version: int, entries: list[Any]) -> ListCopy:
    """A copy of a list read whole (in list order) as of `version`."""
    return ListCopy(version, tuple(entries), tuple(map(order_key, entries)))


def prune(cursor: Any, owner: str, version: int, since: int) -> None:
    """Drop the owner's log rows older than the versions kept, when the version passed a multiple
    of `PRUNE_EVERY` since `since` (the version of the worker's copy before this round)."""
    if version // PRUNE_EVERY != since // PRUNE_EVERY and version > KEEP_VERSIONS:
        cursor.execute(PRUNE_SQL, {"owner": owner, "upto": version - KEEP_VERSIONS})
