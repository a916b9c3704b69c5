"""Forecast of next year's lists with probabilities, and its backtest against persistence.

Method (docs/monitor.md): per-criterion projections with their empirical error distribution,
pushed through the official classification.

1. For a target list year t every indicator field the rules of t read is projected from its
   values in t-1 and t-2, measured as t measures them (`boligmix.monitor.history`):
   `x̂_t = x_{t-1} + a + b (x_{t-1} - x_{t-2})` (drift `a` and damped trend `b` per field, least
   squares over the earlier target years, `b` shrunk towards 0 and kept in [-0.5, 1]; no trend
   term where t-2 is not measured as t measures it, i.e. right after a settings change).
2. The errors of that projection over the earlier target years, standardised by the size of the
   population the field is measured on (x sqrt(denominator) for shares and ratios, / residents for
   the number of residents), form the error distribution. Whole error vectors of one area-year are
   drawn, so errors of different criteria keep their correlation.
3. `draws` simulated indicator frames for t (projection + drawn error rescaled to each area's
   population) are classified by `boligmix.lists.classify` under the rules of t, with the lists of
   the earlier years as history (omdannelse); the probability of a list is the share of draws
   that put the area on it.

The model for target t is fitted only on target years before t, and all inputs are known on
1 January t-1: the forecast of Y+1 reads nothing after 1 January Y. Randomness is one seeded
`numpy.random.Generator`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl

from boligmix.lists.classify import classify, required_fields
from boligmix.lists.ruleset import OUTPUT_FLAGS, RuleSet, load_ruleset, version_for_year
from boligmix.monitor.history import IndicatorHistory
from boligmix.monitor.scoring import classify_years
from boligmix.monitor.support import DENOMINATOR

LISTS: tuple[str, ...] = OUTPUT_FLAGS
FORECAST_COLUMNS = ("area_id", "year", "list", "probability")
SEP = "\x1f"
BOUNDS = {"residents": (0.0, None), "pct_non_western": (0.0, 100.0), "pct_outside_work_edu": (0.0, 100.0),
          "pct_convicted": (0.0, 100.0), "pct_basic_education": (0.0, 100.0), "conviction_ratio": (0.0, None),
          "income_pct_of_region": (0.0, None)}
SHRINK = 4.0
"""Ridge weight (in units of the mean squared trend) pulling the trend coefficient towards 0."""

Progress = Callable[[str, float], None]


def _ruleset(year: int) -> RuleSet:
    return load_ruleset(version_for_year(year))


def _fields(rulesets: list[RuleSet]) -> list[str]:
    return sorted({f for r in rulesets for f in required_fields(r)})


def _scale(field: str, den: pl.Expr, residents: pl.Expr) -> pl.Expr:
    """Multiply an error by this to standardise it (divide to rescale a drawn one)."""
    if field == "residents":
        return 1.0 / pl.when(residents > 0).then(residents)
    return pl.when(den > 0).then(den.sqrt())


def target_frame(history: IndicatorHistory, target: int, fields: list[str]) -> pl.DataFrame | None:
    """Per area of t-1: `{f}_prev`, `{f}_prev2`, the scale of each field, and the actual `{f}` in t
    when t <= Y. None when t-1 is not measured as t measures it."""
    prev = history.measured_as(target - 1, target)
    if prev is None:
        return None
    prev2 = history.measured_as(target - 2, target)
    cols = [pl.col("unit_id")]
    for f in fields:
        den = pl.col(DENOMINATOR[f]).cast(pl.Float64)
        cols += [pl.col(f).cast(pl.Float64).alias(f"{f}_prev"),
                 _scale(f, den, pl.col("residents").cast(pl.Float64)).alias(f"{f}_scale")]
    frame = prev.select(cols)
    if prev2 is not None:
        frame = frame.join(prev2.select("unit_id", *[pl.col(f).cast(pl.Float64).alias(f"{f}_prev2") for f in fields]),
                           on="unit_id", how="left")
    else:
        frame = frame.with_columns([pl.lit(None, pl.Float64).alias(f"{f}_prev2") for f in fields])
    if target in history.list_years:
        actual = history.native(target).select("unit_id", *[pl.col(f).cast(pl.Float64).alias(f"{f}_next")
                                                            for f in fields])
        frame = frame.join(actual, on="unit_id", how="left")
    return frame.with_columns(pl.lit(target, pl.Int64).alias("target"))


@dataclass(frozen=True)
class FieldModel:
    drift: float
    trend: float


def fit(training: pl.DataFrame, fields: list[str]) -> dict[str, FieldModel]:
    """Drift and shrunk trend coefficient per field from training rows (with `{f}_next`)."""
    models = {}
    for f in fields:
        rows = training.select(
            (pl.col(f"{f}_next") - pl.col(f"{f}_prev")).alias("y"),
            (pl.col(f"{f}_prev") - pl.col(f"{f}_prev2")).fill_null(0.0).alias("d"),
            pl.col(f"{f}_scale").alias("w")).drop_nulls().filter(pl.col("y").is_finite() & pl.col("d").is_finite())
        if rows.height == 0:
            models[f] = FieldModel(0.0, 0.0)
            continue
        y, d = rows.get_column("y").to_numpy(), rows.get_column("d").to_numpy()
        d_mean, y_mean = d.mean(), y.mean()
        dc = d - d_mean
        ridge = SHRINK * max(float(np.mean(dc ** 2)), 1e-12) + 1e-12
        b = float(np.clip(np.sum(dc * (y - y_mean)) / (np.sum(dc ** 2) + ridge), -0.5, 1.0))
        models[f] = FieldModel(float(y_mean - b * d_mean), b)
    return models


def _projection(models: dict[str, FieldModel], fields: list[str]) -> list[pl.Expr]:
    return [(pl.col(f"{f}_prev") + models[f].drift
             + models[f].trend * (pl.col(f"{f}_prev") - pl.col(f"{f}_prev2")).fill_null(0.0)).alias(f"{f}_hat")
            for f in fields]


def residual_pool(training: pl.DataFrame, models: dict[str, FieldModel], fields: list[str]) -> np.ndarray:
    """Standardised projection errors, one row per training area-year, one column per field (0 where
    unknown)."""
    frame = training.with_columns(_projection(models, fields)).select(
        [((pl.col(f"{f}_next") - pl.col(f"{f}_hat")) * pl.col(f"{f}_scale")).alias(f) for f in fields])
    keep = frame.select(pl.any_horizontal([pl.col(f).is_not_null() for f in fields])).to_series()
    return frame.filter(keep).fill_null(0.0).fill_nan(0.0).to_numpy().astype(np.float64)


def simulate(frame: pl.DataFrame, models: dict[str, FieldModel], pool: np.ndarray, fields: list[str],
             draws: int, rng: np.random.Generator) -> pl.DataFrame:
    """`draws` simulated indicator rows per area: projection + a drawn standardised error vector,
    rescaled to the area's population. `area_id` is `<area><SEP><draw>`."""
    base = frame.with_columns(_projection(models, fields))
    n = base.height
    pick = rng.integers(0, max(pool.shape[0], 1), size=(n, draws))
    errors = pool[pick] if pool.shape[0] else np.zeros((n, draws, len(fields)))
    ids = base.get_column("unit_id").to_list()
    out = {"area_id": [f"{a}{SEP}{k}" for a in ids for k in range(draws)]}
    for j, f in enumerate(fields):
        hat = base.get_column(f"{f}_hat").to_numpy().astype(np.float64)
        scale = base.get_column(f"{f}_scale").to_numpy().astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            value = hat[:, None] + errors[:, :, j] / scale[:, None]
        value = np.where(np.isfinite(value), value, hat[:, None])  # no scale: the projection itself
        lo, hi = BOUNDS[f]
        value = np.clip(value, lo, hi if hi is not None else np.inf)
        out[f] = value.reshape(-1)
    return pl.DataFrame(out).with_columns(pl.lit(int(frame.get_column("target")[0]), pl.Int64).alias("year"))


def _history_frame(lists: pl.DataFrame, units: list[str], draws: int, target: int, span: int) -> pl.DataFrame:
    """The earlier lists of the areas that were parallelsamfund in t-1, repeated for every draw."""
    recent = lists.filter(pl.col("year").is_between(target - span, target - 1))
    cand = recent.filter((pl.col("year") == target - 1) & pl.col("parallelsamfund").fill_null(False)) \
        .get_column("area_id").to_list()
    rows = recent.filter(pl.col("area_id").is_in([u for u in cand if u in set(units)]))
    if rows.height == 0:
        return pl.DataFrame(schema={"area_id": pl.String, "year": pl.Int64, "parallelsamfund": pl.Int8})
    rep = pl.DataFrame({"draw": list(range(draws))}, schema={"draw": pl.Int64})
    return (rows.join(rep, how="cross")
            .select((pl.col("area_id") + SEP + pl.col("draw").cast(pl.String)).alias("area_id"), "year",
                    *[pl.col(f).cast(pl.Int8) for f in LISTS]))


def probabilities(frame: pl.DataFrame, models: dict[str, FieldModel], pool: np.ndarray, fields: list[str],
                  lists: pl.DataFrame, draws: int, rng: np.random.Generator) -> pl.DataFrame:
    """area_id, year (= target), list, probability for every area of `frame`."""
    target = int(frame.get_column("target")[0])
    sim = simulate(frame, models, pool, fields, draws, rng)
    ruleset = _ruleset(target)
    history = _history_frame(lists, frame.get_column("unit_id").to_list(), draws, target, 6)
    result = classify(sim, rules=ruleset, history=history if history.height else None).frame
    return (result.select(pl.col("area_id").str.split(SEP).list.first().alias("area_id"),
                          *[pl.col(f).fill_null(False).cast(pl.Float64) for f in LISTS])
            .group_by("area_id").agg([pl.col(f).mean() for f in LISTS])
            .unpivot(index="area_id", on=list(LISTS), variable_name="list", value_name="probability")
            .with_columns(pl.lit(target, pl.Int64).alias("year"))
            .select(FORECAST_COLUMNS).sort("area_id", "list"))


@dataclass(frozen=True)
class ForecastResult:
    forecast: pl.DataFrame
    """area_id, year (Y+1), list, probability."""
    backtest: pl.DataFrame
    """Per backtested (area, target year, list): probability, persistence, observed."""
    lists: pl.DataFrame
    """The official lists of every list year <= Y (area_id, year, flags)."""
    fields: list[str]
    draws: int
    seed: int


def official_lists(history: IndicatorHistory) -> pl.DataFrame:
    """The official lists of every list year with indicators (as `boligmix lists` computes them)."""
    frame = history.native_all()
    years = sorted(int(y) for y in frame.get_column("year").unique().to_list())
    return classify_years(frame, {y: _ruleset(y) for y in years}).frame


def forecast(history: IndicatorHistory, *, draws: int = 200, seed: int = 0, min_training_years: int = 1,
             on_progress: Progress | None = None) -> ForecastResult:
    """Forecast the lists of Y+1 (Y = history.year) and backtest every earlier target year that has
    at least `min_training_years` target years before it."""
    report = on_progress or (lambda _s, _f: None)
    lists = official_lists(history)
    y = history.year
    targets = [t for t in range(history.list_years[0] + 1, y + 2)]
    fields = _fields([_ruleset(t) for t in targets])
    frames = {t: f for t in targets if (f := target_frame(history, t, fields)) is not None}
    rng = np.random.default_rng(seed)
    backtest_parts = []
    done: list[int] = []
    for i, t in enumerate(sorted(frames)):
        report(f"forecast {t}", 0.75 + 0.2 * i / max(len(frames), 1))
        if t == y + 1:
            break
        if len(done) >= min_training_years:
            training = pl.concat([frames[d] for d in done], how="vertical_relaxed")
            models = fit(training, fields)
            probs = probabilities(frames[t], models, residual_pool(training, models, fields), fields, lists,
                                  draws, rng)
            backtest_parts.append(_score(probs, lists, t))
        done.append(t)
    training = pl.concat([frames[d] for d in done], how="vertical_relaxed") if done else None
    if y + 1 not in frames:
        raise ValueError(f"cannot forecast {y + 1}: the indicators of {y} are not measured as {y + 1} measures them")
    if training is None:
        models = {f: FieldModel(0.0, 0.0) for f in fields}
        pool = np.zeros((0, len(fields)))
    else:
        models = fit(training, fields)
        pool = residual_pool(training, models, fields)
    result = probabilities(frames[y + 1], models, pool, fields, lists, draws, rng)
    backtest = pl.concat(backtest_parts) if backtest_parts else pl.DataFrame(
        schema={"area_id": pl.String, "year": pl.Int64, "list": pl.String, "probability": pl.Float64,
                "persistence": pl.Float64, "observed": pl.Float64})
    return ForecastResult(result, backtest, lists, fields, draws, seed)


def _score(probs: pl.DataFrame, lists: pl.DataFrame, target: int) -> pl.DataFrame:
    def flags(year: int, name: str) -> pl.DataFrame:
        return (lists.filter(pl.col("year") == year)
                .unpivot(index="area_id", on=list(LISTS), variable_name="list", value_name=name)
                .with_columns(pl.col(name).cast(pl.Float64)))

    return (probs.join(flags(target - 1, "persistence"), on=["area_id", "list"], how="left")
            .join(flags(target, "observed"), on=["area_id", "list"], how="left")
            .with_columns(pl.col("persistence").fill_null(0.0), pl.col("observed").fill_null(0.0)))


__all__ = ["FORECAST_COLUMNS", "ForecastResult", "LISTS", "fit", "forecast", "official_lists", "probabilities",
           "residual_pool", "simulate", "target_frame"]
