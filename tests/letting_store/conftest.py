"""Fixtures of the letting store tests: a fresh migrated database per test, on SQLite and PostgreSQL.

PostgreSQL tests need `BOLIGMIX_TEST_PG_URL` (set by `make test`, which starts the server with
`scripts/test-postgres.sh`); they are skipped only when it is unset.
"""

from __future__ import annotations

import itertools
import os
import shutil
import uuid
import zlib
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from boligmix.letting.store.auth import Principal, create_token
from boligmix.letting.store.db import Store
from boligmix.letting.store.migrate import upgrade

PG_ENV = "BOLIGMIX_TEST_PG_URL"
_counter = itertools.count()


def _pg_admin_url() -> str | None:
    return os.environ.get(PG_ENV)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("letting-template") / "template.sqlite"
    upgrade(f"sqlite:///{path}")
    return path


class PgDatabases:
    """Creates databases from one migrated template (fast) and drops them afterwards."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        self.prefix = f"bmx_{os.environ.get('PYTEST_XDIST_WORKER', 'gw')}_{uuid.uuid4().hex[:6]}"
        self.template = f"{self.prefix}_tmpl"
        self.created: list[str] = []
        with self.admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{self.template}"'))
        self.created.append(self.template)
        upgrade(self.url(self.template))

    def url(self, name: str) -> str:
        return make_url(self.admin_url).set(database=name).render_as_string(hide_password=False)

    def new(self, *, migrated: bool = True) -> str:
        name = f"{self.prefix}_{next(_counter)}"
        with self.admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{self.template}"' if migrated else "")))
        self.created.append(name)
        return self.url(name)

    def drop(self, url: str) -> None:
        name = make_url(url).database
        with self.admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if name in self.created:
            self.created.remove(name)

    def close(self) -> None:
        for name in list(reversed(self.created)):
            with self.admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.admin.dispose()


@pytest.fixture(scope="session")
def pg_databases() -> Iterator[PgDatabases]:
    url = _pg_admin_url()
    if not url:
        pytest.skip(f"{PG_ENV} is not set (make test sets it)")
    dbs = PgDatabases(url)
    yield dbs
    dbs.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> Iterator[str]:
    """A freshly migrated, empty letting database: SQLite file or PostgreSQL database."""
    if request.param == "sqlite":
        path = tmp_path / f"letting-{next(_counter)}.sqlite"
        shutil.copy(sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    dbs: PgDatabases = request.getfixturevalue("pg_databases")
    url = dbs.new()
    yield url
    dbs.drop(url)


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store(db_url, pool_size=5)
    yield s
    s.dispose()


def add_token(store: Store, name: str, role: str, scope: list[str]) -> tuple[str, Principal]:
    def op(s: Any) -> tuple[str, Principal]:
        secret, row = create_token(s, name=name, role=role, scope=scope)
        return secret, Principal(row.token_id, row.name, row.role, frozenset(row.scope))
    return store.transact(op)


ORG = "ORG1"
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


@pytest.fixture
def tokens(store: Store) -> dict[str, tuple[str, Principal]]:
    return {
        "org": add_token(store, "org1", "housing_organisation", [ORG]),
        "org2": add_token(store, "org2", "housing_organisation", ["ORG2"]),
        "muni": add_token(store, "kbh", "municipality", [str(MUNI)]),
        "muni2": add_token(store, "aarhus", "municipality", ["751"]),
        "analyst": add_token(store, "analyst", "analyst", []),
    }


SeedFn = Callable[..., Any]
