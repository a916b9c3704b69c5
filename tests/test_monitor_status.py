"""Status rows: margins in the criterion's unit and in persons, units below 1,000 residents, levels,
and disclosure control of the published rows."""

from __future__ import annotations

import polars as pl
import pytest

from boligmix.monitor.sets import load_set
from boligmix.monitor.status import legal_status, points_status
from boligmix.report import DisclosurePolicy


def _frame() -> pl.DataFrame:
    # Two departments in list year 2024 (2021 rules). D1: 400 residents, 250 aged 18-64 of whom 105
    # full-time persons outside (42 %), 300 adults of whom 12 convicted with a national share of 1.0 %
    # (ratio 4.0), 150 aged 30-59 of whom 60 basic (40 %), income 50 % of the region (region mean
    # 300,000 DKK), 100 of 400 non-Western (25 %). D2: 3 residents (too few to publish).
    return pl.DataFrame({
        "unit_id": ["D1", "D2"], "year": [2024, 2024], "residents": [400, 3],
        "pct_non_western": [25.0, 0.0], "n_non_western": [100, 0],
        "pct_outside_work_edu": [42.0, 100.0 / 3], "n_18_64": [250.0, 3.0], "fte_outside_18_64": [105.0, 1.0],
        "pct_convicted": [4.0, 0.0], "conviction_ratio": [4.0, 0.0], "n_18plus": [300.0, 3.0],
        "n_convicted_18plus": [12.0, 0.0], "national_conviction_pct": [1.0, 1.0],
        "pct_basic_education": [40.0, 0.0], "n_30_59": [150, 2], "n_basic_30_59": [60, 0],
        "income_pct_of_region": [50.0, 90.0], "n_income_group": [200, 3], "region_mean_income": [300_000.0] * 2,
        "municipality_code": [101, 101]})


def test_legal_margins_in_units_and_persons_by_hand() -> None:
    status = legal_status(_frame(), load_set("legal"), "department", [2024])
    rows = {r["indicator"]: r for r in status.rows.filter(pl.col("unit_id") == "D1").iter_rows(named=True)}
    # outside: 42 - 40 = +2 pp; in persons 2 % of 250 = 5 full-time persons; value 105, threshold 100
    assert rows["outside_work_edu"]["margin"] == pytest.approx(2.0)
    p = rows["outside_work_edu.persons"]
    assert (p["value"], p["threshold"], p["margin"]) == pytest.approx((105.0, 100.0, 5.0))
    # convicted: ratio 4 - 3 = +1 times the national average = 1 % of 300 adults = 3 persons
    assert rows["convicted.persons"]["margin"] == pytest.approx(3.0)
    assert rows["convicted.persons"]["value"] == pytest.approx(12.0)
    # income: 50 - 55 = -5 % of the region = -15,000 DKK of mean income
    assert rows["low_income.dkk"]["margin"] == pytest.approx(-15_000.0)
    # 400 residents: the residents criterion is 600 short; D1 meets udsat's 2 of 4 (outside, convicted,
    # income) but has fewer than 1,000 residents
    assert rows["residents"]["margin"] == pytest.approx(-600.0)
    assert rows["outside_work_edu"]["category"] == "udsat_below_min_residents"


def test_points_status_reference_is_the_municipality() -> None:
    frame = _frame()
    municipal = frame.head(1).with_columns(pl.lit("101").alias("unit_id"), pl.lit(30.0).alias("pct_outside_work_edu"))
    status = points_status(frame, municipal, None, load_set("aarhus"), "department", [2024])
    row = status.rows.filter((pl.col("unit_id") == "D1") & (pl.col("indicator") == "arbejdsmarked")).row(0, named=True)
    # 42 - 30 = 12 pp above the municipality: steps 5 and 10 -> 2 points
    assert (row["threshold"], row["margin"], row["points"]) == pytest.approx((30.0, 12.0, 2.0))


def test_published_status_suppresses_small_units() -> None:
    from boligmix.monitor.publish import _protect_rows

    status = legal_status(_frame(), load_set("legal"), "department", [2024])
    published, summary = _protect_rows(status.rows, DisclosurePolicy.load(), "status.csv")
    small = published.filter(pl.col("unit_id") == "D2")
    big = published.filter(pl.col("unit_id") == "D1")
    # D2 has 3 residents, 3 aged 18-64: every value, margin and threshold in persons is suppressed
    assert small.filter(pl.col("indicator") != "residents").get_column("value").null_count() == \
        small.filter(pl.col("indicator") != "residents").height
    assert small.filter(pl.col("indicator").str.ends_with(".persons")).get_column("threshold").null_count() > 0
    # D1: published, except where the count is small (12 convicted is fine; 0 ... none here)
    assert big.filter(pl.col("indicator") == "outside_work_edu").get_column("value").item() == pytest.approx(42.0)
    assert summary.get("primary", 0) > 0


def test_points_national_reference_is_the_weighted_mean_of_the_municipalities() -> None:
    from boligmix.monitor.status import points_values

    municipal = _frame().with_columns(pl.Series("unit_id", ["101", "751"]),
                                      pl.Series("pct_outside_work_edu", [20.0, 40.0]),
                                      pl.Series("n_18_64", [100.0, 300.0]))
    aarhus = load_set("aarhus")
    iset = type(aarhus)(aarhus.spec.model_copy(update={"reference": "national"}), aarhus.source, aarhus.sha256,
                        aarhus.step_conditions, aarhus.category_conditions)
    values = points_values(_frame(), municipal, None, iset, "department", [2024])
    row = values.filter((pl.col("unit_id") == "D1") & (pl.col("indicator") == "arbejdsmarked")).row(0, named=True)
    assert row["reference"] == pytest.approx((20 * 100 + 40 * 300) / 400)
    # at municipality level the reference is the country whatever the set says
    at_mun = points_values(municipal, municipal, None, aarhus, "municipality", [2024])
    refs = at_mun.filter(pl.col("indicator") == "arbejdsmarked").get_column("reference").to_list()
    assert refs == pytest.approx([35.0, 35.0])


def test_published_category_of_a_tiny_unit_is_suppressed() -> None:
    from types import SimpleNamespace

    from boligmix.monitor.publish import protect_status

    status = legal_status(_frame(), load_set("legal"), "department", [2024])
    published, _ = protect_status(SimpleNamespace(status=status), DisclosurePolicy.load())  # type: ignore[arg-type]
    cats = published.group_by("unit_id").agg(pl.col("category").drop_nulls().unique())
    assert dict(cats.iter_rows()) == {"D1": ["udsat_below_min_residents"], "D2": []}
