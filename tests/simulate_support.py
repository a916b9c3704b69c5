"""Shared inputs of the simulation tests: the small synthetic dataset (tests/synth_data.py) and
one prepared run, computed once per test process."""

from __future__ import annotations

from functools import lru_cache

from synth_data import small_dataset_dir

from boligmix.simulate.run import prepare
from boligmix.simulate.scenario import load_scenario

START = 2023
"""Start early enough that the list years simulated overlap the data (for the backcast)."""


@lru_cache(maxsize=4)
def shared(start: int = START, years: int = 1, seed: int = 3):
    return prepare(small_dataset_dir(), load_scenario("baseline"), start, years, seed)


def market_before_letting(pop, seed: int, scenario: str = "baseline", market_class=None, **market_options):
    """A copy of `pop` through one year's deaths, emigration and births, its seekers, and a market
    for START with the rules checked (`check_rules=True`), built by `market_class` (default
    `Market`) with `market_options`: (pop, market, seekers), the market not yet run."""
    import copy

    from boligmix.indicators import settings_for_list_year
    from boligmix.letting.ledger import LettingLedger
    from boligmix.simulate.applicants import ApplicantFactory
    from boligmix.simulate.demography import births, deaths, emigration
    from boligmix.simulate.market import Market, draw_seekers
    from boligmix.simulate.yearly_lists import data_categories

    sh = shared()
    pop = copy.deepcopy(pop)
    deaths(pop, sh.rates, seed, 0, START)
    emigration(pop, sh.rates, seed, 0, START)
    births(pop, sh.rates, seed, 0, START)
    seekers = draw_seekers(pop, sh.rates, seed, 0, START, {})
    factory = ApplicantFactory(pop, START, seed, 0, settings_for_list_year(START + 1).outside_attachments)
    market = (market_class or Market)(pop, load_scenario(scenario).policies(), factory,
                                      data_categories(sh.history, START, sh.vintage), seed, 0, START,
                                      LettingLedger(), set(), check_rules=True, **market_options)
    return pop, market, seekers


def year_of_seekers(seed: int = 7):
    """(population, seekers) of the small dataset's first simulated year: a fresh copy of the start
    state after the year's deaths, emigration and births, and the seekers drawn from it."""
    import copy

    from boligmix.simulate.demography import births, deaths, emigration
    from boligmix.simulate.market import draw_seekers
    from boligmix.simulate.population import Population

    sh = shared()
    pop = copy.deepcopy(Population.from_dataset(small_dataset_dir(), START))
    deaths(pop, sh.rates, seed, 0, START)
    emigration(pop, sh.rates, seed, 0, START)
    births(pop, sh.rates, seed, 0, START)
    return pop, draw_seekers(pop, sh.rates, seed, 0, START, {})
