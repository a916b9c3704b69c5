"""A screened round decided from the pool's columns, without building the window's `Applicant`s.

`boligmix.simulate.screen.WindowScreen` decides a waiting-list (or fleksibel) round on the engine's
own facts (`base_facts`, `policy_facts`) of every candidate's `Applicant`; building those applicants
(their households and benefit histories) and their facts was most of the simulated market's Python.
The facts the screened policies read depend on a candidate only through a few values, held as
columns of the pool (`PoolFacts`, filled when a seeker is first in a window, the moment its
applicant was first built): its household size, the organisation and department it lives in, and
its applicant-level input facts (`ApplicantFactory.facts`, the dict its `Applicant.facts` is). Per
window the candidates' signatures are those values against the vacancy's (persons per room, rooms
over persons, the wished rooms, the list type, living in the department or organisation) as one
integer code each; the distinct codes become the fact rows `RowDecider` decides (its verdicts, kept
per distinct signature, as for the row path), and the winner is the engine's ranking key (priority
key, seniority, applicant id) as a lexsort. The dwelling's own facts are `base_facts`' `dwelling.`
facts (`dwelling_facts`, once per vacancy; tested equal to `base_facts`').

Each column fact is tested equal to `base_facts`/`policy_facts` of the factory's applicant
(`tests/test_simulate_column_facts.py`). A policy reading a fact without a column (derived facts,
ages, refusals, ...) or one that may reject, or a candidate holding a § 51 b entitlement or
reactivated, sends the round to the row path (`candidates` returns None).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from itertools import repeat
from typing import Any

import numpy as np

from boligmix.letting.engine import LIST_TYPES_BY_CHANNEL, LettingEngine
from boligmix.letting.facts import BASE_FACTS, PRIORITY_RIGHT_PREFIX
from boligmix.letting.model import AREA_CATEGORIES, Channel, Dwelling, ListType, Vacancy
from boligmix.letting.policy import Policy
from boligmix.letting.ranking import REFERRAL_CHANNELS
from boligmix.simulate.applicants import ApplicantFactory, Seekers, facts_of, waiting_list_type, wished_rooms
from boligmix.simulate.kernels_letting import best_ranked, window_signatures
from boligmix.simulate.pools import SeekerPool
from boligmix.simulate.screen import SCREENED, WindowScreen

SIZE_BITS = 16
"""Bits of a signature code holding the household size (larger households: the row path)."""
COLUMN_CHANNELS = frozenset(c for c in SCREENED if c not in REFERRAL_CHANNELS
                            and {ListType.INTERNAL, ListType.EXTERNAL} <= LIST_TYPES_BY_CHANNEL[c])
"""The screened channels whose rounds the columns decide (the waiting list's internal and external lists)."""
MISSING = object()
"""A fact a policy's rows do not hold (unknown to the evaluator)."""

_CANDIDATE_FACTS = {
    "applicant.list_type": "list_type",
    "applicant.lives_in_department": "department",
    "applicant.lives_in_organisation": "organisation",
    "applicant.internal_transfer_within_department": "internal_department",
    "applicant.wish_rooms_ok": "wish_rooms",
    "applicant.wish_rent_ok": "wish_rent",
    "household.size": "size",
    "household.persons_per_room": "per_room",
    "household.rooms_minus_persons": "over",
}
"""Base facts with a column: the fact -> how it follows from a candidate's signature."""
_IN_CATEGORY = tuple((f"dwelling.in_{category}", category) for category in AREA_CATEGORIES)


class PoolFacts:
    """The candidate facts of one pool's seekers, as columns (filled when first read)."""

    def __init__(self, n: int, owner: "ColumnScreen") -> None:
        self.owner = owner
        """The screen whose codes the columns hold."""
        self.known = np.zeros(n, dtype=bool)
        self.organisation = np.zeros(n, dtype=np.int64)
        """Code of the organisation of the seeker's current almen dwelling (`ColumnScreen.code`; 0: none)."""
        self.department = np.zeros(n, dtype=np.int64)
        self.facts = np.zeros(n, dtype=np.int64)
        """Code of the seeker's applicant facts (`ColumnScreen.fact_rows`)."""


class ColumnScreen:
    """`WindowScreen.candidates` on seeker ids and pool columns (module docstring)."""

    def __init__(self, factory: ApplicantFactory, screen: WindowScreen) -> None:
        self.factory, self.screen = factory, screen
        self.screened = 0
        """Rounds decided from the columns (counted in `WindowScreen.screened` too)."""
        self.row_path = 0
        """Rounds handed to the row path (`candidates` returned None)."""
        self._codes: dict[str | None, int] = {None: 0}
        self._fact_codes: dict[tuple, int] = {}
        self.fact_rows: list[dict[str, Any]] = []
        """Code -> the applicant facts (`ApplicantFactory.facts`) of the seekers with that code."""
        self._read_codes: dict[tuple[bool, int, bool], int] = {}
        """(employed or in education, weekly hours, in education) of `first_reads` -> code of those facts."""
        self._plans: dict[int, tuple[Policy, tuple | None]] = {}
        self._prepared_for: dict[tuple[int, Channel], tuple[Sequence[Policy], tuple | None]] = {}
        """(id of the policies in force, channel) -> (them, `_prepared`)."""
        self._dwelling_facts: tuple[Dwelling | None, dict[str, Any]] = (None, {})
        """The last dwelling's own facts (a vacancy's windows come one after another)."""
        self._verdicts: dict[tuple, dict[int, tuple[str | None, tuple[int, ...]]]] = {}
        """(policies, dwelling's facts read) -> signature -> RowDecider's (outcome, priority key): the
        same values give the same fact rows, hence the same verdict."""
        self._last_kept: tuple = (None, None, {}, {})
        """The last vacancy's (dwelling, covering policies, `_kept`)."""

    def code(self, value: str | None) -> int:
        """A small integer per organisation or department id (None: 0), equal ids equal codes."""
        found = self._codes.get(value)
        if found is None:
            found = self._codes[value] = len(self._codes)
        return found

    def fill(self, group: SeekerPool, rows: np.ndarray, seekers: Seekers, on: date) -> PoolFacts:
        """The pool's columns, read for the seekers at `rows` not read yet (their facts fixed on `on`,
        as building their applicants would: `ApplicantFactory.facts`)."""
        columns = group.columns
        if columns is None or columns.owner is not self:
            columns = group.columns = PoolFacts(group.sid.size, self)
        todo = rows[~columns.known[rows]]
        if not todo.size:
            return columns
        factory, code = self.factory, self.code
        organisations, departments, codes = [], [], []
        sids = group.sid[todo].tolist()
        reads = group.reads
        if reads is not None and reads.first_day <= on.toordinal() <= reads.last_day:
            read = reads.valid[todo]
            values = zip(read.tolist(), reads.employed[todo].tolist(), reads.hours[todo].tolist(),
                         reads.in_education[todo].tolist())
            factory.read_on(group.sid[todo[read]].tolist(), on)   # (their roles, when built, as of today)
        else:
            values = repeat((False, None, None, None))
        read_codes = self._read_codes
        for sid, (read, employed, hours, in_education) in zip(sids, values):   # (columns written once)
            org, department = factory.current(sid, seekers)
            if read:                             # the facts `first_reads` read (`ApplicantFactory.facts`)
                fact_code = read_codes.get((employed, hours, in_education))
                if fact_code is None:
                    fact_code = read_codes[employed, hours, in_education] = self._fact_code(
                        facts_of(employed, hours, in_education))
            else:
                fact_code = self._fact_code(factory.facts(sid, seekers, on))
            organisations.append(code(org))
            departments.append(code(department))
            codes.append(fact_code)
        columns.organisation[todo], columns.department[todo], columns.facts[todo] = organisations, departments, codes
        columns.known[todo] = True
        return columns

    def _fact_code(self, facts: dict[str, Any]) -> int:
        """The code of a seeker's applicant facts (`fact_rows`): equal facts (values and types) equal codes."""
        key = tuple((k, v, type(v)) for k, v in facts.items())
        found = self._fact_codes.get(key)
        if found is None:
            found = self._fact_codes[key] = len(self.fact_rows)
            self.fact_rows.append(facts)
        return found

    def candidates(self, engine: LettingEngine, vacancy: Vacancy, channel: Channel, group: SeekerPool,
                   sids: Sequence[int], seekers: Seekers, now: datetime, in_force: Sequence[Policy],
                   rows: np.ndarray | None = None) -> tuple[int, str] | None | bool:
        """The window `sids`' best-ranked eligible candidate as (seeker, list type), False when no
        one is eligible, or None when the round needs the row path (`WindowScreen.candidates` on
        the applicants). `rows`: the window's rows in the pool, when the caller has them."""
        if channel not in COLUMN_CHANNELS:
            return None
        on = now.date()
        if rows is None:
            rows = np.fromiter(map(group.row.__getitem__, sids), dtype=np.int64, count=len(sids))
        columns = self.fill(group, rows, seekers, on)      # every window seeker's facts fixed now, as before
        if not len(sids):
            return False
        prepared = self._prepared(in_force, channel)
        if prepared is None:
            return None
        covering, plans, dwelling_names = prepared
        if plans is None:
            return self._to_rows()
        dwelling = vacancy.dwelling
        ledger = engine.ledger
        if ledger.entitlements and not ledger.entitlements.keys().isdisjoint(sids) or \
                ledger.reactivations and not ledger.reactivations.keys().isdisjoint(sids):
            return self._to_rows()
        # the engine's list checks (`LettingEngine._candidates`); a factory applicant is never passive and
        # applies to the dwelling's organisation on the internal or external list
        offered = ledger.offered.get(vacancy.vacancy_id, ())
        passive, withdrawn, housed = ledger.passive, ledger.withdrawn, ledger.housed
        if offered and not offered.isdisjoint(sids) or passive and not passive.isdisjoint(sids) or \
                withdrawn and not withdrawn.keys().isdisjoint(sids) or not housed.keys().isdisjoint(sids):
            keep = [not (s in offered or s in passive or s in withdrawn or s in housed) for s in sids]
            rows = rows[np.array(keep, dtype=bool)]
            if not rows.size:
                self._count()
                return False
        signature, small = window_signatures(rows, columns.facts, group.size, columns.organisation,
                                             columns.department, self.code(dwelling.org_id),
                                             self.code(dwelling.department_id), SIZE_BITS)
        if not small:
            return self._to_rows()
        codes = signature.tolist()               # the distinct signatures (a window: a dict beats np.unique)
        index: dict[int, int] = {}
        inverse = [index.setdefault(c, len(index)) for c in codes]
        distinct = list(index)
        dwelling_facts, kept = self._kept(dwelling, on, covering, dwelling_names)
        verdicts = [kept.get(c) for c in distinct]
        if None in verdicts:                     # RowDecider's verdicts on the new signatures' fact rows
            new = [j for j, v in enumerate(verdicts) if v is None]
            signatures = [self._decode(distinct[j]) for j in new]
            fact_rows = {p.id: [self._row(plan, sig, dwelling, dwelling_facts) for sig in signatures]
                         for p, plan in zip(covering, plans)}
            outcome, _, keys, _ = self.screen.decider.decide(covering, lambda p: fact_rows[p.id], len(signatures))
            for j, o, k in zip(new, outcome, keys):
                verdicts[j] = kept[distinct[j]] = (o, tuple(k))
        self._count()
        eligible = {v[1] for v in verdicts if v[0] is None}
        if not eligible:
            return False
        # the engine's ranking key (`ranking.rank_key`; no referral order on these channels): the
        # priority key as a rank among the distinct keys (-1: not eligible), then seniority and applicant id
        ordered = {key: k for k, key in enumerate(sorted(eligible))}
        key_rank = [ordered[v[1]] if v[0] is None else -1 for v in verdicts]
        best = best_ranked(rows, np.array([key_rank[j] for j in inverse], dtype=np.int64), group.seniority, group.sid)
        return int(group.sid[rows[best]]), "internal" if codes[best] & 2 else "external"

    def _kept(self, dwelling: Dwelling, on: date, covering: Sequence[Policy], dwelling_names: tuple[str, ...]
              ) -> tuple[dict[str, Any], dict[int, tuple[str | None, tuple[int, ...]]]]:
        """(the dwelling's own facts, the verdicts kept for its context: the covering policies, its rooms
        and the dwelling facts they read), the last answer kept for the vacancy's next windows."""
        last = self._last_kept
        if last[0] is dwelling and last[1] is covering:
            return last[2], last[3]
        dwelling_facts = self._of_dwelling(dwelling, on)
        context = (tuple(map(id, covering)), dwelling.rooms,
                   tuple((v, type(v)) for v in map(dwelling_facts.get, dwelling_names)))
        kept = self._verdicts.get(context)       # (one hash of the context a vacancy, not one per signature)
        if kept is None:
            if len(self._verdicts) > 20_000:
                self._verdicts.clear()
            kept = self._verdicts[context] = {}
        self._last_kept = (dwelling, covering, dwelling_facts, kept)
        return dwelling_facts, kept

    def _prepared(self, in_force: Sequence[Policy], channel: Channel) -> tuple | None:
        """(the policies covering the channel, their plans or None when one has a fact without a
        column, the dwelling facts the plans read), or None when a covering policy may reject
        (`WindowScreen._covering`), kept per policies in force and channel."""
        key = (id(in_force), channel)
        found = self._prepared_for.get(key)
        if found is None or found[0] is not in_force:
            covering = self.screen._covering(in_force, channel)
            prepared = None
            if covering is not None:
                plans = [self._plan(p) for p in covering]
                prepared = (covering, None, ()) if any(plan is None for plan in plans) else \
                    (covering, plans, tuple(name for plan in plans for name, _ in plan if name.startswith("dwelling.")))
            found = self._prepared_for[key] = (in_force, prepared)
        return found[1]

    def signatures(self, group: SeekerPool, rows: np.ndarray, dwelling: Dwelling) -> np.ndarray | None:
        """Per seeker at `rows` (facts read: `fill`), the code of what its candidate facts for
        `dwelling` depend on: its applicant facts, household size and whether it lives in the
        dwelling's organisation and department (`_decode`); None when a household is too large."""
        columns = group.columns
        size = group.size[rows]
        if size.size and int(size.max()) >= 1 << SIZE_BITS:
            return None
        organisation = columns.organisation[rows] == self.code(dwelling.org_id)
        department = columns.department[rows] == self.code(dwelling.department_id)
        return (((columns.facts[rows] << SIZE_BITS) | size) << 2) | (organisation.astype(np.int64) << 1) | department

    def fact_row(self, policy: Policy, code: int, dwelling: Dwelling, on: date) -> dict[str, Any] | None:
        """The facts `policy`'s rules read for a candidate of signature `code` (`signatures`), as the
        screen hands them to `RowDecider`; None when the policy reads a fact without a column."""
        plan = self._plan(policy)
        return None if plan is None else self._row(plan, self._decode(code), dwelling, self._of_dwelling(dwelling, on))

    def _count(self) -> None:
        self.screened += 1
        self.screen.screened += 1

    def _to_rows(self) -> None:
        self.row_path += 1
        return None

    def _decode(self, code: int) -> tuple[dict[str, Any], int, bool, bool]:
        """(applicant facts, household size, lives in the organisation, in the department) of a signature."""
        return (self.fact_rows[code >> (SIZE_BITS + 2)], (code >> 2) & ((1 << SIZE_BITS) - 1), bool(code & 2),
                bool(code & 1))

    def _plan(self, policy: Policy) -> tuple | None:
        """Per fact the policy's rules read: where its value comes from (None: a fact without a column)."""
        found = self._plans.get(id(policy))
        if found is not None and found[0] is policy:
            return found[1]
        spec = policy.spec
        plan: list[tuple[str, str]] | None = []
        for name in self.screen.decider.fields(policy):
            base = name in BASE_FACTS
            if name in spec.derived_facts or base and not name.startswith("dwelling.") and name not in _CANDIDATE_FACTS:
                plan = None                            # a fact without a column (derived, age, adults, refusals, ...)
                break
            if name.startswith(PRIORITY_RIGHT_PREFIX) and name in spec.input_facts:
                plan.append((name, "right"))
            elif name in spec.input_facts:
                plan.append((name, "input"))          # the applicant's fact, else the base fact or missing
            elif name.startswith("dwelling."):
                plan.append((name, "dwelling"))
            elif base:
                plan.append((name, _CANDIDATE_FACTS[name]))
            else:
                plan.append((name, "missing"))
        if plan is not None and self.factory.max_rent_dkk is not None \
                and any(_CANDIDATE_FACTS.get(name) == "wish_rent" for name, _ in plan):
            plan = None
        result = tuple(plan) if plan is not None else None
        self._plans[id(policy)] = (policy, result)
        return result

    def _row(self, plan: tuple, signature: tuple, dwelling: Dwelling, dwelling_facts: dict[str, Any]
             ) -> dict[str, Any]:
        facts, size, organisation, department = signature
        row: dict[str, Any] = {}
        for name, kind in plan:
            if kind == "input":
                if name in facts:
                    row[name] = facts[name]
                    continue
                kind = "dwelling" if name.startswith("dwelling.") else _CANDIDATE_FACTS.get(name, "missing")
                if kind == "dwelling" and name not in BASE_FACTS:
                    kind = "missing"
            value = _candidate_fact(kind, name, size, organisation, department, dwelling, dwelling_facts,
                                    self.factory.priority_rights)
            if value is not MISSING:
                row[name] = value
        return row

    def _of_dwelling(self, dwelling: Dwelling, on: date) -> dict[str, Any]:
        """The dwelling's own base facts (`dwelling_facts`: only those are read), for the last dwelling."""
        found = self._dwelling_facts
        if found[0] is not dwelling:
            found = self._dwelling_facts = (dwelling, dwelling_facts(dwelling))
        return found[1]


def dwelling_facts(dwelling: Dwelling) -> dict[str, Any]:
    """The `dwelling.` facts of `base_facts` (they depend on the dwelling alone), without building
    the rest of its catalogue for a stand-in applicant (some 20 us a vacancy; tested equal,
    `tests/test_simulate_select14.py`)."""
    facts: dict[str, Any] = {
        "dwelling.rooms": dwelling.rooms,
        "dwelling.almen_type": dwelling.almen_type,
        "dwelling.shared": dwelling.shared,
        "dwelling.monthly_rent_dkk": dwelling.monthly_rent_dkk,
        "dwelling.floor_area_m2": dwelling.floor_area_m2,
    }
    categories = dwelling.area_categories
    for name, category in _IN_CATEGORY:
        facts[name] = category in categories
    return facts


def _candidate_fact(kind: str, name: str, size: int, organisation: bool, department: bool, dwelling: Dwelling,
                    dwelling_facts: dict[str, Any], rights: frozenset[str]) -> Any:
    """One candidate fact from its signature, as `base_facts`/`policy_facts` give it for the factory's
    applicant (tested equal to them)."""
    if kind == "list_type":
        return "internal" if organisation else "external"
    if kind == "department":
        return department
    if kind == "organisation":
        return organisation
    if kind == "internal_department":
        return organisation and department
    if kind == "wish_rooms":
        return dwelling.rooms >= wished_rooms(size)
    if kind == "wish_rent":
        return True                              # the factory's applicants name no maximum rent
    if kind == "size":
        return size
    if kind == "per_room":
        return size / dwelling.rooms
    if kind == "over":
        return dwelling.rooms - size
    if kind == "right":
        return name[len(PRIORITY_RIGHT_PREFIX):] in rights
    if kind == "dwelling":
        return dwelling_facts.get(name, MISSING)
    return MISSING


__all__ = ["ColumnScreen", "PoolFacts", "waiting_list_type"]
