"""The persons *without* a trait are protected like the persons with it: a published part and its
published total never differ by a small count (hand-computed cases for every writer that publishes
a count together with the count it is part of)."""

from __future__ import annotations

import polars as pl
import pytest

from boligmix.errors import DataValidationError
from boligmix.indicators.publish import part_counts, protect_composition, protect_indicators
from boligmix.lists.classify import classify
from boligmix.lists.explain import criteria_table
from boligmix.lists.publish import protect_criteria
from boligmix.report.disclosure import Additive, DisclosurePolicy, protect

POLICY = DisclosurePolicy.load()


def _tidy(rows: list[tuple[str, str, float, float]]) -> pl.DataFrame:
    """Rows of `compute_composition`'s shape: (department, indicator, numerator, denominator)."""
    kinds = {"mean_household_size": "ratio"}
    frame = pl.DataFrame(rows, schema={"department_id": pl.String, "indicator": pl.String, "numerator": pl.Float64,
                                       "denominator": pl.Float64}, orient="row")
    return frame.with_columns(pl.lit(2024, pl.Int64).alias("year"),
                              pl.col("indicator").replace_strict(kinds, default="pct").alias("kind")).with_columns(
        (pl.when(pl.col("kind") == "pct").then(100.0).otherwise(1.0) * pl.col("numerator") / pl.col("denominator"))
        .alias("value"))


def _published(table) -> dict[tuple[str, str], dict]:
    return {(r["department_id"], r["indicator"]): r for r in table.frame.iter_rows(named=True)}


def test_composition_48_of_50_does_not_tell_that_2_lack_the_trait():
    table = protect_composition(_tidy([
        ("D1", "share_children", 48, 50),        # 2 adults: the rest is small
        ("D2", "share_children", 10, 50),        # 40 adults: published as is
        ("D3", "share_children", 50, 50),        # all children: a group disclosure
        ("D4", "share_children", 0, 50),         # no children: a zero is published
        ("D5", "share_employed", 48.5, 50),      # 1.5 full-time persons not employed
        ("D6", "share_employed", 30.0, 50),
        ("D7", "mean_household_size", 52, 50),   # 52 persons in 50 households: 2 beyond the first
        ("D8", "mean_household_size", 120, 50),
    ]), POLICY)
    rows = _published(table)
    d1 = rows["D1", "share_children"]
    assert (d1["numerator"], d1["denominator"], d1["value"]) == (None, 50, None)
    assert d1["suppressed"] == "numerator:secondary,value:numerator"
    d2 = rows["D2", "share_children"]
    assert (d2["numerator"], d2["denominator"], d2["value"]) == (10, 50, 20.0) and d2["suppressed"] is None
    assert rows["D3", "share_children"]["suppressed"] == "numerator:group,value:numerator"
    d4 = rows["D4", "share_children"]
    assert (d4["numerator"], d4["value"], d4["suppressed"]) == (0, 0.0, None)
    d5 = rows["D5", "share_employed"]
    assert (d5["numerator"], d5["denominator"], d5["value"]) == (None, 50, None)
    assert rows["D6", "share_employed"]["suppressed"] is None
    d7 = rows["D7", "mean_household_size"]  # the households go, the persons stay: 52 tells nothing alone
    assert (d7["numerator"], d7["denominator"], d7["value"]) == (52, None, None)
    assert d7["suppressed"] == "denominator:secondary,value:denominator"
    d8 = rows["D8", "mean_household_size"]
    assert (d8["numerator"], d8["denominator"], d8["value"]) == (120, 50, 2.4) and d8["suppressed"] is None
    assert "_part" not in table.frame.columns and "_members" not in table.frame.columns
    # what is left published never gives a small rest back
    pct = table.frame.filter(pl.col("kind") == "pct")
    rest = (pct.get_column("denominator") - pct.get_column("numerator")).drop_nulls().to_list()
    assert rest and all(r >= POLICY.min_count for r in rest)


def test_official_indicators_protect_the_rest_of_full_time_equivalents():
    frame = pl.DataFrame({"area_id": ["A", "B", "C"], "year": [2024] * 3, "residents": [60, 60, 60],
                          "n_18_64": [12.0, 12.0, 40.0], "fte_outside_18_64": [12.0, 10.5, 10.0],
                          "pct_outside_work_edu": [100.0, 87.5, 25.0]})
    out = protect_indicators(frame, POLICY).frame
    # all 12 outside work (a group disclosure) and 1.5 full-time persons in work: both hidden
    assert out.get_column("fte_outside_18_64").to_list() == [None, None, 10.0]
    assert out.get_column("pct_outside_work_edu").to_list() == [None, None, 25.0]
    assert out.get_column("n_18_64").to_list() == [12.0, 12.0, 40.0]
    assert ("fte_outside_18_64", "n_18_64") in part_counts()


def test_criteria_table_protects_the_rest_of_its_count():
    data = pl.DataFrame([
        {"area_id": "A", "year": 2023, "residents": 1500, "pct_non_western": 96.0, "n_non_western": 1440.0,
         "pct_outside_work_edu": 45.0, "n_18_64": 800.0, "fte_outside_18_64": 360.0,
         "conviction_ratio": 3.5, "pct_convicted": None, "n_18plus": 50.0, "n_convicted_18plus": 48.0,
         "national_conviction_pct": 0.7, "pct_basic_education": 55.0, "n_30_59": 500.0, "n_basic_30_59": 275.0,
         "income_pct_of_region": 50.0, "region_mean_income": 400_000.0, "n_income_group": 1200.0}],
        schema_overrides={"pct_convicted": pl.Float64})
    criteria = criteria_table(data, classify(data), 2023)
    table = protect_criteria(criteria, data, POLICY)
    rows = {r["criterion"]: r for r in table.frame.iter_rows(named=True)}
    convicted = rows["convicted"]  # 48 of 50 adults convicted: 2 are not; hidden with the value
    assert (convicted["count"], convicted["base"], convicted["value"], convicted["to_cross"]) == (None, 50, None, None)
    assert convicted["to_cross_text"] is None
    assert rows["non_western"]["count"] == 1440 and rows["non_western"]["base"] == 1500
    # residents and income rows have count == base (no part): a full count, not a group disclosure
    assert rows["residents"]["count"] == 1500 and rows["residents"]["suppressed"] is None
    assert rows["low_income"]["count"] == 1200 and rows["low_income"]["suppressed"] is None
    assert "_part" not in table.frame.columns


def test_additive_where_limits_the_relation_to_the_flagged_rows():
    frame = pl.DataFrame({"part": [48, 60, 48], "whole": [50, 50, 50], "flag": [True, False, None]})
    table = protect(frame, counts=["part", "whole"], totals=[Additive(["part"], "whole", remainder=True,
                                                                      where="flag")], policy=POLICY)
    # row 1: 2 without the trait -> hidden; row 2: not a part (60 > 50 is no error there); row 3: null = not flagged
    assert table.frame.get_column("part").to_list() == [None, 60, 48]
    with pytest.raises(DataValidationError, match="parts add up"):
        protect(frame, counts=["part", "whole"], totals=[Additive(["part"], "whole", remainder=True)])
    with pytest.raises(DataValidationError, match="Boolean"):
        protect(frame.with_columns(pl.lit(1).alias("flag")), counts=["part", "whole"],
                totals=[Additive(["part"], "whole", where="flag")])
    with pytest.raises(DataValidationError, match="missing"):
        protect(frame, counts=["part", "whole"], totals=[Additive(["part"], "whole", where="nope")])
    # without `where` an Additive is what it was
    assert Additive(["a"], "b") == Additive(["a"], "b", remainder=False, where=None)


def test_programme_movement_hides_shares_of_small_counts_and_small_rests():
    from boligmix.evaluate.programmes import protect_moved

    def side(residents, non_western, adults, convicted, n_18_64, fte, n_30_59, basic):
        return {"residents": residents, "n_non_western": non_western, "pct_non_western": 100 * non_western / residents,
                "n_18plus": adults, "n_convicted_18plus": convicted, "pct_convicted": 100 * convicted / adults,
                "n_18_64": n_18_64, "fte_outside_18_64": fte, "pct_outside_work_edu": 100 * fte / n_18_64,
                "n_30_59": n_30_59, "n_basic_30_59": basic, "pct_basic_education": 100 * basic / n_30_59}

    rows = []
    for dep, before, after in (("D1", side(200, 60, 100, 2, 80.4, 30.0, 60.0, 20.0),     # 2 convicted before
                                 side(210, 60, 100, 10, 80.0, 30.0, 60.0, 20.0)),
                                ("D2", side(200, 60, 100, 10, 80.0, 30.0, 60.0, 20.0),
                                 side(50, 48, 40, 10, 30.0, 10.0, 30.0, 10.0))):  # 48 of 50 non-western after
        row = {"programme_id": "HP1", "department_id": dep, "year_before": 2012, "year_after": 2016}
        row |= {f"{k}_before": v for k, v in before.items()} | {f"{k}_after": v for k, v in after.items()}
        row |= {f"{c}_change": after[c] - before[c] for c in ("pct_non_western", "pct_convicted",
                                                               "pct_outside_work_edu", "pct_basic_education")}
        rows.append(row)
    table = protect_moved(pl.DataFrame(rows), POLICY)
    d1, d2 = table.frame.iter_rows(named=True)
    assert d1["pct_convicted_before"] is None and d1["pct_convicted_change"] is None  # 2 convicted: hidden
    assert d1["pct_convicted_after"] == 10.0 and d1["n_18plus_before"] == 100
    assert d2["pct_non_western_after"] is None and d2["pct_non_western_change"] is None  # 2 not non-western
    assert d2["pct_non_western_before"] == 30.0 and d2["residents_after"] == 50
    assert d1["pct_outside_work_edu_change"] == pytest.approx(100 * 30 / 80 - 100 * 30 / 80.4)
    assert d1["n_18_64_before"] == 80  # a two-year mean, rounded for publication
    assert not {"n_non_western_before", "n_convicted_18plus_after", "fte_outside_18_64_before"} & set(table.frame.columns)
    assert "pct_convicted_change:numerator" in d1["suppressed"]
    assert "pct_non_western_change:numerator" in d2["suppressed"]


def test_letting_analyst_aggregates_protect_the_rest_of_a_part():
    from boligmix.letting.store import reports
    from boligmix.letting.store.auth import Principal

    analyst = Principal(token_id=1, name="analyst", role="analyst", scope=frozenset())
    rows = [{"department_id": "D1", "applicants": 50, "offers": 50, "lettings": 48, "grounds.a": 48, "grounds.b": 30},
            {"department_id": "D2", "applicants": 50, "offers": 40, "lettings": 20, "grounds.a": 20, "grounds.b": 30}]
    counts = ["applicants", "offers", "lettings", "grounds.a", "grounds.b"]
    shown, meta = reports._publish(analyst, rows, counts, [(["grounds.a"], "applicants", True),
                                                           (["grounds.b"], "applicants", True),
                                                           (["lettings"], "offers", True)], "dispensations_51c")
    d1, d2 = shown
    # 2 offers not taken and 2 applicants without ground a: the parts go, the totals stay
    assert (d1["applicants"], d1["offers"], d1["lettings"], d1["grounds.a"], d1["grounds.b"]) == (50, 50, None, None, 30)
    assert {k: v for k, v in d2.items() if k != "suppressed"} == rows[1] and d2["suppressed"] is None
    assert not any(k.startswith("_part") for k in d1) and meta["suppression"] == "disclosure policy"
    municipality = Principal(token_id=2, name="kommune", role="municipality", scope=frozenset({"101"}))
    assert reports._publish(municipality, rows, counts, [], "x")[0] == rows  # the municipality's own report: exact


def test_rehousing_reasons_are_protected_with_the_not_placed_of_the_outcome_table():
    from types import SimpleNamespace

    from boligmix.plan.rehouse_report import protected_outcomes

    # 30 households: 20 in their first wish, 10 not placed (8: no suitable dwelling, 2: the caps)
    assignment = pl.DataFrame({"wish_rank": [1] * 20 + [None] * 10, "dwelling_id": ["d"] * 20 + [None] * 10})
    unplaced = pl.DataFrame({"reason": ["no suitable dwelling"] * 8 + ["caps: area A is full"] * 2})
    result = SimpleNamespace(modes={"optimal": SimpleNamespace(assignment=assignment, unplaced=unplaced)})
    outcome, reasons = protected_outcomes(result, POLICY)
    shown = dict(zip(outcome.frame.get_column("outcome_en").to_list(), outcome.frame.get_column("optimal").to_list()))
    assert shown["not placed"] == 10 and shown["households"] == 30 and shown["1st wish"] == 20
    by_reason = dict(zip(reasons.frame.get_column("reason_en").to_list(), reasons.frame.get_column("optimal").to_list()))
    # 10 - 8 - 0 would give the 2 back: the 8 and the 0 are suppressed with it
    assert by_reason == {"caps on households outside work": None, "every suitable dwelling went to others": None,
                         "no suitable dwelling": None}
    assert reasons.frame.columns == ["reason_da", "reason_en", "optimal", "suppressed"]
    assert [reasons.is_suppressed("optimal", i) for i in range(3)] == [True, True, True]
    assert not outcome.is_suppressed("optimal", 6)


def test_dashboard_simulated_share_of_residents_does_not_give_a_small_count_back():
    from boligmix.web.dashboard.module_views import simulated_areas

    def area(name, residents, pct):
        return pl.DataFrame({"replication": [0, 1], "year": [2026] * 2, "area_id": [name] * 2,
                             "residents": [residents] * 2, "in_movers": [20, 20], "out_movers": [20, 20],
                             "pct_non_western": [pct] * 2, "pct_outside_work_edu": [30.0] * 2})

    a, b, c = simulated_areas(pl.concat([area("A", 50, 96.0), area("B", 50, 40.0), area("C", 50, 4.0)]), POLICY)
    # A: 48 of 50 (2 not non-western); C: 2 of 50; B: 20 of 50 is shown
    for row in (a, c):
        assert [row.get(f"pct_non_western_{s}") for s in ("mean", "p05", "p95")] == [None] * 3
        assert row.hidden("pct_non_western_mean") and row.get("residents_mean") == 50
        assert row.get("pct_outside_work_edu_mean") == 30.0  # a share of the residents 18-64 (not shown)
    assert b.get("pct_non_western_mean") == 40.0 and not b.suppressed
    assert not any(k.startswith("_") for k in a.values) and not any(k.startswith("_") for k in a.suppressed)
