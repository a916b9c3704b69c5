"""Per-area levels of the year's register outcomes: each resident's area code, the areas' shares of
residents mainly outside work and education or convicted, their bands, and the outside rate with
the area's effect."""

from __future__ import annotations

import numpy as np
import polars as pl

from boligmix.simulate.lookup import is_in
from boligmix.simulate.population import Population, day
from boligmix.simulate.rates import Rates, outside_band, with_area_effect


def area_code(pop: Population) -> np.ndarray:
    """Per resident: the index of their dwelling's area among the sorted area ids (-1: none)."""
    codes, _ = pop.dwellings.area_codes()
    return codes[pop.dwellings.position(pop.dwelling)]


def _area_means(pop: Population, code: np.ndarray, members: np.ndarray, flag: np.ndarray) -> dict[str, float]:
    """Per area with members: the share of its `members` (residents, by area `code`) with `flag`."""
    _, names = pop.dwellings.area_codes()
    n = np.bincount(code[members], minlength=len(names))
    k = np.bincount(code[members], weights=flag[members], minlength=len(names))
    return {a: float(k[i]) / float(n[i]) for i, a in enumerate(names) if n[i]}


def area_outside_shares(pop: Population, on_year: int, outside: np.ndarray, status: np.ndarray,
                        code: np.ndarray | None = None) -> dict[str, float]:
    """Per area: the share of its residents 18-64 whose main status is an outside one (`code`: the
    residents' `area_code` when already known)."""
    age = pop.age_on(day(on_year))
    code = area_code(pop) if code is None else code
    return _area_means(pop, code, (code >= 0) & (age >= 18) & (age <= 64), outside[status])


def area_conviction_shares(pop: Population, on_year: int, convictions: pl.DataFrame | None,
                           code: np.ndarray | None = None) -> dict[str, float]:
    """Per area: the share of its residents 18+ convicted in the year before `on_year`."""
    convicted = np.zeros(pop.size, dtype=bool) if convictions is None else is_in(
        convictions["person_id"].to_numpy(), pop.pid)
    age = pop.age_on(day(on_year))
    code = area_code(pop) if code is None else code
    return _area_means(pop, code, (code >= 0) & (age >= 18), convicted)


def _per_area(pop: Population, values: dict[str, float], code: np.ndarray | None = None
              ) -> tuple[np.ndarray, np.ndarray]:
    """(per resident: the value of their area (0 where none or not given), has an area); `code`:
    the residents' `area_code` when already known."""
    _, names = pop.dwellings.area_codes()
    by_code = np.array([values.get(a, 0.0) for a in names] + [0.0], dtype=float)   # code -1: the trailing 0
    code = area_code(pop) if code is None else code
    return by_code[code], code >= 0


def area_outside_bands(pop: Population, on_year: int, outside: np.ndarray, status: np.ndarray,
                       shares: dict[str, float] | None = None, code: np.ndarray | None = None) -> np.ndarray:
    """Per resident: the outside band of the area they live in (share of 18-64s mainly outside;
    `shares` given: those per area)."""
    if shares is None:
        shares = area_outside_shares(pop, on_year, outside, status)
    code = area_code(pop) if code is None else code
    return per_area_table(pop, shares, lambda value, has: outside_band(value, has))[code]


def per_area_table(pop: Population, values: dict[str, float], per_value) -> np.ndarray:
    """`per_value(value, has_area)` (elementwise) per area code, the code -1 (no area: value 0, no
    area) last: indexed by the residents' `area_code` it equals `per_value(*_per_area(...))`
    computed per resident, at one gather per resident."""
    _, names = pop.dwellings.area_codes()
    by_code = np.array([values.get(a, 0.0) for a in names] + [0.0], dtype=float)
    return per_value(by_code, np.arange(len(names) + 1) < len(names))


def area_outside_effect(pop: Population, age: np.ndarray, effects: dict[str, float],
                        code: np.ndarray | None = None) -> np.ndarray:
    """Per resident: the outside-rate effect of their area (`Rates.area_outside_effect`) for those 18-64
    (`age`), 0 for everyone else."""
    effect, _ = _per_area(pop, effects, code)
    return np.where((age >= 18) & (age <= 64), effect, 0.0)


def outside_probability(pop: Population, rates: Rates, bands: np.ndarray, hist: np.ndarray, ab: np.ndarray,
                        age: np.ndarray, code: np.ndarray) -> np.ndarray:
    """Per resident: the outside rate of their cell (`rates.outside[bands, hist, ab]`) with their
    area's effect (`with_area_effect`, `area_outside_effect`: 18-64-year-olds in an area). The
    probability is a function of (cell, area, 18-64) only: it is computed once per cell and area
    code (the same elementwise operations on the same values) and gathered per resident, instead
    of a logit and an exponential per resident; with more (cell, area) pairs than residents, per
    resident."""
    if not rates.area_outside_effect:
        return rates.outside[bands, hist, ab]
    n_areas = len(pop.dwellings.area_codes()[1])
    if rates.outside.size * (n_areas + 1) > max(pop.size, 1):
        return with_area_effect(rates.outside[bands, hist, ab],
                                area_outside_effect(pop, age, rates.area_outside_effect, code))
    cell = np.ravel_multi_index((bands, hist, ab), rates.outside.shape)
    effect = per_area_table(pop, rates.area_outside_effect, lambda value, has: value)      # code -1 last: 0
    table = with_area_effect(np.repeat(rates.outside.reshape(-1), effect.size), np.tile(effect, rates.outside.size))
    column = np.where((age >= 18) & (age <= 64) & (code >= 0), code, n_areas).astype(np.int64, copy=False)
    column += cell * (n_areas + 1)                                  # not 18-64, or no area: the effect 0
    return table[column]


__all__ = ["area_code", "area_conviction_shares", "area_outside_bands", "area_outside_effect", "area_outside_shares",
           "outside_probability", "per_area_table"]
