"""What a simulated letting's record says of the rules that decided it, as the engine's round would
record it: the channel (`direct_channel`), the ranking rule (`ranking_rule`), the channel rule and the
rejections of the vacancy's rounds (`deciding_rules`); and whether the engine releases an unused
referral dwelling to the waiting list (`releases_unused`). `AlmenLetting` writes its records with these."""

from __future__ import annotations

from typing import Sequence

from boligmix.letting.engine import unused_referral_release
from boligmix.letting.model import Applicant, Channel, Decision, OfferRound, Outcome
from boligmix.letting.resolution import letting_channel as letting_channel_of


def deciding_rules(allocation: Decision | None, rounds: Sequence[OfferRound], round_channel: Channel
                   ) -> tuple[str | None, list[str], int]:
    """(channel rule, rejected rules sorted, rejections) of a letting: from the channel decision made
    before the vacancy's first round (`allocation`) and the decisions of its engine `rounds`; the
    channel rule is the one of the deciding round's channel (`round_channel`), else the first."""
    if not rounds and allocation is not None and allocation.outcome == Outcome.CHANNEL:
        # let at the first try without an engine round (most lettings): the channel decision alone
        return allocation.rule_id, [], 0
    decisions = [*([allocation] if allocation is not None else []), *(d for r in rounds for d in r.decisions)]
    channel_rule = next((d.rule_id for d in decisions if d.outcome == Outcome.CHANNEL
                         and d.channel == round_channel), None) \
        or next((d.rule_id for d in decisions if d.outcome == Outcome.CHANNEL), None)
    rejected = sorted({d.rule_id for d in decisions if d.outcome == Outcome.REJECTED and d.rule_id})
    return channel_rule, rejected, sum(1 for d in decisions if d.outcome == Outcome.REJECTED)


def releases_unused(channel: Channel, in_force: tuple) -> bool:
    """Whether the engine releases an unused referral dwelling on `channel` to the waiting list
    (`unused_referral_release`) with no advertising in force (`LettingEngine._next_offers`)."""
    return unused_referral_release(channel, in_force) is not None \
        and not any(p.spec.tool == "offentlig_annoncering" for p in in_force)


def direct_channel(channel: Channel, applicant: Applicant) -> Channel:
    """The channel of a letting the screen decided (`AlmenLetting._let_direct`), as the engine's
    acceptance records it (`resolution.letting_channel`, the engine's one rule)."""
    return letting_channel_of(channel, applicant.list_type.value if applicant.list_type is not None else None)


def ranking_rule(in_force: tuple) -> str | None:
    """The record's `ranking_rule` of a round under the policies `in_force`: the first of the
    round's policies (`OfferRound.policies`, the engine's `in_force` in order)."""
    return in_force[0].ref.policy_id if in_force else None
