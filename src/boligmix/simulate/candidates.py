"""A vacancy's candidates in its municipality's seeker pool (`SeekerPool`): the most senior seekers
meeting the waiting list's size limits, then those meeting only its binding ones (`Fits`), the
first by the municipality's referral order and the first households to rehouse, less those the
engine already assessed for the vacancy (`boligmix.simulate.almen_letting`)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from boligmix.simulate.pools import SeekerPool, first_by, within_size_limits as _within

WINDOW = 25
"""Waiting-list applicants handed to the engine per round (most senior plausible ones first)."""
WINDOWS = 3
NO_DWELLING = -(1 << 62)
"""A dwelling id no seeker lives in (`SeekerPool.dwelling` is -1 for none)."""


def select(group: SeekerPool, dwelling_id: int, rooms: int, month: int, band: int | None, tried: tuple | None,
           binding: tuple, preferred: tuple, second: bool, waiting_only: bool, size: Callable[[int], int],
           urgent: Callable[[int], bool], seniority: Callable[[int], int], referral: Callable[[int], float],
           many: Callable[[list[int]], tuple[list[int], list[bool]]] | None = None, reuse: bool = False
           ) -> tuple["Fits", list[int], list[int]]:
    """(waiting-list, referral, rehousing) candidates of the pool applying in the area labelled
    `band` (None: any) not yet assessed for the vacancy (`tried`: the seekers assessed per list)
    for the dwelling `dwelling_id` of `rooms`: the most senior meeting the `preferred`
    size limits, then the most senior meeting only the `binding` ones (`Fits`), the first by the
    referral order, the first households to rehouse (`waiting_only`: none, the channel reads
    only the waiting list). The household facts of the seekers not read yet are read with
    `size`, `urgent`, `seniority` and `referral`, or size and urgency with `many` (`SeekerPool.fill`).
    `reuse`: a waiting-list vacancy's candidates are taken from the month's ranking of its dwelling
    class (`Ranking`), sorted once a month rather than for every vacancy."""
    if waiting_only and reuse:
        ranking = _ranking(group, month, dwelling_id, band, second, rooms, binding, preferred, size, urgent,
                           seniority, referral, many)
        if ranking is not None:
            return ranking.fits(group, dwelling_id, tried[0] if tried is not None else None), [], []
    rows = group.select(month, dwelling_id, band, second)
    group.fill(rows, size, urgent, seniority, referral, many)
    sizes = group.size[rows]
    fit = _within(sizes, rooms, *binding)
    meets = fit & _within(sizes, rooms, *preferred) if preferred != binding else fit
    lists = ((fit, tried[0]),) if tried is not None else ()
    if not waiting_only:
        referable = ~group.rehousing[rows] & group.urgent[rows]
        rehoused = group.rehousing[rows]
        lists = ((fit, tried[0]), (referable, tried[1]), (rehoused, tried[2])) if tried is not None else ()
    if lists:                              # the candidates not yet assessed for this vacancy, per list
        for mask, done in lists:
            if done.size:                  # (tested on the rows the mask keeps: a fraction of the pool)
                kept = np.flatnonzero(mask)
                mask[kept[np.isin(group.sid[rows[kept]], done)]] = False
    cap = WINDOW * WINDOWS
    meeting = group.sid[first_by(rows[fit & meets], group.seniority, group.sid, cap)].tolist()
    lapsed = group.sid[first_by(rows[fit & ~meets], group.seniority, group.sid, cap)].tolist() \
        if meets is not fit else []
    fits = Fits(meeting, lapsed, len(meeting) < cap and len(lapsed) < cap)
    if waiting_only:
        return fits, [], []
    referral_pool = group.sid[first_by(rows[referable], group.referral, group.sid, WINDOW)].tolist()
    rehousing = group.sid[rows[rehoused][:WINDOW]].tolist()
    return fits, referral_pool, rehousing


def _ranking(group: SeekerPool, month: int, dwelling_id: int, band: int | None, second: bool, rooms: int,
             binding: tuple, preferred: tuple, *read) -> "Ranking | None":
    """The pool's month ranking for the dwelling class (`Ranking`), built at its first vacancy; None
    when it cannot serve (an open seeker living in the dwelling whose facts are not read yet)."""
    if group.rankings_month != month:
        group.rankings, group.rankings_month = {}, month
    key = (band, second, rooms, binding, preferred)
    ranking = group.rankings.get(key)
    if ranking is None:
        rows = group.select(month, NO_DWELLING, band, second)     # every open seeker, wherever it lives
        own = group.dwelling[rows] == dwelling_id
        if (own & ~group.known[rows]).any():
            return None
        group.fill(rows[~own], *read)        # the seekers `select` reads now (the others are read already)
        sizes = group.size[rows]
        fit = _within(sizes, rooms, *binding)
        meets = fit & _within(sizes, rooms, *preferred) if preferred != binding else fit
        everyone = rows.size
        ranking = group.rankings[key] = Ranking(
            first_by(rows[fit & meets], group.seniority, group.sid, everyone),
            first_by(rows[fit & ~meets], group.seniority, group.sid, everyone) if meets is not fit else None)
    return ranking


class Ranking:
    """The seekers of a pool decided by a month and applying in a band who meet a dwelling class's
    (rooms, size limits) size limits, then those meeting only the binding ones, each in seniority
    order: the order `select` sorts them in for every waiting-list vacancy of the class. Within a
    month a pool gains no seeker and a seeker's size is fixed once read, so a later vacancy's
    candidates are the first of these rows still open, not living in its dwelling and not assessed
    for it before (`fits`): the same as `select` finds (tested equal, `tests/test_simulate_month_ranking.py`)."""

    def __init__(self, meeting: np.ndarray, lapsed: np.ndarray | None) -> None:
        self.meeting, self.lapsed = meeting, lapsed
        self._start = [0, 0]
        """Per list, the first row that may still be open (the rows before it are housed)."""

    def fits(self, group: SeekerPool, dwelling_id: int, done: np.ndarray | None) -> "Fits":
        cap = WINDOW * WINDOWS
        meeting = self._first(0, group, dwelling_id, done, cap)
        lapsed = self._first(1, group, dwelling_id, done, cap) if self.lapsed is not None else []
        return Fits(meeting, lapsed, len(meeting) < cap and len(lapsed) < cap)

    def _first(self, which: int, group: SeekerPool, dwelling_id: int, done: np.ndarray | None, n: int) -> list[int]:
        """Seeker ids of the first `n` rows of list `which` open, not living in the dwelling, not in `done`."""
        order = self.lapsed if which else self.meeting
        start = self._start[which]
        open_ = group.open
        while start < order.size and not open_[order[start]]:
            start += 1
        self._start[which] = start
        step, found = 2 * n, []
        while start < order.size and len(found) < n:
            part = order[start:start + step]
            keep = open_[part] & (group.dwelling[part] != dwelling_id)
            if done is not None and done.size:
                keep &= ~np.isin(group.sid[part], done)
            found += group.sid[part[keep]].tolist()
            start += step
            step *= 2
        return found[:n]


class Fits(list):
    """A vacancy's waiting-list candidates: those meeting the size rules (`meeting`, the most senior
    first), then those meeting only the binding ones (`lapsed`: the rules lapse without a taker).
    `complete`: neither list was cut at `WINDOW * WINDOWS`."""

    def __init__(self, meeting: list[int], lapsed: list[int], complete: bool) -> None:
        super().__init__([*meeting, *lapsed])
        self.meeting, self.lapsed, self.complete = meeting, lapsed, complete


__all__ = ["WINDOW", "WINDOWS", "Fits", "Ranking", "select"]
