"""Explanations: margins and what it takes to cross each threshold, list history, exit years,
and the `boligmix lists` pipeline from person-level data."""

from __future__ import annotations

import json
import math

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from boligmix.cli.main import app
from boligmix.errors import DatasetError
from boligmix.lists.classify import classify
from boligmix.lists.explain import area_summaries, criteria_table, explain_text
from boligmix.lists.pipeline import lists_from_indicators, write_lists
from boligmix.lists.ruleset import load_ruleset

BASE = dict(residents=1500, pct_non_western=60.0, pct_outside_work_edu=45.0, pct_convicted=None,
            conviction_ratio=3.5, pct_basic_education=55.0, income_pct_of_region=50.0)
SUPPORT = dict(n_18_64=800.0, n_18plus=1100.0, national_conviction_pct=0.7, n_30_59=500.0,
               region_mean_income=400_000.0)


def frame(rows):
    return pl.DataFrame([{**BASE, "area_id": "A", "year": 2023, **r} for r in rows],
                        schema_overrides={"pct_convicted": pl.Float64})


def by_criterion(table):
    return {r["criterion"]: r for r in table.iter_rows(named=True)}


def test_what_it_takes_in_persons_fte_and_dkk_hand_computed():
    data = frame([SUPPORT])
    rows = by_criterion(criteria_table(data, classify(data), 2023))
    # 45 % of 800 outside; <= 40 % needs 5 pp x 800 = 40 FTE into work or education
    assert rows["outside_work_edu"]["met"] is True
    assert rows["outside_work_edu"]["to_cross"] == pytest.approx(40.0)
    assert rows["outside_work_edu"]["to_cross_text"].startswith("at least 40.0 FTE")
    # ratio 3.5 of national 0.7 % among 1,100 adults: < 3 needs more than 0.5 x 0.7 % x 1,100 = 3.85 fewer
    assert rows["convicted"]["to_cross"] == pytest.approx(3.85)
    assert rows["convicted"]["qualifier"] == "more than"
    assert rows["convicted"]["to_cross_text"] == "at least 4 fewer convicted residents aged 18+"
    # basic 55 % of 500, not met: > 60 % needs more than 25 more persons, i.e. 26
    assert rows["basic_education"]["met"] is False
    assert rows["basic_education"]["to_cross_text"] == \
        "at least 26 more residents aged 30-59 with only basic schooling"
    # income 50 % of 400,000: >= 55 % needs at least 5 % x 400,000 = 20,000 DKK more on average
    assert rows["low_income"]["to_cross"] == pytest.approx(20_000)
    assert rows["low_income"]["to_cross_text"].startswith("at least 20,000 DKK higher")
    # 1,500 residents: below 1,000 needs at least 501 fewer
    assert rows["residents"]["to_cross_text"] == "at least 501 fewer residents"
    assert rows["non_western"]["margin"] == pytest.approx(10.0)


def test_without_support_counts_the_distance_is_in_the_criterions_unit():
    data = frame([{}])
    rows = by_criterion(criteria_table(data, classify(data), 2023))
    assert rows["outside_work_edu"]["to_cross_text"] == "at least 5.00 percentage points lower"
    assert rows["convicted"]["to_cross_text"] == "more than 0.50 times the national average lower"
    assert rows["low_income"]["to_cross_text"] == \
        "at least 5.00 percentage points of the regional average higher"
    assert rows["basic_education"]["direction"] == "to_meet"


def test_missing_value_has_no_margin_and_unknown_met():
    data = frame([{"pct_basic_education": None}])
    rows = by_criterion(criteria_table(data, classify(data), 2023))
    assert rows["basic_education"]["met"] is None and rows["basic_education"]["margin"] is None
    assert rows["basic_education"]["to_cross_text"] is None


CROSS_CASES = [("2021", "outside_work_edu", "pct_outside_work_edu"), ("2021", "convicted", "conviction_ratio"),
               ("2021", "low_income", "income_pct_of_region"), ("2013", "convicted", "pct_convicted"),
               ("2021", "f_convicted", "conviction_ratio"), ("2021", "f_low_income", "income_pct_of_region")]


def _met_after(version, cid, field, year, values):
    data = frame([{"area_id": f"A{i}", field: v, "year": year} for i, v in enumerate(values)])
    table = criteria_table(data, classify(data, rules=version), year).filter(pl.col("criterion") == cid)
    return sorted(table.to_dicts(), key=lambda r: int(r["area_id"][1:]))


@settings(max_examples=25, deadline=None)
@given(st.sampled_from(CROSS_CASES),
       st.lists(st.floats(0, 100, allow_nan=False).map(lambda v: round(v, 2)), min_size=1, max_size=20))
def test_moving_the_value_by_to_cross_crosses_the_threshold(case, values):
    """Property: moving the value by the stated amount crosses the threshold exactly when the
    qualifier says so ("at least": the amount itself is enough; "more than": it must pass it)."""
    version, cid, field = case
    year = 2023 if version == "2021" else 2015
    before = _met_after(version, cid, field, year, values)
    op = load_ruleset(version).criterion(cid).op
    moved, nudged = [], []
    for value, row in zip(values, before):
        down = row["met"] != (op == "<")
        step = -row["to_cross"] if down else row["to_cross"]
        moved.append(round(value + step, 9))  # thresholds are round numbers: drop float noise
        nudged.append(round(value + step, 9) + (-1e-6 if down else 1e-6))
    at_amount = _met_after(version, cid, field, year, moved)
    past_amount = _met_after(version, cid, field, year, nudged)
    for row, at, past in zip(before, at_amount, past_amount):
        assert past["met"] is (not row["met"])
        assert at["met"] is ((not row["met"]) if row["qualifier"] == "at least" else row["met"])


@pytest.mark.parametrize("version, year, values, expected", [
    # udsat via two 2-year averages: sure to be off only when both windows are new data
    ("2021", 2023, dict(pct_non_western=10.0, income_pct_of_region=90.0), {"udsat": 2025}),
    # via education and income (point in time): next list
    ("2021", 2023, dict(pct_non_western=10.0, pct_outside_work_edu=20.0, conviction_ratio=1.0,
                        pct_basic_education=65.0), {"udsat": 2024}),
    # three met (2 averaged + income): two must clear -> 2025; parallelsamfund ends with the
    # non-Western gate next year, and omdannelse with it
    ("2021", 2023, {}, {"udsat": 2025, "parallelsamfund": 2024}),
    # 2010: outside and convicted are 4-year averages
    ("2010", 2011, dict(pct_non_western=10.0, pct_convicted=3.0), {"parallelsamfund": 2015}),
    ("2010", 2011, dict(pct_non_western=60.0, pct_outside_work_edu=20.0, pct_convicted=3.0),
     {"parallelsamfund": 2012}),
    ("2010", 2011, dict(pct_non_western=60.0, pct_convicted=3.0), {"parallelsamfund": 2015}),  # all 3 met
])
def test_earliest_exit_year(version, year, values, expected):
    data = frame([{"year": year, **values}])
    result = classify(data, rules=version)
    (summary,) = area_summaries(result, year, None, criteria_table(data, result, year))
    got = {k: v for k, v in summary["earliest_exit_year"].items() if k in expected}
    assert got == expected


def test_history_summary_sources_run_and_years_to_omdannelse():
    rows = [{"year": y} for y in (2022, 2023)]
    data = frame(rows)
    history = pl.DataFrame({"area_id": ["A", "A"], "year": [2019, 2021], "parallelsamfund": [True, True]})
    result = classify(data, history=history)
    (s,) = area_summaries(result, 2023, history, criteria_table(data, result, 2023))
    assert [(h["year"], h["parallelsamfund"], h["source"]) for h in s["history"]] == [
        (2019, True, "published"), (2020, False, "none"), (2021, True, "published"),
        (2022, True, "computed"), (2023, True, "computed")]
    assert s["consecutive_parallelsamfund_years"] == 3
    assert s["omdannelse"] is False and s["years_to_omdannelse"] == 2
    text = explain_text(s, criteria_table(data, result, 2023), lang="en")
    assert "2020: no (none)" in text and "after 2 more year(s)" in text
    # filling the gap makes it an omdannelsesområde, leaving when parallelsamfund ends
    history = history.vstack(pl.DataFrame({"area_id": ["A"], "year": [2020], "parallelsamfund": [True]}))
    result = classify(data, history=history)
    (s,) = area_summaries(result, 2023, history, criteria_table(data, result, 2023))
    assert s["omdannelse"] is True and s["years_to_omdannelse"] == 0
    assert s["years_until_leave_omdannelse"] == 1


def test_lists_from_indicators_and_atomic_write(tmp_path):
    data = frame([{"year": 2023, **SUPPORT}, {"area_id": "B", "year": 2023, "residents": 900, **SUPPORT}])
    result = lists_from_indicators(data, 2023)
    out = write_lists(tmp_path / "res", result)
    assert sorted(p.name for p in out.iterdir()) == ["areas.json", "criteria.csv", "indicators.csv",
                                                      "lists.csv", "provenance.json"]
    lists = pl.read_csv(out / "lists.csv")
    assert lists.get_column("udsat").to_list() == [1, 0]
    areas = json.loads((out / "areas.json").read_text())
    assert areas[1]["area_id"] == "B" and "900 residents (limit: at least 1,000 residents) — not met" in areas[1]["explanation"]
    with pytest.raises(DatasetError):
        write_lists(tmp_path / "res", result)
    write_lists(tmp_path / "res", result, overwrite=True)
    with pytest.raises(DatasetError):
        lists_from_indicators(data, 2030)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    from indicators_support import random_dataset
    return random_dataset.write(tmp_path_factory.mktemp("lists") / "ds", 4000, seed=11, years=(2018, 2023))


def test_cli_lists_end_to_end(dataset, tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["lists", "--data", str(dataset), "--year", "2024", "--out", str(out),
                                      "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["years_computed"] == [2020, 2021, 2022, 2023, 2024]
    published = pl.read_csv(out / "indicators.csv", infer_schema_length=None)
    lists = pl.read_csv(out / "lists.csv")
    # the written lists are the classification of the exact indicators; the written file is the
    # same frame with small counts (and the shares built on them) suppressed
    from boligmix.indicators import compute_area_indicators

    indicators = compute_area_indicators(dataset, [2020, 2021, 2022, 2023, 2024])
    assert published.select("area_id", "year").equals(indicators.select("area_id", "year"))
    # 1-4 convicted, or 1-4 adults not convicted (the remainder), or all adults convicted (group
    # disclosure): hidden; 0 convicted of at least 5 adults: published as 0 (a zero is no person)
    n, adults = indicators.get_column("n_convicted_18plus"), indicators.get_column("n_18plus")
    small = ((n > 0) & (n < 5)) | ((adults - n > 0) & (adults - n < 5)) | ((n == adults) & (adults > 0))
    assert published.get_column("n_convicted_18plus").is_null().to_list() == small.to_list()
    zeros = (n == 0) & (adults >= 5)
    assert zeros.any() and published.filter(zeros).get_column("n_convicted_18plus").to_list() == [0] * int(zeros.sum())
    shown = ~small & (adults >= 5)  # a ratio over fewer than 5 adults is not shown either
    assert published.filter(shown).get_column("conviction_ratio").to_list() == pytest.approx(
        indicators.filter(shown).get_column("conviction_ratio").to_list())
    assert published.filter(small).get_column("conviction_ratio").null_count() == int(small.sum())
    again = classify(indicators.select("area_id", "year", "residents", "pct_non_western", "pct_outside_work_edu",
                                       "pct_convicted", "conviction_ratio", "pct_basic_education",
                                       "income_pct_of_region")).frame
    for flag in ("udsat", "parallelsamfund", "omdannelse", "forebyggelse"):
        assert lists.get_column(flag).to_list() == again.get_column(flag).cast(pl.Int64).to_list()
    criteria = pl.read_csv(out / "criteria.csv")
    assert criteria.get_column("year").unique().to_list() == [2024]
    assert criteria.height == lists.filter(pl.col("year") == 2024).height * len(load_ruleset("2021").spec.criteria)
    outside = criteria.filter(pl.col("criterion") == "outside_work_edu").join(
        indicators.filter(pl.col("year") == 2024), on="area_id")
    expected = ((outside.get_column("pct_outside_work_edu") - 40).abs() * outside.get_column("n_18_64") / 100)
    small = (outside.get_column("fte_outside_18_64") < 5) | (outside.get_column("n_18_64") < 5)
    assert all((a is None) == s and (s or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9))
               for a, b, s in zip(outside.get_column("to_cross").to_list(), expected.to_list(), small.to_list()))
    provenance = json.loads((out / "provenance.json").read_text())
    assert provenance["data_vintage"] == "random-test-11" and provenance["seed"] == 11
    assert provenance["rule_versions"]["2021"]["sha256"] == load_ruleset("2021").sha256
    # an existing result is not replaced without --force
    again_run = CliRunner().invoke(app, ["lists", "--data", str(dataset), "--year", "2024", "--out", str(out)])
    assert again_run.exit_code == 2 and "exists" in again_run.output


def test_cli_lists_errors(dataset, tmp_path):
    runner = CliRunner()
    beyond = runner.invoke(app, ["lists", "--data", str(dataset), "--year", "2030", "--out", str(tmp_path / "o")])
    assert beyond.exit_code == 2 and not (tmp_path / "o").exists()
    missing = runner.invoke(app, ["lists", "--data", str(tmp_path / "none"), "--year", "2024",
                                  "--out", str(tmp_path / "o")])
    assert missing.exit_code == 2 and not (tmp_path / "o").exists()


def test_forebyggelse_excluded_by_udsat_is_explained():
    data = frame([{"pct_non_western": 40.0}])
    result = classify(data)
    table = criteria_table(data, result, 2023)
    (s,) = area_summaries(result, 2023, None, table)
    assert s["udsat"] is True and s["forebyggelse"] is False and s["excluded_by"] == {"forebyggelse": "udsat"}
    assert "is not on that list because it is on 'udsat'" in explain_text(s, table, lang="en")
    result = classify(data, switches={"forebyggelse_excludes_udsat": False})
    (s,) = area_summaries(result, 2023, None, criteria_table(data, result, 2023))
    assert s["forebyggelse"] is True and s["excluded_by"] == {}


def test_values_next_to_the_threshold_are_printed_with_more_digits():
    data = frame([{"conviction_ratio": 2.9999}])
    result = classify(data)
    table = criteria_table(data, result, 2023)
    (s,) = area_summaries(result, 2023, None, table)
    text = explain_text(s, table, lang="en")
    assert "2.9999 times the national average (limit: at least 3 times the national average) — not met" in text
