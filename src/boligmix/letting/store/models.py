"""SQLAlchemy models of the letting store.

Column names follow `boligmix.data.schema` where the concept exists there (dwelling_id,
department_id, org_id, applicant_id, household_id, list_type, seniority_date, ...).

Invariants the database itself enforces (the last line of defence behind the service's locks):
* at most one open vacancy per dwelling (partial unique index `uq_vacancies_open_dwelling`);
* at most one lease per vacancy and per offer (unique `leases.vacancy_id`, `leases.offer_id`);
* at most one lease per waiting-list entry (unique `leases.entry_id`);
* one household, one dwelling (since migration 0013): at most one `open` or `accepted` offer per
  applicant (pseudonymous person id) and per household id, across all its list entries and
  organisations (partial unique indexes `uq_offers_household_person`, `uq_offers_household`), and
  at most one lease per applicant and per household (`uq_leases_household_person`,
  `uq_leases_household`); the offer's and lease's person and household ids equal the entry's
  (composite foreign keys to `applicants`);
* an applicant gets at most one offer per vacancy (unique `offers(vacancy_id, entry_id)`);
* `decisions` is append-only (triggers created by the migration refuse UPDATE and DELETE);
* an idempotency key is used once per token (primary key `(token_id, idem_key)`).
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

VACANCY_STATUSES = ("open", "let", "withdrawn")
OFFER_STATUSES = ("open", "accepted", "refused", "expired", "withdrawn")
"""As the engine's `OfferStatus`; `withdrawn`: the dwelling was let to someone else."""
APPLICANT_STATUSES = ("active", "housed", "withdrawn")
LIST_TYPES = ("external", "internal", "municipal_referral", "rehousing", "advert_response")
"""Waiting lists of a housing organisation (external, internal = oprykning) and a municipality's
referral list (kommunal anvisning, almenboligloven § 59) and rehousing list (households whose
dwelling must be vacated, § 59 stk. 1: up to every 3rd vacancy; since migration 0007), and an
organisation's respondents to a public advertisement (`advert_response`, § 60 a; since 0008);
values of the engine's `ListType`."""
CHANNELS = ("waiting_list", "internal", "kommunal_anvisning", "fleksibel", "annoncering", "rehousing",
            "other", "udslusning")
"""How a vacancy is let; the names are those of `lettings.channel` in the data model. `udslusning`
(since migration 0015): an udslusningsbolig (almenboligloven § 63) let to the municipality's
referrals, outside the share counts and obligatory fleksibel udlejning."""
DECISION_OUTCOMES = ("channel", "offered", "skipped", "rejected", "accepted", "refused", "expired",
                     "withdrawn", "let", "passive", "entitled", "redirected", "approved", "reactivated", "round")
"""Values of the engine's `Outcome` (entitled, redirected, approved since migration 0002; reactivated
since 0006) and `round`, a compact record of an offer round's decisions (since 0016, `store.trail`)."""
ENTITLEMENT_ENDS = ("on_offer", "on_letting")
ROLES = ("municipality", "housing_organisation", "analyst")
HOLDS_HOUSEHOLD = "status IN ('open', 'accepted')"
"""Offers that hold their household (one per household): open, or accepted (provisionally or let)."""
HOUSEHOLD_INDEXES = frozenset({"uq_offers_household_person", "uq_offers_household", "uq_leases_household_person",
                               "uq_leases_household"})
"""The unique indexes of one dwelling per household (a concurrent round of another list may take the
household first: the store retries the transaction, and the retry no longer sees the household)."""


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Department(Base):
    """An almen boligafdeling; owned by one housing organisation."""

    __tablename__ = "departments"

    department_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    org_id: Mapped[str] = mapped_column(String(64), index=True)
    department_name: Mapped[str] = mapped_column(String(200))
    municipality_code: Mapped[int] = mapped_column(Integer, index=True)
    area_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    area_categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    """Categories of the department's area on the list in force (udsat, parallelsamfund, ...)."""
    facts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class SharedDwelling(Base):
    """A delebolig: a larger dwelling let room by room (seed 000). Its rooms are `dwellings` rows
    with `shared_dwelling_id` set, one letting room each (`rooms = 1`), at most `rooms` of them, in
    the same department. The engine sees a room as `dwelling.shared` (the delebolig policy lets it to
    one person; the size rule's under-use limit does not apply). Since migration 0011."""

    __tablename__ = "shared_dwellings"

    shared_dwelling_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    department_id: Mapped[str] = mapped_column(ForeignKey("departments.department_id"), index=True)
    rooms: Mapped[int] = mapped_column(Integer)
    """Letting rooms (one person each)."""
    floor_area_m2: Mapped[float | None] = mapped_column(Float, nullable=True)
    facts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """Facts of the whole dwelling (as registered; the rules read the room's dwelling facts)."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (CheckConstraint("rooms >= 1", name="rooms_positive"),)


class Dwelling(Base):
    __tablename__ = "dwellings"

    dwelling_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    department_id: Mapped[str] = mapped_column(ForeignKey("departments.department_id"), index=True)
    almen_type: Mapped[str] = mapped_column(String(16), default="family")
    rooms: Mapped[int] = mapped_column(Integer)
    floor_area_m2: Mapped[float] = mapped_column(Float)
    monthly_rent_dkk: Mapped[float] = mapped_column(Float)
    facts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    shared_dwelling_id: Mapped[int | None] = mapped_column(
        ForeignKey("shared_dwellings.shared_dwelling_id"), nullable=True, index=True)
    """The delebolig this row is a room of (None: an ordinary dwelling). Since migration 0011."""
    udslusningsbolig: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """Put at the municipality's disposal as an udslusningsbolig by agreement (almenboligloven § 63):
    its vacancies go to the channel `udslusning` (the municipality's referrals). Since migration 0015."""

    __table_args__ = (
        CheckConstraint("rooms >= 1", name="rooms_positive"),
        CheckConstraint("monthly_rent_dkk >= 0", name="rent_nonnegative"),
    )


class Applicant(Base):
    """One entry on one list: an organisation's waiting list or a municipality's referral list.

    `list_owner` is the organisation id (waiting lists) or `kommune:<code>` (referral lists).
    `household` holds the members as the engine's `Household` (JSON; see `store.convert`).
    """

    __tablename__ = "applicants"

    entry_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    applicant_id: Mapped[int] = mapped_column(BigInteger)
    household_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    list_type: Mapped[str] = mapped_column(String(32))
    list_owner: Mapped[str] = mapped_column(String(64))
    org_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    municipality_code: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    seniority_date: Mapped[date] = mapped_column(Date)
    household_size: Mapped[int] = mapped_column(Integer)
    min_rooms: Mapped[int] = mapped_column(Integer)
    max_rent_dkk: Mapped[float | None] = mapped_column(Float, nullable=True)
    household: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    current_department_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    priority_rights: Mapped[list[str]] = mapped_column(JSON, default=list)
    facts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """Applicant facts letting rules may use, as registered (a missing key is unknown)."""
    refusal_count: Mapped[int] = mapped_column(Integer, default=0)
    passive_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    """Set passive after repeated refusals (the waiting-list policy's `passive_after_refusals`);
    a passive entry gets no offers. Since migration 0004."""
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    """When the applicant withdrew the application (status `withdrawn`: left the list). Since 0009."""
    referral_order: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """The municipality's own order of its referral and rehousing entries (§ 59: it alone decides
    who is referred): smaller first, NULL after the ordered ones. Only on municipal lists. Since 0010."""
    row_version: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    """New for every insert and update of the row, set by the database (triggers of migration 0016:
    a sequence on PostgreSQL, a random 63-bit number on SQLite), never by the application: a worker
    that cached the row under this version knows it is current (`store.candidates`). Since 0016."""

    __table_args__ = (
        UniqueConstraint("applicant_id", "list_type", "list_owner"),
        Index("uq_applicants_entry_person", "entry_id", "applicant_id", unique=True),
        Index("uq_applicants_entry_household", "entry_id", "household_id", unique=True),
        Index("ix_applicants_queue", "list_owner", "list_type", "status", "seniority_date", "entry_id"),
        Index("ix_applicants_household_id", "household_id"),
        CheckConstraint(_in("list_type", LIST_TYPES), name="list_type"),
        CheckConstraint(_in("status", APPLICANT_STATUSES), name="status"),
        CheckConstraint("household_size >= 1 AND min_rooms >= 1", name="sizes_positive"),
    )


class ListVersion(Base):
    """The version of a list owner's lists: raised by the database (PostgreSQL triggers of migration
    0018) in the transaction of every change that may change who is a candidate of those lists or
    how (an entry inserted, changed or deleted; an offer to a household with an entry there made or
    answered), with one `ListChange` row per household changed. The row lock of the raise orders
    the changes of one owner in commit order, so a worker that read version N and the changes up to
    N knows the lists as of N (`store.list_cache`). SQLite: unused (no triggers). Since 0018."""

    __tablename__ = "list_versions"

    list_owner: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)


class ListChange(Base):
    """A household (person id and household id) whose entries on `list_owner`'s lists may have
    changed in `version` (see `ListVersion`); old rows are pruned by the offer rounds. Since 0018."""

    __tablename__ = "list_changes"

    change_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    list_owner: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(BigInteger)
    applicant_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    household_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)

    __table_args__ = (Index("ix_list_changes_owner_version", "list_owner", "version"),)


class Vacancy(Base):
    __tablename__ = "vacancies"

    vacancy_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dwelling_id: Mapped[int] = mapped_column(ForeignKey("dwellings.dwelling_id"), index=True)
    channel: Mapped[str] = mapped_column(String(32), default="waiting_list")
    available_from: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (
        Index("uq_vacancies_open_dwelling", "dwelling_id", unique=True,
              sqlite_where=text("status = 'open'"), postgresql_where=text("status = 'open'")),
        CheckConstraint(_in("status", VACANCY_STATUSES), name="status"),
        CheckConstraint(_in("channel", CHANNELS), name="channel"),
    )


class Offer(Base):
    __tablename__ = "offers"

    offer_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    vacancy_id: Mapped[int] = mapped_column(ForeignKey("vacancies.vacancy_id"), index=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("applicants.entry_id"), index=True)
    rank: Mapped[int] = mapped_column(Integer)
    """Position of the applicant in the order that produced the offer (1 = first)."""
    channel: Mapped[str] = mapped_column(String(32))
    rule: Mapped[str] = mapped_column(String(200))
    rule_version: Mapped[str] = mapped_column(String(50))
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    deadline: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    """Answer deadline (round time + the policy's `answer_days`); none for rules without one. Since 0005."""
    applicant_id: Mapped[int] = mapped_column(BigInteger)
    """The entry's applicant (pseudonymous person id) and household: one open or accepted offer per
    household across all its entries (partial unique indexes). Since 0013."""
    household_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    lease_start: Mapped[date | None] = mapped_column(Date, nullable=True)
    """The lease start asked for with the acceptance (null: the vacancy's available_from). Since 0013."""
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    """When the applicant accepted: an `accepted` offer without a lease waits for the better-ranked
    offers of its vacancy to be answered (the best-ranked acceptor wins). Since 0013."""

    __table_args__ = (
        UniqueConstraint("vacancy_id", "entry_id"),
        CheckConstraint(_in("status", OFFER_STATUSES), name="status"),
        ForeignKeyConstraint(["entry_id", "applicant_id"], ["applicants.entry_id", "applicants.applicant_id"],
                             name="fk_offers_entry_person_applicants"),
        ForeignKeyConstraint(["entry_id", "household_id"], ["applicants.entry_id", "applicants.household_id"],
                             name="fk_offers_entry_household_applicants"),
        Index("uq_offers_household_person", "applicant_id", unique=True,
              sqlite_where=text(HOLDS_HOUSEHOLD), postgresql_where=text(HOLDS_HOUSEHOLD)),
        Index("uq_offers_household", "household_id", unique=True,
              sqlite_where=text(f"{HOLDS_HOUSEHOLD} AND household_id IS NOT NULL"),
              postgresql_where=text(f"{HOLDS_HOUSEHOLD} AND household_id IS NOT NULL")),
    )


class Lease(Base):
    __tablename__ = "leases"

    lease_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    vacancy_id: Mapped[int] = mapped_column(ForeignKey("vacancies.vacancy_id"), unique=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.offer_id"), unique=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("applicants.entry_id"), unique=True)
    dwelling_id: Mapped[int] = mapped_column(ForeignKey("dwellings.dwelling_id"), index=True)
    applicant_id: Mapped[int] = mapped_column(BigInteger)
    household_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    lease_start: Mapped[date] = mapped_column(Date)
    channel: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (
        ForeignKeyConstraint(["entry_id", "applicant_id"], ["applicants.entry_id", "applicants.applicant_id"],
                             name="fk_leases_entry_person_applicants"),
        ForeignKeyConstraint(["entry_id", "household_id"], ["applicants.entry_id", "applicants.household_id"],
                             name="fk_leases_entry_household_applicants"),
        Index("uq_leases_household_person", "applicant_id", unique=True),
        Index("uq_leases_household", "household_id", unique=True,
              sqlite_where=text("household_id IS NOT NULL"), postgresql_where=text("household_id IS NOT NULL")),
    )


class Decision(Base):
    """One decision of the letting process, append-only: who, which dwelling, which rule, which facts."""

    __tablename__ = "decisions"

    decision_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    outcome: Mapped[str] = mapped_column(String(16))
    vacancy_id: Mapped[int] = mapped_column(ForeignKey("vacancies.vacancy_id"), index=True)
    dwelling_id: Mapped[int] = mapped_column(BigInteger)
    channel: Mapped[str | None] = mapped_column(String(32), nullable=True)
    offer_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    entry_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    applicant_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    household_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    rank: Mapped[int | None] = mapped_column(Integer, nullable=True)
    rule: Mapped[str] = mapped_column(String(200))
    rule_version: Mapped[str] = mapped_column(String(50))
    law: Mapped[str | None] = mapped_column(String(200), nullable=True)
    reason: Mapped[str] = mapped_column(Text)
    facts: Mapped[dict[str, Any]] = mapped_column(JSON)
    unknown_facts: Mapped[list[str]] = mapped_column(JSON, default=list)
    actor: Mapped[str] = mapped_column(String(100))
    """Name of the API token (or CLI user) on whose request the decision was taken."""

    __table_args__ = (CheckConstraint(_in("outcome", DECISION_OUTCOMES), name="outcome"),)


class Entitlement(Base):
    """§ 51 b: an applicant registered before kombineret udlejning was introduced and rejected by
    it is entitled to an offer of the organisation's dwellings outside the area. Granted by the
    engine's `entitled` decision `decision_id`; `fulfilled_by_offer_id` is the offer that used it up
    (`ends = on_offer`). One per applicant and organisation (as the engine's ledger)."""

    __tablename__ = "entitlements"

    entitlement_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    applicant_id: Mapped[int] = mapped_column(BigInteger)
    org_id: Mapped[str] = mapped_column(String(64))
    area_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("applicants.entry_id"), index=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.decision_id"), unique=True)
    policy_id: Mapped[str] = mapped_column(String(200))
    policy_version: Mapped[str] = mapped_column(String(50))
    ends: Mapped[str] = mapped_column(String(16))
    fulfilled_by_offer_id: Mapped[int | None] = mapped_column(ForeignKey("offers.offer_id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (
        UniqueConstraint("applicant_id", "org_id"),
        Index("ix_entitlements_org_id", "org_id"),  # the offer round reads its organisation's entitlements
        CheckConstraint(_in("ends", ENTITLEMENT_ENDS), name="ends"),
    )


class RedirectedReferral(Base):
    """§ 59 stk. 6/7: a municipal referral barred from a referral dwelling in a restricted area
    (udsat, forebyggelse), kept for the municipality's next referral dwelling (the engine's
    `redirected` decision `decision_id` at vacancy `from_vacancy_id`, the bar `bar_rule`). Open
    while the referral entry is active; it gives the entry the `redirected_referral` priority
    right in the municipality's later referral rounds. One per referral entry. Since 0006."""

    __tablename__ = "redirected_referrals"

    redirect_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("applicants.entry_id"), unique=True)
    applicant_id: Mapped[int] = mapped_column(BigInteger)
    municipality_code: Mapped[int] = mapped_column(Integer, index=True)
    from_vacancy_id: Mapped[int] = mapped_column(ForeignKey("vacancies.vacancy_id"))
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.decision_id"), unique=True)
    bar_rule: Mapped[str] = mapped_column(String(200))
    policy_id: Mapped[str] = mapped_column(String(200))
    policy_version: Mapped[str] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ShareCounter(Base):
    """The channel-share state of one share policy in one scope, as the engine's ledger keeps it:
    vacancies seen and how many each share channel took (`used`: channel -> count). Key: the
    policy id (one policy file is one version for one period) and the scope the policy counts
    per (`count_per`: municipality code, organisation id or department id). `POST /api/vacancies`
    locks the row while it allocates the channel."""

    __tablename__ = "share_counters"

    policy_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    scope_key: Mapped[str] = mapped_column(String(100), primary_key=True)
    count_per: Mapped[str] = mapped_column(String(16))
    policy_version: Mapped[str] = mapped_column(String(50))
    seen: Mapped[int] = mapped_column(Integer, default=0)
    used: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)

    __table_args__ = (CheckConstraint("seen >= 0", name="seen_nonnegative"),)


class ApiToken(Base):
    __tablename__ = "api_tokens"

    token_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(32))
    scope: Mapped[list[str]] = mapped_column(JSON)
    """Municipality codes (municipality), organisation ids (housing_organisation); empty for analysts."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    __table_args__ = (CheckConstraint(_in("role", ROLES), name="role"),)


class IdempotencyRecord(Base):
    """The stored response of a write made with an Idempotency-Key (committed with the write itself)."""

    __tablename__ = "idempotency_keys"

    token_id: Mapped[int] = mapped_column(ForeignKey("api_tokens.token_id"), primary_key=True)
    idem_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(300))
    request_sha256: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[Any] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ServiceSetting(Base):
    """Service-wide secrets and settings (e.g. the key of the analysts' pseudonyms)."""

    __tablename__ = "service_settings"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
