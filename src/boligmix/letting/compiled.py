"""Letting policies evaluated over a table of candidates at once (the engine's decision rule, vectorised).

`decide(policies, vacancy, channel, applicants, on)` returns one row per applicant with what
`LettingEngine.assess` would say about it for that vacancy and channel: `outcome` (null: may be
ranked; `skipped`; `rejected`), the deciding `rule_id`, the `priority_key` and the priorities met.
The facts are computed per applicant by the engine's own fact code (base facts, declared input facts,
priority rights, derived facts: `boligmix.letting.engine.policy_facts`), once per applicant and policy; every
rule's condition is then evaluated for all applicants at once with the one evaluator's polars form
(`boligmix.rules.evaluator.evaluate_frame`), and the engine's precedence is applied column-wise:

1. eligibility (per policy covering the channel, rules in order): the first rule not TRUE skips,
   except that a rule lapsing without a taker (`Policy.lapses`, the size rule) that is FALSE only
   ranks the applicant after those meeting it (its 0/1 verdicts lead the priority key);
2. exemptions: a policy whose exemption rule is TRUE has its rejections and priorities waived
   (priorities then count as met);
3. rejections: the first rule not FALSE decides unless a dispensation applies: TRUE rejects,
   UNKNOWN rejects when the rule says `on_unknown: reject`, else holds (skipped);
4. priorities (all policies, by rank then rule id) form the priority key; an exclusive fleksibel
   policy skips applicants who do not meet its criteria.

Pure: no ledger, no entitlements or redirects (pass them as `Applicant.priority_rights`, as a store
does). Use it where many candidates are assessed for one vacancy (a simulation, a letting store);
`tests/test_letting_compiled.py` checks it against `LettingEngine.assess` rule by rule.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any

import polars as pl

from boligmix.letting.engine import policy_facts
from boligmix.letting.facts import base_facts
from boligmix.letting.model import Applicant, Channel, Outcome, Vacancy
from boligmix.letting.policy import Policy, PolicySet
from boligmix.rules.evaluator import evaluate, evaluate_frame

SKIPPED, REJECTED = Outcome.SKIPPED.value, Outcome.REJECTED.value


def _frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """Facts as a frame: one column per fact; a column mixing types becomes a string column of the
    non-null values only where they agree, so mixed columns are kept as Python objects."""
    names = sorted({k for r in rows for k in r})
    columns = {}
    for name in names:
        values = [r.get(name) for r in rows]
        kinds = {type(v) for v in values if v is not None}
        if kinds <= {int, float} and kinds != {int, float}:
            columns[name] = pl.Series(name, values)
        elif kinds == {int, float}:
            columns[name] = pl.Series(name, [None if v is None else float(v) for v in values], dtype=pl.Float64)
        elif len(kinds) <= 1:
            columns[name] = pl.Series(name, values, dtype=pl.Boolean if kinds == {bool} else None)
        else:
            columns[name] = pl.Series(name, values, dtype=pl.Object)
    return pl.DataFrame(columns, height=len(rows)) if columns else pl.DataFrame(height=len(rows))


def _truth(policy: Policy, rule, facts: pl.DataFrame) -> list[bool | None]:
    return evaluate_frame(rule.condition, facts, policy.spec.constants).to_list()


def decide(policies: PolicySet, vacancy: Vacancy, channel: Channel, applicants: Sequence[Applicant],
           on: date) -> pl.DataFrame:
    """The engine's assessment of every applicant for `vacancy` through `channel` on `on`:
    columns applicant_id, outcome (null / 'skipped' / 'rejected'), rule_id, priority_key, priorities_met."""
    n = len(applicants)
    in_force = policies.in_force(vacancy.dwelling, on)
    covering = [p for p in in_force if p.covers(channel)]
    base = [base_facts(a, vacancy.dwelling, on, a.refusal_count) for a in applicants]
    frames: dict[str, pl.DataFrame] = {}

    def facts(policy: Policy) -> pl.DataFrame:
        if policy.id not in frames:
            frames[policy.id] = _frame([policy_facts(policy, a, b, on)[0]
                                        for a, b in zip(applicants, base)])
        return frames[policy.id]

    def column(policy: Policy, name: str) -> list[Any] | None:
        frame = facts(policy)
        return frame.get_column(name).to_list() if name in frame.columns else None

    outcome, rule_of, keys, met = _precedence(covering, n, lambda policy, rule: _truth(policy, rule, facts(policy)),
                                              column)
    return pl.DataFrame({
        "applicant_id": [a.applicant_id for a in applicants], "outcome": pl.Series(outcome, dtype=pl.String),
        "rule_id": pl.Series(rule_of, dtype=pl.String),
        "priority_key": pl.Series([k if o is None else [] for k, o in zip(keys, outcome)], dtype=pl.List(pl.Int64)),
        "priorities_met": pl.Series([m if o is None else [] for m, o in zip(met, outcome)], dtype=pl.List(pl.String)),
    })


class RowDecider:
    """The same decision for a few candidates at a time (an offer round's window), from fact rows.
    A row's decision depends only on the policies and on the values of the facts their active rules
    (and dispensation) read, so it is kept per such combination across calls (a simulation assesses
    the same kinds of seekers for many dwellings; their facts repeat); a new combination is decided
    by the one evaluator's scalar form. For the polars form over a large table use `decide`."""

    def __init__(self, limit: int = 200_000) -> None:
        self._memo: dict[tuple[Any, ...], tuple[str | None, str | None, list[int], list[str]]] = {}
        self._fields: dict[int, tuple[str, ...]] = {}
        self._limit = limit

    def decide(self, covering: Sequence[Policy], facts: Callable[[Policy], Sequence[Mapping[str, Any]]], n: int
               ) -> tuple[list[str | None], list[str | None], list[list[int]], list[list[str]]]:
        """(outcome, deciding rule, priority key, priorities met) per row, as `decide` and
        `LettingEngine.assess` give them; `covering` are the policies in force that cover the
        channel (`Policy.covers`), `facts(policy)` the rows of `policy_facts` for that policy."""
        policies = tuple(id(p) for p in covering)
        signatures = []                            # per policy and row: the values read, and their types
        for p in covering:
            names = self.fields(p)
            values = [tuple(map(row.get, names)) for row in facts(p)]
            signatures.append([(v, tuple(map(type, v))) for v in values])
        keys: list[tuple[Any, ...] | None] = []
        results: list[tuple[str | None, str | None, list[int], list[str]] | None] = []
        memo = self._memo
        for i in range(n):
            key = (policies, tuple(sig[i] for sig in signatures))
            try:
                found = memo.get(key)              # (the key hashed once: a tuple does not keep its hash)
            except TypeError:                      # a value that cannot be a key: decided, not kept
                key = found = None
            keys.append(key)
            results.append(found)
        new = [i for i in range(n) if results[i] is None]
        if new:
            decided = _precedence(
                covering, len(new),
                lambda policy, rule: [evaluate(rule.condition, facts(policy)[i], policy.spec.constants).to_bool()
                                      for i in new],
                lambda policy, name: [facts(policy)[i].get(name) for i in new]
                if any(name in facts(policy)[i] for i in new) else None)
            if len(self._memo) > self._limit:
                self._memo.clear()
            for j, i in enumerate(new):
                results[i] = (decided[0][j], decided[1][j], decided[2][j], decided[3][j])
                if keys[i] is not None:
                    self._memo[keys[i]] = results[i]
        return ([r[0] for r in results], [r[1] for r in results], [list(r[2]) for r in results],
                [list(r[3]) for r in results])

    def fields(self, policy: Policy) -> tuple[str, ...]:
        """Every fact the policy's active rules (and its dispensation) read: a row's decision depends
        on these values only."""
        names = self._fields.get(id(policy))
        if names is None:
            read = {f for kind in ("eligibility", "exemptions", "rejections", "priorities")
                    for rule in policy.active(kind) for f in rule.fields}
            if policy.spec.dispensation_fact is not None:
                read.add(policy.spec.dispensation_fact)
            names = self._fields[id(policy)] = tuple(sorted(read))
        return names


def _precedence(covering: Sequence[Policy], n: int, truth: Callable[[Policy, Any], list[bool | None]],
                column: Callable[[Policy, str], list[Any] | None]
                ) -> tuple[list[str | None], list[str | None], list[list[int]], list[list[str]]]:
    """The engine's precedence over per-row rule verdicts (module docstring, steps 1-4)."""
    outcome: list[str | None] = [None] * n
    rule_of: list[str | None] = [None] * n

    def open_rows() -> list[int]:
        return [i for i in range(n) if outcome[i] is None]

    # 1. eligibility (a rule that lapses without a taker only orders: its verdicts lead the key)
    lapse_keys: list[list[int]] = [[] for _ in range(n)]
    for policy in covering:
        for rule in policy.active("eligibility"):
            if not open_rows():
                break
            verdict = truth(policy, rule)
            lapses = policy.lapses(rule)
            for i in open_rows():
                if lapses and verdict[i] is not None:
                    lapse_keys[i].append(0 if verdict[i] else 1)
                elif verdict[i] is not True:
                    outcome[i], rule_of[i] = SKIPPED, rule.rule_id
    # 2. exemptions
    exempt: dict[str, list[bool]] = {}
    for policy in covering:
        rules = policy.active("exemptions")
        if not rules:
            continue
        flags = [False] * n
        for rule in rules:
            verdict = truth(policy, rule)
            flags = [f or t is True for f, t in zip(flags, verdict)]
        exempt[policy.id] = flags
    # 3. rejections
    for policy in covering:
        rules = policy.active("rejections")
        if not rules:
            continue
        dispensation = policy.spec.dispensation_fact
        dispensed = [False] * n
        if dispensation is not None and policy.switches.get("dispensation_allowed", False):
            values = column(policy, dispensation)
            if values is not None:
                dispensed = [v is True for v in values]
        waived = exempt.get(policy.id, [False] * n)
        for rule in rules:
            verdict = truth(policy, rule)
            for i in open_rows():
                if waived[i] or verdict[i] is False or dispensed[i]:
                    continue
                if verdict[i] is True or rule.spec.on_unknown == "reject":
                    outcome[i] = REJECTED
                else:
                    outcome[i] = SKIPPED
                rule_of[i] = rule.rule_id
    # 4. priorities
    prios = sorted(((rule.spec.rank or 0, rule.rule_id, rule, policy) for policy in covering
                    for rule in policy.active("priorities")), key=lambda t: (t[0], t[1]))
    keys: list[list[int]] = lapse_keys
    met: list[list[str]] = [[] for _ in range(n)]
    for _, rule_id, rule, policy in prios:
        verdict = truth(policy, rule)
        waived = exempt.get(policy.id, [False] * n)
        exclusive = policy.spec.tool == "fleksibel_udlejning" and policy.switch("mode") == "exclusive"
        for i in open_rows():
            meets = verdict[i] is True or waived[i]
            keys[i].append(0 if meets else 1)
            if meets:
                met[i].append(rule_id)
            elif exclusive:
                outcome[i], rule_of[i] = SKIPPED, rule_id
    return outcome, rule_of, keys, met


__all__ = ["RowDecider", "decide"]
