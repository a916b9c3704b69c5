"""The steps of the year run on a second thread (`simulate.background.in_background`: the labour rows of
the register outcomes, the lists of the next list year beside the next year's demography and seekers)
give what the steps run one after the other give; `SeekerPool.first_in_order` without the copy of the
month's order per draw draws as before.

The oracles run each background step on the caller's thread, either at once (where the code starts it:
the order before the threads) or deferred to the moment its result is asked for (as late as a thread
can finish). A step that read anything the caller changes in between, or whose result the caller
read before asking for it, differs between the two; the thread's run lies between them."""

from __future__ import annotations

from concurrent.futures import Future

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal
from simulate_support import START, shared

from boligmix.simulate import register_outcomes, replication
from boligmix.simulate.background import in_background
from boligmix.simulate.pools import SeekerPool
from boligmix.simulate.scenario import load_scenario


def at_once(fn, *args) -> Future:
    """`in_background` run on the caller's thread where it is started."""
    future: Future = Future()
    try:
        future.set_result(fn(*args))
    except BaseException as exc:  # noqa: BLE001 -- as in_background
        future.set_exception(exc)
    return future


class Deferred(Future):
    """`in_background` run on the caller's thread when its result is first asked for."""

    def __init__(self, fn, *args) -> None:
        super().__init__()
        self._call = (fn, args)

    def result(self, timeout=None):
        if self._call is not None:
            fn, args = self._call
            self._call = None
            try:
                self.set_result(fn(*args))
            except BaseException as exc:  # noqa: BLE001 -- as in_background
                self.set_exception(exc)
        return super().result(timeout)


def test_in_background_returns_the_result_and_raises_what_the_step_raised():
    assert in_background(sorted, [3, 1, 2]).result() == [1, 2, 3]
    with pytest.raises(ZeroDivisionError):
        in_background(lambda: 1 // 0).result()


SCENARIO_OF_YEAR_2 = """format: boligmix-scenario/1
name: demolish_year_2
title: demolition in the second year
description: the actions of a later year select areas by the lists the year before computed
actions:
  - {offset: 1, action: demolish, areas: {from_list: omdannelse}, share: 0.3}
  - {offset: 1, action: build, areas: {areas: [%s]}, tenure: privat_udlejning, count: 5, rooms: 3, floor_area_m2: 80}
"""


def _runs(monkeypatch, scenario, years: int) -> list[dict]:
    sh = shared(START, years, 3)
    out = []
    for start in (at_once, Deferred, in_background):
        monkeypatch.setattr(replication, "in_background", start)
        monkeypatch.setattr(register_outcomes, "in_background", start)
        out.append(replication.run_replication(sh, 0, scenario))
    return out


def _assert_same(runs: list[dict]) -> None:
    first = runs[0]
    for other in runs[1:]:
        assert_frame_equal(first["areas"], other["areas"])
        assert_frame_equal(first["lettings"], other["lettings"])
        assert first["events"] == other["events"]
        assert first["checked_lettings"] == other["checked_lettings"]


def test_a_replication_with_background_steps_equals_one_in_sequence(monkeypatch):
    runs = _runs(monkeypatch, load_scenario("baseline"), 2)
    assert runs[0]["areas"]["year"].unique().to_list() == [START + 1, START + 2]
    _assert_same(runs)


def test_actions_of_a_later_year_wait_for_the_lists_they_select_by(monkeypatch, tmp_path):
    sh = shared(START, 2, 3)
    area = sh.history.filter(sh.history["year"] == sh.history["year"].max())["area_id"].sort()[0]
    path = tmp_path / "demolish_year_2.yaml"
    path.write_text(SCENARIO_OF_YEAR_2 % area, encoding="utf-8")
    runs = _runs(monkeypatch, load_scenario(path), 2)
    assert runs[0]["events"].get("built", 0) == 5
    _assert_same(runs)


def first_in_order_before(pool, month, dwelling_id, keys):
    """Session 12's `SeekerPool.first_in_order` (the oracle): the rest of the order copied per draw."""
    if pool._order_month != month:
        rows = np.flatnonzero(pool.open & (pool.month <= month))
        pool._order = rows[np.lexsort((pool.sid[rows], keys(pool.sid[rows])))].tolist()
        pool._order_month, pool._cursor = month, 0
    order, open_, i = pool._order, pool.open, pool._cursor
    while i < len(order) and not open_[order[i]]:
        i += 1
    pool._cursor = i
    for r in order[i:]:
        if open_[r] and pool.dwelling[r] != dwelling_id:
            return r
    return None


def _bare_pool(sid, month, dwelling) -> SeekerPool:
    pool = SeekerPool.__new__(SeekerPool)
    pool.sid, pool.month, pool.dwelling = sid, month, dwelling
    pool.open = np.ones(sid.size, dtype=bool)
    pool._order_month, pool._order, pool._cursor = -1, [], 0
    return pool


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(-2**62, 2**62), st.integers(0, 12), st.integers(-1, 3), st.integers(0, 3)),
                max_size=40),
       st.lists(st.tuples(st.integers(0, 12), st.integers(-1, 3), st.booleans(), st.integers(0, 39)), max_size=60))
def test_first_in_order_draws_as_before(seekers, draws):
    """Pools of seekers (id, month, dwelling, key; ids repeated, keys tied) and draws (month, dwelling,
    house the one drawn?, a seeker housed besides): the same rows, cursors and orders as before."""
    sid = np.array([s[0] for s in seekers], dtype=np.int64)
    month = np.array([s[1] for s in seekers], dtype=np.int64)
    dwelling = np.array([s[2] for s in seekers], dtype=np.int64)
    key_of = dict(zip(sid.tolist(), [s[3] for s in seekers]))

    def keys(ids):
        return np.array([key_of[int(i)] for i in ids], dtype=np.int64)

    new, old = _bare_pool(sid, month, dwelling), _bare_pool(sid, month, dwelling)
    for m, d, house, other in draws:
        got, want = new.first_in_order(m, d, keys), first_in_order_before(old, m, d, keys)
        assert got == want
        assert (new._cursor, new._order, new._order_month) == (old._cursor, old._order, old._order_month)
        for pool in (new, old):
            if house and want is not None:
                pool.open[want] = False
            if other < sid.size:
                pool.open[other] = False
