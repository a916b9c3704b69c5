"""`boligmix rehouse` and `boligmix rehouse caps`: files, input checks, and caps from the list thresholds."""

from __future__ import annotations

import json

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from boligmix.cli.main import app
from boligmix.lists.ruleset import load_ruleset
from boligmix.plan.caps import cap_for, caps_from_indicators, list_thresholds
from indicators_support import hand_built

H = ("household_id,persons,rooms_before,monthly_income_dkk,outside_work,municipality_code,scope_area,move_by\n"
     "h1,2,3,20000,1,101,,2026-06-01\nh2,1,2,20000,1,101,,2026-06-01\nh3,3,4,30000,0,101,,2026-03-01\n")
V = ("dwelling_id,area_id,municipality_code,rooms,monthly_rent_dkk,available_from\n"
     "d1,A,101,3,6000,2026-01-01\nd2,A,101,2,6000,2026-01-01\nd3,B,101,2,6000,2026-01-01\nd4,A,101,4,7000,2026-01-01\n")
W = "household_id,rank,area_id\nh1,1,A\nh2,1,A\nh2,2,B\nh3,1,A\n"
C = "area_id,max_outside_work,area_name,adults_18_64,pct_outside_work_edu\nA,1,Alfa,100,20\nB,5,Beta,50,10\n"


def _files(tmp, h=H, v=V, w=W, c=C):
    for name, text in (("H.csv", h), ("V.csv", v), ("W.csv", w), ("C.csv", c)):
        (tmp / name).write_text(text, encoding="utf-8")
    return [str(tmp / n) for n in ("H.csv", "V.csv", "W.csv", "C.csv")]


def _run(args):
    return CliRunner().invoke(app, args, catch_exceptions=False)


def test_rehouse_writes_everything(tmp_path):
    h, v, w, c = _files(tmp_path)
    out = tmp_path / "out"
    res = _run(["rehouse", "--households", h, "--vacancies", v, "--wishes", w, "--caps", c, "--out", str(out)])
    assert res.exit_code == 0, res.output
    # Cap A = 1 household outside work: h1 (3 rooms) or h2 (2 rooms) gets A, the other B (h2: 2nd wish) -> the optimum
    # places h1 in d1 (A, wish 1), h2 in d3 (B, wish 2), h3 in d4 (A, wish 1): cost 0 + 1 + 0.
    a = pl.read_csv(out / "assignment.csv")
    assert a.rows() == [("h1", "d1", "A", 1), ("h2", "d3", "B", 2), ("h3", "d4", "A", 1)]
    assert pl.read_csv(out / "unplaced.csv").height == 0
    # the exact per-area figures (the library's; areas.csv is published, so protected)
    from boligmix.plan.rehouse import rehouse
    from boligmix.plan.rehouse_io import read_problem
    from boligmix.plan.rehouse_model import Suitability

    exact = rehouse(read_problem(h, v, w, c), Suitability.load({})).modes["optimal"].areas
    row = exact.filter(pl.col("area_id") == "A").row(0, named=True)
    assert (row["received"], row["received_outside_work"], row["max_outside_work"]) == (2, 1, 1)
    # before 20 % of 100 adults; after (20 + 1) / (100 + 2) with one adult per household
    assert row["pct_outside_work_after"] == pytest.approx(100 * 21 / 102)
    areas = pl.read_csv(out / "areas.csv", infer_schema_length=None)
    published = areas.filter(pl.col("area_id") == "A").row(0, named=True)
    assert published["received"] is None and published["received_outside_work"] is None  # 2 and 1 < 5
    assert published["over_cap"] is None and published["pct_outside_work_after"] is None  # they would give 1 back
    assert published["adults_18_64"] == 100 and published["max_outside_work"] == 1 and "received:" in published["suppressed"]
    summary = json.loads((out / "summary-internal.json").read_text())
    assert summary["objective"] == 1 and summary["status"] == "OPTIMAL" and summary["gap"] == 0
    assert summary["first_wish_share"] == pytest.approx(2 / 3)
    # without caps (stable): h1 and h2 both get their first wish A; A receives 2 outside work > cap 1
    stable = summary["comparison"]["stable"]
    assert stable["first_wish"] == 3 and stable["areas_over_cap"] == 1
    html = (out / "report.html").read_text()
    assert "Genhusning" in html and "Stabil" in html


@pytest.mark.parametrize("which, text, where", [
    ("h", H.replace("h2,1,2", "h2,-1,2"), "H.csv, row 2, column 'persons'"),
    ("h", H.replace("h3,3", "h1,3"), "H.csv, row 3, column 'household_id': duplicate id 'h1'"),
    ("v", V.replace(",rooms,", ",room,"), "V.csv, column 'rooms': missing column"),
    ("w", W.replace("h3,1,A", "hx,1,A"), "W.csv, row 4, column 'household_id': unknown household_id 'hx'"),
    ("w", W.replace("h2,2,B", "h2,1,B"), "W.csv, row 3, column 'rank': household 'h2' has rank 1 twice"),
    ("c", C.replace("B,5", "B,-5"), "C.csv, row 2, column 'max_outside_work': negative count"),
    ("h", H.replace("2026-03-01", "1/3/2026"), "H.csv, row 3, column 'move_by': not a date"),
])
def test_bad_input_names_file_row_column_and_writes_nothing(tmp_path, which, text, where):
    files = _files(tmp_path, **{which: text})
    out = tmp_path / "out"
    res = _run(["rehouse", "--households", files[0], "--vacancies", files[1], "--wishes", files[2], "--caps", files[3],
                "--out", str(out)])
    assert res.exit_code == 2 and where in " ".join(res.output.split()), res.output
    assert not out.exists()


def test_rehouse_refuses_out_holding_inputs(tmp_path):
    files = _files(tmp_path)
    res = _run(["rehouse", "--households", files[0], "--vacancies", files[1], "--out", str(tmp_path)])
    assert res.exit_code == 2 and "contains the input --households" in res.output


# --------------------------------------------------------------------------------------------- caps

RULES_2021 = load_ruleset("2021")


def test_thresholds_come_from_the_list_rules():
    thresholds = list_thresholds(RULES_2021, ("forebyggelse", "udsat"), "pct_outside_work_edu")
    assert thresholds == {"forebyggelse": (RULES_2021.criterion("f_outside_work_edu").threshold, ">"),
                          "udsat": (RULES_2021.criterion("outside_work_edu").threshold, ">")}


def test_caps_hand_computed():
    frame = pl.DataFrame({"area_id": ["big", "small", "over", "empty"], "residents": [3000, 400, 2000, 0],
                          "n_18_64": [1000.0, 200.0, 800.0, None], "pct_outside_work_edu": [25.0, 10.0, 29.0, None],
                          "municipality_code": [101] * 4})
    caps = caps_from_indicators(frame, RULES_2021, 2.0)
    # forebyggelse 30 % - 2 pp = 28 %: big k <= 1000 * 3 / 72 = 41.7 -> 41; small 200 * 18 / 72 = 50; over: 0
    assert caps.get_column("max_outside_work").to_list() == [41, 0, 0, 50]
    assert caps.get_column("area_id").to_list() == ["big", "empty", "over", "small"]
    assert caps.filter(pl.col("area_id") == "small").get_column("binding_list").item() == "forebyggelse"


@settings(max_examples=300, deadline=None)
@given(st.floats(0, 60), st.integers(1, 5000), st.floats(0, 10), st.sampled_from([1.0, 1.5, 2.0]))
def test_cap_keeps_share_below_limit_and_one_more_exceeds(p, n, margin, adults):
    limit = 30.0 - margin
    k = cap_for(p, float(n), 30.0, ">", margin, adults)
    share = lambda households: 100 * (p * n / 100 + households * adults) / (n + households * adults)
    if p <= limit:
        assert share(k) <= limit + 1e-7
        assert share(k + 1) > limit - 1e-7
    else:
        assert k == 0


def test_rehouse_caps_cli_covers_small_areas(tmp_path):
    data = hand_built.write(tmp_path / "data")
    out = tmp_path / "C-internal.csv"
    res = _run(["rehouse", "caps", "--data", str(data), "--year", "2024", "--margin", "1", "--out", str(out),
                "--internal"])
    assert res.exit_code == 0, res.output
    caps = pl.read_csv(out)
    assert caps.columns[:3] == ["INTERNAL_not_for_publication", "area_id", "max_outside_work"]
    assert set(caps.get_column("area_id").to_list()) == {"A1", "A2", "A3"}  # all below 1,000 residents
    for r in caps.iter_rows(named=True):
        assert r["max_outside_work"] == cap_for(r["pct_outside_work_edu"], r["adults_18_64"], 30.0, ">", 1.0, 1.0)
    prov = json.loads((tmp_path / "C-internal.provenance.json").read_text())
    assert prov["thresholds"]["forebyggelse"]["threshold"] == 30.0 and prov["list_rules"]["version"] == "2021"
    assert prov["internal"] is True
    res = _run(["rehouse", "caps", "--data", str(data), "--year", "2024", "--out", str(data / "C.csv")])
    assert res.exit_code == 2 and not (data / "C.csv").exists()


def test_rehouse_caps_publishes_only_protected_counts(tmp_path):
    """The default caps file is published: residents and residents 18-64 below 5 are blank, the
    share outside work is blank where its full-time count is below 5 (A1: 2.15 of 9), and so is
    the cap that would bound them; --internal insists on a name that says so."""
    data = hand_built.write(tmp_path / "data")
    out = tmp_path / "published" / "caps.csv"
    res = _run(["rehouse", "caps", "--data", str(data), "--year", "2024", "--margin", "1", "--out", str(out)])
    assert res.exit_code == 0, res.output
    caps = pl.read_csv(out, infer_schema_length=None)
    assert "INTERNAL_not_for_publication" not in caps.columns
    rows = {r["area_id"]: r for r in caps.iter_rows(named=True)}
    # exact: A1 11 residents, 9 aged 18-64 (2.15 full-time outside work); A2 2 (2.5); A3 1 (1.0)
    assert (rows["A1"]["residents"], rows["A1"]["adults_18_64"]) == (11, 9.0)
    assert rows["A1"]["pct_outside_work_edu"] is None and rows["A1"]["max_outside_work"] is None
    assert rows["A1"]["suppressed"] == "pct_outside_work_edu:numerator,max_outside_work:secondary"
    for area in ("A2", "A3"):
        assert [rows[area][c] for c in ("residents", "adults_18_64", "pct_outside_work_edu", "max_outside_work")] \
            == [None] * 4
        assert rows[area]["suppressed"].startswith("residents:primary,adults_18_64:primary")
    # the published file cannot stand in for the internal one where a cap is blank
    h, v, _, _ = _files(tmp_path)
    res = _run(["rehouse", "--households", h, "--vacancies", v, "--caps", str(out), "--out", str(tmp_path / "r")])
    assert res.exit_code == 2 and "rehouse caps --internal" in " ".join(res.output.split())
    assert "row 1, column 'max_outside_work'" in " ".join(res.output.split())
    res = _run(["rehouse", "caps", "--data", str(data), "--year", "2024", "--out", str(tmp_path / "C2.csv"),
                "--internal"])
    assert res.exit_code == 2 and "C2-internal.csv" in res.output and not (tmp_path / "C2.csv").exists()


def test_rehouse_summary_is_marked_internal_and_the_report_protects_its_opening(tmp_path):
    """summary-internal.json holds the exact counts (3 households) and says it is internal; the
    report's opening sentence shows the protected outcome counts, not 3."""
    h, v, w, c = _files(tmp_path)
    out = tmp_path / "out"
    res = _run(["rehouse", "--households", h, "--vacancies", v, "--wishes", w, "--caps", c, "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in out.iterdir()) == ["areas.csv", "assignment.csv", "report.html",
                                                      "summary-internal.json", "unplaced.csv"]
    summary = json.loads((out / "summary-internal.json").read_text())
    assert next(iter(summary)) == "INTERNAL_not_for_publication" and summary["households"] == 3
    html = (out / "report.html").read_text()
    assert "· husstande skal genhuses; · placeres" in html and "3 husstande" not in html


def test_stable_mode_files(tmp_path):
    h, v, w, c = _files(tmp_path)
    out = tmp_path / "out"
    res = _run(["rehouse", "--households", h, "--vacancies", v, "--wishes", w, "--caps", c, "--out", str(out),
                "--mode", "stable"])
    assert res.exit_code == 0, res.output
    # deferred acceptance ignores the cap: h3 (earliest move_by) first, then h1, h2 all in A
    a = pl.read_csv(out / "assignment.csv")
    assert a.get_column("area_id").to_list() == ["A", "A", "A"] and a.get_column("wish_rank").to_list() == [1, 1, 1]
    summary = json.loads((out / "summary-internal.json").read_text())
    assert summary["status"] == "STABLE" and summary["areas_over_cap"] == 1
    assert summary["comparison"]["optimal"]["objective"] == 1


def test_the_share_after_does_not_give_a_suppressed_count_back(tmp_path):
    """With households received, residents 18-64 and the share before published, the share after
    would give "received outside work" back: where that count is suppressed, so is the share."""
    from boligmix.plan.rehouse import rehouse
    from boligmix.plan.rehouse_io import read_problem
    from boligmix.plan.rehouse_model import Suitability
    from boligmix.plan.rehouse_report import build_report, published_areas
    from boligmix.report import DisclosurePolicy, Provenance

    households = "".join(f"h{i},1,2,30000,{int(i == 0)},101,,2026-06-01\n" for i in range(6))
    vacancies = "".join(f"d{i},A,101,2,5000,2026-01-01\n" for i in range(6))
    h, v, w, c = _files(tmp_path, h=H.split("\n")[0] + "\n" + households, v=V.split("\n")[0] + "\n" + vacancies,
                        w="household_id,rank,area_id\n", c="area_id,max_outside_work,area_name,adults_18_64,"
                                                          "pct_outside_work_edu\nA,3,Alfa,400,20\n")
    result = rehouse(read_problem(h, v, w, c), Suitability.load({}))
    exact = result.modes["optimal"].areas.row(0, named=True)
    assert (exact["received"], exact["received_outside_work"]) == (6, 1)
    # the oracle: from the published figures the share after gives the count back exactly
    back = (exact["pct_outside_work_after"] / 100 * (400 + 6) - 0.20 * 400)
    assert back == pytest.approx(1)
    policy = DisclosurePolicy.load()
    for mode in ("optimal", "stable"):
        published = published_areas(result.modes[mode].areas, policy).row(0, named=True)
        assert published["received"] == 6 and published["received_outside_work"] is None
        assert published["pct_outside_work_after"] is None and published["over_cap"] is None
    prov = Provenance(data_vintage="test", command="test")
    [areas] = [b.table.frame for b in build_report(result, "optimal", prov, policy).tables() if b.name == "areas"]
    row = areas.row(0, named=True)
    assert row["received_optimal"] == 6 and row["received_outside_work_optimal"] is None
    assert row["pct_outside_work_after_optimal"] is None and row["pct_outside_work_before"] == 20
