"""Person-indexed arrays for the official indicators: joins replaced by integer index lookups.

Every person gets a dense index (their row in `persons` sorted by person_id); residence spells,
person_years, labour and convictions are mapped to that index once (`lookup`: a polars sorted
merge join, as register tables keyed by person are sorted; unsorted ids, such as the dwellings of
spells, are sorted first; small tables use a binary search). A dwelling's unit and region are
looked up the same way.
Per-unit counts and sums are `numpy.bincount` over the unit index. Semantics are those of
`boligmix.indicators.population` (docs/indicators.md); the same data errors are raised.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from boligmix.data.io import table_path
from boligmix.errors import DataValidationError
from boligmix.indicators.population import UNIT_COLUMN, Level, scan_columns

_EPOCH = date(1970, 1, 1)
_NO_MOVE_OUT = np.iinfo(np.int32).max
_NON_WESTERN_ORIGINS = ("indvandrer", "efterkommer")


def _days(d: date) -> int:
    return (d - _EPOCH).days


def _fail(rows: np.ndarray, message: str, path: str, column: str) -> None:
    """Raise a DataValidationError naming the first offending 0-based row in `rows` (1-based) when any."""
    if rows.size:
        raise DataValidationError(f"{message} ({rows.size} row(s); first shown)", path=path,
                                  row=int(rows.min()) + 1, column=column)


def _is_sorted(ids: np.ndarray) -> bool:
    return ids.size < 2 or bool(np.all(ids[1:] >= ids[:-1]))


def id_frame(sorted_ids: np.ndarray) -> pl.DataFrame:
    """`k` (the ids, flagged sorted) and `i` (their index): the right side of `lookup`'s merge join."""
    return pl.DataFrame({"k": sorted_ids, "i": np.arange(sorted_ids.size, dtype=np.int64)}).with_columns(
        pl.col("k").set_sorted())


def _merge_lookup(sorted_ids: np.ndarray, ids: np.ndarray,
                  right: pl.DataFrame | None) -> tuple[np.ndarray, np.ndarray] | None:
    """Polars sorted merge join of ascending `ids` on `sorted_ids`; None if `sorted_ids` has duplicates."""
    left = pl.DataFrame({"k": ids}).with_columns(pl.col("k").set_sorted())
    right = id_frame(sorted_ids) if right is None else right
    idx = left.join(right, on="k", how="left", maintain_order="left").get_column("i")
    if idx.len() != ids.size:
        return None
    if idx.null_count() == 0:
        return idx.to_numpy(), np.ones(ids.size, dtype=bool)
    return idx.fill_null(0).to_numpy(), idx.is_not_null().to_numpy()


def lookup(sorted_ids: np.ndarray, ids: np.ndarray,
           right: pl.DataFrame | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(index of each of `ids` in `sorted_ids` (unique, ascending), found mask); the index is 0 where not found.

    A polars sorted merge join (linear); unsorted `ids` are sorted first (cheaper than a binary
    search of each at millions of rows). Duplicate `sorted_ids` fall back to a binary search.
    """
    if sorted_ids.size == 0:
        return np.zeros(ids.size, dtype=np.int64), np.zeros(ids.size, dtype=bool)
    if sorted_ids.size <= 4096:  # a small table stays in cache: binary search
        pass
    elif _is_sorted(ids):
        merged = _merge_lookup(sorted_ids, ids, right)
        if merged is not None:
            return merged
    elif ids.size > 100_000:
        order = np.argsort(ids, kind="stable")
        merged = _merge_lookup(sorted_ids, ids[order], right)
        if merged is not None:
            idx, found = np.empty(ids.size, dtype=np.int64), np.empty(ids.size, dtype=bool)
            idx[order], found[order] = merged
            return idx, found
    idx = np.searchsorted(sorted_ids, ids)
    idx[idx == sorted_ids.size] = 0
    return idx, sorted_ids[idx] == ids


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
    _id_frame: pl.DataFrame | None = None

    def index(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(person index of each of `ids`, found mask), see `lookup`."""
        if self._id_frame is None and self.ids.size > 4096:
            self._id_frame = id_frame(self.ids)
        return lookup(self.ids, ids, self._id_frame)


def read_persons(dataset_dir: str | os.PathLike[str], nomenclature: str) -> Persons:
    """Persons sorted by id with birth date (days since 1970-01-01) and the non-western flag under `nomenclature`.

    Raises DataValidationError for an immigrant/descendant whose country is not in the nomenclature
    or a missing birth date.
    """
    countries = (scan_columns(dataset_dir, "countries", ["country_code", "western", "nomenclature_version"])
                 .filter(pl.col("nomenclature_version") == nomenclature).collect())
    known = countries.get_column("country_code").implode()
    non_western_codes = countries.filter(~pl.col("western")).get_column("country_code").implode()
    foreign = pl.col("origin").is_in(_NON_WESTERN_ORIGINS)
    frame = scan_columns(dataset_dir, "persons", ["person_id", "birth_date", "origin", "country_code"]).select(
        "person_id", pl.col("birth_date").cast(pl.Int32).alias("born"),
        (foreign & pl.col("country_code").is_in(non_western_codes)).fill_null(False).alias("non_western"),
        (foreign & ~pl.col("country_code").is_in(known)).fill_null(False).alias("_unknown")).collect()
    path = str(table_path(dataset_dir, "persons"))
    if frame.get_column("born").null_count():
        _fail(np.flatnonzero(frame.get_column("born").is_null().to_numpy()), "birth_date is missing", path,
              "birth_date")
    unknown = frame.get_column("_unknown").to_numpy()
    _fail(np.flatnonzero(unknown), f"country_code of an immigrant/descendant is not in countries ({nomenclature})",
          path, "country_code")
    ids, order = _sorted_ids(frame.get_column("person_id").to_numpy())
    columns = [frame.get_column(c).to_numpy() for c in ("born", "non_western")]
    if order is not None:
        columns = [c[order] for c in columns]
    return Persons(ids, *columns)


@dataclass
class Dwellings:
    """Sorted dwelling ids with the unit (row in the unit table, -1 for none) and region index."""

    ids: np.ndarray
    unit: np.ndarray
    region: np.ndarray


def read_dwellings(dataset_dir: str | os.PathLike[str], level: Level, units: pl.DataFrame,
                   regions: list[int]) -> Dwellings:
    """Dwellings sorted by id with their unit (row of `units`, from `unit_table`) and region index in `regions`.

    Raises DataValidationError (dwellings row) for a municipality not in `municipalities` or a unit
    id not in its table.
    """
    unit_column = UNIT_COLUMN[level]
    columns = ["dwelling_id", "municipality_code"] + ([] if level == "municipality" else [unit_column])
    frame = scan_columns(dataset_dir, "dwellings", columns).collect()
    path = str(table_path(dataset_dir, "dwellings"))
    municipalities = (scan_columns(dataset_dir, "municipalities", ["municipality_code", "region_code"])
                      .collect().sort("municipality_code"))
    muni_ids = municipalities.get_column("municipality_code").to_numpy()
    muni_region = np.searchsorted(np.asarray(regions), municipalities.get_column("region_code").to_numpy())
    muni_idx, known = lookup(muni_ids, frame.get_column("municipality_code").fill_null(-1).to_numpy())
    _fail(np.flatnonzero(~known), "municipality_code is not in municipalities.parquet", path, "municipality_code")
    region = muni_region[muni_idx]
    unit_ids = units.get_column("id")
    unit_numbers = units.get_column("unit").cast(pl.Int64)
    source = pl.col("municipality_code" if level == "municipality" else unit_column)
    unit = frame.select(pl.when(source.is_null()).then(pl.lit(-1, pl.Int64)).otherwise(
        source.replace_strict(unit_ids, unit_numbers, default=-2, return_dtype=pl.Int64))).to_series().to_numpy()
    _fail(np.flatnonzero(unit == -2), f"{unit_column} is not in its table", path, unit_column)
    ids, order = _sorted_ids(frame.get_column("dwelling_id").to_numpy())
    if order is not None:
        unit, region = unit[order], region[order]
    return Dwellings(ids, unit, region)


@dataclass
class Spells:
    """Residence spells open on any needed date: person index, unit, region index, move in/out in days."""

    person: np.ndarray
    unit: np.ndarray
    region: np.ndarray
    move_in: np.ndarray
    move_out: np.ndarray

    def open_on(self, on: date) -> np.ndarray:
        day = _days(on)
        return (self.move_in <= day) & (self.move_out > day)


def read_spells(dataset_dir: str | os.PathLike[str], dates: list[date], dwellings: Dwellings,
                persons: Persons) -> Spells:
    """Spells open on any of `dates`, mapped to person and dwelling; checked like `located_spells`."""
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

    d_idx, d_found = lookup(dwellings.ids, frame.get_column("dwelling_id").to_numpy())
    fail(~d_found, "dwelling_id is not in dwellings.parquet", "dwelling_id")
    move_in, move_out = frame.get_column("move_in").to_numpy(), frame.get_column("move_out").to_numpy()
    p_ids = frame.get_column("person_id").to_numpy()
    spells = Spells(np.empty(0, np.int64), dwellings.unit[d_idx], dwellings.region[d_idx], move_in, move_out)
    for d in dates:
        open_rows = np.flatnonzero(spells.open_on(d))
        ids = p_ids[open_rows]
        if ids.size > 1 and not bool(np.all(ids[1:] > ids[:-1])):  # not strictly increasing: check
            ids_sorted, _ = _sorted_ids(ids)
            dup = ids_sorted[1:] == ids_sorted[:-1]
            if dup.any():
                bad = np.zeros(p_ids.size, dtype=bool)
                bad[open_rows[np.isin(ids, ids_sorted[1:][dup])]] = True
                fail(bad, f"a person has two residence spells open on {d.isoformat()}", "move_in")
    p_idx, p_found = persons.index(p_ids)
    fail(~p_found, "person_id is not in persons.parquet", "person_id")
    spells.person = p_idx
    return spells

