"""Receiving areas: arrivals from a listed area push a small area over a threshold (constructed data)."""

from __future__ import annotations

import polars as pl
import pytest
from monitor_support.receiving import build, lists

from boligmix.indicators import compute_area_indicators
from boligmix.monitor.waterbed import receiving_warnings


def _run(path, listed: bool, level: str = "area"):
    column = {"area": "area_id", "department": "department_id"}[level]
    now = compute_area_indicators(path, [2024], level=level).rename({column: "unit_id"})
    counts, warnings, _group = receiving_warnings(path, 2024, lists(listed), now, level=level, margin=0.1)
    return counts, warnings


@pytest.mark.parametrize("level, unit", [("area", "R"), ("department", "DR")])
def test_arrivals_from_a_listed_area_fire_the_warning(tmp_path, level, unit) -> None:
    path = build(tmp_path / "d", arrivals_outside=True)
    counts, warnings = _run(path, listed=True, level=level)
    assert counts.filter(pl.col("unit_id") == unit).select("n_households", "n_persons", "n_households_listed").row(0) \
        == (5, 5, 5)
    assert warnings.height == 1
    w = warnings.row(0, named=True)
    assert (w["unit_id"], w["list"], w["criterion"]) == (unit, "forebyggelse", "f_outside_work_edu")
    assert w["value"] == pytest.approx(100 * 5 / 15)  # over 30 %
    assert w["value_without"] == pytest.approx(0.0)
    assert w["value_arrivals"] == pytest.approx(100.0)


def test_arrival_rows_give_counts_and_composition(tmp_path) -> None:
    from boligmix.monitor.waterbed import arrival_rows

    path = build(tmp_path / "d", arrivals_outside=True)
    now = compute_area_indicators(path, [2024]).rename({"area_id": "unit_id"})
    counts, _, group = receiving_warnings(path, 2024, lists(True), now)
    rows = {r["indicator"]: r["value"] for r in arrival_rows(counts, group).iter_rows(named=True)}
    assert rows["arrivals.households"] == 5 and rows["arrivals.persons"] == 5
    assert rows["arrivals.households_rehoused"] == 0
    assert rows["arrivals.pct_outside_work_edu"] == pytest.approx(100.0)
    assert rows["arrivals.pct_basic_education"] == pytest.approx(0.0)


def test_employed_arrivals_do_not_fire(tmp_path) -> None:
    path = build(tmp_path / "d", arrivals_outside=False)
    counts, warnings = _run(path, listed=True)
    assert counts.filter(pl.col("unit_id") == "R").get_column("n_households").item() == 5
    assert warnings.height == 0


def test_arrivals_from_an_area_not_listed_are_not_counted(tmp_path) -> None:
    path = build(tmp_path / "d", arrivals_outside=True)
    counts, warnings = _run(path, listed=False)
    assert counts.height == 0 and warnings.height == 0


def test_published_warning_of_few_arrivals_hides_the_criterion(tmp_path) -> None:
    # 5 arrivals are publishable (the policy's minimum is 5); with a minimum of 6 they are not, and the
    # warning keeps only its kind (the criterion would tell what the few arrivals have in common).
    from types import SimpleNamespace

    from boligmix.monitor.publish import protect_warnings
    from boligmix.report import DisclosurePolicy

    path = build(tmp_path / "d", arrivals_outside=True)
    _, warnings = _run(path, listed=True)
    wide = warnings.select("unit_id", pl.lit("receiving_area").alias("kind"), pl.col("criterion").alias("indicator"),
                           "list", "value", "threshold", "value_without", "value_arrivals", "n_households",
                           "n_persons", "_den", "_num", "op", pl.lit(None, pl.Float64).alias("slope"))
    result = SimpleNamespace(warnings=wide, year=2024, settings=SimpleNamespace(level="area"))
    shown, _ = protect_warnings(result, DisclosurePolicy.load(), "en")  # type: ignore[arg-type]
    assert shown.get_column("indicator").to_list() == ["f_outside_work_edu"]
    assert "5 households, 5 persons" in shown.get_column("message").item()
    hidden, _ = protect_warnings(result, DisclosurePolicy.load(min_count=6), "en")  # type: ignore[arg-type]
    assert hidden.get_column("indicator").to_list() == [None]
    assert hidden.get_column("value").to_list() == [None]
    assert "not shown" in hidden.get_column("message").item()


def test_rehousing_counts_where_the_data_records_it(tmp_path) -> None:
    # L is not listed, but the five households were rehoused into R (lettings channel 'rehousing'):
    # they count as arrivals and fire the same warning.
    path = build(tmp_path / "d", arrivals_outside=True, rehousing=True)
    counts, warnings = _run(path, listed=False)
    row = counts.filter(pl.col("unit_id") == "R").row(0, named=True)
    assert (row["n_households"], row["n_households_listed"], row["n_households_rehoused"]) == (5, 0, 5)
    assert warnings.get_column("criterion").to_list() == ["f_outside_work_edu"]
