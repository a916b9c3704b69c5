"""Letting policies: versioned YAML files, validated with pydantic (extra fields forbidden)
and compiled with the one condition evaluator (`boligmix.rules.evaluator`).

A policy file is one version of one letting tool for one scope and period. Its rules are
data: eligibility conditions (not met -> skipped), rejection grounds (met -> rejected),
priorities (met -> ranked first), exemptions (met -> the policy's rejections and priorities
do not apply), vacancy shares (channel allocation) and, for the base `waiting_list` tool, the
offer-round settings. Named switches (`switches:`) turn rules on and off (`enabled_by`);
every switch of a tool is declared in `TOOL_SWITCHES` with its default, and the ones the law
leaves open are marked UNCONFIRMED there and in `docs/letting.md`.

Precedence: for a vacancy on a date, the policies in force are those whose period holds the
date and whose scope matches the dwelling. Per `slot` (default: the tool name) the most
specific one wins: department > organisation > municipality > national; a scope naming area
categories or almen types beats an otherwise equally specific one without. Two policies of
one slot with the same specificity whose scopes and periods overlap are a configuration
error, reported when the files are loaded. A winning policy with `enabled: false` switches
the tool off for its scope.

A local agreement can name a `base:` policy (`id` or `id@version`) and give only what
differs; the base's fields are copied in first (mappings merged one level deep).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from boligmix.data.schema import ATTACHMENT_TYPES
from boligmix.errors import ConfigurationError
from boligmix.letting.facts import BASE_FACTS, MEMBER_BASE_FACTS
from boligmix.letting.model import AREA_CATEGORIES, Channel, Dwelling, PolicyRef
from boligmix.rules.evaluator import Condition, condition_fields, parse_condition

_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

POLICY_DIR = Path(__file__).resolve().parent.parent / "rules" / "letting"
"""The packaged letting policies: `statutory/` (the law) and `local/` (example agreements)."""


@dataclass(frozen=True)
class SwitchSpec:
    """A named switch: its default, the values it may take and why it exists."""

    default: Any
    allowed: tuple[Any, ...] | type
    doc: str
    unconfirmed: bool = False


TOOLS: tuple[str, ...] = (
    "waiting_list",
    "kommunal_anvisning",
    "anvisning_restriction",
    "fleksibel_udlejning",
    "kombineret_udlejning",
    "omdannelse_afvisning",
    "offentlig_annoncering",
    "delebolig",
    "priority",
    "bytte_fremleje",
    "udslusning",
)

RECEIPT_MONTH = SwitchSpec(
    "current_month", ("current_month", "previous_month"),
    "Which month of the monthly benefit history shows that a person 'currently receives' ('modtager') a "
    "benefit (§ 51 c; § 59, stk. 6, nr. 6 førtidspension): the assessment month (current_month, the law's "
    "reading; a history that does not cover it is UNKNOWN and held until the municipality has checked) or "
    "the month before (previous_month, for register data that lag by a month).")
"""One switch for every 'currently receives' condition, so the rules read it the same way."""

TOOL_SWITCHES: dict[str, dict[str, SwitchSpec]] = {
    "waiting_list": {
        "no_answer_counts_as_refusal": SwitchSpec(
            True, bool, "An offer that expires unanswered counts as a refusal (passive status)."),
        "reactivation_keeps_seniority": SwitchSpec(
            True, bool, "A passive applicant made active again on request keeps the original seniority date "
                        "(false: seniority counts from the reactivation date). The sources read do not say "
                        "(rules-spec 6 has no rule on passive lists).", unconfirmed=True),
        "reactivation_resets_refusals": SwitchSpec(
            True, bool, "Refusals before a reactivation no longer count towards passive_after_refusals "
                        "(false: the next refusal makes the applicant passive again)."),
    },
    "kommunal_anvisning": {
        "unused_referral": SwitchSpec(
            "release_to_waiting_list", ("release_to_waiting_list", "hold"),
            "A referral vacancy without an eligible referral goes to the waiting list "
            "(release_to_waiting_list) or stays with the municipality (hold)."),
        "max_agreed_share": SwitchSpec(
            1.0, float, "Cap on an agreed anvisning share. The statute states no cap; agreements of "
                        "100 % are documented (rules-spec 6.1).", unconfirmed=True),
    },
    "anvisning_restriction": {
        "stk7_includes_kontanthjaelp_uddannelseshjaelp": SwitchSpec(
            False, bool, "Whether the § 59, stk. 7 bar in forebyggelsesområder also covers 6 months of "
                         "kontanthjælp/uddannelseshjælp (rules-spec 6.1, 10.6).", unconfirmed=True),
        "barred_referral": SwitchSpec(
            "redirect", ("redirect", "reject"),
            "redirect: a barred referral is also recorded as redirected and offered the municipality's "
            "next referral dwelling (before new referrals) until housed (§ 59, stk. 6: the municipality "
            "must refer elsewhere); reject: only the rejection is recorded. The order among referrals "
            "is this model's choice.", unconfirmed=True),
        "receipt_month": RECEIPT_MONTH,
    },
    "fleksibel_udlejning": {
        "mode": SwitchSpec(
            "priority", ("priority", "exclusive"),
            "priority: applicants meeting the criteria are ranked first; exclusive: only they may be "
            "offered the dwelling. Which one the obligatory § 60, stk. 4 letting requires when nobody "
            "meets the criteria is not stated in the sources read.", unconfirmed=True),
        "exempt_internal_transfers": SwitchSpec(
            False, bool, "Internal transfers within the department are exempt from the obligatory "
                         "criteria (agreement possible since 2024, rules-spec 6.2)."),
        "max_voluntary_share": SwitchSpec(
            1.0, float, "Cap on the voluntary § 60, stk. 1 share; no statutory cap found (local "
                        "frameworks use 50 %/80 %).", unconfirmed=True),
    },
    "kombineret_udlejning": {
        "include_foertidspension": SwitchSpec(
            False, bool, "Optional § 51 b group: reject applicants receiving førtidspension."),
        "include_unemployment_sickness": SwitchSpec(
            False, bool, "Optional § 51 b group: 6 consecutive months of arbejdsløshedsdagpenge, "
                         "sygedagpenge or ressourceforløbsydelse."),
        "offer_elsewhere_for_prior_registrants": SwitchSpec(
            True, bool, "Applicants registered before the scheme was introduced who are rejected by it "
                        "are entitled to an offer of a dwelling outside the area (BL)."),
        "offer_elsewhere_by": SwitchSpec(
            "municipality", ("municipality", "organisation"),
            "Who makes that offer: the municipality (BL, rules-spec 6.6: the entitled applicant is offered a "
            "dwelling in another area through the municipality's referrals, which it orders itself) or, as "
            "before version 2010-01-01.2 of § 51 b, the organisation (priority at its dwellings outside the "
            "area through the waiting list)."),
        "scheme_introduced_on": SwitchSpec(
            "", str, "ISO date the scheme was introduced in the area; empty: the policy's effective_from. "
                     "Whether 'before the scheme' means before the decision, its announcement or its "
                     "start is not stated.", unconfirmed=True),
        "entitlement_ends": SwitchSpec(
            "on_offer", ("on_offer", "on_letting"),
            "The entitlement is used up by one offer outside the area (on_offer) or only by a letting "
            "(on_letting).", unconfirmed=True),
    },
    "omdannelse_afvisning": {
        "dispensation_allowed": SwitchSpec(
            True, bool, "The municipality may grant dispensation in very special cases (bek. § 37)."),
        "receipt_month": RECEIPT_MONTH,
    },
    "offentlig_annoncering": {
        "selection": SwitchSpec(
            "lottery", ("lottery", "first_come"),
            "How qualifying advert respondents are chosen: lots drawn by the organisation (BEK 977/2024 § 38, "
            "rules-spec 6.6; seeded and recorded, see boligmix.letting.lottery) or, as before version "
            "2010-01-01.2, in order of response (first_come; not the law). Whether executive orders before "
            "2024 also required lots was not read (UNCONFIRMED): the lottery applies to every period here.",
            unconfirmed=True),
        "trigger": SwitchSpec(
            "list_exhausted", ("list_exhausted",),
            "When advertising is used: after the waiting list gave no offer. The § 60 a conditions "
            "were not readable (rules-spec 6.5).", unconfirmed=True),
        "busy_applicants": SwitchSpec(
            "wait", ("wait", "ignore"),
            "Waiting-list applicants who would be eligible but hold an open offer elsewhere (a caller "
            "such as the letting store gives one open offer at a time): wait = they still count, the "
            "list is not exhausted and the dwelling is not advertised while any of them may yet take it "
            "(their seniority is kept); ignore = only applicants free to take an offer now count, so a "
            "list that is merely busy is advertised. The § 60 a conditions were not readable "
            "(rules-spec 6.5).", unconfirmed=True),
    },
    "delebolig": {},
    "priority": {},
    "udslusning": {},
    "bytte_fremleje": {
        "criteria_slot": SwitchSpec(
            "fleksibel_obligatorisk", str,
            "The slot of the fleksibel_udlejning policy whose criteria (all its priority rules) the incoming "
            "household must meet."),
        "on_unknown": SwitchSpec(
            "hold", ("hold", "reject"),
            "A criterion that cannot be decided holds the request (hold) or rejects it (reject)."),
        "covers_bytte": SwitchSpec(True, bool, "Exchanges (bytte) into the area are covered."),
        "covers_fremleje": SwitchSpec(True, bool, "Sub-letting (fremleje) into the area is covered."),
    },
}
"""Every switch a tool knows, with its default. Unknown switch names are configuration errors."""

TOOL_EFFECTS: dict[str, frozenset[str]] = {
    "waiting_list": frozenset({"round", "eligibility", "priorities", "rejections"}),
    "kommunal_anvisning": frozenset({"shares", "eligibility"}),
    "anvisning_restriction": frozenset({"rejections"}),
    "fleksibel_udlejning": frozenset({"shares", "priorities", "exemptions"}),
    "kombineret_udlejning": frozenset({"rejections", "exemptions"}),
    "omdannelse_afvisning": frozenset({"rejections", "exemptions", "dispensation_fact"}),
    "offentlig_annoncering": frozenset({"eligibility"}),
    "delebolig": frozenset({"eligibility"}),
    "priority": frozenset({"priorities", "exemptions"}),
    "bytte_fremleje": frozenset(),
    "udslusning": frozenset(),
}
"""Which sections a tool may fill; anything else in the file is a configuration error."""

ON_UNKNOWN = {
    "eligibility": ("hold", "exclude"),
    "rejections": ("hold", "reject"),
    "priorities": ("no_priority",),
    "exemptions": ("not_exempt",),
}
"""How each kind of rule may treat an UNKNOWN condition (there is no silent pass):
hold = skip the applicant this round, listing the unknown facts; exclude = not eligible;
reject = rejected; no_priority / not_exempt = the applicant does not get the benefit."""

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
    law: str | None = None
    condition: dict[str, Any]
    on_unknown: str
    enabled_by: str | None = None
    rank: int | None = None


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


# ----------------------------------------------------------------------------------------------
# Compiled policies


@dataclass(frozen=True)
class CompiledRule:
    """A rule with its parsed condition, ready for the evaluator."""

    policy_id: str
    kind: str
    spec: RuleSpec
    condition: Condition
    fields: frozenset[str] = frozenset()

    @property
    def rule_id(self) -> str:
        return f"{self.policy_id}#{self.spec.id}"


@dataclass(frozen=True)
class Policy:
    """A loaded policy: its spec, the file it came from, resolved switches and parsed rules."""

    spec: PolicySpec
    source: str
    switches: Mapping[str, Any]
    rules: Mapping[str, tuple[CompiledRule, ...]]
    member_conditions: Mapping[str, Condition] = field(default_factory=dict)
    member_filters: Mapping[str, Condition] = field(default_factory=dict)
    """Parsed `where` conditions of event_within_months facts, by fact name."""

    def window_end(self, name: str) -> str:
        """The benefit window end of derived fact `name` (its switch when it names one)."""
        spec = self.spec.derived_facts[name]
        return str(self.switches[spec.window_end_switch]) if spec.window_end_switch else spec.window_end

    def benefit_groups(self, name: str) -> tuple[tuple[frozenset[str], int], ...]:
        """The enabled (benefits, months) groups of the benefit_months fact `name` with `groups`."""
        spec = self.spec.derived_facts[name]
        return tuple((frozenset(g.benefits), g.months) for g in spec.groups or ()
                     if g.enabled_by is None or bool(self.switches[g.enabled_by]))

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def version(self) -> str:
        return self.spec.version

    @property
    def ref(self) -> PolicyRef:
        return self.spec.ref

    def switch(self, name: str) -> Any:
        return self.switches[name]

    def __post_init__(self) -> None:
        active = {kind: tuple(r for r in rules if r.spec.enabled_by is None or bool(self.switches[r.spec.enabled_by]))
                  for kind, rules in self.rules.items()}
        object.__setattr__(self, "_active", active)

    def active(self, kind: str) -> tuple[CompiledRule, ...]:
        """The rules of one kind whose switch (if any) is on."""
        return self._active.get(kind, ())  # type: ignore[attr-defined]

    def covers(self, channel: Channel) -> bool:
        """Does this policy's rules apply to lettings through `channel`? (no channels: all)"""
        return not self.spec.channels or channel in self.spec.channels


def _pydantic_error(exc: ValidationError, source: str, rule: str | None) -> ConfigurationError:
    first = exc.errors()[0]
    loc = ".".join(str(p) for p in first["loc"])
    return ConfigurationError(f"{first['msg']} (at '{loc}')" if loc else first["msg"],
                              source=source, rule=rule, field=loc or None)


def compile_policy(raw: Mapping[str, Any], source: str) -> Policy:
    """Validate one (base-merged) policy mapping and parse its conditions."""
    rule = str(raw.get("id")) if isinstance(raw, Mapping) and raw.get("id") else None
    if not isinstance(raw, Mapping):
        raise ConfigurationError("a policy file must hold a mapping", source=source)
    try:
        spec = PolicySpec.model_validate(dict(raw))
    except ValidationError as exc:
        raise _pydantic_error(exc, source, rule) from None
    declared = TOOL_SWITCHES[spec.tool]
    switches: dict[str, Any] = {}
    for name, value in spec.switches.items():
        if name not in declared:
            raise ConfigurationError(
                f"unknown switch '{name}' for tool {spec.tool}; known: {', '.join(declared) or 'none'}",
                source=source, rule=spec.id, field=f"switches.{name}")
        allowed = declared[name].allowed
        if isinstance(allowed, type):
            ok = isinstance(value, allowed) and not (allowed is not bool and isinstance(value, bool))
            if allowed is float and isinstance(value, int) and not isinstance(value, bool):
                ok = True
        else:
            ok = value in allowed
        if not ok:
            raise ConfigurationError(f"switch '{name}' may be {allowed}, got {value!r}",
                                     source=source, rule=spec.id, field=f"switches.{name}")
        switches[name] = value
    for name, sw in declared.items():
        switches.setdefault(name, sw.default)

    effects = TOOL_EFFECTS[spec.tool]
    for section in ("eligibility", "rejections", "priorities", "exemptions", "shares", "round",
                    "dispensation_fact"):
        if getattr(spec, section) and section not in effects:
            raise ConfigurationError(f"tool {spec.tool} has no '{section}' section "
                                     f"(it may have: {', '.join(sorted(effects))})",
                                     source=source, rule=spec.id, field=section)
    if spec.tool == "waiting_list" and spec.enabled and spec.round is None:
        raise ConfigurationError("the waiting_list tool needs a 'round' section", source=source,
                                 rule=spec.id, field="round")
    if spec.effective_to is not None and spec.effective_to <= spec.effective_from:
        raise ConfigurationError("effective_to must be after effective_from", source=source,
                                 rule=spec.id, field="effective_to")
    if spec.tool == "kommunal_anvisning":
        rehousing = spec.shares.get(Channel.REHOUSING, 0.0)
        if rehousing > 1 / 3 + 1e-9:
            raise ConfigurationError(f"rehousing share {rehousing} exceeds every 3rd dwelling (§ 59, stk. 1)",
                                     source=source, rule=spec.id, field="shares.rehousing")
        cap = float(switches["max_agreed_share"])
        if spec.shares.get(Channel.KOMMUNAL_ANVISNING, 0.0) > cap + 1e-9:
            raise ConfigurationError(f"anvisning share exceeds the max_agreed_share switch ({cap})",
                                     source=source, rule=spec.id, field="shares.kommunal_anvisning")
    if spec.tool == "kombineret_udlejning" and switches["scheme_introduced_on"]:
        try:
            date.fromisoformat(str(switches["scheme_introduced_on"]))
        except ValueError:
            raise ConfigurationError(f"switch 'scheme_introduced_on' must be an ISO date (YYYY-MM-DD), got "
                                     f"{switches['scheme_introduced_on']!r}", source=source, rule=spec.id,
                                     field="switches.scheme_introduced_on") from None
    if spec.tool == "fleksibel_udlejning":
        cap = float(switches["max_voluntary_share"])
        share = spec.shares.get(Channel.FLEKSIBEL, 0.0)
        if share > cap + 1e-9 and spec.scope.area_categories is None:
            raise ConfigurationError(f"voluntary fleksibel share {share} exceeds max_voluntary_share ({cap})",
                                     source=source, rule=spec.id, field="shares.fleksibel")
    for channel in spec.shares:
        if channel not in (Channel.KOMMUNAL_ANVISNING, Channel.REHOUSING, Channel.FLEKSIBEL):
            raise ConfigurationError(f"channel {channel.value} cannot take a share of vacancies",
                                     source=source, rule=spec.id, field=f"shares.{channel.value}")

    fields = set(BASE_FACTS) | set(spec.input_facts) | set(spec.derived_facts)
    if spec.dispensation_fact is not None and spec.dispensation_fact not in spec.input_facts:
        raise ConfigurationError(f"dispensation_fact '{spec.dispensation_fact}' must be declared in input_facts",
                                 source=source, rule=spec.id, field="dispensation_fact")
    member_fields = set(MEMBER_BASE_FACTS) | set(spec.member_input_facts)
    member_conditions: dict[str, Condition] = {}
    member_filters: dict[str, Condition] = {}
    for name, derived in spec.derived_facts.items():
        where = f"derived_facts.{name}"
        if derived.kind == "member_condition":
            member_conditions[name] = parse_condition(derived.condition or {}, source=source,
                                                      rule=f"{spec.id}#{name}", fields=member_fields,
                                                      constants=set(spec.constants))
        if derived.kind == "event_within_months" and derived.event not in spec.member_input_facts:
            raise ConfigurationError(f"event '{derived.event}' must be declared in member_input_facts",
                                     source=source, rule=spec.id, field=f"{where}.event")
        if derived.where is not None:
            member_filters[name] = parse_condition(derived.where, source=source, rule=f"{spec.id}#{name}",
                                                   fields=member_fields, constants=set(spec.constants))
        if derived.window_end_switch is not None:
            allowed = declared.get(derived.window_end_switch)
            if allowed is None or set(getattr(allowed, "allowed", ())) - {"previous_month", "current_month"}:
                raise ConfigurationError(f"window_end_switch names no previous_month/current_month switch: "
                                         f"'{derived.window_end_switch}'", source=source, rule=spec.id,
                                         field=f"{where}.window_end_switch")
        for i, group in enumerate(derived.groups or ()):
            if group.enabled_by is not None and group.enabled_by not in switches:
                raise ConfigurationError(f"enabled_by names unknown switch '{group.enabled_by}'", source=source,
                                         rule=spec.id, field=f"{where}.groups[{i}].enabled_by")

    rules: dict[str, tuple[CompiledRule, ...]] = {}
    for kind in ("eligibility", "rejections", "priorities", "exemptions"):
        compiled = []
        seen: set[str] = set()
        for i, rule_spec in enumerate(getattr(spec, kind)):
            where = f"{kind}[{i}]"
            if rule_spec.id in seen:
                raise ConfigurationError(f"duplicate rule id '{rule_spec.id}'", source=source,
                                         rule=spec.id, field=f"{where}.id")
            seen.add(rule_spec.id)
            if rule_spec.on_unknown not in ON_UNKNOWN[kind]:
                raise ConfigurationError(
                    f"on_unknown for {kind} must be one of {', '.join(ON_UNKNOWN[kind])}, "
                    f"got '{rule_spec.on_unknown}'", source=source, rule=f"{spec.id}#{rule_spec.id}",
                    field=f"{where}.on_unknown")
            if rule_spec.enabled_by is not None and rule_spec.enabled_by not in switches:
                raise ConfigurationError(f"enabled_by names unknown switch '{rule_spec.enabled_by}'",
                                         source=source, rule=f"{spec.id}#{rule_spec.id}",
                                         field=f"{where}.enabled_by")
            if kind == "priorities" and rule_spec.rank is None:
                raise ConfigurationError("a priority needs a 'rank' (lower ranks first)", source=source,
                                         rule=f"{spec.id}#{rule_spec.id}", field=f"{where}.rank")
            cond = parse_condition(rule_spec.condition, source=source, rule=f"{spec.id}#{rule_spec.id}",
                                   fields=fields, constants=set(spec.constants))
            compiled.append(CompiledRule(spec.id, kind, rule_spec, cond, condition_fields(cond)))
        rules[kind] = tuple(compiled)
    return Policy(spec, source, switches, rules, member_conditions, member_filters)


# ----------------------------------------------------------------------------------------------
# Loading and precedence


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)  # noqa: S506 (safe loader)
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"not valid YAML: {exc}", source=str(path)) from None
    except OSError as exc:
        raise ConfigurationError(f"cannot read: {exc}", source=str(path)) from None
    except UnicodeDecodeError as exc:
        raise ConfigurationError(f"not UTF-8 text ({exc.reason} at byte {exc.start}); save the policy file "
                                 "as UTF-8", source=str(path)) from None


def _merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(dict(base))
    for key, value in override.items():
        if key == "base":
            continue
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping) and key not in ("scope",):
            merged = dict(out[key])
            merged.update(value)
            out[key] = merged
        else:
            out[key] = copy.deepcopy(value)
    return out


def policy_files(paths: Iterable[str | Path]) -> list[Path]:
    """Every `*.yaml`/`*.yml` file under the given files and directories, sorted."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(q for q in p.rglob("*") if q.suffix in (".yaml", ".yml")))
        elif p.exists():
            out.append(p)
        else:
            raise ConfigurationError("no such policy file or directory", source=str(p))
    return out


def load_policies(paths: Iterable[str | Path]) -> "PolicySet":
    """Load, base-merge, validate and compile every policy file under `paths`."""
    raws: list[tuple[Path, dict[str, Any]]] = []
    for path in policy_files(paths):
        data = _read_yaml(path)
        if not isinstance(data, Mapping):
            raise ConfigurationError("a policy file must hold a mapping", source=str(path))
        raws.append((path, dict(data)))
    by_ref: dict[str, list[tuple[Path, dict[str, Any]]]] = {}
    for path, data in raws:
        by_ref.setdefault(str(data.get("id")), []).append((path, data))
        by_ref.setdefault(f"{data.get('id')}@{data.get('version')}", []).append((path, data))

    def resolved(path: Path, data: dict[str, Any], chain: tuple[str, ...]) -> dict[str, Any]:
        base = data.get("base")
        if base is None:
            return data
        if not isinstance(base, str) or base not in by_ref:
            raise ConfigurationError(f"base policy '{base}' not found among the loaded files",
                                     source=str(path), rule=str(data.get("id")), field="base")
        if len(by_ref[base]) > 1:
            raise ConfigurationError(f"base '{base}' has several versions; name one as id@version",
                                     source=str(path), rule=str(data.get("id")), field="base")
        if base in chain:
            raise ConfigurationError(f"base chain loops: {' -> '.join(chain + (base,))}",
                                     source=str(path), rule=str(data.get("id")), field="base")
        base_path, base_data = by_ref[base][0]
        merged = _merge(resolved(base_path, base_data, chain + (base,)), data)
        merged["base"] = base
        return merged

    policies = [compile_policy(resolved(path, data, (str(data.get("id")),)), str(path))
                for path, data in raws]
    return PolicySet(policies)


def load_default_policies(include_local_examples: bool = False) -> "PolicySet":
    """The packaged statutory policies (and, if asked, the example local agreements)."""
    paths: list[Path] = [POLICY_DIR / "statutory"]
    if include_local_examples:
        paths.append(POLICY_DIR / "local")
    return load_policies(paths)


def check_policy_files(paths: Sequence[str | Path], context: Sequence[str | Path] = ()) -> "PolicySet":
    """Validate policy files (with `context` files available as bases); raises ConfigurationError."""
    return load_policies([*context, *paths])


class PolicySet:
    """All loaded policies, and which of them are in force for a dwelling on a date."""

    def __init__(self, policies: Sequence[Policy]) -> None:
        self.policies = tuple(policies)
        seen: dict[tuple[str, str], Policy] = {}
        for p in self.policies:
            key = (p.id, p.version)
            if key in seen:
                raise ConfigurationError(f"policy {p.id} version {p.version} is defined twice "
                                         f"(also in {seen[key].source})", source=p.source, rule=p.id,
                                         field="version")
            seen[key] = p
        self._check_overlaps()

    def _check_overlaps(self) -> None:
        by_slot: dict[str, list[Policy]] = {}
        for p in self.policies:
            by_slot.setdefault(p.spec.slot_name, []).append(p)
        for slot, group in by_slot.items():
            for i, a in enumerate(group):
                for b in group[i + 1:]:
                    if a.spec.scope.specificity() != b.spec.scope.specificity():
                        continue
                    if not a.spec.scope.overlaps(b.spec.scope):
                        continue
                    a_end = a.spec.effective_to or date.max
                    b_end = b.spec.effective_to or date.max
                    if a.spec.effective_from < b_end and b.spec.effective_from < a_end:
                        raise ConfigurationError(
                            f"policies {a.id}@{a.version} ({a.source}) and {b.id}@{b.version} fill slot "
                            f"'{slot}' with equally specific, overlapping scopes and periods; narrow a "
                            f"scope or end one period", source=b.source, rule=b.id, field="scope")

    def get(self, policy_id: str, version: str | None = None) -> Policy:
        for p in self.policies:
            if p.id == policy_id and (version is None or p.version == version):
                return p
        raise KeyError(f"{policy_id}@{version}")

    def in_force(self, dwelling: Dwelling, on: date) -> tuple[Policy, ...]:
        """The winning, enabled policy of every slot for this dwelling on this date."""
        best: dict[str, Policy] = {}
        for p in self.policies:
            if not (p.spec.in_force(on) and p.spec.scope.matches(dwelling)):
                continue
            slot = p.spec.slot_name
            if slot not in best or p.spec.scope.specificity() > best[slot].spec.scope.specificity():
                best[slot] = p
        return tuple(sorted((p for p in best.values() if p.spec.enabled), key=lambda p: (p.spec.tool, p.id)))

    def __len__(self) -> int:
        return len(self.policies)


__all__ = [
    "CompiledRule",
    "ON_UNKNOWN",
    "POLICY_DIR",
    "Policy",
    "PolicySet",
    "PolicySpec",
    "RuleSpec",
    "Scope",
    "SwitchSpec",
    "TOOLS",
    "TOOL_EFFECTS",
    "TOOL_SWITCHES",
    "check_policy_files",
    "compile_policy",
    "load_default_policies",
    "load_policies",
]
