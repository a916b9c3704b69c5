"""Request bodies of the letting API (Pydantic; they make the OpenAPI spec). The registration bodies
of departments, dwellings and applicants (with the typed household) live in `boligmix.letting.bodies`,
shared with `boligmix letting assess`."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Any, Literal

from pydantic import Field, PastDatetime, field_serializer

from boligmix.letting.bodies import ApplicantIn, Day, DepartmentIn, DwellingIn, HouseholdIn, _Body
from boligmix.letting.store.models import CHANNELS

Channel = Literal[CHANNELS]  # type: ignore[valid-type]

AsOf = Annotated[PastDatetime, Field(gt=datetime(1900, 1, 1, tzinfo=timezone.utc))] | None
"""A client-given time that decides rights (deadlines, expiries, seniority): never in the future of
the server's clock (422), default the server's time. Times ahead would let a client expire offers
early and count them as refusals."""


class SharedDwellingIn(_Body):
    """A delebolig: a larger dwelling let room by room, one person per room."""

    shared_dwelling_id: int = Field(ge=0, lt=2**63)
    department_id: str = Field(min_length=1, max_length=64)
    rooms: int = Field(ge=1, le=30, description="Letting rooms (one person each).")
    floor_area_m2: float | None = Field(default=None, ge=5, le=2000)
    facts: dict[str, Any] = Field(default_factory=dict)


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
    household: HouseholdIn | None = Field(default=None, description="Members as at registration.")
    current_department_id: str | None = Field(default=None, max_length=64)
    priority_rights: list[str] | None = None
    facts: dict[str, Any] | None = Field(default=None, description=(
        "Applicant facts (replaces the stored map), e.g. a dispensation the municipality granted."))

    @field_serializer("household")
    def _household_json(self, household: HouseholdIn | None) -> dict[str, Any] | None:
        return None if household is None else household.stored()


__all__ = ["AcceptIn", "ApplicantIn", "ApplicantUpdateIn", "DepartmentIn", "DwellingIn", "ExpireIn", "HouseholdIn",
           "OffersIn", "ReactivateIn", "ReferralOrderIn", "RefuseIn", "SharedDwellingIn", "VacancyIn", "WithdrawIn"]
