"""`boligmix classify`: the exact command format, provenance, and every bad input."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from boligmix.cli.main import app

HEADER = ("area_id,year,residents,pct_non_western,pct_outside_work_edu,pct_convicted,conviction_ratio,"
          "pct_basic_education,income_pct_of_region")
GOOD = [
    "A,2020,1500,60,45,3.1,3.5,55,50",
    "A,2021,1500,60,45,,3.5,55,50",
    "B,2021,999,60,45,,3.5,55,50",
    "C,2021,2000,35,35,,2.5,55,60",
    "D,2015,1000,51,41,2.8,,50,56",
]


def write(tmp_path, name, lines):
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run(*args):
    return CliRunner().invoke(app, ["classify", *map(str, args)])


def test_classify_writes_out_csv_and_provenance(tmp_path):
    areas = write(tmp_path, "areas.csv", [HEADER, *GOOD])
    history = write(tmp_path, "history.csv", ["area_id,year,parallelsamfund", "A,2017,1", "A,2018,1",
                                               "A,2019,1"])
    out = tmp_path / "out.csv"
    result = run("--areas", areas, "--history", history, "--rules", "auto", "--out", out)
    assert result.exit_code == 0, result.output
    lines = out.read_text().splitlines()
    assert lines == [
        "area_id,year,rules,criteria_met,udsat,parallelsamfund,omdannelse,forebyggelse,history_missing",
        "A,2020,2018,3,1,1,0,0,2016",  # 2016 neither in history nor in the run -> not hårdt
        "A,2021,2021,3,1,1,1,0,",  # 2017-2019 history, 2020 own result, 2021 now
        "B,2021,2021,3,0,0,0,0,",  # 999 residents
        "C,2021,2021,0,0,0,0,1,",
        "D,2015,2013,3,0,1,0,0,",  # 2013 rules: nw, outside, convicted -> 3 of 5
    ]
    meta = json.loads((tmp_path / "out.provenance.json").read_text())
    assert set(meta["rule_versions"]) == {"2013", "2018", "2021"}
    assert meta["switches"]["2021"] == {"forebyggelse_excludes_udsat": True}
    assert meta["data_vintage"].startswith("areas.csv sha256:")
    assert set(meta["inputs"]) == {"areas", "history"}


def test_fixed_rules_switches_and_json(tmp_path):
    areas = write(tmp_path, "areas.csv", [HEADER, "C,2021,2000,40,45,,3.5,55,60"])
    out = tmp_path / "o.csv"
    result = run("--areas", areas, "--rules", "2021", "--out", out, "--switch",
                 "forebyggelse_excludes_udsat=false", "--json", "--vintage", "test-vintage")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["on_list"] == {"udsat": 1, "parallelsamfund": 0, "omdannelse": 0, "forebyggelse": 1}
    assert json.loads((tmp_path / "o.provenance.json").read_text())["data_vintage"] == "test-vintage"
    quiet = run("--areas", areas, "--out", tmp_path / "q.csv", "--quiet")
    assert quiet.exit_code == 0 and quiet.stdout == ""


BAD_AREAS = [
    # (description, header, rows, rules, expected fragments of the message)
    ("missing column", HEADER.replace(",conviction_ratio", ""), ["A,2021,1500,60,45,,55,50"], "auto",
     ["column 'conviction_ratio'", "missing column"]),
    ("missing column for 2013", HEADER.replace(",pct_convicted", ""), ["A,2021,1500,60,45,3.5,55,50"],
     "2013", ["column 'pct_convicted'"]),
    ("not a number", HEADER, [GOOD[0], "A,2021,1500,sixty,45,,3.5,55,50"], "auto",
     ["row 2", "column 'pct_non_western'", "not a number"]),
    ("decimal comma", HEADER, ["A,2021,1500,60,\"45,5\",,3.5,55,50"], "auto",
     ["row 1", "column 'pct_outside_work_edu'", "not a number"]),
    ("nan", HEADER, ["A,2021,1500,nan,45,,3.5,55,50"], "auto", ["row 1", "pct_non_western"]),
    ("percentage above 100", HEADER, [GOOD[0], GOOD[1], "B,2021,1500,60,100.5,,3.5,55,50"], "auto",
     ["row 3", "column 'pct_outside_work_edu'", "0-100"]),
    ("negative percentage", HEADER, ["A,2021,1500,60,45,,3.5,-1,50"], "auto",
     ["row 1", "pct_basic_education", "0-100"]),
    ("negative count", HEADER, [GOOD[0], "B,2021,-5,60,45,,3.5,55,50"], "auto",
     ["row 2", "column 'residents'", "negative count"]),
    ("fractional count", HEADER, ["B,2021,1000.5,60,45,,3.5,55,50"], "auto", ["row 1", "residents"]),
    ("negative ratio", HEADER, ["B,2021,1000,60,45,,-3.5,55,50"], "auto", ["row 1", "conviction_ratio"]),
    ("duplicate", HEADER, [GOOD[0], GOOD[1], GOOD[2], "A,2021,1,1,1,,1,1,1"], "auto",
     ["row 4", "area_id,year", "duplicate"]),
    ("empty needed value", HEADER, [GOOD[0], "A,2021,1500,60,,,3.5,55,50"], "auto",
     ["row 2", "column 'pct_outside_work_edu'", "empty"]),
    ("empty pct_convicted under 2013 rules", HEADER, ["A,2021,1500,60,45,,3.5,55,50"], "2013",
     ["row 1", "pct_convicted"]),
    ("bad year", HEADER, ["A,20x1,1500,60,45,,3.5,55,50"], "auto", ["row 1", "column 'year'"]),
    ("year before the first list", HEADER, [GOOD[0], "A,2009,1500,60,45,3,3.5,55,50"], "auto",
     ["row 2", "column 'year'", "2009"]),
    ("empty area", HEADER, [",2021,1500,60,45,,3.5,55,50"], "auto", ["row 1", "area_id"]),
]


@pytest.mark.parametrize("label, header, rows, rules, fragments", BAD_AREAS, ids=[b[0] for b in BAD_AREAS])
def test_bad_areas_fail_naming_row_and_column_and_write_nothing(tmp_path, label, header, rows, rules,
                                                                fragments):
    areas = write(tmp_path, "areas.csv", [header, *rows])
    out = tmp_path / "out.csv"
    result = run("--areas", areas, "--rules", rules, "--out", out)
    assert result.exit_code == 2, result.output
    message = " ".join(result.output.split())
    assert "areas.csv" in message
    for fragment in fragments:
        assert fragment in message, (label, message)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["areas.csv"]


@pytest.mark.parametrize("lines, fragments", [
    (["area_id,year,parallelsamfund", "A,2019,2"], ["row 1", "parallelsamfund", "0 or 1"]),
    (["area_id,year,parallelsamfund", "A,2019,1", "A,2019,0"], ["row 2", "duplicate"]),
    (["area_id,year", "A,2019"], ["missing column", "parallelsamfund"]),
    (["area_id,year,parallelsamfund", "A,last,1"], ["row 1", "year"]),
])
def test_bad_history_fails_and_writes_nothing(tmp_path, lines, fragments):
    areas = write(tmp_path, "areas.csv", [HEADER, *GOOD])
    history = write(tmp_path, "history.csv", lines)
    result = run("--areas", areas, "--history", history, "--out", tmp_path / "out.csv")
    assert result.exit_code == 2
    message = " ".join(result.output.split())
    assert "history.csv" in message
    for fragment in fragments:
        assert fragment in message, message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["areas.csv", "history.csv"]


def test_semicolon_csv_with_a_decimal_point_gets_a_clear_message_and_bom_crlf_are_fine(tmp_path):
    semi = write(tmp_path, "semi.csv", [HEADER.replace(",", ";"), GOOD[1].replace(",", ";")])
    result = run("--areas", semi, "--out", tmp_path / "out.csv")  # '3.5' in a ';' file: ambiguous
    assert result.exit_code == 2 and "decimals are written with a comma" in " ".join(result.output.split())
    bom = tmp_path / "bom.csv"
    bom.write_bytes(("\ufeff" + HEADER + "\r\n" + GOOD[1] + "\r\n").encode("utf-8"))
    result = run("--areas", bom, "--out", tmp_path / "out.csv")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out.csv").read_text().splitlines()[1] == 'A,2021,2021,3,1,1,0,0,"2017,2018,2019,2020"'


def test_bad_rules_switch_and_missing_file(tmp_path):
    areas = write(tmp_path, "areas.csv", [HEADER, *GOOD])
    for args in (["--rules", "2019"], ["--switch", "nonsense=1"], ["--switch", "haardt_ghetto_years=3"],
                 ["--switch", "novalue"]):
        result = run("--areas", areas, "--out", tmp_path / "out.csv", *args)
        assert result.exit_code == 2, (args, result.output)
    result = run("--areas", tmp_path / "nope.csv", "--out", tmp_path / "out.csv")
    assert result.exit_code == 2 and "not found" in result.output
    assert not (tmp_path / "out.csv").exists()


def test_an_existing_out_file_is_left_alone_on_error(tmp_path):
    out = write(tmp_path, "out.csv", ["old"])
    areas = write(tmp_path, "areas.csv", [HEADER, "A,2021,-1,60,45,,3.5,55,50"])
    assert run("--areas", areas, "--out", out).exit_code == 2
    assert out.read_text() == "old\n"


def test_explain_command_on_areas_csv(tmp_path):
    areas = write(tmp_path, "areas.csv", [HEADER, *GOOD])
    history = write(tmp_path, "history.csv", ["area_id,year,parallelsamfund", "A,2017,1", "A,2018,1",
                                               "A,2019,1"])
    out = tmp_path / "explained"
    result = run_cmd("explain-lists", "--areas", areas, "--history", history, "--year", 2021, "--out", out,
                     "--lang", "en")
    assert result.exit_code == 0, result.output
    assert "A, list year 2021 (rules 2021): udsat boligområde, parallelsamfund, omdannelsesområde" in result.output
    assert "2017: yes (published)" in result.output and "2020: yes (computed)" in result.output
    danish = run_cmd("explain-lists", "--areas", areas, "--history", history, "--year", 2021, "--out", out, "--force")
    assert danish.exit_code == 0, danish.output
    assert "A, listeår 2021 (regler 2021): udsat boligområde, parallelsamfund, omdannelsesområde" in danish.output
    assert "2017: ja (offentliggjort)" in danish.output and "2020: ja (beregnet)" in danish.output
    areas_json = json.loads((out / "areas.json").read_text())
    assert [a["area_id"] for a in areas_json] == ["A", "B", "C"]  # the areas of list year 2021
    assert areas_json[2]["forebyggelse"] is True
    bad = write(tmp_path, "bad.csv", [HEADER, "A,2021,1500,60,45,,3.5,55,500%"])
    failed = run_cmd("explain-lists", "--areas", bad, "--year", 2021, "--out", tmp_path / "o2")
    assert failed.exit_code == 2 and not (tmp_path / "o2").exists()


def run_cmd(*args):
    return CliRunner().invoke(app, [*map(str, args)])


def test_a_rule_set_file_can_be_used_for_what_if_rules(tmp_path):
    """A new or changed rule set is a data file: here 2021 with the outside-work threshold at 35 %."""
    from importlib import resources

    import yaml

    data = yaml.safe_load(resources.files("boligmix.rules.lists").joinpath("2021.yaml").read_text("utf-8"))
    data["version"] = "2021-whatif"
    for c in data["criteria"]:
        if c["id"] == "outside_work_edu":
            c["threshold"] = 35
    rules = tmp_path / "whatif.yaml"
    rules.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    areas = write(tmp_path, "areas.csv", [HEADER, "C,2021,2000,60,36,,3.5,55,60"])
    default = run("--areas", areas, "--out", tmp_path / "a.csv")
    whatif = run("--areas", areas, "--rules", rules, "--out", tmp_path / "b.csv")
    assert default.exit_code == 0 and whatif.exit_code == 0, whatif.output
    assert (tmp_path / "a.csv").read_text().splitlines()[1] == "C,2021,2021,1,0,0,0,1,"
    assert (tmp_path / "b.csv").read_text().splitlines()[1] == 'C,2021,2021-whatif,2,1,1,0,0,"2017,2018,2019,2020"'
    meta = json.loads((tmp_path / "b.provenance.json").read_text())
    assert meta["rule_versions"]["2021-whatif"]["file"] == str(rules)
    explained = run_cmd("explain-lists", "--areas", areas, "--rules", rules, "--year", 2021, "--out", tmp_path / "e")
    assert explained.exit_code == 0, explained.output
    assert "36,0 % (grænse: over 35 %) — opfyldt" in explained.output
    bad = run("--areas", areas, "--rules", tmp_path / "missing.yaml", "--out", tmp_path / "c.csv")
    assert bad.exit_code == 2 and "missing.yaml" in bad.output
