"""Session 13's almen selection (branch select13): a band's rows taken per decision month
(`SeekerPool.applying`), the selection in one kernel call (`kernels_letting.candidate_rows`), and a
vacancy's verdict context kept across its windows (`ColumnScreen._kept`), each against its oracle:
the masks over the whole pool, the three kernels it fuses, and a fresh screen per window."""

from __future__ import annotations

from datetime import datetime

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from test_simulate_column_facts import _case, _ledger_state, _year

from boligmix.letting.engine import LettingEngine
from boligmix.letting.model import Channel, Vacancy
from boligmix.simulate.applicants import Seekers
from boligmix.simulate.column_facts import ColumnScreen
from boligmix.simulate.in_force import InForce
from boligmix.simulate.kernels_letting import candidate_rows, open_rows, referral_heads, waiting_heads
from boligmix.simulate.pools import SeekerPool
from boligmix.simulate.screen import WindowScreen

KINDS = ("mover", "leaver", "immigrant", "rehousing")
BOUND = st.sampled_from([np.nan, 0.0, 1.0, 2.0, 3.5, 6.0])


@st.composite
def columns(draw):
    """A pool's columns as the kernels read them: few distinct seniorities and referral keys (ties),
    negative and huge seeker ids, some seekers housed, living in the dwelling, deciding later, unread."""
    n = draw(st.integers(0, 120))
    sid = np.array(draw(st.lists(st.integers(-2**62, 2**62), min_size=n, max_size=n, unique=True)), dtype=np.int64)
    ints = st.lists(st.integers(0, 12), min_size=n, max_size=n)
    flags = st.lists(st.booleans(), min_size=n, max_size=n)
    return dict(
        band_rows=np.array(sorted(draw(st.sets(st.integers(0, max(n - 1, 0)), max_size=n))) if n else [],
                           dtype=np.int64),
        open_=np.array(draw(flags), dtype=bool), month_of=np.array(draw(ints), dtype=np.int64),
        dwelling_of=np.array(draw(st.lists(st.integers(-1, 3), min_size=n, max_size=n)), dtype=np.int64),
        known=np.array(draw(st.lists(st.booleans() if draw(st.booleans()) else st.just(True), min_size=n,
                                     max_size=n)), dtype=bool),
        size=np.array(draw(st.lists(st.integers(1, 7), min_size=n, max_size=n)), dtype=np.int64),
        seniority=np.array(draw(st.lists(st.integers(0, draw(st.sampled_from([1, 3, 10**6]))), min_size=n,
                                         max_size=n)), dtype=np.int64),
        sid=sid, rehousing=np.array(draw(flags), dtype=bool), urgent=np.array(draw(flags), dtype=bool),
        referral=np.array(draw(st.lists(st.sampled_from([0.0, 0.25, 0.5]), min_size=n, max_size=n)),
                          dtype=np.float64))


@settings(max_examples=300, deadline=None)
@given(columns(), st.integers(-1, 13), st.integers(-1, 4), BOUND, BOUND, BOUND, BOUND, st.booleans(),
       st.booleans(), st.integers(0, 30), st.integers(0, 10), st.data())
def test_candidate_rows_is_the_three_kernels_in_one_call(c, month, dwelling_id, bmax, bmin, pmax, pmin, lapsing,
                                                         referrals_too, cap, window, data):
    """The selected rows' unread seekers (in order), or the waiting-list heads and, when asked, the
    referral heads of `open_rows`' rows, one list after another, with the lists' lengths."""
    done = [np.array(sorted(data.draw(st.sets(st.sampled_from(c["sid"].tolist()), max_size=20)))
                     if c["sid"].size else [], dtype=np.int64) for _ in range(3)]
    got = candidate_rows(c["band_rows"], c["open_"], c["month_of"], c["dwelling_of"], c["known"], month, dwelling_id,
                         c["size"], c["seniority"], c["sid"], bmax, bmin, pmax, pmin, lapsing, done[0], cap,
                         referrals_too, c["rehousing"], c["urgent"], c["referral"], done[1], done[2], window)
    rows, unread = open_rows(c["band_rows"], c["open_"], c["month_of"], c["dwelling_of"], c["known"], month,
                             dwelling_id)
    if unread:
        assert got[1:] == (-1, 0, 0) and got[0].tolist() == rows[~c["known"][rows]].tolist()
        return
    meeting, lapsed = waiting_heads(rows, c["size"], c["seniority"], c["sid"], bmax, bmin, pmax, pmin, lapsing,
                                    done[0], cap)
    referrals, rehoused = referral_heads(rows, c["rehousing"], c["urgent"], c["referral"], c["sid"], done[1],
                                         done[2], window) if referrals_too else (rows[:0], rows[:0])
    assert got[1:] == (meeting.size, lapsed.size, referrals.size)
    assert got[0].tolist() == [*meeting.tolist(), *lapsed.tolist(), *referrals.tolist(), *rehoused.tolist()]


BAND3 = st.one_of(st.none(), st.integers(0, 2))
SEEKER = st.tuples(st.sampled_from(KINDS), st.integers(0, 12), st.one_of(st.none(), st.integers(1, 4)), BAND3, BAND3)
"""A seeker's kind, month, size, area band and second band (None: none)."""
SELECTION = st.tuples(st.sampled_from([0, 0, 1, 1, 2, -3]), st.integers(1, 4), BAND3, st.booleans(), st.integers(0, 5),
                      st.integers(0, 6))
"""A selection's month step, dwelling, band, second band or not; then seekers read, seekers housed."""


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 200), st.data())
def test_a_bands_rows_by_month_select_as_the_whole_pools_masks(n, data):
    """A year's selections (months mostly rising, as the market's; sometimes an earlier month, as
    the tests'), housings and first reads between them: `select_counted` gives the mask over the
    whole pool and the count of its seekers not read yet."""
    seekers = Seekers()
    for sid, (kind, month, size, band, second) in enumerate(data.draw(st.lists(SEEKER, min_size=n, max_size=n))):
        seekers.add(sid, kind, month, True, 101, size, np.array([sid]), None)
        if band is not None:
            seekers.area_band[sid] = band
        if second is not None:
            seekers.second_band[sid] = second
    group = SeekerPool(list(seekers._by_group.get((101, True), [])), seekers)
    month = 0
    selections = data.draw(st.integers(1, 40))
    for step, dwelling, band, second, reads, housings in data.draw(st.lists(SELECTION, min_size=selections,
                                                                             max_size=selections)):
        month = max(0, min(12, month + step))
        mask = group.open & (group.month <= month) & (group.dwelling != dwelling)
        if band is not None:
            mask &= group.rehousing | ((group.second if second else group.band) == band) | (group.band < 0)
        rows, unread = group.select_counted(month, dwelling, band, second)
        assert rows.tolist() == np.flatnonzero(mask).tolist()
        assert unread == int((~group.known[rows]).sum())
        for i in rows[:reads].tolist():
            group.known[i] = True                 # (what `fill` marks)
        for i in np.flatnonzero(group.open)[:housings].tolist():
            group.housed(int(group.sid[i]))
        assert group.any_open(month) == bool(group.select(month, 10**9, None).size)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2**32 - 1), st.integers(0, 25), st.sampled_from(["statutory", "statutory+local"]),
                          st.sampled_from([Channel.WAITING_LIST, Channel.FLEKSIBEL]), st.integers(1, 3)), min_size=1, max_size=12))
def test_a_screen_kept_across_windows_decides_as_a_fresh_one(vacancies):
    """One screen deciding several windows of each of a sequence of vacancies (its verdict context
    kept from window to window, its verdicts across vacancies), under random ledger states, finds
    what a fresh screen finds for each window, and the context it keeps is the vacancy's own (a
    stale one rarely changes a verdict: the statutory policies read few dwelling facts)."""
    almen, factory, seekers, _, _, policy_sets = _year()
    kept = ColumnScreen(factory, WindowScreen())
    in_force_of = {}                             # (as the market's: equal answers one tuple, so one covering)
    for seed, n, variant, channel, windows in vacancies:
        group, rows, dwelling, on, rng = _case(seed, max(n, 1))
        policies = in_force_of.setdefault(variant, InForce(policy_sets[variant]))
        now = datetime(on.year, on.month, on.day, 9)
        vacancy = Vacancy(f"v{seed}", dwelling, on)
        engine = LettingEngine(policies, id_prefix="t/")
        _ledger_state(engine, vacancy.vacancy_id, group.sid[rows].tolist(), rng)
        in_force = policies.in_force(dwelling, on)
        for w in range(windows):
            window = rows[w * n // windows:(w + 1) * n // windows]
            sids = group.sid[window].tolist()
            got = kept.candidates(engine, vacancy, channel, group, sids, seekers, now, in_force, window)
            want = ColumnScreen(factory, WindowScreen()).candidates(engine, vacancy, channel, group, sids, seekers,
                                                                   now, in_force)
            assert got == want
            prepared = kept._prepared(in_force, channel)
            if prepared is not None and prepared[1] is not None:   # the context kept is this vacancy's
                facts, _ = kept._kept(dwelling, on, prepared[0], prepared[2])
                assert facts == ColumnScreen(factory, WindowScreen())._of_dwelling(dwelling, on)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 25), st.sampled_from(["housed", "offered", "passive", "withdrawn"]))
def test_the_list_checks_drop_each_kind_of_seeker_the_engine_drops(seed, n, kind):
    """A window with seekers of one kind the engine leaves out (`LettingEngine._candidates`: housed,
    offered the vacancy, passive, withdrawn), and no other: the columns decide as the applicants do."""
    almen, factory, seekers, _, _, policy_sets = _year()
    group, rows, dwelling, on, rng = _case(seed, n)
    sids = group.sid[rows].tolist()
    now = datetime(on.year, on.month, on.day, 9)
    vacancy = Vacancy(f"v{seed}", dwelling, on)
    engine = LettingEngine(policy_sets["statutory"], id_prefix="t/")
    ledger = engine.ledger
    for s in sids:
        if rng.random() < 0.4:
            if kind == "housed":
                ledger.housed[s] = 0
            elif kind == "offered":
                ledger.offered.setdefault(vacancy.vacancy_id, set()).add(s)
            elif kind == "passive":
                ledger.passive.add(s)
            else:
                ledger.withdrawn[s] = now
    in_force = policy_sets["statutory"].in_force(dwelling, on)
    found = ColumnScreen(factory, WindowScreen()).candidates(engine, vacancy, Channel.WAITING_LIST, group, sids,
                                                             seekers, now, in_force)
    handed = WindowScreen().candidates(engine, vacancy, Channel.WAITING_LIST,
                                       [factory.applicant(s, seekers, dwelling, on, None) for s in sids], now, in_force)
    if found is not None:
        assert (found is False and handed == []) or (handed and (handed[0].applicant_id, handed[0].list_type.value)
                                                     == found)
