"""Offer rounds: several offers at once, deadlines, refusals, passive status, lettings."""

from datetime import date, timedelta

import pytest
from letting_factories import NOW, applicant, decision_for, dwelling, vacancy

from boligmix.errors import LettingError
from boligmix.letting.engine import LettingEngine
from boligmix.letting.model import Channel, ListType, OfferStatus, Outcome
from boligmix.letting.policy import load_default_policies


@pytest.fixture(scope="module")
def policies():
    return load_default_policies()


@pytest.fixture()
def engine(policies):
    return LettingEngine(policies)


def five():
    return [applicant(i, date(2015 + i, 1, 1)) for i in range(1, 6)]


def test_round_offers_three_with_a_deadline_and_ranks_the_rest(engine):
    r = engine.next_offers(vacancy(dwelling(1)), five(), None, NOW)
    assert [o.applicant_id for o in r.offers] == [1, 2, 3]
    assert all(o.deadline == NOW + timedelta(days=7) for o in r.offers)
    skipped = decision_for(r, 4)
    assert skipped.outcome == Outcome.SKIPPED and skipped.rank == 4


def test_lower_ranked_acceptor_waits_for_better_ranked_answers(engine):
    r = engine.next_offers(vacancy(dwelling(1)), five(), None, NOW)
    first, second, third = r.offers
    assert engine.accept(third.offer_id, NOW).lettings == ()
    assert engine.refuse(first.offer_id, NOW).lettings == ()
    update = engine.refuse(second.offer_id, NOW + timedelta(days=1))
    assert [l.applicant_id for l in update.lettings] == [3]
    assert engine.ledger.offers[third.offer_id].status == OfferStatus.WON


def test_best_ranked_acceptor_wins_and_other_offers_are_withdrawn(engine):
    r = engine.next_offers(vacancy(dwelling(1)), five(), None, NOW)
    update = engine.accept(r.offers[0].offer_id, NOW)
    assert [l.applicant_id for l in update.lettings] == [1]
    withdrawn = [d.applicant_id for d in update.decisions if d.outcome == Outcome.WITHDRAWN]
    assert withdrawn == [2, 3]
    with pytest.raises(LettingError, match="not open"):
        engine.accept(r.offers[1].offer_id, NOW)
    with pytest.raises(LettingError, match="already let"):
        engine.next_offers(vacancy(dwelling(1)), five(), None, NOW)


def test_expiry_counts_as_refusal_and_next_round_skips_earlier_offers(engine):
    v = vacancy(dwelling(1))
    r1 = engine.next_offers(v, five(), None, NOW)
    with pytest.raises(LettingError, match="open offer"):
        engine.next_offers(v, five(), None, NOW)
    later = NOW + timedelta(days=8)
    with pytest.raises(LettingError, match="deadline"):
        engine.accept(r1.offers[0].offer_id, later)
    expired = engine.expire(later)
    assert [d.applicant_id for d in expired.decisions if d.outcome == Outcome.EXPIRED] == [1, 2, 3]
    assert engine.ledger.refusals == {1: 1, 2: 1, 3: 1}
    r2 = engine.next_offers(v, five(), None, later)
    assert r2.number == 2 and [o.applicant_id for o in r2.offers] == [4, 5]
    assert "earlier round" in decision_for(r2, 1).reason


def test_passive_after_three_refusals_then_skipped(engine):
    a = applicant(1, date(2010, 1, 1), refusal_count=1)
    for i in (1, 2):
        r = engine.next_offers(vacancy(dwelling(i)), [a], None, NOW)
        update = engine.refuse(r.offers[0].offer_id, NOW)
    passive = [d for d in update.decisions if d.outcome == Outcome.PASSIVE]
    assert len(passive) == 1 and passive[0].facts["refusals"] == 3
    r3 = engine.next_offers(vacancy(dwelling(3)), [a, applicant(2)], None, NOW)
    assert decision_for(r3, 1).outcome == Outcome.SKIPPED and "passive" in decision_for(r3, 1).reason
    assert [o.applicant_id for o in r3.offers] == [2]


def test_refusing_a_municipal_referral_does_not_count(engine):
    ref = applicant(9, list_type=ListType.MUNICIPAL_REFERRAL)
    from boligmix.letting.engine import LettingContext
    for i in range(1, 5):
        r = engine.next_offers(vacancy(dwelling(i)), [applicant(100 + i)], LettingContext(referrals=[ref]), NOW)
    assert r.channel == Channel.KOMMUNAL_ANVISNING
    engine.refuse(r.offers[0].offer_id, NOW)
    assert 9 not in engine.ledger.refusals


def test_internal_winner_is_recorded_as_internal_channel(engine):
    internal = applicant(1, list_type=ListType.INTERNAL, current_department_id="ORG1-1", current_org_id="ORG1")
    r = engine.next_offers(vacancy(dwelling(1)), [internal], None, NOW)
    letting = engine.accept(r.offers[0].offer_id, NOW).lettings[0]
    assert letting.channel == Channel.INTERNAL and letting.lease_start == date(2024, 7, 1)


def test_other_organisations_applicants_are_skipped_with_a_reason(engine):
    r = engine.next_offers(vacancy(dwelling(1)), [applicant(1, org_id="ORG2"), applicant(2)], None, NOW)
    assert decision_for(r, 1).outcome == Outcome.SKIPPED and "ORG2" in decision_for(r, 1).reason
    with pytest.raises(LettingError, match="twice"):
        engine.next_offers(vacancy(dwelling(2)), [applicant(2), applicant(2)], None, NOW)


def test_plan_offers_is_stateless_and_takes_the_callers_channel(policies):
    from boligmix.letting.engine import plan_offers
    apps = five()
    first = plan_offers(policies, vacancy(dwelling(1)), apps, Channel.WAITING_LIST, NOW)
    again = plan_offers(policies, vacancy(dwelling(1)), apps, Channel.WAITING_LIST, NOW)
    assert [o.applicant_id for o in first.offers] == [o.applicant_id for o in again.offers] == [1, 2, 3]
    refs = [applicant(9, list_type=ListType.MUNICIPAL_REFERRAL), applicant(8, list_type=ListType.MUNICIPAL_REFERRAL)]
    referral = plan_offers(policies, vacancy(dwelling(2)), refs, Channel.KOMMUNAL_ANVISNING, NOW)
    assert referral.channel == Channel.KOMMUNAL_ANVISNING and {o.applicant_id for o in referral.offers} == {8, 9}
    passive = plan_offers(policies, vacancy(dwelling(3)), [applicant(1, passive=True), applicant(2)],
                          Channel.WAITING_LIST, NOW)
    assert [o.applicant_id for o in passive.offers] == [2]


def test_lettings_table_has_the_data_model_columns(engine):
    from boligmix.data.schema import LETTINGS
    from boligmix.letting.export import lettings_table
    r = engine.next_offers(vacancy(dwelling(1)), five(), None, NOW)
    engine.accept(r.offers[0].offer_id, NOW)
    table = lettings_table(engine.lettings)
    assert table.columns == list(LETTINGS.column_names)
    assert table.row(0) == (1, 1, 100, date(2024, 7, 1), "waiting_list")


def test_engine_explains_its_own_log(engine):
    r = engine.next_offers(vacancy(dwelling(1)), five(), None, NOW)
    engine.accept(r.offers[0].offer_id, NOW)
    assert engine.explain(1, 1).got_dwelling
    assert "withdrawn" in engine.explain(2, 1).verdict


def test_a_failed_round_leaves_no_trace(engine):
    good = five()
    bad = applicant(9, facts={"household.employed_or_in_education": "yes"})
    from boligmix.errors import DataValidationError
    udsat = vacancy(dwelling(1, categories=("udsat",)))
    with pytest.raises(DataValidationError):
        engine.next_offers(udsat, [*good, bad], None, NOW)
    assert engine.decisions == [] and engine.ledger.counters == {} and engine.ledger.vacancies == {}
    r = engine.next_offers(udsat, good, None, NOW)
    assert r.number == 1 and r.decisions[0].sequence == 1


def test_a_housed_applicant_leaves_other_rounds(engine):
    apps = five()
    r1 = engine.next_offers(vacancy(dwelling(1)), apps, None, NOW)
    r2 = engine.next_offers(vacancy(dwelling(2)), apps, None, NOW)
    # applicant 2 accepts dwelling 2 but waits for applicant 1 there; applicant 1 takes dwelling 1
    engine.accept(r2.offers[1].offer_id, NOW)
    update = engine.accept(r1.offers[0].offer_id, NOW)
    assert sorted(l.applicant_id for l in update.lettings) == [1, 2]
    withdrawn = [d for d in update.decisions if d.outcome == Outcome.WITHDRAWN and d.vacancy_id == "V2"]
    assert [d.applicant_id for d in withdrawn] == [1, 3]
    assert "let dwelling 1" in withdrawn[0].reason
    r3 = engine.next_offers(vacancy(dwelling(3)), apps, None, NOW)
    assert [o.applicant_id for o in r3.offers] == [3, 4, 5]
    assert "already housed" in decision_for(r3, 1).reason
