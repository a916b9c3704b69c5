"""Difference-in-differences on a unit x year panel, estimated with pyfixest.

Estimators (all cluster-robust CRV1 by the cluster column, fixed effects demeaned to `FIXEF_TOL`):

* `twfe`: `y ~ treated | unit + time`; one term `ATT`.
* `event`: `y ~ i(rel_time, ref=-1) | unit + time`; never-treated units are kept with all event
  dummies zero; with a window relative times outside it are binned into the end terms.
* `sunab`: Sun and Abraham's interaction-weighted estimator: the same regression saturated in
  cohort x relative time (control cohort: never treated, or with `controls="notyet"` the last-treated
  cohort, sample cut before it is treated), aggregated per relative time with cohort shares.
* `did2s`: Gardner's two-stage estimator (pyfixest's two stages and GMM covariance, first stage solved
  to convergence): unit and time effects from untreated observations, then the residuals on event
  dummies (and on `treated` for ATT).

`sunab` and `did2s` also give `ATT`, the average over treated post-treatment unit-years.
Confidence intervals use the t distribution with G-1 degrees of freedom (G clusters), as pyfixest does.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from boligmix.errors import ConfigurationError, DataValidationError

FIXEF_TOL = 1e-12
"""Fixed-effect demeaning tolerance: pyfixest's default (1e-6) leaves CRV1 errors ~1e-7 off on unbalanced panels."""
ESTIMATORS = ("twfe", "event", "sunab", "did2s")
CONTROLS = ("never", "notyet")
REFERENCE = -1


@dataclass(frozen=True)
class DidOptions:
    estimator: str = "twfe"
    window: tuple[int, int] | None = None
    """(-K, L): relative times below -K / above L are binned into the end terms."""
    controls: str | None = None
    """sunab: 'never' (default) or 'notyet'; did2s always uses every untreated observation."""

    def __post_init__(self) -> None:
        if self.estimator not in ESTIMATORS:
            raise ConfigurationError(f"unknown estimator {self.estimator!r}; choose one of {', '.join(ESTIMATORS)}",
                                     field="estimator")
        if self.controls is not None and self.controls not in CONTROLS:
            raise ConfigurationError(f"unknown controls {self.controls!r}; choose never or notyet", field="controls")
        if self.window is not None:
            lo, hi = self.window
            if not lo <= REFERENCE < hi:
                raise ConfigurationError(f"window {lo}..{hi} must contain -1 and at least one later year "
                                         "(e.g. -5..5)", field="window")
        if self.estimator == "did2s" and self.controls == "never":
            raise ConfigurationError("did2s estimates unit and year effects from every untreated observation "
                                     "(not-yet-treated included); use --controls notyet or leave it out",
                                     field="controls")


@dataclass
class DidResult:
    estimates: pd.DataFrame
    """term, rel_time (NaN for ATT), estimate, std_error, ci_low, ci_high, n_obs."""
    pretrend: dict
    """Joint Wald test that every pre-period term (rel < -1) is zero: statistic, df1, df2, p_value."""
    n_obs: int
    n_units: int
    n_clusters: int
    n_treated_units: int
    notes: list[str] = field(default_factory=list)
    fit: object | None = None
    """The pyfixest fit of the main regression (for e.g. the wild bootstrap)."""


def parse_window(text: str | None) -> tuple[int, int] | None:
    """'-5..5' -> (-5, 5)."""
    if text is None or not text.strip():
        return None
    try:
        lo, hi = (int(p) for p in text.replace(" ", "").split(".."))
    except ValueError:
        raise ConfigurationError(f"window {text!r} is not of the form -K..L, e.g. -5..5", field="window") from None
    return lo, hi


def term_name(k: int) -> str:
    return f"rel_{k}"


def _col(k: int) -> str:
    return f"rel_m{-k}" if k < 0 else f"rel_p{k}"


def demeaner():
    from pyfixest.demeaners import MapDemeaner

    return MapDemeaner(fixef_tol=FIXEF_TOL, fixef_maxiter=100_000)


def feols(fml: str, data: pd.DataFrame, cluster: str = "_cl"):
    """pyfixest's feols with CRV1 by `cluster` and demeaning to convergence."""
    import pyfixest as pf

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        return pf.feols(fml, data=data, vcov={"CRV1": cluster}, demeaner=demeaner())


def add_rel_time(panel: pd.DataFrame, window: tuple[int, int] | None) -> pd.DataFrame:
    """`_treated` (0/1), `_rel` (time - first treated year, NaN for never treated) and `_relb` (binned)."""
    out = panel.copy()
    g = out["_g"].to_numpy()
    out["_treated"] = (~np.isnan(g) & (out["_time"].to_numpy() >= g)).astype(float)
    out["_rel"] = out["_time"] - out["_g"]
    out["_relb"] = out["_rel"].clip(lower=window[0], upper=window[1]) if window else out["_rel"]
    return out


def estimate(panel: pd.DataFrame, options: DidOptions) -> DidResult:
    """Run `options.estimator` on a panel from `check_panel` (columns `_unit,_time,_y,_g,_cl`)."""
    data = add_rel_time(panel, options.window)
    n_treated = int(data.loc[data["_g"].notna(), "_unit"].nunique())
    if n_treated == 0:
        raise DataValidationError("no unit is ever treated: treated-from is empty in every row", column="treated-from")
    notes: list[str] = []
    if options.estimator in ("sunab", "did2s"):
        data, dropped = _drop_without_untreated_years(data)
        if dropped:
            notes.append(f"{dropped} unit(s) treated from their first observed year were left out "
                         "(no untreated year to compare with)")
    run = {"twfe": _twfe, "event": _event, "sunab": _sunab, "did2s": _did2s}[options.estimator]
    table, vcov_pre, fit = run(data, options, notes)
    n_clusters = int(data["_cl"].nunique())
    table = _with_ci(table, n_clusters)
    if vcov_pre is None:  # twfe: the pre-trend test comes from the event-study regression
        ev, vcov_pre, _ = _event(data, options, notes)
    else:
        ev = table
    pretrend = _pretrend_test(ev, vcov_pre, n_clusters)
    return DidResult(table, pretrend, int(len(data)), int(data["_unit"].nunique()), n_clusters,
                     int(data.loc[data["_g"].notna(), "_unit"].nunique()), notes, fit)


# --- estimators ------------------------------------------------------------------------------


def _twfe(data, options, notes):
    fit = feols("_y ~ _treated | _unit + _time", data)
    table = pd.DataFrame({"term": ["ATT"], "rel_time": [np.nan], "estimate": [fit.coef().iloc[0]],
                          "std_error": [fit.se().iloc[0]], "n_obs": [fit._N]})
    return table, None, fit


def _event_dummies(data: pd.DataFrame, rel_col: str = "_relb") -> tuple[pd.DataFrame, list[int]]:
    rels = sorted(int(k) for k in data[rel_col].dropna().unique() if k != REFERENCE)
    dummies = {_col(k): (data[rel_col] == k).astype(float).to_numpy() for k in rels}
    return data.assign(**dummies), rels


def _event(data, options, notes):
    data, rels = _event_dummies(data)
    fit = feols("_y ~ " + " + ".join(_col(k) for k in rels) + " | _unit + _time", data)
    kept = [str(c) for c in fit._coefnames]
    dropped = [term_name(k) for k in rels if _col(k) not in kept]
    if dropped:
        notes.append(f"collinear event terms left out by pyfixest: {', '.join(dropped)}")
    ks = [k for k in rels if _col(k) in kept]
    idx = [kept.index(_col(k)) for k in ks]
    beta, vcov = np.asarray(fit._beta_hat)[idx], np.asarray(fit._vcov)[np.ix_(idx, idx)]
    counts = data.groupby("_relb").size()
    table = pd.DataFrame({"term": [term_name(k) for k in ks], "rel_time": ks, "estimate": beta,
                          "std_error": np.sqrt(np.diag(vcov)), "n_obs": [int(counts.get(k, 0)) for k in ks]})
    return table, vcov, fit


def _sunab(data, options, notes):
    controls = options.controls or "never"
    never = data["_g"].isna()
    if controls == "never":
        if not never.any():
            raise DataValidationError("sunab with never-treated controls needs at least one never-treated unit; "
                                      "use --controls notyet (the last-treated cohort as control)",
                                      column="treated-from")
        sample = data
    else:
        last = data["_g"].max()
        sample = data[data["_time"] < last].copy()
        sample.loc[sample["_g"] == last, "_g"] = np.nan
        sample.loc[sample["_g"].isna(), ["_rel", "_relb"]] = np.nan
        notes.append(f"control cohort: units treated from {int(last)} (and never-treated), years before {int(last)}")
    # saturate in cohort x relative year; window bins are formed afterwards, as averages of the cells
    treated = sample[sample["_g"].notna()]
    cells = treated.groupby(["_g", "_rel", "_relb"]).size().rename("n").reset_index()
    cells = cells[cells["_rel"] != REFERENCE].reset_index(drop=True)
    if cells.empty:
        raise DataValidationError("no treated unit-year left to estimate from", column="treated-from")
    names = [f"c{int(g)}_{_col(int(k))}" for g, k in zip(cells["_g"], cells["_rel"])]
    cols = {n: ((sample["_g"] == g) & (sample["_rel"] == k)).astype(float).to_numpy()
            for n, g, k in zip(names, cells["_g"], cells["_rel"])}
    sample = sample.assign(**cols)
    fit = feols("_y ~ " + " + ".join(names) + " | _unit + _time", sample)
    kept = [str(c) for c in fit._coefnames]
    lost = [n for n in names if n not in kept]
    if lost:
        notes.append(f"collinear cohort x year cells left out by pyfixest: {', '.join(lost)}")
    cells = cells.assign(name=names)[[n in kept for n in names]].reset_index(drop=True)
    pos = np.array([kept.index(n) for n in cells["name"]])
    beta_all, vcov_all = np.asarray(fit._beta_hat), np.asarray(fit._vcov)
    rels = sorted(int(k) for k in cells["_relb"].unique() if k != REFERENCE)
    rows = []
    for k in rels:
        in_bin = (cells["_relb"] == k).to_numpy() & (cells["_rel"] != REFERENCE).to_numpy()
        rows.append((term_name(k), k, _weights(len(kept), pos[in_bin], cells["n"][in_bin]),
                     int(cells["n"][in_bin].sum())))
    post = cells["_rel"].to_numpy() >= 0
    n_post = cells["n"][post]
    rows.append(("ATT", np.nan, _weights(len(kept), pos[post], n_post), int(n_post.sum())))
    R = np.vstack([r[2] for r in rows])
    est, V = R @ beta_all, R @ vcov_all @ R.T
    table = pd.DataFrame({"term": [r[0] for r in rows], "rel_time": [r[1] for r in rows], "estimate": est,
                          "std_error": np.sqrt(np.diag(V)), "n_obs": [r[3] for r in rows]})
    ev_mask = table["term"] != "ATT"
    table_sorted = pd.concat([table[ev_mask], table[~ev_mask]], ignore_index=True)
    return table_sorted, V[np.ix_(ev_mask.to_numpy(), ev_mask.to_numpy())], fit


def _weights(size: int, positions: np.ndarray, counts: pd.Series) -> np.ndarray:
    w = np.zeros(size)
    n = counts.to_numpy(dtype=float)
    w[positions] = n / n.sum()
    return w


def _did2s(data, options, notes):
    data, rels = _event_dummies(data)
    data = data.assign(_treated_now=data["_treated"].astype(bool))
    ev_beta, ev_vcov, ev_fit = _did2s_fit(data, [_col(k) for k in rels])
    if ev_fit._N < len(data):
        notes.append(f"{len(data) - ev_fit._N} unit-year(s) in years without any untreated observation were "
                     "left out (their year effect cannot be estimated)")
        data = data[data["_time"].isin(ev_fit._data["_time"].unique())]
    att_beta, att_vcov, att_fit = _did2s_fit(data, ["_treated"])
    kept = [str(c) for c in ev_fit._coefnames]
    ks = [k for k in rels if _col(k) in kept]
    idx = [kept.index(_col(k)) for k in ks]
    vcov = ev_vcov[np.ix_(idx, idx)]
    counts = data.groupby("_relb").size()
    table = pd.DataFrame({"term": [term_name(k) for k in ks], "rel_time": ks, "estimate": ev_beta[idx],
                          "std_error": np.sqrt(np.diag(vcov)), "n_obs": [int(counts.get(k, 0)) for k in ks]})
    att_row = pd.DataFrame({"term": ["ATT"], "rel_time": [np.nan], "estimate": [float(att_beta[0])],
                            "std_error": [float(np.sqrt(att_vcov[0, 0]))], "n_obs": [int(data["_treated"].sum())]})
    return pd.concat([table, att_row], ignore_index=True), vcov, att_fit


def _did2s_fit(data: pd.DataFrame, regressors: list[str]):
    """Gardner's two stages with pyfixest, as `pyfixest.did2s` but with the first stage solved to
    convergence (its fixed effects are recovered with lsqr at 1e-6 there, leaving estimates ~1e-4 off);
    the GMM covariance is pyfixest's `_did2s_vcov`."""
    import pyfixest as pf
    from pyfixest.did.did2s import _did2s_vcov

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit1 = pf.feols("_y ~ 0 | _unit + _time", data=data[~data["_treated_now"]], vcov="iid", demeaner=demeaner())
        fit1.fixef(atol=1e-14, btol=1e-14)
        first_u = data["_y"].to_numpy() - np.asarray(fit1.predict(newdata=data), dtype=float)
        ok = np.isfinite(first_u)  # a year (or unit) without any untreated observation cannot be imputed
        stage2, first_u = data[ok].assign(_y_hat=first_u[ok]).reset_index(drop=True), first_u[ok]
        fit2 = pf.feols("_y_hat ~ " + " + ".join(regressors), data=stage2, vcov="iid", drop_intercept=True)
        vcov, _ = _did2s_vcov(data=stage2, yname="_y", first_stage="~0|_unit+_time",
                              second_stage="~" + "+".join(str(c) for c in fit2._coefnames), treatment="_treated_now",
                              first_u=first_u.copy(), second_u=np.asarray(fit2.resid()).copy(), cluster="_cl")
    return np.asarray(fit2._beta_hat), np.asarray(vcov), fit2


def _drop_without_untreated_years(data: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    first = data.groupby("_unit")["_time"].transform("min")
    always = data["_g"].notna() & (data["_g"] <= first)
    units = data.loc[always, "_unit"].unique()
    return data[~data["_unit"].isin(units)].reset_index(drop=True), len(units)


# --- inference -------------------------------------------------------------------------------


def t_quantile(n_clusters: int, level: float = 0.95) -> float:
    return float(stats.t.ppf(0.5 + level / 2, max(n_clusters - 1, 1)))


def _with_ci(table: pd.DataFrame, n_clusters: int) -> pd.DataFrame:
    q = t_quantile(n_clusters)
    return table.assign(ci_low=table["estimate"] - q * table["std_error"],
                        ci_high=table["estimate"] + q * table["std_error"])


def _pretrend_test(events: pd.DataFrame, vcov: np.ndarray, n_clusters: int) -> dict:
    """F test (df2 = G-1) that all terms with rel_time < -1 are zero."""
    ev = events[events["term"] != "ATT"].reset_index(drop=True)
    pre = np.flatnonzero(ev["rel_time"].to_numpy() < REFERENCE)
    if len(pre) == 0:
        return {"terms": "", "statistic": np.nan, "df1": 0, "df2": n_clusters - 1, "p_value": np.nan}
    b = ev["estimate"].to_numpy()[pre]
    V = vcov[np.ix_(pre, pre)]
    q = len(pre)
    stat = float(b @ np.linalg.pinv(V) @ b) / q
    df2 = max(n_clusters - 1, 1)
    return {"terms": " ".join(ev["term"].iloc[pre]), "statistic": stat, "df1": q, "df2": df2,
            "p_value": float(stats.f.sf(stat, q, df2))}
