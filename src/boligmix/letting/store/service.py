"""The letting service: every read and write of the letting store, with authorisation.

Functions take an open `Session` (one transaction, see `Store.transact`) and the calling
`Principal`, check the principal's role and scope, and return JSON-ready dicts. Writes lock
what they change, in one order (dwelling or vacancy first, then the applicant):

* `register_vacancy` locks the dwelling row; the partial unique index allows one open vacancy
  per dwelling.
* `make_offers`, `accept_offer`, `refuse_offer` lock the vacancy row (`SELECT ... FOR UPDATE` on
  PostgreSQL; on SQLite the whole write transaction is serialised by `BEGIN IMMEDIATE`), then
  re-read the offer, so two clients accepting competing offers are served one after the other
  and the second sees the vacancy let (409). `accept_offer` also locks the applicant's entry, so
  an applicant is never housed twice. The unique `leases.vacancy_id` is the last line of defence.

Every offer, skip, rejection, refusal, withdrawal and letting is appended to `decisions` in the
same transaction as the change it records (an offer round's as one compact row, `store.trail`).
Offer rounds are in `rounds` (candidates and their locks in `candidates`), answers in `answers`,
the JSON forms in `serialise`.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from boligmix.errors import AuthorizationError, ConflictError
from boligmix.letting.store.access import (
    municipal_facts,
    require_list_owner,
    require_org,
    require_read_list,
    require_row_level,
)
from boligmix.letting.store.auth import Principal, Pseudonymiser
from boligmix.letting.store.engine_rules import household_from_json
from boligmix.letting.store.errors import InvalidRequestError, NotFoundError
from boligmix.letting.store.models import (
    CHANNELS,
    LIST_TYPES,
    Applicant,
    Decision,
    Department,
    Dwelling,
    Lease,
    Offer,
    SharedDwelling,
    ShareCounter,
    Vacancy,
)
from boligmix.letting.store import registration_sql
from boligmix.letting.store.selection import MUNICIPAL_LISTS, RULE_VERSION, OfferRules, queue_key
from boligmix.letting.store.serialise import (  # noqa: F401  (re-exported: the service's JSON forms)
    _as_utc,
    _ids,
    applicant_json,
    decision_json,
    department_json,
    dwelling_json,
    lease_json,
    offer_json,
    shared_dwelling_json,
    vacancy_json,
)
from boligmix.letting.store.context import (  # noqa: F401  (re-exported for answers and follow_ups)
    STORE_RULE,
    _can_read_department,
    _decision,
    _department,
    _dwelling,
    _offer_context,
    _require_read,
    _vacancy_context,
    registration_context,
)
from boligmix.letting.store.trail import trail

# ------------------------------------------------------------------------------------------------
# Departments and dwellings


def register_department(s: Session, p: Principal, body: dict[str, Any]) -> dict[str, Any]:
    """Create a department of one of the caller's organisations (an identical repeat returns it)."""
    require_org(p, body["org_id"], f"department {body['department_id']}")
    existing = s.get(Department, body["department_id"])
    new = Department(department_id=body["department_id"], org_id=body["org_id"],
                     department_name=body["department_name"], municipality_code=body["municipality_code"],
                     area_id=body.get("area_id"), area_categories=sorted(body.get("area_categories") or []),
                     facts=body.get("facts") or {})
    if existing is not None:
        if department_json(existing) != department_json(new):
            raise ConflictError(f"department {new.department_id} exists with other data")
        return department_json(existing)
    s.add(new)
    s.flush()
    return department_json(new)


def list_departments(s: Session, p: Principal) -> list[dict[str, Any]]:
    rows = s.scalars(select(Department).order_by(Department.department_id))
    return [department_json(d) for d in rows if _can_read_department(p, d)]


def register_dwelling(s: Session, p: Principal, body: dict[str, Any]) -> dict[str, Any]:
    """Register a dwelling of one of the caller's departments; with `shared_dwelling_id` a room of
    that delebolig (same department, `rooms = 1`, at most the delebolig's number of rooms: 422
    otherwise; the delebolig row is locked, so concurrent rooms are counted one after the other)."""
    p.require_writer()
    d = _department(s, body["department_id"])
    require_org(p, d.org_id, f"department {d.department_id}")
    shared_id = body.get("shared_dwelling_id")
    new = Dwelling(dwelling_id=body["dwelling_id"], department_id=d.department_id,
                   almen_type=body.get("almen_type") or "family", rooms=body["rooms"],
                   floor_area_m2=body["floor_area_m2"], monthly_rent_dkk=body["monthly_rent_dkk"],
                   facts=body.get("facts") or {}, shared_dwelling_id=shared_id,
                   udslusningsbolig=bool(body.get("udslusningsbolig")))
    existing = s.get(Dwelling, new.dwelling_id)
    if existing is not None:
        if dwelling_json(existing) != dwelling_json(new):
            raise ConflictError(f"dwelling {new.dwelling_id} exists with other data")
        return dwelling_json(existing)
    if shared_id is not None:
        _check_room(s, d, new, shared_id)
    s.add(new)
    s.flush()
    return dwelling_json(new)


def _check_room(s: Session, d: Department, room: Dwelling, shared_id: int) -> None:
    shared = s.scalar(select(SharedDwelling).where(SharedDwelling.shared_dwelling_id == shared_id)
                      .with_for_update())
    if shared is None:
        raise NotFoundError(f"shared dwelling (delebolig) {shared_id} does not exist")
    where = f"dwelling {room.dwelling_id}: a room of delebolig {shared_id}"
    if shared.department_id != d.department_id:
        raise InvalidRequestError(f"{where} must be in its department {shared.department_id}, not {d.department_id}")
    if room.rooms != 1:
        raise InvalidRequestError(f"{where} is one letting room (rooms = 1, one person), got rooms = {room.rooms}")
    taken = s.scalar(select(func.count()).select_from(Dwelling).where(Dwelling.shared_dwelling_id == shared_id)) or 0
    if taken >= shared.rooms:
        raise InvalidRequestError(f"{where}: the delebolig has {shared.rooms} room(s), all registered already")


def register_shared_dwelling(s: Session, p: Principal, body: dict[str, Any]) -> dict[str, Any]:
    """Register a delebolig (a dwelling let room by room) of one of the caller's departments; its
    rooms are then registered as dwellings with `shared_dwelling_id` (an identical repeat returns it)."""
    p.require_writer()
    d = _department(s, body["department_id"])
    require_org(p, d.org_id, f"department {d.department_id}")
    new = SharedDwelling(shared_dwelling_id=body["shared_dwelling_id"], department_id=d.department_id,
                         rooms=body["rooms"], floor_area_m2=body.get("floor_area_m2"), facts=body.get("facts") or {})
    existing = s.get(SharedDwelling, new.shared_dwelling_id)
    if existing is not None:
        rooms = list(s.scalars(select(Dwelling).where(Dwelling.shared_dwelling_id == existing.shared_dwelling_id)))
        if shared_dwelling_json(existing, []) != shared_dwelling_json(new, []):
            raise ConflictError(f"shared dwelling {new.shared_dwelling_id} exists with other data")
        return shared_dwelling_json(existing, rooms)
    s.add(new)
    s.flush()
    return shared_dwelling_json(new, [])


def get_shared_dwelling(s: Session, p: Principal, shared_dwelling_id: int) -> dict[str, Any]:
    shared = s.get(SharedDwelling, shared_dwelling_id)
    if shared is None:
        raise NotFoundError(f"shared dwelling (delebolig) {shared_dwelling_id} does not exist")
    _require_read(p, _department(s, shared.department_id))
    rooms = list(s.scalars(select(Dwelling).where(Dwelling.shared_dwelling_id == shared_dwelling_id)))
    return shared_dwelling_json(shared, rooms)


def list_dwellings(s: Session, p: Principal, department_id: str) -> list[dict[str, Any]]:
    _require_read(p, _department(s, department_id))
    rows = s.scalars(select(Dwelling).where(Dwelling.department_id == department_id)
                     .order_by(Dwelling.dwelling_id))
    return [dwelling_json(w) for w in rows]


# ------------------------------------------------------------------------------------------------
# Applicants (waiting lists and referral lists)


def check_household(data: Any, applicant_id: int, household_id: int | None) -> None:
    """Refuse a household the engine cannot read (422 naming the field): missing or wrongly typed
    fields are an `InvalidRequestError`, never a server error."""
    if not isinstance(data, dict):
        raise InvalidRequestError("household must be an object {members: [...]}")
    try:
        household_from_json(data, applicant_id, household_id)
    except InvalidRequestError:
        raise
    except KeyError as exc:
        raise InvalidRequestError(f"household: a member's benefits or spell lacks the field {exc}") from None
    except (TypeError, ValueError, AttributeError, OverflowError) as exc:
        raise InvalidRequestError(f"household: a member has a field of the wrong type ({type(exc).__name__}); "
                                  f"see the household format in docs/letting-service.md") from None


def create_applicant(s: Session, p: Principal, body: dict[str, Any],
                     pseudo: Pseudonymiser | None = None, *, rules: OfferRules | None = None) -> dict[str, Any]:
    """Put an applicant on a list: organisations their waiting lists, municipalities their referrals.
    An organisation cannot register the facts only the municipality sets (a § 51 c dispensation: 403)."""
    p.require_writer()
    list_type = body["list_type"]
    if list_type not in LIST_TYPES:
        raise InvalidRequestError(f"list_type must be one of {', '.join(LIST_TYPES)}")
    code, org_id = body.get("municipality_code"), body.get("org_id")
    require_list_owner(p, list_type, code, org_id)
    if list_type not in MUNICIPAL_LISTS:
        reserved = sorted(municipal_facts(getattr(rules, "policies", None)) & set(body.get("facts") or {}))
        if reserved:
            raise AuthorizationError(f"{', '.join(reserved)}: only the municipality grants a dispensation "
                                     f"(almenboligloven § 51 c; bek. om udlejning af almene boliger § 37); token '{p.name}' is {p.role}")
    owner = f"kommune:{code}" if list_type in MUNICIPAL_LISTS else str(org_id)
    referral_order = body.get("referral_order")
    if referral_order is not None and list_type not in MUNICIPAL_LISTS:
        raise InvalidRequestError(f"referral_order is the municipality's order of its referral and rehousing "
                                  f"lists; the {list_type} list is ordered by the letting rules")
    household = body.get("household") or {}
    check_household(household, body["applicant_id"], body.get("household_id"))  # refuse bad data now
    size = body.get("household_size") or len(household.get("members") or []) or 1
    entry = Applicant(applicant_id=body["applicant_id"], household_id=body.get("household_id"),
                      list_type=list_type, list_owner=owner, org_id=org_id, municipality_code=code,
                      seniority_date=body["seniority_date"], household_size=size,
                      min_rooms=body.get("min_rooms") or 1, max_rent_dkk=body.get("max_rent_dkk"),
                      household=household, current_department_id=body.get("current_department_id"),
                      priority_rights=sorted(body.get("priority_rights") or []),
                      facts=body.get("facts") or {}, refusal_count=0, status="active",
                      referral_order=referral_order)
    dup = s.scalar(select(Applicant.entry_id).where(Applicant.applicant_id == entry.applicant_id,
                                                    Applicant.list_type == list_type,
                                                    Applicant.list_owner == owner))
    if dup is not None:
        raise ConflictError(f"applicant {entry.applicant_id} is already on the {list_type} list of {owner} "
                            f"(entry {dup})")
    s.add(entry)
    s.flush()
    return applicant_json(entry, _ids(p, pseudo))


def list_applicants(s: Session, p: Principal, *, org_id: str | None = None, municipality_code: int | None = None,
                    list_type: str | None = None, status: str | None = "active", limit: int = 100,
                    offset: int = 0, pseudo: Pseudonymiser | None = None) -> list[dict[str, Any]]:
    """A list in queue order (internal before external, then seniority, then registration)."""
    if (org_id is None) == (municipality_code is None):
        raise InvalidRequestError("give exactly one of org_id (waiting lists) or municipality_code (referrals)")
    require_read_list(p, org_id, municipality_code)
    owner = org_id if org_id is not None else f"kommune:{municipality_code}"
    stmt = select(Applicant).where(Applicant.list_owner == owner)
    if list_type is not None:
        stmt = stmt.where(Applicant.list_type == list_type)
    if status is not None:
        stmt = stmt.where(Applicant.status == status)
    rows = sorted(s.scalars(stmt), key=queue_key)[offset:offset + limit]
    ident = _ids(p, pseudo)
    return [applicant_json(a, ident) for a in rows]


# ------------------------------------------------------------------------------------------------
# Vacancies, offers, leases


def register_vacancy(s: Session, p: Principal, body: dict[str, Any], *, rules: OfferRules | None = None,
                     now: datetime | None = None) -> dict[str, Any]:
    """Register that a dwelling becomes vacant; one open vacancy per dwelling (409 otherwise).

    With rules that allocate channels (the engine) the channel is assigned by the share rules in
    force (kommunal anvisning 1/4 or the agreed share, rehousing, fleksibel) from the stored share
    counters, which are locked for the allocation; a request naming a channel is refused. Without
    such rules (store order) the request's channel is used (default `waiting_list`)."""
    p.require_writer()
    allocate = getattr(rules, "allocate_channel", None)
    channel = body.get("channel")
    if allocate is not None and channel is not None:
        raise InvalidRequestError(f"the channel is assigned by the letting rules ({rules.name}); leave 'channel' "
                                  f"out (got {channel!r})")
    channel = channel or "waiting_list"
    if channel not in CHANNELS:
        raise InvalidRequestError(f"channel must be one of {', '.join(CHANNELS)}")
    w, d, open_id = registration_context(s, body["dwelling_id"])
    require_org(p, d.org_id, f"dwelling {w.dwelling_id}")
    if open_id is not None:
        raise ConflictError(f"dwelling {w.dwelling_id} already has the open vacancy {open_id}")
    allocated = None
    conn = s.connection()
    pg = conn.dialect.name == "postgresql"  # driver SQL, no ORM flush (`registration_sql`)
    states: list[Any] = []
    if allocate is not None:
        now = now or datetime.now(timezone.utc).replace(tzinfo=None)
        states = rules.share_scopes(w, d, now)  # type: ignore[attr-defined]
        rows = registration_sql.lock_share_counters(conn, states) if pg else _lock_share_counters(s, states)
        channel, allocated = allocate(w, d, body["available_from"], states, now)
        for state, row in zip(states, rows or ()):
            row.seen, row.used, row.policy_version = state.seen, dict(state.used), state.policy_version
    if allocated is not None:
        decision = {"outcome": allocated.outcome, "rule": allocated.rule, "reason": allocated.reason,
                    "facts": allocated.facts, "rule_version": allocated.rule_version, "law": allocated.law}
    else:
        decision = {"outcome": "channel", "rule": f"{STORE_RULE}#channel", "rule_version": RULE_VERSION, "law": None,
                    "reason": f"vacancy registered, to be let by {channel}",
                    "facts": {"channel": channel, "department_id": d.department_id, "org_id": d.org_id,
                              "municipality_code": d.municipality_code,
                              "area_categories": list(d.area_categories or [])}}
    if pg:
        v = registration_sql.insert_vacancy(conn, states, dwelling_id=w.dwelling_id, channel=channel,
                                            available_from=body["available_from"], decision={**decision, "actor": p.name})
        return vacancy_json(v)
    v = Vacancy(dwelling_id=w.dwelling_id, channel=channel, available_from=body["available_from"],
                status="open")
    s.add(v)
    s.flush()
    _decision(s, p, vacancy=v, **decision)
    return vacancy_json(v)


def _lock_share_counters(s: Session, states: list[Any]) -> list[ShareCounter]:
    """The share counter rows of `states`, created when missing and locked in key order, so
    concurrent registrations in one scope count one after the other: one upsert per row whose
    `ON CONFLICT DO UPDATE` (a no-op update) locks the existing row and returns it as it is."""
    if not states:
        return []
    dialect = s.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    rows = {}
    for st in sorted(states, key=lambda x: (x.policy_id, x.scope_key)):
        stmt = insert(ShareCounter).values(policy_id=st.policy_id, scope_key=st.scope_key, count_per=st.count_per,
                                           policy_version=st.policy_version, seen=0, used={})
        stmt = stmt.on_conflict_do_update(index_elements=["policy_id", "scope_key"],
                                          set_={"policy_id": stmt.excluded.policy_id}).returning(ShareCounter)
        row = s.scalars(stmt, execution_options={"populate_existing": True}).one()
        rows[(row.policy_id, row.scope_key)] = row
    out = []
    for st in states:
        row = rows[(st.policy_id, st.scope_key)]
        st.seen, st.used = row.seen, dict(row.used or {})
        out.append(row)
    return out


def get_vacancy(s: Session, p: Principal, vacancy_id: int) -> dict[str, Any]:
    v, _w, d = _vacancy_context(s, vacancy_id, lock=False)
    _require_read(p, d)
    return vacancy_json(v)


def list_vacancies(s: Session, p: Principal, *, status: str | None = None) -> list[dict[str, Any]]:
    stmt = (select(Vacancy, Department).join(Dwelling, Dwelling.dwelling_id == Vacancy.dwelling_id)
            .join(Department, Department.department_id == Dwelling.department_id)
            .order_by(Vacancy.vacancy_id))
    if status is not None:
        stmt = stmt.where(Vacancy.status == status)
    return [vacancy_json(v) for v, d in s.execute(stmt) if _can_read_department(p, d)]


def list_offers(s: Session, p: Principal, vacancy_id: int, pseudo: Pseudonymiser | None = None) -> list[dict]:
    _v, _w, d = _vacancy_context(s, vacancy_id, lock=False)
    _require_read(p, d)
    ident = _ids(p, pseudo)
    rows = s.execute(select(Offer, Applicant).join(Applicant, Applicant.entry_id == Offer.entry_id)
                     .where(Offer.vacancy_id == vacancy_id).order_by(Offer.offer_id))
    return [offer_json(o, a, ident) for o, a in rows]


def get_lease(s: Session, p: Principal, vacancy_id: int, pseudo: Pseudonymiser | None = None) -> dict | None:
    _v, _w, d = _vacancy_context(s, vacancy_id, lock=False)
    _require_read(p, d)
    lease = s.scalar(select(Lease).where(Lease.vacancy_id == vacancy_id))
    return None if lease is None else lease_json(lease, _ids(p, pseudo))


def list_decisions(s: Session, p: Principal, vacancy_id: int, pseudo: Pseudonymiser | None = None) -> list[dict]:
    """The audit trail of a vacancy, in the order the decisions were taken (not for analysts: its
    facts are row-level person data)."""
    require_row_level(p, f"the decision trail of vacancy {vacancy_id}")
    _v, _w, d = _vacancy_context(s, vacancy_id, lock=False)
    _require_read(p, d)
    ident = _ids(p, pseudo)
    return [decision_json(x, ident) for x in trail(s, Decision.vacancy_id == vacancy_id)]


def count_rows(s: Session) -> dict[str, int]:
    """Row counts (for checks and benchmarks)."""
    return {m.__tablename__: s.scalar(select(func.count()).select_from(m)) or 0
            for m in (Department, Dwelling, Applicant, Vacancy, Offer, Lease, Decision)}


# Offer rounds live in `rounds`, the answers to offers (accept, refuse, expire) in `answers`; both
# import this module's helpers and are re-exported here.
from boligmix.letting.store.answers import (  # noqa: E402
    accept_offer,
    expire_offers,
    refuse_offer,
    settle_vacancy,
)
from boligmix.letting.store.rounds import MAX_OFFERS_PER_ROUND, list_entitlements, make_offers  # noqa: E402
from boligmix.letting.store.selection import default_offer_rules  # noqa: E402

__all__ = ["MAX_OFFERS_PER_ROUND", "accept_offer", "default_offer_rules", "expire_offers", "list_entitlements",
           "make_offers", "refuse_offer", "settle_vacancy"]
