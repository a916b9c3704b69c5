"""Where a full letting cycle's CPU goes, per request type, in the process (no HTTP layer; the
database server's CPU is not counted): register a vacancy (statutory share rules), one statutory
offer round over ~2,000 candidates, accept the first offer; the municipality's quarter of the
vacancies (the statutory 1/4, as in bench_letting_api.py) is offered from its referral list of
`--applicants / 4` referrals and accepted by the municipality, timed apart ("referral offers",
"referral accept"; "register" counts every registration).

    PYTHONPATH=src python benchmarks/bench_letting_requests.py [--db POSTGRES_ADMIN_URL] [--applicants 2000]
        [--cycles 24] [--statements] [--profile KIND]

Without --db: a fresh SQLite file; with --db (e.g. $BOLIGMIX_TEST_PG_URL) a fresh database
`boligmix_bench_requests`. Prints per request type the CPU per request (`time.process_time`, after
five warm-up cycles) and the statements it sends to the database (`--statements`: their first
lines, of one cycle). `--profile register|offers|accept|"referral offers"|"referral accept"` prints the CPU profile (cProfile with
`time.process_time` as its clock, so waiting for the database is not counted) of that request type
(by own time, top 30). `--parts` prints the median CPU per call of the parts of an offer round
(`rounds.make_offers` and the functions it calls, `EngineRules.plan`, `LettingEngine.next_offers`,
`kept_ranking.preranked`: each wrapped with `time.process_time`, every round including the
warm-up; the median leaves out the kept ranking's first build).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
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
    ap.add_argument("--parts", action="store_true")
    ap.add_argument("--profile", choices=("register", "offers", "accept", "referral offers", "referral accept"),
                    default=None)
    args = ap.parse_args()
    rules = default_offer_rules()
    parts = _time_parts() if args.parts else None
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

        def muni_token(s):  # type: ignore[no-untyped-def]
            _, row = create_token(s, name="bench-kommune", role="municipality", scope=["101"])
            return Principal(row.token_id, row.name, row.role, frozenset(row.scope))
        muni = store.transact(muni_token)
        dwellings = 2 * (args.cycles + WARM_UP) + 8  # every fourth vacancy is the municipality's (1/4 share)

        store.transact(lambda s: register_stock(s, org, dwellings, args.applicants, "B"))

        def referrals(s):  # type: ignore[no-untyped-def]  # as bench_letting_api: a quarter as many referrals
            for i in range(max(args.applicants // 4, 1)):
                service.create_applicant(s, muni, {"applicant_id": 500_000 + i, "household_id": 600_000 + i,
                                                   "list_type": "municipal_referral", "municipality_code": 101,
                                                   "household_size": 3, "seniority_date": date(2010, 1, 1)})
        store.transact(referrals)
        cpu = {"register": 0.0, "offers": 0.0, "accept": 0.0, "referral offers": 0.0, "referral accept": 0.0}
        rounds = {k: 0 for k in cpu}
        statements = {k: 0 for k in cpu}
        shown: dict[str, list[str]] = {}
        profile = cProfile.Profile(time.process_time)
        done = 0
        for dwelling in range(1, dwellings + 1):
            if done == WARM_UP + args.cycles:
                break
            timed = done >= WARM_UP
            referral = False
            for kind in ("register", "offers", "accept"):
                if referral:  # the municipality's quarter: its round over its referral list, its acceptance
                    kind = f"referral {kind}"
                who = muni if referral else org
                sent.clear()
                t0 = time.process_time()
                if timed and kind == args.profile:
                    profile.enable()
                if kind == "register":
                    v = store.transact(lambda s: service.register_vacancy(
                        s, org, {"dwelling_id": dwelling, "available_from": date(2025, 1, 1)}, rules=rules))
                    referral = v["channel"] != "waiting_list"
                elif kind.endswith("offers"):
                    made = store.transact(lambda s: service.make_offers(s, who, v["vacancy_id"], with_decisions=False))
                else:
                    store.transact(lambda s: accept_offer(s, who, made["offers"][0]["offer_id"], rules=rules))
                if timed and kind == args.profile:
                    profile.disable()
                if timed:
                    cpu[kind] += time.process_time() - t0
                    statements[kind] += len(sent)
                    rounds[kind] += 1
                    shown.setdefault(kind, list(sent))
            if not referral:
                done += 1
        n = done - WARM_UP
        total = sum(cpu.values())
        print(f"{store.dialect}: {args.applicants} applicants, {n} cycles (and {rounds['referral offers']} of the "
              f"municipality's referral vacancies, {args.applicants // 4} referrals); CPU per waiting-list cycle "
              f"{1000 * sum(cpu[k] / max(rounds[k], 1) for k in ('register', 'offers', 'accept')):.1f} ms, per letting of the mix "
              f"{1000 * total / (n + rounds['referral offers']):.1f} ms (in the process, without HTTP and the "
              f"database server); load {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
        for kind in cpu:
            k = max(rounds[kind], 1)
            print(f"  {kind}: {1000 * cpu[kind] / k:.1f} ms CPU, {statements[kind] / k:.0f} statements per request")
            if args.statements:
                for line in shown.get(kind, []):
                    print(f"      {line}")
        store.engine.dispose()
        if parts is not None:
            for name, took in sorted(parts.items(), key=lambda kv: -statistics.median(kv[1])):
                print(f"  part {name}: median {1000 * statistics.median(took):.2f} ms, mean {1000 * statistics.fmean(took):.2f} "
                      f"ms CPU per call ({len(took)} calls)")
        if args.profile:
            pstats.Stats(profile).sort_stats(os.environ.get("BENCH_PROFILE_SORT", "tottime")).print_stats(30)


def _time_parts() -> dict[str, list[float]]:
    """Wrap the parts of an offer round with CPU timers; the CPU per call of each, by name."""
    import importlib

    took: dict[str, list[float]] = {}

    def wrap(owner: object, name: str, label: str) -> None:
        fn = getattr(owner, name, None)
        if fn is None:  # a part this code does not have (an older commit)
            return

        def timed(*a, **k):  # type: ignore[no-untyped-def]
            t0 = time.process_time()
            try:
                return fn(*a, **k)
            finally:
                took.setdefault(label, []).append(time.process_time() - t0)
        setattr(owner, name, timed)

    rounds = importlib.import_module("boligmix.letting.store.rounds")
    for name in ("make_offers", "_candidates", "_entitlements", "_lock_first_offerable", "write_round",
                 "_insert_in_rank_order", "locked_vacancy_context_pg", "_queue_on_list", "_one_entry_per_household",
                 "round_start_pg"):
        wrap(rounds, name, name)
    wrap(importlib.import_module("boligmix.letting.store.trail"), "pack_below", "pack_below")
    wrap(importlib.import_module("boligmix.letting.store.engine_rules").EngineRules, "plan", "EngineRules.plan")
    wrap(importlib.import_module("boligmix.letting.engine").LettingEngine, "next_offers", "LettingEngine.next_offers")
    try:
        wrap(importlib.import_module("boligmix.letting.store.kept_ranking"), "preranked", "kept_ranking.preranked")
    except ImportError:  # before the kept ranking
        pass
    return took


if __name__ == "__main__":
    main()
