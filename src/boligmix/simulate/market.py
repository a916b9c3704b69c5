"""Moves and letting in the loop: which dwellings fall vacant and who gets them.

Month by month every vacant dwelling is let: an almen dwelling through `LettingEngine` under the
policies in force (`boligmix.simulate.almen_letting`: channels, shares, bars, priorities and ranking
exactly as the engine decides them), another dwelling to a random seeker of its municipality. A
household that moves frees its old dwelling, which is let later in the same month (vacancy chains).
Seekers (`boligmix.simulate.seekers.draw_seekers`) not housed by the year's end stay where they are
(immigrants do not arrive; they try again the next year).
"""

from __future__ import annotations

import gc
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import repeat

import numpy as np
import polars as pl

from boligmix.letting.ledger import LettingLedger
from boligmix.letting.policy import PolicySet
from boligmix.simulate import rng
from boligmix.simulate.almen_letting import AlmenLetting
from boligmix.simulate.applicants import ApplicantFactory, RowIndex, Seekers
from boligmix.simulate.demography import person_rows
from boligmix.simulate.first_reads import first_reads
from boligmix.simulate.lookup import is_in, sorted_positions
from boligmix.simulate.move_batch import MoveBatch, spans, views
from boligmix.simulate.pools import SeekerPool
from boligmix.simulate.population import ALMEN, NO_HOUSEHOLD, AlmenColumn, Population, day
from boligmix.simulate.seekers import (
    IMMIGRATION_DAY,
    area_labels,
    area_share_array,
    area_shares,
    draw_seekers,
    household_area_band,
    rows_by_household,
)

MOVE_DAY, LEAVE_DAY = 1, 8
VACANT = int(NO_HOUSEHOLD)
CARRIED_OVER = 1
"""`Dwellings.vacant_from` of a vacancy carried over from an earlier year: offered from January, as
the start state's vacancies are (its area's seekers first, after a month every seeker of its
municipality). Offering it to every seeker at once (0) was tried: the backcast of the tests' small
dataset, seed 1, then lost to "no change" by 0.003 in the mean absolute error after five years."""


@dataclass
class MarketResult:
    lettings: list[dict] = field(default_factory=list)
    moved_households: int = 0
    flows: Counter = field(default_factory=Counter)
    """(area moved from, area moved to) -> persons, summed over the year's moves (None: outside any area
    or from abroad)."""
    waiting_immigrants: list = field(default_factory=list)
    """Immigrant households not housed this year (they try again next year)."""
    unhoused: dict[str, int] = field(default_factory=dict)


class Market:
    """Lets every vacancy of one simulated year, month by month."""

    def __init__(self, pop: Population, policies: PolicySet, factory: ApplicantFactory, categories: dict[str, frozenset],
                 seed: int, rep: int, year: int, ledger: LettingLedger, demolish: set[int],
                 check_rules: bool = False, skip_unchanged: bool = True, screen: bool = True,
                 direct: bool = True, batched: bool = True) -> None:
        """`check_rules`: re-assess every winner with `LettingEngine.assess` under the policies in
        force and raise SimulationError unless it is eligible (used by the tests).
        `skip_unchanged=False` offers an unlet vacancy again every month even when its pool has no
        candidate the engine has not assessed; `screen=False` hands the engine every round's whole
        window; `direct=False` hands it the screened candidate instead of letting the dwelling to it
        directly (the tests' oracles for the three shortcuts). `batched=False` writes every move's
        members at once instead of a batch of moving households' members at a time (the oracle of
        `_apply_moves`)."""
        self.pop, self.seed, self.rep, self.year = pop, seed, rep, year
        self.factory = factory
        self.demolish = demolish
        factory.set_dwellings(AlmenColumn(pop.dwellings, pop.dwellings.department),
                              AlmenColumn(pop.dwellings, pop.dwellings.org))
        self.almen = AlmenLetting(pop, policies, factory, categories, seed, rep, year, ledger, self.row_of,
                                  check_rules=check_rules, skip_unchanged=skip_unchanged, screen=screen,
                                  direct=direct)
        self.band = area_labels(pop)[0]
        """Per dwelling: the label of its area (0: none), the labels almen seekers apply under."""
        self.result = MarketResult()
        self._position: RowIndex | None = None
        """Person id -> row in the population arrays (rows do not move during the market: immigrants
        are appended when the year's market closes)."""
        self._members: dict[int, np.ndarray] = {}
        """Household id -> rows of its members (ascending), for the seeking households a member left
        (home leavers); the others' rows are read from the grouped rows each time (a view kept per
        household read was some 100 bytes and a dictionary entry each, for every candidate)."""
        self._arrivals: list[tuple[int, int, int]] = []
        self._no_other: set[int] = set()
        """Municipalities without an open seeker of other tenures this month (seekers are housed, never
        added, within a month): their vacancies are not tried again until the next month."""
        self._closing: list[tuple[np.ndarray, ...]] = []
        """The month's moves' ended spells: (rows, household, dwelling, starts, end days, move numbers),
        as they were when the household moved (a person may move twice in a month; a home leaver
        alone: one spell as Python integers); closed at the month's end in the order moved."""
        self.batched = batched
        self._batch = MoveBatch()
        """Moves of whole households (movers, rehousing) whose members are not written yet;
        `_apply_moves` writes them."""
        self._batch_households: set[int] = set()
        self._flows: list[tuple[int, int, int]] = []
        """Moves not in the batch: (position moved from, -1 from abroad; position moved to; persons),
        summed into `MarketResult.flows` at the year's end (`_count_flows`)."""
        self._flow_parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        """The same of the batches written, as arrays."""
        self._moves = 0
        """Moves so far this year: orders the month's closed spells."""
        self._move_day = {kind: [0] + [day(year, m, d) for m in range(1, 13)] for kind, d in
                          (("mover", MOVE_DAY), ("rehousing", MOVE_DAY), ("leaver", LEAVE_DAY),
                           ("immigrant", IMMIGRATION_DAY))}

    @property
    def checked(self) -> int:
        """Lettings whose winner was re-assessed (`check_rules`)."""
        return self.almen.checked

    @property
    def skipped_offers(self) -> int:
        return self.almen.skipped_offers

    @property
    def offer_rounds(self) -> int:
        return self.almen.offer_rounds

    def _index(self, seekers: Seekers) -> None:
        pop = self.pop
        self._position = self.factory.index if self.factory.index is not None else RowIndex(pop.pid)
        households = np.sort(np.fromiter((s for s, k in seekers.kind.items() if k == "mover" or k == "rehousing"),
                                         dtype=np.int64))   # (ids are distinct)
        members = is_in(households, pop.household)   # hashed: numpy's sort-based isin took seconds nationally
        self._seeking = (households, *rows_by_household(pop, households, members))
        self._members = {}
        self.factory.members_of = self.members_of

    def members_of(self, household: int) -> np.ndarray:
        """Rows of the members of a seeking household (as `flatnonzero(pop.household == household)`)."""
        rows = self._seeking_rows(household)
        return rows if rows is not None else np.flatnonzero(self.pop.household == household)

    def _opening_rows(self, households: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """`members_of` of the `households` as the market opens, for all at once: (their rows
        concatenated, how many each, whether it is a seeking household: 0 rows if not)."""
        if self._members:
            raise AssertionError("the opening rows read after a member left home")
        ids, grouped, bounds = self._seeking
        at, seeking = sorted_positions(ids, households)
        lo = np.where(seeking, bounds[at], 0) if ids.size else np.zeros(households.size, dtype=np.int64)
        hi = np.where(seeking, bounds[at + 1], 0) if ids.size else lo
        return grouped[spans(lo, hi)], hi - lo, seeking

    def _member_leaves(self, household: int) -> None:
        """A member is leaving the seeking `household` (a home leaver moves): the members its first
        reads saw are kept, if it was read from its pool's `first_reads` (`_person` now, before he
        leaves: what the first read would have kept), else its `first_reads` are void."""
        group, row, _ = self._seeker_at.get(household, (None, None, None))
        reads = group.reads if group is not None else None
        if reads is None or not reads.valid[row]:
            return
        columns = group.columns
        if group.known[row] or columns is not None and columns.known[row]:
            self.factory._person(household, self._seekers)
        else:
            reads.valid[row] = False

    def _seeking_rows(self, household: int) -> np.ndarray | None:
        """Rows of a moving (or rehoused) household's members as the market opened, less those who
        have left home since; None for another household."""
        rows = self._members.get(household)
        if rows is None:                       # not kept (see `_members`)
            ids, grouped, bounds = self._seeking
            i = int(np.searchsorted(ids, household))
            if i == ids.size or ids[i] != household:
                return None
            rows = grouped[bounds[i]:bounds[i + 1]]
        return rows

    def row_of(self, pid: int) -> int | None:
        """Row of a resident; his household's move not written yet is written first (the letting's
        record reads a home leaver's dwelling through it)."""
        row = self._position.get(int(pid))
        if row is not None and self._batch_households and int(self.pop.household[row]) in self._batch_households:
            self._apply_moves()
        return row

    def release(self) -> None:
        """Break the market's reference cycles once its year is done (the letting's `row_of` and the
        factory's `members_of` are bound methods of the market), so dropping the market frees it by
        reference counting, not at the next full collection."""
        self.almen.row_of = None
        self.factory.members_of = None

    def _arrive(self) -> None:
        """Add the immigrants housed this year to the population (in the order they moved in)."""
        if not self._arrivals:
            return
        pop = self.pop
        members = [(self._seekers.new_members[s], self._seekers.members[s]) for s, _, _ in self._arrivals]
        sizes = [ids.size for _, ids in members]
        parts = {name: [m[name] for m, _ in members] for name in ("birth", "female", "origin", "country", "nonwestern")}
        parts["pid"] = [ids for _, ids in members]
        for name, value in (("household", 0), ("dwelling", 1), ("spell_start", 2)):
            parts[name] = [np.repeat(np.array([a[value] for a in self._arrivals], dtype=np.int64), sizes)]
        added = {name: np.concatenate([np.asarray(v) for v in values]).astype(getattr(pop, name).dtype)
                 for name, values in parts.items()}
        pop.add(**added)
        pop.persons_frame = pl.concat([pop.persons_frame, person_rows(added["pid"], added["birth"], added["female"],
                                                                      added["origin"], added["country"])])
        self._arrivals = []

    def run(self, seekers: Seekers) -> MarketResult:
        """Let the year's vacancies. The objects alive when the market opens (the population's, the
        seekers', the factory's: millions nationally) are kept out of the cyclic garbage collector's
        passes while it runs (`gc.freeze`, undone at its end; not when something froze them already):
        each full pass traversed them all, though the market frees what it makes by reference
        counting (some 8 % of the municipality's market was such passes)."""
        freeze = gc.get_freeze_count() == 0
        if freeze:
            gc.freeze()
        try:
            return self._run(seekers)
        finally:
            if freeze:
                gc.unfreeze()

    def _run(self, seekers: Seekers) -> MarketResult:
        dw = self.pop.dwellings
        self._seekers = seekers
        self._index(seekers)
        self._pools, self._seeker_at = {}, {}
        for key, members in seekers._by_group.items():
            sids = list(members)
            group = self._pools[key] = SeekerPool(sids, seekers)
            group.position = np.where(group.dwelling >= 0, dw.position(group.dwelling), -1)   # (-1: nowhere)
            self._seeker_at.update(zip(sids, zip(repeat(group), range(len(sids)), map(seekers.kind.__getitem__, sids))))
        for (_, almen), group in self._pools.items():
            if almen:                          # seniority, referral order, first reads: for all at once
                self.almen.key_pool(group, seekers)
                group.reads = first_reads(self.factory, group.sid, seekers, self._opening_rows)
        for month in range(1, 13):
            now = datetime(self.year, month, 1, 9)
            queue = deque(np.flatnonzero((dw.household == NO_HOUSEHOLD) & dw.active
                                         & (dw.vacant_from <= month)).tolist())   # ascending positions
            seen: set[int] = set()
            self._no_other = no_other = set()
            self._views = household, tenure, municipality, _, _ = views(dw)
            while queue:
                pos = queue.popleft()
                if pos in seen or household[pos] != VACANT:
                    continue
                seen.add(pos)
                if tenure[pos] == ALMEN:
                    winner, record = self._let_almen(pos, seekers, month, now)
                elif municipality[pos] in no_other:   # (what `_let_other` answers first, without the call)
                    continue
                else:
                    winner, record = self._let_other(pos, seekers, month), None
                if winner is None:
                    continue
                freed = self._move_in(winner, pos, seekers, month)
                if record is not None:
                    self.result.lettings.append(record)
                if freed is not None and dw.active[freed]:
                    queue.append(freed)        # vacancy chain: let later in the same month
            self._close_spells()
        self.almen.profiles.fill(seekers)      # the lettings' household profiles, all at once
        self._count_flows()
        self._arrive()
        # vacancies left unlet are carried over: vacant from next year's January (they were free from
        # a month of this year, which next year's market would read as its own)
        dw.vacant_from[(dw.household == NO_HOUSEHOLD) & dw.active] = CARRIED_OVER
        unhoused = seekers.active(12)          # one pass over the open seekers, not one per kind
        kinds = Counter(map(seekers.kind.__getitem__, unhoused))
        self.result.unhoused = {kind: kinds[kind] for kind in ("mover", "leaver", "immigrant", "rehousing")}
        self.result.waiting_immigrants = [(s, seekers.members[s], seekers.new_members[s]) for s in unhoused
                                          if seekers.kind[s] == "immigrant"]
        return self.result

    # ------------------------------------------------------------------------------------------

    def _let_almen(self, pos: int, seekers: Seekers, month: int, now: datetime) -> tuple[int | None, dict | None]:
        group = self._pools.get((int(self.pop.dwellings.municipality[pos]), True)) or SeekerPool([], seekers)
        band_here = int(self.band[pos]) if pos < self.band.size else 0
        return self.almen.let(pos, band_here, group, seekers, month, now, len(self.result.lettings))

    def _let_other(self, pos: int, seekers: Seekers, month: int) -> int | None:
        """Another tenure's vacancy goes to a random open seeker of its municipality: the one with the
        smallest of the month's keys (one uniform per seeker and month, `rng.OTHER_TENURE_ORDER`), so
        the month's vacancies take the seekers in a random order without a pass over all of them.
        Whether the pool has an open seeker at all (`SeekerPool.any_open`) is asked only when none is
        found (the month's order holds exactly the open seekers decided by the month)."""
        dw = self.pop.dwellings
        municipality = int(dw.municipality[pos])
        if municipality in self._no_other:
            return None
        group = self._pools.get((municipality, False))
        if group is not None:
            row = group.first_in_order(month, int(dw.ids[pos]), lambda sids: rng.uniform(
                self.seed, self.rep, sids, self.year, rng.OTHER_TENURE_ORDER * 100 + month))
            if row is not None:
                return int(group.sid[row])
            if group.any_open(month):          # (only the seekers living in this dwelling are open)
                return None
        self._no_other.add(municipality)       # no open seeker until the month's end (none is added within it)
        return None

    def _move_in(self, s: int, pos: int, seekers: Seekers, month: int) -> int | None:
        """Seeker `s` moves into dwelling `pos`; returns the position of the dwelling it frees."""
        pop, dw = self.pop, self.pop.dwellings
        household, _, _, vacant_from, ids = self._views
        group, row, kind = self._seeker_at[s]
        freed = None
        on = self._move_day[kind][month]
        if kind == "immigrant":
            ids = seekers.members[s]
            self._arrivals.append((s, int(dw.ids[pos]), max(on, int(seekers.new_members[s]["arrive"]))))
            pop.events["immigrants"] = pop.events.get("immigrants", 0) + ids.size
            self._flows.append((-1, pos, ids.size))
        elif kind == "leaver":
            idx = np.array([r for r in map(self.row_of, seekers.members[s]) if r is not None], dtype=np.int64)
            idx.sort()
            for r in idx.tolist():                 # the leaver is no longer a member of the parents' household
                rows = self._seeking_rows(int(pop.household[r]))
                if rows is not None:
                    self._member_leaves(int(pop.household[r]))
                    self._members[int(pop.household[r])] = rows[rows != r]
            old = dw.index[int(pop.dwelling[idx[0]])]
            self._move_members(idx, s, int(dw.ids[pos]), on, False)
            self._flows.append((old, pos, seekers.members[s].size))
        else:                                      # a household moves only once: it still lives where it did
            old = int(group.position[row])
            household[old] = VACANT
            vacant_from[old] = month
            freed = old
            if old in self.demolish:             # emptied for demolition: never let again
                dw.active[old] = False
                self.demolish.discard(old)
                pop.events["demolished"] = pop.events.get("demolished", 0) + 1
            if self.batched:                       # its members' rows are read when the batch is written
                self._batch.append(self._members.get(s), s, ids[pos], on, self._moves, old, pos)
                self._batch_households.add(s)
            else:
                idx = self.members_of(s)
                self._move_members(idx, s, int(dw.ids[pos]), on, True)
                self._flows.append((old, pos, idx.size))
        household[pos] = s
        self._moves += 1
        seekers.housed(s)
        group.housed(s)
        self.result.moved_households += 1
        return freed

    def _move_members(self, idx: np.ndarray, s: int, dwelling_id: int, on: int, whole: bool) -> None:
        """Persons at rows `idx` live in household `s` in dwelling `dwelling_id` from day `on`; their
        spells begun before `on` end then (a child born after it is born in the new dwelling). A whole
        household's move (`whole`: `s` is its id already) joins the batch `_apply_moves` writes; a home
        leaver's is written at once, after the batch if his household is in it (he moved with the
        parents earlier this month; `row_of` has written it before he was read, too)."""
        if whole and self.batched:
            self._batch.append(idx, s, dwelling_id, on, self._moves, -1, -1)
            self._batch_households.add(s)
            return
        pop = self.pop
        if self._batch_households and not self._batch_households.isdisjoint(pop.household[idx].tolist()):
            self._apply_moves()
        if idx.size == 1:                        # a home leaver alone: Python scalars, not arrays of one
            r = int(idx[0])
            start = int(pop.spell_start[r])
            if start < on:
                self._closing.append((r, int(pop.household[r]), int(pop.dwelling[r]), start, on, self._moves))
                pop.spell_start[r] = on
            pop.household[r] = s
            pop.dwelling[r] = dwelling_id
            return
        start = pop.spell_start[idx]
        early = start < on
        if early.any():
            ended = idx if early.all() else idx[early]
            self._closing.append((ended, pop.household[ended], pop.dwelling[ended], start[early],
                                  np.full(ended.size, on, dtype=np.int64), np.full(ended.size, self._moves, dtype=np.int64)))
            pop.spell_start[ended] = on
        pop.household[idx] = s
        pop.dwelling[idx] = dwelling_id

    def _apply_moves(self) -> None:
        """Write the members of the batch's moves (as each move would have: the spells begun before
        the move day end then, the members live in the new dwelling from then) and keep the ended
        spells for `_close_spells`. Rows are distinct within a batch (a household moves once; a home
        leaver who moved with the parents has the batch written before he moves again). A move made
        by `_move_in` (from dwelling position `old` >= 0 to `to`) counts its persons into the flows."""
        if not self._batch:
            return
        pop = self.pop
        households, new, on, seq, old, to = self._batch.columns()
        idx, sizes = self._batch_rows(self._batch.rows, households)
        on = np.repeat(on, sizes)
        start = pop.spell_start[idx]
        early = start < on
        ended = idx[early]
        self._closing.append((ended, pop.household[ended], pop.dwelling[ended], start[early], on[early],
                              np.repeat(seq, sizes)[early]))
        pop.spell_start[ended] = on[early]
        pop.dwelling[idx] = np.repeat(new.astype(pop.dwelling.dtype), sizes)
        if old.max() >= 0:
            moved = old >= 0
            self._flow_parts.append((old[moved], to[moved], sizes[moved]))
        self._batch = MoveBatch()
        self._batch_households = set()

    def _batch_rows(self, rows: Sequence, households: Sequence) -> tuple[np.ndarray, np.ndarray]:
        """(the rows of the batch's moves concatenated in the batch's order, the number per move): the
        rows given, else (None) the seeking household's rows as the market opened (`_seeking`),
        found for all at once (what `members_of` answered when the household moved: those a home
        leaver had left by then were given)."""
        missing = [k for k, r in enumerate(rows) if r is None]
        if not missing:
            return np.concatenate(rows), np.fromiter(map(len, rows), dtype=np.int64, count=len(rows))
        ids, grouped, bounds = self._seeking
        wanted = np.asarray(households, dtype=np.int64)[np.array(missing, dtype=np.int64)]
        at = np.minimum(np.searchsorted(ids, wanted), max(ids.size - 1, 0))
        if ids.size == 0 or not np.array_equal(ids[at], wanted):
            raise AssertionError("a batched move of a household that is not a seeking household")
        lo, hi = bounds[at], bounds[at + 1]
        if len(missing) == len(rows):
            return grouped[spans(lo, hi)], hi - lo
        rows = list(rows)
        for k, a, b in zip(missing, lo.tolist(), hi.tolist()):
            rows[k] = grouped[a:b]
        return np.concatenate(rows), np.fromiter(map(len, rows), dtype=np.int64, count=len(rows))

    def _count_flows(self) -> None:
        """Sum the year's moves into `MarketResult.flows` ((area moved from, area moved to) -> persons;
        None: outside any area or from abroad), from the dwelling positions the moves recorded (a
        position of -1: from abroad)."""
        parts = [*self._flow_parts]
        if self._flows:
            parts.append(tuple(np.array(c, dtype=np.int64) for c in zip(*self._flows)))
        self._flows, self._flow_parts = [], []
        if not parts:
            return
        src, dst, persons = (np.concatenate(c) for c in zip(*parts))
        codes, names = self.pop.dwellings.area_codes()
        width = len(names) + 1
        key = (np.where(src >= 0, codes[np.maximum(src, 0)], -1) + 1) * width + codes[dst] + 1
        pairs, inverse = np.unique(key, return_inverse=True)
        total = np.bincount(inverse.ravel(), weights=persons, minlength=pairs.size).astype(np.int64)
        label = [None, *names]
        for pair, n in zip(pairs.tolist(), total.tolist()):
            self.result.flows[label[pair // width], label[pair % width]] += n

    def _close_spells(self) -> None:
        """Close the spells the month's moves ended (`Population.add_closed_spells`, in the order moved)."""
        self._apply_moves()
        if not self._closing:
            return
        single = [c for c in self._closing if type(c[0]) is int]    # one person's, as Python scalars
        parts = [c for c in self._closing if type(c[0]) is not int] if single else self._closing
        if single:
            pop = self.pop
            parts.append(tuple(np.array(column, dtype=dtype) for column, dtype in zip(zip(*single), (
                np.int64, pop.household.dtype, pop.dwelling.dtype, pop.spell_start.dtype, np.int64, np.int64))))
        rows, household, dwelling, start, end, seq = (np.concatenate(c) for c in zip(*parts))
        order = np.argsort(seq, kind="stable")   # batches and single moves interleave: back to the order moved
        self.pop.add_closed_spells(rows[order], household[order], dwelling[order], start[order], end[order], None)
        self._closing = []


__all__ = ["CARRIED_OVER", "IMMIGRATION_DAY", "LEAVE_DAY", "MOVE_DAY", "Market", "MarketResult", "area_labels", "area_share_array",
           "area_shares", "draw_seekers", "household_area_band"]
