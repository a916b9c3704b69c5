"""Benchmark: the rehousing optimiser and the development-plan optimiser (issue 15).

Targets: 5,000 households x 20,000 vacancies with 5 wishes each and caps on 200 areas, solved to
within 1 % of optimal (against the reported lower bound) in under 60 s on 2 cores; a development
plan with 200 options proven optimal in under 10 s. Prints wall and CPU seconds per phase, the load
average, the gap and the share of households placed in their first wish.

Run (heavy: queue behind other benchmarks):
    flock /work/bench.lock env PYTHONPATH=src python benchmarks/bench_plan.py
"""

from __future__ import annotations

import os
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from boligmix.plan.actions import Action, AreaState
from boligmix.plan.optimise import optimise_plan
from boligmix.plan.rehouse import rehouse
from boligmix.plan.rehouse_io import read_problem
from boligmix.plan.rehouse_model import Suitability
from boligmix.plan.rehouse_report import write_rehousing
from boligmix.plan.share import ShareFormula


def rehousing_instance(out: Path, n_h: int = 5_000, n_v: int = 20_000, n_areas: int = 200, n_mun: int = 10,
                       wishes: int = 5, seed: int = 1) -> dict[str, Path]:
    """Households, vacancies, wishes (5 per household, in its municipality) and caps on every area, as CSV."""
    rng = np.random.default_rng(seed)
    muns = np.arange(101, 101 + n_mun)
    area_mun = np.repeat(muns, n_areas // n_mun)
    areas = np.array([f"A{i:03d}" for i in range(n_areas)])
    va = rng.integers(0, n_areas, n_v)
    rooms = rng.choice([1, 2, 3, 4, 5], n_v, p=[0.1, 0.3, 0.35, 0.18, 0.07])
    base = date(2026, 1, 1)
    pl.DataFrame({"dwelling_id": [f"D{i}" for i in range(n_v)], "area_id": areas[va], "municipality_code": area_mun[va],
                  "rooms": rooms, "monthly_rent_dkk": np.round(2500 + rooms * 1500 + rng.normal(0, 600, n_v)),
                  "available_from": [base + timedelta(days=int(d)) for d in rng.integers(0, 540, n_v)]}
                 ).write_csv(out / "V.csv")
    hm = rng.choice(muns, n_h)
    persons = rng.choice([1, 2, 3, 4, 5], n_h, p=[0.35, 0.25, 0.2, 0.15, 0.05])
    pl.DataFrame({"household_id": [f"H{i}" for i in range(n_h)], "persons": persons,
                  "rooms_before": np.clip(persons + rng.integers(-1, 2, n_h), 1, 5),
                  "monthly_income_dkk": np.round(rng.lognormal(np.log(22_000), 0.35, n_h)),
                  "outside_work": (rng.random(n_h) < 0.45).astype(int), "municipality_code": hm,
                  "scope_area": [None] * n_h,
                  "move_by": [base + timedelta(days=int(d)) for d in rng.integers(180, 720, n_h)]}
                 ).write_csv(out / "H.csv")
    rows = []
    popularity = rng.dirichlet(np.ones(n_areas // n_mun) * 0.7, n_mun)  # some areas are wished much more
    for i in range(n_h):
        m = int(np.flatnonzero(muns == hm[i])[0])
        cand = np.flatnonzero(area_mun == hm[i])
        for r, a in enumerate(rng.choice(cand, wishes, replace=False, p=popularity[m])):
            rows.append((f"H{i}", r + 1, areas[a]))
    pl.DataFrame(rows, schema=["household_id", "rank", "area_id"], orient="row").write_csv(out / "W.csv")
    pl.DataFrame({"area_id": areas, "max_outside_work": rng.integers(0, 25, n_areas)}).write_csv(out / "C.csv")
    return {k: out / f"{k}.csv" for k in ("H", "V", "W", "C")}


def plan_instance(n: int = 200, seed: int = 3) -> tuple[AreaState, list[Action]]:
    """An area of 3,000 dwellings (2,400 family) and n options: demolitions, sales, relabelling and
    building on 50 sites, where two building variants on a site exclude each other and each requires the
    site's demolition."""
    rng = np.random.default_rng(seed)
    state = AreaState("BENCH", 2_400, 3_000, 120, 2_000.0)
    actions: list[Action] = []
    sites = 50
    for s in range(sites):
        fam = int(rng.integers(10, 80))
        year = int(rng.integers(2024, 2029))
        actions.append(Action(f"dem{s}", "demolish", family_dwellings=fam, cost_dkk=float(fam * rng.integers(300, 900) * 1000),
                              households=int(fam * rng.uniform(0.6, 0.95)), year=year))
        for v in range(2):
            actions.append(Action(f"build{s}_{v}", "build", new_dwellings=int(rng.integers(20, 120)),
                                  commercial_m2=float(rng.integers(0, 3000)), cost_dkk=float(rng.integers(20, 150) * 1e6),
                                  year=year + int(rng.integers(1, 3)), excludes=(f"build{s}_{1 - v}",),
                                  requires=(f"dem{s}",)))
    for i in range(n - 3 * sites):
        kind = ("sell", "convert")[i % 2]
        fam = int(rng.integers(5, 60))
        actions.append(Action(f"{kind}{i}", kind, family_dwellings=fam, cost_dkk=float(fam * rng.integers(50, 600) * 1000),
                              households=int(fam * rng.uniform(0.0, 0.9)), year=int(rng.integers(2024, 2030))))
    return state, actions


def _clock():
    return time.perf_counter(), time.process_time()


def _since(start):
    return time.perf_counter() - start[0], time.process_time() - start[1]


def main() -> None:
    print(f"load average before: {os.getloadavg()}")
    with tempfile.TemporaryDirectory(prefix="bench-plan-") as tmp:
        files = rehousing_instance(Path(tmp))
        t = _clock()
        problem = read_problem(files["H"], files["V"], files["W"], files["C"])
        read_wall, read_cpu = _since(t)
        t = _clock()
        result = rehouse(problem, Suitability.load(), time_limit=60.0)
        wall, cpu = _since(t)
        opt, stable = result.modes["optimal"].figures(), result.modes["stable"].figures()
        t = _clock()
        write_rehousing(Path(tmp) / "out", result, "optimal", {k: str(v) for k, v in files.items()}, 60.0)
        write_wall, write_cpu = _since(t)
        print(f"rehousing 5,000 households x 20,000 vacancies, 5 wishes, caps on 200 areas "
              f"({result.edges.height:,} suitable pairs)")
        print(f"  read+check CSV   {read_wall:6.2f} s wall  {read_cpu:6.2f} s CPU")
        print(f"  suitable pairs   {result.seconds_edges:6.2f} s wall")
        print(f"  optimal (HiGHS)  {opt['seconds']:6.2f} s wall  ({opt['columns']:,} columns, "
              f"{opt['pricing_rounds']} pricing rounds)")
        print(f"  stable (DA)      {stable['seconds']:6.2f} s wall")
        print(f"  rehouse() total  {wall:6.2f} s wall  {cpu:6.2f} s CPU   ratio to 60 s: {wall / 60:.2f}")
        print(f"  write outputs    {write_wall:6.2f} s wall  {write_cpu:6.2f} s CPU")
        print(f"  optimal: status {opt['status']}, objective {opt['objective']:,.0f}, bound {opt['bound']:,.0f}, "
              f"gap {opt['gap']:.4%} (target <= 1 %), first wish {opt['first_wish_share']:.1%}, "
              f"placed {opt['placed']:,}, unplaced {opt['unplaced']:,}, areas over cap {opt['areas_over_cap']}")
        print(f"  stable:  objective {stable['objective']:,.0f}, first wish {stable['first_wish_share']:.1%}, "
              f"placed {stable['placed']:,}, areas over cap {stable['areas_over_cap']}")
    state, actions = plan_instance()
    formula = ShareFormula.load()
    for minimise in ("cost", "households"):
        t = _clock()
        plan = optimise_plan(state, actions, formula, minimise=minimise, time_limit=60.0)  # type: ignore[arg-type]
        wall, cpu = _since(t)
        print(f"development plan, {len(actions)} options, minimise {minimise}: {plan.status} "
              f"(proven optimal: {plan.proven_optimal}), {wall:.2f} s wall {cpu:.2f} s CPU, ratio to 10 s: "
              f"{wall / 10:.2f}; {len(plan.chosen_ids())} chosen, cost {plan.cost_dkk / 1e6:,.1f} M DKK, "
              f"{plan.households} households, share 1 Jan {plan.target_year}: {plan.timeline[-1]['share']:.4f}")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
