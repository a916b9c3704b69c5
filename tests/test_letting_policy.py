"""Letting policy files: bad configuration is rejected naming file, rule and field; scope
precedence and versions pick the policy in force."""

from datetime import date
from pathlib import Path

import pytest
import yaml
from letting_factories import dwelling

from boligmix.errors import ConfigurationError
from boligmix.letting.policy import POLICY_DIR, load_default_policies, load_policies

STATUTORY = POLICY_DIR / "statutory"
GOOD = {
    "id": "t.fleks", "tool": "fleksibel_udlejning", "version": "1", "effective_from": "2022-01-01",
    "scope": {"municipality_codes": [101]}, "slot": "fleks_test", "channels": ["fleksibel"],
    "shares": {"fleksibel": 0.5},
    "input_facts": {"applicant.in_education": "in education"},
    "priorities": [{"id": "edu", "rank": 5, "on_unknown": "no_priority",
                    "condition": {"compare": {"field": "applicant.in_education", "op": "==", "value": True}}}],
}


def write(tmp_path: Path, data: dict, name: str = "p.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def with_change(**changes) -> dict:
    data = yaml.safe_load(yaml.safe_dump(GOOD))
    data.update(changes)
    return data


def test_good_policy_loads(tmp_path):
    policies = load_policies([write(tmp_path, GOOD)])
    assert policies.get("t.fleks").switches["mode"] == "priority"


@pytest.mark.parametrize("change, field, message", [
    ({"colour": "red"}, "colour", "Extra inputs"),
    ({"tool": "lottery"}, "tool", "unknown tool"),
    ({"switches": {"moode": "priority"}}, "switches.moode", "unknown switch"),
    ({"switches": {"mode": "sometimes"}}, "switches.mode", "may be"),
    ({"shares": {"fleksibel": 1.5}}, "shares", "[0, 1]"),
    ({"shares": {"waiting_list": 0.5}}, "shares.waiting_list", "cannot take a share"),
    ({"effective_to": "2021-01-01"}, "effective_to", "after effective_from"),
    ({"rejections": [{"id": "x", "on_unknown": "hold", "condition": {"known": "applicant.age"}}]},
     "rejections", "has no 'rejections'"),
    ({"priorities": [{"id": "edu", "on_unknown": "no_priority",
                      "condition": {"compare": {"field": "applicant.in_education", "op": "==", "value": True}}}]},
     "priorities[0].rank", "rank"),
    ({"priorities": [{"id": "edu", "rank": 1, "on_unknown": "pass",
                      "condition": {"compare": {"field": "applicant.in_education", "op": "==", "value": True}}}]},
     "priorities[0].on_unknown", "on_unknown"),
    ({"priorities": [{"id": "edu", "rank": 1, "on_unknown": "no_priority",
                      "condition": {"compare": {"field": "applicant.shoe_size", "op": ">", "value": 40}}}]},
     "applicant.shoe_size", "unknown field"),
    ({"priorities": [{"id": "edu", "rank": 1, "on_unknown": "no_priority", "enabled_by": "nope",
                      "condition": {"compare": {"field": "applicant.in_education", "op": "==", "value": True}}}]},
     "priorities[0].enabled_by", "unknown switch"),
    ({"derived_facts": {"x": {"kind": "benefit_months", "months": 6, "benefits": ["lottery_win"]}}},
     "derived_facts.x", "unknown benefit"),
    ({"scope": {"area_categories": ["ghetto"]}}, "scope.area_categories", "unknown area category"),
    ({"derived_facts": {"x": {"kind": "benefit_months", "months": 6, "lookback_months": 3,
                              "benefits": ["kontanthjaelp"]}}}, "derived_facts.x", "lookback_months"),
])
def test_bad_configuration_names_file_rule_and_field(tmp_path, change, field, message):
    path = write(tmp_path, with_change(**change))
    with pytest.raises(ConfigurationError) as info:
        load_policies([path])
    err = info.value
    assert err.source == str(path)
    assert err.rule is not None and err.rule.startswith("t.fleks")
    assert err.field is not None and field in err.field, err
    assert message in str(err)


def test_statutory_caps(tmp_path):
    data = {"id": "t.anv", "base": "dk.almenboligloven.59", "version": "1", "effective_from": "2020-01-01",
            "scope": {"municipality_codes": [101]}, "shares": {"kommunal_anvisning": 0.25, "rehousing": 0.5}}
    with pytest.raises(ConfigurationError, match="every 3rd") as info:
        load_policies([STATUTORY, write(tmp_path, data)])
    assert info.value.field == "shares.rehousing"


def test_yaml_errors_and_missing_base(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="not valid YAML") as info:
        load_policies([bad])
    assert info.value.source == str(bad)
    orphan = write(tmp_path, {"id": "t.o", "base": "nowhere", "version": "1", "effective_from": "2020-01-01"},
                   "orphan.yaml")
    bad.unlink()
    with pytest.raises(ConfigurationError, match="base policy 'nowhere' not found") as info:
        load_policies([orphan])
    assert info.value.field == "base"


def test_equally_specific_overlapping_policies_are_rejected(tmp_path):
    write(tmp_path, GOOD, "a.yaml")
    write(tmp_path, with_change(id="t.fleks2"), "b.yaml")
    with pytest.raises(ConfigurationError, match="overlapping"):
        load_policies([tmp_path])


def test_precedence_department_over_organisation_over_municipality_over_national(tmp_path):
    base = {"base": "dk.venteliste", "effective_from": "2020-01-01"}
    write(tmp_path, {**base, "id": "t.kommune", "version": "1", "scope": {"municipality_codes": [461]},
                     "round": {"offers_per_round": 2, "answer_days": 7, "passive_after_refusals": 3}}, "k.yaml")
    write(tmp_path, {**base, "id": "t.org", "version": "1", "scope": {"org_ids": ["ORG1"]},
                     "round": {"offers_per_round": 4, "answer_days": 7, "passive_after_refusals": 3}}, "o.yaml")
    write(tmp_path, {**base, "id": "t.afd", "version": "1", "scope": {"department_ids": ["ORG1-7"]},
                     "round": {"offers_per_round": 5, "answer_days": 7, "passive_after_refusals": 3}}, "d.yaml")
    policies = load_policies([STATUTORY, tmp_path])

    def waiting_list(d):
        return next(p for p in policies.in_force(d, date(2024, 1, 1)) if p.spec.tool == "waiting_list").id

    assert waiting_list(dwelling(1, org_id="ORG1", department_id="ORG1-7")) == "t.afd"
    assert waiting_list(dwelling(1, org_id="ORG1", department_id="ORG1-1")) == "t.org"
    assert waiting_list(dwelling(1, org_id="ORG2", department_id="ORG2-1")) == "t.kommune"
    assert waiting_list(dwelling(1, org_id="ORG2", department_id="ORG2-1", municipality=101)) == "dk.venteliste"
    assert next(p for p in policies.in_force(dwelling(1), date(2015, 1, 1))
                if p.spec.tool == "waiting_list").id == "dk.venteliste"


def test_versions_follow_the_date_and_disabled_local_policy_switches_a_tool_off(tmp_path):
    policies = load_default_policies()
    udsat = dwelling(1, categories=("forebyggelse",))
    assert not [p for p in policies.in_force(udsat, date(2021, 1, 1)) if p.spec.slot_name == "fleksibel_obligatorisk"]
    assert [p.version for p in policies.in_force(udsat, date(2022, 1, 1))
            if p.spec.slot_name == "fleksibel_obligatorisk"] == ["2021-11-30.1"]
    write(tmp_path, {"id": "t.no51c", "base": "dk.almenboligloven.51c", "version": "1", "enabled": False,
                     "effective_from": "2020-01-01", "scope": {"department_ids": ["ORG1-1"],
                                                                "area_categories": ["omdannelse"]}})
    local = load_policies([STATUTORY, tmp_path])
    omd = dwelling(1, categories=("udsat", "parallelsamfund", "omdannelse"))
    assert "dk.almenboligloven.51c" in [p.id for p in policies.in_force(omd, date(2024, 1, 1))]
    assert all(p.spec.tool != "omdannelse_afvisning" for p in local.in_force(omd, date(2024, 1, 1)))
