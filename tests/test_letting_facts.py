"""Derived facts by hand: benefit windows across a year end, event windows, partners, bad input."""

from datetime import date

import pytest
from letting_factories import NOW, applicant, dwelling, history, member, vacancy

from boligmix.errors import DataValidationError
from boligmix.letting.engine import LettingEngine
from boligmix.letting.facts import (
    benefit_window,
    derive_benefit_months,
    event_within,
    months_before,
)
from boligmix.letting.model import MemberRole, month_index
from boligmix.letting.policy import load_default_policies

KH = frozenset({"kontanthjaelp", "uddannelseshjaelp"})


def test_benefit_window_is_the_six_months_before_the_assessment_month():
    window = benefit_window(date(2024, 2, 10), 6, "previous_month")
    assert window[0] == month_index(date(2023, 8, 1)) and window[-1] == month_index(date(2024, 1, 1))
    assert benefit_window(date(2024, 2, 10), 6, "current_month")[-1] == month_index(date(2024, 2, 1))


@pytest.mark.parametrize("spells, expected", [
    ([("kontanthjaelp", date(2023, 8, 1), date(2024, 1, 1))], True),          # Aug-Jan across the year end
    ([("kontanthjaelp", date(2023, 9, 1), date(2024, 1, 1))], False),         # August without
    ([("kontanthjaelp", date(2023, 8, 1), date(2023, 10, 1)),
      ("uddannelseshjaelp", date(2023, 11, 1), date(2024, 1, 1))], True),    # change of benefit
    ([("dagpenge", date(2023, 8, 1), date(2024, 1, 1))], False),              # not a listed benefit
])
def test_benefit_months(spells, expected):
    a = applicant(1, benefits=history(*spells, known_to=date(2024, 2, 1)))
    assert derive_benefit_months(a, date(2024, 2, 10), benefits=KH, months=6, who="applicant").value is expected


def test_partner_rules():
    on = date(2024, 2, 10)
    six = history(("kontanthjaelp", date(2023, 8, 1), date(2024, 1, 1)))
    unknown_since = applicant(1, members=(member(1, benefits=six),
                                          member(2, MemberRole.COHABITANT, benefits=history())))
    value = derive_benefit_months(unknown_since, on, benefits=KH, months=6, who="applicant_and_partner")
    assert value.value is None and value.detail["partner_counts"] is None
    # the applicant alone decides FALSE even when the partner is unknown
    no = applicant(2, members=(member(1, benefits=history()), member(2, MemberRole.SPOUSE, benefits=None)))
    assert derive_benefit_months(no, on, benefits=KH, months=6, who="applicant_and_partner").value is False
    any_member = applicant(3, members=(member(1, benefits=history()), member(2, MemberRole.CHILD, benefits=six)))
    assert derive_benefit_months(any_member, on, benefits=KH, months=6, who="any_member").value is True


def test_event_within_months_clips_month_ends():
    assert months_before(date(2024, 8, 31), 6) == date(2024, 2, 29)
    m = member(1, released=date(2024, 2, 29), never=False)
    assert event_within(m, "released", 6, date(2024, 8, 31))[0] is True
    assert event_within(m, "released", 6, date(2024, 9, 1))[0] is False
    assert event_within(m, "never", 6, date(2024, 9, 1))[0] is False
    assert event_within(m, "missing", 6, date(2024, 9, 1))[0] is None


def test_wrongly_typed_input_fact_is_a_data_error_naming_the_applicant():
    bad = applicant(5, facts={"household.employed_or_in_education": "yes"})
    engine = LettingEngine(load_default_policies())
    with pytest.raises(DataValidationError, match="applicant 5") as info:
        engine.next_offers(vacancy(dwelling(1, categories=("udsat",))), [bad], None, NOW)
    assert info.value.column == "household.employed_or_in_education"


def test_model_rejects_impossible_records():
    from boligmix.letting.model import Dwelling
    with pytest.raises(DataValidationError, match="exactly one member"):
        applicant(1, members=(member(1, MemberRole.SPOUSE),))
    with pytest.raises(DataValidationError, match="rooms"):
        Dwelling(1, 101, "ORG1", "ORG1-1", 0)
    with pytest.raises(DataValidationError, match="ghetto"):
        Dwelling(1, 101, "ORG1", "ORG1-1", 2, "A1", frozenset({"ghetto"}))


def test_lookback_reading_of_consecutive_months():
    on = date(2024, 6, 15)
    old_run = applicant(1, benefits=history(("kontanthjaelp", date(2023, 1, 1), date(2023, 6, 1))))
    recent = derive_benefit_months(old_run, on, benefits=KH, months=6, who="applicant")
    assert recent.value is False
    anywhere = derive_benefit_months(old_run, on, benefits=KH, months=6, who="applicant", lookback_months=24)
    assert anywhere.value is True and anywhere.detail["applicant"]["longest_run_received"] == 6
    partly_known = applicant(2, benefits=history(("kontanthjaelp", date(2023, 10, 1), date(2024, 1, 1)),
                                                 known_from=date(2023, 10, 1)))
    # Oct-Jan received, Feb-May known without: a 6-month run would need the unknown months before October
    assert derive_benefit_months(partly_known, on, benefits=KH, months=6, who="applicant",
                                 lookback_months=12).value is None
    assert derive_benefit_months(partly_known, on, benefits=KH, months=6, who="applicant").value is False


def test_policy_facts_is_the_engines_public_fact_function():
    """`boligmix.letting.engine.policy_facts`: the facts of one policy for one applicant, by hand.
    § 51 c on 15 June 2024: applicant and partner (cohabiting since 2015) both on kontanthjælp in June
    -> listed_benefits_now true; the declared input fact dispensation_51c is copied, an undeclared
    fact is not. The engine's old private name stays a thin alias; callers use the public one."""
    import inspect
    from datetime import date

    import boligmix.letting.compiled as compiled
    import boligmix.letting.engine as engine_module
    import boligmix.letting.exchange as exchange
    from boligmix.letting.engine import LettingEngine, policy_facts
    from boligmix.letting.facts import base_facts
    from boligmix.letting.model import MemberRole
    from boligmix.letting.policy import load_default_policies
    from letting_factories import applicant, dwelling, history, member

    kh = history(("kontanthjaelp", date(2024, 6, 1), date(2024, 6, 1)), known_to=date(2024, 6, 1))
    a = applicant(1, members=(member(10, benefits=kh),
                              member(11, MemberRole.SPOUSE, benefits=kh, cohabiting_since=date(2015, 1, 1))),
                  facts={"dispensation_51c": False, "not_declared": 1})
    policies = load_default_policies()
    policy = policies.get("dk.almenboligloven.51c")
    on = date(2024, 6, 15)
    base = base_facts(a, dwelling(1, categories=("omdannelse",)), on, 0)
    facts, details = policy_facts(policy, a, base, on)
    assert facts["listed_benefits_now"] is True and facts["dispensation_51c"] is False
    assert "not_declared" not in facts and "listed_benefits_now" in details
    assert LettingEngine(policies)._facts_for(policy, a, base, on) == (facts, details)
    assert policy_facts.__doc__ and "policy_facts" in engine_module.__all__
    for module in (compiled, exchange):
        assert "_facts_for" not in inspect.getsource(module)
