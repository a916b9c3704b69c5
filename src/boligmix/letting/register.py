"""Engine `Applicant`s built from a dataset directory of the data model (register data or the
synthetic Denmark), for a reference date.

    applicants = applicants_from_dataset(path, date(2024, 1, 15))                 # `applicants` table
    applicants = applicants_from_dataset(path, on, sample=200, rng=np.random.default_rng(1),
                                         org_ids=["ORG1"])                          # no such table

Households come from `residences` (the persons whose spell with the applicant's
`household_id` covers the reference date), ages from `persons`, and month-by-month benefit
histories from the yearly `labour` table. The register has full-time equivalents per year,
not months, so the months are derived by the switches of `RegisterOptions` (see
`docs/letting.md`, "Applicants from register data"):

* a year's FTE of one attachment type becomes round(FTE x 12) months (`rounding`), placed as
  one run at the end of the year (`placement`);
* only complete calendar years before the reference date are used (the last
  `lookback_years`); the months from January of the reference year on are unknown
  (`current_year="unknown"`), so a rule's window reaching into them is UNKNOWN and held, not
  passed. `current_year="continue_december"` instead assumes a benefit received in December
  of the last year continues until the month before the reference date (UNCONFIRMED, not
  conservative);
* a person with no `labour` row of a type in a covered year received none of it that year.

Household roles are inferred (the register has no roles): the oldest adult is the applicant,
the other adult nearest in age (within `partner_max_age_gap_years`) the partner, persons under
18 children, other adults `other`. The partner is a cohabitant since the later of the two
persons' first day in the household (`partner_role`).
"""

from __future__ import annotations

import math
import os
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

import numpy as np
import polars as pl

from boligmix.data.io import has_table, read_table
from boligmix.errors import DatasetError, DataValidationError
from boligmix.letting.facts import age_on
from boligmix.letting.model import (
    Applicant,
    BenefitHistory,
    BenefitSpell,
    Household,
    HouseholdMember,
    ListType,
    MemberRole,
)


@dataclass(frozen=True)
class RegisterOptions:
    """How register tables become engine applicants (every choice is a switch)."""

    placement: Literal["end_of_year", "start_of_year"] = "end_of_year"
    """Where a year's benefit months are placed (one run)."""
    rounding: Literal["round", "floor", "ceil"] = "round"
    """FTE x 12 to whole months (round: half up)."""
    lookback_years: int = 3
    """Complete calendar years of labour data used before the reference date."""
    current_year: Literal["unknown", "continue_december"] = "unknown"
    """Months of the reference year before the reference month: unknown, or December's benefits continue."""
    partner_max_age_gap_years: int = 15
    """The nearest-in-age other adult within this gap is taken as the applicant's partner."""
    partner_role: Literal["cohabitant", "spouse"] = "cohabitant"
    """Role given to the inferred partner (a cohabitant counts only after 2 years of cohabitation)."""
    employed_or_in_education_fte: float = 0.5
    """`household.employed_or_in_education`: applicant or partner had at least this FTE of employment
    plus education in the last complete year."""

    def __post_init__(self) -> None:
        if self.lookback_years < 1:
            raise ValueError("lookback_years must be at least 1")


def fte_months(fte: float, rounding: str = "round") -> int:
    """Whole months (0..12) for a yearly full-time equivalent."""
    raw = min(max(float(fte), 0.0), 1.0) * 12
    if rounding == "floor":
        return int(math.floor(raw + 1e-9))
    if rounding == "ceil":
        return int(math.ceil(raw - 1e-9))
    return int(math.floor(raw + 0.5))


def _last_day_before(on: date) -> date:
    return date(on.year, on.month, 1) - timedelta(days=1)


def benefit_history(rows: Iterable[tuple[int, str, float]], first_year: int, last_year: int, on: date,
                    options: RegisterOptions = RegisterOptions()) -> BenefitHistory:
    """One person's history from yearly (year, attachment, fte) rows for the covered years
    `first_year`..`last_year` (complete years; rows outside them are ignored)."""
    spells: list[BenefitSpell] = []
    december: list[str] = []
    for year, attachment, fte in sorted(rows):
        if not first_year <= year <= last_year:
            continue
        n = fte_months(fte, options.rounding)
        if n == 0:
            continue
        if options.placement == "end_of_year":
            first, last = date(year, 13 - n, 1), date(year, 12, 1)
        else:
            first, last = date(year, 1, 1), date(year, n, 1)
        spells.append(BenefitSpell(attachment, first, last))
        if year == last_year and last.month == 12:
            december.append(attachment)
    known_to = date(last_year, 12, 1)
    if options.current_year == "continue_december" and last_year == on.year - 1 and on.month > 1:
        known_to = date(on.year, on.month - 1, 1)
        spells = [BenefitSpell(s.benefit, s.first_month, known_to)
                  if s.last_month == date(last_year, 12, 1) and s.benefit in december else s for s in spells]
    return BenefitHistory(date(first_year, 1, 1), known_to, tuple(spells))


def covered_years(labour_years: Sequence[int], on: date, options: RegisterOptions) -> tuple[int, int] | None:
    """(first, last) complete years of labour data used for reference date `on`, or None."""
    before = [y for y in labour_years if y < on.year]
    if not before:
        return None
    last = max(before)
    first = max(min(before), last - options.lookback_years + 1)
    missing = [y for y in range(first, last + 1) if y not in set(labour_years)]
    if missing:
        first = max(missing) + 1
    return first, last


def _residents_on(residences: pl.DataFrame, on: date) -> pl.DataFrame:
    return residences.filter((pl.col("move_in") <= on) & (pl.col("move_out").is_null() | (pl.col("move_out") > on)))


def _households(residences: pl.DataFrame, household_ids: Sequence[int], on: date
                ) -> dict[int, list[tuple[int, date, int]]]:
    """household id -> [(person id, first day in the household, dwelling id on `on`)]."""
    spells = residences.filter(pl.col("household_id").is_in(pl.Series(list(household_ids), dtype=pl.Int64).implode()))
    first_in = spells.filter(pl.col("move_in") <= on).group_by(["household_id", "person_id"]).agg(
        pl.col("move_in").min().alias("since"))
    now = _residents_on(spells, on).select("household_id", "person_id", "dwelling_id")
    joined = now.join(first_in, on=["household_id", "person_id"], how="left").sort(["household_id", "person_id"])
    out: dict[int, list[tuple[int, date, int]]] = defaultdict(list)
    for hh, pid, dwelling, since in joined.select("household_id", "person_id", "dwelling_id", "since").iter_rows():
        out[int(hh)].append((int(pid), since, int(dwelling)))
    return out


def _members(people: list[tuple[int, date, int]], births: dict[int, date], histories: dict[int, BenefitHistory],
             on: date, options: RegisterOptions) -> tuple[HouseholdMember, ...]:
    ages = {pid: age_on(births.get(pid), on) for pid, _, _ in people}
    adults = sorted((p for p in people if (ages[p[0]] or 0) >= 18),
                    key=lambda p: (births.get(p[0]) or date.max, p[0]))
    if not adults:  # no adult on record: the oldest person applies
        adults = sorted(people, key=lambda p: (births.get(p[0]) or date.max, p[0]))[:1]
    head = adults[0]
    partner = None
    head_birth = births.get(head[0])
    candidates = [p for p in adults[1:] if head_birth is not None and births.get(p[0]) is not None
                  and abs((births[p[0]] - head_birth).days) / 365.25 <= options.partner_max_age_gap_years]
    if candidates:
        partner = min(candidates, key=lambda p: (abs((births[p[0]] - head_birth).days), p[0]))  # type: ignore[operator]
    members = []
    for pid, since, _ in sorted(people, key=lambda p: (p is not head, p is not partner, p[0])):
        if pid == head[0]:
            role, cohabiting = MemberRole.APPLICANT, None
        elif partner is not None and pid == partner[0]:
            role = MemberRole.SPOUSE if options.partner_role == "spouse" else MemberRole.COHABITANT
            cohabiting = max(since, head[1]) if since is not None and head[1] is not None else None
        elif (ages[pid] or 0) < 18 and ages[pid] is not None:
            role, cohabiting = MemberRole.CHILD, None
        else:
            role, cohabiting = MemberRole.OTHER, None
        members.append(HouseholdMember(pid, role, births.get(pid), cohabiting, histories.get(pid)))
    return tuple(members)


def _employed_or_in_education(members: Sequence[HouseholdMember], work: dict[int, float], known: bool,
                              options: RegisterOptions) -> bool | None:
    if not known:
        return None
    adults = [m for m in members if m.role in (MemberRole.APPLICANT, MemberRole.SPOUSE, MemberRole.COHABITANT)]
    return any(work.get(m.person_id, 0.0) >= options.employed_or_in_education_fte - 1e-9 for m in adults)


def _placeholder(applicant_id: int, size: int) -> Household:
    """A household whose members are not in `residences` on the date: facts unknown."""
    members = tuple(HouseholdMember(-(applicant_id * 100 + i), MemberRole.APPLICANT if i == 0 else MemberRole.OTHER)
                    for i in range(max(size, 1)))
    return Household(None, members)


def applicants_from_dataset(dataset_dir: str | os.PathLike[str], on: date, *,
                            options: RegisterOptions = RegisterOptions(), sample: int | None = None,
                            rng: np.random.Generator | None = None,
                            org_ids: Sequence[str] | None = None) -> list[Applicant]:
    """Engine applicants for reference date `on` (see the module docstring).

    With an `applicants` table every row becomes an applicant (`sample`/`rng`/`org_ids` must
    then be None). Without one, `sample` households living in a dwelling on `on` are drawn
    with `rng` (no replacement, household id order first) and put on the external list of an
    organisation drawn from `org_ids` (default: every organisation of the dataset), with a
    seniority date drawn uniformly from the 10 years before `on` and `min_rooms` =
    ceil(persons / 2). Such applicants are a demonstration sample, not a waiting list.
    """
    path = str(dataset_dir)
    residences = read_table(path, "residences")
    persons = read_table(path, "persons", ["person_id", "birth_date"])
    dwellings = read_table(path, "dwellings", ["dwelling_id", "department_id"])
    departments = read_table(path, "departments", ["department_id", "org_id"])
    if has_table(path, "applicants"):
        if sample is not None or rng is not None or org_ids is not None:
            raise DatasetError(f"{path}: the dataset has an applicants table; sample, rng and org_ids apply "
                               f"only without one")
        table = read_table(path, "applicants").with_row_index("_row", offset=1).sort(
            ["applicant_id", "org_id", "list_type"])
        rows = table.to_dicts()
    else:
        if sample is None or rng is None:
            raise DatasetError(f"{path} has no applicants table: pass sample=N and a seeded rng to draw "
                               f"applicant households")
        rows = _sampled_rows(path, residences, on, sample, rng, org_ids)

    hh_ids = sorted({int(r["household_id"]) for r in rows if r.get("household_id") is not None})
    households = _households(residences, hh_ids, on)
    pids = sorted({pid for people in households.values() for pid, _, _ in people})
    births = dict(persons.filter(pl.col("person_id").is_in(pids)).select("person_id", "birth_date").iter_rows())

    labour = read_table(path, "labour")
    span = covered_years(sorted(set(labour["year"].unique().to_list())), on, options)
    histories: dict[int, BenefitHistory] = {}
    work: dict[int, float] = defaultdict(float)
    if span is not None:
        first, last = span
        mine = labour.filter(pl.col("person_id").is_in(pids) & pl.col("year").is_between(first, last))
        per_person: dict[int, list[tuple[int, str, float]]] = defaultdict(list)
        for pid, year, attachment, fte in mine.select("person_id", "year", "attachment", "fte").iter_rows():
            per_person[int(pid)].append((int(year), str(attachment), float(fte)))
            if year == last and attachment in ("employment", "education"):
                work[int(pid)] += float(fte)
        histories = {pid: benefit_history(per_person.get(pid, ()), first, last, on, options) for pid in pids}

    dept_of = dict(dwellings.filter(pl.col("department_id").is_not_null()).iter_rows())
    org_of = dict(departments.iter_rows())
    out: list[Applicant] = []
    for index, r in enumerate(rows, start=1):
        row_no = int(r.get("_row") or index)
        aid = int(r["applicant_id"])
        hh = r.get("household_id")
        people = households.get(int(hh), []) if hh is not None else []
        if people:
            members = _members(people, births, histories, on, options)
            household = Household(int(hh), members)
            dept = dept_of.get(people[0][2])
        else:
            household = _placeholder(aid, int(r.get("household_size") or 1))
            dept = None
        facts = {}
        employed = _employed_or_in_education(household.members, work, span is not None and bool(people), options)
        if employed is not None:
            facts["household.employed_or_in_education"] = employed
        column = "list_type"
        try:
            list_type = ListType(r["list_type"])
            column = "min_rooms"
            min_rooms = int(r["min_rooms"])
            column = "seniority_date"
            if not isinstance(r["seniority_date"], date):
                raise ValueError(f"seniority_date must be a date, got {r['seniority_date']!r}")
            column = None
            out.append(Applicant(
                applicant_id=aid, org_id=str(r["org_id"]), list_type=list_type,
                seniority_date=r["seniority_date"], household=household, min_rooms=min_rooms,
                max_rent_dkk=r.get("max_rent_dkk"), current_department_id=dept,
                current_org_id=org_of.get(dept) if dept else None, facts=facts))
        except (DataValidationError, ValueError, TypeError) as exc:
            column = getattr(exc, "column", None) or column
            raise DataValidationError(f"applicant {aid}: {getattr(exc, 'reason', exc)}",
                                      path=os.path.join(path, "applicants.parquet"), row=row_no,
                                      column=column) from exc
    return out


def _sampled_rows(path: str, residences: pl.DataFrame, on: date, sample: int, rng: np.random.Generator,
                  org_ids: Sequence[str] | None) -> list[dict]:
    if sample < 1:
        raise DatasetError(f"{path}: sample must be at least 1, got {sample}")
    living = _residents_on(residences, on).group_by("household_id").agg(pl.len().alias("size")).sort("household_id")
    if living.height == 0:
        raise DatasetError(f"{path}: no household lives in a dwelling on {on.isoformat()}")
    if org_ids is None:
        org_ids = read_table(path, "housing_organisations")["org_id"].to_list()
    orgs = sorted(org_ids)
    if not orgs:
        raise DatasetError(f"{path}: no housing organisation to put sampled applicants on")
    picks = np.sort(rng.choice(living.height, size=min(sample, living.height), replace=False))
    chosen = living[picks.tolist()]
    rows = []
    for i, (hh, size) in enumerate(chosen.iter_rows()):
        days = int(rng.integers(0, 3653))
        rows.append({"applicant_id": i + 1, "household_id": int(hh), "org_id": orgs[int(rng.integers(len(orgs)))],
                     "list_type": "external", "seniority_date": on - timedelta(days=days + 1),
                     "household_size": int(size), "min_rooms": max(1, math.ceil(int(size) / 2)),
                     "max_rent_dkk": None})
    return rows


def scenario_waiting_list(dataset_dir: str | os.PathLike[str], on: date, *, sample: int, rng: np.random.Generator,
                          options: RegisterOptions = RegisterOptions()) -> tuple[list[Applicant], str]:
    """A waiting list from register data for the letting scenario, and the organisation whose
    dwellings the scenario should let: the `applicants` table's rows and its organisation
    with the most applicants (ties: the smallest id), or, without the table, `sample` drawn
    households on the list of organisation "ORG1"."""
    if has_table(str(dataset_dir), "applicants"):
        applicants = applicants_from_dataset(dataset_dir, on, options=options)
        if not applicants:
            raise DatasetError(f"{dataset_dir}: the applicants table is empty")
        counts: dict[str, int] = defaultdict(int)
        for a in applicants:
            counts[a.org_id] += 1
        org = min(counts, key=lambda o: (-counts[o], o))
        return applicants, org
    return applicants_from_dataset(dataset_dir, on, options=options, sample=sample, rng=rng, org_ids=["ORG1"]), "ORG1"


__all__ = ["RegisterOptions", "applicants_from_dataset", "benefit_history", "covered_years", "fte_months",
           "scenario_waiting_list"]
