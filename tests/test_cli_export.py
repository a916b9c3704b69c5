"""`boligmix export-csv` on the CLI, and the user story synth -> export-csv -> ingest."""

from __future__ import annotations

import json

import polars as pl
import pytest
from built_once import built_once
from typer.testing import CliRunner

from boligmix.cli.main import app
from boligmix.data.io import has_table, read_manifest, read_table
from boligmix.data.pseudonymise import KEY_ENV, pseudonym_map
from boligmix.data.schema import TABLES

KEY_TEXT = "export-cli-test-key-0123456789"


def _run(args, env=None):
    return CliRunner().invoke(app, args, env=env or {KEY_ENV: ""})


@pytest.fixture(scope="module")
def dataset():
    """`boligmix synth` of 2022-2023, written once per test run (the xdist workers share it)."""
    return built_once("synth-cli-seed3", _synth)


def _synth(out):
    result = _run(["synth", "--scale", "small", "--seed", "3", "--years", "2022-2023", "--out", str(out),
                   "--quiet"])
    assert result.exit_code == 0, result.output


def test_synth_export_csv_ingest_round_trip(dataset, tmp_path):
    result = _run(["export-csv", str(dataset), "--out", str(tmp_path / "csv"), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    names = {p.rsplit("/", 1)[-1] for p in payload["files"]}
    assert names == {f"{t}.csv" for t in TABLES if has_table(dataset, t)}
    persons_csv = pl.read_csv(tmp_path / "csv" / "persons.csv", infer_schema=False)
    assert persons_csv.height == read_manifest(dataset).tables["persons"]
    ingested = _run(["ingest", str(tmp_path / "csv"), "--out", str(tmp_path / "again"), "--quiet"],
                    env={KEY_ENV: KEY_TEXT})
    assert ingested.exit_code == 0, ingested.output
    assert read_manifest(tmp_path / "again").tables == read_manifest(dataset).tables
    # the re-imported person ids are the keyed pseudonyms of the exported ones
    original = read_table(dataset, "persons")
    again = read_table(tmp_path / "again", "persons")
    mapping = pseudonym_map(original["person_id"], KEY_TEXT.encode(), namespace="person_id")
    assert sorted(again["person_id"].to_list()) == sorted(mapping["pseudonym"].to_list())


def test_export_csv_human_and_quiet_output(dataset, tmp_path):
    human = _run(["export-csv", str(dataset), "--out", str(tmp_path / "csv")])
    assert human.exit_code == 0 and "exported" in human.stdout and "persons.csv" in human.stdout
    again = _run(["export-csv", str(dataset), "--out", str(tmp_path / "csv"), "--quiet"])
    assert again.exit_code == 2 and "exists" in again.output and str(tmp_path / "csv") in again.output
    forced = _run(["export-csv", str(dataset), "--out", str(tmp_path / "csv"), "--quiet", "--force"])
    assert forced.exit_code == 0 and forced.stdout == ""


def test_export_csv_errors_name_the_path(dataset, tmp_path):
    missing = _run(["export-csv", str(tmp_path / "nowhere"), "--out", str(tmp_path / "csv")])
    assert missing.exit_code == 2 and str(tmp_path / "nowhere") in missing.output
    assert "manifest.json" in missing.output
    inside = _run(["export-csv", str(dataset), "--out", str(dataset / "csv")])
    assert inside.exit_code == 2 and str(dataset) in inside.output
    assert not (dataset / "csv").exists()
    assert not (tmp_path / "csv").exists()
