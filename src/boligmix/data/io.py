"""Dataset directories: `<table>.parquet` files plus `manifest.json`.

A dataset is written whole or not at all: tables go to a temporary sibling directory that
is renamed into place only when every table and the manifest are written. An existing
dataset at the target is replaced only after the new one is complete.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from boligmix.atomic import atomic_path
from boligmix.data.schema import REQUIRED_TABLES, SCHEMA_VERSION, TABLES
from boligmix.errors import DatasetError

MANIFEST_NAME = "manifest.json"


class Manifest(BaseModel):
    """What a dataset is: schema version, data vintage and how it was produced."""

    model_config = ConfigDict(extra="forbid")

    schema_version: str = SCHEMA_VERSION
    vintage: str = Field(description="Data vintage, e.g. 'synthetic-2024' or 'DST extract 2025-03'.")
    source: str = Field(description="'synthetic' or 'ingest'.")
    seed: int | None = Field(default=None, description="Generator seed (synthetic data).")
    scale: str | None = Field(default=None, description="Generator scale (synthetic data).")
    years: tuple[int, int] | None = Field(default=None, description="First and last register year.")
    created_at: str = Field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))
    tables: dict[str, int] = Field(default_factory=dict, description="Row count per table.")
    notes: dict[str, str] = Field(default_factory=dict)


def table_path(dataset_dir: str | os.PathLike[str], table: str) -> Path:
    if table not in TABLES:
        raise DatasetError(f"unknown table '{table}'; known tables: {', '.join(TABLES)}")
    return Path(dataset_dir) / f"{table}.parquet"


def read_manifest(dataset_dir: str | os.PathLike[str]) -> Manifest:
    path = Path(dataset_dir) / MANIFEST_NAME
    if not path.is_file():
        raise DatasetError(f"{dataset_dir} is not a boligmix dataset: {MANIFEST_NAME} is missing")
    try:
        manifest = Manifest.model_validate_json(path.read_bytes())
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        first = str(exc).splitlines()[1:3]
        raise DatasetError(f"{path} is not a valid boligmix manifest ({'; '.join(s.strip() for s in first)}); "
                           "regenerate the dataset (boligmix synth / ingest) or restore the file") from None
    except OSError as exc:
        raise DatasetError(f"cannot read {path}: {exc.strerror}") from None
    if manifest.schema_version.split(".")[0] != SCHEMA_VERSION.split(".")[0]:
        raise DatasetError(
            f"{dataset_dir} has schema version {manifest.schema_version}; this boligmix reads {SCHEMA_VERSION}"
        )
    return manifest


def has_table(dataset_dir: str | os.PathLike[str], table: str) -> bool:
    return table_path(dataset_dir, table).is_file()


def scan_table(dataset_dir: str | os.PathLike[str], table: str) -> pl.LazyFrame:
    """Lazily scan one table of a dataset (polars LazyFrame)."""
    path = table_path(dataset_dir, table)
    if not path.is_file():
        raise DatasetError(f"{dataset_dir} has no table '{table}' ({path.name} is missing)")
    check_parquet(path)
    return pl.scan_parquet(path)


def check_parquet(path: str | os.PathLike[str]) -> None:
    """Refuse a file whose Parquet footer cannot be read (truncated, damaged, not Parquet), naming it."""
    try:
        pl.read_parquet_schema(path)
    except Exception as exc:  # polars raises several types (ComputeError, OSError, ...) for a broken file
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DatasetError(f"{path} is not a readable Parquet file (truncated or damaged? {reason}); "
                           "regenerate the dataset (boligmix synth / ingest) or restore the file") from None


def read_table(dataset_dir: str | os.PathLike[str], table: str, columns: list[str] | None = None) -> pl.DataFrame:
    """Read one table of a dataset into memory."""
    frame = scan_table(dataset_dir, table)
    return (frame.select(columns) if columns else frame).collect()


def check_out_dir(src_dir: str | os.PathLike[str], out_dir: str | os.PathLike[str], *,
                  source: str = "source directory") -> None:
    """Refuse an output path (directory or file) that is the input `src_dir` (a directory or a file),
    lies inside it or contains it (`source` names what `src_dir` is in the message), before anything
    is written. Symbolic links are resolved and hard links to the same file are caught."""
    src, out = Path(src_dir).resolve(), Path(out_dir).resolve()
    same = out == src
    if not same and out.exists() and src.exists():
        try:
            same = os.path.samefile(out, src)
        except OSError:
            same = False
    if same:
        raise DatasetError(f"--out {out_dir} is the {source} {src_dir}; writing there would replace it; "
                           "write the output elsewhere")
    if src in out.parents:
        raise DatasetError(f"--out {out_dir} lies inside the {source} {src_dir} (its files would be read as "
                           "part of it); write the output elsewhere")
    if out in src.parents:
        raise DatasetError(f"--out {out_dir} contains the {source} {src_dir} (replacing it would delete it); "
                           "write the output elsewhere")


def check_out_paths(out: str | os.PathLike[str],
                    inputs: Mapping[str, str | os.PathLike[str] | None]) -> None:
    """`check_out_dir` for every input of a command: `inputs` maps what an input is ("dataset
    directory", "--areas file", ...) to its path (None: not given)."""
    for source, path in inputs.items():
        if path is not None:
            check_out_dir(path, out, source=source)


def check_new_dir(out_dir: str | os.PathLike[str], *, overwrite: bool) -> None:
    """Refuse to write into an existing non-empty directory (or over a file) unless `overwrite`."""
    target = Path(out_dir)
    if target.exists() and not overwrite and (not target.is_dir() or any(target.iterdir())):
        raise DatasetError(f"{target} exists and is not empty; pass --force to replace its files "
                           "or choose a new directory")


def write_dataset(
    dataset_dir: str | os.PathLike[str],
    tables: Mapping[str, pl.DataFrame],
    manifest: Manifest,
    *,
    overwrite: bool = False,
) -> Path:
    """Write tables and manifest atomically to `dataset_dir`.

    Every required table must be present. Columns are written in schema order.
    """
    target = Path(dataset_dir)
    missing = [t for t in REQUIRED_TABLES if t not in tables]
    if missing:
        raise DatasetError(f"cannot write dataset {target}: tables missing: {', '.join(missing)}")
    unknown = [t for t in tables if t not in TABLES]
    if unknown:
        raise DatasetError(f"cannot write dataset {target}: unknown tables: {', '.join(unknown)}")
    with staged_dir(target, overwrite=overwrite) as staging:
        counts: dict[str, int] = {}
        for name, frame in tables.items():
            ordered = frame.select(list(TABLES[name].column_names))
            ordered.write_parquet(staging / f"{name}.parquet", compression="zstd", statistics=True)
            counts[name] = ordered.height
        final_manifest = manifest.model_copy(update={"tables": counts})
        (staging / MANIFEST_NAME).write_text(final_manifest.model_dump_json(indent=2), encoding="utf-8")
    return target


@contextmanager
def staged_dir(target: str | os.PathLike[str], *, overwrite: bool) -> Iterator[Path]:
    """Yield a staging directory beside `target`; when the block succeeds it replaces `target`
    (`replace_dir`), when it fails it is removed and `target` is left as it was. An existing
    `target` is refused unless `overwrite`."""
    target = Path(target)
    if target.exists() and not overwrite:
        raise DatasetError(f"{target} exists; pass overwrite=True (CLI: --force) to replace it")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        yield staging
        replace_dir(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def replace_dir(staging: Path, target: Path) -> None:
    """Move `staging` to `target`; an old `target` is removed only after the move succeeded."""
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        os.replace(target, old)
        try:
            os.replace(staging, target)
        except BaseException:
            os.replace(old, target)
            raise
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(staging, target)


def write_json(path: str | os.PathLike[str], payload: object) -> None:
    """Write JSON atomically (temporary file, then rename; `boligmix.atomic`)."""
    with atomic_path(path) as tmp, tmp.open("w", encoding="utf-8") as handle:
        json.dump(payload, handle, indent=2, ensure_ascii=False, default=str)


class DatasetWriter:
    """Write a dataset table by table and chunk by chunk, atomically, without holding it in memory.

    Use as a context manager::

        with DatasetWriter(path, manifest, overwrite=False) as writer:
            writer.write("persons", frame)          # appends row groups; call again to add more
            ...

    Chunks go to a staging directory next to the target through `pyarrow.parquet.ParquetWriter`
    (zstd, statistics); columns are put in schema order and every chunk of a table must have the
    first chunk's types. On a clean exit every required table must have been written; the
    manifest (with row counts) is added and the staging directory renamed into place, replacing
    an existing dataset only if `overwrite`. On an exception nothing is left behind.
    """

    def __init__(self, dataset_dir: str | os.PathLike[str], manifest: Manifest, *, overwrite: bool = False,
                 row_group_size: int = 1_000_000) -> None:
        self.target = Path(dataset_dir)
        self.manifest = manifest
        self.overwrite = overwrite
        self.row_group_size = row_group_size
        self._staging: Path | None = None
        self._writers: dict[str, object] = {}
        self._schemas: dict[str, object] = {}
        self.counts: dict[str, int] = {}

    def __enter__(self) -> "DatasetWriter":
        if self.target.exists() and not self.overwrite:
            raise DatasetError(f"{self.target} exists; pass overwrite=True (CLI: --force) to replace it")
        self.target.parent.mkdir(parents=True, exist_ok=True)
        self._staging = Path(tempfile.mkdtemp(prefix=f".{self.target.name}.", suffix=".tmp", dir=self.target.parent))
        return self

    def write(self, table: str, frame: pl.DataFrame) -> None:
        """Append `frame` to `table` (creating the file on the first call)."""
        import pyarrow.parquet as pq

        if self._staging is None:
            raise DatasetError("DatasetWriter.write called outside its 'with' block")
        if table not in TABLES:
            raise DatasetError(f"cannot write dataset {self.target}: unknown table '{table}'")
        missing = [c for c in TABLES[table].column_names if c not in frame.columns]
        if missing:
            raise DatasetError(f"cannot write table {table} of {self.target}: columns missing: {', '.join(missing)}")
        arrow = frame.select(list(TABLES[table].column_names)).to_arrow()
        if table not in self._writers:
            self._schemas[table] = arrow.schema
            self._writers[table] = pq.ParquetWriter(self._staging / f"{table}.parquet", arrow.schema,
                                                    compression="zstd", write_statistics=True)
        elif arrow.schema != self._schemas[table]:
            try:
                arrow = arrow.cast(self._schemas[table])
            except Exception as exc:  # pyarrow raises several types here
                raise DatasetError(f"chunk of table {table} does not match its first chunk's types: {exc}") from exc
        if arrow.num_rows:
            self._writers[table].write_table(arrow, row_group_size=self.row_group_size)
        self.counts[table] = self.counts.get(table, 0) + arrow.num_rows

    def __exit__(self, exc_type, exc, tb) -> None:
        staging = self._staging
        assert staging is not None
        try:
            for writer in self._writers.values():
                writer.close()
            if exc_type is None:
                missing = [t for t in REQUIRED_TABLES if t not in self._writers]
                if missing:
                    raise DatasetError(f"cannot write dataset {self.target}: tables missing: {', '.join(missing)}")
                final_manifest = self.manifest.model_copy(update={"tables": dict(self.counts)})
                (staging / MANIFEST_NAME).write_text(final_manifest.model_dump_json(indent=2), encoding="utf-8")
                replace_dir(staging, self.target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        if exc_type is not None:
            shutil.rmtree(staging, ignore_errors=True)
