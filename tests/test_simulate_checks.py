"""The model's checks on small data: the mechanism (rejecting benefit recipients lowers the in-movers'
share outside work) and the backcast against the real history."""

import polars as pl
import pytest
from simulate_support import START
from synth_data import small_dataset_dir

from boligmix.indicators import compute_area_indicators
from boligmix.simulate.checks import backcast, in_mover_outside_share, paired_interval
from boligmix.simulate.run import prepare, run_replications
from boligmix.simulate.scenario import load_scenario


@pytest.mark.slow
def test_rejecting_benefit_recipients_lowers_the_in_movers_outside_share(tmp_path):
    data = small_dataset_dir()
    area = compute_area_indicators(data, [START]).sort("pct_outside_work_edu", descending=True)["area_id"][0]
    path = tmp_path / "kombineret_one_area.yaml"
    path.write_text("format: boligmix-scenario/1\nname: kombineret_one_area\n"
                    f"area_categories:\n  kombineret_udlejning: {{areas: [{area}]}}\n"
                    "overrides:\n  dk.almenboligloven.51b: {enabled: true}\n", encoding="utf-8")
    baseline, policy = load_scenario("baseline"), load_scenario(path)
    shared = prepare(data, baseline, START, 1, 3)
    reps = list(range(12))
    a = pl.concat([r["lettings"] for r in run_replications(shared, baseline, reps)])
    b = pl.concat([r["lettings"] for r in run_replications(shared, policy, reps)])
    assert b.filter(pl.col("rejected_rules").str.contains("dk.almenboligloven.51b#")).height > 0
    assert a.filter(pl.col("rejected_rules").str.contains("dk.almenboligloven.51b#")).height == 0
    share_a = in_mover_outside_share(a, [area])["share"].to_numpy()
    share_b = in_mover_outside_share(b, [area])["share"].to_numpy()
    mean, low, high = paired_interval(share_a, share_b)
    assert mean < 0 and high < 0, (mean, low, high)


@pytest.mark.slow
def test_backcast_from_2012_tracks_the_real_lists_and_beats_no_change():
    result = backcast(small_dataset_dir(), 2012, 5, replications=1, seed=2)
    assert result.counts["within"].all(), result.counts
    after_five = result.errors.filter(pl.col("year") == 2017)
    assert after_five["mae_simulated"].mean() < after_five["mae_no_change"].mean(), after_five


BACKCAST_ENV = "BOLIGMIX_RUN_BACKCAST"


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason=(
    "synthetic-v3 (session 5, 3 replications): the list counts hold, but after five years the "
    "non-Western share (6.5 vs 4.7) and basic education (5.1 vs 3.5) are worse than no change and the "
    "mean of the five indicators is 3.47-3.49 against 3.20; on synthetic-v2 it was 2.40 against 2.54"))
def test_backcast_at_municipality_scale_keeps_the_list_counts_and_beats_no_change_on_composition(tmp_path):
    """Issue 17's backcast on the 26-area municipality-scale dataset (generated here, about 3 CPU
    minutes in all, so only when BOLIGMIX_RUN_BACKCAST=1; `benchmarks/bench_simulate_backcast.py`
    prints the same figures): cut at 1 January 2012, 5 years, 3 replications. The list counts stay
    within max(4, 30 %) every year; after five years the simulation beats "no change" on the
    indicators the residents' composition drives (non-Western share, basic education)."""
    import os

    from boligmix.data.synth import write_synthetic

    if os.environ.get(BACKCAST_ENV) != "1":
        pytest.skip(f"municipality-scale backcast not requested ({BACKCAST_ENV}=1)")
    data = write_synthetic(tmp_path / "municipality", scale="municipality", seed=1, years=(2004, 2024))
    result = backcast(data, 2012, 5, replications=3, seed=1)
    assert result.counts["within"].all(), result.counts
    errors_2017 = result.errors.filter(pl.col("year") == 2017)
    assert errors_2017["mae_simulated"].mean() < errors_2017["mae_no_change"].mean(), errors_2017
    after_five = {r["indicator"]: r for r in errors_2017.iter_rows(named=True)}
    for indicator in ("pct_non_western", "pct_basic_education"):
        row = after_five[indicator]
        assert row["mae_simulated"] < row["mae_no_change"], row
