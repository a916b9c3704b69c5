"""The letting API's stock routes: departments, dwellings and shared dwellings (delebolig)."""

# No `from __future__ import annotations`: FastAPI must see the local `Caller` dependency type.

from typing import Annotated, Any

from fastapi import FastAPI, Path, Request

from boligmix.letting.store import service
from boligmix.web.handlers import ApiHandlers
from boligmix.web.routes.params import Id64, IdemHeader
from boligmix.web.schemas import DepartmentIn, DwellingIn, SharedDwellingIn


def add_stock_routes(app: FastAPI, api: ApiHandlers, caller: Any) -> None:
    """Departments, dwellings and shared dwellings.
    `caller`: the authenticated `Principal` (a dependency that `create_app` makes)."""
    Caller, write, read = caller, api.write, api.read

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
