"""The mix tables on the synthetic generator's small scale reproduce the directions it is calibrated to.

The generator (`boligmix.data.synth`) sorts poorer movers into deprived areas by assortative
matching, steers non-Western movers towards areas with a high non-Western target share
(`matching.py`), and lets better-off households leave deprived areas more often
(`demography.move_rate`: "makes out-movers more often employed than stayers"). The small scale
keeps only areas picked to qualify for a list category, so all of them are treated as listed here.
Counts are pooled over the years so the test does not hang on one year's sampling noise.
"""

from __future__ import annotations

import polars as pl
import pytest
from built_once import built_once

from boligmix.data.synth import write_synthetic
from boligmix.mix.pipeline import compute_mix
from boligmix.mix.population import load_mix_data
from boligmix.mix.units import read_listed

YEARS = [2009, 2010, 2011, 2012]


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    root = tmp_path_factory.mktemp("synth")
    data = load_mix_data(built_once("small-seed20241201-2008", lambda path: write_synthetic(
        path, scale="small", seed=20241201, years=(2008, 2012))))   # written once per test run
    lists_csv = root / "lists.csv"  # the lists module's format: every area on the udsat list
    pl.DataFrame({"area_id": [a for a in data.areas["area_id"] for _ in YEARS], "year": YEARS * data.areas.height,
                  "rules": "2018", "udsat": 1, "parallelsamfund": 0, "omdannelse": 0, "forebyggelse": 0}
                 ).write_csv(lists_csv)
    listed = read_listed(str(lists_csv), ("udsat",))
    return compute_mix(data, YEARS, level="area", listed=listed)


def _pooled_share(table: pl.DataFrame, num: str, den: str) -> float:
    return table[num].sum() / table[den].sum()


def test_in_movers_to_listed_areas_differ_from_the_stock_as_calibrated(result):
    pooled = result.tables["pooled"].filter(pl.col("pool") == "listed")
    ref = result.tables["reference"].filter(pl.col("scope") == "municipality")
    stock, inn, out = (pooled.filter(pl.col("group") == g) for g in ("stock", "in", "out"))
    assert inn["n"].sum() > 300 and out["n"].sum() > 300
    # in-movers to listed areas: more often non-Western and less often employed than the municipalities' stock
    assert _pooled_share(inn, "n_nonwestern", "n") > 1.5 * _pooled_share(ref, "n_nonwestern", "n")
    assert _pooled_share(inn, "n_employed", "n_emp_pop") < 0.8 * _pooled_share(ref, "n_employed", "n_emp_pop")
    assert _pooled_share(inn, "n_q1", "n_inc_pop") > _pooled_share(ref, "n_q1", "n_inc_pop")
    # out-movers from listed areas are more often employed than the listed areas' stock
    assert _pooled_share(out, "n_employed", "n_emp_pop") > _pooled_share(stock, "n_employed", "n_emp_pop")
    # and the listed areas' stock is far below the municipalities on employment
    assert _pooled_share(stock, "n_employed", "n_emp_pop") < 0.8 * _pooled_share(ref, "n_employed", "n_emp_pop")


def test_synthetic_decomposition_adds_up_and_flows_cover_moves(result):
    dec = result.tables["decomposition"].drop_nulls("change")
    comps = ["stayers", "in_movers", "out_movers", "other_entrants", "other_leavers"]
    assert dec.height > 0
    assert (dec.select(pl.sum_horizontal(comps) - pl.col("change")).to_series().abs().max()) < 1e-12
    flows = result.tables["flows"]
    totals = flows.filter((pl.col("category") == "total") & (pl.col("direction") == "in")).group_by("unit_id", "year").agg(
        pl.col("n").sum())
    comp_in = result.tables["composition"].filter(pl.col("group") == "in").select("unit_id", "year", "n")
    joined = comp_in.join(totals, on=["unit_id", "year"], suffix="_flows")
    # every in-mover in the composition is a crossing move in the flows (flows count repeat moves too)
    assert (joined["n_flows"] >= joined["n"]).all() and joined.height > 0


def test_decomposition_endpoints_equal_the_composition_shares(result):
    """Stocks are computed one year at a time; the decomposition's end points must still be the
    composition table's stock shares of the same years (a cross-check of the chunking)."""
    comp = result.tables["composition"].filter(pl.col("group") == "stock")
    dec = result.tables["decomposition"].drop_nulls("share_from")
    names = {"low_edu": "share_low_edu", "employed": "share_employed", "nonwestern": "share_nonwestern",
             "low_income": "share_low_income"}
    checked = 0
    for row in dec.iter_rows(named=True):
        for year, col in ((row["year_from"], "share_from"), (row["year_to"], "share_to")):
            match = comp.filter((pl.col("unit_id") == row["unit_id"]) & (pl.col("year") == year))
            if match.height:
                assert match[names[row["factor"]]][0] == pytest.approx(row[col], abs=1e-12)
                checked += 1
    assert checked > 50
