"""Behaviour terms beyond the segment tables of `rates.py`, estimated from the data's own history
(the same year pairs (t, t+1) before the start; counted in `rates.estimate_rates`, estimated here).

    move_origin.csv          household: tenure x head age band x size band x area band x head non-Western
                             -> probability of moving. Non-Western households in the areas move out less
                             often than others of the same segment (municipality scale, 2007-2011: 11.0 %
                             against 16.6 % a year in almen area dwellings); without the origin the
                             simulation's out-movers were too often non-Western and the areas' non-Western
                             share did not rise as the data's did (docs/simulate.md, Backcast, session 7).
                             Each cell is shrunk with PRIOR_WEIGHT pseudo-observations towards the rate of
                             `move.csv` times the origin group's ratio of observed to expected moves (per
                             tenure and in or outside an area).
    area_conviction.csv      person 15+ living in an area: age band x sex x convicted last year -> probability
                             of a conviction, pooled over the areas (each cell shrunk with PRIOR_WEIGHT
                             pseudo-observations towards both values of convicted-last-year together, and
                             those towards the age band)
    area_conviction_effect.csv  per area: the offset on the logit scale that makes those rates of its
                             residents 15+ sum to the convictions it had over the five estimation years,
                             shrunk with PRIOR_WEIGHT pseudo-observations at the rates without it.
                             Together they replace, for residents of an area, `conviction.csv`'s area band
                             (the area's share convicted in the last year before the start): one year's
                             share of about 2,000 adults is too noisy a measure of an area's level (the
                             municipality backcast from 2012: A751-007 had 2.1-2.7 % convicted a year in
                             2006-2010 and 3.1 % in 2011, was banded 3-4.5 % and simulated at 3-4 % a year;
                             docs/simulate.md, Backcast, session 7). Persons outside the areas keep
                             `conviction.csv` (band 0).
    child_origin.csv         child born in the estimation years: the mother's origin (dansk, indvandrer,
                             efterkommer) -> probability the child is of Danish origin (the registers' origin
                             follows both parents; the data model records no father): shrunk with PRIOR_WEIGHT
                             pseudo-observations towards 1 for a Danish mother and 0 for the others. A child of
                             a Danish-origin mother is Danish and one of another mother a descendant
                             (efterkommer, non-Western when the mother is), as before, unless the data show
                             otherwise: in the generated data half the children of descendants are Danish,
                             and the simulation's births in the areas were 55.5 % non-Western against the data's
                             50.1 % (municipality scale, 2012-2016).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from boligmix.simulate.lookup import table_at

CONVICTION_CELL_COLUMNS = ("area_id", "band", "female", "convicted_before", "persons", "convicted")
"""Counts of the residents 15+ of an area on both dates of an estimation year pair, per cell."""


@dataclass
class Behaviour:
    """Estimated behaviour terms (module docstring); `None`/empty: the term is not used."""

    move_origin: np.ndarray | None = None
    """[tenure, head age band, size band, area band, head non-Western] -> probability of moving."""
    area_conviction: np.ndarray | None = None
    """[age band, female, convicted last year] -> probability of a conviction of a resident 15+ of an area."""
    area_conviction_effect: dict[str, float] = field(default_factory=dict)
    """Per area: logit offset of `area_conviction` for its residents 15+."""
    child_danish: np.ndarray | None = None
    """Per mother's origin (index into `schema.ORIGINS`): probability that her child is of Danish origin."""

    def write(self, out_dir: str | os.PathLike[str]) -> None:
        out = Path(out_dir)
        if self.move_origin is not None:
            from boligmix.data.schema import TENURES

            grid = np.indices(self.move_origin.shape).reshape(self.move_origin.ndim, -1)
            names = ["tenure", "head_age_band", "size_band", "area_band", "nonwestern"]
            pl.DataFrame({**{n: grid[i] for i, n in enumerate(names)},
                          "probability": self.move_origin.reshape(-1)}).with_columns(
                pl.col("tenure").map_elements(lambda i: TENURES[i], return_dtype=pl.String)
            ).write_csv(out / "move_origin.csv")
        if self.area_conviction is not None:
            grid = np.indices(self.area_conviction.shape).reshape(self.area_conviction.ndim, -1)
            pl.DataFrame({**{n: grid[i] for i, n in enumerate(["age_band", "female", "convicted_before"])},
                          "probability": self.area_conviction.reshape(-1)}).write_csv(out / "area_conviction.csv")
        if self.child_danish is not None:
            from boligmix.data.schema import ORIGINS

            pl.DataFrame({"mother_origin": list(ORIGINS), "probability_danish": self.child_danish}).write_csv(
                out / "child_origin.csv")
        if self.area_conviction_effect:
            pl.DataFrame({"area_id": list(self.area_conviction_effect),
                          "logit_offset": list(self.area_conviction_effect.values())}).sort("area_id").write_csv(
                out / "area_conviction_effect.csv")


def estimate_move_origin(events: np.ndarray, exposure: np.ndarray, move: np.ndarray, prior_weight: float
                         ) -> np.ndarray:
    """The move hazard by origin (module docstring). `events`, `exposure`: moves and households at
    risk per [tenure, head band, size band, area band, head non-Western] over the estimation years;
    `move`: the rates without origin [tenure, head band, size band, area band]."""
    shape = (*move.shape, 2)
    # the origin group's observed / expected moves per tenure and area presence (band 0: no area)
    expected = exposure * move[..., None]
    in_area = np.arange(move.shape[3]) > 0
    ratio = np.ones(shape)
    for inside in (False, True):
        sel = in_area == inside
        obs = events[:, :, :, sel, :].sum(axis=(1, 2, 3))            # [tenure, origin]
        exp = expected[:, :, :, sel, :].sum(axis=(1, 2, 3))
        r = (obs + prior_weight) / (exp + prior_weight)               # 1 without evidence
        ratio[:, :, :, sel, :] = r[:, None, None, None, :]
    parent = np.minimum(move[..., None] * ratio, 1.0)
    return (events + prior_weight * parent) / (exposure + prior_weight)


def move_probability(behaviour: Behaviour | None, move: np.ndarray, tenure: np.ndarray, head_band: np.ndarray,
                     size_band: np.ndarray, area_band: np.ndarray, nonwestern: np.ndarray) -> np.ndarray:
    """Per household the probability of moving this year: the origin-specific hazard when estimated,
    else `move` (the rates without origin)."""
    if behaviour is None or behaviour.move_origin is None:
        return table_at(move, tenure, head_band, size_band, area_band)
    return table_at(behaviour.move_origin, tenure, head_band, size_band, area_band,
                    np.asarray(nonwestern).astype(np.int64))


def estimate_area_conviction(cells: pl.DataFrame, shape: tuple[int, int, int], prior_weight: float
                             ) -> tuple[np.ndarray, dict[str, float]]:
    """(the conviction rates of residents 15+ of the areas [age band, female, convicted last year]; per
    area the logit offset of those rates) from `cells` (CONVICTION_CELL_COLUMNS: per area and cell the
    residents 15+ on both dates of an estimation year pair and how many were convicted; module docstring)."""
    events, exposure = np.zeros(shape), np.zeros(shape)
    if cells.height == 0:
        return events, {}
    key = (cells["band"].to_numpy().astype(np.int64), cells["female"].to_numpy().astype(np.int64),
           cells["convicted_before"].to_numpy().astype(np.int64))
    persons = cells["persons"].to_numpy().astype(float)
    convicted = cells["convicted"].to_numpy().astype(float)
    np.add.at(events, key, convicted)
    np.add.at(exposure, key, persons)
    overall = convicted.sum() / persons.sum()
    by_age = (events.sum(axis=(1, 2)) + prior_weight * overall) / (exposure.sum(axis=(1, 2)) + prior_weight)
    by_sex = (events.sum(axis=2) + prior_weight * by_age[:, None]) / (exposure.sum(axis=2) + prior_weight)
    rates = (events + prior_weight * by_sex[:, :, None]) / (exposure + prior_weight)
    names = sorted(cells["area_id"].unique().to_list())
    group = cells["area_id"].replace_strict({a: i for i, a in enumerate(names)}, return_dtype=pl.Int64).to_numpy()
    p = rates[key]
    n = np.bincount(group, weights=persons, minlength=len(names))
    observed = np.bincount(group, weights=convicted, minlength=len(names))
    expected = np.bincount(group, weights=persons * p, minlength=len(names))
    target = (observed + prior_weight * expected / np.maximum(n, 1)) / (n + prior_weight)
    return rates, dict(zip(names, weighted_logit_offsets(p, persons, group, target).tolist()))


def weighted_logit_offsets(p: np.ndarray, weight: np.ndarray, group: np.ndarray, target: np.ndarray,
                           iterations: int = 30) -> np.ndarray:
    """`rates.logit_offsets` for cells of `weight` members each: per group g the offset d_g with
    sum(w sigmoid(logit(p) + d_g)) = target_g sum(w) over its cells (0 for an empty group)."""
    from boligmix.simulate.rates import logit

    eta = logit(p)
    n = np.bincount(group, weights=weight, minlength=target.size)
    goal = np.clip(target, 1e-4, 1 - 1e-4) * n
    delta = np.zeros(target.size)
    for _ in range(iterations):
        q = 1.0 / (1.0 + np.exp(-(eta + delta[group])))
        f = np.bincount(group, weights=weight * q, minlength=target.size) - goal
        d = np.bincount(group, weights=weight * q * (1 - q), minlength=target.size)
        delta -= np.clip(np.where(d > 1e-12, f / np.maximum(d, 1e-12), 0.0), -1.0, 1.0)
    return np.where(n > 0, delta, 0.0)


def conviction_probability(behaviour: Behaviour | None, conviction: np.ndarray, bands: np.ndarray,
                           female: np.ndarray, before: np.ndarray, area_band: np.ndarray, code: np.ndarray,
                           area_names: list[str], age: np.ndarray) -> np.ndarray:
    """Per resident the probability of a conviction this year: in an area (`code` >= 0, an index into
    `area_names`) the areas' rates with the area's offset when estimated, else `conviction`
    [age band, female, convicted last year, area band]."""
    from boligmix.simulate.rates import with_area_effect

    female, before = np.asarray(female).astype(np.int64), np.asarray(before).astype(np.int64)
    p = conviction[bands, female, before, area_band]
    if behaviour is None or behaviour.area_conviction is None:
        return p
    inside = code >= 0
    in_area = with_area_effect(behaviour.area_conviction[bands, female, before],
                               conviction_effect(behaviour.area_conviction_effect, area_names, code, age))
    return np.where(inside, in_area, p)


def estimate_child_danish(cells: pl.DataFrame, prior_weight: float) -> np.ndarray:
    """Per mother's origin the probability that her child is of Danish origin (module docstring);
    `cells`: mother_origin, child_origin of the births of the estimation years."""
    from boligmix.data.schema import ORIGINS

    prior = np.array([1.0 if o == "dansk" else 0.0 for o in ORIGINS])
    events, exposure = np.zeros(len(ORIGINS)), np.zeros(len(ORIGINS))
    if cells.height:
        code = {o: i for i, o in enumerate(ORIGINS)}
        mother = cells["mother_origin"].replace_strict(code, return_dtype=pl.Int64).to_numpy()
        np.add.at(events, mother, (cells["child_origin"] == "dansk").to_numpy().astype(float))
        np.add.at(exposure, mother, 1.0)
    return (events + prior_weight * prior) / (exposure + prior_weight)


def child_origins(behaviour: Behaviour | None, mother_origin: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Per child (the mothers' origin codes, uniforms `u`): the child's origin code; without the
    estimate Danish for a Danish mother, else a descendant."""
    from boligmix.data.schema import ORIGINS

    danish_code, descendant = ORIGINS.index("dansk"), ORIGINS.index("efterkommer")
    mother_origin = np.asarray(mother_origin).astype(np.int64)
    if behaviour is None or behaviour.child_danish is None:
        danish = mother_origin == danish_code
    else:
        danish = np.asarray(u) < behaviour.child_danish[mother_origin]
    return np.where(danish, danish_code, descendant).astype(np.int8)


def conviction_effect(effects: dict[str, float], area_names: list[str], code: np.ndarray,
                      age: np.ndarray) -> np.ndarray:
    """Per resident: the conviction-rate effect of their area (`code`: index into `area_names`, -1
    none) for those 15+ (`age`), 0 for everyone else."""
    by_code = np.array([effects.get(a, 0.0) for a in area_names] + [0.0], dtype=float)
    return np.where(age >= 15, by_code[code], 0.0)


__all__ = ["Behaviour", "CONVICTION_CELL_COLUMNS", "child_origins", "conviction_effect", "conviction_probability",
           "estimate_area_conviction", "estimate_child_danish", "estimate_move_origin", "move_probability",
           "weighted_logit_offsets"]
