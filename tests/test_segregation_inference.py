"""Permutation inference and the Theil decomposition on small hand-checkable data."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from boligmix.mix.segregation import (
    IndexUndefinedError,
    SegregationSpecError,
    permutation_test,
    theil_decomposition,
)


def _random_allocation(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    total = rng.integers(10, 40, 60)
    return rng.binomial(total, 0.3), total


def test_same_seed_same_result_and_other_seed_differs():
    group, total = _random_allocation(np.random.default_rng(1))
    def run(seed: int):
        return permutation_test("dissimilarity", group, total=total, rng=np.random.default_rng(seed),
                                n_permutations=99)

    first, again, other = run(42), run(42), run(43)
    np.testing.assert_array_equal(first.null_distribution, again.null_distribution)
    assert first.p_value == again.p_value
    assert not np.array_equal(first.null_distribution, other.null_distribution)


def test_full_segregation_is_significant_and_random_allocation_is_not():
    rng = np.random.default_rng(3)
    group, total = _random_allocation(rng)
    random_case = permutation_test("dissimilarity", group, total=total, rng=rng, n_permutations=199)
    assert random_case.p_value > 0.05
    # the small-unit bias: random allocation already gives D well above 0
    assert random_case.null_mean > 0.05
    segregated = np.where(np.arange(60) < 20, total, 0)
    result = permutation_test("dissimilarity", segregated, total=total, rng=rng, n_permutations=199)
    assert result.statistic == pytest.approx(1.0)
    assert result.p_value == pytest.approx(1 / 200)
    assert result.n_permutations == 199


def test_null_keeps_unit_sizes_and_group_totals():
    counts = np.array([[5, 0, 1], [0, 7, 2], [3, 3, 3]])
    result = permutation_test("multi_dissimilarity", counts, rng=np.random.default_rng(0), n_permutations=50,
                              batch_size=7)
    assert result.null_distribution.shape == (50,)
    assert np.all((result.null_distribution >= 0) & (result.null_distribution <= 1))
    less = permutation_test("multi_dissimilarity", counts, rng=np.random.default_rng(0), n_permutations=50,
                            alternative="less")
    assert less.p_value == pytest.approx(
        (1 + np.count_nonzero(less.null_distribution <= less.statistic)) / 51)


def test_permutation_errors():
    with pytest.raises(SegregationSpecError, match="Generator"):
        permutation_test("gini", np.array([1, 2]), total=np.array([3, 3]),
                         rng=np.random.default_rng(0).random)
    with pytest.raises(SegregationSpecError, match="unknown index"):
        permutation_test("theil", np.array([[1, 2]]), rng=np.random.default_rng(0))
    with pytest.raises(SegregationSpecError, match="total"):
        permutation_test("gini", np.array([1, 2]), rng=np.random.default_rng(0))
    with pytest.raises(IndexUndefinedError):
        permutation_test("gini", np.array([0, 0]), total=np.array([3, 3]), rng=np.random.default_rng(0))


def test_theil_decomposition_hand_example():
    # Two municipalities, each with two areas. Groups (a, b).
    # K1: areas (10, 0) and (0, 10) -> fully segregated inside, composition 50/50.
    # K2: areas (5, 5) and (5, 5)   -> no segregation inside, composition 50/50.
    # Both municipalities have the overall composition, so H_between = 0, and
    # H = within = w_K1 * 1 + w_K2 * 0 with w_K1 = T_K1 E_K1 / (T E) = 20 ln2 / (40 ln2) = 1/2.
    frame = pl.DataFrame({"area": [1, 2, 3, 4], "kommune": ["K1", "K1", "K2", "K2"],
                          "a": [10, 0, 5, 5], "b": [0, 10, 5, 5]})
    result = theil_decomposition(frame, unit="area", region="kommune", groups=["a", "b"])
    total, between, within = result.summary.row(0)
    assert (total, between, within) == pytest.approx((0.5, 0.0, 0.5), abs=1e-15)
    regions = result.regions.sort("kommune")
    assert regions["weight"].to_list() == pytest.approx([0.5, 0.5])
    assert regions["h"].to_list() == pytest.approx([1.0, 0.0], abs=1e-15)
    assert regions["population"].to_list() == [20, 20]


def test_theil_decomposition_region_with_one_group_contributes_nothing():
    frame = pl.DataFrame({"year": [1, 1, 1, 1], "area": [1, 2, 3, 4], "kommune": ["K1", "K1", "K2", "K2"],
                          "a": [10, 4, 0, 0], "b": [0, 6, 3, 9]})
    result = theil_decomposition(frame, unit="area", region="kommune", groups=["a", "b"], by=["year"])
    k2 = result.regions.filter(pl.col("kommune") == "K2")
    assert k2["h"].to_list() == [None]
    assert k2["contribution"].to_list() == [0.0]
    _, total, between, within = result.summary.row(0)
    assert total == pytest.approx(between + within, abs=1e-15)


def test_random_allocations_keep_margins_and_match_shuffling_persons():
    from boligmix.mix.segregation import random_allocations
    from boligmix.mix.segregation.multigroup import multi_dissimilarity

    counts = np.array([[5, 0, 1], [0, 7, 2], [3, 3, 3], [0, 0, 0], [1, 1, 9]])
    draws = random_allocations(counts, 4000, np.random.default_rng(8))
    np.testing.assert_array_equal(draws.sum(axis=2), np.broadcast_to(counts.sum(axis=1), (4000, 5)))
    np.testing.assert_array_equal(draws.sum(axis=1), np.broadcast_to(counts.sum(axis=0), (4000, 3)))
    assert draws.min() >= 0
    # E[c_ik] = t_i G_k / N for a random allocation
    expected = np.outer(counts.sum(axis=1), counts.sum(axis=0)) / counts.sum()
    np.testing.assert_allclose(draws.mean(axis=0), expected, atol=0.1)
    # the same null distribution as shuffling the persons' labels directly
    rng = np.random.default_rng(9)
    labels = np.repeat(np.arange(3), counts.sum(axis=0))
    unit_of_person = np.repeat(np.arange(5), counts.sum(axis=1))
    shuffled = np.stack([np.bincount(unit_of_person * 3 + rng.permutation(labels), minlength=15).reshape(5, 3)
                         for _ in range(4000)])
    d_alloc, d_shuffle = multi_dissimilarity(draws), multi_dissimilarity(shuffled)
    assert d_alloc.mean() == pytest.approx(d_shuffle.mean(), abs=0.01)
    assert np.quantile(d_alloc, 0.9) == pytest.approx(np.quantile(d_shuffle, 0.9), abs=0.03)


def test_permutation_table_per_slice():
    from boligmix.mix.segregation import permutation_table, segregation_table

    rng = np.random.default_rng(4)
    rows = []
    for year in (2020, 2021):
        for population in ("stock", "in"):
            total = rng.integers(5, 30, 25)
            segregated = np.where(np.arange(25) < 8, total, 0)
            group = segregated if population == "stock" else rng.binomial(total, 0.3)
            if (year, population) == (2021, "in"):
                group = np.zeros(25, dtype=np.int64)  # no in-movers of the group: undefined
            rows.append(pl.DataFrame({"year": year, "population": population, "unit": np.arange(25),
                                      "x": group, "t": total}))
    counts = pl.concat(rows)
    kwargs = dict(unit="unit", groups=["x"], total="t", by=["year", "population"], n_permutations=99,
                  indices=["dissimilarity", "isolation"])
    table = permutation_table(counts, rng=np.random.default_rng(1), **kwargs)
    again = permutation_table(counts, rng=np.random.default_rng(1), **kwargs)
    assert table.equals(again)
    assert table.columns == ["year", "population", "index", "value", "null_mean", "p_value"]
    plain = segregation_table(counts, unit="unit", groups=["x"], total="t", by=["year", "population"],
                              indices=["dissimilarity", "isolation"])
    assert table["value"].to_list() == plain["value"].to_list()
    stock_d = table.filter(pl.col("population") == "stock", pl.col("index") == "dissimilarity")
    assert stock_d["p_value"].to_list() == pytest.approx([0.01, 0.01])  # fully segregated: 1 / (99 + 1)
    undefined = table.filter(pl.col("year") == 2021, pl.col("population") == "in")
    assert undefined["p_value"].null_count() == 2
