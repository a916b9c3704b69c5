""""Udgør mindst tre/to gange landsgennemsnittet" decided exactly (rules-spec 6.6).

Hand-built: 3,000 adults resident throughout 2022-2023; area A2 (dwelling 3) holds 100 of them,
1 convicted in each window year; 9 more convicted elsewhere each year. National share 10/3000,
area share 1/100: exactly 3 times. In floating point (1/100*100)/(10/3000*100) = 2.9999999999999996,
which failed ">= 3" before the ratio was computed from the counts.
"""

from __future__ import annotations

from datetime import date
from fractions import Fraction

import polars as pl
import pytest

from boligmix.indicators import compute_area_indicators
from boligmix.indicators.official import exact_conviction_ratio, floor_to_float
from boligmix.lists.classify import classify
from indicators_support import hand_built


def boundary_dataset(target, area_adults: int, area_convicted: int):
    area = list(range(1, area_adults + 1))
    elsewhere = list(range(area_adults + 1, 3001))
    convicted = area[:area_convicted] + elsewhere[:10 - area_convicted]
    persons = pl.DataFrame({"person_id": list(range(1, 3001)), "birth_date": [date(1980, 1, 1)] * 3000,
                            "sex": ["F"] * 3000, "origin": ["dansk"] * 3000, "country_code": ["DNK"] * 3000})
    residences = pl.DataFrame({"person_id": list(range(1, 3001)), "household_id": list(range(1, 3001)),
                               "dwelling_id": [3] * len(area) + [4] * len(elsewhere),
                               "move_in": [date(2010, 1, 1)] * 3000,
                               "move_out": pl.Series([None] * 3000, dtype=pl.Date),
                               "end_reason": pl.Series([None] * 3000, dtype=pl.String)})
    convictions = pl.DataFrame([(p, y, "straffeloven", 1) for y in (2022, 2023) for p in convicted],
                               schema={"person_id": pl.Int64, "year": pl.Int64, "law": pl.String,
                                       "count": pl.Int64}, orient="row")
    empty = hand_built.tables()
    return hand_built.write(target, {
        "persons": persons, "residences": residences, "convictions": convictions,
        "labour": empty["labour"].clear(), "person_years": empty["person_years"].clear()})


def test_floating_point_would_miss_the_boundary():
    assert (1 / 100 * 100) / (10 / 3000 * 100) < 3              # the bug this guards against
    assert exact_conviction_ratio([(100, 1), (100, 1)], [(3000, 10), (3000, 10)], "mean_of_shares") == 3.0
    assert exact_conviction_ratio([(100, 1)], [(3000, 10)], "pooled") == 3.0


@pytest.mark.parametrize("value, at_least_3", [
    (Fraction(3), True),
    (Fraction(3) - Fraction(1, 10**20), False),     # below 3 by less than a double can show
    (Fraction(3) + Fraction(1, 10**20), True),
    (Fraction(9, 3), True),
])
def test_rounding_down_keeps_the_comparison_exact(value, at_least_3):
    assert (floor_to_float(value) >= 3) is at_least_3
    assert Fraction(floor_to_float(value)) <= value


@pytest.mark.parametrize("average", ["mean_of_shares", "pooled"])
def test_window_shares(average):
    # years with no adults in the unit are left out of the unit's mean; 1/50 and 3/100 -> mean 1/40
    unit = [(50, 1), (100, 3), (0, 0)]
    national = [(1000, 10), (1000, 10)]
    expected = (Fraction(1, 40) if average == "mean_of_shares" else Fraction(4, 150)) / Fraction(1, 100)
    assert exact_conviction_ratio(unit, national, average) == floor_to_float(expected)
    assert exact_conviction_ratio([(0, 0)], national, average) is None
    assert exact_conviction_ratio(unit, [(1000, 0)], average) is None


@pytest.fixture(scope="module")
def at_three(tmp_path_factory):
    path = boundary_dataset(tmp_path_factory.mktemp("boundary") / "ds", 100, 1)
    rows = compute_area_indicators(path, [2024])
    return {r["area_id"]: r for r in rows.iter_rows(named=True)}


def test_area_at_exactly_three_times_the_national_rate(at_three):
    a2 = at_three["A2"]
    assert a2["n_18plus"] == 100 and a2["n_convicted_18plus"] == 1
    assert a2["conviction_ratio"] == 3.0
    assert a2["national_conviction_pct"] == pytest.approx(1 / 3)


def test_classification_counts_the_criterion_at_the_boundary(at_three):
    """2021 rules: at least 3 times (udsat) and at least 2 times (forebyggelse); only the conviction
    criterion is on the bad side, so criteria_met = 1 exactly when the boundary counts."""
    a2 = at_three["A2"]
    row = {"area_id": "A2", "year": 2022, "residents": 1500, "pct_non_western": 10.0, "pct_outside_work_edu": 20.0,
           "pct_convicted": a2["pct_convicted"], "conviction_ratio": a2["conviction_ratio"],
           "pct_basic_education": 30.0, "income_pct_of_region": 90.0}
    frame = pl.DataFrame([row], schema={**{k: pl.Float64 for k in row}, "area_id": pl.String, "year": pl.Int64,
                                        "residents": pl.Int64})
    assert classify(frame, rules="2021").frame.row(0, named=True)["criteria_met"] == 1
    below = frame.with_columns(pl.lit((1 / 100 * 100) / (10 / 3000 * 100)).alias("conviction_ratio"))
    assert classify(below, rules="2021").frame.row(0, named=True)["criteria_met"] == 0


def test_one_fewer_conviction_is_below(tmp_path):
    path = boundary_dataset(tmp_path / "ds", 101, 1)     # 1/101 against 10/3000: 300/101 = 2.97...
    a2 = {r["area_id"]: r for r in compute_area_indicators(path, [2024]).iter_rows(named=True)}["A2"]
    assert a2["conviction_ratio"] == floor_to_float(Fraction(300, 101)) and a2["conviction_ratio"] < 3
