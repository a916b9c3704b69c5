"""Register outcomes of a simulated year, vectorised over persons: labour status moves by the
estimated transition matrix, and a person whose status changes takes the register rows (labour,
person_years) of a donor of the new status, age band, origin group and area from the last data year
(hot deck, `Donors`); a person whose status stays keeps last year's rows. Education moves by the
estimated education transitions; convictions are drawn by the estimated rates.
"""

from __future__ import annotations

import numba
import numpy as np
import polars as pl

from boligmix.simulate import rng
from boligmix.simulate.background import in_background
from boligmix.simulate.behaviour import conviction_probability
from boligmix.simulate.lookup import (
    SEARCH_IN_ORDER,
    is_in,
    search,
    sorted_groups,
    sorted_lookup,
    sorted_union_of_kept,
)
from boligmix.simulate.population import Population, day, whole_years
from boligmix.simulate.rates import (
    CONVICTION_BANDS,
    HISTORY_YEARS,
    STATUS_BANDS,
    STATUSES,
    Rates,
    area_bands,
    band,
    outside_band,
    outside_history,
    statuses,
    with_area_effect,
)
from boligmix.simulate.transitions import cumulative_draw

ANCHORED_AREA_BANDS = True
"""The area bands of the outside and conviction rates are each area's bands in the start state (its
persistent level in the data), not re-measured every simulated year: re-measuring fed the
simulation's own sampling noise back into the rates (a random walk of the area shares the data does
not show; see docs/simulate.md, Backcast)."""
MIN_AREA_DONORS = 10
"""A cell of donors in the recipient's own area is used when it holds at least this many."""
DRAW_CHUNK = 1 << 19
"""Persons per chunk of the year's status and education draws. Each person's draw is their own
(random streams keyed by person, a distribution per person's cell), so a chunk at a time draws the
same; the draws' working arrays of all 7.7 million persons at once (index copies, binary-search
bounds) were the largest part of the national outcomes' transient."""
_KEY_COLUMNS = ("status", "band", "nw", "ab", "area")
_KEY_RADIX = (1 << 12, 1 << 6, 1 << 2, 1 << 6, 1 << 24)
"""Mixed-radix code of a donor cell key (status, age band, non-western, area outside band, area + 1)."""
_LEVEL_DIVISOR = {depth: int(np.prod([_KEY_RADIX[i] for i in range(depth, 5)], dtype=np.int64)) for depth in range(1, 6)}
"""The code of a key's first `depth` columns is the finest code floor-divided by this (values in range)."""


def _chunks(n: int) -> list[slice]:
    """Slices of DRAW_CHUNK persons covering `n`."""
    return [slice(lo, min(n, lo + DRAW_CHUNK)) for lo in range(0, n, DRAW_CHUNK)]


def _cell_code(columns: list[np.ndarray], depth: int) -> np.ndarray:
    """One int64 per row for the first `depth` key columns (area shifted by one: -1, no area, is 0)."""
    code = np.zeros(columns[0].size, dtype=np.int64)
    for i in range(depth):
        value = columns[i].astype(np.int64) + (1 if _KEY_COLUMNS[i] == "area" else 0)
        if value.size and (value.min() < 0 or value.max() >= _KEY_RADIX[i]):
            raise ValueError(f"donor key {_KEY_COLUMNS[i]} out of range")
        code = code * _KEY_RADIX[i] + value
    return code


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


class Donors:
    """Register rows of the last data year to copy from, by (status, age band, non-western, the
    area outside band of the donor's area on 1 January after it, the area itself); coarser cells
    when one is empty (the area level: when it has fewer than MIN_AREA_DONORS). Donors of the
    recipient's own area carry the area's level of income and attachment that the data shows
    beyond its band (the municipality-scale backcast's income error after five years: 4.59 with
    them, 5.20 without; docs/simulate.md).

    A cell's pool is its donors in ascending person id; the cells of each level are kept as
    sorted int64 codes with offsets into one array of donor ids (`pick` is vectorised)."""

    def __init__(self, pop: Population, year: int, outside: np.ndarray) -> None:
        labour, py = pop.labour[year], pop.person_years[year]
        info = pop.persons_frame.select("person_id", "birth_date", "origin", "country_code").join(
            py.select("person_id"), on="person_id", how="semi").sort("person_id")   # donors: rows in both
        py_ids = info["person_id"].to_numpy()
        status = status_on(pop, year, py_ids)
        age = whole_years(day(year + 1) - info["birth_date"].cast(pl.Int64).to_numpy())
        nw = ((info["origin"] != "dansk") & ~info["country_code"].is_in(sorted(pop.western_countries))).to_numpy()
        status_now = status_on(pop, year)
        resident_area = area_code(pop)
        self.area_outside = area_outside_shares(pop, year + 1, outside, status_now, resident_area)
        self.area_conviction = area_conviction_shares(pop, year + 1, pop.convictions.get(year), resident_area)
        order = np.argsort(pop.pid, kind="stable")
        resident_ids = pop.pid[order]
        ab = sorted_lookup(resident_ids, area_outside_bands(pop, year + 1, outside, status_now, self.area_outside,
                                                            resident_area)[order], py_ids, 0)
        area = sorted_lookup(resident_ids, resident_area[order], py_ids, -1)
        columns = [status, band(age, STATUS_BANDS), nw.astype(np.int64), ab, area]
        self.levels: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []   # depth 5 .. 1: codes, starts, sizes
        self.pools: list[np.ndarray] = []
        finest = _cell_code(columns, 5)
        by_finest = np.argsort(finest, kind="stable")
        for depth in (5, 4, 3, 2, 1):
            # the code of the first `depth` columns: the finest code without the later columns' digits
            code = finest // _LEVEL_DIVISOR[depth]
            # py_ids ascending: each pool in id order (np.argsort(code, kind="stable"), by counting)
            by_cell = by_finest if depth == 5 else stable_order_of_coarser(finest, by_finest, _LEVEL_DIVISOR[depth])
            codes, starts, sizes = sorted_groups(code[by_cell])
            if depth == 5:
                usable = (codes % _KEY_RADIX[4] > 0) & (sizes >= MIN_AREA_DONORS)
                codes, starts, sizes = codes[usable], starts[usable], sizes[usable]
            self.levels.append((codes, starts, sizes))
            self.pools.append(py_ids[by_cell])
        self.statuses = year_statuses(pop, year)     # held here: the population drops old years
        self.labour = _by_person(labour)
        self.person_years = _by_person(py)
        self._labour_ids = self.labour["person_id"].to_numpy()
        self._py_ids = self.person_years["person_id"].to_numpy()

    def pick(self, status: np.ndarray, bands: np.ndarray, nw: np.ndarray, ab: np.ndarray, u: np.ndarray,
             area: np.ndarray | None = None) -> np.ndarray:
        """A donor per recipient: the finest cell of the recipient's key that has donors, then the
        donor at position floor(u * size) of its pool (`_pick`; none: the status-0 cell's pool)."""
        n = np.asarray(status).size
        area = np.full(n, -1) if area is None else area
        columns = [np.asarray(c) for c in (status, bands, nw.astype(np.int64) if hasattr(nw, "astype") else nw, ab,
                                           area)]
        finest = _cell_code(columns, 5) if n else np.zeros(0, dtype=np.int64)   # every key checked, as at depth 5
        del columns
        out = np.zeros(n, dtype=np.int64)
        if n == 0:
            return out
        codes, starts, sizes = zip(*self.levels)
        status0 = np.flatnonzero(self.levels[4][0] == 0)
        divisors = np.array([_LEVEL_DIVISOR[depth] for depth in (5, 4, 3, 2, 1)], dtype=np.int64)
        if not _pick(finest, np.asarray(u, dtype=np.float64), divisors, codes, starts, sizes, tuple(self.pools),
                     int(status0[0]) if status0.size else -1, out):
            raise KeyError((0,))
        return out

    def rows(self, frame: pl.DataFrame, frame_ids: np.ndarray, donor: np.ndarray,
             recipient: np.ndarray, order: np.ndarray | None = None) -> pl.DataFrame:
        """The rows of each donor in `frame` (ascending `frame_ids`), as rows of its recipient
        (`order`: the donors' ascending order when known)."""
        order = donor_order(donor) if order is None else order
        if order is None:
            lo, hi = search(frame_ids, donor, "left"), search(frame_ids, donor, "right")
        else:                                         # both bounds by one walk of the sorted donors
            lo, hi = np.empty(donor.size, dtype=np.int64), np.empty(donor.size, dtype=np.int64)
            _sorted_bounds(frame_ids, donor, order, lo, hi)
        counts = hi - lo
        take = np.empty(int(counts.sum()), dtype=np.int64)
        person = np.empty(take.size, dtype=np.int64)
        _donated_rows(lo, counts, np.asarray(recipient, dtype=np.int64), take, person)
        return frame[take].with_columns(pl.Series("person_id", person, dtype=pl.Int64))

    def status_of(self, donor: np.ndarray, order: np.ndarray | None = None) -> np.ndarray:
        """The main status of each donor in the donors' year (0: no labour rows)."""
        return sorted_lookup(*self.statuses, donor, 0, order)

    def labour_of(self, donor: np.ndarray, recipient: np.ndarray, order: np.ndarray | None = None) -> pl.DataFrame:
        return self.rows(self.labour, self._labour_ids, donor, recipient, order)

    def person_years_of(self, donor: np.ndarray, recipient: np.ndarray, order: np.ndarray | None = None
                        ) -> pl.DataFrame:
        return self.rows(self.person_years, self._py_ids, donor, recipient, order)


@numba.njit(cache=True, nogil=True)
def stable_order_of_coarser(finest: np.ndarray, by_finest: np.ndarray, divisor: int) -> np.ndarray:
    """`np.argsort(finest // divisor, kind="stable")` of non-negative codes from `by_finest`, the
    stable order of `finest`: the coarser codes ascend along it, so each element's coarser cell
    is numbered in one walk and the elements counted into their cells in index order (a counting
    sort, linear; a stable sort of 6 million codes per level before, four levels)."""
    n = finest.size
    cell = np.empty(n, dtype=np.int64)
    cells, previous = 0, np.int64(0)
    for k in range(n):
        code = finest[by_finest[k]] // divisor
        if k == 0 or code != previous:
            cells += 1
            previous = code
        cell[by_finest[k]] = cells - 1
    at = np.zeros(cells + 1, dtype=np.int64)
    for i in range(n):
        at[cell[i] + 1] += 1
    for c in range(cells):
        at[c + 1] += at[c]
    out = np.empty(n, dtype=np.int64)
    for i in range(n):
        out[at[cell[i]]] = i
        at[cell[i]] += 1
    return out


@numba.njit(cache=True, nogil=True)
def _pick(finest: np.ndarray, u: np.ndarray, divisors: np.ndarray, codes, starts, sizes, pools, status0: int,
          out: np.ndarray) -> bool:
    """`Donors.pick` per recipient: at each level (finest first) the cell of the recipient's code
    floor-divided by the level's divisor, found by a binary search of the level's sorted codes; the
    first level with the cell gives the donor at min(floor(u * size), size - 1) of the cell's pool;
    no level: the coarsest level's cell `status0` (the status-0 pool; -1: none, then False). Before,
    a vectorised pass per level over the recipients still without a cell (gathers, a search, masks)."""
    for i in range(finest.size):
        done = False
        for level in range(divisors.size):
            level_codes = codes[level]
            if level_codes.size == 0:
                continue
            want = finest[i] // divisors[level]
            pos = min(np.searchsorted(level_codes, want), level_codes.size - 1)
            if level_codes[pos] == want:
                size = sizes[level][pos]
                out[i] = pools[level][starts[level][pos] + min(np.int64(u[i] * size), size - 1)]
                done = True
                break
        if not done:
            if status0 < 0:
                return False
            size = sizes[divisors.size - 1][status0]
            out[i] = pools[divisors.size - 1][starts[divisors.size - 1][status0] + min(np.int64(u[i] * size), size - 1)]
    return True


@numba.njit(cache=True, nogil=True)
def _sorted_bounds(ids: np.ndarray, wanted: np.ndarray, order: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> None:
    """`np.searchsorted(ids, wanted, "left")` and `"right"` of ascending `ids`, `order`: the ascending
    order of `wanted`: one walk through both (two binary searches of every donor before)."""
    j, n = 0, ids.size
    for k in range(order.size):
        i = order[k]
        x = wanted[i]
        while j < n and ids[j] < x:
            j += 1
        end = j
        while end < n and ids[end] == x:
            end += 1
        lo[i], hi[i] = j, end


@numba.njit(cache=True, nogil=True)
def _donated_rows(lo: np.ndarray, counts: np.ndarray, recipient: np.ndarray, take: np.ndarray,
                  person: np.ndarray) -> None:
    """The rows lo[i] .. lo[i] + counts[i] - 1 of each donor i in turn (`take`), each as a row of
    its `recipient` (`person`): `np.repeat` and a cumulative sum before."""
    at = 0
    for i in range(lo.size):
        for r in range(counts[i]):
            take[at] = lo[i] + r
            person[at] = recipient[i]
            at += 1


def donor_order(donor: np.ndarray) -> np.ndarray | None:
    """The donors' ascending order for the look-ups of `Donors.rows` and `status_of` (sorted once
    for all three; None: few enough to search as they come)."""
    return np.argsort(donor, kind="stable") if donor.size > SEARCH_IN_ORDER else None


def _by_person(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` in ascending person id (stable); itself, not a copy, when it already is."""
    return frame if frame["person_id"].is_sorted() else frame.sort("person_id", maintain_order=True)


def _education_step(person_years: pl.DataFrame, prev_py: pl.DataFrame, pop: Population, rates: Rates, seed: int,
                    rep: int, year: int, by_id: np.ndarray | None = None, ascending: np.ndarray | None = None,
                    had_row: np.ndarray | None = None) -> pl.DataFrame:
    """Move the highest education (and its source) of persons with a row last year by the estimated
    education transitions (`rates.transitions`), by age on 1 January of `year`. `had_row` (per
    resident: a row in `prev_py`; given when every row of `person_years` is a resident's): the
    persons with a row last year are found through the rows' residents, not a hash set of last
    year's ids."""
    if rates.transitions is None or person_years.height == 0:
        return person_years
    ids = person_years["person_id"].to_numpy()
    by_id = np.argsort(pop.pid, kind="stable") if by_id is None else by_id
    ascending = pop.pid[by_id] if ascending is None else ascending              # the residents' ids, sorted
    if had_row is not None:
        resident = resident_index(ascending, by_id, ids)
        own_rows = np.flatnonzero(flag_at(had_row, resident))
        resident = resident[own_rows]
    else:
        own_rows = np.flatnonzero(is_in(prev_py["person_id"].to_numpy(), ids))
        resident = sorted_lookup(ascending, by_id, ids[own_rows], -1)       # every one of them resides
    if own_rows.size == 0:
        return person_years
    own = ids[own_rows]
    age = whole_years(day(year) - pop.birth[resident])            # = pop.age_on(day(year))[resident]
    del resident
    tr = rates.transitions
    states = pl.DataFrame({"highest_education": [s[0] for s in tr.education_states],
                           "education_source": [s[1] for s in tr.education_states],
                           "state": np.arange(len(tr.education_states), dtype=np.int64)},
                          schema={"highest_education": pl.String, "education_source": pl.String, "state": pl.Int64})
    code = education_state_codes(person_years, states)[own_rows]
    nxt = np.empty_like(code)
    for at in _chunks(own.size):              # memory: the draws' working arrays a chunk at a time
        nxt[at] = tr.education_codes(code[at], age[at], rng.uniform(seed, rep, own[at], year, rng.EDUCATION))
    del own, age                              # memory: not held while the new columns are written
    return with_education_states(person_years, own_rows, code, nxt, states)


def education_state_codes(person_years: pl.DataFrame, states: pl.DataFrame) -> np.ndarray:
    """Per row of `person_years`: the `state` of `states` with its (highest_education,
    education_source), nulls equal (-1: none). Each column is coded by its own few values (small
    integers) and the pair looked up in a table: the left join on the two string columns it equals
    built a frame of both strings per row (national: 7.7 million rows, the register outcomes'
    largest transient); `states` with a repeated pair falls back to that join."""
    columns = ("highest_education", "education_source")
    if states.select(columns).is_duplicated().any():
        return (person_years.select(columns).join(states, on=list(columns), how="left", nulls_equal=True,
                                                  maintain_order="left")["state"].fill_null(-1).to_numpy())
    digits = []
    for name in columns:
        values = states[name].drop_nulls().unique(maintain_order=True).to_list()
        digits.append((len(values) + 1, _value_digits(person_years[name], values), _value_digits(states[name], values)))
    (_, row0, state0), (n1, row1, state1) = digits
    table = np.full(digits[0][0] * n1, -1, dtype=np.int64)
    table[state0 * n1 + state1] = states["state"].to_numpy()
    known = (row0 >= 0) & (row1 >= 0)
    return np.where(known, table[np.where(known, row0 * n1 + row1, 0)], -1)


def _value_digits(column: pl.Series, values: list[str]) -> np.ndarray:
    """Per element: its index in `values`, len(values) for null, -1 for another value (int32)."""
    col = pl.col(column.name)
    digit = pl.when(col.is_null()).then(pl.lit(len(values), pl.Int32)).otherwise(
        col.replace_strict(values, list(range(len(values))), default=-1, return_dtype=pl.Int32))
    return column.to_frame().select(digit.alias("digit"))["digit"].to_numpy()


def with_education_states(person_years: pl.DataFrame, rows: np.ndarray, code: np.ndarray, nxt: np.ndarray,
                          states: pl.DataFrame) -> pl.DataFrame:
    """The rows `rows` of `person_years`, now in education state `code` (-1: unknown, they stay),
    move to state `nxt`: each of the state's two values where not null (else the row's own). Only
    the rows whose state changes are written: a row's values are its state's (they were joined)."""
    moved = (code >= 0) & (nxt != code)
    at = rows[moved]
    if at.size == 0:
        return person_years
    drawn = states[nxt[moved]]
    columns = []
    for name in ("highest_education", "education_source"):
        own = person_years[name]
        value = pl.select(pl.coalesce(drawn[name], own.gather(at))).to_series()
        columns.append(own.clone().scatter(at, value).alias(name))
    return person_years.with_columns(columns)


def area_code(pop: Population) -> np.ndarray:
    """Per resident: the index of their dwelling's area among the sorted area ids (-1: none)."""
    codes, _ = pop.dwellings.area_codes()
    return codes[pop.dwellings.position(pop.dwelling)]


def _area_means(pop: Population, code: np.ndarray, members: np.ndarray, flag: np.ndarray) -> dict[str, float]:
    """Per area with members: the share of its `members` (residents, by area `code`) with `flag`."""
    _, names = pop.dwellings.area_codes()
    n = np.bincount(code[members], minlength=len(names))
    k = np.bincount(code[members], weights=flag[members], minlength=len(names))
    return {a: float(k[i]) / float(n[i]) for i, a in enumerate(names) if n[i]}


def area_outside_shares(pop: Population, on_year: int, outside: np.ndarray, status: np.ndarray,
                        code: np.ndarray | None = None) -> dict[str, float]:
    """Per area: the share of its residents 18-64 whose main status is an outside one (`code`: the
    residents' `area_code` when already known)."""
    age = pop.age_on(day(on_year))
    code = area_code(pop) if code is None else code
    return _area_means(pop, code, (code >= 0) & (age >= 18) & (age <= 64), outside[status])


def area_conviction_shares(pop: Population, on_year: int, convictions: pl.DataFrame | None,
                           code: np.ndarray | None = None) -> dict[str, float]:
    """Per area: the share of its residents 18+ convicted in the year before `on_year`."""
    convicted = np.zeros(pop.size, dtype=bool) if convictions is None else is_in(
        convictions["person_id"].to_numpy(), pop.pid)
    age = pop.age_on(day(on_year))
    code = area_code(pop) if code is None else code
    return _area_means(pop, code, (code >= 0) & (age >= 18), convicted)


def _per_area(pop: Population, values: dict[str, float], code: np.ndarray | None = None
              ) -> tuple[np.ndarray, np.ndarray]:
    """(per resident: the value of their area (0 where none or not given), has an area); `code`:
    the residents' `area_code` when already known."""
    _, names = pop.dwellings.area_codes()
    by_code = np.array([values.get(a, 0.0) for a in names] + [0.0], dtype=float)   # code -1: the trailing 0
    code = area_code(pop) if code is None else code
    return by_code[code], code >= 0


def area_outside_bands(pop: Population, on_year: int, outside: np.ndarray, status: np.ndarray,
                       shares: dict[str, float] | None = None, code: np.ndarray | None = None) -> np.ndarray:
    """Per resident: the outside band of the area they live in (share of 18-64s mainly outside;
    `shares` given: those per area)."""
    if shares is None:
        shares = area_outside_shares(pop, on_year, outside, status)
    code = area_code(pop) if code is None else code
    return _per_area_table(pop, shares, lambda value, has: outside_band(value, has))[code]


def _per_area_table(pop: Population, values: dict[str, float], per_value) -> np.ndarray:
    """`per_value(value, has_area)` (elementwise) per area code, the code -1 (no area: value 0, no
    area) last: indexed by the residents' `area_code` it equals `per_value(*_per_area(...))`
    computed per resident, at one gather per resident."""
    _, names = pop.dwellings.area_codes()
    by_code = np.array([values.get(a, 0.0) for a in names] + [0.0], dtype=float)
    return per_value(by_code, np.arange(len(names) + 1) < len(names))


def area_outside_effect(pop: Population, age: np.ndarray, effects: dict[str, float],
                        code: np.ndarray | None = None) -> np.ndarray:
    """Per resident: the outside-rate effect of their area (`Rates.area_outside_effect`) for those 18-64
    (`age`), 0 for everyone else."""
    effect, _ = _per_area(pop, effects, code)
    return np.where((age >= 18) & (age <= 64), effect, 0.0)


def outside_probability(pop: Population, rates: Rates, bands: np.ndarray, hist: np.ndarray, ab: np.ndarray,
                        age: np.ndarray, code: np.ndarray) -> np.ndarray:
    """Per resident: the outside rate of their cell (`rates.outside[bands, hist, ab]`) with their
    area's effect (`with_area_effect`, `area_outside_effect`: 18-64-year-olds in an area). The
    probability is a function of (cell, area, 18-64) only: it is computed once per cell and area
    code (the same elementwise operations on the same values) and gathered per resident, instead
    of a logit and an exponential per resident; with more (cell, area) pairs than residents, per
    resident."""
    if not rates.area_outside_effect:
        return rates.outside[bands, hist, ab]
    n_areas = len(pop.dwellings.area_codes()[1])
    if rates.outside.size * (n_areas + 1) > max(pop.size, 1):
        return with_area_effect(rates.outside[bands, hist, ab],
                                area_outside_effect(pop, age, rates.area_outside_effect, code))
    cell = np.ravel_multi_index((bands, hist, ab), rates.outside.shape)
    effect = _per_area_table(pop, rates.area_outside_effect, lambda value, has: value)      # code -1 last: 0
    table = with_area_effect(np.repeat(rates.outside.reshape(-1), effect.size), np.tile(effect, rates.outside.size))
    column = np.where((age >= 18) & (age <= 64) & (code >= 0), code, n_areas).astype(np.int64, copy=False)
    column += cell * (n_areas + 1)                                  # not 18-64, or no area: the effect 0
    return table[column]


def resident_index(ascending: np.ndarray, by_id: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Per element of `ids`: the index of the resident with that id (`ascending`: the residents'
    ids sorted, `by_id` their order), -1 for none; int32 (memory). With it, `is_in(ids, pid)` is a
    scatter and `is_in(sorted ids of residents with a flag, ids)` the flag read at the index. Ids
    in ascending order (last year's rows) are binary-searched in order (cache-friendly: 0.5 s CPU
    for 7 million against 0.8-1.1 s by the polars join of `sorted_lookup`)."""
    ids = np.asarray(ids)
    if ids.size == ascending.size and np.array_equal(ids, ascending):
        # every resident's id once, in order (the year's new person_years: a row per resident, the
        # kept persons' own and the switchers' from donors, who all have one): their own order
        return by_id.astype(np.int32)
    if ascending.size == 0 or not (ids.size > 1 and bool(np.all(ids[1:] >= ids[:-1]))):
        return sorted_lookup(ascending, by_id, ids, -1).astype(np.int32)
    pos = np.searchsorted(ascending, ids)
    np.minimum(pos, ascending.size - 1, out=pos)
    return np.where(ascending[pos] == ids, by_id[pos], -1).astype(np.int32)


def flag_at(flag: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Per element of `index` (a `resident_index`): the resident's `flag`, False for -1 (none)."""
    if flag.size == 0:
        return np.zeros(index.size, dtype=bool)
    out = flag[index]
    out &= index >= 0
    return out


def outcomes(pop: Population, rates: Rates, donors: Donors, seed: int, rep: int, year: int) -> None:
    """Register rows of `year` for everyone resident at its end (labour, person_years, convictions)."""
    prev_labour, prev_py = pop.labour[year - 1], pop.person_years[year - 1]
    by_id = np.argsort(pop.pid, kind="stable")        # the residents' ascending order, for the look-ups
    ascending = pop.pid[by_id]
    # last year's status and the outside history, looked up in ascending id order and put back once
    s0_sorted = sorted_lookup(*year_statuses(pop, year - 1), ascending, 0)
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
    cab = _per_area_table(pop, conv_share, lambda value, has: area_bands(value, has, CONVICTION_BANDS))[code]
    area_names = pop.dwellings.area_codes()[1]
    hit = np.empty(pop.size, dtype=bool)
    for at in _chunks(pop.size):              # each person's probability is their own: a chunk at a time
        p = conviction_probability(rates.behaviour, rates.conviction, bands[at], pop.female[at], convicted_before[at],
                                   cab[at], code[at], area_names, age[at])
        hit[at] = (age[at] >= 15) & (rng.uniform(seed, rep, pop.pid[at], year, rng.CONVICTION) < p)
    pop.convictions[year] = pl.DataFrame({"person_id": pop.pid[hit], "year": np.full(int(hit.sum()), year),
                                          "law": ["straffeloven"] * int(hit.sum()),
                                          "count": np.ones(int(hit.sum()), dtype=np.int64)})
    del convicted_before, cab, p, hit
    s1 = np.empty(pop.size, dtype=np.int64)
    p_out = None
    for at in _chunks(pop.size):              # memory: the draws' working arrays a chunk at a time
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
    by_donor = donor_order(donor)
    # the labour rows on the second core while this thread makes the person_years: the two read the
    # same inputs and nothing of each other (polars and nogil kernels: the GIL is mostly free)
    labour = in_background(labour_rows, prev_labour, kept_ids, donors, donor, recipient, by_donor, year)
    donor_py = donors.person_years_of(donor, recipient, by_donor)
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
    new_status[switch] = donors.status_of(donor, by_donor)
    pop.status_cache[year] = (ascending, new_status[by_id].astype(np.int8))
    del new_status, s0, donor, recipient, by_donor
    kept_py = flag_at(keep, py_resident)      # = is_in(kept_ids, last year's ids)
    del own, kept_ids, switch, keep, py_resident   # memory: only what the merge reads is held through it
    # sorted first (a row per person): the education step's look-ups then search ascending ids
    person_years = sorted_union_of_kept(prev_py, kept_py, donor_py, ("person_id",)
                                        ).with_columns(pl.lit(year, pl.Int64).alias("year"))
    del donor_py, kept_py
    pop.person_years[year] = _education_step(person_years, prev_py, pop, rates, seed, rep, year, by_id, ascending,
                                             has_py)
    del person_years
    pop.labour[year] = labour.result()


def labour_rows(prev_labour: pl.DataFrame, kept_ids: np.ndarray, donors: Donors, donor: np.ndarray,
                recipient: np.ndarray, by_donor: np.ndarray | None, year: int) -> pl.DataFrame:
    """The labour rows of `year`: the kept persons' rows of last year (sorted: last year's order)
    and the recipients' rows from their donors (other persons), merged."""
    return sorted_union_of_kept(
        prev_labour, is_in(kept_ids, prev_labour["person_id"].to_numpy()),
        donors.labour_of(donor, recipient, by_donor).select(prev_labour.columns), ("person_id", "attachment"),
    ).with_columns(pl.lit(year, pl.Int64).alias("year")).select(prev_labour.columns)


__all__ = ["ANCHORED_AREA_BANDS", "Donors", "area_code", "area_conviction_shares", "area_outside_shares", "forget_registers",
           "outcomes", "status_on", "year_statuses"]
