"""`boligmix segregation`: outputs and clear errors (exit code 2, nothing written)."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from boligmix.cli.main import app

RUNNER = CliRunner()
GOOD = "unit,a,b,c,t\n1,10,0,5,15\n2,0,10,5,15\n3,5,5,0,10\n"


def _run(tmp_path: Path, text: str, *args: str) -> tuple[int, str, Path]:
    units = tmp_path / "units.csv"
    units.write_text(text, encoding="utf-8")
    out = tmp_path / "out.csv"
    result = RUNNER.invoke(app, ["segregation", "--units", str(units), *args, "--out", str(out)])
    return result.exit_code, result.output, out


def test_two_group_output(tmp_path):
    code, _, out = _run(tmp_path, GOOD, "--groups", "a", "--total", "t", "--quiet")
    assert code == 0
    frame = pl.read_csv(out)
    assert frame.columns == ["index", "value"]
    assert frame["index"].to_list() == ["dissimilarity", "gini", "entropy", "isolation", "interaction",
                                        "atkinson", "correlation_ratio"]
    assert frame["value"][0] == pytest.approx(0.6, abs=1e-15)  # worked example in test_segregation_cases


def test_multigroup_output_and_json(tmp_path):
    code, output, out = _run(tmp_path, GOOD, "--groups", "a, b,c", "--json")
    assert code == 0
    payload = json.loads(output)
    assert list(payload["indices"]) == ["multi_dissimilarity", "multi_gini", "multi_information_theory",
                                        "multi_normalized_exposure"]
    assert payload["indices"]["multi_dissimilarity"] == pytest.approx(27.5 / 52.5, abs=1e-15)
    assert pl.read_csv(out)["value"].to_list() == list(payload["indices"].values())


def test_units_with_total_zero_are_ignored(tmp_path):
    _, _, out = _run(tmp_path, GOOD, "--groups", "a", "--total", "t", "--quiet")
    base = pl.read_csv(out)["value"].to_list()
    code, _, out = _run(tmp_path, GOOD + "4,0,0,0,0\n", "--groups", "a", "--total", "t", "--quiet")
    assert code == 0
    assert pl.read_csv(out)["value"].to_list() == pytest.approx(base, abs=1e-15)


@pytest.mark.parametrize(
    ("text", "args", "expected"),
    [
        ("unit,a,t\n1,3,5\n2,-1,5\n", ["--groups", "a", "--total", "t"], "row 2, column 'a'"),
        ("unit,a,t\n1,3,5\n2,1.5,5\n", ["--groups", "a", "--total", "t"],
         "row 2, column 'a': count 1.5 is not a whole"),
        ("unit,a,t\n1,3,5\n2,x,5\n", ["--groups", "a", "--total", "t"], "'x' is not a number"),
        ("unit,a,t\n1,3,5\n2,,5\n", ["--groups", "a", "--total", "t"], "row 2, column 'a': empty cell"),
        ("unit,a,t\n1,3,5\n2,6,5\n", ["--groups", "a", "--total", "t"],
         "row 2, column 'a': group count 6 exceeds"),
        ("unit,a,b,t\n1,3,1,5\n", ["--groups", "a,b", "--total", "t"], "row 1, column 't'"),
        ("", ["--groups", "a", "--total", "t"], "empty"),
        ("unit,a,t\n", ["--groups", "a", "--total", "t"], "no data rows"),
        ("unit,a,t\n1,3,5\n", ["--groups", "zz", "--total", "t"], "column 'zz'"),
        ("unit;a;t\n1;3.5;5\n", ["--groups", "a", "--total", "t"], "decimals are written with a comma"),
        ("unit,a,t\n1,3,5\n", ["--groups", "a"], "needs a total"),
        ("unit,a,t\n1,3,5\n", ["--groups", " , "], "names no column"),
        ("unit,a,t\n1,0,5\n2,0,5\n", ["--groups", "a", "--total", "t"], "undefined"),
    ],
)
def test_bad_input_is_a_clear_error_and_writes_nothing(tmp_path, text, args, expected):
    code, output, out = _run(tmp_path, text, *args)
    assert code == 2
    assert expected in " ".join(output.split())
    assert not out.exists()
    assert not list(tmp_path.glob(".out.csv*"))


def test_error_names_the_file(tmp_path):
    code, output, _ = _run(tmp_path, "unit,a,t\n1,-3,5\n", "--groups", "a", "--total", "t")
    assert code == 2 and "units.csv" in output


def test_one_unit_and_repeated_unit_ids_are_refused(tmp_path):
    from typer.testing import CliRunner

    from boligmix.cli.main import app

    one = tmp_path / "one.csv"
    one.write_text("unit,a,t\nu1,3,5\n")
    twice = tmp_path / "twice.csv"
    twice.write_text("unit,a,t\nu1,3,5\nu2,1,5\nu1,2,5\n")
    for path, words in ((one, "needs at least two"), (twice, "row 3, column 'unit': unit 'u1' appears more than once")):
        out = tmp_path / f"{path.stem}-out.csv"
        result = CliRunner().invoke(app, ["segregation", "--units", str(path), "--groups", "a", "--total", "t",
                                          "--out", str(out)])
        assert result.exit_code == 2 and words in " ".join(result.output.split()), result.output
        assert not out.exists()
