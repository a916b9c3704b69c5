"""The household profiles of a year's lettings (lettings.parquet), read in one pass at the year's end.

`ApplicantFactory.profile` reads one letting's household when it is let: its members' ages on the
letting's day, the oldest (the first of them on a tie) and his origin, the adults of 18-64 and their
last year's FTE outside the attachments (each at most 1, summed in the members' order). Those facts
are fixed once the letting is made: the members as `ApplicantFactory._person` gave them then (kept
with the letting: a home leaver may leave the household later in the year), their rows, births and
origins, last year's FTE table and where the household lived when the seekers were drawn. So
`Pending` keeps each letting's seeker, members, rows and day, and `fill` reads every letting's
profile at once (numpy over all members), writing the values `profile` gives (the tests' oracle).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np

from boligmix.simulate.applicants import ApplicantFactory, Seekers
from boligmix.simulate.population import EPOCH

PROFILE_FIELDS = ("persons", "head_age", "head_non_western", "adults_18_64", "outside_fte_18_64", "from_almen")
"""The record's fields `ApplicantFactory.profile` gives, in its order."""


class Pending:
    """Letting records whose household profile is read at the year's end (`fill`)."""

    def __init__(self, factory: ApplicantFactory) -> None:
        self.factory = factory
        self.records: list[dict] = []
        self.sids: list[int] = []
        self.people: list[list[tuple[int, int, bool, str]]] = []
        self.rows: list[Any] = []
        self.ons: list[int] = []

    def add(self, record: dict, sid: int, seekers: Seekers, on: date, members: np.ndarray | None = None) -> None:
        """Keep `record` (its profile fields present, as None) to be filled with seeker `sid`'s
        profile on `on`, its members fixed now; `members`: their rows as the pool's first reads hold
        them (`first_reads.FirstReads.members`, what `_person` would read), used unless the factory
        has read them (None: read them now)."""
        factory = self.factory
        self.records.append(record)
        self.sids.append(sid)
        if members is None or sid in factory._people:
            self.people.append(factory._person(sid, seekers))
            self.rows.append(factory._member_rows.get(sid))
        else:
            self.people.append(None)
            self.rows.append(members)
        self.ons.append(on.toordinal())

    def fill(self, seekers: Seekers) -> None:
        """Write every kept record's profile (`profiles`) and forget them."""
        if self.records:
            columns = profiles(self.factory, seekers, self.sids, self.people, self.rows, self.ons)
            for k, record in enumerate(self.records):
                for name in PROFILE_FIELDS:
                    record[name] = columns[name][k]
        self.__init__(self.factory)


def profiles(factory: ApplicantFactory, seekers: Seekers, sids: list[int], people: list[list[tuple]],
             rows: list[Any], ons: list[int]) -> dict[str, list]:
    """`ApplicantFactory.profile` of seeker `sids[k]` on the day of ordinal `ons[k]` for every k, its
    members `people[k]` (`_person`; None: those at `rows[k]`) at rows `rows[k]` (`_member_rows`; None
    for immigrants), as columns of Python values equal to `profile`'s (ints, bools, the FTE a float)."""
    sizes = np.fromiter((len(m) if m is not None else r.size for m, r in zip(people, rows)), dtype=np.int64,
                        count=len(people))
    if sizes.size and sizes.min() == 0:
        raise ValueError("a letting's household without members")
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    group = np.repeat(np.arange(sizes.size), sizes)
    listed = np.repeat(np.fromiter((m is not None for m in people), dtype=bool, count=len(people)), sizes)
    pid = np.empty(group.size, dtype=np.int64)
    birth = np.empty(group.size, dtype=np.int64)
    pid[listed] = np.fromiter((p for members in people if members is not None for p, _, _, _ in members),
                              dtype=np.int64, count=int(listed.sum()))
    birth[listed] = np.fromiter((b for members in people if members is not None for _, b, _, _ in members),
                                dtype=np.int64, count=int(listed.sum()))
    member_row = np.full(group.size, -1, dtype=np.int64)   # (the members given by row: for the head's origin)
    if not listed.all():
        at = np.concatenate([r for m, r in zip(people, rows) if m is None])
        pid[~listed], birth[~listed], member_row[~listed] = factory.pop.pid[at], factory.pop.birth[at], at
    on = np.array(ons, dtype=np.int64)[group] - EPOCH.toordinal()
    age = whole_years_between(birth, on)
    oldest = np.maximum.reduceat(age, starts) if group.size else age
    at_oldest = np.flatnonzero(age == oldest[group])
    head = at_oldest[np.unique(group[at_oldest], return_index=True)[1]]   # the first member of the oldest age
    working = (age >= 18) & (age <= 64)
    fte = np.zeros(group.size)
    working_at = np.flatnonzero(working)
    fte[working_at] = np.minimum(_last_ftes(factory, pid[working_at]), 1.0)
    outside = np.zeros(sizes.size)
    np.add.at(outside, group[working_at], fte[working_at])   # (unbuffered: in the members' order, as `sum`)
    dwelling, org = seekers.dwelling, factory._org
    return {"persons": sizes.tolist(), "head_age": age[head].tolist(),
            "head_non_western": _non_western(factory, seekers, sids, people, rows, (head - starts).tolist(),
                                             member_row[head].tolist()),
            "adults_18_64": np.bincount(group, weights=working, minlength=sizes.size).astype(np.int64).tolist(),
            "outside_fte_18_64": outside.tolist(),
            "from_almen": [d is not None and d in org for d in map(dwelling.__getitem__, sids)]}


def whole_years_between(birth: np.ndarray, on: np.ndarray) -> np.ndarray:
    """Age in whole years on day `on` of a person born on day `birth` (days from `EPOCH`), as
    `letting.facts.age_on` counts it: the years between, less one before the birthday."""
    epoch = np.datetime64(EPOCH, "D")
    years, months, days = _calendar(epoch + birth)
    on_years, on_months, on_days = _calendar(epoch + on)
    before = (on_months < months) | ((on_months == months) & (on_days < days))
    return on_years - years - before


def _calendar(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(year, month 1-12, day of the month 1-31) of datetime64[D] days."""
    months = days.astype("datetime64[M]")
    return (days.astype("datetime64[Y]").astype(np.int64) + 1970, months.astype(np.int64) % 12 + 1,
            (days - months).astype(np.int64) + 1)


def _last_ftes(factory: ApplicantFactory, pid: np.ndarray) -> np.ndarray:
    """`factory.last_fte(p, factory.outside)` of every person `p` (read from the table; a person not in
    it through `last_fte` itself: 0, or its error for a stranger)."""
    table = factory._ftes
    q = table.sets[factory.outside]
    persons = table.persons
    at = np.minimum(persons.searchsorted(pid), max(persons.size - 1, 0))
    known = persons[at] == pid if persons.size else np.zeros(pid.size, dtype=bool)
    value = np.where(known & table._found[at, q], table._sums[at, q], 0.0) if persons.size else np.zeros(pid.size)
    for i in np.flatnonzero(~known).tolist():
        value[i] = factory.last_fte(int(pid[i]), factory.outside)
    return value


def _non_western(factory: ApplicantFactory, seekers: Seekers, sids: list[int], people: list[list[tuple]],
                 rows: list[Any], head: list[int], head_rows: list[int]) -> list[bool]:
    """`ApplicantFactory._nonwestern` of each letting's head (its `head[k]`-th member; its row
    `head_rows[k]` when the members are given by row, `people[k]` None)."""
    out = [False] * len(sids)
    at, wanted = [], []
    limit = factory.index.size
    for k, (sid, member) in enumerate(zip(sids, head)):
        new = seekers.new_members[sid]
        if new is not None:
            out[k] = bool(new["nonwestern"][list(seekers.members[sid]).index(people[k][member][0])])
            continue
        i = int(rows[k][member]) if people[k] is not None else head_rows[k]
        if i < limit:
            at.append(k)
            wanted.append(i)
    for k, value in zip(at, factory.pop.nonwestern[np.array(wanted, dtype=np.int64)].tolist()):
        out[k] = bool(value)
    return out


__all__ = ["PROFILE_FIELDS", "Pending", "profiles", "whole_years_between"]
