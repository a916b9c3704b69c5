"""Person-indexed arrays for the official indicators: joins replaced by integer index lookups.

Every person gets a dense index (their row in `persons` sorted by person_id); residence spells,
person_years, labour and convictions are mapped to that index once with `IdIndex`, a bucket
table over the sorted ids (a direct-address lookup: no sort of the looked-up ids, no hash join).
A dwelling's unit and region are looked up the same way. Large arrays are processed in chunks
of `CHUNK` rows, so that temporaries stay small and are reused instead of being freshly
page-faulted, and index arrays are int32.
Where everyone lives on a date is a pair of arrays over the person index (`Residents`).
Semantics are those of `boligmix.indicators.population` (docs/indicators.md); the same data
errors are raised.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import numba
import numpy as np
import polars as pl

from boligmix.data.io import table_path
from boligmix.errors import DataValidationError
from boligmix.indicators.population import UNIT_COLUMN, Level, dwelling_column, scan_columns

CHUNK = 1 << 18
"""Rows per chunk of the chunked array passes (2 MiB of int64)."""
_EPOCH = date(1970, 1, 1)
_NO_MOVE_OUT = np.iinfo(np.int32).max
_NON_WESTERN_ORIGINS = ("indvandrer", "efterkommer")
_SMALL_TABLE = 4096
PROBES = 4
"""Linear probes past a bucket's first id; the ids still not found then are binary-searched. Ids
bunched in a few buckets (the simulation's dwellings: the data's ids and a few far-off new ones)
made one vectorised probe per id of the fullest bucket, hundreds of passes."""
MAX_SPLITS = 3
"""`IdIndex` splits a table whose buckets are crowded at its widest gap, at most this deep (the
bunched ids then fill buckets of their own spread instead of being binary-searched)."""


def _days(d: date) -> int:
    return (d - _EPOCH).days


def _fail(rows: np.ndarray, message: str, path: str, column: str) -> None:
    """Raise a DataValidationError naming the first offending 0-based row in `rows` (1-based) when any."""
    if rows.size:
        raise DataValidationError(f"{message} ({rows.size} row(s); first shown)", path=path,
                                  row=int(rows.min()) + 1, column=column)


def _is_sorted(ids: np.ndarray) -> bool:
    last = ids.size - 1
    return all(bool(np.all(ids[s + 1:min(s + CHUNK, last) + 1] >= ids[s:min(s + CHUNK, last)]))
               for s in range(0, max(last, 0), CHUNK))


def column_chunks(series: pl.Series, null_as: int) -> Iterator[np.ndarray]:
    """The integer `series` as numpy arrays, one per polars chunk (no concatenated copy); nulls as `null_as`."""
    for chunk in series.get_chunks():
        if chunk.null_count():
            chunk = chunk.fill_null(null_as)
        yield chunk.to_numpy()


class IdIndex:
    """Ascending ids (repeats allowed) with a bucket table for direct-address lookups.

    Bucket b holds the ids in [lo + b * 2**shift, lo + (b + 1) * 2**shift), with 2**shift at most
    the mean gap between ids (at most one id per bucket when they are evenly spread). A lookup
    computes the bucket of each looked-up id and compares it with the bucket's first id; ids not
    found go on to the bucket's next ids (PROBES of them, then a binary search of the bucket).
    Linear in the number of ids; a table of widely spread ids (span beyond 2**62) or a small
    one uses a binary search instead. A table of crowded buckets is split at its widest gap, each
    side with buckets of its own; a lookup is one compiled pass over the ids (`_leaf_index`).
    """

    def __init__(self, sorted_ids: np.ndarray, _depth: int = 0) -> None:
        self.ids = np.ascontiguousarray(sorted_ids, dtype=np.int64)
        n = self.ids.size
        self._split: tuple[int, int, IdIndex, IdIndex] | None = None
        self._bucketed = n > _SMALL_TABLE and int(self.ids[-1]) - int(self.ids[0]) < 2**62 and n < 2**31
        if not self._bucketed:
            return
        self.lo = int(self.ids[0])
        self.span = int(self.ids[-1]) - self.lo
        self.shift = max((self.span // n).bit_length() - 1, 0)  # 2**shift <= span / n: at most 2n + 1 buckets
        n_buckets = (self.span >> self.shift) + 1
        starts = np.full(n_buckets + 1, n, dtype=np.int32)  # first position of each bucket's ids (n: none)
        previous = -1
        for s in range(0, n, CHUNK):
            bucket = (self.ids[s:s + CHUNK] - self.lo) >> self.shift
            new = np.empty(bucket.size, dtype=bool)
            new[0] = bucket[0] != previous
            np.not_equal(bucket[1:], bucket[:-1], out=new[1:])
            first = np.flatnonzero(new)
            starts[bucket[first]] = first + s
            previous = bucket[-1]
        reverse = starts[::-1]
        np.minimum.accumulate(reverse, out=reverse)  # an empty bucket starts where the next one does
        del reverse
        self.starts = starts
        self.max_per_bucket = int(np.diff(starts).max())
        if self.max_per_bucket - 1 > PROBES and _depth < MAX_SPLITS:
            # bunched ids (the simulation's dwellings and persons: the data's dense ids and new ones
            # far above): one index per side of the widest gap, each with buckets of its own spread
            k = _widest_gap(self.ids)
            if self.ids[k] > self.ids[k - 1]:                # equal ids stay on one side
                del self.starts, starts                      # memory: this table goes before the sides'
                self._split = (k, int(self.ids[k]), IdIndex(self.ids[:k], _depth + 1),
                               IdIndex(self.ids[k:], _depth + 1))

    def index(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(int32 position of the first equal id for each of `ids`, found mask); 0 where not found."""
        ids = np.asarray(ids, dtype=np.int64)
        idx = np.zeros(ids.size, dtype=np.int32)
        found = np.zeros(ids.size, dtype=bool)
        if self.ids.size:
            if getattr(self, "_leaves", None) is None:
                self._leaves = self._flat_leaves()
            _leaf_index(self.ids, *self._leaves, ids, idx, found)
        return idx, found

    def _flat_leaves(self) -> tuple:
        """The tables without a split (this one, or the sides of its splits, in id order), for
        `_leaf_index`: (first id, first and end position in `self.ids`, lo, shift (-1: no buckets),
        bucket starts) per leaf; the sides' ids are consecutive slices of this table's."""
        leaves: list[tuple[int, IdIndex]] = []

        def collect(index: IdIndex, offset: int) -> None:
            if index._split is None:
                leaves.append((offset, index))
                return
            k, _, lower, upper = index._split
            collect(lower, offset)
            collect(upper, offset + k)

        collect(self, 0)
        # a tuple of arrays (one compiled kernel per number of leaves, 1-8, cached on disk): a numba
        # typed list cost 0.8 s CPU in each process's first lookup and cannot be pickled
        starts = tuple(leaf.starts if leaf._bucketed else np.zeros(1, dtype=np.int32) for _, leaf in leaves)
        return (np.array([int(leaf.ids[0]) for _, leaf in leaves], dtype=np.int64),
                np.array([offset for offset, _ in leaves], dtype=np.int64),
                np.array([offset + leaf.ids.size for offset, leaf in leaves], dtype=np.int64),
                np.array([leaf.lo if leaf._bucketed else 0 for _, leaf in leaves], dtype=np.int64),
                np.array([leaf.shift if leaf._bucketed else -1 for _, leaf in leaves], dtype=np.int64),
                starts)


@numba.njit(cache=True, nogil=True)
def _leaf_index(table: np.ndarray, firsts: np.ndarray, begins: np.ndarray, ends: np.ndarray, los: np.ndarray,
                shifts: np.ndarray, starts, ids: np.ndarray, idx: np.ndarray, found: np.ndarray) -> None:
    """`IdIndex.index` in compiled passes over the ids. An id goes to the last leaf whose first id
    it is not below (the sides of a split: the upper side from its first id on). First pass: its
    bucket's first position; second: found there when the id equals it (most ids, evenly spread;
    two gathers per id without branches, so the memory loads of many ids overlap: a scalar walk
    per id was slower than numpy's vectorised passes on unordered ids). Third, the rest: on past
    smaller ids for at most PROBES positions, then (a crowded bucket) a binary search of the
    bucket's rest; in a leaf without buckets a binary search. The first equal id is found (the
    table ascends, equal ids share a bucket and a side). Before: about a dozen numpy passes per
    chunk of ids (fresh temporaries) and, for a split table, a routing of every chunk to the sides."""
    n, n_leaves = table.size, firsts.size
    for i in range(ids.size):                       # the bucket's first position; -1: outside, -2: no buckets
        x = ids[i]
        leaf = 0
        while leaf + 1 < n_leaves and x >= firsts[leaf + 1]:
            leaf += 1
        begin = begins[leaf]
        if x < table[begin] or x > table[ends[leaf] - 1]:
            idx[i] = -1
        elif shifts[leaf] < 0:
            idx[i] = -2
        else:
            idx[i] = begin + starts[leaf][(x - los[leaf]) >> shifts[leaf]]
    for i in range(ids.size):
        found[i] = idx[i] >= 0 and table[min(idx[i], n - 1)] == ids[i]
    for i in range(ids.size):
        if found[i]:
            continue
        if idx[i] == -1:
            idx[i] = 0
            continue
        x = ids[i]
        leaf = 0
        while leaf + 1 < n_leaves and x >= firsts[leaf + 1]:
            leaf += 1
        begin, end = begins[leaf], ends[leaf]
        shift = shifts[leaf]
        if shift < 0:
            j = begin + np.searchsorted(table[begin:end], x)
        else:
            bucket_starts = starts[leaf]
            b = (x - los[leaf]) >> shift
            j, end = begin + bucket_starts[b], begin + bucket_starts[b + 1]
            probes = 0
            while j < end and table[j] < x and probes <= PROBES:
                j += 1
                probes += 1
            if j < end and table[j] < x:
                j += np.searchsorted(table[j:end], x)
        if j < end and table[j] == x:
            idx[i] = j
            found[i] = True
        else:
            idx[i] = 0


def _widest_gap(ids: np.ndarray) -> int:
    """The first position k >= 1 with the largest ids[k] - ids[k - 1] of ascending `ids` (at least
    two), in chunks (no difference array of every id: memory)."""
    best, at = -1, 1
    for s in range(0, ids.size - 1, CHUNK):
        gaps = np.diff(ids[s:s + CHUNK + 1])
        i = int(np.argmax(gaps))
        if gaps[i] > best:
            best, at = int(gaps[i]), s + i + 1
    return at


def lookup(sorted_ids: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(index of each of `ids` in `sorted_ids` (ascending), found mask); the index is 0 where not found."""
    return IdIndex(sorted_ids).index(ids)


def _sorted_ids(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """(`ids` sorted, the sort order or None when already sorted)."""
    if _is_sorted(ids):
        return ids, None
    order = np.argsort(ids, kind="stable")
    return ids[order], order


def birth_cutoff(on: date, years: int) -> int:
    """The latest birth date (days since 1970-01-01) of a person at least `years` old (completed) on `on`.

    Born on or before `on` minus `years` years; for 29 February in a non-leap year, 28 February
    (the same rule as comparing (month, day) of birth with (month, day) of `on`).
    """
    year = on.year - years
    try:
        cutoff = on.replace(year=year)
    except ValueError:  # 29 February
        cutoff = date(year, 2, 28)
    return _days(cutoff)


@dataclass
class Persons:
    """Sorted person ids and per-person facts (arrays aligned with `ids`): birth date in days, non-western."""

    ids: np.ndarray
    born: np.ndarray
    non_western: np.ndarray
    _index: IdIndex | None = None

    def index(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(int32 person index of each of `ids`, found mask), see `IdIndex`."""
        if self._index is None:
            self._index = IdIndex(self.ids)
        return self._index.index(ids)

    def index_column(self, series: pl.Series) -> tuple[np.ndarray, np.ndarray]:
        """`index` of an integer polars column, chunk by chunk (nulls are not found)."""
        if self._index is None:
            self._index = IdIndex(self.ids)
        idx = np.zeros(series.len(), dtype=np.int32)
        found = np.zeros(series.len(), dtype=bool)
        start = 0
        for values in column_chunks(series, null_as=int(self.ids[0]) - 1 if self.ids.size else 0):
            end = start + values.size
            idx[start:end], found[start:end] = self._index.index(values)
            start = end
        if series.null_count():
            found &= series.is_not_null().to_numpy()
        return idx, found


def read_persons(dataset_dir: str | os.PathLike[str], nomenclature: str) -> Persons:
    """Persons sorted by id with birth date (days since 1970-01-01) and the non-western flag under `nomenclature`.

    Raises DataValidationError for an immigrant/descendant whose country is not in the nomenclature
    or a missing birth date. The country is read only for immigrants and descendants (one filtered
    scan with the file row), which is cheaper than evaluating it for everyone.
    """
    countries = (scan_columns(dataset_dir, "countries", ["country_code", "western", "nomenclature_version"])
                 .filter(pl.col("nomenclature_version") == nomenclature).collect())
    known = countries.get_column("country_code").implode()
    non_western_codes = countries.filter(~pl.col("western")).get_column("country_code").implode()
    scan = scan_columns(dataset_dir, "persons", ["person_id", "birth_date", "origin", "country_code"])
    frame = scan.select("person_id", pl.col("birth_date").cast(pl.Int32).alias("born")).collect()
    foreign = (scan.select("origin", "country_code").with_row_index("_row")
               .filter(pl.col("origin").is_in(_NON_WESTERN_ORIGINS))
               .select("_row", pl.col("country_code").is_in(non_western_codes).fill_null(False).alias("non_western"),
                       (~pl.col("country_code").is_in(known)).fill_null(False).alias("_unknown")).collect())
    path = str(table_path(dataset_dir, "persons"))
    if frame.get_column("born").null_count():
        _fail(np.flatnonzero(frame.get_column("born").is_null().to_numpy()), "birth_date is missing", path,
              "birth_date")
    if foreign.get_column("_unknown").any():
        _fail(foreign.filter("_unknown").get_column("_row").to_numpy(),
              f"country_code of an immigrant/descendant is not in countries ({nomenclature})", path, "country_code")
    non_western = np.zeros(frame.height, dtype=bool)
    non_western[foreign.get_column("_row").to_numpy()] = foreign.get_column("non_western").to_numpy()
    ids, order = _sorted_ids(frame.get_column("person_id").to_numpy())
    born = frame.get_column("born").to_numpy()
    if order is not None:
        born, non_western = born[order], non_western[order]
    return Persons(ids, born, non_western)


@dataclass
class Dwellings:
    """Sorted dwelling ids with the unit (row in the unit table, -1 for none) and region index."""

    ids: np.ndarray
    unit: np.ndarray
    region: np.ndarray


def read_dwellings(dataset_dir: str | os.PathLike[str], level: Level, units: pl.DataFrame,
                   regions: list[int], delineation: str = "parcels") -> Dwellings:
    """Dwellings sorted by id with their unit (int32 row of `units`, from `unit_table`) and region
    index in `regions` (int8, or int16 for 127 regions or more).

    At level "area", `delineation` says which dwellings an area holds: "parcels" (every dwelling
    whose `dwellings.area_id` is the area) or "almene_departments" (the almene dwellings whose
    department's `departments.area_id` is the area: the 2010 and 2013 units, rules-spec 1.2).

    Raises DataValidationError (dwellings row) for a municipality not in `municipalities` or a unit
    id not in its table.
    """
    unit_column = UNIT_COLUMN[level]
    if level == "area" and delineation == "almene_departments":
        departments = scan_columns(dataset_dir, "departments", ["department_id", "area_id"])
        frame = (scan_columns(dataset_dir, "dwellings", ["dwelling_id", "municipality_code", "tenure", "department_id"])
                 .join(departments, on="department_id", how="left")
                 .select("dwelling_id", "municipality_code",
                         pl.when(pl.col("tenure") == "almen").then(pl.col("area_id")).alias("area_id"))
                 .collect())
    elif level == "area" and delineation != "parcels":
        raise ValueError(f"unknown area delineation {delineation!r}")
    elif level == "municipality":
        frame = scan_columns(dataset_dir, "dwellings", ["dwelling_id", "municipality_code"]).collect()
    else:
        frame = dwelling_column(dataset_dir, level).collect()
    path = str(table_path(dataset_dir, "dwellings"))
    municipalities = (scan_columns(dataset_dir, "municipalities", ["municipality_code", "region_code"])
                      .collect().sort("municipality_code"))
    muni_ids = municipalities.get_column("municipality_code").to_numpy()
    muni_region = np.searchsorted(np.asarray(regions), municipalities.get_column("region_code").to_numpy())
    muni_idx, known = lookup(muni_ids, frame.get_column("municipality_code").fill_null(-1).to_numpy())
    _fail(np.flatnonzero(~known), "municipality_code is not in municipalities.parquet", path, "municipality_code")
    region = muni_region.astype(np.int8 if len(regions) < 127 else np.int16)[muni_idx]
    unit_ids = units.get_column("id")
    unit_numbers = units.get_column("unit").cast(pl.Int32)
    if level == "municipality":  # the unit of each municipality, then of each dwelling
        unit = (pl.Series(muni_ids).replace_strict(unit_ids, unit_numbers, default=-2, return_dtype=pl.Int32)
                .to_numpy()[muni_idx])
    else:  # only the dwellings with a unit id (few) go through the unit lookup
        with_unit = (frame.select(pl.col(unit_column)).with_row_index("_row")
                     .filter(pl.col(unit_column).is_not_null())
                     .select("_row", pl.col(unit_column).replace_strict(unit_ids, unit_numbers, default=-2,
                                                                        return_dtype=pl.Int32)))
        unit = np.full(frame.height, -1, dtype=np.int32)
        unit[with_unit.get_column("_row").to_numpy()] = with_unit.get_column(unit_column).to_numpy()
    _fail(np.flatnonzero(unit == -2), f"{unit_column} is not in its table", path, unit_column)
    ids, order = _sorted_ids(frame.get_column("dwelling_id").to_numpy())
    if order is not None:
        unit, region = unit[order], region[order]
    return Dwellings(ids, unit, region)


@dataclass
class Residents:
    """Where everyone lives on a date: `region` over the person index (region index; -1 when not
    resident); `members` are the person indexes living in a unit and `member_unit` their units."""

    on: date
    region: np.ndarray
    members: np.ndarray
    member_unit: np.ndarray


@dataclass
class Spells:
    """Residence spells open on any needed date: int32 person index, int32 unit, region index (int8
    or int16), move in/out in days (int32)."""

    person: np.ndarray
    unit: np.ndarray
    region: np.ndarray
    move_in: np.ndarray
    move_out: np.ndarray

    def open_on(self, on: date, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Open on `on`, for the spells start:stop."""
        day = _days(on)
        return (self.move_in[start:stop] <= day) & (self.move_out[start:stop] > day)

    def residents(self, dates: list[date], n_persons: int) -> tuple[dict[date, Residents], set[date]]:
        """Who lives where on each of `dates`, in one chunked pass; and the dates on which the person
        index of the open spells is not strictly increasing (someone may have two open spells there:
        `read_spells` checks them by id)."""
        regions = {d: np.full(n_persons, -1, dtype=self.region.dtype) for d in dates}
        members: dict[date, list[np.ndarray]] = {d: [self.person[:0]] for d in dates}
        member_units: dict[date, list[np.ndarray]] = {d: [self.unit[:0]] for d in dates}
        last = dict.fromkeys(dates, -1)
        unordered: set[date] = set()
        for s in range(0, self.person.size, CHUNK):
            person, unit, region = self.person[s:s + CHUNK], self.unit[s:s + CHUNK], self.region[s:s + CHUNK]
            in_unit = unit >= 0
            for d in dates:
                open_now = self.open_on(d, s, s + CHUNK)
                open_person = person[open_now]
                if open_person.size:
                    if open_person[0] <= last[d] or not bool(np.all(open_person[1:] > open_person[:-1])):
                        unordered.add(d)
                    last[d] = int(open_person[-1])
                regions[d][open_person] = region[open_now]
                open_now &= in_unit
                members[d].append(person[open_now])
                member_units[d].append(unit[open_now])
        residents = {d: Residents(d, regions[d], np.concatenate(members[d]), np.concatenate(member_units[d]))
                     for d in dates}
        return residents, unordered


def read_spells(dataset_dir: str | os.PathLike[str], dates: list[date], dwellings: Dwellings,
                persons: Persons) -> tuple[Spells, dict[date, Residents]]:
    """Spells open on any of `dates`, mapped to person and dwelling, and who lives where on each date;
    checked like `located_spells`."""
    path = str(table_path(dataset_dir, "residences"))

    def open_expr(on: date) -> pl.Expr:
        return (pl.col("move_in") <= on) & (pl.col("move_out").is_null() | (pl.col("move_out") > on))

    open_any = pl.any_horizontal([open_expr(d) for d in dates])
    columns = ["person_id", "dwelling_id", "move_in", "move_out"]
    frame = (scan_columns(dataset_dir, "residences", columns).filter(open_any)
             .select("person_id", "dwelling_id", pl.col("move_in").cast(pl.Int32),
                     pl.col("move_out").cast(pl.Int32).fill_null(_NO_MOVE_OUT)).collect())

    def fail(bad: np.ndarray, message: str, column: str) -> None:
        """Error naming the first file row among the kept spells flagged in `bad` (row numbers found only then)."""
        if bad.any():
            rows = (scan_columns(dataset_dir, "residences", columns).with_row_index("_row").filter(open_any)
                    .select("_row").collect().get_column("_row").to_numpy())
            _fail(rows[bad], message, path, column)

    n = frame.height
    dwelling_index = IdIndex(dwellings.ids)
    unit = np.empty(n, dtype=np.int32)
    region = np.empty(n, dtype=dwellings.region.dtype)
    d_found = np.empty(n, dtype=bool)
    start = 0
    dwelling_ids = frame.get_column("dwelling_id")
    for values in column_chunks(dwelling_ids, null_as=int(dwellings.ids[0]) - 1 if dwellings.ids.size else 0):
        for s in range(0, values.size, CHUNK):
            part = values[s:s + CHUNK]
            at = slice(start, start + part.size)
            idx, d_found[at] = dwelling_index.index(part)
            unit[at] = dwellings.unit[idx]
            region[at] = dwellings.region[idx]
            start += part.size
    if dwelling_ids.null_count():
        d_found &= dwelling_ids.is_not_null().to_numpy()
    fail(~d_found, "dwelling_id is not in dwellings.parquet", "dwelling_id")
    p_idx, p_found = persons.index_column(frame.get_column("person_id"))
    spells = Spells(p_idx, unit, region, frame.get_column("move_in").to_numpy(),
                    frame.get_column("move_out").to_numpy())
    residents, unordered = spells.residents(dates, persons.ids.size)
    all_found = bool(p_found.all())
    seen: np.ndarray | None = None
    for d in dates:
        # Spells are sorted by person in register extracts: a strictly increasing person index
        # on the date proves that nobody has two open spells (unknown persons: check the ids).
        if all_found and d not in unordered:
            continue
        if all_found:
            # every person known: ids are equal exactly when their indexes are, so nobody has two
            # open spells when the open spells' persons are as many as the distinct indexes (a
            # scatter over the person index; the simulation's spells are not in person order, and
            # sorting their ids on every date was most of its indicators' CPU); else find them below
            open_person = p_idx[spells.open_on(d)]
            if seen is None:
                seen = np.zeros(persons.ids.size, dtype=bool)
            else:
                seen.fill(False)
            seen[open_person] = True
            if int(np.count_nonzero(seen)) == open_person.size:
                continue
            del open_person
        p_ids = frame.get_column("person_id").fill_null(0).to_numpy()
        open_rows = np.flatnonzero(spells.open_on(d))
        ids = p_ids[open_rows]
        if ids.size > 1 and not bool(np.all(ids[1:] > ids[:-1])):
            ids_sorted, _ = _sorted_ids(ids)
            dup = ids_sorted[1:] == ids_sorted[:-1]
            if dup.any():
                bad = np.zeros(p_ids.size, dtype=bool)
                bad[open_rows[np.isin(ids, ids_sorted[1:][dup])]] = True
                fail(bad, f"a person has two residence spells open on {d.isoformat()}", "move_in")
    fail(~p_found, "person_id is not in persons.parquet", "person_id")
    return spells, residents
