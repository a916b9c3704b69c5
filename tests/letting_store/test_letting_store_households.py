"""One household, one dwelling: at most one open (or accepted) offer and one new lease per household,
across all its list entries and organisations, kept by the service and enforced by the database
(migration 0013); Hypothesis interleavings and concurrent rounds on PostgreSQL."""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from boligmix.errors import ConflictError
from boligmix.letting.store import follow_ups, service
from boligmix.letting.store.engine_rules import EngineRules
from boligmix.letting.store.models import Applicant, Lease, Offer

from store_support import STORE_ORDER, seed_applicants, seed_stock


def _vacancy(store, org, dwelling_id):
    return store.transact(lambda s: service.register_vacancy(
        s, org, {"dwelling_id": dwelling_id, "available_from": date(2025, 1, 1)}))["vacancy_id"]


def _on_three_lists(store, org, org2, applicant_id, **kw):
    """The same person (and household) on ORG1's internal and external lists and on ORG2's list."""
    return [*seed_applicants(store, org, 1, start_id=applicant_id, list_type="internal", **kw),
            *seed_applicants(store, org, 1, start_id=applicant_id, **kw),
            *seed_applicants(store, org2, 1, start_id=applicant_id, org_id="ORG2", **kw)]


@pytest.mark.parametrize("rules", [STORE_ORDER, EngineRules()], ids=["store-order", "engine"])
def test_a_household_on_several_lists_holds_one_offer_and_gets_one_lease(store, tokens, rules):
    _, org = tokens["org"]
    _, org2 = tokens["org2"]
    dw1, dw2 = seed_stock(store, org, dwellings=2)
    [dw3] = seed_stock(store, org2, dwellings=1, department_id="ORG2-01", org_id="ORG2")
    x = _on_three_lists(store, org, org2, 7, seniority_date=date(2000, 1, 1), household_size=2)
    others = (seed_applicants(store, org, 2, start_id=100, household_size=2)
              + seed_applicants(store, org2, 1, start_id=200, org_id="ORG2", household_size=2))
    v1, v2, v3 = _vacancy(store, org, dw1), _vacancy(store, org, dw2), _vacancy(store, org2, dw3)
    r1 = store.transact(lambda s: service.make_offers(s, org, v1, 2, rules=rules))
    mine = [o for o in r1["offers"] if o["applicant_id"] == 7]
    assert len(mine) == 1 and mine[0]["entry_id"] == x[0]  # one entry of the household (internal first)
    r2 = store.transact(lambda s: service.make_offers(s, org, v2, 2, rules=rules))
    r3 = store.transact(lambda s: service.make_offers(s, org2, v3, 2, rules=rules))
    assert all(o["applicant_id"] != 7 for o in r2["offers"] + r3["offers"])
    assert {o["entry_id"] for o in r2["offers"] + r3["offers"]} <= set(others)
    lease = store.transact(lambda s: service.accept_offer(s, org, mine[0]["offer_id"]))
    assert lease["applicant_id"] == 7
    # Housed: no further offer on any of the household's other entries (its other lists stay as they are).
    dw4 = seed_stock(store, org2, dwellings=1, department_id="ORG2-02", org_id="ORG2")[0]
    v4 = _vacancy(store, org2, dw4)
    r4 = store.transact(lambda s: service.make_offers(s, org2, v4, 2, rules=rules))
    assert all(o["applicant_id"] != 7 for o in r4["offers"])


def test_the_database_refuses_a_second_offer_or_lease_of_a_household(store, tokens):
    _, org = tokens["org"]
    _, org2 = tokens["org2"]
    dw1, dw2 = seed_stock(store, org, dwellings=2)
    internal, external, elsewhere = _on_three_lists(store, org, org2, 7)
    v1, v2 = _vacancy(store, org, dw1), _vacancy(store, org, dw2)
    o1 = store.transact(lambda s: service.make_offers(s, org, v1, 1, rules=STORE_ORDER))["offers"][0]
    assert o1["entry_id"] == internal

    class offer:  # one write transaction, not retried (store.transact retries household races)
        def __init__(self, vacancy_id, entry_id, applicant_id=7, household_id=50_007):
            self.row = dict(vacancy_id=vacancy_id, entry_id=entry_id, applicant_id=applicant_id,
                            household_id=household_id, rank=1, channel="waiting_list", rule="test",
                            rule_version="0", status="open")

    def write(o):
        with store.write() as s:
            s.add(Offer(**o.row))
            s.flush()
    # Written past the rules: a second open offer of the person (another entry, another organisation's list) ...
    for entry in (external, elsewhere):
        with pytest.raises(IntegrityError, match="(?i)unique"):
            write(offer(v2, entry))
    # ... of the household by another member's entry, or one that misstates the entry's person.
    [partner] = seed_applicants(store, org, 1, start_id=8, household_id=50_007)
    with pytest.raises(IntegrityError, match="(?i)unique"):
        write(offer(v2, partner, applicant_id=8))
    with pytest.raises(IntegrityError, match="(?i)foreign key"):
        write(offer(v2, external, applicant_id=9, household_id=None))
    store.transact(lambda s: service.accept_offer(s, org, o1["offer_id"]))
    # A lease for another entry of the housed household is refused too.
    with pytest.raises(IntegrityError, match="(?i)unique"):
        with store.write() as s:
            s.add(Lease(vacancy_id=v2, offer_id=o1["offer_id"] + 1000, entry_id=external, dwelling_id=dw2,
                        applicant_id=7, household_id=50_007, lease_start=date(2025, 1, 1), channel="waiting_list"))
            s.flush()


def test_accepting_a_stale_second_offer_of_a_household_is_impossible(store, tokens):
    """The former per-entry check let a household accept two offers (one per entry)."""
    _, org = tokens["org"]
    _, org2 = tokens["org2"]
    dw1, dw2 = seed_stock(store, org, dwellings=2)
    _on_three_lists(store, org, org2, 7, seniority_date=date(2000, 1, 1))
    v1, v2 = _vacancy(store, org, dw1), _vacancy(store, org, dw2)
    o1 = store.transact(lambda s: service.make_offers(s, org, v1, 1, rules=STORE_ORDER))["offers"][0]
    assert store.transact(lambda s: service.make_offers(s, org, v2, 1, rules=STORE_ORDER))["offers"] == []
    store.transact(lambda s: service.accept_offer(s, org, o1["offer_id"]))
    with pytest.raises(ConflictError):
        store.transact(lambda s: service.accept_offer(s, org, o1["offer_id"]))


_world = itertools.count()

OPS = st.lists(st.one_of(
    st.tuples(st.just("offers"), st.integers(0, 3), st.integers(1, 3)),
    st.tuples(st.just("accept"), st.integers(0, 11)),
    st.tuples(st.just("refuse"), st.integers(0, 11)),
    st.tuples(st.just("withdraw"), st.integers(0, 8)),
), min_size=1, max_size=20)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS, shapes=st.lists(st.sampled_from(["internal", "external", "org2", "partner"]), min_size=3,
                                max_size=3))
def test_one_dwelling_per_household_under_random_interleavings(store, tokens, ops, shapes):
    """Three households, each on one to three lists (ORG1 internal/external, ORG2) or split over two
    members' entries with one household id; random rounds, acceptances, refusals and withdrawals on
    vacancies of both organisations. At no point does a household hold two open or accepted offers,
    and it never gets two leases."""
    _, org = tokens["org"]
    _, org2 = tokens["org2"]
    world = next(_world)
    base = 1_000_000 * (world + 1)
    d1 = seed_stock(store, org, dwellings=2, department_id=f"ORG1-H{world}", dwelling_base=base)
    d2 = seed_stock(store, org2, dwellings=2, department_id=f"ORG2-H{world}", org_id="ORG2",
                    dwelling_base=base + 100)
    entries: list[tuple[object, int]] = []
    for h in range(3):
        person, household = base + h, base + 500 + h
        for shape in sorted(set(shapes[h:] + shapes[:1])):
            if shape == "org2":
                entries += [(org2, e) for e in seed_applicants(store, org2, 1, start_id=person, org_id="ORG2",
                                                               household_id=household)]
            elif shape == "partner":
                entries += [(org, e) for e in seed_applicants(store, org, 1, start_id=person + 50,
                                                              household_id=household)]
            else:
                entries += [(org, e) for e in seed_applicants(store, org, 1, start_id=person, list_type=shape,
                                                              household_id=household)]
    vacancies = [(org, _vacancy(store, org, d)) for d in d1] + [(org2, _vacancy(store, org2, d)) for d in d2]
    offers: list[tuple[object, int]] = []
    for action in ops:
        kind = action[0]
        try:
            if kind == "offers":
                who, vid = vacancies[action[1]]
                made = store.transact(lambda s: service.make_offers(s, who, vid, action[2], rules=STORE_ORDER))
                offers += [(who, o["offer_id"]) for o in made["offers"]]
            elif kind in ("accept", "refuse") and offers:
                who, oid = offers[action[1] % len(offers)]
                fn = service.accept_offer if kind == "accept" else service.refuse_offer
                store.transact(lambda s: fn(s, who, oid))
            elif kind == "withdraw":
                who, entry = entries[action[1] % len(entries)]
                store.transact(lambda s: follow_ups.withdraw_applicant(s, who, entry))
        except ConflictError:
            pass
        with store.read() as s:
            held = s.execute(select(Applicant.household_id, Offer.offer_id).select_from(Offer).join(
                Applicant, Applicant.entry_id == Offer.entry_id).where(Offer.status.in_(("open", "accepted")))).all()
            leases = s.execute(select(Applicant.household_id).select_from(Lease)
                               .join(Applicant, Applicant.entry_id == Lease.entry_id)
                               ).scalars().all()
        assert all(n == 1 for n in Counter(h for h, _ in held).values()), held
        assert all(n == 1 for n in Counter(leases).values()), leases


@pytest.mark.postgres
def test_concurrent_rounds_of_two_organisations_offer_a_household_once(pg_databases, tmp_path):
    """Rounds of ORG1 and ORG2 at the same moment, both lists headed by one household: exactly one
    round offers it (the other's insert meets the unique index, is retried and passes it over)."""
    from boligmix.letting.store.db import Store
    from store_support import add_token

    url = pg_databases.new()
    store = Store(url, pool_size=4)
    try:
        _, org = add_token(store, "o1", "housing_organisation", ["ORG1"])
        _, org2 = add_token(store, "o2", "housing_organisation", ["ORG2"])
        for rounds in range(6):
            d1 = seed_stock(store, org, dwellings=1, department_id=f"A{rounds}", dwelling_base=10 * rounds)
            d2 = seed_stock(store, org2, dwellings=1, department_id=f"B{rounds}", org_id="ORG2",
                            dwelling_base=10 * rounds + 5)
            person = 900 + rounds
            seed_applicants(store, org, 1, start_id=person, seniority_date=date(1990, 1, 1))
            seed_applicants(store, org2, 1, start_id=person, org_id="ORG2", seniority_date=date(1990, 1, 1))
            seed_applicants(store, org, 1, start_id=5000 + rounds)
            seed_applicants(store, org2, 1, start_id=6000 + rounds, org_id="ORG2")
            v1, v2 = _vacancy(store, org, d1[0]), _vacancy(store, org2, d2[0])
            barrier = threading.Barrier(2)
            got: dict[int, list[int]] = {}

            def run(who, vid):
                barrier.wait()
                got[vid] = [o["applicant_id"] for o in store.transact(
                    lambda s: service.make_offers(s, who, vid, 1, rules=STORE_ORDER))["offers"]]
            threads = [threading.Thread(target=run, args=a) for a in ((org, v1), (org2, v2))]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert sorted(got) == sorted([v1, v2])
            assert [a for offered in got.values() for a in offered].count(person) == 1, got
    finally:
        store.dispose()


@pytest.mark.postgres
def test_concurrent_engine_rounds_lock_ahead_and_offer_disjoint_households(pg_databases):
    """Statutory rounds of one organisation at the same moment: each locks the first free
    households of the engine's whole ranking (no re-planning per lost race); the rounds' offers are
    disjoint, each round offers as many as the policy's round size, and every decision trail is
    consistent with its offers."""
    from boligmix.letting.store.db import Store
    from store_support import add_token

    url = pg_databases.new()
    store = Store(url, pool_size=6)
    try:
        _, org = add_token(store, "o1", "housing_organisation", ["ORG1"])
        dws = seed_stock(store, org, dwellings=4, department_id="E1", dwelling_base=70)
        seed_applicants(store, org, 30, household_size=3)
        rules = EngineRules()
        vids = [_vacancy(store, org, dw) for dw in dws]
        barrier = threading.Barrier(len(vids))
        made: dict[int, dict] = {}

        def run(vid):
            barrier.wait()
            made[vid] = store.transact(lambda s: service.make_offers(s, org, vid, None, rules=rules))
        threads = [threading.Thread(target=run, args=(v,)) for v in vids]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        offered = [o["applicant_id"] for r in made.values() for o in r["offers"]]
        assert len(offered) == len(set(offered)) and len({len(r["offers"]) for r in made.values()}) == 1
        assert len(made[vids[0]]["offers"]) >= 1
        for r in made.values():
            ids = {o["offer_id"] for o in r["offers"]}
            assert {d["offer_id"] for d in r["decisions"] if d["outcome"] == "offered"} == ids
    finally:
        store.dispose()
