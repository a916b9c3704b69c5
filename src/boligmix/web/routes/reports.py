"""The letting API's report and audit routes: the aggregate reports (§ 51 c dispensations, § 51 b
rejections, decisions) and a vacancy's audit trail in Danish or English."""

# No `from __future__ import annotations`: FastAPI must see the local `Caller` dependency type.

from typing import Annotated, Any, Literal

from fastapi import FastAPI, Header, Query

from boligmix.letting.store import reports, service
from boligmix.web.handlers import ApiHandlers
from boligmix.web.routes.params import MunicipalityCode, QueryDay, QueryId32, ShortText


def add_report_routes(app: FastAPI, api: ApiHandlers, caller: Any) -> None:
    """The reports and the audit trail.
    `caller`: the authenticated `Principal` (a dependency that `create_app` makes)."""
    Caller, read, pseudo, rules = caller, api.read, api.pseudo, api.rules

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
