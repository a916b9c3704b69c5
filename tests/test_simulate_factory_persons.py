"""The applicant factory keeps the labour rows of the year's seekers only (memory at national
scale): the same histories, facts and market as with every row, and reading anyone else's rows is
an error rather than an empty history."""

import copy

import numpy as np
import pytest

from simulate_support import START, shared
from synth_data import small_dataset_dir

from boligmix.errors import SimulationError
from boligmix.indicators import settings_for_list_year
from boligmix.letting.ledger import LettingLedger
from boligmix.simulate.applicants import ApplicantFactory
from boligmix.simulate.demography import births, deaths, emigration
from boligmix.simulate.market import Market, draw_seekers
from boligmix.simulate.population import Population
from boligmix.simulate.scenario import load_scenario
from boligmix.simulate.yearly_lists import data_categories


def _year(seed: int):
    sh = shared()
    pop = copy.deepcopy(Population.from_dataset(small_dataset_dir(), START))
    deaths(pop, sh.rates, seed, 0, START)
    emigration(pop, sh.rates, seed, 0, START)
    births(pop, sh.rates, seed, 0, START)
    return sh, pop, draw_seekers(pop, sh.rates, seed, 0, START, {})


def _members(seekers) -> np.ndarray:
    return np.concatenate([np.zeros(0, np.int64), *seekers.members.values()])


def test_the_seekers_rows_are_the_same_and_anyone_elses_are_refused():
    _, pop, seekers = _year(3)
    outside = settings_for_list_year(START + 1).outside_attachments
    every = ApplicantFactory(pop, START, 3, 0, outside)
    kept = ApplicantFactory(pop, START, 3, 0, outside, persons=_members(seekers))
    members = np.unique(_members(seekers))
    assert members.size > 100
    assert kept._lab_pid.size < every._lab_pid.size
    for pid in members.tolist():
        assert kept.rows(pid) == every.rows(pid)
    assert sum(len(every.rows(p)) for p in members.tolist()) == kept._lab_pid.size
    others = np.setdiff1d(every._lab_pid, members)
    assert others.size
    assert every.rows(int(others[0]))          # someone with rows who seeks nothing this year
    with pytest.raises(SimulationError, match="not a member of a seeker"):
        kept.rows(int(others[0]))


@pytest.mark.parametrize("seed", [5, 11])
def test_a_market_with_the_seekers_rows_only_lets_the_same(seed):
    sh, pop, seekers = _year(seed)
    outside = settings_for_list_year(START + 1).outside_attachments
    results = []
    for persons in (None, _members(seekers)):
        p, s = copy.deepcopy(pop), copy.deepcopy(seekers)
        factory = ApplicantFactory(p, START, seed, 0, outside, persons=persons)
        market = Market(p, load_scenario("baseline").policies(), factory,
                        data_categories(sh.history, START, sh.vintage), seed, 0, START, LettingLedger(), set(),
                        check_rules=True)
        results.append(market.run(s).lettings)
    assert len(results[0]) > 50
    assert results[0] == results[1]
