"""Counter-based random numbers keyed by (seed, replication, entity id, year, event).

Every draw is a pure function of its key (SplitMix64 finaliser chained over the key parts), so
a household's draws do not depend on how many other households there are, in which order they
are processed, how many replications run or on which worker: replication r of seed s is the
same everywhere. No generator state is carried between calls. The hashes are one compiled
loop (numba): a draw for 6 million ids is one pass instead of a dozen numpy passes, and a draw
for one id costs microseconds.
"""

from __future__ import annotations

import functools

import numba
import numpy as np


# Event codes: one per kind of draw (never reuse a code for another purpose; MARKET_ORDER, the
# per-vacancy key of another tenure's seekers, is retired: OTHER_TENURE_ORDER keys them per month).
DEATH, EMIGRATION, BIRTH, BIRTH_SEX, LEAVE_HOME, MOVE, MOVE_MONTH, DESTINATION = 1, 2, 3, 4, 5, 6, 7, 8
STATUS, DONOR, CONVICTION, EVENT_MONTH, SENIORITY, REFERRAL_ORDER, MARKET_ORDER = 9, 10, 11, 12, 13, 14, 15
IMMIGRANT_COUNT, IMMIGRANT_DONOR, IMMIGRANT_MUNICIPALITY, ACTION_PICK, NEW_ID, OUTSIDE, AREA_CHOICE = 16, 17, 18, 19, 20, 21, 22
EDUCATION, MUNICIPALITY, BUILD, OTHER_TENURE_ORDER = 23, 24, 25, 26


_MASK64 = (1 << 64) - 1


@numba.njit(cache=True, inline="always")
def _mix64(z: np.uint64) -> np.uint64:
    """SplitMix64 finaliser of one uint64 (wrapping arithmetic)."""
    z = z + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@numba.njit(cache=True)
def _hashes(head: np.uint64, tail: np.uint64, ids: np.ndarray) -> np.ndarray:
    out = np.empty(ids.size, dtype=np.uint64)
    for i in range(ids.size):
        out[i] = _mix64(_mix64(ids[i] ^ head) ^ tail)
    return out


@numba.njit(cache=True)
def _uniforms(head: np.uint64, tail: np.uint64, ids: np.ndarray) -> np.ndarray:
    out = np.empty(ids.size, dtype=np.float64)
    for i in range(ids.size):
        out[i] = (_mix64(_mix64(ids[i] ^ head) ^ tail) >> np.uint64(11)) * (1.0 / 9007199254740992.0)
    return out


def _mix_int(z: int) -> int:
    """`_mix64` on a Python int (for the key's head, computed once per seed and replication)."""
    z = (z + 0x9E3779B97F4A7C15) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)


@functools.lru_cache(maxsize=64)
def _head(seed: int, replication: int) -> np.uint64:
    return np.uint64(_mix_int(_mix_int(seed & _MASK64) ^ (replication & 0xFFFFFFFF)))


def _key(seed: int, replication: int, ids: np.ndarray | int, year: int, event: int
         ) -> tuple[np.uint64, np.uint64, np.ndarray]:
    ids = np.atleast_1d(np.asarray(ids, dtype=np.int64)).view(np.uint64)
    return _head(int(seed), int(replication)), np.uint64(((year & 0xFFFF) << 16) | (event & 0xFFFF)), ids


def hash64(seed: int, replication: int, ids: np.ndarray | int, year: int, event: int) -> np.ndarray:
    """64-bit hash of the key (vectorised over `ids`): SplitMix64's finaliser of (the seed's, mixed
    with the replication) xor id, then xor (year, event)."""
    return _hashes(*_key(seed, replication, ids, year, event))


def uniform(seed: int, replication: int, ids: np.ndarray | int, year: int, event: int) -> np.ndarray:
    """Uniform [0, 1) draws, one per id, for this (seed, replication, year, event): the hash's top
    53 bits."""
    return _uniforms(*_key(seed, replication, ids, year, event))


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
