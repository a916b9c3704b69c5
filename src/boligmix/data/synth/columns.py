"""Helpers that turn integer codes into typed polars columns."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl


def labels(levels: Sequence[str | None], codes: np.ndarray) -> pl.Series:
    """String column from integer codes into `levels`; a code of -1 (or a None level) gives null."""
    levels = list(levels) + [None]
    codes = np.asarray(codes, np.int64)
    codes = np.where(codes < 0, len(levels) - 1, codes)
    return pl.Series(levels, dtype=pl.String).gather(pl.Series(codes))


def dates(days: np.ndarray) -> pl.Series:
    """Date column from days since 1970-01-01."""
    return pl.Series(np.asarray(days, np.int32)).cast(pl.Date)
