"""Omdannelse (and hårdt ghettoområde) read earlier list years: when those years are neither in
AREAS.csv nor in --history the output says so (`history_missing`) and the command warns, naming
the areas, instead of silently answering 0."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from boligmix.cli.main import app

HEADER = ("area_id,year,residents,pct_non_western,pct_outside_work_edu,pct_convicted,conviction_ratio,"
          "pct_basic_education,income_pct_of_region")
LISTED = "1500,60,45,3.1,3.5,55,50"   # udsat and parallelsamfund under every rule version
PLAIN = "2000,10,10,0.5,0.5,20,90"    # on no list


def _write(tmp_path, name, years):
    path = tmp_path / name
    rows = [f"P,{y},{LISTED}" for y in years] + [f"Q,{y},{PLAIN}" for y in years]
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def _row(out, area, year):
    lines = out.read_text().splitlines()
    header = lines[0].split(",")
    for line in lines[1:]:
        cells = line.replace('"', "").split(",", len(header) - 1)
        if cells[0] == area and cells[1] == str(year):
            return dict(zip(header, cells))
    raise AssertionError((area, year))


def test_only_the_list_year_warns_and_marks_missing_years(tmp_path):
    areas = _write(tmp_path, "a.csv", [2024])
    out = tmp_path / "o.csv"
    result = CliRunner().invoke(app, ["classify", "--areas", str(areas), "--out", str(out)])
    assert result.exit_code == 0, result.output
    row = _row(out, "P", 2024)
    assert row["parallelsamfund"] == "1" and row["omdannelse"] == "0"
    assert row["history_missing"] == "2020,2021,2022,2023"
    assert _row(out, "Q", 2024)["history_missing"] == ""  # its omdannelse does not depend on history
    assert "warning" in result.stderr and "P 2024" in result.stderr and "Q 2024" not in result.stderr
    meta = json.loads((tmp_path / "o.provenance.json").read_text())
    assert meta["history_incomplete"] == [{"area_id": "P", "year": 2024, "list": "omdannelse",
                                           "missing_years": [2020, 2021, 2022, 2023]}]


def test_five_years_decide_without_warning(tmp_path):
    areas = _write(tmp_path, "a.csv", range(2020, 2025))
    out = tmp_path / "o.csv"
    result = CliRunner().invoke(app, ["classify", "--areas", str(areas), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert _row(out, "P", 2024)["omdannelse"] == "1" and _row(out, "P", 2024)["history_missing"] == ""
    assert "P 2024" not in result.stderr  # the earlier rows (2020-2023) do lack their own earlier years
    assert _row(out, "P", 2021)["history_missing"] == "2017,2018,2019" and "P 2021" in result.stderr


def test_history_file_fills_the_missing_years(tmp_path):
    areas = _write(tmp_path, "a.csv", [2024])
    hist = tmp_path / "h.csv"
    hist.write_text("area_id,year,parallelsamfund\n" + "".join(f"P,{y},1\n" for y in range(2020, 2024)))
    out = tmp_path / "o.csv"
    result = CliRunner().invoke(app, ["classify", "--areas", str(areas), "--history", str(hist), "--out", str(out)])
    assert result.exit_code == 0 and "warning" not in result.stderr
    assert _row(out, "P", 2024)["omdannelse"] == "1"


def test_explain_lists_warns_too(tmp_path):
    areas = _write(tmp_path, "a.csv", [2024])
    result = CliRunner().invoke(app, ["explain-lists", "--areas", str(areas), "--year", "2024", "--out",
                                      str(tmp_path / "e")])
    assert result.exit_code == 0 and "P 2024" in result.stderr
    assert '"2020,2021,2022,2023"' in (tmp_path / "e" / "lists.csv").read_text()


def test_history_areas_missing_from_the_input_are_named(tmp_path):
    areas = _write(tmp_path, "a.csv", range(2020, 2025))
    hist = tmp_path / "h.csv"
    hist.write_text("area_id,year,parallelsamfund\nP,2019,1\nX17,2019,1\n0P,2018,0\n")
    result = CliRunner().invoke(app, ["classify", "--areas", str(areas), "--history", str(hist), "--out",
                                      str(tmp_path / "o.csv")])
    assert result.exit_code == 0
    assert "2 area(s) that are not in the input" in result.stderr and "0P, X17" in result.stderr
