"""Wild cluster bootstrap for few clusters, through pyfixest's `wildboottest` integration (package
`wildboottest`, MIT): restricted (null imposed) WCR11 with Rademacher weights, seeded."""

from __future__ import annotations

import warnings

import pandas as pd

from boligmix.evaluate.did import add_rel_time, feols


def wild_bootstrap_att(panel: pd.DataFrame, *, reps: int = 9999, seed: int = 1,
                       weights_type: str = "rademacher") -> dict:
    """Bootstrap p-value for ATT = 0 in `y ~ treated | unit + time`, clustered by `_cl`."""
    data = add_rel_time(panel, None)
    data["_clid"] = pd.factorize(data["_cl"])[0].astype("int64")  # wildboottest needs numeric cluster ids
    fit = feols("_y ~ _treated | _unit + _time", data, cluster="_clid")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = fit.wildboottest(reps=reps, cluster="_clid", param="_treated", weights_type=weights_type,
                               impose_null=True, bootstrap_type="11", seed=seed)
    return {"t_value": float(res["t value"]), "p_value": float(res["Pr(>|t|)"]), "reps": reps, "seed": seed,
            "n_clusters": int(data["_cl"].nunique())}
