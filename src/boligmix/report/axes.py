"""Axis helpers shared by the report figures."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

MAX_YEAR_TICKS = 12


def year_axis(figure: Any, years: Iterable[int]) -> Any:
    """Label the x axes of `figure` with whole years (no '2,020.5' ticks), at most `MAX_YEAR_TICKS`."""
    values = [int(y) for y in years if y is not None]
    span = max(values) - min(values) if values else 0
    figure.update_xaxes(tickformat="d", dtick=max(1, math.ceil(span / MAX_YEAR_TICKS)))
    return figure
