"""Request bodies of the letting API (Pydantic; they make the OpenAPI spec)."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PastDatetime, model_validator

from boligmix.letting.store.models import CHANNELS

Channel = Literal[CHANNELS]  # type: ignore[valid-type]

AsOf = Annotated[PastDatetime, Field(gt=datetime(1900, 1, 1, tzinfo=timezone.utc))] | None
"""A client-given time that decides rights (deadlines, expiries, seniority): never in the future of
the server's clock (422), default the server's time. Times ahead would let a client expire offers
early and count them as refusals."""


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
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _refuse_nul(cls, data: Any) -> Any:
        _no_nul(data)
        return data


Day = Annotated[date, Field(ge=date(1900, 1, 1), le=date(2199, 12, 31))]
"""A calendar date the letting rules can compute with (1900-2199)."""


class DepartmentIn(_Body):
    department_id: str = Field(min_length=1, max_length=64)
    org_id: str = Field(min_length=1, max_length=64)
    department_name: str = Field(min_length=1, max_length=200)
    municipality_code: int = Field(ge=101, le=999)
    area_id: str | None = Field(default=None, max_length=64)
    area_categories: list[Literal["udsat", "parallelsamfund", "omdannelse", "forebyggelse",
                                  "kombineret_udlejning"]] = Field(default_factory=list)
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


class SharedDwellingIn(_Body):
    """A delebolig: a larger dwelling let room by room, one person per room."""

    shared_dwelling_id: int = Field(ge=0, lt=2**63)
    department_id: str = Field(min_length=1, max_length=64)
    rooms: int = Field(ge=1, le=30, description="Letting rooms (one person each).")
    floor_area_m2: float | None = Field(default=None, ge=5, le=2000)
    facts: dict[str, Any] = Field(default_factory=dict)


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
    household: dict[str, Any] = Field(default_factory=dict,
                                      description="Members as the engine's Household: {members: [...]}.")
    current_department_id: str | None = Field(default=None, max_length=64)
    priority_rights: list[str] = Field(default_factory=list)
    facts: dict[str, Any] = Field(default_factory=dict)
    referral_order: int | None = Field(default=None, ge=0, lt=2**31, description=(
        "Municipal lists only: the municipality's own order (smaller first; unordered entries after)."))


class ReferralOrderIn(_Body):
    referral_order: int | None = Field(ge=0, lt=2**31, description=(
        "The municipality's order of this referral (smaller first); null clears it."))


class VacancyIn(_Body):
    dwelling_id: int = Field(ge=0, lt=2**63)
    available_from: Day
    channel: Channel | None = None  # type: ignore[valid-type]
    """Only with `--rules store-order`; the engine assigns the channel by its share rules."""


class ExpireIn(_Body):
    as_of: AsOf = Field(default=None, description=(
        "Offers whose answer deadline is before this time expire; default now (UTC); not in the future."))


class OffersIn(_Body):
    count: int | None = Field(default=None, ge=1, le=50, description=(
        "Offers in this round with the store-order rules (default 1); with the engine rules the "
        "waiting-list policy's offers_per_round decides."))
    as_of: AsOf = Field(default=None, description=(
        "Assessment time for the rules (benefit windows, policies in force, the answer deadline); "
        "default now (UTC); not in the future."))


class AcceptIn(_Body):
    lease_start: Day | None = Field(default=None, description="Default: the vacancy's available_from.")


class RefuseIn(_Body):
    reason: str | None = Field(default=None, max_length=500)


class ReactivateIn(_Body):
    as_of: AsOf = Field(default=None, description=(
        "Time of the reactivation (a new seniority date when the policy does not keep it); default now (UTC); "
        "not in the future."))


class WithdrawIn(_Body):
    reason: str | None = Field(default=None, max_length=500, description="Why (recorded in the trail).")
    as_of: AsOf = Field(default=None, description="Time of the withdrawal; default now (UTC); not in the future.")


class ApplicantUpdateIn(_Body):
    """Fields of an entry to replace (omitted: unchanged)."""

    household_size: int | None = Field(default=None, ge=1, le=20)
    min_rooms: int | None = Field(default=None, ge=1, le=20)
    max_rent_dkk: float | None = Field(default=None, ge=0)
    household: dict[str, Any] | None = Field(default=None, description="Members as at registration.")
    current_department_id: str | None = Field(default=None, max_length=64)
    priority_rights: list[str] | None = None
    facts: dict[str, Any] | None = Field(default=None, description=(
        "Applicant facts (replaces the stored map), e.g. a dispensation the municipality granted."))
