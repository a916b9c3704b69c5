"""Hypothesis invariants of the estimators: fixed effects absorb unit and year shifts, scale equivariance,
survey weights only matter relative to each other."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from boligmix.evaluate.did import DidOptions, estimate
from boligmix.evaluate.panel_input import PanelColumns, check_panel
from boligmix.evaluate.survey import SurveyIndex, check_responses, index_table, respondent_scores, synthetic_survey
from boligmix.evaluate.synthetic import staggered_panel

COLS = PanelColumns("unit_id", "year", "outcome", "treated_from")
FAST = settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(seed=st.integers(0, 10_000), scale=st.floats(0.1, 50), shift=st.floats(-100, 100),
       estimator=st.sampled_from(["twfe", "event", "sunab", "did2s"]))
def test_unit_and_year_shifts_are_absorbed_and_scale_carries_through(seed, scale, shift, estimator):
    frame = staggered_panel(np.random.default_rng(seed), n_units=24, years=(2010, 2019), cohorts=(2013, 2016),
                            drop_share=0.1)
    rng = np.random.default_rng(seed + 1)
    unit_shift = {u: rng.normal(0, 30) for u in frame["unit_id"].unique()}
    moved = frame.with_columns(
        (pl.col("outcome") * scale + shift + pl.col("unit_id").replace_strict(unit_shift, return_dtype=pl.Float64)
         + (pl.col("year") - 2010) ** 2 * 0.7).alias("outcome"))
    a = estimate(check_panel(frame, COLS), DidOptions(estimator)).estimates
    b = estimate(check_panel(moved, COLS), DidOptions(estimator)).estimates
    assert a["term"].tolist() == b["term"].tolist()
    assert b["estimate"].to_numpy() == pytest.approx(scale * a["estimate"].to_numpy(), rel=1e-6, abs=1e-6 * scale)
    assert b["std_error"].to_numpy() == pytest.approx(scale * a["std_error"].to_numpy(), rel=1e-6)


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 1000), factor=st.floats(0.01, 100))
def test_survey_index_depends_only_on_relative_weights(seed, factor):
    index = SurveyIndex.load()
    frame = synthetic_survey(np.random.default_rng(seed), index, areas=["A"], years=[2020], respondents=25)
    scaled = frame.with_columns(pl.col("weight") * factor)
    a = index_table(respondent_scores(check_responses(frame.cast(pl.String), index), index))
    b = index_table(respondent_scores(check_responses(scaled.cast(pl.String), index), index))
    assert b["mean"].to_numpy() == pytest.approx(a["mean"].to_numpy(), rel=1e-9)
    assert b["std_error"].to_numpy() == pytest.approx(a["std_error"].to_numpy(), rel=1e-6)
