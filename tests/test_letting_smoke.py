"""The packaged letting policies load and one offer round runs end to end."""

from datetime import date

from letting_factories import NOW, applicant, dwelling, vacancy

from boligmix.letting.engine import LettingEngine
from boligmix.letting.model import Outcome
from boligmix.letting.policy import load_default_policies


def test_packaged_policies_load_with_and_without_local_examples():
    assert len(load_default_policies()) >= 9
    assert len(load_default_policies(include_local_examples=True)) > len(load_default_policies())


def test_one_round_offers_by_seniority_and_lets_to_the_acceptor():
    engine = LettingEngine(load_default_policies())
    apps = [applicant(1, date(2021, 1, 1)), applicant(2, date(2019, 1, 1)), applicant(3, date(2020, 1, 1))]
    round_ = engine.next_offers(vacancy(dwelling(1)), apps, None, NOW)
    assert [o.applicant_id for o in round_.offers] == [2, 3, 1]
    update = engine.accept(round_.offers[0].offer_id, NOW)
    assert [l.applicant_id for l in update.lettings] == [2]
    assert {d.outcome for d in update.decisions} >= {Outcome.ACCEPTED, Outcome.LET, Outcome.WITHDRAWN}
