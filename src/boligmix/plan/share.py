"""The 40 % share of almene family dwellings (almenboligloven § 168 a; rules-spec 7.2).

    share = family_dwellings / (all_dwellings + demolished_since_2010 + commercial_m2 / 75)

with the counting switches of `rules/plan/share_2018.yaml` (demolished and commercial floor space
counted or not). `ShareFormula` also gives the numerator and denominator as exact integers scaled
by a common factor, which the plan optimiser uses so its share constraint has no rounding.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from boligmix.errors import ConfigurationError
from boligmix.plan.actions import Action, AreaState
from boligmix.plan.rules import RuleFile, load_share_rules

M2_SCALE = 100
"""Commercial floor space is counted in 1/100 m² in the exact integer form."""


@dataclass(frozen=True)
class ShareFormula:
    """The share formula with its switches in effect."""

    m2_per_dwelling: float
    count_demolished: bool
    count_commercial: bool
    target: float
    target_year: int
    rules: RuleFile
    switches: Mapping[str, Any]

    @classmethod
    def load(cls, switches: Mapping[str, Any] | None = None, rules: RuleFile | None = None, *,
             target: float | None = None, target_year: int | None = None) -> "ShareFormula":
        rules = rules or load_share_rules()
        values = rules.switch_values(switches)
        spec = rules.spec
        if target is not None and not 0 < target < 1:
            raise ConfigurationError(f"--target must lie strictly between 0 and 1, got {target}", field="target")
        return cls(spec.commercial_m2_per_dwelling, bool(values["count_demolished"]),
                   bool(values["count_commercial"]), spec.target_share if target is None else target,
                   spec.target_year if target_year is None else target_year, rules, values)

    def denominator(self, state: AreaState) -> float:
        return (state.all_dwellings + (state.demolished_since_2010 if self.count_demolished else 0)
                + (state.commercial_m2 / self.m2_per_dwelling if self.count_commercial else 0.0))

    def share(self, state: AreaState) -> float | None:
        """The share, or None when the denominator is 0."""
        den = self.denominator(state)
        return state.family_dwellings / den if den > 0 else None

    # --- exact integer form -------------------------------------------------------------------

    @property
    def scale(self) -> int:
        """Denominator units per dwelling: m2_per_dwelling x M2_SCALE (must be a whole number)."""
        value = self.m2_per_dwelling * M2_SCALE
        if abs(value - round(value)) > 1e-9:
            raise ConfigurationError("commercial_m2_per_dwelling x 100 must be a whole number",
                                     source=self.rules.source, field="commercial_m2_per_dwelling")
        return int(round(value))

    def scaled_denominator(self, state: AreaState) -> int:
        """The denominator x `scale`, as an exact integer (commercial m² rounded to 1/100 m²)."""
        out = self.scale * (state.all_dwellings + (state.demolished_since_2010 if self.count_demolished else 0))
        if self.count_commercial:
            out += int(round(state.commercial_m2 * M2_SCALE))
        return out

    def scaled_effect(self, action: Action) -> tuple[int, int]:
        """(change of numerator x scale, change of scaled denominator) when `action` is complete."""
        f = action.family_dwellings * self.scale
        if action.kind == "demolish":
            return -f, (0 if self.count_demolished else -f)
        if action.kind in ("sell", "convert"):
            return -f, 0
        den = self.scale * action.new_dwellings
        if self.count_commercial:
            den += int(round(action.commercial_m2 * M2_SCALE))
        return 0, den

    def target_fraction(self) -> Fraction:
        return Fraction(str(self.target)).limit_denominator(10_000)


__all__ = ["M2_SCALE", "ShareFormula"]
