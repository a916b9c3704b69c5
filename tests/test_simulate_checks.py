"""The model's checks on small data: the mechanism (rejecting benefit recipients lowers the in-movers'
share outside work) and the backcast against the real history."""

import functools
from datetime import date

import numpy as np
import polars as pl
import pytest
from simulate_support import START
from simulate_support import shared as shared_run
from synth_data import small_dataset_dir

from boligmix.indicators import compute_area_indicators, settings_for_list_year
from boligmix.letting.facts import benefit_window, member_received_in_window
from boligmix.letting.model import HouseholdMember, month_index
from boligmix.letting.register import RegisterOptions, benefit_history
from boligmix.simulate.applicants import ApplicantFactory
from boligmix.simulate.market import draw_seekers
from boligmix.simulate.population import Population
from boligmix.simulate.yearly_lists import data_categories
from boligmix.simulate.checks import backcast, in_mover_outside_share, paired_interval
from boligmix.simulate.run import run_replications
from boligmix.simulate.scenario import load_scenario


@pytest.mark.slow
def test_rejecting_benefit_recipients_lowers_the_in_movers_outside_share(tmp_path):
    """§ 51 b (kombineret udlejning) switched on in one area against the baseline, 12 paired
    replications of one year. The area: the highest share outside work and education among the
    areas NOT on the omdannelse list in force (list year START). In an omdannelse area § 51 c
    already rejects the same waiting-list applicants (both adults currently on kontanthjælp and
    the like, without § 51 b's 6-month condition), so § 51 b cannot change a letting there: the
    earlier choice of the highest-outside area overall (an omdannelse area) measured exactly 0."""
    data = small_dataset_dir()
    shared = shared_run()    # prepare(data, baseline, START, 1, seed 3), computed once per process
    in_force = data_categories(shared.history, START, shared.vintage)
    ranked = compute_area_indicators(data, [START]).sort("pct_outside_work_edu", descending=True)["area_id"]
    area = next(a for a in ranked if "omdannelse" not in in_force.get(a, frozenset()))
    path = tmp_path / "kombineret_one_area.yaml"
    path.write_text("format: boligmix-scenario/1\nname: kombineret_one_area\n"
                    f"area_categories:\n  kombineret_udlejning: {{areas: [{area}]}}\n"
                    "overrides:\n  dk.almenboligloven.51b: {enabled: true}\n", encoding="utf-8")
    baseline, policy = load_scenario("baseline"), load_scenario(path)
    reps = list(range(12))
    a = pl.concat([r["lettings"] for r in run_replications(shared, baseline, reps)])
    b = pl.concat([r["lettings"] for r in run_replications(shared, policy, reps)])
    rejected_51b = b.filter(pl.col("rejected_rules").str.contains("dk.almenboligloven.51b#"))
    assert rejected_51b.height > 0 and set(rejected_51b["area_id"]) == {area}
    assert a.filter(pl.col("rejected_rules").str.contains("dk.almenboligloven.51b#")).height == 0
    assert a.filter((pl.col("area_id") == area) & pl.col("rejected_rules").str.contains("51c#")).height == 0
    share_a = in_mover_outside_share(a, [area])["share"].to_numpy()
    share_b = in_mover_outside_share(b, [area])["share"].to_numpy()
    mean, low, high = paired_interval(share_a, share_b)
    assert mean < 0 and high < 0, (mean, low, high)


def test_a_households_benefit_history_covers_every_month_it_is_assessed_in():
    """A seeker's household is built once a year (at its first assessment) and assessed again in
    later months. Its benefit history must give every later month the verdict a history read
    fresh for that month gives (`letting.register.benefit_history`, the current year continuing
    December, the oracle): a history cut at the first assessment month left the later months
    uncovered, so § 51 b and § 51 c facts became UNKNOWN and the applicant was held."""
    pop = Population.from_dataset(small_dataset_dir(), START)
    factory = ApplicantFactory(pop, START, 5, 0, settings_for_list_year(START + 1).outside_attachments)
    seekers = draw_seekers(pop, shared_run().rates, 5, 0, START, {})
    on_benefit = set(pop.labour[START - 1].filter(pl.col("fte") > 0.5)["person_id"].to_list())
    chosen = [s for s in sorted(seekers.kind) if seekers.kind[s] == "mover"
              and any(int(p) in on_benefit for p in seekers.members[s])][:40]
    assert len(chosen) == 40
    groups = [frozenset({"kontanthjaelp", "uddannelseshjaelp", "selvforsoergelse_hjemrejse", "overgangsydelse"}),
              frozenset({"dagpenge", "sygedagpenge", "ressourceforloebsydelse_jobafklaring"})]
    options = RegisterOptions(current_year="continue_december")
    determinate = 0
    for sid in chosen:
        household = factory.household(sid, seekers, date(START, 2, 1))
        for member in household.members:
            rows = factory.rows(member.person_id)
            for month in range(2, 13):
                on = date(START, month, 1)
                fresh = benefit_history(rows, START - 3, START - 1, on, options)
                window = benefit_window(on, 6, "previous_month")
                for benefits in groups:
                    got = member_received_in_window(member, benefits, window, 6)[0]
                    want = member_received_in_window(
                        HouseholdMember(member.person_id, member.role, member.birth_date, None, fresh), benefits,
                        window, 6)[0]
                    assert got == want is not None, (sid, member.person_id, month, sorted(benefits), got, want)
                    determinate += 1
                # § 51 c reads the assessment month itself ("currently receives")
                assert member.benefits.covers(month_index(on))
    assert determinate > 40 * 11 * 2


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_backcast_from_2012_tracks_the_real_lists_and_beats_no_change(seed):
    """The small dataset of the tests (generator seed 7), one replication per simulation seed. On the
    small datasets of generator seeds 1 and 3 (docs/simulate-measurements.md) seed 1 beats no change
    too, seed 3 does not (income and conviction ratio, which the generator sets top-down)."""
    result = backcast(small_dataset_dir(), 2012, 5, replications=1, seed=seed)
    assert result.counts["within"].all(), result.counts
    after_five = result.errors.filter(pl.col("year") == 2017)
    assert after_five["mae_simulated"].mean() < after_five["mae_no_change"].mean(), after_five


BACKCAST_ENV = "BOLIGMIX_RUN_BACKCAST"


@functools.lru_cache(maxsize=1)
def _municipality_backcast():
    """Issue 17's backcast on the 26-area municipality-scale dataset (generated here; about 3 CPU
    minutes in all, so only when BOLIGMIX_RUN_BACKCAST=1; `benchmarks/bench_simulate_backcast.py`
    prints the same figures): cut at 1 January 2012, 5 years, 3 replications. Computed once for the
    two tests below."""
    import atexit
    import os
    import shutil
    import tempfile
    from pathlib import Path

    from boligmix.data.synth import write_synthetic

    if os.environ.get(BACKCAST_ENV) != "1":
        pytest.skip(f"municipality-scale backcast not requested ({BACKCAST_ENV}=1)")
    root = Path(tempfile.mkdtemp(prefix="boligmix-backcast-"))
    atexit.register(shutil.rmtree, root, True)
    data = write_synthetic(root / "municipality", scale="municipality", seed=1, years=(2004, 2024))
    result = backcast(data, 2012, 5, replications=3, seed=1)
    errors_2017 = result.errors.filter(pl.col("year") == 2017)
    return result, {r["indicator"]: r for r in errors_2017.iter_rows(named=True)}


@pytest.mark.slow
def test_backcast_at_municipality_scale_keeps_the_list_counts_and_beats_no_change():
    """The list counts stay within max(4, 30 %) every year; after five years the simulation beats
    "no change" on the mean of the five indicators and on each of the non-Western share, the share
    outside work and education, basic education and income (session 8, docs/simulate-measurements.md:
    4.28 / 4.41, 2.05 / 2.47, 2.70 / 3.10, 2.38 / 4.09; mean 2.33 / 2.85)."""
    result, after_five = _municipality_backcast()
    assert result.counts["within"].all(), result.counts
    simulated = np.mean([r["mae_simulated"] for r in after_five.values()])
    assert simulated < np.mean([r["mae_no_change"] for r in after_five.values()]), after_five
    for indicator in ("pct_non_western", "pct_outside_work_edu", "pct_basic_education", "income_pct_of_region"):
        row = after_five[indicator]
        assert row["mae_simulated"] < row["mae_no_change"], row


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason=(
    "session 8 (docs/simulate-measurements.md, Backcast): the conviction ratio's error after five years is 0.229 for the mean "
    "of 3 replications against 0.199 for no change (root mean square 0.281 against 0.274; merged main with the "
    "lapsing size rule: 0.246). The forecast is the "
    "mean over replications; the simulation's own noise (sd 0.22 per area and replication) equals the "
    "binomial noise of the data's two-year ratio, so 3 replications add a third of the data's noise variance "
    "(6: 0.212, 12: 0.207; the expectation, extrapolated: RMSE 0.243 against 0.274). No change is the published 2012 "
    "value, a four-year window (2008-2011) with half the noise variance of a two-year one: with the 2017 rule's two-year window it "
    "would be 0.249"))
def test_backcast_at_municipality_scale_beats_no_change_on_the_conviction_ratio():
    _, after_five = _municipality_backcast()
    row = after_five["conviction_ratio"]
    assert row["mae_simulated"] < row["mae_no_change"], row
