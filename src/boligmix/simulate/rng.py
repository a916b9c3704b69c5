"""Counter-based random numbers keyed by (seed, replication, entity id, year, event).

Every draw is a pure function of its key (SplitMix64 finaliser chained over the key parts), so
a household's draws do not depend on how many other households there are, in which order they
are processed, how many replications run or on which worker: replication r of seed s is the
same everywhere. No generator state is carried between calls.
"""

from __future__ import annotations

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)

# Event codes: one per kind of draw (never reuse a code for another purpose; MARKET_ORDER, the
# per-vacancy key of another tenure's seekers, is retired: OTHER_TENURE_ORDER keys them per month).
DEATH, EMIGRATION, BIRTH, BIRTH_SEX, LEAVE_HOME, MOVE, MOVE_MONTH, DESTINATION = 1, 2, 3, 4, 5, 6, 7, 8
STATUS, DONOR, CONVICTION, EVENT_MONTH, SENIORITY, REFERRAL_ORDER, MARKET_ORDER = 9, 10, 11, 12, 13, 14, 15
IMMIGRANT_COUNT, IMMIGRANT_DONOR, IMMIGRANT_MUNICIPALITY, ACTION_PICK, NEW_ID, OUTSIDE, AREA_CHOICE = 16, 17, 18, 19, 20, 21, 22
EDUCATION, MUNICIPALITY, BUILD, OTHER_TENURE_ORDER = 23, 24, 25, 26


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser on uint64 arrays (wrapping arithmetic)."""
    return _mix_in_place(np.array(x, dtype=np.uint64, copy=True))


def _mix_in_place(z: np.ndarray) -> np.ndarray:
    """`_mix` of the uint64 array `z`, written into `z` (one scratch array instead of a fresh
    array per operation: at 7.7 million persons each fresh array was page faults)."""
    with np.errstate(over="ignore"):
        z += _GOLDEN
        t = z >> _S30
        z ^= t
        z *= _M1
        np.right_shift(z, _S27, out=t)
        z ^= t
        z *= _M2
        np.right_shift(z, _S31, out=t)
        z ^= t
    return z


def _u64(value: int | np.ndarray) -> np.ndarray:
    return np.asarray(value, dtype=np.int64).view(np.uint64) if np.asarray(value).dtype != np.uint64 \
        else np.asarray(value)


def hash64(seed: int, replication: int, ids: np.ndarray | int, year: int, event: int) -> np.ndarray:
    """64-bit hash of the key (vectorised over `ids`)."""
    ids = np.atleast_1d(np.asarray(ids, dtype=np.int64))
    head = _mix(_mix(np.array([seed], dtype=np.int64).view(np.uint64)) ^ np.uint64(replication & 0xFFFFFFFF))
    tail = np.uint64(((year & 0xFFFF) << 16) | (event & 0xFFFF))
    z = _mix_in_place(ids.view(np.uint64) ^ head)       # a fresh array: the ids are not written
    z ^= tail
    return _mix_in_place(z)


def uniform(seed: int, replication: int, ids: np.ndarray | int, year: int, event: int) -> np.ndarray:
    """Uniform [0, 1) draws, one per id, for this (seed, replication, year, event)."""
    h = hash64(seed, replication, ids, year, event)
    h >>= _S11
    out = h.astype(np.float64)
    del h
    out *= 1.0 / 9007199254740992.0
    return out


def integers(seed: int, replication: int, ids: np.ndarray | int, year: int, event: int, high: np.ndarray | int
             ) -> np.ndarray:
    """Integers in [0, high) (high may vary per id), one per id."""
    u = uniform(seed, replication, ids, year, event)
    return np.minimum((u * np.asarray(high)).astype(np.int64), np.asarray(high) - 1)


def new_ids(seed: int, replication: int, parents: np.ndarray | int, year: int, event: int, *, base: int
            ) -> np.ndarray:
    """Fresh positive int64 identifiers derived from a parent key (a newborn from its mother, a new
    household from the person who founds it); `base` separates the id spaces of persons and
    households. Collisions with existing ids are checked by the caller."""
    h = hash64(seed, replication, parents, year, event) >> np.uint64(8)
    return (h.astype(np.int64) % np.int64(2**54)) + np.int64(base)


__all__ = ["hash64", "integers", "new_ids", "uniform"]
