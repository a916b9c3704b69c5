"""Indicator sets: hand-computed scoring for legal, legal-no-ethnicity and aarhus; custom and bad sets."""

from __future__ import annotations

import polars as pl
import pytest

from boligmix.errors import ConfigurationError
from boligmix.monitor.scoring import legal_categories, legal_criteria, points_scores
from boligmix.monitor.sets import load_set, parse_set


def _units(**over: list) -> pl.DataFrame:
    base = {"unit_id": ["U1", "U2", "U3"], "year": [2024, 2024, 2024],
            "residents": [1500, 1200, 400],
            "pct_non_western": [55.0, 35.0, 60.0],
            "pct_outside_work_edu": [45.0, 32.0, 41.0],
            "pct_convicted": [3.0, 1.0, 2.0],
            "conviction_ratio": [3.0, 1.0, 3.5],
            "pct_basic_education": [61.0, 61.0, 30.0],
            "income_pct_of_region": [60.0, 64.0, 50.0]}
    base.update(over)
    return pl.DataFrame(base)


def test_legal_set_categories_and_margins_by_hand() -> None:
    # 2021 rules (list year 2024). U1: outside 45 > 40, convicted 3.0 >= 3 (exactly), basic 61 > 60
    # -> udsat (3 of 4), NW 55 > 50 -> parallelsamfund; no history -> not omdannelse.
    # U2: udsat criteria: outside 32 no, conv 1 no, basic 61 yes, income 64 no -> 1: not udsat.
    #     forebyggelse: NW 35 > 30; outside 32 > 30, conv 1 < 2, basic 61 > 60, income 64 < 65 -> 3 of 4.
    # U3: 400 residents: meets udsat criteria (41 > 40, 3.5 >= 3, income 50 < 55) and NW 60, but not
    #     "mindst 1.000 beboere" -> parallelsamfund_below_min_residents.
    classification, cats = legal_categories(_units(), load_set("legal"))
    got = dict(cats.select("unit_id", "category").iter_rows())
    assert got == {"U1": "parallelsamfund", "U2": "forebyggelse", "U3": "parallelsamfund_below_min_residents"}
    crit = legal_criteria(_units(), classification)
    row = crit.filter((pl.col("unit_id") == "U1") & (pl.col("criterion") == "outside_work_edu")).row(0, named=True)
    assert (row["value"], row["threshold"], row["margin"], row["met"]) == (45.0, 40.0, 5.0, True)
    row = crit.filter((pl.col("unit_id") == "U2") & (pl.col("criterion") == "f_low_income")).row(0, named=True)
    assert row["margin"] == pytest.approx(-1.0) and row["met"] is True
    row = crit.filter((pl.col("unit_id") == "U3") & (pl.col("criterion") == "residents")).row(0, named=True)
    assert (row["margin"], row["met"]) == (-600.0, False)


def test_legal_no_ethnicity_drops_the_non_western_criterion() -> None:
    # Without the NW gate: U1 stays udsat (parallelsamfund is the same as udsat, so the category list
    # is omdannelse/udsat/forebyggelse); U2 is forebyggelse without the 30 % gate too; a unit with
    # NW 10 and forebyggelse criteria is forebyggelse only without ethnicity.
    frame = _units(pct_non_western=[55.0, 10.0, 60.0])
    _, legal = legal_categories(frame, load_set("legal"))
    classification, no_eth = legal_categories(frame, load_set("legal-no-ethnicity"))
    assert dict(legal.select("unit_id", "category").iter_rows())["U2"] == "none"
    assert dict(no_eth.select("unit_id", "category").iter_rows()) == {
        "U1": "udsat", "U2": "forebyggelse", "U3": "udsat_below_min_residents"}
    criteria = legal_criteria(frame, classification).get_column("criterion").unique().to_list()
    assert "non_western" not in criteria and "f_non_western" not in criteria
    assert not classification.frame.get_column("parallelsamfund").any()


def test_legal_no_ethnicity_2013_needs_three_of_the_four_left() -> None:
    # 2013 rules: ghettoområde = at least 3 of 5 (NW one of them). Without NW: 3 of 4.
    # U1: NW yes, outside 45 > 40 yes, convicted 3.0 > 2.7 yes, basic 61 > 50 yes, income 60 < 55 no.
    frame = _units(year=[2015] * 3, pct_convicted=[3.0, 1.0, 2.0], pct_basic_education=[40.0, 61.0, 30.0])
    # U1 now: outside yes, convicted yes, basic 40 no, income no -> 2 of 4 without NW; with NW 3 of 5.
    _, legal = legal_categories(frame, load_set("legal"))
    _, no_eth = legal_categories(frame, load_set("legal-no-ethnicity"))
    assert dict(legal.select("unit_id", "category").iter_rows())["U1"] == "parallelsamfund"
    assert dict(no_eth.select("unit_id", "category").iter_rows())["U1"] == "none"


def _aarhus_values() -> pl.DataFrame:
    return pl.DataFrame({
        "unit_id": ["A"] * 4 + ["B"] * 4, "year": [2024] * 8,
        "indicator": ["arbejdsmarked", "indkomst", "kriminalitet", "uddannelse"] * 2,
        "value": [50.0, 60.0, 2.4, 35.0, 20.0, 100.0, None, 30.0],
        "reference": [35.0, 100.0, 1.0, 30.0, 20.0, 100.0, 1.0, 30.0]})


def test_aarhus_points_by_hand() -> None:
    # A: arbejdsmarked 50 - 35 = 15 pp -> steps 5, 10 reached (20 not) = 2 points;
    #    indkomst lower is worse: 100 - 60 = 40 -> 10, 20, 30 = 3 points;
    #    kriminalitet ratio 2.4 / 1.0 -> 1.5, 2.0 = 2 points; uddannelse 35 - 30 = 5 -> 1 point (>= 5).
    #    Sum 8 -> risikoomraade (4 <= 8 < 9).
    # B: all at the reference -> 0 points; kriminalitet missing -> no points (null), sum 0 -> uden_for_risiko.
    rows, totals = points_scores(_aarhus_values(), load_set("aarhus"))
    points = {(r["unit_id"], r["indicator"]): r["points"] for r in rows.iter_rows(named=True)}
    assert points[("A", "arbejdsmarked")] == 2 and points[("A", "indkomst")] == 3
    assert points[("A", "kriminalitet")] == 2 and points[("A", "uddannelse")] == 1
    assert points[("B", "kriminalitet")] is None
    got = {r["unit_id"]: (r["points"], r["category"]) for r in totals.iter_rows(named=True)}
    assert got == {"A": (8.0, "risikoomraade"), "B": (0.0, "uden_for_risiko")}


CUSTOM = """
format: boligmix-monitor-set/1
id: my-set
kind: points
label_da: Mit sæt
label_en: My set
reference: national
indicators:
  - {id: job, label_da: j, label_en: j, source: official, field: pct_outside_work_edu, worse: higher,
     distance: difference, steps: [1, 2]}
categories:
  - {id: red, label_da: r, label_en: r, colour: red, min_points: 2}
  - {id: green, label_da: g, label_en: g, colour: green, min_points: 0}
"""


def test_custom_set_in_a_file(tmp_path) -> None:
    path = tmp_path / "my.yaml"
    path.write_text(CUSTOM, encoding="utf-8")
    iset = load_set(str(path))
    values = pl.DataFrame({"unit_id": ["X", "Y"], "year": [2024, 2024], "indicator": ["job", "job"],
                           "value": [12.0, 10.5], "reference": [10.0, 10.0]})
    _, totals = points_scores(values, iset)
    assert dict(totals.select("unit_id", "category").iter_rows()) == {"X": "red", "Y": "green"}


@pytest.mark.parametrize("change, rule, field", [
    (("steps: [1, 2]", "steps: [2, 1]"), "job", "steps"),
    (("distance: difference", "distance: difference, colour: blue"), "job", "colour"),
    (("field: pct_outside_work_edu", "field: pct_unknown"), "job", "field"),
    (("min_points: 0", "min_points: 1"), "green", "min_points"),
    (("reference: national", "reference: region"), None, "reference"),
    (("kind: points", "kind: legal"), "my-set", "reference"),
])
def test_bad_sets_name_file_indicator_and_key(tmp_path, change, rule, field) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(CUSTOM.replace(*change), encoding="utf-8")
    with pytest.raises(ConfigurationError) as info:
        load_set(str(path))
    assert info.value.source == str(path)
    assert info.value.field == field
    assert info.value.rule == rule


def test_unknown_set_and_bad_yaml(tmp_path) -> None:
    with pytest.raises(ConfigurationError, match="unknown indicator set"):
        load_set("bosocdata")
    with pytest.raises(ConfigurationError, match="not valid YAML"):
        parse_set("a: [1", "x.yaml")
    with pytest.raises(ConfigurationError) as info:
        parse_set(CUSTOM.replace("kind: points", "kind: legal\ndrop_fields: [pct_x]").replace(
            "reference: national\n", "").split("indicators:")[0], "y.yaml")
    assert info.value.field == "drop_fields"


def _random_frame(data, n: int, year: int) -> pl.DataFrame:
    from hypothesis import strategies as st

    floats = st.floats(0, 100, allow_nan=False)
    return pl.DataFrame({
        "unit_id": [f"U{i}" for i in range(n)], "year": [year] * n,
        "residents": data.draw(st.lists(st.integers(0, 3000), min_size=n, max_size=n)),
        "pct_non_western": data.draw(st.lists(floats, min_size=n, max_size=n)),
        "pct_outside_work_edu": data.draw(st.lists(floats, min_size=n, max_size=n)),
        "pct_convicted": data.draw(st.lists(st.floats(0, 10), min_size=n, max_size=n)),
        "conviction_ratio": data.draw(st.lists(st.floats(0, 6), min_size=n, max_size=n)),
        "pct_basic_education": data.draw(st.lists(floats, min_size=n, max_size=n)),
        "income_pct_of_region": data.draw(st.lists(st.floats(20, 150), min_size=n, max_size=n))})


def test_no_ethnicity_categories_never_depend_on_the_non_western_share() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    @settings(max_examples=25, deadline=None)
    @given(st.data(), st.sampled_from([2012, 2015, 2019, 2023]))
    def check(data, year) -> None:
        frame = _random_frame(data, 6, year)
        other = frame.with_columns(pl.Series("pct_non_western", data.draw(
            st.lists(st.floats(0, 100), min_size=6, max_size=6))))
        iset = load_set("legal-no-ethnicity")
        a, cats_a = legal_categories(frame, iset)
        _, cats_b = legal_categories(other, iset)
        assert cats_a.equals(cats_b)
        # udsat never used ethnicity: the same as under the statutory set
        legal, _ = legal_categories(frame, load_set("legal"))
        assert a.frame.get_column("udsat").equals(legal.frame.get_column("udsat"))

    check()
