"""The policies in force for a dwelling on a date, kept per combination of what decides them.

`PolicySet.in_force` reads of a dwelling only its scope facts (municipality, organisation,
department, area categories, almen type) and the date, and a simulated month's vacancies share
few such combinations; the engine asks for every channel allocation and offer round, the market
for every vacancy it tries. `InForce` is the same policy set answering from a table.

The table's key holds only what can tell two answers apart: a scope fact's value when some
policy's scope names it (any other value fails every scope that names the fact alike), the area
categories some scope names, and the period between the policies' effective dates the date falls
in (`PolicySpec.in_force` is the same throughout one). Equal answers are one tuple (by the policies'
identity), so the caches kept per policies in force (`id(in_force)`: the size limits, the screen's
covering policies and plans) are shared by every dwelling and month they hold for.
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import date

from boligmix.letting.model import Dwelling
from boligmix.letting.policy import Policy, PolicySet

OTHER = object()
"""A scope fact's value that no policy's scope names."""


class InForce(PolicySet):
    """`policies` (the same `Policy` objects) with `in_force` kept per what decides it (module docstring)."""

    def __init__(self, policies: PolicySet) -> None:
        self.__dict__.update(policies.__dict__)          # checked when `policies` was built
        self._in_force: dict[tuple, tuple[Policy, ...]] = {}
        self._answers: dict[tuple[int, ...], tuple[Policy, ...]] = {}
        """The policies' ids -> the one tuple of them handed out."""
        self._last: tuple = (None, None, ())
        """The last (dwelling, date, policies in force) asked for: a `Dwelling` is frozen."""
        scopes = [p.spec.scope for p in self.policies]

        def named(field: str) -> frozenset | None:
            values = [getattr(s, field) for s in scopes if getattr(s, field) is not None]
            return frozenset(v for vs in values for v in vs) if values else None
        self._named = (named("municipality_codes"), named("org_ids"), named("department_ids"), named("almen_types"))
        self._categories = named("area_categories") or frozenset()
        self._dates = sorted({d for p in self.policies for d in (p.spec.effective_from, p.spec.effective_to)
                              if d is not None})

    def in_force(self, dwelling: Dwelling, on: date) -> tuple[Policy, ...]:
        last = self._last
        if last[0] is dwelling and last[1] == on:        # (a vacancy's round asks several times)
            return last[2]
        municipalities, orgs, departments, types = self._named
        key = (_named(dwelling.municipality_code, municipalities), _named(dwelling.org_id, orgs),
               _named(dwelling.department_id, departments), _named(dwelling.almen_type, types),
               self._categories & dwelling.area_categories, bisect_right(self._dates, on))
        found = self._in_force.get(key)
        if found is None:
            found = PolicySet.in_force(self, dwelling, on)
            found = self._in_force[key] = self._answers.setdefault(tuple(map(id, found)), found)
        self._last = (dwelling, on, found)
        return found


def _named(value, named: frozenset | None):
    """`value` when some scope names it, else `OTHER`."""
    return value if named is not None and value in named else OTHER


__all__ = ["InForce"]
