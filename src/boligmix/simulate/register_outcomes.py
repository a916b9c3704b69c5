"""Register outcomes of a simulated year, vectorised over persons: labour status moves by the
estimated transition matrix, and a person whose status changes takes the register rows (labour,
person_years) of a donor of the new status, age band, origin group and area from the last data year
(hot deck, `donors.Donors`); a person whose status stays keeps last year's rows. Education moves by
the estimated education transitions (`education_moves`); convictions are drawn by the estimated
rates. The parts: `status_history` (the years' main statuses, the outside history), `area_levels`
(the areas' shares and bands), `donors`, `education_moves`, `per_resident` (look-ups, chunks).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from boligmix.simulate import rng
from boligmix.simulate.area_levels import (
    area_code,
    area_conviction_shares,
    area_outside_bands,
    area_outside_shares,
    outside_probability,
    per_area_table,
)
from boligmix.simulate.background import in_background
from boligmix.simulate.behaviour import conviction_probability
from boligmix.simulate.donors import Donors
from boligmix.simulate.education_moves import education_step
from boligmix.simulate.lookup import is_in, sorted_union_of_kept
from boligmix.simulate.per_resident import draw_chunks, flag_at, resident_index
from boligmix.simulate.population import Population, day
from boligmix.simulate.rates import (
    CONVICTION_BANDS,
    HISTORY_YEARS,
    STATUS_BANDS,
    STATUSES,
    Rates,
    area_bands,
    band,
    outside_history,
)
from boligmix.simulate.status_history import (
    forget_registers,
    outside_years_sorted,
    status_of_sorted,
    status_on,
    year_statuses,
)
from boligmix.simulate.transitions import cumulative_draw

ANCHORED_AREA_BANDS = True
"""The area bands of the outside and conviction rates are each area's bands in the start state (its
persistent level in the data), not re-measured every simulated year: re-measuring fed the
simulation's own sampling noise back into the rates (a random walk of the area shares the data does
not show; see docs/simulate.md, Backcast)."""


def outcomes(pop: Population, rates: Rates, donors: Donors, seed: int, rep: int, year: int) -> None:
    """Register rows of `year` for everyone resident at its end (labour, person_years, convictions)."""
    prev_labour, prev_py = pop.labour[year - 1], pop.person_years[year - 1]
    by_id = np.argsort(pop.pid, kind="stable")        # the residents' ascending order, for the look-ups
    ascending = pop.pid[by_id]
    # last year's status and the outside history, looked up in ascending id order and put back once
    s0_sorted = status_of_sorted(pop, year - 1, ascending)
    hist_sorted = outside_history([s0_sorted], rates.outside_statuses) + outside_years_sorted(
        pop, range(year - 2, year - HISTORY_YEARS - 1, -1), rates.outside_statuses, ascending)
    s0 = np.empty_like(s0_sorted)                     # = status_on(pop, year - 1)
    s0[by_id] = s0_sorted
    hist = np.empty_like(hist_sorted)
    hist[by_id] = hist_sorted
    del s0_sorted, hist_sorted
    # per row of last year's person_years: the resident's index (-1: none), found once by a merge of
    # sorted ids; whether a resident has a row, is kept or switches is then read through it (three
    # hash sets of last year's 7 million ids before)
    py_resident = resident_index(ascending, by_id, prev_py["person_id"].to_numpy())
    has_py = np.zeros(pop.size, dtype=bool)
    has_py[py_resident[py_resident >= 0]] = True          # = is_in(last year's ids, pop.pid)
    age = pop.age_on(day(year + 1))
    bands = band(age, STATUS_BANDS)
    nw = pop.nonwestern.astype(np.int8)       # index arrays of small values: int8 (memory)
    code = area_code(pop)
    ab = area_outside_bands(pop, year + 1, rates.outside_statuses, s0,
                            donors.area_outside if ANCHORED_AREA_BANDS else None, code)
    # the convictions first (their draws are keyed by person, not by order): the age and the
    # convictions' working arrays then go before the year's frames are built (memory)
    convicted_before = is_in(pop.convictions[year - 1]["person_id"].to_numpy(), pop.pid)
    conv_share = donors.area_conviction if ANCHORED_AREA_BANDS else area_conviction_shares(
        pop, year + 1, pop.convictions[year - 1], code)
    cab = per_area_table(pop, conv_share, lambda value, has: area_bands(value, has, CONVICTION_BANDS))[code]
    area_names = pop.dwellings.area_codes()[1]
    hit = np.empty(pop.size, dtype=bool)
    for at in draw_chunks(pop.size):              # each person's probability is their own: a chunk at a time
        p = conviction_probability(rates.behaviour, rates.conviction, bands[at], pop.female[at], convicted_before[at],
                                   cab[at], code[at], area_names, age[at])
        hit[at] = (age[at] >= 15) & (rng.uniform(seed, rep, pop.pid[at], year, rng.CONVICTION) < p)
    pop.convictions[year] = pl.DataFrame({"person_id": pop.pid[hit], "year": np.full(int(hit.sum()), year),
                                          "law": ["straffeloven"] * int(hit.sum()),
                                          "count": np.ones(int(hit.sum()), dtype=np.int64)})
    del convicted_before, cab, p, hit
    s1 = np.empty(pop.size, dtype=np.int64)
    p_out = None
    for at in draw_chunks(pop.size):              # memory: the draws' working arrays a chunk at a time
        # the outside rate a chunk at a time too (each person's is their own): its working arrays
        # are small and reused, not fresh pages of every resident's size
        p_out = outside_probability(pop, rates, bands[at], hist[at], ab[at], age[at], code[at])
        goes_outside = (rng.uniform(seed, rep, pop.pid[at], year, rng.OUTSIDE) < p_out).astype(np.int8)
        u = rng.uniform(seed, rep, pop.pid[at], year, rng.STATUS)
        s1[at] = np.minimum(cumulative_draw(rates.status, (bands[at], nw[at], s0[at], goes_outside), u, strict=True),
                            len(STATUSES) - 1)
    del hist, p_out, age                      # memory: the year's working arrays go as soon as they are read
    keep = (s1 == s0) & has_py
    switch = ~keep
    recipient = pop.pid[switch]
    donor = donors.pick(s1[switch], bands[switch], nw[switch], ab[switch],
                        rng.uniform(seed, rep, recipient, year, rng.DONOR), code[switch])
    del nw, ab, s1, bands, code
    kept_ids = ascending[keep[by_id]]                 # = np.sort(pop.pid[keep])
    # the labour rows on the second core while this thread makes the person_years: the two read the
    # same inputs and nothing of each other (polars and nogil kernels: the GIL is mostly free)
    labour = in_background(labour_rows, prev_labour, kept_ids, donors, donor, recipient, year)
    donor_py = donors.person_years_of(donor, recipient)
    own = prev_py.select(
        "person_id", pl.col("highest_education").alias("own_level"), pl.col("education_source").alias("own_source")
    ).filter(pl.Series(flag_at(switch, py_resident)))    # = is_in(sorted switchers' ids, last year's ids)
    donor_py = (donor_py.join(own, on="person_id", how="left")
                .with_columns(pl.coalesce("own_level", "highest_education").alias("highest_education"),
                              pl.coalesce("own_source", "education_source").alias("education_source"))
                .drop("own_level", "own_source").select(prev_py.columns).sort("person_id"))
    # the main status of the new rows: a person who keeps last year's rows keeps its status, one who
    # takes a donor's rows takes the donor's (the status is a function of a person's rows of a year)
    new_status = s0.copy()
    new_status[switch] = donors.status[donor]
    pop.status_cache[year] = (ascending, new_status[by_id].astype(np.int8))
    del new_status, s0, donor, recipient
    kept_py = flag_at(keep, py_resident)      # = is_in(kept_ids, last year's ids)
    del own, kept_ids, switch, keep, py_resident   # memory: only what the merge reads is held through it
    # sorted first (a row per person): the education step's look-ups then search ascending ids
    person_years = sorted_union_of_kept(prev_py, kept_py, donor_py, ("person_id",)
                                        ).with_columns(pl.lit(year, pl.Int64).alias("year"))
    del donor_py, kept_py
    pop.person_years[year] = education_step(person_years, prev_py, pop, rates, seed, rep, year, by_id, ascending,
                                             has_py)
    del person_years
    pop.labour[year] = labour.result()


def labour_rows(prev_labour: pl.DataFrame, kept_ids: np.ndarray, donors: Donors, donor: np.ndarray,
                recipient: np.ndarray, year: int) -> pl.DataFrame:
    """The labour rows of `year`: the kept persons' rows of last year (sorted: last year's order)
    and the recipients' rows from their donors (other persons), merged."""
    return sorted_union_of_kept(
        prev_labour, is_in(kept_ids, prev_labour["person_id"].to_numpy()),
        donors.labour_of(donor, recipient).select(prev_labour.columns), ("person_id", "attachment"),
    ).with_columns(pl.lit(year, pl.Int64).alias("year")).select(prev_labour.columns)


__all__ = ["ANCHORED_AREA_BANDS", "Donors", "area_code", "area_conviction_shares", "area_outside_shares", "forget_registers",
           "outcomes", "status_on", "year_statuses"]
