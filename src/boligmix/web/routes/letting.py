"""The letting API's letting routes: vacancies, offer rounds, answers to offers (accept, refuse,
expire) and § 51 b entitlements."""

# No `from __future__ import annotations`: FastAPI must see the local `Caller` dependency type.

from typing import Any

from fastapi import FastAPI, Request
from sqlalchemy.orm import Session

from boligmix.letting.store import service
from boligmix.web.handlers import ApiHandlers
from boligmix.web.routes.params import Id32, IdemHeader, ShortText
from boligmix.web.schemas import AcceptIn, ExpireIn, OffersIn, RefuseIn, VacancyIn


def add_letting_routes(app: FastAPI, api: ApiHandlers, caller: Any) -> None:
    """Vacancies, offers, answers and entitlements.
    `caller`: the authenticated `Principal` (a dependency that `create_app` makes)."""
    Caller, write, read, pseudo, rules = caller, api.write, api.read, api.pseudo, api.rules
    register, offer, accept = api.register, api.offer, api.accept

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
