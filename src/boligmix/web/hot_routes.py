"""A thin ASGI front for the letting cycle's full-app writes: the same handler, without FastAPI's layers.

`POST /api/vacancies`, `POST /api/vacancies/{id}/offers` and `POST /api/offers/{id}/accept` (the
latter on SQLite, or when the PostgreSQL fast path hands an accept over) are the requests of every
letting. Through FastAPI each costs its routing, its dependency resolution (the route guard and the
caller's identity, each a synchronous dependency on a thread of its own) and a third thread hop for
the handler: about 2 ms of CPU per request more than the write itself (issue 11, session 10). Here
a request whose caller is already known is answered by the SAME write function the FastAPI handler
calls (`HotRoute.run`: the service call inside `run_idempotent`, so the same token check,
transaction, idempotency record and answer), on one thread of the same limiter, after the same
route check (`access.require_route`) and the same body model (`model_validate` of the parsed JSON,
as FastAPI validates a body).

Everything unusual is handed to the full app with the request unchanged, before anything is
written: a token not yet seen by this process (the full app authenticates it and caches the
identity), a role the route refuses (the full app's 403), a body that is not JSON with the JSON
content type, a body the model refuses (the full app's 422), a NUL in the path or query, an id
beyond 32 bits. Errors of the write itself are answered as the full app's exception handlers answer
them (`errors`: the same functions); an unexpected one propagates to Starlette's server-error
middleware, as from a FastAPI handler. So every answer is the full app's answer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from anyio import to_thread
from pydantic import BaseModel, ValidationError
from starlette.responses import Response

from boligmix.errors import AuthorizationError
from boligmix.letting.store import access
from boligmix.letting.store.auth import Principal, TokenIdentities
from boligmix.web.fast_path import (ASGIApp, Receive, Scope, Send, _Delegate, delegate_read_request, read_body,
                                     scope_headers)

MAX_ID32 = 2**31 - 1


@dataclass(frozen=True)
class HotRoute:
    """One route answered here: `pattern` fullmatches the request path (group 1, when present, is the
    route's 32-bit id), `route` is its path in `access.ROUTES`, `body` its body model (`optional_body`:
    an empty body is None, as the FastAPI handler's default). `run(principal, idempotency_key, path,
    body, id)` is the FastAPI handler's own write (synchronous; it runs on a worker thread)."""

    method: str
    pattern: re.Pattern[str]
    route: str
    body: type[BaseModel]
    optional_body: bool
    run: Callable[[Principal, str | None, str, Any, int | None], Response]


@dataclass
class HotRouteStats:
    """Requests answered here and requests handed to the full app."""

    answered: int = 0
    delegated: int = 0


def _is_json(content_type: bytes | None) -> bool:
    """`application/json` with or without parameters (FastAPI also reads `+json` types and bodies
    without a content type; those go to the full app)."""
    if content_type is None:
        return False
    return content_type.split(b";", 1)[0].strip().lower() == b"application/json"


class HotRoutes:
    """ASGI middleware: answers `routes` for known callers, hands everything else to `app`."""

    def __init__(self, app: ASGIApp, *, routes: list[HotRoute], identities: TokenIdentities,
                 errors: Callable[[Exception], Response | None], stats: HotRouteStats | None = None) -> None:
        self.app = app
        self.routes = routes
        self.identities = identities
        self.errors = errors
        """The full app's answer to an exception of a write (None: not handled there, re-raised)."""
        self.stats = stats or HotRouteStats()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            path = scope["path"]
            for route in self.routes:
                m = route.pattern.fullmatch(path)
                if m is not None:
                    await self._serve(route, m, scope, receive, send)
                    return
        await self.app(scope, receive, send)

    async def _serve(self, route: HotRoute, m: re.Match[str], scope: Scope, receive: Receive, send: Send) -> None:
        raw = await read_body(receive)
        try:
            p, key, body, ident = self._parse(route, m, scope, raw)
        except _Delegate:
            await self._delegate(scope, receive, send, raw)
            return
        path = scope["path"]
        try:
            response = await to_thread.run_sync(route.run, p, key, path, body, ident)
        except Exception as exc:  # the full app's exception handlers' answer (or re-raised, as there)
            handled = self.errors(exc)
            if handled is None:
                raise
            response = handled
        self.stats.answered += 1
        await response(scope, receive, send)

    def _parse(self, route: HotRoute, m: re.Match[str], scope: Scope,
               raw: bytes) -> tuple[Principal, str | None, Any, int | None]:
        """The caller, Idempotency-Key, body model and id of a request answered here, or `_Delegate`."""
        if "\x00" in scope["path"] or b"%00" in scope.get("query_string", b""):
            raise _Delegate  # the route guard's 422
        ident = None
        if m.groups():
            ident = int(m.group(1))
            if ident > MAX_ID32:
                raise _Delegate  # the path parameter's 422
        headers = scope_headers(scope)
        auth = headers.get(b"authorization")
        p = self.identities.get(auth.decode("latin-1")) if auth is not None else None
        if p is None:
            raise _Delegate  # the full app authenticates (and caches the identity)
        try:
            access.require_route(p, route.method, route.route)
        except AuthorizationError:
            raise _Delegate from None  # the full app's 403
        if raw:
            if not _is_json(headers.get(b"content-type")):
                raise _Delegate
            try:
                data = json.loads(raw)
            except ValueError:
                raise _Delegate from None
            if not isinstance(data, dict):
                raise _Delegate
            try:
                body = route.body.model_validate(data, from_attributes=True)
            except ValidationError:
                raise _Delegate from None
        elif route.optional_body:
            body = None
        else:
            raise _Delegate  # a required body is missing: the full app's 422
        raw_key = headers.get(b"idempotency-key")
        key = raw_key.decode("latin-1") if raw_key is not None else None
        return p, key, body, ident

    async def _delegate(self, scope: Scope, receive: Receive, send: Send, body: bytes) -> None:
        self.stats.delegated += 1
        await delegate_read_request(self.app, scope, receive, send, body)
