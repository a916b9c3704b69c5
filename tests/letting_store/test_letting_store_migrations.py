"""The Alembic migrations produce exactly the schema of the models, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from typer.testing import CliRunner

from boligmix.cli.main import app
from boligmix.letting.store.db import make_engine
from boligmix.letting.store.errors import SchemaError
from boligmix.letting.store.migrate import MIGRATIONS_DIR, alembic_config, ensure_current, head_revision, upgrade
from boligmix.letting.store.models import Base


def _diff(url: str) -> list:
    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            return compare_metadata(ctx, Base.metadata)
    finally:
        engine.dispose()


def test_migrations_produce_the_models_schema(empty_url):
    assert upgrade(empty_url) == head_revision()
    assert _diff(empty_url) == []
    engine = make_engine(empty_url, pool_size=1)
    try:
        ensure_current(engine)
        tables = set(inspect(engine).get_table_names())
        assert set(Base.metadata.tables) <= tables
        with engine.connect() as conn:
            key = conn.scalar(text("SELECT value FROM service_settings WHERE name = 'pseudonym_key'"))
        assert len(bytes.fromhex(key)) == 32
    finally:
        engine.dispose()


def test_upgrade_is_idempotent_and_downgrade_reverses_it(empty_url):
    from alembic import command

    upgrade(empty_url)
    upgrade(empty_url)  # nothing to do
    command.downgrade(alembic_config(empty_url), "base")
    engine = make_engine(empty_url, pool_size=1)
    try:
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        with pytest.raises(SchemaError, match="init-db"):
            ensure_current(engine)
    finally:
        engine.dispose()
    upgrade(empty_url)
    assert _diff(empty_url) == []


def test_a_model_change_without_migration_is_detected(tmp_path):
    """The comparison above can fail: an extra model column shows up as a difference."""
    from sqlalchemy import Column, Integer, MetaData, Table

    url = f"sqlite:///{tmp_path / 'x.sqlite'}"
    upgrade(url)
    md = MetaData()
    for table in Base.metadata.tables.values():
        table.to_metadata(md)
    Table("decisions", md, Column("extra_column", Integer), extend_existing=True)
    engine = create_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), md)
    engine.dispose()
    assert any(d[0] == "add_column" and d[3].name == "extra_column" for d in diff)


def test_migration_scripts_are_package_data():
    scripts = sorted(p.name for p in (MIGRATIONS_DIR / "versions").glob("*.py") if p.name != "__init__.py")
    assert scripts and (MIGRATIONS_DIR / "env.py").is_file() and (MIGRATIONS_DIR / "script.py.mako").is_file()


def test_cli_init_db_and_add_token(tmp_path):
    runner = CliRunner()
    db = str(tmp_path / "cli.sqlite")
    result = runner.invoke(app, ["letting", "init-db", "--db", db, "--json"])
    assert result.exit_code == 0, result.output
    assert '"schema_revision": "' + head_revision() in result.stdout
    result = runner.invoke(app, ["letting", "add-token", "--db", db, "--name", "org", "--role",
                                 "housing_organisation", "--scope", "ORG1,ORG2", "--json"])
    assert result.exit_code == 0, result.output
    assert '"token": "bmx_' in result.stdout and '"ORG2"' in result.stdout
    bad = runner.invoke(app, ["letting", "add-token", "--db", db, "--name", "m", "--role", "municipality",
                              "--scope", "Copenhagen"])
    assert bad.exit_code == 2 and "municipality code" in bad.output
    dup = runner.invoke(app, ["letting", "add-token", "--db", db, "--name", "org", "--role", "analyst"])
    assert dup.exit_code == 2 and "already exists" in dup.output
    uninit = runner.invoke(app, ["letting", "add-token", "--db", str(tmp_path / "none.sqlite"), "--name", "a",
                                 "--role", "analyst"])
    assert uninit.exit_code == 2 and "init-db" in uninit.output
    assert runner.invoke(app, ["letting", "revoke-token", "--db", db, "--name", "org"]).exit_code == 0


def test_serve_upgrades_an_empty_database_and_refuses_an_outdated_one(tmp_path):
    import subprocess
    import sys

    import httpx

    from letting_server import SRC, Server

    env = {"PYTHONPATH": SRC, "PATH": "/usr/bin:/bin"}
    stale = subprocess.run([sys.executable, "-m", "boligmix.cli.main", "serve", "--db", str(tmp_path / "old.sqlite"),
                            "--no-upgrade", "--port", "1"], capture_output=True, text=True, env=env, timeout=120)
    assert stale.returncode == 2 and "init-db" in stale.stderr
    server = Server(f"sqlite:///{tmp_path / 'new.sqlite'}").start()
    try:
        health = httpx.get(server.base_url + "/api/health").json()
    finally:
        server.stop()
    assert health["schema_revision"] == head_revision() and health["database"] == "sqlite"


def test_migration_0002_keeps_the_trail_and_its_triggers(empty_url):
    """Upgrading a 0001 database with decisions keeps the rows; the trail stays append-only and
    now accepts the engine's follow-up outcomes."""
    upgrade(empty_url, "0001")
    engine = make_engine(empty_url, pool_size=1)
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO departments (department_id, org_id, department_name, municipality_code, "
                              "area_categories, facts) VALUES ('D', 'O', 'd', 101, '[]', '{}')"))
            conn.execute(text("INSERT INTO dwellings (dwelling_id, department_id, almen_type, rooms, floor_area_m2, "
                              "monthly_rent_dkk, facts) VALUES (1, 'D', 'family', 2, 50, 4000, '{}')"))
            conn.execute(text("INSERT INTO vacancies (vacancy_id, dwelling_id, channel, available_from, status, "
                              "created_at) VALUES (1, 1, 'waiting_list', '2025-01-01', 'open', CURRENT_TIMESTAMP)"))
            insert = text("INSERT INTO decisions (created_at, outcome, vacancy_id, dwelling_id, rule, rule_version, "
                          "reason, facts, unknown_facts, actor) VALUES (CURRENT_TIMESTAMP, :o, 1, 1, 'r', '1', 'x', "
                          "'{}', '[]', 'a')")
            conn.execute(insert, {"o": "channel"})
        with pytest.raises(Exception), engine.begin() as conn:
            conn.execute(insert, {"o": "entitled"})
        upgrade(empty_url)
        with engine.begin() as conn:
            conn.execute(insert, {"o": "entitled"})
            assert [r[0] for r in conn.execute(text("SELECT outcome FROM decisions ORDER BY decision_id"))] == \
                ["channel", "entitled"]
        with pytest.raises(Exception), engine.begin() as conn:
            conn.execute(text("DELETE FROM decisions"))
        with pytest.raises(Exception), engine.begin() as conn:
            conn.execute(text("UPDATE decisions SET reason = 'y'"))
    finally:
        engine.dispose()
    assert _diff(empty_url) == []
