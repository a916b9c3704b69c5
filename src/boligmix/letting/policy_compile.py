"""Compile one validated letting policy: resolve its switches, check its sections against the
tool and parse its conditions with the one condition evaluator (`boligmix.rules.evaluator`)."""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import ValidationError

from boligmix.errors import ConfigurationError
from boligmix.letting.facts import BASE_FACTS, MEMBER_BASE_FACTS
from boligmix.letting.model import Channel, PolicyRef
from boligmix.letting.policy_spec import PolicySpec, RuleSpec
from boligmix.letting.switches import ON_UNKNOWN, TOOL_EFFECTS, TOOL_SWITCHES
from boligmix.rules.evaluator import Condition, condition_fields, parse_condition


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

    def lapses(self, rule: CompiledRule) -> bool:
        """Is this eligibility rule a preference that lapses when no one meeting it takes the
        dwelling (`lapses_without_taker`, with the waiting list's switch `size_rule` = lapses)?"""
        return rule.spec.lapses_without_taker and self.switches.get("size_rule") == "lapses"

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


def _check_placeholders(text: str, constants: Mapping[str, Any], *, source: str, rule: str, field: str) -> None:
    """Every `{name}` of a Danish reason text names a constant of the policy."""
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]
    except ValueError as exc:
        raise ConfigurationError(f"reason text is not a valid template: {exc}", source=source, rule=rule,
                                 field=field) from None
    for name in names:
        if name not in constants:
            raise ConfigurationError(f"'{{{name}}}' names no constant of the policy (known: "
                                     f"{', '.join(constants) or 'none'})", source=source, rule=rule, field=field)


def rule_text(rule: CompiledRule | RuleSpec, constants: Mapping[str, Any], lang: str = "da") -> str:
    """A rule's reason text in `lang` ('da': its Danish text with the constants filled in; else
    the English description); the rule id when the file gives no text."""
    spec = rule.spec if isinstance(rule, CompiledRule) else rule
    if lang == "da":
        return spec.description_da.format_map(dict(constants)) if spec.description_da else ""
    return spec.description or spec.id


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
            if rule_spec.lapses_without_taker and (kind != "eligibility" or spec.tool != "waiting_list"):
                raise ConfigurationError("only the waiting_list tool's eligibility rules may lapse "
                                         "(lapses_without_taker)", source=source, rule=f"{spec.id}#{rule_spec.id}",
                                         field=f"{where}.lapses_without_taker")
            if kind == "priorities" and rule_spec.rank is None:
                raise ConfigurationError("a priority needs a 'rank' (lower ranks first)", source=source,
                                         rule=f"{spec.id}#{rule_spec.id}", field=f"{where}.rank")
            cond = parse_condition(rule_spec.condition, source=source, rule=f"{spec.id}#{rule_spec.id}",
                                   fields=fields, constants=set(spec.constants))
            _check_placeholders(rule_spec.description_da, spec.constants, source=source,
                                rule=f"{spec.id}#{rule_spec.id}", field=f"{where}.description_da")
            compiled.append(CompiledRule(spec.id, kind, rule_spec, cond, condition_fields(cond)))
        rules[kind] = tuple(compiled)
    return Policy(spec, source, switches, rules, member_conditions, member_filters)


__all__ = ["CompiledRule", "Policy", "compile_policy", "rule_text"]
