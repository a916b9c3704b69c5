"""Errors of the letting store, all `BoligmixError`s (the API maps them to HTTP statuses)."""

from __future__ import annotations

from boligmix.errors import AuthorizationError, BoligmixError, ConflictError, LettingError


class NotFoundError(LettingError):
    """The vacancy, offer, dwelling or applicant asked for does not exist (or is not visible)."""


class InvalidRequestError(LettingError):
    """The request is well formed but asks for something the letting rules do not allow."""


class IdempotencyMismatchError(ConflictError):
    """An Idempotency-Key is reused with a different request."""


class OfferExpiredError(ConflictError):
    """An offer is accepted after its answer deadline: refused (409), and the expiry is recorded.

    `keeps_writes`: the transaction that raises it is committed (the offer's status `expired`, the
    `expired` decision and a counted refusal), not rolled back."""

    keeps_writes = True


class SettledElsewhereError(ConflictError):
    """An acceptance found the vacancy's better-ranked offers past their deadline; expiring them let
    the dwelling to a better-ranked provisional acceptor (409). `keeps_writes`: the expiries and the
    letting are committed."""

    keeps_writes = True


class StoreInvariantError(BoligmixError):
    """A state the store's rules and constraints should make impossible (a bug, answered as 500 JSON);
    a real check where an `assert` would vanish under `python -O`."""


class AuthenticationError(BoligmixError):
    """No token, an unknown token or a revoked token."""


class SchemaError(BoligmixError):
    """The database is not at the schema version of this boligmix (run `boligmix letting init-db`)."""


__all__ = [
    "AuthenticationError",
    "AuthorizationError",
    "ConflictError",
    "IdempotencyMismatchError",
    "InvalidRequestError",
    "NotFoundError",
    "OfferExpiredError",
    "SchemaError",
    "SettledElsewhereError",
    "StoreInvariantError",
]
