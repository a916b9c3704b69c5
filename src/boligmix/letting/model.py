"""The letting domain model: applicants and their households, dwellings, vacancies, offers,
offer rounds, lettings and the Decision record that the audit trail is made of.

Everything here is a frozen dataclass with plain fields, so the letting store can map it to
tables and the API to JSON without knowing the engine. Facts that may be unknown are
`None` (typed fields) or absent (the free `facts` mappings): the engine turns them into an
explicit UNKNOWN for the rules, never into a pass.

Stable interface (the letting store and the API build on it): field names and types of
`Applicant`, `HouseholdMember`, `Household`, `BenefitSpell`, `BenefitHistory`, `Dwelling`,
`Vacancy`, `Offer`, `OfferRound`, `Letting`, `Decision` and the enums. Changes are announced
in the commit message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from typing import Any

from boligmix.errors import DataValidationError


class StrEnum(str, Enum):
    """A string enum whose values serialise as the plain string."""

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.value


class ListType(StrEnum):
    """Where a candidate comes from.

    `external` and `internal` (oprykning) are the waiting lists of the `applicants` table; the
    other three are candidates handed to the engine per vacancy (municipal referrals,
    rehousing households, people answering an advertisement).
    """

    EXTERNAL = "external"
    INTERNAL = "internal"
    MUNICIPAL_REFERRAL = "municipal_referral"
    REHOUSING = "rehousing"
    ADVERT_RESPONSE = "advert_response"


class Channel(StrEnum):
    """How a vacancy is let; the values are those of `lettings.channel` in the data model."""

    WAITING_LIST = "waiting_list"
    INTERNAL = "internal"
    KOMMUNAL_ANVISNING = "kommunal_anvisning"
    FLEKSIBEL = "fleksibel"
    ANNONCERING = "annoncering"
    REHOUSING = "rehousing"
    OTHER = "other"
    UDSLUSNING = "udslusning"
    """An udslusningsbolig (almenboligloven § 63): put at the municipality's disposal by
    agreement and let to the municipality's referrals; outside obligatory fleksibel udlejning."""


class Outcome(StrEnum):
    """What a Decision record says happened."""

    CHANNEL = "channel"          # the vacancy was assigned to a letting channel (no applicant)
    OFFERED = "offered"          # the applicant got an offer in a round
    SKIPPED = "skipped"          # considered, not offered (lower rank, size, wishes, unknown facts ...)
    REJECTED = "rejected"        # a rule rejected the applicant (§ 51 b, § 51 c, § 59 stk. 6/7 ...)
    ACCEPTED = "accepted"        # the applicant accepted an offer (the letting may still wait)
    REFUSED = "refused"          # the applicant refused an offer
    EXPIRED = "expired"          # no answer before the deadline
    WITHDRAWN = "withdrawn"      # an open offer ended because the dwelling was let to someone else
    LET = "let"                  # the dwelling (unit) was let to the applicant
    PASSIVE = "passive"          # the applicant was set passive after repeated refusals
    ENTITLED = "entitled"        # § 51 b: rejected prior registrant entitled to an offer elsewhere
    REDIRECTED = "redirected"    # § 59 stk. 6: barred referral kept for a dwelling outside the area
    APPROVED = "approved"        # an exchange/sub-letting request meets the requirements
    REACTIVATED = "reactivated"  # a passive applicant is active on the waiting list again (on request)


class OfferStatus(StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    REFUSED = "refused"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"
    WON = "won"


class MemberRole(StrEnum):
    APPLICANT = "applicant"
    SPOUSE = "spouse"
    COHABITANT = "cohabitant"
    CHILD = "child"
    OTHER = "other"


# ----------------------------------------------------------------------------------------------
# Applicants and households


def month_index(day: date) -> int:
    """Months since year 0 of the calendar month containing `day` (for month arithmetic)."""
    return day.year * 12 + (day.month - 1)


@dataclass(frozen=True)
class BenefitSpell:
    """A benefit (an `ATTACHMENT_TYPES` value such as `kontanthjaelp`) received in every calendar
    month from `first_month` to `last_month`, both inclusive (the day of month is ignored)."""

    benefit: str
    first_month: date
    last_month: date


@dataclass(frozen=True)
class BenefitHistory:
    """What is known about one person's benefits, month by month.

    The history covers the calendar months `known_from` .. `known_to` (inclusive): in those
    months a month without a spell means "received none of them". Months outside the covered
    range are unknown.
    """

    known_from: date
    known_to: date
    spells: tuple[BenefitSpell, ...] = ()

    def months_with(self, benefits: frozenset[str] | set[str]) -> set[int]:
        """Month indices (see `month_index`) in which any of `benefits` was received."""
        out: set[int] = set()
        for spell in self.spells:
            if spell.benefit in benefits:
                out.update(range(month_index(spell.first_month), month_index(spell.last_month) + 1))
        return out

    def covers(self, month: int) -> bool:
        return month_index(self.known_from) <= month <= month_index(self.known_to)


@dataclass(frozen=True)
class HouseholdMember:
    """One person of an applicant household.

    `benefits` None means the benefit history is unknown. `facts` holds other person facts read
    by rules (e.g. `eu_eea_ch_citizen`, `enrolled_student`, `released_after_sentence_on`); a
    missing key is unknown. Event facts hold the date of the latest event or `False` for "never".
    """

    person_id: int
    role: MemberRole
    birth_date: date | None = None
    cohabiting_since: date | None = None
    benefits: BenefitHistory | None = None
    facts: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Household:
    """An applicant household; exactly one member has the role `applicant`."""

    household_id: int | None
    members: tuple[HouseholdMember, ...]

    @property
    def size(self) -> int:
        return len(self.members)

    @property
    def applicant(self) -> HouseholdMember:
        for member in self.members:
            if member.role == MemberRole.APPLICANT:
                return member
        raise ValueError("household has no member with role 'applicant'")


@dataclass(frozen=True)
class Applicant:
    """A candidate for a dwelling: a waiting-list entry, a municipal referral, a rehousing
    household or an advert response (`list_type`).

    `seniority_date` orders the list (anciennitet; for advert responses the response date).
    `current_department_id`/`current_org_id` say where the household lives now (None: not a
    tenant of the sector). `priority_rights` names rights held (fortrinsret), read by rules as
    `priority_right.<name>` (closed world: a right not listed is not held). `facts` holds
    applicant-level input facts that policies declare (missing key = unknown).
    `refusal_count` and `passive` are the state before this engine instance saw the applicant.
    `referral_order` is the municipality's own order among its referrals and rehousing households
    (§ 59: the municipality alone decides who is referred): smaller first, None = not ordered
    (after the ordered ones); the engine ranks referral channels by it before anything else.
    """

    applicant_id: int
    org_id: str
    list_type: ListType
    seniority_date: date
    household: Household
    min_rooms: int = 1
    max_rent_dkk: float | None = None
    current_department_id: str | None = None
    current_org_id: str | None = None
    priority_rights: frozenset[str] = frozenset()
    facts: Mapping[str, Any] = field(default_factory=dict)
    refusal_count: int = 0
    passive: bool = False
    referral_order: int | None = None

    def __post_init__(self) -> None:
        heads = sum(1 for m in self.household.members if m.role == MemberRole.APPLICANT)
        if heads != 1:
            raise DataValidationError(f"applicant {self.applicant_id}: the household needs exactly one member with "
                                      f"role 'applicant', has {heads}", column="members")
        if not isinstance(self.list_type, ListType):
            raise DataValidationError(f"applicant {self.applicant_id}: list_type must be a ListType, got "
                                      f"{self.list_type!r}", column="list_type")
        if self.min_rooms < 1:
            raise DataValidationError(f"applicant {self.applicant_id}: min_rooms must be >= 1", column="min_rooms")

    @property
    def household_id(self) -> int | None:
        return self.household.household_id


# ----------------------------------------------------------------------------------------------
# Dwellings and vacancies


AREA_CATEGORIES = ("udsat", "parallelsamfund", "omdannelse", "forebyggelse", "kombineret_udlejning")
"""Area categories a dwelling's area can be on (rules-spec 5; `kombineret_udlejning` is the
§ 51 b, stk. 3 area list). An omdannelsesområde is also a parallelsamfund and an udsat area."""


@dataclass(frozen=True)
class Dwelling:
    """An almen dwelling as the letting engine sees it (`dwellings` table plus list status).

    `area_categories` are the categories of the dwelling's area on the list in force when it
    is let (empty: on no list). `shared` marks a delebolig let room by room. `udslusningsbolig`
    marks a dwelling an agreement put at the municipality's disposal as an udslusningsbolig
    (almenboligloven § 63): it is let through the channel `udslusning`.
    """

    dwelling_id: int
    municipality_code: int
    org_id: str
    department_id: str
    rooms: int
    area_id: str | None = None
    area_categories: frozenset[str] = frozenset()
    almen_type: str = "family"
    floor_area_m2: float | None = None
    monthly_rent_dkk: float | None = None
    shared: bool = False
    facts: Mapping[str, Any] = field(default_factory=dict)
    udslusningsbolig: bool = False

    def __post_init__(self) -> None:
        if self.rooms < 1:
            raise DataValidationError(f"dwelling {self.dwelling_id}: rooms must be >= 1, got {self.rooms}",
                                      column="rooms")
        unknown = set(self.area_categories) - set(AREA_CATEGORIES)
        if unknown:
            raise DataValidationError(f"dwelling {self.dwelling_id}: unknown area categories {sorted(unknown)}; "
                                      f"known: {', '.join(AREA_CATEGORIES)}", column="area_categories")


@dataclass(frozen=True)
class Vacancy:
    """A dwelling (or, for a delebolig, one room `unit` of it) to be let from `available_from`."""

    vacancy_id: str
    dwelling: Dwelling
    available_from: date
    unit: str | None = None

    @property
    def unit_key(self) -> tuple[int, str | None]:
        """What may be let only once: the dwelling, or the room of a delebolig."""
        return (self.dwelling.dwelling_id, self.unit)


# ----------------------------------------------------------------------------------------------
# Offers, rounds, lettings, decisions


@dataclass(frozen=True)
class Offer:
    offer_id: str
    round_id: str
    vacancy_id: str
    dwelling_id: int
    applicant_id: int
    household_id: int | None
    rank: int
    channel: Channel
    offered_at: datetime
    deadline: datetime
    status: OfferStatus = OfferStatus.OPEN


@dataclass(frozen=True)
class PolicyRef:
    """Which policy version took part: id, version and law reference."""

    policy_id: str
    version: str
    law: str | None = None


@dataclass(frozen=True)
class Decision:
    """One audit record: what happened to an applicant (or a vacancy) and why.

    `rule_id` is `<policy id>` or `<policy id>#<rule>` of the rule that decided,
    `rule_version` its policy version, `law` its law reference, `facts` the facts the rule read
    (field -> value, JSON-safe; unknown facts are listed in `unknown_facts`), `rank` the
    applicant's place in the ranking when one was computed. `sequence` orders records within
    one engine's log.
    """

    decision_id: str
    sequence: int
    decided_at: datetime
    outcome: Outcome
    vacancy_id: str
    dwelling_id: int
    unit: str | None
    channel: Channel | None
    round_id: str | None
    applicant_id: int | None
    household_id: int | None
    rule_id: str | None
    rule_version: str | None
    law: str | None
    reason: str
    facts: Mapping[str, Any] = field(default_factory=dict)
    unknown_facts: tuple[str, ...] = ()
    rank: int | None = None
    offer_id: str | None = None


DECISION_FIELDS: tuple[str, ...] = (
    "decision_id", "sequence", "decided_at", "outcome", "vacancy_id", "dwelling_id", "unit", "channel",
    "round_id", "applicant_id", "household_id", "rule_id", "rule_version", "law", "reason", "facts",
    "unknown_facts", "rank", "offer_id",
)
"""Column order of an exported decision log (`boligmix.letting.decision_log`)."""


@dataclass(frozen=True)
class OfferRound:
    """One round of offers for a vacancy: the offers made and a Decision for every candidate."""

    round_id: str
    vacancy_id: str
    dwelling_id: int
    unit: str | None
    channel: Channel
    number: int
    created_at: datetime
    offers: tuple[Offer, ...]
    decisions: tuple[Decision, ...]
    policies: tuple[PolicyRef, ...]
    not_reached: Any = None
    """A compact engine's eligible candidates ranked below the offers (`boligmix.letting.ranking.
    NotReached`, not in `decisions`); None: every candidate has its Decision."""


@dataclass(frozen=True)
class Letting:
    """A dwelling (unit) let to an applicant household; `letting_id` is unique per engine."""

    letting_id: int
    vacancy_id: str
    dwelling_id: int
    unit: str | None
    applicant_id: int
    household_id: int | None
    channel: Channel
    lease_start: date
    decided_at: datetime
    round_id: str


@dataclass(frozen=True)
class OfferUpdate:
    """The result of accept / refuse / expire: offers changed, decisions made, a letting if any."""

    offers: tuple[Offer, ...]
    decisions: tuple[Decision, ...]
    lettings: tuple[Letting, ...] = ()


__all__ = [
    "AREA_CATEGORIES",
    "Applicant",
    "BenefitHistory",
    "BenefitSpell",
    "Channel",
    "DECISION_FIELDS",
    "Decision",
    "Dwelling",
    "Household",
    "HouseholdMember",
    "Letting",
    "ListType",
    "MemberRole",
    "Offer",
    "OfferRound",
    "OfferStatus",
    "OfferUpdate",
    "Outcome",
    "PolicyRef",
    "Vacancy",
    "month_index",
]
