"""`boligmix serve`: run the letting API and/or the dashboard (FastAPI on uvicorn)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Optional

import typer

from boligmix.cli._output import JsonOption, Output, QuietOption
from boligmix.errors import ConfigurationError


WORKER_HEALTHCHECK_SECONDS = 60
"""How long uvicorn waits for a worker's health answer before killing it (its default, 5 s, kills
workers that are still importing the app on a heavily loaded machine, again and again)."""


DEFAULT_DB = "sqlite:///boligmix-letting.sqlite"

DEFAULT_THREADS = 2
"""Handler threads per API worker (`--threads`; 0 = anyio's default, 40). With 16 clients on 2 workers,
1-2 threads ran 60-64 full cycles/s at 22-24 ms CPU per letting against 42-62/s and 24-27 ms with
4, 8 or 40 (docs/letting.md, "Threads per worker"); 2 rather than 1, so that one request waiting for
a lock (an offer round's list turn) does not hold up every other request of its worker."""


def serve(
    db: Annotated[Optional[str], typer.Option(
        "--db", help="Letting database URL (sqlite:///FILE or postgresql+psycopg://...) or a SQLite file path; "
                     f"default {DEFAULT_DB} (with --data: no letting API unless given).")] = None,
    data: Annotated[Optional[Path], typer.Option(
        "--data", help="Dataset directory: serve the dashboard at / (lists, maps, area pages).")] = None,
    results: Annotated[Optional[list[str]], typer.Option(
        "--results", help="Module result directories for the dashboard (monitor/, simulate/, plan/, "
                          "evaluate/ inside, or MODULE=DIR); repeatable.")] = None,
    mix_years: Annotated[Optional[int], typer.Option(
        "--mix-years", min=0, help="Dashboard: compute the social mix for this many of the newest years (0: none; "
                                   "default 6 for datasets up to a million persons, else none: use --mix-dir).")]
    = None,
    mix_dir: Annotated[Optional[Path], typer.Option(
        "--mix-dir", help="Dashboard: read the social mix from a `boligmix mix --level area` output directory "
                          "instead of computing it (large data).")] = None,
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
    warm_up: Annotated[int, typer.Option("--warm-up", min=0,
                                         help="Connections each worker opens and warms before serving (a full "
                                              "letting cycle rehearsed and rolled back on each; 0: none).")] = 8,
    threads: Annotated[int, typer.Option("--threads", min=0,
                                         help="Requests each worker handles at once in its thread pool (each "
                                              "on one database connection; the PostgreSQL fast path's accepts "
                                              "not counted; --warm-up warms at most this many connections); "
                                              "0: anyio's default, 40.")] = DEFAULT_THREADS,
    quiet: QuietOption = False, json: JsonOption = False,
) -> None:
    """Serve the letting API (under /api; OpenAPI spec at /openapi.json, docs at /docs) and, with --data,
    the dashboard at / (Danish; ?lang=en)."""
    import uvicorn

    from boligmix.letting.store.db import normalise_url
    from boligmix.letting.store.migrate import upgrade
    from boligmix.web.app import DB_ENV, FAST_PATH_ENV, POLICIES_ENV, RULES_ENV, THREADS_ENV, create_app, make_rules
    from boligmix.web.warmup import WARM_UP_ENV

    out = Output(quiet, json)
    log_level = "warning" if quiet or json else "info"
    if data is not None:
        if workers != 1:
            raise ConfigurationError("--data serves the dashboard from one process; use --workers 1",
                                     field="--workers")
        app = _dashboard_app(out, data, db, results or [], mix_years, mix_dir, upgrade_db, rules, policies,
                             fast_path)
        out.info(f"dashboard on http://{host}:{port}/ (English: http://{host}:{port}/?lang=en)")
        uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=False)
        return
    url = normalise_url(db or DEFAULT_DB)
    if upgrade_db:
        revision = upgrade(url)
        out.info(f"letting database at schema revision {revision}")
    offer_rules = make_rules(rules, policies)  # a bad policy file stops here, before serving
    if workers == 1:
        uvicorn.run(create_app(url, rules=offer_rules, fast_path=fast_path, warm_connections=warm_up,
                               threads=threads or None), host=host, port=port,
                    log_level=log_level, access_log=False)
    else:
        os.environ[DB_ENV] = url
        os.environ[RULES_ENV] = rules
        os.environ[POLICIES_ENV] = os.pathsep.join(str(p) for p in policies or [])
        os.environ[FAST_PATH_ENV] = "1" if fast_path else "0"
        os.environ[WARM_UP_ENV] = str(warm_up)
        os.environ[THREADS_ENV] = str(threads)
        from boligmix.web import listen
        config = dict(factory=True, host=host, port=port, workers=workers, log_level=log_level, access_log=False,
                      timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS)
        if listen.supported():  # each worker its own listening socket: connections spread over the workers
            listen.run_workers(uvicorn.Config("boligmix.web.app:create_app_from_env", **config))
        else:
            uvicorn.run("boligmix.web.app:create_app_from_env", **config)


def _dashboard_app(out: Output, data: Path, db: str | None, results: list[str], mix_years: int | None,
                   mix_dir: Path | None, upgrade_db: bool, rules: str, policies: list[str] | None, fast_path: bool):
    """The dashboard (computed once now) alone, or mounted beside the letting API when --db is given."""
    from boligmix.letting.store.db import normalise_url
    from boligmix.letting.store.migrate import upgrade
    from boligmix.web.app import create_app, make_rules
    from boligmix.web.dashboard import create_dashboard_app, load_dashboard, mount_dashboard

    with out.progress("computing the dashboard", total=100) as bar:
        dashboard = load_dashboard(data, mix_years="auto" if mix_years is None else mix_years, results=results,
                                   mix_dir=mix_dir, on_progress=bar)
    if db is None:
        return create_dashboard_app(dashboard)
    url = normalise_url(db)
    if upgrade_db:
        out.info(f"letting database at schema revision {upgrade(url)}")
    return mount_dashboard(create_app(url, rules=make_rules(rules, policies), fast_path=fast_path), dashboard)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
