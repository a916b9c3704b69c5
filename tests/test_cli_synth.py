"""`boligmix synth` on the command line."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from boligmix.cli.main import app
from boligmix.cli.synth import parse_years
from boligmix.data.io import read_manifest
from boligmix.errors import ConfigurationError

runner = CliRunner()


def test_synth_writes_a_dataset_and_reports_json(tmp_path):
    out = tmp_path / "ds"
    result = runner.invoke(app, ["synth", "--scale", "small", "--seed", "5", "--years", "2004-2006",
                                 "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["years"] == [2004, 2006] and payload["seed"] == 5
    manifest = read_manifest(out)
    assert manifest.scale == "small" and manifest.years == (2004, 2006)
    assert payload["tables"]["persons"] == manifest.tables["persons"] > 0
    # a second run needs --force
    again = runner.invoke(app, ["synth", "--scale", "small", "--years", "2004-2005", "--out", str(out), "--quiet"])
    assert again.exit_code == 2
    assert "exists" in again.output
    forced = runner.invoke(app, ["synth", "--scale", "small", "--years", "2004-2005", "--out", str(out),
                                 "--quiet", "--force"])
    assert forced.exit_code == 0 and forced.stdout == ""
    assert read_manifest(out).years == (2004, 2005)


@pytest.mark.parametrize("years", ["2024-2004", "abc", "2004", "2004-20x4"])
def test_bad_years_exit_2_with_a_message(tmp_path, years):
    result = runner.invoke(app, ["synth", "--years", years, "--out", str(tmp_path / "x")])
    assert result.exit_code == 2
    assert "years" in result.output
    assert not (tmp_path / "x").exists()


def test_unknown_scale_exits_2(tmp_path):
    result = runner.invoke(app, ["synth", "--scale", "galaxy", "--years", "2004-2005", "--out", str(tmp_path / "x")])
    assert result.exit_code == 2
    assert "unknown scale" in result.output


def test_parse_years():
    assert parse_years("2004-2024") == (2004, 2024)
    assert parse_years(" 2010 - 2012 ") == (2010, 2012)
    with pytest.raises(ConfigurationError):
        parse_years("2012-2010")
