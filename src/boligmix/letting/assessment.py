"""How the rules in force see one applicant for one vacancy and channel: eligibility, exemptions,
rejections and priorities (`RuleAssessor`, the letting engine's assessment), with the facts each
rule read, memoised between rounds.

`policy_facts` is the one definition of the facts a policy's rules are evaluated on (used by the
engine, `boligmix.letting.compiled` and `boligmix.letting.exchange`). `LettingEngine` is a
`RuleAssessor`: it provides `_refusals` (refusals counted by its ledger) and the memos it was given.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from types import MappingProxyType
from typing import Any

from boligmix.letting.facts import (
    PRIORITY_RIGHT_PREFIX,
    base_facts,
    derive_benefit_groups,
    derive_benefit_months,
    derive_event_within,
    derive_member_condition,
)
from boligmix.letting.model import Applicant, Channel, Dwelling, Outcome, Vacancy
from boligmix.letting.policy import CompiledRule, Policy
from boligmix.rules.evaluator import evaluate
from boligmix.rules.truth import Truth

_MEMO_LIMIT = 100_000
"""Memoised rule verdicts an engine keeps before it starts afresh (a bound for long-lived engines)."""
_ASSESSMENT_LIMIT = 20_000
"""Assessments kept by a shared memo (`LettingEngine(assessments=...)`) before it is cleared (each
holds its facts: some kB): per round context, and by all contexts together when a new one comes."""


def _sorted_fields(rule: CompiledRule, _cache: dict[int, tuple[CompiledRule, tuple[str, ...]]] = {}) -> tuple[str, ...]:
    """The facts a rule reads, sorted (kept per rule object)."""
    hit = _cache.get(id(rule))
    if hit is None or hit[0] is not rule:
        hit = _cache[id(rule)] = (rule, tuple(sorted(rule.fields)))
    return hit[1]

@dataclass(frozen=True)
class RuleHit:
    """One rule's verdict on one applicant, with the facts it read."""

    rule: CompiledRule
    policy: Policy
    truth: Truth
    facts: Mapping[str, Any]
    unknown: tuple[str, ...]


@dataclass(frozen=True)
class Assessment:
    """How the rules in force see one applicant for one vacancy and channel.

    `outcome` is None when the applicant may be ranked, else SKIPPED or REJECTED with `hit`
    (the deciding rule) and `reason`. `priority_key` orders eligible applicants (smaller first).
    """

    applicant: Applicant
    outcome: Outcome | None
    reason: str
    hit: RuleHit | None = None
    policy: Policy | None = None
    priorities_met: tuple[str, ...] = ()
    priority_key: tuple[int, ...] = ()
    facts: Mapping[str, Any] = field(default_factory=dict)
    unknown: tuple[str, ...] = ()
    lapsed: tuple[str, ...] = ()
    """Rules that lapse without a taker (`Policy.lapses`: the waiting list's size rule) this
    applicant fails: still eligible, ranked after every applicant meeting them (their 0/1 verdicts
    lead `priority_key`)."""


LAPSED_FACT = "lapsed_rules"
"""The fact naming the lapsing rules an eligible applicant fails (recorded with its decisions)."""


def _assessment_table(memo: dict[tuple[Any, ...], Any], dwelling: Dwelling, channel: Channel,
                      in_force: Sequence[Policy], on: date) -> dict[tuple[int, int], Any] | None:
    """The memo's table of assessments for one round context (created when missing; None when a
    dwelling fact cannot be a key). The memo keeps the policies in force with the table, since the
    key holds their ids. All tables are dropped when they hold more than `_ASSESSMENT_LIMIT`
    assessments together."""
    key = (_dwelling_key(dwelling), channel, tuple(map(id, in_force)), on)
    try:
        found = memo.get(key)
    except TypeError:
        return None
    if found is not None:
        return found[1]
    if sum(len(table) for _, table in list(memo.values())) > _ASSESSMENT_LIMIT:  # a copy: other threads write
        memo.clear()
    table: dict[tuple[int, int], Any] = {}
    memo[key] = (tuple(in_force), table)
    return table


def _dwelling_key(d: Dwelling) -> tuple[Any, ...]:
    """Every field of a dwelling but its id (what an assessment can read of it), as a memo key."""
    return (d.municipality_code, d.org_id, d.department_id, d.rooms, d.area_id, d.area_categories, d.almen_type,
            d.floor_area_m2, d.monthly_rent_dkk, d.shared, d.udslusningsbolig,
            tuple(sorted(d.facts.items())) if d.facts else ())


_PLAIN = frozenset({str, int, bool, type(None)})
"""Types `_json_safe` returns as they are (exact types: an enum that is a str is not one of them)."""


def _json_safe(value: Any) -> Any:
    kind = type(value)
    if kind in _PLAIN:  # the common cases first, with the results of the general rules below
        return value
    if kind is dict:
        return {(k if type(k) is str else str(k)): (v if type(v) in _PLAIN else _json_safe(v))
                for k, v in value.items()}
    if kind is list or kind is tuple:
        return [v if type(v) in _PLAIN else _json_safe(v) for v in value]
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_json_safe(v) for v in value]
        return sorted(items, key=str) if isinstance(value, (set, frozenset)) else items
    if hasattr(value, "value") and isinstance(getattr(value, "value"), str):
        return value.value
    return value


class RuleAssessor:
    """The assessment part of the letting engine (mixed into `LettingEngine`, which sets `_memo`,
    `_assessments` and `_assess_context` and provides `_refusals`)."""

    _memo: dict[tuple[Any, ...], Any]
    _assessments: dict[tuple[Any, ...], Any] | None
    _assess_context: tuple[Any, ...]

    def _refusals(self, applicant_id: int, base: int) -> int:  # pragma: no cover - provided by the engine
        raise NotImplementedError


    def _facts_for(self, policy: Policy, applicant: Applicant, base: Mapping[str, Any], on: date
                   ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Deprecated alias of the module function `policy_facts` (kept for callers of old)."""
        return policy_facts(policy, applicant, base, on)

    def _memo_key(self, kind: str, rule: CompiledRule, policy: Policy, facts: Mapping[str, Any],
                  details: Mapping[str, Any] | None = None) -> tuple[Any, ...] | None:
        """The memo key of a rule's verdict: the rule and policy objects (held by this engine's policy
        set) and the type and value of every fact the rule reads (and, for `_hit`, their derivation
        details); None when a value cannot be a key (then nothing is memoised)."""
        names = _sorted_fields(rule)
        if details and not details.keys().isdisjoint(names):
            return None  # derivation details (benefit spells, events) are not memoised
        key = (kind, id(rule), id(policy), tuple([(type(v), v) for v in map(facts.get, names)]))
        try:
            hash(key)
        except TypeError:
            return None
        if len(self._memo) > _MEMO_LIMIT:
            self._memo.clear()
        return key

    def _truth(self, rule: CompiledRule, policy: Policy, facts: Mapping[str, Any]) -> Truth:
        """`evaluate(rule.condition, facts, constants)`, memoised by the facts the rule reads."""
        key = self._memo_key("truth", rule, policy, facts)
        if key is None:
            return evaluate(rule.condition, facts, policy.spec.constants)
        truth = self._memo.get(key)
        if truth is None:
            truth = self._memo[key] = evaluate(rule.condition, facts, policy.spec.constants)
        return truth

    def _hit(self, rule: CompiledRule, policy: Policy, facts: Mapping[str, Any], details: Mapping[str, Any],
             truth: Truth | None = None) -> RuleHit:
        key = self._memo_key("hit", rule, policy, facts, details)
        if key is not None:
            hit = self._memo.get(key)
            if hit is None:
                hit = self._memo[key] = self._new_hit(rule, policy, facts, details, truth)
            return hit
        return self._new_hit(rule, policy, facts, details, truth)

    def _new_hit(self, rule: CompiledRule, policy: Policy, facts: Mapping[str, Any], details: Mapping[str, Any],
                 truth: Truth | None = None) -> RuleHit:
        if truth is None:
            truth = self._truth(rule, policy, facts)
        used: dict[str, Any] = {}
        unknown: list[str] = []
        for name in sorted(rule.fields):
            value = facts.get(name)
            used[name] = _json_safe(value)
            if value is None:
                unknown.append(name)
            if name in details:
                used[f"{name}.detail"] = _json_safe(details[name])
        return RuleHit(rule, policy, truth, MappingProxyType(used), tuple(unknown))

    def _assess(self, vacancy: Vacancy, applicant: Applicant, channel: Channel, in_force: Sequence[Policy],
                on: date) -> Assessment:
        """How the rules see `applicant` (`_assess_now`), memoised in `assessments` when given: the
        assessment depends only on the applicant, the dwelling's fields other than its id, the
        channel, the policies in force, the date and the refusals counted. The memo holds one table
        per round context (dwelling fields, channel, policies, date: looked up once per round) of
        the assessments by applicant and refusals (the applicant by identity: the table keeps the
        object, so its id is not reused meanwhile)."""
        table = self._assessment_table_for(vacancy, channel, in_force, on)
        if table is None:  # no memo, or a dwelling fact that cannot be a key: not memoised
            return self._assess_now(vacancy, applicant, channel, in_force, on)
        key = (id(applicant), self._refusals(applicant.applicant_id, applicant.refusal_count))
        hit = table.get(key)
        if hit is not None and hit[0] is applicant:
            return hit[1]
        assessment = self._assess_now(vacancy, applicant, channel, in_force, on)
        if len(table) > _ASSESSMENT_LIMIT:
            table.clear()
        table[key] = (applicant, assessment)
        return assessment

    def _assessment_table_for(self, vacancy: Vacancy, channel: Channel, in_force: Sequence[Policy], on: date
                              ) -> dict[tuple[int, int], Any] | None:
        """The memo's table of assessments for this round context, by (id of the applicant object,
        refusals counted) -> (applicant, assessment); None when assessments are not memoised (see
        `_assess`, which is the one writer; a reader must check the applicant object is the key's)."""
        memo = self._assessments
        if memo is None:
            return None
        context = self._assess_context
        if context[0] is not vacancy.dwelling or context[1] is not in_force or context[2] is not channel \
                or context[3] != on:  # once per round, not per candidate
            context = self._assess_context = (vacancy.dwelling, in_force, channel, on,
                                              _assessment_table(memo, vacancy.dwelling, channel, in_force, on))
        return context[4]

    def _assess_now(self, vacancy: Vacancy, applicant: Applicant, channel: Channel, in_force: Sequence[Policy],
                    on: date) -> Assessment:
        covering = [p for p in in_force if p.covers(channel)]
        refusals = self._refusals(applicant.applicant_id, applicant.refusal_count)
        base = base_facts(applicant, vacancy.dwelling, on, refusals)
        computed: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}

        def facts_of(policy: Policy) -> tuple[dict[str, Any], dict[str, Any]]:
            """The policy's facts, computed when its first rule is evaluated."""
            if policy.id not in computed:
                computed[policy.id] = policy_facts(policy, applicant, base, on)
            return computed[policy.id]

        def stop(outcome: Outcome, hit: RuleHit, reason: str, extra: Mapping[str, Any] | None = None) -> Assessment:
            facts = dict(hit.facts)
            if extra:
                facts.update(extra)
            return Assessment(applicant, outcome, reason, hit, hit.policy, facts=facts, unknown=hit.unknown)

        # 1. eligibility: every condition must hold, but a rule that lapses without a taker (the size
        # rule) only orders: its 0/1 verdicts lead the priority key (met first)
        lapse_key: list[int] = []
        lapsed: list[str] = []
        lapse_facts: dict[str, Any] = {}
        for policy in covering:
            if not policy.active("eligibility"):
                continue
            facts, details = facts_of(policy)
            for rule in policy.active("eligibility"):
                truth = self._truth(rule, policy, facts)
                lapses = policy.lapses(rule)
                if truth is Truth.TRUE:
                    if lapses:
                        lapse_key.append(0)
                    continue
                hit = self._hit(rule, policy, facts, details, truth)
                if hit.truth is Truth.FALSE and lapses:
                    lapse_key.append(1)
                    lapsed.append(rule.rule_id)
                    lapse_facts.update(hit.facts)
                    continue
                if hit.truth is Truth.FALSE:
                    return stop(Outcome.SKIPPED, hit, f"not eligible: fails '{rule.spec.description or rule.spec.id}'")
                if hit.truth is Truth.UNKNOWN:
                    how = rule.spec.on_unknown
                    return stop(Outcome.SKIPPED, hit,
                                f"{'held' if how == 'hold' else 'not eligible'}: "
                                f"'{rule.spec.description or rule.spec.id}' cannot be decided; unknown: "
                                f"{', '.join(hit.unknown) or '?'}")

        # 2. exemptions per policy
        exempt: dict[str, RuleHit] = {}
        exemption_facts: dict[str, Any] = {}
        for policy in covering:
            if not policy.active("exemptions"):
                continue
            facts, details = facts_of(policy)
            for rule in policy.active("exemptions"):
                truth = self._truth(rule, policy, facts)
                if truth is Truth.TRUE:
                    exempt[policy.id] = self._hit(rule, policy, facts, details, truth)
                    exemption_facts[f"exempt:{rule.rule_id}"] = True
                    break

        # 3. rejections
        for policy in covering:
            if policy.id in exempt or not policy.active("rejections"):
                continue
            facts, details = facts_of(policy)
            dispensation = policy.spec.dispensation_fact
            for rule in policy.active("rejections"):
                truth = self._truth(rule, policy, facts)
                if truth is Truth.FALSE:
                    continue
                hit = self._hit(rule, policy, facts, details, truth)
                if dispensation is not None and policy.switches.get("dispensation_allowed", False) \
                        and facts.get(dispensation) is True:
                    exemption_facts[f"dispensation:{rule.rule_id}"] = True
                    exemption_facts[f"dispensation_version:{rule.rule_id}"] = policy.version
                    exemption_facts[f"{dispensation}_grounds"] = _json_safe(
                        applicant.facts.get(f"{dispensation}_grounds"))
                    continue
                if hit.truth is Truth.TRUE:
                    return stop(Outcome.REJECTED, hit, f"{rule.spec.description or rule.spec.id}"
                                + (f" ({rule.spec.law or policy.spec.law})" if (rule.spec.law or policy.spec.law) else ""))
                if rule.spec.on_unknown == "reject":
                    return stop(Outcome.REJECTED, hit, f"{rule.spec.description or rule.spec.id}: cannot be "
                                f"ruled out and the rule rejects on unknown; unknown: {', '.join(hit.unknown)}")
                return stop(Outcome.SKIPPED, hit, f"held: {rule.spec.description or rule.spec.id} cannot be decided; "
                            f"unknown: {', '.join(hit.unknown) or '?'}")

        # 4. priorities (ranked by rank; exempt applicants count as meeting their policy's priorities)
        prios: list[tuple[int, str, RuleHit, Policy]] = []
        for policy in covering:
            if not policy.active("priorities"):
                continue
            facts, details = facts_of(policy)
            for rule in policy.active("priorities"):
                prios.append((rule.spec.rank or 0, rule.rule_id, self._hit(rule, policy, facts, details), policy))
        prios.sort(key=lambda t: (t[0], t[1]))
        key: list[int] = lapse_key
        met: list[str] = []
        used: dict[str, Any] = dict(exemption_facts)
        if lapsed:
            used.update(lapse_facts)
            used[LAPSED_FACT] = list(lapsed)
        unknown: list[str] = []
        for _, rule_id, hit, policy in prios:
            meets = hit.truth is Truth.TRUE or policy.id in exempt
            key.append(0 if meets else 1)
            if meets:
                met.append(rule_id)
            used.update(hit.facts)
            unknown += [u for u in hit.unknown if u not in unknown]
            if not meets and policy.spec.tool == "fleksibel_udlejning" and policy.switch("mode") == "exclusive":
                return Assessment(applicant, Outcome.SKIPPED,
                                  f"does not meet the fleksibel criteria ({hit.rule.spec.description or hit.rule.spec.id})"
                                  f" and the criteria are exclusive (switch mode=exclusive)"
                                  + (f"; unknown: {', '.join(hit.unknown)}" if hit.unknown else ""),
                                  hit, policy, facts=dict(hit.facts), unknown=hit.unknown)
        return Assessment(applicant, None, "eligible", None, None, tuple(met), tuple(key), used, tuple(unknown),
                          tuple(lapsed))


def policy_facts(policy: Policy, applicant: Applicant, base: Mapping[str, Any], on: date
                 ) -> tuple[dict[str, Any], dict[str, Any]]:
    """The facts the engine evaluates `policy`'s rules on for `applicant` on `on`, and their details.

    `base` is `boligmix.letting.facts.base_facts(applicant, dwelling, on, refusals)`. Added to it: the
    policy's declared input facts the applicant has (`Applicant.facts`; a missing one stays unknown),
    its priority-right facts (`priority_right.<name>`: whether the applicant holds the right) and its
    derived facts (benefit months and groups, events within a window, member conditions; the
    policy's switches such as `receipt_month` choose the benefit window). Returns `(facts, details)`:
    `details` holds, per derived fact, what it was derived from (recorded with the decisions).
    The one definition used by `LettingEngine.assess`, `boligmix.letting.compiled.decide` and
    `boligmix.letting.exchange`; pure (no ledger)."""
    spec = policy.spec
    facts = dict(base)
    for name in spec.input_facts:
        if name.startswith(PRIORITY_RIGHT_PREFIX):
            facts[name] = name[len(PRIORITY_RIGHT_PREFIX):] in applicant.priority_rights
    for name in spec.input_facts:
        if not name.startswith(PRIORITY_RIGHT_PREFIX) and name in applicant.facts:
            facts[name] = applicant.facts[name]
    details: dict[str, Any] = {}
    for name, derived in spec.derived_facts.items():
        if derived.kind == "benefit_months" and derived.groups is not None:
            value = derive_benefit_groups(applicant, on, groups=policy.benefit_groups(name), who=derived.who,
                                          window_end=policy.window_end(name), lookback_months=derived.lookback_months,
                                          min_cohabitation_years=derived.partner_min_cohabitation_years)
        elif derived.kind == "benefit_months":
            value = derive_benefit_months(applicant, on, benefits=frozenset(derived.benefits or ()),
                                          months=derived.months or 0, who=derived.who,
                                          window_end=policy.window_end(name),
                                          lookback_months=derived.lookback_months,
                                          min_cohabitation_years=derived.partner_min_cohabitation_years)
        elif derived.kind == "event_within_months":
            value = derive_event_within(applicant, on, event=derived.event or "", months=derived.months or 0,
                                        who=derived.who,
                                        min_cohabitation_years=derived.partner_min_cohabitation_years,
                                        where=policy.member_filters.get(name), constants=spec.constants)
        else:
            value = derive_member_condition(applicant, on, condition=policy.member_conditions[name],
                                            who=derived.who, constants=spec.constants,
                                            min_cohabitation_years=derived.partner_min_cohabitation_years)
        facts[name] = value.value
        details[name] = value.detail
    return facts, details


__all__ = ["Assessment", "LAPSED_FACT", "RuleAssessor", "RuleHit", "policy_facts"]
