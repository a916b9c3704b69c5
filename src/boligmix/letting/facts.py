"""Facts for the letting rules: the base facts of an applicant and a dwelling, and the derived
facts a policy declares (benefit months, recent events, member conditions).

Rules read a flat mapping `field -> value`; a field that is missing or None is UNKNOWN to the
evaluator. Derived facts are computed here in three-valued logic (True / False / None), so
"applicant and partner both received kontanthjælp for 6 consecutive months" stays a simple
`{compare: {field: ..., op: ==, value: true}}` in the YAML.

Base fact catalogue (always available to conditions):

| field | meaning |
|---|---|
| `applicant.list_type` | external / internal / municipal_referral / rehousing / advert_response |
| `applicant.age` | age in whole years of the applicant member on the assessment date |
| `applicant.lives_in_department` | the household lives in the vacancy's department now |
| `applicant.lives_in_organisation` | the household lives in a department of the vacancy's organisation |
| `applicant.internal_transfer_within_department` | internal list and lives in the department |
| `applicant.grew_up_in_dwelling_area` | `Applicant.facts['grew_up_in_area_id']` equals the dwelling's area (missing/None: unknown; False or '': grew up in no area) |
| `applicant.wish_rooms_ok` / `applicant.wish_rent_ok` | the dwelling meets the applicant's wishes |
| `applicant.refusals` | refusals so far |
| `household.size`, `household.adults`, `household.children` | persons (adults: 18+ or role not child) |
| `household.persons_per_room` | household size / dwelling rooms |
| `household.rooms_minus_persons` | dwelling rooms - household size |
| `dwelling.rooms`, `dwelling.almen_type`, `dwelling.shared`, `dwelling.monthly_rent_dkk`, `dwelling.floor_area_m2` | |
| `dwelling.in_<category>` | the dwelling's area is on that list (udsat, parallelsamfund, omdannelse, forebyggelse, kombineret_udlejning) |
| `priority_right.<name>` | the applicant holds that priority right (closed world) |

Member facts (for `member_condition`): `member.role`, `member.age` plus the policy's declared
`member_input_facts`, read from `HouseholdMember.facts`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from boligmix.letting.model import (
    AREA_CATEGORIES,
    Applicant,
    Dwelling,
    HouseholdMember,
    MemberRole,
    month_index,
)
from boligmix.rules.evaluator import Condition, evaluate
from boligmix.rules.truth import Truth

BASE_FACTS: tuple[str, ...] = (
    "applicant.list_type",
    "applicant.age",
    "applicant.lives_in_department",
    "applicant.lives_in_organisation",
    "applicant.internal_transfer_within_department",
    "applicant.grew_up_in_dwelling_area",
    "applicant.wish_rooms_ok",
    "applicant.wish_rent_ok",
    "applicant.refusals",
    "household.size",
    "household.adults",
    "household.children",
    "household.persons_per_room",
    "household.rooms_minus_persons",
    "dwelling.rooms",
    "dwelling.almen_type",
    "dwelling.shared",
    "dwelling.monthly_rent_dkk",
    "dwelling.floor_area_m2",
    *(f"dwelling.in_{category}" for category in AREA_CATEGORIES),
)
"""Fact fields every condition may read."""

MEMBER_BASE_FACTS: tuple[str, ...] = ("member.role", "member.age")
"""Member fact fields every `member_condition` may read."""

PRIORITY_RIGHT_PREFIX = "priority_right."

def age_on(birth_date: date | None, on: date) -> int | None:
    """Age in whole years on `on`, None when the birth date is unknown."""
    if birth_date is None:
        return None
    return on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))


def base_facts(applicant: Applicant, dwelling: Dwelling, on: date, refusals: int,
               priority_rights: Iterable[str] = ()) -> dict[str, Any]:
    """The base fact catalogue for one applicant and one dwelling on the assessment date."""
    household = applicant.household
    head = household.applicant
    size = household.size
    adults = 0
    adults_known = True
    for member in household.members:
        if member.role == MemberRole.CHILD:
            age = age_on(member.birth_date, on)
            if age is None:
                adults_known = False
            elif age >= 18:
                adults += 1
        else:
            adults += 1
    lives_in_department = applicant.current_department_id == dwelling.department_id
    grew_up = applicant.facts.get("grew_up_in_area_id", None)
    if grew_up is None:                                   # missing or None: unknown
        grew_up_in_area: bool | None = None
    else:
        grew_up_in_area = bool(grew_up) and dwelling.area_id is not None and grew_up == dwelling.area_id
    rent = dwelling.monthly_rent_dkk
    if applicant.max_rent_dkk is None:
        rent_ok: bool | None = True
    elif rent is None:
        rent_ok = None
    else:
        rent_ok = rent <= applicant.max_rent_dkk
    facts: dict[str, Any] = {
        "applicant.list_type": applicant.list_type.value,
        "applicant.age": age_on(head.birth_date, on),
        "applicant.lives_in_department": lives_in_department,
        "applicant.lives_in_organisation": applicant.current_org_id == dwelling.org_id,
        "applicant.internal_transfer_within_department":
            applicant.list_type.value == "internal" and lives_in_department,
        "applicant.grew_up_in_dwelling_area": grew_up_in_area,
        "applicant.wish_rooms_ok": dwelling.rooms >= applicant.min_rooms,
        "applicant.wish_rent_ok": rent_ok,
        "applicant.refusals": refusals,
        "household.size": size,
        "household.adults": adults if adults_known else None,
        "household.children": (size - adults) if adults_known else None,
        "household.persons_per_room": size / dwelling.rooms,
        "household.rooms_minus_persons": dwelling.rooms - size,
        "dwelling.rooms": dwelling.rooms,
        "dwelling.almen_type": dwelling.almen_type,
        "dwelling.shared": dwelling.shared,
        "dwelling.monthly_rent_dkk": rent,
        "dwelling.floor_area_m2": dwelling.floor_area_m2,
    }
    for category in AREA_CATEGORIES:
        facts[f"dwelling.in_{category}"] = category in dwelling.area_categories
    for name in priority_rights:
        facts[f"{PRIORITY_RIGHT_PREFIX}{name}"] = name in applicant.priority_rights
    return facts


# ----------------------------------------------------------------------------------------------
# Three-valued helpers


def _and(values: Iterable[bool | None]) -> bool | None:
    result = Truth.TRUE
    for v in values:
        result = result & Truth.of(v)
    return result.to_bool()


def _or(values: Iterable[bool | None]) -> bool | None:
    result = Truth.FALSE
    for v in values:
        result = result | Truth.of(v)
    return result.to_bool()


def _not(value: bool | None) -> bool | None:
    return None if value is None else not value


# ----------------------------------------------------------------------------------------------
# Derived facts


@dataclass(frozen=True)
class DerivedValue:
    """A derived fact's value (None = unknown) and what it was computed from, for the audit."""

    value: bool | None
    detail: Mapping[str, Any]


def benefit_window(on: date, months: int, window_end: str) -> list[int]:
    """Month indices of the `months` calendar months ending at the month before `on`
    (`window_end='previous_month'`) or at `on`'s own month (`'current_month'`)."""
    end = month_index(on) - (1 if window_end == "previous_month" else 0)
    return list(range(end - months + 1, end + 1))


def member_received_in_window(member: HouseholdMember, benefits: frozenset[str], window: list[int],
                              run: int | None = None) -> tuple[bool | None, dict[str, Any]]:
    """Did the member receive one of `benefits` in `run` consecutive months within `window`
    (default: in every month of the window)?

    Each month is received, not received (a covered month without them) or not covered.
    True when some stretch of `run` months is all received; False when every stretch contains
    a month not received; None (unknown) otherwise, i.e. only uncovered months stand between
    the data and a qualifying stretch.
    """
    run = len(window) if run is None else run
    history = member.benefits
    if history is None:
        return None, {"history": "unknown"}
    received = history.months_with(benefits)
    states = ["R" if m in received else ("N" if history.covers(m) else "U") for m in window]
    best = longest = possible = 0
    current_possible = 0
    for state in states:
        longest = longest + 1 if state == "R" else 0
        best = max(best, longest)
        current_possible = current_possible + 1 if state != "N" else 0
        possible = max(possible, current_possible)
    detail = {"months_in_window": len(window), "run_needed": run, "longest_run_received": best,
              "months_received": states.count("R"), "months_without": states.count("N"),
              "months_not_covered": states.count("U")}
    if best >= run:
        return True, detail
    if possible >= run:
        return None, detail
    return False, detail


LEGACY_EVENT_FACTS: dict[str, str] = {
    "released_from_youth_institution_on": "released_from_youth_institution_after_sentence",
}
"""Event facts (dates) that replaced an older yes/no member fact: when only the old fact is
stored, `False` still means never (FALSE) and `True` lacks the date the window needs (UNKNOWN).
Stored households written before § 59, stk. 6, nr. 2 got its 6-month window keep working."""


def event_within(member: HouseholdMember, event: str, months: int, on: date) -> tuple[bool | None, Any]:
    """Did the member's event fact (a date, or False for never) happen within `months` months
    before `on`? Missing fact: unknown (see `LEGACY_EVENT_FACTS` for older yes/no facts)."""
    if event not in member.facts:
        legacy = LEGACY_EVENT_FACTS.get(event)
        if legacy is not None and legacy in member.facts:
            old = member.facts[legacy]
            return (False if old is False else None), {legacy: old}
        return None, None
    value = member.facts[event]
    if value is False or value is None:
        return (None if value is None else False), value
    if isinstance(value, str):  # JSON (a stored household, a cases file): an ISO date
        try:
            value = date.fromisoformat(value)
        except ValueError:
            return None, value
    if not isinstance(value, date):
        return None, value
    return (months_before(on, months) <= value <= on), value.isoformat()


def months_before(on: date, months: int) -> date:
    """The same day `months` calendar months before `on` (clipped to the month's last day)."""
    year, month0 = divmod(month_index(on) - months, 12)
    return date(year, month0 + 1, min(on.day, _days_in_month(year, month0 + 1)))


def _days_in_month(year: int, month: int) -> int:
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return (nxt - date(year, month, 1)).days


def member_facts(member: HouseholdMember, on: date) -> dict[str, Any]:
    facts: dict[str, Any] = dict(member.facts)
    facts["member.role"] = member.role.value
    facts["member.age"] = age_on(member.birth_date, on)
    return facts


def partner_of(applicant: Applicant, on: date, min_cohabitation_years: float
               ) -> tuple[HouseholdMember | None, bool | None]:
    """The applicant's spouse or cohabitant and whether they count as partner (a cohabitant
    counts after `min_cohabitation_years`; unknown when the cohabitation start is unknown)."""
    for member in applicant.household.members:
        if member.role == MemberRole.SPOUSE:
            return member, True
    for member in applicant.household.members:
        if member.role == MemberRole.COHABITANT:
            if member.cohabiting_since is None:
                return member, None
            years = (on - member.cohabiting_since).days / 365.25
            return member, years >= min_cohabitation_years
    return None, False


def aggregate(applicant: Applicant, who: str, on: date, min_cohabitation_years: float,
              per_member: Any) -> DerivedValue:
    """Apply `per_member(member) -> (value, detail)` to the members `who` names and combine
    three-valued: `applicant`, `applicant_and_partner` (both, when a partner counts),
    `any_member`."""
    household = applicant.household
    if who == "applicant":
        value, detail = per_member(household.applicant)
        return DerivedValue(value, {"applicant": detail})
    if who == "applicant_and_partner":
        head_value, head_detail = per_member(household.applicant)
        partner, counts = partner_of(applicant, on, min_cohabitation_years)
        detail: dict[str, Any] = {"applicant": head_detail, "partner_counts": counts}
        if partner is None or counts is False:
            return DerivedValue(head_value, detail)
        partner_value, partner_detail = per_member(partner)
        detail["partner"] = partner_detail
        # applicant AND (partner does not count OR partner meets it)
        return DerivedValue(_and([head_value, _or([_not(counts), partner_value])]), detail)
    if who == "any_member":
        values = []
        detail = {}
        for member in household.members:
            value, d = per_member(member)
            values.append(value)
            detail[f"{member.role.value}:{member.person_id}"] = d
        return DerivedValue(_or(values), detail)
    raise ValueError(f"unknown 'who': {who}")


def derive_benefit_months(applicant: Applicant, on: date, *, benefits: frozenset[str], months: int,
                          who: str, window_end: str = "previous_month", lookback_months: int | None = None,
                          min_cohabitation_years: float = 2.0) -> DerivedValue:
    """`months` consecutive calendar months with one of `benefits`: by default the `months`
    months just before the assessment month; with `lookback_months` any such run within that
    many months (the other reading of "i en sammenhængende periode på 6 måneder")."""
    window = benefit_window(on, max(months, lookback_months or months), window_end)
    return aggregate(applicant, who, on, min_cohabitation_years,
                     lambda m: member_received_in_window(m, benefits, window, months))


def derive_benefit_groups(applicant: Applicant, on: date, *, groups: Sequence[tuple[frozenset[str], int]],
                          who: str, window_end: str = "previous_month", lookback_months: int | None = None,
                          min_cohabitation_years: float = 2.0) -> DerivedValue:
    """Each member `who` names meets ANY of `groups` ((benefits, months) pairs, e.g. 6 months of
    kontanthjælp or currently førtidspension), three-valued; with `applicant_and_partner` the
    applicant and the partner may meet different groups (§ 51 b: "each receive" one of them)."""
    windows = [(benefits, months, benefit_window(on, max(months, lookback_months or months), window_end))
               for benefits, months in groups]

    def per_member(member: HouseholdMember) -> tuple[bool | None, Any]:
        values, detail = [], []
        for benefits, months, window in windows:
            value, d = member_received_in_window(member, benefits, window, months)
            values.append(value)
            detail.append({"benefits": sorted(benefits), "met": value, **d})
        return _or(values), {"groups": detail}

    return aggregate(applicant, who, on, min_cohabitation_years, per_member)


def derive_event_within(applicant: Applicant, on: date, *, event: str, months: int, who: str,
                        min_cohabitation_years: float = 2.0, where: Condition | None = None,
                        constants: Mapping[str, Any] | None = None) -> DerivedValue:
    """The event within `months` months for the members `who` names; `where` (a member
    condition, e.g. under 18) limits which members count: a member counts when `where` AND the
    event hold (three-valued)."""
    def per_member(member: HouseholdMember) -> tuple[bool | None, Any]:
        value, detail = event_within(member, event, months, on)
        if where is None:
            return value, detail
        applies = evaluate(where, member_facts(member, on), constants or {}).to_bool()
        return _and([applies, value]), {"event": detail, "member_condition": applies}

    return aggregate(applicant, who, on, min_cohabitation_years, per_member)


def derive_member_condition(applicant: Applicant, on: date, *, condition: Condition, who: str,
                            constants: Mapping[str, Any], min_cohabitation_years: float = 2.0
                            ) -> DerivedValue:
    def per_member(member: HouseholdMember) -> tuple[bool | None, Any]:
        facts = member_facts(member, on)
        return evaluate(condition, facts, constants).to_bool(), None

    return aggregate(applicant, who, on, min_cohabitation_years, per_member)


__all__ = [
    "BASE_FACTS",
    "DerivedValue",
    "MEMBER_BASE_FACTS",
    "PRIORITY_RIGHT_PREFIX",
    "age_on",
    "base_facts",
    "benefit_window",
    "LEGACY_EVENT_FACTS",
    "derive_benefit_groups",
    "derive_benefit_months",
    "derive_event_within",
    "derive_member_condition",
    "event_within",
    "member_received_in_window",
    "partner_of",
]
