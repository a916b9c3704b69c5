"""Hypothesis: under random interleavings of register/offer/accept/refuse/withdraw and retries, no
dwelling is let twice, no applicant housed twice, the best-ranked acceptor wins, a withdrawn
applicant holds no lease and no open offer, retries return their first result, and the audit trail
matches."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from boligmix.letting.store import follow_ups, service
from boligmix.letting.store.idempotency import run_idempotent
from boligmix.letting.store.models import Applicant, Lease, Offer, Vacancy
from boligmix.letting.store.trail import trail

from store_support import STORE_ORDER, seed_applicants, seed_stock

_world = itertools.count()

OPS = st.lists(
    st.one_of(
        st.tuples(st.just("vacancy"), st.integers(0, 1)),
        st.tuples(st.just("offers"), st.integers(0, 3), st.integers(1, 3)),
        st.tuples(st.just("accept"), st.integers(0, 7)),
        st.tuples(st.just("refuse"), st.integers(0, 7)),
        st.tuples(st.just("withdraw"), st.integers(0, 2)),
        st.tuples(st.just("retry"), st.integers(0, 20)),
    ),
    min_size=1, max_size=25,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_no_dwelling_let_twice_under_random_interleavings(store, tokens, ops):
    _, org = tokens["org"]
    world = next(_world)
    dept = f"ORG1-P{world}"
    dwellings = seed_stock(store, org, dwellings=2, department_id=dept, dwelling_base=10 * (world + 1))
    entries = seed_applicants(store, org, 3, start_id=1_000_000 * (world + 1))
    vacancies: list[int] = []
    offers: list[int] = []
    history: list[tuple[str, str, bytes, object, object]] = []  # key, path, body, op, first result

    def run(key: str, path: str, body: bytes, op):
        def wrapped(s):
            return 201, op(s)
        return run_idempotent(store, org, key, "POST", path, body, wrapped, lambda e: {"detail": str(e)})

    for step, action in enumerate(ops):
        key = f"w{world}-{step}"
        kind = action[0]
        if kind == "vacancy":
            dw = dwellings[action[1]]
            path, body = "/api/vacancies", str(dw).encode()

            def op(s, dw=dw):
                return service.register_vacancy(s, org, {"dwelling_id": dw, "available_from": date(2025, 1, 1)})
        elif kind == "offers":
            if not vacancies:
                continue
            vid, count = vacancies[action[1] % len(vacancies)], action[2]
            path, body = f"/api/vacancies/{vid}/offers", str(count).encode()

            def op(s, vid=vid, count=count):
                return service.make_offers(s, org, vid, count, rules=STORE_ORDER)
        elif kind in ("accept", "refuse"):
            if not offers:
                continue
            oid = offers[action[1] % len(offers)]
            path, body = f"/api/offers/{oid}/{kind}", b""
            fn = service.accept_offer if kind == "accept" else service.refuse_offer

            def op(s, oid=oid, fn=fn):
                return fn(s, org, oid)
        elif kind == "withdraw":
            entry = entries[action[1]]
            path, body = f"/api/applicants/{entry}/withdraw", b""

            def op(s, entry=entry):
                return follow_ups.withdraw_applicant(s, org, entry)
        else:
            if not history:
                continue
            key, path, body, op, first = history[action[1] % len(history)]
            again = run(key, path, body, op)
            assert (again.status_code, again.body) == first  # a retry returns the original result
            continue
        result = run(key, path, body, op)
        history.append((key, path, body, op, (result.status_code, result.body)))
        if result.status_code == 201 and kind == "vacancy":
            vacancies.append(result.body["vacancy_id"])
        if result.status_code == 201 and kind == "offers":
            offers.extend(o["offer_id"] for o in result.body["offers"])

    # Invariants over the whole database (all examples so far share it).
    with store.read() as s:
        vs = s.scalars(select(Vacancy)).all()
        leases = s.scalars(select(Lease)).all()
        os_ = s.scalars(select(Offer)).all()
        decisions = trail(s)
        housed = s.scalars(select(Applicant.entry_id).where(Applicant.status == "housed")).all()
        gone = set(s.scalars(select(Applicant.entry_id).where(Applicant.status == "withdrawn")).all())
        s.expunge_all()  # keep the loaded values after the read session ends
    # One lease per vacancy; a dwelling never has two open vacancies; let vacancies are those with a lease.
    assert len({x.vacancy_id for x in leases}) == len(leases)
    assert all(c <= 1 for c in Counter(v.dwelling_id for v in vs if v.status == "open").values())
    assert {v.vacancy_id for v in vs if v.status == "let"} == {x.vacancy_id for x in leases}
    # One lease per applicant entry, and exactly the housed entries have one.
    assert len({x.entry_id for x in leases}) == len(leases) and set(housed) == {x.entry_id for x in leases}
    # Offers and leases agree: every lease has its accepted offer; an accepted offer without a lease
    # (a provisional acceptance) waits on an open vacancy for a better-ranked open offer.
    leased = {x.offer_id for x in leases}
    assert leased <= {o.offer_id for o in os_ if o.status == "accepted"}
    assert {(x.vacancy_id, x.entry_id) for x in leases} == {
        (o.vacancy_id, o.entry_id) for o in os_ if o.offer_id in leased}
    status_of = {v.vacancy_id: v.status for v in vs}
    for o in os_:
        if o.status == "accepted" and o.offer_id not in leased:
            assert status_of[o.vacancy_id] == "open"
            assert any(b.vacancy_id == o.vacancy_id and b.offer_id < o.offer_id and b.status == "open" for b in os_)
    # The best-ranked acceptor won: no better-ranked offer of a let vacancy was withdrawn in its favour.
    let_to = {d.vacancy_id: d.offer_id for d in decisions if d.outcome == "let"}
    for d in decisions:
        if d.outcome == "withdrawn" and d.rule.endswith("#withdraw") and d.vacancy_id in let_to:
            assert d.offer_id > let_to[d.vacancy_id]
    # A withdrawn entry holds no lease and no open offer.
    assert not gone & {x.entry_id for x in leases}
    assert not gone & {o.entry_id for o in os_ if o.status == "open"}
    outcomes = Counter(d.outcome for d in decisions)
    assert outcomes["let"] == len(leases)
    assert outcomes["accepted"] >= sum(o.status == "accepted" and o.offer_id not in leased for o in os_)
    assert outcomes["offered"] == len(os_)
    assert outcomes["refused"] == sum(o.status == "refused" for o in os_)
    assert outcomes["withdrawn"] == sum(o.status == "withdrawn" for o in os_)
    assert outcomes["channel"] == len(vs)
