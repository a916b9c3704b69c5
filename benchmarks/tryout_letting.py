"""Issue 11's tryout: letting integrity under load, crashes of the server and of PostgreSQL.

    PYTHONPATH=src python benchmarks/tryout_letting.py [--db POSTGRES_ADMIN_URL] [--clients 48]
        [--dwellings-per-department 30] [--workers 2] [--no-pg-kill] [--seed 11]

On a fresh database `boligmix_tryout` (dropped first) it seeds 4 organisations with 7 departments
between them in municipality 101, a municipality token with a referral list, and households on several
lists: each organisation's external and internal lists (some households on both), the same pseudonymous
person on two organisations' lists, and persons on an organisation's list and the referral list.
`boligmix serve --workers 2` (the statutory engine rules, the default) then takes a mixed stream from
48 concurrent clients: new registrations, vacancies, offer rounds of three, accepts and refusals in
random order. Mid-stream the server is killed with SIGKILL (and restarted) once, and PostgreSQL is
stopped with `pg_ctl stop -m immediate` (and started again) once; clients retry connection errors and
503s with their Idempotency-Keys. Afterwards the database is checked: no vacancy let twice, no
household (by person id or household id, across entries and organisations) with two leases or two open
offers (also sampled during the stream), every lease to the best-ranked acceptor, every 201 the
clients saw is a lease in the database, no answer 500 (503 while the database is down is right), no
applicant or person id in the server's log. Prints `RESULT: OK` (exit 0) or `RESULT: FAILED <what>`
(exit 1).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests" / "letting_store"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_letting_api import load_average  # noqa: E402
from letting_bench_db import fresh_database  # noqa: E402
from letting_server import Server  # noqa: E402

from boligmix.letting.store import service  # noqa: E402
from boligmix.letting.store.auth import Principal, create_token  # noqa: E402
from boligmix.letting.store.db import Store  # noqa: E402

ORGS = {"ORG1": ["D11", "D12"], "ORG2": ["D21", "D22"], "ORG3": ["D31", "D32"], "ORG4": ["D41"]}
MUNICIPALITY = 101
PERSON0, HOUSEHOLD0 = 7_300_000, 8_400_000
"""Person and household ids are 73xxxxx and 84xxxxx: distinctive, so the log check finds them."""
ID_PATTERN = re.compile(rb"\b(73\d{5}|84\d{5})\b|applicant:\d")
MUNI_CHANNELS = ("kommunal_anvisning", "rehousing", "udslusning")
UNKNOWN_OFFER = 2_000_000_000


def seed(store: Store, per_department: int, per_org: int, rng: random.Random) -> dict[str, Any]:
    """Tokens, departments, dwellings and lists; returns the secrets, dwellings by organisation and ids."""
    def tokens(s):  # type: ignore[no-untyped-def]
        out = {}
        for org in ORGS:
            secret, row = create_token(s, name=f"tryout-{org}", role="housing_organisation", scope=[org])
            out[org] = (secret, Principal(row.token_id, row.name, row.role, frozenset(row.scope)))
        secret, row = create_token(s, name="tryout-kommune", role="municipality", scope=[str(MUNICIPALITY)])
        out["kommune"] = (secret, Principal(row.token_id, row.name, row.role, frozenset(row.scope)))
        return out
    tok = store.transact(tokens)
    dwellings: dict[str, list[int]] = {org: [] for org in ORGS}
    next_person = [PERSON0]
    counts = Counter()

    def person() -> tuple[int, int]:
        next_person[0] += 1
        return next_person[0], HOUSEHOLD0 + (next_person[0] - PERSON0)

    def entry(s, who: str, pid: int, hid: int, list_type: str, **extra: Any) -> None:  # type: ignore[no-untyped-def]
        body = {"applicant_id": pid, "household_id": hid, "list_type": list_type, "household_size": 3,
                "seniority_date": date(2000, 1, 1) + timedelta(days=rng.randrange(6000)), **extra}
        if list_type == "municipal_referral":
            body["municipality_code"] = MUNICIPALITY
        else:
            body["org_id"] = who
        service.create_applicant(s, tok[who if list_type != "municipal_referral" else "kommune"][1], body)
        counts[list_type] += 1

    def stock(s):  # type: ignore[no-untyped-def]
        dw = 1
        for org, departments in ORGS.items():
            p = tok[org][1]
            for d in departments:
                service.register_department(s, p, {"department_id": d, "org_id": org, "department_name": f"Afd. {d}",
                                                   "municipality_code": MUNICIPALITY})
                for _ in range(per_department):
                    service.register_dwelling(s, p, {"dwelling_id": dw, "department_id": d, "rooms": 3,
                                                     "floor_area_m2": 75.0, "monthly_rent_dkk": 6500.0})
                    dwellings[org].append(dw)
                    dw += 1
        orgs = list(ORGS)
        for org in orgs:
            for i in range(per_org):
                pid, hid = person()
                entry(s, org, pid, hid, "external")
                if i % 5 == 0:  # a tenant of the organisation, also on its internal list
                    entry(s, org, pid, hid, "internal", current_department_id=ORGS[org][0])
                    counts["internal+external"] += 1
                if i % 4 == 1:  # the same pseudonymous person on another organisation's list
                    entry(s, orgs[(orgs.index(org) + 1) % len(orgs)], pid, hid, "external")
                    counts["two organisations"] += 1
                if i % 6 == 2:  # and on the municipality's referral list
                    entry(s, "kommune", pid, hid, "municipal_referral")
                    counts["organisation+referral"] += 1
            for _ in range(per_org // 5):  # internal-only tenants
                pid, hid = person()
                entry(s, org, pid, hid, "internal", current_department_id=ORGS[org][-1])
        for _ in range(per_org // 2):
            pid, hid = person()
            entry(s, "kommune", pid, hid, "municipal_referral")
    store.transact(stock)
    return {"secrets": {k: v[0] for k, v in tok.items()}, "dwellings": dwellings, "next_person": next_person,
            "counts": counts}


class Tally:
    """What the clients saw: statuses by route, retries, 500s, final answers of accepts."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.status: Counter = Counter()
        self.retries = 0
        self.replays = 0
        self.server_errors: list[str] = []
        self.won: dict[int, int] = {}      # offer_id -> vacancy_id, accept answered 201
        self.accepted: dict[int, int] = {}  # offer_id -> vacancy_id, accept answered 201 or 202
        self.gave_up: list[str] = []
        self.tasks_done = 0
        self.timeline: list[tuple[float, str, Any]] = []  # (time sent, route, status)
        self.windows: dict[str, list[float]] = {}  # outage name -> [start, end]


class Client:
    """One client's connection with retries: a connection error or a 503 is retried with the same
    Idempotency-Key until `patience` seconds have passed."""

    def __init__(self, base_url: str, tally: Tally, patience: float) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=60.0)
        self.tally, self.patience = tally, patience

    def call(self, method: str, path: str, secret: str, body: Any = None, route: str = "") -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {secret}"}
        if method == "POST":
            headers["Idempotency-Key"] = uuid.uuid4().hex
        deadline = time.monotonic() + self.patience
        while True:
            sent = time.monotonic()
            try:
                r = self.http.request(method, path, json=body, headers=headers)
            except httpx.TransportError as exc:
                status = None
                with self.tally.lock:
                    self.tally.status[(route or path, f"{type(exc).__name__} (no answer)")] += 1
                    self.tally.timeline.append((sent, route or path, f"{type(exc).__name__}"))
            else:
                status = r.status_code
                with self.tally.lock:
                    self.tally.status[(route or path, status)] += 1
                    self.tally.timeline.append((sent, route or path, status))
                    if r.headers.get("Idempotency-Replayed") == "true":
                        self.tally.replays += 1
                    if status >= 500 and status != 503:
                        self.tally.server_errors.append(f"{method} {route or path} -> {status}: {r.text[:200]}")
                if status != 503:
                    return status, (r.json() if r.content else None)
            if time.monotonic() > deadline:
                return -1, None
            with self.tally.lock:
                self.tally.retries += 1
            time.sleep(0.3 + random.random() * 0.4)


def letting_task(c: Client, secrets: dict[str, str], org: str, dwelling: int, rng: random.Random,
                 new_person: int | None, other_org: str) -> None:
    """One dwelling's letting: maybe a registration first, then the vacancy, up to four offer rounds of
    three, each offer accepted or refused in random order, until the vacancy is let or no one is left."""
    t = c.tally
    if new_person is not None:  # a new household on this organisation's and another's external list
        for who in (org, other_org):
            st, _ = c.call("POST", "/api/applicants", secrets[who], {
                "applicant_id": new_person, "household_id": HOUSEHOLD0 + (new_person - PERSON0),
                "list_type": "external", "org_id": who, "household_size": 3,
                "seniority_date": (date(2000, 1, 1) + timedelta(days=rng.randrange(6000))).isoformat()},
                route="register applicant")
    st, v = c.call("POST", "/api/vacancies", secrets[org], {"dwelling_id": dwelling, "available_from": "2025-06-01"},
                   route="register vacancy")
    if st != 201:
        t.gave_up.append(f"vacancy of dwelling {dwelling}: {st}")
        return
    vid = v["vacancy_id"]
    who = secrets["kommune"] if v.get("channel") in MUNI_CHANNELS else secrets[org]
    for _round in range(4):
        st, o = c.call("POST", f"/api/vacancies/{vid}/offers", who, {"count": 3}, route="offer round")
        if st != 201:
            if st == -1:
                t.gave_up.append(f"offers on vacancy {vid}")
            return
        offers = [x["offer_id"] for x in o.get("offers") or []]
        if not offers:
            return
        rng.shuffle(offers)
        for oid in offers:
            if rng.random() < 0.55:
                st, _ = c.call("POST", f"/api/offers/{oid}/accept", who, None, route="accept")
                with t.lock:
                    if st in (201, 202):
                        t.accepted[oid] = vid
                    if st == 201:
                        t.won[oid] = vid
            else:
                st, _ = c.call("POST", f"/api/offers/{oid}/refuse", who, {"reason": "tryout"}, route="refuse")
            if st == -1:
                t.gave_up.append(f"answer to offer {oid}")
        st, vac = c.call("GET", f"/api/vacancies/{vid}", who, route="read vacancy")
        if st != 200 or vac.get("status") != "open":
            return


OPEN_TWICE = ("SELECT count(*) FROM (SELECT {col} FROM offers WHERE status IN ('open', 'accepted') "
              "AND {col} IS NOT NULL GROUP BY {col} HAVING count(*) > 1) d")


def sample_open_offers(url: str, stop: threading.Event, worst: list[int]) -> None:
    """Every 0.5 s: households (by person id and by household id) holding two open or accepted offers."""
    engine = create_engine(url, pool_pre_ping=True)
    while not stop.is_set():
        try:
            with engine.connect() as c:
                n = max(c.scalar(text(OPEN_TWICE.format(col="applicant_id"))),
                        c.scalar(text(OPEN_TWICE.format(col="household_id"))))
            worst[0] = max(worst[0], n)
            worst[1] += 1
        except Exception:  # noqa: BLE001 - PostgreSQL is down for a moment: sample again later
            pass
        stop.wait(0.5)
    engine.dispose()


def pg_ctl(*args: str) -> None:
    """pg_ctl of the benchmark's cluster (scripts/test-postgres.sh's .pg/data), as its owner."""
    data = ROOT / ".pg" / "data"
    data_dir = os.readlink(data) if data.is_symlink() else str(data)
    bindir = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))[-1]
    cmd = [str(bindir / "pg_ctl"), "-D", data_dir, *args]
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    subprocess.run(cmd, check=True, cwd="/", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db", default=os.environ.get("BOLIGMIX_TEST_PG_URL"))
    ap.add_argument("--clients", type=int, default=48)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--dwellings-per-department", type=int, default=30)
    ap.add_argument("--applicants-per-org", type=int, default=150)
    ap.add_argument("--no-pg-kill", action="store_true", help="kill only the server, not PostgreSQL")
    ap.add_argument("--pg-down", type=float, default=4.0, help="seconds PostgreSQL stays down")
    ap.add_argument("--down-probes", type=int, default=40,
                    help="accepts of an unknown offer sent one by one while PostgreSQL is down (all must be 503)")
    ap.add_argument("--seed", type=int, default=11)
    args = ap.parse_args()
    if not args.db:
        sys.exit("give --db or set BOLIGMIX_TEST_PG_URL (scripts/test-postgres.sh start prints it)")
    rng = random.Random(args.seed)
    url = fresh_database(args.db, "boligmix_tryout")
    store = Store(url)
    t0 = time.perf_counter()
    seeded = seed(store, args.dwellings_per_department, args.applicants_per_org, rng)
    secrets, counts = seeded["secrets"], seeded["counts"]
    n_dw = sum(len(v) for v in seeded["dwellings"].values())
    print(f"seeded in {time.perf_counter() - t0:.1f} s: {len(ORGS)} organisations, "
          f"{sum(len(d) for d in ORGS.values())} departments, {n_dw} dwellings; list entries {dict(counts)}")
    tasks = []
    orgs = list(ORGS)
    next_person = seeded["next_person"][0]
    for org, dws in seeded["dwellings"].items():
        for dw in dws:
            new = None
            if rng.random() < 0.3:
                next_person += 1
                new = next_person
            tasks.append((org, dw, new, orgs[(orgs.index(org) + 2) % len(orgs)]))
    rng.shuffle(tasks)

    log_path = Path(tempfile.mkdtemp(prefix="tryout11-")) / "server.log"
    server = Server(url, log_path=log_path)
    server.extra_args = ["--workers", str(args.workers)]
    print(f"server: boligmix serve --workers {args.workers} (default rules); {args.clients} clients; "
          f"{len(tasks)} lettings to try; load average before: {load_average()}; log {log_path}")
    server.start()
    tally = Tally()
    stop = threading.Event()
    worst = [0, 0]
    sampler = threading.Thread(target=sample_open_offers, args=(url, stop, worst), daemon=True)
    sampler.start()
    work = iter(enumerate(tasks))
    work_lock = threading.Lock()
    events: list[str] = []

    def client_loop(i: int) -> None:
        c = Client(server.base_url, tally, patience=120.0)
        crng = random.Random(args.seed * 1000 + i)
        while True:
            with work_lock:
                item = next(work, None)
            if item is None:
                break
            _, (org, dw, new, other) = item
            try:
                letting_task(c, secrets, org, dw, crng, new, other)
            except Exception as exc:  # noqa: BLE001 - a client bug or an unexpected body: count it
                tally.gave_up.append(f"dwelling {dw}: {type(exc).__name__}: {exc}")
            with tally.lock:
                tally.tasks_done += 1

    def chaos() -> None:
        def wait_for(fraction: float) -> None:
            while tally.tasks_done < fraction * len(tasks) and any(t.is_alive() for t in threads):
                time.sleep(0.05)
        wait_for(0.25)
        t = time.perf_counter()
        tally.windows["server down"] = [time.monotonic()]
        server.kill()
        events.append(f"server SIGKILLed after {tally.tasks_done} lettings tried")
        server.start()
        tally.windows["server down"].append(time.monotonic())
        events.append(f"server restarted in {time.perf_counter() - t:.1f} s")
        if args.no_pg_kill:
            return
        wait_for(0.55)
        tally.windows["PostgreSQL down"] = [time.monotonic()]
        pg_ctl("stop", "-m", "immediate")
        events.append(f"PostgreSQL stopped (-m immediate) after {tally.tasks_done} lettings tried")
        # while it is down: accepts of an unknown offer, one after another, so that each worker's fast path
        # uses up its idle connections and must open new ones (every answer must be 503)
        probe = Client(server.base_url, tally, patience=0.0)
        down_until = time.monotonic() + args.pg_down
        probes: Counter = Counter()
        while time.monotonic() < down_until and sum(probes.values()) < args.down_probes:
            st, _ = probe.call("POST", f"/api/offers/{UNKNOWN_OFFER}/accept", secrets["ORG1"], None,
                               route="accept of an unknown offer while PostgreSQL is down")
            probes[st] += 1
        events.append("accepts of an unknown offer while PostgreSQL was down: "
                      + ", ".join(f"{'503 (after retry time)' if st == -1 else st} x {n}"
                                  for st, n in sorted(probes.items())))
        time.sleep(max(down_until - time.monotonic(), 0.0))
        subprocess.run(["bash", str(ROOT / "scripts" / "test-postgres.sh"), "start"], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        tally.windows["PostgreSQL down"].append(time.monotonic())
        events.append(f"PostgreSQL started again after {args.pg_down:.0f} s down")

    t1 = time.perf_counter()
    threads = [threading.Thread(target=client_loop, args=(i,)) for i in range(args.clients)]
    for th in threads:
        th.start()
    chaos_thread = threading.Thread(target=chaos)
    chaos_thread.start()
    for th in threads:
        th.join()
    chaos_thread.join()
    elapsed = time.perf_counter() - t1
    stop.set()
    sampler.join()
    server.stop()
    for e in events:
        print("  " + e)
    for name, (w0, w1) in tally.windows.items():  # requests sent while the server or the database was down
        during = Counter((route, str(st)) for t, route, st in tally.timeline if w0 <= t <= w1)
        print(f"  sent while {name} ({w1 - w0:.1f} s): " + ", ".join(
            f"{route} {st} x {n}" for (route, st), n in sorted(during.items())))
    by_route: dict[str, Counter] = {}
    for (route, status), n in tally.status.items():
        by_route.setdefault(route, Counter())[status] = n
    print(f"stream: {len(tasks)} lettings tried in {elapsed:.1f} s by {args.clients} clients; retries {tally.retries}, "
          f"replayed answers {tally.replays}; load average after: {load_average()}")
    for route, c in sorted(by_route.items()):
        print(f"  {route}: " + ", ".join(f"{s} x {n}" for s, n in sorted(c.items(), key=lambda x: str(x[0]))))

    engine = create_engine(url)
    failures = []
    with engine.connect() as c:
        q = lambda sql: c.scalar(text(sql))  # noqa: E731
        leases = q("SELECT count(*) FROM leases")
        vacancies = q("SELECT count(*) FROM vacancies")
        offers = q("SELECT count(*) FROM offers")
        let_twice = q("SELECT count(*) FROM (SELECT vacancy_id FROM leases GROUP BY vacancy_id HAVING count(*) > 1) d")
        person_twice = q("SELECT count(*) FROM (SELECT applicant_id FROM leases GROUP BY applicant_id "
                         "HAVING count(*) > 1) d")
        household_twice = q("SELECT count(*) FROM (SELECT household_id FROM leases WHERE household_id IS NOT NULL "
                            "GROUP BY household_id HAVING count(*) > 1) d")
        open_twice = max(q(OPEN_TWICE.format(col="applicant_id")), q(OPEN_TWICE.format(col="household_id")))
        not_best = c.execute(text(
            "SELECT x.vacancy_id, x.offer_id, o.offer_id FROM leases x JOIN offers o ON o.vacancy_id = x.vacancy_id "
            "AND o.offer_id < x.offer_id AND o.accepted_at IS NOT NULL")).all()
        lease_offers = {r[0]: r[1] for r in c.execute(text("SELECT offer_id, vacancy_id FROM leases"))}
        lease_by_vacancy = {v: o for o, v in lease_offers.items()}
        let_status = q("SELECT count(*) FROM vacancies WHERE status = 'let'")
        multi_list = q("SELECT count(DISTINCT x.applicant_id) FROM leases x JOIN applicants a "
                       "ON a.applicant_id = x.applicant_id AND a.entry_id <> x.entry_id")
    engine.dispose()
    lost = [o for o in tally.won if o not in lease_offers]
    # a 201 or 202 the client saw on a better-ranked offer than the lease's (rank decides)
    outranked = [(o, v) for o, v in tally.accepted.items() if v in lease_by_vacancy and o < lease_by_vacancy[v]]
    log = log_path.read_bytes()
    ids_in_log = sorted({m.group(0).decode() for m in ID_PATTERN.finditer(log)})
    print(f"database: {vacancies} vacancies, {offers} offers, {leases} leases ({let_status} vacancies 'let'); "
          f"leases to households with another list entry: {multi_list}")
    print(f"check: vacancies let twice: {let_twice}; persons with two leases: {person_twice}; households with two "
          f"leases: {household_twice}; households with two open offers now: {open_twice}, at most during the "
          f"stream: {worst[0]} ({worst[1]} samples)")
    print(f"check: leases with a better-ranked acceptance in the database: {len(not_best)}; accepts answered 201/202 "
          f"that rank above their vacancy's lease: {len(outranked)}; 201s the clients saw without a lease: "
          f"{len(lost)} (of {len(tally.won)}); answers 5xx other than 503: {len(tally.server_errors)}; "
          f"client tasks given up: {len(tally.gave_up)}; person ids in the server log ({len(log)} bytes): "
          f"{len(ids_in_log)}")
    for name, bad in (("vacancies let twice", let_twice), ("persons with two leases", person_twice),
                      ("households with two leases", household_twice),
                      ("households with two open offers", max(open_twice, worst[0])),
                      ("leases not to the best-ranked acceptor", len(not_best) + len(outranked)),
                      ("201s without a lease", len(lost)), ("server errors", len(tally.server_errors)),
                      ("client tasks given up", len(tally.gave_up)), ("person ids in the log", len(ids_in_log))):
        if bad:
            failures.append(f"{name}: {bad}")
    for detail in (not_best[:5], outranked[:5], lost[:5], tally.server_errors[:5], tally.gave_up[:5], ids_in_log[:5]):
        if detail:
            print("  e.g.", detail)
    if not events or (not args.no_pg_kill and len(events) < 4):
        failures.append("the kills did not happen mid-stream")
    if leases == 0:
        failures.append("nothing was let")
    store.dispose()
    print("RESULT: OK" if not failures else "RESULT: FAILED " + "; ".join(failures))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
