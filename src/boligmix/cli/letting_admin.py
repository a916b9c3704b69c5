"""`boligmix letting init-db|add-token|revoke-token`: administer the letting store.

The commands join the `letting` command group when another module (the engine's `cli/letting.py`)
has created it; otherwise this module creates the group.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Annotated

import typer

from boligmix.cli._output import JsonOption, Output, QuietOption
from boligmix.errors import ConfigurationError

if TYPE_CHECKING:
    from boligmix.letting.store.db import Store

DEFAULT_DB_TEXT = "sqlite:///boligmix-letting.sqlite"
"""`boligmix.letting.store.db.DEFAULT_DB_URL` for the help text (no SQLAlchemy import; a test keeps them equal)."""
ROLE_NAMES = ("municipality", "housing_organisation", "analyst")
"""`boligmix.letting.store.models.ROLES` for the help text (a test keeps them equal)."""

DbOption = Annotated[str | None, typer.Option(
    "--db", help=f"Database URL (sqlite:///FILE or postgresql+psycopg://...) or a SQLite file path "
                 f"[default: {DEFAULT_DB_TEXT}].", show_default=False)]


def resolve_db(db: str | None) -> str:
    """The --db value, or the store's default database."""
    from boligmix.letting.store.db import DEFAULT_DB_URL

    return db or DEFAULT_DB_URL


@contextmanager
def current_store(db: str | None) -> Iterator["Store"]:
    """The letting store at `db` (default: the store's default database), checked to be at the newest
    schema, disposed of after use."""
    from boligmix.letting.store.db import Store
    from boligmix.letting.store.migrate import ensure_current

    store = Store(resolve_db(db), pool_size=1)
    try:
        ensure_current(store.engine)
        yield store
    finally:
        store.dispose()


def letting_group(app: typer.Typer) -> typer.Typer:
    """The `letting` sub-app of `app`, created if no module has registered it yet."""
    for group in app.registered_groups:
        if group.name == "letting" and group.typer_instance is not None:
            return group.typer_instance
    sub = typer.Typer(help="Letting: waiting lists, letting tools, the letting store.", no_args_is_help=True)
    app.add_typer(sub, name="letting")
    return sub


def init_db(db: DbOption = None, quiet: QuietOption = False, json: JsonOption = False) -> None:
    """Create the letting database or upgrade it to the newest schema (Alembic migrations)."""
    from sqlalchemy.engine import make_url

    from boligmix.letting.store.db import normalise_url
    from boligmix.letting.store.migrate import upgrade

    out = Output(quiet, json)
    db = resolve_db(db)
    revision = upgrade(db)
    shown = make_url(normalise_url(db)).render_as_string(hide_password=True)
    out.result({"db": shown, "schema_revision": revision},
               f"letting database at schema revision {revision}")


def add_token(
    name: Annotated[str, typer.Option("--name", help="A unique name for the token (shown in the audit trail).")],
    role: Annotated[str, typer.Option("--role", help=f"One of: {', '.join(ROLE_NAMES)}.")],
    scope: Annotated[list[str] | None, typer.Option(
        "--scope", help="Municipality codes (municipality) or organisation ids (housing_organisation); "
                        "repeat or separate by commas. None for analysts.")] = None,
    db: DbOption = None, quiet: QuietOption = False, json: JsonOption = False,
) -> None:
    """Create an API token; the secret is printed once and only its hash is stored."""
    from boligmix.letting.store.auth import create_token

    out = Output(quiet, json)
    scopes = [part for item in (scope or []) for part in item.split(",")]
    with current_store(db) as store:
        secret, row = store.transact(lambda s: create_token(s, name=name, role=role, scope=scopes))
    out.result({"name": row.name, "role": row.role, "scope": row.scope, "token": secret},
               f"token for {row.name} ({row.role}, scope {', '.join(row.scope) or '-'}):\n{secret}")
    if not quiet:
        out.info("Store it now: only its hash is kept.")


def revoke_token(
    name: Annotated[str, typer.Option("--name", help="Name of the token to revoke.")],
    db: DbOption = None, quiet: QuietOption = False, json: JsonOption = False,
) -> None:
    """Revoke an API token (requests with it get 401 from then on)."""
    from sqlalchemy import select

    from boligmix.letting.store.models import ApiToken

    out = Output(quiet, json)

    def revoke(s) -> None:  # type: ignore[no-untyped-def]
        row = s.scalar(select(ApiToken).where(ApiToken.name == name))
        if row is None:
            raise ConfigurationError(f"no token named '{name}'", field="--name")
        row.revoked_at = datetime.now(timezone.utc)

    with current_store(db) as store:
        store.transact(revoke)
    out.result({"name": name, "revoked": True}, f"token {name} revoked")


def register(app: typer.Typer) -> None:
    group = letting_group(app)
    group.command("init-db")(init_db)
    group.command("add-token")(add_token)
    group.command("revoke-token")(revoke_token)
