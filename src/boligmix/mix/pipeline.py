"""Compute every mix table for a dataset, years and level (`compute_mix`).

The tables returned are the unprotected results; `boligmix.mix.publish` protects and writes them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import polars as pl

from boligmix.mix.composition import composition_table, reference_shares
from boligmix.mix.decomposition import decomposition_table
from boligmix.mix.factors import attach_factors, income_cutpoints
from boligmix.mix.flows import classified_moves, flow_table, internal_almen_table, national_moves
from boligmix.mix.population import MixData, check_years, load_mix_data, memberships
from boligmix.mix.settings import MixSettings
from boligmix.mix.summary import pooled_composition, pooled_decomposition, segregation_by_factor
from boligmix.mix.units import check_level, check_listed

Progress = Callable[[str, float], None]


@dataclass
class MixResult:
    """All mix tables for one level and span of years."""

    level: str
    years: list[int]
    settings: MixSettings
    vintage: str
    seed: int | None
    tables: dict[str, pl.DataFrame] = field(default_factory=dict)
    """composition, pooled, reference, segregation, flows, internal_almen, national_moves,
    decomposition, pooled_decomposition, income_cutpoints"""
    listed_given: bool = False


def compute_mix(
    dataset: str | os.PathLike[str] | MixData,
    years: Sequence[int],
    *,
    level: str = "area",
    settings: MixSettings | None = None,
    listed: pl.DataFrame | None = None,
    on_progress: Progress | None = None,
) -> MixResult:
    """Composition, flows and decomposition for `level` and `years` (see docs/mix.md)."""
    check_level(level)
    settings = settings or MixSettings.load()
    listed = check_listed(listed)
    step = on_progress or (lambda _s, _f: None)
    step("reading data", 0.0)
    data = dataset if isinstance(dataset, MixData) else load_mix_data(dataset)
    years = sorted(set(int(y) for y in years))
    check_years(data, years)
    step("residence spells", 0.15)
    rows = memberships(data, years, settings.birth_grace_days)
    step("factors", 0.3)
    rows = attach_factors(rows, data, settings)
    step("composition", 0.5)
    reference = reference_shares(rows, data).filter(pl.col("year").is_in(years))
    tables: dict[str, pl.DataFrame] = {}
    tables["composition"] = composition_table(rows, data, level, years, reference, listed)
    tables["pooled"] = pooled_composition(rows, data, level, years, listed)
    tables["reference"] = reference
    tables["segregation"] = segregation_by_factor(tables["composition"])
    step("flows", 0.7)
    moves = classified_moves(rows, data, level, listed)
    tables["flows"] = flow_table(moves, level, years)
    tables["internal_almen"] = internal_almen_table(moves, level, years)
    tables["national_moves"] = national_moves(rows, data, years)
    step("decomposition", 0.85)
    tables["decomposition"] = decomposition_table(rows, data, level, years)
    tables["pooled_decomposition"] = pooled_decomposition(rows, data, level, years)
    tables["income_cutpoints"] = income_cutpoints(rows).filter(pl.col("ref_year").is_in([y - 1 for y in years]))
    step("done", 1.0)
    return MixResult(level, years, settings, data.vintage, data.seed, tables, listed is not None)
