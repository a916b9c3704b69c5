"""The engine's `Dwelling` of a simulated vacancy, built without the frozen dataclass's `__init__`.

`AlmenLetting.dwelling` builds one `Dwelling` per almen vacancy (105,000 a national year); the
dataclass's `__init__` sets each of its 13 fields through `object.__setattr__` and its checks build
two sets, some 10 us a dwelling, of which a dictionary update is a tenth.
"""

from __future__ import annotations

from boligmix.letting.model import AREA_CATEGORIES, Dwelling

KNOWN_CATEGORIES = frozenset(AREA_CATEGORIES)


def engine_dwelling(dwelling_id: int, municipality_code: int, org_id: str, department_id: str, rooms: int,
                    area_id: str | None, area_categories: frozenset[str], almen_type: str, floor_area_m2: float,
                    monthly_rent_dkk: float | None) -> Dwelling:
    """`Dwelling(...)` of these fields (the rest their defaults) without the frozen dataclass's
    `__init__` (module docstring): the same fields in the same order, an equal object. A dwelling the
    checks reject (`Dwelling.__post_init__`: rooms below 1, an unknown area category) is built by
    the constructor, which raises as before (tested equal, `tests/test_simulate_almen15.py`)."""
    if rooms < 1 or not KNOWN_CATEGORIES.issuperset(area_categories):
        return Dwelling(dwelling_id, municipality_code, org_id, department_id, rooms, area_id, area_categories,
                        almen_type, floor_area_m2, monthly_rent_dkk)
    dwelling = object.__new__(Dwelling)
    dwelling.__dict__.update(dwelling_id=dwelling_id, municipality_code=municipality_code, org_id=org_id,
                             department_id=department_id, rooms=rooms, area_id=area_id, area_categories=area_categories,
                             almen_type=almen_type, floor_area_m2=floor_area_m2, monthly_rent_dkk=monthly_rent_dkk,
                             shared=False, facts={}, udslusningsbolig=False)
    return dwelling


__all__ = ["KNOWN_CATEGORIES", "engine_dwelling"]
