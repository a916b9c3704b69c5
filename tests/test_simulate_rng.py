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


# The compiled hashes against the stream as it was drawn before them (numpy passes; session 11) and
# against SplitMix64 in plain Python: the same draws, so every simulated output stays the same.
_MASK = (1 << 64) - 1


def _splitmix(z: int) -> int:
    z = (z + 0x9E3779B97F4A7C15) & _MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


def _hash(seed: int, rep: int, ident: int, year: int, event: int) -> int:
    head = _splitmix(_splitmix(seed & _MASK) ^ (rep & 0xFFFFFFFF))
    return _splitmix(_splitmix((ident & _MASK) ^ head) ^ (((year & 0xFFFF) << 16) | (event & 0xFFFF)))


EDGES = np.array([0, 1, -1, 2**63 - 1, -2**63, 123456789012345], dtype=np.int64)


def test_the_stream_is_the_one_drawn_before_the_compiled_hashes():
    """Values of session 11's numpy implementation, pinned."""
    assert rng.hash64(1, 0, EDGES, 2025, rng.MOVE).tolist() == [
        10333145344287581677, 16817226109338025987, 17654522270798891528, 15580295899691083562,
        7328437852173468060, 11249715635323853902]
    assert rng.uniform(-7, 2**40 + 3, EDGES, 1999, rng.DEATH).tolist() == [
        0.27905511686142626, 0.5401738719295067, 0.43258713003587934, 0.7673367141990066, 0.5295691505196282,
        0.6267640063858929]
    assert rng.new_ids(3, 1, EDGES, 2030, rng.NEW_ID, base=10**17).tolist() == [
        109949634913145158, 102564561968974018, 116589609145423201, 102138905545151311, 112948677979445788,
        113904439227037779]


@settings(max_examples=100, deadline=None)
@given(ids=st.lists(st.integers(-(2**63), 2**63 - 1), max_size=30), seed=st.integers(-(2**63), 2**63 - 1),
       rep=st.integers(0, 2**40), year=st.integers(-5, 70000), event=st.integers(0, 2**17))
def test_the_compiled_hashes_equal_splitmix64_in_plain_python(ids, seed, rep, year, event):
    got = rng.hash64(seed, rep, np.array(ids, dtype=np.int64), year, event)
    assert got.dtype == np.uint64 and got.tolist() == [_hash(seed, rep, i, year, event) for i in ids]
    u = rng.uniform(seed, rep, np.array(ids, dtype=np.int64), year, event)
    assert u.dtype == np.float64 and u.tolist() == [(_hash(seed, rep, i, year, event) >> 11) / 2**53 for i in ids]


def test_scalars_views_and_lists_draw_like_arrays():
    ids = np.arange(40, dtype=np.int64) * 7919
    whole = rng.uniform(4, 1, ids, 2026, rng.BIRTH)
    assert np.array_equal(rng.uniform(4, 1, ids[::3], 2026, rng.BIRTH), whole[::3])     # a strided view
    assert rng.uniform(4, 1, int(ids[5]), 2026, rng.BIRTH).tolist() == [whole[5]]       # one id
    assert np.array_equal(rng.uniform(4, 1, ids.tolist(), 2026, rng.BIRTH), whole)
    assert rng.uniform(4, 1, np.array([], dtype=np.int64), 2026, rng.BIRTH).shape == (0,)
    assert ids[0] == 0 and ids.dtype == np.int64 and ids[1] == 7919        # the ids are not written
