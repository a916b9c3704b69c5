"""The letting API's one error shape `{"error": "<class>", "detail": "<message>"}`, its OpenAPI
documentation, and logging of database errors without person data.

Every refusal is this JSON: 401 (no or a revoked token), 403 (role or scope), 404 (unknown id),
409 (conflict), 422 (invalid input, also the request validation FastAPI would otherwise answer
in its own shape), 503 (the database cannot be reached), and an unexpected 500.

Database errors are logged by class, SQLSTATE and constraint name only: SQLAlchemy's messages
carry the statement's parameters (person ids, reasons, facts), which are person data; the engine
is also made with `hide_parameters=True` (`boligmix.letting.store.db`).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel

from boligmix.errors import BoligmixError

log = logging.getLogger("boligmix.web")


class ErrorOut(BaseModel):
    """Every error answer of the letting API."""

    error: str
    detail: str


class StoreUnavailableError(BoligmixError):
    """The letting database cannot be reached (503)."""


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "No token, or an unknown or revoked token (`WWW-Authenticate: Bearer`)."},
    403: {"model": ErrorOut, "description": "The token's role or scope does not allow this."},
    404: {"model": ErrorOut, "description": "An id of the path or body does not exist."},
    409: {"model": ErrorOut, "description": "A conflict with the letting state (let, closed, duplicate, housed)."},
    422: {"model": ErrorOut, "description": "Invalid input: the `detail` names the field (also a reused "
                                             "Idempotency-Key with another request)."},
    503: {"model": ErrorOut, "description": "The letting database cannot be reached; retry (Retry-After)."},
}
"""The documented error answers of every route (FastAPI's own 422 body is replaced by `ErrorOut`)."""


def describe_validation_error(exc: RequestValidationError) -> str:
    """One line per invalid field: `body.as_of: Input should be in the past` (input values are not
    repeated: they may be person data)."""
    parts = []
    for err in exc.errors():
        where = ".".join(str(x) for x in err.get("loc", ()))
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def log_db_error(exc: BaseException) -> None:
    """Log an error without its SQL parameters or message text (they may hold person data)."""
    orig = getattr(exc, "orig", None)
    sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    constraint = getattr(getattr(orig, "diag", None), "constraint_name", None)
    log.error("request failed: %s%s%s", type(exc).__name__,
              f" (SQLSTATE {sqlstate})" if sqlstate else "", f" constraint {constraint}" if constraint else "")
