"""`context.registration_context`: a registration's dwelling, department and open vacancy by one
statement (Core on SQLite, driver SQL on PostgreSQL), against the ORM's reading of the same rows."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import create_engine, text

from boligmix.letting.store import service
from boligmix.letting.store.context import registration_context
from boligmix.letting.store.errors import NotFoundError
from boligmix.letting.store.models import Department, Dwelling

from store_support import seed_stock


def _values(obj, model) -> dict:  # type: ignore[no-untyped-def]
    return {c.name: getattr(obj, c.name) for c in model.__table__.columns}


def test_the_context_equals_the_orm_rows_and_names_the_open_vacancy(store, tokens):
    _, org = tokens["org"]
    dws = seed_stock(store, org, dwellings=2)
    v = store.transact(lambda s: service.register_vacancy(
        s, org, {"dwelling_id": dws[1], "available_from": date(2025, 4, 1), "channel": "waiting_list"}))
    with store.write() as s:  # (the statement locks the dwelling: a write transaction)
        for dwelling_id, open_id in ((dws[0], None), (dws[1], v["vacancy_id"])):
            w, d, got_open = registration_context(s, dwelling_id)
            orm_w = s.get(Dwelling, dwelling_id)
            assert _values(w, Dwelling) == _values(orm_w, Dwelling)
            assert _values(d, Department) == _values(s.get(Department, orm_w.department_id), Department)
            assert got_open == open_id
            assert not isinstance(w, Dwelling) and not isinstance(d, Department)  # read-only values, no ORM objects
        with pytest.raises(NotFoundError, match="dwelling 999999 does not exist"):
            registration_context(s, 999_999)


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_the_context_locks_the_dwelling_row(store, tokens, db_url):
    _, org = tokens["org"]
    [dw] = seed_stock(store, org, dwellings=1)
    other = create_engine(db_url)
    try:
        with store.write() as s:
            registration_context(s, dw)
            with other.connect() as c:
                c.execute(text("SET lock_timeout = '200ms'"))
                with pytest.raises(Exception, match="lock"):
                    c.execute(text("SELECT 1 FROM dwellings WHERE dwelling_id = :d FOR UPDATE"), {"d": dw})
    finally:
        other.dispose()
