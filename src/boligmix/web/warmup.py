"""Warm a server worker before it serves (issue 11): open the pool's connections and compile the
letting statements, writing nothing.

Without it the first requests of a freshly started worker pay the cold start together: every
handler thread compiles the same SQLAlchemy statements at once (none has finished, so none is in
the compiled cache), each new pooled connection authenticates and PostgreSQL plans every statement
again per connection (psycopg prepares a statement only after its fifth execution).

The warm-up rehearses one full cycle (a department, a dwelling and two applicants of a reserved
organisation, the vacancy's registration, an offer round by the server's rules and the accept)
by the same service code the API runs, on each of `connections` pooled connections held at once,
each in a transaction that is always rolled back: no row stays (PostgreSQL's sequences may skip
a few ids). On PostgreSQL the statements cannot stay prepared: psycopg deallocates every prepared
statement of a connection at each rollback (`DEALLOCATE ALL`, psycopg's `_preparing.clear`), so
the connections' server-side plans are made by their first requests. The rehearsal's rows lie in a scope
of their own (organisation `WARM_ORG`, municipality `WARM_MUNICIPALITY`), so it locks no share
counter, list or dwelling of real lettings.

A failure (the database is down, a schema check refuses) is logged by its type only and the
server starts anyway: its requests answer 503 until the database is back, as without the warm-up.
"""

from __future__ import annotations

import logging
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy.orm import Session

from boligmix.letting.store import service
from boligmix.letting.store.answers import accept_offer
from boligmix.letting.store.auth import Principal
from boligmix.letting.store.db import Store
from boligmix.letting.store.selection import OfferRules

log = logging.getLogger("boligmix.web.warmup")

WARM_ORG = "__boligmix_warm_up__"
"""The reserved organisation of the rehearsal's rows (never committed)."""
WARM_MUNICIPALITY = 999
"""A municipality code no Danish municipality has (the codes end at 860): share counters of its own."""
WARM_DWELLING = 2**63 - 2
"""The rehearsal's dwelling id (the last but one 64-bit id)."""
WARM_UP_ENV = "BOLIGMIX_LETTING_WARM_UP"
"""Connections to warm per worker (`create_app_from_env`); `0` turns the warm-up off."""
DEFAULT_CONNECTIONS = 8


@dataclass
class WarmUpReport:
    """What a warm-up did: connections held, rehearsals run, seconds, and the error type if it failed."""

    connections: int = 0
    rehearsals: int = 0
    offers: int = 0
    seconds: float = 0.0
    error: str | None = None
    steps: list[str] = field(default_factory=list)


def warm_up(store: Store, rules: OfferRules, connections: int = DEFAULT_CONNECTIONS) -> WarmUpReport:
    """Hold `connections` pooled connections at once (the pool opens them) and rehearse a full
    cycle on each, rolled back. Never raises: a failure is recorded in the report and logged."""
    report = WarmUpReport()
    t0 = time.perf_counter()
    try:
        with ExitStack() as stack:
            conns = [stack.enter_context(store.engine.connect()) for _ in range(max(connections, 0))]
            report.connections = len(conns)
            for conn in conns:
                report.offers += _rehearse(conn, rules, report)
                report.rehearsals += 1
    except Exception as exc:  # noqa: BLE001 - a warm-up must never stop the server from starting
        report.error = type(exc).__name__
        orig = getattr(exc, "orig", None)
        log.warning("warm-up of the letting database failed (%s%s); the server starts cold",
                    report.error, f", SQLSTATE {orig.sqlstate}" if getattr(orig, "sqlstate", None) else "")
    report.seconds = time.perf_counter() - t0
    return report


def _rehearse(conn: Any, rules: OfferRules, report: WarmUpReport) -> int:
    """One full cycle in a transaction on `conn` that is rolled back; returns the offers made."""
    trans = conn.begin()
    try:
        with Session(bind=conn, join_transaction_mode="rollback_only", expire_on_commit=False) as s:
            return _full_cycle(s, rules, report)
    finally:
        trans.rollback()


def _full_cycle(s: Session, rules: OfferRules, report: WarmUpReport) -> int:
    org = Principal(0, "warm-up", "housing_organisation", frozenset({WARM_ORG}))
    service.register_department(s, org, {"department_id": WARM_ORG, "org_id": WARM_ORG,
                                         "department_name": "warm-up", "municipality_code": WARM_MUNICIPALITY})
    service.register_dwelling(s, org, {"dwelling_id": WARM_DWELLING, "department_id": WARM_ORG, "rooms": 3,
                                       "floor_area_m2": 70.0, "monthly_rent_dkk": 6000.0})
    for i in range(2):
        service.create_applicant(s, org, {"applicant_id": 2**62 + i, "household_id": 2**62 + i,
                                          "list_type": "external", "org_id": WARM_ORG, "household_size": 3,
                                          "seniority_date": date(2000, 1, 1 + i)}, rules=rules)
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    vacancy = service.register_vacancy(s, org, {"dwelling_id": WARM_DWELLING, "available_from": now.date()},
                                       rules=rules)
    report.steps.append(f"registration ({vacancy['channel']})")
    round_ = service.make_offers(s, org, vacancy["vacancy_id"], 1, rules=rules, now=now, with_decisions=False)
    offers = round_["offers"]
    report.steps.append(f"offer round ({len(offers)} offers)")
    if offers:
        accept_offer(s, org, offers[0]["offer_id"], None, rules=rules, now=now)
        report.steps.append("accept")
    s.flush()
    return len(offers)


WARM_UP_TIMEOUT = 30.0
"""Seconds a starting worker waits for its warm-up; then it serves anyway (a database that hangs)."""


async def warm_up_before_serving(store: Store, rules: OfferRules, connections: int,
                                 timeout: float = WARM_UP_TIMEOUT) -> WarmUpReport:
    """`warm_up` in a thread, awaited by the app's startup for at most `timeout` seconds."""
    import asyncio

    try:
        return await asyncio.wait_for(asyncio.to_thread(warm_up, store, rules, connections), timeout)
    except TimeoutError:
        log.warning("warm-up of the letting database took over %.0f s; the server starts meanwhile", timeout)
        return WarmUpReport(error="TimeoutError", seconds=timeout)
