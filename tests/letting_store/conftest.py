"""Fixtures of the letting store tests: a fresh migrated database per test, on SQLite and PostgreSQL.

PostgreSQL tests need `BOLIGMIX_TEST_PG_URL` (set by `make test`, which starts the server with
`scripts/test-postgres.sh`); they are skipped only when it is unset outside CI (with `CI` set,
a missing database fails them). Tests that mean something only on PostgreSQL take
`pytest.mark.parametrize("db_url", ["postgres"], indirect=True)` instead of skipping on SQLite.
"""

from __future__ import annotations

import itertools
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from boligmix.letting.store.auth import Principal
from boligmix.letting.store.db import Store
from boligmix.letting.store.migrate import upgrade

from store_support import MUNI, ORG, add_token

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
        if os.environ.get("CI"):
            pytest.fail(f"{PG_ENV} is not set: CI must start PostgreSQL (scripts/test-postgres.sh) for the "
                        "postgres tests")
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


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty, unmigrated letting database (for the migration tests): SQLite file or PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite'}"
        return
    dbs: PgDatabases = request.getfixturevalue("pg_databases")
    url = dbs.new(migrated=False)
    yield url
    dbs.drop(url)


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store(db_url, pool_size=5)
    yield s
    s.dispose()


@pytest.fixture
def tokens(store: Store) -> dict[str, tuple[str, Principal]]:
    return {
        "org": add_token(store, "org1", "housing_organisation", [ORG]),
        "org2": add_token(store, "org2", "housing_organisation", ["ORG2"]),
        "muni": add_token(store, "kbh", "municipality", [str(MUNI)]),
        "muni2": add_token(store, "aarhus", "municipality", ["751"]),
        "analyst": add_token(store, "analyst", "analyst", []),
    }


