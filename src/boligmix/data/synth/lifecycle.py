"""Exits (deaths, emigration) and births of the microsimulation, on random days of a month."""

from __future__ import annotations

import numpy as np

from boligmix.data.synth import demography as dem
from boligmix.data.synth.records import REASON_ABROAD, REASON_DEATH


class Lifecycle:
    """Mixin of `Simulation`: persons leave (death, emigration) and are born."""

    def _exit(self, persons: np.ndarray, day: np.ndarray, reason: int, m: int, year: int,
              loc_p: list, loc_d: list) -> None:
        p = self.p
        self._close_spells(persons, day, reason)
        p.present[persons] = False
        loc_p.append(persons)
        loc_d.append(p.last_dw[persons].astype(np.int64))
        # dwellings of households left without members become vacant next month
        np.subtract.at(self.h.size, p.hh[persons], 1)
        self._free_empty(np.unique(p.hh[persons]), m)

    def _free_empty(self, hhs: np.ndarray, m: int) -> None:
        """Dwellings of households left without members become vacant from the next month."""
        empty = hhs[self.h.size[hhs] <= 0]
        dws = self.h.dw[empty]
        dws = dws[dws >= 0]
        self.dw_hh[dws] = -1
        self.dw_free[dws] = m + 1
        self.h.dw[empty] = -1

    def _random_day(self, m: int, n: int, not_before: np.ndarray, latest: int, offset: int = 0) -> np.ndarray:
        """A random day of month m (+ offset), moved forward to `not_before` and capped at `latest`.

        Exits use offset 1: their day is a `move_out`, the day after the last day in Denmark.
        """
        length = self.month_start[m + 1] - self.month_start[m]
        d = self.month_start[m] + offset + (self.rng.random(n) * length).astype(np.int32)
        return np.minimum(np.maximum(d, not_before), latest).astype(np.int32)

    def _deaths(self, persons: np.ndarray, m: int, year: int, loc_p: list, loc_d: list) -> None:
        persons = persons[self.p.present[persons]]
        if len(persons) == 0:
            return
        day = self._random_day(m, len(persons), self.p.start[persons] + 1, self.month_start[m + 1], 1)
        self._exit(persons, day, REASON_DEATH, m, year, loc_p, loc_d)

    def _emigrate(self, hhs: np.ndarray, m: int, year: int, loc_p: list, loc_d: list) -> None:
        hhs = hhs[self.h.dw[hhs] >= 0]
        if len(hhs) == 0:
            return
        members = self._members(hhs)
        if len(members) == 0:
            return
        latest = np.zeros(self.h.n, np.int32)
        np.maximum.at(latest, self.p.hh[members], self.p.start[members])
        hh_day = self._random_day(m, len(hhs), latest[hhs] + 1, self.month_start[m + 1], 1)
        day_of = np.zeros(self.h.n, np.int32)
        day_of[hhs] = hh_day
        self._exit(members, day_of[self.p.hh[members]], REASON_ABROAD, m, year, loc_p, loc_d)

    def _births(self, mothers: np.ndarray, m: int) -> None:
        p = self.p
        mothers = mothers[p.present[mothers]]
        if len(mothers) == 0:
            return
        rng = self.rng
        n = len(mothers)
        idx = p.append(n)
        day = self._random_day(m, n, p.start[mothers], self.month_start[m + 1] - 1)
        p.birth[idx] = day
        p.sex[idx] = (rng.random(n) < 0.487).astype(np.int8)
        mo = p.origin[mothers]
        third_gen = (mo == dem.EFTERKOMMER) & (rng.random(n) < 0.5)
        p.origin[idx] = np.where((mo == dem.DANSK) | third_gen, dem.DANSK, dem.EFTERKOMMER)
        p.country[idx] = np.where(p.origin[idx] == dem.DANSK, self._dnk(), p.country[mothers])
        p.z[idx] = 0.5 * p.z[mothers] + rng.normal(0, 0.85, n)
        p.hh[idx] = p.hh[mothers]
        np.add.at(self.h.size, p.hh[mothers], 1)
        p.child[idx] = True
        p.present[idx] = True
        p.last_dw[idx] = p.last_dw[mothers]
        p.start[idx] = day
        p.edu[idx] = 0.8 * p.z[idx] + rng.normal(0, 0.6, n)

