"""The keyed random streams: a draw depends on its key only."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from boligmix.simulate import rng

ids = st.lists(st.integers(min_value=-(2**62), max_value=2**62), min_size=1, max_size=50, unique=True)


@settings(max_examples=50, deadline=None)
@given(ids=ids, extra=ids, seed=st.integers(0, 2**31), rep=st.integers(0, 1000), year=st.integers(1990, 2100),
       event=st.integers(1, 30))
def test_a_draw_does_not_depend_on_the_other_ids(ids, extra, seed, rep, year, event):
    alone = rng.uniform(seed, rep, np.array(ids), year, event)
    together = rng.uniform(seed, rep, np.array(ids + [e for e in extra if e not in ids]), year, event)
    assert np.array_equal(alone, together[:len(ids)])
    assert ((alone >= 0) & (alone < 1)).all()


def test_keys_separate_streams_and_draws_look_uniform():
    ids = np.arange(200_000, dtype=np.int64)
    base = rng.uniform(1, 0, ids, 2025, rng.MOVE)
    for other in (rng.uniform(2, 0, ids, 2025, rng.MOVE), rng.uniform(1, 1, ids, 2025, rng.MOVE),
                  rng.uniform(1, 0, ids, 2026, rng.MOVE), rng.uniform(1, 0, ids, 2025, rng.DEATH)):
        assert abs(np.corrcoef(base, other)[0, 1]) < 0.01
    counts = np.histogram(base, bins=20, range=(0, 1))[0]
    expected = ids.size / 20
    chi2 = ((counts - expected) ** 2 / expected).sum()
    assert chi2 < 43.8   # chi-square 19 df, p = 0.001
    assert abs(base.mean() - 0.5) < 0.005


def test_integers_stay_in_range():
    high = np.array([1, 2, 7, 12, 1000])
    draws = rng.integers(5, 2, np.arange(5), 2030, rng.EVENT_MONTH, high)
    assert ((draws >= 0) & (draws < high)).all()
