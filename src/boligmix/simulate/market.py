"""Moves and letting in the loop: who wants to move, which dwellings fall vacant, who gets them.

Each year: households decide to move by the estimated hazards (tenure, head age, size, the
area's non-western share); young adults leave home; immigrant households arrive. Each seeker
wants an almen dwelling or another tenure (estimated destination shares). Month by month every
vacant dwelling is let: an almen dwelling through `LettingEngine` under the policies in force
(channels, shares, bars, priorities and ranking exactly as the engine decides them), another
dwelling to a random seeker of its municipality. A household that moves frees its old dwelling,
which is let later in the same month (vacancy chains). Seekers not housed by the year's end stay
where they are (immigrants do not arrive).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import numpy as np
import polars as pl

from boligmix.letting.engine import LettingContext, LettingEngine
from boligmix.letting.ledger import LettingLedger
from boligmix.letting.model import Applicant, Channel, Dwelling, Outcome, Vacancy
from boligmix.letting.policy import PolicySet
from boligmix.simulate import rng
from boligmix.simulate.applicants import ApplicantFactory, RowIndex, Seekers
from boligmix.simulate.demography import HOUSEHOLD_BASE, PERSON_BASE, heads, person_rows
from boligmix.simulate.pools import SeekerPool, first_by
from boligmix.simulate.population import ALMEN, NO_HOUSEHOLD, ORIGIN_CODES, Population, day
from boligmix.simulate.destination import basic_education
from boligmix.simulate.rates import HEAD_BANDS, LEAVE_BANDS, SIZE_BANDS, Rates, area_band, band

MOVE_DAY, LEAVE_DAY, IMMIGRATION_DAY = 1, 8, 12
WINDOW = 25
"""Waiting-list applicants handed to the engine per round (most senior plausible ones first)."""
WINDOWS = 3


@dataclass
class MarketResult:
    lettings: list[dict] = field(default_factory=list)
    moved_households: int = 0
    flows: list[tuple[str | None, str | None, int]] = field(default_factory=list)
    waiting_immigrants: list = field(default_factory=list)
    """Immigrant households not housed this year (they try again next year)."""
    """(area moved from, area moved to, persons) of every move (None: outside any area or from abroad)."""
    unhoused: dict[str, int] = field(default_factory=dict)


def area_shares(pop: Population) -> dict[str, float]:
    """Share of non-western residents per area (for the move hazards' area band)."""
    share, names = area_share_array(pop)
    return {a: float(share[i]) for i, a in enumerate(names) if not np.isnan(share[i])}


def area_share_array(pop: Population) -> tuple[np.ndarray, list[str]]:
    """(per area code: share of non-western residents, NaN without residents; the area ids)."""
    codes, names = pop.dwellings.area_codes()
    person_code = codes[pop.dwellings.position(pop.dwelling)]
    inside = person_code >= 0
    n = np.bincount(person_code[inside], minlength=len(names))
    nw = np.bincount(person_code[inside], weights=pop.nonwestern[inside], minlength=len(names))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, nw / np.maximum(n, 1), np.nan), names


def area_labels(pop: Population) -> tuple[np.ndarray, dict[str, int]]:
    """(per dwelling: the label of its area, 0 for none; area id -> label): the labels seekers apply
    under (`Seekers.area_band`)."""
    codes, names = pop.dwellings.area_codes()
    return codes + 1, {a: i + 1 for i, a in enumerate(names)}


def household_area_band(pop: Population, pos: np.ndarray) -> np.ndarray:
    """The move hazards' area band of the dwellings at `pos` (0: no area)."""
    share, _ = area_share_array(pop)
    codes, _ = pop.dwellings.area_codes()
    code = codes[pos]
    value = np.where(code >= 0, np.nan_to_num(share[np.maximum(code, 0)]), 0.0)
    return area_band(value, code >= 0)


def draw_seekers(pop: Population, rates: Rates, seed: int, rep: int, year: int, rehousing: dict[int, int],
                 waiting_immigrants: list[tuple[int, np.ndarray, dict]] = ()) -> Seekers:
    """Movers, home leavers and immigrants of `year` (not yet housed); `waiting_immigrants` are
    immigrant households of earlier years that found no dwelling and try again from January."""
    dw = pop.dwellings
    hh, head, size = heads(pop)
    pos = dw.position(pop.dwelling[head])
    age = pop.age_on(day(year))
    p = rates.move[dw.tenure[pos], band(age[head], HEAD_BANDS), band(size, SIZE_BANDS), household_area_band(pop, pos)]
    u = rng.uniform(seed, rep, hh, year, rng.MOVE)
    moving = (u < p) | np.isin(hh, list(rehousing))
    from_almen = (dw.tenure[pos] == ALMEN).astype(int)
    nw = pop.nonwestern[head].astype(int)
    basic = basic_education(pop, np.arange(pop.size), year)
    wants = rng.uniform(seed, rep, hh, year, rng.DESTINATION) < rates.destination_almen[from_almen, nw,
                                                                                        basic[head].astype(int)]
    month = rng.integers(seed, rep, hh, year, rng.MOVE_MONTH, 12) + 1
    seekers = Seekers()
    members = _members_by_household(pop, hh[moving])
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
        immigrant_band[sid] = members["area_band"]
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
        # a clone seeks where its donor household arrived: municipality, almen or not, area
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
                         "area_band": immigrant_band[int(hh_ids[k])]})
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
    return seekers


def _members_by_household(pop: Population, households: np.ndarray) -> dict[int, np.ndarray]:
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


def _head_rows(pop: Population, seekers: Seekers) -> dict[int, int]:
    """Per seeker with members in the population: the row of its oldest member (the first such row
    among equal births). Immigrant households are not in the population yet (not in the result)."""
    sids, pids = [], []
    for sid in seekers.kind:
        if seekers.new_members[sid] is None:
            sids.append(np.full(seekers.members[sid].size, sid, dtype=np.int64))
            pids.append(seekers.members[sid])
    if not pids:
        return {}
    sid_of, pid_of = np.concatenate(sids), np.concatenate(pids)
    order = np.argsort(pop.pid, kind="stable")
    found = np.searchsorted(pop.pid[order], pid_of)
    hit = found < pop.size
    hit[hit] = pop.pid[order[found[hit]]] == pid_of[hit]
    rows, owner = order[found[hit]], sid_of[hit]
    # the row with the earliest birth, the first row among equal births, per seeker
    pick = np.lexsort((rows, pop.birth[rows], owner))
    owner, rows = owner[pick], rows[pick]
    first = np.r_[True, owner[1:] != owner[:-1]]
    return dict(zip(owner[first].tolist(), rows[first].tolist()))


class Market:
    """Lets every vacancy of one simulated year, month by month."""

    def __init__(self, pop: Population, policies: PolicySet, factory: ApplicantFactory, categories: dict[str, frozenset],
                 seed: int, rep: int, year: int, ledger: LettingLedger, demolish: set[int],
                 check_rules: bool = False, skip_unchanged: bool = True) -> None:
        """`check_rules`: re-assess every winner with `LettingEngine.assess` under the policies in
        force and raise SimulationError unless it is eligible (used by the tests).
        `skip_unchanged=False` offers an unlet vacancy again every month even when its pool has no
        candidate the engine has not assessed (the tests' oracle for the shortcut)."""
        self.pop, self.policies, self.factory = pop, policies, factory
        self.categories, self.seed, self.rep, self.year = categories, seed, rep, year
        self.engine = LettingEngine(policies, ledger, id_prefix=f"{year}/")
        self.demolish = demolish
        self.check_rules = check_rules
        self.skip_unchanged = skip_unchanged
        self.checked = 0
        almen = np.flatnonzero(pop.dwellings.tenure == ALMEN)
        factory.set_dwellings({int(pop.dwellings.ids[i]): pop.dwellings.department[i] for i in almen},
                              {int(pop.dwellings.ids[i]): pop.dwellings.org[i] for i in almen})
        self.vacancies: dict[int, Vacancy] = {}
        self.band = area_labels(pop)[0]
        self.result = MarketResult()
        self._referral_keys: dict[int, tuple[float, int]] = {}
        self._position: RowIndex | None = None
        """Person id -> row in the population arrays (rows do not move during the market: immigrants
        are appended when the year's market closes)."""
        self._members: dict[int, np.ndarray] = {}
        """Household id -> rows of its members (ascending), for the households that seek; kept
        up to date when a member leaves home."""
        self._arrivals: list[tuple[int, int, int]] = []
        self._tried: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray, int, tuple | None]] = {}
        """Dwelling position -> (waiting-list, referral, rehousing seekers) the engine already assessed
        for its open vacancy without a letting, and the ledger's redirected referrals then. A seeker's
        facts are fixed for the year, so they are not handed in again; a vacancy with no new
        candidate (and no new redirected referral) is not offered again (`skipped_offers`)."""
        self.skipped_offers = 0
        self.offer_rounds = 0

    def letting_dwelling(self, pos: int) -> Dwelling:
        dw = self.pop.dwellings
        d = int(dw.ids[pos])
        area = dw.area[pos]
        rent = float(dw.rent[pos])
        return Dwelling(d, int(dw.municipality[pos]), dw.org[pos], dw.department[pos], int(dw.rooms[pos]),
                        area, self.categories.get(area, frozenset()) if area else frozenset(),
                        dw.almen_type[pos] or "family", float(dw.floor_area[pos]), None if np.isnan(rent) else rent)

    def _index(self, seekers: Seekers) -> None:
        pop = self.pop
        self._position = self.factory.index if self.factory.index is not None else RowIndex(pop.pid)
        households = np.array([s for s, k in seekers.kind.items() if k in ("mover", "rehousing")], dtype=np.int64)
        self._members = _members_by_household(pop, households)
        self.factory.members_of = self.members_of

    def members_of(self, household: int) -> np.ndarray:
        """Rows of the members of a seeking household (as `flatnonzero(pop.household == household)`)."""
        rows = self._members.get(household)
        return rows if rows is not None else np.flatnonzero(self.pop.household == household)

    def row_of(self, pid: int) -> int | None:
        return self._position.get(int(pid))

    def _arrive(self) -> None:
        """Add the immigrants housed this year to the population (in the order they moved in)."""
        if not self._arrivals:
            return
        pop = self.pop
        parts: dict[str, list[np.ndarray]] = {k: [] for k in ("pid", "birth", "female", "origin", "country",
                                                              "nonwestern", "household", "dwelling", "spell_start")}
        frames = []
        for s, dwelling, arrive in self._arrivals:
            m, ids = self._seekers.new_members[s], self._seekers.members[s]
            for name, value in (("pid", ids), ("birth", m["birth"]), ("female", m["female"]), ("origin", m["origin"]),
                                ("country", m["country"]), ("nonwestern", m["nonwestern"]),
                                ("household", np.full(ids.size, s)), ("dwelling", np.full(ids.size, dwelling)),
                                ("spell_start", np.full(ids.size, arrive))):
                parts[name].append(np.asarray(value).astype(getattr(pop, name).dtype))
            frames.append(person_rows(ids, m["birth"], m["female"], m["origin"], m["country"]))
        pop.add(**{name: np.concatenate(values) for name, values in parts.items()})
        pop.persons_frame = pl.concat([pop.persons_frame, *frames])
        self._arrivals = []

    def run(self, seekers: Seekers) -> MarketResult:
        dw = self.pop.dwellings
        self._seekers = seekers
        self._index(seekers)
        self._pools = {key: SeekerPool(list(sids), seekers) for key, sids in seekers._by_group.items()}
        for month in range(1, 13):
            now = datetime(self.year, month, 1, 9)
            queue = sorted(int(p) for p in np.flatnonzero((dw.household == NO_HOUSEHOLD) & dw.active
                                                          & (dw.vacant_from <= month)))
            seen: set[int] = set()
            while queue:
                pos = queue.pop(0)
                if pos in seen or dw.household[pos] != NO_HOUSEHOLD:
                    continue
                seen.add(pos)
                winner, record = (self._let_almen(pos, seekers, month, now) if dw.tenure[pos] == ALMEN
                                  else self._let_other(pos, seekers, month))
                if winner is None:
                    continue
                freed = self._move_in(winner, pos, seekers, month)
                if record is not None:
                    self.result.lettings.append(record)
                if freed is not None and dw.active[freed]:
                    queue.append(freed)        # vacancy chain: let later in the same month
        self._arrive()
        for kind in ("mover", "leaver", "immigrant", "rehousing"):
            self.result.unhoused[kind] = int(sum(1 for s in seekers.active(12) if seekers.kind[s] == kind))
        self.result.waiting_immigrants = [(s, seekers.members[s], seekers.new_members[s]) for s in seekers.active(12)
                                          if seekers.kind[s] == "immigrant"]
        return self.result

    # ------------------------------------------------------------------------------------------

    def _let_other(self, pos: int, seekers: Seekers, month: int) -> tuple[int | None, None]:
        dw = self.pop.dwellings
        muni = int(dw.municipality[pos])
        group = self._pools.get((muni, False))
        if group is None:
            return None, None
        cands = group.sid[group.select(month, int(dw.ids[pos]), None)]
        if not cands.size:
            return None, None
        keys = rng.uniform(self.seed, self.rep, cands ^ int(dw.ids[pos]), self.year, rng.MARKET_ORDER * 100 + month)
        return int(cands[int(np.argmin(keys))]), None

    def _let_almen(self, pos: int, seekers: Seekers, month: int, now: datetime) -> tuple[int | None, dict | None]:
        dw = self.pop.dwellings
        band_here = int(self.band[pos]) if pos < self.band.size else 0
        group = self._pools.get((int(dw.municipality[pos]), True)) or SeekerPool([], seekers)
        past_first = month > int(dw.vacant_from[pos])
        state = (int(group.decided[month]), past_first, len(self.engine.ledger.redirected))
        tried = self._tried.get(pos)
        if tried is not None and tried[4] == state and self.skip_unchanged:
            # every candidate of the last round's pool was assessed and no seeker decided since:
            # the same answer (the cheap test before the pool is selected)
            self.skipped_offers += 1
            return None, None
        vacancy = self.vacancies.get(pos)
        if vacancy is None:
            dwelling = self.letting_dwelling(pos)
            vacancy = Vacancy(f"{self.year}-{dwelling.dwelling_id}-{len(self.result.lettings)}", dwelling,
                              date(self.year, month, 1))
            self.vacancies[pos] = vacancy
        dwelling = vacancy.dwelling
        per_room, over = self.factory.size_limits(dwelling, now.date(), self.policies)
        fits, referral_pool, rehousing = self._candidates(group, seekers, dwelling, month, band_here, tried,
                                                          per_room, over)
        if past_first and not self._news(vacancy, len(self.engine.ledger.redirected), fits, referral_pool, rehousing):
            # unlet for a month and no seeker of its area left to assess: every seeker may apply
            fits, referral_pool, rehousing = self._candidates(group, seekers, dwelling, month, None, tried,
                                                              per_room, over)
        if tried is not None and self.skip_unchanged and not self._news(vacancy, tried[3], fits, referral_pool,
                                                                        rehousing):
            self.skipped_offers += 1           # no new candidate since the last round: the same answer
            self._tried[pos] = (*tried[:4], state)
            return None, None
        context = LettingContext(
            referrals=[self.factory.applicant(s, seekers, dwelling, now.date(), "municipal_referral", k)
                       for k, s in enumerate(referral_pool[:WINDOW])],
            rehousing=[self.factory.applicant(s, seekers, dwelling, now.date(), "rehousing", k)
                       for k, s in enumerate(rehousing[:WINDOW])])
        for w in range(WINDOWS):
            window = fits[w * WINDOW:(w + 1) * WINDOW]
            if w and not window:
                break
            applicants = [self.factory.applicant(s, seekers, dwelling, now.date(), None) for s in window]
            round_ = self.engine.next_offers(vacancy, applicants, context if w == 0 else LettingContext(), now)
            self.offer_rounds += 1
            if round_.offers:
                offer = round_.offers[0]
                if self.check_rules:
                    self._check(vacancy, offer, [*applicants, *context.referrals, *context.rehousing], now)
                update = self.engine.accept(offer.offer_id, now)
                letting = update.lettings[0]
                del self.vacancies[pos]
                self._tried.pop(pos, None)
                self._forget_offers(vacancy)
                return int(offer.applicant_id), self._record(round_, letting, offer.applicant_id, seekers, dwelling, now)
        channel = self.engine.ledger.vacancy_channel.get(vacancy.vacancy_id)
        complete = {Channel.WAITING_LIST: len(fits) < WINDOW * WINDOWS, Channel.FLEKSIBEL: len(fits) < WINDOW * WINDOWS,
                    Channel.KOMMUNAL_ANVISNING: len(referral_pool) < WINDOW, Channel.REHOUSING: len(rehousing) < WINDOW
                    }.get(channel, False)
        self._remember_tried(pos, fits[:WINDOW * (w + 1)], referral_pool, rehousing, state if complete else None)
        return None, None

    def _candidates(self, group: SeekerPool, seekers: Seekers, dwelling: Dwelling, month: int, band: int | None,
                    tried: tuple | None, per_room: float | None, over: float | None
                    ) -> tuple[list[int], list[int], list[int]]:
        """(waiting-list, referral, rehousing) candidates of the pool applying in `band` (None: any)
        not yet assessed for the vacancy: the most senior fitting the size constants, the first by
        the referral order, the first households to rehouse."""
        factory = self.factory
        rows = group.select(month, dwelling.dwelling_id, band)
        group.fill(rows, lambda s: factory.size(s, seekers), lambda s: factory.urgent(s, seekers),
                   lambda s: factory.seniority(s, seekers).toordinal(), lambda s: self._referral_key(s)[0])
        size = group.size[rows]
        fit = np.ones(rows.size, dtype=bool)
        if per_room is not None:
            fit &= ~(size > per_room * dwelling.rooms)
        if over is not None:
            fit &= ~(dwelling.rooms - size > over)
        if tried is not None:                  # the candidates not yet assessed for this vacancy, per list
            sid = group.sid[rows]
            fit &= ~np.isin(sid, tried[0])
            referable = ~group.rehousing[rows] & group.urgent[rows] & ~np.isin(sid, tried[1])
            rehoused = group.rehousing[rows] & ~np.isin(sid, tried[2])
        else:
            referable = ~group.rehousing[rows] & group.urgent[rows]
            rehoused = group.rehousing[rows]
        fits = group.sid[first_by(rows[fit], group.seniority, group.sid, WINDOW * WINDOWS)].tolist()
        referral_pool = group.sid[first_by(rows[referable], group.referral, group.sid, WINDOW)].tolist()
        rehousing = group.sid[rows[rehoused][:WINDOW]].tolist()
        return fits, referral_pool, rehousing

    def _news(self, vacancy: Vacancy, redirected: int, waiting: list[int], referrals: list[int],
              rehousing: list[int]) -> bool:
        """Whether an earlier round's answer for `vacancy` may change: a new candidate in the list its
        channel reads (the redirected referrals the engine adds, too, for the referral channels)."""
        channel = self.engine.ledger.vacancy_channel.get(vacancy.vacancy_id)
        if channel in (Channel.KOMMUNAL_ANVISNING, Channel.REHOUSING):
            return bool(referrals if channel == Channel.KOMMUNAL_ANVISNING else rehousing) or \
                redirected != len(self.engine.ledger.redirected)
        if channel in (Channel.WAITING_LIST, Channel.FLEKSIBEL):
            return bool(waiting)
        return bool(waiting or referrals or rehousing) or redirected != len(self.engine.ledger.redirected)

    def _remember_tried(self, pos: int, waiting: list[int], referrals: list[int], rehousing: list[int],
                        state: tuple | None) -> None:
        """`state`: (seekers decided, any band, redirected referrals) when every candidate of the pool
        was handed in (None: some were left for a later round)."""
        old = self._tried.get(pos)
        lists = [np.asarray(new, dtype=np.int64) if old is None else np.concatenate([old[i], new]).astype(np.int64)
                 for i, new in enumerate((waiting, referrals, rehousing))]
        self._tried[pos] = (*lists, len(self.engine.ledger.redirected), state)

    def _forget_offers(self, vacancy: Vacancy) -> None:
        """Keep the ledger's working tables to what can still change: a let vacancy's offers (all won
        or withdrawn; every acceptance scans the offer table for the winner's other offers), its entry
        in the open vacancies and their channels, and the refusal counts handed in (always 0 here).
        The engine copies those tables at the start of every round (its rollback checkpoint), so
        they would otherwise make a year's rounds quadratic in its vacancies and applicants. Rounds,
        decisions, lettings, share counters, entitlements and redirects stay."""
        ledger = self.engine.ledger
        for rid in ledger.vacancy_rounds.get(vacancy.vacancy_id, ()):
            for offer in ledger.rounds[rid].offers:
                ledger.offers.pop(offer.offer_id, None)
        ledger.vacancies.pop(vacancy.vacancy_id, None)
        ledger.vacancy_channel.pop(vacancy.vacancy_id, None)
        ledger.base_refusals.clear()

    def _referral_key(self, sid: int) -> tuple[float, int]:
        """The municipality's referral order of a seeker (drawn once per seeker and year)."""
        key = self._referral_keys.get(sid)
        if key is None:
            key = self._referral_keys[sid] = (float(rng.uniform(self.seed, self.rep, sid, self.year,
                                                                rng.REFERRAL_ORDER)[0]), sid)
        return key

    def _check(self, vacancy: Vacancy, offer, candidates: list[Applicant], now: datetime) -> None:
        from boligmix.errors import SimulationError

        carried = [r.applicant for r in self.engine.ledger.redirected.values()]   # § 59 redirects the engine adds
        applicant = next(a for a in [*candidates, *carried] if a.applicant_id == offer.applicant_id
                         and (offer.channel in (Channel.KOMMUNAL_ANVISNING, Channel.REHOUSING)) ==
                         (a.list_type.value in ("municipal_referral", "rehousing")))
        assessment = self.engine.assess(vacancy, applicant, offer.channel, now)
        if assessment.outcome is not None:
            raise SimulationError(f"letting of dwelling {vacancy.dwelling.dwelling_id} to {applicant.applicant_id} "
                                  f"breaks {assessment.hit.rule.rule_id if assessment.hit else '?'}: {assessment.reason}")
        self.checked += 1

    def _record(self, round_, letting, winner: int, seekers: Seekers, dwelling: Dwelling, now: datetime) -> dict:
        decisions = [d for r in self.engine.ledger.vacancy_rounds[round_.vacancy_id]
                     for d in self.engine.ledger.rounds[r].decisions]
        channel_rule = next((d.rule_id for d in decisions if d.outcome == Outcome.CHANNEL and d.channel == round_.channel),
                            None) or next((d.rule_id for d in decisions if d.outcome == Outcome.CHANNEL), None)
        rejected = sorted({d.rule_id for d in decisions if d.outcome == Outcome.REJECTED and d.rule_id})
        profile = self.factory.profile(winner, seekers, now.date())
        current = seekers.dwelling[winner]
        if current is None and seekers.kind[winner] == "leaver":   # a home leaver comes from the parents' dwelling
            i = self.row_of(seekers.members[winner][0])
            current = int(self.pop.dwelling[i]) if i is not None else None
        profile["from_area_id"] = self.pop.dwellings.area[self.pop.dwellings.index[current]] if current is not None \
            else None
        return {"date": now.date(), "dwelling_id": dwelling.dwelling_id, "area_id": dwelling.area_id,
                "department_id": dwelling.department_id, "channel": letting.channel.value,
                "channel_rule": channel_rule, "ranking_rule": f"{round_.policies[0].policy_id}" if round_.policies else None,
                "rejected": sum(1 for d in decisions if d.outcome == Outcome.REJECTED),
                "rejected_rules": ";".join(rejected), "household_id": winner, "seeker_kind": seekers.kind[winner],
                **profile}

    def _move_in(self, s: int, pos: int, seekers: Seekers, month: int) -> int | None:
        """Seeker `s` moves into dwelling `pos`; returns the position of the dwelling it frees."""
        pop, dw = self.pop, self.pop.dwellings
        kind = seekers.kind[s]
        freed = None
        from_area = None
        on = day(self.year, month, {"mover": MOVE_DAY, "rehousing": MOVE_DAY, "leaver": LEAVE_DAY}.get(kind, IMMIGRATION_DAY))
        if kind == "immigrant":
            m = seekers.new_members[s]
            ids = seekers.members[s]
            self._arrivals.append((s, int(dw.ids[pos]), max(on, int(m["arrive"]))))
            pop.events["immigrants"] = pop.events.get("immigrants", 0) + ids.size
        else:
            if kind == "leaver":
                idx = np.array([r for r in map(self.row_of, seekers.members[s]) if r is not None], dtype=np.int64)
                idx.sort()
                for r in idx:                      # the leaver is no longer a member of the parents' household
                    rows = self._members.get(int(pop.household[r]))
                    if rows is not None:
                        self._members[int(pop.household[r])] = rows[rows != r]
            else:
                idx = self.members_of(s)
            from_area = dw.area[dw.index[int(pop.dwelling[idx[0]])]]
            if kind != "leaver":
                old = dw.index[int(pop.dwelling[idx[0]])]
                dw.household[old] = NO_HOUSEHOLD
                dw.vacant_from[old] = month
                freed = old
                if old in self.demolish:         # emptied for demolition: never let again
                    dw.active[old] = False
                    self.demolish.discard(old)
                    pop.events["demolished"] = pop.events.get("demolished", 0) + 1
            early = idx[pop.spell_start[idx] < on]  # a child born after the move date is born in the new dwelling
            pop.close_spells(early, on, None)
            pop.spell_start[early] = on
            pop.household[idx] = s
            pop.dwelling[idx] = dw.ids[pos]
        dw.household[pos] = s
        self.result.flows.append((from_area, dw.area[pos], int(seekers.members[s].size if kind in ("leaver", "immigrant")
                                                                else idx.size)))
        seekers.housed(s)
        self._pools[(seekers.municipality[s], seekers.wants_almen[s])].housed(s)
        self.result.moved_households += 1
        return freed


__all__ = ["Market", "MarketResult", "area_labels", "area_share_array", "area_shares", "draw_seekers", "household_area_band"]
