"""The market's shortcuts change no letting: a vacancy is not offered again to seekers the engine
already assessed for it, and not offered at all while its pool has no new candidate; a round's
window is screened by the compiled decision and the engine handed only its winner. The oracle is
the engine itself: the same year run with `skip_unchanged=False` offers every unlet vacancy again
every month (the engine then sees the empty or unchanged pools and must answer the same), and with
`screen=False` hands the engine every round's whole window; a screened round's winner is let the
dwelling without an engine round, and the oracle `direct=False` hands the engine that winner."""

import copy

import numpy as np
import pytest

from simulate_support import START, market_before_letting, shared
from synth_data import small_dataset_dir

from boligmix.indicators import settings_for_list_year
from boligmix.letting.ledger import LettingLedger
from boligmix.letting.model import Outcome
from boligmix.simulate.applicants import ApplicantFactory
from boligmix.simulate.pools import SeekerPool
from boligmix.simulate.market import CARRIED_OVER, Market, draw_seekers
from boligmix.simulate.population import ALMEN, Population
from boligmix.simulate.scenario import load_scenario
from boligmix.simulate.yearly_lists import data_categories


def _market_year(pop: Population, seed: int, skip_unchanged: bool, screen: bool = True,
                 scenario: str = "baseline", direct: bool = True) -> tuple[Market, list[dict]]:
    _, market, seekers = market_before_letting(pop, seed, scenario, skip_unchanged=skip_unchanged, screen=screen,
                                               direct=direct)
    return market, market.run(seekers).lettings


def test_skipping_unchanged_vacancies_changes_no_letting():
    pop = Population.from_dataset(small_dataset_dir(), START)
    fast, fast_lettings = _market_year(pop, 5, True)
    slow, slow_lettings = _market_year(pop, 5, False)
    assert fast.skipped_offers > 0 and slow.skipped_offers == 0
    rounds = {m: m.offer_rounds + m.almen.empty_rounds for m in (fast, slow)}   # engine rounds and screened empty ones
    assert rounds[slow] > rounds[fast]                     # the shortcut saved rounds ...
    assert fast_lettings == slow_lettings                  # ... and changed no letting
    assert len(fast_lettings) == fast.checked > 20


@pytest.mark.parametrize("scenario", ["baseline", "fleksibel_half", "kombineret_udsat"])
def test_screened_rounds_let_to_the_engines_own_winners(scenario):
    """The oracle: the same year with every round's whole window handed to the engine. Handing it
    only the candidate the compiled decision ranks first changes no letting and no letting's
    record (channel, deciding rules, rejections), and saves the engine most assessments."""
    pop = Population.from_dataset(small_dataset_dir(), START)
    fast, fast_lettings = _market_year(pop, 5, True, screen=True, scenario=scenario)
    slow, slow_lettings = _market_year(pop, 5, True, screen=False, scenario=scenario)
    assert fast.almen.screen.screened > 0 and slow.almen.screen is None
    assert fast_lettings == slow_lettings
    assert len(fast_lettings) == fast.checked > 20
    decisions = {m: len(m.almen.engine.ledger.decisions) for m in (fast, slow)}
    assert decisions[fast] < decisions[slow]


@pytest.mark.parametrize("scenario", ["baseline", "fleksibel_half", "kombineret_udsat"])
def test_direct_lettings_equal_the_engines_lettings_of_the_screened_winner(scenario):
    """The oracle: the same year with the screened winner handed to the engine, which assesses it,
    offers it the dwelling and lets it on acceptance. Letting it directly changes no letting, no
    record and no share counter, and leaves the population as the engine's lettings leave it."""
    pop = Population.from_dataset(small_dataset_dir(), START)
    fast, fast_lettings = _market_year(pop, 5, True, scenario=scenario)
    slow, slow_lettings = _market_year(pop, 5, True, scenario=scenario, direct=False)
    assert fast.almen.direct_lettings > len(fast_lettings) // 2 and slow.almen.direct_lettings == 0
    assert fast.offer_rounds < slow.offer_rounds
    assert fast_lettings == slow_lettings
    assert len(fast_lettings) == fast.checked > 20
    counters = [{k: (c.seen, dict(c.used)) for k, c in m.almen.engine.ledger.counters.items()} for m in (fast, slow)]
    assert counters[0] == counters[1]
    assert np.array_equal(fast.pop.dwellings.household, slow.pop.dwellings.household)
    assert np.array_equal(fast.pop.household, slow.pop.household)


def test_unlet_vacancies_are_carried_over_from_january():
    """A vacancy left unlet at the year's end is vacant from before next year's first month (it kept
    this year's month, so next year's market did not offer it until that month)."""
    pop = Population.from_dataset(small_dataset_dir(), START)
    market, _ = _market_year(pop, 5, True)
    dw = market.pop.dwellings
    left = (dw.household == 0) & dw.active
    assert left.sum() > 0 and (dw.vacant_from[left] == CARRIED_OVER).all()
    assert (dw.vacant_from[~left] > CARRIED_OVER).any()     # let dwellings keep their month


def test_pool_keys_drawn_at_once_equal_those_read_one_seeker_at_a_time():
    """The almen pools' seniority and referral order, drawn for all seekers at once, are the values
    the market read one seeker at a time (`ApplicantFactory.seniority`, the referral order draw)."""
    sh = shared()
    pop = copy.deepcopy(Population.from_dataset(small_dataset_dir(), START))
    seekers = draw_seekers(pop, sh.rates, 5, 0, START, {})
    factory = ApplicantFactory(pop, START, 5, 0, settings_for_list_year(START + 1).outside_attachments)
    market = Market(pop, load_scenario("baseline").policies(), factory,
                    data_categories(sh.history, START, sh.vintage), 5, 0, START, LettingLedger(), set())
    sids = np.array([s for s in seekers.kind if seekers.wants_almen[s]], dtype=np.int64)
    assert {seekers.kind[s] for s in sids.tolist()} >= {"mover", "leaver", "immigrant"}
    fresh = ApplicantFactory(pop, START, 5, 0, settings_for_list_year(START + 1).outside_attachments)
    assert factory.seniority_ordinals(sids, seekers).tolist() == [fresh.seniority(s, seekers).toordinal()
                                                                  for s in sids.tolist()]
    group = SeekerPool(sids.tolist(), seekers)
    market.almen.key_pool(group, seekers)
    assert group.referral.tolist() == [market.almen._referral_key(s)[0] for s in sids.tolist()]


def test_the_size_rule_lapses_without_a_taker_and_binds_when_switched(tmp_path):
    """Under the baseline (waiting list 2010-01-01.3) a dwelling no seeker meeting the size rule
    takes is let to one failing it, and its offer records the lapse; with the switch size_rule=binding
    (version .2's rule) no letting breaks it, fewer dwellings are let and more stay vacant."""
    binding = tmp_path / "binding.yaml"
    binding.write_text("format: boligmix-scenario/1\nname: binding\noverrides:\n"
                       "  dk.venteliste: {switches: {size_rule: binding}}\n", encoding="utf-8")
    pop = Population.from_dataset(small_dataset_dir(), START)
    # the engine's own rounds (`direct=False`): their offer decisions record the lapse
    runs = {name: _market_year(pop, 5, True, scenario=scenario, direct=False)
            for name, scenario in (("lapses", "baseline"), ("binding", str(binding)))}

    def breaking(market, lettings):
        dw = market.pop.dwellings
        return [r for r in lettings if r["channel"] in ("waiting_list", "fleksibel")
                and dw.rooms[dw.index[r["dwelling_id"]]] - r["persons"] > 1]

    def vacant(market):
        dw = market.pop.dwellings
        return int(((dw.household == 0) & dw.active & (dw.tenure == ALMEN)).sum())

    (lapsing, lapsing_lettings), (bound, bound_lettings) = runs["lapses"], runs["binding"]
    assert breaking(bound, bound_lettings) == []
    broken = breaking(lapsing, lapsing_lettings)
    assert len(broken) > 10
    assert len(lapsing_lettings) > len(bound_lettings) and vacant(lapsing) < vacant(bound)
    offered = {(d.applicant_id, d.dwelling_id): d for d in lapsing.almen.engine.ledger.decisions
               if d.outcome == Outcome.OFFERED}
    for r in broken:
        facts = offered[(r["household_id"], r["dwelling_id"])].facts
        assert facts["lapsed_rules"] == ["dk.venteliste#size_underuse"]


def test_other_tenures_go_to_the_open_seeker_with_the_smallest_monthly_key(monkeypatch):
    """The oracle: per vacancy of another tenure, a pass over every open seeker of its municipality
    decided by the month (not living in the dwelling) for the smallest (month's key, id)."""
    from boligmix.simulate import market as market_module
    from boligmix.simulate import rng

    checked = []
    let_other = market_module.Market._let_other

    def oracle(self, pos, seekers, month):
        dw = self.pop.dwellings
        group = self._pools.get((int(dw.municipality[pos]), False))
        expected = None
        if group is not None:
            rows = group.select(month, int(dw.ids[pos]), None)
            if rows.size:
                keys = rng.uniform(self.seed, self.rep, group.sid[rows], self.year, rng.OTHER_TENURE_ORDER * 100 + month)
                expected = min(zip(keys.tolist(), group.sid[rows].tolist()))[1]
        winner = let_other(self, pos, seekers, month)
        assert winner == expected
        checked.append(winner)
        return winner

    monkeypatch.setattr(market_module.Market, "_let_other", oracle)
    _market_year(Population.from_dataset(small_dataset_dir(), START), 5, True)
    assert sum(w is not None for w in checked) > 100 and None in checked


def test_a_released_market_leaves_no_reference_cycle():
    """After `Market.release` the year's market (letting, engine, ledger, applicants, seekers) is freed
    by reference counting alone: a collection afterwards finds nothing unreachable. Without the
    release the market is kept alive by its own cycles (the oracle: weak references die only then)."""
    import gc
    import weakref

    pop = Population.from_dataset(small_dataset_dir(), START)
    for release in (True, False):
        market, lettings = _market_year(pop, 1, True)
        assert lettings
        refs = [weakref.ref(o) for o in (market, market.almen, market.almen.engine, market.almen.engine.ledger,
                                         market.factory)]
        gc.collect()
        gc.disable()
        try:
            if release:
                market.release()
            del market
            alive = [r() is not None for r in refs]
            found = gc.collect()
        finally:
            gc.enable()
        if release:
            assert alive == [False] * len(refs) and found == 0
        else:
            assert all(alive) and found > 0 and all(r() is None for r in refs)
