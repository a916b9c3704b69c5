"""Reactivation of passive waiting-list entries in the letting store and API: scope by role,
idempotency, the `reactivated` decision, seniority and refusals as the waiting-list policy says;
and a Hypothesis check that reactivation never lets a dwelling (or houses an applicant) twice."""

from __future__ import annotations

import itertools
from pathlib import Path
from collections import Counter
from datetime import date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from boligmix.errors import AuthorizationError, ConflictError
from boligmix.letting.policy import POLICY_DIR, load_policies
from boligmix.letting.store import follow_ups, service
from boligmix.letting.store.engine_rules import EngineRules
from boligmix.letting.store.models import Applicant, Decision, Lease, Offer, Vacancy
from boligmix.letting.store.trail import trail
from boligmix.web.app import create_app

from store_support import STORE_ORDER, seed_applicants, seed_stock

NOW = datetime(2024, 6, 15, 10, 0)


def _make_passive(store, org, rules, *, department_id="ORG1-01"):
    """Entry `first` refuses three engine offers and is set passive; `second` refuses without
    rules (counted only). Returns the two entries and the remaining dwellings."""
    dws = seed_stock(store, org, dwellings=6, department_id=department_id)
    first, second = seed_applicants(store, org, 2, household_size=3)
    for dw in dws[:3]:
        vid = store.transact(lambda s, dw=dw: service.register_vacancy(
            s, org, {"dwelling_id": dw, "available_from": date(2025, 4, 1)}, rules=rules, now=NOW))["vacancy_id"]
        made = store.transact(lambda s, vid=vid: service.make_offers(s, org, vid, None, rules=rules, now=NOW))
        for o in made["offers"]:
            store.transact(lambda s, o=o: service.refuse_offer(
                s, org, o["offer_id"], rules=rules if o["entry_id"] == first else STORE_ORDER, now=NOW))
    return first, second, dws[3:]


def _entry(store, entry_id):
    with store.read() as s:
        e = s.get(Applicant, entry_id)
        s.expunge(e)
        return e


def test_reactivate_over_http_with_scope_idempotency_and_trail(db_url, store, tokens):
    rules = EngineRules()
    _, org = tokens["org"]
    first, second, rest = _make_passive(store, org, rules)
    assert _entry(store, first).passive_since is not None
    with TestClient(create_app(db_url, pool_size=2, rules=rules)) as client:
        def post(who, entry, key=None):
            headers = {"Authorization": f"Bearer {tokens[who][0]}"}
            if key:
                headers["Idempotency-Key"] = key
            return client.post(f"/api/applicants/{entry}/reactivate", headers=headers,
                               json={"as_of": "2024-07-01T09:00:00"})

        assert post("org2", first).status_code == 403       # another organisation's waiting list
        assert post("muni", first).status_code == 403       # a municipality: only its referral lists
        assert post("analyst", first).status_code == 403    # read only
        assert post("org", 999_999).status_code == 404
        assert post("org", second).status_code == 409      # counted refusals, never set passive
        r = post("org", first, key="re-1")
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["passive_since"] is None and body["refusal_count"] == 0
        assert body["seniority_date"] == "2010-01-01"       # dk.venteliste keeps seniority (default)
        again = post("org", first, key="re-1")
        assert again.status_code == 200 and again.json() == body
        assert again.headers.get("Idempotency-Replayed") == "true"
        assert post("org", first).status_code == 409        # a new request: not passive any more

    with store.read() as s:
        passive = s.scalar(select(Decision).where(Decision.entry_id == first, Decision.outcome == "passive"))
        [react] = s.scalars(select(Decision).where(Decision.outcome == "reactivated")).all()
        assert react.vacancy_id == passive.vacancy_id and react.rule == "dk.venteliste#reactivation"
        assert react.rule_version == "2010-01-01.3" and react.actor == "org1"
        assert react.facts["passive_decision_id"] == passive.decision_id and react.facts["refusals_before"] == 3
        assert react.facts["reactivation_keeps_seniority"] is True
        passive_vacancy = passive.vacancy_id
    trail = store.transact(lambda s: service.list_decisions(s, org, passive_vacancy))
    assert [d["outcome"] for d in trail if d["entry_id"] == first][-2:] == ["passive", "reactivated"]

    # Back among the candidates: the 4th vacancy goes to kommunal anvisning, the 5th to the list.
    store.transact(lambda s: service.register_vacancy(
        s, org, {"dwelling_id": rest[0], "available_from": date(2025, 4, 1)}, rules=rules, now=NOW))
    vid = store.transact(lambda s: service.register_vacancy(
        s, org, {"dwelling_id": rest[1], "available_from": date(2025, 4, 1)}, rules=rules, now=NOW))["vacancy_id"]
    made = store.transact(lambda s: service.make_offers(s, org, vid, None, rules=rules, now=NOW))
    assert first in [o["entry_id"] for o in made["offers"]]
    mine = next(o for o in made["offers"] if o["entry_id"] == first)
    store.transact(lambda s: service.refuse_offer(s, org, mine["offer_id"], rules=rules, now=NOW))
    assert _entry(store, first).passive_since is None and _entry(store, first).refusal_count == 1


def test_reactivation_switches_of_a_local_policy(store, tokens, tmp_path):
    (tmp_path / "wl.yaml").write_text(
        "id: k0101.venteliste\nbase: dk.venteliste\nversion: '2024.1'\neffective_from: 2010-01-01\n"
        "scope: {municipality_codes: [101]}\n"
        "switches: {reactivation_keeps_seniority: false, reactivation_resets_refusals: false}\n", encoding="utf-8")
    rules = EngineRules(load_policies([POLICY_DIR / "statutory", tmp_path]))
    _, org = tokens["org"]
    first, _second, _ = _make_passive(store, org, rules)
    when = datetime(2024, 8, 1, 12, 0)
    out = store.transact(lambda s: follow_ups.reactivate_applicant(s, org, first, rules=rules, now=when))
    assert out["seniority_date"] == "2024-08-01" and out["refusal_count"] == 3 and out["passive_since"] is None
    with store.read() as s:
        react = s.scalar(select(Decision).where(Decision.outcome == "reactivated"))
        assert react.rule == "k0101.venteliste#reactivation" and react.facts["seniority_date_before"] == "2010-01-01"


def test_housed_or_referral_entries(store, tokens):
    """A housed entry cannot be reactivated (409); a municipality reaches only its referral entries."""
    rules = EngineRules()
    _, org = tokens["org"]
    [dw] = seed_stock(store, org, dwellings=1)
    [entry] = seed_applicants(store, org, 1, household_size=3)
    vid = store.transact(lambda s: service.register_vacancy(
        s, org, {"dwelling_id": dw, "available_from": date(2025, 4, 1)}, rules=rules, now=NOW))["vacancy_id"]
    [offer] = store.transact(lambda s: service.make_offers(s, org, vid, None, rules=rules, now=NOW))["offers"]
    store.transact(lambda s: service.accept_offer(s, org, offer["offer_id"], now=NOW))
    with pytest.raises(ConflictError, match="housed"):
        store.transact(lambda s: follow_ups.reactivate_applicant(s, org, entry, rules=rules))
    _, muni = tokens["muni"]
    ref = store.transact(lambda s: service.create_applicant(s, muni, {
        "applicant_id": 5, "list_type": "municipal_referral", "municipality_code": 101,
        "seniority_date": date(2020, 1, 1)}))["entry_id"]
    with pytest.raises(ConflictError, match="not passive"):           # in scope, but not passive
        store.transact(lambda s: follow_ups.reactivate_applicant(s, muni, ref, rules=rules))


_world = itertools.count()


def _one_refusal_rules() -> EngineRules:
    """The statutory policies with a local waiting list that sets an entry passive after one refusal
    (so random sequences reach passive status and reactivation often)."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="bmx-wl-") as name:   # read at once, then removed
        folder = Path(name)
        (folder / "wl.yaml").write_text(
            "id: k0101.venteliste\nbase: dk.venteliste\nversion: '1'\neffective_from: 2010-01-01\n"
            "scope: {municipality_codes: [101]}\nround: {offers_per_round: 2, answer_days: 7, passive_after_refusals: 1}\n",
            encoding="utf-8")
        return EngineRules(load_policies([POLICY_DIR / "statutory", folder]))


_RULES = _one_refusal_rules()
OPS = st.lists(st.one_of(
    st.tuples(st.just("vacancy"), st.integers(0, 3)),
    st.tuples(st.just("offers"), st.integers(0, 3)),
    st.tuples(st.just("accept"), st.integers(0, 9)),
    st.tuples(st.just("refuse"), st.integers(0, 9)),
    st.tuples(st.just("reactivate"), st.integers(0, 2)),
    st.tuples(st.just("expire"), st.integers(0, 3)),
), min_size=5, max_size=40)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_property_reactivation_never_lets_twice(store, tokens, ops):
    _, org = tokens["org"]
    world = next(_world)
    dws = seed_stock(store, org, dwellings=4, department_id=f"ORG1-R{world}", dwelling_base=100 * (world + 1))
    entries = seed_applicants(store, org, 3, start_id=1_000_000 * (world + 1), household_size=3)
    vacancies: list[int] = []
    offers: list[int] = []
    now = NOW
    for kind, k in ops:
        now += timedelta(hours=1)
        try:
            if kind == "vacancy":
                v = store.transact(lambda s: service.register_vacancy(
                    s, org, {"dwelling_id": dws[k], "available_from": date(2025, 1, 1)}, rules=_RULES, now=now))
                vacancies.append(v["vacancy_id"])
            elif kind == "offers" and vacancies:
                vid = vacancies[k % len(vacancies)]
                made = store.transact(lambda s: service.make_offers(s, org, vid, None, rules=_RULES, now=now))
                offers += [o["offer_id"] for o in made["offers"]]
            elif kind in ("accept", "refuse") and offers:
                oid = offers[k % len(offers)]
                if kind == "accept":
                    store.transact(lambda s: service.accept_offer(s, org, oid, rules=_RULES, now=now))
                else:
                    store.transact(lambda s: service.refuse_offer(s, org, oid, rules=_RULES, now=now))
            elif kind == "reactivate":
                with store.read() as s:  # mostly a passive entry (else the request is refused: 409)
                    passive = sorted(s.scalars(select(Applicant.entry_id).where(
                        Applicant.entry_id.in_(entries), Applicant.passive_since.is_not(None))))
                target = (passive or entries)[k % len(passive or entries)]
                store.transact(lambda s: follow_ups.reactivate_applicant(s, org, target, rules=_RULES, now=now))
            elif kind == "expire" and vacancies:
                vid = vacancies[k % len(vacancies)]
                now += timedelta(days=8)
                store.transact(lambda s: service.expire_offers(s, org, vid, now, rules=_RULES))
        except (ConflictError, AuthorizationError):
            pass  # let already, offer closed, not passive, a referral vacancy, ...: refused, nothing changed
    with store.read() as s:
        vs = s.scalars(select(Vacancy)).all()
        leases = s.scalars(select(Lease)).all()
        os_ = s.scalars(select(Offer)).all()
        decisions = trail(s)
        passive_now = set(s.scalars(select(Applicant.entry_id).where(Applicant.passive_since.is_not(None))))
        s.expunge_all()
    assert len({x.vacancy_id for x in leases}) == len(leases)
    assert len({x.entry_id for x in leases}) == len(leases)
    assert all(c <= 1 for c in Counter(v.dwelling_id for v in vs if v.status == "open").values())
    assert {v.vacancy_id for v in vs if v.status == "let"} == {x.vacancy_id for x in leases}
    passive: set[int] = set()
    for d in decisions:                               # in order: no offer to an entry while passive
        if d.outcome == "passive":
            assert d.entry_id not in passive
            passive.add(d.entry_id)
        elif d.outcome == "reactivated":
            assert d.entry_id in passive
            passive.discard(d.entry_id)
        elif d.outcome == "offered":
            assert d.entry_id not in passive
    assert passive == passive_now
    outcomes = Counter(d.outcome for d in decisions)
    assert outcomes["let"] == len(leases) and outcomes["offered"] == len(os_)
    event(f"passive={bool(outcomes['passive'])} reactivated={bool(outcomes['reactivated'])}")
