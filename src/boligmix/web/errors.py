"""The letting API's one error shape `{"error": "<class>", "detail": "<message>"}`, its OpenAPI
documentation, the status of each error class, the app's exception handlers (`add_error_handlers`;
their answers also `handled_error_response`, for `boligmix.web.hot_routes`), and logging of
database errors without person data.

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

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from boligmix.errors import AuthorizationError, BoligmixError, ConfigurationError, ConflictError, LettingError
from boligmix.letting.store.errors import (
    AuthenticationError,
    IdempotencyMismatchError,
    InvalidRequestError,
    NotFoundError,
    SchemaError,
)

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


_STATUS: tuple[tuple[type[BaseException], int], ...] = (
    (AuthenticationError, 401),
    (AuthorizationError, 403),
    (NotFoundError, 404),
    (IdempotencyMismatchError, 422),
    (ConflictError, 409),
    (InvalidRequestError, 422),
    (ConfigurationError, 422),
    (SchemaError, 503),
    (StoreUnavailableError, 503),
    (LettingError, 422),
    (BoligmixError, 400),
)


def status_of(exc: BaseException) -> int:
    for cls, code in _STATUS:
        if isinstance(exc, cls):
            return code
    return 500


def error_body(exc: BaseException) -> dict[str, str]:
    return {"error": type(exc).__name__, "detail": str(exc)}


def boligmix_error_response(exc: BoligmixError) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, AuthenticationError) else None
    return JSONResponse(error_body(exc), status_code=status_of(exc), headers=headers)


def integrity_error_response(exc: IntegrityError) -> JSONResponse:
    log_db_error(exc)
    return JSONResponse({"error": "ConflictError",
                         "detail": "the write conflicts with existing data (a constraint refused it)"},
                        status_code=409)


def database_error_response(exc: DBAPIError) -> JSONResponse:
    log_db_error(exc)
    if isinstance(exc, OperationalError) or exc.connection_invalidated:
        return JSONResponse({"error": "StoreUnavailableError",
                             "detail": "the letting database cannot be reached; retry later"},
                            status_code=503, headers={"Retry-After": "5"})
    return JSONResponse({"error": "InvalidRequestError",
                         "detail": "the database refused a value of the request (out of range or malformed)"},
                        status_code=422)


def handled_error_response(exc: Exception) -> JSONResponse | None:
    """The answer of the app's exception handlers to an exception of a handler (the same functions;
    for `boligmix.web.hot_routes`), or None for one the server-error handler answers (`_unexpected`)."""
    if isinstance(exc, BoligmixError):
        return boligmix_error_response(exc)
    if isinstance(exc, IntegrityError):
        return integrity_error_response(exc)
    if isinstance(exc, DBAPIError):
        return database_error_response(exc)
    return None


def add_error_handlers(app: FastAPI) -> None:
    """Every error of a handler answered in the one shape (an unexpected one: 500, logged)."""
    @app.exception_handler(BoligmixError)
    def _boligmix_error(_request: Request, exc: BoligmixError) -> JSONResponse:
        return boligmix_error_response(exc)

    @app.exception_handler(RequestValidationError)
    def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"error": "ValidationError", "detail": describe_validation_error(exc)}, status_code=422)

    @app.exception_handler(IntegrityError)
    def _integrity_error(_request: Request, exc: IntegrityError) -> JSONResponse:
        return integrity_error_response(exc)

    @app.exception_handler(DBAPIError)
    def _database_error(_request: Request, exc: DBAPIError) -> JSONResponse:
        return database_error_response(exc)

    @app.exception_handler(Exception)
    def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log_db_error(exc)
        return JSONResponse({"error": "InternalError", "detail": "an unexpected error; it is logged (no person data)"},
                            status_code=500)
