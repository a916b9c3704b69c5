"""Benchmark: validate a 5-million-row persons table read as CSV text, pseudonymise 5 million ids.

Run: PYTHONPATH=src python benchmarks/bench_ingest.py [--rows N] [--compare-python] [--extract DIR]
With --extract, also time a whole `ingest` of the CSV/Parquet extract in DIR (e.g. a synthetic
dataset exported with `boligmix.data.export.export_csv`). Prints the time of each step, its target and the ratio time/target (below 1 meets the target),
plus the peak resident memory of the process.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import polars as pl

from boligmix.data.ingest import ingest
from boligmix.data.pseudonymise import ID_COLUMNS, _hmac_ids_duckdb, _hmac_ids_python, pseudonym_map
from boligmix.data.schema import PERSONS
from boligmix.data.validate import validate_table

TARGET_VALIDATE_S = 30.0
"""Validation of 5 million persons (text columns) should take under 30 s."""
TARGET_PSEUDONYMISE_S = 30.0
"""Pseudonymising 5 million distinct ids should take under 30 s."""


def persons_as_text(rows: int) -> pl.DataFrame:
    """A valid persons table as `pl.read_csv(..., infer_schema=False)` gives it: all text."""
    i = pl.int_range(0, rows, eager=True)
    frame = pl.DataFrame({"i": i}).select(
        (pl.lit("P") + pl.col("i").cast(pl.String).str.zfill(9)).alias("person_id"),
        (pl.date(1930, 1, 1) + pl.duration(days=(pl.col("i") * 7919) % 30000)).dt.strftime("%Y-%m-%d")
        .alias("birth_date"),
        pl.when(pl.col("i") % 2 == 0).then(pl.lit("F")).otherwise(pl.lit("M")).alias("sex"),
        pl.when(pl.col("i") % 10 == 0).then(pl.lit("indvandrer")).otherwise(pl.lit("dansk")).alias("origin"),
        pl.when(pl.col("i") % 10 == 0).then(pl.lit("TUR")).otherwise(pl.lit("DNK")).alias("country_code"),
    )
    return frame


def _report(label: str, seconds: float, target: float, scale: float) -> None:
    scaled_target = target * scale
    print(f"{label}: {seconds:.2f} s (target {scaled_target:.1f} s, ratio {seconds / scaled_target:.2f})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--extract", type=Path, help="time a whole ingest of this extract directory")
    parser.add_argument("--compare-python", action="store_true",
                        help="also time the pure-Python HMAC loop on the same ids")
    args = parser.parse_args()
    scale = args.rows / 5_000_000
    raw = persons_as_text(args.rows)
    print(f"persons rows: {raw.height:,}  polars threads: {pl.thread_pool_size()}")

    start = time.perf_counter()
    typed = validate_table(raw, PERSONS, path="persons.csv", id_columns=ID_COLUMNS)
    validate_s = time.perf_counter() - start
    _report("validate persons (text -> typed, all checks)", validate_s, TARGET_VALIDATE_S, scale)
    print(f"  rows/s: {raw.height / validate_s:,.0f}")

    start = time.perf_counter()
    mapping = pseudonym_map(typed.get_column("person_id"), b"benchmark-key-0123456789", namespace="person_id")
    pseudo_s = time.perf_counter() - start
    _report("pseudonymise distinct person ids (HMAC-SHA256 + collision check)", pseudo_s,
            TARGET_PSEUDONYMISE_S, scale)
    print(f"  ids/s: {mapping.height / pseudo_s:,.0f}")
    if args.compare_python:
        start = time.perf_counter()
        _hmac_ids_python(mapping.get_column("source"), b"benchmark-key-0123456789", "person_id")
        python_s = time.perf_counter() - start
        start = time.perf_counter()
        _hmac_ids_duckdb(mapping.get_column("source"), b"benchmark-key-0123456789", "person_id")
        duck_s = time.perf_counter() - start
        print(f"HMAC only: python loop {python_s:.2f} s, duckdb {duck_s:.2f} s, "
              f"ratio {python_s / duck_s:.2f}")
    if args.extract:
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            manifest = ingest(args.extract, Path(tmp) / "dataset", key=b"benchmark-key-0123456789",
                              vintage="benchmark")
            ingest_s = time.perf_counter() - start
        total = sum(manifest.tables.values())
        print(f"ingest {args.extract} ({total:,} rows in {len(manifest.tables)} tables): {ingest_s:.2f} s, "
              f"{total / ingest_s:,.0f} rows/s")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory: {peak_mb:,.0f} MB")


if __name__ == "__main__":
    main()
