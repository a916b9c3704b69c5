"""Helpers of the letting store tests: tokens and seed data (used by conftest and the tests)."""

from __future__ import annotations

import zlib
from datetime import date
from typing import Any

from boligmix.letting.store.auth import Principal, create_token
from boligmix.letting.store.db import Store
from boligmix.letting.store.selection import StoreOrderRules


def add_token(store: Store, name: str, role: str, scope: list[str]) -> tuple[str, Principal]:
    def op(s: Any) -> tuple[str, Principal]:
        secret, row = create_token(s, name=name, role=role, scope=scope)
        return secret, Principal(row.token_id, row.name, row.role, frozenset(row.scope))
    return store.transact(op)


ORG = "ORG1"
STORE_ORDER = StoreOrderRules()
"""The plain list order, named (the store's offer rounds default to the statutory engine rules)."""
MUNI = 101


def seed_stock(store: Store, org: Principal, *, dwellings: int = 3, department_id: str = "ORG1-01",
               org_id: str = ORG, municipality_code: int = MUNI, dwelling_base: int | None = None) -> list[int]:
    """One department with `dwellings` 3-room dwellings (rent 6000); returns their ids."""
    from boligmix.letting.store import service

    def op(s: Any) -> list[int]:
        service.register_department(s, org, {"department_id": department_id, "org_id": org_id,
                                             "department_name": "Test", "municipality_code": municipality_code,
                                             "area_id": None, "area_categories": [], "facts": {}})
        base = zlib.crc32(department_id.encode()) % 10_000 * 1000 if dwelling_base is None else dwelling_base
        ids = []
        for i in range(dwellings):
            w = service.register_dwelling(s, org, {"dwelling_id": base + i, "department_id": department_id,
                                                   "rooms": 3, "floor_area_m2": 80.0,
                                                   "monthly_rent_dkk": 6000.0})
            ids.append(w["dwelling_id"])
        return ids
    return store.transact(op)


def seed_applicants(store: Store, org: Principal, n: int, *, org_id: str = ORG, start_id: int = 1000,
                    list_type: str = "external", **overrides: Any) -> list[int]:
    from boligmix.letting.store import service

    def op(s: Any) -> list[int]:
        out = []
        for i in range(n):
            body = {"applicant_id": start_id + i, "household_id": 50_000 + start_id + i, "list_type": list_type,
                    "org_id": org_id, "seniority_date": date(2010, 1, 1 + i % 28), "min_rooms": 1,
                    "max_rent_dkk": None, **overrides}
            out.append(service.create_applicant(s, org, body)["entry_id"])
        return out
    return store.transact(op)
