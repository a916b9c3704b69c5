"""Twins (nearest neighbours, brute force oracle) and synthetic control with placebo-in-space."""

from __future__ import annotations


import numpy as np
import pandas as pd
import polars as pl
import pytest
from typer.testing import CliRunner

from boligmix.cli.main import app
from boligmix.evaluate.comparison import placebo_in_space, synthetic_control, twins


def _panel(rng, n_donors=12, years=range(2005, 2021), first=2014, effect=5.0, exact=True):
    """Donors with distinct trends; the treated unit is 0.5 D1 + 0.3 D2 + 0.2 D3 (+ effect after `first`)."""
    rows = []
    paths = {}
    t = np.arange(len(years))
    for j in range(n_donors):
        paths[f"D{j}"] = 10 + j + (0.3 * j - 1.5) * t + np.sin(t * (j + 1) / 3) + rng.normal(0, 0.05, len(t))
    treated = 0.5 * paths["D1"] + 0.3 * paths["D2"] + 0.2 * paths["D3"]
    if not exact:
        treated = treated + rng.normal(0, 0.05, len(t))
    treated = treated + np.where(np.array(list(years)) >= first, effect, 0.0)
    for unit, y in [*paths.items(), ("T", treated)]:
        for yr, v in zip(years, y):
            rows.append({"_unit": unit, "_time": yr, "_y": v, "_g": float(first) if unit == "T" else np.nan,
                         "_cl": unit})
    return pd.DataFrame(rows)


def test_synthetic_control_recovers_weights_and_effect():
    panel = _panel(np.random.default_rng(1))
    sc = synthetic_control(panel, "T", 2014)
    w = dict(sc.weights.iter_rows())
    assert w["D1"] == pytest.approx(0.5, abs=0.02) and w["D2"] == pytest.approx(0.3, abs=0.02)
    assert w["D3"] == pytest.approx(0.2, abs=0.02)
    assert sum(w.values()) == pytest.approx(1.0) and min(w.values()) >= 0
    assert sc.att == pytest.approx(5.0, abs=0.1) and sc.pre_rmspe < 0.1


def test_placebo_in_space_ranks_a_real_effect_first():
    panel = _panel(np.random.default_rng(2), exact=False)
    frame, p = placebo_in_space(panel, "T", 2014)
    assert frame.height == 13 and frame["unit"][0] == "T"
    assert p == pytest.approx(1 / 13)
    null = _panel(np.random.default_rng(2), effect=0.0, exact=False)
    _, p0 = placebo_in_space(null, "T", 2014)
    assert p0 > 1 / 13


def test_twins_match_brute_force():
    rng = np.random.default_rng(4)
    rows = []
    units = [f"U{i}" for i in range(15)]
    g = {u: (2012.0 if i < 3 else np.nan) for i, u in enumerate(units)}
    for u in units:
        for yr in range(2006, 2016):
            rows.append({"_unit": u, "_time": yr, "_g": g[u], "a": rng.normal(50, 10), "b": rng.normal(5, 2)})
    panel = pd.DataFrame(rows)
    got = twins(panel, ["a", "b"], k=2, pre_years=3)
    pre = panel[(panel["_time"] >= 2009) & (panel["_time"] < 2012)].groupby("_unit")[["a", "b"]].mean()
    z = (pre - pre.mean()) / pre.std(ddof=0)
    for t in units[:3]:
        dists = sorted((float(np.hypot(*(z.loc[t] - z.loc[c]))), c) for c in units[3:])
        mine = got.filter(pl.col("treated_unit") == t).sort("rank")
        assert mine["twin_unit"].to_list() == [c for _, c in dists[:2]]
        assert mine["distance"].to_list() == pytest.approx([d for d, _ in dists[:2]])


def test_cli_synthcontrol_and_twins(tmp_path):
    panel = _panel(np.random.default_rng(3), exact=False).rename(
        columns={"_unit": "area_id", "_time": "year", "_y": "outcome", "_g": "treated_from"}).drop(columns="_cl")
    path = tmp_path / "p.parquet"
    pl.from_pandas(panel).with_columns(pl.col("treated_from").cast(pl.Int64)).write_parquet(path)
    result = CliRunner().invoke(app, ["evaluate", "synthcontrol", "--panel", str(path), "--unit", "area_id",
                                      "--time", "year", "--outcome", "outcome", "--treated-from", "treated_from",
                                      "--treated-unit", "T", "--out", str(tmp_path / "sc")])
    assert result.exit_code == 0, result.output
    summary = pl.read_csv(tmp_path / "sc" / "summary.csv")
    assert summary["att"].item() == pytest.approx(5.0, abs=0.2) and summary["placebo_p_value"].item() < 0.1
    result = CliRunner().invoke(app, ["evaluate", "synthcontrol", "--panel", str(path), "--unit", "area_id",
                                      "--time", "year", "--outcome", "outcome", "--treated-from", "treated_from",
                                      "--treated-unit", "D1", "--out", str(tmp_path / "sc2")])
    assert result.exit_code == 2 and "never treated" in result.output and not (tmp_path / "sc2").exists()
    result = CliRunner().invoke(app, ["evaluate", "twins", "--panel", str(path), "--unit", "area_id", "--time", "year",
                                      "--treated-from", "treated_from", "--features", "outcome", "--k", "2",
                                      "--out", str(tmp_path / "tw")])
    assert result.exit_code == 0, result.output
    assert pl.read_csv(tmp_path / "tw" / "twins.csv").height == 2
    result = CliRunner().invoke(app, ["evaluate", "twins", "--panel", str(path), "--unit", "area_id", "--time", "year",
                                      "--treated-from", "treated_from", "--features", "crime", "--out",
                                      str(tmp_path / "tw2")])
    assert result.exit_code == 2 and "crime" in result.output


