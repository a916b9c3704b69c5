"""Schema migrations of the letting store (Alembic; the scripts ship as package data).

`upgrade(url)` brings a database to the newest schema (creating it when empty); `boligmix letting
init-db` and `boligmix serve` call it. `ensure_current(engine)` refuses to use a database whose
schema is older or newer than this boligmix.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Engine

from boligmix.letting.store.db import make_engine, normalise_url
from boligmix.letting.store.errors import SchemaError

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_PG_MIGRATION_LOCK = 0x626F6C69  # pg_advisory_xact_lock key: one migrator at a time


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(url: str, revision: str = "head") -> str:
    """Migrate the database at `url` to `revision` (default: the newest); return the revision reached."""
    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as conn:
            sqlite = conn.dialect.name == "sqlite"
            if sqlite:  # a migration may recreate a table others refer to (SQLite's 12-step ALTER)
                conn.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
            with conn.begin():
                if not sqlite:
                    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
                cfg = alembic_config(url)
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, revision)
                if sqlite:
                    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        raise SchemaError(f"the migration to {revision} left rows with broken foreign keys "
                                          f"(first: {tuple(broken[0])}); nothing was changed")
            if sqlite:
                conn.connection.driver_connection.execute("PRAGMA foreign_keys=ON")  # type: ignore[union-attr]
        reached = current_revision(engine)
    finally:
        engine.dispose()
    return reached or ""


def ensure_current(engine: Engine) -> None:
    """Raise `SchemaError` unless the database is at the head revision."""
    current, head = current_revision(engine), head_revision()
    if current != head:
        raise SchemaError(
            f"the letting database is at schema revision {current or '(empty)'}, this boligmix needs "
            f"{head}; run `boligmix letting init-db --db URL` (or start `boligmix serve`, which upgrades)"
        )
