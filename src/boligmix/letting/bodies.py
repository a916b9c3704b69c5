"""The letting registration bodies: a department, a dwelling and an applicant with a typed
household, as the letting API takes them (`POST /api/departments`, `/api/dwellings`,
`/api/applicants`; they make its OpenAPI schema) and as `boligmix letting assess` reads them
from a cases file. One definition for both, so a caseworker's case and an API call share one
documented format (docs/letting.md).

The household is stored as JSON in the shape the caller sent (`HouseholdIn.stored()`: fields
not given stay absent), which is the shape the store has always kept: members with
`person_id`, `role`, `birth_date`, `cohabiting_since`, `benefits` {known_from, known_to,
spells [{benefit, first_month, last_month}]} and `facts`. A fact left out is UNKNOWN to the
rules (never a pass); an event date fact is a date or `false` for "never".
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_serializer, model_validator

from boligmix.data.schema import ATTACHMENT_TYPES
from boligmix.letting.model import AREA_CATEGORIES, MemberRole

Benefit = Literal[ATTACHMENT_TYPES]  # type: ignore[valid-type]
Role = Literal[tuple(r.value for r in MemberRole)]  # type: ignore[valid-type]
AreaCategory = Literal[AREA_CATEGORIES]  # type: ignore[valid-type]
EventDate = date | Literal[False] | None
"""The date of the latest such event, `false` for never, null/absent for unknown."""


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BenefitSpellIn(_Body):
    """A benefit received in every calendar month from `first_month` to `last_month` (inclusive;
    the day of month is ignored)."""

    benefit: Benefit = Field(description=(  # type: ignore[valid-type]
        "Benefit type (the data model's labour attachment types). `ressourceforloebsydelse_jobafklaring` is "
        "ressourceforløbsydelse under jobafklaringsforløb, the only kind § 51 b and § 59, stk. 6, nr. 7 count."))
    first_month: date
    last_month: date

    @model_validator(mode="after")
    def _order(self) -> "BenefitSpellIn":
        if self.last_month < self.first_month:
            raise ValueError("last_month is before first_month")
        return self


class BenefitHistoryIn(_Body):
    """What is known about a person's benefits: the months `known_from`..`known_to` (inclusive)
    are covered (a covered month without a spell = none received); other months are unknown."""

    known_from: date
    known_to: date
    spells: list[BenefitSpellIn] = Field(default_factory=list)

    @model_validator(mode="after")
    def _order(self) -> "BenefitHistoryIn":
        if self.known_to < self.known_from:
            raise ValueError("known_to is before known_from")
        return self


class MemberFactsIn(BaseModel):
    """Person facts the statutory rules read (absent or null: unknown). Facts declared by a local
    policy (`member_input_facts`) may be added under their own names."""

    model_config = ConfigDict(extra="allow")

    eu_eea_ch_citizen: bool | None = Field(default=None, description=(
        "Citizenship: a citizen of an EU/EEA country or Switzerland (§ 59, stk. 6, nr. 4)."))
    enrolled_student: bool | None = Field(default=None, description=(
        "Enrolled at a recognised educational institution (the exception to § 59, stk. 6, nr. 4)."))
    released_after_sentence_on: EventDate = Field(default=None, description=(
        "Release after serving a sentence (§ 59, stk. 6, nr. 1: within 6 months)."))
    released_from_youth_institution_on: EventDate = Field(default=None, description=(
        "Release from a youth institution after a sentence (§ 59, stk. 6, nr. 2: under 18, within 6 months)."))
    lease_terminated_for_breach_on: EventDate = Field(default=None, description=(
        "Eviction: the lease was terminated for gross breach of good order (§ 59, stk. 6, nr. 3: within 6 months)."))
    released_from_youth_institution_after_sentence: bool | None = Field(default=None, description=(
        "Deprecated yes/no form of released_from_youth_institution_on (false: never; true: date unknown)."))


class HouseholdMemberIn(_Body):
    person_id: int = Field(ge=-(2**63), lt=2**63, description="Pseudonymous person identifier.")
    role: Role = Field(description="One member has the role applicant.")  # type: ignore[valid-type]
    birth_date: date | None = None
    cohabiting_since: date | None = Field(default=None, description=(
        "Start of cohabitation (a cohabitant counts as partner after 2 years, § 51 b/c)."))
    benefits: BenefitHistoryIn | None = Field(default=None, description="Null/absent: history unknown.")
    facts: MemberFactsIn = Field(default_factory=MemberFactsIn)


class HouseholdIn(_Body):
    """The applicant household. No members: the applicant plus household_size - 1 others, all
    facts unknown (the rules hold such an applicant where they need a fact)."""

    members: list[HouseholdMemberIn] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_applicant(self) -> "HouseholdIn":
        heads = sum(1 for m in self.members if m.role == "applicant")
        if self.members and heads != 1:
            raise ValueError(f"exactly one member must have the role 'applicant', got {heads}")
        return self

    def stored(self) -> dict[str, Any]:
        """The JSON the store keeps (and the engine reads): what the caller gave, dates as ISO text."""
        return self.model_dump(mode="json", exclude_unset=True)


class DepartmentIn(_Body):
    department_id: str = Field(min_length=1, max_length=64)
    org_id: str = Field(min_length=1, max_length=64)
    department_name: str = Field(min_length=1, max_length=200)
    municipality_code: int = Field(ge=101, le=999)
    area_id: str | None = Field(default=None, max_length=64)
    area_categories: list[AreaCategory] = Field(default_factory=list)  # type: ignore[valid-type]
    facts: dict[str, Any] = Field(default_factory=dict)


class DwellingIn(_Body):
    dwelling_id: int = Field(ge=0, lt=2**63)
    department_id: str = Field(min_length=1, max_length=64)
    almen_type: Literal["family", "youth", "elderly"] = "family"
    rooms: int = Field(ge=1, le=20)
    floor_area_m2: float = Field(ge=5, le=1000)
    monthly_rent_dkk: float = Field(ge=0)
    facts: dict[str, Any] = Field(default_factory=dict)
    shared_dwelling_id: int | None = Field(default=None, ge=0, lt=2**63, description=(
        "A room of this delebolig (POST /api/shared-dwellings first): rooms = 1, same department."))


class ApplicantIn(_Body):
    """A waiting-list entry (organisations: external/internal) or a referral (municipalities)."""

    applicant_id: int = Field(ge=0, lt=2**63, description="Pseudonymous applicant (person) identifier.")
    household_id: int | None = Field(default=None, ge=0, lt=2**63)
    list_type: Literal["external", "internal", "municipal_referral", "rehousing", "advert_response"]
    org_id: str | None = Field(default=None, max_length=64, description="Organisation of the waiting list.")
    municipality_code: int | None = Field(default=None, ge=101, le=999,
                                          description="Referring municipality (municipal_referral, rehousing).")
    seniority_date: date
    household_size: int | None = Field(default=None, ge=1, le=20)
    min_rooms: int = Field(default=1, ge=1, le=20)
    max_rent_dkk: float | None = Field(default=None, ge=0)
    household: HouseholdIn = Field(default_factory=HouseholdIn, description=(
        "The members with role, birth date, citizenship, benefit spells, release and eviction dates and "
        "cohabitation start (see HouseholdMemberIn)."))
    current_department_id: str | None = Field(default=None, max_length=64)
    priority_rights: list[str] = Field(default_factory=list)
    facts: dict[str, Any] = Field(default_factory=dict)
    referral_order: int | None = Field(default=None, ge=0, lt=2**31, description=(
        "Municipal lists only: the municipality's own order (smaller first; unordered entries after)."))

    @field_serializer("household")
    def _household_json(self, household: HouseholdIn) -> dict[str, Any]:
        return household.stored()


__all__ = ["ApplicantIn", "BenefitHistoryIn", "BenefitSpellIn", "DepartmentIn", "DwellingIn", "HouseholdIn",
           "HouseholdMemberIn", "MemberFactsIn"]
