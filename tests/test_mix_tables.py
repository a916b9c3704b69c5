"""Mix tables on the hand-built dataset (tests/mix_support/tiny_dataset.py): values computed by hand."""

from __future__ import annotations

import polars as pl
import pytest

from boligmix.errors import ConfigurationError, DatasetError, DataValidationError
from boligmix.mix.decomposition import COMPONENTS
from boligmix.mix.pipeline import compute_mix
from boligmix.mix.population import load_mix_data, years_range
from boligmix.mix.settings import MixSettings
from boligmix.mix.units import check_listed
from mix_support.tiny_dataset import build

LISTED = pl.DataFrame({"area_id": ["A2", "A1"], "year": [2011, 2011], "listed": [True, False]})


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return load_mix_data(build(tmp_path_factory.mktemp("tiny") / "ds"))


@pytest.fixture(scope="module")
def area(data):
    return compute_mix(data, [2010, 2011], level="area", listed=LISTED)


def _row(frame: pl.DataFrame, **keys) -> dict:
    sub = frame.filter(pl.all_horizontal(pl.col(k) == v for k, v in keys.items()))
    assert sub.height == 1, (keys, sub)
    return sub.row(0, named=True)


def test_stock_in_and_out_counts_by_hand(area):
    comp = area.tables["composition"]
    # A1 at 1 Jan 2010: p1, p8 (dw1), p3, p4, p9 (dw2)
    stock = _row(comp, unit_id="A1", year=2010, group="stock")
    assert stock["n"] == 5
    # education 30-64: p1 (40, gymnasial), p3 (30, lang), p9 (60, grundskole) -> 1/3 low
    assert (stock["n_edu_pop"], stock["n_low_edu"]) == (3, 1)
    # employment 18-64: p1, p3, p4 employed; p9 not -> 3 of 4
    assert (stock["n_emp_pop"], stock["n_employed"]) == (4, 3)
    assert stock["n_nonwestern"] == 0
    # in 2010: p2 only (p4's move dw2 -> dw3 is inside A1, p5 is a birth)
    inn = _row(comp, unit_id="A1", year=2010, group="in")
    assert inn["n"] == 1 and inn["n_nonwestern"] == 1 and inn["share_nonwestern"] == 1.0
    out = _row(comp, unit_id="A1", year=2010, group="out")  # p9 emigrated
    assert out["n"] == 1 and out["n_low_edu"] == 1
    # 1 Jan 2011: p1, p2, p3, p4, p5, p8
    assert _row(comp, unit_id="A1", year=2011, group="stock")["n"] == 6
    assert _row(comp, unit_id="A1", year=2011, group="in")["n"] == 2  # p6 (from A2) and p7 (abroad)
    # municipality 101 at 1 Jan 2010 (all tenures): p1 p2 p3 p4 p8 p9 p10; low-edu 30-64: p2, p9 of p1 p2 p3 p9
    assert stock["ratio_mun_low_edu"] == pytest.approx((1 / 3) / (2 / 4))
    assert _row(comp, unit_id="A2", year=2011, group="stock")["listed"] is True


def test_flows_categories(area):
    flows = area.tables["flows"].filter(pl.col("n") > 0)
    got = {(r["unit_id"], r["year"], r["direction"], r["category"]): r["n"] for r in flows.iter_rows(named=True)}
    assert got == {
        ("A1", 2010, "in", "birth"): 1, ("A1", 2010, "in", "same_unit"): 1,
        ("A1", 2010, "in", "private_rental"): 1, ("A1", 2010, "in", "total"): 1,
        ("A1", 2010, "out", "abroad"): 1, ("A1", 2010, "out", "same_unit"): 1, ("A1", 2010, "out", "total"): 1,
        ("A1", 2011, "in", "abroad"): 1, ("A1", 2011, "in", "listed_area"): 1, ("A1", 2011, "in", "total"): 2,
        ("A1", 2011, "out", "other_municipality"): 1, ("A1", 2011, "out", "total"): 1,
        ("A2", 2011, "out", "other_municipality"): 1, ("A2", 2011, "out", "total"): 1,
    }
    ia = area.tables["internal_almen"]
    assert _row(ia, unit_id="A1", year=2011, direction="in")["n_internal_almen"] == 1  # p6 from D4


def test_department_level_sees_moves_between_departments(data):
    res = compute_mix(data, [2010], level="department")
    flows = res.tables["flows"]
    assert _row(flows, unit_id="D2", year=2010, direction="in", category="other_almen")["n"] == 1  # p4 D1 -> D2
    assert _row(flows, unit_id="D1", year=2010, direction="out", category="other_almen")["n"] == 1
    nat = _row(res.tables["national_moves"], year=2010)
    assert (nat["n_moves"], nat["n_into_almen"], nat["n_almen_to_other_almen"]) == (2, 2, 1)


def test_decomposition_adds_up_and_matches_hand_values(area):
    dec = area.tables["decomposition"].drop_nulls("change")
    total = sum(dec[c] for c in COMPONENTS)
    assert (total - dec["change"]).abs().max() < 1e-12
    nw = _row(dec, unit_id="A1", factor="nonwestern", year_from=2010, year_to=2011)
    # 0/5 -> 1/6: p2 moved in (non-Western); p5 born; p9 left. Stayers' share 0 -> 0.
    assert nw["change"] == pytest.approx(1 / 6)
    assert nw["in_movers"] == pytest.approx(1 / 6) and nw["stayers"] == 0
    assert (nw["n_stayers"], nw["n_in_movers"], nw["n_other_entrants"], nw["n_out_movers"]) == (4, 1, 1, 1)
    # the whole span 2010 -> 2012: 0/5 -> 2/7 (p2, p7 non-Western in-movers; p6 from Sweden is Western)
    span = _row(dec, unit_id="A1", factor="nonwestern", year_from=2010, year_to=2012)
    assert span["change"] == pytest.approx(2 / 7) and span["in_movers"] == pytest.approx(2 / 7)
    assert (span["n_stayers"], span["n_in_movers"], span["n_other_entrants"], span["n_out_movers"]) == (3, 3, 1, 2)


def test_pooled_listed_split(area):
    pooled = area.tables["pooled"]
    # in 2011 p6 moved from the listed A2 into A1: a move into the not-listed pool, out of the listed one
    assert _row(pooled, pool="not_listed", year=2011, group="in")["n"] == 2
    assert _row(pooled, pool="listed", year=2011, group="out")["n"] == 1
    assert _row(pooled, pool="all", year=2011, group="in")["n"] == 1  # A2 -> A1 is inside the pool


def test_settings_switches_change_results(data):
    strict = MixSettings.load().with_changes(education={"unknown_as_low": False, "age_min": 25})
    res = compute_mix(data, [2010], level="area", settings=strict)
    stock = _row(res.tables["composition"], unit_id="A1", year=2010, group="stock")
    assert (stock["n_edu_pop"], stock["n_low_edu"]) == (3, 1)  # p4 (25, grundskole) in; nobody uoplyst
    main = MixSettings.load().with_changes(employment={"rule": "main_attachment"})
    assert compute_mix(data, [2010], settings=main).tables["composition"].height > 0
    with pytest.raises(ConfigurationError, match="age_min"):
        MixSettings.load().with_changes(employment={"age_min": 70})


def test_bad_inputs_raise_clear_errors(data):
    with pytest.raises(DatasetError, match="register years"):
        compute_mix(data, [2009, 2010])
    with pytest.raises(ConfigurationError, match="level"):
        compute_mix(data, [2010], level="street")
    with pytest.raises(ConfigurationError, match="years"):
        years_range("2010-abc")
    with pytest.raises(DataValidationError, match="column 'listed'"):
        check_listed(pl.DataFrame({"area_id": ["A1"], "year": [2010], "listed": ["yes"]}))
    with pytest.raises(DataValidationError, match="row 2"):
        check_listed(pl.DataFrame({"area_id": ["A1", "A1"], "year": [2010, 2010], "listed": [True, False]}))


def test_segregation_indices_from_the_composition(area):
    seg = area.tables["segregation"]
    # 1 Jan 2011, non-Western: A1 1 of 6, A2 0 of 1 -> D = (|1/1 - 5/6| + |0/1 - 1/6|) / 2 = 1/6
    row = _row(seg, factor="nonwestern", year=2011, group="stock", index="dissimilarity")
    assert row["value"] == pytest.approx(1 / 6)
    assert (row["n_units"], row["n_trait"], row["n_pop"]) == (2, 1, 7)


def test_read_listed_accepts_both_formats(tmp_path):
    from boligmix.mix.units import read_listed

    simple = tmp_path / "simple.csv"
    simple.write_text("area_id,year,listed\nA1,2010,true\nA2,2010,0\n")
    assert read_listed(str(simple)).sort("area_id")["listed"].to_list() == [True, False]
    lists_csv = tmp_path / "lists.csv"  # the lists module's format; an empty flag is undecided
    lists_csv.write_text("area_id,year,rules,criteria_met,udsat,parallelsamfund,omdannelse,forebyggelse\n"
                         "A1,2021,2021,2,1,0,0,0\nA2,2021,2021,1,0,0,0,1\nA3,2021,2021,,,,,\n")
    assert read_listed(str(lists_csv)).sort("area_id")["listed"].to_list() == [True, True, False]
    assert read_listed(str(lists_csv), ("udsat",)).sort("area_id")["listed"].to_list() == [True, False, False]
    bad = tmp_path / "bad.csv"
    bad.write_text("area_id,year,listed\nA1,2010,maybe\n")
    with pytest.raises(DataValidationError, match="row 1, column 'listed'"):
        read_listed(str(bad))


def test_employment_rules_by_hand(data):
    from dataclasses import replace

    from boligmix.mix.factors import _employment

    labour = pl.DataFrame({"person_id": [1, 1, 2, 2, 3], "year": [2010] * 5,
                           "attachment": ["employment", "kontanthjaelp", "employment", "dagpenge", "employment"],
                           "fte": [0.4, 0.6, 0.4, 0.3, 0.6]})
    d = replace(data, labour=labour)
    threshold = _employment(d, MixSettings.load())
    assert sorted(threshold["person_id"].to_list()) == [3]
    main = _employment(d, MixSettings.load().with_changes(employment={"rule": "main_attachment"}))
    assert sorted(main["person_id"].to_list()) == [2, 3]


def test_spell_of_unknown_person_names_file_row_and_column(data):
    from dataclasses import replace

    extra = data.residences.head(1).with_columns(pl.lit(999, dtype=pl.Int64).alias("person_id"))
    bad = replace(data, residences=pl.concat([data.residences, extra]))
    with pytest.raises(DataValidationError, match=rf"residences.parquet, row {bad.residences.height}, column 'person_id'"):
        compute_mix(bad, [2010])
