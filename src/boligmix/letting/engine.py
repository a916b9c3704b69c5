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

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from boligmix.errors import ConfigurationError, LettingError
from boligmix.letting.assessment import (
    Assessment,
    RuleAssessor,
    RuleHit,
    policy_facts,
)
from boligmix.letting.candidate_selection import LIST_TYPES_BY_CHANNEL, CandidateSelector, LettingContext
from boligmix.letting.channel_allocation import CHANNEL_PRECEDENCE, ChannelAllocation, ChannelAllocator
from boligmix.letting.rejection_follow_ups import (
    ENTITLEMENT_RIGHT,
    REDIRECT_RIGHT,
    RejectionFollowUps,
)
from boligmix.letting.resolution import OfferResolver
from boligmix.letting.lottery import LOTTERY_LAW, draw_seed, lot, lottery_order
from boligmix.letting.ledger import (
    Entitlement,
    LettingLedger,
    RedirectedReferral,
    RoundRules,
)
from boligmix.letting.model import (
    Applicant,
    Channel,
    Decision,
    Letting,
    Offer,
    OfferRound,
    Outcome,
    Vacancy,
)
from boligmix.letting.policy import TOOL_SWITCHES, Policy, PolicySet
from boligmix.letting.ranking import (
    COMPACT_CHANNELS,
    REFERRAL_CHANNELS,
    NotReached,
    PreRanked,
    lapse_note,
    meeting_lapsing_rules,
    referral_order_key,
)

if TYPE_CHECKING:
    from boligmix.letting.exchange import TransferAssessment, TransferRequest
    from boligmix.letting.explain import Explanation

RELEASABLE_CHANNELS = frozenset({Channel.KOMMUNAL_ANVISNING, Channel.REHOUSING})
"""Referral channels whose unused vacancy goes to the waiting list (switch `unused_referral`); an
udslusningsbolig stays with the municipality, which pays the rent meanwhile (§ 63, stk. 4)."""


def unused_referral_release(channel: Channel, in_force: Sequence[Policy]) -> Policy | None:
    """The kommunal anvisning policy in force that releases an unused dwelling of `channel` to the
    waiting list (switch `unused_referral=release_to_waiting_list`), or None."""
    if channel not in RELEASABLE_CHANNELS:
        return None
    anvisning = next((p for p in in_force if p.spec.tool == "kommunal_anvisning"), None)
    return anvisning if anvisning is not None and anvisning.switch("unused_referral") == "release_to_waiting_list" \
        else None



class LettingEngine(RuleAssessor, OfferResolver, RejectionFollowUps, ChannelAllocator, CandidateSelector):
    """Offer rounds and lettings under a `PolicySet`, recorded in a `LettingLedger`; how the rules see
    one applicant is `RuleAssessor`'s (`boligmix.letting.assessment`), the answers and lettings
    `OfferResolver`'s (`boligmix.letting.resolution`), the follow-ups of rejections
    `RejectionFollowUps`' (`boligmix.letting.rejection_follow_ups`) and the share channels
    `ChannelAllocator`'s (`boligmix.letting.channel_allocation`) and who is in the running
    `CandidateSelector`'s (`boligmix.letting.candidate_selection`)."""

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
        self._ranked_meeting: tuple[list[Any], int] | None = None
        """(the ranked list `_candidates` merged with a `PreRanked`, how many of it meet every lapsing
        rule), for `_next_offers`, which takes it only for that very list."""
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
        housed = self.ledger.housed            # the municipality first: it rules out most of a year's redirects
        if municipality_code is None:
            return [r for r in self.ledger.redirected.values() if r.applicant.applicant_id not in housed]
        return [r for r in self.ledger.redirected.values()
                if r.municipality_code == municipality_code and r.applicant.applicant_id not in housed]

    def next_offers(self, vacancy: Vacancy, applicants: Sequence[Applicant],
                    context: LettingContext | None = None, now: datetime | None = None, *,
                    preranked: PreRanked | None = None) -> OfferRound:
        """Make the next offer round for `vacancy` from `applicants` (the organisation's waiting
        lists) and `context` (referrals, rehousing, advert responses). `preranked`: further
        waiting-list candidates, assessed and ranked by the caller (`ranking.PreRanked`; the round
        is the one `applicants` plus theirs would give).

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
            return self._next_offers(vacancy, applicants, context, now, preranked)
        except BaseException:
            ledger.rollback(checkpoint)  # a failed round leaves no trace
            raise

    def _next_offers(self, vacancy: Vacancy, applicants: Sequence[Applicant], context: LettingContext,
                     now: datetime, preranked: PreRanked | None = None) -> OfferRound:
        ledger = self.ledger
        self._ranked_meeting = None
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

        ranked, other_decisions = self._candidates(vacancy, channel, applicants, context, in_force, now, round_id,
                                                   preranked)
        decisions.extend(other_decisions)
        if not ranked and channel in RELEASABLE_CHANNELS:
            anvisning = unused_referral_release(channel, in_force)
            if anvisning is not None:
                decisions.append(self._decision(
                    now, Outcome.CHANNEL, vacancy, channel=Channel.WAITING_LIST, round_id=round_id,
                    policy=anvisning, rule_id=f"{anvisning.id}#unused_referral",
                    reason=f"no eligible {channel.value} candidate; released to the waiting list "
                           f"(switch unused_referral=release_to_waiting_list)",
                    facts={"candidates": len(context.referrals if channel == Channel.KOMMUNAL_ANVISNING
                                              else context.rehousing)}, safe=True))
                channel = Channel.WAITING_LIST
                ledger.vacancy_channel[vacancy.vacancy_id] = channel
                ranked, other_decisions = self._candidates(vacancy, channel, applicants, context, in_force,
                                                           now, round_id, preranked)
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
        if waiting.spec.round is None:  # a real check (not stripped by python -O); policy_spec requires it
            raise ConfigurationError(f"the waiting_list policy {waiting.id} has no round settings")
        size = waiting.spec.round.offers_per_round
        deadline = now + timedelta(days=waiting.spec.round.answer_days)
        offers: list[Offer] = []
        # An assessment's facts are JSON-safe as made (`_new_hit`, and the exemption facts); the ones
        # added here are strings, ints and lists of them, except the lottery's (checked by `_decision`).
        safe = lottery_seed is None
        not_reached = None
        counted, self._ranked_meeting = self._ranked_meeting, None  # (from a `PreRanked.meeting`)
        eligible = len(ranked)  # the size rule lapses: `ranking.lapse_note`
        meeting = counted[1] if counted is not None and counted[0] is ranked else meeting_lapsing_rules(ranked)
        # Compact in the waiting-list channels, and in the referral channels unless a candidate ranked
        # below the offers carries a redirect (its decision then names the redirect: recorded in full).
        if self.compact_ranking and lottery_seed is None and len(ranked) > size and (
                channel in COMPACT_CHANNELS or (channel in REFERRAL_CHANNELS and ledger.redirected.keys().isdisjoint(
                    a.applicant.applicant_id for a in ranked[size:]))):
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
            lapse_facts, lapse_reason = lapse_note(assessment, meeting, eligible)
            facts.update(lapse_facts)
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
                           f"{deadline.isoformat()}{lapse_reason}",
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


__all__ = ["Assessment", "CHANNEL_PRECEDENCE", "ChannelAllocation", "ENTITLEMENT_RIGHT", "LIST_TYPES_BY_CHANNEL",
           "LettingContext",
           "LettingEngine", "REDIRECT_RIGHT", "RuleHit", "plan_offers", "policy_facts", "referral_order_key"]
