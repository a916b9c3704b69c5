"""Moving households' members written a batch at a time (`Market._apply_moves`) equal the per-move
writes (`Market(batched=False)`, the oracle): the same lettings, the same persons in the same
dwellings with the same spell starts, the same closed spells in the same order, the same flows."""


import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from simulate_support import START, market_before_letting
from synth_data import small_dataset_dir

from boligmix.simulate.market import Market, MoveBatch
from boligmix.simulate.population import Population


def _year(pop: Population, seed: int, batched: bool, scenario: str, calls: list[int]) -> tuple[Population, Market, object]:
    pop, market, seekers = market_before_letting(pop, seed, scenario, batched=batched)
    apply = market._apply_moves

    def counted():
        calls.append(len(market._batch))
        apply()
    market._apply_moves = counted
    result = market.run(seekers)
    market._apply_moves = apply
    # the open seekers by kind, counted one kind at a time (as the market did before one pass)
    assert result.unhoused == {kind: sum(1 for s in seekers.active(12) if seekers.kind[s] == kind)
                               for kind in ("mover", "leaver", "immigrant", "rehousing")}
    assert [w[0] for w in result.waiting_immigrants] == [s for s in seekers.active(12) if seekers.kind[s] == "immigrant"]
    return pop, market, result


@pytest.mark.parametrize("seed,scenario", [(5, "baseline"), (11, "kombineret_udsat"), (23, "baseline")])
def test_batched_moves_equal_the_per_move_writes(seed, scenario):
    start = Population.from_dataset(small_dataset_dir(), START)
    calls: dict[bool, list[int]] = {True: [], False: []}
    (fast, fm, fr), (slow, sm, sr) = (_year(start, seed, b, scenario, calls[b]) for b in (True, False))
    assert fr.lettings == sr.lettings and len(fr.lettings) == fm.checked > 20
    assert fr.moved_households == sr.moved_households and fr.flows == sr.flows and fr.unhoused == sr.unhoused
    for name in ("pid", "household", "dwelling", "spell_start", "birth"):
        assert np.array_equal(getattr(fast, name), getattr(slow, name)), name
    for name in ("household", "vacant_from", "active"):
        assert np.array_equal(getattr(fast.dwellings, name), getattr(slow.dwellings, name)), name
    fast.check()
    assert_frame_equal(fast.residences(), slow.residences())
    assert fast.events == slow.events
    written = [n for n in calls[True] if n]
    assert sum(written) > 0                      # whole households went through the batch
    assert not any(calls[False])                 # the oracle never batches


def _population(sizes: list[int], starts: list[int]) -> Population:
    n = sum(sizes)
    rows = np.arange(n, dtype=np.int64)
    household = np.repeat(np.arange(1, len(sizes) + 1, dtype=np.int64) * 7, sizes)
    return Population(start=2025, pid=rows + 1000, birth=np.zeros(n, np.int64), female=np.zeros(n, bool),
                      origin=np.zeros(n, np.int8), country=np.full(n, None, object), nonwestern=np.zeros(n, bool),
                      household=household, dwelling=household * 3, spell_start=np.array(starts[:n], dtype=np.int64),
                      dwellings=None, persons_frame=pl.DataFrame(),
                      closed_spells=[pl.DataFrame(schema={"person_id": pl.Int64, "household_id": pl.Int64,
                                                          "dwelling_id": pl.Int64, "move_in": pl.Date,
                                                          "move_out": pl.Date, "end_reason": pl.String})],
                      person_years={}, labour={}, convictions={})


def _bare_market(pop: Population) -> Market:
    market = Market.__new__(Market)
    market.pop, market.batched, market._batch, market._batch_households = pop, True, MoveBatch(), set()
    market._closing, market._moves = [], 0
    return market


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_a_batch_writes_what_each_move_would_write(data):
    """Random households moving in a random order on random days (some members' spells begin after
    the move day), and home leavers (some members of a household, moving on their own, written at
    once) between them, some of whose households moved earlier in the same batch."""
    sizes = data.draw(st.lists(st.integers(1, 4), min_size=1, max_size=12))
    n = sum(sizes)
    starts = data.draw(st.lists(st.integers(0, 40), min_size=n, max_size=n))
    bounds = np.r_[0, np.cumsum(sizes)]
    batched, oracle = _population(sizes, starts), _population(sizes, starts)
    market = _bare_market(batched)
    moved: set[int] = set()
    left: set[int] = set()
    for k in range(data.draw(st.integers(0, 2 * len(sizes)))):
        h = data.draw(st.integers(0, len(sizes) - 1))
        rows = [r for r in range(bounds[h], bounds[h + 1]) if r not in left]
        leaver = h in moved or data.draw(st.booleans())
        if leaver:                               # a home leaver: some members, a new household
            rows = data.draw(st.lists(st.sampled_from(rows), min_size=1, unique=True)) if rows else []
            household = 10_000 + k
        elif not rows:
            continue
        else:
            household = int(oracle.household[rows[0]])
        if not rows:
            continue
        idx = np.array(sorted(rows), dtype=np.int64)
        on, new = data.draw(st.integers(1, 40)), 900 + k
        market._move_members(idx, household, new, on, not leaver)
        start = oracle.spell_start[idx]          # the oracle: each move written as it happens
        early = start < on
        ended = idx[early]
        oracle.add_closed_spells(ended, oracle.household[ended], oracle.dwelling[ended], start[early],
                                 np.full(ended.size, on, np.int64), None)
        oracle.spell_start[ended] = on
        oracle.household[idx] = household
        oracle.dwelling[idx] = new
        market._moves += 1
        if leaver:
            left.update(rows)
        else:
            moved.add(h)
    market._close_spells()
    assert not market._batch and not market._batch_households
    for name in ("household", "dwelling", "spell_start"):
        assert np.array_equal(getattr(batched, name), getattr(oracle, name)), name
    assert_frame_equal(batched.residences(), oracle.residences())


class _Forgetful(set):
    """A set that keeps nothing: every other-tenure vacancy is tried against its pool again."""

    def add(self, value) -> None:
        pass


@pytest.mark.parametrize("seed", [5, 17])
def test_skipping_municipalities_without_other_seekers_changes_nothing(monkeypatch, seed):
    """`Market._no_other` (a municipality whose pool of other tenures has no open seeker is not tried
    again that month) against trying every vacancy (the set that keeps nothing)."""
    start = Population.from_dataset(small_dataset_dir(), START)
    fast, fm, fr = _year(start, seed, True, "baseline", [])
    run = Market.run
    tried: list[int] = []

    def forgetful_run(self, seekers):
        let_other = self._let_other

        def counted(pos, *args):
            self._no_other = _Forgetful()
            tried.append(pos)
            return let_other(pos, *args)
        self._let_other = counted
        return run(self, seekers)
    monkeypatch.setattr(Market, "run", forgetful_run)
    slow, sm, sr = _year(start, seed, True, "baseline", [])
    assert fr.lettings == sr.lettings and fr.flows == sr.flows and fr.moved_households == sr.moved_households
    for name in ("household", "dwelling", "spell_start"):
        assert np.array_equal(getattr(fast, name), getattr(slow, name)), name
    assert np.array_equal(fast.dwellings.household, slow.dwellings.household)
    assert len(tried) > fr.moved_households - len(fr.lettings)     # other-tenure vacancies were tried in vain
