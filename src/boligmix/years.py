"""Year arguments (`--years`): one parser for spans ('2004-2024') and lists ('2010,2012-2014')."""

from __future__ import annotations

import re

from boligmix.errors import ConfigurationError

_SPAN = re.compile(r"^\s*(\d{4})\s*-\s*(\d{4})\s*$")


def year_span(text: str, option: str = "--years") -> tuple[int, int]:
    """'2004-2024' (spaces allowed) -> (2004, 2024); anything else is a ConfigurationError."""
    match = _SPAN.match(text)
    if not match:
        raise ConfigurationError(f"{option} must look like 2004-2024, got '{text}'", field="years")
    first, last = int(match.group(1)), int(match.group(2))
    if first > last:
        raise ConfigurationError(f"{option} {text}: the first year is after the last", field="years")
    return first, last


def year_list(text: str, option: str = "--years") -> list[int]:
    """'2018-2021', '2010' or '2020,2018-2019' -> the sorted distinct years; else a ConfigurationError."""
    out: set[int] = set()
    for part in text.split(","):
        first, sep, last = part.strip().partition("-")
        try:
            a = int(first)
            b = int(last) if sep else a
        except ValueError:
            raise ConfigurationError(f"{option} expects FIRST-LAST or comma-separated years, got '{text}'",
                                     field="years") from None
        if b < a:
            raise ConfigurationError(f"{option} range {part.strip()} ends before it starts", field="years")
        out.update(range(a, b + 1))
    return sorted(out)


__all__ = ["year_list", "year_span"]
