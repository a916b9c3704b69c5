"""Compiled kernel of the applicant factory's labour reads (`boligmix.simulate.applicants`).

Every seeker read for the almen letting needs last year's FTE of its members on a few sets of
attachments (the outside ones for urgency and the letting's profile, employment or education and
employment for the applicant facts). Summed per person and set from the person's labour rows as
Python values (`ApplicantFactory.rows`), that was a scalar binary search, a list of tuples and a
generator per person and set: some 10 % of the national market. `labour_sums` sums them for every
person of the factory in one pass when the factory is built. The per-person `sum` is the tests'
oracle (`tests/test_simulate_reads13.py`).
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True)
def labour_sums(persons: np.ndarray, pid: np.ndarray, year: np.ndarray, code: np.ndarray, fte: np.ndarray,
                last: int, matches: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per person of `persons` (ascending, distinct) and per set `q` of attachment codes (`matches[q,
    code]`): the FTE of its labour rows (`pid` ascending, each row's `year`, attachment `code` and
    `fte`) of year `last` whose code is in the set, added in row order from the first such row as
    Python 3.11's `sum` adds them (0 + the first, then one addition per row: no compensation), and
    whether it had such a row (without: `sum` gives the integer 0). Rows of persons not in
    `persons` are skipped."""
    n, k = persons.size, matches.shape[0]
    sums = np.zeros((n, k), dtype=np.float64)
    found = np.zeros((n, k), dtype=np.bool_)
    j = 0
    for i in range(pid.size):
        p = pid[i]
        while j < n and persons[j] < p:
            j += 1
        if j == n:
            break
        if persons[j] != p or year[i] != last:
            continue
        c = code[i]
        x = np.float64(fte[i])
        for q in range(k):
            if matches[q, c]:
                if found[j, q]:
                    sums[j, q] += x
                else:
                    sums[j, q] = 0.0 + x
                    found[j, q] = True
    return sums, found


@numba.njit(cache=True)
def household_roles(bounds: np.ndarray, birth: np.ndarray, pid: np.ndarray, gap_years: float,
                    adult_first: np.ndarray, adult_last: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per household `s` of members `bounds[s]:bounds[s+1]` (their `birth` days and `pid`s): the
    member who applies (the oldest: smallest (birth, pid)), the partner (-1: none) and whether the
    partner is the same on the first and the last day of the year (`adult_first`, `adult_last`:
    each member 18 or older then), as `ApplicantFactory._roles` picks them: the partner is the
    adult other than the head nearest in age, within `gap_years` years (days / 365.25) ((distance, pid)
    smallest), none when the head is not an adult. An empty household: head -1, not stable."""
    n = bounds.size - 1
    head = np.full(n, -1, dtype=np.int64)
    partner = np.full(n, -1, dtype=np.int64)
    stable = np.ones(n, dtype=np.bool_)
    for s in range(n):
        lo, hi = bounds[s], bounds[s + 1]
        if hi == lo:
            stable[s] = False
            continue
        h = lo
        for i in range(lo + 1, hi):
            if birth[i] < birth[h] or (birth[i] == birth[h] and pid[i] < pid[h]):
                h = i
        head[s] = h
        first = _partner(lo, hi, h, birth, pid, gap_years, adult_first)
        last = _partner(lo, hi, h, birth, pid, gap_years, adult_last)
        stable[s] = first == last
        partner[s] = last
    return head, partner, stable


@numba.njit(cache=True)
def _partner(lo: int, hi: int, h: int, birth: np.ndarray, pid: np.ndarray, gap_years: float,
             adult: np.ndarray) -> int:
    if not adult[h]:
        return -1
    best = -1
    for i in range(lo, hi):
        if i == h or not adult[i]:
            continue
        d = abs(birth[i] - birth[h])
        if d / 365.25 > gap_years:
            continue
        if best < 0 or d < abs(birth[best] - birth[h]) or (d == abs(birth[best] - birth[h]) and pid[i] < pid[best]):
            best = i
    return best


__all__ = ["household_roles", "labour_sums"]
