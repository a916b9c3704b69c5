"""The main labour status of register years (`rates.statuses`, the one definition), computed once
per year and kept while the outside history reads it, and the outside history itself: in how many
of the last years a person's main status was an outside one."""

from __future__ import annotations

import numpy as np

from boligmix.simulate.lookup import sorted_lookup
from boligmix.simulate.population import Population
from boligmix.simulate.rates import HISTORY_YEARS, statuses


def year_statuses(pop: Population, year: int) -> tuple[np.ndarray, np.ndarray]:
    """(ascending person ids, main status) of the labour rows of `year` (`rates.statuses`, the one
    definition of the main status), computed once per year and kept (two small arrays)."""
    cache = pop.status_cache
    if year not in cache:
        st = statuses(pop.labour[year]).select("person_id", "status").sort("person_id")
        cache[year] = (st["person_id"].to_numpy(), st["status"].to_numpy().astype(np.int8))
    return cache[year]


def forget_registers(pop: Population, before: int) -> None:
    """Drop the register rows (labour, person_years, convictions) of years before `before`, keeping
    the main statuses of the last HISTORY_YEARS years (`year_statuses`) that the outside history reads."""
    for year in [y for y in pop.labour if y < before]:
        if year >= before - HISTORY_YEARS:
            year_statuses(pop, year)
        del pop.labour[year]
    for table in (pop.person_years, pop.convictions):
        for year in [y for y in table if y < before]:
            del table[year]
    for year in [y for y in pop.status_cache if y < before - HISTORY_YEARS]:
        del pop.status_cache[year]


def status_on(pop: Population, year: int, ids: np.ndarray | None = None, order: np.ndarray | None = None
              ) -> np.ndarray:
    """Main status in `year` of each of `ids` (default: the residents, `order`: their ascending order
    when known); 0 (none) without labour rows."""
    st_ids, st = year_statuses(pop, year)
    return sorted_lookup(st_ids, st, pop.pid if ids is None else ids, 0, order if ids is None else None)


def outside_years(pop: Population, years: range, outside: np.ndarray, by_id: np.ndarray,
                  ascending: np.ndarray | None = None) -> np.ndarray:
    """Per resident: in how many of `years` the main status was an outside one (`outside_history` of
    `status_on` each year), counted in ascending id order (`by_id`; `ascending`: the residents' ids
    in it, when known) and put back once."""
    count = outside_years_sorted(pop, years, outside, pop.pid[by_id] if ascending is None else ascending)
    out = np.empty_like(count)
    out[by_id] = count
    return out


def outside_years_sorted(pop: Population, years: range, outside: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Per id of the ascending unique `ids`: in how many of `years` their main status was an outside
    one. Each year's persons with an outside status (a minority, ascending) are found among `ids` by
    one in-order binary search and counted there, instead of looking every id up in every year's
    statuses (a join of all residents' ids per year); a status 0 (no labour rows) counted as
    outside would count the absent too: then by the look-up of every id."""
    count = np.zeros(ids.size, dtype=np.int64)
    for year in years:
        st_ids, st = year_statuses(pop, year)
        if outside[0] or ids.size == 0:
            count += outside[sorted_lookup(st_ids, st, ids, 0)]
            continue
        out_ids = st_ids[outside[st]]                     # ascending: a subset of the ascending st_ids
        pos = np.searchsorted(ids, out_ids)
        np.minimum(pos, ids.size - 1, out=pos)
        pos = pos[ids[pos] == out_ids]                    # distinct positions: the ids are unique
        count[pos] += 1
    return count


__all__ = ["forget_registers", "outside_years", "outside_years_sorted", "status_on", "year_statuses"]
