"""`draw_seekers` (all households at once) equals the per-household oracle below (one household,
person and immigrant at a time, the code it replaced): the same seekers in the same order, with
the same kind, month, destination, municipality, dwelling, members, immigrant facts and area
(by label) applied in, over two years (waiting immigrants and households to rehouse included)."""

from __future__ import annotations

import copy

import numpy as np
import polars as pl
import pytest
from simulate_support import START, shared
from synth_data import small_dataset_dir

from boligmix.simulate import rng
from boligmix.simulate.applicants import Seekers
from boligmix.simulate.destination import SECOND_CHOICE_EVENT, basic_education
from boligmix.simulate.demography import HOUSEHOLD_BASE, PERSON_BASE, births, deaths, emigration, heads
from boligmix.simulate.population import ALMEN, ORIGIN_CODES, Population, day
from boligmix.simulate.rates import HEAD_BANDS, LEAVE_BANDS, SIZE_BANDS, Rates, band
from boligmix.simulate.seekers import (
    IMMIGRATION_DAY,
    area_labels,
    draw_seekers,
    household_area_band,
    members_by_household,
)


def per_household_seekers(pop: Population, rates: Rates, seed: int, rep: int, year: int, rehousing: dict[int, int],
                 waiting_immigrants: list[tuple[int, np.ndarray, dict]] = ()) -> Seekers:
    """The oracle: the seekers drawn one household, person and immigrant at a time."""
    dw = pop.dwellings
    hh, head, size = heads(pop)
    pos = dw.position(pop.dwelling[head])
    age = pop.age_on(day(year))
    ab = household_area_band(pop, pos)
    p = np.array([rates.behaviour.move_origin[dw.tenure[pos[k]], band(age[head[k]], HEAD_BANDS), band(size[k], SIZE_BANDS),
                                              ab[k], int(pop.nonwestern[head[k]])] for k in range(hh.size)])
    u = rng.uniform(seed, rep, hh, year, rng.MOVE)
    moving = (u < p) | np.isin(hh, list(rehousing))
    from_almen = (dw.tenure[pos] == ALMEN).astype(int)
    nw = pop.nonwestern[head].astype(int)
    basic = basic_education(pop, np.arange(pop.size), year)
    wants = rng.uniform(seed, rep, hh, year, rng.DESTINATION) < rates.destination_almen[from_almen, nw,
                                                                                        basic[head].astype(int)]
    month = rng.integers(seed, rep, hh, year, rng.MOVE_MONTH, 12) + 1
    seekers = Seekers()
    members = _members(pop, hh[moving])
    # the municipality a household seeks in: the estimated moves between municipalities
    muni = dw.municipality[pos]
    if rates.transitions is not None:
        muni = rates.transitions.destination_municipality(0, muni, rng.uniform(seed, rep, hh, year, rng.MUNICIPALITY))
    for i in np.flatnonzero(moving):
        kind = "rehousing" if int(hh[i]) in rehousing else "mover"
        seekers.add(int(hh[i]), kind, int(month[i]) if kind == "mover" else 1,
                    bool(wants[i]) or kind == "rehousing",
                    int(dw.municipality[pos[i]] if kind == "rehousing" else muni[i]), int(dw.ids[pos[i]]),
                    pop.pid[members[int(hh[i])]], None)
    # leaving home: non-head persons 18-29
    is_head = np.zeros(pop.size, dtype=bool)
    is_head[head] = True
    young = np.flatnonzero(~is_head & (age >= 18) & (age <= 29) & ~np.isin(pop.household, hh[moving]))
    leave = young[rng.uniform(seed, rep, pop.pid[young], year, rng.LEAVE_HOME) < rates.leave_home[
        band(age[young], LEAVE_BANDS)]]
    lpos = dw.position(pop.dwelling[leave])
    lwants = rng.uniform(seed, rep, pop.pid[leave], year, rng.DESTINATION) < rates.destination_almen[
        (dw.tenure[lpos] == ALMEN).astype(int), pop.nonwestern[leave].astype(int), basic[leave].astype(int)]
    lmonth = rng.integers(seed, rep, pop.pid[leave], year, rng.MOVE_MONTH, 12) + 1
    new_hh = rng.new_ids(seed, rep, pop.pid[leave], year, rng.NEW_ID, base=HOUSEHOLD_BASE)
    lmuni = dw.municipality[lpos]
    if rates.transitions is not None:
        lmuni = rates.transitions.destination_municipality(1, lmuni, rng.uniform(seed, rep, pop.pid[leave], year,
                                                                                  rng.MUNICIPALITY))
    for j, i in enumerate(leave):
        seekers.add(int(new_hh[j]), "leaver", int(lmonth[j]), bool(lwants[j]), int(lmuni[j]), None,
                    pop.pid[[i]], None)
    immigrant_band: dict[int, int] = {}
    label = area_labels(pop)[1]
    for sid, ids, members in waiting_immigrants:
        if year - members["first_year"] > 1:     # an immigrant household waits one year at most
            continue
        immigrant_band[sid] = label.get(members["area_id"], 0)
        muni = members["municipality"]
        seekers.add(sid, "immigrant", 1, members["wants_almen"], muni, None, ids,
                    {**members, "arrive": day(year, 1, IMMIGRATION_DAY),
                     "birth": members["birth"]})
    # immigrants: clones of recent immigrant households
    pool = rates.immigrant_pool
    if pool.height and rates.immigrant_households > 0:
        n = int(rates.immigrant_households // 1) + int(
            rng.uniform(seed, rep, 0, year, rng.IMMIGRANT_COUNT)[0] < rates.immigrant_households % 1)
        households = pool["household"].unique().sort().to_numpy()
        slots = np.arange(n, dtype=np.int64)
        picks = households[rng.integers(seed, rep, slots, year, rng.IMMIGRANT_DONOR, households.size)]
        # a clone seeks where its donor household arrived: municipality, almen or not, area band
        munis = np.unique(dw.municipality[dw.active])
        fallback = munis[rng.integers(seed, rep, slots, year, rng.IMMIGRANT_MUNICIPALITY, munis.size)]
        imonth = rng.integers(seed, rep, slots, year, rng.MOVE_MONTH, 12) + 1
        hh_ids = rng.new_ids(seed, rep, slots, year, rng.IMMIGRANT_DONOR, base=HOUSEHOLD_BASE)
        picked = pool.filter(pl.col("household").is_in(np.unique(picks).tolist())) if n else pool.clear()
        parts = {int(key[0]): part for key, part in picked.partition_by("household", as_dict=True).items()} if n else {}
        chosen_muni, iwants = fallback.copy(), np.zeros(n, dtype=bool)
        for k in range(n):
            donor = parts[int(picks[k])].row(0, named=True)
            if donor["municipality"] is not None and donor["municipality"] in munis:
                chosen_muni[k] = donor["municipality"]
            iwants[k] = bool(donor["almen"])
            immigrant_band[int(hh_ids[k])] = label.get(donor["area_id"], 0)
        for k in range(n):
            members = parts[int(picks[k])].sort("age", descending=True)
            arrive = day(year, int(imonth[k]), IMMIGRATION_DAY)
            ids = rng.new_ids(seed, rep, hh_ids[k] + np.arange(members.height), year, rng.NEW_ID, base=PERSON_BASE)
            seekers.add(int(hh_ids[k]), "immigrant", int(imonth[k]), bool(iwants[k]), int(chosen_muni[k]), None, ids,
                        {"birth": arrive - (members["age"].to_numpy() * 365.25 + 180).astype(np.int64),
                         "female": members["female"].to_numpy(),
                         "origin": np.array([ORIGIN_CODES[o] for o in members["origin"]], dtype=np.int8),
                         "country": members["country_code"].to_numpy().astype(object),
                         "nonwestern": members["nonwestern"].to_numpy(), "arrive": arrive,
                         "outside_fte": members["outside_fte"].to_numpy(),
                         "municipality": int(chosen_muni[k]), "wants_almen": bool(iwants[k]), "first_year": year,
                         "area_id": parts[int(picks[k])].row(0, named=True)["area_id"]})
    # almen seekers apply in one area of their municipality (or outside any), drawn by the estimated shares
    head_of = _head_rows(pop, seekers)
    ids = np.array(sorted(seekers.kind), dtype=np.int64)
    if ids.size:
        u = rng.uniform(seed, rep, ids, year, rng.AREA_CHOICE)
        for sid, draw in zip(ids.tolist(), u):
            if sid in immigrant_band:
                seekers.area_band[sid] = immigrant_band[sid]
                continue
            row = head_of.get(sid, -1)
            area = rates.area_choice.draw(int(pop.nonwestern[row]) if row >= 0 else 0,
                                          int(basic[row]) if row >= 0 else 1, seekers.municipality[sid], float(draw))
            seekers.area_band[sid] = label.get(area, 0)
    # and a second area, drawn from the same shares with its own stream (immigrants: head's origin, basic)
    for sid in ids.tolist():
        if not seekers.wants_almen[sid]:
            continue
        if sid in immigrant_band:
            group = (int(seekers.new_members[sid]["nonwestern"][0]), 1)
        elif sid in head_of:
            group = (int(pop.nonwestern[head_of[sid]]), int(basic[head_of[sid]]))
        else:
            continue
        area = rates.area_choice.draw(*group, seekers.municipality[sid],
                                      float(rng.uniform(seed, rep, sid, year, SECOND_CHOICE_EVENT)[0]))
        seekers.second_band[sid] = label.get(area, 0)
    return seekers


def _members(pop: Population, households: np.ndarray) -> dict[int, np.ndarray]:
    """Household id -> rows of its members in ascending order (as `flatnonzero(pop.household == h)`)."""
    rows = np.flatnonzero(np.isin(pop.household, households))
    order = rows[np.argsort(pop.household[rows], kind="stable")]
    hh = pop.household[order]
    out: dict[int, np.ndarray] = {int(h): np.zeros(0, dtype=np.int64) for h in np.asarray(households).tolist()}
    if hh.size:
        starts = np.flatnonzero(np.r_[True, hh[1:] != hh[:-1]])
        for part in np.split(order, starts[1:]):
            out[int(pop.household[part[0]])] = part
    return out


def _members(pop: Population, households: np.ndarray) -> dict[int, np.ndarray]:
    return members_by_household(pop, households)


def _head_rows(pop: Population, seekers: Seekers) -> dict[int, int]:
    """Per seeker with members in the population: the row of its oldest member (the first row among
    equal births), one seeker at a time; immigrant households are not in the population yet."""
    out: dict[int, int] = {}
    for sid in seekers.kind:
        if seekers.new_members[sid] is not None:
            continue
        rows = np.flatnonzero(np.isin(pop.pid, seekers.members[sid]))
        if rows.size:
            out[sid] = int(rows[np.lexsort((rows, pop.birth[rows]))[0]])
    return out


def _same(a: Seekers, b: Seekers) -> None:
    assert list(a.kind) == list(b.kind) and list(a._open) == list(b._open)
    assert {k: list(v) for k, v in a._by_group.items()} == {k: list(v) for k, v in b._by_group.items()}
    for name in ("kind", "month", "wants_almen", "municipality", "dwelling", "area_band", "second_band"):
        assert getattr(a, name) == getattr(b, name), name
    for sid in a.kind:
        assert np.array_equal(a.members[sid], b.members[sid])
        x, y = a.new_members[sid], b.new_members[sid]
        assert (x is None) == (y is None)
        if x is not None:
            assert x.keys() == y.keys()
            for key in x:
                assert np.array_equal(np.asarray(x[key]), np.asarray(y[key])), (sid, key)


@pytest.mark.parametrize("seed", [3, 8])
def test_bulk_seekers_equal_the_per_household_oracle(seed):
    sh = shared()
    pop = copy.deepcopy(Population.from_dataset(small_dataset_dir(), START))
    rates = sh.rates
    waiting: list = []
    for year in (START, START + 1):
        deaths(pop, rates, seed, 0, year)
        emigration(pop, rates, seed, 0, year)
        births(pop, rates, seed, 0, year)
        hh, _, _ = heads(pop)
        rehousing = {int(h): 1 for h in hh[rng.uniform(seed, 0, hh, year, 99) < 0.01]}
        bulk = draw_seekers(pop, rates, seed, 0, year, rehousing, waiting)
        oracle = per_household_seekers(pop, rates, seed, 0, year, rehousing, waiting)
        _same(bulk, oracle)
        kinds = set(bulk.kind.values())
        assert {"mover", "leaver", "immigrant", "rehousing"} <= kinds
        # next year: the immigrants of this year wait (as the market leaves those it does not house)
        waiting = [(s, bulk.members[s], bulk.new_members[s]) for s in bulk.kind if bulk.kind[s] == "immigrant"][::2]
    assert any(m["first_year"] == START for _, _, m in waiting)


def test_a_waiting_immigrant_applies_in_its_area_under_this_years_label():
    """An immigrant household waiting into the next year applies in the same area (by id), whatever
    label the area has that year (a dwelling in a new area that sorts first shifts every label)."""
    sh = shared()
    pop = copy.deepcopy(Population.from_dataset(small_dataset_dir(), START))
    first = draw_seekers(pop, sh.rates, 3, 0, START, {})
    label = area_labels(pop)[1]
    waiting = [(s, first.members[s], first.new_members[s]) for s in first.kind if first.kind[s] == "immigrant"]
    in_area = [(s, m["area_id"]) for s, _, m in waiting if m["area_id"] is not None]
    assert in_area and all(first.area_band[s] == label[a] for s, a in in_area)
    pop.dwellings.append(np.array([10**15], dtype=np.int64), int(pop.dwellings.municipality[0]), ALMEN, "A000-000",
                         3, 80.0, None)
    shifted = area_labels(pop)[1]
    assert all(shifted[a] == label[a] + 1 for _, a in in_area)
    second = draw_seekers(pop, sh.rates, 3, 0, START + 1, {}, waiting)
    assert all(second.area_band[s] == shifted[a] for s, a in in_area)
    assert all(second.area_band[s] == 0 for s, _, m in waiting if m["area_id"] is None)
