"""The hot-deck donors of the year's register outcomes: register rows of the last data year by cell
(status, age band, non-western, the area's outside band, the area), a donor picked per recipient
from the finest cell with donors, and the donor's rows copied as the recipient's."""

from __future__ import annotations

import numba
import numpy as np
import polars as pl

from boligmix.simulate.area_levels import area_code, area_conviction_shares, area_outside_bands, area_outside_shares
from boligmix.simulate.lookup import sorted_groups, sorted_lookup
from boligmix.simulate.population import Population, day, whole_years
from boligmix.simulate.rates import STATUS_BANDS, band
from boligmix.simulate.status_history import status_on

MIN_AREA_DONORS = 10
"""A cell of donors in the recipient's own area is used when it holds at least this many."""
_KEY_COLUMNS = ("status", "band", "nw", "ab", "area")
_KEY_RADIX = (1 << 12, 1 << 6, 1 << 2, 1 << 6, 1 << 24)
"""Mixed-radix code of a donor cell key (status, age band, non-western, area outside band, area + 1)."""
_LEVEL_DIVISOR = {depth: int(np.prod([_KEY_RADIX[i] for i in range(depth, 5)], dtype=np.int64)) for depth in range(1, 6)}
"""The code of a key's first `depth` columns is the finest code floor-divided by this (values in range)."""


def _cell_code(columns: list[np.ndarray], depth: int) -> np.ndarray:
    """One int64 per row for the first `depth` key columns (area shifted by one: -1, no area, is 0)."""
    code = np.zeros(columns[0].size, dtype=np.int64)
    for i in range(depth):
        value = columns[i].astype(np.int64) + (1 if _KEY_COLUMNS[i] == "area" else 0)
        if value.size and (value.min() < 0 or value.max() >= _KEY_RADIX[i]):
            raise ValueError(f"donor key {_KEY_COLUMNS[i]} out of range")
        code = code * _KEY_RADIX[i] + value
    return code


class Donors:
    """Register rows of the last data year to copy from, by (status, age band, non-western, the
    area outside band of the donor's area on 1 January after it, the area itself); coarser cells
    when one is empty (the area level: when it has fewer than MIN_AREA_DONORS). Donors of the
    recipient's own area carry the area's level of income and attachment that the data shows
    beyond its band (the municipality-scale backcast's income error after five years: 4.59 with
    them, 5.20 without; docs/simulate.md).

    A cell's pool is its donors in ascending person id; the cells of each level are kept as
    sorted int64 codes with offsets into one array of donors (`pick` is vectorised). A donor is
    its position in `ids` (the donors' ascending person ids): its status and the bounds of its
    rows in the two frames are read at that position (`status`, `rows`), not searched by id."""

    def __init__(self, pop: Population, year: int, outside: np.ndarray) -> None:
        # the year's frames in one chunk each, in place (the same rows): the donated rows are gathered
        # from them every year, and a gather from a frame of several chunks (a parquet's row groups)
        # took 4-8 times as long (national: 1.7 s for the labour and person_years rows of a year)
        labour = pop.labour[year] = pop.labour[year].rechunk()
        py = pop.person_years[year] = pop.person_years[year].rechunk()
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
            self.pools.append(by_cell.astype(np.int32))     # positions in `ids` (memory: held for the run)
        self.ids = py_ids
        self.status = status.astype(np.int8)       # held here: the population drops old years
        self.labour = _by_person(labour)
        self.person_years = _by_person(py)
        self.labour_bounds = row_bounds(self.labour["person_id"].to_numpy(), py_ids)
        self.person_years_bounds = row_bounds(self.person_years["person_id"].to_numpy(), py_ids)

    def pick(self, status: np.ndarray, bands: np.ndarray, nw: np.ndarray, ab: np.ndarray, u: np.ndarray,
             area: np.ndarray | None = None) -> np.ndarray:
        """A donor per recipient (its position in `ids`): the finest cell of the recipient's key that
        has donors, then the donor at position floor(u * size) of its pool (`_pick`; none: the
        status-0 cell's pool)."""
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

    @staticmethod
    def rows(frame: pl.DataFrame, bounds: np.ndarray, donor: np.ndarray, recipient: np.ndarray) -> pl.DataFrame:
        """The rows of each donor (a position in `ids`) in `frame`, as rows of its recipient
        (`bounds`: per donor, its first row in `frame` and how many, `row_bounds`). Before, the
        donors' ids were sorted and both bounds found by a walk of the frame's ids each year
        (0.75 s CPU of a national year for the two frames and the statuses)."""
        donor = np.asarray(donor, dtype=np.int64)
        take = np.empty(_donated_count(bounds, donor), dtype=np.int64)
        person = np.empty(take.size, dtype=np.int64)
        _donated_rows(bounds, donor, np.asarray(recipient, dtype=np.int64), take, person)
        return frame[take].with_columns(pl.Series("person_id", person, dtype=pl.Int64))

    def labour_of(self, donor: np.ndarray, recipient: np.ndarray) -> pl.DataFrame:
        return self.rows(self.labour, self.labour_bounds, donor, recipient)

    def person_years_of(self, donor: np.ndarray, recipient: np.ndarray) -> pl.DataFrame:
        return self.rows(self.person_years, self.person_years_bounds, donor, recipient)


def row_bounds(frame_ids: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Per id of the ascending unique `ids`: (its first row among the ascending `frame_ids`, how
    many rows it has there) = (searchsorted left, right - left), as int32 pairs when the rows fit
    (memory: held for the whole run), by one walk through both."""
    bounds = np.empty((ids.size, 2), dtype=np.int32 if frame_ids.size < 2**31 else np.int64)
    _walk_bounds(np.asarray(frame_ids, dtype=np.int64), np.asarray(ids, dtype=np.int64), bounds)
    return bounds


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
def _walk_bounds(frame_ids: np.ndarray, ids: np.ndarray, bounds: np.ndarray) -> None:
    """`row_bounds` of ascending `frame_ids` and ascending unique `ids`: one walk through both."""
    j, n = 0, frame_ids.size
    for i in range(ids.size):
        x = ids[i]
        while j < n and frame_ids[j] < x:
            j += 1
        end = j
        while end < n and frame_ids[end] == x:
            end += 1
        bounds[i, 0], bounds[i, 1] = j, end - j


@numba.njit(cache=True, nogil=True)
def _donated_count(bounds: np.ndarray, donor: np.ndarray) -> int:
    """How many rows the donors have (`bounds`' counts summed)."""
    total = 0
    for i in range(donor.size):
        total += bounds[donor[i], 1]
    return total


@numba.njit(cache=True, nogil=True)
def _donated_rows(bounds: np.ndarray, donor: np.ndarray, recipient: np.ndarray, take: np.ndarray,
                  person: np.ndarray) -> None:
    """The rows of each donor i in turn (`take`: its `bounds`' first row on), each as a row of
    its `recipient` (`person`)."""
    at = 0
    for i in range(donor.size):
        first, count = bounds[donor[i], 0], bounds[donor[i], 1]
        for r in range(count):
            take[at] = first + r
            person[at] = recipient[i]
            at += 1


def _by_person(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` in ascending person id (stable); itself, not a copy, when it already is."""
    return frame if frame["person_id"].is_sorted() else frame.sort("person_id", maintain_order=True)


__all__ = ["MIN_AREA_DONORS", "Donors", "row_bounds", "stable_order_of_coarser"]
