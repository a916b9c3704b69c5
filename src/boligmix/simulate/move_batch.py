"""The market's moves not written yet (`MoveBatch`) and the array helpers its month loop uses
(moved out of `boligmix.simulate.market`, session 16)."""

from __future__ import annotations

from array import array

import numpy as np


class MoveBatch:
    """Moves of whole households not written yet, a column each: the rows given per move (None: the
    seeking household's rows as the market opened) and, as int64 `array.array`s filled while the
    values are fresh, household, new dwelling id, move day, sequence number, positions moved from and
    to (-1: the flow is counted elsewhere). A month's batch kept as tuples of Python integers was
    read back cold (`zip(*batch)` touched every object again): half of `_close_spells` nationally."""

    def __init__(self) -> None:
        self.rows: list[np.ndarray | None] = []
        self._columns = tuple(array("q") for _ in range(6))
        self._append = tuple(column.append for column in self._columns)

    def append(self, rows: np.ndarray | None, household: int, dwelling_id: int, on: int, seq: int, old: int,
               to: int) -> None:
        self.rows.append(rows)
        h, d, o, q, f, t = self._append
        h(household)
        d(dwelling_id)
        o(on)
        q(seq)
        f(old)
        t(to)

    def __len__(self) -> int:
        return len(self.rows)

    def columns(self) -> tuple[np.ndarray, ...]:
        """(households, new dwelling ids, move days, sequence numbers, positions from, positions to)."""
        return tuple(np.frombuffer(column, dtype=np.int64).copy() for column in self._columns)


def views(dw) -> tuple[memoryview, ...]:
    """Memoryviews of the dwellings' household, tenure, municipality, vacant_from and ids: the month
    loop and `Market._move_in` read and write single elements (a Python int in and out, about half the
    cost of a NumPy scalar). Taken at each month's start: nothing replaces these arrays within the
    market (dwellings are added outside it)."""
    return tuple(memoryview(a) for a in (dw.household, dw.tenure, dw.municipality, dw.vacant_from, dw.ids))


def spans(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """lo[0], ..., hi[0]-1, lo[1], ..., hi[1]-1, ... concatenated (`np.r_` of the ranges, without one
    range per pair)."""
    count = hi - lo
    total = int(count.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    ends = np.cumsum(count)
    return np.arange(total, dtype=np.int64) + np.repeat(lo - (ends - count), count)


__all__ = ["MoveBatch", "spans", "views"]
