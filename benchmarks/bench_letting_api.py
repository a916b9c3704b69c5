"""Lettings per second through the HTTP letting API, 16 concurrent clients, PostgreSQL.

    PYTHONPATH=src python benchmarks/bench_letting_api.py [--db POSTGRES_ADMIN_URL] [--vacancies 3000]
        [--clients 16] [--workers 2] [--full-cycle 600]

The admin URL defaults to $BOLIGMIX_TEST_PG_URL (`scripts/test-postgres.sh start` prints it); the
benchmark creates and drops its own database `boligmix_bench`. A `boligmix serve` process runs on a
free loopback port. Phase 1: every vacancy has two competing offers; the clients accept all offers in
random order, so half of the accepts must win (201) and half must lose (409). Phase 2 (full cycle):
each letting is three requests (register vacancy, make an offer, accept). Both phases check the
database afterwards: exactly one lease per vacancy (zero double lettings) and every accept answered.
Phase 0 measures the HTTP stack alone (an authenticated GET without database work) as a ceiling.
Target: at least 500 lettings/s on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import queue
import random
import sys
import threading
import time
from datetime import date
from pathlib import Path

import httpx
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "letting_store"))

from boligmix.letting.store import service  # noqa: E402
from boligmix.letting.store.auth import Principal, create_token  # noqa: E402
from boligmix.letting.store.db import Store  # noqa: E402
from boligmix.letting.store.migrate import upgrade  # noqa: E402
from boligmix.letting.store.models import Lease  # noqa: E402
from letting_server import Server  # noqa: E402

TARGET = 500.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(match) -> float:  # type: ignore[no-untyped-def]
    """User + system CPU seconds of the processes `match(pid, ppid, comm)` selects (from /proc)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        comm = raw[raw.index("(") + 1:raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2:].split()
        if match(int(entry.name), int(fields[1]), comm):
            total += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return total


def stack_cpu(server_pid: int) -> tuple[float, float, float]:
    """CPU seconds so far of the server (and its workers), PostgreSQL, and this client process."""
    return (cpu_seconds(lambda pid, ppid, comm: pid == server_pid or ppid == server_pid),
            cpu_seconds(lambda pid, ppid, comm: comm.startswith("postgres")), time.process_time())


def fresh_database(admin_url: str, name: str) -> str:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        c.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    return url


def seed(store: Store, n_vacancies: int, n_spare_dwellings: int) -> tuple[str, list[int], list[int]]:
    def op(s):  # type: ignore[no-untyped-def]
        secret, row = create_token(s, name="bench", role="housing_organisation", scope=["ORG"])
        return secret, Principal(row.token_id, row.name, row.role, frozenset(row.scope))
    secret, org = store.transact(op)
    n_dwellings = n_vacancies + n_spare_dwellings

    def stock(s):  # type: ignore[no-untyped-def]
        service.register_department(s, org, {"department_id": "D1", "org_id": "ORG", "department_name": "Bench",
                                             "municipality_code": 101})
        for i in range(n_dwellings):
            service.register_dwelling(s, org, {"dwelling_id": i + 1, "department_id": "D1", "rooms": 3,
                                               "floor_area_m2": 70.0, "monthly_rent_dkk": 6000.0})
        for i in range(2 * n_vacancies + n_spare_dwellings):
            service.create_applicant(s, org, {"applicant_id": 10_000 + i, "household_id": 20_000 + i,
                                              "list_type": "external", "org_id": "ORG",
                                              "seniority_date": date(2000, 1, 1)})
    store.transact(stock)

    offer_ids: list[int] = []
    for start in range(0, n_vacancies, 200):
        def offers(s, start=start):  # type: ignore[no-untyped-def]
            out = []
            for dw in range(start + 1, min(start + 200, n_vacancies) + 1):
                v = service.register_vacancy(s, org, {"dwelling_id": dw, "available_from": date(2025, 1, 1)})
                out += [o["offer_id"] for o in service.make_offers(s, org, v["vacancy_id"], 2)["offers"]]
            return out
        offer_ids += store.transact(offers)
    spare = list(range(n_vacancies + 1, n_dwellings + 1))
    return secret, offer_ids, spare


def run_clients(n_clients: int, base_url: str, secret: str, work: list, job) -> tuple[float, list]:  # type: ignore[no-untyped-def]
    q: queue.Queue = queue.Queue()
    for item in work:
        q.put(item)
    results: list = []
    lock = threading.Lock()
    barrier = threading.Barrier(n_clients + 1)

    def client() -> None:
        headers = {"Authorization": f"Bearer {secret}"}
        with httpx.Client(base_url=base_url, headers=headers, timeout=60) as http:
            barrier.wait()
            local = []
            while True:
                try:
                    item = q.get_nowait()
                except queue.Empty:
                    break
                local.append(job(http, item))
            with lock:
                results.extend(local)

    threads = [threading.Thread(target=client) for _ in range(n_clients)]
    for t in threads:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    return time.perf_counter() - t0, results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db", default=os.environ.get("BOLIGMIX_TEST_PG_URL"))
    ap.add_argument("--vacancies", type=int, default=3000)
    ap.add_argument("--full-cycle", type=int, default=600, help="lettings in the full-cycle phase")
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    if not args.db:
        sys.exit("give --db or set BOLIGMIX_TEST_PG_URL (scripts/test-postgres.sh start prints it)")
    url = fresh_database(args.db, "boligmix_bench")
    store = Store(url)
    t0 = time.perf_counter()
    secret, offer_ids, spare = seed(store, args.vacancies, args.full_cycle)
    print(f"seeded {args.vacancies} vacancies with 2 offers each and {len(spare)} spare dwellings "
          f"in {time.perf_counter() - t0:.1f} s")
    random.Random(20241201).shuffle(offer_ids)

    server = Server(url)
    server_cmd_workers = args.workers
    server.extra_args = ["--workers", str(server_cmd_workers), "--rules", "store-order"]
    server.start()
    try:
        def whoami(http: httpx.Client, _i: int) -> int:
            return http.get("/api/whoami").status_code
        elapsed0, statuses0 = run_clients(args.clients, server.base_url, secret, list(range(1600)), whoami)
        print(f"phase 0, HTTP stack alone (GET /api/whoami, no database work): "
              f"{len(statuses0) / elapsed0:.0f} requests/s")

        def accept(http: httpx.Client, offer_id: int) -> int:
            return http.post(f"/api/offers/{offer_id}/accept").status_code
        cpu0 = stack_cpu(server.proc.pid)
        elapsed, statuses = run_clients(args.clients, server.base_url, secret, offer_ids, accept)
        cpu1 = stack_cpu(server.proc.pid)
        wins, losses = statuses.count(201), statuses.count(409)
        with store.read() as s:
            leases = s.scalar(select(func.count()).select_from(Lease))
            doubles = s.scalar(text("SELECT count(*) FROM (SELECT vacancy_id FROM leases GROUP BY vacancy_id "
                                    "HAVING count(*) > 1) d"))
        rate = wins / elapsed
        print(f"phase 1, competing accepts: {len(statuses)} requests in {elapsed:.2f} s with {args.clients} clients, "
              f"{args.workers} server workers: {wins} lettings (201), {losses} refused (409), "
              f"other {len(statuses) - wins - losses}")
        print(f"  lettings/s: {rate:.0f} (target {TARGET:.0f}, ratio {rate / TARGET:.2f}); "
              f"requests/s: {len(statuses) / elapsed:.0f}")
        used = [b - a for a, b in zip(cpu0, cpu1)]
        cpu_per_letting = sum(used) / max(wins, 1)
        print(f"  CPU: server {used[0]:.1f} s, PostgreSQL {used[1]:.1f} s, client {used[2]:.1f} s; "
              f"{1000 * cpu_per_letting:.1f} ms per letting; "
              f"projected on 2 idle cores: {2 / cpu_per_letting:.0f} lettings/s (an estimate, not a measurement)")
        print(f"  check: leases in the database {leases} == vacancies {args.vacancies}: "
              f"{leases == args.vacancies}; vacancies let twice: {doubles}")
        ok = leases == args.vacancies == wins and doubles == 0 and losses == args.vacancies

        def cycle(http: httpx.Client, dwelling_id: int) -> int:
            v = http.post("/api/vacancies", json={"dwelling_id": dwelling_id, "available_from": "2025-06-01"})
            o = http.post(f"/api/vacancies/{v.json()['vacancy_id']}/offers", json={"count": 1})
            if not o.json().get("offers"):
                return -1  # no applicant free to get an offer (not expected: counted as a failure)
            return http.post(f"/api/offers/{o.json()['offers'][0]['offer_id']}/accept").status_code
        elapsed2, statuses2 = run_clients(args.clients, server.base_url, secret, spare, cycle)
        with store.read() as s:
            leases2 = s.scalar(select(func.count()).select_from(Lease))
        rate2 = statuses2.count(201) / elapsed2
        print(f"phase 2, full cycle (vacancy + offer + accept): {statuses2.count(201)} lettings in {elapsed2:.2f} s: "
              f"{rate2:.0f} lettings/s ({3 * rate2:.0f} requests/s)")
        print(f"  check: leases {leases2} == {args.vacancies + len(spare)}: {leases2 == args.vacancies + len(spare)}")
        ok = ok and leases2 == args.vacancies + len(spare)
        print("RESULT:", "OK" if ok else "FAILED", f"lettings/s {rate:.0f} vs target {TARGET:.0f}")
    finally:
        server.stop()
        store.dispose()
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
