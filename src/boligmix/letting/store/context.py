"""The rows a write starts from (a department, dwelling, vacancy or offer with the rows around it,
locked where the write needs it) and the one way a single decision is appended to the trail."""

from __future__ import annotations

from collections import namedtuple
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from boligmix.letting.store.access import can_read_department, require_read_department
from boligmix.letting.store.auth import Principal
from boligmix.letting.store.errors import NotFoundError, StoreInvariantError
from boligmix.letting.store.models import Applicant, Decision, Department, Dwelling, Offer, Vacancy
from boligmix.letting.store.selection import RULE_VERSION

STORE_RULE = "boligmix.store"
"""Rule id of decisions the store takes itself (accept, refuse, withdraw on letting)."""


_can_read_department = can_read_department
_require_read = require_read_department


def _department(s: Session, department_id: str) -> Department:
    d = s.get(Department, department_id)
    if d is None:
        raise NotFoundError(f"department {department_id} does not exist")
    return d


def _dwelling(s: Session, dwelling_id: int, *, lock: bool = False) -> Dwelling:
    stmt = select(Dwelling).where(Dwelling.dwelling_id == dwelling_id)
    w = s.scalar(stmt.with_for_update() if lock else stmt)
    if w is None:
        raise NotFoundError(f"dwelling {dwelling_id} does not exist")
    return w


def _vacancy_context(s: Session, vacancy_id: int, *, lock: bool) -> tuple[Vacancy, Dwelling, Department]:
    """The vacancy with its dwelling and department, in one query; `lock` locks the vacancy row."""
    stmt = (select(Vacancy, Dwelling, Department).join(Dwelling, Dwelling.dwelling_id == Vacancy.dwelling_id)
            .join(Department, Department.department_id == Dwelling.department_id)
            .where(Vacancy.vacancy_id == vacancy_id))
    if lock:
        stmt = stmt.with_for_update(of=Vacancy).execution_options(populate_existing=True)
    row = s.execute(stmt).one_or_none()
    if row is None:
        raise NotFoundError(f"vacancy {vacancy_id} does not exist")
    return row[0], row[1], row[2]


def locked_vacancy_context_pg(s: Session, vacancy_id: int) -> tuple[Vacancy, Dwelling, Department]:
    """`_vacancy_context(lock=True)` by driver SQL (PostgreSQL): the vacancy row locked, the three
    rows' values as objects outside the session (read only; a change to the vacancy is written by
    the caller's own statement). An offer round's ORM query of three entities cost ~1 ms of CPU."""
    row = s.connection().exec_driver_sql(_VACANCY_CONTEXT_PG_SQL, (vacancy_id,)).one_or_none()
    if row is None:
        raise NotFoundError(f"vacancy {vacancy_id} does not exist")
    n, m = len(_VACANCY_COLUMNS), len(_DWELLING_COLUMNS)
    return (Vacancy(**dict(zip(_VACANCY_COLUMNS, row[:n]))),
            Dwelling(**dict(zip(_DWELLING_COLUMNS, row[n:n + m]))),
            Department(**dict(zip(_DEPARTMENT_COLUMNS, row[n + m:]))))


_VACANCY_COLUMNS = tuple(c.name for c in Vacancy.__table__.columns)
_DWELLING_COLUMNS = tuple(c.name for c in Dwelling.__table__.columns)
_DEPARTMENT_COLUMNS = tuple(c.name for c in Department.__table__.columns)
_VACANCY_CONTEXT_PG_SQL = (
    "SELECT " + ", ".join([*(f"v.{c}" for c in _VACANCY_COLUMNS), *(f"w.{c}" for c in _DWELLING_COLUMNS),
                           *(f"d.{c}" for c in _DEPARTMENT_COLUMNS)])
    + " FROM vacancies v JOIN dwellings w ON w.dwelling_id = v.dwelling_id "
      "JOIN departments d ON d.department_id = w.department_id WHERE v.vacancy_id = %s FOR UPDATE OF v")


def registration_context(s: Session, dwelling_id: int) -> tuple[Any, Any, int | None]:
    """The dwelling (its row locked) with its department and the id of its open vacancy, if any, by
    one statement (Core on SQLite; on PostgreSQL the same statement written as driver SQL: no
    statement to build and no result processing per registration). No ORM loading (the ORM query
    of two entities cost ~1 ms of CPU per registration) and no ORM objects: the dwelling and
    department are read-only rows with the models' column names as attributes (`DwellingRow`,
    `DepartmentRow`), which is all a registration reads of them."""
    conn = s.connection()
    if conn.dialect.name == "postgresql":
        row = conn.exec_driver_sql(_REGISTRATION_CONTEXT_PG_SQL, {"dwelling_id": dwelling_id}).first()
    else:
        row = conn.execute(_REGISTRATION_CONTEXT, {"dwelling_id": dwelling_id}).first()
    if row is None:  # (a dwelling's department is a foreign key: no dwelling is without one)
        raise NotFoundError(f"dwelling {dwelling_id} does not exist")
    m = len(_DWELLING_COLUMNS)
    return DwellingRow._make(row[:m]), DepartmentRow._make(row[m:m + len(_DEPARTMENT_COLUMNS)]), row[-1]


DwellingRow = namedtuple("DwellingRow", _DWELLING_COLUMNS)  # type: ignore[misc]
"""A dwelling's values as read (the `dwellings` columns by name)."""
DepartmentRow = namedtuple("DepartmentRow", _DEPARTMENT_COLUMNS)  # type: ignore[misc]
"""A department's values as read (the `departments` columns by name)."""
_REGISTRATION_CONTEXT_PG_SQL = (
    "SELECT " + ", ".join([*(f"w.{c}" for c in _DWELLING_COLUMNS), *(f"d.{c}" for c in _DEPARTMENT_COLUMNS)])
    + ", (SELECT v.vacancy_id FROM vacancies v WHERE v.dwelling_id = w.dwelling_id AND v.status = 'open' "
      "ORDER BY v.vacancy_id LIMIT 1) FROM dwellings w JOIN departments d ON d.department_id = w.department_id "
      "WHERE w.dwelling_id = %(dwelling_id)s FOR UPDATE OF w")
"""`_REGISTRATION_CONTEXT` as PostgreSQL driver SQL (the same columns, subquery and lock)."""


def _registration_context_statement() -> Any:
    from sqlalchemy import bindparam
    w, d, v = Dwelling.__table__, Department.__table__, Vacancy.__table__
    open_vacancy = (select(v.c.vacancy_id).where(v.c.dwelling_id == w.c.dwelling_id, v.c.status == "open")
                    .order_by(v.c.vacancy_id).limit(1).scalar_subquery())
    return (select(*(w.c[c] for c in _DWELLING_COLUMNS), *(d.c[c] for c in _DEPARTMENT_COLUMNS), open_vacancy)
            .select_from(w.join(d, d.c.department_id == w.c.department_id))
            .where(w.c.dwelling_id == bindparam("dwelling_id")).with_for_update(of=w))


_REGISTRATION_CONTEXT = _registration_context_statement()


def _decision(s: Session, p: Principal, *, outcome: str, vacancy: Vacancy, rule: str, reason: str,
              facts: dict[str, Any], entry: Applicant | None = None, offer_id: int | None = None,
              rank: int | None = None, rule_version: str = RULE_VERSION, law: str | None = None,
              unknown_facts: tuple[str, ...] = (), channel: str | None = None) -> Decision:
    """Append a decision; `channel` defaults to the vacancy's (an engine decision names its own,
    e.g. the waiting list a referral vacancy is released to)."""
    d = Decision(outcome=outcome, vacancy_id=vacancy.vacancy_id, dwelling_id=vacancy.dwelling_id,
                 channel=channel or vacancy.channel, offer_id=offer_id,
                 entry_id=entry.entry_id if entry else None,
                 applicant_id=entry.applicant_id if entry else None,
                 household_id=entry.household_id if entry else None, rank=rank, rule=rule,
                 rule_version=rule_version, law=law, reason=reason, facts=facts,
                 unknown_facts=list(unknown_facts), actor=p.name)
    s.add(d)
    return d


def _offer_context(s: Session, offer_id: int) -> tuple[Offer, Vacancy, Dwelling, Department]:
    row = s.execute(
        select(Vacancy, Dwelling, Department)
        .join(Offer, Offer.vacancy_id == Vacancy.vacancy_id)
        .join(Dwelling, Dwelling.dwelling_id == Vacancy.dwelling_id)
        .join(Department, Department.department_id == Dwelling.department_id)
        .where(Offer.offer_id == offer_id)
        .with_for_update(of=Vacancy).execution_options(populate_existing=True)).one_or_none()
    if row is None:
        raise NotFoundError(f"offer {offer_id} does not exist")
    v, w, d = row[0], row[1], row[2]
    # Re-read the offer now that the vacancy is locked: another transaction may have changed it.
    o = s.scalar(select(Offer).where(Offer.offer_id == offer_id).execution_options(populate_existing=True))
    if o is None:
        raise StoreInvariantError(f"offer {offer_id} vanished while its vacancy was locked")
    return o, v, w, d
