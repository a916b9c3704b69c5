"""A starting API worker warms its database connections (`boligmix.web.warmup`): the pool holds
the connections, the letting statements are compiled, no row is left,
and a database that is down at startup does not stop the server from starting."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from boligmix.letting.store.db import Store
from boligmix.letting.store.models import Base
from boligmix.web.app import create_app

from store_support import MUNI, ORG


def _row_counts(store: Store) -> dict[str, int]:
    with store.read() as s:
        return {t.name: s.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables}


def _h(tokens, who="org"):
    return {"Authorization": f"Bearer {tokens[who][0]}"}


def _stock(client, tokens) -> None:
    org = _h(tokens)
    assert client.post("/api/departments", headers=org, json={
        "department_id": "ORG1-7", "org_id": ORG, "department_name": "Syvtallet",
        "municipality_code": MUNI}).status_code == 201
    for dw in (9001, 9002):
        assert client.post("/api/dwellings", headers=org, json={
            "dwelling_id": dw, "department_id": "ORG1-7", "rooms": 3, "floor_area_m2": 75,
            "monthly_rent_dkk": 5500}).status_code == 201
    for i in range(4):
        assert client.post("/api/applicants", headers=org, json={
            "applicant_id": 100 + i, "household_id": 200 + i, "list_type": "external", "org_id": ORG,
            "household_size": 3, "seniority_date": f"2019-0{i + 1}-01"}).status_code == 201


def _full_cycle(client, tokens, dwelling_id: int) -> None:
    org = _h(tokens)
    r = client.post("/api/vacancies", headers=org, json={"dwelling_id": dwelling_id, "available_from": "2025-03-01"})
    assert r.status_code == 201, r.text
    r = client.post(f"/api/vacancies/{r.json()['vacancy_id']}/offers", headers=org, json={})
    assert r.status_code == 201, r.text
    offer = r.json()["offers"][0]["offer_id"]
    assert client.post(f"/api/offers/{offer}/accept", headers=org, json={}).status_code == 201


def _compiled_growth_of_a_cycle(db_url, tokens, warm: int) -> int:
    """Compiled-cache entries the first full cycle after the stock's registration adds."""
    app = create_app(db_url, pool_size=4, fast_path=False, warm_connections=warm)
    cache = app.state.store.engine._compiled_cache
    with TestClient(app) as client:
        _stock(client, tokens)  # (the token and idempotency statements of every write compile here)
        before = len(cache)
        _full_cycle(client, tokens, 9001)
        return len(cache) - before


@pytest.mark.parametrize("fast_path", [False, True])
def test_a_started_app_is_warm_and_wrote_nothing(db_url, store, tokens, fast_path):
    before = _row_counts(store)
    app = create_app(db_url, pool_size=4, fast_path=fast_path, warm_connections=3)
    engine = app.state.store.engine
    compiled_at_creation = len(engine._compiled_cache)
    assert app.state.warm_up is None  # not before the startup
    with TestClient(app) as client:
        report = app.state.warm_up
        assert report.error is None, report
        assert (report.connections, report.rehearsals) == (3, 3)
        assert report.offers >= 3 and report.steps[-1] == "accept"  # the whole cycle ran on each connection
        assert engine.pool.checkedin() == 3  # the pool holds the connections, opened before serving
        # a cycle's ORM statements compiled (the round's queue lock and trail row are driver SQL
        # since issue 11 session 10, the registration's context on PostgreSQL since session 11:
        # nothing to compile)
        assert len(engine._compiled_cache) >= compiled_at_creation + 4
        assert _row_counts(store) == before  # every rehearsal rolled back
        assert client.get("/api/whoami", headers=_h(tokens)).status_code == 200
    assert _row_counts(store) == before


@pytest.mark.parametrize("db_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
@pytest.mark.parametrize("warm", [0, 3])
def test_the_fast_paths_connections_are_open_before_the_first_accept(db_url, store, tokens, warm):
    """The fast path's async pool (accept, whoami) opens its connections at startup too (issue 11,
    session 9); they are used by the first requests, none opened by them."""
    assert store.dialect == "postgresql"     # the fast path runs on PostgreSQL only
    app = create_app(db_url, pool_size=4, fast_path=True, warm_connections=warm, threads=1)
    with TestClient(app):
        stats = app.state.fast_path_stats
        assert stats.warmed == warm  # all of them, though the app's own warm-up holds one (threads=1)
        name = make_url(db_url).database
        with store.read() as s:
            held = s.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE datname = :n "
                                 "AND backend_type = 'client backend'"), {"n": name})
        assert held >= warm + (1 if warm else 0) + 1  # the fast path's, the app pool's, this check's


@pytest.mark.parametrize("warm", [0, 2])
def test_the_warm_up_compiles_what_the_first_cycle_needs(db_url, tokens, warm):
    """Cold, the first registration, offer round and accept compile statements; warmed, none."""
    growth = _compiled_growth_of_a_cycle(db_url, tokens, warm)
    assert (growth > 0) if warm == 0 else (growth == 0)


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_a_database_down_at_startup_does_not_stop_the_server(db_url, store, tokens, pg_databases):
    app = create_app(db_url, pool_size=4, fast_path=False, warm_connections=2)
    name = app.state.store.engine.url.database
    store.dispose()
    with pg_databases.admin.connect() as c:  # the database goes away: no new connection, the old ones cut
        c.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
        c.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"), {"n": name})
    try:
        with TestClient(app) as client:
            assert app.state.warm_up.error is not None and app.state.warm_up.rehearsals == 0
            assert client.get("/api/health").status_code == 200
            r = client.get("/api/whoami", headers=_h(tokens))
            assert r.status_code == 503 and r.json()["error"] == "StoreUnavailableError"
    finally:
        with pg_databases.admin.connect() as c:
            c.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_the_fast_path_answers_503_while_the_database_is_down(db_url, store, tokens, pg_databases):
    """Issue 11's tryout (benchmarks/tryout_letting.py): with PostgreSQL down, accepts beyond the
    fast path's pooled connections made it open new ones, and the refused connection escaped as a
    500. Every accept and whoami is a 503 with the JSON error body, however many are sent."""
    app = create_app(db_url, pool_size=4, fast_pool_size=2)
    name = app.state.store.engine.url.database
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/api/whoami", headers=_h(tokens)).status_code == 200   # the token is known ...
        assert client.get("/api/whoami", headers=_h(tokens)).status_code == 200   # ... and the fast path answers
        served = app.state.fast_path_stats.delegated
        store.dispose()
        with pg_databases.admin.connect() as c:  # the database goes away: no new connection, the old ones cut
            c.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
            c.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"), {"n": name})
        try:
            answers = [client.post(f"/api/offers/{n}/accept", headers=_h(tokens), json={}) for n in range(1, 7)]
            answers += [client.get("/api/whoami", headers=_h(tokens)) for _ in range(4)]
        finally:
            with pg_databases.admin.connect() as c:
                c.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        assert [r.status_code for r in answers] == [503] * len(answers), [r.text for r in answers]
        assert all(set(r.json()) == {"error", "detail"} and r.headers["Retry-After"] for r in answers)
        assert app.state.fast_path_stats.delegated >= served + len(answers)  # each went through the fast path
        assert client.get("/api/whoami", headers=_h(tokens)).status_code == 200   # and it recovers


def test_a_read_session_keeps_plans_and_writes_nothing(db_url):
    """PostgreSQL: a read session ends with COMMIT of a READ ONLY transaction, so the connection's
    prepared statements survive it (psycopg deallocates them all at a ROLLBACK); a write in a read
    session is refused there, and on SQLite rolled back."""
    store = Store(db_url, pool_size=1)
    try:
        pg = store.dialect == "postgresql"
        with store.read() as s:
            for _ in range(6):  # psycopg prepares a statement at its fifth execution
                s.execute(text("SELECT count(*) + :x FROM vacancies"), {"x": 1})
            if pg:
                assert s.scalar(text("SELECT count(*) FROM pg_prepared_statements")) >= 1
        if pg:
            with store.read() as s:  # the same (only) pooled connection
                names = s.execute(text("SELECT statement FROM pg_prepared_statements")).scalars().all()
                assert any("FROM vacancies" in n for n in names)
        before = _row_counts(store)
        with pytest.raises(DBAPIError, match="read-only transaction") if pg else _nothing():
            with store.read() as s:
                s.execute(text("INSERT INTO service_settings (name, value) VALUES ('warm-up-test', 'x')"))
        assert _row_counts(store) == before
    finally:
        store.dispose()


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


WARM, WAIT = "3", 90


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_serve_workers_each_warm_their_connections(db_url, store, tmp_path, pg_databases):
    """`boligmix serve --workers 2 --warm-up 3 --threads 3`: before any request the two workers hold 3 database
    connections each (cold, each would hold the one its start used), and no row is written."""
    import time

    from letting_server import Server

    before = _row_counts(store)
    name = store.engine.url.database
    store.dispose()  # (only the server's connections count below)
    server = Server(db_url, log_path=tmp_path / "server.log")
    server.extra_args = ["--workers", "2", "--warm-up", WARM, "--threads", WARM]
    server.start()
    try:
        deadline, held = time.monotonic() + WAIT, 0
        while time.monotonic() < deadline and held < 6:  # (health answers once the first worker serves)
            with pg_databases.admin.connect() as c:
                held = c.execute(text("SELECT count(*) FROM pg_stat_activity WHERE datname = :n"),
                                 {"n": name}).scalar()
            time.sleep(0.2)
        assert held >= 6, held
        assert _row_counts(store) == before
    finally:
        server.stop()
