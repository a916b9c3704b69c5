"""Benchmark and diagnosis of one simulated year's housing market alone (boligmix.simulate.market).

`save` runs a replication up to the first year's market (start state, demography, seekers) and
pickles the state there; `run` reads it in a fresh process and lets that year's market run, with
CPU, lettings, engine rounds and peak memory; `--diagnose` adds the almen vacancies per month
(new, tried, let, carried over), the vacancies left at the year's end by rooms and the open
almen seekers by household size; `--underuse N` runs the market with the waiting list's
`max_rooms_over_persons` set to N (a diagnostic: how many unlet vacancies the size rule causes);
`--size-rule binding` with the size rule binding (the waiting list before version 2010-01-01.3).
`check-direct` runs the year four times, with the screened winners decided from the pools' columns
and let directly, decided from the window's applicants (`columns=False`, the row path), handed to
the engine (`direct=False`) and with every round's whole window handed to the engine (`screen=False`,
the oracles), and exits 1 unless lettings, households' dwellings and share counters agree.

    flock /work/bench.lock env PYTHONPATH=src python benchmarks/bench_simulate_market.py save \\
        --data /work/data/national-seed1 --prepared /tmp/s7-national-prepared.pkl --state /tmp/market-state.pkl
    flock /work/bench.lock env PYTHONPATH=src python benchmarks/bench_simulate_market.py run --state /tmp/market-state.pkl --diagnose
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import os
import pickle
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


class _Stop(Exception):
    pass


def save(data: str, prepared: str | None, state: str) -> None:
    from boligmix.simulate import replication
    from boligmix.simulate.run import prepare
    from boligmix.simulate.scenario import load_scenario

    scenario = load_scenario("baseline")
    if prepared and os.path.exists(prepared):
        with open(prepared, "rb") as fh:
            shared = dataclasses.replace(pickle.load(fh), years=1, seed=1)
    else:
        shared = prepare(data, scenario, None, 1, 1)
        if prepared:
            with open(prepared, "wb") as fh:
                pickle.dump(shared, fh)

    class Capture(replication.Market):
        def __init__(self, pop, policies, factory, categories, seed, rep, year, ledger, demolish, **kw):
            self._args = {"pop": pop, "categories": categories, "seed": seed, "rep": rep, "year": year,
                          "counters": dict(ledger.counters), "demolish": demolish}

        def run(self, seekers):
            with open(state, "wb") as fh:
                pickle.dump({**self._args, "seekers": seekers}, fh, protocol=5)
            raise _Stop

    replication.Market = Capture
    c = time.process_time()
    try:
        replication.run_replication(shared, 0, scenario)
    except _Stop:
        pass
    print(f"state before the market of year {shared.start} saved to {state}: cpu {time.process_time() - c:.1f} s, "
          f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB")


def _policies(underuse: int | None, size_rule: str | None = None):
    from boligmix.letting.policy import POLICY_DIR, load_policies, policy_files
    from boligmix.simulate.scenario import PolicyOverride, build_policy_set, load_scenario

    if size_rule is not None:
        return build_policy_set([], {"dk.venteliste": PolicyOverride(switches={"size_rule": size_rule})}, "bench")
    if underuse is None:
        return load_scenario("baseline").policies()
    tmp = Path(tempfile.mkdtemp(prefix="bench-market-"))
    files = []
    for f in map(Path, policy_files([POLICY_DIR / "statutory"])):
        if f.name == "waiting_list.yaml":
            (tmp / f.name).write_text(f.read_text(encoding="utf-8").replace(
                "max_rooms_over_persons: 1", f"max_rooms_over_persons: {underuse}"), encoding="utf-8")
            f = tmp / f.name
        files.append(f)
    return load_policies(files)


def check_direct(state: str) -> None:
    """The year's market with the screened winners let directly and handed to the engine
    (`AlmenLetting(direct=False)`, the oracle): the lettings and where every household lives must
    be the same."""
    from boligmix.indicators import settings_for_list_year
    from boligmix.letting.ledger import LettingLedger
    from boligmix.simulate.applicants import ApplicantFactory
    from boligmix.simulate.market import Market

    out = {}
    for direct, screen, columns in ((True, True, True), (True, True, False), (False, True, False),
                                    (False, False, False)):
        with open(state, "rb") as fh:
            s = pickle.load(fh)
        pop, year = s["pop"], s["year"]
        factory = ApplicantFactory(pop, year, s["seed"], s["rep"], settings_for_list_year(year + 1).outside_attachments)
        c = time.process_time()
        market = Market(pop, _policies(None), factory, s["categories"], s["seed"], s["rep"], year,
                        LettingLedger(counters=s["counters"]), s["demolish"], direct=direct, screen=screen)
        if not columns:
            market.almen.columns = None        # the screen on the window's applicants (the row path)
        result = market.run(s["seekers"])
        cpu = time.process_time() - c
        counters = {k: (v.seen, dict(v.used)) for k, v in market.almen.engine.ledger.counters.items()}
        out[direct, screen, columns] = (result.lettings, pop.dwellings.household.copy(), counters)
        print(f"direct={direct}, screen={screen}, columns={columns}: cpu {cpu:.1f} s, lettings {len(result.lettings)} "
              f"(direct {market.almen.direct_lettings}), engine rounds {market.almen.offer_rounds}, "
              f"{_column_rounds(market)}load {os.getloadavg()}", flush=True)
        market.release()
        s = pop = factory = market = result = None         # one state in memory at a time (national: 6 GiB)
    same = [a == b if not isinstance(a, np.ndarray) else np.array_equal(a, b)
            for oracle in ((True, True, False), (False, True, False), (False, False, False))
            for a, b in zip(out[True, True, True], out[oracle])]
    print(f"identical lettings, dwellings' households, share counters (columns=False; direct=False; screen=False): "
          f"{same}")
    if not all(same):
        sys.exit(1)


def _column_rounds(market) -> str:
    columns = getattr(market.almen, "columns", None)
    return "" if columns is None else \
        f"rounds from the columns {columns.screened}, handed to the row path {columns.row_path}, "


def run(state: str, diagnose: bool, underuse: int | None, size_rule: str | None = None) -> None:
    from boligmix.indicators import settings_for_list_year
    from boligmix.letting.ledger import LettingLedger
    from boligmix.simulate import almen_letting
    from boligmix.simulate.applicants import ApplicantFactory
    from boligmix.simulate.market import Market
    from boligmix.simulate.population import ALMEN, NO_HOUSEHOLD

    with open(state, "rb") as fh:
        s = pickle.load(fh)
    pop, year = s["pop"], s["year"]
    factory = ApplicantFactory(pop, year, s["seed"], s["rep"], settings_for_list_year(year + 1).outside_attachments)
    log: list[tuple[int, int, bool]] = []
    if diagnose:
        let = almen_letting.AlmenLetting.let

        def logged(self, pos, *args):
            winner, record = let(self, pos, *args)
            log.append((args[3], pos, winner is not None))
            return winner, record
        almen_letting.AlmenLetting.let = logged
    dw = pop.dwellings
    almen = (dw.tenure == ALMEN) & dw.active
    vacant0 = almen & (dw.household == NO_HOUSEHOLD)
    seekers = s["seekers"]
    c = time.process_time()
    market = Market(pop, _policies(underuse, size_rule), factory, s["categories"], s["seed"], s["rep"], year,
                    LettingLedger(counters=s["counters"]), s["demolish"])
    result = market.run(seekers)
    cpu = time.process_time() - c
    a = market.almen
    left = almen & (dw.household == NO_HOUSEHOLD)
    print(f"market of {year}{'' if underuse is None else f' (max_rooms_over_persons {underuse})'}"
          f"{'' if size_rule is None else f' (size_rule {size_rule})'}: cpu {cpu:.1f} s, "
          f"almen lettings {len(result.lettings)}, households moved {result.moved_households}, engine rounds "
          f"{a.offer_rounds}, direct lettings {a.direct_lettings}, vacancy tries skipped {a.skipped_offers}, "
          f"{_column_rounds(market)}peak RSS "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB, load {os.getloadavg()}")
    print(f"  almen dwellings {int(almen.sum())}: vacant when the market opens {int(vacant0.sum())}, at the year's end "
          f"{int(left.sum())}; unhoused seekers {result.unhoused}")
    over = [dw.rooms[dw.index[r['dwelling_id']]] - r['persons'] > 1 for r in result.lettings]
    print(f"  lettings with more than one room over persons: {np.mean(over) if over else 0:.3f}")
    if not diagnose:
        return
    seen: dict[int, int] = {}
    months = collections.defaultdict(collections.Counter)
    for month, pos, won in log:
        c = months[month]
        c["tried"] += 1
        c["new"] += pos not in seen
        seen.setdefault(pos, month)
        c["let"] += won
    print("  month: almen vacancies new / tried / let / carried to next month")
    for m in sorted(months):
        c = months[m]
        print(f"    {m:2d}: {c['new']:7d} {c['tried']:7d} {c['let']:7d} {c['tried'] - c['let']:7d}")
    print("  vacant at the year's end by rooms:", dict(sorted(collections.Counter(dw.rooms[left].tolist()).items())))
    print("  almen dwellings by rooms:", dict(sorted(collections.Counter(dw.rooms[almen].tolist()).items())))
    sizes = collections.Counter(factory.size(x, seekers) for x in seekers._open if seekers.wants_almen[x])
    print("  open almen seekers at the year's end by household size:", dict(sorted(sizes.items())))
    munis = collections.Counter(dw.municipality[left].tolist())
    print(f"  municipalities with unlet almen vacancies: {len(munis)}; the five with most:", munis.most_common(5))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("save", "run", "check-direct"))
    parser.add_argument("--data", default="/work/data/national-seed1")
    parser.add_argument("--prepared", help="save: a pickle of the prepared inputs (read, or written)")
    parser.add_argument("--state", required=True, help="the pickled state before the market")
    parser.add_argument("--diagnose", action="store_true")
    parser.add_argument("--underuse", type=int, help="run: max_rooms_over_persons of the waiting list")
    parser.add_argument("--size-rule", choices=("lapses", "binding"),
                        help="run: the waiting list's switch size_rule (default: the policy's, lapses)")
    args = parser.parse_args()
    sys.setrecursionlimit(100_000)
    if args.what == "save":
        save(args.data, args.prepared, args.state)
    elif args.what == "check-direct":
        check_direct(args.state)
    else:
        run(args.state, args.diagnose, args.underuse, args.size_rule)


if __name__ == "__main__":
    main()
