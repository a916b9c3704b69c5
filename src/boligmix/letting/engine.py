"""The letting engine: which channel a vacancy goes to, who is offered it, who accepts, who
gets it, with a Decision record for every applicant considered.

    engine = LettingEngine(load_default_policies())
    round_ = engine.next_offers(vacancy, applicants, LettingContext(referrals=...), now)
    engine.accept(round_.offers[0].offer_id, now)      # -> OfferUpdate (letting when decided)
    engine.refuse(offer_id, now); engine.expire(now)
    engine.withdraw(applicant_id, now)                  # the applicant leaves the list

Pure domain: no I/O. The state lives in a `LettingLedger` the engine owns (pass one in to
continue from stored state). See `docs/letting.md` for the rules of the game.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from boligmix.errors import ConfigurationError, DataValidationError, LettingError
from boligmix.letting.assessment import (
    Assessment,
    RuleAssessor,
    RuleHit,
    _json_safe,
    policy_facts,
)
from boligmix.letting.lottery import LOTTERY_LAW, draw_seed, lot, lottery_order
from boligmix.letting.ledger import (
    Entitlement,
    LettingLedger,
    Reactivation,
    RedirectedReferral,
    RoundRules,
    ShareCounter,
)
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
from boligmix.letting.policy import TOOL_SWITCHES, Policy, PolicySet
from boligmix.letting.ranking import COMPACT_CHANNELS, REFERRAL_CHANNELS, NotReached, rank_sorter, referral_order_key

if TYPE_CHECKING:
    from boligmix.letting.exchange import TransferAssessment, TransferRequest
    from boligmix.letting.explain import Explanation

CHANNEL_PRECEDENCE: tuple[Channel, ...] = (Channel.REHOUSING, Channel.KOMMUNAL_ANVISNING, Channel.FLEKSIBEL)
"""When several share channels are due for the same vacancy, the first of these takes it; the
others stay due and take a later vacancy."""


RELEASABLE_CHANNELS = frozenset({Channel.KOMMUNAL_ANVISNING, Channel.REHOUSING})
"""Referral channels whose unused vacancy goes to the waiting list (switch `unused_referral`); an
udslusningsbolig stays with the municipality, which pays the rent meanwhile (§ 63, stk. 4)."""

ENTITLEMENT_RIGHT = "kombineret_udlejning_tilbud"
"""The priority right (`Applicant.priority_rights`) that carries a § 51 b entitlement to an offer
outside the kombineret udlejning area; read by the waiting-list policy's priority rule."""

SCHEME_CATEGORY = "kombineret_udlejning"

REDIRECT_RIGHT = "redirected_referral"
"""The priority right (`Applicant.priority_rights`) of a § 59 stk. 6/7 referral (or rehousing
household) the engine recorded as redirected, at the municipality's later dwellings of the same
channel; read by the policy
`dk.almenboligloven.59.redirect` (`statutory/anvisning_redirect.yaml`), which ranks it first."""

LIST_TYPES_BY_CHANNEL: dict[Channel, frozenset[ListType]] = {
    Channel.WAITING_LIST: frozenset({ListType.EXTERNAL, ListType.INTERNAL}),
    Channel.FLEKSIBEL: frozenset({ListType.EXTERNAL, ListType.INTERNAL}),
    Channel.KOMMUNAL_ANVISNING: frozenset({ListType.MUNICIPAL_REFERRAL}),
    Channel.REHOUSING: frozenset({ListType.REHOUSING}),
    Channel.ANNONCERING: frozenset({ListType.ADVERT_RESPONSE}),
    Channel.UDSLUSNING: frozenset({ListType.MUNICIPAL_REFERRAL}),
}


@dataclass(frozen=True)
class LettingContext:
    """Candidates that are not on the organisation's waiting lists, for one vacancy: the
    municipality's referrals (in its order), rehousing households, advert responses."""

    referrals: Sequence[Applicant] = ()
    rehousing: Sequence[Applicant] = ()
    advert_respondents: Sequence[Applicant] = ()
    busy: Sequence[Applicant] = ()
    """Waiting-list applicants the caller held back from this round because they hold an open offer
    elsewhere; read only by the offentlig annoncering trigger (switch `busy_applicants`)."""


@dataclass(frozen=True)
class ChannelAllocation:
    """The channel a vacancy goes to by the share rules, and the `channel` Decision recording why
    (rule `<policy>#shares.<channel>` with the share and counts, or `<waiting list>#default_channel`)."""

    channel: Channel
    decision: Decision


class LettingEngine(RuleAssessor):
    """Offer rounds and lettings under a `PolicySet`, recorded in a `LettingLedger`; how the rules see
    one applicant is `RuleAssessor`'s (`boligmix.letting.assessment`)."""

    def __init__(self, policies: PolicySet, ledger: LettingLedger | None = None, *, id_prefix: str = "",
                 follow_ups: bool = True, lottery_rng: Any | None = None,
                 memo: dict[tuple[Any, ...], Any] | None = None,
                 assessments: dict[tuple[Any, ...], Any] | None = None, compact_ranking: bool = False) -> None:
        """`follow_ups` records the consequences of some rejections: § 51 b entitlements
        (`Outcome.ENTITLED`) and § 59 stk. 6 redirected referrals (`Outcome.REDIRECTED`).
        `lottery_rng` (a seeded `random.Random` or numpy `Generator`) gives the seeds of the lots
        drawn among advert respondents (`boligmix.letting.lottery`); None: seeds derived from the
        round id. `compact_ranking`: a waiting-list or fleksibel round records its eligible candidates
        ranked below the offers as one `OfferRound.not_reached` (`boligmix.letting.ranking`) instead of
        one `skipped` Decision each (the letting store's rounds)."""
        self.policies = policies
        self.compact_ranking = compact_ranking
        self.ledger = ledger if ledger is not None else LettingLedger()
        self.id_prefix = id_prefix
        self.follow_ups = follow_ups
        self.lottery_rng = lottery_rng
        self._memo: dict[tuple[Any, ...], Any] = {} if memo is None else memo
        """Rule verdicts by rule and the values of the facts it reads (`_truth`, `_hit`): a rule's
        truth and the facts it records depend on nothing else, so candidates alike in those facts
        share one evaluation (a round over a long list evaluates each distinct case once). `memo`
        shares one between engines over the same `policies` object (keys hold the ids of its rules
        and policies, so the owner of `memo` must keep `policies` alive), e.g. a store's rounds."""
        self._assessments = assessments
        self._assess_context: tuple[Any, ...] = (None, None, None, None, None)
        """The dwelling, policies, channel and date of the last `_assess` and the memo's table of
        assessments for them (`assessment._assessment_table`), so a round looks the table up once."""
        """Assessments kept between rounds (`_assess`), e.g. by a store whose engine applicants are
        the same objects while their rows are unchanged; None: every assessment is made anew."""

    # ------------------------------------------------------------------------------------------
    # Public API

    @property
    def decisions(self) -> list[Decision]:
        """The decision log, oldest first."""
        return self.ledger.decisions

    @property
    def lettings(self) -> list[Letting]:
        return sorted(self.ledger.lettings.values(), key=lambda l: l.letting_id)

    def entitlements(self, *, open_only: bool = True) -> list[Entitlement]:
        """§ 51 b entitlements to an offer elsewhere (by default those not used up)."""
        return [e for e in self.ledger.entitlements.values()
                if not open_only or (e.fulfilled_by is None and e.applicant_id not in self.ledger.housed)]

    def redirected_referrals(self, municipality_code: int | None = None) -> list[RedirectedReferral]:
        """§ 59 stk. 6 referrals barred from a restricted area and not housed yet."""
        return [r for r in self.ledger.redirected.values()
                if r.applicant.applicant_id not in self.ledger.housed
                and (municipality_code is None or r.municipality_code == municipality_code)]

    def allocate_channel(self, vacancy: Vacancy, now: datetime) -> ChannelAllocation:
        """Which channel `vacancy` goes to by the share policies in force on `now` (kommunal
        anvisning 1/4 or the agreed share, rehousing up to 1/3, fleksibel): counts the vacancy in
        the ledger's share counters (`ledger.counters`, one per share policy and the scope it
        counts per), records the `channel` Decision and remembers the channel for the vacancy.

        A channel with share s is due when it has taken fewer than floor(s x vacancies seen) of its
        scope's vacancies; the first due channel in `CHANNEL_PRECEDENCE` takes the vacancy,
        otherwise the waiting list does. `next_offers` calls this for a vacancy's first round; a
        store that keeps its own counters fills `ledger.counters` first and reads them back after.
        Raises LettingError when the vacancy already has a channel; on error the ledger is unchanged.
        """
        if vacancy.vacancy_id in self.ledger.vacancy_channel:
            raise LettingError(f"vacancy {vacancy.vacancy_id} already has the channel "
                               f"{self.ledger.vacancy_channel[vacancy.vacancy_id].value}")
        checkpoint = self.ledger.checkpoint()
        try:
            decisions: list[Decision] = []
            channel = self._allocate_channel(vacancy, self.policies.in_force(vacancy.dwelling, now.date()), now,
                                             f"{self.id_prefix}{vacancy.vacancy_id}/channel", decisions)
        except BaseException:
            self.ledger.rollback(checkpoint)
            raise
        self.ledger.vacancy_channel[vacancy.vacancy_id] = channel
        return ChannelAllocation(channel, decisions[0])

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
        assert passive.rule_id is not None and passive.rule_version is not None
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

    def next_offers(self, vacancy: Vacancy, applicants: Sequence[Applicant],
                    context: LettingContext | None = None, now: datetime | None = None) -> OfferRound:
        """Make the next offer round for `vacancy` from `applicants` (the organisation's waiting
        lists) and `context` (referrals, rehousing, advert responses).

        Raises LettingError if the vacancy is let already or still has open offers (call
        `expire(now)` first when deadlines have passed).
        """
        if now is None:
            raise LettingError("next_offers needs the current time 'now'")
        context = context or LettingContext()
        ledger = self.ledger
        if ledger.is_let(vacancy):
            raise LettingError(f"vacancy {vacancy.vacancy_id}: dwelling {vacancy.dwelling.dwelling_id} is already let")
        pending = ledger.open_offers(vacancy.vacancy_id)
        if pending:
            raise LettingError(f"vacancy {vacancy.vacancy_id} still has {len(pending)} open offer(s) "
                               f"(round {pending[0].round_id}); wait for answers or call expire()")
        known = ledger.vacancies.get(vacancy.vacancy_id)
        if known is not None and known != vacancy:
            raise LettingError(f"vacancy id {vacancy.vacancy_id} was used for a different vacancy")
        checkpoint = ledger.checkpoint()
        try:
            return self._next_offers(vacancy, applicants, context, now)
        except BaseException:
            ledger.rollback(checkpoint)  # a failed round leaves no trace
            raise

    def _next_offers(self, vacancy: Vacancy, applicants: Sequence[Applicant], context: LettingContext,
                     now: datetime) -> OfferRound:
        ledger = self.ledger
        ledger.vacancies[vacancy.vacancy_id] = vacancy
        on = now.date()
        in_force = self.policies.in_force(vacancy.dwelling, on)
        waiting = self._waiting_list_policy(vacancy, in_force, on)
        number = len(ledger.vacancy_rounds.get(vacancy.vacancy_id, ())) + 1
        round_id = f"{self.id_prefix}{vacancy.vacancy_id}/r{number}"
        decisions: list[Decision] = []

        channel = ledger.vacancy_channel.get(vacancy.vacancy_id)
        if channel is None:
            channel = self._allocate_channel(vacancy, in_force, now, round_id, decisions)
            ledger.vacancy_channel[vacancy.vacancy_id] = channel

        ranked, other_decisions = self._candidates(vacancy, channel, applicants, context, in_force, now, round_id)
        decisions.extend(other_decisions)
        if not ranked and channel in RELEASABLE_CHANNELS:
            anvisning = next((p for p in in_force if p.spec.tool == "kommunal_anvisning"), None)
            if anvisning is not None and anvisning.switch("unused_referral") == "release_to_waiting_list":
                decisions.append(self._decision(
                    now, Outcome.CHANNEL, vacancy, channel=Channel.WAITING_LIST, round_id=round_id,
                    policy=anvisning, rule_id=f"{anvisning.id}#unused_referral",
                    reason=f"no eligible {channel.value} candidate; released to the waiting list "
                           f"(switch unused_referral=release_to_waiting_list)",
                    facts={"candidates": len(context.referrals if channel == Channel.KOMMUNAL_ANVISNING
                                              else context.rehousing)}))
                channel = Channel.WAITING_LIST
                ledger.vacancy_channel[vacancy.vacancy_id] = channel
                ranked, other_decisions = self._candidates(vacancy, channel, applicants, context, in_force,
                                                           now, round_id)
                decisions.extend(other_decisions)
        if not ranked and channel in (Channel.WAITING_LIST, Channel.FLEKSIBEL):
            advert = next((p for p in in_force if p.spec.tool == "offentlig_annoncering"), None)
            busy_mode = advert.switch("busy_applicants") if advert is not None else None
            busy = self._eligible_busy(vacancy, channel, context.busy, in_force, on) if busy_mode == "wait" else 0
            if advert is not None and advert.switch("trigger") == "list_exhausted" and busy:
                decisions.append(self._decision(
                    now, Outcome.CHANNEL, vacancy, channel=channel, round_id=round_id, policy=advert,
                    rule_id=f"{advert.id}#busy_applicants",
                    reason=f"not advertised: {busy} eligible applicant(s) on the waiting list hold an open offer "
                           f"elsewhere and may still take this dwelling (switch busy_applicants=wait)",
                    facts={"busy_applicants": busy_mode, "busy_considered": len(context.busy),
                           "busy_eligible": busy}))
            elif advert is not None and advert.switch("trigger") == "list_exhausted":
                decisions.append(self._decision(
                    now, Outcome.CHANNEL, vacancy, channel=Channel.ANNONCERING, round_id=round_id,
                    policy=advert, rule_id=f"{advert.id}#trigger", law=f"{advert.spec.law}; almenboligloven § 51, stk. 5",
                    reason="the waiting list gave no eligible applicant (letting outside the list, § 51, stk. 5); "
                           "the dwelling is advertised under the § 60 a agreement",
                    facts={"advert_respondents": len(context.advert_respondents), "busy_applicants": busy_mode,
                           "busy_considered": len(context.busy), "busy_eligible": busy}))
                channel = Channel.ANNONCERING
                ledger.vacancy_channel[vacancy.vacancy_id] = channel
                ranked, other_decisions = self._candidates(vacancy, channel, applicants, context, in_force,
                                                           now, round_id)
                decisions.extend(other_decisions)

        lottery_seed = None
        if channel == Channel.ANNONCERING and ranked:
            ranked, lottery_seed = self._draw_lots(ranked, in_force, round_id)
        assert waiting.spec.round is not None
        size = waiting.spec.round.offers_per_round
        deadline = now + timedelta(days=waiting.spec.round.answer_days)
        offers: list[Offer] = []
        # An assessment's facts are JSON-safe as made (`_new_hit`, and the exemption facts); the ones
        # added here are strings, ints and lists of them, except the lottery's (checked by `_decision`).
        safe = lottery_seed is None
        not_reached = None
        if self.compact_ranking and channel in COMPACT_CHANNELS and lottery_seed is None and len(ranked) > size:
            not_reached = NotReached(channel, f"{waiting.id}#ranking", waiting.version, waiting.spec.law, size,
                                     len(ranked), size + 1, tuple(ranked[size:]))
            ranked = ranked[:size]
        for rank, assessment in enumerate(ranked, start=1):
            applicant = assessment.applicant
            facts = dict(assessment.facts)
            facts.update({"seniority_date": applicant.seniority_date.isoformat(),
                          "priorities_met": list(assessment.priorities_met),
                          "priority_key": list(assessment.priority_key)})
            if channel in REFERRAL_CHANNELS:
                facts["referral_order"] = applicant.referral_order
            if lottery_seed is not None:
                facts.update({"lottery_seed": lottery_seed, "lottery_lot": lot(lottery_seed, applicant.applicant_id),
                              "lottery_position": rank, "lottery_law": LOTTERY_LAW})
            redirect = ledger.redirected.get(applicant.applicant_id)
            if redirect is not None and channel in REFERRAL_CHANNELS \
                    and redirect.municipality_code == vacancy.dwelling.municipality_code:
                facts.update({"redirect_decision": redirect.decision_id,
                              "redirected_from_vacancy": redirect.vacancy_id, "redirect_bar": redirect.rule_id})
            if rank <= size:
                offer = Offer(f"{round_id}/a{applicant.applicant_id}", round_id, vacancy.vacancy_id,
                              vacancy.dwelling.dwelling_id, applicant.applicant_id, applicant.household_id,
                              rank, channel, now, deadline)
                offers.append(offer)
                ledger.offers[offer.offer_id] = offer
                ledger.offered.setdefault(vacancy.vacancy_id, set()).add(applicant.applicant_id)
                self._use_entitlement(applicant.applicant_id, vacancy, channel, offer.offer_id)
                decisions.append(self._decision(
                    now, Outcome.OFFERED, vacancy, channel=channel, round_id=round_id, applicant=applicant,
                    policy=waiting, rule_id=f"{waiting.id}#ranking", rank=rank, offer_id=offer.offer_id,
                    reason=f"offered: rank {rank} of {len(ranked) + len(not_reached or ())} eligible; answer by "
                           f"{deadline.isoformat()}",
                    facts=facts, unknown=assessment.unknown, safe=safe))
            else:
                decisions.append(self._decision(
                    now, Outcome.SKIPPED, vacancy, channel=channel, round_id=round_id, applicant=applicant,
                    policy=waiting, rule_id=f"{waiting.id}#ranking", rank=rank,
                    reason=f"eligible but ranked {rank}; this round offers the first {size}",
                    facts=facts, unknown=assessment.unknown, safe=safe))
        refs = tuple(p.ref for p in in_force)
        round_ = OfferRound(round_id, vacancy.vacancy_id, vacancy.dwelling.dwelling_id, vacancy.unit, channel,
                            number, now, tuple(offers), tuple(decisions), refs, not_reached)
        ledger.rounds[round_id] = round_
        ledger.vacancy_rounds.setdefault(vacancy.vacancy_id, []).append(round_id)
        ledger.round_rules[round_id] = RoundRules(
            waiting.id, waiting.version, waiting.spec.law, waiting.spec.round.passive_after_refusals,
            bool(waiting.switch("no_answer_counts_as_refusal")))
        return round_

    def _draw_lots(self, ranked: list[Assessment], in_force: Sequence[Policy], round_id: str
                   ) -> tuple[list[Assessment], str | None]:
        """Advert respondents in lottery order (switch `selection` of the advertising policy,
        default lottery; BEK 977/2024 § 38): priorities first, then the lots of one seeded draw."""
        advert = next((p for p in in_force if p.spec.tool == "offentlig_annoncering"), None)
        selection = advert.switch("selection") if advert is not None else \
            TOOL_SWITCHES["offentlig_annoncering"]["selection"].default
        if selection != "lottery":
            return ranked, None
        seed = draw_seed(self.lottery_rng, round_id)
        order = lottery_order([(a.priority_key, a.applicant.applicant_id) for a in ranked], seed)
        return [ranked[i] for i in order], seed

    def _eligible_busy(self, vacancy: Vacancy, channel: Channel, busy: Sequence[Applicant],
                       in_force: Sequence[Policy], on: date) -> int:
        """How many of the held-back `busy` applicants the rules would rank for this vacancy (on its
        organisation's lists, not passive, withdrawn or housed, not offered it before, eligible)."""
        allowed = LIST_TYPES_BY_CHANNEL[channel]
        offered = self.ledger.offered.get(vacancy.vacancy_id, set())
        count = 0
        for applicant in busy:
            aid = applicant.applicant_id
            if applicant.list_type not in allowed or applicant.org_id != vacancy.dwelling.org_id or aid in offered \
                    or applicant.passive or aid in self.ledger.passive or aid in self.ledger.withdrawn \
                    or aid in self.ledger.housed:
                continue
            applicant = self._with_entitlement(applicant, vacancy)
            if self._assess(vacancy, applicant, channel, in_force, on).outcome is None:
                count += 1
        return count

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

    def assess_transfer(self, request: "TransferRequest", now: datetime) -> "TransferAssessment":
        """Exchange (bytte) or sub-letting (fremleje) into a listed area: does the incoming
        household meet the obligatory fleksibel criteria? One Decision (`approved`, `rejected`
        or `skipped` = held) in this engine's log; see `boligmix.letting.exchange`."""
        from boligmix.letting.exchange import assess_transfer

        return assess_transfer(self, request, now)

    def explain(self, applicant_id: int, dwelling_id: int) -> "Explanation":
        """Why did `applicant_id` (not) get `dwelling_id`? From this engine's decision log."""
        from boligmix.letting.explain import explain_decisions

        return explain_decisions(self.ledger.decisions, applicant_id, dwelling_id)

    def assess(self, vacancy: Vacancy, applicant: Applicant, channel: Channel, now: datetime) -> Assessment:
        """How the policies in force on `now` see `applicant` for `vacancy` through `channel`
        (no state is changed; used by checks and by `explain`)."""
        in_force = self.policies.in_force(vacancy.dwelling, now.date())
        applicant = self._with_redirect(self._with_entitlement(applicant, vacancy), vacancy, channel)
        return self._assess(vacancy, applicant, channel, in_force, now.date())

    def _refusals(self, applicant_id: int, base: int) -> int:
        """Refusals that count towards passive status: `base` (handed in) + this engine's, less
        those a reactivation reset."""
        reactivation = self.ledger.reactivations.get(applicant_id)
        offset = reactivation.refusal_offset if reactivation is not None else 0
        return base + self.ledger.refusals.get(applicant_id, 0) - offset

    def _with_redirect(self, applicant: Applicant, vacancy: Vacancy, channel: Channel) -> Applicant:
        """The referral (or rehousing household) with the `redirected_referral` priority right when
        the engine recorded it as redirected (§ 59 stk. 6/7) in the dwelling's municipality
        (referral channels only)."""
        redirect = self.ledger.redirected.get(applicant.applicant_id)
        if channel not in REFERRAL_CHANNELS or redirect is None \
                or redirect.municipality_code != vacancy.dwelling.municipality_code \
                or REDIRECT_RIGHT in applicant.priority_rights:
            return applicant
        return replace(applicant, priority_rights=applicant.priority_rights | {REDIRECT_RIGHT})

    # ------------------------------------------------------------------------------------------
    # Follow-ups of rejections: § 51 b entitlements, § 59 stk. 6 redirected referrals

    def _offer_by(self, ent: Entitlement) -> str:
        """Who makes the offer of a § 51 b entitlement: recorded at grant time, else the switch of
        the policy that granted it (the law's default when that version is no longer loaded)."""
        if ent.offer_by is not None:
            return ent.offer_by
        try:
            return str(self.policies.get(ent.policy_id, ent.policy_version).switch("offer_elsewhere_by"))
        except KeyError:
            return str(TOOL_SWITCHES["kombineret_udlejning"]["offer_elsewhere_by"].default)

    def _with_entitlement(self, applicant: Applicant, vacancy: Vacancy) -> Applicant:
        """The applicant with the § 51 b priority right when it holds an open entitlement the
        organisation fulfils (`offer_elsewhere_by: organisation`) for the dwelling's organisation
        (the waiting-list rule checks the dwelling is outside the area). An entitlement the
        municipality fulfils gives no waiting-list priority: the municipality refers the household."""
        ent = self.ledger.entitlements.get(applicant.applicant_id)
        if ent is None or ent.fulfilled_by is not None or ent.org_id != vacancy.dwelling.org_id \
                or ENTITLEMENT_RIGHT in applicant.priority_rights or self._offer_by(ent) != "organisation":
            return applicant
        return replace(applicant, priority_rights=applicant.priority_rights | {ENTITLEMENT_RIGHT})

    def _use_entitlement(self, applicant_id: int, vacancy: Vacancy, channel: Channel, offer_id: str) -> None:
        """An offer outside the scheme's area uses an `on_offer` entitlement up: through the
        waiting list or fleksibel at the organisation's dwellings (offer by the organisation), or
        through the municipality's referral (offer by the municipality, in its municipality)."""
        ent = self.ledger.entitlements.get(applicant_id)
        if ent is None or ent.fulfilled_by is not None or ent.ends != "on_offer":
            return
        dwelling = vacancy.dwelling
        if SCHEME_CATEGORY in dwelling.area_categories:
            return
        if self._offer_by(ent) == "organisation":
            used = dwelling.org_id == ent.org_id and channel in (Channel.WAITING_LIST, Channel.FLEKSIBEL)
        else:
            used = channel == Channel.KOMMUNAL_ANVISNING and ent.municipality_code in (None, dwelling.municipality_code)
        if used:
            self.ledger.entitlements[applicant_id] = replace(ent, fulfilled_by=offer_id)

    def _after_rejection(self, vacancy: Vacancy, channel: Channel, applicant: Applicant, assessment: Assessment,
                         now: datetime, round_id: str) -> list[Decision]:
        policy = assessment.policy
        hit = assessment.hit
        if policy is None or hit is None:
            return []
        aid = applicant.applicant_id
        dwelling = vacancy.dwelling
        if policy.spec.tool == "kombineret_udlejning" and policy.switch("offer_elsewhere_for_prior_registrants") \
                and applicant.list_type in (ListType.EXTERNAL, ListType.INTERNAL) and aid not in self.ledger.entitlements:
            introduced_on = policy.switch("scheme_introduced_on") or policy.spec.effective_from.isoformat()
            if applicant.seniority_date < date.fromisoformat(introduced_on):
                by = str(policy.switch("offer_elsewhere_by"))
                offer = (f"a dwelling in another area from municipality {dwelling.municipality_code} (its referral)"
                         if by == "municipality" else f"organisation {dwelling.org_id}'s dwellings outside the area")
                decision = self._decision(
                    now, Outcome.ENTITLED, vacancy, channel=channel, round_id=round_id, applicant=applicant,
                    policy=policy, rule_id=f"{policy.id}#offer_elsewhere",
                    reason=f"registered on {applicant.seniority_date.isoformat()}, before kombineret udlejning was "
                           f"introduced ({introduced_on}), and rejected by {hit.rule.rule_id}: entitled to an offer "
                           f"of {offer}",
                    facts={"registered_on": applicant.seniority_date, "scheme_introduced_on": introduced_on,
                           "rejected_by": hit.rule.rule_id, "org_id": dwelling.org_id, "area_id": dwelling.area_id,
                           "entitlement_ends": policy.switch("entitlement_ends"), "offer_elsewhere_by": by,
                           "municipality_code": dwelling.municipality_code})
                self.ledger.entitlements[aid] = Entitlement(
                    aid, dwelling.org_id, dwelling.area_id, policy.id, policy.version, decision.decision_id,
                    str(policy.switch("entitlement_ends")), None, by, dwelling.municipality_code)
                return [decision]
        if policy.spec.tool == "anvisning_restriction" and channel in REFERRAL_CHANNELS \
                and policy.switch("barred_referral") == "redirect" and aid not in self.ledger.redirected:
            categories = sorted(dwelling.area_categories)
            decision = self._decision(
                now, Outcome.REDIRECTED, vacancy, channel=channel, round_id=round_id, applicant=applicant,
                policy=policy, rule_id=f"{policy.id}#redirect",
                reason=f"barred by {hit.rule.rule_id} from a dwelling in a {'/'.join(categories)} area; the "
                       f"municipality must refer the household elsewhere: kept for the next "
                       f"{'referral' if channel == Channel.KOMMUNAL_ANVISNING else 'rehousing'} dwelling "
                       f"in municipality {dwelling.municipality_code}",
                facts={**hit.facts, "bar": hit.rule.rule_id, "area_categories": categories,
                       "municipality_code": dwelling.municipality_code, "redirect_channel": channel.value},
                unknown=hit.unknown)
            self.ledger.redirected[aid] = RedirectedReferral(
                applicant, dwelling.municipality_code, vacancy.vacancy_id, hit.rule.rule_id, policy.version,
                decision.decision_id)
            return [decision]
        return []

    # ------------------------------------------------------------------------------------------
    # Channel allocation

    def _waiting_list_policy(self, vacancy: Vacancy, in_force: Sequence[Policy], on: date) -> Policy:
        found = [p for p in in_force if p.spec.tool == "waiting_list"]
        if not found:
            raise ConfigurationError(f"no waiting_list policy is in force on {on.isoformat()} for dwelling "
                                     f"{vacancy.dwelling.dwelling_id} (department {vacancy.dwelling.department_id})")
        return found[0]

    def _allocate_channel(self, vacancy: Vacancy, in_force: Sequence[Policy], now: datetime, round_id: str,
                          decisions: list[Decision]) -> Channel:
        """Share channels by quota: channel c with share s is due when it has taken fewer than
        floor(s x vacancies seen) of its scope's vacancies; the first due channel in
        CHANNEL_PRECEDENCE takes the vacancy, else it goes to the waiting list."""
        dwelling = vacancy.dwelling
        udslusning = next((p for p in in_force if p.spec.tool == "udslusning"), None)
        if dwelling.udslusningsbolig and udslusning is not None:
            decisions.append(self._decision(
                now, Outcome.CHANNEL, vacancy, channel=Channel.UDSLUSNING, round_id=round_id, policy=udslusning,
                rule_id=f"{udslusning.id}#udslusningsbolig",
                reason="an udslusningsbolig at the municipality's disposal: let to its referrals (outside the share "
                       "counts and obligatory fleksibel udlejning)", facts={"udslusningsbolig": True}))
            return Channel.UDSLUSNING
        due: list[tuple[int, Channel, Policy, ShareCounter, dict[str, Any]]] = []
        counters: list[tuple[Policy, ShareCounter]] = []
        for policy in in_force:
            if not policy.spec.shares:
                continue
            scope_key = {"municipality": str(dwelling.municipality_code), "organisation": dwelling.org_id,
                         "department": dwelling.department_id}[policy.spec.count_per]
            counter = self.ledger.counters.setdefault((policy.id, scope_key), ShareCounter())
            counter.seen += 1
            counters.append((policy, counter))
            for channel, share in policy.spec.shares.items():
                entitled = math.floor(share * counter.seen + 1e-9)
                used = counter.used.get(channel, 0)
                if used < entitled:
                    facts = {"share": share, "vacancies_seen": counter.seen, "taken_before": used,
                             "entitled": entitled, "count_per": policy.spec.count_per, "scope_key": scope_key}
                    due.append((CHANNEL_PRECEDENCE.index(channel), channel, policy, counter, facts))
        if due:
            due.sort(key=lambda d: d[0])
            _, channel, policy, counter, facts = due[0]
            counter.used[channel] = counter.used.get(channel, 0) + 1
            others = [d[1].value for d in due[1:]]
            decisions.append(self._decision(
                now, Outcome.CHANNEL, vacancy, channel=channel, round_id=round_id, policy=policy,
                rule_id=f"{policy.id}#shares.{channel.value}",
                reason=f"{channel.value} share {facts['share']:g}: vacancy {facts['vacancies_seen']} in "
                       f"{facts['count_per']} {facts['scope_key']}, {facts['taken_before']} taken of "
                       f"{facts['entitled']} due" + (f"; also due (later): {', '.join(others)}" if others else ""),
                facts=facts))
            return channel
        facts = {p.id: {"vacancies_seen": c.seen, "used": {k.value: v for k, v in c.used.items()}}
                 for p, c in counters}
        waiting = self._waiting_list_policy(vacancy, in_force, now.date())
        decisions.append(self._decision(
            now, Outcome.CHANNEL, vacancy, channel=Channel.WAITING_LIST, round_id=round_id, policy=waiting,
            rule_id=f"{waiting.id}#default_channel",
            reason="no share channel is due; the waiting list applies", facts=facts))
        return Channel.WAITING_LIST

    # ------------------------------------------------------------------------------------------
    # Candidates

    def _pool(self, channel: Channel, applicants: Sequence[Applicant], context: LettingContext,
              municipality_code: int) -> Sequence[Applicant]:
        if channel == Channel.UDSLUSNING:
            return context.referrals
        if channel in REFERRAL_CHANNELS:  # § 59 stk. 6/7: redirected households come back in their own channel
            named = context.referrals if channel == Channel.KOMMUNAL_ANVISNING else context.rehousing
            listed = {a.applicant_id for a in named}
            carried = [r.applicant for r in self.redirected_referrals(municipality_code)
                       if r.applicant.applicant_id not in listed
                       and r.applicant.list_type in LIST_TYPES_BY_CHANNEL[channel]]
            return [*carried, *named]
        if channel == Channel.ANNONCERING:
            return context.advert_respondents
        return applicants

    def _candidates(self, vacancy: Vacancy, channel: Channel, applicants: Sequence[Applicant],
                    context: LettingContext, in_force: Sequence[Policy], now: datetime, round_id: str
                    ) -> tuple[list[Assessment], list[Decision]]:
        on = now.date()
        waiting = self._waiting_list_policy(vacancy, in_force, on)
        allowed = LIST_TYPES_BY_CHANNEL[channel]
        ledger = self.ledger
        offered = ledger.offered.get(vacancy.vacancy_id, set())
        passive, withdrawn, housed, reactivations = ledger.passive, ledger.withdrawn, ledger.housed, ledger.reactivations
        base_refusals, entitlements, redirected = ledger.base_refusals, ledger.entitlements, ledger.redirected
        own_lists_only = channel in (Channel.WAITING_LIST, Channel.FLEKSIBEL)
        org_id = vacancy.dwelling.org_id
        ranked: list[Assessment] = []
        decisions: list[Decision] = []
        seen: set[int] = set()
        # Per candidate, the common case (on the list, not passive, withdrawn or housed, no
        # entitlement, redirect or reactivation, assessed before) touches only local names.
        for applicant in self._pool(channel, applicants, context, vacancy.dwelling.municipality_code):
            aid = applicant.applicant_id
            if aid in seen:
                raise LettingError(f"applicant {aid} is listed twice for vacancy {vacancy.vacancy_id}")
            seen.add(aid)
            base_refusals[aid] = applicant.refusal_count
            skip_reason = None
            if applicant.list_type not in allowed:
                skip_reason = f"list type {applicant.list_type.value} is not used by channel {channel.value}"
            elif own_lists_only and applicant.org_id != org_id:
                skip_reason = f"on the list of organisation {applicant.org_id}, not {org_id}"
            elif aid in offered:
                skip_reason = "already offered this vacancy in an earlier round"
            elif aid in passive or (applicant.passive and aid not in reactivations):
                skip_reason = "passive on the waiting list after repeated refusals"
            elif aid in withdrawn:
                skip_reason = (f"withdrew the application on {withdrawn[aid].date().isoformat()} "
                               f"(left the list)")
            elif aid in housed:
                skip_reason = f"already housed: let a dwelling by this engine (letting {housed[aid]})"
            if skip_reason is not None:
                decisions.append(self._decision(now, Outcome.SKIPPED, vacancy, channel=channel, round_id=round_id,
                                                applicant=applicant, policy=waiting, rule_id=f"{waiting.id}#list",
                                                reason=skip_reason,
                                                facts={"list_type": applicant.list_type.value,
                                                       "org_id": applicant.org_id}))
                continue
            if aid in entitlements:
                applicant = self._with_entitlement(applicant, vacancy)
            if aid in redirected:
                applicant = self._with_redirect(applicant, vacancy, channel)
            reactivation = reactivations.get(aid) if reactivations else None
            if reactivation is not None and reactivation.seniority_date is not None:
                applicant = replace(applicant, seniority_date=reactivation.seniority_date)
            try:
                assessment = self._assess(vacancy, applicant, channel, in_force, on)
            except DataValidationError as exc:
                raise DataValidationError(f"applicant {aid}, vacancy {vacancy.vacancy_id}: {exc.reason}",
                                          path=exc.path, row=exc.row, column=exc.column) from exc
            if assessment.outcome is None:
                ranked.append(assessment)
                continue
            hit = assessment.hit
            decisions.append(self._decision(
                now, assessment.outcome, vacancy, channel=channel, round_id=round_id, applicant=applicant,
                policy=assessment.policy, rule_id=hit.rule.rule_id if hit else None,
                law=(hit.rule.spec.law if hit and hit.rule.spec.law else None),
                reason=assessment.reason, facts=assessment.facts, unknown=assessment.unknown, safe=True))
            if assessment.outcome == Outcome.REJECTED and self.follow_ups:
                decisions.extend(self._after_rejection(vacancy, channel, applicant, assessment, now, round_id))
        ranked.sort(key=rank_sorter(channel))
        return ranked, decisions

    # ------------------------------------------------------------------------------------------
    # Offers and lettings

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
        for d in round_.decisions:
            if d.applicant_id == winner.applicant_id and d.outcome == Outcome.OFFERED:
                if d.facts.get("list_type") == ListType.INTERNAL.value:
                    return Channel.INTERNAL
        return Channel.WAITING_LIST

    # ------------------------------------------------------------------------------------------
    # Decision records

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


def plan_offers(policies: PolicySet, vacancy: Vacancy, candidates: Sequence[Applicant], channel: Channel,
                now: datetime, *, id_prefix: str = "", follow_ups: bool = False,
                compact_ranking: bool = False) -> OfferRound:
    """One offer round as a fresh engine makes it, for a caller that keeps its own state (the
    letting store): the channel is given (the caller allocated it), `candidates` are the
    applicants still in play (the caller drops those already offered the vacancy; passive
    status and earlier refusals come from `Applicant.passive` / `refusal_count`). For a referral
    channel the candidates are the municipality's referrals (or rehousing households); the
    usual fallbacks (release to the waiting list, annoncering) then find no other candidates.
    `follow_ups=True` adds the `entitled`/`redirected` records of rejections (off by default: a
    caller must accept those outcomes); the caller keeps entitlements itself and passes them as
    the `kombineret_udlejning_tilbud` priority right. `compact_ranking`: see `LettingEngine`.
    """
    engine = LettingEngine(policies, id_prefix=id_prefix, follow_ups=follow_ups, compact_ranking=compact_ranking)
    engine.ledger.vacancy_channel[vacancy.vacancy_id] = channel
    context = LettingContext()
    if channel in (Channel.KOMMUNAL_ANVISNING, Channel.UDSLUSNING):
        context, candidates = LettingContext(referrals=candidates), ()
    elif channel == Channel.REHOUSING:
        context, candidates = LettingContext(rehousing=candidates), ()
    elif channel == Channel.ANNONCERING:
        context, candidates = LettingContext(advert_respondents=candidates), ()
    return engine.next_offers(vacancy, candidates, context, now)


__all__ = ["Assessment", "CHANNEL_PRECEDENCE", "ChannelAllocation", "ENTITLEMENT_RIGHT", "LettingContext",
           "LettingEngine", "REDIRECT_RIGHT", "RuleHit", "plan_offers", "policy_facts", "referral_order_key"]
