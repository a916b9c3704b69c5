"""The "module results" hook: published outputs of monitor, simulate, plan and evaluate.

`boligmix serve --data DIR --results R` looks in each results directory R for a sub-directory per
module (`monitor/`, `simulate/`, `plan/`, `evaluate/`), or takes R itself as one module's output
when R is named `MODULE=PATH`. Every `*.csv` and `*.parquet` file there is a table; the dashboard
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

import polars as pl

from boligmix.errors import ConfigurationError
from boligmix.report.disclosure import SUPPRESSED_COLUMN

MODULES = ("monitor", "simulate", "plan", "evaluate")
MAX_ROWS = 200
"""At most this many rows of one table on a page."""


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


def load_module_results(specs: Sequence[str | os.PathLike[str]]) -> ModuleResults:
    """Read every table of the given results directories (see the module docstring)."""
    results = ModuleResults()
    for spec in specs:
        for module, directory in _module_dirs(spec):
            if not directory.is_dir():
                raise ConfigurationError(f"results directory {directory} does not exist", field="--results")
            for path in sorted([*directory.glob("*.csv"), *directory.glob("*.parquet")]):
                try:
                    frame = pl.read_parquet(path) if path.suffix == ".parquet" else pl.read_csv(
                        path, infer_schema_length=10_000)
                except Exception as exc:  # an unreadable file is reported, not fatal for the dashboard
                    results.refused.append((path, f"unreadable: {exc}"))
                    continue
                if SUPPRESSED_COLUMN not in frame.columns:
                    results.refused.append((path, "no 'suppressed' column: it did not pass disclosure control"))
                    continue
                results.tables[module].append(ModuleTable(module, path.stem, path, frame))
    return results


__all__ = ["MODULES", "ModuleResults", "ModuleTable", "load_module_results"]
