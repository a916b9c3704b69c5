"""Withdrawing an application (the applicant leaves the waiting list): the engine's `withdraw`.

Hand-written cases from the waiting-list rules (rules-spec 6: an applicant on the list may leave
it; an open offer to someone no longer on the list ends), and a Hypothesis invariant: whatever the
order of answers and withdrawals, a withdrawn applicant never gets a dwelling afterwards, and no
dwelling is let twice.
"""

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from letting_factories import NOW, applicant, decision_for, dwelling, vacancy

from boligmix.errors import LettingError
from boligmix.letting.engine import LettingEngine
from boligmix.letting.model import OfferStatus, Outcome
from boligmix.letting.policy import load_default_policies

POLICIES = load_default_policies()


def five():
    return [applicant(i, date(2015 + i, 1, 1)) for i in range(1, 6)]


def test_withdrawal_ends_the_open_offer_and_is_recorded_and_explained():
    engine = LettingEngine(POLICIES)
    r = engine.next_offers(vacancy(dwelling(1)), five(), None, NOW)
    first = r.offers[0]
    update = engine.withdraw(1, NOW + timedelta(hours=1), "moved abroad")
    assert [(o.offer_id, o.status) for o in update.offers] == [(first.offer_id, OfferStatus.WITHDRAWN)]
    [d] = update.decisions
    assert d.outcome == Outcome.WITHDRAWN and d.applicant_id == 1 and d.rule_id == "dk.venteliste#withdrawal"
    assert d.facts["withdrawn_by_applicant"] is True and "moved abroad" in d.reason
    with pytest.raises(LettingError, match="not open"):
        engine.accept(first.offer_id, NOW)
    why = engine.explain(1, 1)
    assert not why.got_dwelling and "withdrawn" in why.verdict and "moved abroad" in why.verdict


def test_withdrawal_of_a_better_ranked_offer_lets_the_waiting_acceptor():
    """Rank 3 accepted and waits for ranks 1 and 2; rank 1 refuses, rank 2 withdraws the
    application: no better-ranked offer is open any more, so rank 3 gets the dwelling."""
    engine = LettingEngine(POLICIES)
    r = engine.next_offers(vacancy(dwelling(1)), five(), None, NOW)
    first, second, third = r.offers
    engine.accept(third.offer_id, NOW)
    engine.refuse(first.offer_id, NOW)
    update = engine.withdraw(2, NOW + timedelta(days=1))
    assert [l.applicant_id for l in update.lettings] == [3]
    assert engine.ledger.offers[second.offer_id].status == OfferStatus.WITHDRAWN


def test_withdrawn_applicant_is_skipped_later_and_withdrawal_is_idempotent():
    engine = LettingEngine(POLICIES)
    engine.withdraw(1, NOW)
    assert engine.withdraw(1, NOW + timedelta(days=1)).decisions == ()   # nothing changes the second time
    r = engine.next_offers(vacancy(dwelling(2)), five(), None, NOW + timedelta(days=2))
    assert [o.applicant_id for o in r.offers] == [2, 3, 4]
    skip = decision_for(r, 1)
    assert skip.outcome == Outcome.SKIPPED and "withdrew the application on 2024-06-15" in skip.reason
    assert skip.rule_id == "dk.venteliste#list"
    assert "withdrew the application" in engine.explain(1, 2).verdict


def test_housed_applicant_cannot_withdraw():
    engine = LettingEngine(POLICIES)
    r = engine.next_offers(vacancy(dwelling(1)), five(), None, NOW)
    engine.accept(r.offers[0].offer_id, NOW)
    with pytest.raises(LettingError, match="was let a dwelling"):
        engine.withdraw(1, NOW)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(["accept", "refuse", "withdraw"]), st.integers(0, 5)),
                min_size=1, max_size=14))
def test_withdrawn_applicants_never_get_a_dwelling(steps):
    engine = LettingEngine(POLICIES)
    people = [applicant(i, date(2010 + i, 1, 1)) for i in range(1, 7)]
    now = NOW
    withdrawn: dict[int, int] = {}   # applicant -> number of lettings when they withdrew
    for vid in (1, 2):
        engine.next_offers(vacancy(dwelling(vid)), people, None, now)
    for action, who in steps:
        now += timedelta(minutes=5)
        aid = people[who].applicant_id
        if action == "withdraw":
            if aid in engine.ledger.housed:
                continue
            engine.withdraw(aid, now)
            withdrawn.setdefault(aid, len(engine.lettings))
            continue
        open_offers = [o for o in engine.ledger.offers.values()
                       if o.applicant_id == aid and o.status == OfferStatus.OPEN]
        for offer in open_offers[:1]:
            (engine.accept if action == "accept" else engine.refuse)(offer.offer_id, now)
    let_to = [l.applicant_id for l in engine.lettings]
    assert len(let_to) == len(set(let_to))                               # nobody housed twice
    assert len({l.dwelling_id for l in engine.lettings}) == len(engine.lettings)   # no dwelling let twice
    for aid in withdrawn:
        assert aid not in let_to
        assert not [o for o in engine.ledger.offers.values()
                    if o.applicant_id == aid and o.status in (OfferStatus.OPEN, OfferStatus.ACCEPTED)]
