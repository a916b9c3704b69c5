"""The 40 % share: the formula on constructed areas, the action vocabulary and `boligmix plan share`."""

from __future__ import annotations

import json
from fractions import Fraction

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from boligmix.cli.main import app
from boligmix.plan.actions import Action, AreaState, apply_action
from boligmix.plan.share import ShareFormula
from indicators_support import hand_built
from plan_support.brute import exact_share

FORMULA = ShareFormula.load()


def test_formula_hand_computed():
    # 400 / (900 + 50 + 3750 / 75) = 400 / 1000
    state = AreaState("A", 400, 900, 50, 3750.0)
    assert FORMULA.share(state) == pytest.approx(0.4)
    assert ShareFormula.load({"count_commercial": "false"}).share(state) == pytest.approx(400 / 950)
    assert ShareFormula.load({"count_demolished": False}).share(state) == pytest.approx(400 / 950)
    assert FORMULA.share(AreaState("A", 0, 0)) is None


def test_action_vocabulary():
    s = AreaState("A", 600, 1000, 10, 0.0)
    d = apply_action(s, Action("d", "demolish", family_dwellings=100))
    assert (d.family_dwellings, d.all_dwellings, d.demolished_since_2010) == (500, 900, 110)
    assert FORMULA.denominator(d) == FORMULA.denominator(s)  # demolition keeps the denominator
    for kind in ("sell", "convert"):
        t = apply_action(s, Action(kind, kind, family_dwellings=100))
        assert (t.family_dwellings, FORMULA.denominator(t)) == (500, FORMULA.denominator(s))
    b = apply_action(s, Action("b", "build", new_dwellings=90, commercial_m2=750.0))
    assert FORMULA.denominator(b) == FORMULA.denominator(s) + 90 + 10


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 5000), st.integers(0, 5000), st.integers(0, 2000), st.integers(0, 10**7),
       st.sampled_from(["demolish", "sell", "convert", "build"]), st.integers(0, 500), st.integers(0, 10**5))
def test_scaled_form_is_exact(family, others, demolished, centi_m2, kind, amount, m2_centi):
    state = AreaState("A", family, family + others, demolished, centi_m2 / 100)
    den = FORMULA.scaled_denominator(state)
    expected = exact_share(state)
    assert (None if den == 0 else Fraction(family * FORMULA.scale, den)) == expected
    if expected is not None:
        assert FORMULA.share(state) == pytest.approx(float(expected), rel=1e-12)
    action = Action("o", kind, family_dwellings=0 if kind == "build" else min(amount, family),
                    new_dwellings=amount if kind == "build" else 0,
                    commercial_m2=m2_centi / 100 if kind == "build" else 0.0)
    dn, dd = FORMULA.scaled_effect(action)
    after = apply_action(state, action)
    assert after.family_dwellings * FORMULA.scale == family * FORMULA.scale + dn
    assert FORMULA.scaled_denominator(after) == den + dd


# --------------------------------------------------------------------------------- plan share

def _dataset(tmp_path):
    # A1: 6 family, 2 youth, 1 elderly, 3 private (ejer/privat_udlejning); A2: 2 family, 1 andel; A3: none extra.
    rows = [(1, 101, "almen", "D1", "A1", "family"), (2, 101, "almen", "D1", "A1", "family"),
            (3, 101, "almen", "D2", "A2", "family"), (4, 101, "ejer", None, None, None),
            (5, 751, "almen", "D4", "A3", "family"), (6, 751, "ejer", None, None, None)]
    rows += [(10 + i, 101, "almen", "D1", "A1", "family") for i in range(4)]
    rows += [(20, 101, "almen", "D1", "A1", "youth"), (21, 101, "almen", "D1", "A1", "youth"),
             (22, 101, "almen", "D1", "A1", "elderly"), (23, 101, "ejer", None, "A1", None),
             (24, 101, "privat_udlejning", None, "A1", None), (25, 101, "ejer", None, "A1", None),
             (26, 101, "almen", "D2", "A2", "family"), (27, 101, "andel", None, "A2", None)]
    dwellings = pl.DataFrame({
        "dwelling_id": [r[0] for r in rows], "municipality_code": [r[1] for r in rows],
        "tenure": [r[2] for r in rows], "department_id": pl.Series([r[3] for r in rows], dtype=pl.String),
        "area_id": pl.Series([r[4] for r in rows], dtype=pl.String),
        "almen_type": pl.Series([r[5] for r in rows], dtype=pl.String), "rooms": [3] * len(rows),
        "floor_area_m2": [80.0] * len(rows), "monthly_rent_dkk": pl.Series([6000.0] * len(rows), dtype=pl.Float64)})
    return hand_built.write(tmp_path / "data", {"dwellings": dwellings})


def _run(args):
    return CliRunner().invoke(app, args, catch_exceptions=False)


def test_plan_share_cli(tmp_path):
    data = _dataset(tmp_path)
    (tmp_path / "lists.csv").write_text("area_id,year,udsat,parallelsamfund,omdannelse,forebyggelse\n"
                                        "A1,2024,1,1,1,0\nA2,2024,1,1,0,0\nA3,2024,0,0,0,1\nA3,2017,1,1,1,0\n")
    (tmp_path / "extras.csv").write_text("area_id,demolished_since_2010,commercial_m2\nA1,3,150\n")
    out = tmp_path / "share.csv"
    res = _run(["plan", "share", "--data", str(data), "--year", "2024", "--out", str(out),
                "--lists", str(tmp_path / "lists.csv"), "--extras", str(tmp_path / "extras.csv")])
    assert res.exit_code == 0, res.output
    frame = pl.read_csv(out)
    assert frame.columns == ["area_id", "area_name", "municipality", "year", "family_dwellings", "all_dwellings",
                             "demolished_since_2010", "commercial_m2", "share"]
    from boligmix.data.io import read_table
    areas = read_table(data, "areas").join(read_table(data, "municipalities"), on="municipality_code")
    expected = areas.filter(pl.col("area_id").is_in(["A1", "A2"])).sort("area_id")
    assert frame.get_column("area_name").to_list() == expected.get_column("area_name").to_list()
    assert frame.get_column("municipality").to_list() == expected.get_column("municipality_name").to_list()
    assert frame.get_column("municipality").null_count() == 0
    a1, a2 = frame.row(0, named=True), frame.row(1, named=True)
    assert frame.height == 2  # A3 is only forebyggelse in 2024 (omdannelse in 2017, before plans existed)
    # A1: 6 family; denominator 6 + 3 youth/elderly + 3 private + 3 demolished + 150/75 = 17
    assert (a1["family_dwellings"], a1["all_dwellings"], a1["share"]) == (6, 12, pytest.approx(6 / 17))
    assert (a2["family_dwellings"], a2["all_dwellings"], a2["share"]) == (2, 3, pytest.approx(2 / 3))
    prov = json.loads((tmp_path / "share.provenance.json").read_text())
    assert prov["assumed_zero"]["areas"] == ["A2"] and prov["areas"]["A1"]["lists"] == ["omdannelse", "parallelsamfund"]
    # an area that was omdannelse in 2020 stays under its plan after leaving the list
    (tmp_path / "lists.csv").write_text("area_id,year,udsat,parallelsamfund,omdannelse,forebyggelse\n"
                                        "A1,2024,1,1,1,0\nA3,2024,0,0,0,1\nA3,2020,1,1,1,0\nA2,2025,1,1,1,0\n")
    res = _run(["plan", "share", "--data", str(data), "--year", "2024", "--out", str(out),
                "--lists", str(tmp_path / "lists.csv")])
    assert pl.read_csv(out).get_column("area_id").to_list() == ["A1", "A3"]
    prov = json.loads((tmp_path / "share.provenance.json").read_text())
    assert prov["areas"]["A3"]["lists"] == ["under plan since 2020 (omdannelse)"]
    res = _run(["plan", "share", "--data", str(data), "--year", "2024", "--out", str(out), "--all-areas",
                "--switch", "youth_elderly_in_denominator=false", "--switch", "non_almen_in_denominator=false"])
    frame = pl.read_csv(out)
    assert frame.get_column("area_id").to_list() == ["A1", "A2", "A3"]
    assert frame.get_column("all_dwellings").to_list() == [6, 2, 1]
    assert frame.get_column("share").to_list() == [1.0, 1.0, 1.0]


def test_plan_share_bad_extras_and_out_inside_data(tmp_path):
    data = _dataset(tmp_path)
    (tmp_path / "extras.csv").write_text("area_id,demolished_since_2010,commercial_m2\nA1,3,150\nZZ,1,0\nA2,-1,0\n")
    out = tmp_path / "share.csv"
    res = _run(["plan", "share", "--data", str(data), "--year", "2024", "--out", str(out), "--all-areas",
                "--extras", str(tmp_path / "extras.csv")])
    assert res.exit_code == 2 and "extras.csv, row 2, column 'area_id': unknown area" in " ".join(res.output.split())
    assert not out.exists()
    res = _run(["plan", "share", "--data", str(data), "--year", "2024", "--out", str(data / "x.csv"), "--all-areas"])
    assert res.exit_code == 2 and "lies inside the input --data" in res.output
    assert not (data / "x.csv").exists()


def test_rule_files_are_checked(tmp_path):
    from boligmix.errors import ConfigurationError
    from boligmix.plan.rules import load_rehousing_rules, load_share_rules

    from importlib import resources

    text = resources.files("boligmix.rules.plan").joinpath("share_2018.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "share.yaml"
    bad.write_text(text.replace("target_share: 0.40", "target_share: 1.40"), encoding="utf-8")
    with pytest.raises(ConfigurationError, match="target_share"):
        load_share_rules(str(bad))
    bad.write_text(text + "\nunknown_key: 1\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="unknown_key"):
        load_share_rules(str(bad))
    with pytest.raises(ConfigurationError, match="no switch 'rent_rul'"):
        load_rehousing_rules().switch_values({"rent_rul": "false"})
    with pytest.raises(ConfigurationError, match="takes a bool"):
        ShareFormula.load({"count_commercial": "maybe"})
