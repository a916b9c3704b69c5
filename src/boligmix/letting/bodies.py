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

from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_serializer, model_validator

from boligmix.data.schema import ATTACHMENT_TYPES
from boligmix.errors import BoligmixError, DataValidationError
from boligmix.letting import model as m
from boligmix.letting.model import AREA_CATEGORIES, MemberRole

Benefit = Literal[ATTACHMENT_TYPES]  # type: ignore[valid-type]
Role = Literal[tuple(r.value for r in MemberRole)]  # type: ignore[valid-type]
AreaCategory = Literal[AREA_CATEGORIES]  # type: ignore[valid-type]
EventDate = date | Literal[False] | None
"""The date of the latest such event, `false` for never, null/absent for unknown."""


def _no_nul(value: Any, where: str = "body") -> None:
    """PostgreSQL stores no NUL character in text or JSON: refuse it in any string of a body (422)."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError(f"{where}: a NUL character is not allowed")
    elif isinstance(value, dict):
        for k, v in value.items():
            _no_nul(k, where)
            _no_nul(v, f"{where}.{k}")
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _no_nul(v, f"{where}[{i}]")


class _Body(BaseModel):
    """A request body: unknown fields, NUL characters and Infinity/NaN are refused (422)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _refuse_nul(cls, data: Any) -> Any:
        _no_nul(data)
        return data


Day = Annotated[date, Field(ge=date(1900, 1, 1), le=date(2199, 12, 31))]
"""A calendar date the letting rules can compute with (1900-2199)."""


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
    udslusningsbolig: bool = Field(default=False, description=(
        "An udslusningsbolig (almenboligloven § 63): put at the municipality's disposal by agreement; its "
        "vacancies go to the channel udslusning (the municipality's referrals, outside obligatory fleksibel "
        "udlejning)."))


class ApplicantIn(_Body):
    """A waiting-list entry (organisations: external/internal) or a referral (municipalities)."""

    applicant_id: int = Field(ge=0, lt=2**63, description="Pseudonymous applicant (person) identifier.")
    household_id: int | None = Field(default=None, ge=0, lt=2**63)
    list_type: Literal["external", "internal", "municipal_referral", "rehousing", "advert_response"]
    org_id: str | None = Field(default=None, max_length=64, description="Organisation of the waiting list.")
    municipality_code: int | None = Field(default=None, ge=101, le=999,
                                          description="Referring municipality (municipal_referral, rehousing).")
    seniority_date: Day
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


# ----------------------------------------------------------------------------------------------
# Bodies (or store rows, which have the same fields) -> the engine's model


def _date(value: Any, where: str, error: type[BoligmixError]) -> date | None:
    if value is None:
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise _error(error, f"household: {where} must be an ISO date (YYYY-MM-DD), got {value!r}", where) from None


def _error(error: type[BoligmixError], message: str, where: str) -> BoligmixError:
    if issubclass(error, DataValidationError):
        return error(message, column=f"household.{where}")
    return error(message)


def household_from_json(data: Mapping[str, Any], applicant_id: int, household_id: int | None, size: int = 1, *,
                        error: type[BoligmixError] = DataValidationError) -> m.Household:
    """The engine's `Household` from the household JSON (`HouseholdIn.stored()`, or a household the
    store kept before the typed schema: read leniently); `error` names the bad field.

    Without members, the household is the applicant plus `size - 1` members of role `other`
    (placeholder person ids -1, -2, ...), all facts unknown."""
    members_data = data.get("members") or []
    if not isinstance(members_data, list):
        raise _error(error, "household: members must be a list", "members")
    members = []
    for i, md in enumerate(members_data):
        where = f"members[{i}]"
        if not isinstance(md, Mapping) or "person_id" not in md or "role" not in md:
            raise _error(error, f"household: {where} needs person_id and role", where)
        try:
            role = m.MemberRole(md["role"])
        except ValueError:
            raise _error(error, f"household: {where}.role must be one of "
                                f"{', '.join(r.value for r in m.MemberRole)}", f"{where}.role") from None
        benefits = None
        if md.get("benefits") is not None:
            b = md["benefits"]
            spells = tuple(
                m.BenefitSpell(str(sp["benefit"]),
                               _date(sp["first_month"], f"{where}.benefits.spells[{j}].first_month", error),
                               _date(sp["last_month"], f"{where}.benefits.spells[{j}].last_month", error))
                for j, sp in enumerate(b.get("spells") or []))
            benefits = m.BenefitHistory(_date(b["known_from"], f"{where}.benefits.known_from", error),
                                        _date(b["known_to"], f"{where}.benefits.known_to", error), spells)
        members.append(m.HouseholdMember(int(md["person_id"]), role,
                                         _date(md.get("birth_date"), f"{where}.birth_date", error),
                                         _date(md.get("cohabiting_since"), f"{where}.cohabiting_since", error),
                                         benefits, dict(md.get("facts") or {})))
    if not members:
        members = [m.HouseholdMember(applicant_id, m.MemberRole.APPLICANT)]
        members += [m.HouseholdMember(-i, m.MemberRole.OTHER) for i in range(1, max(size, 1))]
    if sum(x.role == m.MemberRole.APPLICANT for x in members) != 1:
        raise _error(error, "household: exactly one member must have the role 'applicant'", "members")
    return m.Household(household_id, tuple(members))


def engine_dwelling(w: Any, d: Any) -> m.Dwelling:
    """The engine's dwelling from a dwelling and its department (`DwellingIn`/`DepartmentIn` or the
    store's rows). A delebolig room is a dwelling with `shared_dwelling_id` or `facts.shared = true`;
    `udslusningsbolig` marks an udslusningsbolig (§ 63)."""
    facts = dict(w.facts or {})
    shared_id = getattr(w, "shared_dwelling_id", None)
    return m.Dwelling(
        dwelling_id=w.dwelling_id, municipality_code=d.municipality_code, org_id=d.org_id,
        department_id=d.department_id, rooms=w.rooms, area_id=d.area_id,
        area_categories=frozenset(d.area_categories or []), almen_type=w.almen_type,
        floor_area_m2=w.floor_area_m2, monthly_rent_dkk=w.monthly_rent_dkk,
        shared=facts.get("shared") is True or shared_id is not None,
        udslusningsbolig=bool(getattr(w, "udslusningsbolig", False)),
        facts={**facts, **({"shared_dwelling_id": shared_id} if shared_id is not None else {})})


def engine_applicant(entry: Any, *, error: type[BoligmixError] = DataValidationError) -> m.Applicant:
    """The engine's applicant from an `ApplicantIn` or a store row (same fields; a row also has
    `refusal_count` and `passive_since`)."""
    household = entry.household
    data = household.stored() if isinstance(household, HouseholdIn) else (household or {})
    size = entry.household_size or len(data.get("members") or []) or 1
    facts = dict(entry.facts or {})
    return m.Applicant(
        applicant_id=entry.applicant_id, org_id=entry.org_id or "", list_type=m.ListType(entry.list_type),
        seniority_date=entry.seniority_date,
        household=household_from_json(data, entry.applicant_id, entry.household_id, size, error=error),
        min_rooms=entry.min_rooms, max_rent_dkk=entry.max_rent_dkk,
        current_department_id=entry.current_department_id, current_org_id=facts.get("current_org_id"),
        priority_rights=frozenset(entry.priority_rights or []), facts=facts,
        refusal_count=getattr(entry, "refusal_count", 0) or 0,
        passive=getattr(entry, "passive_since", None) is not None,
        referral_order=entry.referral_order)


__all__ = ["ApplicantIn", "BenefitHistoryIn", "BenefitSpellIn", "DepartmentIn", "DwellingIn", "HouseholdIn",
           "HouseholdMemberIn", "MemberFactsIn", "engine_applicant", "engine_dwelling", "household_from_json"]
