"""Compute every mix table for a dataset, years and level (`compute_mix`).

The tables returned are the unprotected results; `boligmix.mix.publish` protects and writes them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import polars as pl

from boligmix.mix.composition import composition_table, reference_shares
from boligmix.mix.decomposition import decomposition_table, stock_in_units
from boligmix.mix.factors import attach_factors, income_cutpoints, prepare_factor_inputs
from boligmix.mix.flows import classified_moves, flow_table, internal_almen_table, national_moves
from boligmix.mix.population import MixData, check_years, load_mix_data, memberships, spells_with_neighbours
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
    years = sorted(set(int(y) for y in years))
    data = dataset if isinstance(dataset, MixData) else load_mix_data(dataset, years)
    check_years(data, years)
    spells = spells_with_neighbours(data, settings.birth_grace_days)
    inputs = prepare_factor_inputs(data, settings)
    parts: dict[str, list[pl.DataFrame]] = {k: [] for k in (
        "composition", "pooled", "reference", "flows", "internal_almen", "national_moves", "income_cutpoints",
        "unit_stock")}
    for k, year in enumerate(years):  # one year at a time: memory stays that of two stocks
        step(f"year {year}", 0.05 + 0.8 * k / len(years))
        rows = attach_factors(memberships(data, [year], settings.birth_grace_days, spells), data, settings, inputs)
        reference = reference_shares(rows, data).filter(pl.col("year") == year)
        parts["reference"].append(reference)
        parts["composition"].append(composition_table(rows, data, level, [year], reference, listed))
        parts["pooled"].append(pooled_composition(rows, data, level, [year], listed))
        moves = classified_moves(rows, data, level, listed)
        parts["flows"].append(flow_table(moves, level, [year]))
        parts["internal_almen"].append(internal_almen_table(moves, level, [year]))
        parts["national_moves"].append(national_moves(rows, data, [year]))
        parts["income_cutpoints"].append(income_cutpoints(rows).filter(pl.col("ref_year") == year - 1))
        unit_stock = stock_in_units(rows, data, level)
        keep = [year, year + 1] if year == years[-1] else [year]
        parts["unit_stock"].append(unit_stock.filter(pl.col("year").is_in(keep)))
    tables = {k: pl.concat(v, how="vertical_relaxed") for k, v in parts.items() if k != "unit_stock"}
    tables["segregation"] = segregation_by_factor(tables["composition"])
    step("decomposition", 0.9)
    unit_stock = pl.concat(parts["unit_stock"], how="vertical_relaxed")
    tables["decomposition"] = decomposition_table(unit_stock, data, level, years)
    tables["pooled_decomposition"] = pooled_decomposition(unit_stock, data, level, years)
    order = ("composition", "pooled", "reference", "segregation", "flows", "internal_almen", "national_moves",
             "decomposition", "pooled_decomposition", "income_cutpoints")
    step("done", 1.0)
    return MixResult(level, years, settings, data.vintage, data.seed, {k: tables[k] for k in order},
                     listed is not None)
