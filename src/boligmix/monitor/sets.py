"""Monitoring indicator sets as versioned data files (`src/boligmix/rules/monitor/*.yaml`).

Two kinds:

* `legal`: the official list criteria of each list year, read from the list rule files
  (`boligmix.lists.ruleset`) and evaluated by the one evaluator. `drop_fields` leaves out every
  criterion on those indicator fields (`legal-no-ethnicity` drops `pct_non_western`): the rule set
  is derived from the list rule file, never copied.
* `points`: Aarhus-style. Each indicator gives points by its distance from a reference (the
  unit's municipality or the whole country): one point per step of `steps` the distance reaches
  (`distance >= step`, evaluated by `boligmix.rules.evaluator`); the points are summed and the
  first category whose `min_points` the sum reaches is the unit's category.

A set is a packaged name (`legal`, `legal-no-ethnicity`, `aarhus`) or the path of a YAML file;
a bad set raises `ConfigurationError` naming the file, the indicator (or section) and the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from boligmix.errors import ConfigurationError
from boligmix.lists.ruleset import AREA_FIELDS, RuleSet, load_ruleset, parse_ruleset, version_for_year
from boligmix.rules.evaluator import Condition, parse_condition
from boligmix.rules.files import parse_model, read_text

SET_FORMAT = "boligmix-monitor-set/1"
BUILTIN_SETS: tuple[str, ...] = ("legal", "legal-no-ethnicity", "aarhus")
OFFICIAL_FIELDS: tuple[str, ...] = AREA_FIELDS
"""Indicator fields a `points` indicator with `source: official` may read (boligmix.indicators)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PointsIndicator(_Strict):
    id: str = Field(min_length=1)
    label_da: str
    label_en: str
    source: Literal["official", "extra"]
    field: str = Field(min_length=1)
    worse: Literal["higher", "lower"]
    """Which direction is worse: the distance is oriented so that a positive distance is worse."""
    distance: Literal["difference", "ratio"]
    """`difference`: value - reference (percentage points for shares); `ratio`: value / reference."""
    steps: tuple[float, ...] = Field(min_length=1)
    """One point for each step the oriented distance reaches (>=); strictly increasing."""


class PointsCategory(_Strict):
    id: str = Field(min_length=1)
    label_da: str
    label_en: str
    colour: Literal["red", "orange", "yellow", "green"]
    min_points: float = Field(ge=0)


class SetFile(_Strict):
    format: Literal["boligmix-monitor-set/1"]
    id: str = Field(min_length=1)
    kind: Literal["legal", "points"]
    label_da: str
    label_en: str
    status: Literal["confirmed", "UNCONFIRMED"] = "confirmed"
    # legal
    rules: str | None = None
    drop_fields: tuple[str, ...] = ()
    # points
    reference: Literal["municipality", "national"] | None = None
    indicators: tuple[PointsIndicator, ...] = ()
    categories: tuple[PointsCategory, ...] = ()


@dataclass(frozen=True)
class IndicatorSet:
    """A loaded, checked set. For `points` sets `step_conditions[indicator_id]` are the parsed
    `distance >= step` conditions and `category_conditions` the `points >= min_points` ones."""

    spec: SetFile
    source: str
    sha256: str
    step_conditions: Mapping[str, tuple[Condition, ...]]
    category_conditions: tuple[tuple[PointsCategory, Condition], ...]

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def kind(self) -> str:
        return self.spec.kind

    def indicator(self, indicator_id: str) -> PointsIndicator:
        return next(i for i in self.spec.indicators if i.id == indicator_id)

    def rulesets(self, years: list[int]) -> dict[int, RuleSet]:
        """Per list year: the list rule set of that year (`rules: auto`) or the one named, with the
        criteria on `drop_fields` left out (a derived rule set, see `derive_ruleset`)."""
        out = {}
        for y in years:
            version = version_for_year(y) if self.spec.rules in (None, "auto") else self.spec.rules
            out[y] = derive_ruleset(load_ruleset(version), self.spec.drop_fields, self.id)
        return out


def _fail(exc: ValidationError, raw: Any, source: str) -> ConfigurationError:
    err = exc.errors()[0]
    loc = tuple(err["loc"])
    rule = None
    rest = loc
    if len(loc) >= 2 and loc[0] in ("indicators", "categories") and isinstance(loc[1], int):
        items = raw.get(loc[0]) if isinstance(raw, Mapping) else None
        item = items[loc[1]] if isinstance(items, list) and loc[1] < len(items) else None
        rule = str(item.get("id")) if isinstance(item, Mapping) and item.get("id") else f"{loc[0]}[{loc[1]}]"
        rest = loc[2:]
    field = ".".join(str(p) for p in rest) or (str(loc[0]) if loc else None)
    return ConfigurationError(err["msg"], source=source, rule=rule, field=field)


def _cross_check(spec: SetFile, source: str) -> tuple[dict[str, tuple[Condition, ...]],
                                                      tuple[tuple[PointsCategory, Condition], ...]]:
    def fail(message: str, rule: str | None, field: str) -> ConfigurationError:
        return ConfigurationError(message, source=source, rule=rule, field=field)

    if spec.kind == "legal":
        for key in ("reference", "indicators", "categories"):
            if getattr(spec, key):
                raise fail(f"'{key}' belongs to a points set, not to a legal set", spec.id, key)
        if spec.rules not in (None, "auto"):
            try:
                load_ruleset(spec.rules)
            except ConfigurationError as exc:
                raise fail(str(exc), spec.id, "rules") from exc
        for f in spec.drop_fields:
            if f not in AREA_FIELDS:
                raise fail(f"unknown indicator field '{f}'; known: {', '.join(AREA_FIELDS)}", spec.id, "drop_fields")
        return {}, ()
    if spec.rules is not None or spec.drop_fields:
        raise fail("'rules' and 'drop_fields' belong to a legal set", spec.id,
                   "rules" if spec.rules is not None else "drop_fields")
    if spec.reference is None:
        raise fail("a points set needs 'reference' (municipality or national)", spec.id, "reference")
    if not spec.indicators:
        raise fail("a points set needs at least one indicator", spec.id, "indicators")
    if not spec.categories:
        raise fail("a points set needs categories", spec.id, "categories")
    steps: dict[str, tuple[Condition, ...]] = {}
    fields: set[str] = set()
    for ind in spec.indicators:
        if ind.id in steps:
            raise fail(f"indicator id '{ind.id}' is used twice", ind.id, "id")
        if ind.source == "official" and ind.field not in OFFICIAL_FIELDS:
            raise fail(f"unknown official indicator field '{ind.field}'; known: {', '.join(OFFICIAL_FIELDS)}",
                       ind.id, "field")
        if any(b <= a for a, b in zip(ind.steps, ind.steps[1:])):
            raise fail("steps must be strictly increasing", ind.id, "steps")
        if ind.field in fields:
            raise fail(f"field '{ind.field}' is scored twice", ind.id, "field")
        fields.add(ind.field)
        steps[ind.id] = tuple(parse_condition({"compare": {"field": "distance", "op": ">=", "value": s}},
                                              source=source, rule=ind.id, fields=("distance",))
                              for s in ind.steps)
    minima = [c.min_points for c in spec.categories]
    if any(b >= a for a, b in zip(minima, minima[1:])):
        raise fail("categories must be ordered from the most points down (min_points decreasing)",
                   spec.categories[0].id, "min_points")
    if minima[-1] != 0:
        raise fail("the last category must have min_points 0 (every unit gets a category)",
                   spec.categories[-1].id, "min_points")
    if len({c.id for c in spec.categories}) != len(spec.categories):
        raise fail("a category id is used twice", spec.id, "categories")
    cats = tuple((c, parse_condition({"compare": {"field": "points", "op": ">=", "value": c.min_points}},
                                     source=source, rule=c.id, fields=("points",))) for c in spec.categories)
    return steps, cats


def parse_set(text: str, source: str) -> IndicatorSet:
    """Parse and check an indicator set from YAML text; `source` names it in errors."""
    spec, _raw, sha = parse_model(text, source, SetFile, what="an indicator set", error=_fail)
    steps, cats = _cross_check(spec, source)
    return IndicatorSet(spec, source, sha, steps, cats)


def load_set(name_or_path: str | Path) -> IndicatorSet:
    """A packaged set by name (`legal`, `legal-no-ethnicity`, `aarhus`) or a set file."""
    name = str(name_or_path)
    if name in BUILTIN_SETS:
        text = resources.files("boligmix.rules.monitor").joinpath(f"{name}.yaml").read_text(encoding="utf-8")
        return parse_set(text, f"boligmix/rules/monitor/{name}.yaml")
    path = Path(name)
    if path.suffix not in (".yaml", ".yml"):
        raise ConfigurationError(f"unknown indicator set '{name}': use {', '.join(BUILTIN_SETS)} or the path of "
                                 "a set .yaml file", field="set")
    text, _ = read_text(path, package="boligmix.rules.monitor", filename="", what="indicator set")
    return parse_set(text, name)


_DERIVED: dict[tuple[str, str, tuple[str, ...]], RuleSet] = {}


def derive_ruleset(ruleset: RuleSet, drop_fields: tuple[str, ...], set_id: str) -> RuleSet:
    """`ruleset` without the criteria on `drop_fields`: removed from the criteria, the counted
    criteria and every category's `requires` and `of` (a category left with no `of` loses its
    `at_least`). The result is parsed and checked like any rule file; its version is
    `<version>-<set_id>` and its source names the file it derives from."""
    if not drop_fields:
        return ruleset
    key = (ruleset.sha256, set_id, tuple(drop_fields))
    if key in _DERIVED:
        return _DERIVED[key]
    data = ruleset.spec.model_dump(mode="json", exclude_none=True)
    dropped = {c["id"] for c in data["criteria"] if c["field"] in drop_fields}
    data["criteria"] = [c for c in data["criteria"] if c["id"] not in dropped]
    data["counted_criteria"] = [c for c in data["counted_criteria"] if c not in dropped]
    for cat in data["categories"]:
        cat["requires"] = [c for c in cat.get("requires", []) if c not in dropped]
        if cat.get("of"):
            cat["of"] = [c for c in cat["of"] if c not in dropped]
            if not cat["of"]:
                cat.pop("of")
                cat.pop("at_least", None)
            elif cat["at_least"] > len(cat["of"]):
                raise ConfigurationError(
                    f"without {', '.join(sorted(dropped))} category '{cat['id']}' needs {cat['at_least']} of only "
                    f"{len(cat['of'])} criteria", source=ruleset.source, rule=cat["id"], field="at_least")
    _drop_copies(data)
    data["version"] = f"{ruleset.version}-{set_id}"
    source = f"{ruleset.source} without {', '.join(sorted(dropped)) or 'nothing'} (monitor set {set_id})"
    derived = parse_ruleset(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), source)
    _DERIVED[key] = derived
    return derived


def _drop_copies(data: dict) -> None:
    """Remove categories left as a bare copy of their parent (parallelsamfund without its gate is
    udsat); what referred to them refers to the parent (omdannelse: udsat 5 years in a row)."""
    while True:
        cats = data["categories"]
        copy = next((c for c in cats if c.get("parent") and not c.get("requires") and not c.get("of")
                     and not c.get("history") and not c.get("unless")), None)
        if copy is None:
            return
        parent = next(c for c in cats if c["id"] == copy["parent"])
        data["categories"] = [c for c in cats if c is not copy]
        for c in data["categories"]:
            if c.get("parent") == copy["id"]:
                c["parent"] = parent["id"]
            for key in ("history", "unless"):
                if c.get(key) and c[key].get("output") == copy["output"]:
                    c[key]["output"] = parent["output"]


__all__ = ["BUILTIN_SETS", "IndicatorSet", "PointsCategory", "PointsIndicator", "SET_FORMAT", "derive_ruleset",
           "load_set", "parse_set"]
