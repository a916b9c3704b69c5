"""Who wants to move in a simulated year: movers, young adults leaving home, immigrants.

Households decide to move by the estimated hazards (tenure, head age, size, the area's
non-western share); young adults leave home; immigrant households arrive (clones of recent
immigrant households, seeking where their donor household arrived). Each seeker wants an almen
dwelling or another tenure (estimated destination shares), seeks in a municipality (estimated
moves between municipalities) and, for almen, in an area of that municipality or outside any
(`destination.AreaChoice`, by head non-Western x head basic education; an immigrant household where its
donor household arrived).
Every draw is a counter-based stream keyed by the household (or person) id, year and event.
"""

from __future__ import annotations

import numpy as np

from boligmix.simulate import rng
from boligmix.simulate.applicants import Seekers
from boligmix.simulate.behaviour import move_probability
from boligmix.simulate.destination import basic_education, second_choices_of
from boligmix.simulate.demography import HOUSEHOLD_BASE, PERSON_BASE, households, members_of_chosen
from boligmix.simulate.lookup import is_in, sorted_lookup, table_at
from boligmix.simulate.population import ALMEN, ORIGIN_CODES, Population, day, sorted_unique
from boligmix.simulate.rates import AREA_BANDS, HEAD_BANDS, LEAVE_BANDS, SIZE_BANDS, Rates, band

IMMIGRATION_DAY = 12


def area_shares(pop: Population) -> dict[str, float]:
    """Share of non-western residents per area (for the move hazards' area band)."""
    share, names = area_share_array(pop)
    return {a: float(share[i]) for i, a in enumerate(names) if not np.isnan(share[i])}


def area_share_array(pop: Population, resident_pos: np.ndarray | None = None) -> tuple[np.ndarray, list[str]]:
    """(per area code: share of non-western residents, NaN without residents; the area ids).
    `resident_pos`: the residents' dwelling positions when known."""
    codes, names = pop.dwellings.area_codes()
    slot = codes[pop.dwellings.position(pop.dwelling) if resident_pos is None else resident_pos] + 1   # 0: no area
    n = np.bincount(slot, minlength=len(names) + 1)[1:]
    nw = np.bincount(slot[np.asarray(pop.nonwestern, dtype=bool)], minlength=len(names) + 1)[1:]   # (counts: exact)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, nw / np.maximum(n, 1), np.nan), names


def area_labels(pop: Population) -> tuple[np.ndarray, dict[str, int]]:
    """(per dwelling: the label of its area, 0 for none; area id -> label): the labels seekers apply
    under (`Seekers.area_band`)."""
    codes, names = pop.dwellings.area_codes()
    return codes + 1, {a: i + 1 for i, a in enumerate(names)}


def household_area_band(pop: Population, pos: np.ndarray, resident_pos: np.ndarray | None = None) -> np.ndarray:
    """The move hazards' area band of the dwellings at `pos` (0: no area)."""
    share, _ = area_share_array(pop, resident_pos)
    codes, _ = pop.dwellings.area_codes()
    return area_band_of(share, codes[pos])


def area_band_of(share: np.ndarray, code: np.ndarray) -> np.ndarray:
    """`area_band` of the areas' shares at `code` (-1: no area, band 0): banded once per area (a few
    hundred), not once per household (millions: a binary search each)."""
    bands = np.zeros(share.size + 1, dtype=np.int64)
    bands[:-1] = band(np.nan_to_num(share), AREA_BANDS) + 1    # `area_band` of areas that exist
    return bands[code]                 # (-1 reads the appended 0)


def draw_seekers(pop: Population, rates: Rates, seed: int, rep: int, year: int, rehousing: dict[int, int],
                 waiting_immigrants: list[tuple[int, np.ndarray, dict]] = ()) -> Seekers:
    """Movers, home leavers and immigrants of `year` (not yet housed); `waiting_immigrants` are
    immigrant households of earlier years that found no dwelling and try again from January.

    Every draw is made for all households (persons) at once; the seekers are added in the order
    movers (by household id), home leavers (by person row), waiting immigrants, new immigrants."""
    dw = pop.dwellings
    groups = households(pop)
    hh, head, size = groups.ids, groups.head, groups.size
    resident_pos = dw.position(pop.dwelling)         # every resident's dwelling, found once
    pos = resident_pos[head]
    age = pop.age_on(day(year))
    p = move_probability(rates.behaviour, rates.move, dw.tenure[pos], band(age[head], HEAD_BANDS), band(size, SIZE_BANDS),
                         household_area_band(pop, pos, resident_pos), pop.nonwestern[head])
    u = rng.uniform(seed, rep, hh, year, rng.MOVE)
    to_rehouse = is_in(np.fromiter(rehousing, dtype=np.int64, count=len(rehousing)), hh)
    moving = (u < p) | to_rehouse
    from_almen = (dw.tenure[pos] == ALMEN).astype(int)
    nw = pop.nonwestern[head].astype(int)
    in_moving = members_of_chosen(groups, moving)
    is_head = np.zeros(pop.size, dtype=bool)
    is_head[head] = True
    may_leave = ~is_head & (age >= 18) & (age <= 29) & ~in_moving
    young = np.flatnonzero(may_leave)
    # the basic segment is read for the heads, the moving households' members and the young only
    basic = np.zeros(pop.size, dtype=bool)
    read = np.flatnonzero(is_head | in_moving | may_leave)
    basic[read] = basic_education(pop, read, year)
    wants = rng.uniform(seed, rep, hh, year, rng.DESTINATION) < table_at(rates.destination_almen, from_almen, nw,
                                                                         basic[head].astype(int))
    month = rng.integers(seed, rep, hh, year, rng.MOVE_MONTH, 12) + 1
    # the municipality a moving household seeks in: the estimated moves between municipalities
    # (drawn for the moving households only: a draw is keyed by the household)
    muni = dw.municipality[pos[moving]]
    if rates.transitions is not None:
        muni = rates.transitions.destination_municipality(0, muni, rng.uniform(seed, rep, hh[moving], year,
                                                                               rng.MUNICIPALITY))
    seekers = Seekers()
    mover_ids, mover_heads = _add_movers(seekers, pop, hh[moving], in_moving, to_rehouse[moving], month[moving],
                                         wants[moving], muni, dw.municipality[pos[moving]], dw.ids[pos[moving]])
    # leaving home: non-head persons 18-29
    leave = young[rng.uniform(seed, rep, pop.pid[young], year, rng.LEAVE_HOME) < rates.leave_home[
        band(age[young], LEAVE_BANDS)]]
    lpos = resident_pos[leave]
    lwants = rng.uniform(seed, rep, pop.pid[leave], year, rng.DESTINATION) < table_at(
        rates.destination_almen, (dw.tenure[lpos] == ALMEN).astype(int), pop.nonwestern[leave].astype(int),
        basic[leave].astype(int))
    lmonth = rng.integers(seed, rep, pop.pid[leave], year, rng.MOVE_MONTH, 12) + 1
    new_hh = rng.new_ids(seed, rep, pop.pid[leave], year, rng.NEW_ID, base=HOUSEHOLD_BASE)
    lmuni = dw.municipality[lpos]
    if rates.transitions is not None:
        lmuni = rates.transitions.destination_municipality(1, lmuni, rng.uniform(seed, rep, pop.pid[leave], year,
                                                                                  rng.MUNICIPALITY))
    lpid = pop.pid[leave]
    leavers = new_hh.tolist()
    seekers.add_many(leavers, "leaver", lmonth.tolist(), lwants.tolist(), lmuni.tolist(), None,
                     [lpid[i:i + 1] for i in range(lpid.size)])
    # each seeker's head row (the first one given for an id: movers before home leavers), by id
    head_ids, first = np.unique(np.concatenate([mover_ids, new_hh]), return_index=True)
    head_rows = np.concatenate([mover_heads, leave])[first]
    immigrant_band: dict[int, int] = {}
    label = area_labels(pop)[1]
    waiting = [(sid, ids, members) for sid, ids, members in waiting_immigrants
               if year - members["first_year"] <= 1]      # an immigrant household waits one year at most
    immigrant_band.update((sid, label.get(members["area_id"], 0)) for sid, _, members in waiting)  # this year's label
    seekers.add_many([w[0] for w in waiting], "immigrant", [1] * len(waiting), [w[2]["wants_almen"] for w in waiting],
                     [w[2]["municipality"] for w in waiting], None, [w[1] for w in waiting],
                     [{**members, "arrive": day(year, 1, IMMIGRATION_DAY), "birth": members["birth"]}
                      for _, _, members in waiting])
    _add_immigrants(seekers, immigrant_band, label, pop, rates, seed, rep, year)
    # almen seekers apply in one area of their municipality (or outside any), drawn by the estimated
    # shares of their head's group; an immigrant household where its donor household arrived
    sids = np.fromiter(seekers.kind, dtype=np.int64, count=len(seekers.kind))      # in the order added
    immigrant = is_in(np.fromiter(immigrant_band, dtype=np.int64, count=len(immigrant_band)), sids)
    by_id = np.argsort(sids, kind="stable")
    municipality = np.fromiter(seekers.municipality.values(), dtype=np.int64, count=sids.size)[by_id]  # (same order)
    ids = sids[by_id][~immigrant[by_id]]                  # ascending
    if ids.size:
        rows = sorted_lookup(head_ids, head_rows, ids, -1)
        munis = municipality[~immigrant[by_id]]
        known = rows >= 0                      # (a household always has a member: the defaults never apply)
        labels = rates.area_choice.draw_labels(np.where(known, pop.nonwestern[rows], 0).astype(np.int64),
                                               np.where(known, basic[rows], True).astype(np.int64), munis,
                                               rng.uniform(seed, rep, ids, year, rng.AREA_CHOICE), label)
        seekers.area_band.update(zip(ids.tolist(), labels.tolist()))
    seekers.area_band.update(immigrant_band)
    # the second area: of the almen seekers with a head row or an immigrant's group
    wants = np.fromiter(seekers.wants_almen.values(), dtype=bool, count=sids.size)[by_id]
    ascending = sids[by_id]
    has_head = sorted_lookup(head_ids, np.ones(head_ids.size, dtype=bool), ascending, False)
    chosen = wants & (has_head | immigrant[by_id])
    second = ascending[chosen]
    rows = sorted_lookup(head_ids, head_rows, second, -1)
    nw2, basic2 = pop.nonwestern[rows].astype(np.int64), basic[rows].astype(np.int64)
    for i in np.flatnonzero(immigrant[by_id][chosen]).tolist():   # an immigrant household's group, not its head's
        nw2[i], basic2[i] = int(seekers.new_members[int(second[i])]["nonwestern"][0]), 1
    seekers.second_band = second_choices_of(rates.area_choice, second, nw2, basic2, municipality[chosen], label, seed,
                                            rep, year)
    return seekers


def _add_movers(seekers: Seekers, pop: Population, households: np.ndarray, members: np.ndarray,
                to_rehouse: np.ndarray, month: np.ndarray, wants: np.ndarray, muni: np.ndarray, home_muni: np.ndarray,
                dwelling: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Moving households (ascending ids) as seekers; a household to rehouse seeks an almen dwelling
    from January in its own municipality. Returns (the households with a member, the row of each one's
    oldest member: the first row among equal births). `members`: per person, whether it belongs to
    one of `households`."""
    rows, bounds = rows_by_household(pop, households, members)
    oldest_row = oldest_members(rows, pop.birth, bounds)
    pids = pop.pid[rows]
    sids = households.tolist()
    kinds = ["rehousing" if r else "mover" for r in to_rehouse.tolist()]   # two shared strings, not one per seeker
    seekers.add_many(sids, kinds,
                     np.where(to_rehouse, 1, month).tolist(), (wants | to_rehouse).tolist(),
                     np.where(to_rehouse, home_muni, muni).tolist(), dwelling.tolist(),
                     [pids[a:b] for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist())])
    has_head = np.flatnonzero(oldest_row >= 0)
    return households[has_head], oldest_row[has_head]


def oldest_members(rows: np.ndarray, birth: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Per group `rows[bounds[g]:bounds[g + 1]]`: the row of the smallest (birth, row), -1 for an empty
    group. A minimum per group (two passes) instead of a three-key lexsort of every member (some
    0.3 s nationally: a million members a year)."""
    sizes = np.diff(bounds)
    out = np.full(sizes.size, -1, dtype=np.int64)
    full = np.flatnonzero(sizes > 0)
    if full.size == 0:
        return out
    starts = bounds[full]                    # (empty groups between them have no width)
    b = birth[rows]
    earliest = np.repeat(np.minimum.reduceat(b, starts), sizes[full])
    out[full] = np.minimum.reduceat(np.where(b == earliest, rows, np.iinfo(np.int64).max).astype(np.int64), starts)
    return out


def _add_immigrants(seekers: Seekers, immigrant_band: dict[int, int], label: dict[str, int], pop: Population,
                    rates: Rates, seed: int, rep: int, year: int) -> None:
    """The year's new immigrant households: clones of recent immigrant households (members oldest
    first), seeking where their donor household arrived (municipality, almen or not, area: its
    label in `label`, 0 for none)."""
    pool = rates.immigrant_pool
    if not pool.height or rates.immigrant_households <= 0:
        return
    dw = pop.dwellings
    n = int(rates.immigrant_households // 1) + int(
        rng.uniform(seed, rep, 0, year, rng.IMMIGRANT_COUNT)[0] < rates.immigrant_households % 1)
    pool_hh = pool["household"].to_numpy()
    households = sorted_unique(pool_hh)
    slots = np.arange(n, dtype=np.int64)
    picks = households[rng.integers(seed, rep, slots, year, rng.IMMIGRANT_DONOR, households.size)]
    munis = _municipalities(dw.municipality[dw.active])
    fallback = munis[rng.integers(seed, rep, slots, year, rng.IMMIGRANT_MUNICIPALITY, munis.size)]
    imonth = rng.integers(seed, rep, slots, year, rng.MOVE_MONTH, 12) + 1
    hh_ids = rng.new_ids(seed, rep, slots, year, rng.IMMIGRANT_DONOR, base=HOUSEHOLD_BASE)
    if n == 0:
        return
    # the donor household's first row (its arrival) and its members oldest first (ties in pool order)
    age = pool["age"].to_numpy()
    by_household = np.argsort(pool_hh, kind="stable")
    first_row = by_household[np.searchsorted(pool_hh[by_household], picks)]
    members = np.lexsort((np.arange(pool_hh.size), -age, pool_hh))
    lo = np.searchsorted(pool_hh[members], picks, side="left")
    hi = np.searchsorted(pool_hh[members], picks, side="right")
    donor_muni = pool["municipality"].to_numpy()[first_row]
    known = ~pool["municipality"].is_null().to_numpy()[first_row] & np.isin(donor_muni, munis)
    chosen_muni = np.where(known, donor_muni, fallback)
    iwants = pool["almen"].fill_null(False).to_numpy()[first_row].astype(bool)
    donor_area = pool["area_id"].to_numpy()[first_row]
    iband = np.array([label.get(a, 0) for a in donor_area.tolist()], dtype=np.int64)
    immigrant_band.update(zip(hh_ids.tolist(), iband.tolist()))
    # every clone's members at once, then sliced per household
    count = hi - lo
    rows = members[np.repeat(lo, count) + _within(count)]
    arrive = np.array([day(year, int(m), IMMIGRATION_DAY) for m in imonth], dtype=np.int64)
    person_ids = rng.new_ids(seed, rep, np.repeat(hh_ids, count) + _within(count), year, rng.NEW_ID,
                             base=PERSON_BASE)
    birth = np.repeat(arrive, count) - (age[rows] * 365.25 + 180).astype(np.int64)
    female = pool["female"].to_numpy()[rows]
    origin = np.array([ORIGIN_CODES[o] for o in pool["origin"].to_numpy()[rows]], dtype=np.int8)
    country = pool["country_code"].to_numpy()[rows].astype(object)
    nonwestern = pool["nonwestern"].to_numpy()[rows]
    outside_fte = pool["outside_fte"].to_numpy()[rows]
    bounds = np.r_[0, np.cumsum(count)]
    sids, months, wants, munis = hh_ids.tolist(), imonth.tolist(), iwants.tolist(), chosen_muni.tolist()
    seekers.add_many(sids, "immigrant", months, wants, munis, None,
                     [person_ids[a:b] for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist())], [
        {"birth": birth[a:b], "female": female[a:b], "origin": origin[a:b], "country": country[a:b],
         "nonwestern": nonwestern[a:b], "arrive": arr, "outside_fte": outside_fte[a:b],
         "municipality": mu, "wants_almen": w, "first_year": year, "area_id": area_k}
        for a, b, arr, w, mu, area_k in zip(bounds[:-1].tolist(), bounds[1:].tolist(), arrive.tolist(), wants, munis,
                                            donor_area.tolist())])


def _municipalities(codes: np.ndarray) -> np.ndarray:
    """`sorted_unique` of municipality codes (small non-negative integers: a count per code instead
    of sorting three million)."""
    if codes.size and codes.dtype.kind in "iu" and 0 <= codes.min() and codes.max() < 1 << 20:
        return np.flatnonzero(np.bincount(codes)).astype(codes.dtype)
    return sorted_unique(codes)


def _within(count: np.ndarray) -> np.ndarray:
    """0, 1, ..., c-1 for every c in `count`, concatenated."""
    total = int(count.sum())
    return np.arange(total, dtype=np.int64) - np.repeat(np.r_[0, np.cumsum(count)[:-1]], count)


def rows_by_household(pop: Population, households: np.ndarray, members: np.ndarray | None = None
                      ) -> tuple[np.ndarray, np.ndarray]:
    """(rows of the members of `households` (ascending ids), grouped by household with ascending rows
    in each group; group boundaries, one more than households). `members`: the persons' mask of
    membership when the caller has it."""
    rows = np.flatnonzero(is_in(households, pop.household) if members is None else members)
    order = rows[np.argsort(pop.household[rows], kind="stable")]
    bounds = np.searchsorted(pop.household[order], households, side="left")
    return order, np.r_[bounds, order.size]


def members_by_household(pop: Population, households: np.ndarray) -> dict[int, np.ndarray]:
    """Household id -> rows of its members in ascending order (as `flatnonzero(pop.household == h)`)."""
    rows = np.flatnonzero(is_in(households, pop.household))
    order = rows[np.argsort(pop.household[rows], kind="stable")]
    hh = pop.household[order]
    out: dict[int, np.ndarray] = {int(h): np.zeros(0, dtype=np.int64) for h in np.asarray(households).tolist()}
    if hh.size:
        starts = np.flatnonzero(np.r_[True, hh[1:] != hh[:-1]])
        for part in np.split(order, starts[1:]):
            out[int(pop.household[part[0]])] = part
    return out


__all__ = ["IMMIGRATION_DAY", "area_labels", "area_share_array", "area_shares", "draw_seekers", "household_area_band",
           "members_by_household",
           "rows_by_household"]
