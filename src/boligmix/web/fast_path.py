"""A lean ASGI front for the hottest requests of the letting API on PostgreSQL.

`POST /api/offers/{id}/accept` and `GET /api/whoami` are answered here, on the event loop with an
async psycopg connection (no thread hop, no FastAPI routing or validation layers), doing the same
work as the full app: the acceptance is one call of the database function `boligmix_accept_offer`
(`accept_sql`), the same the service calls on PostgreSQL, which checks the token and the scope in
the request's transaction, takes the same locks, and stores the answer with its Idempotency-Key in
the same transaction: one round trip per request.

The fast path handles the common cases only: a winning acceptance (201), a provisional one (202:
a better-ranked offer is still open) and the conflicts that
write nothing but the stored answer (409: the vacancy is let or closed, the offer is closed, the
applicant is not active). Everything else is handed to the full app with the request unchanged
(the function writes nothing in those cases): a token not yet seen by this process, an unknown
or revoked token, a scope refusal, an unknown offer, a body other than `{"lease_start": date|null}`,
a replayed or mismatched Idempotency-Key, an offer past its deadline (the full app expires it), any
database error (a lost idempotency race, a deadlock: the full app retries). So every answer is the
full app's answer; the fast path only spends less CPU on the frequent ones.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import psycopg

from boligmix.letting.store import accept_sql
from boligmix.letting.store.auth import ACTIVE_TOKEN_SQL, Principal, TokenIdentities
from boligmix.letting.store.idempotency import MAX_KEY_LENGTH, request_fingerprint
from boligmix.web.aiopool import AsyncPool

log = logging.getLogger("boligmix.web.fast_path")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

ACCEPT_PATH = re.compile(r"/api/offers/([0-9]{1,18})/accept")
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")



async def delegate_read_request(app: ASGIApp, scope: Scope, receive: Receive, send: Send, body: bytes) -> None:
    """Hand a request whose body was already read to `app`: the body is replayed as its first message."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()
    await app(scope, replay, send)

class _Delegate(Exception):
    """Let the full app answer this request."""


def _json(body: Any) -> bytes:
    """As Starlette's JSONResponse renders it."""
    return json.dumps(body, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")).encode()


def _lease_start(raw: bytes) -> date | None:
    """The `lease_start` of an accept body (`AcceptIn`), or `_Delegate` for anything unusual."""
    if not raw.strip():
        return None
    try:
        body = json.loads(raw)
    except ValueError:
        raise _Delegate from None
    if not isinstance(body, dict) or set(body) - {"lease_start"}:
        raise _Delegate
    value = body.get("lease_start")
    if value is None:
        return None
    if not isinstance(value, str) or not ISO_DATE.fullmatch(value):
        raise _Delegate
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _Delegate from None


def _canonical_accept_body(start: date | None) -> bytes:
    """The request body as the full app fingerprints it (`AcceptIn(...).model_dump_json()`)."""
    return b'{"lease_start":' + (b"null" if start is None else f'"{start.isoformat()}"'.encode()) + b"}"


def scope_headers(scope: Scope) -> dict[bytes, bytes]:
    """The request's headers by (lower-case) name, the first of repeated ones (as Starlette's `get`)."""
    out: dict[bytes, bytes] = {}
    for k, v in scope["headers"]:
        out.setdefault(k, v)
    return out


async def read_body(receive: Receive) -> bytes:
    """The whole request body."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


@dataclass
class FastPathStats:
    """How many requests the fast path answered and how many it handed to the full app."""

    answered: int = 0
    delegated: int = 0
    warmed: int = 0
    """Connections the async pool held idle after the startup warm-up."""


class FastPath:
    """ASGI middleware: answers the hot requests itself, hands the others to `app`."""

    def __init__(self, app: ASGIApp, *, conninfo: str, identities: TokenIdentities, pool_size: int = 8,
                 stats: FastPathStats | None = None, warm: int = 0) -> None:
        self.app = app
        self.identities = identities
        self.pool = AsyncPool(conninfo, pool_size)
        self.stats = stats or FastPathStats()
        self.warm = warm
        """Connections of the async pool opened at startup, before the app's own warm-up (0: none)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            async def receive_and_close() -> Message:
                message = await receive()
                if message["type"] == "lifespan.startup" and self.warm > 0:
                    try:
                        self.stats.warmed = await self.pool.warm(self.warm)
                    except (psycopg.Error, OSError) as exc:  # the app serves anyway (503 until the database is back)
                        log.warning("fast path warm-up failed: %s", type(exc).__name__)
                if message["type"] == "lifespan.shutdown":
                    await self.pool.close()
                return message
            await self.app(scope, receive_and_close, send)
            return
        if scope["type"] == "http":
            method, path = scope["method"], scope["path"]
            if method == "POST" and path.startswith("/api/offers/"):
                m = ACCEPT_PATH.fullmatch(path)
                if m is not None:
                    await self._accept(scope, receive, send, int(m.group(1)))
                    return
            elif method == "GET" and path == "/api/whoami":
                await self._whoami(scope, receive, send)
                return
        await self.app(scope, receive, send)

    # ---------------------------------------------------------------- plumbing
    async def _delegate(self, scope: Scope, receive: Receive, send: Send, body: bytes) -> None:
        self.stats.delegated += 1
        await delegate_read_request(self.app, scope, receive, send, body)

    async def _respond(self, send: Send, status: int, payload: bytes) -> None:
        self.stats.answered += 1
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(payload)).encode())]})
        await send({"type": "http.response.body", "body": payload})

    async def _fetch_one(self, sql: str, params: dict[str, Any]) -> tuple[Any, ...] | None:
        """One statement on a pooled connection in autocommit; any database error is `_Delegate`
        (the full app redoes the request, and retries deadlocks, or answers 503 when the database is
        down) and drops the connection; so is a connection that cannot be opened."""
        try:
            conn = await self.pool.acquire()
        except (psycopg.Error, OSError):
            raise _Delegate from None
        try:
            row = await (await conn.execute(sql, params)).fetchone()
        except psycopg.Error:
            self.pool.release(conn, broken=True)
            raise _Delegate from None
        self.pool.release(conn)
        return row

    def _principal(self, headers: dict[bytes, bytes]) -> Principal:
        auth = headers.get(b"authorization")
        p = self.identities.get(auth.decode("latin-1")) if auth is not None else None
        if p is None:
            raise _Delegate  # the full app authenticates (and caches the identity)
        return p

    # ---------------------------------------------------------------- GET /api/whoami
    async def _whoami(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            p = self._principal(scope_headers(scope))
            row = await self._fetch_one(ACTIVE_TOKEN_SQL, {"token_id": p.token_id})
            if row is None or row[0] is not True:
                raise _Delegate
        except _Delegate:
            self.stats.delegated += 1
            await self.app(scope, receive, send)
            return
        await self._respond(send, 200, _json({"name": p.name, "role": p.role, "scope": sorted(p.scope)}))

    # ---------------------------------------------------------------- POST /api/offers/{id}/accept
    async def _accept(self, scope: Scope, receive: Receive, send: Send, offer_id: int) -> None:
        body = await read_body(receive)
        try:
            headers = scope_headers(scope)
            p = self._principal(headers)
            ctype = headers.get(b"content-type", b"application/json")
            if body.strip() and not ctype.startswith(b"application/json"):
                raise _Delegate
            start = _lease_start(body)
            raw_key = headers.get(b"idempotency-key")
            key = raw_key.decode("latin-1") if raw_key is not None else None
            if key is not None and not 0 < len(key) <= MAX_KEY_LENGTH:
                raise _Delegate
            status, payload = await self._accept_in_db(p, offer_id, start, key, scope["path"])
        except _Delegate:
            await self._delegate(scope, receive, send, body)
            return
        await self._respond(send, status, payload)

    async def _accept_in_db(self, p: Principal, offer_id: int, start: date | None, key: str | None,
                            path: str) -> tuple[int, bytes]:
        """One statement in autocommit, so one round trip: `boligmix_accept_offer` does the whole
        acceptance (the service's own implementation on PostgreSQL, see `accept_sql`), and its
        transaction is committed before the result arrives, so the answer goes out only after the
        commit succeeded."""
        sha = request_fingerprint("POST", path, _canonical_accept_body(start)) if key is not None else None
        params = accept_sql.call_params(p, offer_id, start, token_id=p.token_id, key=key, path=path,
                                        request_sha256=sha)  # the time: the transaction's
        row = await self._fetch_one(accept_sql.CALL_SQL, params)
        if row is None:
            raise _Delegate  # the function always answers one row; the full app reports anything else
        outcome, status, body = row
        if outcome not in ("done", "conflict", "provisional"):
            raise _Delegate  # unknown or revoked token, a replayed key, no such offer, out of scope, expired, stale
        return status, _json(body)
