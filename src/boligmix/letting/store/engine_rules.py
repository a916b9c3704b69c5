"""The letting engine's rules for the store: store rows -> engine model -> one stateless offer round.

`EngineRules(policies).plan(...)` converts the vacancy, dwelling, department and candidate
entries to `boligmix.letting.model` objects, calls `boligmix.letting.engine.plan_offers` with the
vacancy's channel, and maps the round's offers and decisions back to store entries. The number of
offers is the waiting-list policy's `offers_per_round`.

An applicant's household is stored as JSON (`applicants.household`):

    {"members": [{"person_id": 1, "role": "applicant", "birth_date": "1985-03-01",
                  "cohabiting_since": null,
                  "benefits": {"known_from": "2020-01-01", "known_to": "2024-06-01",
                               "spells": [{"benefit": "kontanthjaelp", "first_month": "2023-01-01",
                                           "last_month": "2024-05-01"}]},
                  "facts": {"eu_eea_ch_citizen": true}}]}

Missing members mean the applicant plus `household_size - 1` other members, all facts unknown
(the engine treats unknown facts as UNKNOWN, never as a pass).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from operator import attrgetter
from typing import Any

from boligmix.letting import bodies
from boligmix.letting import model as m
from boligmix.letting.ledger import Entitlement as LedgerEntitlement
from boligmix.letting.store.candidates import CandidateEntry
from boligmix.letting.store.errors import InvalidRequestError
from boligmix.letting.store.models import Applicant, Department, Dwelling, Entitlement, RedirectedReferral, Vacancy
from boligmix.letting.store import kept_ranking
from boligmix.letting.store.selection import CandidateDecision, RankedBelow, RoundPlan, candidate_lists

_ENTRY_ID = attrgetter("entry_id")
_ASSESSED_AID = attrgetter("applicant.applicant_id")
_KEPT_CHANNELS = frozenset({m.Channel.WAITING_LIST, m.Channel.FLEKSIBEL})
"""Channels whose rounds take the kept ranking (the organisation's own lists; `ranking.COMPACT_CHANNELS`)."""


def household_from_json(data: Mapping[str, Any], applicant_id: int, household_id: int | None,
                        size: int = 1) -> m.Household:
    """The engine's `Household` from the stored JSON (`boligmix.letting.bodies.household_from_json`);
    `InvalidRequestError` names the bad field."""
    return bodies.household_from_json(data, applicant_id, household_id, size, error=InvalidRequestError)


def engine_applicant(entry: Applicant) -> m.Applicant:
    """The engine's applicant of a store entry; built once per `CandidateEntry` (cached by the
    store's candidate reading under the row's version, `store.candidates`)."""
    if type(entry) is CandidateEntry:
        if entry.engine is None:
            entry.engine = bodies.engine_applicant(entry, error=InvalidRequestError)
        return entry.engine
    return bodies.engine_applicant(entry, error=InvalidRequestError)


def engine_vacancy(v: Vacancy, w: Dwelling, d: Department) -> m.Vacancy:
    """The engine's vacancy. A delebolig is let room by room: a room is a dwelling row with
    `shared_dwelling_id` (a `shared_dwellings` unit, since migration 0011) or, as before,
    `facts.shared = true`; the engine's `dwelling.shared` rules (size rule exemption, delebolig
    policy: one person per room) apply to it."""
    return m.Vacancy(str(v.vacancy_id), bodies.engine_dwelling(w, d), v.available_from)


@dataclass(frozen=True)
class RoundSettings:
    """What the store needs of the waiting-list policy that made an offer."""

    policy_id: str
    version: str
    law: str | None
    passive_after_refusals: int
    answer_days: int
    no_answer_counts_as_refusal: bool


@dataclass
class ShareState:
    """One share counter as the store keeps it (see `models.ShareCounter`)."""

    policy_id: str
    policy_version: str
    count_per: str
    scope_key: str
    seen: int = 0
    used: dict[str, int] = field(default_factory=dict)


class EngineRules:
    """Offer rounds by the letting engine's policies (`boligmix.letting.policy`)."""

    name = "engine"
    carries_redirects = True
    """The store hands the open § 59 stk. 6 redirected referrals to `plan` (see `store.follow_ups`)."""
    weighs_busy = True
    """When a waiting-list round would advertise the vacancy, the store plans it again with the entries
    it held back as busy (open offer elsewhere), for the annoncering switch `busy_applicants`."""

    lock_ahead = 1
    """The store locks the first free candidates of the engine's whole ranking at once (`ranking`)
    instead of re-planning the round after every race lost to a concurrent round."""

    compact_ranking = True
    """The candidates ranked below a round's offers are recorded compactly (`RoundPlan.not_reached`,
    `boligmix.letting.ranking`); False: one full decision each (as before; tests compare the two)."""

    @staticmethod
    def ranking(plan: RoundPlan) -> list[int]:
        """The entry ids of a plan's eligible candidates in rank order (offered and ranked below)."""
        ranked = [cd for cd in plan.decisions
                  if cd.entry is not None and cd.rank is not None and cd.outcome in ("offered", "skipped")
                  and cd.rule.endswith("#ranking")]
        head = [cd.entry.entry_id for cd in sorted(ranked, key=lambda cd: cd.rank or 0)]  # type: ignore[union-attr]
        below = plan.not_reached
        return head if below is None else head + list(map(_ENTRY_ID, below.entries))

    def __init__(self, policies: Any | None = None, *, keep_ranking: bool = True) -> None:
        """`keep_ranking`: a waiting-list or fleksibel round takes the candidates ranked in the
        worker's earlier rounds of the list and context (`store.kept_ranking`); False: the engine
        ranks every candidate every round (the same round; tests compare the two)."""
        self.keep_ranking = keep_ranking
        if policies is None:
            from boligmix.letting.policy import load_default_policies
            policies = load_default_policies(include_local_examples=False)
        self.policies = policies
        self._memo: dict[tuple[Any, ...], Any] = {}
        """The engine's rule verdicts, kept between rounds (`LettingEngine(memo=...)`): keyed by the
        rule and the values of the facts it reads, so never stale; bounded by the engine."""
        self._assessments: dict[tuple[Any, ...], Any] = {}
        """The engine's assessments, kept between rounds (`LettingEngine(assessments=...)`): keyed by
        the engine applicant object, which the store builds once per row version
        (`store.candidates`), so a changed row is a new key."""

    def round_rules(self, offer_rule: str, rule_version: str) -> RoundSettings | None:
        """The round settings of the waiting-list policy that made an offer (named by the offer's
        rule id `policy#rule` and version); None for offers made by other rules."""
        try:
            policy = self.policies.get(offer_rule.split("#", 1)[0], rule_version)
        except KeyError:  # an offer made by rules this server does not load (e.g. store order)
            return None
        if policy.spec.tool != "waiting_list" or policy.spec.round is None:
            return None
        r = policy.spec.round
        return RoundSettings(policy.id, policy.version, policy.spec.law, r.passive_after_refusals, r.answer_days,
                             bool(policy.switch("no_answer_counts_as_refusal")))

    def share_scopes(self, dwelling: Dwelling, department: Department, now: datetime) -> list[ShareState]:
        """The share counters the engine reads for a vacancy of this dwelling (empty, to be filled
        from the store): one per share policy in force, in the scope it counts per."""
        md = bodies.engine_dwelling(dwelling, department)  # (`engine_vacancy(...).dwelling`, no vacancy row built)
        out = []
        for policy in self.policies.in_force(md, now.date()):
            if policy.spec.shares:
                key = {"municipality": str(md.municipality_code), "organisation": md.org_id,
                       "department": md.department_id}[policy.spec.count_per]
                out.append(ShareState(policy.id, policy.version, policy.spec.count_per, key))
        return out

    def allocate_channel(self, dwelling: Dwelling, department: Department, available_from: date,
                         counters: Sequence[ShareState], now: datetime) -> tuple[str, CandidateDecision]:
        """The vacancy's channel by the engine's share rules from the stored `counters` (updated in
        place: `seen` + 1, `used` + 1 for a share channel that took the vacancy) and the engine's
        `channel` decision."""
        from boligmix.letting.engine import LettingEngine
        from boligmix.letting.ledger import LettingLedger, ShareCounter

        ledger = LettingLedger()
        for c in counters:
            ledger.counters[(c.policy_id, c.scope_key)] = ShareCounter(
                c.seen, {m.Channel(k): v for k, v in c.used.items()})
        engine = LettingEngine(self.policies, ledger)
        ev = m.Vacancy("0", bodies.engine_dwelling(dwelling, department), available_from)  # as `engine_vacancy`
        allocation = engine.allocate_channel(ev, now)
        for c in counters:
            state = ledger.counters[(c.policy_id, c.scope_key)]
            c.seen, c.used = state.seen, {k.value: v for k, v in state.used.items()}
        channel, dec = allocation.channel, allocation.decision
        return channel.value, CandidateDecision(
            entry=None, outcome=str(dec.outcome), rule=dec.rule_id or "dk.unknown",
            rule_version=dec.rule_version or "", reason=dec.reason, facts=dict(dec.facts), law=dec.law)

    def plan(self, vacancy: Vacancy, dwelling: Dwelling, department: Department, candidates: Sequence[Applicant],
             count: int | None, now: datetime, entitlements: Sequence[Entitlement] = (),
             redirects: Sequence[RedirectedReferral] = (), busy: Sequence[Applicant] = ()) -> RoundPlan:
        """One round with the engine's follow-ups (§ 51 b `entitled`, § 59 stk. 6 `redirected`).

        `busy`: waiting-list entries held back because they hold an open offer elsewhere; the
        engine's offentlig annoncering trigger counts the eligible ones (switch `busy_applicants`).

        The stored § 51 b entitlements go into the engine's ledger, so the engine gives their
        holders the `kombineret_udlejning_tilbud` priority right for dwellings of the organisation
        outside the area, does not grant them twice, and marks the ones an offer uses up. The
        stored redirected referrals (of candidates) go in too: the engine gives them the
        `redirected_referral` priority right at referral dwellings of the municipality and does
        not redirect them a second time."""
        from boligmix.letting.engine import LIST_TYPES_BY_CHANNEL, LettingContext, LettingEngine
        from boligmix.letting.ledger import LettingLedger
        from boligmix.letting.ledger import RedirectedReferral as LedgerRedirect

        # The engine knows an applicant by applicant_id: keep one entry per applicant (internal first).
        by_applicant: dict[int, Applicant] = {}
        for entry in candidates:
            by_applicant.setdefault(entry.applicant_id, entry)
        ledger = LettingLedger()
        for ent in entitlements:
            ledger.entitlements[ent.applicant_id] = LedgerEntitlement(
                ent.applicant_id, ent.org_id, ent.area_id, ent.policy_id, ent.policy_version,
                f"store:{ent.decision_id}", ent.ends,
                None if ent.fulfilled_by_offer_id is None else f"store:{ent.fulfilled_by_offer_id}")
        for red in redirects:
            entry = by_applicant.get(red.applicant_id)
            if entry is not None and entry.entry_id == red.entry_id:  # only candidates (else the engine adds them)
                ledger.redirected[red.applicant_id] = LedgerRedirect(
                    engine_applicant(entry), red.municipality_code, str(red.from_vacancy_id), red.bar_rule,
                    red.policy_version, f"store:{red.decision_id}")
        engine = LettingEngine(self.policies, ledger, follow_ups=True, memo=self._memo,
                               assessments=self._assessments, compact_ranking=self.compact_ranking)
        channel = m.Channel(vacancy.channel)
        ev = engine_vacancy(vacancy, dwelling, department)
        engine.ledger.vacancy_channel[ev.vacancy_id] = channel
        pre = kept = None
        pool: Sequence[Applicant] = list(by_applicant.values())
        if self.keep_ranking and channel in _KEPT_CHANNELS and not busy and not ledger.redirected \
                and set(map(type, pool)) <= {CandidateEntry}:  # entries of `store.candidates` (one per row version)
            owner, list_types = candidate_lists(vacancy, department)
            # the list copy the candidates are, when they are every one of its entries (one per applicant)
            source = getattr(candidates, "source", None) if len(pool) == len(candidates) else None
            got = kept_ranking.preranked(
                (owner, tuple(list_types)), engine, ev, channel, ev.dwelling.org_id, LIST_TYPES_BY_CHANNEL[channel],
                pool, engine_applicant, now, ledger.entitlements.keys(), source=source)
            if got is not None:
                pre, pool, kept = got
        try:  # the kept ranking is this round's until released
            applicants = [e.engine if type(e) is CandidateEntry and e.engine is not None else engine_applicant(e)
                          for e in pool]  # (`engine_applicant`, its cached case inline)
            context = LettingContext(busy=[engine_applicant(e) for e in busy])  # as `engine.plan_offers`
            if channel in (m.Channel.KOMMUNAL_ANVISNING, m.Channel.UDSLUSNING):
                context, applicants = LettingContext(referrals=applicants), []
            elif channel == m.Channel.REHOUSING:
                context, applicants = LettingContext(rehousing=applicants), []
            elif channel == m.Channel.ANNONCERING:
                context, applicants = LettingContext(advert_respondents=applicants), []
            round_ = engine.next_offers(ev, applicants, context, now, preranked=pre)
            fulfilled = tuple(sorted(aid for aid, e in ledger.entitlements.items()
                                     if e.fulfilled_by is not None and not e.fulfilled_by.startswith("store:")))
            offered = {o.applicant_id for o in round_.offers}
            out = []
            for dec in round_.decisions:
                entry = by_applicant.get(dec.applicant_id) if dec.applicant_id is not None else None
                outcome = str(dec.outcome)
                if outcome == "offered" and dec.applicant_id not in offered:  # pragma: no cover - engine invariant
                    outcome = "skipped"
                out.append(CandidateDecision(
                    entry=entry, outcome=outcome, rule=dec.rule_id or "dk.unknown", rule_version=dec.rule_version or "",
                    reason=dec.reason, facts=dec.facts, rank=dec.rank, law=dec.law,
                    unknown_facts=tuple(dec.unknown_facts), channel=dec.channel.value if dec.channel else None))
            below = None
            if round_.not_reached is not None:
                columns = kept_ranking.below_columns(kept.ranked, kept.columns, round_.not_reached.assessments) \
                    if kept is not None else None
                if columns is not None:  # the tail of the kept ranking: its columns (`kept_ranking`)
                    below = RankedBelow(tuple(columns[0]), round_.not_reached, columns[1:])
                else:
                    below = RankedBelow(tuple(map(by_applicant.__getitem__, map(
                        _ASSESSED_AID, round_.not_reached.assessments))), round_.not_reached)
            # (the engine may release a referral vacancy)
            return RoundPlan(round_.channel.value, tuple(out), fulfilled, below)
        finally:
            if kept is not None:
                kept_ranking.release(kept)
