"""The letting API's reads and writes on one store (`ApiHandlers`): every route handler calls them,
and the letting cycle's writes (`register`, `offer`, `accept`) are also the ones `boligmix.web.hot_routes`
calls (one implementation)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session

from boligmix.letting.store import service
from boligmix.letting.store.auth import Principal, Pseudonymiser, require_active
from boligmix.letting.store.db import Store
from boligmix.letting.store.idempotency import run_idempotent
from boligmix.letting.store.selection import OfferRules
from boligmix.web.errors import error_body
from boligmix.web.schemas import AcceptIn, OffersIn, VacancyIn


class ApiHandlers:
    """Each write in one transaction by `run_idempotent` (an `Idempotency-Key` replays its first
    answer), each read in one read transaction after the caller's token is checked again."""

    def __init__(self, store: Store, rules: OfferRules, pseudo: Pseudonymiser) -> None:
        self.store = store
        self.rules = rules
        self.pseudo = pseudo

    def write(self, p: Principal, key: str | None, request: Request | str, body: BaseModel | None,
              op: Callable[[Session], Any], status: int | Callable[[Any], int]) -> JSONResponse:
        """The write of a POST route, by `run_idempotent`; `request` or its URL's path."""
        raw = b"" if body is None or key is None else body.model_dump_json().encode()  # (fingerprinted with a key)
        path = request if isinstance(request, str) else request.url.path

        def run(s: Session) -> tuple[int, Any]:
            out = op(s)
            return (status(out) if callable(status) else status), out
        result = run_idempotent(self.store, p, key, "POST", path, raw, run, error_body)
        headers = {"Idempotency-Replayed": "true"} if result.replayed else None
        return JSONResponse(result.body, status_code=result.status_code, headers=headers)

    def register(self, p: Principal, key: str | None, path: str, body: VacancyIn,
                 _id: int | None = None) -> JSONResponse:
        return self.write(p, key, path, body,
                          lambda s: service.register_vacancy(s, p, body.model_dump(), rules=self.rules), 201)

    def offer(self, p: Principal, key: str | None, path: str, body: OffersIn | None, vacancy_id: int) -> JSONResponse:
        body = body or OffersIn()
        return self.write(p, key, path, body,
                          lambda s: service.make_offers(s, p, vacancy_id, body.count, self.pseudo, rules=self.rules,
                                                        now=body.as_of, with_decisions=False), 201)

    def accept(self, p: Principal, key: str | None, path: str, body: AcceptIn | None, offer_id: int) -> JSONResponse:
        body = body or AcceptIn()
        return self.write(p, key, path, body,
                          lambda s: service.accept_offer(s, p, offer_id, body.lease_start, self.pseudo,
                                                         rules=self.rules),
                          lambda out: 201 if out.get("lease_id") is not None else 202)

    def read(self, p: Principal, op: Callable[[Session], Any]) -> Any:
        with self.store.read() as s:
            require_active(s, p)
            return op(s)
