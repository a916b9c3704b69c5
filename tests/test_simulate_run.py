"""A simulation run end to end on the small synthetic dataset: outputs, lists computed by the
`boligmix lists` code from the simulated registers, reproducibility."""

import json

import polars as pl
import pytest
from simulate_support import START, shared
from synth_data import small_dataset_dir

from boligmix.lists.pipeline import compute_lists
from boligmix.simulate.replication import AREA_COLUMNS, run_replication
from boligmix.simulate.run import run_replications, run_simulation
from boligmix.simulate.scenario import load_scenario


def test_simulated_lists_are_the_lists_code_on_the_simulated_registers(tmp_path):
    sh = shared()
    out = run_replication(sh, 0, load_scenario("baseline"), keep_working=tmp_path / "registers")
    areas = out["areas"]
    year = START + 1
    assert areas["year"].unique().to_list() == [year]
    # the same registers through `boligmix lists` (compute_lists) give the same indicators and flags
    official = compute_lists(tmp_path / "registers", year)
    flags = official.classification.frame.filter(pl.col("year") == year)
    joined = areas.join(flags.select("area_id", "udsat", "parallelsamfund", "omdannelse", "forebyggelse"),
                        on="area_id", suffix="_lists")
    assert joined.height == areas.height > 0
    for flag in ("udsat", "parallelsamfund", "omdannelse", "forebyggelse"):
        assert joined[flag].to_list() == joined[f"{flag}_lists"].to_list()
    ind = official.indicators.filter(pl.col("year") == year).sort("area_id")
    for column in ("residents", "pct_non_western", "pct_outside_work_edu", "conviction_ratio"):
        assert areas.sort("area_id")[column].to_list() == pytest.approx(ind[column].to_list())
    assert (areas["family_share"] > 0).all() and (areas["family_share"] <= 1).all()


@pytest.mark.slow
def test_a_replication_is_the_same_whatever_else_runs():
    sh = shared()
    scenario = load_scenario("baseline")
    alone = run_replications(sh, scenario, [1])[0]
    other, with_others = run_replications(sh, scenario, [0, 1])
    assert alone["areas"].equals(with_others["areas"])
    assert alone["lettings"].equals(with_others["lettings"])
    assert not other["lettings"].equals(alone["lettings"])


def test_run_directory_is_byte_identical_for_the_same_command(tmp_path):
    data = small_dataset_dir()
    a = run_simulation(data, "baseline", tmp_path / "a", start=START, years=1, replications=1, seed=4)
    b = run_simulation(data, "baseline", tmp_path / "b", start=START, years=1, replications=1, seed=4)
    assert (a / "areas.parquet").read_bytes() == (b / "areas.parquet").read_bytes()
    assert (a / "lettings.parquet").read_bytes() == (b / "lettings.parquet").read_bytes()
    areas = pl.read_parquet(a / "areas.parquet")
    assert tuple(areas.columns) == AREA_COLUMNS
    summary = pl.read_csv(a / "summary.csv")
    assert set(summary.columns) == {"year", "measure", "mean", "p05", "p95"}
    assert {"count_udsat", "mean_pct_outside_work_edu"} <= set(summary["measure"].to_list())
    manifest = json.loads((a / "manifest.json").read_text())
    assert manifest["seed"] == 4 and manifest["replications"] == 1
    assert manifest["list_rules"] == {str(START + 1): "2021"} and manifest["data_vintage"]
    assert "boligmix-scenario/1" in manifest["scenario"]["content"]
    assert (a / "rates-internal" / "move.csv").exists() and (a / "rates-internal" / "death.csv").exists()
    lettings = pl.read_parquet(a / "lettings.parquet")
    assert lettings.height > 0 and lettings["channel_rule"].null_count() == 0


def test_the_run_refuses_an_output_inside_its_data(tmp_path):
    from boligmix.errors import DatasetError

    with pytest.raises(DatasetError, match="inside"):
        run_simulation(small_dataset_dir(), "baseline", small_dataset_dir() / "run", years=1)


@pytest.mark.slow
def test_dask_replications_equal_in_process_ones(tmp_path):
    data = small_dataset_dir()
    local = run_simulation(data, "baseline", tmp_path / "local", start=START, years=1, replications=2, seed=9)
    dask = run_simulation(data, "baseline", tmp_path / "dask", start=START, years=1, replications=3, seed=9,
                          workers=2)
    a = pl.read_parquet(local / "areas.parquet")
    b = pl.read_parquet(dask / "areas.parquet").filter(pl.col("replication") < 2)
    assert a.equals(b)


def test_compare_report_passes_disclosure_control(tmp_path):
    from boligmix.simulate.compare import differences, protected_differences, write_compare_report

    data = small_dataset_dir()
    a = run_simulation(data, "baseline", tmp_path / "a", start=START, years=1, replications=1, seed=4)
    b = tmp_path / "b"
    b.mkdir()
    areas = pl.read_parquet(a / "areas.parquet")
    # B: the same run with one area's outside share 5 points higher and a tiny area of 3 residents
    changed = areas.with_columns(pl.col("pct_outside_work_edu") + 5.0)
    changed.write_parquet(b / "areas.parquet")
    (b / "manifest.json").write_text((a / "manifest.json").read_text())
    table = differences(areas, changed)
    assert table["pct_outside_work_edu_diff"].to_list() == pytest.approx([5.0] * table.height)
    tiny = areas.with_columns(pl.when(pl.col("area_id") == areas["area_id"][0]).then(3).otherwise(
        pl.col("residents")).alias("residents"))
    tiny.write_parquet(a / "areas.parquet")
    protected, shown = protected_differences(differences(tiny, changed), {})
    row = shown["area_id"].to_list().index(areas["area_id"][0])
    assert protected.is_suppressed("residents_a", row) and protected.is_suppressed("pct_outside_work_edu_diff", row)
    assert protected.frame["pct_outside_work_edu_diff"][row] is None
    other = 1 - row if shown.height > 1 else None
    if other is not None:
        assert not protected.is_suppressed("pct_outside_work_edu_diff", other)
    html = write_compare_report(a, b, tmp_path / "report.html").read_text(encoding="utf-8")
    assert "Forskelle pr. område og år" in html and "Oprindelse" in html
    with pytest.raises(Exception, match="inside"):
        write_compare_report(a, b, a / "report.html")


@pytest.mark.slow
def test_an_existing_scheduler_gives_the_same_replications():
    from dask.distributed import LocalCluster

    sh = shared()
    scenario = load_scenario("baseline")
    local = run_replications(sh, scenario, [0, 1])
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as cluster:
        remote = run_replications(sh, scenario, [1, 0], scheduler=cluster.scheduler_address)
    assert [r["areas"]["replication"][0] for r in remote] == [0, 1]
    for a, b in zip(local, remote):
        assert a["areas"].equals(b["areas"]) and a["lettings"].equals(b["lettings"])
