"""Read and check a unit x year panel for the difference-in-differences estimators.

Errors name the file, the 1-based data row and the column (see `boligmix.errors`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl

from boligmix.errors import DataValidationError


@dataclass(frozen=True)
class PanelColumns:
    """Which panel columns play which role."""

    unit: str
    time: str
    outcome: str
    treated_from: str
    cluster: str | None = None

    @property
    def cluster_col(self) -> str:
        return self.cluster or self.unit


def read_panel(path: str | Path) -> pl.DataFrame:
    """A panel from Parquet or CSV (`,` or Danish `;` with decimal comma)."""
    p = Path(path)
    if not p.is_file():
        raise DataValidationError("panel file not found", path=str(p))
    if p.suffix.lower() == ".parquet":
        return pl.read_parquet(p)
    if p.suffix.lower() != ".csv":
        raise DataValidationError("panel must be .parquet or .csv", path=str(p))
    from boligmix.data.ingest import read_table_file

    return read_table_file(p)


def check_panel(frame: pl.DataFrame, cols: PanelColumns, *, source: str = "panel") -> pd.DataFrame:
    """Validate `frame` and return a pandas frame with the standard columns `_unit, _time, _y, _g, _cl`.

    `_g` is the first treated year (NaN for never treated). Rows with an empty outcome are dropped.
    Raises `DataValidationError` naming the column, row and value on: a missing column, a non-numeric
    outcome or time, a `treated_from` year outside the panel's years or varying within a unit, and
    duplicate unit-year rows.
    """
    for c in dict.fromkeys((cols.unit, cols.time, cols.outcome, cols.treated_from, cols.cluster_col)):
        if c not in frame.columns:
            raise DataValidationError(f"column is missing (columns are: {', '.join(frame.columns)})",
                                      path=source, column=c)
    if frame.height == 0:
        raise DataValidationError("the panel has no rows", path=source)
    time = numeric_column(frame, cols.time, source, integer=True)
    y = numeric_column(frame, cols.outcome, source, integer=False)
    g = numeric_column(frame, cols.treated_from, source, integer=True)
    lo, hi = int(np.nanmin(time)), int(np.nanmax(time))
    if np.isnan(time).any():
        row = int(np.flatnonzero(np.isnan(time))[0]) + 1
        raise DataValidationError("time is empty", path=source, row=row, column=cols.time)
    outside = ~np.isnan(g) & ((g < lo) | (g > hi))
    if outside.any():
        row = int(np.flatnonzero(outside)[0])
        raise DataValidationError(
            f"treated-from year {int(g[row])} lies outside the panel's years {lo}-{hi} "
            "(leave it empty for never treated)", path=source, row=row + 1, column=cols.treated_from)
    out = pd.DataFrame({
        "_unit": frame[cols.unit].cast(pl.String).to_numpy(),
        "_time": time.astype(np.int64),
        "_y": y,
        "_g": g,
        "_cl": frame[cols.cluster_col].cast(pl.String).to_numpy(),
    })
    first_g = out.groupby("_unit")["_g"].transform(lambda s: s.iloc[0])
    varying = ~((first_g == out["_g"]) | (first_g.isna() & out["_g"].isna()))
    if varying.any():
        row = int(np.flatnonzero(varying.to_numpy())[0])
        raise DataValidationError(f"treated-from differs within unit {out['_unit'].iloc[row]}",
                                  path=source, row=row + 1, column=cols.treated_from)
    dup = out.duplicated(["_unit", "_time"]).to_numpy()
    if dup.any():
        row = int(np.flatnonzero(dup)[0])
        raise DataValidationError(f"unit {out['_unit'].iloc[row]} has two rows for year {out['_time'].iloc[row]}",
                                  path=source, row=row + 1, column=cols.time)
    out = out[~np.isnan(out["_y"].to_numpy())].reset_index(drop=True)
    if out.empty:
        raise DataValidationError("the outcome is empty in every row", path=source, column=cols.outcome)
    return out


def numeric_column(frame: pl.DataFrame, column: str, source: str, *, integer: bool) -> np.ndarray:
    s = frame[column]
    if s.dtype == pl.String:
        text = s.str.strip_chars()
        parsed = text.str.replace(",", ".", literal=True).cast(pl.Float64, strict=False)
        bad = (parsed.is_null() & text.is_not_null() & (text != "")).to_numpy()
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise DataValidationError(f"value {s[row]!r} is not a number", path=source, row=row + 1, column=column)
        s = parsed
    elif not (s.dtype.is_numeric() or s.dtype == pl.Null):
        raise DataValidationError(f"column must be numeric, is {s.dtype}", path=source, column=column)
    values = s.cast(pl.Float64).fill_nan(None).to_numpy().astype(float)
    if integer:
        frac = ~np.isnan(values) & (values != np.round(values))
        if frac.any():
            row = int(np.flatnonzero(frac)[0])
            raise DataValidationError(f"value {values[row]} is not a whole year", path=source, row=row + 1,
                                      column=column)
    return values
