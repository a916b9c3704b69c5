"""Statutory reports from the letting store's audit trail.

* `dispensation_report`: § 51 c dispensations (mandatory rejection in omdannelsesområder). The
  municipality may dispense "in very special cases" and reports the dispensations each 1 July
  (rules-spec 6.4; bek. om udlejning af almene boliger § 37 names the factors). A dispensation
  counts when it let an applicant past the § 51 c rejection: an `offered` decision in the period
  whose facts carry `dispensation:<rule>` (the engine records it, with the grounds the
  municipality gave as the applicant fact `dispensation_51c_grounds`). A dispensation granted but
  never used for an offer leaves no trace in the trail and is not counted.
* `rejection_report`: § 51 b (kombineret udlejning) rejections, "reported to the minister":
  distinct applicants rejected per area (and department) in the period.

The reporting period runs from `period_end` minus one year (inclusive) to `period_end`
(exclusive); by default `period_end` is the latest 1 July on or before today. Municipalities see
their own municipalities with exact counts; analysts see every municipality through the
disclosure policy (`boligmix.report.disclosure.protect`: small counts suppressed, also
secondarily so the grounds cannot be recovered from the total). Other roles get 403.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date, datetime, time, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from boligmix.letting.store.access import require_report
from boligmix.letting.store.auth import Principal
from boligmix.letting.store.errors import InvalidRequestError
from boligmix.letting.store.models import Decision, Department, Dwelling
from boligmix.letting.store.trail import ROUND, TrailDecision, expand

DISPENSATION_GROUNDS: tuple[str, ...] = (
    "imminent_work_or_education", "imminent_pension", "housing_outside_area", "disproportionate_hardship",
)
"""The factors of bek. om udlejning af almene boliger § 37 (rules-spec 6.4): imminent work or
education, imminent pension, prospects of housing outside the area, disproportionate hardship.
Values of the applicant fact `dispensation_51c_grounds` (one value or a list)."""

GROUNDS_FACT = "dispensation_51c_grounds"
NOT_STATED = "not_stated"
UNRECOGNISED = "unrecognised"
LEVELS = ("municipality", "organisation", "department")
REPORT_DAY = (7, 1)
"""Dispensations are reported each 1 July (rules-spec 6.4)."""


def default_period_end(today: date | None = None) -> date:
    """The latest 1 July on or before `today` (default: today, UTC)."""
    today = today or datetime.now(timezone.utc).date()
    this_year = date(today.year, *REPORT_DAY)
    return this_year if today >= this_year else date(today.year - 1, *REPORT_DAY)


def _period(period_end: date | None, period_start: date | None) -> tuple[date, date]:
    end = period_end or default_period_end()
    start = period_start or (end.replace(year=end.year - 1) if (end.month, end.day) != (2, 29)
                             else date(end.year - 1, 3, 1))
    if start >= end:
        raise InvalidRequestError(f"the period start {start.isoformat()} must be before its end {end.isoformat()}")
    return start, end


def _scope(p: Principal, municipality_code: int | None) -> None:
    if p.role == "municipality" and municipality_code is None:
        raise InvalidRequestError("a municipality names the municipality_code it reports for")
    require_report(p, municipality_code)


def _key(level: str, d: Department) -> tuple[Any, ...]:
    if level == "municipality":
        return (d.municipality_code,)
    if level == "organisation":
        return (d.municipality_code, d.org_id)
    return (d.municipality_code, d.org_id, d.department_id)


def _key_columns(level: str) -> tuple[str, ...]:
    return ("municipality_code", "org_id", "department_id")[: LEVELS.index(level) + 1]


def _grounds(value: Any) -> list[str]:
    """The grounds given (a value or a list) as report columns."""
    values = value if isinstance(value, (list, tuple)) else [value]
    out = []
    for v in values:
        if v is None or v == "":
            out.append(NOT_STATED)
        elif v in DISPENSATION_GROUNDS:
            out.append(str(v))
        else:
            out.append(UNRECOGNISED)
    return sorted(set(out)) or [NOT_STATED]


def _decisions(s: Session, outcome: str, start: date, end: date, municipality_code: int | None,
               keep: Callable[[TrailDecision], bool]) -> Iterable[tuple[TrailDecision, Department]]:
    """The decisions with `outcome` taken in the period that `keep` keeps, with their department
    (compact round records expanded, `store.trail`)."""
    t0 = datetime.combine(start, time.min, tzinfo=timezone.utc)
    t1 = datetime.combine(end, time.min, tzinfo=timezone.utc)
    stmt = (select(Decision, Department).join(Dwelling, Dwelling.dwelling_id == Decision.dwelling_id)
            .join(Department, Department.department_id == Dwelling.department_id)
            .where(Decision.outcome.in_([outcome, ROUND]), Decision.created_at >= t0, Decision.created_at < t1)
            .order_by(Decision.decision_id))
    if municipality_code is not None:
        stmt = stmt.where(Department.municipality_code == municipality_code)
    return [(dec, dep) for row, dep in s.execute(stmt) for dec in expand([row])
            if dec.outcome == outcome and keep(dec)]


Sum = tuple[list[str], str, bool]
"""Counts `parts` adding up to (remainder False) or being part of (True) the count `total` in each row."""


def _publish(p: Principal, rows: list[dict[str, Any]], counts: list[str], sums: list[Sum],
             name: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Rows as they may be shown to `p`: exact for a municipality, through disclosure control for
    analysts. A part of a total is protected with its rest (`Sum` with remainder True) in the rows
    where it is one (the parts do not exceed the total), so "48 of 50" does not tell that 2 lack it."""
    if p.role != "analyst":
        return rows, {"suppression": "none (the municipality's own report)"}
    import polars as pl

    from boligmix.report.disclosure import Additive, protect

    if not rows:
        return rows, {"suppression": "disclosure policy (no rows)"}
    frame = pl.DataFrame(rows)
    flags = [f"_part_{k}" for k in range(len(sums))]
    frame = frame.with_columns((pl.sum_horizontal(parts) <= pl.col(total)).alias(flag)
                               for (parts, total, _), flag in zip(sums, flags))
    totals = [Additive(parts, total, remainder=remainder, where=flag)
              for (parts, total, remainder), flag in zip(sums, flags)]
    table = protect(frame, counts=counts, totals=totals, name=name)
    return table.frame.drop(flags).to_dicts(), {"suppression": "disclosure policy", "disclosure_policy_version":
                                    table.policy.version, "min_count": table.policy.min_count,
                                    "suppressed_cells": table.summary()}


def dispensation_report(s: Session, p: Principal, *, municipality_code: int | None = None,
                        period_end: date | None = None, period_start: date | None = None,
                        level: str = "department") -> dict[str, Any]:
    """§ 51 c dispensations used in the period, per `level` (municipality, organisation or
    department): distinct applicants, their offers and lettings, and the applicants by ground
    (`grounds.<factor>`, plus `not_stated` and `unrecognised`; an applicant with several grounds
    counts under each, so the grounds add up to the applicants only when each gave one)."""
    if level not in LEVELS:
        raise InvalidRequestError(f"level must be one of {', '.join(LEVELS)}")
    _scope(p, municipality_code)
    start, end = _period(period_end, period_start)
    applicants: dict[tuple, set[int]] = defaultdict(set)
    offers: dict[tuple, set[int]] = defaultdict(set)
    grounds: dict[tuple, dict[int, list[str]]] = defaultdict(dict)
    rules: set[tuple[str, str]] = set()
    for dec, dep in _decisions(s, "offered", start, end, municipality_code,
                                lambda dec: any(k.startswith("dispensation:") for k in dec.facts or {})):
        used = sorted(k[len("dispensation:"):] for k, v in (dec.facts or {}).items()
                      if k.startswith("dispensation:") and v is True)
        if not used or dec.applicant_id is None:
            continue
        key = _key(level, dep)
        applicants[key].add(dec.applicant_id)
        if dec.offer_id is not None:
            offers[key].add(dec.offer_id)
        grounds[key][dec.applicant_id] = _grounds((dec.facts or {}).get(GROUNDS_FACT))  # the latest in the period
        rules.update((rule, str((dec.facts or {}).get(f"dispensation_version:{rule}", ""))) for rule in used)
    let_offers = {o for keyed in offers.values() for o in keyed}
    lettings: dict[tuple, int] = defaultdict(int)
    if let_offers:
        for dec, dep in _decisions(s, "let", start, date.max, municipality_code,
                                   lambda dec: dec.offer_id in let_offers):
            lettings[_key(level, dep)] += 1
    columns = [*DISPENSATION_GROUNDS, NOT_STATED, UNRECOGNISED]
    rows = []
    for key in sorted(applicants):
        by_ground = {f"grounds.{g}": sum(g in gs for gs in grounds[key].values()) for g in columns}
        rows.append({**dict(zip(_key_columns(level), key)), "applicants": len(applicants[key]),
                     "offers": len(offers[key]), "lettings": lettings[key], **by_ground})
    single = all(len(gs) == 1 for per in grounds.values() for gs in per.values())
    ground_cols = [f"grounds.{g}" for g in columns]
    # the grounds add up to the applicants when each gave one, else each is a part of them; the
    # lettings are the offers taken
    sums: list[Sum] = [(ground_cols, "applicants", False)] if single else \
        [([g], "applicants", True) for g in ground_cols]
    shown, disclosure = _publish(p, rows, ["applicants", "offers", "lettings", *ground_cols],
                                 [*sums, (["lettings"], "offers", True)], "dispensations_51c")
    return {"report": "dispensations_51c", "law": "almenboligloven § 51 c; bek. om udlejning af almene boliger § 37",
            "period_start": start.isoformat(), "period_end_exclusive": end.isoformat(), "level": level,
            "municipality_code": municipality_code, "grounds": columns,
            "rules": [{"rule": r, "rule_version": v} for r, v in sorted(rules)],
            "counted": "offers in the period that a § 51 c dispensation let past the rejection; lettings of those offers",
            "rows": shown, **disclosure}


def rejection_report(s: Session, p: Principal, *, municipality_code: int | None = None,
                     period_end: date | None = None, period_start: date | None = None) -> dict[str, Any]:
    """§ 51 b (kombineret udlejning) rejections in the period: distinct applicants rejected and
    rejection decisions, per municipality, area and department (the decisions whose law names § 51 b)."""
    _scope(p, municipality_code)
    start, end = _period(period_end, period_start)
    people: dict[tuple, set[int]] = defaultdict(set)
    count: dict[tuple, int] = defaultdict(int)
    rules: set[tuple[str, str]] = set()
    for dec, dep in _decisions(s, "rejected", start, end, municipality_code,
                                lambda dec: "51 b" in (dec.law or "")):
        key = (dep.municipality_code, dep.area_id, dep.org_id, dep.department_id)
        count[key] += 1
        if dec.applicant_id is not None:
            people[key].add(dec.applicant_id)
        rules.add((dec.rule, dec.rule_version))
    rows = [{"municipality_code": k[0], "area_id": k[1], "org_id": k[2], "department_id": k[3],
             "applicants_rejected": len(people[k]), "rejections": count[k]} for k in sorted(count, key=str)]
    shown, disclosure = _publish(p, rows, ["applicants_rejected", "rejections"], [], "rejections_51b")
    return {"report": "rejections_51b", "law": "almenboligloven § 51 b", "period_start": start.isoformat(),
            "period_end_exclusive": end.isoformat(), "municipality_code": municipality_code,
            "rules": [{"rule": r, "rule_version": v} for r, v in sorted(rules)], "rows": shown, **disclosure}


def decision_report(s: Session, p: Principal, *, municipality_code: int | None = None,
                    period_end: date | None = None, period_start: date | None = None) -> dict[str, Any]:
    """The letting decisions of the period in aggregate: per municipality, organisation, channel,
    outcome and rule, the decisions and the distinct applicants they concern. What the analyst
    role sees of the trail (through disclosure control; the row-level trail is not for analysts)."""
    _scope(p, municipality_code)
    start, end = _period(period_end, period_start)
    t0 = datetime.combine(start, time.min, tzinfo=timezone.utc)
    t1 = datetime.combine(end, time.min, tzinfo=timezone.utc)
    stmt = (select(Department.municipality_code, Department.org_id, Decision)
            .join(Dwelling, Dwelling.dwelling_id == Decision.dwelling_id)
            .join(Department, Department.department_id == Dwelling.department_id)
            .where(Decision.created_at >= t0, Decision.created_at < t1))
    if municipality_code is not None:
        stmt = stmt.where(Department.municipality_code == municipality_code)
    count: dict[tuple, int] = defaultdict(int)
    people: dict[tuple, set[int]] = defaultdict(set)
    for code, org, row in s.execute(stmt):
        for dec in expand([row]):  # a compact round record counts as the decisions it holds
            key = (code, org, dec.channel or "", dec.outcome, dec.rule, dec.rule_version)
            count[key] += 1
            if dec.applicant_id is not None:
                people[key].add(dec.applicant_id)
    rows = [{"municipality_code": k[0], "org_id": k[1], "channel": k[2], "outcome": k[3], "rule": k[4],
             "rule_version": k[5], "decisions": count[k], "applicants": len(people[k])}
            for k in sorted(count, key=str)]
    shown, disclosure = _publish(p, rows, ["decisions", "applicants"], [], "letting_decisions")
    return {"report": "letting_decisions", "period_start": start.isoformat(),
            "period_end_exclusive": end.isoformat(), "municipality_code": municipality_code, "rows": shown,
            **disclosure}


__all__ = ["DISPENSATION_GROUNDS", "decision_report", "default_period_end", "dispensation_report",
           "rejection_report"]
