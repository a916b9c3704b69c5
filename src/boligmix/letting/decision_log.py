"""The decision log as a file: one Decision per line (`.jsonl`) or per row (`.parquet`).

Columns are `DECISION_FIELDS`; `facts` is a JSON object (a JSON string column in Parquet),
`unknown_facts` a list of field names, `decided_at` an ISO timestamp. Files are written
atomically (temporary file, then rename). Reading validates every row and names the file,
row (1-based) and column of the first problem. Identifier columns (`decision_id`,
`vacancy_id`, `round_id`, `offer_id`) may be strings or integers, so an export of the letting
store's decision table reads too.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from boligmix.errors import DataValidationError
from boligmix.letting.model import DECISION_FIELDS, Channel, Decision, Outcome
from boligmix.report._files import atomic_path

SUFFIXES = (".jsonl", ".parquet")


def decision_to_record(decision: Decision) -> dict[str, Any]:
    """A JSON-safe mapping of one Decision (the store and the API use the same shape)."""
    return {
        "decision_id": decision.decision_id,
        "sequence": decision.sequence,
        "decided_at": decision.decided_at.isoformat(),
        "outcome": decision.outcome.value,
        "vacancy_id": decision.vacancy_id,
        "dwelling_id": decision.dwelling_id,
        "unit": decision.unit,
        "channel": None if decision.channel is None else decision.channel.value,
        "round_id": decision.round_id,
        "applicant_id": decision.applicant_id,
        "household_id": decision.household_id,
        "rule_id": decision.rule_id,
        "rule_version": decision.rule_version,
        "law": decision.law,
        "reason": decision.reason,
        "facts": dict(decision.facts),
        "unknown_facts": list(decision.unknown_facts),
        "rank": decision.rank,
        "offer_id": decision.offer_id,
    }


def _fail(message: str, path: str, row: int, column: str | None) -> DataValidationError:
    return DataValidationError(message, path=path, row=row, column=column)


def decision_from_record(record: Mapping[str, Any], *, path: str = "<record>", row: int = 1) -> Decision:
    """Validate and build a Decision from `decision_to_record`'s shape."""
    if not isinstance(record, Mapping):
        raise _fail("a decision record must be a JSON object", path, row, None)
    missing = [f for f in DECISION_FIELDS if f not in record]
    if missing:
        raise _fail(f"missing field(s): {', '.join(missing)}", path, row, missing[0])
    extra = sorted(set(record) - set(DECISION_FIELDS))
    if extra:
        raise _fail(f"unknown field(s): {', '.join(extra)}", path, row, extra[0])

    def need(name: str, kind: type | tuple[type, ...], nullable: bool = False) -> Any:
        value = record[name]
        if value is None and nullable:
            return None
        if isinstance(value, bool) and kind is not bool or not isinstance(value, kind):
            raise _fail(f"expected {getattr(kind, '__name__', kind)}, got {value!r}", path, row, name)
        return value

    def ident(name: str, nullable: bool = False) -> str | None:
        """Identifiers may be strings or integers (the store numbers its rows)."""
        value = need(name, (str, int), nullable)
        return None if value is None else str(value)

    try:
        decided_at = datetime.fromisoformat(need("decided_at", str))
    except ValueError:
        raise _fail(f"not an ISO timestamp: {record['decided_at']!r}", path, row, "decided_at") from None
    try:
        outcome = Outcome(need("outcome", str))
    except ValueError:
        raise _fail(f"unknown outcome {record['outcome']!r}; known: {', '.join(o.value for o in Outcome)}",
                    path, row, "outcome") from None
    channel_value = need("channel", str, nullable=True)
    try:
        channel = None if channel_value is None else Channel(channel_value)
    except ValueError:
        raise _fail(f"unknown channel {channel_value!r}", path, row, "channel") from None
    facts = record["facts"]
    if isinstance(facts, str):
        try:
            facts = json.loads(facts)
        except json.JSONDecodeError:
            raise _fail("facts is not valid JSON", path, row, "facts") from None
    if not isinstance(facts, Mapping):
        raise _fail("facts must be an object", path, row, "facts")
    unknown = record["unknown_facts"]
    if unknown is None:
        unknown = []
    if not isinstance(unknown, (list, tuple)) or not all(isinstance(u, str) for u in unknown):
        raise _fail("unknown_facts must be a list of field names", path, row, "unknown_facts")
    return Decision(
        decision_id=ident("decision_id"), sequence=need("sequence", int), decided_at=decided_at,
        outcome=outcome, vacancy_id=ident("vacancy_id"), dwelling_id=need("dwelling_id", int),
        unit=need("unit", str, True), channel=channel, round_id=ident("round_id", True),
        applicant_id=need("applicant_id", int, True), household_id=need("household_id", int, True),
        rule_id=need("rule_id", str, True), rule_version=need("rule_version", str, True),
        law=need("law", str, True), reason=need("reason", str), facts=dict(facts),
        unknown_facts=tuple(unknown), rank=need("rank", int, True), offer_id=ident("offer_id", True))


def _suffix(path: Path) -> str:
    if path.suffix not in SUFFIXES:
        raise DataValidationError(f"a decision log must end in {' or '.join(SUFFIXES)}", path=str(path))
    return path.suffix


def write_decision_log(path: str | os.PathLike[str], decisions: Iterable[Decision]) -> Path:
    """Write decisions to `.jsonl` or `.parquet`, atomically."""
    target = Path(path)
    suffix = _suffix(target)
    records = [decision_to_record(d) for d in decisions]
    with atomic_path(target, suffix=suffix) as tmp:
        if suffix == ".jsonl":
            with open(tmp, "w", encoding="utf-8") as fh:
                for rec in records:
                    fh.write(json.dumps(rec, ensure_ascii=False, sort_keys=False) + "\n")
        else:
            rows = [{**rec, "facts": json.dumps(rec["facts"], ensure_ascii=False)} for rec in records]
            schema = {"decision_id": pl.String, "sequence": pl.Int64, "decided_at": pl.String, "outcome": pl.String,
                      "vacancy_id": pl.String, "dwelling_id": pl.Int64, "unit": pl.String, "channel": pl.String,
                      "round_id": pl.String, "applicant_id": pl.Int64, "household_id": pl.Int64,
                      "rule_id": pl.String, "rule_version": pl.String, "law": pl.String, "reason": pl.String,
                      "facts": pl.String, "unknown_facts": pl.List(pl.String), "rank": pl.Int64,
                      "offer_id": pl.String}
            pl.DataFrame(rows, schema=schema).write_parquet(tmp)
    return target


def read_decision_log(path: str | os.PathLike[str]) -> list[Decision]:
    """Read and validate a decision log written by `write_decision_log` (or the letting store)."""
    source = Path(path)
    suffix = _suffix(source)
    if not source.is_file():
        raise DataValidationError("decision log not found", path=str(source))
    out: list[Decision] = []
    if suffix == ".jsonl":
        try:
            lines = source.read_bytes().decode("utf-8").splitlines()
        except UnicodeDecodeError as exc:
            raise DataValidationError(f"not UTF-8 text ({exc.reason} at byte {exc.start}): not a decision log",
                                      path=str(source)) from None
        for row, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataValidationError(f"not valid JSON: {exc.msg}", path=str(source), row=row) from None
            out.append(decision_from_record(record, path=str(source), row=row))
        if not out:
            raise DataValidationError("the decision log is empty (no decisions)", path=str(source))
    else:
        try:
            frame = pl.read_parquet(source)
        except Exception as exc:  # polars raises several error types for a broken file
            raise DataValidationError(f"cannot read Parquet: {exc}", path=str(source)) from None
        for row, record in enumerate(frame.iter_rows(named=True), start=1):
            out.append(decision_from_record(record, path=str(source), row=row))
    return out


__all__ = ["decision_from_record", "decision_to_record", "read_decision_log", "write_decision_log"]
