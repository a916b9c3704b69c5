"""Tryghed og trivsel survey index: hand-computed scores and variances, interval coverage, bad files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from boligmix.cli.main import app
from boligmix.errors import ConfigurationError, DataValidationError
from boligmix.evaluate.survey import (
    SurveyIndex,
    check_responses,
    comparisons,
    index_table,
    read_responses,
    respondent_scores,
    synthetic_survey,
    weighted_mean,
)

INDEX = SurveyIndex.load()


def _resp(rows):
    return pl.DataFrame([dict(zip(("respondent_id", "area_id", "year", "weight", "item", "value"), map(str, r)))
                         for r in rows])


def test_six_dimensions_of_seed_002():
    assert list(INDEX.dimensions) == ["oplevet_tryghed", "social_sammenhaengskraft", "kollektiv_handlekraft",
                                      "tillid", "tilfredshed", "livskvalitet"]


def test_scores_by_hand():
    rows = [("r1", "A", 2020, 2.0, "tryg_dag", 5), ("r1", "A", 2020, 2.0, "tryg_aften", 3),
            ("r1", "A", 2020, 2.0, "tryg_grundlaeggende", 4),
            ("r1", "A", 2020, 2.0, "passe_sig_selv", 5), ("r1", "A", 2020, 2.0, "kender_naboer", 2),
            ("r1", "A", 2020, 2.0, "stemte_kommunalvalg", 1)]
    scores = respondent_scores(check_responses(_resp(rows), INDEX), INDEX)
    by = dict(zip(scores["dimension"], scores["score"]))
    # tryghed: items 1-5 -> 0-100: 100, 50, 75 with weights 1, 1, 2
    assert by["oplevet_tryghed"] == pytest.approx((100 + 50 + 2 * 75) / 4)
    # cohesion: passe_sig_selv reversed (5 -> 0), kender_naboer 2 -> 25
    assert by["social_sammenhaengskraft"] == pytest.approx(12.5)
    assert by["kollektiv_handlekraft"] == pytest.approx(100.0)  # 0/1 item on its own scale
    assert "total" not in by  # not every dimension answered


def test_weighted_mean_and_linearisation_variance_by_hand():
    rng = np.random.default_rng(3)
    y, w = rng.uniform(0, 100, 40), rng.gamma(2.0, 0.5, 40)
    mean, se = weighted_mean(y, w)
    m = (w * y).sum() / w.sum()
    var = len(y) / (len(y) - 1) * ((w ** 2) * (y - m) ** 2).sum() / w.sum() ** 2
    assert mean == pytest.approx(m, rel=1e-12) and se == pytest.approx(np.sqrt(var), rel=1e-10)


def test_interval_coverage_near_95_percent():
    rng = np.random.default_rng(11)
    hits = 0
    reps = 400
    for _ in range(reps):
        y, w = rng.normal(60, 15, 80), rng.gamma(2.0, 0.5, 80)
        mean, se = weighted_mean(y, w)
        hits += abs(mean - 60) <= 1.959963984540054 * se
    assert 0.92 <= hits / reps <= 0.975


def test_index_and_comparisons_on_a_synthetic_survey():
    frame = synthetic_survey(np.random.default_rng(5), INDEX, areas=["A1", "A2"], years=[2018, 2021], respondents=120)
    scores = respondent_scores(check_responses(frame.cast(pl.String), INDEX), INDEX)
    tab = index_table(scores)
    assert tab.height == 2 * 2 * 7 and set(tab["dimension"]) == {*INDEX.dimensions, "total"}
    assert (tab["ci_low"] < tab["mean"]).all() and (tab["mean"] < tab["ci_high"]).all()
    comp = comparisons(scores)
    r = comp.filter((pl.col("kind") == "year") & (pl.col("area_id") == "A1") & (pl.col("dimension") == "tillid")).row(0, named=True)
    m = {y: tab.filter((pl.col("area_id") == "A1") & (pl.col("year") == y) & (pl.col("dimension") == "tillid"))["mean"].item()
         for y in (2018, 2021)}
    assert r["difference"] == pytest.approx(m[2021] - m[2018], rel=1e-9)


def test_yaml_weights_are_used(tmp_path):
    text = (Path(__file__).parents[1] / "src/boligmix/rules/evaluate/survey_index.yaml").read_text(encoding="utf-8")
    custom = tmp_path / "idx.yaml"
    custom.write_text(text.replace("tryg_grundlaeggende: {weight: 2", "tryg_grundlaeggende: {weight: 6"), encoding="utf-8")
    idx = SurveyIndex.load(custom)
    rows = [("r1", "A", 2020, 1, "tryg_dag", 5), ("r1", "A", 2020, 1, "tryg_grundlaeggende", 1)]
    s = respondent_scores(check_responses(_resp(rows), idx), idx)
    assert s.filter(pl.col("dimension") == "oplevet_tryghed")["score"].item() == pytest.approx(100 / 7)
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace("tillid_naboer:", "tryg_dag:"), encoding="utf-8")
    with pytest.raises(ConfigurationError, match="tryg_dag"):
        SurveyIndex.load(bad)


@pytest.mark.parametrize(("edit", "row", "column", "needle"), [
    (lambda r: r[:3] + [("r9", "A", 2020, 1, "tryg_dag", 7)], 4, "value", "outside its scale"),
    (lambda r: r[:3] + [("r9", "A", 2020, 1, "tryg_nat", 3)], 4, "item", "tryg_nat"),
    (lambda r: r[:3] + [("r9", "A", 2020, 0, "tryg_dag", 3)], 4, "weight", "positive"),
    (lambda r: r[:3] + [("r9", "A", 2020, 1, "tryg_dag", "meget")], 4, "value", "'meget'"),
])
def test_bad_responses_name_row_and_column(tmp_path, edit, row, column, needle):
    base = [("r1", "A", 2020, 1, "tryg_dag", 4), ("r2", "A", 2020, 1, "tryg_dag", 3), ("r3", "B", 2020, 1, "tryg_dag", 2)]
    path = tmp_path / "resp.csv"
    _resp(edit(base)).write_csv(path)
    with pytest.raises(DataValidationError) as info:
        read_responses(path, INDEX)
    assert info.value.path == str(path) and info.value.row == row and info.value.column == column
    assert needle in str(info.value)


def test_cli_survey_missing_column_and_good_run(tmp_path):
    path = tmp_path / "resp.csv"
    synthetic_survey(np.random.default_rng(1), INDEX, areas=["A1", "A2"], years=[2018, 2021],
                     respondents=30).drop("weight").write_csv(path)
    result = CliRunner().invoke(app, ["evaluate", "survey", "--responses", str(path), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "weight" in result.output and not (tmp_path / "o").exists()
    result = CliRunner().invoke(app, ["evaluate", "synth-survey", "--out", str(path), "--respondents", "40"])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(app, ["evaluate", "survey", "--responses", str(path), "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    idx = pl.read_csv(tmp_path / "o" / "index.csv")
    assert idx["n_respondents"].min() >= 5 and "Tryghed og trivsel" in (tmp_path / "o" / "report.html").read_text("utf-8")
