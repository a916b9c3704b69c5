"""Where a household that moves into an almen dwelling applies, by area, and the education segment
the destination rates read (estimated in `rates.estimate_rates`, drawn in `market.draw_seekers`)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import NamedTuple

import numba
import numpy as np
import polars as pl

from boligmix.simulate import rng
from boligmix.simulate.lookup import find_sorted, is_in

BASIC_LEVELS = ("grundskole", "uoplyst")
"""Highest education levels of the `basic` segment of the destination rates (a person without a
person_years row counts as basic too, as the indicators' `uoplyst_is_basic` rule reads it)."""


def basic_expr(column: str = "highest_education") -> pl.Expr:
    """True for a person of the `basic` segment (BASIC_LEVELS or no education row)."""
    return pl.col(column).is_null() | pl.col(column).is_in(list(BASIC_LEVELS))


def basic_education(pop, rows: np.ndarray, year: int) -> np.ndarray:
    """Per population row: in the `basic` segment by the last register year before `year`."""
    py = pop.person_years.get(year - 1)
    if py is None:
        return np.ones(np.asarray(rows).size, dtype=bool)
    higher = py.filter(~basic_expr())["person_id"].to_numpy()
    wanted = pop.pid[rows]
    # looked up in ascending order (the persons' ids are nearly so: a stable sort is quick), so that
    # `is_in` merges them with the register's ascending ids instead of probing a hash set of millions
    order = np.argsort(wanted, kind="stable")
    out = np.empty(wanted.size, dtype=bool)
    out[order] = ~is_in(higher, wanted[order])
    return out


class _ChoiceTable(NamedTuple):
    """`AreaChoice.choices` as flat arrays for `_draw_kernel`: the sorted distinct values of each key
    part, a grid of their combinations -> group (-1: no entry), the groups' cumulative shares end to
    end (`cum_start`, one more than groups) and their areas (`area_start`, `area_count`) in `areas`,
    whose last element is None (the answer without an entry)."""

    parts: tuple[np.ndarray, np.ndarray, np.ndarray]
    grid: np.ndarray
    cum: np.ndarray
    cum_start: np.ndarray
    area_start: np.ndarray
    area_count: np.ndarray
    areas: np.ndarray

    @classmethod
    def of(cls, choices: dict[tuple[int, int, int], tuple[list[str | None], np.ndarray]]) -> _ChoiceTable:
        keys = [tuple(int(k) for k in key) for key in choices]
        parts = tuple(np.array(sorted({key[i] for key in keys}), dtype=np.int64) for i in range(3))
        grid = np.full(max(parts[0].size * parts[1].size * parts[2].size, 1), -1, dtype=np.int64)
        cums, areas, cum_start, area_start, area_count = [], [], [0], [], []
        for g, (key, (group_areas, cum)) in enumerate(zip(keys, choices.values())):
            a, b, c = (int(np.searchsorted(parts[i], key[i])) for i in range(3))
            grid[(a * parts[1].size + b) * parts[2].size + c] = g
            cums.append(np.asarray(cum, dtype=np.float64).ravel())
            cum_start.append(cum_start[-1] + cums[-1].size)
            area_start.append(len(areas))
            area_count.append(len(group_areas))
            areas.extend(group_areas)
        return cls(parts, grid, np.concatenate([np.zeros(0), *cums]), np.array(cum_start, dtype=np.int64),
                   np.array(area_start, dtype=np.int64), np.array(area_count, dtype=np.int64),
                   np.array([*areas, None], dtype=object))


def _draw_rows(table: _ChoiceTable, keys: tuple[np.ndarray, np.ndarray, np.ndarray], u: np.ndarray) -> np.ndarray:
    """Per draw: the position in `table.areas` of the area drawn (its last position: no entry)."""
    k0, k1, k2 = (np.ascontiguousarray(k, dtype=np.int64).ravel() for k in keys)
    return _draw_kernel(*table.parts, table.grid, table.cum, table.cum_start, table.area_start, table.area_count,
                        k0, k1, k2, np.ascontiguousarray(u, dtype=np.float64).ravel(), table.areas.size - 1)


@numba.njit(cache=True)
def _draw_kernel(v0, v1, v2, grid, cum, cum_start, area_start, area_count, k0, k1, k2, u, missing):
    """`AreaChoice.draw` per draw: the group of (k0, k1, k2), then numpy's `searchsorted(cum, u,
    side="right")` in its shares (the same comparison, NaN last) capped at the last area."""
    out = np.empty(u.size, dtype=np.int64)
    for i in range(u.size):
        a, b, c = find_sorted(v0, k0[i]), find_sorted(v1, k1[i]), find_sorted(v2, k2[i])
        if a < 0 or b < 0 or c < 0:
            out[i] = missing
            continue
        g = grid[(a * v1.size + b) * v2.size + c]
        if g < 0:
            out[i] = missing
            continue
        start, n, x = cum_start[g], cum_start[g + 1] - cum_start[g], u[i]
        lo, hi = 0, n
        while lo < hi:
            mid = (lo + hi) >> 1
            y = cum[start + mid]
            if x < y or (y != y and x == x):
                hi = mid
            else:
                lo = mid + 1
        k = min(lo, n - 1)
        if k < 0:                             # no shares: Python's areas[-1]
            k += area_count[g]
        out[i] = area_start[g] + k
    return out


@dataclass
class AreaChoice:
    """Where a household moving into an almen dwelling applies: per (head non-Western, head basic
    education, municipality it seeks in) the probability of each area of the municipality, and of
    the almen dwellings outside any area (None), from the almen in-moves of the estimation years.
    Each group's shares are shrunk with `rates.PRIOR_WEIGHT` pseudo-observations towards its origin
    group's shares, those towards all in-movers' and those towards the municipality's almen
    stock per area.

    Per area, not per band of the area's current non-Western share: the data's areas keep their own
    in-mover composition year after year (the backcast from 2012 on seed 7: 71-90 % non-Western
    in-movers into one area, 15-48 % into another of the same band), while seekers drawn by band
    spread over every area of a band, with the band re-measured each year, pulled every area towards
    its band's mean (docs/simulate.md, Backcast)."""

    choices: dict[tuple[int, int, int], tuple[list[str | None], np.ndarray]]
    """(non-Western, basic, municipality) -> (areas, None for no area; cumulative probabilities)."""

    def draw(self, nonwestern: int, basic: int, municipality: int, u: float) -> str | None:
        """The area drawn by the uniform `u` (None: no area, or a municipality without almen stock)."""
        entry = self.choices.get((int(nonwestern), int(basic), int(municipality)))
        if entry is None:
            return None
        areas, cum = entry
        return areas[int(min(np.searchsorted(cum, u, side="right"), cum.size - 1))]

    def draw_many(self, nonwestern: np.ndarray, basic: np.ndarray, municipality: np.ndarray,
                  u: np.ndarray) -> list[str | None]:
        """`draw` for many seekers at once (one compiled pass, the same areas as `draw` one by one)."""
        table = self._table
        at = _draw_rows(table, (nonwestern, basic, municipality), u)
        return table.areas[at].tolist()

    def draw_labels(self, nonwestern: np.ndarray, basic: np.ndarray, municipality: np.ndarray, u: np.ndarray,
                    label: dict[str, int]) -> np.ndarray:
        """`label.get(area, 0)` of the area `draw_many` draws for each seeker, as an array (no Python
        step per seeker)."""
        table = self._table
        at = _draw_rows(table, (nonwestern, basic, municipality), u)
        return np.array([label.get(a, 0) for a in table.areas.tolist()], dtype=np.int64)[at]

    @functools.cached_property
    def _table(self) -> _ChoiceTable:
        return _ChoiceTable.of(self.choices)

    def frame(self) -> pl.DataFrame:
        rows = [{"nonwestern": g, "basic": b, "municipality": m, "area_id": a, "probability": float(p)}
                for (g, b, m), (areas, cum) in sorted(self.choices.items())
                for a, p in zip(areas, np.diff(cum, prepend=0.0))]
        return pl.DataFrame(rows, schema={"nonwestern": pl.Int64, "basic": pl.Int64, "municipality": pl.Int64,
                                          "area_id": pl.String, "probability": pl.Float64})


SECOND_CHOICE_EVENT = rng.AREA_CHOICE * 100 + 2
"""The keyed stream of the second area (an event number no other draw uses)."""


def second_choices(choice: AreaChoice, seekers, groups: dict[int, tuple[int, int]], label: dict[str, int],
                   seed: int, rep: int, year: int) -> dict[int, int]:
    """Per almen seeker (household id) a second area it applies in, by its label (0: almen outside any
    area), drawn from the same shares as its first (`AreaChoice`, by head non-Western x head basic
    education x municipality) with its own keyed stream: a vacancy unlet for a month whose own area
    has no seeker left to assess goes to the seekers whose second choice it is before it goes to
    every seeker of the municipality. Households apply for several departments; a vacancy that every
    seeker of the municipality could take was let in the municipality's mix of seekers, which pulled
    each area's in-movers towards the municipality's mean (docs/simulate.md, Backcast, session 7).
    `groups`: per seeker (head non-Western, head basic education)."""
    ids = np.array(sorted(s for s, w in seekers.wants_almen.items() if w and s in groups), dtype=np.int64)
    return second_choices_of(choice, ids, np.array([groups[s][0] for s in ids.tolist()], dtype=np.int64),
                             np.array([groups[s][1] for s in ids.tolist()], dtype=np.int64),
                             np.array([seekers.municipality[s] for s in ids.tolist()], dtype=np.int64),
                             label, seed, rep, year)


def second_choices_of(choice: AreaChoice, ids: np.ndarray, nonwestern: np.ndarray, basic: np.ndarray,
                      municipality: np.ndarray, label: dict[str, int], seed: int, rep: int, year: int
                      ) -> dict[int, int]:
    """`second_choices` of the almen seekers `ids` (ascending) of the groups given as arrays."""
    if ids.size == 0:
        return {}
    labels = choice.draw_labels(nonwestern, basic, municipality, rng.uniform(seed, rep, ids, year, SECOND_CHOICE_EVENT),
                                label)
    return dict(zip(ids.tolist(), labels.tolist()))


def estimate_area_choice(moves: pl.DataFrame, stock: pl.DataFrame, prior_weight: float) -> AreaChoice:
    """`moves`: nonwestern, basic, municipality, area_id (null: none) of the households that moved into
    almen; `stock`: municipality, area_id of the almen dwellings (the prior); `prior_weight`: the
    pseudo-observations of each shrinkage step (`rates.PRIOR_WEIGHT`)."""

    def _shrunk(counts: np.ndarray, n: float, parent: np.ndarray) -> np.ndarray:
        return (counts + prior_weight * parent) / (n + prior_weight)

    choices: dict[tuple[int, int, int], tuple[list[str | None], np.ndarray]] = {}
    prior_counts = stock.group_by("municipality", "area_id").len()
    for (muni,), part in prior_counts.partition_by("municipality", as_dict=True).items():
        areas = sorted(part["area_id"].to_list(), key=lambda a: (a is not None, a or ""))
        index = {a: i for i, a in enumerate(areas)}
        prior = np.zeros(len(areas))
        for a, n in part.select("area_id", "len").iter_rows():
            prior[index[a]] = n
        prior /= prior.sum()
        counts = np.zeros((2, 2, len(areas)))
        for g, b, a, n in (moves.filter(pl.col("municipality") == muni).group_by("nonwestern", "basic", "area_id")
                           .len().iter_rows()):
            if a in index:
                counts[int(g), int(b), index[a]] += n
        pooled = _shrunk(counts.sum(axis=(0, 1)), counts.sum(), prior)
        for g in (0, 1):
            origin = _shrunk(counts[g].sum(axis=0), counts[g].sum(), pooled)
            for b in (0, 1):
                p = _shrunk(counts[g, b], counts[g, b].sum(), origin)
                choices[(g, b, int(muni))] = (areas, np.cumsum(p / p.sum()))
    return AreaChoice(choices)


__all__ = ["AreaChoice", "BASIC_LEVELS", "SECOND_CHOICE_EVENT", "basic_education", "basic_expr", "estimate_area_choice",
           "second_choices", "second_choices_of"]
