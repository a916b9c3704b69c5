"""Where a household that moves into an almen dwelling applies, by area, and the education segment
the destination rates read (estimated in `rates.estimate_rates`, drawn in `market.draw_seekers`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from boligmix.simulate import rng
from boligmix.simulate.lookup import is_in

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
        """`draw` for many seekers at once (one search per group, the same areas as `draw` one by one)."""
        out: list[str | None] = [None] * len(u)
        keys = np.stack([np.asarray(nonwestern, dtype=np.int64), np.asarray(basic, dtype=np.int64),
                         np.asarray(municipality, dtype=np.int64)], axis=1)
        if not keys.size:
            return out
        groups, inverse = np.unique(keys, axis=0, return_inverse=True)
        u = np.asarray(u, dtype=float)
        for g, key in enumerate(groups.tolist()):
            entry = self.choices.get(tuple(key))
            if entry is None:
                continue
            at = np.flatnonzero(inverse.ravel() == g)
            areas, cum = entry
            index = np.minimum(np.searchsorted(cum, u[at], side="right"), cum.size - 1)
            for i, k in zip(at.tolist(), index.tolist()):
                out[i] = areas[k]
        return out

    def draw_labels(self, nonwestern: np.ndarray, basic: np.ndarray, municipality: np.ndarray, u: np.ndarray,
                    label: dict[str, int]) -> np.ndarray:
        """`label.get(area, 0)` of the area `draw_many` draws for each seeker, as an array (the
        seekers sorted by group once; no Python step per seeker)."""
        keys = [np.asarray(k, dtype=np.int64) for k in (nonwestern, basic, municipality)]
        u = np.asarray(u, dtype=float)
        out = np.full(u.size, label.get(None, 0), dtype=np.int64)
        if not u.size:
            return out
        order = np.lexsort(keys[::-1])
        sorted_keys = np.stack([k[order] for k in keys], axis=1)
        starts = np.flatnonzero(np.r_[True, np.any(sorted_keys[1:] != sorted_keys[:-1], axis=1)])
        for start, end in zip(starts.tolist(), [*starts[1:].tolist(), u.size]):
            entry = self.choices.get(tuple(sorted_keys[start].tolist()))
            if entry is None:
                continue
            at = order[start:end]
            areas, cum = entry
            labels = np.array([label.get(a, 0) for a in areas], dtype=np.int64)
            out[at] = labels[np.minimum(np.searchsorted(cum, u[at], side="right"), cum.size - 1)]
        return out

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
