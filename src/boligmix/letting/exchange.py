"""Exchange (bytte) and sub-letting (fremleje) into listed areas.

From 2021 a household moving into a dwelling in an udsat, parallelsamfund, omdannelses- or
forebyggelsesområde through exchange or sub-letting must meet the obligatory fleksibel
udlejning criteria (rules-spec 6.2). The `bytte_fremleje` policy in force for the dwelling
says whether the request is covered and where the criteria are (`criteria_slot`: the
fleksibel_udlejning policy whose priority rules are the criteria); "meets the criteria" means
every active criterion rule holds. A request gets one Decision: `approved`, `rejected` (a
criterion does not hold) or `skipped` (held: a criterion cannot be decided, switch
`on_unknown`). Use through `LettingEngine.assess_transfer`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from boligmix.errors import ConfigurationError
from boligmix.letting.facts import base_facts
from boligmix.letting.model import Applicant, Channel, Decision, Dwelling, Outcome, StrEnum, Vacancy
from boligmix.rules.evaluator import evaluate
from boligmix.rules.truth import Truth

if TYPE_CHECKING:
    from boligmix.letting.engine import LettingEngine


class TransferKind(StrEnum):
    BYTTE = "bytte"
    FREMLEJE = "fremleje"


@dataclass(frozen=True)
class TransferRequest:
    """A request to move `incoming` into `dwelling` by exchange or sub-letting on `moving_on`."""

    request_id: str
    kind: TransferKind
    dwelling: Dwelling
    incoming: Applicant
    moving_on: date


@dataclass(frozen=True)
class TransferAssessment:
    """The verdict on a request and the Decision recording it (`approved` True/False; None: held)."""

    request: TransferRequest
    approved: bool | None
    decision: Decision


def assess_transfer(engine: "LettingEngine", request: TransferRequest, now: datetime) -> TransferAssessment:
    """Assess `request` under the engine's policies in force on `request.moving_on`; the Decision
    is added to the engine's log (its `vacancy_id` is the request id, channel `other`)."""
    if not isinstance(request.kind, TransferKind):
        raise ConfigurationError(f"request {request.request_id}: kind must be a TransferKind, got {request.kind!r}")
    on = request.moving_on
    dwelling = request.dwelling
    target = Vacancy(request.request_id, dwelling, on)
    in_force = engine.policies.in_force(dwelling, on)
    base_info = {"kind": request.kind.value, "moving_on": on, "area_categories": sorted(dwelling.area_categories)}

    def record(outcome: Outcome, reason: str, **kw) -> TransferAssessment:
        facts = {**base_info, **kw.pop("facts", {})}
        decision = engine._decision(now, outcome, target, channel=Channel.OTHER, round_id=None,
                                    applicant=request.incoming, reason=reason, facts=facts, **kw)
        approved = True if outcome == Outcome.APPROVED else False if outcome == Outcome.REJECTED else None
        return TransferAssessment(request, approved, decision)

    rule = next((p for p in in_force if p.spec.tool == "bytte_fremleje"), None)
    if rule is None:
        return record(Outcome.APPROVED, f"no {request.kind.value} requirement in force for this dwelling on "
                                        f"{on.isoformat()} (area on no covered list, or before the rules)",
                      rule_id="bytte_fremleje#not_in_force")
    if not rule.switch(f"covers_{request.kind.value}"):
        return record(Outcome.APPROVED, f"{request.kind.value} is not covered (switch covers_{request.kind.value})",
                      policy=rule, rule_id=f"{rule.id}#covers_{request.kind.value}")
    slot = rule.switch("criteria_slot")
    criteria = next((p for p in in_force if p.spec.tool == "fleksibel_udlejning" and p.spec.slot_name == slot), None)
    if criteria is None or not criteria.active("priorities"):
        raise ConfigurationError(f"{rule.id}: no fleksibel_udlejning policy with criteria in slot '{slot}' is in "
                                 f"force for dwelling {dwelling.dwelling_id} on {on.isoformat()}",
                                 source=rule.source, rule=rule.id, field="switches.criteria_slot")
    base = base_facts(request.incoming, dwelling, on, 0)
    from boligmix.letting.engine import policy_facts

    facts, details = policy_facts(criteria, request.incoming, base, on)
    used: dict = {"criteria_policy": criteria.id, "criteria_version": criteria.version}
    undecided = None
    for crit in criteria.active("priorities"):
        truth = evaluate(crit.condition, facts, criteria.spec.constants)
        hit = engine._hit(crit, criteria, facts, details, truth)
        used.update(hit.facts)
        label = crit.spec.description or crit.spec.id
        if truth is Truth.FALSE:
            return record(Outcome.REJECTED, f"{request.kind.value} into a listed area: the incoming household does "
                                            f"not meet '{label}' ({criteria.spec.law})",
                          policy=criteria, rule_id=crit.rule_id, law=rule.spec.law, facts=used,
                          rule_version=criteria.version)
        if truth is Truth.UNKNOWN and undecided is None:
            undecided = (crit, hit)
    if undecided is not None:
        crit, hit = undecided
        how = rule.switch("on_unknown")
        return record(Outcome.REJECTED if how == "reject" else Outcome.SKIPPED,
                      f"{'rejected' if how == 'reject' else 'held'}: '{crit.spec.description or crit.spec.id}' "
                      f"cannot be decided (switch on_unknown={how}); unknown: {', '.join(hit.unknown) or '?'}",
                      policy=criteria, rule_id=crit.rule_id, rule_version=criteria.version, law=rule.spec.law,
                      facts=used, unknown=hit.unknown)
    return record(Outcome.APPROVED, f"{request.kind.value} into a listed area: the incoming household meets the "
                                    f"fleksibel criteria of {criteria.id}",
                  policy=rule, rule_id=f"{rule.id}#criteria_met", facts=used)


__all__ = ["TransferAssessment", "TransferKind", "TransferRequest", "assess_transfer"]
