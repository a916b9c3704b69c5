"""Record-keeping of the residential microsimulation: growing person/household arrays, residence spells.

Days are counted from 1 January 1970 (`day_number`); a spell's end reason is NO_REASON (a move),
REASON_ABROAD or REASON_DEATH.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np

EPOCH = date(1970, 1, 1)
NO_REASON, REASON_ABROAD, REASON_DEATH = -1, 0, 1


def day_number(year: int, month: int = 1, day: int = 1) -> int:
    return (date(year, month, day) - EPOCH).days


class Grow:
    """A set of parallel numpy arrays that grow by appending (amortised doubling)."""

    def __init__(self, spec: dict[str, tuple[np.dtype, object]], capacity: int) -> None:
        self.n = 0
        self._spec = spec
        for name, (dtype, fill) in spec.items():
            setattr(self, name, np.full(capacity, fill, dtype=dtype))

    def append(self, count: int) -> np.ndarray:
        """Reserve `count` new rows (filled with defaults); returns their indices."""
        need = self.n + count
        cap = len(getattr(self, next(iter(self._spec))))
        if need > cap:
            new_cap = max(need, int(cap * 1.5) + 16)
            for name, (dtype, fill) in self._spec.items():
                old = getattr(self, name)
                arr = np.full(new_cap, fill, dtype=dtype)
                arr[: self.n] = old[: self.n]
                setattr(self, name, arr)
        idx = np.arange(self.n, need)
        self.n = need
        return idx


@dataclass
class SpellLog:
    parts: dict[str, list[np.ndarray]] = field(default_factory=lambda: {
        k: [] for k in ("person", "household", "dwelling", "start", "end", "reason")})

    def add(self, person, household, dwelling, start, end, reason) -> None:
        n = len(person)
        if n == 0:
            return
        self.parts["person"].append(np.asarray(person, np.int64))
        self.parts["household"].append(np.asarray(household, np.int64))
        self.parts["dwelling"].append(np.asarray(dwelling, np.int64))
        self.parts["start"].append(np.broadcast_to(np.asarray(start, np.int32), (n,)).copy())
        self.parts["end"].append(np.broadcast_to(np.asarray(end, np.int32), (n,)).copy())
        self.parts["reason"].append(np.broadcast_to(np.asarray(reason, np.int8), (n,)).copy())

    def arrays(self) -> dict[str, np.ndarray]:
        dtypes = {"person": np.int64, "household": np.int64, "dwelling": np.int64, "start": np.int32,
                  "end": np.int32, "reason": np.int8}
        return {k: (np.concatenate(v) if v else np.zeros(0, dtypes[k])) for k, v in self.parts.items()}


@dataclass
class SimulationResult:
    persons: Grow
    spells: dict[str, np.ndarray]
    locations: dict[int, tuple[np.ndarray, np.ndarray]]
    """year -> (person index, dwelling index) at the end of the year or at exit."""
    area_nw_history: dict[int, np.ndarray]
    stats: dict[str, float]
