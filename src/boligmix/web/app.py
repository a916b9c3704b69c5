"""The letting API (FastAPI): vacancies, offers, leases, waiting lists and the audit trail.

`create_app(db_url)` builds the app on a letting store; `boligmix serve` runs it with uvicorn.
Every `/api` route except `/api/health` needs `Authorization: Bearer <token>`. Every POST accepts
an `Idempotency-Key` header: a retry with the same key returns the original status and body.
Handlers are plain functions (run in the thread pool); each write is one database transaction.
"""

# No `from __future__ import annotations`: FastAPI must see the local `Caller` dependency type.

import os
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Header, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

from boligmix import __version__
from boligmix.errors import AuthorizationError, BoligmixError, ConfigurationError, ConflictError, LettingError
from boligmix.letting.store import access, follow_ups, reports, service
from boligmix.letting.store.auth import Principal, Pseudonymiser, TokenIdentities, require_active
from boligmix.letting.store.db import Store
from boligmix.letting.store.engine_rules import EngineRules
from boligmix.letting.store.errors import (
    AuthenticationError,
    IdempotencyMismatchError,
    InvalidRequestError,
    NotFoundError,
    SchemaError,
)
from boligmix.letting.store.idempotency import run_idempotent
from boligmix.letting.store.migrate import ensure_current, head_revision
from boligmix.letting.store.selection import OfferRules, StoreOrderRules
from boligmix.web.fast_path import FastPath, FastPathStats
from boligmix.web.hot_routes import HotRoute, HotRoutes, HotRouteStats
from boligmix.web.errors import ERROR_RESPONSES, StoreUnavailableError, describe_validation_error, log_db_error
from boligmix.web.schemas import (AcceptIn, ApplicantIn, ApplicantUpdateIn, DepartmentIn, DwellingIn, ExpireIn,
                                  OffersIn, ReactivateIn, ReferralOrderIn, RefuseIn, SharedDwellingIn,
                                  VacancyIn, WithdrawIn)

DB_ENV = "BOLIGMIX_LETTING_DB"
"""Environment variable with the database URL, read by `create_app_from_env` (uvicorn workers)."""

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


Id32 = Annotated[int, Path(ge=0, le=2**31 - 1, description="A row id (32-bit).")]
Id64 = Annotated[int, Path(ge=0, le=2**63 - 1, description="A dwelling id (64-bit).")]
QueryId32 = Annotated[int, Query(ge=0, le=2**31 - 1)]
MunicipalityCode = Annotated[int, Query(ge=101, le=999, description="A municipality code (101-999).")]
QueryDay = Annotated[date, Query(ge=date(1900, 1, 1), le=date(2199, 12, 31))]
ShortText = Annotated[str, Query(max_length=64)]

IdemHeader = Annotated[str | None, Header(alias="Idempotency-Key",
                                          description="Retry-safe writes: the same key returns the first "
                                                      "result; the same key with another body is 422.")]


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

    Caller = Annotated[Principal, Depends(principal)]

    def write(p: Principal, key: str | None, request: "Request | str", body: BaseModel | None,
              op: Callable[[Session], Any], status: int | Callable[[Any], int]) -> JSONResponse:
        """The write of a POST route, by `run_idempotent`; `request` or its URL's path."""
        raw = b"" if body is None or key is None else body.model_dump_json().encode()  # (fingerprinted with a key)
        path = request if isinstance(request, str) else request.url.path

        def run(s: Session) -> tuple[int, Any]:
            out = op(s)
            return (status(out) if callable(status) else status), out
        result = run_idempotent(store, p, key, "POST", path, raw, run, error_body)
        headers = {"Idempotency-Replayed": "true"} if result.replayed else None
        return JSONResponse(result.body, status_code=result.status_code, headers=headers)

    # The letting cycle's writes, called by their FastAPI handlers and by `hot_routes` (one implementation).
    def register(p: Principal, key: str | None, path: str, body: VacancyIn, _id: int | None = None) -> JSONResponse:
        return write(p, key, path, body, lambda s: service.register_vacancy(s, p, body.model_dump(), rules=rules), 201)

    def offer(p: Principal, key: str | None, path: str, body: OffersIn | None, vacancy_id: int) -> JSONResponse:
        body = body or OffersIn()
        return write(p, key, path, body,
                     lambda s: service.make_offers(s, p, vacancy_id, body.count, pseudo, rules=rules,
                                                   now=body.as_of, with_decisions=False), 201)

    def accept(p: Principal, key: str | None, path: str, body: AcceptIn | None, offer_id: int) -> JSONResponse:
        body = body or AcceptIn()
        return write(p, key, path, body,
                     lambda s: service.accept_offer(s, p, offer_id, body.lease_start, pseudo, rules=rules),
                     lambda out: 201 if out.get("lease_id") is not None else 202)

    def read(p: Principal, op: Callable[[Session], Any]) -> Any:
        with store.read() as s:
            require_active(s, p)
            return op(s)

    _serve_docs_offline(app)

    @app.get("/api/health", tags=["service"])
    def health() -> dict[str, str]:
        return {"status": "ok", "schema_revision": head_revision(), "database": store.dialect,
                "rules": rules.name}

    @app.get("/api/whoami", tags=["service"])
    def whoami(p: Caller) -> dict[str, Any]:
        read(p, lambda s: None)
        return {"name": p.name, "role": p.role, "scope": sorted(p.scope)}

    # ---------------------------------------------------------------- departments and dwellings
    @app.post("/api/departments", status_code=201, tags=["stock"])
    def post_department(body: DepartmentIn, p: Caller, request: Request, key: IdemHeader = None) -> Any:
        return write(p, key, request, body, lambda s: service.register_department(s, p, body.model_dump()), 201)

    @app.get("/api/departments", tags=["stock"])
    def get_departments(p: Caller) -> Any:
        return read(p, lambda s: service.list_departments(s, p))

    @app.post("/api/dwellings", status_code=201, tags=["stock"])
    def post_dwelling(body: DwellingIn, p: Caller, request: Request, key: IdemHeader = None) -> Any:
        return write(p, key, request, body, lambda s: service.register_dwelling(s, p, body.model_dump()), 201)

    @app.post("/api/shared-dwellings", status_code=201, tags=["stock"])
    def post_shared_dwelling(body: SharedDwellingIn, p: Caller, request: Request, key: IdemHeader = None) -> Any:
        """Register a delebolig (let room by room, one person per room); then register its rooms with
        `POST /api/dwellings` and `shared_dwelling_id`."""
        return write(p, key, request, body,
                     lambda s: service.register_shared_dwelling(s, p, body.model_dump()), 201)

    @app.get("/api/shared-dwellings/{shared_dwelling_id}", tags=["stock"])
    def get_shared_dwelling(shared_dwelling_id: Id64, p: Caller) -> Any:
        return read(p, lambda s: service.get_shared_dwelling(s, p, shared_dwelling_id))

    @app.get("/api/departments/{department_id}/dwellings", tags=["stock"])
    def get_dwellings(department_id: Annotated[str, Path(max_length=64)], p: Caller) -> Any:
        return read(p, lambda s: service.list_dwellings(s, p, department_id))

    # ---------------------------------------------------------------- applicants
    @app.post("/api/applicants", status_code=201, tags=["waiting lists"])
    def post_applicant(body: ApplicantIn, p: Caller, request: Request, key: IdemHeader = None) -> Any:
        return write(p, key, request, body,
                     lambda s: service.create_applicant(s, p, body.model_dump(), pseudo, rules=rules), 201)

    @app.get("/api/applicants", tags=["waiting lists"])
    def get_applicants(p: Caller, org_id: ShortText | None = None, municipality_code: MunicipalityCode | None = None,
                       list_type: ShortText | None = None, status: ShortText | None = "active",
                       limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                       offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0) -> Any:
        return read(p, lambda s: service.list_applicants(
            s, p, org_id=org_id, municipality_code=municipality_code, list_type=list_type, status=status,
            limit=limit, offset=offset, pseudo=pseudo))

    @app.post("/api/applicants/{entry_id}/reactivate", status_code=200, tags=["waiting lists"],
              responses={409: {"description": "The entry is not passive, or no longer active (housed, withdrawn)."}})
    def post_reactivate(entry_id: Id32, p: Caller, request: Request, key: IdemHeader = None,
                        body: ReactivateIn | None = None) -> Any:
        """Make a passive entry active again (the applicant asked); refusals and seniority as the
        waiting-list policy that set it passive says (`reactivation_resets_refusals`,
        `reactivation_keeps_seniority`). A `reactivated` decision goes into the trail."""
        body = body or ReactivateIn()
        return write(p, key, request, body,
                     lambda s: follow_ups.reactivate_applicant(s, p, entry_id, pseudo, rules=rules, now=body.as_of),
                     200)

    @app.post("/api/applicants/{entry_id}/withdraw", status_code=200, tags=["waiting lists"],
              responses={409: {"description": "The entry was housed (there is no application to withdraw)."}})
    def post_withdraw(entry_id: Id32, p: Caller, request: Request, key: IdemHeader = None,
                      body: WithdrawIn | None = None) -> Any:
        """The applicant withdraws the application and leaves the list (the list owner acts): the
        entry becomes `withdrawn`, its open offers are withdrawn with a `withdrawn` decision each.
        Repeating it returns the withdrawn entry unchanged."""
        body = body or WithdrawIn()
        return write(p, key, request, body, lambda s: follow_ups.withdraw_applicant(
            s, p, entry_id, pseudo, reason=body.reason, now=body.as_of), 200)

    @app.post("/api/applicants/{entry_id}/referral-order", status_code=200, tags=["waiting lists"],
              responses={409: {"description": "The entry is no longer active."},
                         422: {"description": "Not a municipal referral or rehousing entry."}})
    def post_referral_order(entry_id: Id32, body: ReferralOrderIn, p: Caller, request: Request,
                            key: IdemHeader = None) -> Any:
        """§ 59: the municipality alone decides who is referred. Set (or clear with null) its order
        of a referral or rehousing household (smaller first); the next referral rounds follow it."""
        return write(p, key, request, body, lambda s: follow_ups.set_referral_order(
            s, p, entry_id, body.referral_order, pseudo), 200)

    @app.patch("/api/applicants/{entry_id}", status_code=200, tags=["waiting lists"],
               responses={409: {"description": "The entry is no longer active (housed, withdrawn)."}})
    def patch_applicant(entry_id: Id32, body: ApplicantUpdateIn, p: Caller, request: Request,
                        key: IdemHeader = None) -> Any:
        """Replace facts, household or wishes of an active entry (the list owner), e.g. a fact a rule
        held the applicant for; the next offer round assesses the new data."""
        return write(p, key, request, body, lambda s: follow_ups.update_applicant(
            s, p, entry_id, body.model_dump(exclude_none=True), pseudo, rules=rules), 200)

    @app.get("/api/redirected-referrals", tags=["waiting lists"])
    def get_redirected_referrals(municipality_code: MunicipalityCode, p: Caller) -> Any:
        """§ 59 stk. 6/7 referrals barred from a dwelling in a restricted area and kept for the
        municipality's next referral dwelling (open while the referral entry is active)."""
        return read(p, lambda s: follow_ups.list_redirected_referrals(s, p, municipality_code, pseudo))

    # ---------------------------------------------------------------- vacancies, offers, leases
    @app.post("/api/vacancies", status_code=201, tags=["letting"])
    def post_vacancy(body: VacancyIn, p: Caller, request: Request, key: IdemHeader = None) -> Any:
        return register(p, key, request.url.path, body)

    @app.get("/api/vacancies", tags=["letting"])
    def get_vacancies(p: Caller, status: ShortText | None = None) -> Any:
        return read(p, lambda s: service.list_vacancies(s, p, status=status))

    @app.get("/api/vacancies/{vacancy_id}", tags=["letting"])
    def get_vacancy(vacancy_id: Id32, p: Caller) -> Any:
        def op(s: Session) -> dict[str, Any]:
            out = service.get_vacancy(s, p, vacancy_id)
            out["offers"] = service.list_offers(s, p, vacancy_id, pseudo)
            out["lease"] = service.get_lease(s, p, vacancy_id, pseudo)
            return out
        return read(p, op)

    @app.post("/api/vacancies/{vacancy_id}/offers", status_code=201, tags=["letting"])
    def post_offers(vacancy_id: Id32, p: Caller, request: Request, key: IdemHeader = None,
                    body: OffersIn | None = None) -> Any:
        return offer(p, key, request.url.path, body, vacancy_id)

    @app.post("/api/offers/{offer_id}/accept", status_code=201, tags=["letting"],
              responses={202: {"description": "Accepted provisionally: a better-ranked offer of the vacancy is "
                                              "still open; the best-ranked acceptor within the answer period gets "
                                              "the dwelling (`waiting_for` lists the better-ranked offers)."},
                         409: {"description": "The vacancy is already let or the offer is closed."}})
    def post_accept(offer_id: Id32, p: Caller, request: Request, key: IdemHeader = None,
                    body: AcceptIn | None = None) -> Any:
        """Accept an offer: 201 with the lease when no better-ranked offer of the vacancy is open, else
        202 (provisional; the letting follows when the better-ranked offers are refused or expire)."""
        return accept(p, key, request.url.path, body, offer_id)

    @app.post("/api/offers/{offer_id}/refuse", status_code=200, tags=["letting"])
    def post_refuse(offer_id: Id32, p: Caller, request: Request, key: IdemHeader = None,
                    body: RefuseIn | None = None) -> Any:
        body = body or RefuseIn()
        return write(p, key, request, body,
                     lambda s: service.refuse_offer(s, p, offer_id, body.reason, pseudo, rules=rules), 200)

    @app.post("/api/vacancies/{vacancy_id}/expire", status_code=200, tags=["letting"])
    def post_expire(vacancy_id: Id32, p: Caller, request: Request, key: IdemHeader = None,
                    body: ExpireIn | None = None) -> Any:
        body = body or ExpireIn()
        return write(p, key, request, body,
                     lambda s: service.expire_offers(s, p, vacancy_id, body.as_of, pseudo, rules=rules), 200)

    @app.get("/api/entitlements", tags=["letting"])
    def get_entitlements(org_id: ShortText, p: Caller) -> Any:
        return read(p, lambda s: service.list_entitlements(s, p, org_id, pseudo))

    @app.get("/api/reports/dispensations", tags=["reports"])
    def get_dispensation_report(p: Caller, municipality_code: MunicipalityCode | None = None,
                                period_end: QueryDay | None = None, period_start: QueryDay | None = None,
                                level: ShortText = "department") -> Any:
        """§ 51 c dispensations used in the reporting period (default: the year up to the latest
        1 July), by ground. Municipalities: their own, exact; analysts: all, small counts suppressed."""
        return read(p, lambda s: reports.dispensation_report(
            s, p, municipality_code=municipality_code, period_end=period_end, period_start=period_start, level=level))

    @app.get("/api/reports/rejections-51b", tags=["reports"])
    def get_rejection_report(p: Caller, municipality_code: MunicipalityCode | None = None,
                             period_end: QueryDay | None = None, period_start: QueryDay | None = None) -> Any:
        """§ 51 b (kombineret udlejning) rejections in the period per area and department."""
        return read(p, lambda s: reports.rejection_report(
            s, p, municipality_code=municipality_code, period_end=period_end, period_start=period_start))

    @app.get("/api/reports/decisions", tags=["reports"])
    def get_decision_report(p: Caller, municipality_code: MunicipalityCode | None = None,
                            period_end: QueryDay | None = None, period_start: QueryDay | None = None) -> Any:
        """The letting decisions of the period in aggregate (per municipality, organisation, channel,
        outcome and rule). Municipalities: their own, exact; analysts: all, small counts suppressed."""
        return read(p, lambda s: reports.decision_report(
            s, p, municipality_code=municipality_code, period_end=period_end, period_start=period_start))

    @app.get("/api/decisions", tags=["audit"])
    def get_decisions(vacancy_id: QueryId32, p: Caller,
                      lang: Annotated[Literal["da", "en"] | None, Query(description=(
                          "Language of `reason_text`: da or en; without it the first language of "
                          "Accept-Language (en -> English), else Danish. `reason` is the record as "
                          "decided (English)."))] = None,
                      accept_language: Annotated[str | None, Header(max_length=200)] = None) -> Any:
        """The audit trail of a vacancy; each record's `reason_text` words its reason in `lang`
        (Danish: the rule's Danish text from its policy file, `boligmix.letting.reason_da`)."""
        from boligmix.letting.reason_da import default_policies, record_reason

        if lang is None:
            first = (accept_language or "").split(",")[0].strip().lower()
            lang = "en" if first.startswith("en") else "da"
        texts = getattr(rules, "policies", None) or default_policies()
        trail = read(p, lambda s: service.list_decisions(s, p, vacancy_id, pseudo))
        return [{**r, "reason_text": record_reason(r, texts, lang)} for r in trail]

    if fast_path:
        app.state.hot_route_stats = HotRouteStats()
        app.add_middleware(HotRoutes, identities=identities, errors=handled_error_response,
                           stats=app.state.hot_route_stats, routes=[
                               HotRoute("POST", re.compile(r"/api/vacancies"), "/api/vacancies", VacancyIn, False,
                                        register),
                               HotRoute("POST", re.compile(r"/api/vacancies/([0-9]{1,18})/offers"),
                                        "/api/vacancies/{vacancy_id}/offers", OffersIn, True, offer),
                               HotRoute("POST", re.compile(r"/api/offers/([0-9]{1,18})/accept"),
                                        "/api/offers/{offer_id}/accept", AcceptIn, True, accept)])
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
