"""The main pipeline (`boligmix demo` / `boligmix run`) end to end on the small synthetic scale."""

import json

import polars as pl
import pytest
from built_once import built_once
from typer.testing import CliRunner

from boligmix.cli.main import app
from boligmix.data.synth import write_synthetic
from boligmix.lists.ruleset import OUTPUT_FLAGS
from boligmix.pipeline import run_pipeline


@pytest.fixture(scope="module")
def small_dataset():
    """Register years 2012-2024, written once per test run (the xdist workers share it)."""
    return built_once("small-seed11-2012", lambda path: write_synthetic(path, scale="small", seed=11,
                                                                         years=(2012, 2024)))


def test_pipeline_writes_lists_mix_and_report(small_dataset, tmp_path):
    result = run_pipeline(tmp_path / "out", dataset=small_dataset)
    # register years 2012-2024: list year 2013 (2013 rules) averages 2011-2012 and 2011 is missing;
    # 2014 averages 2012-2013, so it is the first list year
    assert result.list_years == list(range(2014, 2025))
    history = pl.read_csv(tmp_path / "out" / "lists-history.csv")
    assert set(history["year"].unique()) == set(result.list_years)
    # the report's counts agree with an independent run of `boligmix lists` on the same data
    independent = CliRunner().invoke(app, ["lists", "--data", str(small_dataset), "--years", "2014-2024",
                                           "--out", str(tmp_path / "lists"), "--json", "--quiet"])
    assert independent.exit_code == 0, independent.output
    by_year = json.loads(independent.stdout)["on_list_by_year"]
    for flag in OUTPUT_FLAGS:
        expected = [by_year[str(y)][flag] for y in result.list_years]
        assert result.list_counts.sort("year")[flag].to_list() == expected, flag
    assert sum(by_year[str(y)]["udsat"] + by_year[str(y)]["parallelsamfund"] for y in result.list_years) > 0
    # nesting holds in every computed year
    assert history.filter((pl.col("parallelsamfund") == 1) & (pl.col("udsat") == 0) & (pl.col("year") >= 2018)).is_empty()
    assert history.filter((pl.col("omdannelse") == 1) & (pl.col("parallelsamfund") == 0)).is_empty()
    html = result.report_html.read_text(encoding="utf-8")
    assert "Officielle lister" in html and "Official lists" in html
    assert "plotly" in html.lower()
    assert "synthetic-v1" in html  # provenance footer: data vintage
    assert (tmp_path / "out" / "mix" / "report.html").is_file()
    assert result.report_xlsx.stat().st_size > 0
    provenance = json.loads((tmp_path / "out" / "lists" / "provenance.json").read_text())
    assert provenance["seed"] == 11


def test_run_command_json_and_bad_years(small_dataset, tmp_path):
    runner = CliRunner()
    ok = runner.invoke(app, ["run", "--data", str(small_dataset), "--out", str(tmp_path / "o"),
                             "--years", "2022-2024", "--json"])
    assert ok.exit_code == 0, ok.output
    payload = json.loads(ok.stdout)
    assert payload["list_years"] == [2022, 2024]
    assert set(payload["latest_list_counts"]) == set(OUTPUT_FLAGS)
    bad = runner.invoke(app, ["run", "--data", str(small_dataset), "--out", str(tmp_path / "b"),
                              "--years", "2024-2020"])
    assert bad.exit_code != 0
    missing = runner.invoke(app, ["run", "--data", str(tmp_path / "nope"), "--out", str(tmp_path / "c")])
    assert missing.exit_code == 2
    assert "manifest.json" in missing.output


def test_main_report_links_the_mix_report_and_mix_figures_read_well(small_dataset, tmp_path):
    result = run_pipeline(tmp_path / "out", dataset=small_dataset, list_years=[2023, 2024])
    html = result.report_html.read_text(encoding="utf-8")
    assert '<a href="mix/report.html">' in html and (tmp_path / "out" / "mix" / "report.html").is_file()
    mix = (tmp_path / "out" / "mix" / "report.html").read_text(encoding="utf-8")
    assert "fra privat udlejning" in mix or "fra en anden kommune" in mix  # Danish flow labels
    assert '"updatemenus"' in mix  # one selectable area instead of every area's line at once
