"""The ledger's copy-on-write checkpoint: a rollback restores every checkpointed table exactly as
a full copy taken at the checkpoint would (the former checkpoint), whatever the round did."""

from __future__ import annotations

import copy
import pickle

from hypothesis import given, settings
from hypothesis import strategies as st

from boligmix.letting.ledger import JournaledDict, LettingLedger, ShareCounter
from boligmix.letting.model import Channel

KEYS = st.integers(0, 6)
CHANNELS = st.sampled_from([Channel.WAITING_LIST, Channel.FLEKSIBEL, Channel.KOMMUNAL_ANVISNING])
OPS = st.lists(st.one_of(
    st.tuples(st.just("set"), st.sampled_from(["vacancies", "vacancy_channel", "base_refusals", "entitlements",
                                               "redirected"]), KEYS, st.integers(0, 9)),
    st.tuples(st.just("pop"), st.sampled_from(["vacancies", "base_refusals", "counters"]), KEYS, st.none()),
    st.tuples(st.just("del"), st.sampled_from(["vacancy_channel", "entitlements"]), KEYS, st.none()),
    st.tuples(st.just("clear"), st.sampled_from(["base_refusals", "redirected"]), st.none(), st.none()),
    st.tuples(st.just("count"), st.just("counters"), KEYS, CHANNELS),        # as `_allocate_channel` counts
    st.tuples(st.just("update"), st.just("base_refusals"), KEYS, st.integers(0, 9)),
), max_size=25)


def _apply(ledger: LettingLedger, op: tuple) -> None:
    kind, name, key, value = op
    table = getattr(ledger, name)
    if kind == "set":
        table[key] = value
    elif kind == "pop":
        table.pop(key, None)
    elif kind == "del":
        if key in table:
            del table[key]
    elif kind == "clear":
        table.clear()
    elif kind == "update":
        table.update({key: value, key + 1: value})
    else:
        counter = table.setdefault((f"p{key % 2}", str(key)), ShareCounter())
        counter.seen += 1
        counter.used[value] = counter.used.get(value, 0) + 1


def _state(ledger: LettingLedger) -> dict:
    return {name: copy.deepcopy(dict(getattr(ledger, name))) for name in
            ("vacancies", "vacancy_channel", "counters", "base_refusals", "entitlements", "redirected")}


@settings(max_examples=150, deadline=None)
@given(before=OPS, during=OPS, after=OPS)
def test_rollback_restores_what_a_full_copy_would(before, during, after):
    ledger = LettingLedger()
    for op in before:
        _apply(ledger, op)
    snapshot = _state(ledger)
    checkpoint = ledger.checkpoint()
    for op in during:
        _apply(ledger, op)
    ledger.rollback(checkpoint)
    assert _state(ledger) == snapshot
    # once a checkpoint is dropped, changes are no longer saved and a new checkpoint starts clean
    del checkpoint
    for op in after:
        _apply(ledger, op)
    later = _state(ledger)
    again = ledger.checkpoint()
    for op in during:
        _apply(ledger, op)
    ledger.rollback(again)
    assert _state(ledger) == later


def test_a_dropped_checkpoint_saves_nothing():
    ledger = LettingLedger()
    ledger.counters[("p", "1")] = ShareCounter(3, {Channel.FLEKSIBEL: 1})
    checkpoint = ledger.checkpoint()
    journal = checkpoint["journals"]["counters"]
    ledger.counters[("p", "1")].seen += 1
    assert set(journal.saved) == {("p", "1")}
    del checkpoint, journal
    ledger.counters.setdefault(("p", "2"), ShareCounter()).seen += 1
    assert ledger.counters._journals == []


def test_plain_dicts_handed_in_are_journaled_and_tables_pickle():
    shared = {("p", "1"): ShareCounter(2, {})}
    ledger = LettingLedger(counters=shared)
    assert isinstance(ledger.counters, JournaledDict) and ledger.counters == shared
    ledger.vacancies = {"v": 1}              # replaced by a caller: journaled at the next checkpoint
    checkpoint = ledger.checkpoint()
    ledger.vacancies["w"] = 2
    ledger.counters[("p", "1")].seen = 7
    ledger.rollback(checkpoint)
    assert ledger.vacancies == {"v": 1} and ledger.counters[("p", "1")].seen == 2
    again = pickle.loads(pickle.dumps(ledger.counters))
    assert again == ledger.counters and isinstance(again, JournaledDict)
    kept = again.journal()
    again[("p", "1")].seen = 9
    again.restore(kept)
    assert again[("p", "1")].seen == 2       # a pickled counters table still copies on write
