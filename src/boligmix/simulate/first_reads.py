"""The first reads of an almen pool's seekers' households, for every seeker of the pool at once.

`SeekerPool.fill` (household size, urgency) and `ColumnScreen.fill` (the applicant facts) read a
seeker's household the first time it is in a vacancy's pool or window, one seeker at a time through
`ApplicantFactory._person`, `_roles` and `last_fte` (some 14 % of the national market). Those values
depend on the household's members (fixed when first read), last year's FTE table and, through the
adults the roles count, on the day of the read. `first_reads` reads them for every seeker of a pool
when the market opens, from the members as they are then, and marks which seekers' values equal the
one-at-a-time read whenever in the year it comes (`FirstReads.valid`). Not valid, and read one at a
time as before: a household whose partner could change with the day (someone turning 18 during the
year), a read that is not a plain table read (a member not indexed or not a seeker's member, an
immigrant household whose columns differ in length, a non-finite FTE), and a household a member
leaves before it is first read (`Market._member_leaves` clears the flag; one read already keeps its
members as they were then). The one-at-a-time reads are the tests' oracle
(`tests/test_simulate_reads16.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import numpy as np

from boligmix.simulate.applicants import EMPLOYMENT, OPTIONS, REFERRAL_OUTSIDE_FTE, WORK, ApplicantFactory, Seekers
from boligmix.simulate.kernels_applicants import household_roles
from boligmix.simulate.population import EPOCH

_EPOCH_ORDINAL = EPOCH.toordinal()


@dataclass
class FirstReads:
    """Per seeker of a pool (in its order): what `ApplicantFactory.size`, `urgent` and `facts` give."""

    size: np.ndarray
    urgent: np.ndarray
    employed: np.ndarray
    """The facts' household.employed_or_in_education."""
    hours: np.ndarray
    """The facts' applicant.weekly_work_hours."""
    in_education: np.ndarray
    """The facts' applicant.in_education."""
    valid: np.ndarray
    """Whether the values above are the seeker's (else: read it one at a time)."""
    rows: np.ndarray
    starts: np.ndarray
    """The members' rows in the population (seeker k's: `rows[starts[k]:starts[k] + size[k]]`, as
    `_person` reads them; -1: an immigrant's members, not in it)."""
    first_day: int
    last_day: int
    """The days (ordinals) on which a read of the facts gives them (the year's)."""

    def members(self, k: int) -> np.ndarray | None:
        """The rows of seeker `k`'s members as `ApplicantFactory._person` reads them (valid seekers not
        from abroad; None for the others)."""
        if not self.valid[k]:
            return None
        lo = self.starts.item(k)
        rows = self.rows[lo:lo + self.size.item(k)]
        return rows if rows.size and rows.item(0) >= 0 else None


def first_reads(factory: ApplicantFactory, sids: np.ndarray, seekers: Seekers,
                household_rows: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray]]) -> FirstReads:
    """The first reads of the seekers `sids` as the factory would read them now. `household_rows(ids)`:
    for households moving whole (`ApplicantFactory.members_of`), (their members' rows concatenated,
    how many each, whether it is a seeking household)."""
    n = sids.size
    sid_list = sids.tolist()
    new = list(map(seekers.new_members.__getitem__, sid_list))
    kind = list(map(seekers.kind.__getitem__, sid_list))
    valid = np.ones(n, dtype=bool)
    urgent = np.zeros(n, dtype=bool)
    own_urgency = np.zeros(n, dtype=bool)      # (immigrants whose urgency is their donors': "outside_fte")
    pop = factory.pop
    at_new = [k for k in range(n) if new[k] is not None]
    at_leaver = [k for k in range(n) if new[k] is None and kind[k] == "leaver"]
    at_whole = [k for k in range(n) if new[k] is None and kind[k] != "leaver"]
    parts = []                                  # (seeker positions, member counts, pids, births, usable, rows)
    if at_new:
        counts, pids, births = [], [], []
        for k in at_new:
            members, ids = new[k], seekers.members[sid_list[k]]
            if len({len(ids), len(members["birth"]), len(members["female"]), len(members["country"])}) != 1:
                valid[k] = False
            if kind[k] == "immigrant" and "outside_fte" in members:
                own_urgency[k] = True
                urgent[k] = bool(np.any(np.asarray(members["outside_fte"]) >= REFERRAL_OUTSIDE_FTE))
            counts.append(len(ids) if valid[k] else 0)
            if valid[k]:
                pids.append(np.asarray(ids, dtype=np.int64))
                births.append(np.asarray(members["birth"], dtype=np.int64))
        counts = np.array(counts, dtype=np.int64)
        parts.append((np.array(at_new, dtype=np.int64), counts, _joined(pids), _joined(births),
                      np.ones(int(counts.sum()), dtype=bool), np.full(int(counts.sum()), -1, dtype=np.int64)))
    if at_leaver:
        ids = [seekers.members[sid_list[k]] for k in at_leaver]
        counts = np.fromiter(map(len, ids), dtype=np.int64, count=len(ids))
        rows, indexed = factory.index.rows(_joined(ids))
        parts.append((np.array(at_leaver, dtype=np.int64), counts, pop.pid[rows].astype(np.int64),
                      pop.birth[rows].astype(np.int64), indexed, rows))
    if at_whole:
        rows, counts, seeking = household_rows(sids[at_whole])
        valid[np.array(at_whole, dtype=np.int64)[~seeking]] = False
        parts.append((np.array(at_whole, dtype=np.int64), counts, pop.pid[rows].astype(np.int64),
                      pop.birth[rows].astype(np.int64), np.ones(rows.size, dtype=bool), rows))
    at, counts, pid, birth, usable, rows = (np.concatenate(c) for c in zip(*parts)) if parts else \
        (np.zeros(0, dtype=np.int64),) * 4 + (np.zeros(0, dtype=bool), np.zeros(0, dtype=np.int64))
    segment = np.repeat(np.arange(at.size), counts)
    bounds = np.concatenate(([0], np.cumsum(counts)))
    ftes = factory._ftes
    outside, known = ftes.values(pid, factory.outside)
    if factory._readable is not None:         # (a person not in the table: `last_fte` raises)
        usable &= known
    work, _ = ftes.values(pid, WORK)
    employment, _ = ftes.values(pid, EMPLOYMENT)
    valid[at[np.bincount(segment, weights=~usable, minlength=at.size) > 0]] = False
    reads_urgency = ~own_urgency[at]
    urgent[at[reads_urgency]] = (np.bincount(segment, weights=outside >= REFERRAL_OUTSIDE_FTE, minlength=at.size)
                                 > 0)[reads_urgency]
    year = factory.year
    adult_first = birth + _EPOCH_ORDINAL <= date(year - 18, 1, 1).toordinal()
    adult_last = birth + _EPOCH_ORDINAL <= date(year - 18, 12, 31).toordinal()
    head, partner, stable = household_roles(bounds, birth, pid, float(OPTIONS.partner_max_age_gap_years),
                                            adult_first, adult_last)
    valid[at[~stable]] = False
    head, has_partner = np.maximum(head, 0), partner >= 0
    floor = OPTIONS.employed_or_in_education_fte - 1e-9
    employed = np.zeros(n, dtype=bool)
    hours = np.zeros(n, dtype=np.int64)
    in_education = np.zeros(n, dtype=bool)
    if pid.size:
        employed[at] = (work[head] >= floor) | (has_partner & (work[np.maximum(partner, 0)] >= floor))
        weekly = 37 * employment[head]
        finite = np.isfinite(weekly) & (np.abs(weekly) < 2.0 ** 62)
        valid[at[~finite]] = False
        hours[at] = np.rint(np.where(finite, weekly, 0.0)).astype(np.int64)
        in_education[at] = factory.in_education.contains(pid[head])
    size = np.zeros(n, dtype=np.int64)
    size[at] = counts
    starts = np.zeros(n, dtype=np.int64)
    starts[at] = bounds[:-1]
    return FirstReads(size, urgent, employed, hours, in_education, valid, rows, starts, date(year, 1, 1).toordinal(),
                      date(year, 12, 31).toordinal())


def _joined(arrays: list) -> np.ndarray:
    """The arrays (or sequences) concatenated as int64."""
    return np.concatenate([np.asarray(a, dtype=np.int64) for a in arrays]) if arrays else np.zeros(0, dtype=np.int64)


__all__ = ["FirstReads", "first_reads"]
