"""The behaviour terms of `simulate/behaviour.py`: the move hazard by origin and the area conviction
effect, against hand-computed shrunk estimates; and the estimates read from a generated history."""

from __future__ import annotations

import numpy as np
import polars as pl
from synth_data import small_dataset_dir

from boligmix.simulate.behaviour import (
    MOVE_CELL_COLUMNS,
    Behaviour,
    area_conviction_effects,
    conviction_effect,
    estimate_move_origin,
    move_probability,
)
from boligmix.simulate.rates import PRIOR_WEIGHT, logit, with_area_effect


def _cells(rows):
    return pl.DataFrame(rows, schema=list(MOVE_CELL_COLUMNS), orient="row")


def test_move_hazard_by_origin_is_shrunk_towards_the_rate_times_the_origin_ratio_by_hand():
    # one tenure, one age band, one size band; area band 0 (no area) and 1 (an area)
    move = np.array([0.2, 0.1]).reshape(1, 1, 1, 2)
    rows = ([(0, 0, 0, 1, 1, True)] * 5 + [(0, 0, 0, 1, 1, False)] * 95      # in an area: 100 non-Western, 5 moved
            + [(0, 0, 0, 1, 0, True)] * 30 + [(0, 0, 0, 1, 0, False)] * 70    # 100 others, 30 moved
            + [(0, 0, 0, 0, 0, True)] * 4 + [(0, 0, 0, 0, 0, False)] * 6)     # no area: 10 others, 4 moved
    got = estimate_move_origin(_cells(rows), move, PRIOR_WEIGHT)
    assert got.shape == (1, 1, 1, 2, 2)
    w = PRIOR_WEIGHT
    # in an area: expected moves 100 * 0.1 per origin; ratio (observed + w) / (expected + w)
    ratio_nw, ratio_other = (5 + w) / (10 + w), (30 + w) / (10 + w)
    assert np.isclose(got[0, 0, 0, 1, 1], (5 + w * 0.1 * ratio_nw) / (100 + w))
    assert np.isclose(got[0, 0, 0, 1, 0], (30 + w * 0.1 * ratio_other) / (100 + w))
    # no area: others observed 4 of 10 against 2 expected; non-Western: no evidence, the rate itself
    assert np.isclose(got[0, 0, 0, 0, 0], (4 + w * 0.2 * (4 + w) / (2 + w)) / (10 + w))
    assert np.isclose(got[0, 0, 0, 0, 1], 0.2)
    assert got[0, 0, 0, 1, 1] < got[0, 0, 0, 1, 0]
    # the simulation reads the origin's rate; without the term, the rate without origin
    behaviour = Behaviour(move_origin=got)
    zero = np.zeros(2, dtype=np.int64)
    p = move_probability(behaviour, move, zero, zero, zero, np.array([1, 1]), np.array([True, False]))
    assert np.allclose(p, [got[0, 0, 0, 1, 1], got[0, 0, 0, 1, 0]])
    assert np.allclose(move_probability(None, move, zero, zero, zero, np.array([1, 0]), np.array([True, False])),
                       [0.1, 0.2])


def test_area_conviction_effect_is_shrunk_towards_the_rates_by_hand():
    # area A: 200 residents in a cell with rate 0.02, 10 convicted -> target (10 + 20 * 0.02) / 220
    # area B: 50 residents in a cell with rate 0.05, none convicted -> target (20 * 0.05) / 70
    conviction = np.zeros((1, 1, 1, 2)); conviction[0, 0, 0, 0] = 0.02; conviction[0, 0, 0, 1] = 0.05
    cells = pl.DataFrame({"area_id": ["A"] * 200 + ["B"] * 50, "band": [0] * 250, "female": [0] * 250,
                          "convicted_before": [0] * 250, "area_band": [0] * 200 + [1] * 50,
                          "convicted": [True] * 10 + [False] * 190 + [False] * 50})
    effects = area_conviction_effects(cells, conviction, PRIOR_WEIGHT)
    want_a, want_b = (10 + 20 * 0.02) / 220, (20 * 0.05) / 70
    assert np.isclose(effects["A"], logit(want_a) - logit(0.02))
    assert np.isclose(effects["B"], logit(want_b) - logit(0.05))
    # per resident: the own area's effect from age 15, none outside the areas or below 15
    effect = conviction_effect(effects, ["A", "B"], np.array([0, 1, -1, 0]), np.array([30, 15, 40, 14]))
    assert np.allclose(effect, [effects["A"], effects["B"], 0.0, 0.0])
    assert np.allclose(with_area_effect(np.array([0.02, 0.05]), effect[:2]), [want_a, want_b])


def test_estimates_from_a_generated_history_show_the_origin_gap_and_are_written(tmp_path):
    from boligmix.simulate.rates import estimate_rates

    rates = estimate_rates(small_dataset_dir(), 2012)
    b = rates.behaviour
    assert b is not None and b.move_origin is not None
    assert b.move_origin.shape == (*rates.move.shape, 2)
    assert ((b.move_origin >= 0) & (b.move_origin <= 1)).all()
    # the generator's non-Western households in areas move less often (`synth.demography.move_rate`)
    from boligmix.data.schema import TENURES

    almen_area = b.move_origin[TENURES.index("almen"), :, :, 1:, :]
    assert almen_area[..., 1].mean() < almen_area[..., 0].mean()
    assert b.area_conviction_effect and all(np.isfinite(v) for v in b.area_conviction_effect.values())
    rates.write(tmp_path)
    written = pl.read_csv(tmp_path / "move_origin.csv")
    assert written.height == b.move_origin.size
    assert set(pl.read_csv(tmp_path / "area_conviction_effect.csv")["area_id"]) == set(b.area_conviction_effect)
