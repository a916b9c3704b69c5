"""Import a register extract: read, cast, validate, pseudonymise and write a dataset.

An extract is a directory holding one file per table, `<table>.csv` or `<table>.parquet`
(names from `boligmix.data.schema`). Every required table must be there; optional tables may
be; any other file is an error. CSV files are UTF-8 with a header line, `,` (or `;`) between
fields and `.` as decimal point; see `docs/ingest.md` and `docs/data-dictionary.md`.

Nothing is written unless the whole extract is valid, and the dataset is written atomically
(`boligmix.data.io.write_dataset`), so a failed import leaves an existing dataset untouched.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable
from pathlib import Path

import polars as pl

from boligmix.data.io import Manifest, check_out_dir, read_manifest, write_dataset
from boligmix.data.pseudonymise import ID_COLUMNS, check_key, key_fingerprint, pseudonymise_tables
from boligmix.data.schema import REQUIRED_TABLES, TABLES
from boligmix.data.validate import DEFAULT_MAX_ERRORS, DataValidationErrors, validate_tables
from boligmix.errors import DataValidationError, DatasetError

SUFFIXES: tuple[str, ...] = (".csv", ".parquet")
"""File formats ingest reads, by file name suffix."""

CSV_SEPARATORS: tuple[str, ...] = (",", ";")
"""CSV field separators; `;` is used when the header line has `;` and no `,`."""

ProgressCallback = Callable[[str, float], None]


def expected_file_names() -> list[str]:
    return [f"{name}{suffix}" for name in TABLES for suffix in SUFFIXES]


def find_table_files(src_dir: str | os.PathLike[str]) -> dict[str, Path]:
    """Map table names to their files in `src_dir`; raise on missing, unknown or doubled files."""
    src = Path(src_dir)
    if not src.is_dir():
        raise DatasetError(f"{src} is not a directory")
    found: dict[str, Path] = {}
    unknown: list[str] = []
    for path in sorted(src.iterdir()):
        table = path.stem if path.suffix in SUFFIXES and path.is_file() else None
        if table not in TABLES:
            unknown.append(path.name)
            continue
        if table in found:
            raise DataValidationError(f"table {table} is given twice ({found[table].name} and {path.name}); "
                                      "keep one", path=path.name)
        found[table] = path
    listing = ", ".join(expected_file_names())
    if unknown:
        first = unknown[0]
        raise DataValidationError(
            f"unknown file{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} in {src}; "
            f"expected only files named {listing}", path=first)
    missing = [t for t in REQUIRED_TABLES if t not in found]
    if missing:
        raise DataValidationError(
            f"required table{'s' if len(missing) > 1 else ''} missing from {src}: {', '.join(missing)} "
            f"(expected {' or '.join(f'{missing[0]}{s}' for s in SUFFIXES)}"
            f"{' etc.' if len(missing) > 1 else ''})", path=f"{missing[0]}.csv")
    return {name: found[name] for name in TABLES if name in found}


def read_table_file(path: Path) -> pl.DataFrame:
    """Read one extract file as is: CSV as text columns, Parquet with its own dtypes."""
    if path.suffix == ".parquet":
        try:
            return pl.read_parquet(path)
        except Exception as exc:  # polars raises several types for a broken file
            raise DataValidationError(f"not a readable Parquet file ({exc})", path=path.name) from exc
    return _read_csv(path)


def _read_csv(path: Path) -> pl.DataFrame:
    if path.stat().st_size == 0:
        return pl.DataFrame()
    with path.open("rb") as handle:
        header = handle.readline().decode("utf-8", errors="replace")
    separator = ";" if ";" in header and "," not in header else ","
    try:
        return pl.read_csv(path, infer_schema=False, separator=separator, encoding="utf8",
                           raise_if_empty=False)
    except pl.exceptions.NoDataError:
        return pl.DataFrame()
    except pl.exceptions.PolarsError as exc:
        raise _csv_error(path, separator, exc) from exc


def _csv_error(path: Path, separator: str, exc: Exception) -> DataValidationError:
    """Find the row behind a CSV parse failure (slow path: only when reading failed)."""
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle, delimiter=separator)
            width = len(next(reader))
            for row, fields in enumerate(reader, start=1):
                if len(fields) != width:
                    return DataValidationError(
                        f"the row has {len(fields)} fields; the header has {width}", path=path.name, row=row)
    except UnicodeDecodeError as decode:
        return DataValidationError(f"the file is not UTF-8 text ({decode.reason} at byte {decode.start})",
                                   path=path.name)
    return DataValidationError(f"cannot read the CSV file ({exc})", path=path.name)


def _years(tables: dict[str, pl.DataFrame]) -> tuple[int, int] | None:
    lows, highs = [], []
    for frame in tables.values():
        if "year" in frame.columns and frame.height:
            bounds = frame.select(pl.col("year").min().alias("lo"), pl.col("year").max().alias("hi")).row(0)
            if bounds[0] is not None:
                lows.append(bounds[0])
                highs.append(bounds[1])
    return (int(min(lows)), int(max(highs))) if lows else None


def ingest(
    src_dir: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    key: bytes,
    vintage: str,
    overwrite: bool = False,
    on_progress: ProgressCallback | None = None,
    max_errors: int = DEFAULT_MAX_ERRORS,
) -> Manifest:
    """Import the register extract in `src_dir` as a dataset at `out_dir`; return its manifest.

    Raises `DataValidationError` (for many problems `DataValidationErrors`, listing up to
    `max_errors`) naming file, row and column; `DatasetError` if `out_dir` exists and
    `overwrite` is false, or if `out_dir` is `src_dir`, lies inside it or contains it (the
    dataset would mix with the extract's files, or replacing it would delete the extract).
    Nothing is written unless every check passes.
    """
    report = on_progress or (lambda step, fraction: None)
    check_key(key)
    target = Path(out_dir)
    check_out_dir(src_dir, target)
    if target.exists() and not overwrite:
        raise DatasetError(f"{target} exists; pass overwrite=True (CLI: --force) to replace it")
    files = find_table_files(src_dir)
    raws: dict[str, pl.DataFrame] = {}
    for i, (name, path) in enumerate(files.items()):
        report(f"read {path.name}", 0.5 * i / len(files))
        raws[name] = read_table_file(path)
    paths = {name: path.name for name, path in files.items()}
    report("validate", 0.5)
    try:
        typed = validate_tables(raws, paths, max_errors=max_errors, id_columns=ID_COLUMNS)
    finally:
        raws.clear()
    report("pseudonymise", 0.7)
    tables = pseudonymise_tables(typed, key, columns=ID_COLUMNS)
    present = [c for c in ID_COLUMNS if any(c in frame.columns for frame in tables.values())]
    manifest = Manifest(
        vintage=vintage,
        source="ingest",
        years=_years(tables),
        notes={
            "pseudonym_key": key_fingerprint(key),
            "pseudonymised_columns": ", ".join(present),
            "source_files": ", ".join(paths.values()),
        },
    )
    report("write", 0.85)
    write_dataset(target, tables, manifest, overwrite=overwrite)
    report("done", 1.0)
    return read_manifest(target)


__all__ = ["DataValidationErrors", "SUFFIXES", "expected_file_names", "find_table_files",
           "ingest", "read_table_file"]
