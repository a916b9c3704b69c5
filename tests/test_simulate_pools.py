"""The array seeker pools pick the same candidates as the per-seeker lists they replace."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from boligmix.simulate.applicants import Seekers
from boligmix.simulate.pools import SeekerPool

KINDS = ("mover", "leaver", "immigrant", "rehousing")


def first_by(rows: np.ndarray, key: np.ndarray, sid: np.ndarray, n: int) -> np.ndarray:
    """The `n` rows with the smallest (key, seeker id), in that order (the brute force)."""
    return np.array(sorted(rows.tolist(), key=lambda r: (key[r], sid[r]))[:n], dtype=np.int64)


@st.composite
def pools(draw):
    n = draw(st.integers(0, 40))
    sids = draw(st.lists(st.integers(1, 10**6), min_size=n, max_size=n, unique=True))
    seekers = Seekers()
    facts = {}
    for sid in sids:
        kind = draw(st.sampled_from(KINDS))
        dwelling = draw(st.one_of(st.none(), st.integers(1, 5)))
        seekers.add(sid, kind, draw(st.integers(1, 12)), True, 101, dwelling, np.array([sid]), None)
        if draw(st.booleans()):
            seekers.area_band[sid] = draw(st.integers(0, 3))
        facts[sid] = (draw(st.integers(1, 6)), draw(st.booleans()), draw(st.integers(0, 5)),
                      draw(st.floats(0, 1, exclude_max=True)))
    housed = [s for s in sids if draw(st.booleans()) and draw(st.booleans())]
    return seekers, facts, housed, draw(st.integers(1, 12)), draw(st.integers(1, 5)), \
        draw(st.one_of(st.none(), st.integers(0, 3))), draw(st.integers(1, 6)), draw(st.integers(1, 10))


@settings(max_examples=60, deadline=None)
@given(pools())
def test_pool_selection_equals_the_per_seeker_lists(case):
    seekers, facts, housed, month, dwelling, band, rooms, n = case
    group = SeekerPool(list(seekers._by_group.get((101, True), [])), seekers)
    for s in housed:
        seekers.housed(s)
        group.housed(s)
        group.housed(s)                                  # (twice: counted once)
    # the per-seeker code of simulate.market before the pools
    pool = [s for s in seekers.active_in(month, 101, True) if seekers.dwelling[s] != dwelling
            and (band is None or seekers.kind[s] == "rehousing" or seekers.area_band.get(s, band) == band)]
    fits = sorted((s for s in pool if not facts[s][0] > 2 * rooms), key=lambda s: (facts[s][2], s))[:n]
    referral = sorted((s for s in pool if facts[s][1] and seekers.kind[s] != "rehousing"),
                      key=lambda s: (facts[s][3], s))[:n]
    rehousing = [s for s in pool if seekers.kind[s] == "rehousing"][:n]

    rows = group.select(month, dwelling, band)
    assert group.sid[rows].tolist() == pool
    assert group.any_open(month) == bool(group.select(month, 10**9, None).size)
    group.fill(rows, lambda s: facts[s][0], lambda s: facts[s][1], lambda s: facts[s][2], lambda s: facts[s][3])
    fit = rows[~(group.size[rows] > 2 * rooms)]
    assert group.sid[first_by(fit, group.seniority, group.sid, n)].tolist() == fits
    urgent = rows[~group.rehousing[rows] & group.urgent[rows]]
    assert group.sid[first_by(urgent, group.referral, group.sid, n)].tolist() == referral
    assert group.sid[rows[group.rehousing[rows]][:n]].tolist() == rehousing


@settings(max_examples=60, deadline=None)
@given(pools(), st.integers(0, 11), st.one_of(st.none(), st.integers(0, 3)))
def test_may_fit_since_finds_every_open_seeker_decided_since_who_fits(case, after, over):
    """The brute force: the open seekers who decided after `after`, by month; one whose facts are not
    read yet may fit."""
    seekers, facts, housed, month, dwelling, band, rooms, n = case
    month = max(month, after)
    group = SeekerPool(list(seekers._by_group.get((101, True), [])), seekers)
    for s in housed:
        group.housed(s)
    read = group.select(12, -1, band)                  # the facts of some seekers are read
    group.fill(read, lambda s: facts[s][0], lambda s: facts[s][1], lambda s: facts[s][2], lambda s: facts[s][3])
    new = [s for s in group.sid.tolist() if s not in housed and after < seekers.month[s] <= month]
    expected = any(group.row[s] not in set(read.tolist()) or (not facts[s][0] > 2 * rooms and
                                                                (over is None or rooms - facts[s][0] <= over))
                   for s in new)
    assert group.may_fit_since(after, month, rooms, 2, over) == expected


@settings(max_examples=60, deadline=None)
@given(pools(), st.lists(st.tuples(st.integers(1, 12), st.integers(1, 6), st.booleans()), max_size=30),
       st.integers(0, 2**31))
def test_first_in_order_is_the_open_seeker_with_the_smallest_key(case, draws, seed):
    """The brute force: every draw scans the pool's open seekers decided by the month, not living in
    the dwelling, for the smallest (key, id); the winner is housed (or, at random, another seeker is,
    as the almen market houses seekers between the draws). Months may repeat and go back."""
    from boligmix.simulate import rng

    seekers, _, housed, *_ = case
    group = SeekerPool(list(seekers._by_group.get((101, True), [])), seekers)
    for s in housed:
        group.housed(s)

    def keys(month):
        return lambda sids: rng.uniform(seed, 0, sids, 2030, rng.OTHER_TENURE_ORDER * 100 + month)

    for month, dwelling, house_winner in draws:
        cands = [i for i in range(group.sid.size) if group.open[i] and group.month[i] <= month
                 and group.dwelling[i] != dwelling]
        expected = None
        if cands:
            k = rng.uniform(seed, 0, group.sid[cands], 2030, rng.OTHER_TENURE_ORDER * 100 + month)
            expected = min(zip(k.tolist(), group.sid[cands].tolist(), cands))[2]
        row = group.first_in_order(month, dwelling, keys(month))
        assert row == expected
        if row is not None and house_winner:
            group.housed(int(group.sid[row]))
        elif group.open.any():
            group.housed(int(group.sid[np.flatnonzero(group.open)[0]]))


@settings(max_examples=60, deadline=None)
@given(pools(), st.lists(st.tuples(st.integers(0, 12), st.integers(1, 5), st.one_of(st.none(), st.integers(0, 3)),
                                   st.booleans(), st.integers(0, 3)), max_size=40))
def test_selections_between_housings_equal_the_whole_pools_masks(case, steps):
    """`select` keeps each band's rows between calls (less the housed): after any sequence of
    housings it equals the mask over the whole pool."""
    seekers, *_ = case
    for sid, band in zip(list(seekers.kind), [0, 1, 2, 3] * 10):
        seekers.second_band[sid] = band
    group = SeekerPool(list(seekers._by_group.get((101, True), [])), seekers)
    for month, dwelling, band, second, housings in steps:
        for i in np.flatnonzero(group.open)[:housings].tolist():
            group.housed(int(group.sid[i]))
        mask = group.open & (group.month <= month) & (group.dwelling != dwelling)
        if band is not None:
            mask &= group.rehousing | ((group.second if second else group.band) == band) | (group.band < 0)
        assert group.select(month, dwelling, band, second).tolist() == np.flatnonzero(mask).tolist()


@settings(max_examples=200, deadline=None)
@given(sizes=st.lists(st.integers(1, 12), max_size=40), rooms=st.integers(1, 8),
       per_room=st.one_of(st.none(), st.sampled_from([1, 1.5, 2, 2.5, 3])),
       over=st.one_of(st.none(), st.sampled_from([0, 1, 1.5, 2, 3])))
def test_the_size_limits_are_the_size_rules_as_written(sizes, rooms, per_room, over):
    """`pools.within_size_limits`: at most `per_room` persons per room and at most `over` rooms over persons."""
    from boligmix.simulate.pools import within_size_limits as _within

    size = np.array(sizes, dtype=np.int64)
    want = [(per_room is None or s / rooms <= per_room) and (over is None or rooms - s <= over) for s in sizes]
    assert _within(size, rooms, per_room, over).tolist() == want
