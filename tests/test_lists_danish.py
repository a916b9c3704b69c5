"""Danish (first) and English explanations: legal terms, Danish number formatting, both columns."""

from __future__ import annotations

import polars as pl
import pytest

from boligmix.lists.classify import classify
from boligmix.lists.explain import area_summaries, criteria_table, explain_text
from boligmix.lists.pipeline import lists_from_indicators
from boligmix.lists.texts import fmt_number, fmt_signed, fmt_threshold

ROW = dict(area_id="A", year=2023, residents=1500, pct_non_western=60.0, pct_outside_work_edu=45.0,
           pct_convicted=None, conviction_ratio=3.5, pct_basic_education=55.0, income_pct_of_region=50.0,
           n_18_64=800.0, n_18plus=1100.0, national_conviction_pct=0.7, n_30_59=500.0,
           region_mean_income=400_000.0)


def frame(**changes):
    return pl.DataFrame([{**ROW, **changes}], schema_overrides={"pct_convicted": pl.Float64})


def test_danish_number_formatting():
    assert fmt_number(1234567.891, 2, "da") == "1.234.567,89"
    assert fmt_number(1234567.891, 2, "en") == "1,234,567.89"
    assert fmt_number(0.5, 1, "da") == "0,5"
    assert fmt_threshold(1000, "da") == "1.000" and fmt_threshold(2.7, "da") == "2,7"
    assert fmt_threshold(1000, "en") == "1000"
    assert fmt_signed(-3.0, 2, "da") == "-3,00" and fmt_signed(1400, 2, "da") == "+1.400,00"


def test_to_cross_text_in_both_languages_hand_computed():
    data = frame()
    rows = {r["criterion"]: r for r in criteria_table(data, classify(data), 2023).iter_rows(named=True)}
    # 45 % of 800 outside work/education, > 40 % criterion: 5 pp x 800 = 40 FTE
    assert rows["outside_work_edu"]["to_cross_text_da"] == \
        "mindst 40,0 fuldtidspersoner blandt beboerne på 18-64 år, der kommer i arbejde eller uddannelse"
    assert rows["outside_work_edu"]["to_cross_text_en"] == rows["outside_work_edu"]["to_cross_text"]
    # income 50 % of 400.000 kr., < 55 %: at least 5 % x 400.000 = 20.000 kr. more
    assert rows["low_income"]["to_cross_text_da"].startswith("mindst 20.000 kr. højere gennemsnitlig bruttoindkomst")
    # ratio 3.5 x 0.7 % x 1,100 adults; below 3 needs more than 3.85 fewer: 4 whole persons
    assert rows["convicted"]["to_cross_text_da"] == "mindst 4 færre dømte beboere på 18 år og derover"
    # 1,500 residents -> 501 fewer (thousands dot from 1.000)
    big = frame(residents=12_500)
    rows = {r["criterion"]: r for r in criteria_table(big, classify(big), 2023).iter_rows(named=True)}
    assert rows["residents"]["to_cross_text_da"] == "mindst 11.501 færre beboere"
    assert rows["residents"]["to_cross_text_en"] == "at least 11,501 fewer residents"


def test_to_cross_text_without_support_counts_in_danish():
    data = frame().drop("n_18_64", "n_18plus", "national_conviction_pct", "n_30_59", "region_mean_income")
    rows = {r["criterion"]: r for r in criteria_table(data, classify(data), 2023).iter_rows(named=True)}
    assert rows["outside_work_edu"]["to_cross_text_da"] == "mindst 5,00 procentpoint lavere"
    assert rows["convicted"]["to_cross_text_da"] == "mere end 0,50 gange landsgennemsnittet lavere"
    assert rows["low_income"]["to_cross_text_da"] == "mindst 5,00 procentpoint af regionsgennemsnittet højere"


def test_danish_explanation_uses_legal_terms_and_decimal_comma():
    data = pl.concat([frame(year=y) for y in (2019, 2020, 2021, 2022, 2023)])
    result = classify(data)
    table = criteria_table(data, result, 2023)
    (s,) = area_summaries(result, 2023, None, table)
    da = explain_text(s, table)  # Danish is the default
    assert da.startswith("A, listeår 2023 (regler 2021): udsat boligområde, parallelsamfund, omdannelsesområde; "
                         "3 af 4 kriterier for udsat boligområde opfyldt.")
    assert "Mindst 1.000 beboere: 1.500 beboere (grænse: mindst 1.000 beboere) — opfyldt" in da
    assert "45,0 % (grænse: over 40 %) — opfyldt; for at det ikke længere er opfyldt: mindst 40,0 " \
           "fuldtidspersoner" in da
    assert "55,0 % (grænse: over 60 %) — ikke opfyldt; for at det bliver opfyldt: mindst 26 flere beboere" in da
    assert "-> " not in da and ",00 " not in da  # no arrow that reads as a false inequality, counts without decimals
    assert "listehistorik (parallelsamfund/ghettoområde): 2019: ja (beregnet)" in da
    assert "tidligste listeår, hvor området med sikkerhed er ude som omdannelsesområde" in da
    en = explain_text(s, table, lang="en")
    assert en.startswith("A, list year 2023 (rules 2021): udsat boligområde, parallelsamfund, omdannelsesområde")
    assert "1,500 residents (limit: at least 1,000 residents) — met" in en
    with pytest.raises(ValueError):
        explain_text(s, table, lang="de")  # type: ignore[arg-type]


def test_2018_hard_ghetto_and_excluded_forebyggelse_in_danish():
    data = pl.concat([frame(year=y) for y in (2019, 2020)])
    result = classify(data)
    table = criteria_table(data, result, 2020)
    (s,) = area_summaries(result, 2020, None, table)
    da = explain_text(s, table)
    assert "udsat boligområde, ghettoområde;" in da and "bliver hårdt ghettoområde efter yderligere 3 år" in da
    data = frame(pct_non_western=40.0)
    result = classify(data)
    table = criteria_table(data, result, 2023)
    (s,) = area_summaries(result, 2023, None, table)
    assert "opfylder kriterierne for forebyggelsesområde, men er ikke på den liste, fordi området er udsat " \
           "boligområde" in explain_text(s, table)


def test_areas_json_carries_both_explanations():
    result = lists_from_indicators(frame(), 2023)
    (a,) = result.areas
    assert a["explanation_da"].startswith("A, listeår 2023") and a["explanation_en"].startswith("A, list year 2023")
    assert a["explanation"] == a["explanation_en"]
    assert {"to_cross_text_da", "to_cross_text_en", "to_cross_text"} <= set(result.criteria.columns)
