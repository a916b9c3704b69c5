"""The residential microsimulation: an initial population in 2004 and monthly steps to the last year.

Each month: households that decided to move, young adults leaving home and arriving immigrants
are matched to dwellings that were vacant at the start of the month (so a dwelling never holds two
households at once); then deaths, emigration and births happen. Annual decisions (who dies,
moves, emigrates, gives birth, in which month) are drawn once a year for everybody at risk.
Everything is vectorised over persons and households; the only loops are over years and months.

Output: residence spells, persons, and for every person and year the dwelling they lived in at
the end of the year (or when they left), which drives the yearly outcomes.

Modules: `records` (arrays and spells), `initial` (the first year's population), `market`
(immigration and moves), `lifecycle` (deaths, emigration, births); this module holds the yearly
step that drives them.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from boligmix.data.synth import demography as dem
from boligmix.data.synth.geography import Geography
from boligmix.data.synth.initial import InitialPopulation
from boligmix.data.synth.lifecycle import Lifecycle
from boligmix.data.synth.market import HousingMarket
from boligmix.data.synth.records import NO_REASON, Grow, SimulationResult, SpellLog, day_number
from boligmix.data.synth.scales import Scale


class Simulation(InitialPopulation, HousingMarket, Lifecycle):
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
