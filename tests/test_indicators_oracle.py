"""The polars implementation against the plain pandas oracle on a random dataset with many units."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from boligmix.indicators import compute_area_indicators, settings_for_list_year
from indicators_support import random_dataset
from indicators_support.pandas_oracle import UNIT, PandasIndicators

COMPARED_FLOAT = ["pct_non_western", "pct_outside_work_edu", "pct_convicted", "conviction_ratio",
                  "pct_basic_education", "income_pct_of_region", "n_18_64", "fte_outside_18_64", "n_18plus",
                  "n_convicted_18plus", "national_conviction_pct", "mean_income", "region_mean_income"]
COMPARED_INT = ["year", "residents", "n_non_western", "n_30_59", "n_basic_30_59", "n_income_group"]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return random_dataset.write(tmp_path_factory.mktemp("rand") / "ds", 12_000, seed=20241201, years=(2020, 2023))


@pytest.fixture(scope="module")
def oracles(dataset):
    return {level: PandasIndicators(dataset, level) for level in UNIT}


def assert_same(result: pl.DataFrame, expected, id_column: str) -> None:
    expected = pl.from_pandas(expected)
    assert result.get_column(id_column).to_list() == expected.get_column(id_column).to_list()
    for col in COMPARED_INT:
        assert result.get_column(col).to_list() == expected.get_column(col).cast(pl.Int64).to_list(), col
    for col in COMPARED_FLOAT:
        got = result.get_column(col).to_numpy().astype(float)
        want = expected.get_column(col).to_numpy().astype(float)
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9, equal_nan=True, err_msg=col)


@pytest.mark.parametrize("level", list(UNIT))
@pytest.mark.parametrize("rules_year", [2011, 2015, 2019, 2024])
def test_matches_pandas_oracle(dataset, oracles, level, rules_year):
    settings = settings_for_list_year(rules_year).model_copy(update={"country_nomenclature": "dst-2019"})
    result = compute_area_indicators(dataset, [2024], settings, level=level)
    assert result.height > (50 if level != "municipality" else 3)
    assert_same(result, oracles[level].compute(2024, settings), UNIT[level])


OUTSIDE_SETS = (("kontanthjaelp", "foertidspension"),
                ("dagpenge", "foertidspension", "kontanthjaelp", "ledighedsydelse", "other", "sygedagpenge"))
"""Two attachment sets (the statutory core, and every kind): each of the 16 combinations of the four
two-valued switches runs with one of them, alternating, so both meet every switch value."""


@pytest.mark.parametrize("k", range(16))
def test_switches_match_pandas_oracle(dataset, oracles, k):
    window_population = ("end_of_year", "start_of_year")[k & 1]
    window_average = ("mean_of_shares", "pooled")[(k >> 1) & 1]
    unregistered = ("basic", "exclude")[(k >> 2) & 1]
    cap = bool((k >> 3) & 1)
    outside = OUTSIDE_SETS[(k ^ (k >> 1) ^ (k >> 2) ^ (k >> 3)) & 1]
    settings = settings_for_list_year(2024).model_copy(update={
        "country_nomenclature": "dst-2019", "window_population": window_population,
        "window_average": window_average, "unregistered_education": unregistered, "cap_fte_at_one": cap,
        "outside_attachments": tuple(sorted(outside))})
    result = compute_area_indicators(dataset, [2024], settings)
    assert_same(result, oracles["area"].compute(2024, settings), "area_id")


@hsettings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(outside=st.sets(st.sampled_from(["kontanthjaelp", "foertidspension", "dagpenge", "ledighedsydelse",
                                        "sygedagpenge", "other"]), min_size=1))
def test_any_attachment_set_matches_pandas_oracle(dataset, oracles, outside):
    settings = settings_for_list_year(2024).model_copy(update={
        "country_nomenclature": "dst-2019", "outside_attachments": tuple(sorted(outside))})
    result = compute_area_indicators(dataset, [2024], settings)
    assert_same(result, oracles["area"].compute(2024, settings), "area_id")


def test_invariants(dataset):
    frame = compute_area_indicators(dataset, [2024])
    for col in ("pct_non_western", "pct_outside_work_edu", "pct_convicted", "pct_basic_education"):
        values = frame.get_column(col).drop_nulls()
        assert ((values >= 0) & (values <= 100)).all(), col
    assert (frame.get_column("n_non_western") <= frame.get_column("residents")).all()
    assert (frame.get_column("n_basic_30_59") <= frame.get_column("n_30_59")).all()
    # Area residents add up to the residents of dwellings with an area_id.
    muni = compute_area_indicators(dataset, [2024], level="municipality")
    assert muni.get_column("residents").sum() >= frame.get_column("residents").sum()


@pytest.mark.parametrize("level", ["area", "department"])
def test_matches_pandas_oracle_on_small_synthetic(level):
    from synth_data import small_dataset_dir

    dataset = small_dataset_dir()
    oracle = PandasIndicators(dataset, level)
    for list_year in (2011, 2015, 2019, 2025):
        settings = settings_for_list_year(list_year).model_copy(update={"country_nomenclature": "dst-2019"})
        result = compute_area_indicators(dataset, [list_year], settings, level=level)
        assert result.height >= 5
        assert_same(result, oracle.compute(list_year, settings), UNIT[level])


@pytest.mark.parametrize("order", ["sorted", "shuffled"])
def test_row_order_of_the_tables_does_not_matter(tmp_path, order):
    # The implementation takes merge-join fast paths when keys happen to be sorted on disk and
    # sorts otherwise; both paths must give the same numbers.
    from boligmix.data.io import Manifest, write_dataset

    tables = random_dataset.build(3_000, np.random.default_rng(5), years=(2022, 2023))
    manifest = Manifest(vintage="order-test", source="synthetic", seed=5, years=(2022, 2023))
    base = write_dataset(tmp_path / "base", tables, manifest)
    keys = {"persons": "person_id", "person_years": "person_id", "labour": "person_id", "residences": "person_id",
            "dwellings": "dwelling_id", "convictions": "person_id"}
    rng = np.random.default_rng(11)
    reordered = {name: (frame.sort(keys[name]) if order == "sorted"
                        else frame[rng.permutation(frame.height)]) if name in keys else frame
                 for name, frame in tables.items()}
    other = write_dataset(tmp_path / order, reordered, manifest)
    for level in UNIT:
        want = compute_area_indicators(base, [2024], level=level)
        got = compute_area_indicators(other, [2024], level=level)
        assert_frame_equal(got, want, rel_tol=1e-12, abs_tol=1e-12)
