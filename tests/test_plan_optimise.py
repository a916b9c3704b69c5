"""The development-plan optimiser against brute force, hand-built cases and the CLI contract."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from boligmix.cli.main import app
from boligmix.plan.actions import Action, AreaState
from boligmix.plan.optimise import PlanInfeasibleError, lowest_share, optimise_plan
from boligmix.plan.share import ShareFormula
from plan_support.brute import brute_lowest, brute_plan

FORMULA = ShareFormula.load()
STATE = AreaState("X", 800, 1000, 0, 0.0)
OPTIONS = [
    Action("d1", "demolish", family_dwellings=200, cost_dkk=300e6, households=180, year=2025),
    Action("s1", "sell", family_dwellings=150, households=140, year=2026),
    Action("b1", "build", new_dwellings=300, commercial_m2=1500, cost_dkk=50e6, year=2027),
    Action("c1", "convert", family_dwellings=100, cost_dkk=20e6, year=2025),
    Action("b2", "build", new_dwellings=400, cost_dkk=80e6, year=2029, excludes=("b1",), requires=("c1",)),
]


def test_hand_built_case_least_cost():
    # Needed: family <= 0.4 x denominator on 1 Jan 2030. s1+c1 leave 550 family dwellings of 1000;
    # b2 (needs c1, excludes b1) adds 400 -> 550/1400 = 0.393 for 100 M DKK. Every cheaper subset fails:
    # s1+c1+b1 -> 550/1320 = 0.417; d1 alone costs 300 M.
    result = optimise_plan(STATE, OPTIONS, FORMULA)
    assert result.chosen_ids() == ["s1", "c1", "b2"]
    assert result.cost_dkk == 100e6 and result.proven_optimal and result.gap == 0
    assert [r["share"] for r in result.timeline] == [0.7, 0.55, 0.55, 0.55, pytest.approx(550 / 1400)]
    assert result.timeline[0]["year"] == 2026 and result.timeline[-1]["year"] == 2030


def test_households_then_cost():
    # Fewest households: c1 (0 households) + b1 + b2 is not allowed (b2 excludes b1); c1+b2 -> 700/1400 = 0.5;
    # so some displacement is needed; s1 (140) + c1 + b2 = 140 households is the minimum, cost 100 M.
    result = optimise_plan(STATE, OPTIONS, FORMULA, minimise="households")
    assert result.households == 140 and result.cost_dkk == 100e6


def test_option_completing_in_target_year_does_not_count():
    late = [Action("b", "build", new_dwellings=1000, cost_dkk=1, year=2030)]
    with pytest.raises(PlanInfeasibleError) as info:
        optimise_plan(AreaState("X", 500, 1000), late, FORMULA)
    assert info.value.binding == ["year"] and info.value.lowest_share == 0.5
    assert info.value.relaxed["year"] == pytest.approx(0.25)
    ok = optimise_plan(AreaState("X", 500, 1000), [Action("b", "build", new_dwellings=1000, year=2029)], FORMULA)
    assert ok.chosen_ids() == ["b"]


def test_infeasible_names_excludes():
    options = [Action("a", "sell", family_dwellings=100, year=2020, excludes=("b",)),
               Action("b", "sell", family_dwellings=100, year=2020)]
    with pytest.raises(PlanInfeasibleError) as info:
        optimise_plan(AreaState("X", 510, 1000), options, FORMULA)
    assert info.value.binding == ["excludes"] and info.value.lowest_share == pytest.approx(0.41)


actions_strategy = st.lists(
    st.tuples(st.sampled_from(["demolish", "sell", "convert", "build"]), st.integers(0, 60), st.integers(0, 80),
              st.integers(0, 3000), st.integers(0, 9), st.integers(0, 30), st.integers(2024, 2031),
              st.lists(st.integers(0, 5), max_size=2), st.lists(st.integers(0, 5), max_size=2)),
    min_size=1, max_size=6)


def _build(raw):
    n = len(raw)
    out = []
    for i, (kind, fam, new, m2, cost, hh, year, exc, req) in enumerate(raw):
        build = kind == "build"
        out.append(Action(f"o{i}", kind, family_dwellings=0 if build else fam, new_dwellings=new if build else 0,
                          commercial_m2=float(m2) if build else 0.0, cost_dkk=cost, households=hh, year=year,
                          excludes=tuple(sorted({f"o{j}" for j in exc if j < n and j != i})),
                          requires=tuple(sorted({f"o{j}" for j in req if j < n and j != i}))))
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(actions_strategy, st.integers(50, 150), st.integers(0, 120), st.integers(0, 20),
       st.sampled_from([0.3, 0.4, 0.5]), st.sampled_from(["cost", "households"]))
def test_matches_brute_force(raw, family, others, demolished, target, minimise):
    actions = _build(raw)
    state = AreaState("X", family, family + others, demolished, 0.0)
    formula = ShareFormula.load(target=target)
    best = brute_plan(state, actions, Fraction(str(target)), 2030, minimise)
    if best is None:
        with pytest.raises(PlanInfeasibleError) as info:
            optimise_plan(state, actions, formula, minimise=minimise)
        low = brute_lowest(state, actions, 2030)
        assert info.value.lowest_share == pytest.approx(float(low))
        for name, kw in (("year", {"use_year": False}), ("excludes", {"use_excludes": False}),
                         ("requires", {"use_requires": False})):
            assert (name in info.value.binding) == (brute_lowest(state, actions, 2030, **kw) <= Fraction(str(target)))
        return
    result = optimise_plan(state, actions, formula, minimise=minimise)
    assert result.proven_optimal
    key = (result.households, round(result.cost_dkk)) if minimise == "households" else (round(result.cost_dkk),)
    assert key == best[0]
    assert result.timeline[-1]["share"] <= target + 1e-12


@settings(max_examples=30, deadline=None)
@given(actions_strategy, st.integers(50, 150), st.integers(0, 120))
def test_lowest_share_matches_brute_force(raw, family, others):
    actions = _build(raw)
    state = AreaState("X", family, family + others)
    low, _ = lowest_share(state, actions, FORMULA, 2030)
    assert low == brute_lowest(state, actions, 2030)


# ----------------------------------------------------------------------------------------- CLI

HEADER = "option_id,kind,family_dwellings,new_dwellings,commercial_m2,cost_dkk,households,year,excludes,requires\n"
ROWS = ("d1,demolish,200,0,0,300000000,180,2025,,\ns1,sell,150,0,0,0,140,2026,,\nb1,build,0,300,1500,50000000,0,2027,,\n"
        "c1,convert,100,0,0,20000000,0,2025,,\nb2,build,0,400,0,80000000,0,2029,b1,c1\n")


def _files(tmp: Path, options: str = HEADER + ROWS,
           state: str = "area_id,family_dwellings,all_dwellings,demolished_since_2010,commercial_m2\nX,800,1000,0,0\n"):
    (tmp / "options.csv").write_text(options, encoding="utf-8")
    (tmp / "state.csv").write_text(state, encoding="utf-8")
    return tmp / "options.csv", tmp / "state.csv"


def _run(args):
    return CliRunner().invoke(app, args, catch_exceptions=False)


def test_cli_writes_plan(tmp_path):
    options, state = _files(tmp_path)
    out = tmp_path / "out"
    res = _run(["plan", "optimise", "--options", str(options), "--area-state", str(state), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert (out / "plan.csv").read_text().splitlines() == ["option_id,chosen", "d1,0", "s1,1", "b1,0", "c1,1", "b2,1"]
    assert (out / "timeline.csv").read_text().splitlines()[0] == \
        "area_id,area_name,municipality,year,family_dwellings,denominator,share"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "OPTIMAL" and summary["objective"] == 100e6 and summary["gap"] == 0
    assert (summary["area_id"], summary["area_name"], summary["municipality"]) == ("X", None, None)
    html = (out / "report.html").read_text()
    assert "Udviklingsplan for X (navn ukendt)" in html and "nybyggeri" in html


def test_cli_names_the_area_beside_its_id(tmp_path):
    state = ("area_id,area_name,municipality,year,family_dwellings,all_dwellings,demolished_since_2010,"
             "commercial_m2,share\nX,Æblehaven,Aarhus,2024,800,1000,0,0,0.8\n")
    options, state_path = _files(tmp_path, state=state)
    out = tmp_path / "out"
    res = _run(["plan", "optimise", "--options", str(options), "--area-state", str(state_path), "--out", str(out),
                "--json"])
    assert res.exit_code == 0, res.output
    payload = json.loads(res.stdout)
    assert (payload["area_id"], payload["area_name"], payload["municipality"]) == ("X", "Æblehaven", "Aarhus")
    summary = json.loads((out / "summary.json").read_text())
    assert (summary["area_name"], summary["municipality"]) == ("Æblehaven", "Aarhus")
    assert (out / "timeline.csv").read_text(encoding="utf-8").splitlines()[1].startswith("X,Æblehaven,Aarhus,2025,")
    assert "Udviklingsplan for Æblehaven (X), Aarhus" in (out / "report.html").read_text(encoding="utf-8")


def test_cli_infeasible_exit_3_writes_nothing(tmp_path):
    options, state = _files(tmp_path)
    out = tmp_path / "out"
    res = _run(["plan", "optimise", "--options", str(options), "--area-state", str(state), "--out", str(out),
                "--target", "0.1"])
    assert res.exit_code == 3
    assert "lowest reachable share is 0.2500" in res.output and "options themselves" in res.output
    assert not out.exists()


@pytest.mark.parametrize("rows, where", [
    (ROWS.replace("s1,sell,150", "s1,sell,-150"), "row 2, column 'family_dwellings': negative count"),
    (ROWS.replace("b1,c1", "b1,zz"), "row 5, column 'requires': unknown option id 'zz'"),
    (ROWS.replace("c1,convert", "d1,convert"), "row 4, column 'option_id': duplicate id 'd1'"),
    (ROWS.replace("s1,sell", "s1,sale"), "row 2, column 'kind': unknown kind 'sale'"),
    (ROWS.replace("b1,build,0,300", "b1,build,7,300"), "row 3, column 'family_dwellings': must be 0 for kind 'build'"),
])
def test_cli_bad_options(tmp_path, rows, where):
    options, state = _files(tmp_path, options=HEADER + rows)
    out = tmp_path / "out"
    res = _run(["plan", "optimise", "--options", str(options), "--area-state", str(state), "--out", str(out)])
    assert res.exit_code == 2 and "options.csv, " + where in " ".join(res.output.split())
    assert not out.exists()


def test_cli_missing_column_and_danish_csv(tmp_path):
    options, state = _files(tmp_path, options=HEADER.replace(",households", "") + "a,sell,1,0,0,0,2020,,\n")
    res = _run(["plan", "optimise", "--options", str(options), "--area-state", str(state), "--out",
                str(tmp_path / "o")])
    assert res.exit_code == 2 and "column 'households': missing column" in res.output
    options.write_bytes((HEADER.replace(",", ";") + "a;sell;1;0;0;0;1;2020;;\n").encode("latin-1"))
    res = _run(["plan", "optimise", "--options", str(options), "--area-state", str(state), "--out",
                str(tmp_path / "o")])
    assert res.exit_code == 2 and "separated by ';'" in res.output and not (tmp_path / "o").exists()


def test_cli_refuses_out_containing_input(tmp_path):
    options, state = _files(tmp_path)
    res = _run(["plan", "optimise", "--options", str(options), "--area-state", str(state), "--out", str(tmp_path)])
    assert res.exit_code == 2 and "contains the input" in res.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["options.csv", "state.csv"]


def test_cli_area_row_and_households(tmp_path):
    state = ("area_id,year,family_dwellings,all_dwellings,demolished_since_2010,commercial_m2,share\n"
             "Y,2024,10,10,0,0,1.0\nX,2024,800,1000,0,0,0.8\n")
    options, state_path = _files(tmp_path, state=state)
    out = tmp_path / "out"
    res = _run(["plan", "optimise", "--options", str(options), "--area-state", str(state_path), "--out", str(out)])
    assert res.exit_code == 2 and "name the area with --area" in " ".join(res.output.split())
    res = _run(["plan", "optimise", "--options", str(options), "--area-state", str(state_path), "--out", str(out),
                "--area", "X", "--minimise", "households"])
    assert res.exit_code == 0, res.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["households"] == 140 and summary["objective"] == 140 and summary["cost_dkk"] == 100e6
    # STATE's year 2024 -> the timeline starts on 1 January 2025
    assert (out / "timeline.csv").read_text().splitlines()[1].startswith("X,,,2025,800,1000.0,0.8")


def test_cli_summary_and_report_protect_the_displaced_households(tmp_path):
    """summary.json is published: with 3 displaced households (s1) the total, and the objective that
    is that total when minimising households, are blank, and the report does not state them."""
    options, state = _files(tmp_path, options=HEADER + ROWS.replace("s1,sell,150,0,0,0,140", "s1,sell,150,0,0,0,3"))
    out = tmp_path / "out"
    res = _run(["plan", "optimise", "--options", str(options), "--area-state", str(state), "--out", str(out),
                "--minimise", "households"])
    assert res.exit_code == 0, res.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["chosen"] == ["s1", "c1", "b2"] and summary["cost_dkk"] == 100e6
    assert summary["households"] is None and summary["objective"] is None and summary["bound"] is None
    assert summary["suppressed"] == "households:primary"
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "vises ikke (diskretionering)" in html and "3 husstande" not in html
    # with 140 households the total is published (the zeros of c1 and b2 are hidden beside it)
    options.write_text(HEADER + ROWS, encoding="utf-8")
    res = _run(["plan", "optimise", "--options", str(options), "--area-state", str(state), "--out", str(tmp_path / "out2")])
    assert res.exit_code == 0, res.output
    assert json.loads((tmp_path / "out2" / "summary.json").read_text())["households"] == 140
