"""The dashboard: maps, list tables, area and municipality pages, downloads (Danish, `?lang=en`).

    data = load_dashboard("data/synth", results=["out/results"])   # computed once, kept in memory
    app = create_dashboard_app(data)             # the dashboard alone
    mount_dashboard(letting_app, data)           # or beside the letting API (which stays under /api)

See docs/dashboard.md.
"""

from __future__ import annotations

import time

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from boligmix import __version__
from boligmix.web.dashboard.data import DashboardData, load_dashboard
from boligmix.web.dashboard.routes import Page, build_router
from boligmix.web.dashboard.i18n import word


def _add_dashboard(app: FastAPI, data: DashboardData, letting: FastAPI | None = None) -> FastAPI:
    """The dashboard's routes, timing header and friendly 404 page on `app`; with the letting API
    `letting`, also the read-only letting pages on its store and tokens."""
    app.include_router(build_router(data))
    app.state.dashboard = data
    app.state.letting_pages = letting is not None
    if letting is not None:
        from boligmix.web.dashboard.letting_pages import build_letting_router

        app.include_router(build_letting_router(lambda request: Page(data, request), letting.state.store,
                                                letting.state.identities, data.policy))

    @app.middleware("http")
    async def _server_timing(request: Request, call_next):
        """`Server-Timing: app;dur=<ms>` on every dashboard response (the benchmark reads it)."""
        start = time.perf_counter()
        response = await call_next(request)
        if not request.url.path.startswith("/api"):
            response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - start) * 1000:.1f}"
        return response

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if request.url.path.startswith("/api") or exc.status_code != 404:
            return JSONResponse({"error": "NotFound" if exc.status_code == 404 else "HTTPError",
                                 "detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
        page = Page(data, request)
        return page.not_found(word("not_found", page.lang))

    return app


def create_dashboard_app(data: DashboardData, letting: FastAPI | None = None) -> FastAPI:
    """A FastAPI app serving the dashboard (and, given the letting API app, its letting pages)."""
    app = FastAPI(title="boligmix dashboard", version=__version__, docs_url=None, redoc_url=None, openapi_url=None)
    return _add_dashboard(app, data, letting)


def mount_dashboard(app: FastAPI, data: DashboardData) -> FastAPI:
    """Mount the dashboard at `/` of the letting API `app`, as an app of its own: the API's routes
    (under `/api`, with their access table) are matched first and keep their checks; every other
    path is the dashboard's (unknown `/api/...` paths answer a JSON 404 there), including the
    read-only letting pages (`/letting`) on the API's store and tokens."""
    app.mount("/", create_dashboard_app(data, letting=app))
    app.state.dashboard = data
    return app


__all__ = ["DashboardData", "create_dashboard_app", "load_dashboard", "mount_dashboard"]
