"""evaluate did: agreement with pyfixest run directly, a hand-computed 2x2, known-effect staggered panels,
bad input (exit 2, nothing written)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pytest
from typer.testing import CliRunner

from boligmix.cli.main import app
from boligmix.errors import ConfigurationError, DataValidationError
from boligmix.evaluate.did import DidOptions, estimate, t_quantile
from boligmix.evaluate.panel_input import PanelColumns, check_panel, read_panel
from boligmix.evaluate.synthetic import staggered_panel, true_att, true_event_effects

STORED = Path(__file__).parent / "data" / "evaluate" / "panel_unbalanced.csv"
COLS = PanelColumns("unit_id", "year", "outcome", "treated_from")
RTOL = 1e-8


def _pf(fml: str, data: pd.DataFrame, cluster: str):
    import pyfixest as pf
    from pyfixest.demeaners import MapDemeaner

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pf.feols(fml, data=data, vcov={"CRV1": cluster}, demeaner=MapDemeaner(fixef_tol=1e-12))


def _stored_pandas() -> pd.DataFrame:
    df = pd.read_csv(STORED)
    df["treat"] = (df["treated_from"].notna() & (df["year"] >= df["treated_from"])).astype(float)
    return df


@pytest.mark.parametrize("cluster", [None, "cluster_id"])
def test_twfe_matches_pyfixest_directly(cluster):
    panel = check_panel(read_panel(STORED), PanelColumns("unit_id", "year", "outcome", "treated_from", cluster))
    res = estimate(panel, DidOptions("twfe"))
    ref = _pf("outcome ~ treat | unit_id + year", _stored_pandas(), cluster or "unit_id")
    row = res.estimates.iloc[0]
    assert row["term"] == "ATT" and row["n_obs"] == ref._N == 435
    assert row["estimate"] == pytest.approx(ref.coef().iloc[0], rel=RTOL)
    assert row["std_error"] == pytest.approx(ref.se().iloc[0], rel=RTOL)
    ci = ref.confint().iloc[0]
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((ci.iloc[0], ci.iloc[1]), rel=RTOL)


@pytest.mark.parametrize("window", [None, (-3, 4)])
def test_event_study_matches_pyfixest_i_syntax(window):
    panel = check_panel(read_panel(STORED), COLS)
    res = estimate(panel, DidOptions("event", window=window))
    df = _stored_pandas()
    rel = df["year"] - df["treated_from"]
    if window:
        rel = rel.clip(*window)
    df["rel"] = rel.fillna(-1).astype(int)  # never treated: in the reference category, all dummies zero
    ref = _pf("outcome ~ i(rel, ref=-1) | unit_id + year", df, "unit_id")
    coef, se = ref.coef(), ref.se()
    by_k = {int(name.split("::")[1].rstrip("]").replace("T.", "")): name for name in coef.index}
    assert sorted(by_k) == sorted(res.estimates["rel_time"].astype(int))
    for _, row in res.estimates.iterrows():
        name = by_k[int(row["rel_time"])]
        assert row["estimate"] == pytest.approx(coef[name], rel=RTOL)
        assert row["std_error"] == pytest.approx(se[name], rel=RTOL)
    assert res.n_obs == len(df)  # never-treated units kept
    if window:
        assert res.estimates["rel_time"].min() == -3 and res.estimates["rel_time"].max() == 4
        assert res.estimates.set_index("rel_time").loc[4, "n_obs"] == int((rel >= 4).sum())


def test_hand_computed_two_by_two():
    rows = []
    y = {("T", 0): [3.0, 5.0, 4.0], ("T", 1): [9.0, 10.0, 11.5], ("C", 0): [2.0, 1.0, 3.0], ("C", 1): [4.0, 2.5, 3.0]}
    for (grp, t), vals in y.items():
        for i, v in enumerate(vals):
            rows.append({"unit_id": f"{grp}{i}", "year": 2020 + t, "outcome": v,
                         "treated_from": 2021 if grp == "T" else None})
    frame = pl.DataFrame(rows, schema_overrides={"treated_from": pl.Int64})
    res = estimate(check_panel(frame, COLS), DidOptions("twfe"))
    mean = {k: np.mean(v) for k, v in y.items()}
    hand = (mean["T", 1] - mean["T", 0]) - (mean["C", 1] - mean["C", 0])
    assert hand == pytest.approx((30.5 - 12) / 3 - (9.5 - 6) / 3) == 5.0
    assert res.estimates["estimate"].iloc[0] == pytest.approx(hand, rel=1e-10)


def _staggered(seed: int) -> pl.DataFrame:
    return staggered_panel(np.random.default_rng(seed), n_units=60, never_share=0.1, noise_sd=0.5,
                           growth=0.5, drop_share=0.03)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sunab_and_did2s_recover_the_growing_staggered_effect_twfe_does_not(seed):
    frame = _staggered(seed)
    truth = true_att(frame)
    panel = check_panel(frame, COLS)
    att = {e: estimate(panel, DidOptions(e)).estimates.set_index("term").loc["ATT"] for e in ("twfe", "sunab", "did2s")}
    for e in ("sunab", "did2s"):
        assert abs(att[e]["estimate"] - truth) < 3 * att[e]["std_error"], (e, att[e]["estimate"], truth)
        assert abs(att[e]["estimate"] - truth) < 0.1 * truth
    # plain TWFE is biased downwards: the growing effects of early cohorts enter as "controls" for late ones
    assert truth - att["twfe"]["estimate"] > 4 * att["twfe"]["std_error"]
    assert att["twfe"]["estimate"] < 0.8 * truth


def test_sunab_and_did2s_event_terms_match_the_true_path():
    frame = _staggered(4)
    truth = true_event_effects(frame)
    panel = check_panel(frame, COLS)
    for e in ("sunab", "did2s"):
        res = estimate(panel, DidOptions(e, window=(-4, 5))).estimates
        ev = res[res["term"] != "ATT"].set_index("rel_time")
        for k in range(-4, 5):
            if k == -1:
                assert k not in ev.index
                continue
            assert abs(ev.loc[k, "estimate"] - truth[k]) < 4 * ev.loc[k, "std_error"], (e, k)
        assert {f"rel_{k}" for k in (-4, -3, -2, 0, 5)} <= set(res["term"])


def test_sunab_notyet_uses_the_last_cohort_without_never_treated():
    frame = staggered_panel(np.random.default_rng(7), n_units=60, never_share=0.0, noise_sd=0.5)
    panel = check_panel(frame, COLS)
    with pytest.raises(DataValidationError, match="never-treated"):
        estimate(panel, DidOptions("sunab", controls="never"))
    res = estimate(panel, DidOptions("sunab", controls="notyet"))
    att = res.estimates.set_index("term").loc["ATT"]
    kept = frame.filter((pl.col("year") < 2015) & (pl.col("treated_from") < 2015))
    truth = true_att(kept)
    assert abs(att["estimate"] - truth) < 3 * att["std_error"]
    assert any("control cohort" in n for n in res.notes)


def test_pretrend_test_flags_a_pre_trend():
    frame = _staggered(5)
    rel = frame["year"] - frame["treated_from"]
    bumped = frame.with_columns(  # treated units drift up before treatment
        pl.when(rel < -1).then(pl.col("outcome") + 0.6 * rel).otherwise(pl.col("outcome")).alias("outcome"))
    clean = estimate(check_panel(frame, COLS), DidOptions("event", window=(-5, 3))).pretrend
    flagged = estimate(check_panel(bumped, COLS), DidOptions("event", window=(-5, 3))).pretrend
    assert flagged["p_value"] < 1e-6 and flagged["df1"] == 4
    assert clean["p_value"] > flagged["p_value"]


def test_ci_uses_t_with_g_minus_1():
    assert t_quantile(30) == pytest.approx(2.045229642, rel=1e-8)


def test_options_are_checked():
    with pytest.raises(ConfigurationError):
        DidOptions("ols")
    with pytest.raises(ConfigurationError):
        DidOptions("event", window=(0, 3))
    with pytest.raises(ConfigurationError):
        DidOptions("did2s", controls="never")


# --- CLI -----------------------------------------------------------------------------------------


def _args(panel: Path, out: Path, **over: str) -> list[str]:
    opts = {"--unit": "unit_id", "--time": "year", "--outcome": "outcome", "--treated-from": "treated_from"} | over
    return ["evaluate", "did", "--panel", str(panel), "--out", str(out), *[x for kv in opts.items() for x in kv]]


def test_cli_writes_estimates_plot_and_report(tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(app, _args(STORED, out, **{"--estimator": "sunab", "--window": "-3..4"}))
    assert result.exit_code == 0, result.output
    est = pl.read_csv(out / "estimates.csv")
    assert est.columns == ["term", "estimate", "std_error", "ci_low", "ci_high", "n_obs", "n_residents_treated",
                           "suppressed"]
    assert est["suppressed"].null_count() == est.height and est["n_residents_treated"].unique().to_list() == [27 * 200]
    assert est["term"].to_list()[-1] == "ATT" and "rel_-1" not in est["term"].to_list()
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Effektestimat" in html and "Test for trends før start" in html
    assert "<script src=\"http" not in (out / "event_study.html").read_text(encoding="utf-8")
    assert (out / "pretrend.csv").is_file()


@pytest.mark.parametrize(("edit", "over", "needle"), [
    (lambda f: f.drop("treated_from"), {}, "treated_from"),
    (lambda f: f.with_columns(pl.col("outcome").cast(pl.String).set(3, "n/a") if False else
                              pl.when(pl.int_range(pl.len()) == 4).then(pl.lit("n/a"))
                              .otherwise(pl.col("outcome").cast(pl.String)).alias("outcome")), {}, "'n/a'"),
    (lambda f: f.with_columns(pl.when(pl.col("unit_id") == "U001").then(1999).otherwise(pl.col("treated_from"))
                              .alias("treated_from")), {}, "1999"),
    (lambda f: f, {"--outcome": "crime_rate"}, "crime_rate"),
])
def test_cli_bad_input_exits_2_and_writes_nothing(tmp_path, edit, over, needle):
    panel = tmp_path / "panel.csv"
    edit(pl.read_csv(STORED)).write_csv(panel)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, _args(panel, out, **over))
    assert result.exit_code == 2, result.output
    assert needle in result.output
    assert "Traceback" not in result.output
    assert not (out / "estimates.csv").exists()


def test_cli_suppresses_the_estimates_of_a_small_treated_group(tmp_path):
    """27 treated units; 26 of them without residents in their first year, one with 3 in its smallest
    year: the estimates are statistics of 3 persons and are suppressed, in the CSVs and the report."""
    f = pl.read_csv(STORED)
    treated = sorted(f.filter(pl.col("treated_from").is_not_null())["unit_id"].unique().to_list())
    first = f.group_by("unit_id").agg(pl.col("year").min().alias("first"))
    f = f.join(first, on="unit_id").with_columns(
        pl.when(pl.col("unit_id").is_in(treated) & (pl.col("year") == pl.col("first")))
        .then(pl.when(pl.col("unit_id") == treated[0]).then(3).otherwise(0)).otherwise(pl.col("residents"))
        .alias("residents")).drop("first")
    panel = tmp_path / "panel.csv"
    f.write_csv(panel)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, _args(panel, out, **{"--estimator": "event"}))
    assert result.exit_code == 0, result.output
    assert "suppressed" in result.output
    est = pl.read_csv(out / "estimates.csv")
    assert est["n_residents_treated"].null_count() == est.height and est["estimate"].null_count() == est.height
    assert est["suppressed"].str.starts_with("n_residents_treated:primary").all()
    assert pl.read_csv(out / "pretrend.csv")["p_value"].null_count() == 1
    assert not (out / "event_study.html").exists()
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "diskretioneret" in html
    exact = CliRunner().invoke(app, _args(STORED, tmp_path / "exact", **{"--estimator": "event"}))
    assert exact.exit_code == 0
    for value in pl.read_csv(tmp_path / "exact" / "estimates.csv")["estimate"].to_list()[:3]:
        assert f"{value:,.3f}".replace(",", "X").replace(".", ",").replace("X", ".") not in html


def test_cli_row_and_column_in_error(tmp_path):
    panel = tmp_path / "panel.csv"
    f = pl.read_csv(STORED)
    f.with_columns(pl.when(pl.int_range(pl.len()) == 9).then(2031).otherwise(pl.col("treated_from"))
                   .alias("treated_from")).write_csv(panel)
    with pytest.raises(DataValidationError) as info:
        check_panel(read_panel(panel), COLS, source=str(panel))
    assert info.value.row == 10 and info.value.column == "treated_from" and "2008-2020" in str(info.value)


def test_cli_refuses_out_containing_the_panel(tmp_path):
    panel = tmp_path / "panel.csv"
    pl.read_csv(STORED).write_csv(panel)
    result = CliRunner().invoke(app, _args(panel, tmp_path))
    assert result.exit_code == 2 and not (tmp_path / "estimates.csv").exists()


def test_danish_csv_panel_is_read(tmp_path):
    panel = tmp_path / "panel.csv"
    f = pl.read_csv(STORED).with_columns(pl.col("outcome").cast(pl.String).str.replace(".", ",", literal=True))
    f.write_csv(panel, separator=";")
    a = estimate(check_panel(read_panel(panel), COLS), DidOptions("twfe")).estimates
    b = estimate(check_panel(read_panel(STORED), COLS), DidOptions("twfe")).estimates
    assert a["estimate"].iloc[0] == pytest.approx(b["estimate"].iloc[0], rel=1e-12)


@pytest.mark.slow
def test_wild_cluster_bootstrap_p_value(tmp_path):
    from boligmix.evaluate.bootstrap import wild_bootstrap_att

    frame = staggered_panel(np.random.default_rng(3), n_units=24, never_share=0.5, base=0.0, growth=0.0,
                            n_clusters=8)
    null = wild_bootstrap_att(check_panel(frame, PanelColumns("unit_id", "year", "outcome", "treated_from",
                                                              "cluster_id")), reps=999, seed=1)
    assert null["n_clusters"] == 8 and 0.05 < null["p_value"] <= 1
    strong = staggered_panel(np.random.default_rng(3), n_units=24, never_share=0.5, base=3.0, n_clusters=8)
    alt = wild_bootstrap_att(check_panel(strong, PanelColumns("unit_id", "year", "outcome", "treated_from",
                                                              "cluster_id")), reps=999, seed=1)
    assert alt["p_value"] < 0.02
    again = wild_bootstrap_att(check_panel(strong, PanelColumns("unit_id", "year", "outcome", "treated_from",
                                                                "cluster_id")), reps=999, seed=1)
    assert again == alt


def test_did2s_att_equals_exact_imputation_and_pyfixest_did2s():
    """did2s ATT = mean over treated unit-years of y minus unit and year effects fitted by exact least
    squares on the untreated observations (dense dummies, numpy lstsq); pyfixest's own did2s agrees up to
    its first-stage tolerance, and its GMM standard error is the same."""
    import pyfixest as pf

    frame = _staggered(6)
    panel = check_panel(frame, COLS)
    ours = estimate(panel, DidOptions("did2s")).estimates.set_index("term").loc["ATT"]
    df = panel.assign(treat=(panel["_g"].notna() & (panel["_time"] >= panel["_g"])))
    units, years = sorted(df["_unit"].unique()), sorted(df["_time"].unique())
    D = np.zeros((len(df), len(units) + len(years) - 1))
    D[np.arange(len(df)), [units.index(u) for u in df["_unit"]]] = 1
    for i, t in enumerate(df["_time"]):
        if years.index(t) > 0:
            D[i, len(units) + years.index(t) - 1] = 1
    untreated = ~df["treat"].to_numpy()
    coef = np.linalg.lstsq(D[untreated], df["_y"].to_numpy()[untreated], rcond=None)[0]
    exact = float(np.mean((df["_y"].to_numpy() - D @ coef)[~untreated]))
    assert ours["estimate"] == pytest.approx(exact, rel=1e-9)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = pf.did2s(df.assign(tr=df["treat"].astype(float)), yname="_y", first_stage="~ 0 | _unit + _time",
                       second_stage="~ tr", treatment="treat", cluster="_cl")
    assert ours["estimate"] == pytest.approx(float(ref.coef().iloc[0]), rel=1e-3)
    assert ours["std_error"] == pytest.approx(float(ref.se().iloc[0]), rel=1e-3)
