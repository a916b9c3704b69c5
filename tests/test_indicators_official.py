"""Official-list indicators on a hand-built dataset; every expected value is worked out below.

Dataset: tests/indicators_support/hand_built.py. List year Y = 2024 (default settings: rules
version 2021). Residents are counted on 1 January 2024; ages are completed years on the
reference date (a person born on 1 January has had the birthday that day). Labour and
conviction window: register years 2022 and 2023; the population of window year t are the
residents on 1 January t+1 (2022 -> 2023-01-01, 2023 -> 2024-01-01). Education and income:
person_years 2023.

Area A1 (dwellings 1, 2). Residents on 2024-01-01: p1 p2 p3 p4 p5 p6 p7 p8 p9 p11 p12 = 11.
  p9 moved in on 2024-01-01 (counted; his spell in private dwelling 4 ended that day),
  p10 moved out on 2024-01-01 (not counted), p19 left in 2021, p20 moves in 2024-01-02.
  Non-western: p2 (efterkommer TUR), p11 (indvandrer TUR); p12 is efterkommer DEU (western).
  -> 2/11 = 18.1818 %.
  Ages 2024-01-01: p1 18 (born 2006-01-01), p2 17 (2006-01-02), p3 64 (1959-01-02),
  p4 65 (1959-01-01), p5 30 (1994-01-01), p6 29 (1994-01-02), p7 59 (1964-01-02),
  p8 60 (1964-01-01), p9 43, p11 53, p12 33. On 2023-01-01 everyone is a year younger
  except p1 (17) ... i.e. p1 17, p2 16, p3 63, p4 64, p5 29, p6 28, p7 58, p8 59, p10 37.
  Labour 2022, population 18-64 on 2023-01-01: p3 p4 p5 p6 p7 p8 p10 p11 p12 = 9 (p1 is 17,
    so his 1.0 kontanthjaelp does not count). Outside FTE: p3 kontanthjaelp 0.25 (+0.75
    employment, not outside), p4 foertidspension 1.0, p6 dagpenge 0.5, p7 sygedagpenge (no),
    p10 selvforsoergelse 0.6 + overgangsydelse 0.6 capped at 1.0, p11 fleksjob (no)
    -> 2.75 / 9.
  Labour 2023, population 18-64 on 2024-01-01: p1 p3 p5 p6 p7 p8 p9 p11 p12 = 9 (p4 is 65,
    p10 moved out). Outside: p1 uddannelseshjaelp 0.25, p3 kontanthjaelp 0.5,
    p6 ressourceforloebsydelse 0.4, p8 ledighedsydelse 0.1 (+0.9 efterloen, no),
    p9 barselsdagpenge (no), p11 overgangsydelse 0.3 -> 1.55 / 9.
  pct_outside = mean(2.75/9, 1.55/9) * 100 = 23.8889; n_18_64 = 9; fte_outside = 2.15.
  Convictions, 18+: 2022 population on 2023-01-01 = the 9 above (nobody else is 18+);
    convicted p10, p4 (two laws, counted once) -> 2/9; p2 is 16.
    2023 population on 2024-01-01: p1 p3 p4 p5 p6 p7 p8 p9 p11 p12 = 10; convicted p1 -> 1/10
    (p10's 2023 conviction: he moved out).
    pct_convicted = mean(2/9, 1/10) * 100 = 29/180 * 100 = 16.1111; n_18plus 9.5; convicted 1.5.
  National (all residents of Denmark 18+): 2023-01-01: A1 9, A2 p13 p14 p18, dwelling 4 p15 p9,
    A3 p16, dwelling 6 p17 = 16; convicted 2022: p10 p4 p15 (p19 lives abroad) = 3 -> 3/16.
    2024-01-01: A1 10, A2 p13 p14, p15, p16, p17 = 15 (p21 is 15, p22 14); convicted 2023: p1 p13
    -> 2/15. National = mean(3/16, 2/15) * 100 = 77/480 * 100 = 16.0417.
    conviction_ratio A1 = (29/180) / (77/480) = 1.004329.
  Education 30-59 on 2024-01-01: p5 (grundskole, dk_registered), p7 (uoplyst, none),
    p9 (lang_videregaaende, self_reported), p11 (erhvervsfaglig, dk_registered),
    p12 (gymnasial, imputed); p6 (29) and p8 (60) have grundskole but are outside the band.
    2018+ rules, unregistered -> basic: basic p5 p7 p9 p12 -> 4/5 = 80 %.
    2018+ rules, unregistered -> excluded: denominator p5 p11, basic p5 -> 1/2 = 50 %.
    2013 rules (uoplyst is basic, any source): basic p5 p7 -> 2/5 = 40 %.
  Income, taxpayers 15-64 not in education, 2023: p2 20k, p3 300k, p5 200k, p7 250k, p8 150k,
    p9 400k, p11 80k (p1, p12 students; p4 65; p6 not a taxpayer) -> 7 persons, mean 200,000.
  Region 1084 (municipality 101): A1's 7 (1,400k) + A2 p13 100k, p14 100k + dwelling 4 p15 700k,
    p21 10k (15 on 2024-01-01; p22 is 14) -> 11 persons, 2,310k, mean 210,000.
    income_pct_of_region A1 = 200000/210000 * 100 = 95.2381.
Area A2 (dwelling 3): residents p13 p14 -> 2; non-western p13 -> 50 %.
  Labour 2022 population on 2023-01-01: p13 p14 p18 (died 2023-06-01); p18 kontanthjaelp 1.0
    -> 1/3. 2023 on 2024-01-01: p13 p14; p13 kontanthjaelp 0.5 -> 0.5/2.
    mean of shares (1/3 + 1/4)/2 = 29.1667 %; pooled 1.5/5 = 30 %.
  Convictions: 2022 0/3, 2023 p13 1/2 -> 25 %; ratio 0.25/(77/480) = 1.558442.
  Education: p13 grundskole (dk) basic, p14 mellemlang (dk) -> 50 %.
  Income: mean 100,000 -> 47.619 % of 210,000.
Area A3 (dwelling 5, region 1082): p16 only; no benefits, no convictions -> 0 %; ratio 0;
  education kort_videregaaende -> 0 %; income 300k vs region (p16 300k, p17 100k) 200k -> 150 %.
"""

from __future__ import annotations

import math
from datetime import date

import polars as pl
import pytest

from boligmix.errors import ConfigurationError, DatasetError, DataValidationError
from boligmix.indicators import compute_area_indicators
from boligmix.indicators.official import output_columns
from boligmix.indicators.settings import settings_for_list_year
from indicators_support import hand_built

CLASSIFY = ["area_id", "year", "residents", "pct_non_western", "pct_outside_work_edu", "pct_convicted",
            "conviction_ratio", "pct_basic_education", "income_pct_of_region"]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return hand_built.write(tmp_path_factory.mktemp("hand") / "ds")


@pytest.fixture(scope="module")
def areas(dataset):
    return {row["area_id"]: row for row in compute_area_indicators(dataset, [2024]).iter_rows(named=True)}


def approx(value):
    return pytest.approx(value, rel=1e-9, abs=1e-12)


def test_columns_start_with_the_classify_format(dataset):
    frame = compute_area_indicators(dataset, [2024])
    assert frame.columns[:9] == CLASSIFY
    assert frame.columns == output_columns("area")
    assert frame.get_column("area_id").to_list() == ["A1", "A2", "A3"]  # also units < 1,000 residents


def test_residents_and_non_western(areas):
    assert [areas[a]["residents"] for a in ("A1", "A2", "A3")] == [11, 2, 1]
    assert areas["A1"]["n_non_western"] == 2
    assert areas["A1"]["pct_non_western"] == approx(200 / 11)
    assert areas["A2"]["pct_non_western"] == approx(50.0)
    assert areas["A3"]["pct_non_western"] == approx(0.0)
    assert not areas["A1"]["meets_min_residents"]


def test_outside_work_or_education_fte(areas):
    a1 = areas["A1"]
    assert a1["pct_outside_work_edu"] == approx((2.75 / 9 + 1.55 / 9) / 2 * 100)
    assert a1["n_18_64"] == approx(9.0)
    assert a1["fte_outside_18_64"] == approx(2.15)
    assert areas["A2"]["pct_outside_work_edu"] == approx((1 / 3 + 0.25) / 2 * 100)
    assert areas["A2"]["n_18_64"] == approx(2.5)
    assert areas["A3"]["pct_outside_work_edu"] == approx(0.0)


def test_convictions_and_national_ratio(areas):
    national = (3 / 16 + 2 / 15) / 2 * 100
    a1 = areas["A1"]
    assert a1["pct_convicted"] == approx((2 / 9 + 1 / 10) / 2 * 100)
    assert a1["n_18plus"] == approx(9.5)
    assert a1["n_convicted_18plus"] == approx(1.5)
    assert a1["national_conviction_pct"] == approx(national)
    assert a1["conviction_ratio"] == approx((29 / 180) / (77 / 480))
    assert areas["A2"]["pct_convicted"] == approx(25.0)
    assert areas["A2"]["conviction_ratio"] == approx(25.0 / national)
    assert areas["A3"]["conviction_ratio"] == approx(0.0)


def test_education_2018_rules_count_unregistered_as_basic(areas):
    assert (areas["A1"]["n_30_59"], areas["A1"]["n_basic_30_59"]) == (5, 4)
    assert areas["A1"]["pct_basic_education"] == approx(80.0)
    assert areas["A2"]["pct_basic_education"] == approx(50.0)
    assert areas["A3"]["pct_basic_education"] == approx(0.0)


def test_education_2018_rules_can_drop_unregistered(dataset):
    settings = settings_for_list_year(2024).model_copy(update={"unregistered_education": "exclude"})
    a1 = compute_area_indicators(dataset, [2024], settings).row(0, named=True)
    assert (a1["n_30_59"], a1["n_basic_30_59"]) == (2, 1)
    assert a1["pct_basic_education"] == approx(50.0)


def test_education_2013_rules_count_uoplyst_as_basic(dataset):
    settings = settings_for_list_year(2015)
    assert settings.education_rule == "uoplyst_is_basic"
    a1 = compute_area_indicators(dataset, [2024], settings).row(0, named=True)
    assert (a1["n_30_59"], a1["n_basic_30_59"]) == (5, 2)
    assert a1["rules_basis"] == "2013"


def test_income_excludes_students_and_compares_with_region(areas):
    a1 = areas["A1"]
    assert a1["n_income_group"] == 7
    assert a1["mean_income"] == approx(200_000.0)
    assert a1["region_mean_income"] == approx(210_000.0)
    assert a1["income_pct_of_region"] == approx(200 / 210 * 100)
    assert areas["A2"]["income_pct_of_region"] == approx(100 / 210 * 100)
    assert areas["A3"]["income_pct_of_region"] == approx(150.0)
    assert areas["A3"]["region_code"] == 1082


def test_pooled_window_average(dataset):
    settings = settings_for_list_year(2024).model_copy(update={"window_average": "pooled"})
    a2 = compute_area_indicators(dataset, [2024], settings).filter(pl.col("area_id") == "A2").row(0, named=True)
    assert a2["pct_outside_work_edu"] == approx(30.0)
    assert a2["pct_convicted"] == approx(20.0)
    assert a2["national_conviction_pct"] == approx(5 / 31 * 100)


def test_start_of_year_window_population(dataset):
    # A2 with populations on 1 Jan t: 2022 -> 2022-01-01 p13 p14 p18, p18 kontanthjaelp 1.0 -> 1/3;
    # 2023 -> 2023-01-01 p13 p14 p18, p13 0.5 -> 0.5/3. Mean (1/3 + 1/6)/2 = 25 %.
    settings = settings_for_list_year(2024).model_copy(update={"window_population": "start_of_year"})
    a2 = compute_area_indicators(dataset, [2024], settings).filter(pl.col("area_id") == "A2").row(0, named=True)
    assert a2["pct_outside_work_edu"] == approx(25.0)
    assert "window_population=2022-01-01,2023-01-01" in a2["register_years"]


def test_provenance_columns(areas):
    a1 = areas["A1"]
    assert a1["vintage"] == "hand-built-test"
    assert a1["seed"] == 7
    assert a1["rules_basis"] == "2021"
    assert a1["country_nomenclature"] == "dst-2019"
    assert a1["register_years"] == ("residents=2024-01-01; labour=2022-2023; convictions=2022-2023; "
                                    "window_population=2023-01-01,2024-01-01; education=2023; income=2023")


def test_department_level(dataset):
    frame = compute_area_indicators(dataset, [2024], level="department")
    assert frame.columns[0] == "department_id"
    rows = {r["department_id"]: r for r in frame.iter_rows(named=True)}
    assert set(rows) == {"D1", "D2", "D4"}  # D3 has no dwellings, hence no residents
    assert rows["D1"]["residents"] == 11
    assert rows["D1"]["pct_convicted"] == approx((2 / 9 + 1 / 10) / 2 * 100)


def test_municipality_level(dataset):
    # 101: A1 11 + A2 2 + dwelling 4 (p15 p21 p22) = 16 residents; non-western p2 p11 p13 -> 3/16.
    # Education 30-59: A1's 5 (4 basic), A2's 2 (1 basic), p15 (lang, dk) -> 5/8. Income = region's.
    frame = compute_area_indicators(dataset, [2024], level="municipality")
    assert frame.columns[0] == "municipality_code" and "municipality_code" not in frame.columns[1:]
    rows = {r["municipality_code"]: r for r in frame.iter_rows(named=True)}
    assert rows[101]["residents"] == 16 and rows[751]["residents"] == 2
    assert rows[101]["pct_non_western"] == approx(3 / 16 * 100)
    assert rows[101]["pct_basic_education"] == approx(62.5)
    assert rows[101]["income_pct_of_region"] == approx(100.0)
    assert rows[751]["income_pct_of_region"] == approx(100.0)


def test_missing_register_years_are_an_error(dataset):
    with pytest.raises(DatasetError, match="2021"):
        compute_area_indicators(dataset, [2023])
    with pytest.raises(DatasetError, match="2020"):  # 2010 rules: 4-year window 2020-2023
        compute_area_indicators(dataset, [2024], settings_for_list_year(2011))


def test_unknown_level_and_nomenclature(dataset):
    with pytest.raises(ConfigurationError, match="level"):
        compute_area_indicators(dataset, [2024], level="region")  # type: ignore[arg-type]
    settings = settings_for_list_year(2024).model_copy(update={"country_nomenclature": "dst-2030"})
    with pytest.raises(ConfigurationError, match="dst-2030"):
        compute_area_indicators(dataset, [2024], settings)


def test_two_open_spells_name_the_row(tmp_path):
    res = hand_built.tables()["residences"]
    extra = pl.DataFrame([(5, 9, 3, date(2020, 1, 1), None, None)], schema=res.schema, orient="row")
    ds = hand_built.write(tmp_path / "ds", {"residences": pl.concat([res, extra])})
    with pytest.raises(DataValidationError, match="two residence spells") as info:
        compute_area_indicators(ds, [2024])
    assert info.value.column == "move_in" and info.value.path.endswith("residences.parquet")
    assert info.value.row == 5  # p5's first spell (p1-p4 have one spell each), the first of the pair


def test_unknown_country_names_the_row(tmp_path):
    persons = hand_built.tables()["persons"].with_columns(
        pl.when(pl.col("person_id") == 13).then(pl.lit("XXX")).otherwise(pl.col("country_code")).alias("country_code"))
    ds = hand_built.write(tmp_path / "ds", {"persons": persons})
    with pytest.raises(DataValidationError) as info:
        compute_area_indicators(ds, [2024])
    assert (info.value.row, info.value.column) == (13, "country_code")


def test_missing_column_is_named(tmp_path):
    ds = hand_built.write(tmp_path / "ds")
    (ds / "labour.parquet").unlink()
    hand_built.tables()["labour"].drop("fte").write_parquet(ds / "labour.parquet")
    with pytest.raises(DataValidationError) as info:
        compute_area_indicators(ds, [2024])
    assert info.value.column == "fte"


def test_several_list_years_and_progress(dataset):
    steps = []
    frame = compute_area_indicators(dataset, [2024, 2024], on_progress=lambda s, f: steps.append(f))
    assert frame.height == 3
    assert steps[0] == 0.0 and steps[-1] == 1.0
    assert all(not math.isnan(v) for v in frame.get_column("pct_outside_work_edu").to_list())


def test_settings_per_list_year_mapping(dataset):
    mapping = {2024: settings_for_list_year(2015)}
    a1 = compute_area_indicators(dataset, [2024], mapping).row(0, named=True)
    assert a1["rules_basis"] == "2013" and a1["n_basic_30_59"] == 2
    with pytest.raises(ConfigurationError, match="2025"):
        compute_area_indicators(dataset, [2024, 2025], mapping)


@pytest.mark.parametrize(("column", "message"), [("dwelling_id", "not in dwellings"),
                                                 ("person_id", "not in persons")])
def test_unknown_dwelling_or_person_of_a_spell_names_the_row(tmp_path, column, message):
    res = hand_built.tables()["residences"]
    bad = res.with_columns(pl.when(pl.int_range(pl.len()) == 2).then(pl.lit(987_654_321, pl.Int64))
                           .otherwise(pl.col(column)).alias(column))
    ds = hand_built.write(tmp_path / "ds", {"residences": bad})
    with pytest.raises(DataValidationError, match=message) as info:
        compute_area_indicators(ds, [2024])
    assert (info.value.row, info.value.column) == (3, column)
    assert info.value.path.endswith("residences.parquet")


def test_unknown_area_of_a_dwelling_names_the_row(tmp_path):
    dwellings = hand_built.tables()["dwellings"]
    first_in_area = int(dwellings.with_row_index().filter(pl.col("area_id").is_not_null()).get_column("index")[0])
    bad = dwellings.with_columns(pl.when(pl.int_range(pl.len()) == first_in_area).then(pl.lit("NOWHERE"))
                                 .otherwise(pl.col("area_id")).alias("area_id"))
    ds = hand_built.write(tmp_path / "ds", {"dwellings": bad})
    with pytest.raises(DataValidationError, match="not in its table") as info:
        compute_area_indicators(ds, [2024])
    assert (info.value.row, info.value.column) == (first_in_area + 1, "area_id")
