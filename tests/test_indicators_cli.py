"""`boligmix indicators compute|settings` through the Typer app."""

from __future__ import annotations

import json

import polars as pl
import pytest
from typer.testing import CliRunner

from boligmix.cli.main import app
from indicators_support import hand_built

runner = CliRunner()


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return hand_built.write(tmp_path_factory.mktemp("cli") / "ds")


def test_compute_writes_csv_and_reports_json(dataset, tmp_path):
    out = tmp_path / "ind.csv"
    result = runner.invoke(app, ["indicators", "compute", str(dataset), "--year", "2024", "--out", str(out),
                                 "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["rows"] == 3 and payload["vintage"] == "hand-built-test" and payload["rules_basis"] == ["2021"]
    frame = pl.read_csv(out)
    assert frame.columns[:3] == ["area_id", "year", "residents"]
    assert frame.filter(pl.col("area_id") == "A1").get_column("residents").item() == 11


def test_compute_department_level_quiet(dataset, tmp_path):
    out = tmp_path / "dep.parquet"
    result = runner.invoke(app, ["indicators", "compute", str(dataset), "-y", "2024", "-o", str(out),
                                 "--level", "department", "--quiet"])
    assert result.exit_code == 0 and result.stdout == ""
    assert pl.read_parquet(out).columns[0] == "department_id"


def test_errors_exit_2_and_write_nothing(dataset, tmp_path):
    out = tmp_path / "x.csv"
    result = runner.invoke(app, ["indicators", "compute", str(dataset), "-y", "2021", "-o", str(out)])
    assert result.exit_code == 2 and "2019" in result.output
    assert not out.exists() and list(tmp_path.iterdir()) == []
    out.write_text("keep")
    result = runner.invoke(app, ["indicators", "compute", str(dataset), "-y", "2024", "-o", str(out)])
    assert result.exit_code == 2 and out.read_text() == "keep"


def test_settings_command(tmp_path):
    result = runner.invoke(app, ["indicators", "settings", "--year", "2015", "--json"])
    assert result.exit_code == 0
    payload = json.loads(result.stdout)
    assert payload["education_rule"] == "uoplyst_is_basic"
    assert payload["register_years"].startswith("residents=2015-01-01; labour=2013-2014")


def test_composition_command(dataset, tmp_path):
    out = tmp_path / "comp.csv"
    result = runner.invoke(app, ["indicators", "composition", str(dataset), "-y", "2024", "-o", str(out),
                                 "-i", "share_children", "-i", "share_elderly", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["indicators"] == ["share_children", "share_elderly"]
    frame = pl.read_csv(out, infer_schema_length=None)
    a1 = frame.filter((pl.col("area_id") == "A1") & (pl.col("indicator") == "share_children"))
    # 1 child of 11 residents: published, the count and the share built on it are suppressed
    assert a1.select("numerator", "value").row(0) == (None, None) and a1.get_column("denominator").item() == 11
    assert a1.get_column("suppressed").item() == "numerator:primary,value:numerator"
    internal = tmp_path / "comp-internal.csv"
    result = runner.invoke(app, ["indicators", "composition", str(dataset), "-y", "2024", "-o", str(internal),
                                 "-i", "share_children", "--internal"])
    assert result.exit_code == 0, result.output
    frame = pl.read_csv(internal)
    assert frame.columns[0] == "INTERNAL_not_for_publication" and "INTERNAL" in frame.item(0, 0)
    a1 = frame.filter((pl.col("area_id") == "A1") & (pl.col("indicator") == "share_children"))
    assert a1.get_column("value").item() == pytest.approx(100 / 11)
    misnamed = runner.invoke(app, ["indicators", "composition", str(dataset), "-y", "2024", "-o",
                                   str(tmp_path / "c.csv"), "--internal"])
    assert misnamed.exit_code == 2 and "intern" in misnamed.output and not (tmp_path / "c.csv").exists()
    bad = runner.invoke(app, ["indicators", "composition", str(dataset), "-y", "2024", "-o", str(tmp_path / "b.csv"),
                              "-i", "share_pets"])
    assert bad.exit_code == 2 and "share_pets" in bad.output


def test_list_command():
    result = runner.invoke(app, ["indicators", "list", "--json"])
    assert result.exit_code == 0
    assert "share_single_parents" in json.loads(result.stdout)
