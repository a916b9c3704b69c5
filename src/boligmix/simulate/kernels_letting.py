"""Compiled kernels of the almen letting's per-vacancy selection (`boligmix.simulate.candidates`).

A vacancy's candidates are a few hundred rows of its pool's band, and the numpy version of the
selection (the masks of `SeekerPool.select`, the size limits, the seekers assessed before, the two
partial sorts of `pools.first_by`) was a dozen array calls of some microseconds' overhead each, per
vacancy; the column screen's window likewise (`column_facts.ColumnScreen.candidates`). These
kernels make one pass over the rows each (`numba`, compiled once and cached on disk). The numpy
version is the tests' oracle (`tests/test_simulate_almen12.py`).
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True)
def open_rows(rows: np.ndarray, open_: np.ndarray, month_of: np.ndarray, dwelling_of: np.ndarray,
              known: np.ndarray, month: int, dwelling_id: int) -> tuple[np.ndarray, int]:
    """(the rows of `rows` open, decided by `month` and not living in `dwelling_id`, in order; how
    many of them have no household facts read yet): `SeekerPool.select`'s mask."""
    out = np.empty(rows.size, dtype=np.int64)
    n = 0
    unknown = 0
    for r in rows:
        if open_[r] and month_of[r] <= month and dwelling_of[r] != dwelling_id:
            out[n] = r
            n += 1
            if not known[r]:
                unknown += 1
    return out[:n], unknown


@numba.njit(cache=True)
def _first(rows: np.ndarray, key_of: np.ndarray, sid_of: np.ndarray, cap: int) -> np.ndarray:
    """The `cap` rows of `rows` with the smallest (key, sid), in that order: each row moved into a
    head kept sorted and cut at `cap` (plain loops: numpy's partition and sorts took seconds to
    compile, a heap was slower on these few hundred rows)."""
    cap = max(min(cap, rows.size), 0)
    head = np.empty(cap, dtype=np.int64)
    key = np.empty(cap, dtype=key_of.dtype)
    sid = np.empty(cap, dtype=np.int64)
    n = 0
    for r in rows:
        k, s = key_of[r], sid_of[r]
        if n == cap and (cap == 0 or k > key[n - 1] or k == key[n - 1] and s > sid[n - 1]):
            continue
        i = n if n < cap else cap - 1          # the slot filled, moved down past the rows after `r`
        while i > 0 and (k < key[i - 1] or k == key[i - 1] and s < sid[i - 1]):
            head[i], key[i], sid[i] = head[i - 1], key[i - 1], sid[i - 1]
            i -= 1
        head[i], key[i], sid[i] = r, k, s
        if n < cap:
            n += 1
    return head[:n]


@numba.njit(cache=True)
def _assessed(done: np.ndarray, s: int) -> bool:
    """Whether `s` is in the ascending `done`."""
    if done.size == 0:
        return False
    i = np.searchsorted(done, s)
    return i < done.size and done[i] == s


@numba.njit(cache=True)
def _meets(size: float, max_size: float, min_size: float) -> bool:
    """At most `max_size` and at least `min_size` persons (NaN: no such limit)."""
    return not (size > max_size) and not (size < min_size)


@numba.njit(cache=True)
def waiting_heads(rows: np.ndarray, size: np.ndarray, seniority: np.ndarray, sid: np.ndarray,
                  binding_max: float, binding_min: float, preferred_max: float, preferred_min: float,
                  lapsing: bool, done: np.ndarray, cap: int) -> tuple[np.ndarray, np.ndarray]:
    """The waiting-list candidates among `rows` (facts read): (the first `cap` by (seniority, seeker
    id) meeting the binding and the preferred size limits, the first `cap` meeting only the binding
    ones; the latter empty unless `lapsing`), leaving out the seekers in the ascending `done`.
    A limit is a household size: at most `*_max`, at least `*_min` (NaN: none)."""
    meeting = np.empty(rows.size, dtype=np.int64)
    lapsed = np.empty(rows.size, dtype=np.int64)
    n_meeting = 0
    n_lapsed = 0
    for r in rows:
        persons = float(size[r])
        if not _meets(persons, binding_max, binding_min) or _assessed(done, sid[r]):
            continue
        if not lapsing or _meets(persons, preferred_max, preferred_min):
            meeting[n_meeting] = r
            n_meeting += 1
        else:
            lapsed[n_lapsed] = r
            n_lapsed += 1
    return _first(meeting[:n_meeting], seniority, sid, cap), _first(lapsed[:n_lapsed], seniority, sid, cap)


@numba.njit(cache=True)
def referral_heads(rows: np.ndarray, rehousing: np.ndarray, urgent: np.ndarray, referral: np.ndarray,
                   sid: np.ndarray, done_referral: np.ndarray, done_rehousing: np.ndarray, cap: int
                   ) -> tuple[np.ndarray, np.ndarray]:
    """(the first `cap` urgent seekers not to rehouse by (referral order, seeker id), the first `cap`
    households to rehouse in row order) among `rows`, leaving out those in the ascending
    `done_referral` and `done_rehousing`."""
    referrals = np.empty(rows.size, dtype=np.int64)
    rehoused = np.empty(rows.size, dtype=np.int64)
    n_referrals = 0
    n_rehoused = 0
    for r in rows:
        if rehousing[r]:
            if n_rehoused < cap and not _assessed(done_rehousing, sid[r]):
                rehoused[n_rehoused] = r
                n_rehoused += 1
        elif urgent[r] and not _assessed(done_referral, sid[r]):
            referrals[n_referrals] = r
            n_referrals += 1
    return _first(referrals[:n_referrals], referral, sid, cap), rehoused[:n_rehoused]


@numba.njit(cache=True)
def candidate_rows(band_rows: np.ndarray, open_: np.ndarray, month_of: np.ndarray, dwelling_of: np.ndarray,
                   known: np.ndarray, month: int, dwelling_id: int, size: np.ndarray, seniority: np.ndarray,
                   sid: np.ndarray, binding_max: float, binding_min: float, preferred_max: float, preferred_min: float,
                   lapsing: bool, done_waiting: np.ndarray, cap: int, referrals_too: bool, rehousing: np.ndarray,
                   urgent: np.ndarray, referral: np.ndarray, done_referral: np.ndarray, done_rehousing: np.ndarray,
                   window: int) -> tuple[np.ndarray, int, int, int]:
    """`candidates.select`'s lists in one call (each call's arguments and returned arrays cost some
    microseconds): the rows of `band_rows` selected by `open_rows`, their `waiting_heads` and, when
    `referrals_too`, their `referral_heads` (else none), as (the meeting, lapsed, referral and
    rehousing rows one after another, how many meeting, lapsed, referral rows); or, when some selected
    seekers' household facts are unread, (those seekers' rows in order, -1, 0, 0): read them, call again."""
    rows, unread = open_rows(band_rows, open_, month_of, dwelling_of, known, month, dwelling_id)
    if unread:
        out = np.empty(unread, dtype=np.int64)
        n = 0
        for r in rows:
            if not known[r]:
                out[n] = r
                n += 1
        return out, -1, 0, 0
    meeting, lapsed = waiting_heads(rows, size, seniority, sid, binding_max, binding_min, preferred_max,
                                    preferred_min, lapsing, done_waiting, cap)
    if referrals_too:
        referrals, rehoused = referral_heads(rows, rehousing, urgent, referral, sid, done_referral, done_rehousing,
                                             window)
    else:
        referrals, rehoused = rows[:0], rows[:0]
    out = np.empty(meeting.size + lapsed.size + referrals.size + rehoused.size, dtype=np.int64)
    n = 0
    for part in (meeting, lapsed, referrals, rehoused):
        out[n:n + part.size] = part
        n += part.size
    return out, meeting.size, lapsed.size, referrals.size


@numba.njit(cache=True)
def window_signatures(rows: np.ndarray, facts: np.ndarray, size: np.ndarray, organisation: np.ndarray,
                      department: np.ndarray, org: int, dep: int, size_bits: int) -> tuple[np.ndarray, bool]:
    """`ColumnScreen.signatures` of the seekers at `rows`: per seeker ((facts code << size_bits | size)
    << 2) | lives in the organisation `org` << 1 | lives in the department `dep`; False (and no codes)
    when a household has `1 << size_bits` persons or more."""
    codes = np.empty(rows.size, dtype=np.int64)
    for i in range(rows.size):
        r = rows[i]
        if size[r] >= 1 << size_bits:
            return codes[:0], False
        codes[i] = (((facts[r] << size_bits) | size[r]) << 2) | (np.int64(organisation[r] == org) << 1) \
            | np.int64(department[r] == dep)
    return codes, True


@numba.njit(cache=True)
def best_ranked(rows: np.ndarray, rank: np.ndarray, seniority: np.ndarray, sid: np.ndarray) -> int:
    """The position in `rows` of the seeker with the smallest (rank, seniority, seeker id) among those
    with a rank of 0 or more (-1: not eligible), -1 when there is none."""
    best = -1
    for i in range(rows.size):
        if rank[i] < 0:
            continue
        r = rows[i]
        if best < 0:
            best = i
            continue
        b = rows[best]
        if rank[i] < rank[best] or rank[i] == rank[best] and (
                seniority[r] < seniority[b] or seniority[r] == seniority[b] and sid[r] < sid[b]):
            best = i
    return best


__all__ = ["best_ranked", "candidate_rows", "open_rows", "referral_heads", "waiting_heads", "window_signatures"]
