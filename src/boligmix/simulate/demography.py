"""One simulated year of demography and register outcomes, vectorised over persons.

Deaths, births and household emigration are drawn per person/household with the keyed random
streams (`boligmix.simulate.rng`); labour status moves by the estimated transition matrix, and a
person whose status changes takes the register rows (labour, person_years) of a donor of the new
status, age band and origin group from the last data year (hot deck); a person whose status stays
keeps last year's rows. Convictions are drawn by the estimated rates.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from boligmix.simulate import rng
from boligmix.simulate.population import NO_HOUSEHOLD, ORIGIN_CODES, Population, day
from boligmix.simulate.rates import (
    BIRTH_BANDS,
    CONVICTION_BANDS,
    area_bands,
    HISTORY_YEARS,
    DEATH_BANDS,
    HEAD_BANDS,
    STATUS_BANDS,
    STATUSES,
    Rates,
    band,
    outside_band,
    outside_history,
    statuses,
    with_area_effect,
)

ANCHORED_AREA_BANDS = True
"""The area bands of the outside and conviction rates are each area's bands in the start state (its
persistent level in the data), not re-measured every simulated year: re-measuring fed the
simulation's own sampling noise back into the rates (a random walk of the area shares the data does
not show; see docs/simulate.md, Backcast)."""
PERSON_BASE = 5_000_000_000_000_000
HOUSEHOLD_BASE = 6_000_000_000_000_000
DWELLING_BASE = HOUSEHOLD_BASE + 2 * 10**17
DEATH_DAY, EMIGRATION_DAY, BIRTH_DAY = 20, 25, 15


def heads(pop: Population) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(household ids, index of each household's head = oldest member, member count)."""
    order = np.lexsort((pop.pid, pop.birth, pop.household))
    hh_sorted = pop.household[order]
    starts = np.flatnonzero(np.r_[True, hh_sorted[1:] != hh_sorted[:-1]])
    sizes = np.diff(np.r_[starts, hh_sorted.size])
    return hh_sorted[starts], order[starts], sizes


def _months(seed: int, rep: int, ids: np.ndarray, year: int, event: int) -> np.ndarray:
    return rng.integers(seed, rep, ids, year, event * 100 + rng.EVENT_MONTH, 12) + 1


def vacate(pop: Population, households: np.ndarray, months: np.ndarray | int = 1) -> None:
    """Mark the dwellings of households that no longer live anywhere as vacant from `months`."""
    occ = pop.dwellings.household
    households = np.asarray(households)
    where = np.flatnonzero(np.isin(occ, households))
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
    fresh = ~np.isin(ids, dw.ids)
    dw.add_copies(templates.filter(pl.Series(fresh)), ids[fresh], templates["first_in"].dt.month().to_numpy()[fresh])
    pop.events["dwellings_built"] = pop.events.get("dwellings_built", 0) + int(fresh.sum())
    return new + int(fresh.sum())


def deaths(pop: Population, rates: Rates, seed: int, rep: int, year: int) -> int:
    age = pop.age_on(day(year))
    q = rates.death[band(age, DEATH_BANDS), pop.female.astype(int)]
    dies = np.flatnonzero(rng.uniform(seed, rep, pop.pid, year, rng.DEATH) < q)
    month = _months(seed, rep, pop.pid[dies], year, rng.DEATH)
    days = np.array([day(year, int(m), DEATH_DAY) for m in month], dtype=np.int64)
    pop.close_spells(dies, days, "death")
    gone = pop.household[dies]
    last_month = dict(zip(gone.tolist(), month.tolist()))
    pop.remove(dies)
    emptied = np.setdiff1d(gone, pop.household)
    vacate(pop, emptied, np.array([last_month[int(h)] for h in emptied], dtype=np.int64))
    pop.events["deaths"] = pop.events.get("deaths", 0) + dies.size
    return dies.size


def emigration(pop: Population, rates: Rates, seed: int, rep: int, year: int) -> int:
    hh, head, _ = heads(pop)
    age = pop.age_on(day(year))[head]
    p = rates.emigration[pop.nonwestern[head].astype(int), band(age, HEAD_BANDS)]
    leaving = hh[rng.uniform(seed, rep, hh, year, rng.EMIGRATION) < p]
    idx = np.flatnonzero(np.isin(pop.household, leaving))
    month = _months(seed, rep, pop.household[idx], year, rng.EMIGRATION)
    days = np.array([day(year, int(m), EMIGRATION_DAY) for m in month], dtype=np.int64)
    pop.close_spells(idx, days, "abroad")
    pop.remove(idx)
    vacate(pop, leaving, _months(seed, rep, leaving, year, rng.EMIGRATION))
    pop.events["emigrants"] = pop.events.get("emigrants", 0) + idx.size
    return idx.size


def births(pop: Population, rates: Rates, seed: int, rep: int, year: int) -> int:
    age = pop.age_on(day(year))
    women = np.flatnonzero(pop.female & (age >= 15) & (age <= 49))
    p = rates.birth[band(age[women], BIRTH_BANDS), pop.nonwestern[women].astype(int)]
    mothers = women[rng.uniform(seed, rep, pop.pid[women], year, rng.BIRTH) < np.minimum(p, 1.0)]
    if mothers.size == 0:
        return 0
    month = _months(seed, rep, pop.pid[mothers], year, rng.BIRTH)
    born = np.array([day(year, int(m), BIRTH_DAY) for m in month], dtype=np.int64)
    ids = rng.new_ids(seed, rep, pop.pid[mothers], year, rng.NEW_ID, base=PERSON_BASE)
    female = rng.uniform(seed, rep, ids, year, rng.BIRTH_SEX) < 0.487
    origin = np.where(pop.origin[mothers] == ORIGIN_CODES["dansk"], ORIGIN_CODES["dansk"], ORIGIN_CODES["efterkommer"])
    country = np.where(origin == ORIGIN_CODES["dansk"], "DNK", pop.country[mothers]).astype(object)
    pop.add(pid=ids, birth=born, female=female, origin=origin, country=country,
            nonwestern=pop.nonwestern[mothers], household=pop.household[mothers],
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


# ----------------------------------------------------------------------------------------------
# Register outcomes


MIN_AREA_DONORS = 10
"""A cell of donors in the recipient's own area is used when it holds at least this many."""


class Donors:
    """Register rows of the last data year to copy from, by (status, age band, non-western, the
    area outside band of the donor's area on 1 January after it, the area itself); coarser cells
    when one is empty (the area level: when it has fewer than MIN_AREA_DONORS). Donors of the
    recipient's own area carry the area's level of income and attachment that the data shows
    beyond its band (the municipality-scale backcast's income error after five years: 4.59 with
    them, 5.20 without; docs/simulate.md)."""

    def __init__(self, pop: Population, year: int, outside: np.ndarray) -> None:
        labour, py = pop.labour[year], pop.person_years[year]
        st = statuses(labour).select("person_id", "status")
        people = py.select("person_id").join(st, on="person_id", how="left").with_columns(pl.col("status").fill_null(0))
        info = pop.persons_frame.select("person_id", "birth_date", "origin", "country_code")
        people = people.join(info, on="person_id")
        age = ((pl.date(year + 1, 1, 1) - pl.col("birth_date")).dt.total_days() // 365.25).cast(pl.Int64)
        people = people.with_columns(age.alias("age"),
                                     ((pl.col("origin") != "dansk") & ~pl.col("country_code").is_in(
                                         sorted(pop.western_countries))).alias("nw"))
        status_now = _status_of(pop, labour)
        self.area_outside = area_outside_shares(pop, year + 1, outside, status_now)
        self.area_conviction = area_conviction_shares(pop, year + 1, pop.convictions.get(year))
        ab = pl.DataFrame({"person_id": pop.pid, "ab": area_outside_bands(pop, year + 1, outside, status_now)})
        people = people.join(ab, on="person_id", how="left").with_columns(pl.col("ab").fill_null(0))
        codes = pl.DataFrame({"person_id": pop.pid, "area": area_code(pop)})
        people = people.join(codes, on="person_id", how="left").with_columns(pl.col("area").fill_null(-1))
        people = people.with_columns(pl.Series("band", band(people["age"].to_numpy(), STATUS_BANDS))).sort("person_id")
        self.levels: list[dict[tuple, np.ndarray]] = []
        for keys in (["status", "band", "nw", "ab", "area"], ["status", "band", "nw", "ab"], ["status", "band", "nw"],
                     ["status", "band"], ["status"]):
            self.levels.append({tuple(int(k) for k in key): part["person_id"].to_numpy()
                                for key, part in people.group_by(keys, maintain_order=True)
                                if len(keys) < 5 or (key[4] >= 0 and part.height >= MIN_AREA_DONORS)})
        self.labour = labour
        self.person_years = py

    def pick(self, status: np.ndarray, bands: np.ndarray, nw: np.ndarray, ab: np.ndarray, u: np.ndarray,
             area: np.ndarray | None = None) -> np.ndarray:
        out = np.zeros(status.size, dtype=np.int64)
        area = np.full(status.size, -1) if area is None else area
        for i in range(status.size):
            key = (int(status[i]), int(bands[i]), int(nw[i]), int(ab[i]), int(area[i]))
            pool = None
            for depth, level in zip((5, 4, 3, 2, 1), self.levels):
                pool = level.get(key[:depth])
                if pool is not None:
                    break
            if pool is None:
                pool = self.levels[4][(0,)]
            out[i] = pool[min(int(u[i] * pool.size), pool.size - 1)]
        return out


def _education_step(person_years: pl.DataFrame, prev_py: pl.DataFrame, pop: Population, rates: Rates, seed: int,
                    rep: int, year: int) -> pl.DataFrame:
    """Move the highest education (and its source) of persons with a row last year by the estimated
    education transitions (`rates.transitions`), by age on 1 January of `year`."""
    if rates.transitions is None or person_years.height == 0:
        return person_years
    own = person_years.join(prev_py.select("person_id"), on="person_id", how="semi")["person_id"].to_numpy()
    if own.size == 0:
        return person_years
    age = pop.age_on(day(year))[_positions(pop.pid, own)]
    edu = pl.DataFrame({"person_id": own}).join(
        person_years.select("person_id", "highest_education", "education_source"), on="person_id", how="left")
    level, source = rates.transitions.education_step(
        edu["highest_education"].to_numpy(), edu["education_source"].to_numpy(), age,
        rng.uniform(seed, rep, own, year, rng.EDUCATION))
    moved = pl.DataFrame({"person_id": own, "level_next": pl.Series(level, dtype=pl.String),
                          "source_next": pl.Series(source, dtype=pl.String)})
    return (person_years.join(moved, on="person_id", how="left")
            .with_columns(pl.coalesce("level_next", "highest_education").alias("highest_education"),
                          pl.coalesce("source_next", "education_source").alias("education_source"))
            .drop("level_next", "source_next"))


def _positions(ids: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    order = np.argsort(ids, kind="stable")
    return order[np.searchsorted(ids[order], wanted)]


def area_code(pop: Population) -> np.ndarray:
    """Per resident: the index of their dwelling's area among the sorted area ids (-1: none)."""
    codes, _ = pop.dwellings.area_codes()
    return codes[pop.dwellings.position(pop.dwelling)]


def _status_of(pop: Population, labour: pl.DataFrame) -> np.ndarray:
    return pl.DataFrame({"person_id": pop.pid}).join(statuses(labour), on="person_id", how="left")[
        "status"].fill_null(0).to_numpy()


def area_outside_shares(pop: Population, on_year: int, outside: np.ndarray, status: np.ndarray) -> dict[str, float]:
    """Per area: the share of its residents 18-64 whose main status is an outside one."""
    age = pop.age_on(day(on_year))
    area = pop.dwellings.area[pop.dwellings.position(pop.dwelling)]
    working = (area != None) & (age >= 18) & (age <= 64)  # noqa: E711
    return dict(pl.DataFrame({"a": area[working].astype(str), "o": outside[status][working]}).group_by("a").agg(
        pl.col("o").mean()).iter_rows())


def area_conviction_shares(pop: Population, on_year: int, convictions: pl.DataFrame | None) -> dict[str, float]:
    """Per area: the share of its residents 18+ convicted in the year before `on_year`."""
    convicted = np.zeros(pop.size, dtype=bool) if convictions is None else np.isin(
        pop.pid, convictions["person_id"].to_numpy())
    age = pop.age_on(day(on_year))
    area = pop.dwellings.area[pop.dwellings.position(pop.dwelling)]
    adult = (area != None) & (age >= 18)  # noqa: E711
    return dict(pl.DataFrame({"a": area[adult].astype(str), "c": convicted[adult]}).group_by("a").agg(
        pl.col("c").mean()).iter_rows())


def _per_resident(pop: Population, shares: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
    area = pop.dwellings.area[pop.dwellings.position(pop.dwelling)]
    return np.array([shares.get(a, 0.0) if a is not None else 0.0 for a in area]), area != None  # noqa: E711


def area_outside_bands(pop: Population, on_year: int, outside: np.ndarray, status: np.ndarray,
                       shares: dict[str, float] | None = None) -> np.ndarray:
    """Per resident: the outside band of the area they live in (share of 18-64s mainly outside;
    `shares` given: those per area)."""
    if shares is None:
        shares = area_outside_shares(pop, on_year, outside, status)
    return outside_band(*_per_resident(pop, shares))


def area_outside_effect(pop: Population, age: np.ndarray, effects: dict[str, float]) -> np.ndarray:
    """Per resident: the outside-rate effect of their area (`Rates.area_outside_effect`) for those 18-64
    (`age`), 0 for everyone else."""
    area = pop.dwellings.area[pop.dwellings.position(pop.dwelling)]
    effect = np.array([effects.get(a, 0.0) if a is not None else 0.0 for a in area], dtype=float)
    return np.where((age >= 18) & (age <= 64), effect, 0.0)


def outcomes(pop: Population, rates: Rates, donors: Donors, seed: int, rep: int, year: int) -> None:
    """Register rows of `year` for everyone resident at its end (labour, person_years, convictions)."""
    prev_labour, prev_py = pop.labour[year - 1], pop.person_years[year - 1]
    prev_status = statuses(prev_labour).select("person_id", "status")
    frame = pl.DataFrame({"person_id": pop.pid}).join(prev_status, on="person_id", how="left")
    for back in range(2, HISTORY_YEARS + 1):
        frame = frame.join(statuses(pop.labour[year - back]).select("person_id", pl.col("status").alias(f"h{back}")),
                           on="person_id", how="left")
    has_py = pl.DataFrame({"person_id": pop.pid}).join(prev_py.select("person_id", pl.lit(True).alias("has")),
                                                       on="person_id", how="left")["has"].fill_null(False).to_numpy()
    s0 = frame["status"].fill_null(0).to_numpy()
    age = pop.age_on(day(year + 1))
    bands = band(age, STATUS_BANDS)
    nw = pop.nonwestern.astype(int)
    hist = outside_history([s0, *(frame[f"h{b}"].fill_null(0).to_numpy() for b in range(2, HISTORY_YEARS + 1))],
                           rates.outside_statuses)
    ab = area_outside_bands(pop, year + 1, rates.outside_statuses, s0,
                            donors.area_outside if ANCHORED_AREA_BANDS else None)
    p_out = rates.outside[bands, hist, ab]
    if rates.area_outside_effect:
        p_out = with_area_effect(p_out, area_outside_effect(pop, age, rates.area_outside_effect))
    goes_outside = (rng.uniform(seed, rep, pop.pid, year, rng.OUTSIDE) < p_out).astype(int)
    cum = rates.status[bands, nw, s0, goes_outside]
    u = rng.uniform(seed, rep, pop.pid, year, rng.STATUS)
    s1 = np.minimum((cum < u[:, None]).sum(axis=1), len(STATUSES) - 1)
    keep = (s1 == s0) & has_py
    switch = ~keep
    donor = donors.pick(s1[switch], bands[switch], nw[switch], ab[switch],
                        rng.uniform(seed, rep, pop.pid[switch], year, rng.DONOR), area_code(pop)[switch])
    mapping = pl.DataFrame({"donor": donor, "person_id": pop.pid[switch]})
    kept = pl.DataFrame({"person_id": pop.pid[keep]})
    labour = pl.concat([
        prev_labour.join(kept, on="person_id", how="semi"),
        donors.labour.rename({"person_id": "donor"}).join(mapping, on="donor").drop("donor").select(prev_labour.columns),
    ], how="vertical_relaxed").with_columns(pl.lit(year, pl.Int64).alias("year"))
    own_edu = prev_py.select("person_id", "highest_education", "education_source")
    donor_py = donors.person_years.rename({"person_id": "donor"}).join(mapping, on="donor").drop("donor")
    donor_py = (donor_py.join(own_edu.rename({"highest_education": "own_level", "education_source": "own_source"}),
                              on="person_id", how="left")
                .with_columns(pl.coalesce("own_level", "highest_education").alias("highest_education"),
                              pl.coalesce("own_source", "education_source").alias("education_source"))
                .drop("own_level", "own_source"))
    person_years = pl.concat([prev_py.join(kept, on="person_id", how="semi"), donor_py.select(prev_py.columns)],
                             how="vertical_relaxed").with_columns(pl.lit(year, pl.Int64).alias("year"))
    person_years = _education_step(person_years, prev_py, pop, rates, seed, rep, year)
    pop.labour[year] = labour.select(prev_labour.columns).sort("person_id", "attachment")
    pop.person_years[year] = person_years.sort("person_id")
    convicted_before = pl.DataFrame({"person_id": pop.pid}).join(
        pop.convictions[year - 1].select("person_id").unique().with_columns(pl.lit(True).alias("c")),
        on="person_id", how="left")["c"].fill_null(False).to_numpy()
    conv_share = donors.area_conviction if ANCHORED_AREA_BANDS else area_conviction_shares(
        pop, year + 1, pop.convictions[year - 1])
    cab = area_bands(*_per_resident(pop, conv_share), CONVICTION_BANDS)
    p = rates.conviction[bands, pop.female.astype(int), convicted_before.astype(int), cab]
    hit = (age >= 15) & (rng.uniform(seed, rep, pop.pid, year, rng.CONVICTION) < p)
    pop.convictions[year] = pl.DataFrame({"person_id": pop.pid[hit], "year": np.full(int(hit.sum()), year),
                                          "law": ["straffeloven"] * int(hit.sum()),
                                          "count": np.ones(int(hit.sum()), dtype=np.int64)})


__all__ = ["Donors", "births", "deaths", "dwelling_stock", "emigration", "heads", "outcomes", "person_rows", "vacate"]
