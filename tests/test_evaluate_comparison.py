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
    panel["residents"] = 500
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




def _cli_panel(tmp_path, small: dict[tuple[str, int], int]):
    """The CLI test's panel with 500 residents per unit-year except the (unit, year) in `small`."""
    panel = _panel(np.random.default_rng(3), exact=False).rename(
        columns={"_unit": "area_id", "_time": "year", "_y": "outcome", "_g": "treated_from"}).drop(columns="_cl")
    panel["residents"] = [small.get((u, y), 500) for u, y in zip(panel["area_id"], panel["year"])]
    path = tmp_path / f"p{len(list(tmp_path.glob('p*.parquet')))}.parquet"
    pl.from_pandas(panel).with_columns(pl.col("treated_from").cast(pl.Int64)).write_parquet(path)
    return path, panel


def _run(args):
    result = CliRunner().invoke(app, ["evaluate", *[str(a) for a in args]])
    assert result.exit_code == 0, result.output
    return result


def test_twins_suppress_the_values_of_a_small_unit(tmp_path):
    """A twin with 4 residents in one pre-year: its pre-period mean and the distance are suppressed;
    the treated unit's 3 residents in 2012 suppress its means in every row; the counts are shown."""
    twins_args = ["twins", "--unit", "area_id", "--time", "year", "--treated-from", "treated_from",
                  "--features", "outcome", "--k", "2"]
    path, _ = _cli_panel(tmp_path, {})
    _run([*twins_args, "--panel", path, "--out", tmp_path / "tw"])
    full = pl.read_csv(tmp_path / "tw" / "twins.csv")
    assert full["suppressed"].null_count() == 2 and full["n_residents_twin"].to_list() == [500, 500]
    first = full["twin_unit"][0]
    path, _ = _cli_panel(tmp_path, {(first, 2013): 4})
    _run([*twins_args, "--panel", path, "--out", tmp_path / "tw-small"])
    got = pl.read_csv(tmp_path / "tw-small" / "twins.csv")
    one, two = got.row(0, named=True), got.row(1, named=True)
    assert one["twin_unit"] == first and one["n_residents_twin"] is None and one["outcome_twin"] is None
    assert one["distance"] is None and "n_residents_twin:primary" in one["suppressed"]
    assert one["outcome_treated"] == pytest.approx(full["outcome_treated"][0])  # the treated unit: 500 residents
    assert two["outcome_twin"] == pytest.approx(full["outcome_twin"][1]) and two["suppressed"] is None
    path, _ = _cli_panel(tmp_path, {("T", 2012): 3})
    _run([*twins_args, "--panel", path, "--out", tmp_path / "tw-treated"])
    got = pl.read_csv(tmp_path / "tw-treated" / "twins.csv")
    assert got["outcome_treated"].null_count() == 2 and got["distance"].null_count() == 2
    assert got["outcome_twin"].null_count() == 0
    html = (tmp_path / "tw-treated" / "report.html").read_text(encoding="utf-8")
    assert f"{full['outcome_treated'][0]:.3f}".replace(".", ",") not in html


def test_synthcontrol_suppresses_the_values_of_a_small_unit(tmp_path):
    """The treated unit has 2 residents in 2016: its actual value and gap that year, its summary and
    its placebo row are suppressed; a donor with 3 residents in 2010 suppresses the synthetic value
    of 2010 (if the fit uses it) and its own placebo row."""
    path, panel = _cli_panel(tmp_path, {("T", 2016): 2, ("D1", 2010): 3})
    result = _run(["synthcontrol", "--panel", path, "--unit", "area_id", "--time", "year", "--outcome", "outcome",
                   "--treated-from", "treated_from", "--treated-unit", "T", "--out", tmp_path / "sc"])
    assert "suppressed" in result.output
    out = tmp_path / "sc"
    p = pl.read_csv(out / "path.csv")
    y2016 = p.filter(pl.col("year") == 2016).row(0, named=True)
    assert y2016["actual"] is None and y2016["gap"] is None and y2016["n_residents"] is None
    assert y2016["synthetic"] is not None  # the donors have 500 residents that year
    weights = dict(pl.read_csv(out / "weights.csv").iter_rows())
    assert weights["D1"] > 0.1
    y2010 = p.filter(pl.col("year") == 2010).row(0, named=True)
    assert y2010["synthetic"] is None and y2010["gap"] is None and y2010["actual"] is not None
    others = p.filter(~pl.col("year").is_in([2010, 2016]))
    assert others["suppressed"].null_count() == others.height and others["actual"].null_count() == 0
    exact = panel[(panel["area_id"] == "T") & (panel["year"] == 2016)]["outcome"].item()
    assert str(round(exact, 6))[:7] not in (out / "path.csv").read_text(encoding="utf-8")
    summary = pl.read_csv(out / "summary.csv").row(0, named=True)
    assert summary["att"] is None and summary["pre_rmspe"] is None and summary["placebo_p_value"] is not None
    placebo = pl.read_csv(out / "placebo.csv")
    hidden = set(placebo.filter(pl.col("att").is_null())["unit"].to_list())
    assert hidden == {"T", "D1"}
    assert "diskretioneret" in (out / "report.html").read_text(encoding="utf-8")


def test_comparisons_refuse_a_panel_without_its_population(tmp_path):
    path, panel = _cli_panel(tmp_path, {})
    pl.read_parquet(path).drop("residents").write_parquet(path)
    result = CliRunner().invoke(app, ["evaluate", "twins", "--panel", str(path), "--unit", "area_id", "--time",
                                      "year", "--treated-from", "treated_from", "--features", "outcome",
                                      "--out", str(tmp_path / "tw")])
    assert result.exit_code == 2 and "residents" in result.output and "--population" in result.output
    assert not (tmp_path / "tw").exists()


def test_population_minimum_skips_empty_years_and_suppresses_unknown_ones():
    """Hand-computed: A has 3 residents in 2020 and 500 in 2021 (2019 empty); B 600 and 700."""
    from boligmix.evaluate.comparison_publish import population_table, protect_path, treated_population
    from boligmix.report import DisclosurePolicy

    raw = pl.DataFrame({"u": ["A"] * 3 + ["B"] * 3, "t": [2019, 2020, 2021] * 2,
                        "residents": [None, 3, 500, None, 600, 700]})
    pop = population_table(raw, "u", "t", "residents", "panel")
    checked = pd.DataFrame({"_unit": ["A"] * 3 + ["B"] * 3, "_time": [2019, 2020, 2021] * 2,
                            "_g": [2021.0] * 3 + [np.nan] * 3})
    assert treated_population(checked, pop) == 3.0  # the smallest known year of the one treated unit
    assert treated_population(checked[checked["_time"] != 2020], pop) == 500.0
    path = pl.DataFrame({"year": [2019, 2020, 2021], "actual": [1.0, 2.0, 3.0], "synthetic": [1.5, 2.5, 2.0],
                         "gap": [-0.5, -0.5, 1.0]})
    got = protect_path(path, pl.DataFrame({"donor": ["B"], "weight": [1.0]}), pop, "A", DisclosurePolicy.load()).frame
    assert got["actual"].to_list() == [None, None, 3.0]  # 2019 unknown, 2020 three residents
    assert got["synthetic"].to_list() == [None, 2.5, 2.0] and got["gap"].to_list() == [None, None, 1.0]
