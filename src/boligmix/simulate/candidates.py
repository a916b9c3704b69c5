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


def select(group: SeekerPool, dwelling_id: int, rooms: int, month: int, band: int | None, tried: tuple | None,
           binding: tuple, preferred: tuple, second: bool, waiting_only: bool, size: Callable[[int], int],
           urgent: Callable[[int], bool], seniority: Callable[[int], int], referral: Callable[[int], float]
           ) -> tuple["Fits", list[int], list[int]]:
    """(waiting-list, referral, rehousing) candidates of the pool applying in the area labelled
    `band` (None: any) not yet assessed for the vacancy (`tried`: the seekers assessed per list)
    for the dwelling `dwelling_id` of `rooms`: the most senior meeting the `preferred`
    size limits, then the most senior meeting only the `binding` ones (`Fits`), the first by the
    referral order, the first households to rehouse (`waiting_only`: none, the channel reads
    only the waiting list). The household facts of the seekers not read yet are read with
    `size`, `urgent`, `seniority` and `referral` (`SeekerPool.fill`)."""
    rows = group.select(month, dwelling_id, band, second)
    group.fill(rows, size, urgent, seniority, referral)
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


class Fits(list):
    """A vacancy's waiting-list candidates: those meeting the size rules (`meeting`, the most senior
    first), then those meeting only the binding ones (`lapsed`: the rules lapse without a taker).
    `complete`: neither list was cut at `WINDOW * WINDOWS`."""

    def __init__(self, meeting: list[int], lapsed: list[int], complete: bool) -> None:
        super().__init__([*meeting, *lapsed])
        self.meeting, self.lapsed, self.complete = meeting, lapsed, complete


__all__ = ["WINDOW", "WINDOWS", "Fits", "select"]
