"""Composition indicators on the hand-built dataset (tests/indicators_support/hand_built.py).

Year 2024: residents on 1 January 2024, facts of 2023. Area A1 has 11 residents aged
p1 18, p2 17, p3 64, p4 65, p5 30, p6 29, p7 59, p8 60, p9 43, p11 53, p12 33.
  children (<18): p2 -> 1/11; 18-29: p1, p6 -> 2/11; 65+: p4 -> 1/11; non-western p2, p11 -> 2/11.
  Households: 502 = p2, p3, p4 (two adults, one child); everyone else alone -> 9 households,
  mean size 11/9; households with children: 502 only, with 2 adults -> single parents 0/1.
  18-64 (9 persons: p1 p3 p5 p6 p7 p8 p9 p11 p12): employment 2023 p5 1.0 + p7 0.5 -> 1.5/9;
  foertidspension 2023 only p4, who is 65 -> 0/9.
  Students 18-29: p1 (in education), p6 (not) -> 1/2.
Municipality 101 adds household 504 = p15 (49), p21 (15), p22 (14): one adult with two
  children -> single parents 1/2 (502, 504).
"""

from __future__ import annotations

import polars as pl
import pytest

from boligmix.errors import ConfigurationError, DatasetError
from boligmix.indicators.composition import INDICATORS, TIDY_COLUMNS, compute_composition
from indicators_support import hand_built


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return hand_built.write(tmp_path_factory.mktemp("comp") / "ds")


def values(frame: pl.DataFrame, unit: str | int, id_column: str = "area_id") -> dict[str, float]:
    rows = frame.filter(pl.col(id_column) == unit)
    return dict(zip(rows.get_column("indicator").to_list(), rows.get_column("value").to_list(), strict=True))


def test_every_registered_indicator_on_area_a1(dataset):
    frame = compute_composition(dataset, [2024])
    assert frame.columns == ["area_id", *TIDY_COLUMNS]
    a1 = values(frame, "A1")
    assert set(a1) == set(INDICATORS)
    expected = {"share_children": 100 / 11, "share_young_adults": 200 / 11, "share_elderly": 100 / 11,
                "share_non_western": 200 / 11, "share_single_parents": 0.0, "mean_household_size": 11 / 9,
                "share_employed": 150 / 9, "share_foertidspension": 0.0, "share_students_18_29": 50.0}
    for name, value in expected.items():
        assert a1[name] == pytest.approx(value, rel=1e-12), name
    row = frame.filter((pl.col("area_id") == "A1") & (pl.col("indicator") == "share_employed")).row(0, named=True)
    assert (row["numerator"], row["denominator"], row["facts_year"], row["vintage"]) == (1.5, 9.0, 2023,
                                                                                         "hand-built-test")


def test_single_parents_at_municipality_level(dataset):
    frame = compute_composition(dataset, [2024], ["share_single_parents"], level="municipality")
    assert values(frame, 101, "municipality_code")["share_single_parents"] == pytest.approx(50.0)
    # Municipality 751 has no household with children: no row rather than a 0/0.
    assert frame.filter(pl.col("municipality_code") == 751).height == 0


def test_selection_and_errors(dataset):
    frame = compute_composition(dataset, [2024], ["share_children"], level="department")
    assert set(frame.get_column("indicator")) == {"share_children"}
    assert frame.get_column("department_id").to_list() == ["D1", "D2", "D4"]
    with pytest.raises(ConfigurationError, match="share_pets"):
        compute_composition(dataset, [2024], ["share_pets"])
    with pytest.raises(DatasetError, match="2019"):
        compute_composition(dataset, [2020])
