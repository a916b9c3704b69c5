"""`boligmix.data.io.DatasetWriter`: chunked, atomic dataset writing."""

from __future__ import annotations

import polars as pl
import pytest

from boligmix.data.io import DatasetWriter, Manifest, read_manifest, read_table
from boligmix.data.schema import REQUIRED_TABLES
from boligmix.errors import DatasetError
from synth_data import small_tables

MANIFEST = Manifest(source="synthetic", vintage="test", seed=1, scale="small", years=(2004, 2024))


def _write_all(writer: DatasetWriter, tables: dict[str, pl.DataFrame], chunks: int = 3) -> None:
    for name in REQUIRED_TABLES:
        frame = tables[name]
        step = max(frame.height // chunks, 1)
        for start in range(0, frame.height, step):
            writer.write(name, frame.slice(start, step))


def test_chunks_are_appended_and_read_back_whole(tmp_path):
    tables = small_tables()
    with DatasetWriter(tmp_path / "ds", MANIFEST) as writer:
        _write_all(writer, tables)
    for name in ("persons", "labour", "residences"):
        assert read_table(tmp_path / "ds", name).equals(tables[name])
    manifest = read_manifest(tmp_path / "ds")
    assert manifest.tables["labour"] == tables["labour"].height and manifest.vintage == "test"


def test_an_error_inside_the_block_leaves_nothing(tmp_path):
    tables = small_tables()
    with pytest.raises(RuntimeError):
        with DatasetWriter(tmp_path / "ds", MANIFEST) as writer:
            writer.write("persons", tables["persons"])
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_missing_tables_fail_and_leave_nothing(tmp_path):
    with pytest.raises(DatasetError, match="tables missing"):
        with DatasetWriter(tmp_path / "ds", MANIFEST) as writer:
            writer.write("regions", small_tables()["regions"])
    assert list(tmp_path.iterdir()) == []


def test_a_chunk_with_other_types_is_refused(tmp_path):
    regions = small_tables()["regions"]
    with pytest.raises(DatasetError, match="does not match"):
        with DatasetWriter(tmp_path / "ds", MANIFEST) as writer:
            writer.write("regions", regions)
            writer.write("regions", regions.with_columns(pl.col("region_code").cast(pl.String) + "x"))
    assert list(tmp_path.iterdir()) == []


def test_existing_dataset_is_replaced_only_with_overwrite(tmp_path):
    tables = small_tables()
    target = tmp_path / "ds"
    with DatasetWriter(target, MANIFEST) as writer:
        _write_all(writer, tables, chunks=1)
    with pytest.raises(DatasetError, match="exists"):
        with DatasetWriter(target, MANIFEST) as writer:
            pass
    with DatasetWriter(target, MANIFEST.model_copy(update={"vintage": "second"}), overwrite=True) as writer:
        _write_all(writer, tables, chunks=2)
    assert read_manifest(target).vintage == "second"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ds"]


def test_unknown_table_and_missing_column_are_errors(tmp_path):
    with pytest.raises(DatasetError, match="unknown table"):
        with DatasetWriter(tmp_path / "ds", MANIFEST) as writer:
            writer.write("nope", pl.DataFrame({"a": [1]}))
    with pytest.raises(DatasetError, match="columns missing"):
        with DatasetWriter(tmp_path / "ds2", MANIFEST) as writer:
            writer.write("regions", pl.DataFrame({"region_code": [1081]}))
