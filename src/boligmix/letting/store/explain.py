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


def store_decisions(store: Store, dwelling_id: int, *, recompute_for: int | None = None,
                    policies: Any = None) -> list[m.Decision]:
    """The stored decisions about `dwelling_id`, oldest first. `recompute_for`: an applicant id
    whose not-reached decisions (ranked below a round's offers, stored compactly without the facts
    the priority rules read, `store.trail`) get those facts back, recomputed (`recompute_not_reached`)."""
    with store.read() as s:
        out = []
        for d in trail(s, Decision.dwelling_id == dwelling_id):
            if recompute_for is not None and d.applicant_id == recompute_for and (d.facts or {}).get("not_reached"):
                d = replace(d, facts={**recompute_not_reached(s, d, policies), **d.facts,
                                      "recomputed_from_current_data": True})
            out.append(engine_decision(d))
        return out


def recompute_not_reached(s: Any, d: TrailDecision, policies: Any = None) -> dict[str, Any]:
    """The facts the rules read for a candidate a round did not reach, recomputed on demand: the
    engine's assessment of the applicant's entry as it is now, for the vacancy's dwelling and
    channel, at the time the round ranked by (`policies`: default the statutory engine rules). Empty when
    the entry or vacancy is gone. The entry may have changed since the round; the caller marks the
    facts as recomputed from the current data."""
    from boligmix.letting.engine import LettingEngine
    from boligmix.letting.store.engine_rules import engine_applicant, engine_vacancy
    from boligmix.letting.store.models import Department, Dwelling, Vacancy
    from boligmix.letting.store.selection import default_offer_rules

    entry = s.get(Applicant, d.entry_id) if d.entry_id is not None else None
    vacancy = s.get(Vacancy, d.vacancy_id)
    if entry is None or vacancy is None or d.channel is None:
        return {}
    dwelling = s.get(Dwelling, vacancy.dwelling_id)
    department = s.get(Department, dwelling.department_id)
    policies = policies if policies is not None else default_offer_rules().policies  # type: ignore[attr-defined]
    on = d.as_of or d.created_at
    on = on.replace(tzinfo=None) if on.tzinfo else on
    assessment = LettingEngine(policies).assess(engine_vacancy(vacancy, dwelling, department),
                                                engine_applicant(entry), m.Channel(d.channel), on)
    return dict(assessment.facts)


def explain_from_store(store: Store, applicant_id: int, dwelling_id: int, policies: Any = None) -> Explanation:
    """`explain_decisions` over the store's trail for one applicant and dwelling (`policies`: the
    rules' Danish texts, default the packaged ones, also the rules a not-reached decision's facts
    are recomputed by); when the applicant withdrew an application (left a list), the verdict says
    so, with the date."""
    decisions = store_decisions(store, dwelling_id, recompute_for=applicant_id, policies=policies)
    explanation = explain_decisions(decisions, applicant_id, dwelling_id, policies)
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


__all__ = ["engine_decision", "explain_from_store", "recompute_not_reached", "store_decisions"]
