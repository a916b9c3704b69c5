"""The compact trail (`store.trail`): an offer round is one `decisions` row that still explains
every candidate, exactly as one row per candidate did."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, insert, select, text

from boligmix.letting.store import rounds, service
from boligmix.letting.store.engine_rules import EngineRules
from boligmix.letting.store.explain import explain_from_store
from boligmix.letting.store.models import Decision
from boligmix.letting.store.trail import ROUND, expand, pack, trail, unpack

from store_support import ORG, seed_stock

AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
NOW = datetime(2025, 1, 1, 12, 0)
_json_value = st.recursive(st.none() | st.booleans() | st.integers(-10**9, 10**9) | st.text(max_size=8)
                           | st.floats(allow_nan=False, allow_infinity=False),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner,
                                                                                         max_size=3), max_leaves=6)
_row = st.fixed_dictionaries({
    "outcome": st.sampled_from(["offered", "skipped", "rejected", "channel"]),
    "channel": st.sampled_from([None, "waiting_list", "annoncering"]),
    "rule": st.sampled_from(["a#x", "b#y", "c#z"]), "rule_version": st.sampled_from(["1", "2"]),
    "law": st.sampled_from([None, "almenboligloven § 51 c"]), "reason": st.text(max_size=12),
    "entry_id": st.none() | st.integers(1, 10**6), "applicant_id": st.none() | st.integers(1, 2**62),
    "household_id": st.none() | st.integers(1, 2**62), "offer_id": st.none() | st.integers(1, 10**6),
    "rank": st.none() | st.integers(1, 5000),
    "facts": st.dictionaries(st.sampled_from(["list_type", "rooms", "seniority_date", "priority_key", "x", "y"]),
                             _json_value, max_size=5),
    "unknown_facts": st.lists(st.sampled_from(["p", "q", "r"]), max_size=2, unique=True)})


@settings(max_examples=200, deadline=None)
@given(st.lists(_row, min_size=1, max_size=25))
def test_pack_then_unpack_gives_every_decision_back(rows):
    """Through JSON as the database stores it: every field of every decision, in order, including
    a fact whose value is null (kept apart from a fact the decision does not record)."""
    stored = SimpleNamespace(decision_id=41, created_at=AT, vacancy_id=7, dwelling_id=8, actor="t",
                             facts=json.loads(json.dumps(pack(rows))))
    out = unpack(stored)
    assert [d.position for d in out] == list(range(1, len(rows) + 1))
    for r, d in zip(rows, out):
        assert {k: getattr(d, k) for k in r} == {**r, "facts": json.loads(json.dumps(r["facts"]))}
        assert (d.decision_id, d.created_at, d.vacancy_id, d.dwelling_id, d.actor) == (41, AT, 7, 8, "t")


def _seed_round(store, org, n):
    [dw] = seed_stock(store, org, dwellings=1)

    def op(s):
        for i in range(n):  # every third household too large for 3 rooms: skipped by the size rule
            service.create_applicant(s, org, {"applicant_id": 5000 + i, "household_id": 6000 + i,
                                              "list_type": "external", "org_id": ORG,
                                              "household_size": 7 if i % 3 == 0 else 2,
                                              "seniority_date": date(2001, 1, 1) + timedelta(days=i)})
    store.transact(op)
    rules = EngineRules()
    vid = store.transact(lambda s: service.register_vacancy(
        s, org, {"dwelling_id": dw, "available_from": date(2025, 1, 1)}, rules=rules, now=NOW))["vacancy_id"]
    return dw, vid, rules


def _one_by_one(s, rows, *, actor, at):
    for row in rows:
        s.execute(insert(Decision.__table__).values(**row))
    return None


def test_a_round_is_one_row_that_explains_every_candidate(store, tokens, monkeypatch):
    """The round's decisions go into one row; read back they are exactly the decisions of a round
    that records every candidate in full (one row per decision before migration 0016, captured on
    their way in; the same round planned and rolled back), except that the candidates ranked below
    the offers (not reached) keep only the facts the ranking put them in order by (list type,
    seniority, priorities met, priority key); `letting explain`, the trail endpoint and the answer's
    `decisions` read them from that row."""
    _, org = tokens["org"]
    dw, vid, rules = _seed_round(store, org, 30)
    given_rows: list[dict] = []
    below_seen: list = []
    real = rounds.write_round

    def capture(s, rows, *, actor, at, below=None, as_of=None):
        given_rows.extend(dict(r) for r in rows)
        if below is not None:
            below_seen.append(below)
        return real(s, rows, actor=actor, at=at, below=below, as_of=as_of)
    monkeypatch.setattr(rounds, "write_round", capture)

    class Undo(Exception):
        pass

    def full_round(s):
        service.make_offers(s, org, vid, None, rules=rules, now=NOW)
        raise Undo
    monkeypatch.setattr(rules, "compact_ranking", False)
    try:
        store.transact(full_round)
    except Undo:
        pass
    full_rows, given_rows[:] = list(given_rows), []
    assert not below_seen and len(full_rows) == 30  # every candidate in full
    monkeypatch.setattr(rules, "compact_ranking", True)
    made = store.transact(lambda s: service.make_offers(s, org, vid, None, rules=rules, now=NOW))
    with store.read() as s:
        rows = s.execute(select(Decision.outcome, func.count()).where(Decision.vacancy_id == vid)
                         .group_by(Decision.outcome)).all()
        assert dict(rows) == {"channel": 1, ROUND: 1}  # one row for the whole round
        decisions = trail(s, Decision.vacancy_id == vid)
        listed = service.list_decisions(s, org, vid)
    considered = decisions[1:]
    [not_reached] = below_seen
    assert len(given_rows) + len(not_reached.entries) == 30 and len(not_reached.entries) > 5
    assert len(considered) == 30 == made["considered"]
    assert len({d.applicant_id for d in considered}) == 30
    compact_facts = ("list_type", "seniority_date", "priorities_met", "priority_key")
    other = ("created_at", "facts", "offer_id")  # offer ids: PostgreSQL's sequence does not roll back
    for d, r in zip(considered, full_rows):
        assert {k: getattr(d, k) for k in r if k not in other} == {k: v for k, v in r.items() if k not in other}
        assert (d.offer_id is None) == (r["offer_id"] is None)
        if d.facts.get("not_reached"):
            assert d.outcome == "skipped" and d.rank > 3 and d.rule.endswith("#ranking")
            assert d.facts == {**{k: r["facts"][k] for k in compact_facts}, "not_reached": True}
        else:
            assert d.facts == r["facts"]
    assert [d.facts.get("not_reached", False) for d in considered] == [False] * len(given_rows) + \
        [True] * len(not_reached.entries)  # the not-reached come last, in rank order
    assert [d.outcome for d in considered].count("offered") == len(made["offers"]) == 3  # offers_per_round
    too_big = [d for d in considered if (d.applicant_id - 5000) % 3 == 0]
    assert too_big and {(d.outcome, d.rule) for d in too_big} == {("skipped", "dk.venteliste#size_crowding")}
    assert made["decisions"] == listed[1:] and sum(made["outcomes"].values()) == 30
    # `letting explain` recomputes the facts a not-reached decision leaves out: as the full round recorded them
    last = considered[-1]
    assert last.facts.get("not_reached")
    [step] = [d for d in explain_from_store(store, last.applicant_id, dw).steps if d.facts.get("not_reached")]
    assert step.facts == {**full_rows[-1]["facts"], "not_reached": True, "recomputed_from_current_data": True}
    assert step.reason == full_rows[-1]["reason"] and step.rank == full_rows[-1]["rank"]
    assert considered[-1].as_of == NOW  # recomputed as of the round's time, not the row's
    # `letting explain` reads the compact row: a too-large household is told which rule skipped it
    big = explain_from_store(store, 5000, dw)
    assert not big.got_dwelling and [step.rule_id for step in big.steps if step.applicant_id == 5000] == \
        [too_big[0].rule]
    assert expand([]) == []


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_a_round_row_is_compressed_with_lz4_on_postgresql(store, tokens):
    """Migration 0017: the round rows' JSON is compressed with lz4 where PostgreSQL supports it
    (pglz cost about 1.2 ms of database CPU per 70 kB round row); the trail reads it back."""
    assert store.dialect == "postgresql"
    _, org = tokens["org"]
    dw, vid, rules = _seed_round(store, org, 150)
    made = store.transact(lambda s: service.make_offers(s, org, vid, None, rules=rules, now=NOW))
    with store.read() as s:
        supported = s.execute(text("SELECT 'lz4' = ANY(enumvals) FROM pg_settings "
                                   "WHERE name = 'default_toast_compression'")).scalar()
        size, method = s.execute(text("SELECT length(facts::text), pg_column_compression(facts) FROM decisions "
                                      "WHERE vacancy_id = :v AND outcome = 'round'"), {"v": vid}).one()
        assert len(trail(s, Decision.vacancy_id == vid)) == 1 + made["considered"] == 151
    assert size > 4000  # stored compressed (beyond the TOAST threshold)
    assert method == ("lz4" if supported else "pglz")


ANVISNING_ALL = ("id: k0101.anvisning_alle\nbase: dk.almenboligloven.59\nversion: '2024-01-01.1'\n"
                 "effective_from: 2010-01-01\nscope: {municipality_codes: [101], almen_types: [family]}\n"
                 "shares: {kommunal_anvisning: 1.0}\n")


def test_a_referral_round_is_compact_with_each_referrals_order(store, tokens, monkeypatch, tmp_path):
    """A kommunal anvisning round records its not-reached referrals compactly too, each with the
    municipality's referral order: read back, every decision is the full round's (captured, rolled
    back), less the facts the rules read, and `letting explain` recomputes those."""
    from boligmix.letting.policy import POLICY_DIR, load_policies

    (tmp_path / "k0101_anvisning.yaml").write_text(ANVISNING_ALL, encoding="utf-8")
    rules = EngineRules(load_policies([POLICY_DIR / "statutory", tmp_path]))
    _, org = tokens["org"]
    _, muni = tokens["muni"]
    [dw] = seed_stock(store, org, dwellings=1)

    def op(s):
        for i in range(40):
            service.create_applicant(s, muni, {
                "applicant_id": 7000 + i, "household_id": 8000 + i, "list_type": "municipal_referral",
                "municipality_code": 101, "household_size": 7 if i % 5 == 0 else 2,
                "referral_order": (i % 4) if i % 3 == 0 else None,
                "seniority_date": date(2001, 1, 1) + timedelta(days=i)})
    store.transact(op)
    vid = store.transact(lambda s: service.register_vacancy(
        s, org, {"dwelling_id": dw, "available_from": date(2025, 1, 1)}, rules=rules, now=NOW))["vacancy_id"]
    given_rows: list[dict] = []
    real = rounds.write_round

    def capture(s, rows, *, actor, at, below=None, as_of=None):
        given_rows.extend(dict(r) for r in rows)
        return real(s, rows, actor=actor, at=at, below=below, as_of=as_of)
    monkeypatch.setattr(rounds, "write_round", capture)

    class Undo(Exception):
        pass

    def full_round(s):
        service.make_offers(s, muni, vid, None, rules=rules, now=NOW)
        raise Undo
    monkeypatch.setattr(rules, "compact_ranking", False)
    try:
        store.transact(full_round)
    except Undo:
        pass
    full_rows, given_rows[:] = list(given_rows), []
    monkeypatch.setattr(rules, "compact_ranking", True)
    made = store.transact(lambda s: service.make_offers(s, muni, vid, None, rules=rules, now=NOW))
    assert made["channel"] == "kommunal_anvisning" and len(full_rows) == 40 == made["considered"]
    with store.read() as s:
        considered = trail(s, Decision.vacancy_id == vid)[1:]
    not_reached = [d for d in considered if d.facts.get("not_reached")]
    assert len(not_reached) > 20 and len(given_rows) + len(not_reached) == 40
    other = ("created_at", "facts", "offer_id")
    compact_facts = ("list_type", "seniority_date", "priorities_met", "priority_key", "referral_order")
    for d, r in zip(considered, full_rows):
        assert {k: getattr(d, k) for k in r if k not in other} == {k: v for k, v in r.items() if k not in other}
        if d.facts.get("not_reached"):
            assert d.facts == {**{k: r["facts"][k] for k in compact_facts}, "not_reached": True}
        else:
            assert d.facts == r["facts"]
    assert {d.facts["referral_order"] for d in not_reached} > {None}  # ordered and unordered referrals
    last = not_reached[-1]
    [step] = [x for x in explain_from_store(store, last.applicant_id, dw).steps if x.facts.get("not_reached")]
    assert step.facts == {**full_rows[-1]["facts"], "not_reached": True, "recomputed_from_current_data": True}
