"""The residential microsimulation: an initial population in 2004 and monthly steps to the last year.

Each month: households that decided to move, young adults leaving home and arriving immigrants
are matched to dwellings that were vacant at the start of the month (so a dwelling never holds two
households at once); then deaths, emigration and births happen. Annual decisions (who dies,
moves, emigrates, gives birth, in which month) are drawn once a year for everybody at risk.
Everything is vectorised over persons and households; the only loops are over years and months.

Output: residence spells, persons, and for every person and year the dwelling they lived in at
the end of the year (or when they left), which drives the yearly outcomes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from boligmix.data.synth import demography as dem
from boligmix.data.synth.geography import ALMEN, Geography
from boligmix.data.synth.matching import match
from boligmix.data.synth.scales import Scale

EPOCH = date(1970, 1, 1)
NO_REASON, REASON_ABROAD, REASON_DEATH = -1, 0, 1
NW_WEIGHT_POWER = 2.5
IMMIGRANT_RETRY = 0.9
"""Probability that an immigrant household without a dwelling this month tries again next month."""
"""Sharpness of the preference of vacant area dwellings for non-Western movers (odds power)."""


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


class Simulation:
    """Runs the residential microsimulation for one geography and year range."""

    def __init__(self, geo: Geography, scale: Scale, years: tuple[int, int], countries_western: np.ndarray,
                 country_weights: dict[str, np.ndarray], rng: np.random.Generator,
                 on_progress: Callable[[str, float], None] | None = None,
                 on_year_end: Callable[[int, np.ndarray, np.ndarray], None] | None = None) -> None:
        self.geo, self.scale, self.rng = geo, scale, rng
        self.on_year_end = on_year_end
        self.first, self.last = years
        self.western = countries_western
        self.cw = country_weights
        self.on_progress = on_progress
        est = int(sum(m.population for m in geo.municipalities) * scale.population_factor * 1.6
                  + geo.area_size.sum() * 1.6) + 1000
        self.p = Grow({
            "birth": (np.int32, 0), "sex": (np.int8, 0), "origin": (np.int8, 0), "country": (np.int16, 0),
            "z": (np.float32, 0.0), "hh": (np.int32, -1), "present": (np.bool_, False),
            "start": (np.int32, 0), "child": (np.bool_, False), "arrival": (np.int16, 0),
            "last_dw": (np.int32, -1), "edu": (np.float32, 0.0),
        }, est)
        self.h = Grow({"dw": (np.int32, -1), "head": (np.int32, -1), "size": (np.int32, 0)}, est // 2)
        self.dw_hh = np.full(geo.n_dwellings, -1, np.int32)
        self.dw_free = np.zeros(geo.n_dwellings, np.int32)
        self.log = SpellLog()
        self.locations: dict[int, tuple[list, list]] = {}
        self.muni_codes = np.array(sorted({m.code for m in geo.municipalities}))
        self.dw_muni_idx = np.searchsorted(self.muni_codes, geo.dw_muni).astype(np.int32)
        self.dw_cell = (self.dw_muni_idx * 5 + geo.dw_tenure).astype(np.int64)
        pops = np.array([next(m.population for m in geo.municipalities if m.code == c) for c in self.muni_codes],
                        float)
        regions = geo.region_of(self.muni_codes)
        self.muni_weight = pops / pops.sum()
        self.same_region = regions[:, None] == regions[None, :]
        self.area_nw_history: dict[int, np.ndarray] = {}
        w = self.muni_weight[None, :] * np.where(self.same_region, 3.0, 1.0)
        np.fill_diagonal(w, 0.0)
        cdf = np.cumsum(w / np.maximum(w.sum(axis=1, keepdims=True), 1e-12), axis=1)
        cdf[:, -1] = 1.0
        self._flat_cdf = (cdf + np.arange(len(cdf))[:, None]).ravel()
        self.stats: dict[str, float] = {"moves": 0, "moves_from_almen": 0, "almen_to_other_almen": 0,
                                        "moves_to_other_municipality": 0}
        ys = np.arange(self.first, self.last + 1)
        self.month_start = np.array([day_number(int(y), m) for y in ys for m in range(1, 13)]
                                    + [day_number(self.last + 1, 1, 1)], np.int32)

    # ----------------------------------------------------------------- helpers
    def _progress(self, step: str, fraction: float) -> None:
        if self.on_progress is not None:
            self.on_progress(step, fraction)

    def _age(self, idx: np.ndarray, day: int) -> np.ndarray:
        return (day - self.p.birth[idx]) / 365.25

    def _new_household(self, count: int) -> np.ndarray:
        return self.h.append(count)

    def _open_spells(self, persons: np.ndarray, day: np.ndarray | int) -> None:
        self.p.start[persons] = day

    def _close_spells(self, persons: np.ndarray, day: np.ndarray | int, reason: int) -> None:
        p = self.p
        self.log.add(persons, p.hh[persons], p.last_dw[persons], p.start[persons], day, reason)

    def _area_deprivation(self, year: int) -> np.ndarray:
        # register year t realises the profile of list year t + 1 (lists read the two prior years)
        return self.geo.profiles.deprivation(year + 1)

    def _area_nw_target(self, year: int) -> np.ndarray:
        return self.geo.profiles.values(year + 1)["nonwestern"]

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

    # ----------------------------------------------------------------- initial population
    def initial_population(self) -> None:
        geo, rng, p = self.geo, self.rng, self.p
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

    def _desirability(self, dws: np.ndarray, year: int) -> np.ndarray:
        q = self.geo.dw_quality[dws].copy()
        area = self.geo.dw_area[dws]
        if (area >= 0).any():
            q[area >= 0] = -self._area_deprivation(year)[area[area >= 0]]
        return q + self.rng.normal(0, 0.25, len(dws))

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

    # ----------------------------------------------------------------- yearly step
    def run(self) -> SimulationResult:
        self._progress("initial population", 0.0)
        self.initial_population()
        n_years = self.last - self.first + 1
        for yi, year in enumerate(range(self.first, self.last + 1)):
            self._progress(f"simulating {year}", yi / n_years)
            self._year(year)
        return self._result()

    def _year(self, year: int) -> None:
        rng, p, h = self.rng, self.p, self.h
        y_start = day_number(year)
        alive = np.flatnonzero(p.present[: p.n])
        # socio-economic position drifts (AR(1), keeps variance 1)
        p.z[alive] = 0.92 * p.z[alive] + np.float32(np.sqrt(1 - 0.92**2)) * rng.standard_normal(len(alive)).astype(np.float32)
        self._recompute_heads(alive, y_start)
        self._record_area_nw(alive, year)
        age = self._age(alive, y_start)
        female = p.sex[alive] == 1
        # --- annual decisions with a month --------------------------------------------------
        die = rng.random(len(alive)) < dem.mortality(age, female, year)
        death_month = rng.integers(0, 12, len(alive))
        nw_imm = (~self.western[p.country[alive]]) & (p.origin[alive] == dem.INDVANDRER)
        birth = female & (age >= 15) & (age < 50) & (rng.random(len(alive)) < dem.fertility(age, nw_imm))
        birth_month = rng.integers(0, 12, len(alive))
        leave = p.child[alive] & (rng.random(len(alive)) < dem.leave_home_rate(age))
        leave_month = rng.integers(0, 12, len(alive))
        p.child[alive[age >= 31]] = False
        hhs = np.flatnonzero(h.dw[: h.n] >= 0)
        head = h.head[hhs]
        head_age = self._age(head, y_start)
        dw = h.dw[hhs]
        dep = np.zeros(len(hhs))
        area = self.geo.dw_area[dw]
        if self.geo.profiles.n:
            dep[area >= 0] = self._area_deprivation(year)[area[area >= 0]]
        head_nw = (~self.western[p.country[head]]) & (p.origin[head] != dem.DANSK) & (area >= 0)
        move = rng.random(len(hhs)) < dem.move_rate(self.geo.dw_tenure[dw], head_age, p.z[head], dep, head_nw)
        move_month = rng.integers(0, 12, len(hhs))
        emig = rng.random(len(hhs)) < dem.emigration(p.origin[head], self.western[p.country[head]],
                                                     year - p.arrival[head].astype(int))
        emig &= ~move
        emig_month = rng.integers(0, 12, len(hhs))
        immigrants = self._immigrant_households(year)
        pending_movers = np.zeros(0, np.int64)
        pending_leavers = np.zeros(0, np.int64)
        pending_imm = None
        year_locations_p: list[np.ndarray] = []
        year_locations_d: list[np.ndarray] = []
        for month in range(12):
            m = (year - self.first) * 12 + month
            movers = np.concatenate([pending_movers, hhs[move & (move_month == month)]])
            leavers = np.concatenate([pending_leavers, alive[leave & (leave_month == month)]])
            imm = self._imm_take(immigrants, month, pending_imm)
            pending_movers, pending_leavers, pending_imm = self._market(year, m, movers, leavers, imm)
            self._deaths(alive[die & (death_month == month)], m, year, year_locations_p, year_locations_d)
            self._emigrate(hhs[emig & (emig_month == month)], m, year, year_locations_p, year_locations_d)
            self._births(alive[birth & (birth_month == month)], m)
        present = np.flatnonzero(p.present[: p.n])
        year_locations_p.append(present)
        year_locations_d.append(p.last_dw[present].astype(np.int64))
        loc_p, loc_d = np.concatenate(year_locations_p), np.concatenate(year_locations_d)
        if self.on_year_end is not None:
            self.on_year_end(year, loc_p, loc_d)
        else:
            self.locations[year] = (loc_p, loc_d)

    def _recompute_heads(self, alive: np.ndarray, day: int) -> None:
        """Head = oldest member; also rebuilds the household -> members index for the year."""
        p, h = self.p, self.h
        key = (p.hh[alive].astype(np.int64) << 32) | (p.birth[alive].astype(np.int64) + (1 << 31))
        order = alive[np.argsort(key, kind="stable")]
        hh_sorted = p.hh[order]
        first = np.ones(len(order), bool)
        first[1:] = hh_sorted[1:] != hh_sorted[:-1]
        h.head[hh_sorted[first]] = order[first]
        self._csr_members = order
        self._csr_hh = hh_sorted
        self._csr_first_new = p.n
        self._moved_this_year: list[np.ndarray] = []

    def _record_area_nw(self, alive: np.ndarray, year: int) -> None:
        n_areas = self.geo.profiles.n
        area = self.geo.dw_area[self.p.last_dw[alive]]
        in_area = area >= 0
        nw = (~self.western[self.p.country[alive]]) & (self.p.origin[alive] != dem.DANSK)
        tot = np.bincount(area[in_area], minlength=n_areas)
        nwc = np.bincount(area[in_area], weights=nw[in_area], minlength=n_areas)
        self.area_nw_history[year] = np.where(tot > 0, nwc / np.maximum(tot, 1), 0.0)

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
        origin_muni = np.concatenate([self.dw_muni_idx[mv_dw], self.dw_muni_idx[lv_dw]])
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
        nw_of = lambda idx: (~self.western[p.country[idx]]) & (p.origin[idx] != dem.DANSK)  # noqa: E731
        mover_nw = np.concatenate([nw_of(mv_head), nw_of(leavers), ~imm["western"] & ~imm["danish"]])
        tenure = dem.choose_tenure(rng, base, z, mover_nw)
        cell = dest_muni.astype(np.int64) * 5 + tenure
        avail = np.flatnonzero((self.dw_hh < 0) & (self.dw_free <= m) & (geo.dw_built_year <= year))
        nw_cur = self.area_nw_history.get(year, np.zeros(geo.profiles.n))
        mi, di = match(cell, z + rng.normal(0, 0.5, len(z)), mover_nw, self.dw_cell[avail],
                       self._desirability(avail, year), self._nw_weight(avail, nw_cur, year), rng)
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

    # ----------------------------------------------------------------- exits and births
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

    # ----------------------------------------------------------------- result
    def _result(self) -> SimulationResult:
        p = self.p
        spells = self.log.arrays()
        open_ = np.flatnonzero(p.present[: p.n])
        for k, v in (("person", open_), ("household", p.hh[open_]), ("dwelling", p.last_dw[open_]),
                     ("start", p.start[open_]), ("end", np.full(len(open_), -1, np.int32)),
                     ("reason", np.full(len(open_), NO_REASON, np.int8))):
            spells[k] = np.concatenate([spells[k], v.astype(spells[k].dtype)])
        locs = {y: (a, b) for y, (a, b) in self.locations.items()}
        return SimulationResult(p, spells, locs, self.area_nw_history, dict(self.stats))
