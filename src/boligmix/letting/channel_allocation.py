"""Channel allocation of the letting engine (`ChannelAllocator`, mixed into `LettingEngine`):
which channel a vacancy goes to by the share policies in force (kommunal anvisning, rehousing,
fleksibel by quota; udslusningsboliger to the municipality; otherwise the waiting list).

Pure domain: no I/O. The engine provides `ledger` and `_decision`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

from boligmix.errors import ConfigurationError, LettingError
from boligmix.letting.ledger import LettingLedger, ShareCounter
from boligmix.letting.model import Channel, Decision, Outcome, Vacancy
from boligmix.letting.policy import Policy, PolicySet

CHANNEL_PRECEDENCE: tuple[Channel, ...] = (Channel.REHOUSING, Channel.KOMMUNAL_ANVISNING, Channel.FLEKSIBEL)
"""When several share channels are due for the same vacancy, the first of these takes it; the
others stay due and take a later vacancy."""

@dataclass(frozen=True)
class ChannelAllocation:
    """The channel a vacancy goes to by the share rules, and the `channel` Decision recording why
    (rule `<policy>#shares.<channel>` with the share and counts, or `<waiting list>#default_channel`)."""

    channel: Channel
    decision: Decision


class ChannelAllocator:
    """The share channels' quotas, counted in the ledger's share counters."""

    ledger: LettingLedger
    policies: PolicySet
    id_prefix: str

    _decision: Callable[..., Decision]
    """The engine's decision record (`OfferResolver._decision`)."""

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
        CHANNEL_PRECEDENCE takes the vacancy, else it goes to the waiting list.

        Read first, change after: every step that can fail (a policy's scope, share and precedence,
        the waiting-list policy, the decision's text) comes before the share counters change, so a
        failure leaves the ledger as it was (`allocate_channel` needs no checkpoint). The channel
        decisions' facts are JSON-safe as made (strings, ints, floats in [0, 1] and dicts of them)."""
        dwelling = vacancy.dwelling
        udslusning = next((p for p in in_force if p.spec.tool == "udslusning"), None) \
            if dwelling.udslusningsbolig else None
        if udslusning is not None:
            decisions.append(self._decision(
                now, Outcome.CHANNEL, vacancy, channel=Channel.UDSLUSNING, round_id=round_id, policy=udslusning,
                rule_id=f"{udslusning.id}#udslusningsbolig",
                reason="an udslusningsbolig at the municipality's disposal: let to its referrals (outside the share "
                       "counts and obligatory fleksibel udlejning)", facts={"udslusningsbolig": True}, safe=True))
            return Channel.UDSLUSNING
        counters = self.ledger.counters
        due: list[tuple[int, Channel, Policy, tuple[str, str], dict[str, Any]]] = []
        counted: list[tuple[Policy, tuple[str, str]]] = []
        seen_now: dict[tuple[str, str], int] = {}
        for policy in in_force:
            if not policy.spec.shares:
                continue
            scope_key = {"municipality": str(dwelling.municipality_code), "organisation": dwelling.org_id,
                         "department": dwelling.department_id}[policy.spec.count_per]
            key = (policy.id, scope_key)
            counter = dict.get(counters, key)
            seen = seen_now[key] = seen_now.get(key, counter.seen if counter is not None else 0) + 1
            counted.append((policy, key))
            for channel, share in policy.spec.shares.items():
                entitled = math.floor(share * seen + 1e-9)
                used = counter.used.get(channel, 0) if counter is not None else 0
                if used < entitled:
                    facts = {"share": share, "vacancies_seen": seen, "taken_before": used,
                             "entitled": entitled, "count_per": policy.spec.count_per, "scope_key": scope_key}
                    due.append((CHANNEL_PRECEDENCE.index(channel), channel, policy, key, facts))
        if due:
            due.sort(key=lambda d: d[0])
            _, channel, policy, key, facts = due[0]
            others = [d[1].value for d in due[1:]]
            reason = (f"{channel.value} share {facts['share']:g}: vacancy {facts['vacancies_seen']} in "
                      f"{facts['count_per']} {facts['scope_key']}, {facts['taken_before']} taken of "
                      f"{facts['entitled']} due" + (f"; also due (later): {', '.join(others)}" if others else ""))
            self._count(counted)
            counter = counters[key]
            counter.used[channel] = counter.used.get(channel, 0) + 1
            decisions.append(self._decision(
                now, Outcome.CHANNEL, vacancy, channel=channel, round_id=round_id, policy=policy,
                rule_id=f"{policy.id}#shares.{channel.value}", reason=reason, facts=facts, safe=True))
            return channel
        waiting = self._waiting_list_policy(vacancy, in_force, now.date())
        self._count(counted)
        facts = {p.id: {"vacancies_seen": c.seen, "used": {k.value: v for k, v in c.used.items()}}
                 for p, c in ((p, counters[key]) for p, key in counted)}
        decisions.append(self._decision(
            now, Outcome.CHANNEL, vacancy, channel=Channel.WAITING_LIST, round_id=round_id, policy=waiting,
            rule_id=f"{waiting.id}#default_channel",
            reason="no share channel is due; the waiting list applies", facts=facts, safe=True))
        return Channel.WAITING_LIST

    def _count(self, counted: Sequence[tuple[Policy, tuple[str, str]]]) -> None:
        """Count the vacancy in the share counters of `counted` ((policy, counter key), in order)."""
        for _, key in counted:
            self.ledger.counters.setdefault(key, ShareCounter()).seen += 1

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
        decisions: list[Decision] = []           # (no checkpoint: `_allocate_channel` fails before any change)
        channel = self._allocate_channel(vacancy, self.policies.in_force(vacancy.dwelling, now.date()), now,
                                         f"{self.id_prefix}{vacancy.vacancy_id}/channel", decisions)
        self.ledger.vacancy_channel[vacancy.vacancy_id] = channel
        return ChannelAllocation(channel, decisions[0])
