"""List counts per list year of a dataset by the official pipeline, keyed like the synthetic
generator's calibration targets (`data/synth/targets.yaml`): the check of the generator's list
targets (tests/test_national_lists.py) and the synthetic-data docs."""

from __future__ import annotations

import os
from collections.abc import Sequence

import polars as pl

LIST_FLAGS = {"udsat": "udsat", "ghetto": "parallelsamfund", "haardt": "omdannelse", "forebyggelse": "forebyggelse"}
"""targets.yaml list keys -> the official pipeline's output flags (ghetto/hårde before 2021)."""


def official_list_counts(dataset_dir: str | os.PathLike[str], years: Sequence[int]) -> dict[int, dict[str, int]]:
    """List counts per list year computed from a dataset's person-level data with the official
    pipeline (`boligmix.lists.compute_lists`: indicators, rules, history), keyed like targets.yaml.

    Categories that do not exist under a year's rules (forebyggelse before 2021, udsat before
    2018) are left out."""
    from boligmix.lists.pipeline import compute_lists
    from boligmix.lists.ruleset import load_ruleset

    frame = compute_lists(dataset_dir, list(years)).classification.frame
    counts: dict[int, dict[str, int]] = {}
    for year in years:
        rows = frame.filter(pl.col("year") == year)
        ruleset = load_ruleset(rows["rules"][0])
        counts[year] = {key: int(rows[flag].cast(pl.Int64).sum()) for key, flag in LIST_FLAGS.items()
                        if ruleset.category_for_output(flag) is not None}
    return counts


__all__ = ["LIST_FLAGS", "official_list_counts"]
