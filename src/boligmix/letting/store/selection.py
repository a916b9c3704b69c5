"""Who gets the next offers for a vacancy: the boundary between the store and the letting rules.

`plan_round(vacancy, dwelling, department, candidates, count)` returns one decision per candidate
considered (offered, skipped or rejected), each naming the rule and rule version that decided it
and the facts it read. The store writes exactly these as offers and decision records.

The ordering here is the plain waiting-list order: the internal list (oprykning) before the
external list, then seniority (anciennitet), then registration order; an applicant is skipped
when the dwelling does not meet the applicant's wishes (rooms, rent). Municipal referrals are
taken in the municipality's order (`referral_order`), then in referral order. The letting tools of the engine (`boligmix.letting`) refine this.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from boligmix.letting.store.models import Applicant, Department, Dwelling, Entitlement, RedirectedReferral, Vacancy

RULE_ID = "boligmix.store.waiting_list_order"
RULE_VERSION = "1"
LIST_ORDER = {"internal": 0, "external": 1, "municipal_referral": 0, "rehousing": 0, "advert_response": 2}
MUNICIPAL_LISTS = {"municipal_referral": "kommunal_anvisning", "rehousing": "rehousing"}
"""The municipality's lists (owner `kommune:<code>`) and the share channel each one serves."""
MUNICIPAL_CHANNEL_LISTS = {**{c: lt for lt, c in MUNICIPAL_LISTS.items()}, "udslusning": "municipal_referral"}
"""Channel -> the municipality's list its candidates come from: an udslusningsbolig (almenboligloven
§ 63, since migration 0015) goes to the municipality's referrals, as kommunal anvisning."""
MUNICIPAL_CHANNELS = frozenset(MUNICIPAL_CHANNEL_LISTS)
"""Channels whose candidates the municipality names (and whose vacancies it acts on); the engine's
`REFERRAL_CHANNELS`. Refusals there do not count towards passive status on the waiting list."""


@dataclass(frozen=True)
class CandidateDecision:
    entry: Applicant | None  # None for decisions about the vacancy itself (e.g. its channel)
    outcome: str  # offered | skipped | rejected
    rule: str
    rule_version: str
    reason: str
    facts: dict[str, Any] = field(default_factory=dict)
    rank: int | None = None
    law: str | None = None
    unknown_facts: tuple[str, ...] = ()
    channel: str | None = None
    """The channel the decision was taken in, when not the vacancy's (e.g. a release to the waiting list)."""


@dataclass(frozen=True)
class RankedBelow:
    """The eligible candidates a round ranked below its offers ("not reached"), compactly: their
    entries in rank order and the engine's record (`boligmix.letting.ranking.NotReached`)."""

    entries: tuple[Applicant, ...]
    record: Any
    columns: tuple[list[Any], ...] | None = None
    """The entries' entry, applicant and household ids and their class numbers and seniority texts
    as the trail packs them (`trail._packed`), when the rules keep them (`store.kept_ranking`)."""


@dataclass(frozen=True)
class RoundPlan:
    channel: str
    decisions: tuple[CandidateDecision, ...]
    fulfilled_entitlements: tuple[int, ...] = ()
    """Applicant ids whose § 51 b entitlement (`ends = on_offer`) this round's offer used up."""
    not_reached: RankedBelow | None = None
    """Candidates ranked below the offers, when the rules record them compactly (after `decisions`
    in the trail); None: every candidate is in `decisions`."""

    @property
    def offered(self) -> tuple[CandidateDecision, ...]:
        return tuple(d for d in self.decisions if d.outcome == "offered" and d.entry is not None)


class OfferRules(Protocol):
    """What the store asks of letting rules: one round of offers among the given candidates."""

    name: str

    def plan(self, vacancy: Vacancy, dwelling: Dwelling, department: Department,
             candidates: Sequence[Applicant], count: int | None, now: datetime,
             entitlements: Sequence[Entitlement] = (),
             redirects: Sequence[RedirectedReferral] = ()) -> RoundPlan: ...
    """`entitlements`: the candidates' § 51 b entitlements with the dwelling's organisation;
    `redirects`: the open § 59 stk. 6 redirected referrals among the candidates (only passed to
    rules with `carries_redirects = True`)."""


class StoreOrderRules:
    """The plain list order (see the module docstring); `count` offers per round (default 1).

    Ranks are positions among the candidates considered in the page."""

    name = "store-order"
    page_size = 32
    """The list is read in pages of this size until the round has its offers."""
    lock_ahead = 16
    """The store plans this many offers beyond the round's and locks the first free ones in list
    order with one statement (the plan over fewer candidates is the same plan's head)."""

    def plan(self, vacancy: Vacancy, dwelling: Dwelling, department: Department,
             candidates: Sequence[Applicant], count: int | None, now: datetime,
             entitlements: Sequence[Entitlement] = (),
             redirects: Sequence[RedirectedReferral] = ()) -> RoundPlan:
        return plan_round(vacancy, dwelling, department, candidates, count or 1)


def candidate_lists(vacancy: Vacancy, department: Department) -> tuple[str, tuple[str, ...]]:
    """The list owner and list types a vacancy's candidates come from."""
    if vacancy.channel in MUNICIPAL_CHANNEL_LISTS:
        return f"kommune:{department.municipality_code}", (MUNICIPAL_CHANNEL_LISTS[vacancy.channel],)
    if vacancy.channel == "annoncering":
        return department.org_id, ("advert_response",)
    return department.org_id, ("internal", "external")


def queue_key(entry: Applicant) -> tuple[int, int, int, Any, int]:
    """List order: internal before external; on a municipality's lists its own `referral_order`
    first (NULL after the ordered entries); then seniority and registration."""
    order = getattr(entry, "referral_order", None)
    return (LIST_ORDER.get(entry.list_type, 9), order is None, order or 0, entry.seniority_date, entry.entry_id)


def plan_round(vacancy: Vacancy, dwelling: Dwelling, department: Department,
               candidates: Sequence[Applicant], count: int, *, first_rank: int = 1) -> RoundPlan:
    """Decide the next `count` offers among `candidates` (active entries without an open offer), in
    list order; `first_rank` is the rank of the first candidate (when the list is read page by page)."""
    decisions: list[CandidateDecision] = []
    offered = 0
    for rank, entry in enumerate(sorted(candidates, key=queue_key), start=first_rank):
        if offered >= count:
            break
        facts = {"list_type": entry.list_type, "seniority_date": entry.seniority_date.isoformat(),
                 "min_rooms": entry.min_rooms, "max_rent_dkk": entry.max_rent_dkk,
                 "dwelling_rooms": dwelling.rooms, "dwelling_rent_dkk": dwelling.monthly_rent_dkk}
        if dwelling.rooms < entry.min_rooms:
            decisions.append(CandidateDecision(entry, "skipped", f"{RULE_ID}#rooms", RULE_VERSION,
                                               "the dwelling has fewer rooms than the applicant wants",
                                               facts, rank))
        elif entry.max_rent_dkk is not None and dwelling.monthly_rent_dkk > entry.max_rent_dkk:
            decisions.append(CandidateDecision(entry, "skipped", f"{RULE_ID}#rent", RULE_VERSION,
                                               "the rent is above the applicant's maximum", facts, rank))
        else:
            offered += 1
            decisions.append(CandidateDecision(entry, "offered", f"{RULE_ID}#order", RULE_VERSION,
                                               "first in the list order among fitting applicants",
                                               facts, rank))
    return RoundPlan(vacancy.channel, tuple(decisions))


_DEFAULT_RULES: list[OfferRules] = []


def default_offer_rules() -> OfferRules:
    """The statutory engine rules (the packaged statutory policies), loaded once per process: the
    store's rules for offer rounds and answers unless a caller names others."""
    if not _DEFAULT_RULES:
        from boligmix.letting.store.engine_rules import EngineRules

        _DEFAULT_RULES.append(EngineRules())
    return _DEFAULT_RULES[0]
