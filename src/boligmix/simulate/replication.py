"""One Monte Carlo replication: the yearly loop from the start state to the last simulated year.

Per year t: scenario actions of t; deaths, emigration, births; seekers (movers, home leavers,
immigrants, households to rehouse) and the housing market with letting in the loop; register
outcomes of t; then the lists of list year t+1 from the simulated registers, whose categories the
letting policies read in year t+1. Returns the `areas` rows and the lettings of the replication.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from boligmix.indicators import settings_for_list_year
from boligmix.letting.ledger import LettingLedger
from boligmix.lists.pipeline import lists_from_indicators
from boligmix.simulate import rng
from boligmix.simulate.applicants import ApplicantFactory
from boligmix.simulate.background import in_background
from boligmix.simulate.demography import HOUSEHOLD_BASE, births, deaths, dwelling_stock, emigration
from boligmix.simulate.register_outcomes import Donors, forget_registers, outcomes
from boligmix.simulate.market import Market
from boligmix.simulate.seekers import draw_seekers
from boligmix.simulate.population import ALMEN, Population, day
from boligmix.simulate.rates import Rates
from boligmix.simulate.scenario import Action, Scenario
from boligmix.simulate.yearly_lists import (
    INDICATOR_COLUMNS,
    WorkingDataset,
    categories_of,
    family_share,
    households_by_area,
    register_years,
)

AREA_COLUMNS = ("replication", "year", "area_id", "residents", "households", *INDICATOR_COLUMNS[1:], "udsat",
                "parallelsamfund", "omdannelse", "forebyggelse", "family_share", "in_movers", "out_movers")


@dataclass(frozen=True)
class Shared:
    """Inputs every replication reads (estimated or computed once per run)."""

    dataset_dir: str
    start: int
    years: int
    seed: int
    rates: Rates
    history: pl.DataFrame          # indicators of the data's list years
    vintage: str | None
    scenario_path: str


def _select_areas(selection, categories: dict[str, frozenset[str]]) -> list[str]:
    if selection.areas is not None:
        return list(selection.areas)
    return sorted(a for a, c in categories.items() if selection.from_list in c)


def apply_action(pop: Population, action: Action, categories: dict[str, frozenset[str]], seed: int, rep: int,
                 year: int, demolish: set[int], rehousing: dict[int, int], demolished_by_area: Counter) -> None:
    """One physical action of the scenario in `year`."""
    dw = pop.dwellings
    for area in _select_areas(action.areas, categories):
        if action.action == "build":
            ids = rng.new_ids(seed, rep, np.arange(action.count, dtype=np.int64) + hash(area) % 100_000 * 1000, year,
                              rng.NEW_ID, base=HOUSEHOLD_BASE + 10**17)
            muni = int(dw.municipality[np.flatnonzero(dw.area == area)[0]])
            from boligmix.data.schema import TENURES
            dw.append(ids, muni, TENURES.index(action.tenure), area, action.rooms, action.floor_area_m2, None)
            pop.events["built"] = pop.events.get("built", 0) + ids.size
            continue
        family = np.flatnonzero((dw.area == area) & (dw.tenure == ALMEN) & (dw.almen_type == "family") & dw.active
                                & ~np.isin(np.arange(dw.ids.size), list(demolish)))
        if family.size == 0:
            continue
        n = action.count if action.count is not None else int(round(action.share * family.size))
        keys = rng.uniform(seed, 0, dw.ids[family], year, rng.ACTION_PICK)  # the same dwellings in every replication
        chosen = family[np.argsort(keys, kind="stable")[:min(n, family.size)]]
        if action.action == "demolish":
            demolished_by_area[area] += chosen.size
            for pos in chosen:
                if dw.household[pos] == 0:
                    dw.active[pos] = False
                    pop.events["demolished"] = pop.events.get("demolished", 0) + 1
                else:
                    demolish.add(int(pos))
                    rehousing[int(dw.household[pos])] = 1
        elif action.action == "sell":
            dw.tenure[chosen] = 1                      # privat_udlejning, tenants stay
            dw.almen_type[chosen] = None
            dw.department[chosen] = None
            dw.org[chosen] = None
        else:
            dw.almen_type[chosen] = "youth" if action.action == "convert_youth" else "elderly"


def run_replication(shared: Shared, replication: int, scenario: Scenario, work_dir: str | None = None, *,
                    keep_working: Path | None = None, check_rules: bool = False) -> dict[str, Any]:
    """Simulate one replication; returns {'areas': DataFrame, 'lettings': DataFrame, 'events': dict,
    'checked_lettings': int}. `keep_working` copies the simulated registers (a dataset directory)
    there; `check_rules` re-assesses every letting's winner under the rules in force."""
    pop = Population.from_dataset(shared.dataset_dir, shared.start)
    policies = scenario.policies()
    seed = shared.seed
    base_categories = categories_of(
        lists_from_indicators(shared.history, shared.start, data_vintage=shared.vintage).classification.frame,
        shared.start)
    history = shared.history
    ledger = LettingLedger()
    demolish: set[int] = set()
    rehousing: dict[int, int] = {}
    demolished_by_area: Counter = Counter()
    rows: list[dict[str, Any]] = []
    lettings: list[pl.DataFrame] = []           # a frame per year (a dict per letting held ten years is GBs)
    checked = 0
    waiting_immigrants: list = []
    donors = Donors(pop, shared.start - 1, shared.rates.outside_statuses)
    with tempfile.TemporaryDirectory(prefix=f"boligmix-sim-r{replication}-", dir=work_dir) as tmp:
        working = WorkingDataset(shared.dataset_dir, Path(tmp) / "data", shared.start)
        lists_in_force = base_categories
        lists_next = None                       # the lists of the year just simulated, being computed
        for year in range(shared.start, shared.start + shared.years):
            if keep_working is None:            # else every simulated year is written at the end
                forget_registers(pop, _first_register_year(year), shared.rates.outside_statuses)
            actions = [a for a in scenario.spec.actions if a.in_year(shared.start) == year]
            if actions and lists_next is not None:      # the actions select areas by the lists in force
                history, lists_in_force = _lists_done(lists_next, rows)
                lists_next = None
            categories = _with_scenario_categories(lists_in_force, scenario)
            for action in actions:
                apply_action(pop, action, categories, seed, replication, year, demolish, rehousing,
                             demolished_by_area)
            dwelling_stock(pop, shared.rates, seed, replication, year)
            deaths(pop, shared.rates, seed, replication, year)
            emigration(pop, shared.rates, seed, replication, year)
            births(pop, shared.rates, seed, replication, year)
            rehousing = {h: 1 for h in rehousing if np.any(pop.household == h)}
            seekers = draw_seekers(pop, shared.rates, seed, replication, year, rehousing, waiting_immigrants)
            outside = settings_for_list_year(year + 1).outside_attachments
            factory = ApplicantFactory(pop, year, seed, replication, outside,   # labour rows of the seekers only
                                       persons=np.concatenate([np.zeros(0, np.int64), *seekers.members.values()]))
            if lists_next is not None:          # the market lets by the lists in force
                history, lists_in_force = _lists_done(lists_next, rows)
                lists_next = None
                categories = _with_scenario_categories(lists_in_force, scenario)
            ledger = LettingLedger(counters=ledger.counters)
            market = Market(pop, policies, factory, categories, seed, replication, year, ledger, demolish,
                            check_rules=check_rules)
            result = market.run(seekers)
            rehousing = {h: 1 for h in rehousing if seekers.kind.get(h) == "rehousing" and h in seekers._open}
            waiting_immigrants = result.waiting_immigrants
            lettings.append(_lettings_frame([{"replication": replication, **record} for record in result.lettings]))
            moved = _moved(result.flows)
            checked += market.checked
            # the year's market state is not held through the registers and lists (memory): only the
            # share counters go on to next year's ledger
            ledger = LettingLedger(counters=ledger.counters)
            market.release()                    # no reference cycle left: dropping it frees it
            del market, factory, seekers, result
            release_garbage()
            if keep_working is None:            # what no later step of this year reads goes before the outcomes
                forget_registers(pop, _first_register_year(year + 1), shared.rates.outside_statuses)
            outcomes(pop, shared.rates, donors, seed, replication, year)
            pop.check()
            working.write(pop, year)
            # what the year's `areas` rows read of the population, before the thread starts (their
            # transients are not held beside the indicators')
            shares, households = family_share(pop, demolished_by_area), households_by_area(pop)
            later = range(year + 2, shared.start + shared.years + 1)    # the list years still to compute
            if keep_working is None and later:  # the spells no later list reads are memory only
                pop.forget_closed_spells(first_resident_day(later))
            # the indicators and lists of year + 1 on the second core while this thread goes on with the
            # next year's demography and seekers: they read the registers just written (frames no later
            # step changes in place: the market, the only step writing population arrays in place, waits
            # for them), and the next year reads nothing of them before its scenario actions or market
            lists_next = _ListsOfYear(in_background(_lists_of_year, working, history, year + 1, shared.vintage),
                                      replication, year + 1, shares, households, moved)
            del shares, households
        if lists_next is not None:
            history, lists_in_force = _lists_done(lists_next, rows)
        if keep_working is not None:
            working.write_full(pop, shared.start + shared.years - 1, Path(keep_working))
    areas = pl.DataFrame(rows, schema=_AREA_SCHEMA).sort("year", "area_id")
    return {"areas": areas, "lettings": pl.concat([_lettings_frame([]), *lettings]), "events": dict(pop.events),
            "checked_lettings": checked}


def release_garbage() -> None:
    """Give the heap pages the year's market freed back to the system (glibc's `malloc_trim`;
    elsewhere nothing). The market is freed by reference counting when dropped: `Market.release`
    breaks its reference cycles (bound methods of the market held by the letting and the factory),
    which left it to Python's next full collection, one that with millions of long-lived objects
    comes rarely (at national scale GiBs were held into the next year) and that, called here, cost
    a traversal of every live object each year."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _glibc():
    import ctypes
    import ctypes.util
    import platform

    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


_LIBC = _glibc()


def first_resident_day(list_years: range) -> int:
    """The earliest day on which the indicators of `list_years` count who lives where (each list
    year's resident date and its window years' population dates, as `compute_area_indicators`
    reads them under the settings in force): a spell closed on or before it is read by none."""
    dates = [d for y in list_years for s in [settings_for_list_year(y)]
             for d in (s.resident_date(y), *(s.window_population_date(t) for t in s.window(y)))]
    return day(min(dates).year, min(dates).month, min(dates).day)


def _first_register_year(year: int) -> int:
    """The earliest register year simulated year `year` reads: the applicants' last three years
    (`ApplicantFactory`), last year's rows (`outcomes`; older statuses are kept apart) and the
    years the lists of `year + 1` read."""
    return min(year - 3, *register_years(year + 1))


def _with_scenario_categories(lists: dict[str, frozenset[str]], scenario: Scenario) -> dict[str, frozenset[str]]:
    out = dict(lists)
    for name, selection in scenario.spec.area_categories.items():
        for area in _select_areas(selection, lists):
            out[area] = out.get(area, frozenset()) | {name}
    return out


_AREA_SCHEMA = {"replication": pl.Int64, "year": pl.Int64, "area_id": pl.String, "residents": pl.Int64,
                "households": pl.Int64, **{c: pl.Float64 for c in INDICATOR_COLUMNS[1:]},
                "udsat": pl.Boolean, "parallelsamfund": pl.Boolean, "omdannelse": pl.Boolean,
                "forebyggelse": pl.Boolean, "family_share": pl.Float64, "in_movers": pl.Int64, "out_movers": pl.Int64}


def _moved(flows: Counter) -> tuple[Counter, Counter]:
    """(persons moving into each area from outside it, persons moving out of each area) of the year's
    moves (`MarketResult.flows`: (from, to) -> persons)."""
    moved_in: Counter = Counter()
    moved_out: Counter = Counter()
    for (src, dst), n in flows.items():
        if src != dst:
            if dst is not None:
                moved_in[dst] += n
            if src is not None:
                moved_out[src] += n
    return moved_in, moved_out


@dataclass(frozen=True)
class _ListsOfYear:
    """The lists of list year `year` being computed on a thread (`lists`), and what the year's `areas`
    rows read of the population as it stood when they were started (the population moves on)."""

    lists: Future
    replication: int
    year: int
    family_shares: dict[str, float]
    households: dict[str, int]
    moved: tuple[Counter, Counter]


def _lists_of_year(working: WorkingDataset, history: pl.DataFrame, list_year: int, vintage: str | None
                   ) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(the indicators of `list_year` from the registers last written, the history with them, the
    classification of the lists of `list_year`)."""
    new = working.indicators(list_year)
    history = pl.concat([history.filter(pl.col("year") != list_year), new], how="vertical_relaxed")
    return new, history, lists_from_indicators(history, list_year, data_vintage=vintage).classification.frame


def _lists_done(pending: _ListsOfYear, rows: list[dict[str, Any]]
                ) -> tuple[pl.DataFrame, dict[str, frozenset[str]]]:
    """Wait for the lists of `pending`, add its `areas` rows to `rows`; returns (the history, the lists
    in force: area -> categories)."""
    new, history, classified = pending.lists.result()
    rows.extend(_area_rows(pending, new, classified))
    return history, categories_of(classified, pending.year)


def _area_rows(pending: _ListsOfYear, indicators: pl.DataFrame, classified: pl.DataFrame) -> list[dict[str, Any]]:
    year = pending.year
    flags = {r["area_id"]: r for r in classified.filter(pl.col("year") == year).iter_rows(named=True)}
    shares, households = pending.family_shares, pending.households
    moved_in, moved_out = pending.moved
    out = []
    for r in indicators.iter_rows(named=True):
        a = r["area_id"]
        f = flags.get(a, {})
        out.append({"replication": pending.replication, "year": year, "area_id": a, "residents": r["residents"],
                    "households": households.get(a, 0), **{c: r[c] for c in INDICATOR_COLUMNS[1:]},
                    **{k: f.get(k) for k in ("udsat", "parallelsamfund", "omdannelse", "forebyggelse")},
                    "family_share": shares.get(a), "in_movers": moved_in.get(a, 0), "out_movers": moved_out.get(a, 0)})
    return out


LETTING_SCHEMA = {"replication": pl.Int64, "date": pl.Date, "dwelling_id": pl.Int64, "area_id": pl.String,
                  "department_id": pl.String, "channel": pl.String, "channel_rule": pl.String,
                  "ranking_rule": pl.String, "rejected": pl.Int64, "rejected_rules": pl.String,
                  "household_id": pl.Int64, "seeker_kind": pl.String, "persons": pl.Int64, "head_age": pl.Int64,
                  "head_non_western": pl.Boolean, "adults_18_64": pl.Int64, "outside_fte_18_64": pl.Float64,
                  "from_almen": pl.Boolean, "from_area_id": pl.String}


def _lettings_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=LETTING_SCHEMA)


__all__ = ["AREA_COLUMNS", "LETTING_SCHEMA", "Shared", "apply_action", "first_resident_day", "run_replication"]
