"""The "module results" hook: published outputs of monitor, simulate, plan and evaluate.

`boligmix serve --data DIR --results R` looks in each results directory R for a sub-directory per
module (`monitor/`, `simulate/`, `plan/`, `evaluate/`), or takes R itself as one module's output
when R is named `MODULE=PATH`. Each module's own documented outputs (forecasts, warnings, simulation
runs, plan shares and timelines, rehousing, estimates) are read into views by `module_views`.
Every other `*.csv` and `*.parquet` file there (or one directory below) is a table; the dashboard
shows a table's rows for an area (column `area_id`, or `unit_id` with `level` = area) on the area
page and its rows for a municipality (`municipality_code`) on the municipality page.

Only tables that passed `boligmix.report.disclosure.protect` are shown: they carry its
`suppressed` column (published exports keep it, see docs/disclosure.md). A table without it is
refused (listed as refused, never shown). Modules without tables show "Ingen data".
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from boligmix.errors import ConfigurationError
from boligmix.report.disclosure import SUPPRESSED_COLUMN, DisclosurePolicy, ProtectedTable

MODULES = ("monitor", "simulate", "plan", "evaluate")
MAX_ROWS = 200
"""At most this many rows of one table on a page."""


@dataclass(frozen=True)
class Row:
    """One published row: values (None where missing or suppressed) and the suppressed columns."""

    values: dict[str, Any]
    suppressed: frozenset[str]

    def get(self, column: str) -> Any:
        return self.values.get(column)

    def hidden(self, column: str) -> bool:
        return column in self.suppressed


def rows_of(table: ProtectedTable | pl.DataFrame) -> list[Row]:
    """Published rows of a protected table (the `suppressed` column parsed into column names)."""
    frame = table.frame if isinstance(table, ProtectedTable) else table
    out = []
    for values in frame.iter_rows(named=True):
        marker = values.pop(SUPPRESSED_COLUMN, None) or ""
        out.append(Row(values, frozenset(p.split(":", 1)[0] for p in marker.split(",") if p)))
    return out


@dataclass(frozen=True)
class ModuleTable:
    module: str
    name: str
    path: Path
    frame: pl.DataFrame


@dataclass
class ModuleResults:
    tables: dict[str, list[ModuleTable]] = field(default_factory=lambda: {m: [] for m in MODULES})
    refused: list[tuple[Path, str]] = field(default_factory=list)
    """(file, why) for tables that are not shown."""
    views: Any = None
    """The modules' own outputs read into per-area views (`module_views.ModuleViews`)."""

    def for_area(self, area_id: str) -> dict[str, list[tuple[ModuleTable, pl.DataFrame]]]:
        return self._select(lambda f: _area_filter(f, area_id))

    def for_municipality(self, code: int) -> dict[str, list[tuple[ModuleTable, pl.DataFrame]]]:
        return self._select(lambda f: pl.col("municipality_code") == code if "municipality_code" in f.columns
                            else None)

    def _select(self, condition) -> dict[str, list[tuple[ModuleTable, pl.DataFrame]]]:
        out: dict[str, list[tuple[ModuleTable, pl.DataFrame]]] = {m: [] for m in MODULES}
        for module, tables in self.tables.items():
            for t in tables:
                cond = condition(t.frame)
                if cond is None:
                    continue
                rows = t.frame.filter(cond)
                if rows.height:
                    out[module].append((t, rows.head(MAX_ROWS)))
        return out


def _area_filter(frame: pl.DataFrame, area_id: str) -> pl.Expr | None:
    if "area_id" in frame.columns:
        return pl.col("area_id").cast(pl.String) == area_id
    if "unit_id" in frame.columns:
        cond = pl.col("unit_id").cast(pl.String) == area_id
        return cond & (pl.col("level") == "area") if "level" in frame.columns else cond
    return None


def _module_dirs(spec: str | os.PathLike[str]) -> list[tuple[str, Path]]:
    text = str(spec)
    name, sep, path = text.partition("=")
    if sep and name in MODULES:
        return [(name, Path(path))]
    root = Path(text)
    if not root.is_dir():
        raise ConfigurationError(f"results directory {root} does not exist", field="--results")
    found = [(m, root / m) for m in MODULES if (root / m).is_dir()]
    if not found and root.name in MODULES:
        found = [(root.name, root)]
    return found


def load_module_results(specs: Sequence[str | os.PathLike[str]],
                        policy: DisclosurePolicy | None = None) -> ModuleResults:
    """Read the given results directories (see the module docstring): each module's own output
    files into views (`module_views`), every other table (top level and one level of
    sub-directories) through the `suppressed`-column check."""
    from boligmix.web.dashboard.module_views import load_views

    results = ModuleResults()
    dirs = []
    for spec in specs:
        for module, directory in _module_dirs(spec):
            if not directory.is_dir():
                raise ConfigurationError(f"results directory {directory} does not exist", field="--results")
            dirs.append((module, directory))
    results.views = load_views(dirs, policy or DisclosurePolicy.load())
    for module, directory in dirs:
        subdirs = [directory, *sorted(p for p in directory.iterdir() if p.is_dir())]
        paths = sorted(p for d in subdirs for p in [*d.glob("*.csv"), *d.glob("*.parquet")])
        for path in paths:
            if path in results.views.claimed:
                continue
            try:
                frame = pl.read_parquet(path) if path.suffix == ".parquet" else pl.read_csv(
                    path, infer_schema_length=10_000)
            except Exception as exc:  # an unreadable file is reported, not fatal for the dashboard
                results.refused.append((path, f"unreadable: {exc}"))
                continue
            if SUPPRESSED_COLUMN not in frame.columns:
                results.refused.append((path, "no 'suppressed' column: it did not pass disclosure control"))
                continue
            name = path.stem if path.parent == directory else f"{path.parent.name}/{path.stem}"
            results.tables[module].append(ModuleTable(module, name, path, frame))
    return results


__all__ = ["MODULES", "ModuleResults", "ModuleTable", "Row", "load_module_results", "rows_of"]
