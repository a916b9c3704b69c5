"""evaluate panel: columns come unchanged from indicators/, lists/, mix/, the registry and policy files;
the stayer panel follows the base-year residents; the panel feeds `evaluate did`."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from boligmix.cli.main import app

YEARS = (2012, 2017)


@pytest.fixture(scope="module")
def dataset():
    from synth_data import small_dataset_dir

    return small_dataset_dir()


@pytest.fixture(scope="module")
def built(dataset, tmp_path_factory):
    root = tmp_path_factory.mktemp("panel")
    reg = root / "reg.csv"
    reg.write_text(
        "programme_id,name,kind,start,end,budget_dkk,lbf_dkk,local_dkk,departments\n"
        "HP1,Plan,helhedsplan,2014,2017,4000000,3000000,1000000,BO46101-003\n"
        "N1,Ned,nedrivning,2016,2016,1000000,750000,250000,BO46101-007\n", encoding="utf-8")
    pol = root / "policies"
    pol.mkdir()
    (pol / "k0461_anvisning.yaml").write_text(
        "id: k0461.anvisning\nbase: dk.almenboligloven.59\nversion: '2015-01-01.1'\n"
        "effective_from: 2015-01-01\nscope:\n  org_ids: [BO46101]\n"
        "shares:\n  kommunal_anvisning: 0.5\n", encoding="utf-8")
    out = root / "panel-internal.parquet"
    result = CliRunner().invoke(app, ["evaluate", "panel", "--data", str(dataset), "--years", f"{YEARS[0]}-{YEARS[1]}",
                                      "--registry", str(reg), "--policies", str(pol), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_one_row_per_area_and_year(built, dataset):
    panel = pl.read_parquet(built)
    areas = pl.read_parquet(dataset / "areas.parquet")["area_id"]
    assert panel.height == areas.len() * (YEARS[1] - YEARS[0] + 1)
    assert panel.select("area_id", "year").is_duplicated().sum() == 0
    assert "unit_name" in panel.columns


def test_indicator_columns_are_the_indicator_code_unchanged(built, dataset):
    from boligmix.indicators import compute_area_indicators, compute_composition

    panel = pl.read_parquet(built)
    ind = compute_area_indicators(dataset, [2015], level="area")
    joined = panel.filter(pl.col("year") == 2015).join(ind, on=["area_id", "year"], suffix="_ref")
    assert joined.height == ind.height
    for c in ("residents", "pct_outside_work_edu", "pct_non_western", "income_pct_of_region"):
        assert (joined[c] == joined[f"{c}_ref"]).all(), c
    comp = compute_composition(dataset, [2013], ["share_children"], level="area")
    j = panel.filter(pl.col("year") == 2013).join(comp, on=["area_id", "year"])
    assert j.height == comp.height and (j["comp_share_children"] == j["value"]).all()


def test_list_and_treatment_first_years(built, dataset):
    from boligmix.lists.pipeline import compute_lists

    panel = pl.read_parquet(built)
    flags = compute_lists(dataset, list(range(YEARS[0], YEARS[1] + 1))).classification.frame
    j = panel.join(flags, on=["area_id", "year"])
    assert (j["on_parallelsamfund"] == j["parallelsamfund"].cast(pl.Int8)).all()
    first = flags.filter(pl.col("parallelsamfund")).group_by("area_id").agg(pl.col("year").min())
    got = panel.group_by("area_id").agg(pl.col("first_parallelsamfund").first())
    assert dict(got.drop_nulls().iter_rows()) == dict(first.iter_rows())
    one = panel.group_by("area_id").agg(pl.col("first_programme", "first_helhedsplan", "first_demolition",
                                                "first_letting_any", "first_letting_kommunal_anvisning").first())
    by = {r["area_id"]: r for r in one.iter_rows(named=True)}
    assert by["A461-002"]["first_programme"] == 2014 and by["A461-002"]["first_helhedsplan"] == 2014
    assert by["A461-004"]["first_demolition"] == 2016 and by["A461-004"]["first_helhedsplan"] is None
    assert by["A461-001"]["first_programme"] is None
    assert all(r["first_letting_any"] == 2015 == r["first_letting_kommunal_anvisning"] for r in by.values())


def test_stayer_panel_follows_base_year_residents(built, dataset):
    from boligmix.mix.pipeline import compute_mix

    stayers = pl.read_parquet(built.with_name("panel-internal.stayers.parquet"))
    base = stayers.filter(pl.col("year") == YEARS[0])
    assert base["in_base_unit"].all()
    stock = compute_mix(dataset, [YEARS[0]], level="area").tables["composition"].filter(pl.col("group") == "stock")
    counts = base.group_by("base_area_id").len()
    assert dict(counts.iter_rows()) == dict(stock.select("unit_id", "n").iter_rows())
    later = stayers.filter(pl.col("year") == YEARS[1])
    assert 0.3 < later["in_base_unit"].mean() < 1.0  # some have moved, and are still followed
    assert later.height <= base.height
    prov = built.with_suffix(".provenance.json").read_text(encoding="utf-8")
    assert "data_vintage" in prov and "registry-" in prov


def test_panel_feeds_evaluate_did(built, tmp_path):
    out = tmp_path / "did"
    result = CliRunner().invoke(app, ["evaluate", "did", "--panel", str(built), "--unit", "area_id", "--time", "year",
                                      "--outcome", "pct_outside_work_edu", "--treated-from", "first_programme",
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    est = pl.read_csv(out / "estimates.csv")
    assert est["term"].to_list() == ["ATT"] and est["n_obs"].item() > 0
    assert "synthetic" in (out / "provenance.json").read_text(encoding="utf-8")


def test_panel_refuses_out_inside_dataset(dataset):
    result = CliRunner().invoke(app, ["evaluate", "panel", "--data", str(dataset), "--years", "2012-2013",
                                      "--out", str(Path(dataset) / "p-internal.parquet")])
    assert result.exit_code == 2 and not (Path(dataset) / "p-internal.parquet").exists()


def test_stayer_shares_in_panel_use_mix_counting(built, dataset):

    panel = pl.read_parquet(built)
    first = panel.filter(pl.col("year") == YEARS[0])
    # in the base year the cohort is the stock: its shares are the mix stock shares
    assert first["stayers_in_base_unit"].to_list() == [1.0] * first.height
    for c in ("share_employed", "share_low_edu", "share_low_income"):
        assert first[f"stayers_{c}"].to_list() == pytest.approx(first[f"mix_stock_{c}"].to_list(), rel=1e-12)
    later = panel.filter(pl.col("year") == YEARS[1])
    assert (later["stayers_in_base_unit"] < 1).all()


def test_department_level_panel(dataset, tmp_path):
    from boligmix.evaluate.panel import build_panel
    from boligmix.evaluate.registry import read_registry
    from boligmix.indicators import compute_area_indicators

    reg_file = tmp_path / "reg.csv"
    reg_file.write_text("programme_id,name,kind,start,end,budget_dkk,lbf_dkk,local_dkk,departments\n"
                        "HP1,Plan,helhedsplan,2013,2016,400,300,100,BO46101-003\n", encoding="utf-8")
    reg = read_registry(reg_file)
    panel = build_panel(dataset, [2012, 2013], level="department", registry=reg).panel
    deps = pl.read_parquet(dataset / "departments.parquet")
    assert panel.height == 2 * deps.height and panel.select("department_id", "year").is_unique().all()
    first = dict(panel.group_by("department_id").agg(pl.col("first_programme").first()).iter_rows())
    assert first["BO46101-003"] == 2013 and first["BO46101-004"] is None
    ind = compute_area_indicators(dataset, [2013], level="department")
    j = panel.join(ind, on=["department_id", "year"], suffix="_ref")
    assert j.height == ind.height and (j["pct_non_western"] == j["pct_non_western_ref"]).all()
    # departments outside any area still get their area's list flags only when they have one
    on = panel.filter(pl.col("department_id").is_in(deps.filter(pl.col("area_id").is_null())["department_id"].to_list()))
    assert on["on_udsat"].null_count() == on.height


def test_panel_is_marked_internal(built):
    """The panel holds exact shares and residents per unit-year: internal, in its name and first column."""
    import json

    from boligmix.indicators.publish import INTERNAL_COLUMN

    for path in (built, built.with_name("panel-internal.stayers.parquet")):
        assert "intern" in path.name and pl.read_parquet_schema(path).names()[0] == INTERNAL_COLUMN
        assert pl.read_parquet(path, columns=[INTERNAL_COLUMN])[INTERNAL_COLUMN].str.starts_with("INTERNT").all()
    side = json.loads(built.with_suffix(".provenance.json").read_text(encoding="utf-8"))
    assert next(iter(side)) == INTERNAL_COLUMN


def test_panel_refuses_a_name_that_does_not_say_internal(dataset, tmp_path):
    result = CliRunner().invoke(app, ["evaluate", "panel", "--data", str(dataset), "--years", "2012-2013",
                                      "--out", str(tmp_path / "panel.parquet")])
    assert result.exit_code == 2 and "intern" in result.output and not (tmp_path / "panel.parquet").exists()
