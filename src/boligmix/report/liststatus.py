"""The list status of an area on maps and in tables: the highest list it is on, its fill and pattern."""

from __future__ import annotations

from collections.abc import Mapping

from boligmix.lists.summary import HIGHEST_FIRST

LIST_STATUSES = (*HIGHEST_FIRST, "none", "undecided", "nodata")
"""The lists from the highest (omdannelse) down, then: on none, undecided (missing data), no data."""
LIST_STATUS_STYLE: dict[str, tuple[str, str | None]] = {
    # colour-blind safe fills (ColorBrewer RdBu) plus a pattern each: never colour alone
    "omdannelse": ("#b2182b", "crosshatch"),
    "parallelsamfund": ("#ef8a62", "hatch"),
    "udsat": ("#fddbc7", "dots"),
    "forebyggelse": ("#92c5de", "vertical"),
    "none": ("#ffffff", None),
    "undecided": ("#bababa", "horizontal"),
    "nodata": ("#e0e0e0", None),
}
"""Fill colour and pattern (`boligmix.report.svgmap` pattern names) of each list status on maps."""


def status_of(flags: Mapping[str, object]) -> str:
    """The highest list among the flags; 'undecided' when none is true and some is unknown (None)."""
    for flag in HIGHEST_FIRST:
        if flags.get(flag) is True:
            return flag
    return "undecided" if any(flags.get(f) is None for f in HIGHEST_FIRST) else "none"


__all__ = ["LIST_STATUSES", "LIST_STATUS_STYLE", "status_of"]
