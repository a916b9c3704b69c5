"""List history across years from person-level data: one indicator pass for a range of list years."""

from __future__ import annotations

import json

import polars as pl
import pytest
from typer.testing import CliRunner

import boligmix.indicators as indicators_module
from boligmix.cli.lists import parse_years
from boligmix.cli.main import app
from boligmix.errors import ConfigurationError
from boligmix.lists.pipeline import compute_lists, indicator_years

FLAGS = ["udsat", "parallelsamfund", "omdannelse", "forebyggelse"]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    from indicators_support import random_dataset
    return random_dataset.write(tmp_path_factory.mktemp("years") / "ds", 3000, seed=5, years=(2018, 2023))


def test_parse_years():
    assert parse_years(2024, None) == [2024]
    assert parse_years(None, "2018-2021") == [2018, 2019, 2020, 2021]
    assert parse_years(None, "2020,2018-2019") == [2018, 2019, 2020]
    for year, years in ((None, None), (2020, "2020-2021"), (None, "2021-2018"), (None, "20x0")):
        with pytest.raises(ConfigurationError):
            parse_years(year, years)


def test_indicator_years_add_the_feasible_lookback():
    available = set(range(2018, 2024))  # list years 2020-2024 are computable
    assert indicator_years([2024], available) == [2020, 2021, 2022, 2023, 2024]
    assert indicator_years([2021, 2022], available) == [2020, 2021, 2022]
    assert indicator_years([2022], None) == [2022]


def test_range_is_one_indicator_pass_and_matches_single_years(dataset, monkeypatch):
    calls = []
    real = indicators_module.compute_area_indicators

    def counting(dataset_dir, list_years, *args, **kwargs):
        calls.append(sorted(list_years))
        return real(dataset_dir, list_years, *args, **kwargs)

    monkeypatch.setattr(indicators_module, "compute_area_indicators", counting)
    many = compute_lists(dataset, range(2021, 2025))
    assert calls == [[2020, 2021, 2022, 2023, 2024]]
    assert many.years == (2021, 2022, 2023, 2024) and many.year == 2024
    assert sorted(many.criteria.get_column("year").unique().to_list()) == [2021, 2022, 2023, 2024]
    assert sorted({a["year"] for a in many.areas}) == [2021, 2022, 2023, 2024]
    one = compute_lists(dataset, 2022)
    assert len(calls) == 2
    # the single-year run of 2022 gives the same flags, criteria and explanations as the range
    pick = lambda r: r.classification.frame.filter(pl.col("year") == 2022).sort("area_id")  # noqa: E731
    assert pick(many).equals(pick(one))
    assert many.criteria.filter(pl.col("year") == 2022).equals(one.criteria)
    assert [a for a in many.areas if a["year"] == 2022] == one.areas


def test_cli_years_writes_all_years(dataset, tmp_path):
    out = tmp_path / "hist"
    result = CliRunner().invoke(app, ["lists", "--data", str(dataset), "--years", "2020-2024", "--out", str(out),
                                      "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["years"] == [2020, 2021, 2022, 2023, 2024] and payload["year"] == 2024
    lists = pl.read_csv(out / "lists.csv")
    criteria = pl.read_csv(out / "criteria.csv")
    areas = json.loads((out / "areas.json").read_text())
    assert sorted(lists.get_column("year").unique().to_list()) == [2020, 2021, 2022, 2023, 2024]
    assert sorted(criteria.get_column("year").unique().to_list()) == [2020, 2021, 2022, 2023, 2024]
    assert len(areas) == lists.height
    for year, counts in payload["on_list_by_year"].items():
        on_year = lists.filter(pl.col("year") == int(year))
        assert counts == {f: int(on_year.get_column(f).sum()) for f in FLAGS}
    provenance = json.loads((out / "provenance.json").read_text())
    assert provenance["list_years"] == [2020, 2021, 2022, 2023, 2024]


def test_cli_years_errors(dataset, tmp_path):
    runner = CliRunner()
    both = runner.invoke(app, ["lists", "--data", str(dataset), "--year", "2024", "--years", "2020-2024",
                               "--out", str(tmp_path / "o")])
    assert both.exit_code == 2 and "--year" in both.output and not (tmp_path / "o").exists()
    beyond = runner.invoke(app, ["lists", "--data", str(dataset), "--years", "2016-2024", "--out", str(tmp_path / "o")])
    assert beyond.exit_code == 2 and not (tmp_path / "o").exists()


def low_threshold_rules(path):
    """A what-if rule file (the 2021 rules with low thresholds) so the small random areas get listed."""
    import yaml


    from importlib import resources

    spec = yaml.safe_load(resources.files("boligmix.rules.lists").joinpath("2021.yaml").read_text(encoding="utf-8"))
    spec["version"] = "2021-lowered"
    lowered = {"residents": 10, "outside_work_edu": 10, "basic_education": 50, "non_western": 10, "convicted": 1}
    for c in spec["criteria"]:
        c["threshold"] = lowered.get(c["id"], c["threshold"])
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize("lang", ["da", "en"])
def test_cli_text_format_prints_the_listed_areas(dataset, tmp_path, lang):
    rules = low_threshold_rules(tmp_path / "rules.yaml")
    out = tmp_path / "o"
    result = CliRunner().invoke(app, ["lists", "--data", str(dataset), "--year", "2024", "--out", str(out),
                                      "--rules", str(rules), "--lang", lang], env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    areas = [a for a in json.loads((out / "areas.json").read_text()) if a["udsat"]]
    assert areas, "the lowered thresholds should list some areas"
    text = result.output
    assert ("Områder på listerne 2024" if lang == "da" else "Areas on the lists 2024") in text
    for a in areas:
        assert a["area_id"] in text
    assert "udsat boligområde" in text
    assert ("af 4" if lang == "da" else "of 4") in text
    brief = CliRunner().invoke(app, ["lists", "--data", str(dataset), "--year", "2024", "--out", str(out),
                                     "--force", "--rules", str(rules), "--format", "brief"])
    assert brief.exit_code == 0 and brief.stdout.startswith("wrote ")
    bad = CliRunner().invoke(app, ["lists", "--data", str(dataset), "--year", "2024", "--out", str(tmp_path / "x"),
                                   "--lang", "de"])
    assert bad.exit_code == 2 and not (tmp_path / "x").exists()
