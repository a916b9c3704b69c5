"""Errors of the segregation package (all derive from `BoligmixError`)."""

from __future__ import annotations

from boligmix.errors import BoligmixError


class SegregationSpecError(BoligmixError, ValueError):
    """The request itself is inconsistent: unknown index, one group without a total, no groups, ..."""


class IndexUndefinedError(BoligmixError, ValueError):
    """An index has a zero denominator for the given data (e.g. the group is absent everywhere)."""


__all__ = ["IndexUndefinedError", "SegregationSpecError"]
