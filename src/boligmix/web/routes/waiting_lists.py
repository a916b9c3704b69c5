"""The letting API's waiting-list routes: applicants (registration, reactivation, withdrawal,
the municipality's referral order, updates) and the § 59 redirected referrals."""

# No `from __future__ import annotations`: FastAPI must see the local `Caller` dependency type.

from typing import Annotated, Any

from fastapi import FastAPI, Query, Request

from boligmix.letting.store import follow_ups, service
from boligmix.web.handlers import ApiHandlers
from boligmix.web.routes.params import Id32, IdemHeader, MunicipalityCode, ShortText
from boligmix.web.schemas import ApplicantIn, ApplicantUpdateIn, ReactivateIn, ReferralOrderIn, WithdrawIn


def add_waiting_list_routes(app: FastAPI, api: ApiHandlers, caller: Any) -> None:
    """Applicants on the lists and the redirected referrals.
    `caller`: the authenticated `Principal` (a dependency that `create_app` makes)."""
    Caller, write, read, pseudo, rules = caller, api.write, api.read, api.pseudo, api.rules

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
