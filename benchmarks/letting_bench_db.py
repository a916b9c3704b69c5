"""The fresh, migrated letting-store database the letting benchmarks run against."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from boligmix.letting.store import service
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


def register_stock(session, org, n_dwellings: int, n_applicants: int, department_name: str = "Bench") -> None:  # type: ignore[no-untyped-def]
    """Department D1 of organisation ORG in municipality 101, `n_dwellings` alike 3-room dwellings and
    `n_applicants` external applicants of three persons (the statutory size rule lets them a 3-room
    dwelling) with seniority dates spread over 3,000 days."""
    service.register_department(session, org, {"department_id": "D1", "org_id": "ORG",
                                               "department_name": department_name, "municipality_code": 101})
    for i in range(n_dwellings):
        service.register_dwelling(session, org, {"dwelling_id": i + 1, "department_id": "D1", "rooms": 3,
                                                 "floor_area_m2": 70.0, "monthly_rent_dkk": 6000.0})
    for i in range(n_applicants):
        service.create_applicant(session, org, {
            "applicant_id": 10_000 + i, "household_id": 20_000 + i, "list_type": "external", "org_id": "ORG",
            "household_size": 3, "seniority_date": date(2000, 1, 1) + timedelta(days=i % 3000)})
