"""Hand-computed segregation cases, the table's slicing and its errors."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest

from boligmix.errors import DataValidationError
from boligmix.mix.segregation import (
    IndexUndefinedError,
    SegregationSpecError,
    multigroup_indices,
    segregation_table,
    two_group_indices,
)
from boligmix.mix.segregation import multigroup, two_group


def _two(group, total) -> dict[str, float]:
    return {r.name: r.statistic for r in two_group_indices(np.array(group), np.array(total))}


def _multi(counts) -> dict[str, float]:
    return {r.name: r.statistic for r in multigroup_indices(np.array(counts))}


def test_two_units_fully_segregated():
    values = _two([10, 0], [10, 30])
    assert values["dissimilarity"] == pytest.approx(1.0)
    assert values["gini"] == pytest.approx(1.0)
    assert values["entropy"] == pytest.approx(1.0)
    assert values["isolation"] == pytest.approx(1.0)
    assert values["interaction"] == pytest.approx(0.0)
    assert values["atkinson"] == pytest.approx(1.0)
    assert values["correlation_ratio"] == pytest.approx(1.0)
    multi = _multi([[10, 0, 0], [0, 20, 0], [0, 0, 5]])
    assert all(v == pytest.approx(1.0) for v in multi.values())


def test_identical_composition_gives_no_segregation():
    values = _two([2, 4, 10], [10, 20, 50])  # 20 % everywhere
    assert values["dissimilarity"] == pytest.approx(0.0, abs=1e-15)
    assert values["gini"] == pytest.approx(0.0, abs=1e-15)
    assert values["entropy"] == pytest.approx(0.0, abs=1e-15)
    assert values["isolation"] == pytest.approx(0.2)  # = P
    assert values["interaction"] == pytest.approx(0.8)  # = 1 - P
    assert values["atkinson"] == pytest.approx(0.0, abs=1e-15)
    assert values["correlation_ratio"] == pytest.approx(0.0, abs=1e-15)
    multi = _multi([[1, 2, 7], [3, 6, 21]])
    assert all(v == pytest.approx(0.0, abs=1e-15) for v in multi.values())


def test_worked_three_unit_example():
    # Units (group x, total t): (10, 15), (0, 15), (5, 10). T = 40, X = 15, P = 0.375,
    # p = (2/3, 0, 1/2), P(1-P) = 0.234375.
    values = _two([10, 0, 5], [15, 15, 10])
    # D = sum t|p - P| / (2 T P(1-P)) = (15*0.291667 + 15*0.375 + 10*0.125) / 18.75 = 11.25 / 18.75
    assert values["dissimilarity"] == pytest.approx(0.6, abs=1e-12)
    # G: pairs i<j: 15*15*2/3 + 15*10*1/6 + 15*10*1/2 = 150 + 25 + 75 = 250; both orders 500;
    # G = 500 / (2 * 40^2 * 0.234375) = 500 / 750
    assert values["gini"] == pytest.approx(2 / 3, abs=1e-12)
    # xPx = (10/15)(10/15) + (5/15)(5/10) = 4/9 + 1/6 = 11/18; xPy = 1 - 11/18
    assert values["isolation"] == pytest.approx(11 / 18, abs=1e-12)
    assert values["interaction"] == pytest.approx(7 / 18, abs=1e-12)
    # V = (11/18 - 3/8) / (5/8) = 17/45
    assert values["correlation_ratio"] == pytest.approx(17 / 45, abs=1e-12)
    # A(b=.5) = 1 - (P/(1-P)) (sum sqrt(p(1-p)) t / (P T))^2
    #         = 1 - 0.6 * ((15 sqrt(2/9) + 10 * 0.5) / 15)^2
    assert values["atkinson"] == pytest.approx(1 - 0.6 * ((15 * math.sqrt(2 / 9) + 5) / 15) ** 2, abs=1e-12)
    # H = sum t (E - E_i) / (E T), E = binary entropy of 3/8, E_i of 2/3, 0, 1/2
    def e(p):
        return -(p * math.log(p) + (1 - p) * math.log(1 - p)) if 0 < p < 1 else 0.0
    expected_h = (15 * (e(.375) - e(2 / 3)) + 15 * e(.375) + 10 * (e(.375) - e(.5))) / (e(.375) * 40)
    assert values["entropy"] == pytest.approx(expected_h, abs=1e-12)

    # Multigroup: groups (a, b, c) per unit (10,0,5), (0,10,5), (5,5,0); P = (3/8, 3/8, 1/4),
    # I = sum P(1-P) = 0.65625; sum_i t_i sum_k |p_ik - P_k| = 15*0.75 + 15*0.75 + 10*0.5 = 27.5
    multi = _multi([[10, 0, 5], [0, 10, 5], [5, 5, 0]])
    assert multi["multi_dissimilarity"] == pytest.approx(27.5 / (2 * 40 * 0.65625), abs=1e-12)
    # Normalised exposure: sum_i t_i sum_k (p_ik - P_k)^2 / (1 - P_k) / T
    p = np.array([[2 / 3, 0, 1 / 3], [0, 2 / 3, 1 / 3], [.5, .5, 0]])
    big_p = np.array([.375, .375, .25])
    t = np.array([15, 15, 10])
    expected_ne = (t[:, None] * (p - big_p) ** 2 / (1 - big_p)).sum() / 40
    assert multi["multi_normalized_exposure"] == pytest.approx(expected_ne, abs=1e-12)


def test_zero_total_units_change_nothing():
    base = _two([10, 0, 5], [15, 15, 10])
    padded = _two([0, 10, 0, 0, 5], [0, 15, 15, 0, 10])
    for name in base:
        assert padded[name] == pytest.approx(base[name], abs=1e-14)


def test_vectorised_functions_equal_per_slice_calls():
    rng = np.random.default_rng(7)
    total = rng.integers(0, 30, size=(4, 25))
    group = rng.binomial(total, 0.3)
    cube = rng.integers(0, 20, size=(4, 25, 3))
    for fn in (two_group.dissimilarity, two_group.gini, two_group.entropy, two_group.atkinson):
        together = fn(group, total)
        assert together.shape == (4,)
        for s in range(4):
            assert together[s] == pytest.approx(float(fn(group[s], total[s])), abs=1e-15)
    together = multigroup.multi_gini(cube)
    for s in range(4):
        assert together[s] == pytest.approx(float(multigroup.multi_gini(cube[s])), abs=1e-15)


def test_gini_by_sorting_equals_the_double_sum():
    rng = np.random.default_rng(11)
    total = rng.integers(0, 50, 40).astype(float)
    group = rng.binomial(total.astype(int), 0.4).astype(float)
    p = np.divide(group, total, out=np.zeros_like(total), where=total > 0)
    big_p = group.sum() / total.sum()
    double_sum = (np.outer(total, total) * np.abs(p[:, None] - p[None, :])).sum()
    expected = double_sum / (2 * total.sum() ** 2 * big_p * (1 - big_p))
    assert float(two_group.gini(group, total)) == pytest.approx(expected, abs=1e-13)


def test_undefined_indices_raise_for_one_dataset():
    with pytest.raises(IndexUndefinedError, match="dissimilarity"):
        two_group_indices(np.array([0, 0]), np.array([5, 7]))
    with pytest.raises(IndexUndefinedError):
        multigroup_indices(np.array([[3, 0], [4, 0]]))  # one group present


def _flows() -> pl.DataFrame:
    rows = []
    for year in (2020, 2021):
        for population, units in (("stock", [(10, 15), (0, 15), (5, 10)]), ("in", [(0, 4), (0, 6)])):
            for i, (x, t) in enumerate(units):
                rows.append({"year": year, "population": population, "area": f"a{i}", "x": x, "t": t})
    return pl.DataFrame(rows)


def test_table_rows_per_slice_and_nulls_where_undefined():
    table = segregation_table(_flows(), unit="area", groups=["x"], total="t", by=["year", "population"])
    assert table.columns == ["year", "population", "index", "value"]
    assert table.height == 4 * 7
    stock = table.filter(pl.col("population") == "stock", pl.col("index") == "dissimilarity")
    assert stock["value"].to_list() == pytest.approx([0.6, 0.6])
    # no in-mover of the group: every two-group index undefined -> null
    assert table.filter(pl.col("population") == "in")["value"].null_count() == 2 * 7
    with pytest.raises(IndexUndefinedError, match="population=in"):
        segregation_table(_flows(), unit="area", groups=["x"], total="t", by=["year", "population"],
                          undefined="error")


def test_table_selects_indices_and_checks_names():
    table = segregation_table(_flows(), unit="area", groups=["x"], total="t", indices=["gini"],
                              by=["year", "population"])
    assert set(table["index"]) == {"gini"}
    with pytest.raises(SegregationSpecError, match="unknown"):
        segregation_table(_flows(), unit="area", groups=["x"], total="t", indices=["theil"])


@pytest.mark.parametrize(
    ("change", "message", "row", "column"),
    [
        ({"x": [10, -1, 5]}, "negative", 2, "x"),
        ({"x": [10.0, 0.5, 5.0], "t": [15.0, 15.0, 10.0]}, "whole number", 2, "x"),
        ({"x": [10, 0, 11]}, "exceeds", 3, "x"),
        ({"x": [10, None, 5]}, "missing", 2, "x"),
        ({"area": ["a", "b", "a"]}, "more than once", 3, "area"),
    ],
)
def test_table_errors_name_row_and_column(change, message, row, column):
    frame = pl.DataFrame({"area": ["a", "b", "c"], "x": [10, 0, 5], "t": [15, 15, 10]})
    frame = frame.with_columns([pl.Series(k, v) for k, v in change.items()])
    with pytest.raises(DataValidationError, match=message) as info:
        segregation_table(frame, unit="area", groups=["x"], total="t", source="flows.parquet")
    assert (info.value.row, info.value.column, info.value.path) == (row, column, "flows.parquet")


def test_table_spec_errors():
    frame = pl.DataFrame({"area": ["a"], "x": [1], "y": [2], "t": [3]})
    with pytest.raises(SegregationSpecError, match="needs a total"):
        segregation_table(frame, unit="area", groups=["x"])
    with pytest.raises(DataValidationError, match="not found"):
        segregation_table(frame, unit="area", groups=["x", "z"])
    with pytest.raises(DataValidationError, match="add up to") as info:
        segregation_table(frame.with_columns(t=pl.lit(4)), unit="area", groups=["x", "y"], total="t")
    assert (info.value.row, info.value.column) == (1, "t")


def test_empty_table_gives_no_rows():
    frame = pl.DataFrame({"year": [], "area": [], "x": [], "t": []},
                         schema={"year": pl.Int64, "area": pl.String, "x": pl.Int64, "t": pl.Int64})
    assert segregation_table(frame, unit="area", groups=["x"], total="t", by=["year"]).height == 0


def test_table_accepts_any_integer_or_whole_float_dtype_and_rejects_text():
    base = pl.DataFrame({"area": ["a", "b", "c"], "x": [10, 0, 5], "t": [15, 15, 10]})
    expected = segregation_table(base, unit="area", groups=["x"], total="t")["value"].to_list()
    for dtype in (pl.UInt16, pl.Int32, pl.Float64):
        cast = base.with_columns(pl.col("x", "t").cast(dtype))
        got = segregation_table(cast, unit="area", groups=["x"], total="t")["value"].to_list()
        assert got == expected
    with pytest.raises(DataValidationError, match="must be numbers") as info:
        segregation_table(base.with_columns(pl.col("t").cast(pl.String)), unit="area", groups=["x"],
                          total="t")
    assert info.value.column == "t"


def _persons() -> pl.DataFrame:
    return pl.DataFrame({
        "year": [2020] * 6 + [2021] * 3,
        "area": ["a", "a", "b", "b", "b", "c", "a", "b", "b"],
        "origin": ["dansk", "indvandrer", "dansk", "dansk", "efterkommer", "dansk", "dansk", "indvandrer",
                   "dansk"],
    })


def test_wide_counts_counts_persons_per_unit_and_group():
    from boligmix.mix.segregation import wide_counts

    wide = wide_counts(_persons(), unit="area", category="origin", by=["year"],
                       categories=["dansk", "indvandrer", "efterkommer"])
    assert wide.columns == ["year", "area", "dansk", "indvandrer", "efterkommer", "total"]
    assert wide.rows() == [(2020, "a", 1, 1, 0, 2), (2020, "b", 2, 0, 1, 3), (2020, "c", 1, 0, 0, 1),
                           (2021, "a", 1, 0, 0, 1), (2021, "b", 1, 1, 0, 2)]
    weighted = wide_counts(_persons().with_columns(n=pl.lit(3)), unit="area", category="origin",
                           by=["year"], count="n")
    assert weighted.columns[2:] == ["dansk", "efterkommer", "indvandrer", "total"]  # sorted by default
    assert weighted["total"].sum() == 27


def test_wide_counts_errors():
    from boligmix.mix.segregation import wide_counts

    with pytest.raises(DataValidationError, match="'efterkommer' is not one of") as info:
        wide_counts(_persons(), unit="area", category="origin", categories=["dansk", "indvandrer"],
                    by=["year"])
    assert (info.value.row, info.value.column) == (5, "origin")
    with pytest.raises(DataValidationError, match="missing") as info:
        no_area = pl.when(pl.col("area") == "c").then(None).otherwise(pl.col("area")).alias("area")
        wide_counts(_persons().with_columns(no_area), unit="area", category="origin")
    assert (info.value.row, info.value.column) == (6, "area")
