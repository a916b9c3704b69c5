"""Exchange (bytte) and sub-letting (fremleje) into listed areas need the obligatory fleksibel
criteria from 2021 (rules-spec 6.2), hand-written cases."""

from datetime import date, datetime

import pytest
from letting_factories import applicant, dwelling

from boligmix.errors import ConfigurationError
from boligmix.letting.engine import LettingEngine
from boligmix.letting.exchange import TransferKind, TransferRequest
from boligmix.letting.model import Channel, Outcome
from boligmix.letting.policy import POLICY_DIR, load_default_policies, load_policies

NOW = datetime(2024, 6, 15, 10)
WORKER = {"household.employed_or_in_education": True}
IDLE = {"household.employed_or_in_education": False}


@pytest.fixture(scope="module")
def statutory():
    return load_default_policies()


def request(categories, facts, kind=TransferKind.BYTTE, on=date(2024, 7, 1), rid="T1"):
    return TransferRequest(rid, kind, dwelling(1, categories=categories), applicant(1, facts=facts), on)


@pytest.mark.parametrize("categories", [("udsat",), ("udsat", "parallelsamfund"), ("forebyggelse",),
                                        ("udsat", "parallelsamfund", "omdannelse")])
@pytest.mark.parametrize("kind", list(TransferKind))
def test_listed_areas_need_the_criteria(statutory, categories, kind):
    engine = LettingEngine(statutory)
    ok = engine.assess_transfer(request(categories, WORKER, kind), NOW)
    no = engine.assess_transfer(request(categories, IDLE, kind, rid="T2"), NOW)
    assert ok.approved is True and ok.decision.outcome == Outcome.APPROVED
    assert ok.decision.rule_id == "dk.bytte_fremleje.udsatte#criteria_met"
    assert no.approved is False and no.decision.outcome == Outcome.REJECTED
    assert no.decision.rule_id == "dk.almenboligloven.60.stk4#criteria"
    assert no.decision.facts["household.employed_or_in_education"] is False
    assert no.decision.facts["kind"] == kind.value and no.decision.channel == Channel.OTHER
    assert engine.decisions == [ok.decision, no.decision]


def test_unlisted_area_and_before_2021_need_nothing(statutory):
    engine = LettingEngine(statutory)
    free = engine.assess_transfer(request((), IDLE), NOW)
    assert free.approved is True and free.decision.rule_id == "bytte_fremleje#not_in_force"
    before = engine.assess_transfer(request(("udsat",), IDLE, on=date(2021, 11, 29)), NOW)
    assert before.approved is True
    kombineret_only = engine.assess_transfer(request(("kombineret_udlejning",), IDLE), NOW)
    assert kombineret_only.approved is True


def test_unknown_criterion_is_held_or_rejected_by_switch(statutory, tmp_path):
    held = LettingEngine(statutory).assess_transfer(request(("udsat",), {}), NOW)
    assert held.approved is None and held.decision.outcome == Outcome.SKIPPED
    assert held.decision.unknown_facts == ("household.employed_or_in_education",)
    (tmp_path / "b.yaml").write_text(
        "id: local.bytte\nbase: dk.bytte_fremleje.udsatte\nversion: '1'\neffective_from: 2022-01-01\n"
        "scope: {municipality_codes: [461], area_categories: [udsat]}\n"
        "switches: {on_unknown: reject, covers_fremleje: false}\n", encoding="utf-8")
    engine = LettingEngine(load_policies([POLICY_DIR / "statutory", tmp_path]))
    assert engine.assess_transfer(request(("udsat",), {}), NOW).approved is False
    sublet = engine.assess_transfer(request(("udsat",), IDLE, TransferKind.FREMLEJE), NOW)
    assert sublet.approved is True and sublet.decision.rule_id == "local.bytte#covers_fremleje"


def test_local_criteria_replace_the_default(tmp_path):
    (tmp_path / "f.yaml").write_text(
        "id: local.fleks\nbase: dk.almenboligloven.60.stk4@2021-11-30.1\nversion: '1'\neffective_from: 2022-01-01\n"
        "scope: {municipality_codes: [461], area_categories: [udsat]}\n"
        "input_facts: {household.employed_or_in_education: x, household.works_25h: x}\n"
        "priorities:\n  - {id: work25, rank: 1, on_unknown: no_priority,\n"
        "     condition: {compare: {field: household.works_25h, op: '==', value: true}}}\n", encoding="utf-8")
    engine = LettingEngine(load_policies([POLICY_DIR / "statutory", tmp_path]))
    r = engine.assess_transfer(request(("udsat",), {**WORKER, "household.works_25h": False}), NOW)
    assert r.approved is False and r.decision.rule_id == "local.fleks#work25"
    assert engine.assess_transfer(request(("udsat",), {"household.works_25h": True}, rid="T2"), NOW).approved


def test_missing_criteria_policy_is_a_configuration_error(tmp_path):
    (tmp_path / "b.yaml").write_text(
        "id: local.bytte\nbase: dk.bytte_fremleje.udsatte\nversion: '1'\neffective_from: 2022-01-01\n"
        "scope: {municipality_codes: [461], area_categories: [udsat]}\nswitches: {criteria_slot: nowhere}\n",
        encoding="utf-8")
    engine = LettingEngine(load_policies([POLICY_DIR / "statutory", tmp_path]))
    with pytest.raises(ConfigurationError, match="criteria_slot"):
        engine.assess_transfer(request(("udsat",), WORKER), NOW)
    assert engine.decisions == []
