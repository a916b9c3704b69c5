"""One simulated year of demography, vectorised over persons: deaths, births and household
emigration drawn per person/household with the keyed random streams (`boligmix.simulate.rng`),
and the year's new dwellings. The register outcomes of the year (labour, education, person_years,
convictions) are `boligmix.simulate.register_outcomes` (its names are importable from here too).
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np
import polars as pl

from boligmix.simulate import rng
from boligmix.simulate.behaviour import child_origins
from boligmix.simulate.lookup import is_in, search, sorted_lookup, table_at
from boligmix.simulate.population import NO_HOUSEHOLD, ORIGIN_CODES, Population, day
from boligmix.simulate.rates import BIRTH_BANDS, DEATH_BANDS, HEAD_BANDS, Rates, band
from boligmix.simulate.register_outcomes import (
    ANCHORED_AREA_BANDS,
    Donors,
    area_conviction_shares,
    area_outside_shares,
    forget_registers,
    outcomes,
    status_on,
    year_statuses,
)

PERSON_BASE = 5_000_000_000_000_000
HOUSEHOLD_BASE = 6_000_000_000_000_000
DWELLING_BASE = HOUSEHOLD_BASE + 2 * 10**17
DEATH_DAY, EMIGRATION_DAY, BIRTH_DAY = 20, 25, 15
CHILD_ORIGIN_EVENT = rng.BIRTH_SEX * 100 + 1
"""The keyed stream of a newborn's origin (`behaviour.child_origins`; an event number no other draw uses)."""


class Households(NamedTuple):
    """The persons grouped by household: `ids` ascending, each one's `head` (row of the oldest
    member: the smallest (birth, person id)) and `size`; `order`: the rows sorted by household, so
    `order[sum(size[:g]):sum(size[:g + 1])]` are household g's members."""

    ids: np.ndarray
    head: np.ndarray
    size: np.ndarray
    order: np.ndarray


def households(pop: Population, rows: np.ndarray | None = None) -> Households:
    """`Households` of the population (of the persons `rows` when given): the persons grouped by a
    sort of the households alone (fast: the ids are mostly in order) and each head found in one
    compiled pass, instead of a sort by (household, birth, person id) of every person (0.76 against
    1.15-1.35 s CPU nationally)."""
    if rows is None:
        order = np.argsort(pop.household, kind="stable")
    else:
        rows = np.asarray(rows, dtype=np.int64)
        order = rows[np.argsort(pop.household[rows], kind="stable")]
    hh_sorted = pop.household[order]
    head, starts = _oldest_in_groups(order, hh_sorted, pop.birth, pop.pid)
    return Households(hh_sorted[starts], head, np.diff(np.r_[starts, hh_sorted.size]), order)


def heads(pop: Population) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(household ids ascending, index of each household's head = oldest member, member count)."""
    groups = households(pop)
    return groups.ids, groups.head, groups.size


def members_of_chosen(groups: Households, chosen: np.ndarray, persons: int | None = None) -> np.ndarray:
    """Per person: whether its household is `chosen` (a mask over `groups.ids`), spread over the
    members by the groups' order (`is_in(groups.ids[chosen], pop.household)` without a hash set of
    the chosen ids probed by every person). `persons`: the population's size when the groups hold
    some of its persons only (`households(pop, rows)`; the others are not chosen)."""
    chosen = np.asarray(chosen, dtype=bool)
    if chosen.shape != groups.size.shape:
        raise ValueError(f"{chosen.size} choices for {groups.size.size} households")
    out = np.empty(groups.order.size, dtype=bool) if persons is None else np.zeros(persons, dtype=bool)
    _spread(groups.order, groups.size, chosen, out)
    return out


@numba.njit(cache=True, nogil=True)
def _spread(order: np.ndarray, size: np.ndarray, chosen: np.ndarray, out: np.ndarray) -> None:
    """`out[order] = np.repeat(chosen, size)` in one pass (no repeated copy of the choices)."""
    k = 0
    for g in range(size.size):
        for _ in range(size[g]):
            out[order[k]] = chosen[g]
            k += 1


@numba.njit(cache=True, nogil=True)
def _oldest_in_groups(order: np.ndarray, grouped: np.ndarray, birth: np.ndarray, pid: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Per run of equal `grouped` (the rows `order` sorted by group): (the row of the smallest
    (birth, pid), the run's first position)."""
    head = np.empty(order.size, dtype=np.int64)
    start = np.empty(order.size, dtype=np.int64)
    g = -1
    for i in range(order.size):
        row = order[i]
        if i == 0 or grouped[i] != grouped[i - 1]:
            g += 1
            head[g], start[g] = row, i
        else:
            best = head[g]
            if birth[row] < birth[best] or (birth[row] == birth[best] and pid[row] < pid[best]):
                head[g] = row
    return head[:g + 1], start[:g + 1]


def _months(seed: int, rep: int, ids: np.ndarray, year: int, event: int) -> np.ndarray:
    return rng.integers(seed, rep, ids, year, event * 100 + rng.EVENT_MONTH, 12) + 1


def event_days(year: int, months: np.ndarray, dom: int) -> np.ndarray:
    """Per event: `day(year, month, dom)` of its month (1-12), the twelve days computed once and
    gathered (a date per event before)."""
    table = np.array([day(year, m, dom) for m in range(1, 13)], dtype=np.int64)
    return table[np.asarray(months, dtype=np.int64) - 1]


def vacate(pop: Population, households: np.ndarray, months: np.ndarray | int = 1) -> None:
    """Mark the dwellings of households that no longer live anywhere as vacant from `months`."""
    occ = pop.dwellings.household
    households = np.asarray(households)
    where = np.flatnonzero(is_in(households, occ))
    month = np.broadcast_to(np.asarray(months), households.shape)
    by_household = dict(zip(households.tolist(), month.tolist()))
    pop.dwellings.vacant_from[where] = [by_household[int(h)] for h in occ[where]]
    occ[where] = NO_HOUSEHOLD


def dwelling_stock(pop: Population, rates: Rates, seed: int, rep: int, year: int) -> int:
    """The year's new dwellings: in a backcast those the data shows first occupied in `year`; after
    the data's last year as many as the estimation years built a year (their mean), copies of
    dwellings built then, free from the month the copied one was first occupied. Returns how many."""
    dw = pop.dwellings
    new = dw.open_built(year)
    if new:
        pop.events["dwellings_opened"] = pop.events.get("dwellings_opened", 0) + new
    built = rates.transitions.built if rates.transitions is not None else None
    if built is None or built.height == 0 or pop.data_last_year is None or year <= pop.data_last_year:
        return new
    mean = rates.transitions.built_per_year
    n = int(mean) + int(rng.uniform(seed, rep, 0, year, rng.BUILD)[0] < mean % 1)
    slots = np.arange(n, dtype=np.int64)
    templates = built[rng.integers(seed, rep, slots, year, rng.BUILD, built.height)]
    ids = rng.new_ids(seed, rep, slots, year, rng.BUILD, base=DWELLING_BASE)
    fresh = dw.ids[dw.position(ids)] != ids
    dw.add_copies(templates.filter(pl.Series(fresh)), ids[fresh], templates["first_in"].dt.month().to_numpy()[fresh])
    pop.events["dwellings_built"] = pop.events.get("dwellings_built", 0) + int(fresh.sum())
    return new + int(fresh.sum())


def deaths(pop: Population, rates: Rates, seed: int, rep: int, year: int) -> int:
    age = pop.age_on(day(year))
    q = table_at(rates.death, band(age, DEATH_BANDS), pop.female.astype(int))
    dies = np.flatnonzero(rng.uniform(seed, rep, pop.pid, year, rng.DEATH) < q)
    month = _months(seed, rep, pop.pid[dies], year, rng.DEATH)
    days = event_days(year, month, DEATH_DAY)
    pop.close_spells(dies, days, "death")
    gone = pop.household[dies]
    last_month = dict(zip(gone.tolist(), month.tolist()))
    pop.remove(dies)
    gone_ids = np.unique(gone, return_index=True)[0]    # the sorting path (the hash path is slow)
    emptied = np.setdiff1d(gone_ids, pop.household[is_in(gone_ids, pop.household)])
    vacate(pop, emptied, np.array([last_month[int(h)] for h in emptied], dtype=np.int64))
    pop.events["deaths"] = pop.events.get("deaths", 0) + dies.size
    return dies.size


def emigration(pop: Population, rates: Rates, seed: int, rep: int, year: int) -> int:
    groups = households(pop)
    hh, head = groups.ids, groups.head
    age = pop.age_on(day(year))[head]
    p = table_at(rates.emigration, pop.nonwestern[head].astype(int), band(age, HEAD_BANDS))
    leaves = rng.uniform(seed, rep, hh, year, rng.EMIGRATION) < p
    leaving = hh[leaves]
    idx = np.flatnonzero(members_of_chosen(groups, leaves))
    month = _months(seed, rep, pop.household[idx], year, rng.EMIGRATION)
    days = event_days(year, month, EMIGRATION_DAY)
    pop.close_spells(idx, days, "abroad")
    pop.remove(idx)
    vacate(pop, leaving, _months(seed, rep, leaving, year, rng.EMIGRATION))
    pop.events["emigrants"] = pop.events.get("emigrants", 0) + idx.size
    return idx.size


def births(pop: Population, rates: Rates, seed: int, rep: int, year: int) -> int:
    age = pop.age_on(day(year))
    women = np.flatnonzero(pop.female & (age >= 15) & (age <= 49))
    p = table_at(rates.birth, band(age[women], BIRTH_BANDS), pop.nonwestern[women].astype(int))
    mothers = women[rng.uniform(seed, rep, pop.pid[women], year, rng.BIRTH) < np.minimum(p, 1.0)]
    if mothers.size == 0:
        return 0
    month = _months(seed, rep, pop.pid[mothers], year, rng.BIRTH)
    born = event_days(year, month, BIRTH_DAY)
    ids = rng.new_ids(seed, rep, pop.pid[mothers], year, rng.NEW_ID, base=PERSON_BASE)
    female = rng.uniform(seed, rep, ids, year, rng.BIRTH_SEX) < 0.487
    origin = child_origins(rates.behaviour, pop.origin[mothers], rng.uniform(seed, rep, ids, year, CHILD_ORIGIN_EVENT))
    country = np.where(origin == ORIGIN_CODES["dansk"], "DNK", pop.country[mothers]).astype(object)
    pop.add(pid=ids, birth=born, female=female, origin=origin, country=country,
            nonwestern=pop.nonwestern[mothers] & (origin != ORIGIN_CODES["dansk"]), household=pop.household[mothers],
            dwelling=pop.dwelling[mothers], spell_start=born)
    pop.persons_frame = pl.concat([pop.persons_frame, person_rows(ids, born, female, origin, country)])
    pop.events["births"] = pop.events.get("births", 0) + ids.size
    return ids.size


def person_rows(ids, born, female, origin, country) -> pl.DataFrame:
    from boligmix.data.schema import ORIGINS

    return pl.DataFrame({
        "person_id": np.asarray(ids, dtype=np.int64),
        "birth_date": pl.Series(np.asarray(born, dtype=np.int64).astype("datetime64[D]")).cast(pl.Date),
        "sex": ["F" if f else "M" for f in female], "origin": [ORIGINS[int(o)] for o in origin],
        "country_code": [str(c) for c in country]})


__all__ = ["ANCHORED_AREA_BANDS", "Donors", "area_conviction_shares", "area_outside_shares", "births", "deaths",
           "dwelling_stock", "emigration", "event_days", "forget_registers", "heads", "households", "is_in",
           "members_of_chosen", "outcomes",
           "person_rows", "search", "sorted_lookup", "status_on", "vacate", "year_statuses"]
