"""The indicator history a forecast stands on: area indicators of every list year up to Y, and
the years before a change of indicator settings recomputed under the new settings.

The lists of year Y are computed from residents on 1 January Y and register years up to Y-1
(`boligmix.indicators.settings`), so everything here is known when the lists of Y are computed;
nothing of a later year is read. A target list year t is forecast from the indicators of t-1 and
t-2 *measured as t will measure them*: where the settings of t differ from those of t-1 (the
2010 -> 2013 window, the 2018 education rule) those two years are computed once more under the
settings of t. Settings that differ only in `rules_basis` count as the same.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from boligmix.data.io import read_manifest
from boligmix.errors import ConfigurationError, DatasetError
from boligmix.indicators import compute_area_indicators, settings_for_list_year
from boligmix.indicators.settings import IndicatorSettings
from boligmix.lists.pipeline import feasible_list_years

Progress = Callable[[str, float], None]
FIRST_LIST_YEAR = 2010


def settings_key(settings: IndicatorSettings) -> str:
    """Two settings with the same key measure the indicators alike (`rules_basis` is only a label)."""
    return settings.model_copy(update={"rules_basis": ""}).model_dump_json()


def _settings(year: int) -> IndicatorSettings | None:
    try:
        return settings_for_list_year(year)
    except ConfigurationError:
        return None


def _feasible(year: int, settings: IndicatorSettings, available: set[int]) -> bool:
    needed = {*settings.window(year), settings.education_year(year), settings.income_year(year)}
    return needed <= available


@dataclass(frozen=True)
class IndicatorHistory:
    """`frames[(year, settings key)]`: area indicators of list year `year` measured under those
    settings (unit id column `unit_id`); `list_years` the list years with indicators (<= Y)."""

    frames: dict[tuple[int, str], pl.DataFrame]
    list_years: tuple[int, ...]
    year: int
    vintage: str
    seed: int | None

    def native(self, year: int) -> pl.DataFrame:
        return self.frames[(year, settings_key(settings_for_list_year(year)))]

    def measured_as(self, year: int, target: int) -> pl.DataFrame | None:
        """Indicators of list year `year` measured with the settings of list year `target`."""
        settings = _settings(target)
        return None if settings is None else self.frames.get((year, settings_key(settings)))

    def native_all(self) -> pl.DataFrame:
        return pl.concat([self.native(y) for y in self.list_years], how="vertical_relaxed")


def load_history(dataset_dir: str | os.PathLike[str], year: int, *, first_target: int | None = None,
                 on_progress: Progress | None = None) -> IndicatorHistory:
    """Area indicators of every feasible list year <= `year`, plus the year before each settings
    change among the target years (first_target, default the second list year, .. year+1)."""
    manifest = read_manifest(dataset_dir)
    lists = [y for y in feasible_list_years(dataset_dir, range(FIRST_LIST_YEAR, year + 1)) if y <= year]
    if year not in lists:
        raise DatasetError(f"list year {year} cannot be computed from {dataset_dir} (register years "
                           f"{manifest.years}); the lists of Y need register years up to Y-1")
    available = set(range(manifest.years[0], manifest.years[1] + 1)) if manifest.years else set(range(1900, year))
    available = {y for y in available if y <= year - 1}  # never read a register year after Y-1
    report = on_progress or (lambda _s, _f: None)
    native = compute_area_indicators(dataset_dir, lists, on_progress=lambda s, f: report(f"indicators: {s}", f * 0.7))
    frames: dict[tuple[int, str], pl.DataFrame] = {}
    for y in lists:
        frames[(y, settings_key(settings_for_list_year(y)))] = _unit_frame(native.filter(pl.col("year") == y))
    needed: list[tuple[int, IndicatorSettings]] = []
    for t in range(first_target or lists[0] + 1, year + 2):
        s_t = _settings(t)
        if s_t is None:
            continue
        for y in (t - 1,):
            key = (y, settings_key(s_t))
            if key not in frames and key not in {(n, settings_key(s)) for n, s in needed} \
                    and _feasible(y, s_t, available):
                needed.append((y, s_t))
    calls: list[dict[int, IndicatorSettings]] = []
    for y, s in needed:  # a year measured under two settings goes to two calls
        call = next((c for c in calls if y not in c), None)
        if call is None:
            calls.append(call := {})
        call[y] = s
    for call in calls:
        more = compute_area_indicators(dataset_dir, sorted(call), settings=call)
        for y, s in call.items():
            frames[(y, settings_key(s))] = _unit_frame(more.filter(pl.col("year") == y))
    report("indicators: done", 0.75)
    return IndicatorHistory(frames, tuple(lists), year, manifest.vintage, manifest.seed)


def _unit_frame(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.rename({"area_id": "unit_id"}).with_columns(pl.col("unit_id").cast(pl.String))


__all__ = ["IndicatorHistory", "load_history", "settings_key"]
