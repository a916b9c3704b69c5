"""A vacancy's registration by driver SQL on PostgreSQL: the share counters locked and read, then
the counters' new state, the vacancy and its channel decision written by one statement.

The same rows as the ORM path of `service.register_vacancy` (kept for SQLite) writes, without an
ORM flush of three objects per registration (some 1.5 ms of CPU, issue 11): one upsert per share
counter (created when missing, its row locked, in key order), one statement after the allocation."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.engine import Connection

from boligmix.letting.store.db import dumps_json
from boligmix.letting.store.errors import StoreInvariantError
from boligmix.letting.store.models import Vacancy, utcnow

_UPSERT_COUNTER = (
    "INSERT INTO share_counters (policy_id, scope_key, count_per, policy_version, seen, used) "
    "VALUES (%s, %s, %s, %s, 0, CAST('{}' AS json)) "
    "ON CONFLICT (policy_id, scope_key) DO UPDATE SET policy_id = EXCLUDED.policy_id RETURNING seen, used")
"""The no-op update locks an existing row (concurrent registrations in one scope count in turn)."""

_COUNTERS = (
    "counters AS (UPDATE share_counters AS t SET seen = x.seen, used = x.used, policy_version = x.policy_version "
    "FROM (VALUES {rows}) AS x(policy_id, scope_key, seen, used, policy_version) "
    "WHERE t.policy_id = x.policy_id AND t.scope_key = x.scope_key), ")
_COUNTER_ROW = "(CAST(%s AS varchar), CAST(%s AS varchar), CAST(%s AS integer), CAST(%s AS json), CAST(%s AS varchar))"
_INSERT = (
    "vacancy AS (INSERT INTO vacancies (dwelling_id, channel, available_from, status, created_at) "
    "VALUES (%s, %s, %s, 'open', %s) RETURNING vacancy_id) "
    "INSERT INTO decisions (created_at, outcome, vacancy_id, dwelling_id, channel, rule, rule_version, law, reason, "
    "facts, unknown_facts, actor) SELECT %s, %s, vacancy.vacancy_id, %s, %s, %s, %s, %s, %s, CAST(%s AS json), "
    "CAST(%s AS json), %s FROM vacancy RETURNING vacancy_id")


def lock_share_counters(conn: Connection, states: list[Any]) -> None:
    """Create the share counters of `states` when missing, lock them in key order and read their
    state into `states` (`seen`, `used`), as `service._lock_share_counters` does with the ORM."""
    read: dict[tuple[str, str], tuple[int, dict[str, int]]] = {}
    for st in sorted(states, key=lambda x: (x.policy_id, x.scope_key)):
        key = (st.policy_id, st.scope_key)
        if key not in read:
            seen, used = conn.exec_driver_sql(
                _UPSERT_COUNTER, (st.policy_id, st.scope_key, st.count_per, st.policy_version)).one()
            read[key] = (seen, used or {})
    for st in states:
        seen, used = read[(st.policy_id, st.scope_key)]
        st.seen, st.used = seen, dict(used)


def insert_vacancy(conn: Connection, states: list[Any], *, dwelling_id: int, channel: str, available_from: date,
                   decision: dict[str, Any]) -> Vacancy:
    """Write the counters' state after the allocation (`states`, the last one of a key counts, as
    the ORM's), the open vacancy and its channel decision (`decision`: outcome, rule, rule_version,
    law, reason, facts, actor); the vacancy returned is not in the session (its values only)."""
    last = {(st.policy_id, st.scope_key): st for st in states}
    params: list[Any] = []
    for st in last.values():
        params += [st.policy_id, st.scope_key, st.seen, dumps_json(dict(st.used)), st.policy_version]
    at = utcnow()
    params += [dwelling_id, channel, available_from, at,
               at, decision["outcome"], dwelling_id, channel, decision["rule"], decision["rule_version"],
               decision["law"], decision["reason"], dumps_json(decision["facts"]), "[]", decision["actor"]]
    sql = "WITH " + (_COUNTERS.format(rows=",".join([_COUNTER_ROW] * len(last))) if last else "") + _INSERT
    rows = conn.exec_driver_sql(sql, tuple(params)).all()
    if len(rows) != 1:
        raise StoreInvariantError(f"registering a vacancy of dwelling {dwelling_id} wrote {len(rows)} decisions")
    return Vacancy(vacancy_id=rows[0][0], dwelling_id=dwelling_id, channel=channel, available_from=available_from,
                   status="open", created_at=at)
