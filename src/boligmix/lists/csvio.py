"""AREAS.csv and HISTORY.csv in, OUT.csv (plus a provenance sidecar) out, with strict checks.

AREAS.csv: `area_id,year,residents,pct_non_western,pct_outside_work_edu,pct_convicted,
conviction_ratio,pct_basic_education,income_pct_of_region`, one row per area and list year;
optional `area_name` and `municipality` are written beside `area_id` by `explain-lists`.
A column the row's rule version reads must be present and filled; a column it does not read
may be empty or absent. Any bad value is a `DataValidationError` naming file, row and column.

HISTORY.csv: `area_id,year,parallelsamfund` (0/1: on the ghetto/parallelsamfund list that year).

OUT.csv: `area_id,year,rules,criteria_met,udsat,parallelsamfund,omdannelse,forebyggelse,history_missing`.
`history_missing` lists the look-back years a history rule (omdannelse, hårdt ghettoområde) needed
that are neither in AREAS.csv nor in HISTORY.csv (comma-separated; empty when none): those years
count as "not on the list", so a 0 there may only mean "not enough years given".
It is written atomically, together with `<OUT stem>.provenance.json` (rule versions and file
hashes, switches, data vintage, input file hashes); on any error nothing is written.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path

import polars as pl

from boligmix.atomic import atomic_path
from boligmix.data.csvtext import Dialect, parse_numbers, read_text_csv
from boligmix.errors import ConfigurationError, DataValidationError, FirstRowError
from boligmix.lists.classify import Classification, required_fields
from boligmix.lists.ruleset import (
    AREA_FIELDS,
    BUILTIN_VERSIONS,
    OUTPUT_FLAGS,
    RuleSet,
    load_ruleset,
    resolve_rules,
    version_for_year,
)

AREAS_COLUMNS: tuple[str, ...] = ("area_id", "year", *AREA_FIELDS)
HISTORY_COLUMNS: tuple[str, ...] = ("area_id", "year", "parallelsamfund")
OUT_COLUMNS: tuple[str, ...] = ("area_id", "year", "rules", "criteria_met", *OUTPUT_FLAGS, "history_missing")

PERCENT_FIELDS = frozenset({"pct_non_western", "pct_outside_work_edu", "pct_convicted", "pct_basic_education"})
"""Shares in percent: must lie in 0-100."""
COUNT_FIELDS = frozenset({"residents"})
"""Counts: non-negative integers."""
# conviction_ratio and income_pct_of_region are ratios to a reference (national / regional
# average): non-negative, but they may exceed 100 (an area richer than its region).


def file_sha256(path: str | os.PathLike[str]) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _read_strings(path: Path, what: str) -> tuple[pl.DataFrame, Dialect]:
    """The file as text columns (dialect detected: `,` or Danish Excel's `;` with decimal commas)."""
    frame, dialect = read_text_csv(path, what=what)
    if frame.height == 0:
        raise DataValidationError(f"{what} has a header but no data rows", path=str(path))
    return frame, dialect


class _FirstError(FirstRowError):
    """`FirstRowError` fed by masks: a check's first true row (ties: the earlier check)."""

    def add(self, mask: pl.Series, column: str, message: str) -> None:
        hits = mask.fill_null(False).arg_true()
        if len(hits):
            self.keep(int(hits[0]) + 1, column, message)


def _parse_year(frame: pl.DataFrame, path: Path) -> pl.Series:
    text = frame.get_column("year")
    year = text.cast(pl.Int64, strict=False)
    errors = _FirstError(path)
    errors.add(text.is_null(), "year", "empty value")
    errors.add(text.is_not_null() & year.is_null(), "year", "not an integer year")
    errors.raise_if_any()
    return year


def _versions(year: pl.Series, rules: str | RuleSet, path: Path) -> pl.Series:
    if isinstance(rules, RuleSet):
        return pl.Series("rules", [rules.version] * len(year), dtype=pl.String)
    if rules != "auto":
        if rules not in BUILTIN_VERSIONS:
            raise ConfigurationError(f"unknown rule version '{rules}'; use auto or one of "
                                     f"{', '.join(BUILTIN_VERSIONS)}", field="rules")
        return pl.Series("rules", [rules] * len(year), dtype=pl.String)
    mapping: dict[int, str] = {}
    for i, y in enumerate(year.to_list()):
        if y not in mapping:
            try:
                mapping[y] = version_for_year(y)
            except ConfigurationError as exc:
                raise DataValidationError(f"{exc}", path=str(path), row=i + 1, column="year") from exc
    return year.replace_strict(mapping, return_dtype=pl.String).alias("rules")


def read_areas_csv(path: str | os.PathLike[str], rules: str | RuleSet = "auto") -> pl.DataFrame:
    """Read and check AREAS.csv for the given rules ('auto', a version, a rule-set file or RuleSet).

    Returns the typed frame (area_id str, year int, residents int, other fields float; a column
    no row needs and that is absent comes back all null).
    """
    path = Path(path)
    rules = resolve_rules(rules)
    raw, dialect = _read_strings(path, "AREAS.csv")
    for col in ("area_id", "year"):
        if col not in raw.columns:
            raise DataValidationError("missing column", path=str(path), column=col)
    year = _parse_year(raw, path)
    versions = _versions(year, rules, path)
    needed_by: dict[str, set[str]] = {f: set() for f in AREA_FIELDS}
    for version in versions.unique().to_list():
        ruleset = rules if isinstance(rules, RuleSet) else load_ruleset(version)
        for f in required_fields(ruleset):
            needed_by[f].add(version)
    for f in AREA_FIELDS:
        if needed_by[f] and f not in raw.columns:
            raise DataValidationError(f"missing column (rules {', '.join(sorted(needed_by[f]))} need it)",
                                      path=str(path), column=f)

    errors = _FirstError(path)
    errors.add(raw.get_column("area_id").is_null(), "area_id", "empty area_id")
    typed: dict[str, pl.Series] = {"area_id": raw.get_column("area_id"), "year": year}
    for f in AREA_FIELDS:
        if f not in raw.columns:
            typed[f] = pl.Series(f, [None] * raw.height, dtype=pl.Int64 if f in COUNT_FIELDS else pl.Float64)
            continue
        text = raw.get_column(f)
        number = parse_numbers(text, dialect, source=str(path), column=f)
        present = text.is_not_null()
        needed = versions.is_in(sorted(needed_by[f])) if needed_by[f] else pl.Series([False] * raw.height)
        errors.add(needed & ~present, f, "empty value; rules " + "/".join(sorted(needed_by[f])) + " need it")
        errors.add(present & (number.is_null() | ~number.is_finite().fill_null(False)), f,
                   "not a number")
        ok = present & number.is_not_null() & number.is_finite().fill_null(False)
        if f in PERCENT_FIELDS:
            errors.add(ok & ((number < 0) | (number > 100)), f, "percentage outside 0-100")
        elif f in COUNT_FIELDS:
            errors.add(ok & (number < 0), f, "negative count")
            errors.add(ok & (number >= 0) & (number != number.floor()), f, "count is not a whole number"
                       + ("" if dialect.decimal_comma else " (in a ','-separated file '.' is the decimal point: "
                          "write 1500, not 1.500)"))
        else:
            errors.add(ok & (number < 0), f, "negative value")
        typed[f] = number.cast(pl.Int64, strict=False) if f in COUNT_FIELDS else number
    for name in ("area_name", "municipality"):  # optional: written beside area_id in the outputs
        if name in raw.columns:
            typed[name] = raw.get_column(name)
    frame = pl.DataFrame(typed)
    errors.add(~frame.select(pl.struct("area_id", "year").is_first_distinct()).to_series(), "area_id,year",
               "duplicate (area_id, year)")
    errors.raise_if_any()
    return frame


def read_history_csv(path: str | os.PathLike[str]) -> pl.DataFrame:
    """Read and check HISTORY.csv: area_id, year, parallelsamfund (0/1)."""
    path = Path(path)
    raw, _ = _read_strings(path, "HISTORY.csv")
    for col in HISTORY_COLUMNS:
        if col not in raw.columns:
            raise DataValidationError("missing column", path=str(path), column=col)
    year = _parse_year(raw, path)
    errors = _FirstError(path)
    errors.add(raw.get_column("area_id").is_null(), "area_id", "empty area_id")
    flag = raw.get_column("parallelsamfund")
    errors.add(~flag.is_in(["0", "1"]).fill_null(False), "parallelsamfund", "must be 0 or 1")
    frame = pl.DataFrame({"area_id": raw.get_column("area_id"), "year": year,
                          "parallelsamfund": flag == "1"})
    errors.add(~frame.select(pl.struct("area_id", "year").is_first_distinct()).to_series(), "area_id,year",
               "duplicate (area_id, year)")
    errors.raise_if_any()
    return frame


def provenance_path(out: str | os.PathLike[str]) -> Path:
    out = Path(out)
    return out.with_name(f"{out.stem}.provenance.json")


def write_classification(out: str | os.PathLike[str], result: Classification,
                         inputs: Mapping[str, str | os.PathLike[str]] | None = None) -> Path:
    """Write OUT.csv (flags 0/1) and its provenance sidecar, both or neither."""
    out = Path(out)
    flags = result.as_flags().select(OUT_COLUMNS)
    provenance = dict(result.provenance)
    provenance["inputs"] = {name: {"path": str(p), "sha256": file_sha256(p)} for name, p in (inputs or {}).items()}
    provenance["columns"] = list(OUT_COLUMNS)
    # both or neither: the provenance replaces its old file first, then the CSV (the inner block ends
    # first); a failure before either leaves both old files
    with atomic_path(out) as tmp_csv:
        flags.write_csv(tmp_csv)
        with atomic_path(provenance_path(out)) as tmp_meta:
            tmp_meta.write_text(json.dumps(provenance, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    return out


__all__ = ["AREAS_COLUMNS", "HISTORY_COLUMNS", "OUT_COLUMNS", "provenance_path", "read_areas_csv",
           "read_history_csv", "write_classification"]
