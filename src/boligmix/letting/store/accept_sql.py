"""The SQL of accepting an offer on PostgreSQL, shared by the service and the API's fast path.

Driver SQL (psycopg, `%(name)s` parameters), so the same text runs through SQLAlchemy
(`exec_driver_sql`, in `service.accept_offer`) and through an async psycopg connection
(`boligmix.web.fast_path`). An acceptance is three statements in one READ COMMITTED transaction:

1. `LOCK_SQL` locks the vacancy (`FOR UPDATE OF v`) and reads its department for the scope check;
   it also reads whether the token is still valid and the request's stored idempotency record.
2. `REREAD_SQL`, a new statement after the lock (so it sees the latest commit), re-reads the offer
   and locks the applicant's entry (`FOR UPDATE OF a`): the locking order vacancy -> applicant. It
   also draws the lease id from the lease sequence, so the answer is known before the writes and
   the writes, the idempotency record and COMMIT can go in one round trip (pipeline).
3. `ACCEPT_SQL` writes everything in one statement: the lease, the offer, vacancy and entry status,
   the withdrawal of the other open offers and all the decisions (`let` and `withdrawn`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from boligmix.letting.store.selection import RULE_VERSION

STORE_RULE = "boligmix.store"

LOCK_SQL = """
SELECT v.vacancy_id, v.dwelling_id, v.channel, v.available_from, v.status, d.org_id, d.municipality_code,
       (SELECT t.revoked_at IS NULL FROM api_tokens t WHERE t.token_id = %(tid)s) AS token_ok,
       (SELECT k.request_sha256 FROM idempotency_keys k WHERE k.token_id = %(tid)s AND k.idem_key = %(key)s)
           AS stored_request,
       (SELECT x.lease_id FROM leases x WHERE x.vacancy_id = v.vacancy_id) AS lease_id
FROM offers o
JOIN vacancies v ON v.vacancy_id = o.vacancy_id
JOIN dwellings w ON w.dwelling_id = v.dwelling_id
JOIN departments d ON d.department_id = w.department_id
WHERE o.offer_id = %(oid)s
FOR UPDATE OF v
"""
"""Columns: vacancy_id, dwelling_id, channel, available_from, status, org_id, municipality_code,
token_ok (None: unknown token), stored_request (the SHA-256 of a stored request with this key),
lease_id (the vacancy's lease; None also when the lease was committed while this statement waited
for the lock: the subquery reads the statement's snapshot, so `LEASE_OF_VACANCY_SQL` asks again)."""

REREAD_SQL = """
SELECT o.status, o.rank, o.rule, o.rule_version, o.entry_id, o.deadline, a.applicant_id, a.household_id,
       a.status AS entry_status, nextval(pg_get_serial_sequence('leases', 'lease_id')) AS new_lease_id
FROM offers o JOIN applicants a ON a.entry_id = o.entry_id
WHERE o.offer_id = %(oid)s
FOR UPDATE OF a
"""

LEASE_OF_VACANCY_SQL = "SELECT lease_id FROM leases WHERE vacancy_id = %(vid)s"

ACCEPT_SQL = """
WITH l AS (
    INSERT INTO leases (lease_id, vacancy_id, offer_id, entry_id, dwelling_id, applicant_id, household_id,
                        lease_start, channel, created_at)
    VALUES (%(lease_id)s, %(vid)s, %(oid)s, %(eid)s, %(dwid)s, %(aid)s, %(hid)s, %(start)s, %(channel)s, %(now)s)
    RETURNING lease_id),
acc AS (UPDATE offers SET status = 'accepted' WHERE offer_id = %(oid)s),
vac AS (UPDATE vacancies SET status = 'let' WHERE vacancy_id = %(vid)s),
ent AS (UPDATE applicants SET status = 'housed' WHERE entry_id = %(eid)s),
w AS (UPDATE offers SET status = 'withdrawn'
      WHERE vacancy_id = %(vid)s AND status = 'open' AND offer_id <> %(oid)s RETURNING offer_id, entry_id, rank),
dec AS (
    INSERT INTO decisions (created_at, outcome, vacancy_id, dwelling_id, channel, offer_id, entry_id,
                           applicant_id, household_id, rank, rule, rule_version, law, reason, facts,
                           unknown_facts, actor)
    SELECT %(now)s, x.outcome, %(vid)s, %(dwid)s, %(channel)s, x.offer_id, x.entry_id, x.applicant_id,
           x.household_id, x.rank, x.rule, %(rule_version)s, NULL, x.reason, x.facts, CAST('[]' AS json),
           %(actor)s
    FROM (
        SELECT 0 AS ord, CAST('let' AS varchar) AS outcome, CAST(%(oid)s AS integer) AS offer_id,
               CAST(%(eid)s AS integer) AS entry_id, CAST(%(aid)s AS bigint) AS applicant_id,
               CAST(%(hid)s AS bigint) AS household_id, CAST(%(rank)s AS integer) AS rank,
               CAST(%(rule_let)s AS varchar) AS rule, CAST(%(reason_let)s AS text) AS reason,
               json_build_object('offer_id', CAST(%(oid)s AS integer), 'lease_id', l.lease_id,
                                 'lease_start', CAST(%(start_iso)s AS text), 'offer_rule', CAST(%(orule)s AS text),
                                 'offer_rule_version', CAST(%(orv)s AS text)) AS facts
        FROM l
        UNION ALL
        SELECT 1, 'withdrawn', w.offer_id, w.entry_id, ap.applicant_id, ap.household_id, w.rank,
               CAST(%(rule_wd)s AS varchar), CAST(%(reason_wd)s AS text),
               json_build_object('lease_id', l.lease_id, 'winning_offer_id', CAST(%(oid)s AS integer))
        FROM w JOIN applicants ap ON ap.entry_id = w.entry_id CROSS JOIN l
    ) x ORDER BY x.ord, x.offer_id
    RETURNING decision_id)
SELECT (SELECT lease_id FROM l) AS lease_id, (SELECT count(*) FROM dec) AS decisions
"""
"""One statement: lease, statuses, withdrawals and decisions. Returns (lease_id, number of decisions)."""

IDEMPOTENCY_INSERT_SQL = """
INSERT INTO idempotency_keys (token_id, idem_key, method, path, request_sha256, status_code, response, created_at)
VALUES (%(tid)s, %(key)s, %(method)s, %(path)s, %(sha)s, %(status)s, CAST(%(response)s AS json), %(now)s)
"""
"""The stored answer of a request with an Idempotency-Key (`response`: the JSON text)."""


def accept_params(actor: str, lease_id: int, offer_id: int, vacancy_id: int, dwelling_id: int, channel: str, entry_id: int,
                  applicant_id: int, household_id: int | None, rank: int, offer_rule: str,
                  offer_rule_version: str, start: date, now: datetime) -> dict[str, Any]:
    """The parameters of `ACCEPT_SQL`."""
    return {"lease_id": lease_id, "vid": vacancy_id, "oid": offer_id, "eid": entry_id, "dwid": dwelling_id, "aid": applicant_id,
            "hid": household_id, "start": start, "start_iso": start.isoformat(), "channel": channel, "now": now,
            "rank": rank, "orule": offer_rule, "orv": offer_rule_version, "rule_version": RULE_VERSION,
            "actor": actor, "rule_let": f"{STORE_RULE}#accept",
            "reason_let": "the applicant accepted the offer; lease created",
            "rule_wd": f"{STORE_RULE}#withdraw", "reason_wd": "the dwelling was let to another applicant"}
