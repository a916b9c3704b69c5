"""The engine's in-memory ledger: what has been offered, refused and let, the vacancy-share
counters and the decision log.

It is plain data so a store can rebuild it (or replace it) from its tables. The one hard
invariant lives here: a dwelling (or delebolig room) is let at most once.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from boligmix.errors import LettingError
from boligmix.letting.model import Applicant, Channel, Decision, Letting, Offer, OfferRound, Vacancy


@dataclass
class ShareCounter:
    """Vacancies seen in one share scope and how many each channel took (allocation state)."""

    seen: int = 0
    used: dict[Channel, int] = field(default_factory=dict)


_ABSENT = object()


class _Journal:
    """The entries of one table as they were when a checkpoint was taken, saved the first time a
    round touches them (the checkpoint holds the journal; once it is dropped, nothing is saved)."""

    __slots__ = ("__weakref__", "saved")

    def __init__(self) -> None:
        self.saved: dict[Any, Any] = {}


class JournaledDict(dict):
    """A ledger table with a copy-on-write checkpoint: `journal()` starts saving the entries a
    round changes (their value before the change, or that they were absent), so a checkpoint
    costs what the round touches, not the table's size. `copy_value`: how a value that is
    changed in place is saved (the share counters); such a table saves an entry when it is read
    for writing too (`setdefault`, `[]`, `get`)."""

    def __init__(self, data: Any = (), copy_value: Callable[[Any], Any] | None = None) -> None:
        super().__init__(data)
        self._copy = copy_value
        self._journals: list[weakref.ref] = []

    def journal(self) -> _Journal:
        journal = _Journal()
        self._journals = [j for j in self._journals if j() is not None]
        self._journals.append(weakref.ref(journal))
        return journal

    def restore(self, journal: _Journal) -> None:
        for key, old in journal.saved.items():
            if old is _ABSENT:
                dict.pop(self, key, None)
            else:
                dict.__setitem__(self, key, old)

    def _note(self, key: Any) -> None:
        if not self._journals:
            return
        alive = False
        for ref in self._journals:
            journal = ref()
            if journal is None:
                continue
            alive = True
            if key not in journal.saved:
                old = dict.get(self, key, _ABSENT)
                journal.saved[key] = old if old is _ABSENT or self._copy is None else self._copy(old)
        if not alive:
            self._journals = []

    def __setitem__(self, key: Any, value: Any) -> None:
        self._note(key)
        dict.__setitem__(self, key, value)

    def __delitem__(self, key: Any) -> None:
        self._note(key)
        dict.__delitem__(self, key)

    def pop(self, key: Any, *default: Any) -> Any:
        self._note(key)
        return dict.pop(self, key, *default)

    def setdefault(self, key: Any, default: Any = None) -> Any:
        self._note(key)
        return dict.setdefault(self, key, default)

    def __getitem__(self, key: Any) -> Any:
        if self._copy is not None:
            self._note(key)
        return dict.__getitem__(self, key)

    def get(self, key: Any, default: Any = None) -> Any:
        if self._copy is not None:
            self._note(key)
        return dict.get(self, key, default)

    def popitem(self) -> tuple[Any, Any]:
        key = next(reversed(self))
        return key, self.pop(key)

    def clear(self) -> None:
        for key in list(self):
            self._note(key)
        dict.clear(self)

    def update(self, *args: Any, **kwargs: Any) -> None:
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def __ior__(self, other: Any) -> JournaledDict:
        self.update(other)
        return self

    def __reduce__(self) -> tuple:
        return (_journaled, (dict(self), self._copy is not None))


def _copy_counter(counter: ShareCounter) -> ShareCounter:
    return ShareCounter(counter.seen, dict(counter.used))


def _journaled(data: dict, counters: bool = False) -> JournaledDict:
    return JournaledDict(data, _copy_counter if counters else None)


_CHECKPOINTED = ("vacancies", "vacancy_channel", "counters", "base_refusals", "entitlements", "redirected")
"""The tables a round may change before its offers are made (`LettingLedger.checkpoint`)."""


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
    """`Applicant.refusal_count` as last handed in (refusals before this engine); absent: 0 (a
    round stores only a count that differs from the one kept)."""
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

    def __post_init__(self) -> None:
        self._journaled()

    def _journaled(self) -> None:
        """Make the checkpointed tables `JournaledDict`s (a caller may have put plain dicts there)."""
        for name in _CHECKPOINTED:
            table = getattr(self, name)
            if not isinstance(table, JournaledDict):
                setattr(self, name, _journaled(table, counters=name == "counters"))

    def checkpoint(self) -> dict:
        """What `rollback` needs to undo a failed offer round (everything a round changes before
        its offers are made: decisions, sequence, and the tables of `_CHECKPOINTED`, copy-on-write:
        each table saves the entries the round touches, so a checkpoint does not copy the tables)."""
        self._journaled()
        return {"decisions": len(self.decisions), "next_sequence": self.next_sequence,
                "journals": {name: getattr(self, name).journal() for name in _CHECKPOINTED}}

    def rollback(self, checkpoint: dict) -> None:
        del self.decisions[checkpoint["decisions"]:]
        self.next_sequence = checkpoint["next_sequence"]
        for name, journal in checkpoint["journals"].items():
            getattr(self, name).restore(journal)

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


__all__ = ["Entitlement", "JournaledDict", "LettingLedger", "Reactivation", "RedirectedReferral", "RoundRules", "ShareCounter"]
