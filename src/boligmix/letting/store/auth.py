"""API tokens, roles and scopes.

A token is a random string shown once when it is created; the database keeps only its SHA-256
(the token has 256 bits of entropy, so a fast hash is enough). Roles:

* `municipality`, scope = municipality codes: its own referral lists, and read access to the
  departments, dwellings, vacancies and decisions in its municipalities; it makes and answers
  offers on vacancies let by kommunal anvisning in them.
* `housing_organisation`, scope = organisation ids: its departments, dwellings, vacancies, waiting
  lists, offers, leases and decisions.
* `analyst`, no scope: reads everything, with person identifiers replaced by keyed pseudonyms.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from boligmix.errors import AuthorizationError, ConfigurationError
from boligmix.letting.store.errors import AuthenticationError
from boligmix.letting.store.models import ROLES, ApiToken, ServiceSetting

TOKEN_PREFIX = "bmx_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's id and name, role and scope."""

    token_id: int
    name: str
    role: str
    scope: frozenset[str]

    @property
    def read_only(self) -> bool:
        return self.role == "analyst"

    @property
    def pseudonymised(self) -> bool:
        return self.role == "analyst"

    def owns_org(self, org_id: str | None) -> bool:
        return self.role == "housing_organisation" and org_id is not None and org_id in self.scope

    def covers_municipality(self, code: int | None) -> bool:
        return self.role == "municipality" and code is not None and str(code) in self.scope

    def require_writer(self) -> None:
        if self.read_only:
            raise AuthorizationError(f"token '{self.name}' has the read-only role {self.role}")


def validate_scope(role: str, scope: list[str]) -> list[str]:
    if role not in ROLES:
        raise ConfigurationError(f"unknown role '{role}'; roles: {', '.join(ROLES)}", field="--role")
    scope = [s.strip() for s in scope if s.strip()]
    if role == "analyst":
        if scope:
            raise ConfigurationError("an analyst token has no scope (it reads everything, pseudonymised)",
                                     field="--scope")
        return []
    if not scope:
        raise ConfigurationError(f"a {role} token needs --scope (municipality codes or organisation ids)",
                                 field="--scope")
    if role == "municipality":
        for s in scope:
            if not s.isdigit() or not 101 <= int(s) <= 999:
                raise ConfigurationError(f"municipality scope '{s}' is not a municipality code (101-999)",
                                         field="--scope")
        scope = [str(int(s)) for s in scope]
    return sorted(set(scope))


def create_token(session: Session, *, name: str, role: str, scope: list[str]) -> tuple[str, ApiToken]:
    """Add a token; return the secret (shown once) and the stored row."""
    scope = validate_scope(role, scope)
    if session.scalar(select(ApiToken.token_id).where(ApiToken.name == name)) is not None:
        raise ConfigurationError(f"a token named '{name}' already exists", field="--name")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(name=name, token_sha256=hash_token(secret), role=role, scope=scope)
    session.add(row)
    session.flush()
    return secret, row


def authenticate(session: Session, authorization: str | None) -> Principal:
    """The principal of an `Authorization: Bearer <token>` header, or `AuthenticationError`."""
    if not authorization:
        raise AuthenticationError("missing Authorization header (Bearer token)")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationError("the Authorization header must be 'Bearer <token>'")
    row = session.scalar(select(ApiToken).where(ApiToken.token_sha256 == hash_token(token.strip())))
    if row is None or row.revoked_at is not None:
        raise AuthenticationError("unknown or revoked token")
    return Principal(row.token_id, row.name, row.role, frozenset(row.scope))


ACTIVE_TOKEN_SQL = "SELECT revoked_at IS NULL FROM api_tokens WHERE token_id = %(token_id)s"
"""Is the token still valid (PostgreSQL driver SQL; `require_active` runs the portable version)."""


def require_active(session: Session, principal: Principal) -> None:
    """Refuse a token revoked since its identity was cached (`AuthenticationError`).

    Run it as the first statement of the request's own transaction: a revocation committed before
    the request's transaction began takes effect at once, in every worker process."""
    conn = session.connection()
    if conn.dialect.name == "postgresql":  # driver SQL: no statement to build per request
        row = conn.exec_driver_sql(ACTIVE_TOKEN_SQL, {"token_id": principal.token_id}).first()
        if row is None or not row[0]:
            raise AuthenticationError("unknown or revoked token")
        return
    revoked = session.execute(select(ApiToken.revoked_at).where(ApiToken.token_id == principal.token_id)).first()
    if revoked is None or revoked[0] is not None:
        raise AuthenticationError("unknown or revoked token")


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header (None when malformed or missing)."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


class TokenIdentities:
    """The identities (id, name, role, scope) of tokens seen by this process, by the SHA-256 of
    the token (the process keeps no token itself). A token's identity never changes (revocation
    only sets `revoked_at`), so this cache needs no expiry; validity is checked on every request
    with `require_active` (or in the request's first statement)."""

    MAX_SIZE = 10_000

    def __init__(self) -> None:
        self._by_hash: dict[str, Principal] = {}

    def get(self, authorization: str | None) -> Principal | None:
        token = bearer_token(authorization)
        return self._by_hash.get(hash_token(token)) if token is not None else None

    def resolve(self, session: Session, authorization: str | None) -> Principal:
        """The principal of the header, from the cache or the database (which also checks revocation)."""
        hit = self.get(authorization)
        if hit is not None:
            return hit
        p = authenticate(session, authorization)
        if len(self._by_hash) >= self.MAX_SIZE:
            self._by_hash.clear()
        token = bearer_token(authorization)
        if token is not None:
            self._by_hash[hash_token(token)] = p
        return p

    def keys(self) -> frozenset[str]:
        """What the cache holds as keys (token hashes; for checks)."""
        return frozenset(self._by_hash)


class Pseudonymiser:
    """Keyed pseudonyms of person identifiers for analysts (HMAC-SHA256 of the id, 16 hex digits).

    The key is generated by the first migration and kept in `service_settings`; the same id always
    maps to the same pseudonym in one database, and without the key the mapping cannot be inverted
    by trying all identifiers.
    """

    def __init__(self, key: bytes) -> None:
        self._key = key

    @classmethod
    def load(cls, session: Session) -> "Pseudonymiser":
        value = session.scalar(select(ServiceSetting.value).where(ServiceSetting.name == "pseudonym_key"))
        if value is None:
            raise ConfigurationError("the letting database has no pseudonym key; run `boligmix letting init-db`")
        return cls(bytes.fromhex(value))

    def __call__(self, identifier: int | None) -> str | None:
        if identifier is None:
            return None
        digest = hmac.new(self._key, str(int(identifier)).encode("ascii"), hashlib.sha256).hexdigest()
        return "p_" + digest[:16]
