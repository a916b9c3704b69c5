"""Hypothesis properties of the segregation indices."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from boligmix.errors import DataValidationError
from boligmix.mix.segregation import multigroup, segregation_table, theil_decomposition, two_group
from boligmix.mix.segregation.registry import MULTIGROUP_INDICES, TWO_GROUP_INDICES

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
EPS = 1e-12


@st.composite
def unit_counts(draw, min_groups: int = 2, max_groups: int = 4) -> np.ndarray:
    """A units x groups count array with at least two groups present."""
    n_groups = draw(st.integers(min_groups, max_groups))
    n_units = draw(st.integers(2, 25))
    counts = draw(arrays(np.int64, (n_units, n_groups), elements=st.integers(0, 60)))
    assume(np.count_nonzero(counts.sum(axis=0)) >= 2)
    return counts


def _two_group_values(counts: np.ndarray) -> dict[str, float]:
    group, total = counts[:, 0], counts.sum(axis=1)
    assume(0 < group.sum() < total.sum())
    return {name: float(spec.function(group, total)) for name, spec in TWO_GROUP_INDICES.items()}


def _multi_values(counts: np.ndarray) -> dict[str, float]:
    return {name: float(spec.function(counts)) for name, spec in MULTIGROUP_INDICES.items()}


@SETTINGS
@given(unit_counts())
def test_indices_lie_in_their_ranges(counts):
    values = _two_group_values(counts)
    share = counts[:, 0].sum() / counts.sum()
    for name, value in values.items():
        assert -EPS <= value <= 1 + EPS, name
    assert values["isolation"] >= share - EPS
    assert values["isolation"] + values["interaction"] == pytest.approx(1.0, abs=EPS)
    assert values["dissimilarity"] <= values["gini"] + EPS  # D <= G always
    for name, value in _multi_values(counts).items():
        assert -EPS <= value <= 1 + EPS, name


@SETTINGS
@given(unit_counts(), st.randoms(use_true_random=False))
def test_unit_order_does_not_matter(counts, random):
    order = list(range(len(counts)))
    random.shuffle(order)
    before, after = _two_group_values(counts), _two_group_values(counts[order])
    for name in before:
        assert after[name] == pytest.approx(before[name], abs=EPS), name
    before, after = _multi_values(counts), _multi_values(counts[order])
    for name in before:
        assert after[name] == pytest.approx(before[name], abs=EPS), name


@SETTINGS
@given(arrays(np.int64, st.integers(2, 4), elements=st.integers(1, 20)),
       arrays(np.int64, st.integers(2, 20), elements=st.integers(0, 9)))
def test_same_composition_everywhere_means_no_segregation(composition, multipliers):
    assume(multipliers.sum() > 0)
    counts = multipliers[:, None] * composition[None, :]
    values = _two_group_values(counts)
    for name in ("dissimilarity", "gini", "entropy", "atkinson", "correlation_ratio"):
        assert values[name] == pytest.approx(0.0, abs=1e-9), name
    assert values["isolation"] == pytest.approx(composition[0] / composition.sum(), abs=EPS)
    for name, value in _multi_values(counts).items():
        assert value == pytest.approx(0.0, abs=1e-9), name


@SETTINGS
@given(unit_counts(), st.integers(2, 1000))
def test_scaling_all_counts_leaves_every_index_unchanged(counts, k):
    # Every index here depends on counts only through unit shares p_i and weights t_i / T.
    before, after = _two_group_values(counts), _two_group_values(counts * k)
    for name in before:
        assert after[name] == pytest.approx(before[name], abs=1e-10), name
    before, after = _multi_values(counts), _multi_values(counts * k)
    for name in before:
        assert after[name] == pytest.approx(before[name], abs=1e-10), name


@SETTINGS
@given(unit_counts(min_groups=2, max_groups=2))
def test_multigroup_indices_reduce_to_two_group_ones(counts):
    two = _two_group_values(counts)
    multi = _multi_values(counts)
    assert multi["multi_dissimilarity"] == pytest.approx(two["dissimilarity"], abs=1e-10)
    assert multi["multi_gini"] == pytest.approx(two["gini"], abs=1e-10)
    assert multi["multi_information_theory"] == pytest.approx(two["entropy"], abs=1e-10)
    assert multi["multi_normalized_exposure"] == pytest.approx(two["correlation_ratio"], abs=1e-10)


@settings(max_examples=25, deadline=None)
@given(st.lists(unit_counts(min_groups=3, max_groups=3), min_size=1, max_size=4))
def test_table_equals_one_slice_at_a_time(slices):
    frames = [
        pl.DataFrame({"year": [2000 + s] * len(c), "unit": list(range(len(c))),
                      "a": c[:, 0], "b": c[:, 1], "c": c[:, 2]})
        for s, c in enumerate(slices)
    ]
    table = segregation_table(pl.concat(frames), unit="unit", groups=["a", "b", "c"], by=["year"])
    for s, counts in enumerate(slices):
        got = table.filter(pl.col("year") == 2000 + s)
        expected = _multi_values(counts)
        assert got["index"].to_list() == list(expected)
        assert got["value"].to_list() == pytest.approx(list(expected.values()), abs=1e-13)


@settings(max_examples=40, deadline=None)
@given(unit_counts(min_groups=2, max_groups=4), st.integers(1, 5), st.randoms(use_true_random=False))
def test_theil_decomposition_adds_up(counts, n_regions, random):
    regions = [random.randrange(n_regions) for _ in range(len(counts))]
    frame = pl.DataFrame({"unit": range(len(counts)), "region": regions}).with_columns(
        [pl.Series(f"g{k}", counts[:, k]) for k in range(counts.shape[1])])
    groups = [f"g{k}" for k in range(counts.shape[1])]
    result = theil_decomposition(frame, unit="unit", region="region", groups=groups)
    total, between, within = result.summary.row(0)
    assert total == pytest.approx(float(multigroup.multi_information_theory(counts)), abs=1e-12)
    by_region = frame.group_by("region").agg(pl.col(groups).sum()).select(groups).to_numpy()
    assert between == pytest.approx(float(multigroup.multi_information_theory(by_region)), abs=1e-12)
    assert total == pytest.approx(between + within, abs=1e-12)
    assert within == pytest.approx(result.regions["contribution"].sum(), abs=1e-12)
    assert -1e-12 <= between <= total + 1e-12  # 1 - ratio may round an ulp below 0


@SETTINGS
@given(unit_counts(min_groups=2, max_groups=2))
def test_two_group_functions_reject_group_above_total(counts):
    group, total = counts[:, 0] + 1, counts[:, 0]
    with pytest.raises(DataValidationError, match="exceeds"):
        two_group.dissimilarity(group, total)
    with pytest.raises(DataValidationError, match="non-negative"):
        multigroup.multi_gini(-counts - 1)
