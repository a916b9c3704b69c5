"""The letting API (FastAPI): vacancies, offers, leases, waiting lists and the audit trail.

`create_app(db_url)` builds the app on a letting store; `boligmix serve` runs it with uvicorn.
Every `/api` route except `/api/health` needs `Authorization: Bearer <token>`. Every POST accepts
an `Idempotency-Key` header: a retry with the same key returns the original status and body.
Handlers are plain functions (run in the thread pool); each write is one database transaction.

Here: the app's set-up (authentication, the route guard, the fast path and hot routes) and the
service routes; the reads and writes are `boligmix.web.handlers`', the routes by page group
`boligmix.web.routes`', the error answers `boligmix.web.errors`'.
"""

# No `from __future__ import annotations`: FastAPI must see the local `Caller` dependency type.

import os
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Request
from sqlalchemy.engine import make_url

from boligmix import __version__
from boligmix.errors import AuthorizationError, ConfigurationError
from boligmix.letting.store import access
from boligmix.letting.store.auth import Principal, Pseudonymiser, TokenIdentities
from boligmix.letting.store.db import Store
from boligmix.letting.store.engine_rules import EngineRules
from boligmix.letting.store.errors import InvalidRequestError
from boligmix.letting.store.migrate import ensure_current, head_revision
from boligmix.letting.store.selection import OfferRules, StoreOrderRules
from boligmix.web.fast_path import FastPath, FastPathStats
from boligmix.web.hot_routes import HotRoute, HotRoutes, HotRouteStats
from boligmix.web.errors import ERROR_RESPONSES, add_error_handlers, handled_error_response
from boligmix.web.handlers import ApiHandlers
from boligmix.web.routes.letting import add_letting_routes
from boligmix.web.routes.reports import add_report_routes
from boligmix.web.routes.stock import add_stock_routes
from boligmix.web.routes.waiting_lists import add_waiting_list_routes
from boligmix.web.schemas import AcceptIn, OffersIn, VacancyIn

DB_ENV = "BOLIGMIX_LETTING_DB"
"""Environment variable with the database URL, read by `create_app_from_env` (uvicorn workers)."""

RULES_ENV = "BOLIGMIX_LETTING_RULES"
POLICIES_ENV = "BOLIGMIX_LETTING_POLICIES"
"""Local policy files/directories for the engine rules (`os.pathsep`-separated), read by uvicorn workers."""


def make_rules(name: str, policies: "list[str] | None" = None) -> OfferRules:
    """`engine` (the letting engine's statutory policies, plus the local `policies` files or
    directories: municipality, organisation or department agreements) or `store-order` (plain list
    order). A bad policy file raises ConfigurationError naming the file, rule and field."""
    if name == "engine":
        if policies:
            from boligmix.letting.policy import POLICY_DIR, load_policies

            return EngineRules(load_policies([POLICY_DIR / "statutory", *policies]))
        return EngineRules()
    if name == "store-order":
        if policies:
            raise ConfigurationError("--policies needs --rules engine", field="--policies")
        return StoreOrderRules()
    raise ConfigurationError(f"unknown rules '{name}'; use engine or store-order", field="--rules")


FAST_PATH_ENV = "BOLIGMIX_LETTING_FAST_PATH"
"""`0` turns the PostgreSQL fast path off (`create_app_from_env`; for comparisons)."""
THREADS_ENV = "BOLIGMIX_LETTING_THREADS"
"""Handler threads per worker (`create_app_from_env`); unset or `0`: anyio's default (40)."""


def create_app(db_url: str, *, pool_size: int = 20, rules: OfferRules | None = None, fast_path: bool = True,
               fast_pool_size: int = 8, warm_connections: int = 0, threads: int | None = None) -> FastAPI:
    """The API on the letting database at `db_url` (which must be at the current schema).

    `rules` make the offer rounds: default the letting engine with its default policies.
    `fast_path`: the letting cycle's writes (registration, offer round, accept) of callers already
    known are answered by `boligmix.web.hot_routes` (the same handlers without FastAPI's layers); on
    PostgreSQL accept and whoami are answered by `boligmix.web.fast_path` on the event loop with its
    own pool of `fast_pool_size` async connections; other requests and every unusual case go through
    the full app. False: the full app answers everything.
    `warm_connections` > 0: at startup, before serving, open that many pooled connections and
    rehearse a full cycle on each, rolled back (`boligmix.web.warmup`; `app.state.warm_up` reports it);
    the fast path opens as many of its async connections (at most `fast_pool_size`; reported as
    `app.state.fast_path_stats.warmed`).
    `threads`: at most that many requests run their (synchronous) handlers and dependencies at once,
    each on a thread holding at most one pooled connection (the total tokens of the event loop's anyio
    thread limiter, set at startup); None: anyio's default (40). The fast path's async connections
    (`fast_pool_size`) are not counted; the warm-up warms at most `threads` connections (no more are
    used at once).
    """
    if threads is not None and threads < 1:
        raise ConfigurationError(f"threads must be at least 1, not {threads}", field="--threads")
    fast_warm = min(warm_connections, fast_pool_size)  # the fast path's accepts are not limited by `threads`
    if threads is not None:
        warm_connections = min(warm_connections, threads)
    rules = rules or EngineRules()
    store = Store(db_url, pool_size=pool_size)
    ensure_current(store.engine)
    with store.read() as s:
        pseudo = Pseudonymiser.load(s)

    identities = TokenIdentities()

    def principal(authorization: Annotated[str | None, Header()] = None) -> Principal:
        """The caller's identity (cached by the token's hash: it never changes); whether the token is
        still valid is checked in the request's own transaction (`require_active`), so a revocation
        acts at once."""
        hit = identities.get(authorization)
        if hit is not None:
            return hit
        with store.read() as s:
            return identities.resolve(s, authorization)

    def guard(request: Request, authorization: Annotated[str | None, Header()] = None) -> None:
        """Every route's access check (`access.ROUTES`), before its handler and its body are used."""
        path = getattr(request.scope.get("route"), "path", request.url.path)
        if "\x00" in request.url.path or "%00" in request.url.query:
            raise InvalidRequestError("a NUL character is not allowed in the path or query")
        roles = access.route_roles(request.method, path)
        if roles is None:
            raise AuthorizationError(f"{request.method} {path} has no access rule; refused")
        if roles:
            access.require_route(principal(authorization), request.method, path)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if threads is not None:
            from anyio import to_thread

            to_thread.current_default_thread_limiter().total_tokens = threads
        if warm_connections > 0:
            from boligmix.web.warmup import warm_up_before_serving

            app.state.warm_up = await warm_up_before_serving(store, rules, warm_connections)
        yield

    app = FastAPI(title="boligmix letting API", version=__version__, dependencies=[Depends(guard)], lifespan=lifespan,
                  responses=ERROR_RESPONSES, docs_url=None, redoc_url=None,
                  description="Vacancies, offers by the letting rules, leases and the append-only audit trail "
                              "of decisions. Tokens: `boligmix letting add-token`.")
    app.state.store = store
    app.state.fast_path_stats = None
    app.state.hot_route_stats = None
    app.state.warm_up = None
    app.state.identities = identities

    add_error_handlers(app)

    Caller = Annotated[Principal, Depends(principal)]
    api = ApiHandlers(store, rules, pseudo)

    _serve_docs_offline(app)

    @app.get("/api/health", tags=["service"])
    def health() -> dict[str, str]:
        return {"status": "ok", "schema_revision": head_revision(), "database": store.dialect,
                "rules": rules.name}

    @app.get("/api/whoami", tags=["service"])
    def whoami(p: Caller) -> dict[str, Any]:
        api.read(p, lambda s: None)
        return {"name": p.name, "role": p.role, "scope": sorted(p.scope)}

    add_stock_routes(app, api, Caller)
    add_waiting_list_routes(app, api, Caller)
    add_letting_routes(app, api, Caller)
    add_report_routes(app, api, Caller)

    if fast_path:
        app.state.hot_route_stats = HotRouteStats()
        app.add_middleware(HotRoutes, identities=identities, errors=handled_error_response,
                           stats=app.state.hot_route_stats, routes=[
                               HotRoute("POST", re.compile(r"/api/vacancies"), "/api/vacancies", VacancyIn, False,
                                        api.register),
                               HotRoute("POST", re.compile(r"/api/vacancies/([0-9]{1,18})/offers"),
                                        "/api/vacancies/{vacancy_id}/offers", OffersIn, True, api.offer),
                               HotRoute("POST", re.compile(r"/api/offers/([0-9]{1,18})/accept"),
                                        "/api/offers/{offer_id}/accept", AcceptIn, True, api.accept)])
    if fast_path and store.dialect == "postgresql":
        conninfo = make_url(store.url).set(drivername="postgresql").render_as_string(hide_password=False)
        app.state.fast_path_stats = FastPathStats()
        app.add_middleware(FastPath, conninfo=conninfo, identities=identities, pool_size=fast_pool_size,
                           stats=app.state.fast_path_stats, warm=fast_warm)
    return app


def _serve_docs_offline(app: FastAPI) -> None:
    """`/docs`: Swagger UI from the assets bundled with the package `fastapi-offline` (no CDN)."""
    from pathlib import Path as FilePath

    import fastapi_offline
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.responses import HTMLResponse
    from fastapi.staticfiles import StaticFiles

    static = FilePath(fastapi_offline.__file__).parent / "static"
    app.mount("/docs-static", StaticFiles(directory=static), name="docs-static")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="boligmix letting API",
                                   swagger_js_url="/docs-static/swagger-ui-bundle.js",
                                   swagger_css_url="/docs-static/swagger-ui.css",
                                   swagger_favicon_url="/docs-static/favicon.png")


def create_app_from_env() -> FastAPI:
    """App factory for uvicorn workers: the database URL comes from `BOLIGMIX_LETTING_DB`."""
    url = os.environ.get(DB_ENV)
    if not url:
        raise ConfigurationError(f"{DB_ENV} is not set")
    local = [p for p in os.environ.get(POLICIES_ENV, "").split(os.pathsep) if p]
    from boligmix.web.warmup import DEFAULT_CONNECTIONS, WARM_UP_ENV

    return create_app(url, rules=make_rules(os.environ.get(RULES_ENV, "engine"), local),
                      fast_path=os.environ.get(FAST_PATH_ENV, "1") != "0",
                      warm_connections=int(os.environ.get(WARM_UP_ENV, str(DEFAULT_CONNECTIONS))),
                      threads=int(os.environ.get(THREADS_ENV, "0")) or None)
