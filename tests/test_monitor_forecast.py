"""Forecast of next year's lists: no peeking after 1 January Y, and a backtest that beats persistence."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from monitor_support.cut import cut_dataset
from synth_data import small_dataset_dir

from boligmix.monitor.forecast import LISTS, fit, forecast, residual_pool
from boligmix.monitor.history import load_history


def test_the_forecast_reads_nothing_after_1_january(tmp_path) -> None:
    year = 2019
    full = forecast(load_history(small_dataset_dir(), year), draws=50, seed=3)
    cut = cut_dataset(small_dataset_dir(), tmp_path / "cut", year)
    short = forecast(load_history(cut, year), draws=50, seed=3)
    assert full.forecast.height == 4 * full.lists.filter(pl.col("year") == year).height
    assert full.forecast.equals(short.forecast)
    assert full.backtest.equals(short.backtest)
    # and the cut really removed something the full data holds
    assert load_history(small_dataset_dir(), year + 2).list_years[-1] == year + 2


def test_forecast_shape_and_range() -> None:
    result = forecast(load_history(small_dataset_dir(), 2024), draws=40, seed=1)
    f = result.forecast
    assert f.columns == ["area_id", "year", "list", "probability"]
    assert set(f.get_column("year").to_list()) == {2025}
    assert set(f.get_column("list").to_list()) == set(LISTS)
    assert f.get_column("probability").is_between(0.0, 1.0).all()
    # the lists are nested in every draw, so are the probabilities
    wide = f.pivot(on="list", index="area_id", values="probability")
    assert (wide["parallelsamfund"] <= wide["udsat"] + 1e-12).all()
    assert (wide["omdannelse"] <= wide["parallelsamfund"] + 1e-12).all()
    areas_2024 = result.lists.filter(pl.col("year") == 2024).get_column("area_id").sort().to_list()
    assert f.get_column("area_id").unique().sort().to_list() == areas_2024


def test_backtest_beats_persistence_on_the_data_history() -> None:
    result = forecast(load_history(small_dataset_dir(), 2024), draws=200, seed=0)
    b = result.backtest
    brier = b.select(((pl.col("probability") - pl.col("observed")) ** 2).mean()).item()
    persistence = b.select(((pl.col("persistence") - pl.col("observed")) ** 2).mean()).item()
    assert b.height > 100
    assert brier < persistence


def test_fit_recovers_drift_and_trend_by_hand() -> None:
    # next = prev + 1 + 0.5 * (prev - prev2) exactly, on a spread of trends: drift 1, trend ~0.5
    # (shrunk by the ridge weight SHRINK * var(d) / (n var(d) + ...)), errors ~0.
    d = np.linspace(-4, 4, 200)
    frame = pl.DataFrame({"x_prev": 50.0 + d, "x_prev2": 50.0, "x_next": 50.0 + d + 1 + 0.5 * d, "x_scale": 1.0})
    model = fit(frame, ["x"])["x"]
    assert model.drift == pytest.approx(1.0, abs=1e-9)
    assert model.trend == pytest.approx(0.5 * 200 / 204, rel=1e-6)
    pool = residual_pool(frame, {"x": model}, ["x"])
    assert pool.shape == (200, 1)


def test_the_lists_the_forecast_stands_on_are_those_of_boligmix_lists() -> None:
    from boligmix.lists.pipeline import compute_lists

    history = load_history(small_dataset_dir(), 2024)
    from boligmix.monitor.forecast import official_lists

    ours = official_lists(history).sort("area_id", "year")
    theirs = compute_lists(small_dataset_dir(), list(history.list_years)).classification.frame.sort("area_id", "year")
    assert ours.select("area_id", "year", *LISTS).equals(theirs.select("area_id", "year", *LISTS))


def test_status_categories_equal_the_official_lists_in_every_status_year() -> None:
    from boligmix.monitor.forecast import official_lists
    from boligmix.monitor.scoring import LIST_ORDER
    from boligmix.monitor.sets import load_set
    from boligmix.monitor.status import compute_status

    history = load_history(small_dataset_dir(), 2024)
    status = compute_status(small_dataset_dir(), 2024, load_set("legal"), history=history, status_years=5)
    lists = official_lists(history).rename({"area_id": "unit_id"})
    joined = status.categories.join(lists, on=["unit_id", "year"], how="inner")
    assert joined.height == status.categories.height == 5 * 5
    for row in joined.iter_rows(named=True):
        expected = next((f for f in LIST_ORDER if row[f]), "none")
        assert row["category"] == expected or (expected == "none" and row["category"].endswith("_below_min_residents"))
