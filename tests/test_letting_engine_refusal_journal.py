"""A round stores an applicant's refusal count handed in only when it differs from the one the
ledger keeps (absent = 0): unchanged counts leave no entry in the round's checkpoint journal, a
changed count is journalled with its old value (and restored by a rollback), and the round offers
and decides exactly what it does with every count stored beforehand."""

from dataclasses import replace
from datetime import datetime

import numpy as np

from boligmix.letting.engine import LettingEngine
from boligmix.letting.ledger import _ABSENT
from boligmix.letting.model import Channel
from boligmix.letting.scenario import ScenarioSettings, make_applicants, make_vacancy
from boligmix.simulate.scenario import build_policy_set

NOW = datetime(2025, 3, 3, 9)


def _setup(seed=7, n=60):
    rng = np.random.default_rng(seed)
    settings = ScenarioSettings(applicants=n)
    applicants = [replace(a, refusal_count=(2 if k % 7 == 3 else 0))
                  for k, a in enumerate(make_applicants(rng, settings))]
    vacancies = [make_vacancy(rng, j, settings, NOW.date()) for j in range(3)]
    return build_policy_set([], {}, "test"), applicants, vacancies


def _round(engine, vacancy, applicants):
    engine.ledger.vacancy_channel[vacancy.vacancy_id] = Channel.WAITING_LIST
    return engine.next_offers(vacancy, applicants, None, NOW)


def _view(offer_round, decisions):
    return ([(o.applicant_id, o.rank) for o in offer_round.offers],
            [(d.outcome, d.applicant_id, d.rank, d.rule_id, d.reason) for d in decisions])


def test_unchanged_refusal_counts_leave_no_journal_entry():
    policies, applicants, vacancies = _setup()
    nonzero = {a.applicant_id: 2 for a in applicants if a.refusal_count}
    assert nonzero and len(nonzero) < len(applicants)
    engine = LettingEngine(policies)
    ledger = engine.ledger

    checkpoint = ledger.checkpoint()  # held here, so its journals record what the round writes
    _round(engine, vacancies[0], applicants)
    saved = checkpoint["journals"]["base_refusals"].saved
    assert saved == {aid: _ABSENT for aid in nonzero}  # a count of 0 equals the absent one: no write
    assert dict(ledger.base_refusals) == nonzero

    checkpoint = ledger.checkpoint()
    _round(engine, vacancies[1], applicants)
    assert checkpoint["journals"]["base_refusals"].saved == {}  # nothing changed, nothing journalled

    first_two = next(a for a in applicants if a.refusal_count), next(a for a in applicants if not a.refusal_count)
    new_count = {id(first_two[0]): 0, id(first_two[1]): 1}  # 2 -> 0 and 0 -> 1
    changed = [replace(a, refusal_count=new_count[id(a)]) if id(a) in new_count else a for a in applicants]
    checkpoint = ledger.checkpoint()
    _round(engine, vacancies[2], changed)
    assert checkpoint["journals"]["base_refusals"].saved == {first_two[0].applicant_id: 2,
                                                             first_two[1].applicant_id: _ABSENT}
    assert ledger.base_refusals[first_two[0].applicant_id] == 0
    assert ledger.base_refusals[first_two[1].applicant_id] == 1
    ledger.rollback(checkpoint)
    assert dict(ledger.base_refusals) == nonzero


def test_a_round_decides_as_with_every_count_stored():
    policies, applicants, vacancies = _setup(seed=11)
    sparse, full = LettingEngine(policies), LettingEngine(policies)
    full.ledger.base_refusals.update({a.applicant_id: a.refusal_count for a in applicants})  # main's state
    for vacancy in vacancies:
        a = _round(sparse, vacancy, applicants)
        b = _round(full, vacancy, applicants)
        assert _view(a, sparse.ledger.decisions) == _view(b, full.ledger.decisions)
    for engine in (sparse, full):  # every offered applicant refuses: the count before this engine decides
        for offer in list(engine.ledger.offers.values()):
            engine.refuse(offer.offer_id, NOW)
    assert sparse.ledger.passive == full.ledger.passive and sparse.ledger.passive  # 2 + 1 refusals: passive
    assert _view(sparse.ledger.rounds[next(iter(sparse.ledger.rounds))], sparse.ledger.decisions) == \
        _view(full.ledger.rounds[next(iter(full.ledger.rounds))], full.ledger.decisions)
