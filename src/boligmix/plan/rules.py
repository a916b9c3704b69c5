"""The plan and rehousing rule data: `rules/plan/share_2018.yaml` and `rules/plan/rehousing_2021.yaml`.

Each file is versioned, read once (cached) and checked with strict models; a bad file is a
`ConfigurationError` naming file, rule and field. Open points are named switches with a default
and a status (`confirmed` / `UNCONFIRMED`); callers override them by name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from boligmix.errors import ConfigurationError
from boligmix.lists.ruleset import Switch, SwitchValue, _coerce_switch
from boligmix.rules.files import parse_model, read_text

SHARE_FILE = "share_2018.yaml"
REHOUSING_FILE = "rehousing_2021.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ShareRulesFile(_Strict):
    version: str = Field(min_length=1)
    name: str
    legal_basis: str
    sources: tuple[str, ...] = Field(min_length=1)
    target_share: float = Field(gt=0, lt=1)
    target_year: int
    commercial_m2_per_dwelling: float = Field(gt=0)
    plan_lists: tuple[Literal["udsat", "parallelsamfund", "omdannelse", "forebyggelse"], ...]
    plan_duty_list: Literal["udsat", "parallelsamfund", "omdannelse", "forebyggelse"]
    plan_duty_first_list_year: int
    switches: dict[str, Switch]


class Costs(_Strict):
    wish_rank_step: int = Field(ge=0)
    unwished_area: int = Field(ge=0)
    unplaced: int = Field(ge=1)


class CapRules(_Strict):
    lists: tuple[Literal["udsat", "parallelsamfund", "omdannelse", "forebyggelse"], ...] = Field(min_length=1)
    field: str
    adults_per_household: Switch


class RehousingRulesFile(_Strict):
    version: str = Field(min_length=1)
    name: str
    legal_basis: str
    sources: tuple[str, ...] = Field(min_length=1)
    switches: dict[str, Switch]
    costs: Costs
    caps: CapRules


@dataclass(frozen=True)
class RuleFile:
    """A loaded rule file: its checked content, where it came from and its hash."""

    spec: Any
    source: str
    sha256: str

    @property
    def version(self) -> str:
        return self.spec.version

    def switch_values(self, overrides: Mapping[str, Any] | None = None) -> dict[str, SwitchValue]:
        """Defaults replaced by `overrides` (each must name a switch of this file; CLI strings are coerced)."""
        switches: dict[str, Switch] = self.spec.switches
        values = {name: s.default for name, s in switches.items()}
        for name, value in (overrides or {}).items():
            if name not in switches:
                raise ConfigurationError(f"no switch '{name}'; switches: {', '.join(switches)}",
                                         source=self.source, rule=self.version, field=name)
            values[name] = _coerce_switch(value, switches[name], self.source, self.version, name)
        return values

    def provenance(self) -> dict[str, str]:
        return {"file": self.source, "version": self.version, "sha256": self.sha256}


def _key_error(exc: ValidationError, raw: Any, source: str) -> ConfigurationError:
    """A validation error named by key: the top-level key as the rule, the rest as the field."""
    err = exc.errors()[0]
    loc = [str(p) for p in err["loc"]]
    return ConfigurationError(err["msg"], source=source, rule=loc[0] if len(loc) > 1 else None,
                              field=".".join(loc[1:]) or (loc[0] if loc else None))


def _parse(text: str, source: str, model: type[_Strict]) -> RuleFile:
    spec, _raw, sha = parse_model(text, source, model, what="a rule file", error=_key_error)
    for name, switch in getattr(spec, "switches", {}).items():
        if switch.allowed is not None and switch.default not in switch.allowed:
            raise ConfigurationError(f"default {switch.default!r} is not among {list(switch.allowed)}",
                                     source=source, rule=f"switches.{name}", field="default")
    return RuleFile(spec, source, sha)


def _load(path: str | Path | None, filename: str, model: type[_Strict]) -> RuleFile:
    text, source = read_text(path, package="boligmix.rules.plan", filename=filename, what="rule file")
    return _parse(text, source, model)


@lru_cache(maxsize=8)
def load_share_rules(path: str | None = None) -> RuleFile:
    """The 40 % rule file (packaged default, or `path`); `.spec` is a `ShareRulesFile`."""
    return _load(path, SHARE_FILE, ShareRulesFile)


@lru_cache(maxsize=8)
def load_rehousing_rules(path: str | None = None) -> RuleFile:
    """The rehousing rule file (packaged default, or `path`); `.spec` is a `RehousingRulesFile`."""
    return _load(path, REHOUSING_FILE, RehousingRulesFile)


__all__ = ["CapRules", "Costs", "RehousingRulesFile", "RuleFile", "ShareRulesFile", "load_rehousing_rules",
           "load_share_rules"]
