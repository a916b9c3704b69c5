"""The main labour status of register years (`rates.statuses`, the one definition), computed once
per year and kept while the outside history reads it, and the outside history itself: in how many
of the last years a person's main status was an outside one."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import polars as pl

from boligmix.simulate.lookup import merged_positions, sorted_lookup
from boligmix.simulate.population import Population
from boligmix.simulate.rates import HISTORY_YEARS, STATUSES, statuses


class OutsideOnly(NamedTuple):
    """A year's main statuses of only the persons whose main status is an outside one (ascending
    `ids`, their `status`), under the outside statuses `outside` (a bool per status, as a tuple): what
    the outside history reads of a data year before last year (`outside_statuses`). Kept in the
    population's `status_cache` like a year's full statuses; `year_statuses` does not answer from it."""

    ids: np.ndarray
    status: np.ndarray
    outside: tuple[bool, ...]


def year_statuses(pop: Population, year: int) -> tuple[np.ndarray, np.ndarray]:
    """(ascending person ids, main status) of the labour rows of `year` (`rates.statuses`, the one
    definition of the main status), computed once per year and kept (two small arrays)."""
    cache = pop.status_cache
    if isinstance(cache.get(year), OutsideOnly):
        if year not in pop.labour:
            raise AssertionError(f"only the persons mainly outside are kept of {year}'s statuses")
        del cache[year]
    if year not in cache:
        st = statuses(pop.labour[year]).select("person_id", "status").sort("person_id")
        cache[year] = (st["person_id"].to_numpy(), st["status"].to_numpy().astype(np.int8))
    return cache[year]


def outside_statuses(labour: pl.DataFrame, outside: np.ndarray) -> OutsideOnly:
    """The main statuses (`rates.statuses`) of the persons of `labour` (one year's rows) whose main
    status is an outside one. A main status is one of the person's attachments, so only the persons
    with a row of an outside attachment can have one, and `rates.statuses` of all their rows is
    theirs: nationally a fifth of a year's rows, a quarter of the CPU of every person's statuses
    (the year-1 outside history: five data years). `outside[0]` (no rows counted as outside) is
    not answered here (`outside_years_sorted` then looks every id up in the full statuses)."""
    if outside[0]:
        raise ValueError("status 0 (no labour rows) counted as outside needs every person's status")
    names = [name for name, out in zip(STATUSES, outside) if out]
    candidates = labour.filter(pl.col("attachment").is_in(names)).select("person_id").unique()
    st = statuses(labour.join(candidates, on="person_id", how="semi")).select("person_id", "status").sort("person_id")
    ids, status = st["person_id"].to_numpy(), st["status"].to_numpy().astype(np.int8)
    keep = outside[status]
    return OutsideOnly(ids[keep], status[keep], tuple(bool(o) for o in outside))


def _outside_ids(pop: Population, year: int, outside: np.ndarray) -> np.ndarray:
    """Ascending ids of the persons whose main status in `year` is an outside one (`outside[0]`
    false): from the year's kept statuses, full or outside-only (computed and kept when none are)."""
    entry = pop.status_cache.get(year)
    if entry is None:
        entry = pop.status_cache[year] = outside_statuses(pop.labour[year], outside)
    if isinstance(entry, OutsideOnly):
        if entry.outside != tuple(bool(o) for o in outside):
            raise AssertionError(f"the statuses kept of {year} are those of other outside statuses")
        return entry.ids
    st_ids, st = entry
    return st_ids[outside[st]]


def forget_registers(pop: Population, before: int, outside: np.ndarray | None = None) -> None:
    """Drop the register rows (labour, person_years, convictions) of years before `before`, keeping
    the main statuses of the last HISTORY_YEARS years that the outside history reads: with
    `outside` (the run's outside statuses, `outside[0]` false) of only the persons mainly outside
    (`outside_statuses`), else every person's (`year_statuses`)."""
    for year in [y for y in pop.labour if y < before]:
        if year >= before - HISTORY_YEARS and year not in pop.status_cache:
            if outside is None or outside[0]:
                year_statuses(pop, year)
            else:
                pop.status_cache[year] = outside_statuses(pop.labour[year], outside)
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


def status_of_sorted(pop: Population, year: int, ids: np.ndarray) -> np.ndarray:
    """`status_on(pop, year, ids)` of ascending unique `ids` (the residents in id order): the year's
    statuses found by one walk through both id arrays (`merged_positions`) instead of a join."""
    st_ids, st = year_statuses(pop, year)
    if st_ids.size == 0:
        return np.zeros(np.asarray(ids).size, dtype=st.dtype)
    at = merged_positions(st_ids, ids)
    return np.where(at >= 0, st[at], st.dtype.type(0))


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
    if ids.size == 0:
        return count
    for year in years:
        if outside[0]:
            st_ids, st = year_statuses(pop, year)
            count += outside[sorted_lookup(st_ids, st, ids, 0)]
            continue
        at = merged_positions(ids, _outside_ids(pop, year, outside))    # both ascending
        count[at[at >= 0]] += 1                           # distinct positions: the ids are unique
    return count


__all__ = ["OutsideOnly", "forget_registers", "outside_statuses", "outside_years",
           "outside_years_sorted", "status_of_sorted", "status_on", "year_statuses"]
