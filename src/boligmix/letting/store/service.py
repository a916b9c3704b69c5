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
same transaction as the change it records.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import (ARRAY, Integer, any_, bindparam, case, func, insert, literal_column, null, select, tuple_,
                        union_all)
from sqlalchemy.orm import Session

from boligmix.errors import AuthorizationError, ConflictError
from boligmix.letting.store.access import (
    can_read_department,
    municipal_facts,
    require_act_on_vacancy,
    require_list_owner,
    require_org,
    require_read_department,
    require_read_list,
    require_row_level,
)
from boligmix.letting.store.auth import Principal, Pseudonymiser
from boligmix.letting.store.engine_rules import household_from_json
from boligmix.letting.store.errors import InvalidRequestError, NotFoundError, StoreInvariantError
from boligmix.letting.store.follow_ups import keep_redirect, open_redirects
from boligmix.letting.store.models import (
    CHANNELS,
    LIST_TYPES,
    Applicant,
    Decision,
    Department,
    Dwelling,
    Entitlement,
    Lease,
    Offer,
    SharedDwelling,
    ShareCounter,
    Vacancy,
    utcnow,
)
from boligmix.letting.store.selection import (
    MUNICIPAL_CHANNELS,
    MUNICIPAL_LISTS,
    RULE_VERSION,
    CandidateDecision,
    OfferRules,
    candidate_lists,
    queue_key,
)

MAX_OFFERS_PER_ROUND = 50
WHOLE_LIST = 2**31 - 1
"""The page size of rules that rank the whole list (the engine): every eligible applicant is a
candidate, however long the list (until issue 11 the list was cut at 5,000 by seniority, so a
fortrinsret holder behind 5,000 more senior applicants was never considered)."""

STORE_RULE = "boligmix.store"
"""Rule id of decisions the store takes itself (accept, refuse, withdraw on letting)."""


# ------------------------------------------------------------------------------------------------
# Serialisation (person identifiers pseudonymised for analysts)


def _ids(principal: Principal | None, pseudo: Pseudonymiser | None) -> Callable[[int | None], Any]:
    if principal is not None and principal.pseudonymised:
        if pseudo is None:
            raise StoreInvariantError(f"token '{principal.name}' sees pseudonyms only, and none were given")
        return pseudo
    return lambda v: v


def department_json(d: Department) -> dict[str, Any]:
    return {"department_id": d.department_id, "org_id": d.org_id, "department_name": d.department_name,
            "municipality_code": d.municipality_code, "area_id": d.area_id,
            "area_categories": list(d.area_categories or []), "facts": d.facts or {}}


def dwelling_json(w: Dwelling) -> dict[str, Any]:
    return {"dwelling_id": w.dwelling_id, "department_id": w.department_id, "almen_type": w.almen_type,
            "rooms": w.rooms, "floor_area_m2": w.floor_area_m2, "monthly_rent_dkk": w.monthly_rent_dkk,
            "facts": w.facts or {}, "shared_dwelling_id": w.shared_dwelling_id,
            "udslusningsbolig": bool(w.udslusningsbolig)}


def shared_dwelling_json(x: SharedDwelling, rooms: list[Dwelling]) -> dict[str, Any]:
    return {"shared_dwelling_id": x.shared_dwelling_id, "department_id": x.department_id, "rooms": x.rooms,
            "floor_area_m2": x.floor_area_m2, "facts": x.facts or {},
            "room_dwelling_ids": [w.dwelling_id for w in sorted(rooms, key=lambda w: w.dwelling_id)]}


def applicant_json(a: Applicant, ident: Callable[[int | None], Any]) -> dict[str, Any]:
    household = dict(a.household or {})
    if "members" in household:
        household["members"] = [{**m, "person_id": ident(m.get("person_id"))} for m in household["members"]]
    return {"entry_id": a.entry_id, "applicant_id": ident(a.applicant_id), "household_id": ident(a.household_id),
            "list_type": a.list_type, "org_id": a.org_id, "municipality_code": a.municipality_code,
            "seniority_date": a.seniority_date.isoformat(), "household_size": a.household_size,
            "min_rooms": a.min_rooms, "max_rent_dkk": a.max_rent_dkk, "household": household,
            "current_department_id": a.current_department_id, "priority_rights": list(a.priority_rights or []),
            "facts": a.facts or {}, "refusal_count": a.refusal_count, "status": a.status,
            "passive_since": a.passive_since.isoformat() if a.passive_since else None,
            "withdrawn_at": _as_utc(a.withdrawn_at).isoformat() if a.withdrawn_at else None,
            "referral_order": a.referral_order}


def vacancy_json(v: Vacancy) -> dict[str, Any]:
    return {"vacancy_id": v.vacancy_id, "dwelling_id": v.dwelling_id, "channel": v.channel,
            "available_from": v.available_from.isoformat(), "status": v.status}


def offer_json(o: Offer, entry: Applicant, ident: Callable[[int | None], Any]) -> dict[str, Any]:
    return {"offer_id": o.offer_id, "vacancy_id": o.vacancy_id, "entry_id": o.entry_id,
            "applicant_id": ident(entry.applicant_id), "household_id": ident(entry.household_id),
            "rank": o.rank, "channel": o.channel, "rule": o.rule, "rule_version": o.rule_version,
            "status": o.status, "deadline": o.deadline.isoformat() if o.deadline else None}


def lease_json(x: Lease, ident: Callable[[int | None], Any]) -> dict[str, Any]:
    return {"lease_id": x.lease_id, "vacancy_id": x.vacancy_id, "offer_id": x.offer_id, "entry_id": x.entry_id,
            "dwelling_id": x.dwelling_id, "applicant_id": ident(x.applicant_id),
            "household_id": ident(x.household_id), "lease_start": x.lease_start.isoformat(),
            "channel": x.channel}


def decision_json(d: Decision, ident: Callable[[int | None], Any]) -> dict[str, Any]:
    return {"decision_id": d.decision_id, "decided_at": d.created_at.isoformat(), "outcome": d.outcome,
            "vacancy_id": d.vacancy_id, "dwelling_id": d.dwelling_id, "channel": d.channel,
            "offer_id": d.offer_id, "entry_id": d.entry_id, "applicant_id": ident(d.applicant_id),
            "household_id": ident(d.household_id), "rank": d.rank, "rule": d.rule,
            "rule_version": d.rule_version, "law": d.law, "reason": d.reason, "facts": d.facts,
            "unknown_facts": list(d.unknown_facts or []), "actor": d.actor}


# ------------------------------------------------------------------------------------------------
# Authorisation helpers


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


def _decision_row(p: Principal, *, outcome: str, vacancy: Vacancy, rule: str, reason: str, facts: dict[str, Any],
                  entry: Applicant | None, offer_id: int | None, rank: int | None, rule_version: str,
                  law: str | None, unknown_facts: tuple[str, ...], channel: str | None,
                  at: datetime) -> dict[str, Any]:
    """The column values of a decision (`_decision`'s, as a row for a multi-row INSERT)."""
    return {"created_at": at, "outcome": outcome, "vacancy_id": vacancy.vacancy_id,
            "dwelling_id": vacancy.dwelling_id, "channel": channel or vacancy.channel, "offer_id": offer_id,
            "entry_id": entry.entry_id if entry else None,
            "applicant_id": entry.applicant_id if entry else None,
            "household_id": entry.household_id if entry else None, "rank": rank, "rule": rule,
            "rule_version": rule_version, "law": law, "reason": reason, "facts": facts,
            "unknown_facts": list(unknown_facts), "actor": p.name}


_DECISIONS = Decision.__table__
_UNNEST_COLUMNS = {"outcome": "text", "vacancy_id": "integer", "dwelling_id": "bigint", "channel": "text",
                   "offer_id": "integer", "entry_id": "integer", "applicant_id": "bigint", "household_id": "bigint",
                   "rank": "integer", "rule": "text", "rule_version": "text", "law": "text", "reason": "text",
                   "facts": "json", "unknown_facts": "json", "actor": "text"}
_INSERT_DECISIONS_PG = (
    "INSERT INTO decisions (created_at, " + ", ".join(_UNNEST_COLUMNS) + ") SELECT %(created_at)s, "
    + ", ".join(f"u.{c}::{ty}" for c, ty in _UNNEST_COLUMNS.items())
    + " FROM unnest(" + ", ".join(f"%({c})s::{'text' if ty == 'json' else ty}[]" for c, ty in _UNNEST_COLUMNS.items())
    + ") WITH ORDINALITY AS u(" + ", ".join(_UNNEST_COLUMNS) + ", position) ORDER BY u.position RETURNING decision_id")


def _insert_decisions(s: Session, rows: list[dict[str, Any]],
                      ident: Callable[[int | None], Any]) -> list[dict[str, Any]]:
    """Write decision rows in one statement (ids in the rows' order); their JSON as `decision_json`."""
    if not rows:
        return []
    if s.connection().dialect.name == "sqlite":
        # SQLite would send INSERT ... RETURNING row by row; its write transactions are serialised, so
        # the vacancy's newest rows after one executemany are these, in order.
        s.execute(insert(_DECISIONS), rows)
        ids = sorted(s.scalars(select(_DECISIONS.c.decision_id).where(_DECISIONS.c.vacancy_id == rows[0]["vacancy_id"])
                               .order_by(_DECISIONS.c.decision_id.desc()).limit(len(rows))))
        if len(ids) != len(rows) or any(r["vacancy_id"] != rows[0]["vacancy_id"] for r in rows):
            raise StoreInvariantError("decision rows of one round must belong to one vacancy")
    else:
        # One statement with one array parameter per column: a multi-row VALUES list of ~18
        # parameters per row would be parsed by the driver in Python, for every round. The ids come
        # from the sequence in the order the rows are selected (ORDER BY their position).
        conn = s.connection()
        dumps = conn.dialect._json_serializer or json.dumps
        params: dict[str, Any] = {"created_at": rows[0]["created_at"]}
        for name in _UNNEST_COLUMNS:
            params[name] = [dumps(r[name]) for r in rows] if name in ("facts", "unknown_facts") \
                else [r[name] for r in rows]
        if any(r["created_at"] != params["created_at"] for r in rows):
            raise StoreInvariantError("decision rows of one round share one time")
        ids = sorted(r[0] for r in conn.exec_driver_sql(_INSERT_DECISIONS_PG, params))
    return [{"decision_id": i, "decided_at": r["created_at"].isoformat(), "outcome": r["outcome"],
             "vacancy_id": r["vacancy_id"], "dwelling_id": r["dwelling_id"], "channel": r["channel"],
             "offer_id": r["offer_id"], "entry_id": r["entry_id"], "applicant_id": ident(r["applicant_id"]),
             "household_id": ident(r["household_id"]), "rank": r["rank"], "rule": r["rule"],
             "rule_version": r["rule_version"], "law": r["law"], "reason": r["reason"], "facts": r["facts"],
             "unknown_facts": r["unknown_facts"], "actor": r["actor"]} for i, r in zip(ids, rows)]


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
    w = _dwelling(s, body["dwelling_id"], lock=True)
    d = _department(s, w.department_id)
    require_org(p, d.org_id, f"dwelling {w.dwelling_id}")
    open_id = s.scalar(select(Vacancy.vacancy_id).where(Vacancy.dwelling_id == w.dwelling_id,
                                                        Vacancy.status == "open"))
    if open_id is not None:
        raise ConflictError(f"dwelling {w.dwelling_id} already has the open vacancy {open_id}")
    allocated = None
    if allocate is not None:
        now = now or datetime.now(timezone.utc).replace(tzinfo=None)
        states = rules.share_scopes(w, d, now)  # type: ignore[attr-defined]
        rows = _lock_share_counters(s, states)
        channel, allocated = allocate(w, d, body["available_from"], states, now)
        for state, row in zip(states, rows):
            row.seen, row.used, row.policy_version = state.seen, dict(state.used), state.policy_version
    v = Vacancy(dwelling_id=w.dwelling_id, channel=channel, available_from=body["available_from"],
                status="open")
    s.add(v)
    s.flush()
    if allocated is not None:
        _decision(s, p, outcome=allocated.outcome, vacancy=v, rule=allocated.rule, reason=allocated.reason,
                  facts=allocated.facts, rule_version=allocated.rule_version, law=allocated.law)
    else:
        _decision(s, p, outcome="channel", vacancy=v, rule=f"{STORE_RULE}#channel",
                  reason=f"vacancy registered, to be let by {channel}",
                  facts={"channel": channel, "department_id": d.department_id, "org_id": d.org_id,
                         "municipality_code": d.municipality_code,
                         "area_categories": list(d.area_categories or [])})
    return vacancy_json(v)


def _lock_share_counters(s: Session, states: list[Any]) -> list[ShareCounter]:
    """The share counter rows of `states`, created when missing and locked (`FOR UPDATE`) in key
    order, so concurrent registrations in one scope count one after the other."""
    if not states:
        return []
    dialect = s.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    for st in sorted(states, key=lambda x: (x.policy_id, x.scope_key)):
        s.execute(insert(ShareCounter).values(policy_id=st.policy_id, scope_key=st.scope_key, count_per=st.count_per,
                                              policy_version=st.policy_version, seen=0, used={})
                  .on_conflict_do_nothing(index_elements=["policy_id", "scope_key"]))
    rows = {(r.policy_id, r.scope_key): r for r in s.scalars(
        select(ShareCounter).where(tuple_(ShareCounter.policy_id, ShareCounter.scope_key).in_(
            [(st.policy_id, st.scope_key) for st in states]))
        .order_by(ShareCounter.policy_id, ShareCounter.scope_key)
        .with_for_update().execution_options(populate_existing=True))}
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


def _candidates(s: Session, v: Vacancy, owner: str, list_types: tuple[str, ...], *, offset: int = 0,
                limit: int = WHOLE_LIST) -> list[Applicant]:
    """Candidates in list order: active entries of the lists, without an offer for this vacancy and
    whose household holds no open or accepted offer (one household, one dwelling); `limit` of them
    from `offset` (`WHOLE_LIST`: all).

    One branch per list type, each read in list order and cut at `offset + limit`: on the
    municipality's lists its `referral_order` first (unordered entries after the ordered ones),
    then seniority and entry, which on the other lists is the order of the queue index (list owner,
    list type, status, seniority, entry), so the database reads the head of each list instead of
    sorting the whole list every round; the branches are merged in list order (internal before the
    others)."""
    params = {"owner": owner, "vacancy_id": v.vacancy_id, "head": min(offset + limit, WHOLE_LIST), "offset": offset,
              "limit": limit}
    conn = s.connection()
    stmt, sql = _candidate_ids_statement(list_types, conn.dialect)
    if sql is not None:  # driver SQL compiled once per list types: nothing to build again every round
        ids = [r[0] for r in conn.exec_driver_sql(sql, params)]
    else:
        ids = list(s.scalars(stmt, params))
    if not ids:
        return []
    # then the entries by primary key (a join could make the planner scan the whole table)
    by_id = {a.entry_id: a for a in s.execute(
        _ENTRIES_BY_ID_PG if conn.dialect.name == "postgresql" else _ENTRIES_BY_ID, {"ids": ids})}
    return [by_id[i] for i in ids]


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
        head = (select(Applicant.entry_id, Applicant.seniority_date,
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
    stmt = (select(heads.c.entry_id)
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
        # An entry locked but found busy afterwards (its household's offer committed between the
        # lock statement's snapshot and the lock) is dropped and the entries after it are tried, so
        # a round is not left without an offer while free entries follow.
        free: list[int] = []
        rest = list(entry_ids)
        while len(free) < n and rest:
            locked = [r[0] for r in conn.exec_driver_sql(_LOCK_FIRST_OFFERABLE_SQL, {"ids": rest, "n": n - len(free)})]
            if not locked:
                break
            busy = {r[0] for r in conn.exec_driver_sql(_BUSY_SQL, {"ids": locked})}
            free += [i for i in locked if i not in busy]
            rest = rest[rest.index(locked[-1]) + 1:]
        return free
    free = _lock_offerable(s, entry_ids)  # SQLite serialises write transactions: nothing to pass over
    return [i for i in entry_ids if i in free][:n]


_HOUSEHOLD_FREE = """
  AND NOT EXISTS (SELECT 1 FROM offers o WHERE o.applicant_id = a.applicant_id AND o.status IN ('open', 'accepted'))
  AND NOT EXISTS (SELECT 1 FROM offers o WHERE o.household_id = a.household_id AND o.status IN ('open', 'accepted'))"""
_LOCK_FIRST_OFFERABLE_SQL = """
SELECT a.entry_id FROM applicants a
WHERE a.entry_id = ANY(%(ids)s::integer[]) AND a.status = 'active'""" + _HOUSEHOLD_FREE + """
ORDER BY array_position(%(ids)s::integer[], a.entry_id)
LIMIT %(n)s
FOR UPDATE OF a SKIP LOCKED
"""
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


def make_offers(s: Session, p: Principal, vacancy_id: int, count: int | None = 1,
                pseudo: Pseudonymiser | None = None, *, rules: OfferRules | None = None,
                now: datetime | None = None) -> dict[str, Any]:
    """Offer the vacancy to the next applicants by `rules` (default: the statutory engine rules,
    `default_offer_rules`; the plain list order with `count` offers only when `StoreOrderRules` is
    given by name); record every decision of the round."""
    if count is not None and not 1 <= count <= MAX_OFFERS_PER_ROUND:
        raise InvalidRequestError(f"count must be between 1 and {MAX_OFFERS_PER_ROUND}")
    rules = rules or default_offer_rules()
    now = now or datetime.now(timezone.utc).replace(tzinfo=None)
    v, w, d = _vacancy_context(s, vacancy_id, lock=True)
    require_act_on_vacancy(p, v, d)
    if v.status != "open":
        raise ConflictError(f"vacancy {vacancy_id} is {v.status}; no more offers")
    owner, list_types = candidate_lists(v, d)
    # Rules that rank the whole list (the engine) see every candidate at once; the plain list order
    # reads the list page by page until the round has its offers.
    page_size = getattr(rules, "page_size", None) or WHOLE_LIST
    lock_ahead = getattr(rules, "lock_ahead", 0) or 0
    remaining = count
    decided: list[CandidateDecision] = []
    passed_over: set[int] = set()
    fulfilled: set[int] = set()
    seen_persons: set[int] = set()
    seen_households: set[int] = set()
    offset = 0
    while True:
        page = _candidates(s, v, owner, list_types, offset=offset, limit=page_size)
        pool, extra = page, {}
        if getattr(rules, "carries_redirects", False) and v.channel in MUNICIPAL_CHANNELS:
            redirects, missing = open_redirects(s, v, d.municipality_code, page, list_types)  # § 59 stk. 6
            pool, extra = [*page, *missing], {"redirects": redirects}
        pool = _one_entry_per_household(pool, seen_persons, seen_households)
        held = _entitlements(s, d.org_id, {e.applicant_id for e in pool})
        got: set[int] = set()
        reuse = None
        if lock_ahead:  # lock the first free ones of a deeper plan at once (concurrent rounds race for the head)
            wide = rules.plan(v, w, d, [e for e in pool if e.entry_id not in passed_over],
                              (remaining or 1) + lock_ahead, now, entitlements=held, **extra)
            ranking = getattr(rules, "ranking", None)  # rules that rank every eligible candidate (the engine)
            order = ranking(wide) if ranking is not None else [
                cd.entry.entry_id for cd in wide.offered if cd.entry is not None]
            locked = _lock_first_offerable(s, order, len(wide.offered) if ranking is not None else remaining or 1)
            got = set(locked)
            tried = order[:order.index(locked[-1]) + 1] if locked else order
            lost_head = set(tried) - got
            passed_over |= lost_head  # locked by a concurrent round, or offered meanwhile
            if not lost_head and {cd.entry.entry_id for cd in wide.offered if cd.entry is not None} <= got:
                reuse = wide  # nobody passed over: the wide plan is this round's (no second planning)
        while True:
            plan = reuse or rules.plan(v, w, d, [e for e in pool if e.entry_id not in passed_over], remaining, now,
                                       entitlements=held, **extra)
            reuse = None
            chosen = [cd.entry.entry_id for cd in plan.offered if cd.entry is not None]
            rest = [i for i in chosen if i not in got]
            lost = set(rest) - _lock_offerable(s, rest)
            if not lost:
                break
            passed_over |= lost  # being offered elsewhere right now: not a decision about them
        decided += plan.decisions
        fulfilled.update(plan.fulfilled_entitlements)
        offset += len(page)
        if page_size >= WHOLE_LIST or len(page) < page_size:
            break
        remaining = (remaining or 1) - len(plan.offered)
        if remaining <= 0:
            break
    if plan.channel == "annoncering" and v.channel in ("waiting_list", "fleksibel") and not plan.offered \
            and getattr(rules, "weighs_busy", False):
        busy = [*_busy_candidates(s, v, owner, list_types), *(e for e in pool if e.entry_id in passed_over)]
        if busy:  # would the held-back applicants still count? (annoncering switch busy_applicants)
            plan = rules.plan(v, w, d, [e for e in pool if e.entry_id not in passed_over], remaining, now,
                              entitlements=held, busy=busy, **extra)
            decided = list(plan.decisions)
            fulfilled = set(plan.fulfilled_entitlements)
    ident = _ids(p, pseudo)
    round_rules = getattr(rules, "round_rules", None)
    offers, decisions = [], []
    # The offers are written in rank order, so offer ids order a vacancy's offers by rank (the
    # best-ranked acceptor wins, see `answers`); a later round ranks below every earlier offer.
    made: dict[int, Offer] = {}
    for i, cd in sorted(((i, cd) for i, cd in enumerate(decided) if cd.outcome == "offered" and cd.entry is not None),
                        key=lambda x: (x[1].rank if x[1].rank is not None else x[0], x[0])):
        entry = cd.entry
        if entry is None:
            continue
        settings = round_rules(cd.rule, cd.rule_version) if round_rules is not None else None
        deadline = None
        if settings is not None:  # `now` is naive UTC for the engine; the column keeps UTC with zone
            deadline = (now if now.tzinfo else now.replace(tzinfo=timezone.utc)) + timedelta(
                days=settings.answer_days)
        o = Offer(vacancy_id=v.vacancy_id, entry_id=entry.entry_id, applicant_id=entry.applicant_id,
                  household_id=entry.household_id, rank=cd.rank or 0, channel=v.channel,
                  rule=cd.rule, rule_version=cd.rule_version, status="open", deadline=deadline)
        s.add(o)
        s.flush()  # one at a time: the ids follow the rank order
        made[i] = o
    # The round's plain decisions go in as one multi-row INSERT (no ORM object per candidate); a
    # decision with a follow-up (entitlement, redirect) needs its row first, so the rows before it
    # are written then, keeping the decision ids in the order the decisions were taken.
    at = utcnow()
    pending: list[dict[str, Any]] = []
    for i, cd in enumerate(decided):
        offer_id = None
        if i in made and cd.entry is not None:
            o = made[i]
            offer_id = o.offer_id
            offers.append(offer_json(o, cd.entry, ident))
            if cd.entry.applicant_id in fulfilled:
                _fulfil_entitlement(s, d.org_id, cd.entry.applicant_id, o.offer_id)
        row = _decision_row(p, outcome=cd.outcome, vacancy=v, rule=cd.rule, reason=cd.reason, facts=cd.facts,
                            entry=cd.entry, offer_id=offer_id, rank=cd.rank, rule_version=cd.rule_version,
                            law=cd.law, unknown_facts=cd.unknown_facts, channel=cd.channel, at=at)
        if cd.entry is not None and cd.outcome in ("entitled", "redirected"):
            decisions += _insert_decisions(s, pending, ident)
            pending = []
            dec = Decision(**row)
            s.add(dec)
            s.flush()
            decisions.append(decision_json(dec, ident))
            if cd.outcome == "entitled":
                _grant_entitlement(s, cd, dec)
            else:
                keep_redirect(s, cd, dec, v, d.municipality_code)
        else:
            pending.append(row)
    decisions += _insert_decisions(s, pending, ident)
    if not offers and plan.channel == "waiting_list" and v.channel in ("kommunal_anvisning", "rehousing"):
        v.channel = "waiting_list"  # no eligible referral: released (kommunal_anvisning switch unused_referral)
    elif not offers and plan.channel == "annoncering" and v.channel in ("waiting_list", "fleksibel"):
        v.channel = "annoncering"  # the list gave nobody: advertised (§ 60 a policy, trigger list_exhausted)
    s.flush()
    return {"vacancy_id": v.vacancy_id, "channel": v.channel, "rules": rules.name, "offers": offers,
            "decisions": decisions, "exhausted": not offers}


_DEFAULT_RULES: list[OfferRules] = []


def default_offer_rules() -> OfferRules:
    """The statutory engine rules (the packaged statutory policies), loaded once per process: the
    store's rules for offer rounds and answers unless a caller names others."""
    if not _DEFAULT_RULES:
        from boligmix.letting.store.engine_rules import EngineRules

        _DEFAULT_RULES.append(EngineRules())
    return _DEFAULT_RULES[0]


def _one_entry_per_household(entries: list[Applicant], persons: set[int], households: set[int]) -> list[Applicant]:
    """The first entry (in list order) of each household: a household on several lists (internal
    and external, or by two members' entries with one household id) is one candidate of a round.
    `persons` and `households` are those seen in the round's earlier pages (updated)."""
    out = []
    for e in entries:
        if e.applicant_id in persons or (e.household_id is not None and e.household_id in households):
            continue
        persons.add(e.applicant_id)
        if e.household_id is not None:
            households.add(e.household_id)
        out.append(e)
    return out


def _entitlements(s: Session, org_id: str, applicant_ids: set[int]) -> list[Entitlement]:
    """The § 51 b entitlements of these applicants with organisation `org_id` (used up or not)."""
    if not applicant_ids:
        return []
    return list(s.scalars(_ENTITLEMENTS, {"org_id": org_id, "ids": list(applicant_ids)}))


_ENTITLEMENTS = select(Entitlement).where(Entitlement.org_id == bindparam("org_id"),
                                          Entitlement.applicant_id.in_(bindparam("ids", expanding=True)))


def _grant_entitlement(s: Session, cd: CandidateDecision, decision: Decision) -> None:
    """Keep the § 51 b entitlement the engine's `entitled` decision granted."""
    if cd.entry is None:
        raise StoreInvariantError(f"an entitled decision ({cd.rule}) without an applicant entry")
    facts = cd.facts
    policy_id = cd.rule.split("#", 1)[0]
    s.add(Entitlement(applicant_id=cd.entry.applicant_id, org_id=str(facts["org_id"]), area_id=facts.get("area_id"),
                      entry_id=cd.entry.entry_id, decision_id=decision.decision_id, policy_id=policy_id,
                      policy_version=cd.rule_version, ends=str(facts.get("entitlement_ends") or "on_offer")))


def _fulfil_entitlement(s: Session, org_id: str, applicant_id: int, offer_id: int) -> None:
    ent = s.scalar(select(Entitlement).where(Entitlement.org_id == org_id, Entitlement.applicant_id == applicant_id))
    if ent is not None and ent.fulfilled_by_offer_id is None:
        ent.fulfilled_by_offer_id = offer_id


def list_entitlements(s: Session, p: Principal, org_id: str, pseudo: Pseudonymiser | None = None) -> list[dict]:
    """§ 51 b entitlements with an organisation (open and used up). An entitlement is `open` while
    no offer used it up and the entry it was granted on is still active on the list: a housed
    applicant (also with `ends = on_letting`) or one who withdrew the application holds none."""
    require_read_list(p, org_id, None)
    ident = _ids(p, pseudo)
    rows = s.execute(select(Entitlement, Applicant.status).join(Applicant, Applicant.entry_id == Entitlement.entry_id)
                     .where(Entitlement.org_id == org_id).order_by(Entitlement.entitlement_id)).all()
    return [{"entitlement_id": e.entitlement_id, "applicant_id": ident(e.applicant_id), "org_id": e.org_id,
             "area_id": e.area_id, "entry_id": e.entry_id, "decision_id": e.decision_id, "policy_id": e.policy_id,
             "policy_version": e.policy_version, "ends": e.ends, "fulfilled_by_offer_id": e.fulfilled_by_offer_id,
             "entry_status": status, "open": e.fulfilled_by_offer_id is None and status == "active"}
            for e, status in rows]


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


def _as_utc(t: datetime) -> datetime:
    """A stored or given time as an aware UTC time (naive times are UTC)."""
    return t if t.tzinfo is not None else t.replace(tzinfo=timezone.utc)


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
    rows = s.scalars(select(Decision).where(Decision.vacancy_id == vacancy_id).order_by(Decision.decision_id))
    return [decision_json(x, ident) for x in rows]


def count_rows(s: Session) -> dict[str, int]:
    """Row counts (for checks and benchmarks)."""
    return {m.__tablename__: s.scalar(select(func.count()).select_from(m)) or 0
            for m in (Department, Dwelling, Applicant, Vacancy, Offer, Lease, Decision)}


# The answers to offers (accept, refuse, expire) live in `answers`; re-exported here.
from boligmix.letting.store.answers import (  # noqa: E402  (it imports this module's helpers)
    accept_offer,
    expire_offers,
    refuse_offer,
    settle_vacancy,
)

__all__ = ["accept_offer", "expire_offers", "refuse_offer", "settle_vacancy"]
