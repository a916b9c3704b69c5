"""Migrations 0009 (withdrawn_at), 0010 (referral_order), 0011 (shared dwellings) and later, applied to a 0008 database that holds rows: the rows
survive with the new columns empty (SQLite and PostgreSQL)."""

from __future__ import annotations

from sqlalchemy import text

from boligmix.letting.store.db import make_engine
from boligmix.letting.store.migrate import upgrade


def test_upgrade_from_0008_keeps_applicants_and_dwellings(empty_url):
    upgrade(empty_url, "0008")
    engine = make_engine(empty_url, pool_size=1)
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO departments (department_id, org_id, department_name, municipality_code, "
                              "area_categories, facts) VALUES ('D', 'O', 'd', 101, '[]', '{}')"))
            conn.execute(text("INSERT INTO dwellings (dwelling_id, department_id, almen_type, rooms, floor_area_m2, "
                              "monthly_rent_dkk, facts) VALUES (1, 'D', 'family', 2, 50, 4000, '{}')"))
            conn.execute(text(
                "INSERT INTO applicants (applicant_id, household_id, list_type, list_owner, org_id, municipality_code, "
                "seniority_date, household_size, min_rooms, household, priority_rights, facts, refusal_count, status, "
                "created_at) VALUES (5, NULL, 'municipal_referral', 'kommune:101', NULL, 101, '2020-01-01', 1, 1, "
                "'{}', '[]', '{}', 0, 'active', CURRENT_TIMESTAMP)"))
        upgrade(empty_url)
        with engine.connect() as conn:
            row = conn.execute(text("SELECT applicant_id, status, withdrawn_at, referral_order FROM applicants")).one()
            assert tuple(row) == (5, "active", None, None)
            assert tuple(conn.execute(text("SELECT rooms, shared_dwelling_id FROM dwellings")).one()) == (2, None)
            assert conn.execute(text("SELECT COUNT(*) FROM shared_dwellings")).scalar_one() == 0
    finally:
        engine.dispose()
