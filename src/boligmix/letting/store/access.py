"""Who may do what in the letting store: the one place of its access checks.

Two layers, both here:

* **Per route** (`ROUTES`): the roles that may call each API route at all. `boligmix.web.app`
  checks every request against this table before its handler runs (`require_route`); a route
  missing from the table is refused (403), and `test_letting_access_matrix.py` fails for it.
* **Per object** (the `require_*` functions): the role's scope against the object's organisation
  or municipality. The service functions call these and nothing else.

Roles (`auth.Principal`): `housing_organisation` (scope: organisation ids), `municipality` (scope:
municipality codes), `analyst` (no scope: reads stock and vacancies with pseudonymised person ids
and the statutory reports with small counts suppressed; no row-level applicant or decision data,
whose facts hold birth dates, benefit spells and release dates).

Applicant facts the municipality alone sets (`municipal_facts`): the dispensation facts of the
letting policies (`dispensation_fact`, e.g. § 51 c `dispensation_51c`, and the facts named after it,
`dispensation_51c_grounds`): the municipality (kommunalbestyrelsen) alone may dispense (almenboligloven § 51 c;
bek. om udlejning af almene boliger § 37). An organisation that sends them gets 403; a municipality
sets them (and only them) on the waiting-list entries of organisations with a department in its
municipalities.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from boligmix.errors import AuthorizationError
from boligmix.letting.store.auth import Principal
from boligmix.letting.store.models import Department, Vacancy
from boligmix.letting.store.selection import MUNICIPAL_CHANNELS, MUNICIPAL_LISTS

ORG, MUNI, ANALYST = "housing_organisation", "municipality", "analyst"
PUBLIC = frozenset()
"""No token needed."""
ANY = frozenset({ORG, MUNI, ANALYST})
WRITERS = frozenset({ORG, MUNI})

ROUTES: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/api/health"): PUBLIC,
    ("GET", "/docs"): PUBLIC,
    ("GET", "/api/whoami"): ANY,
    ("POST", "/api/departments"): frozenset({ORG}),
    ("GET", "/api/departments"): ANY,
    ("POST", "/api/dwellings"): frozenset({ORG}),
    ("POST", "/api/shared-dwellings"): frozenset({ORG}),
    ("GET", "/api/shared-dwellings/{shared_dwelling_id}"): ANY,
    ("GET", "/api/departments/{department_id}/dwellings"): ANY,
    ("POST", "/api/applicants"): WRITERS,
    ("GET", "/api/applicants"): WRITERS,
    ("PATCH", "/api/applicants/{entry_id}"): WRITERS,
    ("POST", "/api/applicants/{entry_id}/reactivate"): WRITERS,
    ("POST", "/api/applicants/{entry_id}/withdraw"): WRITERS,
    ("POST", "/api/applicants/{entry_id}/referral-order"): frozenset({MUNI}),
    ("GET", "/api/redirected-referrals"): frozenset({MUNI}),
    ("POST", "/api/vacancies"): frozenset({ORG}),
    ("GET", "/api/vacancies"): ANY,
    ("GET", "/api/vacancies/{vacancy_id}"): ANY,
    ("POST", "/api/vacancies/{vacancy_id}/offers"): WRITERS,
    ("POST", "/api/offers/{offer_id}/accept"): WRITERS,
    ("POST", "/api/offers/{offer_id}/refuse"): WRITERS,
    ("POST", "/api/vacancies/{vacancy_id}/expire"): WRITERS,
    ("GET", "/api/entitlements"): frozenset({ORG}),
    ("GET", "/api/reports/dispensations"): frozenset({MUNI, ANALYST}),
    ("GET", "/api/reports/rejections-51b"): frozenset({MUNI, ANALYST}),
    ("GET", "/api/reports/decisions"): frozenset({MUNI, ANALYST}),
    ("GET", "/api/decisions"): WRITERS,
}
"""(method, route path) -> the roles that may call it (empty: public). Row-level person data
(applicants, decisions, entitlements, redirected referrals) is not for analysts."""


PAGES: dict[str, frozenset[str]] = {
    "/letting": ANY,
}
"""Dashboard pages on the letting store (`boligmix.web.dashboard.letting_pages`, read-only HTML) ->
the roles that may open them. What each role sees there: organisations and municipalities the
departments in their scope (`can_read_department`) with exact counts; analysts every department
in aggregate, through disclosure control, and no row-level person data (`require_row_level`)."""


def require_page(p: Principal, path: str) -> None:
    """The check every dashboard page on the letting store goes through (after authentication)."""
    roles = PAGES.get(path)
    if roles is None:
        raise AuthorizationError(f"the page {path} has no access rule; refused")
    if p.role not in roles:
        raise AuthorizationError(f"the page {path} is not for the role {p.role} (token '{p.name}')")


def route_roles(method: str, path: str) -> frozenset[str] | None:
    """The roles of a route, or None for a route this table does not know (refused)."""
    return ROUTES.get((method.upper(), path))


def require_route(p: Principal, method: str, path: str) -> None:
    """The route-level check every API request goes through (after authentication)."""
    roles = route_roles(method, path)
    if roles is None:
        raise AuthorizationError(f"{method} {path} has no access rule; refused")
    if p.role not in roles:
        raise AuthorizationError(f"{method} {path} is not for the role {p.role} (token '{p.name}')")


# ------------------------------------------------------------------------------------------------
# Per object


def can_read_department(p: Principal, d: Department) -> bool:
    return p.role == ANALYST or p.owns_org(d.org_id) or p.covers_municipality(d.municipality_code)


def require_read_department(p: Principal, d: Department) -> None:
    if not can_read_department(p, d):
        raise AuthorizationError(f"department {d.department_id} is outside the scope of token '{p.name}'")


def require_org(p: Principal, org_id: str | None, what: str) -> None:
    """Writes to an organisation's stock: its own token only."""
    p.require_writer()
    if not p.owns_org(org_id):
        raise AuthorizationError(f"{what} belongs to organisation {org_id}, outside the scope of token '{p.name}'")


def require_act_on_vacancy(p: Principal, v: Vacancy | Any, d: Department | Any) -> None:
    """Organisations let their own vacancies; municipalities the ones let by kommunal anvisning
    or udslusning (their referrals; § 59, § 63) or rehousing (their rehousing households)."""
    p.require_writer()
    if v.channel in MUNICIPAL_CHANNELS:
        if p.covers_municipality(d.municipality_code):
            return
        raise AuthorizationError(f"vacancy {v.vacancy_id} is let by {v.channel} of municipality "
                                 f"{d.municipality_code}; token '{p.name}' cannot act on it")
    if not p.owns_org(d.org_id):
        raise AuthorizationError(f"vacancy {v.vacancy_id} belongs to organisation {d.org_id}, outside the "
                                 f"scope of token '{p.name}'")


def require_list_owner(p: Principal, list_type: str, municipality_code: int | None, org_id: str | None) -> None:
    """Only a list's owner writes to it: municipalities their referral and rehousing lists,
    organisations their waiting lists (AuthorizationError otherwise)."""
    p.require_writer()
    if list_type in MUNICIPAL_LISTS:
        if not p.covers_municipality(municipality_code):
            raise AuthorizationError(f"the {list_type} list of municipality {municipality_code} is outside the "
                                     f"scope of token '{p.name}'")
    elif not p.owns_org(org_id):
        raise AuthorizationError(f"the waiting list of organisation {org_id} is outside the scope of token "
                                 f"'{p.name}'")


def require_read_list(p: Principal, org_id: str | None, municipality_code: int | None) -> None:
    """Row-level lists (applicants, entitlements, redirected referrals): the owner only."""
    require_row_level(p, "an applicant list")
    if org_id is not None and not p.owns_org(org_id):
        raise AuthorizationError(f"the waiting lists of organisation {org_id} are outside the scope of "
                                 f"token '{p.name}'")
    if municipality_code is not None and not p.covers_municipality(municipality_code):
        raise AuthorizationError(f"the lists of municipality {municipality_code} are outside the scope of "
                                 f"token '{p.name}'")


def require_row_level(p: Principal, what: str) -> None:
    """Row-level person data (decisions: their facts hold birth dates, benefit spells, release
    dates, person ids): not for analysts, who get the disclosure-controlled reports instead."""
    if p.role == ANALYST:
        raise AuthorizationError(f"{what} is row-level person data; the analyst role sees aggregates "
                                 f"(the reports) and pseudonymised ids only")


def require_report(p: Principal, municipality_code: int | None) -> None:
    """Statutory reports: analysts (all, suppressed) and municipalities (their own, exact)."""
    if p.role == ANALYST:
        return
    if p.role != MUNI:
        raise AuthorizationError(f"reports are for municipalities and analysts; token '{p.name}' is {p.role}")
    if municipality_code is None or not p.covers_municipality(municipality_code):
        raise AuthorizationError(f"municipality {municipality_code} is outside the scope of token '{p.name}'")


# ------------------------------------------------------------------------------------------------
# Applicant facts


def municipal_facts(policies: Any | None = None) -> frozenset[str]:
    """Applicant facts only the municipality sets: each policy's `dispensation_fact` and the input
    facts named after it (its grounds), from `policies` (a PolicySet) or the packaged policies."""
    if policies is None:
        return _default_municipal_facts()
    return _municipal_facts(getattr(policies, "policies", policies))


@lru_cache(maxsize=1)
def _default_municipal_facts() -> frozenset[str]:
    from boligmix.letting.policy import load_default_policies

    return _municipal_facts(load_default_policies(include_local_examples=True).policies)


def _municipal_facts(policies: Iterable[Any]) -> frozenset[str]:
    out: set[str] = set()
    for policy in policies:
        name = policy.spec.dispensation_fact
        if name:
            out |= {k for k in policy.spec.input_facts if k == name or k.startswith(name + "_")}
            out.add(name)
    return frozenset(out)


def check_fact_changes(s: Session, p: Principal, entry: Any, new_facts: Mapping[str, Any] | None,
                       reserved: frozenset[str], *, owner: bool) -> dict[str, Any] | None:
    """The facts map to store for `entry` after `p` sent `new_facts` (None: unchanged).

    * the list owner (`owner`) replaces the map, but the municipality's facts (`reserved`) stay as
      stored: an owner other than the entry's municipality that sends one with another value gets 403;
    * a municipality that is not the owner may set (or with null remove) only `reserved` facts, on a
      waiting-list entry of an organisation with a department in its municipalities (403 otherwise)."""
    if new_facts is None:
        return None
    stored = dict(entry.facts or {})
    municipal_owner = entry.list_type in MUNICIPAL_LISTS and p.covers_municipality(entry.municipality_code)
    if owner and not municipal_owner:
        changed = sorted(k for k in reserved if k in new_facts and new_facts[k] != stored.get(k))
        if changed:
            raise AuthorizationError(f"{', '.join(changed)}: only the municipality grants a dispensation "
                                     f"(almenboligloven § 51 c; bek. om udlejning af almene boliger § 37); token '{p.name}' is {p.role}")
        return {**{k: v for k, v in new_facts.items() if k not in reserved},
                **{k: stored[k] for k in reserved if k in stored}}
    if owner:
        return dict(new_facts)
    if p.role != MUNI:
        raise AuthorizationError(f"applicant entry {entry.entry_id} is outside the scope of token '{p.name}'")
    other = sorted(set(new_facts) - reserved)
    if other:
        raise AuthorizationError(f"a municipality sets only the dispensation facts ({', '.join(sorted(reserved))}) "
                                 f"of an organisation's applicant; not {', '.join(other)}")
    codes = [int(c) for c in p.scope if c.isdigit()]
    here = s.scalar(select(Department.department_id).where(Department.org_id == entry.org_id,
                                                           Department.municipality_code.in_(codes)).limit(1))
    if here is None:
        raise AuthorizationError(f"organisation {entry.org_id} has no department in the municipalities of token "
                                 f"'{p.name}'")
    out = dict(stored)
    for k, v in new_facts.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = v
    return out
