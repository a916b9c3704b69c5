"""The engine's in-memory ledger: what has been offered, refused and let, the vacancy-share
counters and the decision log.

It is plain data so a store can rebuild it (or replace it) from its tables. The one hard
invariant lives here: a dwelling (or delebolig room) is let at most once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from boligmix.errors import LettingError
from boligmix.letting.model import Applicant, Channel, Decision, Letting, Offer, OfferRound, Vacancy


@dataclass
class ShareCounter:
    """Vacancies seen in one share scope and how many each channel took (allocation state)."""

    seen: int = 0
    used: dict[Channel, int] = field(default_factory=dict)


@dataclass(frozen=True)
class RoundRules:
    """The offer-round settings that were in force when a round was made."""

    policy_id: str
    version: str
    law: str | None
    passive_after_refusals: int
    no_answer_counts_as_refusal: bool


@dataclass(frozen=True)
class Entitlement:
    """§ 51 b: an applicant registered before kombineret udlejning was introduced and rejected
    by it is entitled to an offer of a dwelling outside the scheme's area (`Outcome.ENTITLED`
    decision `decision_id`). `ends` is the switch value at grant time (`on_offer` or
    `on_letting`); `fulfilled_by` the offer id that used it up. `offer_by` (switch
    `offer_elsewhere_by`): `municipality` (the municipality offers it, through its referrals in
    `municipality_code`; None = any) or `organisation` (priority at the organisation's dwellings);
    None = read the switch of policy `policy_id@policy_version` (a store's stored entitlement)."""

    applicant_id: int
    org_id: str
    area_id: str | None
    policy_id: str
    policy_version: str
    decision_id: str
    ends: str
    fulfilled_by: str | None = None
    offer_by: str | None = None
    municipality_code: int | None = None


@dataclass(frozen=True)
class RedirectedReferral:
    """§ 59 stk. 6: a municipal referral barred from a dwelling in an udsat (or forebyggelse)
    area, kept so the municipality's referral is offered a dwelling elsewhere in the
    municipality (`Outcome.REDIRECTED` decision `decision_id`, the bar `rule_id`)."""

    applicant: Applicant
    municipality_code: int
    vacancy_id: str
    rule_id: str
    rule_version: str
    decision_id: str


@dataclass(frozen=True)
class Reactivation:
    """An applicant made active again after passive status (`Outcome.REACTIVATED`): when, the
    seniority date from then on (None: kept) and the refusals no longer counted (`refusal_offset`)."""

    at: datetime
    seniority_date: date | None
    refusal_offset: int


@dataclass
class LettingLedger:
    """Mutable state of one letting engine."""

    vacancies: dict[str, Vacancy] = field(default_factory=dict)
    vacancy_channel: dict[str, Channel] = field(default_factory=dict)
    rounds: dict[str, OfferRound] = field(default_factory=dict)
    vacancy_rounds: dict[str, list[str]] = field(default_factory=dict)
    round_rules: dict[str, RoundRules] = field(default_factory=dict)
    offers: dict[str, Offer] = field(default_factory=dict)
    offered: dict[str, set[int]] = field(default_factory=dict)
    lettings: dict[tuple[int, str | None], Letting] = field(default_factory=dict)
    refusals: dict[int, int] = field(default_factory=dict)
    """Refusals counted by this engine, per applicant."""
    base_refusals: dict[int, int] = field(default_factory=dict)
    """`Applicant.refusal_count` as last handed in (refusals before this engine)."""
    passive: set[int] = field(default_factory=set)
    reactivations: dict[int, Reactivation] = field(default_factory=dict)
    """Applicants made active again after passive status (the last reactivation), per applicant."""
    housed: dict[int, int] = field(default_factory=dict)
    """Applicants let a dwelling by this engine -> letting id (they are skipped afterwards)."""
    withdrawn: dict[int, datetime] = field(default_factory=dict)
    """Applicants who withdrew their application (left the list) -> when; skipped afterwards."""
    counters: dict[tuple[str, str], ShareCounter] = field(default_factory=dict)
    decisions: list[Decision] = field(default_factory=list)
    entitlements: dict[int, Entitlement] = field(default_factory=dict)
    """§ 51 b entitlements to an offer elsewhere, per applicant."""
    redirected: dict[int, RedirectedReferral] = field(default_factory=dict)
    """§ 59 stk. 6 referrals barred from a restricted area and not yet housed, per applicant."""
    next_sequence: int = 1
    next_letting_id: int = 1

    def checkpoint(self) -> dict:
        """What `rollback` needs to undo a failed offer round (everything a round changes
        before its offers are made)."""
        return {"decisions": len(self.decisions), "next_sequence": self.next_sequence,
                "vacancies": dict(self.vacancies), "vacancy_channel": dict(self.vacancy_channel),
                "counters": {k: ShareCounter(c.seen, dict(c.used)) for k, c in self.counters.items()},
                "base_refusals": dict(self.base_refusals), "entitlements": dict(self.entitlements),
                "redirected": dict(self.redirected)}

    def rollback(self, checkpoint: dict) -> None:
        del self.decisions[checkpoint["decisions"]:]
        self.next_sequence = checkpoint["next_sequence"]
        self.vacancies = checkpoint["vacancies"]
        self.vacancy_channel = checkpoint["vacancy_channel"]
        self.counters = checkpoint["counters"]
        self.base_refusals = checkpoint["base_refusals"]
        self.entitlements = checkpoint["entitlements"]
        self.redirected = checkpoint["redirected"]

    def is_let(self, vacancy: Vacancy) -> bool:
        return vacancy.unit_key in self.lettings

    def record_letting(self, letting: Letting) -> None:
        key = (letting.dwelling_id, letting.unit)
        if key in self.lettings:
            raise LettingError(f"dwelling {letting.dwelling_id}"
                               f"{'' if letting.unit is None else ' unit ' + letting.unit} is already let "
                               f"(letting {self.lettings[key].letting_id})")
        self.lettings[key] = letting

    def open_offers(self, vacancy_id: str) -> list[Offer]:
        return [self.offers[o.offer_id] for rid in self.vacancy_rounds.get(vacancy_id, ())
                for o in self.rounds[rid].offers if self.offers[o.offer_id].status.value in ("open", "accepted")]

    def round_offers(self, round_id: str) -> list[Offer]:
        """The current state of a round's offers, best rank first."""
        return sorted((self.offers[o.offer_id] for o in self.rounds[round_id].offers), key=lambda o: o.rank)


__all__ = ["Entitlement", "LettingLedger", "Reactivation", "RedirectedReferral", "RoundRules", "ShareCounter"]
