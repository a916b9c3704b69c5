"""The initial population of the microsimulation: households in the dwellings of the first year."""

from __future__ import annotations

import numpy as np

from boligmix.data.synth import demography as dem
from boligmix.data.synth.market import NW_WEIGHT_POWER
from boligmix.data.synth.records import day_number


class InitialPopulation:
    """Mixin of `Simulation`: draws the households living in the stock on 1 January of the first year."""

    def initial_population(self) -> None:
        geo, rng = self.geo, self.rng
        y0 = self.first
        day0 = day_number(y0)
        exists = geo.dw_built_year <= y0
        occupy_p = np.where(geo.dw_area >= 0, 0.99, 0.975)
        occ = np.flatnonzero(exists & (rng.random(geo.n_dwellings) < occupy_p))
        n = len(occ)
        tenure = geo.dw_tenure[occ]
        in_area = geo.dw_area[occ] >= 0
        # household size by dwelling type
        size_p = np.where(in_area[:, None], [[0.36, 0.25, 0.14, 0.13, 0.12]],
                          np.array([[0.48, 0.29, 0.10, 0.09, 0.04], [0.55, 0.28, 0.09, 0.06, 0.02],
                                    [0.50, 0.32, 0.09, 0.07, 0.02], [0.22, 0.38, 0.16, 0.17, 0.07],
                                    [0.50, 0.30, 0.10, 0.07, 0.03]])[tenure])
        cum = np.cumsum(size_p, axis=1)
        size = (rng.random(n)[:, None] > cum).sum(axis=1) + 1
        size = np.where(size == 5, 5 + rng.poisson(0.6, n), size)
        # non-Western households by dwelling (area targets; tenure base elsewhere)
        nw_share = self._nw_weight(occ, self._area_nw_target(y0 - 1) if geo.profiles.n else np.zeros(0), y0 - 1)
        nw_share = nw_share ** (1 / NW_WEIGHT_POWER)
        nw_share = nw_share / (1 + nw_share)
        nw = rng.random(n) < nw_share
        western_imm = ~nw & (rng.random(n) < 0.035)
        # socio-economic position: assortative by dwelling desirability within municipality
        z = rng.normal(np.where(nw, -0.6, np.where(western_imm, 0.1, 0.05)), 1.0)
        desir = self._desirability(occ, y0 - 1)
        group = self.dw_muni_idx[occ].astype(np.int64) * 2 + nw
        z_order = np.lexsort((z + rng.normal(0, 0.4, n), group))
        d_order = np.lexsort((desir, group))
        z_assorted = np.empty(n)
        z_assorted[d_order] = z[z_order]
        z = z_assorted
        self._populate(occ, size, nw, western_imm, z, day0)
        self.initial_persons = int(self.p.n)


    def _populate(self, dws: np.ndarray, size: np.ndarray, nw: np.ndarray, western_imm: np.ndarray,
                  z: np.ndarray, day0: int) -> None:
        """Create the 2004 households with members in the given dwellings."""
        rng, p = self.rng, self.p
        n = len(dws)
        tenure = self.geo.dw_tenure[dws]
        young = rng.random(n) < np.where(tenure == dem.PRIVAT, 0.45, 0.25)
        old = ~young & (rng.random(n) < np.where(tenure == dem.EJER, 0.25, 0.22))
        head_age = np.where(young, rng.uniform(19, 34, n), np.where(old, rng.uniform(65, 95, n),
                                                                 rng.uniform(35, 65, n)))
        head_age = np.where(size >= 3, np.clip(head_age, 25, 58), head_age)
        hh = self._new_household(n)
        self.h.dw[hh] = dws
        self.dw_hh[dws] = hh
        total = int(size.sum())
        owner = np.repeat(np.arange(n), size)
        pos = np.arange(total) - np.repeat(np.cumsum(size) - size, size)
        idx = p.append(total)
        has_partner = (size >= 2) & (rng.random(n) < 0.78)
        is_head = pos == 0
        is_partner = (pos == 1) & has_partner[owner]
        is_child = ~is_head & ~is_partner
        h_age = head_age[owner]
        child_age = np.where(h_age > 60, rng.uniform(18, 35, total),
                             rng.uniform(0, np.maximum(np.minimum(h_age - 19, 25), 0.5)))
        age = np.where(is_head, h_age, np.where(is_partner, h_age + rng.normal(-1.5, 3.0, total), child_age))
        age = np.clip(age, 0.01, 102)
        p.birth[idx] = (day0 - age * 365.25).astype(np.int32)
        head_male = rng.random(n) < np.where(size >= 2, 0.62, 0.48)
        male = np.where(is_head, head_male[owner], np.where(is_partner, ~head_male[owner],
                                                           rng.random(total) < 0.51))
        p.sex[idx] = np.where(male, 0, 1)
        p.child[idx] = is_child
        # origin
        nw_p, wimm_p = nw[owner], western_imm[owner]
        stock = self.cw["stock"]
        nw_c = self._draw_country(rng, stock * ~self.western, n)
        w_c = self._draw_country(rng, stock * self.western * (self._dnk_mask() == 0), n)
        country = np.where(nw_p, nw_c[owner], np.where(wimm_p, w_c[owner], self._dnk()))
        arrival_age = rng.uniform(16, 40, n)
        head_arrival = np.minimum(day0 / 365.25 + 1970 - head_age + arrival_age, self.first - 1)
        head_arrival = np.where(nw & (head_age < 40) & (rng.random(n) < 0.25), 0, head_arrival)  # efterkommer head
        birth_year = 1970 + p.birth[idx] / 365.25
        foreign = nw_p | wimm_p
        arrived = head_arrival[owner]
        born_abroad = foreign & (arrived > 0) & (birth_year < arrived)
        origin = np.where(~foreign, dem.DANSK, np.where(born_abroad, dem.INDVANDRER, dem.EFTERKOMMER))
        origin = np.where(foreign & ~is_child & (arrived > 0), dem.INDVANDRER, origin)
        p.origin[idx] = origin
        p.country[idx] = country
        p.arrival[idx] = np.where(origin == dem.INDVANDRER, np.maximum(np.floor(np.maximum(arrived, birth_year)), 1900),
                                  0).astype(np.int16)
        p.z[idx] = np.where(is_child, 0.5 * z[owner] + rng.normal(0, 0.85, total), z[owner] + rng.normal(0, 0.3, total))
        p.hh[idx] = hh[owner]
        p.present[idx] = True
        p.last_dw[idx] = dws[owner]
        p.edu[idx] = 0.8 * p.z[idx] + rng.normal(0, 0.6, total)
        # earlier move-in dates: household moved in some years ago, children born since then
        since = np.minimum(rng.exponential(8.0, n), np.maximum(head_age - 18, 0.1))
        hh_start = (day0 - since * 365.25).astype(np.int32)
        p.start[idx] = np.maximum(hh_start[owner], p.birth[idx])
        self.h.head[hh] = idx[is_head]
        self.h.size[hh] = size

    def _dnk_mask(self) -> np.ndarray:
        return (np.arange(len(self.western)) == self._dnk()).astype(int)

    def _dnk(self) -> int:
        return int(self.cw["dnk_index"])

    @staticmethod
    def _draw_country(rng: np.random.Generator, weights: np.ndarray, n: int) -> np.ndarray:
        w = np.asarray(weights, float)
        return rng.choice(len(w), size=n, p=w / w.sum()).astype(np.int16)
