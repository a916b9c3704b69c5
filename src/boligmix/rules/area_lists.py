"""Area-list rule sets: the YAML files in `boligmix/rules/lists/`, loaded and checked.

A rule set names its criteria (indicator field, operator, threshold, unit, Danish and English
label, source), the categories built from them (gates, how many criteria must hold, parent
category, list-history requirement, exclusion), the named switches for open points and the
data choices used when indicators are computed. Every criterion becomes a condition of
`boligmix.rules.evaluator`; a bad file is rejected on load naming file, rule and field.
`category_condition` builds the evaluator condition of a category (the one definition used by
`boligmix.lists` and by the synthetic generator's design, `boligmix.data.synth.profiles`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from boligmix.errors import ConfigurationError
from boligmix.rules.evaluator import Condition, parse_condition
from boligmix.rules.files import parse_model, read_text

AREA_FIELDS: tuple[str, ...] = (
    "residents",
    "pct_non_western",
    "pct_outside_work_edu",
    "pct_convicted",
    "conviction_ratio",
    "pct_basic_education",
    "income_pct_of_region",
)
"""Indicator fields a list criterion may read (the AREAS.csv columns after area_id and year)."""

OUTPUT_FLAGS: tuple[str, ...] = ("udsat", "parallelsamfund", "omdannelse", "forebyggelse")
"""The list flags every classification reports; in 2010/2013 `parallelsamfund` means ghettoområde."""

BUILTIN_VERSIONS: tuple[str, ...] = ("2010", "2013", "2018", "2021")

Op = Literal[">", ">=", "<", "<="]
SwitchValue = bool | int | float | str


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Criterion(_Strict):
    id: str = Field(min_length=1)
    label_da: str
    label_en: str
    field: str
    average_years: int = Field(default=1, ge=1)
    """The law measures the criterion as an average over this many years (1: point in time)."""
    op: Op
    threshold: float
    unit: str
    population: str
    source: str | None = None

    def condition_data(self) -> dict[str, Any]:
        return {"compare": {"field": self.field, "op": self.op, "value": self.threshold}}


class ListYears(_Strict):
    first: int
    last: int | None = None

    def covers(self, year: int) -> bool:
        return year >= self.first and (self.last is None or year <= self.last)


class HistoryRule(_Strict):
    """The category must also have been on list `output` in each of the latest N list years."""

    output: Literal["udsat", "parallelsamfund", "omdannelse", "forebyggelse"]
    years: int | None = Field(default=None, ge=1)
    years_switch: str | None = None

    @model_validator(mode="after")
    def _one_source_of_years(self) -> "HistoryRule":
        if (self.years is None) == (self.years_switch is None):
            raise ValueError("give exactly one of 'years' and 'years_switch'")
        return self


class UnlessRule(_Strict):
    """The category does not apply to areas on list `output` (when `switch` is on, or always)."""

    output: Literal["udsat", "parallelsamfund", "omdannelse", "forebyggelse"]
    switch: str | None = None


class Category(_Strict):
    id: str = Field(min_length=1)
    output: Literal["udsat", "parallelsamfund", "omdannelse", "forebyggelse"]
    label_da: str
    label_en: str
    parent: str | None = None
    requires: tuple[str, ...] = ()
    at_least: int | None = Field(default=None, ge=1)
    of: tuple[str, ...] = ()
    history: HistoryRule | None = None
    unless: UnlessRule | None = None


class Switch(_Strict):
    """A named open point with a default; `status` says whether the default is confirmed."""

    default: SwitchValue
    allowed: tuple[SwitchValue, ...] | None = None
    status: Literal["confirmed", "UNCONFIRMED"]
    description: str
    source: str | None = None


class RuleSetFile(_Strict):
    version: str = Field(min_length=1)
    name: str
    legal_basis: str
    list_years: ListYears
    sources: tuple[str, ...] = Field(min_length=1)
    criteria: tuple[Criterion, ...] = Field(min_length=1)
    counted_criteria: tuple[str, ...] = Field(min_length=1)
    categories: tuple[Category, ...] = Field(min_length=1)
    switches: dict[str, Switch] = Field(default_factory=dict)
    data_choices: dict[str, Switch] = Field(default_factory=dict)


@dataclass(frozen=True)
class RuleSet:
    """A loaded, cross-checked rule set with each criterion parsed into an evaluator condition."""

    spec: RuleSetFile
    source: str
    sha256: str
    conditions: Mapping[str, Condition]

    @property
    def version(self) -> str:
        return self.spec.version

    def criterion(self, criterion_id: str) -> Criterion:
        for c in self.spec.criteria:
            if c.id == criterion_id:
                return c
        raise KeyError(criterion_id)

    def category(self, category_id: str) -> Category:
        for c in self.spec.categories:
            if c.id == category_id:
                return c
        raise KeyError(category_id)

    def category_for_output(self, output: str) -> Category | None:
        return next((c for c in self.spec.categories if c.output == output), None)

    def switch_values(self, overrides: Mapping[str, Any] | None = None) -> dict[str, SwitchValue]:
        """The switches in effect: defaults, replaced by `overrides` (names must exist here)."""
        values = {name: s.default for name, s in self.spec.switches.items()}
        for name, value in (overrides or {}).items():
            switch = self.spec.switches.get(name)
            if switch is None:
                raise ConfigurationError(
                    f"rule set {self.version} has no switch '{name}'; its switches: "
                    f"{', '.join(self.spec.switches) or 'none'}", source=self.source, rule=self.version,
                    field=name)
            value = _coerce_switch(value, switch, self.source, self.version, name)
            values[name] = value
        return values

    def history_years(self, category: Category, switches: Mapping[str, SwitchValue]) -> int:
        assert category.history is not None
        if category.history.years is not None:
            return category.history.years
        return int(switches[category.history.years_switch])  # type: ignore[index]


def _coerce_switch(value: Any, switch: Switch, source: str, rule: str, name: str) -> SwitchValue:
    """Accept a CLI string for a bool/int switch; reject values outside `allowed`."""
    default = switch.default
    if isinstance(value, str) and not isinstance(default, str):
        text = value.strip().lower()
        if isinstance(default, bool):
            if text in ("true", "1", "yes", "on"):
                value = True
            elif text in ("false", "0", "no", "off"):
                value = False
        else:
            try:
                value = int(text) if isinstance(default, int) else float(text)
            except ValueError:
                pass
    if type(value) is not type(default) and not (isinstance(default, float) and isinstance(value, int)):
        raise ConfigurationError(f"switch '{name}' takes a {type(default).__name__}, got {value!r}",
                                 source=source, rule=rule, field=name)
    if switch.allowed is not None and value not in switch.allowed:
        raise ConfigurationError(f"switch '{name}' must be one of {list(switch.allowed)}, got {value!r}",
                                 source=source, rule=rule, field=name)
    return value


def _pydantic_error(exc: ValidationError, raw: Any, source: str) -> ConfigurationError:
    err = exc.errors()[0]
    loc = tuple(err["loc"])
    rule: str | None = None
    if len(loc) >= 2 and isinstance(loc[1], int) and isinstance(raw, Mapping):
        items = raw.get(loc[0])
        item = items[loc[1]] if isinstance(items, list) and loc[1] < len(items) else None
        rule = item.get("id") if isinstance(item, Mapping) and item.get("id") else f"{loc[0]}[{loc[1]}]"
        rest = loc[2:]
    elif len(loc) >= 2 and loc[0] in ("switches", "data_choices"):
        rule, rest = f"{loc[0]}.{loc[1]}", loc[2:]
    else:
        rest = loc
        rule = str(raw.get("version")) if isinstance(raw, Mapping) and raw.get("version") else None
    field = ".".join(str(p) for p in rest) or (str(loc[-1]) if loc else None)
    return ConfigurationError(err["msg"], source=source, rule=rule, field=field)


def _cross_check(spec: RuleSetFile, source: str) -> dict[str, Condition]:
    def fail(message: str, rule: str, field: str) -> ConfigurationError:
        return ConfigurationError(message, source=source, rule=rule, field=field)

    conditions: dict[str, Condition] = {}
    for c in spec.criteria:
        if c.id in conditions:
            raise fail(f"criterion id '{c.id}' is used twice", c.id, "id")
        conditions[c.id] = parse_condition(c.condition_data(), source=source, rule=c.id, fields=AREA_FIELDS)
    for cid in spec.counted_criteria:
        if cid not in conditions:
            raise fail(f"unknown criterion '{cid}'", "counted_criteria", cid)
    seen_ids: set[str] = set()
    seen_outputs: set[str] = set()
    history_ids: set[str] = set()
    history_outputs: set[str] = set()
    for cat in spec.categories:
        if cat.id in seen_ids or cat.id in conditions:
            raise fail(f"category id '{cat.id}' is used twice", cat.id, "id")
        if cat.output in seen_outputs:
            raise fail(f"two categories write the list '{cat.output}'", cat.id, "output")
        if (cat.at_least is None) != (not cat.of):
            raise fail("'at_least' and 'of' go together", cat.id, "at_least" if cat.at_least is None else "of")
        if cat.at_least is not None and cat.at_least > len(cat.of):
            raise fail(f"'at_least: {cat.at_least}' of only {len(cat.of)} criteria can never hold", cat.id,
                       "at_least")
        if cat.parent is None and not cat.requires and cat.at_least is None:
            raise fail("a category needs a parent, required criteria or 'at_least'/'of'", cat.id, "parent")
        for key, ids in (("requires", cat.requires), ("of", cat.of)):
            for cid in ids:
                if cid not in conditions:
                    raise fail(f"unknown criterion '{cid}'", cat.id, key)
        if cat.parent is not None and cat.parent not in seen_ids:
            raise fail(f"parent '{cat.parent}' is not a category defined before this one", cat.id, "parent")
        if cat.history is not None:
            if cat.history.years_switch is not None and cat.history.years_switch not in spec.switches:
                raise fail(f"unknown switch '{cat.history.years_switch}'", cat.id, "history.years_switch")
            if cat.history.output not in seen_outputs:
                raise fail(f"history list '{cat.history.output}' is not written by an earlier category",
                           cat.id, "history.output")
        if cat.unless is not None:
            if cat.unless.switch is not None and cat.unless.switch not in spec.switches:
                raise fail(f"unknown switch '{cat.unless.switch}'", cat.id, "unless.switch")
            if cat.unless.output not in seen_outputs:
                raise fail(f"list '{cat.unless.output}' is not written by an earlier category", cat.id,
                           "unless.output")
        for key, ref in (("parent", cat.parent), ("unless.output", cat.unless and cat.unless.output),
                         ("history.output", cat.history and cat.history.output)):
            if ref is not None and (ref in history_ids or ref in history_outputs):
                raise fail(f"'{ref}' depends on list history itself; only a current-year list can be "
                           "referred to here", cat.id, key)
        if cat.history is not None:
            history_ids.add(cat.id)
            history_outputs.add(cat.output)
        seen_ids.add(cat.id)
        seen_outputs.add(cat.output)
    for name, switch in spec.switches.items():
        if switch.allowed is not None and switch.default not in switch.allowed:
            raise fail(f"default {switch.default!r} is not among allowed {list(switch.allowed)}",
                       f"switches.{name}", "default")
    return conditions


def parse_ruleset(text: str, source: str) -> RuleSet:
    """Parse and check a rule set from YAML text; `source` names it in errors."""
    spec, _raw, sha = parse_model(text, source, RuleSetFile, what="a rule set", error=_pydantic_error)
    conditions = _cross_check(spec, source)
    return RuleSet(spec=spec, source=source, sha256=sha, conditions=conditions)


def load_ruleset_file(path: str | Path) -> RuleSet:
    """Load a rule set from a YAML file."""
    text, source = read_text(Path(path), package="boligmix.rules.lists", filename="", what="rule set")
    return parse_ruleset(text, source)


@lru_cache(maxsize=None)
def load_ruleset(version: str) -> RuleSet:
    """Load a built-in rule set by version ('2010', '2013', '2018', '2021')."""
    if version not in BUILTIN_VERSIONS:
        raise ConfigurationError(f"unknown rule version '{version}'; known: {', '.join(BUILTIN_VERSIONS)}",
                                 field="rules")
    resource = resources.files("boligmix.rules.lists").joinpath(f"{version}.yaml")
    ruleset = parse_ruleset(resource.read_text(encoding="utf-8"), f"boligmix/rules/lists/{version}.yaml")
    if ruleset.version != version:
        raise ConfigurationError(f"file declares version {ruleset.version}", source=ruleset.source,
                                 field="version")
    return ruleset


def resolve_rules(rules: "str | RuleSet") -> "str | RuleSet":
    """'auto', a built-in version, a loaded RuleSet, or the path of a rule-set YAML file (loaded)."""
    if isinstance(rules, RuleSet) or rules == "auto" or rules in BUILTIN_VERSIONS:
        return rules
    if str(rules).endswith((".yaml", ".yml")):
        return load_ruleset_file(rules)
    raise ConfigurationError(f"unknown rules '{rules}': use auto, one of {', '.join(BUILTIN_VERSIONS)} "
                             "or the path of a rule-set .yaml file", field="rules")


def version_for_year(year: int) -> str:
    """The built-in rule version in force for a list year (`--rules auto`)."""
    for version in BUILTIN_VERSIONS:
        if load_ruleset(version).spec.list_years.covers(year):
            return version
    raise ConfigurationError(
        f"no rule set covers list year {year} (the first list is from 2010)", field="year")


def category_condition_data(ruleset: RuleSet, category: Category, switches: Mapping[str, Any]) -> dict:
    """The evaluator condition (as data) for a category's current-year test.

    For a category with a history requirement this is the current-year part only (its parent
    and required criteria); the history window is applied by `classify`.
    """
    parts: list[dict] = []
    if category.parent is not None:
        parts.append(category_condition_data(ruleset, ruleset.category(category.parent), switches))
    parts.extend(ruleset.criterion(cid).condition_data() for cid in category.requires)
    if category.at_least is not None:
        parts.append({"at_least": category.at_least,
                      "of": [ruleset.criterion(cid).condition_data() for cid in category.of]})
    unless = category.unless
    if unless is not None and (unless.switch is None or bool(switches[unless.switch])):
        excluded = ruleset.category_for_output(unless.output)
        assert excluded is not None  # checked on load
        parts.append({"not": category_condition_data(ruleset, excluded, switches)})
    return parts[0] if len(parts) == 1 else {"all": parts}


_CONDITION_CACHE: dict[tuple[str, str, str, tuple], Condition] = {}


def category_condition(ruleset: RuleSet, category: Category, switches: Mapping[str, Any]) -> Condition:
    """The parsed current-year condition of a category (cached per rule file, category and switches)."""
    key = (ruleset.sha256, ruleset.source, category.id, tuple(sorted(switches.items())))
    if key not in _CONDITION_CACHE:
        _CONDITION_CACHE[key] = parse_condition(category_condition_data(ruleset, category, switches),
                                                source=ruleset.source, rule=category.id, fields=AREA_FIELDS)
    return _CONDITION_CACHE[key]


__all__ = [
    "AREA_FIELDS",
    "BUILTIN_VERSIONS",
    "Category",
    "Criterion",
    "OUTPUT_FLAGS",
    "RuleSet",
    "RuleSetFile",
    "Switch",
    "category_condition",
    "category_condition_data",
    "load_ruleset",
    "load_ruleset_file",
    "parse_ruleset",
    "resolve_rules",
    "version_for_year",
]
