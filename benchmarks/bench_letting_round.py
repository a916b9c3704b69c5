"""CPU of one letting cycle in the process: register a vacancy + one statutory offer round over
~2,000 candidates (no HTTP layer; the database server's CPU is not counted).

    PYTHONPATH=src python benchmarks/bench_letting_round.py [--db POSTGRES_ADMIN_URL] [--applicants 2000]
        [--rounds 8] [--profile]

Without --db: a fresh SQLite file in a temporary directory; with --db (e.g. $BOLIGMIX_TEST_PG_URL)
a fresh database `boligmix_bench_round`. One organisation, households of three on its external
list, 3-room dwellings; one warm-up cycle, then `--rounds` cycles timed with `time.process_time`.
`--profile` prints the cProfile of the timed cycles (cumulative, top 40).
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

from boligmix.letting.store import service  # noqa: E402
from boligmix.letting.store.auth import Principal, create_token  # noqa: E402
from boligmix.letting.store.db import Store  # noqa: E402


PREVIOUS_MS = {"postgresql": 56, "sqlite": 64}
"""CPU per cycle with 2,000 applicants before the compact ranking (docs/letting.md; before the compact
trail and the round caches: PostgreSQL 245 ms, SQLite 217 ms)."""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db", default=None)
    ap.add_argument("--applicants", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = fresh_database(args.db, "boligmix_bench_round", tmp)
        store = Store(url)

        def token(s):  # type: ignore[no-untyped-def]
            _, row = create_token(s, name="bench", role="housing_organisation", scope=["ORG"])
            return Principal(row.token_id, row.name, row.role, frozenset(row.scope))
        org = store.transact(token)

        store.transact(lambda s: register_stock(s, org, 4 * (args.rounds + 1), args.applicants, "B"))

        def cycle(dwelling_id: int) -> int | None:
            def op(s):  # type: ignore[no-untyped-def]
                v = service.register_vacancy(s, org, {"dwelling_id": dwelling_id, "available_from": date(2025, 1, 1)})
                if v["channel"] != "waiting_list":  # the municipality's quarter: no referral list here
                    return None
                return sum(service.make_offers(s, org, v["vacancy_id"], with_decisions=False)["outcomes"].values())
            return store.transact(op)

        dwelling = 1
        while cycle(dwelling) is None:  # warm-up
            dwelling += 1
        profile = cProfile.Profile()
        done, decisions, t0 = 0, 0, time.process_time()
        while done < args.rounds:
            dwelling += 1
            if args.profile:
                profile.enable()
            n = cycle(dwelling)
            if args.profile:
                profile.disable()
            if n is not None:
                done, decisions = done + 1, decisions + n
        cpu = time.process_time() - t0
        ms = 1000 * cpu / done
        before = PREVIOUS_MS.get(store.dialect) if args.applicants == 2000 else None
        print(f"{store.dialect}: {args.applicants} applicants, {done} cycles, "
              f"{decisions / done:.0f} decisions per round; CPU per cycle (register + round) {ms:.0f} ms"
              + (f"; {before / ms:.1f} times less than before ({before} ms)" if before else "")
              + f"; load {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
        store.engine.dispose()
        if args.profile:
            pstats.Stats(profile).sort_stats("cumulative").print_stats(40)


if __name__ == "__main__":
    main()
