"""The fresh, migrated letting-store database the letting benchmarks run against."""

from __future__ import annotations

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from boligmix.letting.store.migrate import upgrade


def fresh_database(admin_url: str | None, name: str, tmp: str | None = None) -> str:
    """The URL of a new, migrated database: a SQLite file `name.sqlite` in `tmp` without `admin_url`;
    with a PostgreSQL admin URL the database `name`, dropped first if it exists."""
    if admin_url is None:
        if tmp is None:
            raise ValueError("a SQLite benchmark database needs a temporary directory")
        url = f"sqlite:///{tmp}/{name}.sqlite"
    else:
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            c.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    return url
