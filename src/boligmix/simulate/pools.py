"""The open seekers of one municipality as arrays, for picking a vacancy's candidates without a
Python pass over every seeker per vacancy.

A pool holds the seekers of one (municipality, wants almen) group in the order they were added
(the order `Seekers.active_in` gives). Per vacancy the market selects with boolean masks: open,
decided by the month, not living in the dwelling, applying in the dwelling's area band. The
household facts the selection reads (size, urgency, seniority, referral order) are filled the
first time a seeker is in a vacancy's pool, exactly when the per-seeker code read them, so a
household's members are read at the same moment of the year as before.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import repeat

import numpy as np

from boligmix.simulate.applicants import Seekers
from boligmix.simulate.kernels_letting import open_rows


class SeekerPool:
    """The seekers of one group, as arrays in the order they were added."""

    def __init__(self, sids: list[int], seekers: Seekers) -> None:
        n = len(sids)
        self.sid = np.array(sids, dtype=np.int64)
        self.month = np.fromiter(map(seekers.month.__getitem__, sids), dtype=np.int64, count=n)
        self.dwelling = np.fromiter((-1 if d is None else d for d in map(seekers.dwelling.__getitem__, sids)),
                                    dtype=np.int64, count=n)
        self.band = np.fromiter(map(seekers.area_band.get, sids, repeat(-1)), dtype=np.int64, count=n)
        self.second = np.fromiter(map(seekers.second_band.get, sids, repeat(-1)), dtype=np.int64, count=n)
        self.rehousing = np.fromiter(map("rehousing".__eq__, map(seekers.kind.__getitem__, sids)), dtype=bool,
                                     count=n)
        self.position = np.full(n, -1, dtype=np.int64)
        """Position of each seeker's dwelling in `Dwellings` (-1: none; set by the market)."""
        self.open = np.ones(n, dtype=bool)
        self.known = np.zeros(n, dtype=bool)
        self.size = np.zeros(n, dtype=np.int64)
        self.urgent = np.zeros(n, dtype=bool)
        self.seniority = np.zeros(n, dtype=np.int64)
        self.referral = np.zeros(n, dtype=np.float64)
        self.row = {s: i for i, s in enumerate(sids)}
        self.reads = None
        """The household facts of every seeker read when the market opened (`first_reads.FirstReads`;
        None: each read when first needed), used for the seekers whose reads they equal."""
        self.columns = None
        """The candidate facts of the screen (`boligmix.simulate.column_facts.PoolFacts`), once read."""
        self.decided = (np.cumsum(np.bincount(np.clip(self.month, 0, 12), minlength=13)) if n else np.zeros(13, int)).tolist()
        """Seekers who have decided by each month (0-12): the pool gains candidates only when this grows."""
        months = np.clip(self.month, 0, 12)
        self.by_month = [np.flatnonzero(months == m) for m in range(13)]
        """Rows of the seekers deciding in each month (0-12)."""
        self.open_by_month = (np.bincount(months, minlength=13) if n else np.zeros(13, int)).tolist()
        """Open seekers by the month they decided (0-12)."""
        self._decision_month = months.tolist()
        """Each seeker's month (0-12), as `housed` counts it."""
        self._order_month, self._order, self._cursor = -1, [], 0
        """`first_in_order`'s month, its rows by key, and the first of them that may be open."""
        self._band: dict[tuple[int | None, bool], np.ndarray] = {}
        """Rows (ascending) of every seeker applying in a band as `select` reads it (`applying`)."""
        self._rows: dict[tuple[int | None, bool], tuple[np.ndarray, int, int]] = {}
        self._housed = 0
        """Per band: its open rows decided by a month, that month, and how many seekers of the pool were
        housed when they were taken (`applying`); seekers housed so far."""

    def select(self, month: int, dwelling_id: int, band: int | None, second: bool = False) -> np.ndarray:
        """Rows of the open seekers decided by `month`, not living in the dwelling, applying in
        `band` (None: any band; households to rehouse apply everywhere; `second`: as their second
        choice), in the order added."""
        return self.select_counted(month, dwelling_id, band, second)[0]

    def select_counted(self, month: int, dwelling_id: int, band: int | None, second: bool = False
                       ) -> tuple[np.ndarray, int]:
        """`select`'s rows and how many of them have no household facts read yet (`fill`)."""
        return open_rows(self.applying(band, second, month), self.open, self.month, self.dwelling, self.known, month,
                         dwelling_id)

    def applying(self, band: int | None, second: bool, month: int) -> np.ndarray:
        """Rows (ascending) of the seekers applying in `band` as `select` reads it, open and decided by
        `month`, and maybe some housed since or decided later: a band's rows are taken again when a
        later month is asked for (only those decided by then: most of a band's seekers decide later
        in the year) and when half of them are housed, so a selection costs the band's open seekers
        decided by the month, not the municipality's."""
        key = (band, second)
        found = self._rows.get(key)
        if found is not None and found[1] >= month:
            rows, taken, housed = found
            if (self._housed - housed) * 2 <= rows.size:  # (housed in the pool: at most as many in the band)
                return rows
            rows = rows[self.open[rows]]
        else:
            rows, taken = self._band.get(key), month
            if rows is None:
                mask = np.ones(self.sid.size, dtype=bool)
                if band is not None:
                    mask &= self.rehousing | ((self.second if second else self.band) == band) | (self.band < 0)
                rows = self._band[key] = np.flatnonzero(mask)
            rows = rows[self.open[rows] & (self.month[rows] <= month)]
        self._rows[key] = (rows, taken, self._housed)
        return rows

    def first_in_order(self, month: int, dwelling_id: int, keys: Callable[[np.ndarray], np.ndarray]) -> int | None:
        """Row of the open seeker decided by `month`, not living in the dwelling, with the smallest
        (key, seeker id), `keys(seeker ids)` being the month's keys (fixed per seeker and month); None
        if there is none. The month's order is sorted once, when the month is first asked for: the
        seekers housed since are skipped from a cursor, so a draw costs what it skips, not the pool."""
        if self._order_month != month:
            rows = np.flatnonzero(self.open & (self.month <= month))
            self._order = rows[np.lexsort((self.sid[rows], keys(self.sid[rows])))].tolist()
            self._order_month, self._cursor = month, 0
        order, open_, i = self._order, self.open, self._cursor
        while i < len(order) and not open_[order[i]]:
            i += 1
        self._cursor = i
        dwelling = self.dwelling
        for j in range(i, len(order)):          # (not `order[i:]`: a copy of the month's rest per draw)
            r = order[j]
            if open_[r] and dwelling[r] != dwelling_id:
                return r
        return None

    def set_keys(self, seniority: np.ndarray, referral: np.ndarray) -> None:
        """The seekers' seniority (day ordinals) and referral order, drawn for all at once (they are
        fixed per seeker and year); `fill` then reads only size and urgency."""
        self.seniority[:], self.referral[:] = seniority, referral
        self._keyed = True

    def fill(self, rows: np.ndarray, size: Callable[[int], int], urgent: Callable[[int], bool],
             seniority: Callable[[int], int], referral: Callable[[int], float]) -> None:
        """Read the household facts of the seekers at `rows` not read yet (from `reads` where valid)."""
        keyed = getattr(self, "_keyed", False)
        todo = rows[~self.known[rows]]
        if self.reads is not None and keyed:
            valid = self.reads.valid[todo]
            read = todo[valid]
            self.size[read], self.urgent[read] = self.reads.size[read], self.reads.urgent[read]
            self.known[read] = True
            todo = todo[~valid]
        sids = self.sid[todo].tolist()
        if keyed:                                # (the columns written once, not an element per seeker)
            read = [(size(s), urgent(s)) for s in sids]
        else:
            read = [(size(s), urgent(s), seniority(s), referral(s)) for s in sids]
        if not read:
            return
        columns = list(zip(*read))
        self.size[todo], self.urgent[todo] = columns[0], columns[1]
        if not keyed:
            self.seniority[todo], self.referral[todo] = columns[2], columns[3]
        self.known[todo] = True

    def may_fit_since(self, after: int, month: int, rooms: int, per_room: float | None, over: float | None) -> bool:
        """Whether an open seeker who decided after month `after` (up to `month`) may fit a dwelling of
        `rooms` under the size limits: one whose household facts are not read yet may."""
        if after >= month:
            return False
        rows = np.concatenate(self.by_month[after + 1:month + 1])
        rows = rows[self.open[rows]]
        if not rows.size:
            return False
        if not self.known[rows].all():
            return True
        return bool(within_size_limits(self.size[rows], rooms, per_room, over).any())

    def any_open(self, month: int) -> bool:
        """Whether an open seeker has decided by `month` (else `select` finds no one)."""
        return any(self.open_by_month[:month + 1])

    def housed(self, sid: int) -> None:
        i = self.row[sid]
        if self.open[i]:
            self.open[i] = False
            self._housed += 1
            self.open_by_month[self._decision_month[i]] -= 1


def within_size_limits(size: np.ndarray, rooms: int, per_room: float | None, over: float | None) -> np.ndarray:
    """Which household sizes meet the size limits (None: no limit) for a dwelling of `rooms`: at most
    `per_room` persons per room and at most `over` rooms more than persons."""
    fit = size <= per_room * rooms if per_room is not None else np.ones(size.size, dtype=bool)
    if over is not None:                     # (sizes are integers: `<=` is `not >`)
        fit &= size >= rooms - over
    return fit


__all__ = ["SeekerPool", "within_size_limits"]
