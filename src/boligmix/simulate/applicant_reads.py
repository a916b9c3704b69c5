"""Scalar look-ups of the applicant factory's reads (`boligmix.simulate.applicants`): a person's row
in the population, membership of a set of persons, and last year's FTE of a person on a few sets of
attachments, each a binary search of a sorted array (no per-person dictionary: nationally millions
of entries). The searches call the array's `searchsorted` method: `np.searchsorted`'s Python
wrapper cost some 2 us a call, more than the search, and these run a few times per person read."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from boligmix.simulate.kernels_applicants import labour_sums
from boligmix.simulate.lookup import sorted_positions
from boligmix.simulate.population import sorted_unique


class RowIndex:
    """Person id -> row in the population arrays (a sorted copy of the ids)."""

    def __init__(self, pid: np.ndarray) -> None:
        self._order = np.argsort(pid, kind="stable")
        self._sorted = pid[self._order]
        self.size = int(pid.size)
        """Rows indexed: those of the ids when built (rows are appended, never moved)."""

    def get(self, pid: int, default: int | None = None) -> int | None:
        ids = self._sorted
        i = ids.searchsorted(pid)
        if i < ids.size and ids.item(i) == pid:
            return self._order.item(i)
        return default

    def rows(self, pids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """`get` of every id at once: (rows, whether indexed; the row of an id not indexed is 0)."""
        at, found = sorted_positions(self._sorted, pids)
        if not self._order.size:
            return at, found
        return np.where(found, self._order[at], 0), found


class PersonSet:
    """A set of person ids as a sorted array (membership by binary search)."""

    def __init__(self, pid: np.ndarray) -> None:
        self._sorted = sorted_unique(np.asarray(pid, dtype=np.int64))

    def __contains__(self, pid: int) -> bool:
        ids = self._sorted
        i = ids.searchsorted(pid)
        return i < ids.size and ids.item(i) == pid

    def contains(self, pids: np.ndarray) -> np.ndarray:
        """`pid in self` of every id at once."""
        return sorted_positions(self._sorted, pids)[1]


class LastFtes:
    """Last year's FTE per person on a few sets of attachments, summed for every person at once
    (`kernels_applicants.labour_sums`) from labour rows sorted by person (in register order within one)."""

    def __init__(self, persons: np.ndarray | None, pid: np.ndarray, year: np.ndarray, code: np.ndarray,
                 fte: np.ndarray, names: list[str], last: int, sets: Iterable[frozenset[str]]) -> None:
        """`persons`: the persons asked about (ascending, distinct; None: those with rows); `code`
        indexes `names`, the attachments."""
        self.persons = persons if persons is not None else _distinct_sorted(pid)
        self.sets = {kinds: q for q, kinds in enumerate(dict.fromkeys(sets))}
        matches = np.array([[name in kinds for name in names] for kinds in self.sets], dtype=np.bool_)
        self._sums, self._found = labour_sums(self.persons, pid, year, code, fte, last,
                                              matches.reshape(len(self.sets), -1))

    def get(self, pid: int, kinds: frozenset[str]) -> float | None:
        """The person's FTE on `kinds` as `sum` adds it (the integer 0 without a row); None when
        `kinds` is not one of the sets or the person is not one of `persons`."""
        q = self.sets.get(kinds)
        if q is None:
            return None
        persons = self.persons
        j = persons.searchsorted(pid)
        if j < persons.size and persons.item(j) == pid:
            return self._sums.item(j, q) if self._found.item(j, q) else 0
        return None

    def values(self, pids: np.ndarray, kinds: frozenset[str]) -> tuple[np.ndarray, np.ndarray]:
        """`get` of every id at once on one of the sets: (the FTEs as floats, 0.0 without a row;
        whether the person is one of `persons`)."""
        at, known = sorted_positions(self.persons, pids)
        q = self.sets[kinds]
        if not self.persons.size:
            return np.zeros(at.size), known
        return np.where(known & self._found[at, q], self._sums[at, q], 0.0), known


def _distinct_sorted(ids: np.ndarray) -> np.ndarray:
    """The distinct values of an ascending array."""
    if ids.size < 2:
        return ids.copy()
    return ids[np.concatenate(([True], ids[1:] != ids[:-1]))]


__all__ = ["LastFtes", "PersonSet", "RowIndex"]
