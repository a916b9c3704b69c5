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
from datetime import date
from pathlib import Path
from typing import Any

from boligmix.errors import ConfigurationError
from boligmix.letting.model import Dwelling
from boligmix.letting.policy_compile import CompiledRule, Policy, compile_policy
from boligmix.letting.policy_spec import PolicySpec, RuleSpec, Scope
from boligmix.letting.switches import (
    ON_UNKNOWN,
    RECEIPT_MONTH,
    TOOL_EFFECTS,
    TOOL_SWITCHES,
    TOOLS,
    SwitchSpec,
)
from boligmix.rules.files import parse_yaml, read_text

POLICY_DIR = Path(__file__).resolve().parent.parent / "rules" / "letting"
"""The packaged letting policies: `statutory/` (the law) and `local/` (example agreements)."""


# ----------------------------------------------------------------------------------------------
# Loading and precedence


def _read_yaml(path: Path) -> Any:
    text, source = read_text(path, package="boligmix.rules.letting", filename="", what="policy file")
    return parse_yaml(text, source)


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
    "RECEIPT_MONTH",
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
