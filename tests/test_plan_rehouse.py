"""The rehousing optimiser: suitability, brute force on tiny cases, invariants, column generation, stability."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from boligmix.plan import rehouse_solve
from boligmix.plan.rehouse import rehouse
from boligmix.plan.rehouse_model import RehousingProblem, Suitability, suitable_edges
from plan_support.brute import brute_rehouse, suitable

D0 = date(2026, 1, 1)
H_SCHEMA = {"household_id": pl.String, "persons": pl.Int64, "rooms_before": pl.Int64, "monthly_income_dkk": pl.Float64,
            "outside_work": pl.Boolean, "municipality_code": pl.Int64, "scope_area": pl.String, "move_by": pl.Date}
V_SCHEMA = {"dwelling_id": pl.String, "area_id": pl.String, "municipality_code": pl.Int64, "rooms": pl.Int64,
            "monthly_rent_dkk": pl.Float64, "available_from": pl.Date}


def problem(households, dwellings, wishes=(), caps=()):
    return RehousingProblem(
        pl.DataFrame(households, schema=H_SCHEMA, orient="row") if households and isinstance(households[0], tuple)
        else pl.DataFrame(households, schema=H_SCHEMA),
        pl.DataFrame(dwellings, schema=V_SCHEMA, orient="row") if dwellings and isinstance(dwellings[0], tuple)
        else pl.DataFrame(dwellings, schema=V_SCHEMA),
        pl.DataFrame(list(wishes), schema={"household_id": pl.String, "rank": pl.Int64, "area_id": pl.String},
                     orient="row"),
        pl.DataFrame(list(caps), schema={"area_id": pl.String, "max_outside_work": pl.Int64}, orient="row"))


SUIT = Suitability.load()


def test_each_condition_excludes_and_switches_off():
    # One household: 2 persons, had 2 rooms, income 20,000, municipality 101, scope A, move by 2026-06-01.
    hh = [("h", 2, 2, 20_000.0, False, 101, "A", date(2026, 6, 1))]
    dw = [("ok", "A", 101, 3, 8_000.0, D0),              # suitable (rooms = persons + 1)
          ("ok2", "A", 101, 2, 8_000.0, D0),             # suitable (rooms = rooms_before)
          ("mun", "A", 147, 3, 8_000.0, D0),             # other municipality
          ("scope", "B", 101, 3, 8_000.0, D0),           # outside the scope area
          ("size", "A", 101, 4, 8_000.0, D0),            # 4 rooms: neither 3 nor 2
          ("rent", "A", 101, 3, 8_000.01, D0),           # rent above 40 % of 20,000
          ("late", "A", 101, 3, 8_000.0, date(2026, 6, 2))]  # available after move_by
    p = problem(hh, dw)
    names = lambda suit: sorted(p.vacancies.get_column("dwelling_id")[suitable_edges(p, suit).get_column("d")].to_list())
    assert names(SUIT) == ["ok", "ok2"]
    for switch, extra in (("same_municipality", "mun"), ("within_scope_area", "scope"), ("size_rule", "size"),
                          ("rent_rule", "rent"), ("available_by_move_date", "late")):
        assert names(Suitability.load({switch: False})) == sorted(["ok", "ok2", extra])
    assert names(Suitability.load({"max_rent_share": 0.5})) == ["ok", "ok2", "rent"]


def test_unplaced_reasons_name_the_condition():
    hh = [("rich", 1, 1, 100_000.0, False, 101, None, date(2026, 6, 1)),
          ("poor", 1, 1, 1_000.0, False, 101, None, date(2026, 6, 1)),
          ("late", 1, 5, 100_000.0, False, 101, None, date(2025, 6, 1)),
          ("nomun", 1, 1, 100_000.0, False, 999, None, date(2026, 6, 1)),
          ("big", 6, 6, 100_000.0, False, 101, None, date(2026, 6, 1)),
          ("ow", 1, 1, 100_000.0, True, 101, None, date(2026, 6, 1))]
    dw = [("d1", "A", 101, 2, 5_000.0, D0), ("d2", "B", 101, 2, 5_000.0, D0), ("d5", "A", 101, 5, 5_000.0, D0)]
    p = problem(hh, dw, wishes=[("rich", 1, "A")], caps=[("A", 0), ("B", 0)])
    result = rehouse(p, SUIT, modes=("optimal",)).modes["optimal"]
    reasons = dict(result.unplaced.iter_rows())
    assert result.assignment.row(0) == ("rich", "d1", "A", 1)
    assert "rent at most 40%" in reasons["poor"]
    assert "available by move_by" in reasons["late"]
    assert "no vacancy in the municipality" in reasons["nomun"]
    assert "suitable size" in reasons["big"]
    assert reasons["ow"].startswith("caps:") and "(B)" in reasons["ow"]


def _random_problem(draw_ints, n_h, n_d, seed):
    rng = np.random.default_rng(seed)
    areas = ["A", "B", "C"]
    hh = [{"household_id": f"h{i}", "persons": int(rng.integers(1, 4)), "rooms_before": int(rng.integers(1, 5)),
           "monthly_income_dkk": float(rng.integers(10, 40) * 1000), "outside_work": bool(rng.random() < 0.5),
           "municipality_code": int(rng.choice([101, 147])),
           "scope_area": None if rng.random() < 0.8 else str(rng.choice(areas)),
           "move_by": D0 + timedelta(days=int(rng.integers(0, 60)))} for i in range(n_h)]
    dw = [{"dwelling_id": f"d{j}", "area_id": str(rng.choice(areas)), "municipality_code": int(rng.choice([101, 147])),
           "rooms": int(rng.integers(1, 5)), "monthly_rent_dkk": float(rng.integers(3, 12) * 1000),
           "available_from": D0 + timedelta(days=int(rng.integers(0, 60)))} for j in range(n_d)]
    wishes = []
    for hrow in hh:
        for rank, a in enumerate(rng.permutation(areas)[: int(rng.integers(0, 4))]):
            wishes.append((hrow["household_id"], rank + 1, str(a)))
    caps = [(a, int(rng.integers(0, 3))) for a in areas if rng.random() < 0.7]
    return hh, dw, wishes, caps


def _check_invariants(p, hh, dw, caps, assignment: pl.DataFrame):
    by_id = {h["household_id"]: h for h in hh}
    dw_by_id = {d["dwelling_id"]: d for d in dw}
    placed = assignment.filter(pl.col("dwelling_id").is_not_null())
    assert placed.get_column("dwelling_id").n_unique() == placed.height  # no dwelling twice
    assert assignment.get_column("household_id").n_unique() == len(hh)
    load: dict[str, int] = {}
    for hid, did, area, _ in placed.iter_rows():
        assert suitable(by_id[hid], dw_by_id[did])  # every placed household has a suitable dwelling
        assert dw_by_id[did]["area_id"] == area
        if by_id[hid]["outside_work"]:
            load[area] = load.get(area, 0) + 1
    for area, cap in caps:
        assert load.get(area, 0) <= cap  # caps hold


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(1, 5), st.integers(0, 6), st.integers(0, 10**6))
def test_optimal_matches_brute_force(n_h, n_d, seed):
    hh, dw, wishes, caps = _random_problem(None, n_h, n_d, seed)
    p = problem(hh, dw, wishes, caps)
    result = rehouse(p, SUIT, modes=("optimal",)).modes["optimal"]
    expected = brute_rehouse(hh, dw, {(h, a): r for h, r, a in wishes}, dict(caps))
    assert result.objective == expected and result.status == "OPTIMAL" and result.gap == 0
    _check_invariants(p, hh, dw, caps, result.assignment)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(20, 60), st.integers(20, 120), st.integers(0, 10**6))
def test_invariants_and_stability(n_h, n_d, seed):
    hh, dw, wishes, caps = _random_problem(None, n_h, n_d, seed)
    p = problem(hh, dw, wishes, caps)
    result = rehouse(p, SUIT)
    _check_invariants(p, hh, dw, caps, result.modes["optimal"].assignment)
    # stable: no household prefers (strictly lower cost, or equal cost and a lower dwelling index) a suitable
    # dwelling whose holder must move later (or that is free)
    stable = result.modes["stable"]
    edges = result.edges
    ed, ec = edges["d"].to_list(), edges["cost"].to_list()
    holder = {ed[e]: h for h, e in enumerate(stable.edge_of.tolist()) if e >= 0}
    own = {h: (ec[e], ed[e]) for h, e in enumerate(stable.edge_of.tolist()) if e >= 0}
    move_by = [h["move_by"] for h in hh]
    for h, d, cost in zip(edges["h"].to_list(), edges["d"].to_list(), edges["cost"].to_list()):
        if h in own and own[h] <= (cost, d):
            continue
        other = holder.get(d)
        assert other is not None, "a household prefers a free suitable dwelling"
        assert (move_by[other], other) < (move_by[h], h), "blocking pair"


def test_column_generation_bound_and_solution(monkeypatch):
    hh, dw, wishes, caps = _random_problem(None, 300, 700, 11)
    caps = [(a, 20) for a in ("A", "B", "C")]
    p = problem(hh, dw, wishes, caps)
    full = rehouse(p, SUIT, modes=("optimal",)).modes["optimal"]
    assert full.details["pricing_rounds"] == 0 and full.status == "OPTIMAL"
    monkeypatch.setattr(rehouse_solve, "FULL_MODEL_MAX_EDGES", 0)
    cg = rehouse(p, SUIT, modes=("optimal",)).modes["optimal"]
    assert cg.details["pricing_rounds"] >= 1
    assert cg.bound <= full.objective + 1e-6 <= cg.objective + 1e-6
    assert cg.gap == pytest.approx((cg.objective - cg.bound) / cg.objective)
    _check_invariants(p, hh, dw, caps, cg.assignment)
