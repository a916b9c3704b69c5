"""Rates estimated from a dataset's own history, for the years before the simulation starts.

For every pair of consecutive 1 January populations (t, t+1) of the estimation years the
residents, their households and dwellings are compared; each rate is events / persons (or
households) at risk within a segment, shrunk towards its coarser parent segment with
`PRIOR_WEIGHT` pseudo-observations so that thin segments borrow strength. Tables (all written
to the run's `rates-internal/` directory by `Rates.write`):

    death.csv            person: age band x sex                         -> probability in the year
    birth.csv            woman 15-49: age band x non-western            -> births per woman
    emigration.csv       household: head non-western x head age band    -> probability
    leave_home.csv       non-head person 18-29: age band                -> probability of forming a household
    move.csv             household: tenure x head age band x size band x area band -> probability of moving
    destination.csv      moving household: from almen x head non-western x head basic education (`BASIC_LEVELS`)
                         -> probability the new dwelling is almen
    destination_area.csv household moving into almen: head non-western x municipality -> the area of the new
                         dwelling (or none), shrunk towards both groups' shares and those towards the almen stock
                         of each area: where seekers apply (`destination.AreaChoice`)
    outside.csv          person: age band x years mainly outside of the last six x area outside band
                         -> probability of being mainly outside next year (outside: the indicator settings'
                         outside attachments; the area band is the area's share of 18-64s mainly outside)
    area_outside_effect.csv  per area: the offset on the logit scale that makes the outside rates of its
                         residents 18-64 (age on 1 January t+1) sum to the events it had over the estimation
                         years, shrunk with PRIOR_WEIGHT pseudo-observations at the rates without it. The data's
                         areas keep levels beyond their residents' cells and band; without the effect the
                         simulated shares drifted (docs/simulate.md, Backcast)
    status.csv           person: age band x non-western x status_t x outside next -> status_t+1 distribution
    conviction.csv       person 15+: age band x sex x convicted_t-1 x area conviction band -> probability of a
                         conviction (area band: the area's share of persons 18+ convicted last year)
    immigration.csv      immigrant households per year (mean) and persons per household
    immigrant_destination.csv  immigrant households of the estimation years by the municipality they arrived
                         in, whether the dwelling was almen and its area (an immigrant household of the
                         simulation is a clone of one of them and seeks where it arrived)
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path

import numba
import numpy as np
import polars as pl

from boligmix.data.schema import ATTACHMENT_TYPES, TENURES
from boligmix.simulate.behaviour import Behaviour
from boligmix.simulate.destination import AreaChoice
from boligmix.simulate.transitions import Transitions

PRIOR_WEIGHT = 20.0
HISTORY_YEARS = 6
"""Years of labour history whose count of 'mainly outside' years predicts next year's (a proxy for a
person's persistent propensity)."""
STATUSES: tuple[str, ...] = ("none", *ATTACHMENT_TYPES)
DEATH_BANDS = np.arange(0, 100, 5)                     # 0-4 ... 95+
BIRTH_BANDS = np.array([15, 20, 25, 30, 35, 40, 45])    # 15-19 ... 45-49
HEAD_BANDS = np.array([0, 30, 50, 67])                  # <30, 30-49, 50-66, 67+
LEAVE_BANDS = np.array([18, 20, 22, 25])                # 18-19, 20-21, 22-24, 25-29
STATUS_BANDS = np.array([0, 15, 18, 25, 30, 40, 50, 60, 65, 70])
SIZE_BANDS = np.array([1, 2, 3])                        # 1, 2, 3+
OUTSIDE_BANDS = np.array([0.0, 0.15, 0.25, 0.35, 0.45, 0.55, 0.65])  # area share of 18-64 mainly outside (status area band)
AREA_BANDS = np.array([0.0, 0.3, 0.5])
CONVICTION_BANDS = np.array([0.0, 0.01, 0.02, 0.03, 0.045])  # area share of persons 18+ convicted last year                  # share non-western of the area: <30 %, 30-50 %, 50 %+ (band 0: no area)


COMPILED_BANDS_UP_TO = 1 << 16
"""`band` of at most this many values in one compiled pass; more (millions of persons) by numpy's
passes, as quick or quicker there (6 million ages: 46 against 67 ms, `/tmp/mesa16/natbt.py`)."""


def band(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Index of the band each value falls in (values below the first edge: band 0; NaN: the last).
    Up to `COMPILED_BANDS_UP_TO` integer or float values in one compiled pass (`_integer_bands`,
    `_float_bands`: a few calls a year on 10,000 households cost some tens of microseconds each in
    numpy's calls alone). Many integer values (ages) are looked up in a table of their range's bands:
    the same bands, without a binary search per value (a fifth of the national estimation's CPU)."""
    values = np.asarray(values)
    dtype, edges = values.dtype, np.asarray(edges)
    if values.size <= COMPILED_BANDS_UP_TO and edges.size and edges.dtype.kind in "iuf":
        if dtype.kind in "iu" and dtype != np.uint64:
            return _integer_bands(values.ravel(), edges).reshape(values.shape)
        if dtype.kind == "f" and dtype.itemsize >= 4:
            return _float_bands(values.ravel(), edges).reshape(values.shape)
    if dtype.kind in "iu" and values.size > 4096:
        lo, hi = int(values.min()), int(values.max())
        if hi - lo < 1 << 16 and hi < 1 << 62:
            table = _band_search(np.arange(lo, hi + 1, dtype=values.dtype), edges)
            return table[values.astype(np.int64) - lo]
    return _band_search(values, edges)


def _band_search(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """`band` by numpy (the oracle of the compiled passes; other value types)."""
    return np.clip(np.searchsorted(edges, values, side="right") - 1, 0, len(edges) - 1).astype(np.int64)


@numba.njit(cache=True, nogil=True, inline="always")
def _band_of(value, edges: np.ndarray) -> int:
    """The band of one value: the edges <= value, less one, clipped (`searchsorted(side="right")`)."""
    lo, hi = 0, edges.size
    while lo < hi:
        mid = (lo + hi) >> 1
        if edges[mid] <= value:
            lo = mid + 1
        else:
            hi = mid
    return min(max(lo - 1, 0), edges.size - 1)


@numba.njit(cache=True, nogil=True)
def _integer_bands(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    out = np.empty(values.size, dtype=np.int64)
    if values.size == 0:
        return out
    lo, hi = values[0], values[0]
    for v in values:
        lo, hi = min(lo, v), max(hi, v)
    span = float(hi) - float(lo)            # (as floats: no wrap-around at the int64 extremes)
    if span < 65536.0 and span < values.size:
        table = np.empty(int(span) + 1, dtype=np.int64)
        for k in range(table.size):
            table[k] = _band_of(lo + k, edges)
        for i in range(values.size):
            out[i] = table[values[i] - lo]
    else:
        for i in range(values.size):
            out[i] = _band_of(values[i], edges)
    return out


@numba.njit(cache=True, nogil=True)
def _float_bands(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    out = np.empty(values.size, dtype=np.int64)
    for i in range(values.size):
        v = values[i]
        out[i] = edges.size - 1 if np.isnan(v) else _band_of(v, edges)    # NaN sorts after every edge
    return out


def area_bands(share: np.ndarray, has_area: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """0: no area; 1..: the band of an area share."""
    return np.where(has_area, band(np.nan_to_num(np.asarray(share, dtype=float)), edges) + 1, 0)


def outside_band(share: np.ndarray, has_area: np.ndarray) -> np.ndarray:
    """0: no area; 1..5: the area's share of 18-64-year-olds mainly on an outside attachment last year."""
    return np.where(has_area, band(np.nan_to_num(share), OUTSIDE_BANDS) + 1, 0)


def area_band(share: np.ndarray, has_area: np.ndarray) -> np.ndarray:
    """0: no area; 1..3: the area's non-western share below 30 %, 30-50 %, 50 % and more."""
    return np.where(has_area, band(np.nan_to_num(share), AREA_BANDS) + 1, 0)


def _shrunk(events: np.ndarray, exposure: np.ndarray, parent_rate: np.ndarray) -> np.ndarray:
    return (events + PRIOR_WEIGHT * parent_rate) / (exposure + PRIOR_WEIGHT)


@dataclass
class Rates:
    """Estimated rate tables as dense arrays indexed by segment codes (see the module docstring)."""

    years: tuple[int, int]
    death: np.ndarray            # [age band, female]
    birth: np.ndarray            # [age band, nonwestern]
    emigration: np.ndarray       # [nonwestern, head band]
    leave_home: np.ndarray       # [band]
    move: np.ndarray             # [tenure, head band, size band, area band]
    destination_almen: np.ndarray  # [from almen, nonwestern, basic education]
    area_choice: AreaChoice      # households moving into almen: the area they apply in (destination.py)
    outside: np.ndarray          # [age band, outside years of the last HISTORY_YEARS, area outside band]
    status: np.ndarray           # [age band, nonwestern, status_t, outside next, status_t+1] cumulative
    outside_statuses: np.ndarray  # bool per status: an outside attachment
    conviction: np.ndarray       # [age band, female, convicted before, area conviction band]
    immigrant_households: float
    immigrant_pool: pl.DataFrame  # members of recent immigrant households: household, age at arrival, sex, origin,
    #                               country; the household's arrival municipality, almen dwelling, area; the
    #                               member's FTE on an outside attachment in the arrival year
    transitions: Transitions | None = None   # education, moves between municipalities (transitions.py)
    area_outside_effect: dict[str, float] = dataclasses.field(default_factory=dict)
    # per area: logit offset of the outside rate of its residents 18-64 beyond their cells (module docstring)
    behaviour: Behaviour | None = None       # move hazard by origin, area conviction levels (behaviour.py)

    def write(self, out_dir: str | os.PathLike[str]) -> None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)

        def frame(array: np.ndarray, names: list[str], value: str) -> pl.DataFrame:
            grid = np.indices(array.shape).reshape(len(array.shape), -1)
            return pl.DataFrame({**{n: grid[i] for i, n in enumerate(names)}, value: array.reshape(-1)})

        frame(self.death, ["age_band_from", "female"], "probability").with_columns(
            pl.col("age_band_from").map_elements(lambda i: int(DEATH_BANDS[i]), return_dtype=pl.Int64)
        ).write_csv(out / "death.csv")
        frame(self.birth, ["age_band", "nonwestern"], "births_per_woman").with_columns(
            pl.col("age_band").map_elements(lambda i: int(BIRTH_BANDS[i]), return_dtype=pl.Int64)
        ).write_csv(out / "birth.csv")
        frame(self.emigration, ["nonwestern", "head_age_band"], "probability").write_csv(out / "emigration.csv")
        frame(self.leave_home, ["age_band"], "probability").write_csv(out / "leave_home.csv")
        frame(self.move, ["tenure", "head_age_band", "size_band", "area_band"], "probability").with_columns(
            pl.col("tenure").map_elements(lambda i: TENURES[i], return_dtype=pl.String)
        ).write_csv(out / "move.csv")
        self.area_choice.frame().write_csv(out / "destination_area.csv")
        frame(self.destination_almen, ["from_almen", "nonwestern", "basic"], "probability_almen").write_csv(
            out / "destination.csv")
        probs = np.diff(self.status, axis=-1, prepend=0.0)
        frame(self.outside, ["age_band", "outside_years_before", "area_outside_band"], "probability").write_csv(
            out / "outside.csv")
        frame(probs, ["age_band", "nonwestern", "status_from", "outside_next", "status_to"], "probability").with_columns(
            pl.col("status_from").map_elements(lambda i: STATUSES[i], return_dtype=pl.String),
            pl.col("status_to").map_elements(lambda i: STATUSES[i], return_dtype=pl.String),
        ).filter(pl.col("probability") > 0).write_csv(out / "status.csv")
        frame(self.conviction, ["age_band", "female", "convicted_before", "area_band"], "probability").write_csv(
            out / "conviction.csv")
        pl.DataFrame({"estimation_first_year": [self.years[0]], "estimation_last_year": [self.years[1]],
                      "immigrant_households_per_year": [self.immigrant_households],
                      "persons_per_immigrant_household": [self.immigrant_pool.height / max(
                          1, self.immigrant_pool["household"].n_unique())]}).write_csv(out / "immigration.csv")
        if self.immigrant_pool.height:
            first = self.immigrant_pool.group_by("household", maintain_order=True).first()
            (first.group_by("municipality", "almen", "area_id").len().sort("municipality", "almen", "area_id")
             .with_columns((pl.col("len") / pl.col("len").sum()).alias("share")).rename({"len": "households"})
             .write_csv(out / "immigrant_destination.csv"))
        if self.transitions is not None:
            self.transitions.write(out)
        if self.area_outside_effect:
            pl.DataFrame({"area_id": list(self.area_outside_effect),
                          "logit_offset": list(self.area_outside_effect.values())}).sort("area_id").write_csv(
                out / "area_outside_effect.csv")
        if self.behaviour is not None:
            self.behaviour.write(out)


def statuses(labour: pl.DataFrame) -> pl.DataFrame:
    """person_id, year, status (index into STATUSES): the attachment with the largest FTE."""
    code = {a: i for i, a in enumerate(STATUSES)}
    return (labour.sort(["person_id", "year", "fte", "attachment"], descending=[False, False, True, False])
            .group_by(["person_id", "year"], maintain_order=True).first()
            .select("person_id", "year", pl.col("attachment").replace_strict(code, return_dtype=pl.Int64)
                    .alias("status")))


def outside_history(history: list[np.ndarray], outside: np.ndarray) -> np.ndarray:
    """In how many of the years before (statuses given per year) the main status was an outside one."""
    return sum(outside[s].astype(np.int64) for s in history)


def logit_offsets(p: np.ndarray, group: np.ndarray, target: np.ndarray, iterations: int = 30) -> np.ndarray:
    """Per group g (0..len(target)-1) the offset d_g with mean(sigmoid(logit(p) + d_g)) = target_g over
    its members (Newton steps of at most 1 on the logit scale; 0 for an empty group)."""
    eta = logit(p)
    n = np.bincount(group, minlength=target.size).astype(float)
    goal = np.clip(target, 1e-4, 1 - 1e-4) * n
    delta = np.zeros(target.size)
    for _ in range(iterations):
        q = 1.0 / (1.0 + np.exp(-(eta + delta[group])))
        f = np.bincount(group, weights=q, minlength=target.size) - goal
        d = np.bincount(group, weights=q * (1 - q), minlength=target.size)
        delta -= np.clip(np.where(d > 1e-12, f / np.maximum(d, 1e-12), 0.0), -1.0, 1.0)
    return np.where(n > 0, delta, 0.0)


def logit(p: np.ndarray) -> np.ndarray:
    q = np.clip(np.asarray(p, dtype=float), 1e-9, 1 - 1e-9)
    return np.log(q / (1 - q))


def with_area_effect(p: np.ndarray, effect: np.ndarray) -> np.ndarray:
    """Probabilities `p` shifted by `effect` on the logit scale (0: unchanged)."""
    return np.where(effect == 0.0, p, 1.0 / (1.0 + np.exp(-(logit(p) + effect))))


def area_outside_effects(cells: pl.DataFrame, outside_p: np.ndarray) -> dict[str, float]:
    """Per area (cells: area_id, band, hist, ab, out for residents 18-64): the logit offset that makes
    the rates sum to its events, shrunk with PRIOR_WEIGHT pseudo-observations at the rates' mean."""
    if cells.height == 0:
        return {}
    names = sorted(cells["area_id"].unique().to_list())
    group = cells["area_id"].replace_strict({a: i for i, a in enumerate(names)}, return_dtype=pl.Int64).to_numpy()
    p = outside_p[cells["band"].to_numpy(), cells["hist"].to_numpy(), cells["ab"].to_numpy()]
    n = np.bincount(group, minlength=len(names)).astype(float)
    events = np.bincount(group, weights=cells["out"].to_numpy().astype(float), minlength=len(names))
    expected = np.bincount(group, weights=p, minlength=len(names))
    target = (events + PRIOR_WEIGHT * expected / np.maximum(n, 1)) / (n + PRIOR_WEIGHT)
    return dict(zip(names, logit_offsets(p, group, target).tolist()))


def nearest_seen_bands(rates: np.ndarray, exposure: np.ndarray) -> np.ndarray:
    """`rates` (last axis: area outside band, 0 no area) with every area band that had no exposure in
    the estimation years taking the rates of the nearest band that had (the higher one on a tie): an
    area whose share moved past the bands the data saw is not extrapolated to."""
    seen = np.flatnonzero(exposure[1:] > 0) + 1
    if seen.size == 0:
        return rates
    out = rates.copy()
    for b in range(1, rates.shape[-1]):
        if exposure[b] <= 0:
            out[..., b] = rates[..., seen[np.argmin(np.abs(seen - b) - 0.1 * (seen > b))]]
    return out


def __getattr__(name: str):
    """`estimate_rates` lives in `boligmix.simulate.estimation` (imported on first use: it imports this module)."""
    if name == "estimate_rates":
        from boligmix.simulate.estimation import estimate_rates

        return estimate_rates
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Rates", "STATUSES", "area_band", "area_outside_effects", "logit_offsets", "nearest_seen_bands", "with_area_effect", "band", "area_bands", "outside_band", "outside_history", "statuses"]
