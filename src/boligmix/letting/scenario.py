"""A small synthetic letting scenario: one organisation's waiting lists and vacancies over time,
run through the engine with random (seeded) answers.

It exists to exercise the engine end to end (`boligmix letting simulate`) and to produce a
decision log to explain; it is not calibrated to Danish letting data. Same seed, same
policies -> the same decision log.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np

from boligmix.letting.engine import LettingContext, LettingEngine
from boligmix.letting.model import (
    Applicant,
    BenefitHistory,
    BenefitSpell,
    Dwelling,
    Household,
    HouseholdMember,
    ListType,
    MemberRole,
    Outcome,
    Vacancy,
)
from boligmix.letting.policy import PolicySet

DEPARTMENTS: tuple[tuple[str, str | None, frozenset[str]], ...] = (
    ("ORG1-1", "A-OMD", frozenset({"udsat", "parallelsamfund", "omdannelse", "kombineret_udlejning"})),
    ("ORG1-2", "A-UDS", frozenset({"udsat"})),
    ("ORG1-3", "A-FOR", frozenset({"forebyggelse"})),
    ("ORG1-4", None, frozenset()),
)
"""Departments of the scenario's organisation: (department id, area id, area categories)."""

ANSWERS = ("accept", "refuse", "silent")


@dataclass(frozen=True)
class ScenarioSettings:
    applicants: int = 200
    vacancies: int = 40
    municipality_code: int = 101
    org_id: str = "ORG1"
    """Organisation owning the scenario's dwellings (applicants of other organisations are skipped)."""
    start: date = date(2024, 1, 8)
    days_between_vacancies: int = 3
    answer_probabilities: tuple[float, float, float] = (0.45, 0.35, 0.20)
    """Probability that an offered applicant accepts, refuses, does not answer."""


@dataclass
class ScenarioResult:
    engine: LettingEngine
    seed: int
    settings: ScenarioSettings
    summary: dict[str, Any] = field(default_factory=dict)


def _month(d: date, back: int) -> date:
    year, month0 = divmod(d.year * 12 + d.month - 1 - back, 12)
    return date(year, month0 + 1, 1)


def _person(rng: np.random.Generator, pid: int, role: MemberRole, start: date, adult: bool = True
            ) -> HouseholdMember:
    birth = date(int(rng.integers(1950, 2004)) if adult else int(rng.integers(2008, 2023)), 6, 1)
    benefits: BenefitHistory | None
    if rng.random() < 0.05:
        benefits = None                                    # not known: rules must handle it
    else:
        # the history is known for 3 years before and 1 year after the start (the scenario's
        # time span); benefits received at the start continue through the known period
        known_to = _month(start, -12)
        spells = []
        draw = rng.random()
        if adult and draw < 0.18:
            months = int(rng.integers(1, 24))              # on kontanthjælp since some months
            spells.append(BenefitSpell("kontanthjaelp", _month(start, months), known_to))
        elif adult and draw < 0.23:
            spells.append(BenefitSpell("foertidspension", _month(start, 60), known_to))
        elif adult and draw < 0.30:
            months = int(rng.integers(1, 12))
            spells.append(BenefitSpell("dagpenge", _month(start, months), known_to))
        benefits = BenefitHistory(_month(start, 36), known_to, tuple(spells))
    facts: dict[str, Any] = {}
    if rng.random() < 0.9:
        facts = {"eu_eea_ch_citizen": bool(rng.random() < 0.9), "enrolled_student": bool(rng.random() < 0.1),
                 "released_after_sentence_on": False if rng.random() < 0.97 else _month(start, 2),
                 "lease_terminated_for_breach_on": False,
                 "released_from_youth_institution_on": False}
    return HouseholdMember(pid, role, birth, None, benefits, facts)


def _applicant(rng: np.random.Generator, aid: int, list_type: ListType, start: date) -> Applicant:
    members = [_person(rng, aid * 10, MemberRole.APPLICANT, start)]
    if rng.random() < 0.4:
        members.append(_person(rng, aid * 10 + 1, MemberRole.SPOUSE, start))
    for k in range(int(rng.choice([0, 0, 1, 2, 3]))):
        members.append(_person(rng, aid * 10 + 2 + k, MemberRole.CHILD, start, adult=False))
    internal = list_type == ListType.INTERNAL
    department = DEPARTMENTS[int(rng.integers(0, len(DEPARTMENTS)))][0] if internal else None
    facts: dict[str, Any] = {}
    if rng.random() < 0.9:
        facts["household.employed_or_in_education"] = bool(rng.random() < 0.55)
    if rng.random() < 0.8:
        facts["applicant.weekly_work_hours"] = int(rng.choice([0, 0, 15, 25, 37]))
    if rng.random() < 0.3:
        facts["grew_up_in_area_id"] = str(rng.choice([d[1] or "ELSEWHERE" for d in DEPARTMENTS]))
        facts["applicant.moving_out_from_parents"] = bool(rng.random() < 0.5)
        facts["applicant.in_education"] = bool(rng.random() < 0.5)
    seniority = start - timedelta(days=int(rng.integers(30, 3650)))
    return Applicant(aid, "ORG1", list_type, seniority, Household(aid, tuple(members)),
                     min_rooms=max(1, len(members) - 1), max_rent_dkk=float(rng.choice([7000, 9000, 12000])),
                     current_department_id=department, current_org_id="ORG1" if internal else None,
                     priority_rights=frozenset({"fortrinsret"}) if rng.random() < 0.03 else frozenset(),
                     facts=facts)


def make_applicants(rng: np.random.Generator, settings: ScenarioSettings) -> list[Applicant]:
    out = []
    for i in range(1, settings.applicants + 1):
        list_type = ListType.INTERNAL if rng.random() < 0.15 else ListType.EXTERNAL
        out.append(_applicant(rng, i, list_type, settings.start))
    return out


def make_vacancy(rng: np.random.Generator, j: int, settings: ScenarioSettings, on: date) -> Vacancy:
    department, area, categories = DEPARTMENTS[int(rng.integers(0, len(DEPARTMENTS)))]
    rooms = int(rng.choice([1, 2, 2, 3, 3, 4, 5]))
    dwelling = Dwelling(1000 + j, settings.municipality_code, settings.org_id, department, rooms, area, categories,
                        "family", 25.0 * rooms + 20, float(2500 + 1700 * rooms))
    return Vacancy(f"V{j}", dwelling, on + timedelta(days=30))


def run_scenario(policies: PolicySet, seed: int, settings: ScenarioSettings | None = None,
                 on_progress: Callable[[str, float], None] | None = None,
                 applicants: Sequence[Applicant] | None = None) -> ScenarioResult:
    """Let `settings.vacancies` vacancies one after another with seeded random answers.

    `applicants` replaces the random waiting list (e.g. built from register data by
    `boligmix.letting.register.applicants_from_dataset`); referrals and advert respondents stay
    random."""
    settings = settings or ScenarioSettings()
    rng = np.random.default_rng(seed)
    engine = LettingEngine(policies)
    if applicants is None:
        applicants = make_applicants(rng, settings)
    applicants = list(applicants)
    next_id = max([10 * settings.applicants, *(a.applicant_id for a in applicants)]) + 1
    open_vacancies: list[Vacancy] = []
    now = datetime.combine(settings.start, datetime.min.time()).replace(hour=9)
    p_accept, p_refuse, _ = settings.answer_probabilities
    for j in range(1, settings.vacancies + 1):
        open_vacancies.append(make_vacancy(rng, j, settings, now.date()))
        for vacancy in list(open_vacancies):
            engine.expire(now)
            if engine.ledger.is_let(vacancy):
                open_vacancies.remove(vacancy)
                continue
            if engine.ledger.open_offers(vacancy.vacancy_id):
                continue
            referrals = [_applicant(rng, next_id + k, ListType.MUNICIPAL_REFERRAL, settings.start)
                         for k in range(int(rng.integers(1, 3)))]
            next_id += len(referrals)
            respondents = [_applicant(rng, next_id + k, ListType.ADVERT_RESPONSE, settings.start)
                           for k in range(int(rng.integers(0, 4)))]
            next_id += len(respondents)
            round_ = engine.next_offers(vacancy, applicants,
                                        LettingContext(referrals=referrals, advert_respondents=respondents), now)
            if not round_.offers and round_.number > 3:
                open_vacancies.remove(vacancy)       # give up on it in this scenario
                continue
            answer_time = now + timedelta(days=1)
            for offer in round_.offers:
                answer = rng.random()
                if answer < p_accept:
                    if engine.ledger.offers[offer.offer_id].status.value == "open":
                        engine.accept(offer.offer_id, answer_time)
                elif answer < p_accept + p_refuse:
                    if engine.ledger.offers[offer.offer_id].status.value == "open":
                        engine.refuse(offer.offer_id, answer_time)
        now += timedelta(days=settings.days_between_vacancies)
        if on_progress is not None:
            on_progress("letting", j / settings.vacancies)
    engine.expire(now + timedelta(days=30))
    return ScenarioResult(engine, seed, settings, summarise(engine))


def summarise(engine: LettingEngine) -> dict[str, Any]:
    """Counts from the decision log: lettings by channel, outcomes, rejections and holds by rule."""
    decisions = engine.decisions
    lettings = engine.lettings
    return {
        "lettings": len(lettings),
        "lettings_by_channel": dict(sorted(Counter(l.channel.value for l in lettings).items())),
        "rounds": len(engine.ledger.rounds),
        "decisions": len(decisions),
        "decisions_by_outcome": dict(sorted(Counter(d.outcome.value for d in decisions).items())),
        "rejections_by_rule": dict(sorted(Counter(d.rule_id for d in decisions
                                                  if d.outcome == Outcome.REJECTED).items())),
        "held_for_unknown_facts": sum(1 for d in decisions if d.outcome == Outcome.SKIPPED and d.unknown_facts
                                      and d.rank is None),
        "winner_rank_mean": (round(float(np.mean([d.rank for d in decisions if d.outcome == Outcome.LET])), 2)
                             if lettings else None),
    }


__all__ = ["ScenarioResult", "ScenarioSettings", "make_applicants", "make_vacancy", "run_scenario", "summarise"]
