"""Case assessment for caseworkers and checks: may this applicant have this dwelling through this
channel on this date, and if not, which rule of which law says so?

A cases file is JSON Lines, one case per line, with the department, dwelling and applicant in
exactly the shapes of the letting API's registration bodies (`boligmix.letting.bodies`):

    {"case_id": "K1", "date": "2024-06-15", "channel": "waiting_list",
     "department": {...DepartmentIn}, "dwelling": {...DwellingIn}, "applicant": {...ApplicantIn}}

Each case is assessed by the one letting engine (`LettingEngine.assess`) under the policies in
force on the date (no offer, no state). The outcome is `eligible`, `rejected` (a rejection rule
such as § 51 b/c, or an eligibility rule such as the size rule), `barred` (a § 59, stk. 6/7 bar
on the municipality's referral) or `unknown` (a fact the deciding rule needs is missing: the
case is held), with the deciding rule id, its law and the reason.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from boligmix.errors import DataValidationError
from boligmix.letting.bodies import ApplicantIn, DepartmentIn, DwellingIn, engine_applicant, engine_dwelling
from boligmix.letting.engine import LIST_TYPES_BY_CHANNEL, LettingEngine
from boligmix.letting.model import Channel, Outcome, Vacancy
from boligmix.letting.policy import PolicySet
from boligmix.rules.truth import Truth

OUTCOMES = ("eligible", "rejected", "barred", "unknown")
OUT_COLUMNS = ("case_id", "outcome", "rule", "law", "reason")
ASSESSED_AT = dt.time(12, 0)
"""Cases are assessed at noon of their date (the rules read the date only)."""

CaseChannel = Literal[tuple(c.value for c in LIST_TYPES_BY_CHANNEL)]  # type: ignore[valid-type]


class CaseIn(BaseModel):
    """One line of a cases file."""

    model_config = ConfigDict(extra="forbid")

    case_id: str | int = Field(description="The caller's identifier of the case (echoed in the output).")
    date: dt.date
    channel: CaseChannel = Field(description="How the dwelling is let: waiting_list, fleksibel, "  # type: ignore
                                             "kommunal_anvisning, rehousing, annoncering or udslusning.")
    department: DepartmentIn
    dwelling: DwellingIn
    applicant: ApplicantIn

    @model_validator(mode="after")
    def _consistent(self) -> "CaseIn":
        if self.dwelling.department_id != self.department.department_id:
            raise ValueError(f"dwelling.department_id {self.dwelling.department_id!r} is not the department "
                             f"{self.department.department_id!r}")
        allowed = LIST_TYPES_BY_CHANNEL[Channel(self.channel)]
        if self.applicant.list_type not in {t.value for t in allowed}:
            raise ValueError(f"applicant.list_type {self.applicant.list_type!r} does not take part in channel "
                             f"{self.channel!r} (allowed: {', '.join(sorted(t.value for t in allowed))})")
        return self


@dataclass(frozen=True)
class CaseResult:
    """The verdict on one case: outcome, deciding rule (empty when eligible), its version and law,
    the reason, and the facts the engine could not decide."""

    case_id: str
    outcome: str
    rule: str
    rule_version: str
    law: str
    reason: str
    unknown_facts: tuple[str, ...] = ()

    def row(self) -> dict[str, str]:
        return {"case_id": self.case_id, "outcome": self.outcome, "rule": self.rule, "law": self.law,
                "reason": self.reason}


def _field(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def read_cases(path: str | os.PathLike[str]) -> list[CaseIn]:
    """Every case of a JSON Lines file (blank lines skipped). The first bad line raises a
    DataValidationError naming the file, the line (`row`) and the field (`column`)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataValidationError("file not found", path=str(p)) from None
    except UnicodeDecodeError:
        raise DataValidationError("not UTF-8 text: a cases file is JSON Lines in UTF-8", path=str(p)) from None
    cases: list[CaseIn] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataValidationError(f"not valid JSON: {exc.msg} (character {exc.colno})", path=str(p),
                                      row=number) from None
        if not isinstance(raw, dict):
            raise DataValidationError("a case must be a JSON object", path=str(p), row=number)
        try:
            case = CaseIn.model_validate(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = _field(tuple(first["loc"])) or None
            raise DataValidationError(first["msg"], path=str(p), row=number, column=where) from None
        key = str(case.case_id)
        if key in seen:
            raise DataValidationError(f"case_id {key!r} repeats line {seen[key]}", path=str(p), row=number,
                                      column="case_id")
        seen[key] = number
        cases.append(case)
    return cases


def assess_case(policies: PolicySet, case: CaseIn) -> CaseResult:
    """The engine's verdict on one case (see the module docstring for the outcomes)."""
    engine = LettingEngine(policies, follow_ups=False)
    vacancy = Vacancy(str(case.case_id), engine_dwelling(case.dwelling, case.department), case.date)
    applicant = engine_applicant(case.applicant)
    try:
        verdict = engine.assess(vacancy, applicant, Channel(case.channel), dt.datetime.combine(case.date, ASSESSED_AT))
    except DataValidationError as exc:
        raise DataValidationError(f"case {case.case_id}: {exc.reason}", column=exc.column) from exc
    if verdict.outcome is None:
        met = ", ".join(verdict.priorities_met)
        lapsed = ", ".join(verdict.lapsed)   # the size rule: ranked after every applicant meeting it
        return CaseResult(str(case.case_id), "eligible", "", "", "", "eligible" + (f"; priorities met: {met}"
                                                                                   if met else "")
                          + (f"; fails {lapsed}, which lapses without a taker: ranked after the applicants "
                             f"meeting it" if lapsed else ""),
                          verdict.unknown)
    hit, policy = verdict.hit, verdict.policy
    assert hit is not None and policy is not None
    law = hit.rule.spec.law or policy.spec.law or ""
    if verdict.outcome == Outcome.SKIPPED and hit.truth is Truth.UNKNOWN and hit.rule.spec.on_unknown != "exclude":
        outcome = "unknown"
    elif verdict.outcome == Outcome.REJECTED and policy.spec.tool == "anvisning_restriction":
        outcome = "barred"
    else:
        outcome = "rejected"
    return CaseResult(str(case.case_id), outcome, hit.rule.rule_id, policy.version, law, verdict.reason, hit.unknown)


def assess_cases(policies: PolicySet, cases: list[CaseIn]) -> list[CaseResult]:
    return [assess_case(policies, case) for case in cases]


__all__ = ["ASSESSED_AT", "CaseIn", "CaseResult", "OUTCOMES", "OUT_COLUMNS", "assess_case", "assess_cases",
           "read_cases"]
