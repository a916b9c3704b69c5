"""Concurrency and crash safety through real HTTP to a `boligmix serve` process.

* 32 parallel clients accept competing offers: exactly one lease per vacancy, to the best-ranked
  offer (the others 202 provisional or 409), and
  the audit trail complete.
* The server is SIGKILLed twice in the middle of a stream of lettings and restarted; the client
  retries with its idempotency keys; nothing is lost or duplicated.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import date

import httpx
import pytest
from sqlalchemy import func, select

from boligmix.letting.store import service
from boligmix.letting.store.models import Decision, Lease, Offer, Vacancy
from boligmix.letting.store.trail import trail

from store_support import STORE_ORDER, seed_applicants, seed_stock
from letting_server import Server, run_at_once

pytestmark = pytest.mark.slow

N_CLIENTS = 32


def test_32_clients_accepting_competing_offers(db_url, store, tokens, tmp_path):
    secret, org = tokens["org"]
    n_vacancies, per_vacancy = 4, N_CLIENTS // 4
    dwellings = seed_stock(store, org, dwellings=n_vacancies)
    seed_applicants(store, org, N_CLIENTS)
    offers: list[tuple[int, int]] = []  # (vacancy_id, offer_id)
    for dw in dwellings:
        def op(s, dw=dw):
            v = service.register_vacancy(s, org, {"dwelling_id": dw, "available_from": date(2025, 1, 1)})
            made = service.make_offers(s, org, v["vacancy_id"], per_vacancy, rules=STORE_ORDER)
            return [(v["vacancy_id"], o["offer_id"]) for o in made["offers"]]
        offers += store.transact(op)
    assert len(offers) == N_CLIENTS

    server = Server(db_url, log_path=tmp_path / "server.log").start()
    results: dict[int, list[tuple[int, dict]]] = {}

    def client(i: int) -> None:
        vacancy_id, offer_id = offers[i]
        headers = {"Authorization": f"Bearer {secret}", "Idempotency-Key": f"accept-{offer_id}"}
        with httpx.Client(base_url=server.base_url, timeout=60) as http:
            first = http.post(f"/api/offers/{offer_id}/accept", headers=headers)
            retry = http.post(f"/api/offers/{offer_id}/accept", headers=headers)  # a retried request
            results[i] = [(first.status_code, first.json()), (retry.status_code, retry.json())]

    try:
        run_at_once(N_CLIENTS, client)
    finally:
        server.stop()
    assert len(results) == N_CLIENTS
    statuses = Counter(r[0][0] for r in results.values())
    assert set(statuses) <= {201, 202, 409} and statuses[201] <= n_vacancies, statuses
    for (first, retry) in results.values():
        assert retry == first  # the retry returns the original result
    # Everybody accepted, so the best-ranked offer of each vacancy wins: it has no better-ranked offer
    # above it, so its own answer is the 201; the others are 202 (before it) or 409 (after it).
    best = {}
    for vacancy_id, offer_id in offers:
        best[vacancy_id] = min(best.get(vacancy_id, offer_id), offer_id)
    winners = {offers[i][0]: r[0][1] for i, r in results.items() if r[0][0] == 201}
    assert {v: w["offer_id"] for v, w in winners.items()} == best  # one winner per vacancy: the best-ranked

    with store.read() as s:
        leases = s.scalars(select(Lease)).all()
        assert Counter(x.vacancy_id for x in leases) == {v: 1 for v in winners}
        assert {x.vacancy_id: x.lease_id for x in leases} == {v: w["lease_id"] for v, w in winners.items()}
        assert s.scalar(select(func.count()).select_from(Vacancy).where(Vacancy.status != "let")) == 0
        assert Counter(o.status for o in s.scalars(select(Offer))) == {
            "accepted": n_vacancies, "withdrawn": N_CLIENTS - n_vacancies}
        provisional = Counter(offers[i][0] for i, r in results.items() if r[0][0] == 202)
        for vacancy_id in winners:
            trail_ = Counter(d.outcome for d in trail(s, Decision.vacancy_id == vacancy_id))
            assert trail_ == {"channel": 1, "offered": per_vacancy, "let": 1, "withdrawn": per_vacancy - 1,
                             **({"accepted": provisional[vacancy_id]} if provisional[vacancy_id] else {})}


def test_server_killed_during_a_stream_of_lettings(db_url, store, tokens, tmp_path):
    secret, org = tokens["org"]
    n = 20
    dwellings = seed_stock(store, org, dwellings=n)
    seed_applicants(store, org, n)
    server = Server(db_url, log_path=tmp_path / "server.log")
    server.extra_args = ["--rules", "store-order"]
    server.start()
    done = []
    stop = threading.Event()
    headers = {"Authorization": f"Bearer {secret}"}
    observed: dict[str, list[int]] = {"retries": []}

    def call(http: httpx.Client, path: str, key: str, body: dict) -> httpx.Response:
        """POST with retries after connection failures, always with the same idempotency key."""
        retries = 0
        while not stop.is_set():
            try:
                r = http.post(path, json=body, headers={**headers, "Idempotency-Key": key})
                if r.status_code < 500:
                    observed["retries"].append(retries)
                    return r
            except httpx.TransportError:
                pass
            retries += 1
            time.sleep(0.05)
        raise RuntimeError("stopped")

    def stream() -> None:
        with httpx.Client(base_url=server.base_url, timeout=10) as http:
            for i, dw in enumerate(dwellings):
                v = call(http, "/api/vacancies", f"vac-{i}", {"dwelling_id": dw, "available_from": "2025-01-01"})
                assert v.status_code == 201, v.text
                vid = v.json()["vacancy_id"]
                o = call(http, f"/api/vacancies/{vid}/offers", f"offer-{i}", {"count": 1})
                assert o.status_code == 201, o.text
                a = call(http, f"/api/offers/{o.json()['offers'][0]['offer_id']}/accept", f"accept-{i}", {})
                assert a.status_code == 201, a.text
                done.append((vid, a.json()["lease_id"]))

    errors: list[BaseException] = []
    worker = threading.Thread(target=lambda: _capture(stream, errors))
    worker.start()
    try:
        for kill_at in (6, 13):
            deadline = time.monotonic() + 120
            while len(done) < kill_at and worker.is_alive() and time.monotonic() < deadline:
                time.sleep(0.005)
            server.kill()
            time.sleep(0.2)
            server.start()
        worker.join(timeout=180)
    finally:
        stop.set()
        server.stop()
    assert not errors, errors
    assert len(done) == n
    assert max(observed["retries"]) >= 1  # the kills did interrupt requests
    with store.read() as s:
        assert s.scalar(select(func.count()).select_from(Vacancy)) == n
        assert s.scalar(select(func.count()).select_from(Offer)) == n
        leases = s.scalars(select(Lease)).all()
        assert len(leases) == n and len({x.vacancy_id for x in leases}) == n
        assert len({x.dwelling_id for x in leases}) == n
        assert sorted((x.vacancy_id, x.lease_id) for x in leases) == sorted(done)
        assert Counter(d.outcome for d in trail(s)) == {"channel": n, "offered": n, "let": n}


def _capture(fn, errors: list[BaseException]) -> None:
    try:
        fn()
    except BaseException as exc:  # noqa: BLE001 - reported by the test
        errors.append(exc)
