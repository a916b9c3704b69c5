"""Scenarios: YAML files saying which letting policies, switches, shares, area lists and physical
actions a simulation runs under. Validated with pydantic (unknown keys are errors); a bad file is a
`ConfigurationError` naming the file and the key.

    format: boligmix-scenario/1
    name: kombineret-udsat
    title: Kombineret udlejning i alle udsatte områder
    policies: [policies/extra.yaml]         # policy files (the letting policy format), relative to this file
    overrides:                              # per loaded policy id: enabled, switches, shares, constants
      dk.almenboligloven.51b: {enabled: true, switches: {include_foertidspension: true}}
      dk.venteliste: {constants: {max_rooms_over_persons: 3}}
    area_categories:                        # extra area lists the letting policies read
      kombineret_udlejning: {from_list: udsat}          # or {areas: [A461-001]}
    actions:                                # physical changes in a year
      - {offset: 0, action: demolish, areas: {from_list: omdannelse}, share: 0.3}
      - {year: 2027, action: build, areas: {areas: [A461-001]}, count: 50, tenure: ejer, rooms: 3}

Packaged scenarios (`--scenario NAME`) live in `boligmix/simulate/scenarios/`.
"""

from __future__ import annotations

import copy
import hashlib
import tempfile
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from boligmix.data.schema import TENURES
from boligmix.errors import ConfigurationError
from boligmix.letting.model import AREA_CATEGORIES
from boligmix.letting.policy import POLICY_DIR, PolicySet, load_policies, policy_files
from boligmix.rules.files import parse_model, parse_yaml, read_text

FORMAT = "boligmix-scenario/1"
PACKAGED_DIR = Path(__file__).resolve().parent / "scenarios"
LIST_FLAGS = ("udsat", "parallelsamfund", "omdannelse", "forebyggelse")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AreaSelection(_Model):
    """Areas named, or the areas on an official list in force (recomputed every simulated year)."""

    areas: tuple[str, ...] | None = None
    from_list: Literal["udsat", "parallelsamfund", "omdannelse", "forebyggelse"] | None = None

    @model_validator(mode="after")
    def _one(self) -> "AreaSelection":
        if (self.areas is None) == (self.from_list is None):
            raise ValueError("give exactly one of 'areas' or 'from_list'")
        return self


class PolicyOverride(_Model):
    enabled: bool | None = None
    switches: dict[str, Any] = Field(default_factory=dict)
    shares: dict[str, float] = Field(default_factory=dict)
    constants: dict[str, Any] = Field(default_factory=dict)
    """Values of constants the policy defines (e.g. the waiting list's `max_rooms_over_persons`)."""


class Action(_Model):
    year: int | None = Field(None, ge=1990, le=2100)
    offset: int | None = Field(None, ge=0, le=100, description="years after the start year (0: the first)")
    action: Literal["demolish", "sell", "convert_youth", "convert_elderly", "build"]
    areas: AreaSelection
    share: float | None = Field(None, gt=0, le=1, description="of each area's almene family dwellings")
    count: int | None = Field(None, ge=1, description="dwellings per area")
    tenure: Literal["privat_udlejning", "andel", "ejer", "other"] = "ejer"
    rooms: int = Field(3, ge=1, le=20)
    floor_area_m2: float = Field(85.0, ge=5, le=1000)
    rehousing: bool = True

    def in_year(self, start: int) -> int:
        return self.year if self.year is not None else start + (self.offset or 0)

    @model_validator(mode="after")
    def _amount(self) -> "Action":
        if (self.year is None) == (self.offset is None):
            raise ValueError("give exactly one of 'year' or 'offset'")
        if self.action == "build":
            if self.count is None:
                raise ValueError("a build action needs 'count'")
        elif (self.share is None) == (self.count is None):
            raise ValueError("give exactly one of 'share' or 'count'")
        return self


class ScenarioSpec(_Model):
    format: Literal["boligmix-scenario/1"]
    name: str
    title: str = ""
    description: str = ""
    policies: tuple[str, ...] = ()
    overrides: dict[str, PolicyOverride] = Field(default_factory=dict)
    area_categories: dict[str, AreaSelection] = Field(default_factory=dict)
    actions: tuple[Action, ...] = ()

    @model_validator(mode="after")
    def _categories(self) -> "ScenarioSpec":
        for name in self.area_categories:
            if name not in AREA_CATEGORIES or name in LIST_FLAGS:
                raise ValueError(f"area_categories.{name}: only {', '.join(c for c in AREA_CATEGORIES if c not in LIST_FLAGS)}"
                                 f" may be set (the official lists come from the simulation)")
        return self


class Scenario:
    """A validated scenario, its file text (for the run manifest) and its policy set."""

    def __init__(self, spec: ScenarioSpec, source: Path, text: str) -> None:
        self.spec, self.source, self.text = spec, source, text
        self._policies: PolicySet | None = None

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    def policy_paths(self) -> list[Path]:
        return [(self.source.parent / p).resolve() for p in self.spec.policies]

    def policies(self) -> PolicySet:
        """The statutory policies (read from `rules/letting/statutory` through the policy loader,
        so corrected versions flow in) plus the scenario's files, with its overrides applied."""
        if self._policies is None:
            self._policies = build_policy_set(self.policy_paths(), self.spec.overrides, str(self.source))
        return self._policies

    def policy_texts(self) -> dict[str, str]:
        return {str(p): p.read_text(encoding="utf-8") for p in self.policy_paths()}


def build_policy_set(extra: list[Path], overrides: dict[str, PolicyOverride], source: str) -> PolicySet:
    """The policies under `extra` (and the statutory ones) with the scenario's `overrides` applied.

    Every policy file is read through `boligmix.rules.files` (an unreadable file or invalid YAML
    is an error naming it); a policy the overrides make invalid is an error naming the scenario
    file and the key `overrides.<policy id>.<field>`, and the policy file it came from."""
    files = policy_files([POLICY_DIR / "statutory", *extra])
    if not overrides:
        return load_policies(files)
    found: dict[str, Path] = {}
    with tempfile.TemporaryDirectory(prefix="boligmix-scenario-") as tmp:
        paths, originals = [], {}
        for i, path in enumerate(files):
            text, policy_source = read_text(path, package="boligmix.rules.letting", filename="", what="policy file")
            data = parse_yaml(text, policy_source)
            override = overrides.get(str(data.get("id"))) if isinstance(data, dict) else None
            if override is None:
                paths.append(path)
                continue
            found[str(data["id"])] = path
            unknown = sorted(set(override.constants) - set(data.get("constants") or {}))
            if unknown:
                raise ConfigurationError(f"policy {data['id']} ({path}) defines no constant '{unknown[0]}' (it has: "
                                         f"{', '.join(data.get('constants') or {}) or 'none'})", source=source,
                                         field=f"overrides.{data['id']}.constants.{unknown[0]}")
            target = Path(tmp) / f"{i:03d}-{path.name}"
            target.write_text(yaml.safe_dump(_overridden(data, override), allow_unicode=True, sort_keys=False),
                              encoding="utf-8")
            originals[str(target)] = path
            paths.append(target)
        missing = sorted(set(overrides) - set(found))
        if missing:
            raise ConfigurationError(f"overrides name policies that are not loaded: {', '.join(missing)}",
                                     source=source, field=f"overrides.{missing[0]}")
        try:
            return load_policies(paths)
        except ConfigurationError as exc:
            policy = originals.get(str(exc.source))
            policy_id = exc.rule if exc.rule in found else None
            key = ".".join(k for k in ("overrides", policy_id, exc.field if policy_id else None) if k)
            message = str(exc).split(": ", 1)[-1] if exc.source is not None else str(exc)
            raise ConfigurationError("the overrides make an invalid policy"
                                     + (f" (policy file {policy})" if policy is not None else "") + f": {message}",
                                     source=source, field=key) from exc


def _overridden(data: dict[str, Any], override: PolicyOverride) -> dict[str, Any]:
    """A policy file's mapping with the scenario's override of it applied."""
    data = copy.deepcopy(data)
    if override.enabled is not None:
        data["enabled"] = override.enabled
    if override.switches:
        data["switches"] = {**(data.get("switches") or {}), **override.switches}
    if override.shares:
        data["shares"] = {**(data.get("shares") or {}), **override.shares}
    if override.constants:
        data["constants"] = {**(data.get("constants") or {}), **override.constants}
    return data


def _key_path(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc if not str(part).startswith("function-")) or "(top level)"


def _key_error(exc: ValidationError, raw: Any, source: str) -> ConfigurationError:
    return ConfigurationError(exc.errors()[0]["msg"], source=source, field=_key_path(tuple(exc.errors()[0]["loc"])))


def load_scenario(name_or_path: str | Path) -> Scenario:
    """A scenario file, or a packaged scenario by name (`baseline`, ...)."""
    path = Path(name_or_path)
    if not path.exists():
        packaged = PACKAGED_DIR / f"{name_or_path}.yaml"
        if not packaged.exists():
            names = ", ".join(packaged_scenarios())
            raise ConfigurationError(f"no scenario file or packaged scenario '{name_or_path}' (packaged: {names})",
                                     source=str(name_or_path))
        path = packaged
    text, source = read_text(path, package="boligmix.simulate", filename="", what="scenario file")
    spec = parse_model(text, source, ScenarioSpec, what="a scenario file", error=_key_error).spec
    for i, p in enumerate(spec.policies):
        if not (path.parent / p).exists():
            raise ConfigurationError(f"policy file {p} not found (relative to the scenario file)", source=str(path),
                                     field=f"policies.{i}")
    scenario = Scenario(spec, path.resolve(), text)
    scenario.policies()  # validate policies and overrides now
    return scenario


def packaged_scenarios() -> list[str]:
    return sorted(p.stem for p in PACKAGED_DIR.glob("*.yaml"))


__all__ = ["Action", "AreaSelection", "FORMAT", "PolicyOverride", "Scenario", "ScenarioSpec", "TENURES",
           "build_policy_set", "load_scenario", "packaged_scenarios"]
