"""The audit trail in its compact form: one `decisions` row per offer round instead of one per candidate.

An offer round decides about every candidate on the list (offered, ranked below the offers,
skipped, rejected): some 2,000 decisions a round with 2,000 applicants. They are stored as ONE row
of `decisions` with outcome `round` (migration 0016), whose `facts` hold the round's decisions
column by column (`pack`): the candidates' entry, applicant and household ids, offer ids and ranks
as plain columns; outcome, channel, rule, rule version and law once per distinct verdict; each
reason, set of unknown facts and list of fact names once; and per decision the values of its
facts, in the order of its fact names (no name repeated per candidate). Decisions that other rows refer to (`entitled`, `redirected`: entitlements and redirected
referrals point at their decision id) and every decision outside offer rounds (channel, accept,
refusal, withdrawal, letting, passive, ...) stay one row each.

Readers never see the compact form: `expand` turns stored rows into `TrailDecision`s, one per
decision with every field of a `decisions` row, in the order the decisions were taken (a round's
decisions share its `decision_id` and are ordered by `position`). The trail endpoint, `letting
explain --db`, the reports and the tests read the trail through `expand` (or `trail`), so rows
stored one per candidate before migration 0016 stay readable as they are.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from boligmix.letting.ranking import REFERRAL_CHANNELS, not_reached_reason
from boligmix.letting.store.db import dumps_json
from boligmix.letting.store.errors import StoreInvariantError
from boligmix.letting.store.models import Decision

ROUND = "round"
"""The outcome of a compact round row (never an outcome of a decision about a candidate)."""
ROUND_RULE = "boligmix.store#round"
FORMAT = "boligmix.round/1"
_PLAIN = ("entry_id", "applicant_id", "household_id", "offer_id", "rank")
_VERDICT = ("outcome", "channel", "rule", "rule_version", "law")


@dataclass(frozen=True)
class TrailDecision:
    """One decision of the trail, as a `decisions` row has it (`position`: its place in a compact
    round row, from 1; 0 for a decision stored as a row of its own)."""

    decision_id: int
    created_at: datetime
    outcome: str
    vacancy_id: int
    dwelling_id: int
    channel: str | None
    offer_id: int | None
    entry_id: int | None
    applicant_id: int | None
    household_id: int | None
    rank: int | None
    rule: str
    rule_version: str
    law: str | None
    reason: str
    facts: dict[str, Any] = field(default_factory=dict)
    unknown_facts: list[str] = field(default_factory=list)
    actor: str = ""
    position: int = 0
    as_of: datetime | None = None
    """The time the round ranked the candidate by (a not-reached decision; `recompute_not_reached`)."""


def pack_below(below: Any, channel: str | None, as_of: datetime | None = None) -> dict[str, Any]:
    """The candidates a round ranked below its offers (`selection.RankedBelow`) as the compact
    record's `below` part: ids and seniority per candidate, and per distinct priority class (list
    type, priorities met, priority key, unknown facts) an index; the rank of each is its place.

    What a candidate contributes (its class and seniority text) is kept per assessment object
    (`_packed`): the store's rounds reuse an unchanged candidate's assessment between rounds, so
    a round packs only new and changed candidates afresh."""
    record = below.record
    columns = getattr(below, "columns", None)
    if columns is not None:  # kept by the rules (`store.kept_ranking`): slices, no visit per candidate
        entry_ids, applicant_ids, household_ids, numbers, seniority = columns
        classes = list(dict.fromkeys(numbers))  # the process-wide class numbers in order of first use
        index = {number: i for i, number in enumerate(classes)}
        return _below_record(record, channel, as_of, entry_ids, applicant_ids, household_ids, classes,
                             list(map(index.__getitem__, numbers)), seniority)
    local: dict[int, int] = {}  # the process-wide class number -> this record's class index
    klass = []
    seniority = []
    cache = _PACKED
    if len(cache) > _PACKED_LIMIT:
        cache.clear()
    for a in record.assessments:
        hit = cache.get(id(a))
        if hit is None or hit[0] is not a:
            hit = cache[id(a)] = _packed(a)
        klass.append(local.setdefault(hit[1], len(local)))
        seniority.append(hit[2])
    entries = below.entries
    return _below_record(record, channel, as_of, [e.entry_id for e in entries], [e.applicant_id for e in entries],
                         [e.household_id for e in entries], list(local), klass, seniority)


def _below_record(record: Any, channel: str | None, as_of: datetime | None, entry_ids: list[Any],
                  applicant_ids: list[Any], household_ids: list[Any], classes: list[int], klass: list[int],
                  seniority: list[str]) -> dict[str, Any]:
    """`pack_below`'s record from its columns (`classes`: the process-wide class numbers used)."""
    out = {"entry_id": entry_ids, "applicant_id": applicant_ids,
           "household_id": household_ids, "first_rank": record.first_rank,
           "offers_per_round": record.offers_per_round, "eligible": record.eligible,
           "verdict": ["skipped", channel, record.rule_id, record.rule_version, record.law],
           "classes": [[k[0], list(k[1]), list(k[2]), list(k[3])] for k in map(_CLASS_KEYS.__getitem__, classes)],
           "class": klass, "seniority": seniority, "as_of": as_of.isoformat() if as_of is not None else None}
    if record.channel in REFERRAL_CHANNELS:  # the municipality's order is a fact of a referral's decision
        out["referral_order"] = [a.applicant.referral_order for a in record.assessments]
    return out


_PACKED: dict[int, tuple[Any, int, str]] = {}
"""Per assessment object (by id, the object kept to check the id is still its): its class number
(`_CLASS_NUMBERS`) and seniority date text, as `pack_below` records them."""
_PACKED_LIMIT = 50_000
_CLASS_NUMBERS: dict[tuple[Any, ...], int] = {}
_CLASS_KEYS: list[tuple[Any, ...]] = []
"""The priority classes (list type, priorities met, priority key, unknown facts) a process has
packed, numbered in order (a handful: one per combination of priorities met and unknown facts)."""


def _packed(a: Any) -> tuple[Any, int, str]:
    ap = a.applicant
    key = (ap.list_type.value, a.priorities_met, a.priority_key, a.unknown)
    number = _CLASS_NUMBERS.get(key)
    if number is None:
        with _CLASS_LOCK:
            number = _CLASS_NUMBERS.get(key)
            if number is None:
                _CLASS_KEYS.append(key)
                number = _CLASS_NUMBERS[key] = len(_CLASS_KEYS) - 1
    return (a, number, ap.seniority_date.isoformat())


_CLASS_LOCK = threading.Lock()


def _unpack_below(row: Any, below: dict[str, Any], position: int) -> list[TrailDecision]:
    """The not-reached decisions of a compact round row's `below` part (positions after `position`)."""
    outcome, channel, rule, version, law = below["verdict"]
    classes, size, first = below["classes"], below["offers_per_round"], below["first_rank"]
    as_of = datetime.fromisoformat(below["as_of"]) if below.get("as_of") else None
    orders = below.get("referral_order")  # a referral channel's round (absent in the waiting-list channels)
    out = []
    for i, (entry_id, applicant_id, household_id, k, seniority) in enumerate(zip(
            below["entry_id"], below["applicant_id"], below["household_id"], below["class"], below["seniority"])):
        list_type, met, key, unknown = classes[k]
        rank = first + i
        facts = {"list_type": list_type, "seniority_date": seniority, "priorities_met": list(met),
                 "priority_key": list(key), "not_reached": True}
        if orders is not None:
            facts["referral_order"] = orders[i]
        out.append(TrailDecision(
            decision_id=row.decision_id, created_at=row.created_at, outcome=outcome, vacancy_id=row.vacancy_id,
            dwelling_id=row.dwelling_id, channel=channel, offer_id=None, entry_id=entry_id,
            applicant_id=applicant_id, household_id=household_id, rank=rank, rule=rule, rule_version=version,
            law=law, reason=not_reached_reason(rank, size),
            facts=facts,
            unknown_facts=list(unknown), actor=row.actor, position=position + i + 1, as_of=as_of))
    return out


def pack(rows: Sequence[dict[str, Any]], below: dict[str, Any] | None = None) -> dict[str, Any]:
    """The decisions of one round (dicts with the columns of `decisions`) as the compact record;
    `below`: the candidates ranked below the offers (`pack_below`), after the rows."""
    verdicts: dict[tuple, int] = {}
    reasons: dict[str, int] = {}
    unknowns: dict[tuple, int] = {}
    key_sets: dict[tuple, int] = {}
    n = len(rows)
    out: dict[str, Any] = {"format": FORMAT, "n": n, **{c: [r[c] for r in rows] for c in _PLAIN}}
    verdict, reason, unknown, keys, values = [0] * n, [0] * n, [0] * n, [0] * n, [None] * n
    for i, r in enumerate(rows):
        v = (r["outcome"], r["channel"], r["rule"], r["rule_version"], r["law"])
        verdict[i] = verdicts.setdefault(v, len(verdicts))
        reason[i] = reasons.setdefault(r["reason"], len(reasons))
        unknown[i] = unknowns.setdefault(tuple(r["unknown_facts"] or ()), len(unknowns))
        facts = r["facts"] or {}
        keys[i] = key_sets.setdefault(tuple(facts), len(key_sets))
        values[i] = list(facts.values())
    out.update({"verdicts": [list(v) for v in verdicts], "verdict": verdict, "reasons": list(reasons),
                "reason": reason, "unknowns": [list(u) for u in unknowns], "unknown": unknown,
                "key_sets": [list(k) for k in key_sets], "keys": keys, "values": values})
    if below is not None:
        out["below"] = below
    return out


def unpack(row: Any) -> list[TrailDecision]:
    """The decisions of a compact round row, in the order they were taken."""
    data = row.facts or {}
    if data.get("format") != FORMAT:
        raise StoreInvariantError(f"decision {row.decision_id}: a round record of unknown format "
                                  f"{data.get('format')!r}")
    verdicts, reasons, unknowns, key_sets = data["verdicts"], data["reasons"], data["unknowns"], data["key_sets"]
    values = data["values"]
    plain = [data[c] for c in _PLAIN]
    out = []
    for i in range(data["n"]):
        outcome, channel, rule, version, law = verdicts[data["verdict"][i]]
        entry_id, applicant_id, household_id, offer_id, rank = (c[i] for c in plain)
        out.append(TrailDecision(
            decision_id=row.decision_id, created_at=row.created_at, outcome=outcome, vacancy_id=row.vacancy_id,
            dwelling_id=row.dwelling_id, channel=channel, offer_id=offer_id, entry_id=entry_id,
            applicant_id=applicant_id, household_id=household_id, rank=rank, rule=rule, rule_version=version,
            law=law, reason=reasons[data["reason"][i]], facts=dict(zip(key_sets[data["keys"][i]], values[i])),
            unknown_facts=list(unknowns[data["unknown"][i]]), actor=row.actor, position=i + 1))
    if "below" in data:
        out += _unpack_below(row, data["below"], data["n"])
    return out


def one(row: Any) -> TrailDecision:
    """A decision stored as a row of its own."""
    return TrailDecision(
        decision_id=row.decision_id, created_at=row.created_at, outcome=row.outcome, vacancy_id=row.vacancy_id,
        dwelling_id=row.dwelling_id, channel=row.channel, offer_id=row.offer_id, entry_id=row.entry_id,
        applicant_id=row.applicant_id, household_id=row.household_id, rank=row.rank, rule=row.rule,
        rule_version=row.rule_version, law=row.law, reason=row.reason, facts=dict(row.facts or {}),
        unknown_facts=list(row.unknown_facts or ()), actor=row.actor)


def expand(rows: Iterable[Any]) -> list[TrailDecision]:
    """Stored `decisions` rows (in trail order) as the decisions they record, in trail order."""
    out: list[TrailDecision] = []
    for row in rows:
        if row.outcome == ROUND:
            out += unpack(row)
        else:
            out.append(one(row))
    return out


def trail(s: Session, *conditions: Any) -> list[TrailDecision]:
    """The decisions of the rows matching `conditions` (on `Decision` columns about the row: vacancy,
    dwelling, time), expanded, in trail order."""
    return expand(s.scalars(select(Decision).where(*conditions).order_by(Decision.decision_id)))


def write_round(s: Session, rows: Sequence[dict[str, Any]], *, actor: str, at: datetime,
                below: Any = None, as_of: datetime | None = None) -> int | None:
    """Store the decisions `rows` of one round (one vacancy) as one compact row, with the
    candidates ranked below the offers (`below`, a `selection.RankedBelow`, ranked at `as_of`) after
    them; its decision id (None when there are no rows)."""
    if not rows:
        if below is not None and below.entries:
            raise StoreInvariantError("candidates ranked below the offers of a round without decisions")
        return None
    first = rows[0]
    if any(r["vacancy_id"] != first["vacancy_id"] for r in rows):
        raise StoreInvariantError("the decisions of one round belong to one vacancy")
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["outcome"]] = counts.get(r["outcome"], 0) + 1
    n = len(rows)
    if below is not None and below.entries:
        n += len(below.entries)
        counts["skipped"] = counts.get("skipped", 0) + len(below.entries)
    summary = ", ".join(f"{n} {o}" for o, n in counts.items())
    reason = f"offer round: {n} decisions ({summary}), stored compactly"
    facts = pack(rows, pack_below(below, first["channel"], as_of) if below is not None and below.entries else None)
    conn = s.connection()
    if conn.dialect.name == "postgresql":  # driver SQL: the same row and JSON text, no ORM statement per round
        return int(conn.exec_driver_sql(_ROUND_INSERT_PG, (
            at, ROUND, first["vacancy_id"], first["dwelling_id"], first["channel"], ROUND_RULE, FORMAT, reason,
            dumps_json(facts), "[]", actor)).scalar_one())
    result = s.execute(insert(Decision.__table__).returning(Decision.__table__.c.decision_id), [{
        "created_at": at, "outcome": ROUND, "vacancy_id": first["vacancy_id"], "dwelling_id": first["dwelling_id"],
        "channel": first["channel"], "offer_id": None, "entry_id": None, "applicant_id": None, "household_id": None,
        "rank": None, "rule": ROUND_RULE, "rule_version": FORMAT, "law": None, "reason": reason,
        "facts": facts, "unknown_facts": [], "actor": actor}])
    return int(result.scalar_one())


_ROUND_INSERT_PG = (
    "INSERT INTO decisions (created_at, outcome, vacancy_id, dwelling_id, channel, rule, rule_version, reason, "
    "facts, unknown_facts, actor) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s::json, %s::json, %s) "
    "RETURNING decision_id")
"""The compact round row (PostgreSQL); the columns not named are NULL, as the ORM insert writes them."""


__all__ = ["ROUND", "ROUND_RULE", "TrailDecision", "expand", "one", "pack", "pack_below", "trail", "unpack",
           "write_round"]
