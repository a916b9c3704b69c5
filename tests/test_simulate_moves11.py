"""Session 11's cuts of the market's per-move work, each against the code it replaced: a batched
household's member rows read when the batch is written (`Market._batch_rows`) against
`members_of` at the move; the flows summed at the year's end (`Market._count_flows`) against a
Counter updated per move; an other tenure's vacancy tried without `SeekerPool.any_open` first."""

from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulate_support import START, market_before_letting
from synth_data import small_dataset_dir

from boligmix.simulate import rng
from boligmix.simulate.market import Market, MarketResult, spans
from boligmix.simulate.population import Population
from boligmix.simulate.rates import area_band
from boligmix.simulate.seekers import area_band_of


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 50), st.integers(0, 6)), max_size=20))
def test_spans_are_the_ranges_concatenated(pairs):
    lo = np.array([a for a, _ in pairs], dtype=np.int64)
    hi = lo + np.array([n for _, n in pairs], dtype=np.int64)
    expected = np.concatenate([np.arange(a, b) for a, b in zip(lo, hi)] + [np.zeros(0, np.int64)])
    assert np.array_equal(spans(lo, hi), expected)


class _Bare:
    """What `_batch_rows` and `_count_flows` read of a market."""

    _batch_rows = Market._batch_rows
    _count_flows = Market._count_flows
    members_of = Market.members_of
    _seeking_rows = Market._seeking_rows


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_batch_rows_are_the_members_at_each_move(data):
    """Random seeking households (grouped rows as `_index` makes them), some of which a home leaver
    left before they moved (their rows kept in `_members`), moving in a random order: the batch's
    rows and counts equal `members_of` read at each move, concatenated."""
    sizes = data.draw(st.lists(st.integers(0, 4), min_size=1, max_size=10))
    ids = np.array(sorted(data.draw(st.sets(st.integers(1, 10**6), min_size=len(sizes), max_size=len(sizes)))),
                   dtype=np.int64)
    grouped = np.array(data.draw(st.permutations(range(sum(sizes)))), dtype=np.int64)
    bounds = np.r_[0, np.cumsum(sizes)].astype(np.int64)
    market = _Bare()
    market._seeking, market._members = (ids, grouped, bounds), {}
    for k in data.draw(st.lists(st.integers(0, ids.size - 1), unique=True)):
        rows = grouped[bounds[k]:bounds[k + 1]]
        market._members[int(ids[k])] = rows[np.array(data.draw(st.lists(st.booleans(), min_size=rows.size,
                                                                          max_size=rows.size)), dtype=bool)]
    moving = data.draw(st.lists(st.integers(0, ids.size - 1), unique=True, min_size=1))
    given_rows = data.draw(st.lists(st.booleans(), min_size=len(moving), max_size=len(moving)))
    households = tuple(int(ids[k]) for k in moving)
    # a batch entry holds the rows when they were given (a home leaver's), else those kept or None
    rows = tuple(market.members_of(h) if g else market._members.get(h) for h, g in zip(households, given_rows))
    idx, counts = market._batch_rows(rows, households)
    expected = [market.members_of(h) for h in households]
    assert np.array_equal(idx, np.concatenate(expected))
    assert counts.tolist() == [e.size for e in expected]


def test_batch_rows_refuse_a_household_that_is_not_seeking():
    market = _Bare()
    market._seeking, market._members = (np.array([3, 5], np.int64), np.arange(3), np.array([0, 1, 3])), {}
    with pytest.raises(AssertionError):
        market._batch_rows((None,), (4,))


class _Dwellings:
    def __init__(self, area: list) -> None:
        self.area = np.array(area, dtype=object)
        names = sorted({a for a in area if a is not None})
        self._codes = np.array([names.index(a) if a is not None else -1 for a in area], dtype=np.int64)
        self._names = names

    def area_codes(self):
        return self._codes, self._names


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_flows_summed_at_the_end_equal_a_counter_per_move(data):
    """Random moves (from abroad, between dwellings inside and outside areas, some of no persons),
    some recorded one at a time and some in batches: the flows equal a Counter updated per move
    with the dwellings' areas (as `_move_in` counted them before)."""
    area = data.draw(st.lists(st.sampled_from([None, "a", "b", "c"]), min_size=1, max_size=8))
    market = _Bare()
    market.pop = type("P", (), {"dwellings": _Dwellings(area)})()
    market.result, market._flows, market._flow_parts = MarketResult(), [], []
    expected: Counter = Counter()
    position = st.integers(0, len(area) - 1)
    for _ in range(data.draw(st.integers(0, 6))):
        moves = data.draw(st.lists(st.tuples(st.one_of(st.just(-1), position), position, st.integers(0, 5)),
                                   max_size=5))
        for src, dst, n in moves:
            expected[None if src < 0 else area[src], area[dst]] += n
        if data.draw(st.booleans()):
            market._flows.extend(moves)
        elif moves:
            market._flow_parts.append(tuple(np.array(c, dtype=np.int64) for c in zip(*moves)))
    market._count_flows()
    assert market.result.flows == expected
    assert all(isinstance(n, int) for n in market.result.flows.values())
    assert not market._flows and not market._flow_parts


class _Session10(Market):
    """The oracle: `_move_in` counting each move's area pair and persons as it happens, the way the
    market did before `_count_flows` (read before the move changes anything), and `_let_other` asking
    `any_open` before every draw (the code both replaced)."""

    def _let_other(self, pos, seekers, month):
        dw = self.pop.dwellings
        municipality = int(dw.municipality[pos])
        if municipality in self._no_other:
            return None
        group = self._pools.get((municipality, False))
        if group is None or not group.any_open(month):
            self._no_other.add(municipality)
            return None
        row = group.first_in_order(month, int(dw.ids[pos]), lambda sids: rng.uniform(
            self.seed, self.rep, sids, self.year, rng.OTHER_TENURE_ORDER * 100 + month))
        return None if row is None else int(group.sid[row])

    def _move_in(self, s, pos, seekers, month):
        dw, kind = self.pop.dwellings, seekers.kind[s]
        if kind == "immigrant":
            src, persons = None, seekers.members[s].size
        elif kind == "leaver":
            row = self.row_of(seekers.members[s][0])
            src, persons = dw.area[dw.index[int(self.pop.dwelling[row])]], seekers.members[s].size
        else:
            group = self._pools[(seekers.municipality[s], seekers.wants_almen[s])]
            src, persons = dw.area[int(group.position[group.row[s]])], self.members_of(s).size
        self.per_move[src, dw.area[pos]] += int(persons)
        return super()._move_in(s, pos, seekers, month)


def _year(pop: Population, seed: int, scenario: str, market_class=Market, **kw):
    pop, market, seekers = market_before_letting(pop, seed, scenario, market_class, **kw)
    market.per_move = Counter()
    return pop, market, market.run(seekers), seekers


@pytest.mark.parametrize("seed,scenario", [(7, "baseline"), (13, "kombineret_udsat")])
def test_a_market_year_equals_the_session10_market(seed, scenario):
    """Whole market years: the batched market against the unbatched one with session 10's flows and
    other-tenure draws: the same lettings, flows, unhoused seekers and persons' dwellings; the
    invariants hold."""
    start = Population.from_dataset(small_dataset_dir(), START)
    fast, fm, fr, _ = _year(start, seed, scenario)
    slow, sm, sr, seekers = _year(start, seed, scenario, _Session10, batched=False)
    assert fr.lettings == sr.lettings and len(fr.lettings) == fm.checked > 20
    assert fr.flows == sm.per_move and sum(fr.flows.values()) > 100
    assert fr.moved_households == sr.moved_households and fr.unhoused == sr.unhoused
    assert np.array_equal(fast.dwellings.household, slow.dwellings.household)
    kinds = Counter(seekers.kind[s] for s in seekers.kind if s not in seekers._open)
    assert kinds["leaver"] > 0 and kinds["immigrant"] > 0 and kinds["mover"] > 0
    for name in ("pid", "household", "dwelling", "spell_start"):
        assert np.array_equal(getattr(fast, name), getattr(slow, name)), name
    fast.check()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.floats(0, 1), st.just(float("nan"))), max_size=8), st.data())
def test_area_bands_per_area_equal_those_per_household(share, data):
    """`area_band_of` (banded once per area) against the code it replaced in `household_area_band`
    (banded once per household), areas without residents (NaN) and households outside any area (-1)
    included."""
    share = np.array(share, dtype=float)
    code = np.array(data.draw(st.lists(st.integers(-1, share.size - 1), max_size=30)), dtype=np.int64)
    if share.size == 0:
        code = np.full(code.size, -1, dtype=np.int64)
    value = np.where(code >= 0, np.nan_to_num(share[np.maximum(code, 0)]) if share.size else 0.0, 0.0)
    expected = area_band(value, code >= 0)
    got = area_band_of(share, code)
    assert got.dtype == expected.dtype and np.array_equal(got, expected)


def test_the_market_keeps_the_objects_it_found_out_of_the_collector_only_while_it_runs(monkeypatch):
    """`Market.run` freezes the objects alive when it opens (`gc.freeze`) and unfreezes them at its
    end, also when it fails; objects someone else froze stay frozen."""
    import gc

    market = Market.__new__(Market)
    seen = []

    def run(seekers):
        seen.append(gc.get_freeze_count())
        if seekers == "fail":
            raise RuntimeError
        return "result"
    monkeypatch.setattr(market, "_run", run)
    assert gc.get_freeze_count() == 0
    assert market.run("seekers") == "result" and seen[-1] > 0 and gc.get_freeze_count() == 0
    with pytest.raises(RuntimeError):
        market.run("fail")
    assert seen[-1] > 0 and gc.get_freeze_count() == 0
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        market.run("seekers")
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()
