"""Who is in the running for one offer round of the letting engine (`CandidateSelector`, mixed
into `LettingEngine`): a channel's pool (the organisation's waiting lists, the municipality's
referrals and redirected households, rehousing, advert respondents), the skip checks with the
reason of each, every remaining candidate's assessment, and the eligible in rank order.

Pure domain: no I/O. The engine provides `ledger`, `follow_ups`, `redirected_referrals`, the
assessment (`RuleAssessor`), the follow-ups of rejections (`RejectionFollowUps`), the waiting-list
policy (`ChannelAllocator`) and `_decision`.
"""

from __future__ import annotations

from bisect import insort
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from boligmix.errors import DataValidationError, LettingError
from boligmix.letting.assessment import Assessment
from boligmix.letting.ledger import LettingLedger, RedirectedReferral
from boligmix.letting.model import Applicant, Channel, Decision, ListType, Outcome, Vacancy
from boligmix.letting.policy import Policy
from boligmix.letting.ranking import REFERRAL_CHANNELS, PreRanked, meeting_lapsing_rules, rank_sorter

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


class CandidateSelector:
    """The candidates of a round: skipped (with the reason), rejected or held by a rule (with its
    follow-ups), or eligible and ranked."""

    ledger: LettingLedger
    follow_ups: bool
    _ranked_meeting: tuple[list[Any], int] | None

    redirected_referrals: Callable[..., list[RedirectedReferral]]
    """§ 59 stk. 6 referrals not housed yet (`LettingEngine.redirected_referrals`)."""
    _decision: Callable[..., Decision]
    """The engine's decision record (`OfferResolver._decision`)."""
    _waiting_list_policy: Callable[..., Policy]
    _assess: Callable[..., Assessment]
    _assessment_table_for: Callable[..., Any]
    _with_entitlement: Callable[..., Applicant]
    _with_redirect: Callable[..., Applicant]
    _after_rejection: Callable[..., list[Decision]]

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
                    context: LettingContext, in_force: Sequence[Policy], now: datetime, round_id: str,
                    preranked: PreRanked | None = None) -> tuple[list[Assessment], list[Decision]]:
        on = now.date()
        waiting = self._waiting_list_policy(vacancy, in_force, on)
        allowed = LIST_TYPES_BY_CHANNEL[channel]
        ledger = self.ledger
        offered = ledger.offered.get(vacancy.vacancy_id, set())
        passive, withdrawn, housed, reactivations = ledger.passive, ledger.withdrawn, ledger.housed, ledger.reactivations
        base_refusals, entitlements, redirected = ledger.base_refusals, ledger.entitlements, ledger.redirected
        # The count handed in is stored only when it differs from the one kept (absent = 0, as
        # every reader takes it): a write goes through the round's checkpoint journal, and a
        # round of 2,000 unchanged counts journalled 2,000 entries. The read is the plain dict's
        # (`JournaledDict.get` is a Python method; this table saves nothing on a read).
        base_refusal = dict.get.__get__(base_refusals)
        own_lists_only = channel in (Channel.WAITING_LIST, Channel.FLEKSIBEL)
        org_id = vacancy.dwelling.org_id
        ranked: list[Assessment] = []
        decisions: list[Decision] = []
        seen: set[int] = set()
        # Per candidate, the common case (on the list, not passive, withdrawn or housed, no
        # entitlement, redirect or reactivation, assessed before) touches only local names: a few
        # membership tests stand for the skip checks below (which give the reason) and for the
        # changes to the applicant, and the memo's table of assessments is read directly while no
        # refusal or reactivation of this engine changes a candidate's count. (No union of the
        # ledger's sets is built per round: `housed` and `redirected` grow with every letting of a
        # long run, and copying them made each round cost the size of the year's lettings.)
        allowed_ids = {id(t) for t in allowed}  # enum members are singletons; id() skips Enum.__hash__
        table = self._assessment_table_for(vacancy, channel, in_force, on) \
            if not ledger.refusals and not reactivations else None
        pre = preranked if preranked is not None and preranked.channel is channel and own_lists_only else None
        if pre is not None:  # ranked by the caller: as if each had passed the loop below (`PreRanked`)
            if not pre.fits(table, org_id, allowed, ledger, vacancy.vacancy_id):
                raise LettingError(f"vacancy {vacancy.vacancy_id}: the candidates ranked beforehand do not fit "
                                   f"this round (another context, or the ledger holds some of them)")
            for aid, count in pre.refusals.items():
                if count != base_refusal(aid, 0):
                    base_refusals[aid] = count
        for applicant in self._pool(channel, applicants, context, vacancy.dwelling.municipality_code):
            aid = applicant.applicant_id
            if aid in seen or (pre is not None and aid in pre.ids):
                raise LettingError(f"applicant {aid} is listed twice for vacancy {vacancy.vacancy_id}")
            seen.add(aid)
            if applicant.refusal_count != base_refusal(aid, 0):
                base_refusals[aid] = applicant.refusal_count
            if id(applicant.list_type) not in allowed_ids or aid in offered or aid in passive or aid in withdrawn \
                    or aid in housed or applicant.passive \
                    or (own_lists_only and applicant.org_id != org_id):
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
                    decisions.append(self._decision(now, Outcome.SKIPPED, vacancy, channel=channel,
                                                    round_id=round_id, applicant=applicant, policy=waiting,
                                                    rule_id=f"{waiting.id}#list", reason=skip_reason,
                                                    facts={"list_type": applicant.list_type.value,
                                                           "org_id": applicant.org_id}))
                    continue
            if aid in entitlements or aid in redirected or aid in reactivations:
                if aid in entitlements:
                    applicant = self._with_entitlement(applicant, vacancy)
                if aid in redirected:
                    applicant = self._with_redirect(applicant, vacancy, channel)
                reactivation = reactivations.get(aid)
                if reactivation is not None and reactivation.seniority_date is not None:
                    applicant = replace(applicant, seniority_date=reactivation.seniority_date)
            hit = table.get((id(applicant), applicant.refusal_count)) if table is not None else None
            if hit is not None and hit[0] is applicant:  # as `_assess` finds it (refusals = the count handed in)
                assessment = hit[1]
            else:
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
        sorter = rank_sorter(channel)
        ranked.sort(key=sorter)
        if pre is not None and pre.assessments:  # the few others ranked among the caller's
            merged = list(pre.assessments)
            for assessment in ranked:
                insort(merged, assessment, key=sorter)
            if pre.meeting is not None:  # counted for this very list (`_next_offers` checks it is)
                self._ranked_meeting = (merged, pre.meeting + meeting_lapsing_rules(ranked))
            ranked = merged
        return ranked, decisions

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


__all__ = ["LIST_TYPES_BY_CHANNEL", "CandidateSelector", "LettingContext"]
