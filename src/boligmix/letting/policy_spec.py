"""The schema of a letting policy file (pydantic, extra fields forbidden, frozen): its scope,
derived facts, rules and offer-round settings. Validation only; compiling the conditions is
`boligmix.letting.policy_compile`."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from boligmix.data.schema import ATTACHMENT_TYPES
from boligmix.letting.model import AREA_CATEGORIES, Channel, Dwelling, PolicyRef
from boligmix.letting.switches import TOOLS


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Scope(_Model):
    """Where a policy applies; a missing (null) dimension matches everything."""

    municipality_codes: tuple[int, ...] | None = None
    org_ids: tuple[str, ...] | None = None
    department_ids: tuple[str, ...] | None = None
    area_categories: tuple[str, ...] | None = None
    almen_types: tuple[str, ...] | None = None

    @field_validator("area_categories")
    @classmethod
    def _known_categories(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        for v in value or ():
            if v not in AREA_CATEGORIES:
                raise ValueError(f"unknown area category '{v}'; known: {', '.join(AREA_CATEGORIES)}")
        return value

    def specificity(self) -> tuple[int, int]:
        level = 3 if self.department_ids else 2 if self.org_ids else 1 if self.municipality_codes else 0
        return level, int(self.area_categories is not None) + int(self.almen_types is not None)

    def matches(self, dwelling: Dwelling) -> bool:
        if self.municipality_codes is not None and dwelling.municipality_code not in self.municipality_codes:
            return False
        if self.org_ids is not None and dwelling.org_id not in self.org_ids:
            return False
        if self.department_ids is not None and dwelling.department_id not in self.department_ids:
            return False
        if self.area_categories is not None and not set(self.area_categories) & dwelling.area_categories:
            return False
        if self.almen_types is not None and dwelling.almen_type not in self.almen_types:
            return False
        return True

    def overlaps(self, other: "Scope") -> bool:
        """Could one dwelling match both scopes? Area categories nest (an omdannelsesområde is
        also udsat), so two scopes that both name categories are taken to overlap."""
        for name in ("municipality_codes", "org_ids", "department_ids", "almen_types"):
            a, b = getattr(self, name), getattr(other, name)
            if a is not None and b is not None and not set(a) & set(b):
                return False
        return True


class BenefitGroupSpec(_Model):
    """One alternative of a `benefit_months` fact with `groups`: `months` consecutive months of
    one of `benefits`; `enabled_by` names a switch of the policy that turns the group on."""

    benefits: tuple[str, ...] = Field(min_length=1)
    months: int = Field(ge=1, le=120)
    enabled_by: str | None = None

    @field_validator("benefits")
    @classmethod
    def _known_benefits(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for benefit in value:
            if benefit not in ATTACHMENT_TYPES:
                raise ValueError(f"unknown benefit '{benefit}'; known: {', '.join(ATTACHMENT_TYPES)}")
        return value


class DerivedFactSpec(_Model):
    """A fact computed from the household (see `boligmix.letting.facts`)."""

    kind: Literal["benefit_months", "event_within_months", "member_condition"]
    who: Literal["applicant", "applicant_and_partner", "any_member"] = "applicant"
    benefits: tuple[str, ...] | None = None
    months: int | None = Field(default=None, ge=1, le=120)
    groups: tuple[BenefitGroupSpec, ...] | None = None
    """benefit_months only, instead of benefits/months: a member meets the fact when it meets any
    enabled group (§ 51 b: applicant and partner may each receive a different listed benefit)."""
    where: dict[str, Any] | None = None
    """event_within_months only: a member condition limiting the members that count (e.g. under 18)."""
    window_end: Literal["previous_month", "current_month"] = "previous_month"
    window_end_switch: str | None = None
    """A switch of the policy whose value (previous_month / current_month) replaces `window_end`."""
    lookback_months: int | None = Field(default=None, ge=1, le=240)
    """None: the run must be the `months` months just before the assessment (this model's reading,
    UNCONFIRMED); N: any run of `months` within the last N months."""
    event: str | None = None
    condition: dict[str, Any] | None = None
    partner_min_cohabitation_years: float = Field(default=2.0, ge=0)

    @model_validator(mode="after")
    def _kind_fields(self) -> "DerivedFactSpec":
        need = {"benefit_months": ("benefits", "months") if self.groups is None else (),
                "event_within_months": ("event", "months"), "member_condition": ("condition",)}[self.kind]
        if self.groups is not None and (self.kind != "benefit_months" or self.benefits is not None
                                        or self.months is not None):
            raise ValueError("'groups' belongs to kind benefit_months, instead of 'benefits' and 'months'")
        if self.where is not None and self.kind != "event_within_months":
            raise ValueError("'where' belongs to kind event_within_months")
        for name in need:
            if getattr(self, name) is None:
                raise ValueError(f"kind '{self.kind}' needs '{name}'")
        if self.lookback_months is not None and self.months is not None and self.lookback_months < self.months:
            raise ValueError("lookback_months must be at least months")
        for benefit in self.benefits or ():
            if benefit not in ATTACHMENT_TYPES:
                raise ValueError(f"unknown benefit '{benefit}'; known: {', '.join(ATTACHMENT_TYPES)}")
        return self


class RuleSpec(_Model):
    """One rule: a condition, how UNKNOWN is handled, and an optional switch that enables it."""

    id: str = Field(min_length=1)
    description: str = ""
    description_da: str = ""
    """The reason text in Danish, quoted by `boligmix letting explain` and the dashboard: legal
    Danish, no internal field or switch names; `{name}` stands for the policy constant `name`."""
    law: str | None = None
    condition: dict[str, Any]
    on_unknown: str
    enabled_by: str | None = None
    rank: int | None = None
    lapses_without_taker: bool = False
    """An eligibility rule of the waiting list that is a preference, not a bar (the size rules:
    belægningsregler): an applicant who fails it may still be ranked, after every applicant who
    meets it, so it lapses only when no one who meets it takes the dwelling. The waiting list's
    switch `size_rule` (lapses | binding) decides; binding: an ordinary eligibility rule."""


class RoundSpec(_Model):
    offers_per_round: int = Field(ge=1, le=100)
    answer_days: int = Field(ge=1, le=90)
    passive_after_refusals: int = Field(ge=1, le=100)


class PolicySpec(_Model):
    """The validated content of one policy file."""

    id: str = Field(min_length=1)
    tool: str
    version: str = Field(min_length=1)
    title: str = ""
    law: str | None = None
    sources: tuple[str, ...] = ()
    notes: str = ""
    effective_from: date
    effective_to: date | None = None
    enabled: bool = True
    base: str | None = None
    slot: str | None = None
    scope: Scope = Scope()
    channels: tuple[Channel, ...] = ()
    switches: dict[str, Any] = Field(default_factory=dict)
    constants: dict[str, Any] = Field(default_factory=dict)
    input_facts: dict[str, str] = Field(default_factory=dict)
    member_input_facts: dict[str, str] = Field(default_factory=dict)
    derived_facts: dict[str, DerivedFactSpec] = Field(default_factory=dict)
    shares: dict[Channel, float] = Field(default_factory=dict)
    count_per: Literal["municipality", "organisation", "department"] = "organisation"
    eligibility: tuple[RuleSpec, ...] = ()
    rejections: tuple[RuleSpec, ...] = ()
    priorities: tuple[RuleSpec, ...] = ()
    exemptions: tuple[RuleSpec, ...] = ()
    dispensation_fact: str | None = None
    round: RoundSpec | None = None

    @field_validator("tool")
    @classmethod
    def _known_tool(cls, value: str) -> str:
        if value not in TOOLS:
            raise ValueError(f"unknown tool '{value}'; known: {', '.join(TOOLS)}")
        return value

    @field_validator("shares")
    @classmethod
    def _share_range(cls, value: dict[Channel, float]) -> dict[Channel, float]:
        for channel, share in value.items():
            if not 0.0 <= share <= 1.0:
                raise ValueError(f"share of {channel.value} must lie in [0, 1], got {share}")
        if sum(value.values()) > 1.0 + 1e-9:
            raise ValueError(f"shares add up to {sum(value.values())} > 1")
        return value

    @property
    def slot_name(self) -> str:
        return self.slot or self.tool

    @property
    def ref(self) -> PolicyRef:
        return PolicyRef(self.id, self.version, self.law)

    def in_force(self, on: date) -> bool:
        return self.effective_from <= on and (self.effective_to is None or on < self.effective_to)


__all__ = ["BenefitGroupSpec", "DerivedFactSpec", "PolicySpec", "RoundSpec", "RuleSpec", "Scope"]
