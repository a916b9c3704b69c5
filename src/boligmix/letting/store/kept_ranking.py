"""A worker's ranking of each list between offer rounds: the engine's eligible candidates kept in
rank order per round context, updated by the candidates that changed.

An offer round by the engine ranks the whole list: each of some 2,000 candidates went through the
engine's candidate loop (the skip checks, the assessment looked up) and a sort by rank, and the
round's ranking was mapped back to store entries, every round, although between two rounds of one
list only a handful of households change (`store.list_cache`). Here a worker keeps, per list (owner
and list types) and round context (the engine's table of assessments: the dwelling's fields, the
channel, the policies in force and the date; `assessment._assessment_table`), the candidates of
the last round the engine found eligible, in rank order (`ranking.rank_sorter`), and the ones it did
not (rejected, held, or not to be taken as ranked: on another organisation's list, passive). A
round compares its candidates with the kept ones by entry object (the store's candidate entries
are one object per row version, `store.candidates`): the candidates gone are taken out of the
ranking, new ones are assessed by the engine (`_assess`, the same table) and put in their place;
then the engine gets the ranked ones as `ranking.PreRanked` and passes only the others (the
non-eligible, and the holders of a § 51 b entitlement, whose priority right the engine adds in the
round) through its loop. So the engine's round is the one it makes from the whole list: the same
offers, decisions and not-reached record (`tests/letting_store/test_letting_store_kept_ranking.py`
compares the two over random sequences of changes).

A kept ranking is changed in place (no copies of its ~2,000-entry structures per round) by the
one round that holds it (`KeptRanking.busy`, taken without waiting by `preranked` and given back by
`release` when the round's plan is made): a round of another thread of the worker that finds it held
gets None and the engine ranks the whole list (the same round; on PostgreSQL rounds of one list
take turns on its queue lock anyway, and SQLite serialises writes). A round that fails while it
changes the ranking drops it (the next round ranks afresh). Only the engine's waiting-list and
fleksibel rounds use it (`engine_rules.EngineRules.plan`); referral rounds, advert rounds and
rounds with entries not read by `store.candidates` go as before.
"""

from __future__ import annotations

import threading
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import compress, islice
from operator import is_
from typing import Any

from boligmix.errors import DataValidationError
from boligmix.letting.ranking import PreRanked, rank_sorter
from boligmix.letting.store import list_cache
from boligmix.letting.store.trail import _packed

MAX_KEPT = 64
"""Kept rankings per process (per list and round context); all are dropped when there are more."""
MAX_ENTRIES = 40_000
"""Candidates held by the kept rankings together before a new one drops them all (each holds its
assessment, some kB; the engine's memo of assessments has its own bound, 20,000)."""


@dataclass(eq=False)
class KeptRanking:
    """One list's candidates as of its last round in one round context, changed in place only by
    the round holding `busy`. Entries are keys by identity (the store's `CandidateEntry` has no
    `__eq__`: one object per row version), so a changed row is a new key."""

    table: Any
    """The engine's assessment table the assessments come from (its identity is the context)."""
    ranked: list[Any] = field(default_factory=list)
    """The eligible candidates' assessments in rank order."""
    eligible: dict[Any, Any] = field(default_factory=dict)
    """entry -> assessment of the ranked."""
    others: set[Any] = field(default_factory=set)
    """The entries the engine's loop decides about each round."""
    entries: set[Any] = field(default_factory=set)
    """Every entry kept (the ranked and the others): the last round's candidates."""
    ids: set[int] = field(default_factory=set)
    """The ranked candidates' applicant ids."""
    refusals: dict[int, int] = field(default_factory=dict)
    """Applicant id -> refusal count of the ranked with a count other than 0."""
    columns: tuple[list[Any], ...] = field(default_factory=lambda: tuple([] for _ in range(6)))
    """In the order of `ranked`: the entries, their entry, applicant and household ids, and what the
    trail's not-reached record holds of each (`trail._packed`: class number, seniority text), so a
    round's record copies slices instead of visiting each candidate (`trail.pack_below`)."""
    meeting: int = 0
    """How many of `ranked` meet every rule that lapses without a taker (`ranking.meeting_lapsing_rules`)."""
    source: Any = None
    """The worker's list copy (`list_cache.ListCopy`) whose entries are exactly `entries`, if any:
    the next round from a later copy takes the changes its history records (`list_cache.changes_since`)
    instead of comparing the whole candidate set."""
    busy: threading.Lock = field(default_factory=threading.Lock)
    """Held by the round that changes and reads this ranking (`preranked` to `release`)."""

    def _reset(self) -> None:
        """Empty (in place)."""
        for part in (self.ranked, self.eligible, self.others, self.entries, self.ids, self.refusals, *self.columns):
            part.clear()
        self.meeting, self.source = 0, None


_KEPT: dict[tuple[Any, ...], KeptRanking] = {}
_LOCK = threading.Lock()


def preranked(owner_key: tuple[Any, ...], engine: Any, vacancy: Any, channel: Any, org_id: str,
              list_types: frozenset[Any], entries: Sequence[Any], applicant_of: Callable[[Any], Any],
              now: Any, held: Any, source: Any = None) -> tuple[PreRanked, list[Any], KeptRanking] | None:
    """(the ranked candidates for `engine.next_offers(..., preranked=...)`, the other entries in
    list order for its loop, the kept ranking, held by the caller until it calls `release`: the
    ranked candidates and the kept ranking's columns are its own structures, valid until then) of
    this round's candidate `entries` (one per applicant, in list order);
    `held`: applicant ids holding a § 51 b entitlement (left to the loop); `source`: the list copy
    (`list_cache.ListCopy`) whose entries `entries` are, all of them in its order. None: the round context
    has no assessment table (not memoised), so nothing is kept, or another round holds its ranking."""
    on = now.date()
    in_force = engine.policies.in_force(vacancy.dwelling, on)
    table = engine._assessment_table_for(vacancy, channel, in_force, on)
    if table is None:
        return None
    key = (*owner_key, channel, id(table))
    with _LOCK:
        kept = _KEPT.get(key)
        if kept is None or kept.table is not table:
            if len(_KEPT) >= MAX_KEPT or sum(len(k.entries) for k in _KEPT.values()) > MAX_ENTRIES:
                _KEPT.clear()  # (a ranking held by a round stays its own until it is released)
            kept = _KEPT[key] = KeptRanking(table)
        if not kept.busy.acquire(blocking=False):
            return None  # another round of this worker holds it: the engine ranks the whole list
    try:
        _update(kept, engine, vacancy, channel, in_force, on, org_id, list_types, entries, applicant_of, source)
    except BaseException:  # half changed: dropped, so the next round ranks afresh
        with _LOCK:
            if _KEPT.get(key) is kept:
                del _KEPT[key]
        kept.busy.release()
        raise
    ranked, ids, refusals, others, meeting = kept.ranked, kept.ids, kept.refusals, kept.others, kept.meeting
    aside = ids.intersection(held) if held else ()
    if aside:  # entitlement holders: the engine adds their priority right in its loop
        ranked = [a for a in ranked if a.applicant.applicant_id not in aside]
        meeting = None  # (the engine counts)
        ids = ids.difference(aside)
        refusals = {aid: n for aid, n in refusals.items() if aid not in aside}
        loop = [e for e in entries if e in others or e.applicant_id in aside]
    else:
        loop = list(compress(entries, map(others.__contains__, entries))) if others else []
    return PreRanked(channel, table, org_id, list_types, ranked, ids, refusals, meeting), loop, kept


def release(kept: KeptRanking) -> None:
    """The round that got `kept` from `preranked` is done with it (its plan is made)."""
    kept.busy.release()


def _update(kept: KeptRanking, engine: Any, vacancy: Any, channel: Any, in_force: Any, on: Any, org_id: str,
            list_types: frozenset[Any], entries: Sequence[Any], applicant_of: Callable[[Any], Any],
            source: Any = None) -> None:
    """Change `kept` in place to exactly these candidate entries: the gone ones taken out, new ones
    assessed and ranked."""
    # The entries gone since the last round and the new ones: from the list copy's history when both
    # rounds took a copy's whole list (no step over the candidates), else one set operation over
    # the candidates (no Python step per candidate); what follows is per changed entry.
    diff = list_cache.changes_since(source, kept.source) if source is not None and kept.source is not None else None
    changed = diff[0] | diff[1] if diff is not None else kept.entries.symmetric_difference(entries)
    kept.source = source
    if not changed:
        return
    if len(changed) > len(entries) // 2:  # mostly new (a first round): rank afresh
        kept._reset()
        kept.source = source
        changed = set(entries)
    sorter = rank_sorter(channel)
    ranked, columns, eligible, others, ids, refusals = \
        kept.ranked, kept.columns, kept.eligible, kept.others, kept.ids, kept.refusals
    kept_entries = kept.entries
    new = []
    for entry in changed:
        if entry not in kept_entries:
            new.append(entry)
            continue
        kept_entries.discard(entry)
        assessment = eligible.pop(entry, None)
        if assessment is None:
            others.discard(entry)
            continue
        at = bisect_left(ranked, sorter(assessment), key=sorter)
        while ranked[at] is not assessment:  # equal keys only for one applicant's two entries
            at += 1
        del ranked[at]
        for column in columns:
            del column[at]
        aid = assessment.applicant.applicant_id
        ids.discard(aid)
        refusals.pop(aid, None)
        if not assessment.lapsed:
            kept.meeting -= 1
    fresh = []
    for entry in new:
        kept_entries.add(entry)
        applicant = applicant_of(entry)
        assessment = None
        if applicant.list_type in list_types and applicant.org_id == org_id and not applicant.passive \
                and applicant.applicant_id not in ids:
            try:
                assessment = engine._assess(vacancy, applicant, channel, in_force, on)
            except DataValidationError:  # the engine's loop names the applicant
                assessment = None
        if assessment is None or assessment.outcome is not None or assessment.applicant is not applicant:
            others.add(entry)
            continue
        eligible[entry] = assessment
        fresh.append((assessment, entry))
        if not assessment.lapsed:
            kept.meeting += 1
        ids.add(applicant.applicant_id)
        if applicant.refusal_count:
            refusals[applicant.applicant_id] = applicant.refusal_count
    if len(fresh) > 32:  # many: rank all afresh
        pairs = sorted([*zip(ranked, columns[0]), *fresh], key=lambda pair: sorter(pair[0]))
        ranked[:] = [a for a, _ in pairs]
        rows = list(zip(*map(_row, pairs))) if pairs else [()] * len(columns)
        for column, values in zip(columns, rows):
            column[:] = values
    else:
        for pair in fresh:
            at = bisect_right(ranked, sorter(pair[0]), key=sorter)
            ranked.insert(at, pair[0])
            for column, value in zip(columns, _row(pair)):
                column.insert(at, value)


def _row(pair: tuple[Any, Any]) -> tuple[Any, ...]:
    """One ranked candidate's values in `KeptRanking.columns`."""
    assessment, entry = pair
    _, number, seniority = _packed(assessment)
    return (entry, entry.entry_id, entry.applicant_id, entry.household_id, number, seniority)


def below_columns(kept_ranked: Sequence[Any], columns: tuple[list[Any], ...], below: Sequence[Any]
                  ) -> tuple[list[Any], ...] | None:
    """The columns of the candidates a round ranked below its offers (`below`, in rank order) when
    they are the tail of the kept ranking `kept_ranked` (the same objects in the same order: no
    candidate set aside or ranked by the engine's loop among them); None otherwise."""
    n = len(below)
    start = len(kept_ranked) - n
    if start < 0 or not all(map(is_, below, islice(kept_ranked, start, None))):  # pointers compared only
        return None
    return tuple(column[start:] for column in columns)


def clear() -> None:
    """Forget every kept ranking (tests; a process that changes its policies)."""
    with _LOCK:
        _KEPT.clear()


__all__ = ["KeptRanking", "MAX_ENTRIES", "MAX_KEPT", "below_columns", "clear", "preranked", "release"]
