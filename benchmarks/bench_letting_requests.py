"""Where a full letting cycle's CPU goes, per request type, in the process (no HTTP layer; the
database server's CPU is not counted): register a vacancy (statutory share rules), one statutory
offer round over ~2,000 candidates, accept the first offer.

    PYTHONPATH=src python benchmarks/bench_letting_requests.py [--db POSTGRES_ADMIN_URL] [--applicants 2000]
        [--cycles 24] [--statements] [--profile KIND]

Without --db: a fresh SQLite file; with --db (e.g. $BOLIGMIX_TEST_PG_URL) a fresh database
`boligmix_bench_requests`. Prints per request type the CPU per request (`time.process_time`, after
five warm-up cycles) and the statements it sends to the database (`--statements`: their first
lines, of one cycle). `--profile register|offers|accept` prints the CPU profile (cProfile with
`time.process_time` as its clock, so waiting for the database is not counted) of that request type
(by own time, top 30).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from letting_bench_db import fresh_database, register_stock  # noqa: E402
from sqlalchemy import event  # noqa: E402

from boligmix.letting.store import service  # noqa: E402
from boligmix.letting.store.answers import accept_offer  # noqa: E402
from boligmix.letting.store.auth import Principal, create_token  # noqa: E402
from boligmix.letting.store.db import Store  # noqa: E402
from boligmix.letting.store.selection import default_offer_rules  # noqa: E402

WARM_UP = 5


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db", default=None)
    ap.add_argument("--applicants", type=int, default=2000)
    ap.add_argument("--cycles", type=int, default=24)
    ap.add_argument("--statements", action="store_true")
    ap.add_argument("--profile", choices=("register", "offers", "accept"), default=None)
    args = ap.parse_args()
    rules = default_offer_rules()
    with tempfile.TemporaryDirectory() as tmp:
        url = fresh_database(args.db, "boligmix_bench_requests", tmp)
        store = Store(url)
        sent: list[str] = []
        event.listen(store.engine, "before_cursor_execute",
                     lambda conn, cursor, statement, *rest: sent.append(statement.strip().split("\n")[0][:100]))

        def token(s):  # type: ignore[no-untyped-def]
            _, row = create_token(s, name="bench", role="housing_organisation", scope=["ORG"])
            return Principal(row.token_id, row.name, row.role, frozenset(row.scope))
        org = store.transact(token)
        dwellings = 2 * (args.cycles + WARM_UP) + 8  # every fourth vacancy is the municipality's (1/4 share)

        store.transact(lambda s: register_stock(s, org, dwellings, args.applicants, "B"))
        cpu = {"register": 0.0, "offers": 0.0, "accept": 0.0}
        statements = {k: 0 for k in cpu}
        shown: dict[str, list[str]] = {}
        profile = cProfile.Profile(time.process_time)
        done = 0
        for dwelling in range(1, dwellings + 1):
            if done == WARM_UP + args.cycles:
                break
            timed = done >= WARM_UP
            for kind in cpu:
                sent.clear()
                t0 = time.process_time()
                if timed and kind == args.profile:
                    profile.enable()
                if kind == "register":
                    v = store.transact(lambda s: service.register_vacancy(
                        s, org, {"dwelling_id": dwelling, "available_from": date(2025, 1, 1)}, rules=rules))
                    if v["channel"] != "waiting_list":  # the municipality's quarter: no referral list here
                        break
                elif kind == "offers":
                    made = store.transact(lambda s: service.make_offers(s, org, v["vacancy_id"], with_decisions=False))
                else:
                    store.transact(lambda s: accept_offer(s, org, made["offers"][0]["offer_id"], rules=rules))
                if timed and kind == args.profile:
                    profile.disable()
                if timed:
                    cpu[kind] += time.process_time() - t0
                    statements[kind] += len(sent)
                    shown.setdefault(kind, list(sent))
            else:
                done += 1
        n = done - WARM_UP
        total = sum(cpu.values())
        print(f"{store.dialect}: {args.applicants} applicants, {n} cycles; CPU per cycle {1000 * total / n:.1f} ms "
              f"(in the process, without HTTP and the database server); load "
              f"{' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
        for kind in cpu:
            print(f"  {kind}: {1000 * cpu[kind] / n:.1f} ms CPU, {statements[kind] / n:.0f} statements per request")
            if args.statements:
                for line in shown.get(kind, []):
                    print(f"      {line}")
        store.engine.dispose()
        if args.profile:
            pstats.Stats(profile).sort_stats("tottime").print_stats(30)


if __name__ == "__main__":
    main()
