"""The ranking of an offer round's eligible candidates, and the compact record of those it did not reach.

Eligible candidates are ranked by `rank_key`: in a referral channel the municipality's own order
first (`referral_order_key`), then the policies' priorities (`Assessment.priority_key`: one 0/1
per priority rule, met first, in the order of the rules' ranks, led by one 0/1 per rule that
lapses without a taker: the waiting list's size rule), then seniority and applicant id.
The whole list is ranked (every eligible candidate is assessed, so a priority holder behind any
number of more senior applicants comes first).

A round offers the first `offers_per_round`; the candidates ranked below them are "not reached".
An engine made with `compact_ranking=True` records them as one `NotReached` per round instead of
one `Decision` (with the facts its rules read) per candidate: their ids, ranks, priorities met,
priority key and seniority, which is what their decision says of them. `NotReached.decision_fields`
gives, per candidate, the fields of the decision a full round would have recorded (less the facts
the priority rules read, which `LettingEngine.assess` recomputes on demand).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from operator import attrgetter, not_
from typing import TYPE_CHECKING, Any

from boligmix.letting.model import Applicant, Channel

if TYPE_CHECKING:
    from boligmix.letting.engine import Assessment

REFERRAL_CHANNELS = frozenset({Channel.KOMMUNAL_ANVISNING, Channel.REHOUSING, Channel.UDSLUSNING})
"""Channels where the municipality names the candidates; refusals there do not count towards
passive status on the waiting list."""

COMPACT_CHANNELS = frozenset({Channel.WAITING_LIST, Channel.FLEKSIBEL})
"""Channels whose not-reached candidates a compact engine records as `NotReached`; so do the
referral channels (`REFERRAL_CHANNELS`, with each candidate's referral order) unless a candidate
below the offers is a redirected referral; advert respondents (a lottery) keep one decision each."""


def referral_order_key(applicant: Applicant, channel: Channel) -> tuple[int, int]:
    """The municipality's own order first in a referral channel (§ 59: it alone decides who is
    referred): referrals it ordered (`Applicant.referral_order`, smaller first) before those it did
    not; then the policies' priorities and seniority. No effect in other channels."""
    if channel not in REFERRAL_CHANNELS or applicant.referral_order is None:
        return (1, 0) if channel in REFERRAL_CHANNELS else (0, 0)
    return (0, applicant.referral_order)


def rank_key(assessment: "Assessment", channel: Channel) -> tuple[Any, ...]:
    """The sort key of an eligible candidate (smaller ranks first)."""
    a = assessment.applicant
    return (*referral_order_key(a, channel), assessment.priority_key, a.seniority_date, a.applicant_id)


def _plain_key(assessment: "Assessment") -> tuple[Any, ...]:
    a = assessment.applicant
    return (assessment.priority_key, a.seniority_date, a.applicant_id)


def rank_sorter(channel: Channel) -> Callable[["Assessment"], tuple[Any, ...]]:
    """A sort key ordering as `rank_key` in `channel` (outside the referral channels the
    municipality's order is the same for all, so left out)."""
    if channel in REFERRAL_CHANNELS:
        return lambda assessment: rank_key(assessment, channel)
    return _plain_key


LAPSE_MET_FACT = "lapsed_rules_met_by"
"""The fact recording, with an offer to an applicant failing a rule that lapses without a taker
(the waiting list's size rule), how many of the round's eligible applicants met it."""


def meeting_lapsing_rules(ranked: "list[Assessment]") -> int:
    """How many of a round's eligible candidates meet every rule that lapses without a taker (they
    rank ahead of the others: the rules' verdicts lead the priority key)."""
    return sum(map(not_, map(_LAPSED, ranked)))  # no Python frame per candidate


_LAPSED = attrgetter("lapsed")


def lapse_note(assessment: "Assessment", meeting: int, eligible: int) -> tuple[dict[str, Any], str]:
    """The facts and the reason's ending of an offer to an applicant who fails a rule that lapses
    without a taker (none when it meets them): the rule lapses for this applicant because only
    `meeting` of the round's `eligible` candidates meet it, and they rank first."""
    if not assessment.lapsed:
        return {}, ""
    return ({LAPSE_MET_FACT: meeting},
            f"; {', '.join(assessment.lapsed)} lapses for this applicant: {meeting} of {eligible} eligible meet it "
            f"and rank first")


def not_reached_reason(rank: int, offers_per_round: int) -> str:
    """The reason of a not-reached candidate's decision (as a full round records it)."""
    return f"eligible but ranked {rank}; this round offers the first {offers_per_round}"


@dataclass(frozen=True, eq=False)
class PreRanked:
    """Eligible candidates of a waiting-list or fleksibel round ranked before the round, by a caller
    that keeps them between rounds (the letting store, `boligmix.letting.store.kept_ranking`):
    `LettingEngine.next_offers(..., preranked=...)` takes them as ranked instead of passing each
    through its candidate loop and sort, and ranks the other candidates it is given among them.

    The caller's promise, checked by `fits` where it can be checked without a pass over the
    candidates: each assessment is the one the engine's assessment `table` holds for its applicant
    (so made for this vacancy's dwelling fields, channel, policies in force and date), eligible
    (`outcome` None), of an applicant on organisation `org_id`'s lists of `list_types`, not passive,
    with no refusals but `refusals` (applicant id -> count handed in; absent = 0), and they are
    in rank order (`rank_sorter(channel)`); `ids` are their applicant ids. The engine refuses a
    record whose context or ledger does not fit (its entitlements, redirects, reactivations,
    refusals, offers and lettings must not touch `ids`: such candidates go through the loop)."""

    channel: Channel
    table: Any
    org_id: str
    list_types: frozenset[Any]
    assessments: Sequence["Assessment"]
    ids: frozenset[int] | set[int]
    refusals: Mapping[int, int] = field(default_factory=dict)
    meeting: int | None = None
    """How many of `assessments` meet every rule that lapses without a taker (as
    `meeting_lapsing_rules` counts them), kept by the caller; None: the engine counts."""

    def fits(self, table: Any, org_id: str, list_types: frozenset[Any], ledger: Any, vacancy_id: str) -> bool:
        """Whether this record can stand for its candidates' passes through the engine's loop in a
        round with this assessment `table`, organisation, list types and `ledger`."""
        ids = self.ids
        return (table is not None and table is self.table and org_id == self.org_id
                and list_types == self.list_types
                and ids.isdisjoint(ledger.offered.get(vacancy_id, ()))
                and all(ids.isdisjoint(part) for part in (
                    ledger.passive, ledger.withdrawn, ledger.housed, ledger.reactivations, ledger.refusals,
                    ledger.entitlements, ledger.redirected)))


@dataclass(frozen=True)
class NotReached:
    """The eligible candidates of one round ranked below its offers (ranks `first_rank`, ... in
    order): outcome `skipped` by the waiting-list policy's ranking rule `rule_id`."""

    channel: Channel
    rule_id: str
    rule_version: str
    law: str | None
    offers_per_round: int
    eligible: int
    first_rank: int
    assessments: tuple["Assessment", ...]

    def __len__(self) -> int:
        return len(self.assessments)

    def ranked(self) -> Iterator[tuple[int, "Assessment"]]:
        """(rank, assessment) in rank order."""
        return enumerate(self.assessments, start=self.first_rank)

    def decision_fields(self) -> Iterator[dict[str, Any]]:
        """Per candidate, in rank order, the fields of its `skipped` decision (as
        `LettingEngine._decision` takes them) with the compact facts: list type, seniority date,
        priorities met and priority key (and in a referral channel the municipality's referral order)."""
        referral = self.channel in REFERRAL_CHANNELS
        for rank, assessment in self.ranked():
            a = assessment.applicant
            yield {"applicant_id": a.applicant_id, "household_id": a.household_id, "rank": rank,
                   "rule_id": self.rule_id, "rule_version": self.rule_version, "law": self.law,
                   "reason": not_reached_reason(rank, self.offers_per_round),
                   "facts": {"list_type": a.list_type.value, "seniority_date": a.seniority_date.isoformat(),
                             "priorities_met": list(assessment.priorities_met),
                             "priority_key": list(assessment.priority_key),
                             **({"referral_order": a.referral_order} if referral else {})},
                   "unknown": tuple(assessment.unknown)}


__all__ = ["COMPACT_CHANNELS", "LAPSE_MET_FACT", "NotReached", "PreRanked", "lapse_note", "meeting_lapsing_rules", "REFERRAL_CHANNELS", "not_reached_reason", "rank_key", "rank_sorter",
           "referral_order_key"]
