"""Hypothesis: the yearly demographic step and the housing market conserve persons and dwellings
apart from the recorded events; no household in two dwellings, no dwelling with two households;
every letting's winner is eligible under the rules in force (re-assessed by LettingEngine.assess)."""

import copy
from functools import lru_cache

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from simulate_support import START, shared
from synth_data import small_dataset_dir

from boligmix.indicators import settings_for_list_year
from boligmix.letting.ledger import LettingLedger
from boligmix.simulate.applicants import ApplicantFactory
from boligmix.simulate.demography import births, deaths, emigration
from boligmix.simulate.market import Market, draw_seekers
from boligmix.simulate.population import Population
from boligmix.simulate.scenario import load_scenario
from boligmix.simulate.yearly_lists import data_categories


@lru_cache(maxsize=1)
def start_population() -> Population:
    return Population.from_dataset(small_dataset_dir(), START)


def _spells(pop: Population) -> pl.DataFrame:
    pop.flush_spells()
    return pl.concat(pop.closed_spells[1:], how="vertical_relaxed") if len(pop.closed_spells) > 1 else \
        pl.DataFrame(schema=pop.closed_spells[0].schema)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow],
          phases=(Phase.explicit, Phase.reuse, Phase.generate))
@given(seed=st.integers(0, 2**31 - 1), rep=st.integers(0, 50))
def test_demography_conserves_persons_apart_from_events(seed, rep):
    pop = copy.deepcopy(start_population())
    rates = shared().rates
    before = set(pop.pid.tolist())
    n_dwellings = pop.dwellings.ids.size
    died = deaths(pop, rates, seed, rep, START)
    left = emigration(pop, rates, seed, rep, START)
    born = births(pop, rates, seed, rep, START)
    pop.check()
    after = set(pop.pid.tolist())
    assert len(after) == len(before) - died - left + born
    ended = _spells(pop)
    assert ended.filter(pl.col("end_reason") == "death").height == died
    assert ended.filter(pl.col("end_reason") == "abroad").height == left
    assert set(ended["person_id"].to_list()) == before - after
    assert len(after - before) == born
    assert pop.dwellings.ids.size == n_dwellings
    occupied_households = set(pop.dwellings.household[pop.dwellings.household != 0].tolist())
    assert occupied_households == set(pop.household.tolist())


@pytest.mark.parametrize("seed", [11])
def test_market_moves_keep_one_household_per_dwelling_and_lettings_obey_the_rules(seed):
    pop = copy.deepcopy(start_population())
    sh = shared()
    rates = sh.rates
    deaths(pop, rates, seed, 0, START)
    emigration(pop, rates, seed, 0, START)
    births(pop, rates, seed, 0, START)
    n_before = pop.size
    seekers = draw_seekers(pop, rates, seed, 0, START, {})
    factory = ApplicantFactory(pop, START, seed, 0, settings_for_list_year(START + 1).outside_attachments)
    categories = data_categories(sh.history, START, sh.vintage)
    market = Market(pop, load_scenario("baseline").policies(), factory, categories, seed, 0, START, LettingLedger(),
                    set(), check_rules=True)
    result = market.run(seekers)
    pop.check()
    immigrants = pop.events.get("immigrants", 0)
    assert pop.size == n_before + immigrants
    assert market.checked == len(result.lettings) > 20
    housed = [r["household_id"] for r in result.lettings]
    assert len(housed) == len(set(housed))   # a seeker is housed once a year
    # every person still lives in exactly one dwelling and spells do not overlap
    spells = pop.residences().sort("person_id", "move_in")
    overlap = spells.with_columns(pl.col("move_in").shift(-1).over("person_id").alias("next_in")).filter(
        pl.col("next_in").is_not_null() & (pl.col("move_out").is_null() | (pl.col("move_out") > pl.col("next_in"))))
    assert overlap.height == 0
    assert spells.select(pl.struct("person_id", "move_in").is_unique().all()).item()
    channels = {r["channel"] for r in result.lettings}
    assert channels <= {"waiting_list", "internal", "kommunal_anvisning", "fleksibel", "annoncering", "rehousing"}
    assert np.all(pop.dwellings.household[pop.dwellings.household != 0] != 0)
