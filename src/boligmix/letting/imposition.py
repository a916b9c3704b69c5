"""§ 60 b: municipality-wide imposition of a joint letting agreement.

If a municipality's joint agreement on kommunal anvisning (§ 59, stk. 2), fleksibel udlejning
(§ 60, stk. 1) or annoncering (§ 60 a, stk. 1) covers more than 50 % of its almene family
dwellings, it may impose the same on the other organisations; the imposition is reviewed
within 4 years and lapses only when the agreement ends or no longer covers more than 50 %
(rules-spec 6.6: `review_imposition` re-checks it whenever the counts change). The thresholds are data (`rules/letting/imposition/60b.yaml`).

    counts = family_dwelling_counts(dataset_dir, 101)             # or a hand-made {org_id: n}
    verdict = assess_imposition(agreement, counts, 101, date(2024, 1, 1))
    if verdict.allowed:
        policies = with_imposition(policies, impose(agreement, verdict))
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from boligmix.data.io import read_table
from boligmix.errors import ConfigurationError, DataValidationError
from boligmix.letting.policy import POLICY_DIR, Policy, PolicySet, compile_policy
from boligmix.rules.files import parse_model, read_text

RULES_PATH = POLICY_DIR / "imposition" / "60b.yaml"


class ImpositionSwitches(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    minister_permission: bool = False
    """The minister allowed imposition below the threshold (§ 60 b)."""
    imposed_until_review: bool = False
    """The imposed policy ends at the review date (version 1's reading; the law: it is reviewed
    then and lapses only when the agreement ends or no longer covers more than 50 %)."""


class ImpositionRules(BaseModel):
    """The § 60 b rule as data."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    version: str
    law: str
    sources: tuple[str, ...] = ()
    notes: str = ""
    threshold: float = Field(gt=0, le=1)
    threshold_strict: bool = True
    review_years: int = Field(ge=1, le=20)
    tools: dict[str, str]
    switches: ImpositionSwitches = ImpositionSwitches()


def load_imposition_rules(path: str | os.PathLike[str] = RULES_PATH) -> ImpositionRules:
    """Read and validate the § 60 b rule file."""
    text, source = read_text(Path(path), package="boligmix.rules.letting", filename="", what="§ 60 b rule file")
    return parse_model(text, source, ImpositionRules, what="the § 60 b rule file").spec


@dataclass(frozen=True)
class ImpositionAssessment:
    """Whether a municipality may impose `agreement` on its other organisations, and why."""

    municipality_code: int
    tool: str
    agreement_id: str
    agreement_version: str
    covered_orgs: tuple[str, ...]
    other_orgs: tuple[str, ...]
    covered_dwellings: int
    total_dwellings: int
    share: float
    threshold: float
    allowed: bool
    reason: str
    decided_on: date
    review_by: date
    rule_id: str
    rule_version: str
    law: str


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def assess_imposition(agreement: Policy, dwelling_counts: Mapping[str, int], municipality_code: int,
                      decided_on: date, rules: ImpositionRules | None = None) -> ImpositionAssessment:
    """Share of the municipality's almene family dwellings (`dwelling_counts`: organisation ->
    dwellings in the municipality) that the joint `agreement` covers (its `scope.org_ids`;
    none named: every organisation), against the § 60 b threshold."""
    rules = rules or load_imposition_rules()
    spec = agreement.spec
    if spec.tool not in rules.tools:
        raise ConfigurationError(f"§ 60 b covers agreements on {', '.join(rules.tools)}, not tool {spec.tool}",
                                 source=agreement.source, rule=agreement.id, field="tool")
    if spec.scope.municipality_codes is not None and municipality_code not in spec.scope.municipality_codes:
        raise ConfigurationError(f"the agreement's scope does not include municipality {municipality_code}",
                                 source=agreement.source, rule=agreement.id, field="scope.municipality_codes")
    if spec.tool == "fleksibel_udlejning" and spec.scope.area_categories is not None:
        raise ConfigurationError("an agreement limited to listed areas is obligatory fleksibel udlejning, not a "
                                 "§ 60, stk. 1 agreement", source=agreement.source, rule=agreement.id,
                                 field="scope.area_categories")
    for org, n in dwelling_counts.items():
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise DataValidationError(f"dwelling count of organisation {org} must be a whole number >= 0, got {n!r}",
                                      column="dwellings")
    orgs = sorted(dwelling_counts)
    named = spec.scope.org_ids
    if named is not None:
        unknown = sorted(set(named) - set(orgs))
        if unknown:
            raise DataValidationError(f"the agreement names organisations without a dwelling count: "
                                      f"{', '.join(unknown)}", column="org_id")
    covered = tuple(o for o in orgs if named is None or o in named)
    others = tuple(o for o in orgs if o not in covered)
    total = sum(dwelling_counts.values())
    if total == 0:
        raise DataValidationError(f"municipality {municipality_code} has no almene family dwellings in the counts",
                                  column="dwellings")
    covered_n = sum(dwelling_counts[o] for o in covered)
    share = covered_n / total
    above = share > rules.threshold if rules.threshold_strict else share >= rules.threshold
    permission = rules.switches.minister_permission
    allowed = (above or permission) and bool(others)
    cmp = ">" if rules.threshold_strict else ">="
    if not others:
        reason = "the agreement already covers every organisation"
    elif above:
        reason = (f"the agreement covers {covered_n} of {total} family dwellings "
                  f"({share:.1%} {cmp} {rules.threshold:.0%})")
    elif permission:
        reason = (f"the agreement covers {covered_n} of {total} family dwellings ({share:.1%}), below "
                  f"{rules.threshold:.0%}, but the minister allowed it (switch minister_permission)")
    else:
        reason = (f"the agreement covers {covered_n} of {total} family dwellings ({share:.1%}); § 60 b needs "
                  f"{cmp} {rules.threshold:.0%}")
    return ImpositionAssessment(
        municipality_code, spec.tool, agreement.id, agreement.version, covered, others, covered_n, total, share,
        rules.threshold, allowed, reason, decided_on, _add_years(decided_on, rules.review_years),
        rules.id, rules.version, f"{rules.law} ({rules.tools[spec.tool]})")


def impose(agreement: Policy, assessment: ImpositionAssessment, rules: ImpositionRules | None = None) -> Policy:
    """The agreement as a policy for the other organisations of the municipality, from the
    decision date until the agreement ends (`review_imposition` ends it earlier when the
    agreement no longer covers more than the threshold; with `imposed_until_review` it ends at
    the review date)."""
    rules = rules or load_imposition_rules()
    if not assessment.allowed:
        raise ConfigurationError(f"§ 60 b imposition is not allowed: {assessment.reason}", source=agreement.source,
                                 rule=agreement.id)
    if (assessment.agreement_id, assessment.agreement_version) != (agreement.id, agreement.version):
        raise ConfigurationError("the assessment is about another agreement", rule=agreement.id)
    raw: dict[str, Any] = agreement.spec.model_dump(mode="python", exclude={"base"})
    start = max(assessment.decided_on, agreement.spec.effective_from)
    end = assessment.review_by if rules.switches.imposed_until_review else agreement.spec.effective_to
    if agreement.spec.effective_to is not None and (end is None or agreement.spec.effective_to < end):
        end = agreement.spec.effective_to
    raw.update(
        id=f"{agreement.id}.60b", version=f"{assessment.decided_on.isoformat()}.1",
        title=f"{agreement.spec.title or agreement.id} (imposed under § 60 b)",
        law=f"{agreement.spec.law or agreement.spec.tool}; {assessment.law}",
        notes=(f"Imposed by municipality {assessment.municipality_code} on {assessment.decided_on.isoformat()} "
               f"under {rules.id} v{rules.version}: {assessment.reason}. Review by "
               f"{assessment.review_by.isoformat()}; in force until the agreement ends or no longer covers "
               f"more than {rules.threshold:.0%}."),
        effective_from=start, effective_to=end,
        scope={**raw["scope"], "municipality_codes": (assessment.municipality_code,),
               "org_ids": assessment.other_orgs},
    )
    return compile_policy(raw, f"{agreement.source} (imposed under {rules.id})")


@dataclass(frozen=True)
class ImpositionReview:
    """The re-check of an imposed policy on `on` (counts changed, or the review date): does the
    joint agreement still cover more than the threshold, and has it not ended? `policy` is the
    imposed policy as it stands afterwards (ending on `on` when it `lapsed`)."""

    on: date
    lapsed: bool
    reason: str
    assessment: ImpositionAssessment | None
    policy: Policy


def review_imposition(agreement: Policy, imposed: Policy, dwelling_counts: Mapping[str, int], municipality_code: int,
                      on: date, rules: ImpositionRules | None = None) -> ImpositionReview:
    """Re-check an imposition on `on` with the current dwelling counts (§ 60 b: it lapses only
    when the joint agreement ends or no longer covers more than 50 %; a review alone does not end
    it). A lapsed imposition's policy ends on `on` (same id and version: replace the old one)."""
    rules = rules or load_imposition_rules()
    if imposed.id != f"{agreement.id}.60b":
        raise ConfigurationError(f"policy {imposed.id} was not imposed from agreement {agreement.id}",
                                 source=imposed.source, rule=imposed.id)
    end = agreement.spec.effective_to
    if end is not None and end <= on:
        return ImpositionReview(on, True, f"the joint agreement ended on {end.isoformat()}", None,
                                _ending(imposed, min(end, on)))
    verdict = assess_imposition(agreement, dwelling_counts, municipality_code, on, rules)
    above = verdict.share > rules.threshold if rules.threshold_strict else verdict.share >= rules.threshold
    if above or rules.switches.minister_permission:
        return ImpositionReview(on, False, f"still in force: {verdict.reason}", verdict, imposed)
    return ImpositionReview(on, True, f"lapses: {verdict.reason}", verdict, _ending(imposed, on))


def _ending(imposed: Policy, on: date) -> Policy:
    if imposed.spec.effective_to is not None and imposed.spec.effective_to <= on:
        return imposed
    if on <= imposed.spec.effective_from:
        raise ConfigurationError(f"the imposition starts on {imposed.spec.effective_from.isoformat()}, "
                                 f"not before {on.isoformat()}", source=imposed.source, rule=imposed.id)
    raw: dict[str, Any] = imposed.spec.model_dump(mode="python", exclude={"base"})
    raw["effective_to"] = on
    raw["notes"] = f"{imposed.spec.notes} Lapsed on {on.isoformat()}."
    return compile_policy(raw, imposed.source)


def with_imposition(policies: PolicySet, imposed: Policy) -> PolicySet:
    """`policies` plus an imposed policy (precedence and overlap checks as at load time)."""
    return PolicySet([*policies.policies, imposed])


def family_dwelling_counts(dataset_dir: str | os.PathLike[str], municipality_code: int) -> dict[str, int]:
    """Almene family dwellings per organisation in a municipality, from the `dwellings` and
    `departments` tables (organisations with no such dwelling are left out)."""
    dwellings = read_table(dataset_dir, "dwellings", ["municipality_code", "tenure", "almen_type", "department_id"])
    departments = read_table(dataset_dir, "departments", ["department_id", "org_id"])
    counts = (dwellings.filter((pl.col("municipality_code") == municipality_code) & (pl.col("tenure") == "almen")
                               & (pl.col("almen_type") == "family"))
              .join(departments, on="department_id", how="left"))
    missing = counts.filter(pl.col("org_id").is_null())
    if missing.height:
        raise DataValidationError(f"{missing.height} almene family dwellings have no department with an "
                                  f"organisation", path=str(Path(dataset_dir) / "dwellings.parquet"),
                                  column="department_id")
    grouped = counts.group_by("org_id").agg(pl.len().alias("n")).sort("org_id")
    return {str(o): int(n) for o, n in grouped.iter_rows()}


__all__ = ["ImpositionAssessment", "ImpositionReview", "ImpositionRules", "RULES_PATH", "assess_imposition",
           "family_dwelling_counts", "impose", "load_imposition_rules", "review_imposition", "with_imposition"]
