"""The housing market of the microsimulation: immigration, destination choice, matching and moves.

Each month households that decided to move, young adults leaving home and arriving immigrants are
matched to dwellings that are vacant (`matching.match`, cells of municipality x tenure; moving
households first, `MARKET_RANK`); the dwelling a household leaves becomes vacant from the next
month, so a dwelling never holds two households at once.
"""

from __future__ import annotations

import numpy as np

from boligmix.data.synth import demography as dem
from boligmix.data.synth.geography import ALMEN
from boligmix.data.synth.matching import match
from boligmix.data.synth.records import NO_REASON

NW_WEIGHT_POWER = 2.5
"""Sharpness of the preference of vacant area dwellings for non-Western movers (odds power)."""
IMMIGRANT_RETRY = 0.9
"""Probability that an immigrant household without a dwelling this month tries again next month."""
MARKET_RANK = {"movers": 0, "refugees": 0, "leavers": 1, "immigrants": 2}
"""Who is served first where a cell has fewer vacant dwellings than seekers (lower first): households
that already have a dwelling (their move frees one, so vacancy chains run on; in almene boliger the
internal oprykningsventeliste comes before the external list) and refugees (the municipality must
house them: boligplacering, kommunal anvisning), then young adults leaving home, then other
immigrants. Without it, leavers and immigrants, who free no dwelling, took most vacancies and
only 4.6 % of residents moved a year (target about 12 %)."""
MATCH_KEY_SD = 0.2
"""Noise (sd) on the socio-economic position by which movers are paired with dwellings of rising
desirability (0.5 before movers were served first): keeps in-movers to deprived areas poorer."""


class HousingMarket:
    """Mixin of `Simulation`: who moves where, month by month."""

    def _dest_municipality(self, origin_muni: np.ndarray, p_same: float) -> np.ndarray:
        """Same municipality with probability p_same, else another one (by size, own region x3)."""
        n = len(origin_muni)
        n_muni = len(self.muni_codes)
        if n_muni == 1 or n == 0:
            return origin_muni.copy()
        u = self.rng.random(n)
        other = np.searchsorted(self._flat_cdf, origin_muni + u * (1 - 1e-12), side="right") - origin_muni * n_muni
        other = np.clip(other, 0, n_muni - 1)
        stay = self.rng.random(n) < p_same
        return np.where(stay, origin_muni, other).astype(np.int32)

    def _nw_weight(self, dws: np.ndarray, nw_current: np.ndarray, year: int) -> np.ndarray:
        """Weight for drawing a vacant dwelling for a non-Western household."""
        base_share = np.array([0.06, 0.05, 0.02, 0.012, 0.035])[self.geo.dw_tenure[dws]]
        area = self.geo.dw_area[dws]
        share = base_share.copy()
        in_area = area >= 0
        if in_area.any():
            target = self._area_nw_target(year)[area[in_area]]
            current = nw_current[area[in_area]]
            share[in_area] = np.clip(target + 3.0 * (target - current), 0.01, 0.97)
        return (share / (1.0 - share)) ** NW_WEIGHT_POWER

    def _desirability(self, dws: np.ndarray, year: int) -> np.ndarray:
        q = self.geo.dw_quality[dws].copy()
        area = self.geo.dw_area[dws]
        if (area >= 0).any():
            q[area >= 0] = -self._area_deprivation(year)[area[area >= 0]]
        return q + self.rng.normal(0, 0.25, len(dws))

    # ----------------------------------------------------------------- immigration
    def _immigrant_households(self, year: int) -> dict[str, np.ndarray]:
        rng = self.rng
        persons = dem.IMMIGRANT_PERSONS.get(year, 80_000) * self._population_scale()
        n = rng.poisson(persons / 1.55)
        danish = rng.random(n) < dem.DANISH_RETURN_SHARE
        weights = self.cw["w2004"] if year < 2014 else (self.cw["w2015"] if year < 2020 else self.cw["w2022"])
        if year >= 2022:
            weights = weights.copy()
        elif year >= 2020:
            weights = self.cw["w2015"]
        country = self._draw_country(rng, weights, n)
        western = self.western[country]
        refugee = ~western & (rng.random(n) < 0.55)
        size = np.where(refugee, 1 + rng.poisson(1.6, n), 1 + rng.poisson(0.45, n))
        size = np.minimum(size, 9)
        z = rng.normal(np.where(danish, 0.4, np.where(western, 0.25, np.where(refugee, -0.9, -0.2))), 1.0)
        return {"n": n, "danish": danish, "country": country, "western": western, "refugee": refugee,
                "size": size, "z": z, "month": rng.integers(0, 12, n), "head_age": rng.uniform(20, 45, n)}

    def _population_scale(self) -> float:
        """Simulated persons per real person (initial population over Denmark's 5.40 million in 2004)."""
        return self.initial_persons / 5_400_000.0

    @staticmethod
    def _imm_take(imm: dict, month: int, pending: dict | None) -> dict:
        sel = imm["month"] == month
        part = {k: (v[sel] if isinstance(v, np.ndarray) else None) for k, v in imm.items() if k != "n"}
        if pending is not None:
            part = {k: np.concatenate([pending[k], part[k]]) for k in part}
        return part

    # ----------------------------------------------------------------- the housing market
    def _market(self, year: int, m: int, movers: np.ndarray, leavers: np.ndarray, imm: dict):
        rng, p, h, geo = self.rng, self.p, self.h, self.geo
        movers = movers[h.dw[movers] >= 0]
        leavers = leavers[p.present[leavers] & p.child[leavers]]
        leavers = leavers[~np.isin(p.hh[leavers], movers)]
        n_mv, n_lv, n_im = len(movers), len(leavers), len(imm["z"])
        mv_head = h.head[movers]
        mv_dw = h.dw[movers]
        lv_dw = p.last_dw[leavers]
        dest_muni = np.concatenate([
            self._dest_municipality(self.dw_muni_idx[mv_dw], 0.72),
            self._dest_municipality(self.dw_muni_idx[lv_dw], 0.62),
            self._immigrant_municipality(n_im),
        ])
        z = np.concatenate([p.z[mv_head], p.z[leavers], imm["z"]]).astype(float)
        base = np.concatenate([
            dem.TENURE_CHOICE[geo.dw_tenure[mv_dw]],
            np.broadcast_to(dem.LEAVER_TENURE, (n_lv, 5)),
            np.where(imm["refugee"][:, None], dem.REFUGEE_TENURE[None, :], dem.IMMIGRANT_TENURE[None, :]),
        ])
        nw_of = lambda idx: (~self.western[p.country[idx]]) & (p.origin[idx] != dem.DANSK)
        mover_nw = np.concatenate([nw_of(mv_head), nw_of(leavers), ~imm["western"] & ~imm["danish"]])
        tenure = dem.choose_tenure(rng, base, z, mover_nw)
        cell = dest_muni.astype(np.int64) * 5 + tenure
        avail = np.flatnonzero((self.dw_hh < 0) & (self.dw_free <= m) & (geo.dw_built_year <= year))
        nw_cur = self.area_nw_history.get(year, np.zeros(geo.profiles.n))
        rank = np.concatenate([np.full(n_mv, MARKET_RANK["movers"]), np.full(n_lv, MARKET_RANK["leavers"]),
                               np.where(imm["refugee"], MARKET_RANK["refugees"], MARKET_RANK["immigrants"])])
        mi, di = match(cell, z + rng.normal(0, MATCH_KEY_SD, len(z)), mover_nw, self.dw_cell[avail],
                       self._desirability(avail, year), self._nw_weight(avail, nw_cur, year), rng, rank)
        dws = avail[di]
        day = self.month_start[m] + (rng.random(len(mi)) * (self.month_start[m + 1] - self.month_start[m])).astype(np.int32)
        matched = np.zeros(len(z), bool)
        matched[mi] = True
        # movers
        sel = mi < n_mv
        self._move_households(movers[mi[sel]], dws[sel], day[sel], m)
        # leavers
        sel = (mi >= n_mv) & (mi < n_mv + n_lv)
        self._move_leavers(leavers[mi[sel] - n_mv], dws[sel], day[sel], m)
        # immigrants
        sel = mi >= n_mv + n_lv
        self._arrive(imm, mi[sel] - n_mv - n_lv, dws[sel], day[sel], year)
        # the unmatched try again next month with some probability
        retry = np.concatenate([np.full(n_mv + n_lv, 0.6), np.full(n_im, IMMIGRANT_RETRY)])
        keep = ~matched & (rng.random(len(z)) < retry)
        imm_keep = keep[n_mv + n_lv:]
        pending_imm = {k: v[imm_keep] for k, v in imm.items()}
        return movers[keep[:n_mv]], leavers[keep[n_mv:n_mv + n_lv]], pending_imm

    def _immigrant_municipality(self, n: int) -> np.ndarray:
        w = self.muni_weight ** 1.15
        return self.rng.choice(len(w), size=n, p=w / w.sum()).astype(np.int32)

    def _members(self, hh_set: np.ndarray) -> np.ndarray:
        """Present members of the given households (year-start index + this year's newcomers)."""
        hh_set = np.unique(hh_set)
        lo = np.searchsorted(self._csr_hh, hh_set, side="left")
        hi = np.searchsorted(self._csr_hh, hh_set, side="right")
        counts = hi - lo
        pos = np.repeat(lo - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())
        flag = np.zeros(self.h.n, bool)
        flag[hh_set] = True
        present, hh = self.p.present, self.p.hh
        # filter each candidate list first, then deduplicate only the (few) members found
        parts = [self._csr_members[pos], np.arange(self._csr_first_new, self.p.n)] + self._moved_this_year
        found = [part[present[part] & flag[hh[part]]] for part in parts]
        return np.unique(np.concatenate(found)) if len(parts) > 2 else np.concatenate(found)

    def _move_households(self, hhs: np.ndarray, dws: np.ndarray, day: np.ndarray, m: int) -> None:
        if len(hhs) == 0:
            return
        p, h, geo = self.p, self.h, self.geo
        old = h.dw[hhs]
        members = self._members(hhs)
        pos = np.searchsorted(np.sort(hhs), p.hh[members])
        order = np.argsort(hhs)
        hh_day = day[order][pos]
        hh_new = dws[order][pos]
        self._close_spells(members, hh_day, NO_REASON)
        # statistics for calibration
        self.stats["moves"] += len(hhs)
        from_almen = geo.dw_tenure[old] == ALMEN
        self.stats["moves_from_almen"] += int(from_almen.sum())
        other_dept = (geo.dw_tenure[dws] == ALMEN) & (geo.dw_dept[dws] != geo.dw_dept[old])
        self.stats["almen_to_other_almen"] += int((from_almen & other_dept).sum())
        self.stats["moves_to_other_municipality"] += int((geo.dw_muni[old] != geo.dw_muni[dws]).sum())
        self.dw_hh[old] = -1
        self.dw_free[old] = m + 1
        self.dw_hh[dws] = hhs
        h.dw[hhs] = dws
        p.last_dw[members] = hh_new
        self._open_spells(members, hh_day)

    def _move_leavers(self, persons: np.ndarray, dws: np.ndarray, day: np.ndarray, m: int) -> None:
        if len(persons) == 0:
            return
        p, h = self.p, self.h
        self._close_spells(persons, day, NO_REASON)
        self._old_hh_of_leavers = p.hh[persons].copy()
        hh = self._new_household(len(persons))
        h.dw[hh] = dws
        h.head[hh] = persons
        self.dw_hh[dws] = hh
        p.hh[persons] = hh
        self.h.size[hh] = 1
        np.subtract.at(self.h.size, self._old_hh_of_leavers, 1)
        self._free_empty(np.unique(self._old_hh_of_leavers), m)
        self._moved_this_year.append(persons)
        p.child[persons] = False
        p.last_dw[persons] = dws
        self._open_spells(persons, day)

    def _arrive(self, imm: dict, sel: np.ndarray, dws: np.ndarray, day: np.ndarray, year: int) -> None:
        if len(sel) == 0:
            return
        rng, p, h = self.rng, self.p, self.h
        size = imm["size"][sel]
        n = len(sel)
        hh = self._new_household(n)
        h.dw[hh] = dws
        self.dw_hh[dws] = hh
        total = int(size.sum())
        owner = np.repeat(np.arange(n), size)
        pos = np.arange(total) - np.repeat(np.cumsum(size) - size, size)
        idx = p.append(total)
        head_age = imm["head_age"][sel][owner]
        partner = (pos == 1) & (size[owner] >= 2) & (rng.random(total) < 0.8)
        child = (pos >= 1) & ~partner
        age = np.where(pos == 0, head_age, np.where(partner, head_age + rng.normal(-1.5, 3, total),
                                                    rng.uniform(0, np.maximum(np.minimum(head_age - 19, 17), 0.5))))
        age = np.clip(age, 0.01, 90)
        arrival_day = day[owner]
        p.birth[idx] = (arrival_day - age * 365.25).astype(np.int32)
        male_head = rng.random(n) < 0.55
        p.sex[idx] = np.where(pos == 0, ~male_head[owner], np.where(partner, male_head[owner],
                                                                   rng.random(total) < 0.49)).astype(np.int8)
        danish = imm["danish"][sel][owner]
        p.origin[idx] = np.where(danish, dem.DANSK, dem.INDVANDRER)
        p.country[idx] = np.where(danish, self._dnk(), imm["country"][sel][owner])
        p.arrival[idx] = np.where(danish, 0, year)
        z_h = imm["z"][sel][owner]
        p.z[idx] = np.where(child, 0.5 * z_h + rng.normal(0, 0.85, total), z_h + rng.normal(0, 0.3, total))
        p.hh[idx] = hh[owner]
        p.child[idx] = child
        p.present[idx] = True
        p.last_dw[idx] = dws[owner]
        p.start[idx] = arrival_day
        p.edu[idx] = 0.8 * p.z[idx] + rng.normal(0, 0.6, total)
        h.head[hh] = idx[pos == 0]
        h.size[hh] = size

