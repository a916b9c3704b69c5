"""Round trip check shared by tests: dataset -> export_csv -> ingest -> same content, new ids."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from boligmix.data.export import export_csv
from boligmix.data.ingest import ingest
from boligmix.data.io import has_table, read_manifest, read_table
from boligmix.data.pseudonymise import ID_COLUMNS, pseudonym_map
from boligmix.data.schema import TABLES


def assert_round_trip(dataset: Path, work: Path, key: bytes) -> dict[str, int]:
    """Export `dataset` to CSV, ingest it with `key` and check every table; return row counts.

    The re-imported ids are pseudonyms of the exported ids: each is mapped back through the key
    (HMAC of the old id) and every table must then equal the original exactly.
    """
    files = export_csv(dataset, work / "csv")
    assert {f.name for f in files} == {f"{t}.csv" for t in TABLES if has_table(dataset, t)}
    manifest = ingest(work / "csv", work / "reimported", key=key, vintage="round trip")
    assert manifest.tables == read_manifest(dataset).tables
    counts = {}
    for name, count in manifest.tables.items():
        original = read_table(dataset, name)
        again = read_table(work / "reimported", name)
        assert again.height == original.height == count, name
        expected = original
        for column in ID_COLUMNS:
            if column not in original.columns:
                continue
            mapping = pseudonym_map(original.get_column(column), key, namespace=column)
            expected = (expected.with_columns(pl.col(column).cast(pl.String).alias("__old"))
                        .join(mapping.rename({"source": "__old", "pseudonym": "__new"}), on="__old",
                              how="left", maintain_order="left")
                        .with_columns(pl.col("__new").alias(column)).drop("__old", "__new"))
            shared = set(again.get_column(column).drop_nulls()) & set(original.get_column(column).drop_nulls())
            assert not shared, (name, column, "a re-imported id equals an exported one")
        assert again.equals(expected), name
        counts[name] = count
    return counts
