"""Read-only dashboard pages on the letting store (`boligmix serve --data DIR --db URL`).

    /letting          vacancies and lettings per department for the signed-in role
    /letting/login    POST token=<the API token>&csrf=<form token>: signs in (HttpOnly, SameSite=Strict cookie)
    /letting/logout   POST csrf=<form token>: signs out

Both forms are protected against cross-site request forgery: every page sets a random form token
in an HttpOnly, SameSite=Strict cookie and in a hidden field (double submit); a POST is refused
(403, nothing changes) unless field and cookie agree, and also when the browser says it comes
from another site (`Sec-Fetch-Site: cross-site`/`same-site`, or an `Origin` other than this host).

The same tokens as the letting API (`Authorization: Bearer <token>`, or the cookie the login form
sets). Every read goes through `boligmix.letting.store.access` (`require_page`, and
`can_read_department` per department): organisations and municipalities see the departments in
their scope with exact counts; analysts see every department with the letting counts through
`boligmix.report.disclosure.protect` and the letting decisions in aggregate
(`reports.decision_report`, protected there) — no row-level person data. Vacancies are dwellings,
not persons: their counts are shown as they are.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import date, datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qs, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select

from boligmix.errors import AuthorizationError
from boligmix.letting.store import access, reports
from boligmix.letting.store.auth import Principal, require_active
from boligmix.letting.store.errors import AuthenticationError
from boligmix.letting.store.models import VACANCY_STATUSES, Department, Dwelling, Lease, Vacancy
from boligmix.report.disclosure import DisclosurePolicy, protect
from boligmix.web.dashboard.modules import Row, rows_of

COOKIE = "boligmix_token"
PAGE = "/letting"
CSRF_COOKIE = "boligmix_csrf"
CSRF_FIELD = "csrf"
"""The double-submit form token: the same random value in this cookie and in each form's hidden field."""
COUNT_COLUMNS = ("let", "lettings")
"""Per department, the counts of households housed (lettings): protected for analysts."""


def department_overview(s: Any, p: Principal, policy: DisclosurePolicy) -> list[Row]:
    """Per department the role may read: vacancies by status and lettings (leases)."""
    access.require_page(p, PAGE)
    departments = [d for d in s.scalars(select(Department).order_by(Department.department_id))
                   if access.can_read_department(p, d)]
    vacancies: dict[tuple[str, str], int] = {
        (dep, status): n for dep, status, n in s.execute(
            select(Dwelling.department_id, Vacancy.status, func.count())
            .join(Vacancy, Vacancy.dwelling_id == Dwelling.dwelling_id)
            .group_by(Dwelling.department_id, Vacancy.status))}
    leases = dict(s.execute(select(Dwelling.department_id, func.count())
                            .join(Lease, Lease.dwelling_id == Dwelling.dwelling_id)
                            .group_by(Dwelling.department_id)).all())
    rows = [{"municipality_code": d.municipality_code, "org_id": d.org_id, "department_id": d.department_id,
             "department_name": d.department_name, "area_id": d.area_id,
             **{st: vacancies.get((d.department_id, st), 0) for st in VACANCY_STATUSES},
             "lettings": leases.get(d.department_id, 0)} for d in departments]
    if not rows:
        return []
    import polars as pl

    frame = pl.DataFrame(rows)
    if p.role == access.ANALYST:
        return rows_of(protect(frame, counts=list(COUNT_COLUMNS), policy=policy, name="letting overview"))
    return rows_of(frame)


def analyst_decisions(s: Any, p: Principal, today: date | None = None) -> list[Row]:
    """The letting decisions of the last 365 days in aggregate (analysts only; protected there)."""
    access.require_page(p, PAGE)
    if p.role != access.ANALYST:
        return []
    end = (today or datetime.now(timezone.utc).date()) + timedelta(days=1)
    report = reports.decision_report(s, p, period_end=end, period_start=end - timedelta(days=365))
    return rows_of(_with_marker(report["rows"]))


def _with_marker(rows: list[dict[str, Any]]):
    import polars as pl

    frame = pl.DataFrame(rows) if rows else pl.DataFrame()
    if "suppressed" not in frame.columns:
        frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias("suppressed"))
    return frame


def _csrf_token(request: Request) -> str:
    """The request's form token (its cookie when well-formed), else a new random one."""
    current = request.cookies.get(CSRF_COOKIE, "")
    return current if 32 <= len(current) <= 128 and current.replace("-", "").replace("_", "").isalnum() \
        else secrets.token_urlsafe(32)


def cross_site(request: Request, form: dict[str, list[str]]) -> bool:
    """Does this POST come from another site, or lack the page's form token?"""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        return True
    origin = request.headers.get("origin")
    if origin is not None and (origin == "null" or urlsplit(origin).netloc != request.url.netloc):
        return True
    cookie = request.cookies.get(CSRF_COOKIE, "")
    sent = (form.get(CSRF_FIELD) or [""])[0]
    return not (cookie and sent and hmac.compare_digest(cookie.encode(), sent.encode()))


def build_letting_router(page_factory, store: Any, identities: Any, policy: DisclosurePolicy) -> APIRouter:
    """The letting pages; `page_factory(request)` gives the dashboard's `Page` (language, rendering)."""
    router = APIRouter(include_in_schema=False)

    def principal(s: Any, request: Request) -> Principal:
        header = request.headers.get("authorization")
        if not header and request.cookies.get(COOKIE):
            header = f"Bearer {request.cookies[COOKIE]}"
        p = identities.resolve(s, header)
        require_active(s, p)
        return p

    def render(request: Request, status_code: int = 200, **context: Any) -> HTMLResponse:
        """The letting page with a form token (set in its cookie too) and Danish/English rule names."""
        from boligmix.letting.reason_da import CHANNEL_DA, OUTCOME_LABEL_DA, default_policies, rule_label

        page = page_factory(request)
        token = _csrf_token(request)
        texts = default_policies()
        danish = page.lang == "da"
        response = page.render(
            "letting.html.j2", status_code=status_code, csrf=token, statuses=VACANCY_STATUSES,
            rule_name=lambda rule_id: rule_label(rule_id, texts, page.lang),
            outcome_name=lambda v: OUTCOME_LABEL_DA.get(v, v) if danish else v,
            channel_name=lambda v: CHANNEL_DA.get(v, v) if danish else v, **context)
        response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict", path=PAGE)
        return response

    @router.get(PAGE, response_class=HTMLResponse)
    def letting(request: Request) -> HTMLResponse:
        try:
            with store.read() as s:
                p = principal(s, request)
                departments = department_overview(s, p, policy)
                decisions = analyst_decisions(s, p)
        except AuthenticationError:
            # no credentials at all: the sign-in form (200, it shows nothing); a bad or revoked token: 401
            given = request.headers.get("authorization") or request.cookies.get(COOKIE)
            return render(request, 401 if given else 200, who=None, error="unauthenticated", departments=[],
                          decisions=[])
        except AuthorizationError:
            return render(request, 403, who=None, error="forbidden", departments=[], decisions=[])
        return render(request, who=p, error=None, departments=departments, decisions=decisions,
                      analyst=p.role == access.ANALYST)

    def refused(request: Request) -> HTMLResponse:
        return render(request, 403, who=None, error="csrf", departments=[], decisions=[])

    @router.post(f"{PAGE}/login")
    async def login(request: Request) -> Response:
        form = parse_qs((await request.body()).decode("utf-8", "replace"))
        if cross_site(request, form):
            return refused(request)
        token = (form.get("token") or [""])[0].strip()
        target = PAGE + ("?lang=en" if request.query_params.get("lang") == "en" else "")
        response = RedirectResponse(target, status_code=303)
        if token:
            response.set_cookie(COOKIE, token, httponly=True, samesite="strict", path=PAGE)
        return response

    @router.post(f"{PAGE}/logout")
    async def logout(request: Request) -> Response:
        form = parse_qs((await request.body()).decode("utf-8", "replace"))
        if cross_site(request, form):
            return refused(request)
        response = RedirectResponse(PAGE, status_code=303)
        response.delete_cookie(COOKIE, path=PAGE)
        return response

    return router


__all__ = ["COOKIE", "CSRF_COOKIE", "analyst_decisions", "build_letting_router", "cross_site", "department_overview"]
