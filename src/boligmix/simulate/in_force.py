"""The policies in force for a dwelling on a date, kept per combination of what decides them.

`PolicySet.in_force` reads of a dwelling only its scope facts (municipality, organisation,
department, area categories, almen type) and the date, and a simulated month's vacancies share
few such combinations; the engine asks for every channel allocation and offer round, the market
for every vacancy it tries. `InForce` is the same policy set answering from a table.
"""

from __future__ import annotations

from datetime import date

from boligmix.letting.model import Dwelling
from boligmix.letting.policy import Policy, PolicySet


class InForce(PolicySet):
    """`policies` (the same `Policy` objects) with `in_force` kept per scope facts and date."""

    def __init__(self, policies: PolicySet) -> None:
        self.__dict__.update(policies.__dict__)          # checked when `policies` was built
        self._in_force: dict[tuple, tuple[Policy, ...]] = {}
        self._last: tuple = (None, None, ())
        """The last (dwelling, date, policies in force) asked for: a `Dwelling` is frozen."""

    def in_force(self, dwelling: Dwelling, on: date) -> tuple[Policy, ...]:
        last = self._last
        if last[0] is dwelling and last[1] == on:        # (a vacancy's round asks several times)
            return last[2]
        key = (dwelling.municipality_code, dwelling.org_id, dwelling.department_id, dwelling.area_categories,
               dwelling.almen_type, on)
        found = self._in_force.get(key)
        if found is None:
            found = self._in_force[key] = PolicySet.in_force(self, dwelling, on)
        self._last = (dwelling, on, found)
        return found


__all__ = ["InForce"]
