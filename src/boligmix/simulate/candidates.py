"""A vacancy's candidates in its municipality's seeker pool (`SeekerPool`): the most senior seekers
meeting the waiting list's size limits, then those meeting only its binding ones (`Fits`), the
first by the municipality's referral order and the first households to rehouse, less those the
engine already assessed for the vacancy (`boligmix.simulate.almen_letting`)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from boligmix.simulate.kernels_letting import candidate_rows
from boligmix.simulate.pools import SeekerPool

WINDOW = 25
"""Waiting-list applicants handed to the engine per round (most senior plausible ones first)."""
WINDOWS = 3
NONE = np.zeros(0, dtype=np.int64)
"""No seeker assessed yet."""


def select(group: SeekerPool, dwelling_id: int, rooms: int, month: int, band: int | None, tried: tuple | None,
           binding: tuple, preferred: tuple, second: bool, waiting_only: bool, size: Callable[[int], int],
           urgent: Callable[[int], bool], seniority: Callable[[int], int], referral: Callable[[int], float]
           ) -> tuple["Fits", list[int], list[int]]:
    """(waiting-list, referral, rehousing) candidates of the pool applying in the area labelled
    `band` (None: any) not yet assessed for the vacancy (`tried`: the seekers assessed per list,
    each ascending) for the dwelling `dwelling_id` of `rooms`: the most senior meeting the `preferred`
    size limits, then the most senior meeting only the `binding` ones (`Fits`), the first by the
    referral order, the first households to rehouse (`waiting_only`: none, the channel reads
    only the waiting list). The household facts of the seekers not read yet are read with
    `size`, `urgent`, `seniority` and `referral` (`SeekerPool.fill`). One call of a compiled
    kernel (`kernels_letting.candidate_rows`), two when some seekers' facts are read first."""
    done = tried if tried is not None else (NONE, NONE, NONE)
    cap = WINDOW * WINDOWS
    band_rows = group.applying(band, second, month)

    def heads() -> tuple[np.ndarray, int, int, int]:
        return candidate_rows(band_rows, group.open, group.month, group.dwelling, group.known, month, dwelling_id,
                              group.size, group.seniority, group.sid, *size_bounds(rooms, *binding),
                              *size_bounds(rooms, *preferred), preferred != binding, done[0], cap, not waiting_only,
                              group.rehousing, group.urgent, group.referral, done[1], done[2], WINDOW)
    rows, n_meeting, n_lapsed, n_referrals = heads()
    if n_meeting < 0:                      # `rows`: the selected seekers whose facts are not read yet
        group.fill(rows, size, urgent, seniority, referral)
        rows, n_meeting, n_lapsed, n_referrals = heads()
    sids = group.sid[rows].tolist()
    waiting = n_meeting + n_lapsed
    fits = Fits(sids[:n_meeting], sids[n_meeting:waiting], n_meeting < cap and n_lapsed < cap, rows[:waiting])
    return fits, sids[waiting:waiting + n_referrals], sids[waiting + n_referrals:]


def size_bounds(rooms: int, per_room: float | None, over: float | None) -> tuple[float, float]:
    """The size limits (at most `per_room` persons per room, at most `over` rooms more than persons;
    None: no limit) of a dwelling of `rooms` as (most, fewest) persons (NaN: no bound), the
    numbers `pools.within_size_limits` compares the sizes with."""
    return (float(per_room * rooms) if per_room is not None else np.nan,
            float(rooms - over) if over is not None else np.nan)


class Fits(list):
    """A vacancy's waiting-list candidates: those meeting the size rules (`meeting`, the most senior
    first), then those meeting only the binding ones (`lapsed`: the rules lapse without a taker).
    `complete`: neither list was cut at `WINDOW * WINDOWS`; `rows`: their rows in the pool, in the
    same order."""

    def __init__(self, meeting: list[int], lapsed: list[int], complete: bool, rows: np.ndarray) -> None:
        super().__init__([*meeting, *lapsed])
        self.meeting, self.lapsed, self.complete = meeting, lapsed, complete
        self.rows = rows


__all__ = ["WINDOW", "WINDOWS", "Fits", "select"]
