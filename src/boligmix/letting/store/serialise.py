"""The letting store's rows as JSON-ready dicts (person identifiers pseudonymised for analysts)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from boligmix.letting.store.auth import Principal, Pseudonymiser
from boligmix.letting.store.errors import StoreInvariantError
from boligmix.letting.store.models import Applicant, Decision, Department, Dwelling, Lease, Offer, SharedDwelling, Vacancy
from boligmix.letting.store.trail import TrailDecision


def _as_utc(t: datetime) -> datetime:
    """A stored or given time as an aware UTC time (naive times are UTC)."""
    return t if t.tzinfo is not None else t.replace(tzinfo=timezone.utc)



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


def decision_json(d: Decision | TrailDecision, ident: Callable[[int | None], Any]) -> dict[str, Any]:
    """A decision of the trail (`position`: its place in a compact round record from 1, 0 for a row of its own)."""
    return {"decision_id": d.decision_id, "decided_at": d.created_at.isoformat(), "outcome": d.outcome,
            "vacancy_id": d.vacancy_id, "dwelling_id": d.dwelling_id, "channel": d.channel,
            "offer_id": d.offer_id, "entry_id": d.entry_id, "applicant_id": ident(d.applicant_id),
            "household_id": ident(d.household_id), "rank": d.rank, "rule": d.rule,
            "rule_version": d.rule_version, "law": d.law, "reason": d.reason, "facts": d.facts,
            "unknown_facts": list(d.unknown_facts or []), "actor": d.actor,
            "position": getattr(d, "position", 0)}
