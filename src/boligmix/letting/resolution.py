"""The letting engine's answers and their consequences (`OfferResolver`, mixed into
`LettingEngine`): accept, refuse, expire, withdraw and reactivate change the ledger; a round is
settled when every better-ranked offer than an acceptance is answered (the best-ranked acceptor
wins), a letting withdraws the winner's other offers, and every step is a `Decision` in the log.

Pure domain: no I/O. The engine provides `ledger`, `policies`, `id_prefix` and `_refusals`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from boligmix.errors import LettingError
from boligmix.letting.assessment import _json_safe
from boligmix.letting.ledger import LettingLedger, Reactivation
from boligmix.letting.model import (
    Applicant,
    Channel,
    Decision,
    Letting,
    ListType,
    Offer,
    OfferRound,
    OfferStatus,
    OfferUpdate,
    Outcome,
    Vacancy,
)
from boligmix.letting.policy import Policy, PolicySet
from boligmix.letting.ranking import REFERRAL_CHANNELS


class OfferResolver:
    """Answers to offers and the lettings they lead to, recorded in the engine's ledger."""

    ledger: LettingLedger
    policies: PolicySet
    id_prefix: str

    _refusals: Callable[[int, int], int]
    """Refusals that count towards passive status (`LettingEngine._refusals`)."""

    def reactivate(self, applicant_id: int, now: datetime) -> Decision:
        """The applicant asks to be active on the waiting list again after this engine set them
        passive (`Outcome.PASSIVE`). (An applicant handed in with `Applicant.passive` is the
        caller's to reactivate: hand it in with `passive=False`.)

        The waiting-list policy that set the applicant passive decides, with its switches
        `reactivation_resets_refusals` (default true: refusals count from zero again) and
        `reactivation_keeps_seniority` (default true, UNCONFIRMED: false = the seniority date
        becomes the reactivation date). Records a `reactivated` Decision on the vacancy where the
        applicant was set passive. Raises LettingError when the applicant is not passive here.
        """
        passive = next((d for d in reversed(self.ledger.decisions)
                        if d.applicant_id == applicant_id and d.outcome == Outcome.PASSIVE), None)
        if passive is None or applicant_id not in self.ledger.passive:
            raise LettingError(f"applicant {applicant_id} was not set passive by this engine; nothing to reactivate")
        if passive.rule_id is None or passive.rule_version is None:  # a real check (not stripped by python -O)
            raise LettingError(f"the passive decision {passive.decision_id} names no rule and version")
        policy = self.policies.get(passive.rule_id.split("#", 1)[0], passive.rule_version)
        resets = bool(policy.switch("reactivation_resets_refusals"))
        keeps = bool(policy.switch("reactivation_keeps_seniority"))
        before = self._refusals(applicant_id, self.ledger.base_refusals.get(applicant_id, 0))
        offset = self.ledger.reactivations[applicant_id].refusal_offset if applicant_id in self.ledger.reactivations \
            else 0
        self.ledger.passive.discard(applicant_id)
        self.ledger.reactivations[applicant_id] = Reactivation(
            now, None if keeps else now.date(), offset + before if resets else offset)
        vacancy = self.ledger.vacancies[passive.vacancy_id]
        return self._decision(
            now, Outcome.REACTIVATED, vacancy, channel=passive.channel, round_id=passive.round_id,
            applicant_id=applicant_id, household_id=passive.household_id,
            rule_id=f"{policy.id}#reactivation", rule_version=policy.version, law=policy.spec.law,
            reason="active on the waiting list again at the applicant's request"
                   + ("; refusals count from zero" if resets else f"; {before} refusals still count")
                   + ("; seniority kept" if keeps else f"; seniority from {now.date().isoformat()}"),
            facts={"passive_decision": passive.decision_id, "refusals_before": before,
                   "reactivation_resets_refusals": resets, "reactivation_keeps_seniority": keeps,
                   "seniority_date": None if keeps else now.date().isoformat()})

    def withdraw(self, applicant_id: int, now: datetime, reason: str | None = None) -> OfferUpdate:
        """The applicant withdraws the application and leaves the list(s) (rules-spec 6: waiting
        lists). Their open (and accepted, not yet let) offers are withdrawn with a `withdrawn`
        Decision each (rule `<round policy>#withdrawal`), and the rounds concerned are settled again,
        so a lower-ranked acceptor may now get the dwelling. Later rounds skip the applicant with a
        recorded reason. Idempotent: a second withdrawal changes nothing and returns an empty update.
        Raises LettingError when the applicant was housed by this engine (nothing to withdraw from).
        """
        if applicant_id in self.ledger.housed:
            raise LettingError(f"applicant {applicant_id} was let a dwelling (letting "
                               f"{self.ledger.housed[applicant_id]}); there is no application to withdraw")
        if applicant_id in self.ledger.withdrawn:
            return OfferUpdate((), ())
        self.ledger.withdrawn[applicant_id] = now
        why = reason or "the applicant withdrew the application"
        changed: list[Offer] = []
        decisions: list[Decision] = []
        rounds: list[str] = []
        for offer in sorted(self.ledger.offers.values(), key=lambda o: o.offer_id):
            if offer.applicant_id != applicant_id or offer.status not in (OfferStatus.OPEN, OfferStatus.ACCEPTED):
                continue
            withdrawn = self._set_status(offer, OfferStatus.WITHDRAWN)
            changed.append(withdrawn)
            rules = self.ledger.round_rules[offer.round_id]
            decisions.append(self._decision(
                now, Outcome.WITHDRAWN, self.ledger.vacancies[offer.vacancy_id], channel=offer.channel,
                round_id=offer.round_id, applicant_id=applicant_id, household_id=offer.household_id,
                rule_id=f"{rules.policy_id}#withdrawal", rule_version=rules.version, law=rules.law,
                rank=offer.rank, offer_id=offer.offer_id,
                reason=f"offer withdrawn: {why} (left the list on {now.date().isoformat()})",
                facts={"withdrawn_by_applicant": True, "withdrawn_at": now, "offer_status_before": offer.status,
                       "rank": offer.rank}))
            if offer.round_id not in rounds:
                rounds.append(offer.round_id)
        more_offers, more, lettings = self._resolve_rounds(rounds, now)
        return OfferUpdate(tuple(changed + more_offers), tuple(decisions + more), tuple(lettings))

    def accept(self, offer_id: str, now: datetime) -> OfferUpdate:
        """The applicant accepts. The dwelling is let to the best-ranked acceptor once every
        better-ranked offer of the round is refused or expired."""
        offer = self._offer(offer_id)
        if offer.status != OfferStatus.OPEN:
            raise LettingError(f"offer {offer_id} is {offer.status.value}, not open")
        if now > offer.deadline:
            raise LettingError(f"offer {offer_id}: the answer deadline {offer.deadline.isoformat()} has passed")
        vacancy = self.ledger.vacancies[offer.vacancy_id]
        accepted = self._set_status(offer, OfferStatus.ACCEPTED)
        decisions = [self._offer_decision(now, Outcome.ACCEPTED, vacancy, accepted,
                                          f"accepted the offer (rank {offer.rank})")]
        changed, more, lettings = self._resolve(offer.round_id, now)
        return OfferUpdate((accepted, *changed), tuple(decisions + more), tuple(lettings))

    def refuse(self, offer_id: str, now: datetime) -> OfferUpdate:
        """The applicant refuses; may make them passive and may let the dwelling to a lower-ranked
        acceptor."""
        offer = self._offer(offer_id)
        if offer.status != OfferStatus.OPEN:
            raise LettingError(f"offer {offer_id} is {offer.status.value}, not open")
        vacancy = self.ledger.vacancies[offer.vacancy_id]
        refused = self._set_status(offer, OfferStatus.REFUSED)
        decisions = [self._offer_decision(now, Outcome.REFUSED, vacancy, refused, "refused the offer")]
        decisions += self._count_refusal(refused, vacancy, now)
        changed, more, lettings = self._resolve(offer.round_id, now)
        return OfferUpdate((refused, *changed), tuple(decisions + more), tuple(lettings))

    def expire(self, now: datetime) -> OfferUpdate:
        """End every open offer whose deadline is before `now` and settle the rounds affected."""
        changed: list[Offer] = []
        decisions: list[Decision] = []
        rounds: list[str] = []
        for offer in sorted(self.ledger.offers.values(), key=lambda o: (o.round_id, o.rank)):
            if offer.status == OfferStatus.OPEN and offer.deadline < now:
                vacancy = self.ledger.vacancies[offer.vacancy_id]
                expired = self._set_status(offer, OfferStatus.EXPIRED)
                changed.append(expired)
                decisions.append(self._offer_decision(now, Outcome.EXPIRED, vacancy, expired,
                                                      f"no answer by {offer.deadline.isoformat()}"))
                if self.ledger.round_rules[offer.round_id].no_answer_counts_as_refusal:
                    decisions += self._count_refusal(expired, vacancy, now)
                if offer.round_id not in rounds:
                    rounds.append(offer.round_id)
        more_offers, more, lettings = self._resolve_rounds(rounds, now)
        return OfferUpdate(tuple(changed + more_offers), tuple(decisions + more), tuple(lettings))

    def _offer(self, offer_id: str) -> Offer:
        try:
            return self.ledger.offers[offer_id]
        except KeyError:
            raise LettingError(f"unknown offer {offer_id}") from None

    def _set_status(self, offer: Offer, status: OfferStatus) -> Offer:
        updated = replace(offer, status=status)
        self.ledger.offers[offer.offer_id] = updated
        return updated

    def _count_refusal(self, offer: Offer, vacancy: Vacancy, now: datetime) -> list[Decision]:
        if offer.channel in REFERRAL_CHANNELS:
            return []
        rules = self.ledger.round_rules[offer.round_id]
        aid = offer.applicant_id
        self.ledger.refusals[aid] = self.ledger.refusals.get(aid, 0) + 1
        total = self._refusals(aid, self.ledger.base_refusals.get(aid, 0))
        if total >= rules.passive_after_refusals and aid not in self.ledger.passive:
            self.ledger.passive.add(aid)
            return [self._decision(now, Outcome.PASSIVE, vacancy, channel=offer.channel, round_id=offer.round_id,
                                   applicant_id=aid, household_id=offer.household_id,
                                   rule_id=f"{rules.policy_id}#passive_after_refusals", rule_version=rules.version,
                                   law=rules.law, offer_id=offer.offer_id,
                                   reason=f"set passive after {total} refusals (limit {rules.passive_after_refusals})",
                                   facts={"refusals": total, "passive_after_refusals": rules.passive_after_refusals})]
        return []

    def _resolve_rounds(self, round_ids: Sequence[str], now: datetime
                        ) -> tuple[list[Offer], list[Decision], list[Letting]]:
        """`_resolve` each of `round_ids` in turn (the rounds a withdrawal or expiry touched)."""
        changed: list[Offer] = []
        decisions: list[Decision] = []
        lettings: list[Letting] = []
        for round_id in round_ids:
            more_changed, more_decisions, more_lettings = self._resolve(round_id, now)
            changed += more_changed
            decisions += more_decisions
            lettings += more_lettings
        return changed, decisions, lettings

    def _resolve(self, round_id: str, now: datetime) -> tuple[list[Offer], list[Decision], list[Letting]]:
        """Settle a round and every round a resulting letting touches (the winner's other offers
        are withdrawn, which may clear the way for an acceptor elsewhere)."""
        queue = [round_id]
        changed: list[Offer] = []
        decisions: list[Decision] = []
        lettings: list[Letting] = []
        while queue:
            current = queue.pop(0)
            more_changed, more_decisions, more_lettings, touched = self._resolve_one(current, now)
            changed += more_changed
            decisions += more_decisions
            lettings += more_lettings
            queue += [r for r in touched if r not in queue]
        return changed, decisions, lettings

    def _resolve_one(self, round_id: str, now: datetime
                     ) -> tuple[list[Offer], list[Decision], list[Letting], list[str]]:
        offers = self.ledger.round_offers(round_id)
        vacancy = self.ledger.vacancies[self.ledger.rounds[round_id].vacancy_id]
        winner = None
        if self.ledger.is_let(vacancy):
            return [], [], [], []
        for offer in offers:
            if offer.status == OfferStatus.OPEN:
                return [], [], [], []
            if offer.status == OfferStatus.ACCEPTED:
                winner = offer
                break
        if winner is None:
            return [], [], [], []
        rules = self.ledger.round_rules[round_id]
        channel = winner.channel
        applicant_list = self.ledger.rounds[round_id]
        won = self._set_status(winner, OfferStatus.WON)
        letting = Letting(self.ledger.next_letting_id, vacancy.vacancy_id, vacancy.dwelling.dwelling_id, vacancy.unit,
                          winner.applicant_id, winner.household_id, self._letting_channel(winner, applicant_list),
                          max(vacancy.available_from, now.date()), now, round_id)
        self.ledger.record_letting(letting)
        self.ledger.next_letting_id += 1
        changed = [won]
        decisions = [self._decision(now, Outcome.LET, vacancy, channel=channel, round_id=round_id,
                                    applicant_id=winner.applicant_id, household_id=winner.household_id,
                                    rule_id=f"{rules.policy_id}#ranking", rule_version=rules.version, law=rules.law,
                                    rank=winner.rank, offer_id=winner.offer_id,
                                    reason=f"let: best-ranked acceptor (rank {winner.rank}); every better-ranked "
                                           f"offer was refused or expired",
                                    facts={"letting_id": letting.letting_id, "lease_start": letting.lease_start.isoformat(),
                                           "letting_channel": letting.channel.value})]
        for rid in self.ledger.vacancy_rounds[vacancy.vacancy_id]:
            for offer in self.ledger.round_offers(rid):
                if offer.status in (OfferStatus.OPEN, OfferStatus.ACCEPTED):
                    withdrawn = self._set_status(offer, OfferStatus.WITHDRAWN)
                    changed.append(withdrawn)
                    decisions.append(self._offer_decision(
                        now, Outcome.WITHDRAWN, vacancy, withdrawn,
                        f"offer withdrawn: the dwelling was let to applicant {winner.applicant_id} "
                        f"(rank {winner.rank})"))
        self.ledger.housed[winner.applicant_id] = letting.letting_id
        touched: list[str] = []
        for offer in sorted(self.ledger.offers.values(), key=lambda o: o.offer_id):
            if offer.applicant_id == winner.applicant_id and offer.vacancy_id != vacancy.vacancy_id \
                    and offer.status in (OfferStatus.OPEN, OfferStatus.ACCEPTED):
                withdrawn = self._set_status(offer, OfferStatus.WITHDRAWN)
                changed.append(withdrawn)
                decisions.append(self._offer_decision(
                    now, Outcome.WITHDRAWN, self.ledger.vacancies[offer.vacancy_id], withdrawn,
                    f"offer withdrawn: the applicant was let dwelling {vacancy.dwelling.dwelling_id} "
                    f"(letting {letting.letting_id})"))
                if offer.round_id not in touched:
                    touched.append(offer.round_id)
        return changed, decisions, [letting], touched

    def _letting_channel(self, winner: Offer, round_: OfferRound) -> Channel:
        if winner.channel != Channel.WAITING_LIST:
            return winner.channel
        list_type = next((d.facts.get("list_type") for d in round_.decisions
                          if d.applicant_id == winner.applicant_id and d.outcome == Outcome.OFFERED
                          and d.facts.get("list_type") == ListType.INTERNAL.value), None)
        return letting_channel(winner.channel, list_type)

    def _offer_decision(self, now: datetime, outcome: Outcome, vacancy: Vacancy, offer: Offer, reason: str
                        ) -> Decision:
        rules = self.ledger.round_rules[offer.round_id]
        return self._decision(now, outcome, vacancy, channel=offer.channel, round_id=offer.round_id,
                              applicant_id=offer.applicant_id, household_id=offer.household_id,
                              rule_id=f"{rules.policy_id}#offer_round", rule_version=rules.version, law=rules.law,
                              rank=offer.rank, offer_id=offer.offer_id, reason=reason,
                              facts={"deadline": offer.deadline.isoformat(), "rank": offer.rank})

    def _decision(self, now: datetime, outcome: Outcome, vacancy: Vacancy, *, channel: Channel | None,
                  round_id: str | None, reason: str, applicant: Applicant | None = None,
                  applicant_id: int | None = None, household_id: int | None = None, policy: Policy | None = None,
                  rule_id: str | None = None, rule_version: str | None = None, law: str | None = None,
                  facts: Mapping[str, Any] | None = None, unknown: Sequence[str] = (), rank: int | None = None,
                  offer_id: str | None = None, safe: bool = False) -> Decision:
        """Append a decision to the log. `safe`: the caller's facts are JSON-safe already (an
        assessment's, `_json_safe` applied when they were made), so they are only copied."""
        if applicant is not None:
            applicant_id, household_id = applicant.applicant_id, applicant.household_id
            facts = {"list_type": applicant.list_type.value, **(facts or {})}
        if policy is not None:
            rule_id = rule_id or policy.id
            rule_version = rule_version or policy.version
            law = law or policy.spec.law
        seq = self.ledger.next_sequence
        self.ledger.next_sequence += 1
        decision = Decision(
            decision_id=f"{self.id_prefix}d{seq}", sequence=seq, decided_at=now, outcome=outcome,
            vacancy_id=vacancy.vacancy_id, dwelling_id=vacancy.dwelling.dwelling_id, unit=vacancy.unit,
            channel=channel, round_id=round_id, applicant_id=applicant_id, household_id=household_id,
            rule_id=rule_id, rule_version=rule_version, law=law, reason=reason,
            facts=dict(facts or {}) if safe else _json_safe(dict(facts or {})), unknown_facts=tuple(unknown),
            rank=rank, offer_id=offer_id)
        self.ledger.decisions.append(decision)
        return decision


def letting_channel(channel: Channel, list_type: str | None) -> Channel:
    """The channel a letting records: a waiting-list letting to an applicant on the internal list
    (`list_type`, the `ListType` value) is an internal letting; every other keeps its round's channel."""
    return Channel.INTERNAL if channel == Channel.WAITING_LIST and list_type == ListType.INTERNAL.value else channel
