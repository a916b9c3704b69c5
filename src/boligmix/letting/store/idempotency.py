"""Idempotent writes: a retried request with the same Idempotency-Key returns the original result.

The stored response is written in the SAME transaction as the write it describes, so after a
crash either both exist or neither does: a client that retries after a lost response gets the
original result, or (if nothing was committed) the write is done now. Two concurrent requests
with one key: the second one's insert of the key fails on the primary key, its transaction
(including its write) is rolled back, and it returns the first one's stored result.

The same key with a different method, path or body is refused (`IdempotencyMismatchError`).
Conflicts (409) are stored too, so a retry sees the same answer as the first attempt. A refusal
that keeps its writes (`keeps_writes`, e.g. an offer accepted after its deadline, which expires) is
stored with them in the same transaction. Each transaction first checks that the token is not
revoked (`require_active`), so a revoked token gets neither a write nor a replay.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from boligmix.errors import ConflictError
from boligmix.letting.store.auth import Principal, require_active
from boligmix.letting.store.db import Store
from boligmix.letting.store.errors import IdempotencyMismatchError
from boligmix.letting.store.models import IdempotencyRecord

MAX_KEY_LENGTH = 200


@dataclass(frozen=True)
class StoredResult:
    status_code: int
    body: Any
    replayed: bool


def request_fingerprint(method: str, path: str, body: bytes) -> str:
    h = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), body):
        h.update(len(part).to_bytes(8, "big"))
        h.update(part)
    return h.hexdigest()


def _lookup(s: Session, principal: Principal, key: str, method: str, path: str,
            fingerprint: str) -> StoredResult | None:
    rec = s.scalar(select(IdempotencyRecord).where(IdempotencyRecord.token_id == principal.token_id,
                                                   IdempotencyRecord.idem_key == key))
    if rec is None:
        return None
    if rec.request_sha256 != fingerprint:
        raise IdempotencyMismatchError(
            f"Idempotency-Key '{key}' was used for a different request ({rec.method} {rec.path} with another "
            "body); use a new key for a new request")
    return StoredResult(rec.status_code, rec.response, True)


def run_idempotent(store: Store, principal: Principal, key: str | None, method: str, path: str, body: bytes,
                   operation: Callable[[Session], tuple[int, Any]],
                   conflict_body: Callable[[ConflictError], Any], *, check_token: bool = True) -> StoredResult:
    """Run `operation(session) -> (status, json)` once per key; without a key, just run it.

    `check_token`: the transaction begins with `require_active` (a revoked token is refused at once)."""
    def run(s: Session, checked: bool = False) -> tuple[int, Any]:
        if check_token and not checked:
            require_active(s, principal)
        try:
            return operation(s)
        except ConflictError as exc:
            if not getattr(exc, "keeps_writes", False):
                raise
            return 409, conflict_body(exc)  # a refusal that keeps its writes: committed with its answer

    if key is None:
        def plain(s: Session) -> StoredResult:
            status, result = run(s)
            return StoredResult(status, result, False)
        return store.transact(plain)
    if not key or len(key) > MAX_KEY_LENGTH:
        raise IdempotencyMismatchError(f"Idempotency-Key must have 1 to {MAX_KEY_LENGTH} characters")
    fingerprint = request_fingerprint(method, path, body)

    def record(s: Session, status: int, result: Any) -> None:
        s.add(IdempotencyRecord(token_id=principal.token_id, idem_key=key, method=method.upper(), path=path,
                                request_sha256=fingerprint, status_code=status, response=result))
        s.flush()

    def attempt(s: Session) -> StoredResult:
        if check_token:
            require_active(s, principal)  # before a replay too: a revoked token gets no stored answers
        stored = _lookup(s, principal, key, method, path, fingerprint)
        if stored is not None:
            return stored
        status, result = run(s, checked=True)
        record(s, status, result)
        return StoredResult(status, result, False)

    def store_conflict(exc: ConflictError) -> StoredResult:
        def write(s: Session) -> StoredResult:
            if check_token:
                require_active(s, principal)
            stored = _lookup(s, principal, key, method, path, fingerprint)
            if stored is not None:
                return stored
            body_json = conflict_body(exc)
            record(s, 409, body_json)
            return StoredResult(409, body_json, False)
        return store.transact(write)

    for _ in range(3):
        try:
            return store.transact(attempt)
        except IdempotencyMismatchError:
            raise
        except ConflictError as exc:
            try:
                return store_conflict(exc)
            except IntegrityError:
                continue  # a concurrent request with the same key stored its result first
        except IntegrityError:
            # Either our key lost a race with a concurrent request using the same key (then the
            # lookup in the next attempt returns its result) or a constraint refused the write.
            with store.read() as s:
                stored = _lookup(s, principal, key, method, path, fingerprint)
            if stored is not None:
                return stored
            raise
    with store.read() as s:
        stored = _lookup(s, principal, key, method, path, fingerprint)
    if stored is None:  # pragma: no cover - three lost races in a row
        raise ConflictError(f"Idempotency-Key '{key}': concurrent requests did not settle; retry")
    return stored
