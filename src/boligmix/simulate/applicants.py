"""Seekers of one simulated year and the letting engine's `Applicant`s built from them.

A seeker is a household that wants another dwelling (a mover), a young adult leaving home, an
immigrant household, or a household to be rehoused. Its engine applicant is built from the
simulated registers exactly as `boligmix.letting.register` builds applicants from data: roles
(oldest adult applies, the adult nearest in age within 15 years is the partner), month-by-month
benefit histories from the yearly labour rows (`benefit_history`, the current year continuing
the last one), and the person facts the statutory bars read.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np
import polars as pl

from boligmix.errors import SimulationError
from boligmix.letting.facts import age_on
from boligmix.letting.model import (
    Applicant,
    BenefitHistory,
    BenefitSpell,
    Dwelling,
    Household,
    HouseholdMember,
    ListType,
    MemberRole,
)
from boligmix.letting.policy import PolicySet
from boligmix.letting.register import RegisterOptions, benefit_history
from boligmix.simulate import rng
from boligmix.simulate.applicant_reads import LastFtes, PersonSet, RowIndex
from boligmix.simulate.population import EPOCH, Population, sorted_unique, to_date
from boligmix.simulate.seeker_table import Seekers

_EPOCH_ORDINAL, _from_ordinal = EPOCH.toordinal(), date.fromordinal

EU_EEA_CH = frozenset(
    "AUT BEL BGR HRV CYP CZE DNK EST FIN FRA DEU GRC HUN IRL ITA LVA LTU LUX MLT NLD POL PRT ROU SVK SVN ESP SWE "
    "ISL LIE NOR CHE".split())
"""Citizens of these countries are not barred by § 59, stk. 6, nr. 4 (country of origin stands in for
citizenship, which the data model does not hold)."""
OPTIONS = RegisterOptions(current_year="continue_december")
WORK, EMPLOYMENT = frozenset({"employment", "education"}), frozenset({"employment"})
"""The attachments of the applicant facts' FTEs (`ApplicantFactory.facts`)."""
REFERRAL_OUTSIDE_FTE = 0.5
"""A household is referred by the municipality when a member was at least this FTE on an outside
attachment (last year; an immigrant household: in its donor's arrival year)."""


PER_ROOM_FACT, OVER_FACT = "household.persons_per_room", "household.rooms_minus_persons"
"""The facts the waiting list's size rules read (`boligmix.letting.facts`): a limit of
`ApplicantFactory.size_limits` binds unless the rule reading its fact lapses without a taker."""


def wished_rooms(size: int) -> int:
    """The rooms a household of `size` persons asks for (`Applicant.min_rooms`)."""
    return max(1, (size + 1) // 2)


def waiting_list_type(current_org: str | None, org: str | None) -> str:
    """The waiting list a seeker applies on for a dwelling of organisation `org`: the internal one
    when it lives in a dwelling of that organisation (`current_org`)."""
    return "internal" if current_org == org else "external"


def _waiting_policy(dwelling: Dwelling, on: date, policies: PolicySet | tuple):
    in_force = policies.in_force(dwelling, on) if isinstance(policies, PolicySet) else policies
    return next((p for p in in_force if p.spec.tool == "waiting_list"), None)


def facts_of(employed: bool, hours: int, in_education: bool) -> dict[str, Any]:
    """An applicant's input facts (`ApplicantFactory.facts`) from its household's work and education."""
    return {"household.employed_or_in_education": employed, "applicant.weekly_work_hours": hours,
            "applicant.in_education": in_education, "applicant.commuter_to_municipality": False}


class ApplicantFactory:
    """Engine applicants and household profiles for the seekers of one year."""

    priority_rights: frozenset[str] = frozenset()
    """The priority rights its applicants hold (the engine adds § 51 b entitlements and redirects)."""
    max_rent_dkk: float | None = None
    """The maximum rent its applicants name (None: any rent)."""

    def __init__(self, pop: Population, year: int, seed: int, rep: int, outside: tuple[str, ...],
                 persons: np.ndarray | None = None) -> None:
        """`persons`: the only person ids whose labour rows will be read (the members of every
        seeker drawn that year, as `replication.run_replication` passes); None keeps every row.
        Nationally the three years are some 18 million rows and their sorted copy held 1-1.5 GiB
        through the market; the seekers' members are a few hundred thousand. Reading another
        person's rows is an error, not an empty history."""
        self.pop, self.year, self.seed, self.rep = pop, year, seed, rep
        self.outside = frozenset(outside)
        first, last = year - 3, year - 1
        self.span = (first, last)
        readable = None if persons is None else sorted_unique(np.asarray(persons, dtype=np.int64))
        self._readable = None if readable is None else PersonSet(readable)
        keep = pl.col("person_id").is_in(pl.Series(readable).implode()) if readable is not None else pl.lit(True)
        labour = pl.concat([pop.labour[y].lazy().select("person_id", "year", "attachment", "fte").filter(keep)
                            for y in range(first, last + 1) if y in pop.labour]).collect()
        labour = labour.sort("person_id", maintain_order=True)
        # numpy columns (attachment as codes), not Python lists: at national scale the three years
        # are some 18 million rows; a person's rows become Python values when first read
        self._lab_pid = labour["person_id"].to_numpy()
        self._lab_year = labour["year"].to_numpy()
        attachment = labour["attachment"].fill_null("None")
        self._lab_names = attachment.unique().sort().to_list()
        self._lab_att = attachment.cast(pl.Enum(self._lab_names)).to_physical().to_numpy()
        self._lab_fte = labour["fte"].to_numpy()
        self._rows: dict[int, list[tuple[int, str, float]]] = {}
        self._ftes = LastFtes(readable, self._lab_pid, self._lab_year, self._lab_att, self._lab_fte,
                              self._lab_names, last, (self.outside, WORK, EMPLOYMENT))
        """Last year's FTEs of the sets the reads ask for, summed for every readable person at once."""
        py = pop.person_years.get(last, pl.DataFrame({"person_id": [], "in_education": []}))
        self.in_education = PersonSet(py.filter(pl.col("in_education").cast(pl.Boolean))["person_id"].to_numpy())
        convicted = pop.convictions.get(last)
        self.convicted = set(convicted["person_id"].to_list()) if convicted is not None else set()
        self.index = RowIndex(pop.pid)
        self._households: dict[int, Household] = {}
        self._facts: dict[int, dict[str, Any]] = {}
        self._roles_of: dict[int, tuple] = {}
        self._read_on: dict[int, date] = {}
        """Seeker -> the day its facts were first read without its roles (`read_on`)."""
        self._people: dict[int, list[tuple[int, int, bool, str]]] = {}
        self._member_rows: dict[int, Any] = {}
        """Seeker -> its members' rows in the population, in `_person`'s order (not for immigrants)."""
        self._department: dict[int, str] = {}
        self._org: dict[int, str] = {}
        self._fte: dict[tuple[int, frozenset[str] | None], float] = {}
        self._seniority: dict[int, date] = {}
        self._ordinals: dict[int, int] = {}
        """Seeker -> seniority day ordinal drawn by `seniority_ordinals` (read by `seniority`)."""
        self._urgent: dict[int, bool] = {}
        self._size: dict[int, int] = {}
        self.members_of = None
        """Set by the market: household id -> rows of its members (else a scan of the population)."""

    # -- per person ---------------------------------------------------------------------------

    def _person(self, sid: int, seekers: Seekers) -> list[tuple[int, int, bool, str]]:
        """(person id, birth day, female, country) of the seeker's members."""
        if sid in self._people:
            return self._people[sid]
        self._people[sid] = self._read_people(sid, seekers)
        return self._people[sid]

    def _read_people(self, sid: int, seekers: Seekers) -> list[tuple[int, int, bool, str]]:
        """The members as `_person` gives them; their rows in the population are kept (`_member_rows`)."""
        new = seekers.new_members[sid]
        ids = seekers.members[sid]
        if new is not None:
            return [(int(p), int(b), bool(f), str(c)) for p, b, f, c in zip(ids, new["birth"], new["female"], new["country"])]
        pop = self.pop
        if seekers.kind[sid] != "leaver":       # (ids are distinct: a member's row is the index's row of his id)
            rows = self.members_of(sid) if self.members_of is not None else np.flatnonzero(pop.household == sid)
        else:
            rows = []
            for p in ids.tolist():
                i = self.index.get(p)
                if i is None:                    # born during the year after the index was built
                    i = int(np.flatnonzero(pop.pid == p)[0])
                rows.append(i)
        self._member_rows[sid] = rows
        return list(zip(pop.pid[rows].tolist(), pop.birth[rows].tolist(), map(bool, pop.female[rows].tolist()),
                        map(str, pop.country[rows].tolist())))

    def _history(self, pid: int, immigrant: bool) -> BenefitHistory:
        """The person's benefit history through December of the simulated year: the three years
        before, and the current year continuing the last one's December (`OPTIONS`). A household
        is built once a year and assessed in any month, so its history must cover every month a
        rule's window reads (one ending at the first assessment month turned the months after it
        to "not covered": § 51 b/§ 51 c facts UNKNOWN and the applicant held, not assessed)."""
        first, last = self.span
        december = date(self.year, 12, 1)
        if immigrant:
            return BenefitHistory(date(first, 1, 1), december, ())
        history = benefit_history(self.rows(pid), first, last, december, OPTIONS)
        spells = tuple(BenefitSpell(s.benefit, s.first_month, december) if s.last_month >= history.known_to else s
                       for s in history.spells)
        return BenefitHistory(history.known_from, december, spells)

    def rows(self, pid: int) -> list[tuple[int, str, float]]:
        """(year, attachment, fte) labour rows of the three years before, in register order."""
        rows = self._rows.get(pid)
        if rows is None:
            if self._readable is not None and pid not in self._readable:
                raise SimulationError(f"person {pid}: labour rows read but the person is not a member of a seeker "
                                      "this year (ApplicantFactory persons)")
            lo, hi = self._lab_pid.searchsorted(pid), self._lab_pid.searchsorted(pid, "right")
            names = self._lab_names
            rows = self._rows[pid] = list(zip(self._lab_year[lo:hi].tolist(), map(names.__getitem__,
                                                                                  self._lab_att[lo:hi].tolist()),
                                              self._lab_fte[lo:hi].tolist()))
        return rows

    def last_fte(self, pid: int, kinds: frozenset[str] | None = None) -> float:
        """The FTE of the person's labour rows of last year on the attachments `kinds` (None: all),
        as `sum` adds them from `rows` (the integer 0 without such a row)."""
        if kinds in self._ftes.sets:
            value = self._ftes.get(pid, kinds)
            if value is not None:
                return value
            if self._readable is not None:
                self.rows(pid)                 # (raises: not a member of a seeker)
            return 0                           # (no rows)
        key = (pid, kinds)
        value = self._fte.get(key)
        if value is None:
            value = self._fte[key] = sum(f for y, a, f in self.rows(pid)
                                         if y == self.span[1] and (kinds is None or a in kinds))
        return value

    # -- per seeker ---------------------------------------------------------------------------

    def _roles(self, sid: int, seekers: Seekers, on: date
               ) -> tuple[list[tuple[int, int, bool, str]], dict[int, date], tuple, tuple | None, date]:
        """(members, birth dates, head, partner, date) of the seeker's household as it applies: the
        oldest adult applies, the adult nearest in age within 15 years is the partner. Fixed on the
        date the household (`household`) or its facts (`facts`) are first read, whichever comes first."""
        found = self._roles_of.get(sid)
        if found is not None:
            return found
        on = self._read_on.get(sid, on)
        people = self._person(sid, seekers)
        births = {p: _from_ordinal(_EPOCH_ORDINAL + b) for p, b, _, _ in people}   # (`to_date`)
        if len(people) == 1:                    # (a person alone applies, adult or not)
            found = self._roles_of[sid] = (people, births, people[0], None, on)
            return found
        adults = sorted((p for p in people if (age_on(births[p[0]], on) or 0) >= 18), key=lambda p: (p[1], p[0]))
        if not adults:
            adults = sorted(people, key=lambda p: (p[1], p[0]))[:1]
        head = adults[0]
        partners = [p for p in adults[1:] if abs(p[1] - head[1]) / 365.25 <= OPTIONS.partner_max_age_gap_years]
        partner = min(partners, key=lambda p: (abs(p[1] - head[1]), p[0])) if partners else None
        found = self._roles_of[sid] = (people, births, head, partner, on)
        return found

    def settle(self, sid: int, seekers: Seekers, on: date) -> None:
        """Fix the seeker's household as it applies on `on` (`_roles`) without building it: its
        applicant, built on any later day, is then the one built on `on`."""
        self._roles(sid, seekers, on)

    def facts(self, sid: int, seekers: Seekers, on: date) -> dict[str, Any]:
        """The applicant-level input facts of the seeker's engine applicant (`Applicant.facts`), without
        building its household (its benefit histories): what the screen's columns read
        (`boligmix.simulate.column_facts`)."""
        facts = self._facts.get(sid)
        if facts is None:
            _, _, head, partner, _ = self._roles(sid, seekers, on)
            adults_ids = [p[0] for p in (head, partner) if p is not None]
            facts = self._facts[sid] = facts_of(
                any(self.last_fte(p, WORK) >= OPTIONS.employed_or_in_education_fte - 1e-9 for p in adults_ids),
                int(round(37 * self.last_fte(head[0], EMPLOYMENT))), head[0] in self.in_education)
        return facts

    def read_on(self, sids: list[int], on: date) -> None:
        """The seekers' facts were read on `on` (`first_reads`, without `_roles`): their roles, when
        built, are those of `on` unless built or read earlier."""
        read_on = self._read_on
        for sid in sids:
            read_on.setdefault(sid, on)

    def household(self, sid: int, seekers: Seekers, on: date) -> Household:
        if sid in self._households:
            return self._households[sid]
        people, births, head, partner, on = self._roles(sid, seekers, on)
        immigrant = seekers.kind[sid] == "immigrant"
        members = []
        for p in sorted(people, key=lambda p: (p is not head, p is not partner, p[0])):
            pid = p[0]
            if p is head:
                role = MemberRole.APPLICANT
            elif p is partner:
                role = MemberRole.SPOUSE
            elif (age_on(births[pid], on) or 0) < 18:
                role = MemberRole.CHILD
            else:
                role = MemberRole.OTHER
            released = date(self.span[1], 7, 1) if pid in self.convicted else False
            facts = {"eu_eea_ch_citizen": p[3] in EU_EEA_CH, "enrolled_student": pid in self.in_education,
                     "released_after_sentence_on": released, "lease_terminated_for_breach_on": False,
                     "released_from_youth_institution_after_sentence": False}
            members.append(HouseholdMember(pid, role, births[pid], None, self._history(pid, immigrant), facts))
        household = Household(sid, tuple(members))
        self.facts(sid, seekers, on)
        self._households[sid] = household
        return household

    def seniority(self, sid: int, seekers: Seekers) -> date:
        """Waiting-list seniority: up to 10 years before 1 January (fixed per seeker across years);
        immigrants and home leavers sign up on arrival/decision."""
        value = self._seniority.get(sid)
        if value is not None:
            return value
        drawn = self._ordinals.get(sid)
        if drawn is not None:                  # drawn with its pool (`seniority_ordinals`)
            value = date.fromordinal(drawn)
        elif seekers.kind[sid] in ("immigrant", "leaver"):
            value = date(self.year, seekers.month[sid], 1) - timedelta(days=1)
        else:
            days = int(rng.integers(self.seed, self.rep, sid, 0, rng.SENIORITY, 3650)[0])
            value = date(self.year, 1, 1) - timedelta(days=days + 1)
        self._seniority[sid] = value
        return value

    def seniority_ordinals(self, sids: np.ndarray, seekers: Seekers) -> np.ndarray:
        """`seniority(sid).toordinal()` of every seeker in `sids`, drawn for all at once."""
        sids = np.asarray(sids, dtype=np.int64)
        new_year = date(self.year, 1, 1).toordinal()
        days = rng.integers(self.seed, self.rep, sids, 0, rng.SENIORITY, 3650) if sids.size else sids
        signed_up = np.array([seekers.kind[s] in ("immigrant", "leaver") for s in sids.tolist()], dtype=bool)
        on_decision = np.array([date(self.year, seekers.month[s], 1).toordinal() - 1 if up else 0
                                for s, up in zip(sids.tolist(), signed_up.tolist())], dtype=np.int64)
        ordinals = np.where(signed_up, on_decision, new_year - days - 1).astype(np.int64)
        self._ordinals.update(zip(sids.tolist(), ordinals.tolist()))
        return ordinals

    def urgent(self, sid: int, seekers: Seekers) -> bool:
        """The municipality refers households with an adult mainly on an 'outside' benefit last year;
        an immigrant household, with no year in the registers yet, when a member of the household
        it clones was mainly on one in the year it arrived (refugees on integration benefits, whom
        the municipality must house: 72 % of the adults of the immigrant households that arrived in
        an area's almen dwelling in 2007-2011 in the test's small dataset, 20 % of those in private
        rental; docs/simulate.md, Backcast)."""
        value = self._urgent.get(sid)
        if value is None:
            new = seekers.new_members[sid]
            if seekers.kind[sid] == "immigrant" and new is not None and "outside_fte" in new:
                value = self._urgent[sid] = bool(np.any(np.asarray(new["outside_fte"]) >= REFERRAL_OUTSIDE_FTE))
            else:
                people = self._person(sid, seekers)
                value = self._urgent[sid] = any(self.last_fte(p, self.outside) >= REFERRAL_OUTSIDE_FTE
                                                for p, _, _, _ in people)
        return value

    def size(self, sid: int, seekers: Seekers) -> int:
        value = self._size.get(sid)
        if value is None:
            value = self._size[sid] = len(self._person(sid, seekers))
        return value

    def size_limits(self, dwelling: Dwelling, on: date, policies: PolicySet | tuple) -> tuple[float | None, float | None]:
        """(max persons per room, max rooms over persons) of the waiting-list policy in force (`policies`:
        the policy set, or the policies in force for the dwelling on `on`): the size rules' limits,
        met first by the households the engine ranks first."""
        waiting = _waiting_policy(dwelling, on, policies)
        constants = waiting.spec.constants if waiting is not None else {}
        return constants.get("max_persons_per_room"), constants.get("max_rooms_over_persons")

    def binding_size_limits(self, dwelling: Dwelling, on: date, policies: PolicySet | tuple
                            ) -> tuple[float | None, float | None]:
        """The limits of `size_limits` that bar a household: None for a limit whose rule lapses without a
        taker (`Policy.lapses`, the waiting list's switch size_rule: the engine then ranks a household
        failing it after those meeting it, and lets it the dwelling when none of them takes it)."""
        per_room, over = self.size_limits(dwelling, on, policies)
        waiting = _waiting_policy(dwelling, on, policies)
        if waiting is None:
            return per_room, over
        lapsing = {f for rule in waiting.active("eligibility") if waiting.lapses(rule) for f in rule.fields}
        return (None if PER_ROOM_FACT in lapsing else per_room, None if OVER_FACT in lapsing else over)

    def plausible(self, pool: list[int], dwelling: Dwelling, seekers: Seekers, on: date, policies: PolicySet) -> list[int]:
        """Seekers the waiting-list policy's binding size limits could allow (the engine decides)."""
        per_room, over = self.binding_size_limits(dwelling, on, policies)
        out = []
        for s in pool:
            size = self.size(s, seekers)
            if per_room is not None and size > per_room * dwelling.rooms:
                continue
            if over is not None and dwelling.rooms - size > over:
                continue
            out.append(s)
        return out

    def applicant(self, sid: int, seekers: Seekers, dwelling: Dwelling, on: date, list_type: str | None,
                  order: int | None = None) -> Applicant:
        household = self.household(sid, seekers, on)
        current_org, current_department = self.current(sid, seekers)
        if list_type is None:
            list_type = waiting_list_type(current_org, dwelling.org_id)
        seniority = self.seniority(sid, seekers)
        return Applicant(sid, dwelling.org_id, ListType(list_type), seniority, household,
                         min_rooms=wished_rooms(household.size), current_department_id=current_department,
                         current_org_id=current_org, facts=self._facts[sid], priority_rights=self.priority_rights,
                         max_rent_dkk=self.max_rent_dkk,
                         referral_order=order if list_type in ("municipal_referral", "rehousing") else None)

    def current(self, sid: int, seekers: Seekers) -> tuple[str | None, str | None]:
        """(organisation, department) of the almen dwelling the seeker lives in (None: none)."""
        current = seekers.dwelling[sid]
        if current is None:
            return None, None
        return self._org.get(current), self._department.get(current)

    def set_dwellings(self, department: dict[int, str], org: dict[int, str]) -> None:
        self._department, self._org = department, org

    def profile(self, sid: int, seekers: Seekers, on: date) -> dict[str, Any]:
        """Household characteristics of a letting's household (for lettings.parquet)."""
        people = self._person(sid, seekers)
        ages = [age_on(to_date(b), on) or 0 for _, b, _, _ in people]
        working = [p for (p, _, _, _), a in zip(people, ages) if 18 <= a <= 64]
        head = max(range(len(people)), key=ages.__getitem__)
        return {"persons": len(people), "head_age": ages[head],
                "head_non_western": self._nonwestern(head, people[head][0], seekers, sid),
                "adults_18_64": len(working),
                "outside_fte_18_64": float(sum(min(self.last_fte(p, self.outside), 1.0) for p in working)),
                "from_almen": seekers.dwelling[sid] is not None and seekers.dwelling[sid] in self._org}

    def _nonwestern(self, member: int, pid: int, seekers: Seekers, sid: int) -> bool:
        """Whether the seeker's `member`-th member (`_person`), of id `pid`, is of non-Western origin
        (False for a person born after the factory's index was built)."""
        new = seekers.new_members[sid]
        if new is not None:
            return bool(new["nonwestern"][list(seekers.members[sid]).index(pid)])
        i = self._member_rows[sid][member]
        return bool(self.pop.nonwestern[i]) if i < self.index.size else False


__all__ = ["EU_EEA_CH", "REFERRAL_OUTSIDE_FTE", "ApplicantFactory", "PersonSet", "RowIndex", "Seekers", "facts_of",
           "waiting_list_type", "wished_rooms"]
