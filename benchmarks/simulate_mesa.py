"""Part 2 of `bench_simulate.py`: one year's demographic and seeker decisions, vectorised with the
simulation's own functions against an equivalent agent-per-object Mesa 3 model (docs/simulate.md,
"Session 8: Mesa and backcast").

    flock /work/bench.lock env PYTHONPATH=src python benchmarks/bench_simulate.py --small /work/data/small-seed1 --households 10000
"""

from __future__ import annotations

import bisect
import copy
import os
import time

import numpy as np


def _cpu() -> float:
    return time.process_time()      # user + system CPU of this process (all threads)


# Part 2: the year's demographic and seeker decisions, vectorised against one Mesa agent per person and
# per household. The population does not change between years (decisions only); within a year the
# decisions follow the simulation's order (`replication.run_replication`: deaths, emigration, births,
# then `seekers.draw_seekers` on who is left), with its rules and rate tables:
#   death        rates.death [age band, sex]                                  demography.deaths
#   emigration   rates.emigration [head non-Western, head age band]; head =  demography.emigration
#                the oldest surviving member (ties: smallest person id)
#   birth        rates.birth [age band, non-Western], women 15-49 alive and  demography.births
#                not emigrated; the child's origin by the mother's origin     behaviour.child_origins
#                (child_origin.csv)
#   move         behaviour.move_origin [tenure, head age band, size band      behaviour.move_probability
#                (newborns counted), area band of the area's non-Western
#                share after the year's demography, head non-Western]
#   destination  rates.destination_almen [from almen, non-Western, basic      seekers.draw_seekers
#                education] for movers and leavers
#   municipality transitions.destination_municipality (movers 0, leavers 1)   seekers.draw_seekers
#   leave home   rates.leave_home [age band]: non-heads 18-29 of households   seekers.draw_seekers
#                that stay, do not emigrate and do not move
#   area choice  rates.area_choice by head non-Western, basic education and   destination.AreaChoice,
#                municipality; almen seekers a second area (own stream)       destination.second_choices
# Immigration, rehousing and the letting itself are not part of it (the letting is the same
# `LettingEngine` in both designs; part 1 times it).

_MASK64 = (1 << 64) - 1


def _mix64(z: int) -> int:
    """`rng._mix` on one Python int (wrapping 64-bit arithmetic)."""
    z = (z + 0x9E3779B97F4A7C15) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)


class _KeyedStream:
    """`boligmix.simulate.rng` for one id at a time in plain Python, as an agent draws its own events
    (numpy on one value costs an agent about ten times more a draw): the same SplitMix64 chain over
    (seed, replication, id, year, event); `part2` checks it against `rng` before timing."""

    def __init__(self, seed: int, replication: int = 0) -> None:
        self.head = _mix64(_mix64(seed & _MASK64) ^ (replication & 0xFFFFFFFF))

    def hash(self, ident: int, year: int, event: int) -> int:
        return _mix64(_mix64(self.head ^ (ident & _MASK64)) ^ (((year & 0xFFFF) << 16) | (event & 0xFFFF)))

    def uniform(self, ident: int, year: int, event: int) -> float:
        return (self.hash(ident, year, event) >> 11) * (1.0 / 9007199254740992.0)

    def new_id(self, ident: int, year: int, event: int, base: int) -> int:
        return ((self.hash(ident, year, event) >> 8) % (1 << 54)) + base


class _NumpyStream:
    """The same draws through `boligmix.simulate.rng` itself, one id per call (numpy on one value):
    `--mesa-draws numpy`, how the agents drew before session 8."""

    def __init__(self, seed: int, replication: int = 0) -> None:
        self.seed, self.replication = seed, replication

    def uniform(self, ident: int, year: int, event: int) -> float:
        from boligmix.simulate import rng

        return float(rng.uniform(self.seed, self.replication, ident, year, event)[0])

    def new_id(self, ident: int, year: int, event: int, base: int) -> int:
        from boligmix.simulate import rng

        return int(rng.new_ids(self.seed, self.replication, ident, year, event, base=base)[0])


def _band(edges: list, value) -> int:
    """`rates.band` of one value (the band whose lower edge is the last one <= value, clipped)."""
    return min(max(bisect.bisect_right(edges, value) - 1, 0), len(edges) - 1)


def _vectorised_year(pop, rates, seed: int, year: int, basic: np.ndarray) -> dict:
    """The year's decisions for all persons and households at once (the table above), with the
    simulation's functions and rate tables. `basic`: per person, in the basic-education segment."""
    from boligmix.simulate import rng
    from boligmix.simulate.behaviour import child_origins, move_probability
    from boligmix.simulate.demography import CHILD_ORIGIN_EVENT, HOUSEHOLD_BASE, PERSON_BASE, households, members_of_chosen
    from boligmix.simulate.destination import SECOND_CHOICE_EVENT
    from boligmix.simulate.lookup import table_at
    from boligmix.simulate.population import ALMEN, ORIGIN_CODES, day
    from boligmix.simulate.rates import BIRTH_BANDS, DEATH_BANDS, HEAD_BANDS, LEAVE_BANDS, SIZE_BANDS, band
    from boligmix.simulate.seekers import area_band_of

    dw, nw = pop.dwellings, pop.nonwestern
    age = pop.age_on(day(year))
    alive = ~(rng.uniform(seed, 0, pop.pid, year, rng.DEATH) < table_at(rates.death, band(age, DEATH_BANDS), pop.female.astype(int)))
    groups = households(pop, np.flatnonzero(alive))       # the survivors' households and heads
    hh, head, size = groups.ids, groups.head, groups.size
    emig = rng.uniform(seed, 0, hh, year, rng.EMIGRATION) < table_at(rates.emigration, nw[head].astype(int), band(age[head], HEAD_BANDS))
    stay = alive & ~members_of_chosen(groups, emig, pop.size)
    women = np.flatnonzero(stay & pop.female & (age >= 15) & (age <= 49))
    p = table_at(rates.birth, band(age[women], BIRTH_BANDS), nw[women].astype(int))
    mothers = women[rng.uniform(seed, 0, pop.pid[women], year, rng.BIRTH) < np.minimum(p, 1.0)]
    child = rng.new_ids(seed, 0, pop.pid[mothers], year, rng.NEW_ID, base=PERSON_BASE)
    origin = child_origins(rates.behaviour, pop.origin[mothers], rng.uniform(seed, 0, child, year, CHILD_ORIGIN_EVENT))
    child_nw = nw[mothers] & (origin != ORIGIN_CODES["dansk"])
    counts = {"deaths": int((~alive).sum()), "emigrants": int(size[emig].sum()), "births": int(mothers.size),
              "births_danish": int((origin == ORIGIN_CODES["dansk"]).sum())}
    # the households left decide to move, with their newborns, by the areas' shares after the demography
    hh, head, size = hh[~emig], head[~emig], size[~emig]
    size = size + np.bincount(np.searchsorted(hh, pop.household[mothers]), minlength=hh.size)
    codes, names = dw.area_codes()
    resident_pos = dw.position(pop.dwelling)              # every person's dwelling, found once (as draw_seekers)
    code = codes[resident_pos]
    inside, mcode = stay & (code >= 0), code[mothers]
    n = np.bincount(code[inside], minlength=len(names)) + np.bincount(mcode[mcode >= 0], minlength=len(names))
    with np.errstate(invalid="ignore", divide="ignore"):
        share = (np.bincount(code[inside], weights=nw[inside], minlength=len(names))
                 + np.bincount(mcode[mcode >= 0], weights=child_nw[mcode >= 0], minlength=len(names))) / n
    pos = resident_pos[head]
    ab = area_band_of(share, codes[pos])
    p = move_probability(rates.behaviour, rates.move, dw.tenure[pos], band(age[head], HEAD_BANDS), band(size, SIZE_BANDS),
                         ab, nw[head])
    moving = rng.uniform(seed, 0, hh, year, rng.MOVE) < p
    movers, mrow, mpos = hh[moving], head[moving], pos[moving]
    m_wants = rng.uniform(seed, 0, movers, year, rng.DESTINATION) < table_at(
        rates.destination_almen, (dw.tenure[mpos] == ALMEN).astype(int), nw[mrow].astype(int), basic[mrow].astype(int))
    m_muni = rates.transitions.destination_municipality(0, dw.municipality[mpos], rng.uniform(
        seed, 0, movers, year, rng.MUNICIPALITY))
    is_head = np.zeros(pop.size, dtype=bool)
    is_head[head] = True
    moved = np.zeros(groups.ids.size, dtype=bool)
    moved[np.flatnonzero(~emig)[moving]] = True
    young = np.flatnonzero(stay & ~is_head & (age >= 18) & (age <= 29) & ~members_of_chosen(groups, moved, pop.size))
    leave = young[rng.uniform(seed, 0, pop.pid[young], year, rng.LEAVE_HOME) < rates.leave_home[band(age[young], LEAVE_BANDS)]]
    lpos = resident_pos[leave]
    l_wants = rng.uniform(seed, 0, pop.pid[leave], year, rng.DESTINATION) < table_at(
        rates.destination_almen, (dw.tenure[lpos] == ALMEN).astype(int), nw[leave].astype(int), basic[leave].astype(int))
    l_muni = rates.transitions.destination_municipality(1, dw.municipality[lpos], rng.uniform(
        seed, 0, pop.pid[leave], year, rng.MUNICIPALITY))
    leavers = rng.new_ids(seed, 0, pop.pid[leave], year, rng.NEW_ID, base=HOUSEHOLD_BASE)
    ids, rows = np.r_[movers, leavers], np.r_[mrow, leave]
    muni, wants = np.r_[m_muni, l_muni], np.r_[m_wants, l_wants]
    first = rates.area_choice.draw_many(nw[rows], basic[rows], muni, rng.uniform(seed, 0, ids, year, rng.AREA_CHOICE))
    second: list = [None] * ids.size
    w = np.flatnonzero(wants)
    for i, a in zip(w.tolist(), rates.area_choice.draw_many(nw[rows[w]], basic[rows[w]], muni[w], rng.uniform(
            seed, 0, ids[w], year, SECOND_CHOICE_EVENT))):
        second[i] = a
    kinds = ["mover"] * movers.size + ["leaver"] * leavers.size
    counts["seekers"] = sorted(zip(ids.tolist(), kinds, wants.tolist(), muni.tolist(), first, second))
    return counts


def _mesa_model(pop, rates, seed: int, basic: np.ndarray, numpy_draws: bool = False):
    """The same decisions, one Mesa 3 agent per person and per household: each agent draws its own
    events from the same keyed streams (`_KeyedStream`) with the same rate tables (as nested lists),
    phase by phase through the model's AgentSets (`agents_by_type[...].do`)."""
    import mesa

    from boligmix.simulate import rng
    from boligmix.simulate.demography import CHILD_ORIGIN_EVENT, HOUSEHOLD_BASE, PERSON_BASE
    from boligmix.simulate.destination import SECOND_CHOICE_EVENT
    from boligmix.simulate.population import ALMEN, ORIGIN_CODES, day
    from boligmix.simulate.rates import AREA_BANDS, BIRTH_BANDS, DEATH_BANDS, HEAD_BANDS, LEAVE_BANDS, SIZE_BANDS

    death_b, birth_b, head_b = DEATH_BANDS.tolist(), BIRTH_BANDS.tolist(), HEAD_BANDS.tolist()
    leave_b, size_b, area_b = LEAVE_BANDS.tolist(), SIZE_BANDS.tolist(), AREA_BANDS.tolist()
    danish_code = ORIGIN_CODES["dansk"]

    class Person(mesa.Agent):
        def __init__(self, model, pid, birth, female, origin, nonwestern, basic, household):
            super().__init__(model)
            self.pid, self.birth, self.female, self.origin = pid, birth, female, origin
            self.nonwestern, self.basic, self.household = nonwestern, basic, household
            self.age, self.alive = 0, True
            household.members.append(self)

        def die(self):
            m = self.model
            self.age = int((m.day - self.birth) // 365.25)
            self.alive = not m.stream.uniform(self.pid, m.year, rng.DEATH) < m.death[_band(death_b, self.age)][self.female]
            m.deaths += not self.alive

        def give_birth(self):
            m, h = self.model, self.household
            if not (self.alive and self.female and 15 <= self.age <= 49) or h.emigrated:
                return
            p = min(m.birth[_band(birth_b, self.age)][self.nonwestern], 1.0)
            if m.stream.uniform(self.pid, m.year, rng.BIRTH) < p:
                child = m.stream.new_id(self.pid, m.year, rng.NEW_ID, PERSON_BASE)
                if m.child_danish is None:
                    danish = self.origin == danish_code
                else:
                    danish = m.stream.uniform(child, m.year, CHILD_ORIGIN_EVENT) < m.child_danish[self.origin]
                h.newborns += 1
                h.newborn_nonwestern += self.nonwestern and not danish
                m.births += 1
                m.births_danish += danish

        def leave_home(self):
            m, h = self.model, self.household
            if not (self.alive and 18 <= self.age <= 29) or h.emigrated or h.moving or h.head is self:
                return
            if m.stream.uniform(self.pid, m.year, rng.LEAVE_HOME) < m.leave_home[_band(leave_b, self.age)]:
                wants = m.stream.uniform(self.pid, m.year, rng.DESTINATION) < \
                    m.destination_almen[h.from_almen][self.nonwestern][self.basic]
                muni = m.destination_municipality(1, h.municipality, m.stream.uniform(self.pid, m.year, rng.MUNICIPALITY))
                m.seek(m.stream.new_id(self.pid, m.year, rng.NEW_ID, HOUSEHOLD_BASE), "leaver", wants, muni, self)

    class Household(mesa.Agent):
        def __init__(self, model, hid, tenure, area, municipality):
            super().__init__(model)
            self.hid, self.tenure, self.area, self.municipality = hid, tenure, area, municipality
            self.from_almen = int(tenure == ALMEN)
            self.members: list[Person] = []
            self.head, self.size, self.emigrated, self.moving = None, 0, False, False
            self.newborns = self.newborn_nonwestern = 0

        def emigrate(self):
            m = self.model
            self.emigrated = self.moving = False
            self.newborns = self.newborn_nonwestern = 0
            alive = [p for p in self.members if p.alive]
            self.size = len(alive)
            self.head = min(alive, key=lambda p: (p.birth, p.pid)) if alive else None
            if self.head is None:
                return
            self.head_band = _band(head_b, self.head.age)
            if m.stream.uniform(self.hid, m.year, rng.EMIGRATION) < m.emigration[self.head.nonwestern][self.head_band]:
                self.emigrated = True
                m.emigrants += self.size

        def decide_move(self):
            m = self.model
            if self.head is None or self.emigrated:
                return
            area_band = 0 if self.area is None else 1 + _band(area_b, m.area_share.get(self.area, 0.0))
            p = m.move[self.tenure][self.head_band][_band(size_b, self.size + self.newborns)][area_band][
                self.head.nonwestern]
            if m.stream.uniform(self.hid, m.year, rng.MOVE) < p:
                self.moving = True
                wants = m.stream.uniform(self.hid, m.year, rng.DESTINATION) < \
                    m.destination_almen[self.from_almen][self.head.nonwestern][self.head.basic]
                muni = m.destination_municipality(0, self.municipality, m.stream.uniform(self.hid, m.year,
                                                                                         rng.MUNICIPALITY))
                m.seek(self.hid, "mover", wants, muni, self.head)

    class Model(mesa.Model):
        def __init__(self):
            super().__init__(seed=seed)
            self.stream, self.year = (_NumpyStream if numpy_draws else _KeyedStream)(seed), pop.start
            self.death, self.birth = rates.death.tolist(), rates.birth.tolist()
            self.emigration, self.leave_home = rates.emigration.tolist(), rates.leave_home.tolist()
            behaviour = rates.behaviour
            self.move = (behaviour.move_origin if behaviour is not None and behaviour.move_origin is not None
                         else np.repeat(rates.move[..., None], 2, axis=-1)).tolist()
            self.child_danish = None if behaviour is None or behaviour.child_danish is None \
                else behaviour.child_danish.tolist()
            self.destination_almen = rates.destination_almen.tolist()
            self.municipalities = rates.transitions.municipalities.tolist()
            self.municipality_index = {mu: i for i, mu in enumerate(self.municipalities)}
            self.municipality_cum = rates.transitions.destination.tolist()
            self.area_choice = rates.area_choice
            self.area_share: dict[str, float] = {}

        def destination_municipality(self, kind: int, municipality: int, u: float) -> int:
            i = self.municipality_index.get(municipality)
            if i is None:
                return municipality
            k = bisect.bisect_right(self.municipality_cum[kind][i], u)
            return self.municipalities[min(k, len(self.municipalities) - 1)]

        def seek(self, sid: int, kind: str, wants: bool, muni: int, head: Person) -> None:
            first = self.area_choice.draw(head.nonwestern, head.basic, muni,
                                          self.stream.uniform(sid, self.year, rng.AREA_CHOICE))
            second = self.area_choice.draw(head.nonwestern, head.basic, muni, self.stream.uniform(
                sid, self.year, SECOND_CHOICE_EVENT)) if wants else None
            self.seekers.append((sid, kind, wants, muni, first, second))

        def shares(self) -> dict[str, float]:
            """Non-Western share of each area's residents after the year's demography."""
            n: dict[str, int] = {}
            k: dict[str, int] = {}
            for h in self.agents_by_type[Household]:
                if h.area is None or h.head is None or h.emigrated:
                    continue
                n[h.area] = n.get(h.area, 0) + h.size + h.newborns
                k[h.area] = k.get(h.area, 0) + sum(p.nonwestern for p in h.members if p.alive) + h.newborn_nonwestern
            return {a: k[a] / n[a] for a in n if n[a]}

        def step(self):
            self.day = day(self.year)
            self.deaths = self.emigrants = self.births = self.births_danish = 0
            self.seekers: list[tuple] = []
            self.agents_by_type[Person].do("die")
            self.agents_by_type[Household].do("emigrate")
            self.agents_by_type[Person].do("give_birth")
            self.area_share = self.shares()
            self.agents_by_type[Household].do("decide_move")
            self.agents_by_type[Person].do("leave_home")
            self.year += 1

        def events(self) -> dict:
            return {"deaths": self.deaths, "emigrants": self.emigrants, "births": self.births,
                    "births_danish": self.births_danish, "seekers": sorted(self.seekers)}

    model = Model()
    dw = pop.dwellings
    pos = dw.position(pop.dwelling)
    households: dict[int, Household] = {}
    for i in range(pop.size):
        h = int(pop.household[i])
        if h not in households:
            households[h] = Household(model, h, int(dw.tenure[pos[i]]), dw.area[pos[i]], int(dw.municipality[pos[i]]))
        Person(model, int(pop.pid[i]), int(pop.birth[i]), int(pop.female[i]), int(pop.origin[i]),
               int(pop.nonwestern[i]), int(basic[i]), households[h])
    return model


def _check_against_the_simulation(pop, rates, seed: int, first_year: dict) -> None:
    """The vectorised decisions of the first year equal the simulation's own functions run on a copy
    (demography.deaths, emigration, births, seekers.draw_seekers; its movers and leavers)."""
    from boligmix.simulate.demography import births, deaths, emigration
    from boligmix.simulate.population import ORIGIN_CODES
    from boligmix.simulate.seekers import area_labels, draw_seekers

    sim, year = copy.deepcopy(pop), pop.start
    got = {"deaths": deaths(sim, rates, seed, 0, year), "emigrants": emigration(sim, rates, seed, 0, year),
           "births": births(sim, rates, seed, 0, year)}
    got["births_danish"] = int((sim.origin[~np.isin(sim.pid, pop.pid)] == ORIGIN_CODES["dansk"]).sum())
    s = draw_seekers(sim, rates, seed, 0, year, {})
    label = area_labels(sim)[1]
    got["seekers"] = sorted((sid, s.kind[sid], bool(s.wants_almen[sid]), int(s.municipality[sid]), s.area_band.get(sid, 0),
                             s.second_band.get(sid)) for sid in s.kind if s.kind[sid] in ("mover", "leaver"))
    mine = {**first_year, "seekers": [(sid, kind, wants, muni, label.get(a, 0), None if not wants else label.get(b, 0))
                                      for sid, kind, wants, muni, a, b in first_year["seekers"]]}
    assert mine == got, "the vectorised year differs from the simulation's functions"


def part2(small: str, households: int, years: int, seed: int, numpy_draws: bool = False) -> None:
    from boligmix.data.io import read_manifest
    from boligmix.simulate import rng
    from boligmix.simulate.demography import heads
    from boligmix.simulate.destination import basic_education
    from boligmix.simulate.population import Population
    from boligmix.simulate.rates import estimate_rates
    from boligmix.simulate.seekers import area_band_of  # noqa: F401  (imported before timing, as the others)

    start = read_manifest(small).years[1] + 1
    pop = Population.from_dataset(small, start)
    rates = estimate_rates(small, start)
    hh, _, _ = heads(pop)
    pop.remove(np.flatnonzero(~np.isin(pop.household, hh[:households])))
    basic = basic_education(pop, np.arange(pop.size), start)
    probe = np.r_[pop.pid[:2000], -5, 0, 2**62]
    stream = _KeyedStream(seed)
    assert [stream.uniform(int(i), start, rng.MOVE) for i in probe] == rng.uniform(seed, 0, probe, start, rng.MOVE).tolist()
    assert [stream.new_id(int(i), start, rng.NEW_ID, 7) for i in probe] == rng.new_ids(
        seed, 0, probe, start, rng.NEW_ID, base=7).tolist()
    print(f"part 2: {np.unique(pop.household).size} households, {pop.size} persons, {years} years from {start} (the "
          f"same population each year: decisions only), load {os.getloadavg()}", flush=True)
    # warm-up, untimed like the Mesa model's build: one year before the timed ones loads the compiled
    # kernels from numba's disk cache (some milliseconds each, once per process) and builds the
    # dwellings' lookups; its decisions (another year's keys) are not used
    wu, cu = time.perf_counter(), _cpu()
    _vectorised_year(pop, rates, seed, start - 1, basic)
    w0, c0 = time.perf_counter(), _cpu()
    vec = [_vectorised_year(pop, rates, seed, start + y, basic) for y in range(years)]
    w1, c1 = time.perf_counter(), _cpu()
    _check_against_the_simulation(pop, rates, seed, vec[0])
    w2, c2 = time.perf_counter(), _cpu()
    model = _mesa_model(pop, rates, seed, basic, numpy_draws)
    w3, c3 = time.perf_counter(), _cpu()
    counts = []
    for _ in range(years):
        model.step()
        counts.append(model.events())
    w4, c4 = time.perf_counter(), _cpu()
    assert counts == vec, "the Mesa model's events differ from the vectorised ones"
    first = {k: (len(v) if k == "seekers" else v) for k, v in vec[0].items()}
    print(f"  events identical in both designs and, in the first year, to the simulation's own functions: "
          f"{first} (first year), {sum(len(v['seekers']) for v in vec)} seekers in {years} years", flush=True)
    print(f"  vectorised: wall {w1 - w0:.3f} s, cpu {c1 - c0:.3f} s (the untimed warm-up year before them: wall "
          f"{w0 - wu:.3f} s, cpu {c0 - cu:.3f} s)")
    print(f"  Mesa {__import__('mesa').__version__} ({'numpy' if numpy_draws else 'plain Python'} draws): build wall {w3 - w2:.2f} s, cpu {c3 - c2:.2f} s; steps wall "
          f"{w4 - w3:.2f} s, cpu {c4 - c3:.2f} s")
    print(f"  ratio (Mesa steps / vectorised), wall {(w4 - w3) / (w1 - w0):.0f}x, cpu {(c4 - c3) / max(c1 - c0, 1e-9):.0f}x "
          f"(the warm-up year counted with the vectorised: cpu {(c4 - c3) / max(c1 - cu, 1e-9):.0f}x); load {os.getloadavg()}")
