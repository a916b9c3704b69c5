"""`boligmix serve`: run the letting API (FastAPI on uvicorn)."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from boligmix.cli._output import JsonOption, Output, QuietOption, print_error
from boligmix.errors import BoligmixError


WORKER_HEALTHCHECK_SECONDS = 60
"""How long uvicorn waits for a worker's health answer before killing it (its default, 5 s, kills
workers that are still importing the app on a heavily loaded machine, again and again)."""


def serve(
    db: Annotated[str, typer.Option("--db", help="Database URL (sqlite:///FILE or postgresql+psycopg://...) "
                                                 "or a SQLite file path.")] = "sqlite:///boligmix-letting.sqlite",
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Worker processes.")] = 1,
    rules: Annotated[str, typer.Option("--rules", help="Offer rules: 'engine' (the letting engine's "
                                                       "default policies) or 'store-order' (plain list order).")]
    = "engine",
    policies: Annotated[list[str] | None, typer.Option(
        "--policies", help="Local letting policy files or directories (agreements of municipalities, "
                           "organisations, departments) on top of the statutory ones; repeatable.")] = None,
    upgrade_db: Annotated[bool, typer.Option("--upgrade/--no-upgrade",
                                             help="Migrate the database to the newest schema first.")] = True,
    fast_path: Annotated[bool, typer.Option("--fast-path/--no-fast-path",
                                            help="PostgreSQL: answer accept and whoami on the event loop "
                                                 "(boligmix.web.fast_path); off: every request by the full app.")]
    = True,
    quiet: QuietOption = False, json: JsonOption = False,
) -> None:
    """Serve the letting API; OpenAPI spec at /openapi.json, docs at /docs."""
    import uvicorn

    from boligmix.letting.store.db import normalise_url
    from boligmix.letting.store.migrate import upgrade
    from boligmix.web.app import DB_ENV, FAST_PATH_ENV, POLICIES_ENV, RULES_ENV, create_app, make_rules

    out = Output(quiet, json)
    try:
        url = normalise_url(db)
        if upgrade_db:
            revision = upgrade(url)
            out.info(f"letting database at schema revision {revision}")
        log_level = "warning" if quiet or json else "info"
        offer_rules = make_rules(rules, policies)  # a bad policy file stops here, before serving
        if workers == 1:
            uvicorn.run(create_app(url, rules=offer_rules, fast_path=fast_path), host=host, port=port,
                        log_level=log_level, access_log=False)
        else:
            os.environ[DB_ENV] = url
            os.environ[RULES_ENV] = rules
            os.environ[POLICIES_ENV] = os.pathsep.join(str(p) for p in policies or [])
            os.environ[FAST_PATH_ENV] = "1" if fast_path else "0"
            uvicorn.run("boligmix.web.app:create_app_from_env", factory=True, host=host, port=port,
                        workers=workers, log_level=log_level, access_log=False,
                        timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS)
    except BoligmixError as exc:
        print_error(exc)
        raise typer.Exit(2) from exc


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
