"""The simulation's state: persons, households and dwellings on a date, plus the registers the
simulation writes (residence spells, person_years, labour, convictions of simulated years).

`Population.from_dataset(dir, start)` reads a dataset of the data model (synthetic or real) on
1 January of `start`: who lives where in which household, and each person's register facts of
the last complete years (person_years `start-3 .. start-1`, labour and convictions from `start-6`).
Persons are columns of numpy arrays; a household is the set of persons sharing a `household_id`;
a dwelling holds at most one household.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import polars as pl

from boligmix.data.io import read_manifest, read_table, scan_table
from boligmix.data.schema import ORIGINS, TENURES
from boligmix.errors import DatasetError
from boligmix.indicators.person_index import IdIndex

EPOCH = date(1970, 1, 1)
INDEXED_POSITIONS = 1 << 9
"""`Dwellings.position` finds more ids than this through a bucket table, fewer by a binary search
(the table, kept until dwellings are added, is 3-15 times quicker from some hundreds of ids on:
1,024 ids among 3 million dwellings 0.04 against 0.25 ms, 23,028 among the small dataset's 18,309
0.12-0.2 against 3.2-3.5 ms; 64 ids equal)."""
NO_HOUSEHOLD = np.int64(0)
ORIGIN_CODES = {o: i for i, o in enumerate(ORIGINS)}


def day(year: int, month: int = 1, dom: int = 1) -> int:
    return (date(year, month, dom) - EPOCH).days


def to_date(days: int) -> date:
    return date.fromordinal(EPOCH.toordinal() + int(days))


@dataclass
class Dwellings:
    """Every dwelling; `household` is the occupying household id (0: vacant)."""

    frame: pl.DataFrame                 # the columns of the data's dwellings table plus org_id (no rows)
    ids: np.ndarray
    tenure: np.ndarray                  # index into TENURES
    almen_type: np.ndarray              # object: 'family'/'youth'/'elderly'/None
    area: np.ndarray                    # object area id or None
    municipality: np.ndarray
    rooms: np.ndarray
    household: np.ndarray
    active: np.ndarray                  # False once demolished
    vacant_from: np.ndarray             # month (1-12) of the current year from which a vacant dwelling is free
    department: np.ndarray              # object department id or None
    org: np.ndarray                     # object organisation id or None
    floor_area: np.ndarray
    rent: np.ndarray                    # NaN: none
    index: dict[int, int] = field(default_factory=dict)
    opens: np.ndarray | None = None
    """Day number from which a dwelling first occupied after the start (in a dataset cut early, for a
    backcast) exists; such a dwelling is inactive until the year of its first occupancy (0: exists)."""

    def open_built(self, year: int) -> int:
        """Activate the dwellings first occupied in the data in `year` (vacant from that month);
        returns how many."""
        if self.opens is None:
            return 0
        first, last = day(year), day(year + 1)
        now = np.flatnonzero((self.opens >= first) & (self.opens < last))
        if now.size:
            self.active[now] = True
            self.vacant_from[now] = [to_date(d).month for d in self.opens[now]]
            self.opens[now] = 0
        return int(now.size)

    def to_frame(self) -> pl.DataFrame:
        """The dwellings table as it stands (tenure and type changes, new dwellings; demolished
        dwellings stay in the table without residents)."""
        return pl.DataFrame({
            "dwelling_id": self.ids, "municipality_code": self.municipality,
            "tenure": pl.Series(self.tenure, dtype=pl.Int64).replace_strict(dict(enumerate(TENURES)),
                                                                             return_dtype=pl.String),
            "department_id": list(self.department),
            "area_id": list(self.area), "almen_type": list(self.almen_type), "rooms": self.rooms,
            "floor_area_m2": self.floor_area, "monthly_rent_dkk": self.rent},
            schema_overrides={"department_id": pl.String, "area_id": pl.String, "almen_type": pl.String})

    def append(self, ids: np.ndarray, municipality: int, tenure: int, area: str | None, rooms: int,
               floor_area: float, rent: float | None) -> None:
        n = ids.size
        start = self.ids.size
        self.ids = np.concatenate([self.ids, ids])
        self.municipality = np.concatenate([self.municipality, np.full(n, municipality)])
        self.tenure = np.concatenate([self.tenure, np.full(n, tenure, dtype=np.int8)])
        self.almen_type = np.concatenate([self.almen_type, np.array([None] * n, dtype=object)])
        self.area = np.concatenate([self.area, np.array([area] * n, dtype=object)])
        self.department = np.concatenate([self.department, np.array([None] * n, dtype=object)])
        self.org = np.concatenate([self.org, np.array([None] * n, dtype=object)])
        self.rooms = np.concatenate([self.rooms, np.full(n, rooms)])
        self.floor_area = np.concatenate([self.floor_area, np.full(n, floor_area)])
        self.rent = np.concatenate([self.rent, np.full(n, np.nan if rent is None else rent)])
        self.household = np.concatenate([self.household, np.zeros(n, dtype=np.int64)])
        self.active = np.concatenate([self.active, np.ones(n, dtype=bool)])
        self.vacant_from = np.concatenate([self.vacant_from, np.ones(n, dtype=np.int64)])
        self.index.update({int(d): start + i for i, d in enumerate(ids)})

    def add_copies(self, templates: pl.DataFrame, ids: np.ndarray, vacant_from: np.ndarray) -> None:
        """New vacant dwellings `ids` like the `templates` rows (a dwellings table: municipality,
        tenure, department, area, almen type, rooms, floor area, rent), free from month `vacant_from`."""
        n, start = ids.size, self.ids.size
        if n == 0:
            return
        org_of = {d: o for d, o in zip(self.department.tolist(), self.org.tolist()) if d is not None}
        department = np.array(templates["department_id"].to_list(), dtype=object)

        def obj(values: list) -> np.ndarray:
            return np.array(values, dtype=object)

        self.ids = np.concatenate([self.ids, ids])
        self.municipality = np.concatenate([self.municipality, templates["municipality_code"].to_numpy()])
        self.tenure = np.concatenate([self.tenure, np.array([TENURES.index(t) for t in templates["tenure"]],
                                                            dtype=self.tenure.dtype)])
        self.almen_type = np.concatenate([self.almen_type, obj(templates["almen_type"].to_list())])
        self.area = np.concatenate([self.area, obj(templates["area_id"].to_list())])
        self.department = np.concatenate([self.department, department])
        self.org = np.concatenate([self.org, obj([org_of.get(d) for d in department.tolist()])])
        self.rooms = np.concatenate([self.rooms, templates["rooms"].to_numpy()])
        self.floor_area = np.concatenate([self.floor_area, templates["floor_area_m2"].to_numpy().astype(float)])
        self.rent = np.concatenate([self.rent, templates["monthly_rent_dkk"].fill_null(float("nan")).to_numpy()
                                    .astype(float)])
        self.household = np.concatenate([self.household, np.zeros(n, dtype=np.int64)])
        self.active = np.concatenate([self.active, np.ones(n, dtype=bool)])
        self.vacant_from = np.concatenate([self.vacant_from, np.asarray(vacant_from, dtype=np.int64)])
        if self.opens is not None:
            self.opens = np.concatenate([self.opens, np.zeros(n, dtype=np.int64)])
        self.index.update({int(d): start + i for i, d in enumerate(ids)})

    def position(self, dwelling_ids: np.ndarray, indexed_from: int = INDEXED_POSITIONS) -> np.ndarray:
        """Row positions of dwelling ids (vectorised: a sorted copy of the ids, rebuilt when dwellings
        are added); an id not among them gets the position its binary search ends at. More than
        `indexed_from` ids (the residents' dwellings: millions, unordered) are found through the
        indicators' bucket table (`IdIndex`) of the sorted ids."""
        if getattr(self, "_sorted_n", -1) != self.ids.size:
            self._order = np.argsort(self.ids, kind="stable")
            self._sorted = self.ids[self._order]
            self._sorted_n = self.ids.size
            self._indexed = None
        wanted = np.asarray(dwelling_ids, dtype=np.int64)
        if wanted.size > indexed_from and self._sorted.size:
            return self._indexed_position(wanted)
        return self._order[np.minimum(np.searchsorted(self._sorted, wanted), self._sorted.size - 1)]

    def _indexed_position(self, wanted: np.ndarray) -> np.ndarray:
        """`position` by a bucket table of the sorted ids (each id's first row in the sorted copy, as
        the binary search finds it): 6 million residents' dwellings among 3 million took 1.6-1.9 s
        CPU by a hash join, 0.4-0.5 s so (`/tmp` script, load 4). Ids not found take the binary
        search's answer."""
        if getattr(self, "_indexed", None) is None:
            self._indexed = IdIndex(self._sorted)
        at, found = self._indexed.index(wanted)
        out = self._order[at]
        if not found.all():
            missing = ~found
            out[missing] = self._order[np.minimum(np.searchsorted(self._sorted, wanted[missing]),
                                                  self._sorted.size - 1)]
        return out

    def area_codes(self) -> tuple[np.ndarray, list[str]]:
        """(per dwelling: index into the area list or -1, the sorted area ids). Kept until dwellings
        are added (`add`, `add_copies` append: the earlier dwellings' codes stay, the new ones are
        coded unless they bring an area not seen before; nationally 0.25 s a year for all)."""
        n, done = self.ids.size, getattr(self, "_codes_n", -1)
        if done == n:
            return self._codes, self._names
        lookup = getattr(self, "_lookup", None)          # (None in a state pickled before it was kept)
        fresh = self.area[max(done, 0):].tolist()
        if lookup is not None and 0 <= done < n and all(a is None or a in lookup for a in fresh):
            codes = np.array([lookup[a] if a is not None else -1 for a in fresh], dtype=np.int64)
            self._codes = np.concatenate([self._codes, codes])
        else:
            names = sorted({a for a in self.area if a is not None})
            self._lookup = {a: i for i, a in enumerate(names)}
            self._codes = np.array([self._lookup[a] if a is not None else -1 for a in self.area], dtype=np.int64)
            self._names = names
        self._codes_n = n
        return self._codes, self._names


class AlmenColumn:
    """Dwelling id -> a column's value, for the almene dwellings as they are when made: what
    `dict(zip(ids, column[almen]))` answers (`get`, `in`, `[]`) from `Dwellings.index` and a mask,
    without a dictionary entry per almen dwelling (nationally some 600,000, twice a year's market)."""

    def __init__(self, dwellings: Dwellings, column: np.ndarray) -> None:
        self._index, self._column = dwellings.index, column
        self._almen = dwellings.tenure == ALMEN          # a copy: a later sale does not change the answer

    def _position(self, dwelling_id) -> int | None:
        i = self._index.get(dwelling_id)
        return i if i is not None and i < self._almen.size and self._almen[i] else None

    def get(self, dwelling_id, default=None):
        i = self._position(dwelling_id)
        return default if i is None else self._column[i]

    def __contains__(self, dwelling_id) -> bool:
        return self._position(dwelling_id) is not None

    def __getitem__(self, dwelling_id):
        i = self._position(dwelling_id)
        if i is None:
            raise KeyError(dwelling_id)
        return self._column[i]


PERSON_YEARS_HELD = 3
"""person_years rows of the last three data years are read at the start (the simulation reads the
last one, the applicants' facts the last three); labour and convictions of the last `keep_years`."""


@dataclass
class Population:
    """Residents (persons who live in a dwelling) and everything needed to continue their registers."""

    start: int
    pid: np.ndarray
    birth: np.ndarray                   # day number
    female: np.ndarray
    origin: np.ndarray                  # index into ORIGINS
    country: np.ndarray                 # object
    nonwestern: np.ndarray
    household: np.ndarray
    dwelling: np.ndarray
    spell_start: np.ndarray             # day the open residence spell began
    dwellings: Dwellings
    persons_frame: pl.DataFrame         # persons table (all persons ever, grows with births/immigrants)
    closed_spells: list[pl.DataFrame]   # residence spells closed in the simulation ([0]: empty, the data's schema)
    person_years: dict[int, pl.DataFrame]   # year -> person_years rows (last data years + simulated)
    labour: dict[int, pl.DataFrame]         # year -> labour rows
    convictions: dict[int, pl.DataFrame]    # year -> convictions rows
    western_countries: frozenset[str] = frozenset()
    events: dict[str, int] = field(default_factory=dict)
    _pending: list = field(default_factory=list)
    status_cache: dict[int, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    """year -> (ascending person ids, main status) of that year's labour rows (demography.year_statuses)."""
    data_last_year: int | None = None
    """The dataset's last register year (dwellings first occupied up to then open as the data shows)."""

    @property
    def size(self) -> int:
        return int(self.pid.size)

    @classmethod
    def from_dataset(cls, dataset_dir: str | os.PathLike[str], start: int, keep_years: int = 6) -> "Population":
        manifest = read_manifest(dataset_dir)
        if manifest.years is not None and not manifest.years[0] + keep_years <= start <= manifest.years[1] + 1:
            raise DatasetError(f"{dataset_dir}: start year {start} needs register years {start - keep_years}-"
                               f"{start - 1}; the dataset covers {manifest.years[0]}-{manifest.years[1]}")
        on = date(start, 1, 1)
        residences = read_table(dataset_dir, "residences", ["person_id", "household_id", "dwelling_id", "move_in",
                                                             "move_out"])
        open_now = residences.filter((pl.col("move_in") <= on) & (pl.col("move_out").is_null() | (pl.col("move_out") > on)))
        # spells closed before the start are not held (the lists read the simulated years; a full
        # dataset written at the end reads them again); spells that begin after the start are
        # dropped: the simulation replaces them
        closed = pl.DataFrame(schema=scan_table(dataset_dir, "residences").collect_schema())
        persons = read_table(dataset_dir, "persons")
        countries = read_table(dataset_dir, "countries")
        western = frozenset(countries.filter(pl.col("western"))["country_code"].to_list())
        people = open_now.join(persons, on="person_id", how="left").sort("person_id")
        if people["birth_date"].null_count():
            raise DatasetError(f"{dataset_dir}: residents without a persons row")
        dw = read_table(dataset_dir, "dwellings").join(
            read_table(dataset_dir, "departments", ["department_id", "org_id"]), on="department_id", how="left"
        ).sort("dwelling_id")
        dwellings = _dwellings(dw)
        pos = dwellings.position(people["dwelling_id"].to_numpy())
        dwellings.household[pos] = people["household_id"].to_numpy()
        _not_built_yet(dwellings, residences, on)
        origin = people["origin"].replace_strict(ORIGIN_CODES, return_dtype=pl.Int8).to_numpy(writable=True)
        country = shared_strings(people["country_code"])
        nonwestern = ((people["origin"] != "dansk") & ~people["country_code"].is_in(sorted(western)).fill_null(False)
                      ).to_numpy()
        years = range(start - keep_years, start)

        def by_year(table: str, held: range) -> dict[int, pl.DataFrame]:
            """One scan per year, the filter pushed into it (row groups of other years are skipped)."""
            scan = scan_table(dataset_dir, table)
            return {y: scan.filter(pl.col("year") == y).collect() for y in held}

        pop = cls(
            start=start,
            pid=people["person_id"].to_numpy(),
            birth=people["birth_date"].cast(pl.Int64).to_numpy(writable=True),   # days since 1970-01-01
            female=(people["sex"] == "F").to_numpy(),
            origin=origin.astype(np.int8),
            country=country,
            nonwestern=nonwestern,
            household=people["household_id"].to_numpy(),
            dwelling=people["dwelling_id"].to_numpy(),
            spell_start=people["move_in"].cast(pl.Int64).to_numpy(writable=True),
            dwellings=dwellings,
            persons_frame=persons,
            closed_spells=[closed],
            person_years=by_year("person_years", range(max(start - PERSON_YEARS_HELD, years.start), start)),
            labour=by_year("labour", years),
            convictions=by_year("convictions", years),
            western_countries=western,
            data_last_year=manifest.years[1] if manifest.years is not None else None,
        )
        pop.check()
        return pop

    # -- invariants ---------------------------------------------------------------------------

    def check(self) -> None:
        """No person twice; members of one household share one dwelling; a dwelling's occupant is
        the household living there, and no household occupies two dwellings."""
        if has_repeats(self.pid):
            raise AssertionError("a person is resident twice")
        # grouped by household (np.unique and a search of every person's household: 8.8 s on 7.7 million
        # random ids); numpy's stable sort, fast on the data's mostly ordered household ids
        order = np.argsort(self.household, kind="stable")
        by_household = self.household[order]
        new_group = np.r_[True, by_household[1:] != by_household[:-1]] if order.size else np.zeros(0, dtype=bool)
        hh, first = by_household[new_group], order[new_group]
        if not np.array_equal(self.dwelling[order], np.repeat(self.dwelling[first], np.diff(
                np.r_[np.flatnonzero(new_group), order.size]))):
            raise AssertionError("members of one household live in different dwellings")
        occ = self.dwellings.household
        occupied = occ != NO_HOUSEHOLD
        if has_repeats(occ[occupied]):
            raise AssertionError("a household occupies two dwellings")
        where = self.dwellings.position(self.dwelling[first])
        if not np.array_equal(occ[where], hh):
            raise AssertionError("a dwelling's occupant is not the household living there")
        if int(occupied.sum()) != hh.size:
            raise AssertionError("a dwelling is marked occupied by a household that lives elsewhere")

    # -- changing the resident set ------------------------------------------------------------

    def close_spells(self, idx: np.ndarray, on_day: np.ndarray | int, reason: str | None) -> None:
        """End the open spells of persons `idx` on `on_day` (the day after their last day)."""
        if idx.size == 0:
            return
        end = np.broadcast_to(np.asarray(on_day, dtype=np.int64), idx.shape)
        self._pending.append((self.pid[idx], self.household[idx], self.dwelling[idx], self.spell_start[idx],
                              np.array(end), reason))

    def add_closed_spells(self, rows: np.ndarray, household: np.ndarray, dwelling: np.ndarray, start: np.ndarray,
                          end: np.ndarray, reason: str | None) -> None:
        """Spells of the persons at `rows` that ended on `end`, with the household, dwelling and start
        they had then (`close_spells` of values read earlier: the market closes a month's moves at once)."""
        if rows.size:
            self._pending.append((self.pid[rows], household, dwelling, start, end, reason))

    def flush_spells(self) -> None:
        """Turn the spells closed since the last flush into one frame of `closed_spells`."""
        if not self._pending:
            return
        cols = [np.concatenate([p[i] for p in self._pending]) for i in range(5)]
        sizes = np.array([p[0].size for p in self._pending], dtype=np.int64)
        reasons = pl.Series([p[5] for p in self._pending], dtype=pl.String).gather(   # one reason per flush entry
            np.repeat(np.arange(sizes.size, dtype=np.int64), sizes))
        self.closed_spells.append(pl.DataFrame({
            "person_id": cols[0], "household_id": cols[1], "dwelling_id": cols[2], "move_in": _dates(cols[3]),
            "move_out": _dates(cols[4]), "end_reason": reasons}))
        self._pending = []

    def forget_closed_spells(self, before: int) -> int:
        """Drop the closed spells that ended on or before day `before` (move_out <= before: open on no
        day from `before` on), keeping the others in their order; returns how many were dropped. The
        simulation's lists read only who lives where on dates from `before` on, so the spells of the
        years before are memory only (a national year closes about a million)."""
        self.flush_spells()
        if len(self.closed_spells) < 2:
            return 0
        held = pl.concat(self.closed_spells[1:], how="vertical_relaxed")
        kept = held.filter(pl.col("move_out") > _dates(np.array([before]))[0])
        self.closed_spells = [self.closed_spells[0], *([kept] if kept.height else [])]
        return held.height - kept.height

    def remove(self, idx: np.ndarray) -> None:
        keep = np.ones(self.size, dtype=bool)
        keep[idx] = False
        for name in ("pid", "birth", "female", "origin", "country", "nonwestern", "household", "dwelling",
                     "spell_start"):
            setattr(self, name, getattr(self, name)[keep])

    def add(self, **columns: np.ndarray) -> None:
        for name in ("pid", "birth", "female", "origin", "country", "nonwestern", "household", "dwelling",
                     "spell_start"):
            setattr(self, name, np.concatenate([getattr(self, name), np.asarray(columns[name]).astype(
                getattr(self, name).dtype)]))

    def age_on(self, on_day: int) -> np.ndarray:
        return whole_years(on_day - self.birth)

    def open_spells(self) -> pl.DataFrame:
        return pl.DataFrame({
            "person_id": self.pid, "household_id": self.household, "dwelling_id": self.dwelling,
            "move_in": _dates(self.spell_start), "move_out": _nulls(self.size, pl.Date),
            "end_reason": _nulls(self.size, pl.String)})

    def residences(self) -> pl.DataFrame:
        self.flush_spells()
        cols = ["person_id", "household_id", "dwelling_id", "move_in", "move_out", "end_reason"]
        return pl.concat([f.select(cols) for f in [*self.closed_spells, self.open_spells()]], how="vertical_relaxed")


def whole_years(days: np.ndarray) -> np.ndarray:
    """`(days // 365.25).astype(np.int64)` of whole days: floor(4 days / 1461) in integers, the
    same value (365.25 = 1461 / 4 and numpy's float floor division is the exact floor of the
    quotient), without numpy's per-element float divmod (0.7-1.2 s against 0.03 s CPU on 7.7
    million days; the simulation reads ages a handful of times a year)."""
    days = np.asarray(days)
    if days.dtype.kind not in "iu":
        return (days // 365.25).astype(np.int64)
    out = days.astype(np.int64)           # a copy: the arithmetic then in place (no fresh arrays)
    out *= 4
    return np.floor_divide(out, 1461, out=out)


def has_repeats(values: np.ndarray) -> bool:
    """Whether a value occurs twice (by sorting: numpy 2's hash-based `np.unique` took 8.7 s on six
    million distinct ids, the sort 0.06 s)."""
    ordered = np.sort(values)
    return bool(np.any(ordered[1:] == ordered[:-1]))


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """`np.unique(values)` of a 1-D array by sorting (numpy 2's hash path took 9.5 s on six million
    distinct int64 ids, the sort 0.07 s)."""
    ordered = np.sort(values)
    if ordered.size < 2:
        return ordered
    keep = np.empty(ordered.size, dtype=bool)
    keep[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]


def _nulls(n: int, dtype: pl.DataType) -> pl.Series:
    """A column of `n` nulls (`pl.Series([None] * n, dtype=dtype)` without a Python list of millions of Nones)."""
    return pl.repeat(None, n, dtype=dtype, eager=True)


def _dates(days: np.ndarray) -> pl.Series:
    return pl.Series(np.asarray(days, dtype=np.int64).astype("datetime64[D]")).cast(pl.Date)


def _not_built_yet(dwellings: Dwellings, residences: pl.DataFrame, on: date) -> None:
    """A dwelling nobody lived in before `on` whose first residence spell begins later is taken as
    built then (the data model has no construction year): inactive until that year."""
    first = residences.group_by("dwelling_id").agg(pl.col("move_in").min().alias("first_in")).filter(
        pl.col("first_in") > on)
    if first.height == 0:
        return
    pos = dwellings.position(first["dwelling_id"].to_numpy())
    later = dwellings.household[pos] == NO_HOUSEHOLD
    dwellings.opens = np.zeros(dwellings.ids.size, dtype=np.int64)
    days = (first["first_in"].cast(pl.Int64)).to_numpy()      # days since 1970-01-01
    dwellings.opens[pos[later]] = days[later]
    dwellings.active[pos[later]] = False


def shared_strings(series: pl.Series) -> np.ndarray:
    """A string column as an object array (None for null) in which equal values are one Python string
    (a column of millions of rows then costs a pointer a row, not a string object a row)."""
    names = series.drop_nulls().unique().sort().to_list()
    if not names:
        return np.full(series.len(), None, dtype=object)
    codes = series.cast(pl.Enum(names)).to_physical().fill_null(len(names)).to_numpy()
    return np.array([*names, None], dtype=object)[codes]


def _dwellings(dw: pl.DataFrame) -> Dwellings:
    ids = dw["dwelling_id"].to_numpy()
    tenure = dw["tenure"].replace_strict({t: i for i, t in enumerate(TENURES)}, return_dtype=pl.Int8).to_numpy(
        writable=True)
    return Dwellings(
        frame=dw.head(0), ids=ids, tenure=tenure, almen_type=shared_strings(dw["almen_type"]),
        area=shared_strings(dw["area_id"]), municipality=dw["municipality_code"].to_numpy(),
        rooms=dw["rooms"].to_numpy(), household=np.zeros(ids.size, dtype=np.int64),
        active=np.ones(ids.size, dtype=bool), vacant_from=np.ones(ids.size, dtype=np.int64),
        department=shared_strings(dw["department_id"]), org=shared_strings(dw["org_id"]),
        floor_area=dw["floor_area_m2"].to_numpy().astype(float),
        rent=dw["monthly_rent_dkk"].fill_null(float("nan")).to_numpy().astype(float), index={int(d): i for i, d in enumerate(ids)})


ALMEN = TENURES.index("almen")

__all__ = ["ALMEN", "AlmenColumn", "Dwellings", "EPOCH", "NO_HOUSEHOLD", "ORIGIN_CODES", "Population", "day", "to_date"]
