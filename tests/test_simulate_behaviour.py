"""The behaviour terms of `simulate/behaviour.py`: the move hazard by origin and the area conviction
effect, against hand-computed shrunk estimates; and the estimates read from a generated history."""

from __future__ import annotations

import numpy as np
import polars as pl
from synth_data import small_dataset_dir

from boligmix.simulate.behaviour import (
    CONVICTION_CELL_COLUMNS,
    Behaviour,
    conviction_effect,
    conviction_probability,
    estimate_area_conviction,
    estimate_move_origin,
    move_probability,
)
from boligmix.simulate.rates import PRIOR_WEIGHT, with_area_effect


def _counts(rows, shape):
    """(moves, households at risk) per [tenure, head band, size band, area band, non-Western] of
    rows (tenure, head band, size band, area band, non-Western, moved)."""
    events, exposure = np.zeros(shape), np.zeros(shape)
    for *key, moved in rows:
        events[tuple(key)] += moved
        exposure[tuple(key)] += 1
    return events, exposure


def test_move_hazard_by_origin_is_shrunk_towards_the_rate_times_the_origin_ratio_by_hand():
    # one tenure, one age band, one size band; area band 0 (no area) and 1 (an area)
    move = np.array([0.2, 0.1]).reshape(1, 1, 1, 2)
    rows = ([(0, 0, 0, 1, 1, True)] * 5 + [(0, 0, 0, 1, 1, False)] * 95      # in an area: 100 non-Western, 5 moved
            + [(0, 0, 0, 1, 0, True)] * 30 + [(0, 0, 0, 1, 0, False)] * 70    # 100 others, 30 moved
            + [(0, 0, 0, 0, 0, True)] * 4 + [(0, 0, 0, 0, 0, False)] * 6)     # no area: 10 others, 4 moved
    got = estimate_move_origin(*_counts(rows, (1, 1, 1, 2, 2)), move, PRIOR_WEIGHT)
    assert got.shape == (1, 1, 1, 2, 2)
    w = PRIOR_WEIGHT
    # in an area: expected moves 100 * 0.1 per origin; ratio (observed + w) / (expected + w)
    ratio_nw, ratio_other = (5 + w) / (10 + w), (30 + w) / (10 + w)
    assert np.isclose(got[0, 0, 0, 1, 1], (5 + w * 0.1 * ratio_nw) / (100 + w))
    assert np.isclose(got[0, 0, 0, 1, 0], (30 + w * 0.1 * ratio_other) / (100 + w))
    # no area: others observed 4 of 10 against 2 expected; non-Western: no evidence, the rate itself
    assert np.isclose(got[0, 0, 0, 0, 0], (4 + w * 0.2 * (4 + w) / (2 + w)) / (10 + w))
    assert np.isclose(got[0, 0, 0, 0, 1], 0.2)
    assert got[0, 0, 0, 1, 1] < got[0, 0, 0, 1, 0]
    # the simulation reads the origin's rate; without the term, the rate without origin
    behaviour = Behaviour(move_origin=got)
    zero = np.zeros(2, dtype=np.int64)
    p = move_probability(behaviour, move, zero, zero, zero, np.array([1, 1]), np.array([True, False]))
    assert np.allclose(p, [got[0, 0, 0, 1, 1], got[0, 0, 0, 1, 0]])
    assert np.allclose(move_probability(None, move, zero, zero, zero, np.array([1, 0]), np.array([True, False])),
                       [0.1, 0.2])


def test_weighted_offsets_equal_the_offsets_of_the_expanded_members():
    from boligmix.simulate.behaviour import weighted_logit_offsets
    from boligmix.simulate.rates import logit_offsets

    rng = np.random.default_rng(5)
    p, weight, group = rng.uniform(0.005, 0.2, 40), rng.integers(1, 30, 40), rng.integers(0, 4, 40)
    target = rng.uniform(0.01, 0.3, 5)                                  # group 4 has no cell
    expanded = logit_offsets(np.repeat(p, weight), np.repeat(group, weight), target)
    assert np.allclose(weighted_logit_offsets(p, weight.astype(float), group, target), expanded, atol=1e-9)


def test_area_conviction_rates_and_effects_are_shrunk_by_hand():
    # one age band, men only. Area A: 200 residents, 20 convicted last year (4 of them again) and 180
    # not (6 convicted); area B: 50 residents, none convicted either year
    rows = [("A", 0, 0, 1, 20, 4), ("A", 0, 0, 0, 180, 6), ("B", 0, 0, 0, 50, 0)]
    cells = pl.DataFrame(rows, schema=list(CONVICTION_CELL_COLUMNS), orient="row")
    rates, effects = estimate_area_conviction(cells, (1, 2, 2), PRIOR_WEIGHT)
    w, overall = PRIOR_WEIGHT, 10 / 250
    by_age = (10 + w * overall) / (250 + w)
    by_sex = (10 + w * by_age) / (250 + w)                              # men; women: no one
    assert np.isclose(rates[0, 1, 0], by_age) and np.isclose(rates[0, 1, 1], by_age)
    before, not_before = (4 + w * by_sex) / (20 + w), (6 + w * by_sex) / (230 + w)
    assert np.allclose(rates[0, 0], [not_before, before])
    # per area: the offset that makes the rates sum to (observed + w x mean rate) / (n + w)
    for area, n, observed, expected in (("A", 200, 10, 20 * before + 180 * not_before), ("B", 50, 0, 50 * not_before)):
        target = (observed + w * expected / n) / (n + w)
        p = np.array([before] * 20 + [not_before] * 180) if area == "A" else np.full(50, not_before)
        assert np.isclose(with_area_effect(p, np.full(p.size, effects[area])).mean(), target)
    assert effects["A"] > 0 > effects["B"]
    # the simulation: residents of an area read these rates with their area's offset from age 15;
    # everyone else the rates by area band (`conviction`, band 0 for no area)
    conviction = np.full((1, 2, 2, 2), 0.5)
    behaviour = Behaviour(area_conviction=rates, area_conviction_effect=effects)
    code, age = np.array([0, 1, -1, 0]), np.array([30, 15, 40, 14])
    zero = np.zeros(4, dtype=np.int64)
    got = conviction_probability(behaviour, conviction, zero, zero, zero, zero, code, ["A", "B"], age)
    assert np.allclose(got, [with_area_effect(np.array([not_before]), np.array([effects["A"]]))[0],
                             with_area_effect(np.array([not_before]), np.array([effects["B"]]))[0], 0.5, not_before])
    assert np.allclose(conviction_effect(effects, ["A", "B"], code, age), [effects["A"], effects["B"], 0.0, 0.0])
    assert np.allclose(conviction_probability(None, conviction, zero, zero, zero, zero, code, ["A", "B"], age), 0.5)


def test_estimates_from_a_generated_history_show_the_origin_gap_and_are_written(tmp_path):
    from boligmix.simulate.rates import estimate_rates

    rates = estimate_rates(small_dataset_dir(), 2012)
    b = rates.behaviour
    assert b is not None and b.move_origin is not None
    assert b.move_origin.shape == (*rates.move.shape, 2)
    assert ((b.move_origin >= 0) & (b.move_origin <= 1)).all()
    # the generator's non-Western households in areas move less often (`synth.demography.move_rate`)
    from boligmix.data.schema import TENURES

    almen_area = b.move_origin[TENURES.index("almen"), :, :, 1:, :]
    assert almen_area[..., 1].mean() < almen_area[..., 0].mean()
    assert b.area_conviction_effect and all(np.isfinite(v) for v in b.area_conviction_effect.values())
    assert b.area_conviction.shape == rates.conviction.shape[:3]
    rates.write(tmp_path)
    written = pl.read_csv(tmp_path / "move_origin.csv")
    assert written.height == b.move_origin.size
    assert pl.read_csv(tmp_path / "area_conviction.csv").height == b.area_conviction.size
    assert set(pl.read_csv(tmp_path / "area_conviction_effect.csv")["area_id"]) == set(b.area_conviction_effect)


def test_child_origin_by_the_mothers_origin_is_shrunk_by_hand():
    from boligmix.data.schema import ORIGINS
    from boligmix.simulate.behaviour import child_origins, estimate_child_danish

    # 10 children of descendants, 4 of them of Danish origin; 5 of immigrants, none; none of Danish mothers
    cells = pl.DataFrame({"mother_origin": ["efterkommer"] * 10 + ["indvandrer"] * 5,
                          "child_origin": ["dansk"] * 4 + ["efterkommer"] * 6 + ["efterkommer"] * 5})
    p = estimate_child_danish(cells, PRIOR_WEIGHT)
    d, i, e = ORIGINS.index("dansk"), ORIGINS.index("indvandrer"), ORIGINS.index("efterkommer")
    assert np.isclose(p[d], 1.0) and np.isclose(p[i], 0.0) and np.isclose(p[e], 4 / (10 + PRIOR_WEIGHT))
    mothers = np.array([d, i, e, e])
    got = child_origins(Behaviour(child_danish=p), mothers, np.array([0.99, 0.0, p[e] - 1e-9, p[e] + 1e-9]))
    assert got.tolist() == [d, e, d, e]
    assert child_origins(None, mothers, np.zeros(4)).tolist() == [d, e, e, e]


def test_the_benchmarks_mesa_model_draws_the_simulations_decisions():
    """`benchmarks/bench_simulate.py` part 2 (`benchmarks/simulate_mesa.py`) on 400 households over three years: the Mesa model's
    events (one agent per person and household) equal the vectorised ones seeker by seeker, and the
    vectorised first year equals the simulation's own functions (deaths, emigration, births,
    draw_seekers) run on a copy; the agents' plain-Python keyed stream equals `rng`. Guards the
    comparison's "same rules, same rates" when the simulation's rules change."""
    import importlib.util
    from pathlib import Path

    from simulate_support import START

    from boligmix.simulate import rng
    from boligmix.simulate.demography import heads
    from boligmix.simulate.destination import basic_education
    from boligmix.simulate.population import Population
    from boligmix.simulate.rates import estimate_rates

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "simulate_mesa.py"
    spec = importlib.util.spec_from_file_location("simulate_mesa", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    rates, seed, years = estimate_rates(small_dataset_dir(), START), 5, 3
    pop = Population.from_dataset(small_dataset_dir(), START)
    hh, _, _ = heads(pop)
    pop.remove(np.flatnonzero(~np.isin(pop.household, hh[:400])))
    basic = basic_education(pop, np.arange(pop.size), START)
    ids = np.r_[pop.pid, -7, 0, 2**62]
    stream = bench._KeyedStream(seed)
    assert [stream.uniform(int(i), START, rng.MOVE) for i in ids] == rng.uniform(seed, 0, ids, START, rng.MOVE).tolist()
    assert [stream.new_id(int(i), START, rng.NEW_ID, 9) for i in ids] == rng.new_ids(
        seed, 0, ids, START, rng.NEW_ID, base=9).tolist()
    vectorised = [bench._vectorised_year(pop, rates, seed, START + y, basic) for y in range(years)]
    bench._check_against_the_simulation(pop, rates, seed, vectorised[0])
    model = bench._mesa_model(pop, rates, seed, basic)
    agents = []
    for _ in range(years):
        model.step()
        agents.append(model.events())
    assert agents == vectorised
    kinds = {s[1] for year in vectorised for s in year["seekers"]}
    assert kinds == {"mover", "leaver"} and all(year["deaths"] > 0 and year["births"] > 0 for year in vectorised)
    assert any(s[4] is not None for year in vectorised for s in year["seekers"])    # some apply in an area
