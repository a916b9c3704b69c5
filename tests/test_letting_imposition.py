"""§ 60 b municipality-wide imposition (rules-spec 6.2), hand-computed cases."""

from datetime import date, datetime

import polars as pl
import pytest
from letting_factories import applicant, dwelling, vacancy

from boligmix.errors import ConfigurationError, DataValidationError
from boligmix.letting.engine import LettingEngine
from boligmix.letting.imposition import (
    assess_imposition,
    family_dwelling_counts,
    impose,
    load_imposition_rules,
    with_imposition,
)
from boligmix.letting.model import Channel
from boligmix.letting.policy import POLICY_DIR, load_policies

AGREEMENT = """id: k0461.fleks
tool: fleksibel_udlejning
slot: fleksibel_frivillig
version: "2023-01-01.1"
law: almenboligloven § 60, stk. 1
effective_from: 2023-01-01
scope: {municipality_codes: [461], org_ids: [%s]}
channels: [fleksibel]
shares: {fleksibel: 1.0}
input_facts: {applicant.in_education: enrolled}
priorities:
  - {id: criteria, rank: 5, on_unknown: no_priority,
     condition: {compare: {field: applicant.in_education, op: "==", value: true}}}
"""


def load(tmp_path, orgs: str):
    (tmp_path / "agreement.yaml").write_text(AGREEMENT % orgs, encoding="utf-8")
    policies = load_policies([POLICY_DIR / "statutory", tmp_path])
    return policies, policies.get("k0461.fleks")


COUNTS = {"A": 300, "B": 210, "C": 490}


def test_more_than_half_allows_imposition(tmp_path):
    _, agreement = load(tmp_path, "A, B")
    v = assess_imposition(agreement, COUNTS, 461, date(2024, 3, 1))
    assert v.allowed and v.covered_orgs == ("A", "B") and v.other_orgs == ("C",)
    assert (v.covered_dwellings, v.total_dwellings, v.share) == (510, 1000, 0.51)
    assert v.review_by == date(2028, 3, 1) and v.rule_id == "dk.almenboligloven.60b"
    assert v.law == "almenboligloven § 60 b (§ 60, stk. 1)"


def test_exactly_half_is_not_enough_unless_switched(tmp_path):
    _, agreement = load(tmp_path, "A, B")
    counts = {"A": 300, "B": 200, "C": 500}
    v = assess_imposition(agreement, counts, 461, date(2024, 3, 1))
    assert not v.allowed and v.share == 0.5 and "needs > 50%" in v.reason
    rules = load_imposition_rules()
    assert assess_imposition(agreement, counts, 461, date(2024, 3, 1),
                             rules.model_copy(update={"threshold_strict": False})).allowed
    permitted = rules.model_copy(update={"switches": rules.switches.model_copy(update={"minister_permission": True})})
    small = assess_imposition(agreement, {"A": 10, "B": 10, "C": 980}, 461, date(2024, 3, 1), permitted)
    assert small.allowed and "minister" in small.reason
    with pytest.raises(ConfigurationError, match="not allowed"):
        impose(agreement, v)


def test_imposed_policy_applies_to_the_others_and_outlives_the_review(tmp_path):
    policies, agreement = load(tmp_path, "A, B")
    v = assess_imposition(agreement, COUNTS, 461, date(2024, 3, 1))
    imposed = impose(agreement, v)
    assert imposed.id == "k0461.fleks.60b" and imposed.version == "2024-03-01.1"
    assert imposed.spec.scope.org_ids == ("C",) and imposed.spec.scope.municipality_codes == (461,)
    assert (imposed.spec.effective_from, imposed.spec.effective_to) == (date(2024, 3, 1), None)
    combined = with_imposition(policies, imposed)
    c_dwelling = dwelling(1, org_id="C", department_id="C-1")
    student = applicant(1, org_id="C", facts={"applicant.in_education": True})
    before = LettingEngine(policies).next_offers(vacancy(c_dwelling), [student], None, datetime(2024, 6, 1))
    assert before.channel == Channel.WAITING_LIST
    during = LettingEngine(combined).next_offers(vacancy(c_dwelling), [student], None, datetime(2024, 6, 1))
    assert during.channel == Channel.FLEKSIBEL
    assert any(p.policy_id == "k0461.fleks.60b" for p in during.policies)
    after = LettingEngine(combined).next_offers(vacancy(c_dwelling), [student], None, datetime(2028, 3, 1))
    assert after.channel == Channel.FLEKSIBEL         # reviewed by then, not lapsed (§ 60 b, rules-spec 6.6)


def test_bad_input(tmp_path):
    _, agreement = load(tmp_path, "A, X")
    with pytest.raises(DataValidationError, match="X"):
        assess_imposition(agreement, COUNTS, 461, date(2024, 3, 1))
    _, agreement = load(tmp_path, "A")
    with pytest.raises(DataValidationError, match="whole number"):
        assess_imposition(agreement, {"A": 1, "B": -2}, 461, date(2024, 3, 1))
    with pytest.raises(ConfigurationError, match="municipality 101"):
        assess_imposition(agreement, COUNTS, 101, date(2024, 3, 1))
    statutory = load_policies([POLICY_DIR / "statutory"])
    with pytest.raises(ConfigurationError, match="omdannelse_afvisning"):
        assess_imposition(statutory.get("dk.almenboligloven.51c"), COUNTS, 461, date(2024, 3, 1))


def test_family_dwelling_counts_from_tables(tmp_path):
    pl.DataFrame({"dwelling_id": [1, 2, 3, 4, 5], "municipality_code": [461, 461, 461, 461, 101],
                  "tenure": ["almen", "almen", "almen", "ejer", "almen"],
                  "almen_type": ["family", "family", "youth", None, "family"],
                  "department_id": ["A-1", "B-1", "A-1", None, "A-2"]}).write_parquet(tmp_path / "dwellings.parquet")
    pl.DataFrame({"department_id": ["A-1", "B-1", "A-2"], "org_id": ["A", "B", "A"]}
                 ).write_parquet(tmp_path / "departments.parquet")
    assert family_dwelling_counts(tmp_path, 461) == {"A": 1, "B": 1}
    assert family_dwelling_counts(tmp_path, 101) == {"A": 1}
