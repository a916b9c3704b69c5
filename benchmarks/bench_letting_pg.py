"""PostgreSQL's CPU per letting, per request type, in the process (no HTTP layer): the cycle of
`bench_letting_requests.py` (register a vacancy, one statutory offer round over ~2,000 candidates,
accept the first offer; every fourth vacancy the municipality's, offered from its referral list)
with the CPU of the database cluster's processes counted around each request.

    PYTHONPATH=src python benchmarks/bench_letting_pg.py --db POSTGRES_ADMIN_URL [--applicants 2000]
        [--cycles 96] [--statements 25] [--explain] [--perf FILE]

The cluster's CPU is read from `/proc/PID/schedstat` (nanoseconds on the CPU) of the postmaster and
every process it started (the benchmark's backend, the WAL writer, the checkpointer, ...), so it
counts what the database does for the request (a commit's WAL flush and deferred triggers included;
another client of the same cluster would be counted too). After the seed the database is
`VACUUM ANALYZE`d (as `bench_letting_api.py` does). Prints, after five warm-up cycles, per request
type the cluster's CPU and the client's CPU per request, per letting of the mix, and the cluster's
CPU by kind of process and as user and system time. `--statements N`: when the cluster preloads
pg_stat_statements (`track = all`; `track_planning = on` for planning times), the N statements with
the most execution and planning time per letting (reset after the warm-up; statements of the
accept function and of triggers included, marked `(nested)`). `--explain`: EXPLAIN (ANALYZE,
BUFFERS) of the round's lock-ahead on the first 64 entries of the list, 4 wanted: the statement
before migration 0020 (custom and generic plan) and the function of 0020. `--perf FILE`: `perf
record -g` of the benchmark's backends during the timed cycles.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from letting_bench_db import fresh_database, register_stock  # noqa: E402
from sqlalchemy import text  # noqa: E402

from boligmix.letting.store import service  # noqa: E402
from boligmix.letting.store.answers import accept_offer  # noqa: E402
from boligmix.letting.store.auth import Principal, create_token  # noqa: E402
from boligmix.letting.store.db import Store  # noqa: E402
from boligmix.letting.store.selection import default_offer_rules  # noqa: E402

WARM_UP = 5
KINDS = ("register", "offers", "accept", "referral register", "referral offers", "referral accept")


def cluster_pids(postmaster: int) -> list[int]:
    """The postmaster and the processes it started."""
    out = [postmaster]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                raw = (entry / "stat").read_text()
            except OSError:
                continue
            if int(raw[raw.rindex(")") + 2:].split()[1]) == postmaster:
                out.append(int(entry.name))
    return out


def cluster_cpu_by_kind(postmaster: int) -> dict[str, float]:
    """CPU seconds so far per kind of cluster process (backends of this benchmark's database, WAL
    writer, checkpointer, autovacuum workers, ...: the process title without its details)."""
    out: dict[str, float] = {}
    for pid in cluster_pids(postmaster):
        try:
            ns = int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])
            title = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        kind = "backends" if "boligmix_bench_pg" in title else (title.split(":", 1)[-1].strip().split(" ")[0]
                                                                if pid != postmaster else "postmaster")
        out[kind] = out.get(kind, 0.0) + ns / 1e9
    return out


def cluster_user_sys(postmaster: int) -> tuple[float, float]:
    """User and system CPU seconds so far of the cluster's processes (clock ticks)."""
    user = system = 0
    for pid in cluster_pids(postmaster):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        user, system = user + int(fields[11]), system + int(fields[12])
    ticks = os.sysconf("SC_CLK_TCK")
    return user / ticks, system / ticks


def cluster_cpu(postmaster: int) -> float:
    """CPU seconds so far of the cluster's processes (a process gone meanwhile is not counted)."""
    total = 0
    for pid in cluster_pids(postmaster):
        try:
            total += int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])
        except OSError:
            continue
    return total / 1e9


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db", required=True)
    ap.add_argument("--applicants", type=int, default=2000)
    ap.add_argument("--cycles", type=int, default=96)
    ap.add_argument("--statements", type=int, default=0)
    ap.add_argument("--explain", action="store_true")
    ap.add_argument("--perf", default=None, help="record the timed cycles' backends with `perf record -g` into this file")
    args = ap.parse_args()
    rules = default_offer_rules()
    with tempfile.TemporaryDirectory() as tmp:
        url = fresh_database(args.db, "boligmix_bench_pg", tmp)
        store = Store(url)

        def token(s, name, role, scope):  # type: ignore[no-untyped-def]
            _, row = create_token(s, name=name, role=role, scope=scope)
            return Principal(row.token_id, row.name, row.role, frozenset(row.scope))
        org = store.transact(lambda s: token(s, "bench", "housing_organisation", ["ORG"]))
        muni = store.transact(lambda s: token(s, "bench-kommune", "municipality", ["101"]))
        dwellings = 2 * (args.cycles + WARM_UP) + 8
        store.transact(lambda s: register_stock(s, org, dwellings, args.applicants, "B"))

        def referrals(s):  # type: ignore[no-untyped-def]
            for i in range(max(args.applicants // 4, 1)):
                service.create_applicant(s, muni, {"applicant_id": 500_000 + i, "household_id": 600_000 + i,
                                                   "list_type": "municipal_referral", "municipality_code": 101,
                                                   "household_size": 3, "seniority_date": date(2010, 1, 1)})
        store.transact(referrals)
        with store.engine.connect() as c:
            c.commit()
            c.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))  # as bench_letting_api
        with store.engine.connect() as c:
            backend = c.scalar(text("SELECT pg_backend_pid()"))
            stats = "pg_stat_statements" in c.scalar(text("SHOW shared_preload_libraries"))
            if stats and args.statements:
                c.execute(text("CREATE EXTENSION IF NOT EXISTS pg_stat_statements"))
                c.commit()
        postmaster = int(Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()[1])
        pg = {k: 0.0 for k in KINDS}
        client = {k: 0.0 for k in KINDS}
        count = {k: 0 for k in KINDS}
        done = 0
        made: dict = {}
        wall0 = pg_total0 = 0.0
        for dwelling in range(1, dwellings + 1):
            if done == WARM_UP + args.cycles:
                break
            if done == WARM_UP and not wall0:
                if args.statements and stats:
                    with store.engine.connect() as c:
                        c.execute(text("SELECT pg_stat_statements_reset()"))
                        c.commit()
                wall0, pg_total0 = time.perf_counter(), cluster_cpu(postmaster)
                kinds0 = cluster_cpu_by_kind(postmaster)
                split0 = cluster_user_sys(postmaster)
                perf = _perf(postmaster, args.perf) if args.perf else None
            timed = done >= WARM_UP
            referral = False
            for step in ("register", "offers", "accept"):
                who = muni if referral and step != "register" else org
                p0, c0 = cluster_cpu(postmaster), time.process_time()
                if step == "register":
                    v = store.transact(lambda s: service.register_vacancy(
                        s, org, {"dwelling_id": dwelling, "available_from": date(2025, 1, 1)}, rules=rules))
                    referral = v["channel"] != "waiting_list"
                elif step == "offers":
                    made = store.transact(lambda s: service.make_offers(s, who, v["vacancy_id"], with_decisions=False))
                else:
                    store.transact(lambda s: accept_offer(s, who, made["offers"][0]["offer_id"], rules=rules))
                c1, p1 = time.process_time(), cluster_cpu(postmaster)
                kind = f"referral {step}" if referral else step
                if timed:
                    pg[kind] += p1 - p0
                    client[kind] += c1 - c0
                    count[kind] += 1
            if not referral:
                done += 1
        lettings = count["accept"] + count["referral accept"]
        pg_total = cluster_cpu(postmaster) - pg_total0
        kinds1 = cluster_cpu_by_kind(postmaster)
        split1 = cluster_user_sys(postmaster)
        if perf is not None:
            perf.send_signal(signal.SIGINT)
            perf.wait()
        load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
        print(f"postgresql: {args.applicants} applicants, {count['accept']} waiting-list and "
              f"{count['referral accept']} referral lettings; load {load}")
        print(f"  PostgreSQL CPU per letting of the mix {1000 * sum(pg.values()) / lettings:.2f} ms "
              f"(cluster over the whole timed run {1000 * pg_total / lettings:.2f} ms), client "
              f"{1000 * sum(client.values()) / lettings:.2f} ms; wall {time.perf_counter() - wall0:.1f} s")
        print("  the cluster's CPU per letting by process: " + ", ".join(
            f"{kind} {1000 * (kinds1[kind] - kinds0.get(kind, 0.0)) / lettings:.2f} ms"
            for kind in sorted(kinds1, key=lambda k: kinds0.get(k, 0.0) - kinds1[k])) + "; user "
            f"{1000 * (split1[0] - split0[0]) / lettings:.2f} ms, system {1000 * (split1[1] - split0[1]) / lettings:.2f} ms")
        for kind in KINDS:
            k = max(count[kind], 1)
            print(f"  {kind}: PostgreSQL {1000 * pg[kind] / k:.2f} ms, client {1000 * client[kind] / k:.2f} ms "
                  f"per request ({count[kind]})")
        if args.statements and stats:
            _statements(store, args.statements, lettings)
        if args.explain:
            _explain(store)
        store.engine.dispose()


def _perf(postmaster: int, out: str) -> subprocess.Popen:
    """`perf record` of this benchmark's backends (until SIGINT)."""
    pids = [pid for pid in cluster_pids(postmaster) if b"boligmix_bench_pg" in Path(f"/proc/{pid}/cmdline").read_bytes()]
    proc = subprocess.Popen(["perf", "record", "-F", "4000", "-g", "-o", out, "-p", ",".join(map(str, pids))],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    return proc


def _statements(store: Store, n: int, lettings: int) -> None:
    with store.read() as s:
        rows = s.execute(text(
            "SELECT toplevel, calls, total_exec_time + total_plan_time, rows, total_plan_time, query FROM pg_stat_statements "
            "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "ORDER BY total_exec_time + total_plan_time DESC LIMIT :n"), {"n": n}).all()
        top, plan = s.execute(text(
            "SELECT sum(total_exec_time), sum(total_plan_time) FROM pg_stat_statements WHERE toplevel AND "
            "dbid = (SELECT oid FROM pg_database WHERE datname = current_database())")).one()
    print(f"  pg_stat_statements: top-level execution time {float(top or 0) / lettings:.2f} ms per letting, "
          f"planning {float(plan or 0) / lettings:.2f} ms (when track_planning is on); by statement (execution and "
          f"planning ms per letting, of it planning, calls per letting, rows per call):")
    for toplevel, calls, ms, nrows, plan_ms, query in rows:
        q = " ".join(query.split())[:150]
        print(f"    {ms / lettings:6.3f} ms ({plan_ms / lettings:5.3f}) {calls / lettings:5.2f} x {nrows / max(calls, 1):7.1f} rows "
              f"{'' if toplevel else '(nested) '}{q}")


_OLD_LOCK_AHEAD = """
SELECT a.entry_id FROM applicants a
WHERE a.entry_id = ANY($1) AND a.status = 'active'
  AND NOT EXISTS (SELECT 1 FROM offers o WHERE o.applicant_id = a.applicant_id AND o.status IN ('open', 'accepted'))
  AND NOT EXISTS (SELECT 1 FROM offers o WHERE o.household_id = a.household_id AND o.status IN ('open', 'accepted'))
ORDER BY array_position($1, a.entry_id)
LIMIT $2
FOR UPDATE OF a SKIP LOCKED"""
"""The lock-ahead statement before migration 0020 (for `--explain`)."""


def _explain(store: Store) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of the lock-ahead on the first 64 free entries of the list, 4 wanted:
    the statement before migration 0020 (custom and generic plan) and the function of 0020."""
    with store.engine.connect() as c:
        ids = [r[0] for r in c.execute(text(
            "SELECT entry_id FROM applicants WHERE list_owner = 'ORG' AND status = 'active' "
            "ORDER BY seniority_date, entry_id LIMIT 64"))]
        array = "'{" + ",".join(map(str, ids)) + "}'::integer[]"
        new = c.scalar(text("SELECT count(*) FROM pg_proc WHERE proname = 'boligmix_lock_first_offerable'"))
        c.rollback()
        runs = [(f"statement before 0020, {mode}", f"SET plan_cache_mode = {mode}",
                 f"EXPLAIN (ANALYZE, BUFFERS) EXECUTE lock_ahead({array}, 4)")
                for mode in ("force_custom_plan", "force_generic_plan")]
        if new:
            runs.append(("function of 0020", "SET plan_cache_mode = auto",
                         f"EXPLAIN (ANALYZE, BUFFERS) SELECT boligmix_lock_first_offerable({array}, 4)"))
        for label, setting, sql in runs:
            for _ in range(3):  # warm: the function's statements planned and cached (the last run shown)
                c.exec_driver_sql("DEALLOCATE ALL")
                c.exec_driver_sql(setting)
                c.exec_driver_sql("PREPARE lock_ahead(integer[], integer) AS " + _OLD_LOCK_AHEAD)
                plan = c.exec_driver_sql(sql).all()
                c.rollback()
            print(f"  EXPLAIN (ANALYZE, BUFFERS) of the lock-ahead (64 ids, 4 wanted), {label}:")
            for (line,) in plan:
                print("    " + line)


if __name__ == "__main__":
    main()
