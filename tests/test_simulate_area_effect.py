"""The area effect on the outside rate (`rates.area_outside_effects`): offsets against a brute-force
root finder and a hand-computed shrunk case."""

from __future__ import annotations

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import brentq

from boligmix.simulate.rates import PRIOR_WEIGHT, area_outside_effects, logit, logit_offsets, with_area_effect


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.floats(0.001, 0.999)), min_size=1, max_size=60),
       st.lists(st.floats(0.01, 0.99), min_size=4, max_size=4))
def test_offsets_equal_a_root_finder_per_group(members, targets):
    group = np.array([g for g, _ in members]); p = np.array([q for _, q in members]); target = np.array(targets)
    delta = logit_offsets(p, group, target)
    for g in range(4):
        inside = group == g
        if not inside.any():
            assert delta[g] == 0.0
            continue
        root = brentq(lambda d: _sigmoid(logit(p[inside]) + d).mean() - target[g], -40, 40, xtol=1e-12)
        assert abs(_sigmoid(logit(p[inside]) + delta[g]).mean() - target[g]) < 1e-6
        assert abs(delta[g] - root) < 1e-4 * max(1.0, abs(root))


def test_effect_is_shrunk_towards_the_rates_by_hand():
    # area A: 80 residents in one cell with rate 0.2, 40 of them outside -> target (40 + 20 * 0.2) / 100
    # area B: 10 residents in a cell with rate 0.5, none outside -> target (0 + 20 * 0.5) / 30
    outside_p = np.zeros((1, 1, 2)); outside_p[0, 0, 0] = 0.2; outside_p[0, 0, 1] = 0.5
    cells = pl.DataFrame({"area_id": ["A"] * 80 + ["B"] * 10, "band": [0] * 90, "hist": [0] * 90,
                          "ab": [0] * 80 + [1] * 10, "out": [True] * 40 + [False] * 40 + [False] * 10})
    effects = area_outside_effects(cells, outside_p)
    assert PRIOR_WEIGHT == 20.0
    want_a, want_b = (40 + 20 * 0.2) / 100, (20 * 0.5) / 30
    assert abs(effects["A"] - (np.log(want_a / (1 - want_a)) - np.log(0.2 / 0.8))) < 1e-9
    assert abs(effects["B"] - (np.log(want_b / (1 - want_b)) - 0.0)) < 1e-9
    shifted = with_area_effect(np.array([0.2, 0.5, 0.3]), np.array([effects["A"], effects["B"], 0.0]))
    assert np.allclose(shifted, [want_a, want_b, 0.3])


def test_an_unseen_area_band_takes_the_nearest_seen_bands_rates():
    from boligmix.simulate.rates import nearest_seen_bands

    rates = np.arange(2 * 6, dtype=float).reshape(2, 6)          # (cell, area band 0..5)
    exposure = np.array([5.0, 0.0, 3.0, 0.0, 0.0, 4.0])          # seen: no area, bands 2 and 5
    got = nearest_seen_bands(rates, exposure)
    # band 1 -> 2; band 3 -> 2 (nearer); band 4 -> 5 (nearer); seen bands and "no area" unchanged
    assert np.array_equal(got[:, [0, 1, 2, 3, 4, 5]], rates[:, [0, 2, 2, 2, 5, 5]])
    tie = nearest_seen_bands(rates[:, :5], np.array([1.0, 2.0, 0.0, 2.0, 0.0]))
    assert np.array_equal(tie, rates[:, [0, 1, 3, 3, 3]])        # band 2: tie between 1 and 3 -> the higher
