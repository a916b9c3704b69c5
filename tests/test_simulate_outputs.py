"""What `boligmix simulate` writes is internal and says so; what `simulate compare` publishes
(tables, map and figure) passes disclosure control."""

from __future__ import annotations

import json

import polars as pl
import pyarrow.parquet as pq
from simulate_support import START
from synth_data import small_dataset_dir

from boligmix.indicators.publish import INTERNAL_COLUMN
from boligmix.simulate.compare import write_compare_report
from boligmix.simulate.replication import AREA_COLUMNS
from boligmix.simulate.run import RATES_DIR, run_simulation


def _areas(rows: list[dict]) -> pl.DataFrame:
    base = {c: 0.0 for c in AREA_COLUMNS}
    base.update(replication=0, year=2025, households=0, udsat=False, parallelsamfund=False, omdannelse=False,
                forebyggelse=False, in_movers=0, out_movers=0)
    frame = pl.DataFrame([{**base, **r} for r in rows])
    return frame.with_columns(pl.col("replication", "year", "residents", "households", "in_movers", "out_movers")
                              .cast(pl.Int64)).select(AREA_COLUMNS)


def _run(path, rows: list[dict], name: str):
    path.mkdir()
    _areas(rows).write_parquet(path / "areas.parquet")
    manifest = {"scenario": {"name": name, "sha256": "0" * 64}, "policies": [], "seed": 1, "data_vintage": "test",
                "dataset": str(path / "no-dataset")}
    (path / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return path


def test_compare_publishes_nothing_of_a_small_area(tmp_path):
    """Area S has 3 residents: its outside share and the difference (hand-made: 17.3125 points) are
    suppressed in the table AND in the figure; area L (400 residents, +2.5 points) is shown."""
    a = _run(tmp_path / "a", [{"area_id": "S", "residents": 3, "pct_outside_work_edu": 10.0},
                              {"area_id": "L", "residents": 400, "pct_outside_work_edu": 20.0}], "baseline")
    b = _run(tmp_path / "b", [{"area_id": "S", "residents": 3, "pct_outside_work_edu": 27.3125},
                              {"area_id": "L", "residents": 400, "pct_outside_work_edu": 22.5}], "policy")
    html = write_compare_report(a, b, tmp_path / "report.html").read_text(encoding="utf-8")
    assert "17.3125" not in html and "17,3125" not in html and ">17,31<" not in html  # not in table nor figure
    assert "2,50" in html  # L's difference in the Danish table
    figure = html[html.index("Plotly.newPlot"):]
    assert '"y":[2.5]' in figure.replace(" ", "")  # L plotted; S's point is null
    assert '"y":[null]' in figure.replace(" ", "")


def test_the_run_directory_says_it_is_internal(tmp_path):
    run = run_simulation(small_dataset_dir(), "baseline", tmp_path / "run", start=START, years=1, replications=1,
                         seed=2)
    note = (run / f"{INTERNAL_COLUMN}.txt").read_text(encoding="utf-8")
    assert "INTERNAL" in note and "simulate compare" in note
    manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    assert next(iter(manifest)) == INTERNAL_COLUMN
    for name in ("areas.parquet", "lettings.parquet"):
        meta = pq.read_metadata(run / name).metadata or {}
        assert INTERNAL_COLUMN.encode() in meta, name
    assert not (run / "rates").exists()
    rates = sorted((run / RATES_DIR).glob("*.csv"))
    assert len(rates) >= 5
    for path in rates:
        frame = pl.read_csv(path, infer_schema_length=None)
        assert frame.columns[0] == INTERNAL_COLUMN, path.name
        assert frame[INTERNAL_COLUMN].str.contains("INTERNAL").all()
    # the readers of the run (compare, the dashboard) still read it
    assert tuple(pl.read_parquet(run / "areas.parquet").columns) == AREA_COLUMNS
