"""Small builders for letting-engine tests (applicants, households, dwellings, vacancies)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

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

NOW = datetime(2024, 6, 15, 10, 0)
"""Assessment time used by most tests: the 6 months before are Dec 2023 .. May 2024."""


def history(*spells: tuple[str, date, date], known_from: date = date(2020, 1, 1),
            known_to: date = date(2024, 6, 1)) -> BenefitHistory:
    return BenefitHistory(known_from, known_to, tuple(BenefitSpell(b, f, t) for b, f, t in spells))


def member(person_id: int, role: MemberRole = MemberRole.APPLICANT, *, birth: date | None = date(1985, 3, 1),
           benefits: BenefitHistory | None = None, cohabiting_since: date | None = None,
           **facts: Any) -> HouseholdMember:
    return HouseholdMember(person_id, role, birth, cohabiting_since, benefits, facts)


def applicant(applicant_id: int, seniority: date = date(2020, 1, 1), *, members: tuple[HouseholdMember, ...] = (),
              list_type: ListType = ListType.EXTERNAL, org_id: str = "ORG1", benefits: BenefitHistory | None = None,
              min_rooms: int = 1, max_rent: float | None = None, current_department_id: str | None = None,
              current_org_id: str | None = None, priority_rights: frozenset[str] = frozenset(),
              facts: dict[str, Any] | None = None, refusal_count: int = 0, passive: bool = False,
              birth: date | None = date(1985, 3, 1)) -> Applicant:
    if not members:
        members = (member(applicant_id * 10, benefits=benefits if benefits is not None else history(),
                          birth=birth),)
    return Applicant(applicant_id, org_id, list_type, seniority, Household(applicant_id * 100, members),
                     min_rooms, max_rent, current_department_id, current_org_id, priority_rights,
                     dict(facts or {}), refusal_count, passive)


def dwelling(dwelling_id: int = 1, *, rooms: int = 2, categories: tuple[str, ...] = (), municipality: int = 461,
             org_id: str = "ORG1", department_id: str = "ORG1-1", area_id: str | None = "A1",
             almen_type: str = "family", rent: float | None = 6000.0, shared: bool = False) -> Dwelling:
    return Dwelling(dwelling_id, municipality, org_id, department_id, rooms, area_id, frozenset(categories),
                    almen_type, 70.0, rent, shared)


def vacancy(d: Dwelling, vacancy_id: str | None = None, unit: str | None = None,
            available: date = date(2024, 7, 1)) -> Vacancy:
    return Vacancy(vacancy_id or f"V{d.dwelling_id}{'' if unit is None else '-' + unit}", d, available, unit)


FOLLOW_UPS = (Outcome.ENTITLED, Outcome.REDIRECTED)


def follow_ups_for(round_, applicant_id: int):
    """The follow-up records (entitled, redirected) of a round about `applicant_id`."""
    return [d for d in round_.decisions if d.applicant_id == applicant_id and d.outcome in FOLLOW_UPS]


def decision_for(round_, applicant_id: int):
    """The one decision of an offer round about `applicant_id` (follow-up records of a rejection,
    `entitled` and `redirected`, are left out: see `follow_ups_for`)."""
    found = [d for d in round_.decisions if d.applicant_id == applicant_id and d.outcome not in FOLLOW_UPS]
    assert len(found) == 1, found
    return found[0]


def months(benefit: str, first: date, last: date) -> tuple[str, date, date]:
    return (benefit, first, last)


def organisation_offer_policies():
    """The statutory and example local policies, with municipality 101's kombineret udlejning
    making the offer elsewhere through the organisation (switch offer_elsewhere_by: organisation;
    the default, the municipality, is tested in test_letting_law.py)."""
    import shutil
    import tempfile
    from pathlib import Path

    from boligmix.letting.policy import POLICY_DIR, load_policies

    with tempfile.TemporaryDirectory(prefix="local_org_offer_") as name:   # read at once, then removed
        folder = Path(name)
        for f in (POLICY_DIR / "local").glob("*.yaml"):
            shutil.copy(f, folder / f.name)
        k = folder / "k0101_kombineret.yaml"
        k.write_text(k.read_text(encoding="utf-8").replace(
            "switches:\n", "switches:\n  offer_elsewhere_by: organisation\n"), encoding="utf-8")
        assert "offer_elsewhere_by: organisation" in k.read_text(encoding="utf-8")
        return load_policies([POLICY_DIR / "statutory", folder])
