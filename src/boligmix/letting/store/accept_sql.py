"""Accepting an offer on PostgreSQL: one call of the database function `boligmix_accept_offer`.

The function (migration 0012, since 0014 with the best-ranked acceptor winning) does the whole acceptance in the caller's transaction, in one round
trip: the token check and the Idempotency-Key lookup (when a token id is given), the vacancy lock
(`FOR UPDATE`), the scope check, the re-read of the offer after the lock with the applicant's
entry locked (locking order vacancy -> applicant), then the lease, the offer, vacancy and entry
status, the withdrawal of the other open offers, all the decisions (`let` and `withdrawn`) and,
with a key, the stored answer. Both `service.accept_offer` (PostgreSQL) and the API's fast path
(`boligmix.web.fast_path`) call it, so the two cannot drift; SQLite keeps the portable path of the
service.

Driver SQL (psycopg, `%(name)s` parameters), so the same text runs through SQLAlchemy
(`exec_driver_sql`) and through an async psycopg connection. It returns one row
`(outcome, status, body)`:

* `done`: 201, `body` the lease as the API answers it;
* `provisional`: 202, a better-ranked offer of the vacancy is still open: the acceptance waits
  (`body` the offer with `status` `accepted` and `waiting_for`; see `answers`);
* `conflict`: 409, `body` `{"error": "ConflictError", "detail": ...}` (nothing written but the
  stored answer);
* nothing written, `status` and `body` null except as said: `unauthenticated` (unknown or revoked
  token), `replay` (the key already has a stored answer), `not_found` (no such offer), `forbidden`
  (`body`: vacancy_id, channel, org_id and municipality_code for `require_act_on_vacancy`),
  `expired` (the answer deadline is before `as_of`: the caller expires the offer, see
  `answers.accept_offer`), `stale` (a better-ranked offer is past its deadline: the caller expires
  it by the rules and calls again).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from boligmix.letting.store.auth import Principal
from boligmix.letting.store.selection import MUNICIPAL_CHANNELS, RULE_VERSION

STORE_RULE = "boligmix.store"

RULE_PROVISIONAL = f"{STORE_RULE}#accept_provisional"
REASON_PROVISIONAL = ("the applicant accepted; a better-ranked offer of the vacancy is still open, so the "
                      "acceptance waits (the best-ranked acceptor within the answer period gets the dwelling)")

_TEXTS = {"rule_version": RULE_VERSION, "rule_let": f"{STORE_RULE}#accept",
          "reason_let": "the applicant accepted the offer; lease created",
          "rule_wd": f"{STORE_RULE}#withdraw", "reason_wd": "the dwelling was let to another applicant",
          "rule_prov": RULE_PROVISIONAL, "reason_prov": REASON_PROVISIONAL}


def _literal(value: str) -> str:
    """A constant of this module as an SQL string literal (standard_conforming_strings)."""
    return "'" + value.replace("'", "''") + "'"


CALL_SQL = """
SELECT r_outcome, r_status, r_body FROM boligmix_accept_offer(
    %(oid)s::integer, %(start)s::date, %(as_of)s::timestamptz, %(now)s::timestamptz, %(role)s::text,
    %(scope)s::text[], ARRAY[{municipal}]::text[], %(actor)s::text, %(tid)s::integer, %(key)s::text,
    %(path)s::text, %(sha)s::text, {rule_version}, {rule_let}, {reason_let}, {rule_wd}, {reason_wd},
    {rule_prov}, {reason_prov})
""".format(municipal=", ".join(_literal(c) for c in sorted(MUNICIPAL_CHANNELS)),
           **{k: _literal(v) + "::text" for k, v in _TEXTS.items()})
"""The call; the module's constants (rule ids and texts, the municipal channels) are literals in the
text, so a call binds only the request's parameters."""


def call_params(p: Principal, offer_id: int, lease_start: date | None, as_of: datetime | None = None,
                now: datetime | None = None, *,
                token_id: int | None = None, key: str | None = None, path: str | None = None,
                request_sha256: str | None = None) -> dict[str, Any]:
    """The parameters of `CALL_SQL`: an offer whose deadline is before `as_of` (default `now`) is not
    accepted; `now` is the time written (default the transaction's time). `token_id` (check the token, look the key up) and `key` with
    `path` and `request_sha256` (store the answer) are for callers that do not do that themselves."""
    return {"oid": offer_id, "start": lease_start, "as_of": as_of, "now": now, "role": p.role, "scope": sorted(p.scope),
            "actor": p.name, "tid": token_id, "key": key, "path": path, "sha": request_sha256}
