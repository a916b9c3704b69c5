"""Tryghed og trivsel surveys: the six-dimension index with survey weights and confidence intervals.

Responses: `respondent_id,area_id,year,weight,item,value` (long format, one row per answered item).
The index definition (dimensions, items, weights, scales) is the versioned `rules/evaluate/survey_index.yaml`
or a file given by the user. Per area, year and dimension (and `total`) the survey-weighted mean of the
respondents' 0-100 scores is estimated with statsmodels WLS on a constant and an HC1 covariance, which is
the linearisation (sandwich) variance of a weighted mean; intervals use the normal distribution.
Comparisons (between years within an area, and an area against the others in a year) are WLS
regressions on a group dummy with HC1 errors.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from boligmix.errors import ConfigurationError, DataValidationError
from boligmix.rules.files import read_yaml

RESPONSE_COLUMNS = ("respondent_id", "area_id", "year", "weight", "item", "value")
TOTAL = "total"
Z95 = 1.959963984540054


class ItemSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    weight: float = Field(1.0, gt=0)
    reverse: bool = False
    min: float | None = None
    max: float | None = None
    text: str = ""


class DimensionSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    label_da: str
    label_en: str
    weight: float = Field(1.0, gt=0)
    items: dict[str, ItemSpec]


class Scale(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    min: float = 1
    max: float = 5


class SurveyIndex(BaseModel):
    """The versioned index definition (see survey_index.yaml)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    version: str
    scale: Scale = Scale()
    min_items: int = Field(1, ge=1)
    dimensions: dict[str, DimensionSpec]

    @classmethod
    def load(cls, path: str | Path | None = None) -> "SurveyIndex":
        raw, source = read_yaml(path, package="boligmix.rules.evaluate", filename="survey_index.yaml",
                                what="survey index")
        try:
            index = cls.model_validate(raw)
        except Exception as exc:
            raise ConfigurationError(str(exc).splitlines()[0] + ": " + str(exc).splitlines()[-1], source=source) from exc
        seen: dict[str, str] = {}
        for dim, spec in index.dimensions.items():
            if not spec.items:
                raise ConfigurationError("a dimension needs at least one item", source=source, rule=dim)
            for item, ispec in spec.items.items():
                if item in seen:
                    raise ConfigurationError(f"item {item} is in both {seen[item]} and {dim}", source=source, rule=dim)
                seen[item] = dim
                lo, hi = index.item_range(ispec)
                if not lo < hi:
                    raise ConfigurationError(f"item {item}: min {lo} must be below max {hi}", source=source, rule=dim)
        return index

    def item_range(self, spec: ItemSpec) -> tuple[float, float]:
        return (self.scale.min if spec.min is None else spec.min, self.scale.max if spec.max is None else spec.max)

    def items(self) -> pl.DataFrame:
        rows = []
        for dim, d in self.dimensions.items():
            for item, s in d.items.items():
                lo, hi = self.item_range(s)
                rows.append({"item": item, "dimension": dim, "item_weight": s.weight, "reverse": s.reverse,
                             "min": float(lo), "max": float(hi), "dimension_weight": d.weight})
        return pl.DataFrame(rows)


def read_responses(path: str | Path, index: SurveyIndex) -> pl.DataFrame:
    """Read and check a responses CSV (`,` or Danish `;` with decimal comma)."""
    from boligmix.data.ingest import read_table_file

    path = Path(path)
    if not path.is_file():
        raise DataValidationError("responses file not found", path=str(path))
    raw = read_table_file(path)
    raw = raw.rename({c: c.strip().lower() for c in raw.columns})
    return check_responses(raw, index, source=str(path))


def check_responses(raw: pl.DataFrame, index: SurveyIndex, *, source: str = "responses") -> pl.DataFrame:
    for c in RESPONSE_COLUMNS:
        if c not in raw.columns:
            raise DataValidationError(f"column is missing (expected {', '.join(RESPONSE_COLUMNS)})", path=source,
                                      column=c)
    frame = raw.select(*[pl.col(c).cast(pl.String).str.strip_chars() for c in RESPONSE_COLUMNS])
    for c in RESPONSE_COLUMNS:
        empty = frame[c].is_null() | (frame[c] == "")
        if empty.any():
            raise DataValidationError("value is empty", path=source, row=int(empty.arg_true()[0]) + 1, column=c)
    nums = {}
    for c in ("year", "weight", "value"):
        parsed = frame[c].str.replace(",", ".", literal=True).cast(pl.Float64, strict=False)
        bad = parsed.is_null()
        if bad.any():
            row = int(bad.arg_true()[0])
            raise DataValidationError(f"{frame[c][row]!r} is not a number", path=source, row=row + 1, column=c)
        nums[c] = parsed
    if (nums["weight"] <= 0).any():
        row = int((nums["weight"] <= 0).arg_true()[0])
        raise DataValidationError("a survey weight must be positive", path=source, row=row + 1, column="weight")
    items = index.items()
    known = set(items["item"])
    unknown = ~frame["item"].is_in(list(known))
    if unknown.any():
        row = int(unknown.arg_true()[0])
        raise DataValidationError(f"item {frame['item'][row]!r} is not in the index {index.version} "
                                  f"(known: {', '.join(sorted(known))})", path=source, row=row + 1, column="item")
    out = pl.DataFrame({"respondent_id": frame["respondent_id"], "area_id": frame["area_id"],
                        "year": nums["year"].cast(pl.Int64), "weight": nums["weight"], "item": frame["item"],
                        "value": nums["value"]}).with_row_index("_row")
    out = out.join(items, on="item", how="left")
    outside = (out["value"] < out["min"]) | (out["value"] > out["max"])
    if outside.any():
        r = out.filter(outside).row(0, named=True)
        raise DataValidationError(f"value {r['value']:g} of item {r['item']} is outside its scale {r['min']:g}-{r['max']:g}",
                                  path=source, row=r["_row"] + 1, column="value")
    dup = out.select("respondent_id", "year", "item").is_duplicated()
    if dup.any():
        row = int(dup.arg_true()[1])
        raise DataValidationError(f"respondent {out['respondent_id'][row]} answered item {out['item'][row]} twice "
                                  f"in {out['year'][row]}", path=source, row=row + 1, column="item")
    per_resp = out.group_by("respondent_id", "year").agg(pl.col("weight").n_unique().alias("nw"),
                                                         pl.col("area_id").n_unique().alias("na"), pl.col("_row").min())
    bad = per_resp.filter((pl.col("nw") > 1) | (pl.col("na") > 1))
    if bad.height:
        r = bad.sort("_row").row(0, named=True)
        raise DataValidationError(f"respondent {r['respondent_id']} has more than one weight or area in {r['year']}",
                                  path=source, row=r["_row"] + 1, column="weight" if r["nw"] > 1 else "area_id")
    return out.drop("_row")


def respondent_scores(responses: pl.DataFrame, index: SurveyIndex) -> pl.DataFrame:
    """One row per respondent, year and dimension (plus `total`): score 0-100 and the survey weight."""
    scored = responses.with_columns(
        (pl.when(pl.col("reverse")).then(pl.col("max") - pl.col("value")).otherwise(pl.col("value") - pl.col("min"))
         / (pl.col("max") - pl.col("min")) * 100).alias("_score"))
    dims = (scored.group_by("respondent_id", "area_id", "year", "weight", "dimension", "dimension_weight")
            .agg(((pl.col("_score") * pl.col("item_weight")).sum() / pl.col("item_weight").sum()).alias("score"),
                 pl.len().alias("n_items"))
            .filter(pl.col("n_items") >= index.min_items))
    total = (dims.group_by("respondent_id", "area_id", "year", "weight")
             .agg(((pl.col("score") * pl.col("dimension_weight")).sum() / pl.col("dimension_weight").sum()).alias("score"),
                  pl.col("dimension").n_unique().alias("n_dims"))
             .filter(pl.col("n_dims") == len(index.dimensions))
             .select("respondent_id", "area_id", "year", "weight", pl.lit(TOTAL).alias("dimension"), "score"))
    return pl.concat([dims.select("respondent_id", "area_id", "year", "weight", "dimension", "score"), total])


def _wls(y: np.ndarray, X: np.ndarray, w: np.ndarray):
    import statsmodels.api as sm

    return sm.WLS(y, X, weights=w).fit(cov_type="HC1")


def weighted_mean(y: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """Survey-weighted mean and its linearisation standard error (WLS on a constant, HC1)."""
    if len(y) < 2:
        return float(y[0]) if len(y) else float("nan"), float("nan")
    fit = _wls(y, np.ones((len(y), 1)), w)
    return float(fit.params[0]), float(fit.bse[0])


def index_table(scores: pl.DataFrame) -> pl.DataFrame:
    """Per area, year and dimension: n_respondents, sum_weights, mean, std_error, ci_low, ci_high."""
    rows = []
    for (area, year, dim), g in scores.sort("respondent_id").group_by(["area_id", "year", "dimension"],
                                                                       maintain_order=True):
        y, w = g["score"].to_numpy(), g["weight"].to_numpy()
        mean, se = weighted_mean(y, w)
        rows.append({"area_id": area, "year": year, "dimension": dim, "n_respondents": len(y),
                     "sum_weights": float(w.sum()), "mean": mean, "std_error": se,
                     "ci_low": mean - Z95 * se, "ci_high": mean + Z95 * se})
    return pl.DataFrame(rows).sort("area_id", "year", "dimension")


def comparisons(scores: pl.DataFrame) -> pl.DataFrame:
    """Differences with HC1 standard errors: each area's last year minus its first year, and each area
    against all other areas in the same year."""
    rows = []
    for (area, dim), g in scores.group_by(["area_id", "dimension"], maintain_order=True):
        years = sorted(g["year"].unique().to_list())
        if len(years) >= 2:
            sub = g.filter(pl.col("year").is_in([years[0], years[-1]]))
            rows.append(_diff(sub, sub["year"] == years[-1], "year", area, dim, str(years[-1]), str(years[0])))
    for (year, dim), g in scores.group_by(["year", "dimension"], maintain_order=True):
        for area in sorted(g["area_id"].unique().to_list()):
            if g["area_id"].n_unique() >= 2:
                rows.append(_diff(g, g["area_id"] == area, "area", area, dim, f"{area} {year}", f"others {year}"))
    rows = [r for r in rows if r is not None]
    schema = {"kind": pl.String, "area_id": pl.String, "dimension": pl.String, "compared": pl.String,
              "against": pl.String, "n_compared": pl.Int64, "n_against": pl.Int64, "difference": pl.Float64,
              "std_error": pl.Float64, "ci_low": pl.Float64, "ci_high": pl.Float64, "p_value": pl.Float64}
    return pl.DataFrame(rows, schema=schema)


def _diff(g: pl.DataFrame, is_a: pl.Series, kind: str, area: str, dim: str, a: str, b: str) -> dict | None:
    flag = is_a.to_numpy().astype(float)
    n_a, n_b = int(flag.sum()), int(len(flag) - flag.sum())
    if n_a < 2 or n_b < 2:
        return None
    fit = _wls(g["score"].to_numpy(), np.column_stack([np.ones(len(flag)), flag]), g["weight"].to_numpy())
    d, se = float(fit.params[1]), float(fit.bse[1])
    return {"kind": kind, "area_id": area, "dimension": dim, "compared": a, "against": b, "n_compared": n_a,
            "n_against": n_b, "difference": d, "std_error": se, "ci_low": d - Z95 * se, "ci_high": d + Z95 * se,
            "p_value": float(fit.pvalues[1])}


def synthetic_survey(rng: np.random.Generator, index: SurveyIndex, *, areas: list[str], years: list[int],
                     respondents: int = 200, area_sd: float = 0.4, person_sd: float = 0.9,
                     trend: float = 0.1, answer_rate: float = 0.95) -> pl.DataFrame:
    """A synthetic survey in the responses format, for the demo and tests.

    Each respondent has a latent level per dimension (area x year effect + personal variation, most of
    the variation between residents as seed 003 reports) and answers each item (`answer_rate`) on its
    scale, rounded and clipped. Weights are drawn so that they vary (gamma, mean 1).
    """
    items = index.items()
    rows = []
    rid = 0
    area_eff = {(a, d): rng.normal(0, area_sd) for a in areas for d in index.dimensions}
    for year_i, year in enumerate(years):
        for area in areas:
            for _ in range(respondents):
                rid += 1
                weight = float(rng.gamma(4.0, 0.25))
                latent = {d: area_eff[(area, d)] + trend * year_i + rng.normal(0, person_sd) for d in index.dimensions}
                for it in items.iter_rows(named=True):
                    if rng.random() > answer_rate:
                        continue
                    z = latent[it["dimension"]] * (-1 if it["reverse"] else 1) + rng.normal(0, 0.5)
                    mid, half = (it["min"] + it["max"]) / 2, (it["max"] - it["min"]) / 2
                    value = float(np.clip(np.round(mid + half * np.tanh(z / 1.5)), it["min"], it["max"]))
                    rows.append((f"R{rid:06d}", area, year, round(weight, 4), it["item"], value))
    return pl.DataFrame(rows, schema=list(RESPONSE_COLUMNS), orient="row")

