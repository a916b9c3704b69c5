"""The letting store's audit trail as the engine's `Decision` records, so `explain_decisions`
answers "why did applicant X (not) get dwelling Y?" from the store as from a decision log
(`boligmix letting explain --db URL`)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import select

from boligmix.letting import model as m
from boligmix.letting.explain import Explanation, explain_decisions
from boligmix.letting.store.db import Store
from boligmix.letting.store.models import Applicant, Decision
from boligmix.letting.store.trail import TrailDecision, trail

ROUND_SPAN = 1 << 32
"""Sequence numbers: a stored row's id times this, plus the decision's position in a compact round."""


def engine_decision(d: Decision | TrailDecision) -> m.Decision:
    """One stored decision as the engine's record (ids as strings; the store has no rounds or units;
    a decision of a compact round record is `<row id>.<position>`, `store.trail`)."""
    position = getattr(d, "position", 0)
    return m.Decision(
        decision_id=f"{d.decision_id}.{position}" if position else str(d.decision_id),
        sequence=d.decision_id * ROUND_SPAN + position, decided_at=d.created_at,
        outcome=m.Outcome(d.outcome), vacancy_id=str(d.vacancy_id), dwelling_id=d.dwelling_id, unit=None,
        channel=m.Channel(d.channel) if d.channel else None, round_id=None, applicant_id=d.applicant_id,
        household_id=d.household_id, rule_id=d.rule, rule_version=d.rule_version, law=d.law, reason=d.reason,
        facts=dict(d.facts or {}), unknown_facts=tuple(d.unknown_facts or ()), rank=d.rank,
        offer_id=None if d.offer_id is None else str(d.offer_id))


def store_decisions(store: Store, dwelling_id: int) -> list[m.Decision]:
    """The stored decisions about `dwelling_id`, oldest first."""
    with store.read() as s:
        return [engine_decision(d) for d in trail(s, Decision.dwelling_id == dwelling_id)]


def explain_from_store(store: Store, applicant_id: int, dwelling_id: int, policies: Any = None) -> Explanation:
    """`explain_decisions` over the store's trail for one applicant and dwelling (`policies`: the
    rules' Danish texts, default the packaged ones); when the applicant withdrew an application
    (left a list), the verdict says so, with the date."""
    explanation = explain_decisions(store_decisions(store, dwelling_id), applicant_id, dwelling_id, policies)
    with store.read() as s:
        left = s.execute(select(Applicant.list_type, Applicant.list_owner, Applicant.withdrawn_at)
                         .where(Applicant.applicant_id == applicant_id, Applicant.status == "withdrawn")
                         .order_by(Applicant.entry_id)).all()
    if not left:
        return explanation
    note = " ".join(f"The applicant withdrew the application on the {t} list of {owner} on "
                    f"{at.date().isoformat() if at else 'an unrecorded date'} (left the list)." for t, owner, at in left)
    note_da = " ".join(f"Ansøgeren trak ansøgningen på {owner}s {LIST_DA.get(t, t)} tilbage "
                       f"{at.strftime('%d.%m.%Y') if at else '(datoen er ikke registreret)'} (udgik af listen)."
                       for t, owner, at in left)
    return replace(explanation, verdict=f"{explanation.verdict} {note}",
                   verdict_da=f"{explanation.verdict_da} {note_da}")


LIST_DA = {"external": "eksterne venteliste", "internal": "interne venteliste"}
"""Danish names of the store's list types (in the withdrawal note)."""


__all__ = ["engine_decision", "explain_from_store", "store_decisions"]
