"""`boligmix letting assess`: hand-computed verdicts on cases in the API's registration shapes."""

from __future__ import annotations

import csv
import json

import pytest
from typer.testing import CliRunner

from boligmix.cli.main import app
from boligmix.letting.bodies import ApplicantIn, DepartmentIn, DwellingIn

runner = CliRunner()

PLAIN = {"department_id": "D1", "org_id": "ORG1", "department_name": "Plain", "municipality_code": 461,
         "area_id": "A1", "area_categories": []}
OMDANNELSE = {**PLAIN, "department_id": "D2", "department_name": "Omdannelse",
              "area_categories": ["udsat", "parallelsamfund", "omdannelse"]}
UDSAT = {**PLAIN, "department_id": "D3", "department_name": "Udsat", "area_categories": ["udsat"]}
CLEAN = {"eu_eea_ch_citizen": True, "enrolled_student": False, "released_after_sentence_on": False,
         "released_from_youth_institution_on": False, "lease_terminated_for_breach_on": False}


def dwelling(dep, rooms=2):
    return {"dwelling_id": 7, "department_id": dep["department_id"], "rooms": rooms, "floor_area_m2": 60,
            "monthly_rent_dkk": 5000}


def person(pid, role="applicant", spells=None, facts=None, birth="1985-03-01", since=None):
    m = {"person_id": pid, "role": role, "birth_date": birth, "facts": facts or CLEAN}
    if spells is not None:
        m["benefits"] = {"known_from": "2020-01-01", "known_to": "2024-06-01",
                         "spells": [{"benefit": b, "first_month": f, "last_month": t} for b, f, t in spells]}
    if since:
        m["cohabiting_since"] = since
    return m


def applicant(aid, members, list_type="external"):
    return {"applicant_id": aid, "list_type": list_type, "org_id": "ORG1", "seniority_date": "2015-01-01",
            "household": {"members": members}}


def case(cid, dep, appl, channel="waiting_list", rooms=2):
    return {"case_id": cid, "date": "2024-06-15", "channel": channel, "department": dep,
            "dwelling": dwelling(dep, rooms), "applicant": appl}


KH_NOW = [("kontanthjaelp", "2024-01-01", "2024-06-01")]
CASES = [
    case("K1", PLAIN, applicant(1, [person(10, spells=[])])),
    case("K2", OMDANNELSE, applicant(2, [person(20, spells=KH_NOW), person(21, "spouse", spells=KH_NOW)])),
    case("K3", UDSAT, applicant(3, [person(30, spells=[], facts={**CLEAN, "eu_eea_ch_citizen": False})],
                                list_type="municipal_referral"), channel="kommunal_anvisning"),
    case("K4", OMDANNELSE, applicant(4, [person(40)])),                    # no benefit history
    case("K5", PLAIN, applicant(5, [person(50, spells=[])] + [person(51 + i, "child", birth="2015-01-01")
                                                              for i in range(4)])),   # 5 persons, 2 rooms
    case("K6", UDSAT, applicant(6, [person(60, spells=[]), person(61, "child", birth="2010-01-01", facts={
        **CLEAN, "released_from_youth_institution_on": "2023-12-15"})], list_type="municipal_referral"),
         channel="kommunal_anvisning"),
]
EXPECTED = [
    ["K1", "eligible", "", "", "eligible"],
    ["K2", "rejected", "dk.almenboligloven.51c#listed_benefits", "§ 51 c", None],
    ["K3", "barred", "dk.almenboligloven.59.stk6#nr4", "§ 59, stk. 6, nr. 4", None],
    ["K4", "unknown", "dk.almenboligloven.51c#listed_benefits", "§ 51 c", None],
    ["K5", "rejected", "dk.venteliste#size_crowding", "almenlejeloven / bekendtgørelse om udlejning af almene boliger",
     None],
    ["K6", "barred", "dk.almenboligloven.59.stk6#nr2", "§ 59, stk. 6, nr. 2", None],
]


def write_cases(path, cases):
    path.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in cases), encoding="utf-8")
    return path


def test_cases_use_the_api_registration_shapes():
    for c in CASES:
        DepartmentIn.model_validate(c["department"])
        DwellingIn.model_validate(c["dwelling"])
        ApplicantIn.model_validate(c["applicant"])


def test_assess_writes_the_verdicts(tmp_path):
    cases = write_cases(tmp_path / "cases.jsonl", CASES)
    res = runner.invoke(app, ["letting", "assess", "--cases", str(cases), "--out", str(tmp_path / "out.csv"),
                              "--json"])
    assert res.exit_code == 0, res.output
    with open(tmp_path / "out.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["case_id", "outcome", "rule", "law", "reason"]
    for got, want in zip(rows[1:], EXPECTED, strict=True):
        assert got[:4] == want[:4], got
        if want[4] is not None:
            assert got[4] == want[4]
    by_id = {r[0]: r for r in rows[1:]}
    assert "held" in by_id["K4"][4] and "listed_benefits_now" in by_id["K4"][4]
    summary = json.loads(res.stdout)
    assert summary["outcomes"] == {"eligible": 1, "rejected": 2, "barred": 2, "unknown": 1}
    assert {r["case_id"]: r["rule_version"] for r in summary["results"]}["K2"] == "2019-07-01.2"
    meta = json.loads((tmp_path / "out.csv.meta.json").read_text(encoding="utf-8"))
    assert meta["cases"] == 6 and any(p["id"] == "dk.almenboligloven.51c" for p in meta["policies"])


def test_local_policies_and_mixed_couples(tmp_path):
    from boligmix.letting.policy import POLICY_DIR

    komb = {**PLAIN, "department_id": "D9", "municipality_code": 101, "area_categories": ["kombineret_udlejning"]}
    mixed = case("M1", komb, applicant(9, [person(90, spells=[("kontanthjaelp", "2023-12-01", "2024-05-01")]),
                                           person(91, "spouse", spells=[("foertidspension", "2022-01-01",
                                                                          "2024-06-01")])]))
    cases = write_cases(tmp_path / "cases.jsonl", [mixed])
    res = runner.invoke(app, ["letting", "assess", "--cases", str(cases), "--out", str(tmp_path / "o.csv"),
                              "--policies", str(POLICY_DIR / "statutory"), "--policies", str(POLICY_DIR / "local"),
                              "--quiet"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "o.csv").read_text(encoding="utf-8").splitlines()[1].startswith(
        "M1,rejected,k0101.kombineret#listed_benefits,")


@pytest.mark.parametrize("mutate, where", [
    (lambda c: c["applicant"]["household"]["members"][0].update(birth_date="3 May"),
     "column 'applicant.household.members[0].birth_date'"),
    (lambda c: c.update(channel="lottery"), "column 'channel'"),
    (lambda c: c["applicant"]["household"]["members"][0]["benefits"]["spells"].append(
        {"benefit": "salary", "first_month": "2024-01-01", "last_month": "2024-02-01"}),
     "column 'applicant.household.members[0].benefits.spells[0].benefit'"),
    (lambda c: c.update(channel="kommunal_anvisning"), "does not take part in channel"),
    (lambda c: c.pop("date"), "column 'date'"),
])
def test_a_bad_line_names_line_and_field_and_nothing_is_written(tmp_path, mutate, where):
    bad = json.loads(json.dumps(CASES[0]))
    bad["case_id"] = "BAD"
    mutate(bad)
    cases = write_cases(tmp_path / "cases.jsonl", [CASES[1], CASES[2], bad])
    (tmp_path / "out.csv").write_text("keep me", encoding="utf-8")
    res = runner.invoke(app, ["letting", "assess", "--cases", str(cases), "--out", str(tmp_path / "out.csv")])
    assert res.exit_code == 2
    assert "row 3" in res.output and where in res.output, res.output
    assert (tmp_path / "out.csv").read_text(encoding="utf-8") == "keep me"
    assert not (tmp_path / "out.csv.meta.json").exists()


def test_not_json_and_repeated_ids(tmp_path):
    cases = tmp_path / "cases.jsonl"
    cases.write_text(json.dumps(CASES[0]) + "\n{oops\n", encoding="utf-8")
    res = runner.invoke(app, ["letting", "assess", "--cases", str(cases), "--out", str(tmp_path / "o.csv")])
    assert res.exit_code == 2 and "row 2" in res.output and "not valid JSON" in res.output
    write_cases(cases, [CASES[0], CASES[0]])
    res = runner.invoke(app, ["letting", "assess", "--cases", str(cases), "--out", str(tmp_path / "o.csv")])
    assert res.exit_code == 2 and "repeats line 1" in res.output
    assert not (tmp_path / "o.csv").exists()


def test_output_inside_an_input_is_refused(tmp_path):
    cases = write_cases(tmp_path / "cases.jsonl", CASES[:1])
    res = runner.invoke(app, ["letting", "assess", "--cases", str(cases), "--out", str(cases)])
    assert res.exit_code == 2 and "cases file" in res.output
    assert json.loads(cases.read_text(encoding="utf-8").splitlines()[0])["case_id"] == "K1"
    policies = tmp_path / "pol"
    policies.mkdir()
    (policies / "p.yaml").write_text("id: t.x\nbase: dk.almenboligloven.60a\nversion: '1'\n"
                                     "effective_from: 2020-01-01\nenabled: true\nscope: {municipality_codes: [461]}\n",
                                     encoding="utf-8")
    from boligmix.letting.policy import POLICY_DIR
    res = runner.invoke(app, ["letting", "assess", "--cases", str(cases), "--out", str(policies / "o.csv"),
                              "--policies", str(POLICY_DIR / "statutory"), "--policies", str(policies)])
    assert res.exit_code == 2 and "lies inside the policy path" in res.output
    assert not (policies / "o.csv").exists()
