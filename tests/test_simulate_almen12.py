"""The almen letting's compiled per-vacancy selection (`boligmix.simulate.kernels_letting`) picks the
same candidates, and reads the same seekers' facts, as the numpy selection it replaced (kept here
as the oracle: `numpy_select`, main's `candidates.select` at 86fa7c8)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from boligmix.simulate.applicants import Seekers
from boligmix.simulate.candidates import WINDOW, WINDOWS, Fits, select
from boligmix.simulate.kernels_letting import referral_heads, waiting_heads
from boligmix.simulate.pools import SeekerPool, within_size_limits

KINDS = ("mover", "leaver", "immigrant", "rehousing")
LIMITS = st.tuples(st.one_of(st.none(), st.sampled_from([1, 1.5, 2, 2.5, 3])),
                   st.one_of(st.none(), st.sampled_from([0, 1, 1.5, 2, 3])))


def first_by(rows: np.ndarray, key: np.ndarray, sid: np.ndarray, n: int) -> np.ndarray:
    """The `n` rows with the smallest (key, seeker id), in that order (main's `pools.first_by`)."""
    if rows.size == 0:
        return rows
    if rows.size > 4 * n > 0:
        k = key[rows]
        rows = rows[k <= np.partition(k, n - 1)[n - 1]]
    order = np.lexsort((sid[rows], key[rows]))
    return rows[order[:n]]


def numpy_select(group, dwelling_id, rooms, month, band, tried, binding, preferred, second, waiting_only, size,
                 urgent, seniority, referral):
    """Main's `candidates.select` (numpy masks and `first_by`)."""
    applying = group.rehousing | ((group.second if second else group.band) == band) | (group.band < 0) \
        if band is not None else True           # (main's `SeekerPool._applying`, brute force)
    rows = np.flatnonzero(applying & group.open & (group.month <= month) & (group.dwelling != dwelling_id))
    group.fill(rows, size, urgent, seniority, referral)
    sizes = group.size[rows]
    fit = within_size_limits(sizes, rooms, *binding)
    meets = fit & within_size_limits(sizes, rooms, *preferred) if preferred != binding else fit
    lists = ((fit, tried[0]),) if tried is not None else ()
    if not waiting_only:
        referable = ~group.rehousing[rows] & group.urgent[rows]
        rehoused = group.rehousing[rows]
        lists = ((fit, tried[0]), (referable, tried[1]), (rehoused, tried[2])) if tried is not None else ()
    for mask, done in lists:
        if done.size:
            kept = np.flatnonzero(mask)
            mask[kept[np.isin(group.sid[rows[kept]], done)]] = False
    cap = WINDOW * WINDOWS
    meeting = group.sid[first_by(rows[fit & meets], group.seniority, group.sid, cap)].tolist()
    lapsed = group.sid[first_by(rows[fit & ~meets], group.seniority, group.sid, cap)].tolist() \
        if meets is not fit else []
    fits = Fits(meeting, lapsed, len(meeting) < cap and len(lapsed) < cap, np.zeros(0, dtype=np.int64))
    if waiting_only:
        return fits, [], []
    referral_pool = group.sid[first_by(rows[referable], group.referral, group.sid, WINDOW)].tolist()
    return fits, referral_pool, group.sid[rows[rehoused][:WINDOW]].tolist()


SIDS = st.one_of(st.integers(-2**62, 2**62), st.integers(-5, 400))
REFERRAL_KEYS = st.one_of(st.just(0.25), st.just(0.5), st.floats(0, 1, exclude_max=True))
"""Ties at 0.25 and 0.5 or any key, a third each (a float drawn only when used: ~40 % faster)."""


@st.composite
def pools(draw):
    """A municipality's pool: seekers with few distinct seniorities (ties), negative and huge ids,
    some of them housed, and their facts."""
    n = draw(st.integers(0, 260))
    sids = draw(st.lists(SIDS, min_size=n, max_size=n, unique=True))
    seekers = Seekers()
    facts = {}
    seniorities = draw(st.sampled_from([2, 5, 50, 4000]))
    for sid in sids:
        seekers.add(sid, draw(st.sampled_from(KINDS)), draw(st.integers(0, 12)), True, 101,
                    draw(st.one_of(st.none(), st.integers(1, 4))), np.array([1]), None)
        if draw(st.booleans()):
            seekers.area_band[sid] = draw(st.integers(0, 3))
        if draw(st.booleans()):
            seekers.second_band[sid] = draw(st.integers(0, 3))
        facts[sid] = (draw(st.integers(1, 9)), draw(st.booleans()), draw(st.integers(0, seniorities)),
                      draw(REFERRAL_KEYS))
    housed = [s for s in sids if draw(st.integers(0, 3)) == 0]
    return seekers, facts, housed


def _pool(seekers, facts, housed):
    group = SeekerPool(list(seekers._by_group.get((101, True), [])), seekers)
    if len(facts) % 2:                # pools keyed at once (the market's) or read one seeker at a time
        group.set_keys(np.array([facts[s][2] for s in group.sid.tolist()], dtype=np.int64),
                       np.array([facts[s][3] for s in group.sid.tolist()], dtype=np.float64))
    for s in housed:
        group.housed(s)
    return group


@settings(max_examples=150, deadline=None)
@given(pools(), st.lists(st.tuples(st.integers(0, 12), st.integers(0, 5), st.one_of(st.none(), st.integers(0, 3)),
                                   st.booleans(), st.booleans(), st.integers(1, 6), LIMITS, LIMITS,
                                   st.integers(0, 3), st.integers(0, 3)), min_size=1, max_size=6), st.data())
def test_select_equals_the_numpy_selection(case, vacancies, data):
    """A sequence of vacancies on two copies of a pool (some seekers housed and some assessed
    between them): the same candidates, and the same seekers' facts read at each."""
    seekers, facts, housed = case
    ours, oracle = _pool(seekers, facts, housed), _pool(seekers, facts, housed)
    reads: dict[str, list[int]] = {"ours": [], "oracle": []}

    def readers(log):
        return (lambda s: log.append(s) or facts[s][0], lambda s: facts[s][1], lambda s: facts[s][2],
                lambda s: facts[s][3])

    sids = ours.sid.tolist()
    for month, dwelling, band, second, waiting_only, rooms, binding, preferred, housings, assessed in vacancies:
        tried = None
        if assessed and sids:
            tried = tuple(np.sort(np.array(data.draw(st.lists(st.sampled_from(sids), max_size=80)), dtype=np.int64))
                          for _ in range(3))
        if data.draw(st.booleans()):
            preferred = binding                    # the size rules bind (no lapsed list)
        got = select(ours, dwelling, rooms, month, band, tried, binding, preferred, second, waiting_only,
                     *readers(reads["ours"]))
        want = numpy_select(oracle, dwelling, rooms, month, band, tried, binding, preferred, second, waiting_only,
                            *readers(reads["oracle"]))
        assert (got[0].meeting, got[0].lapsed, got[0].complete, got[1], got[2]) == \
            (want[0].meeting, want[0].lapsed, want[0].complete, want[1], want[2])
        assert list(got[0]) == list(want[0])
        assert ours.sid[got[0].rows].tolist() == list(got[0])
        assert reads["ours"] == reads["oracle"]
        assert np.array_equal(ours.known, oracle.known)
        for i in np.flatnonzero(ours.open)[:housings].tolist():
            ours.housed(int(ours.sid[i]))
            oracle.housed(int(oracle.sid[i]))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), SIDS, st.integers(1, 6), st.booleans(), st.booleans(),
                          st.sampled_from([0.0, 0.5, 0.75])), max_size=150, unique_by=lambda t: t[1]),
       st.integers(0, 30), LIMITS, LIMITS, st.integers(1, 5), st.booleans(), st.data())
def test_the_kernels_equal_masks_and_sorts(pool, cap, binding, preferred, rooms, lapsing, data):
    """The kernels on their own, with any `cap` (0 and 1 among them), many ties in the keys and
    assessed seekers: the heads of `first_by` over the masks."""
    key = np.array([p[0] for p in pool], dtype=np.int64)
    sid = np.array([p[1] for p in pool], dtype=np.int64)
    size = np.array([p[2] for p in pool], dtype=np.int64)
    rehousing = np.array([p[3] for p in pool], dtype=bool)
    urgent = np.array([p[4] for p in pool], dtype=bool)
    referral = np.array([p[5] for p in pool], dtype=np.float64)
    rows = np.array(sorted(data.draw(st.sets(st.integers(0, max(len(pool) - 1, 0))))) if pool else [],
                    dtype=np.int64)
    done = [np.sort(np.array(data.draw(st.lists(st.sampled_from(sid.tolist()), max_size=40)) if pool else [],
                             dtype=np.int64)) for _ in range(3)]

    def bounds(per_room, over):
        return (float(per_room * rooms) if per_room is not None else np.nan,
                float(rooms - over) if over is not None else np.nan)

    meeting, lapsed = waiting_heads(rows, size, key, sid, *bounds(*binding), *bounds(*preferred), lapsing, done[0],
                                    cap)
    fit = within_size_limits(size[rows], rooms, *binding) & ~np.isin(sid[rows], done[0])
    meets = within_size_limits(size[rows], rooms, *preferred) if lapsing else np.ones(rows.size, dtype=bool)
    assert meeting.tolist() == first_by(rows[fit & meets], key, sid, cap).tolist()[:cap]
    assert lapsed.tolist() == first_by(rows[fit & ~meets], key, sid, cap).tolist()[:cap]
    referrals, rehoused = referral_heads(rows, rehousing, urgent, referral, sid, done[1], done[2], cap)
    referable = ~rehousing[rows] & urgent[rows] & ~np.isin(sid[rows], done[1])
    assert referrals.tolist() == first_by(rows[referable], referral, sid, cap).tolist()[:cap]
    assert rehoused.tolist() == rows[rehousing[rows] & ~np.isin(sid[rows], done[2])][:cap].tolist()


_BASE_POLICIES: list = []


def _statutory_and_local():
    if not _BASE_POLICIES:
        from boligmix.letting.policy import POLICY_DIR
        from boligmix.simulate.scenario import build_policy_set

        _BASE_POLICIES.extend(build_policy_set([POLICY_DIR / "local"], {}, "test").policies)
    return _BASE_POLICIES


MUNICIPALITIES, ORGS, DEPARTMENTS, TYPES = (101, 147), ("o1", "o2"), ("d1", "d2"), ("family", "youth")


@st.composite
def rescoped(draw):
    """The statutory and local policies, some with a scope and period drawn (periods and scopes may
    overlap: `PolicySet`'s own check is skipped; `in_force` takes the most specific, the first of equals)."""
    import dataclasses
    from datetime import date

    from boligmix.letting.policy_spec import Scope

    named = {"municipality_codes": MUNICIPALITIES, "org_ids": ORGS, "department_ids": DEPARTMENTS,
             "area_categories": ("udsat", "omdannelse", "forebyggelse"), "almen_types": TYPES}
    policies = []
    for p in _statutory_and_local():
        if draw(st.integers(0, 2)) == 0:       # one or two scope facts named, a period
            start = date(draw(st.integers(2008, 2030)), draw(st.integers(1, 12)), 1)
            end = draw(st.one_of(st.none(), st.integers(1, 3000)))
            fields = draw(st.lists(st.sampled_from(sorted(named)), min_size=1, max_size=2, unique=True))
            scope = Scope(**{f: tuple(draw(st.lists(st.sampled_from(named[f]), min_size=1, max_size=2)))
                             for f in fields})
            p = dataclasses.replace(p, spec=p.spec.model_copy(update={
                "scope": scope, "effective_from": start,
                "effective_to": None if end is None else date.fromordinal(start.toordinal() + end)}))
        policies.append(p)
    return policies


@settings(max_examples=60, deadline=None)
@given(rescoped(), st.lists(st.tuples(st.sampled_from(MUNICIPALITIES + (400,)), st.sampled_from(ORGS + ("o9",)),
                                      st.sampled_from(DEPARTMENTS + ("d9",)), st.sampled_from(TYPES + ("other",)),
                                      st.sampled_from((frozenset(), frozenset({"udsat"}),
                                                       frozenset({"udsat", "parallelsamfund", "omdannelse"}),
                                                       frozenset({"kombineret_udlejning"}))),
                                      st.sampled_from((0, 4000, 4001, 8000))), min_size=20, max_size=60))
def test_in_force_keyed_by_what_the_scopes_and_dates_tell_apart_equals_the_policy_set(policies, asks):
    """`InForce` answers as `PolicySet.in_force` (the same policy objects, in order) for a sequence of
    dwellings and dates, values no scope names among them, asked twice each."""
    from datetime import date

    from boligmix.letting.model import Dwelling
    from boligmix.letting.policy import PolicySet
    from boligmix.simulate.in_force import InForce

    plain = object.__new__(PolicySet)              # (no check of overlapping scopes: any drawn set)
    plain.policies = tuple(policies)
    kept = InForce(plain)
    for k, (municipality, org, department, almen_type, categories, day) in enumerate(asks):   # (few values: hits)
        dwelling = Dwelling(k, municipality, org, department, 2, "a", categories, almen_type)
        on = date.fromordinal(date(2008, 1, 1).toordinal() + day)
        want = PolicySet.in_force(plain, dwelling, on)
        for _ in range(2):
            got = kept.in_force(dwelling, on)
            assert len(got) == len(want) and all(a is b for a, b in zip(got, want))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(-1, 3), st.integers(0, 4), SIDS, st.integers(0, 5), st.integers(1, 9),
                          st.integers(0, 3), st.integers(0, 3)), max_size=30, unique_by=lambda t: t[2]),
       st.integers(0, 3), st.integers(0, 3))
def test_the_window_kernels_equal_the_numpy_signatures_and_lexsort(window, org, dep):
    """`window_signatures` and `best_ranked` equal `ColumnScreen`'s numpy code (main at 86fa7c8): the
    signature codes, and the first by (rank, seniority, seeker id) among the ranked (many ties)."""
    from boligmix.simulate.column_facts import SIZE_BITS
    from boligmix.simulate.kernels_letting import best_ranked, window_signatures

    rank = np.array([w[0] for w in window], dtype=np.int64)
    seniority = np.array([w[1] for w in window], dtype=np.int64)
    sid = np.array([w[2] for w in window], dtype=np.int64)
    facts = np.array([w[3] for w in window], dtype=np.int64)
    size = np.array([w[4] for w in window], dtype=np.int64)
    organisation = np.array([w[5] for w in window], dtype=np.int64)
    department = np.array([w[6] for w in window], dtype=np.int64)
    rows = np.arange(len(window), dtype=np.int64)[::-1].copy()          # (any order of rows)
    codes, small = window_signatures(rows, facts, size, organisation, department, org, dep, SIZE_BITS)
    want = (((facts[rows] << SIZE_BITS) | size[rows]) << 2) | ((organisation[rows] == org).astype(np.int64) << 1) \
        | (department[rows] == dep)
    assert small and codes.tolist() == want.tolist()
    candidates = np.flatnonzero(rank[rows] >= 0)
    best = best_ranked(rows, rank[rows], seniority, sid)
    if not candidates.size:
        assert best == -1
    else:
        r = rows[candidates]
        assert best == candidates[np.lexsort((sid[r], seniority[r], rank[r]))[0]]
    if window:                                   # a household too large for the code: the row path
        size[0] = 1 << SIZE_BITS
        assert not window_signatures(rows, facts, size, organisation, department, org, dep, SIZE_BITS)[1]
