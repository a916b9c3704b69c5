"""`export_csv` and the ingest round trip on the hand-made extract."""

from __future__ import annotations

import pytest

from boligmix.data.export import export_csv
from boligmix.data.ingest import ingest
from boligmix.errors import DatasetError
from register_extract import write_extract
from roundtrip import assert_round_trip

KEY = b"first-key-0123456789"


def test_ingest_export_ingest_round_trip(tmp_path):
    write_extract(tmp_path / "src", optional=True)
    ingest(tmp_path / "src", tmp_path / "ds", key=KEY, vintage="v")
    counts = assert_round_trip(tmp_path / "ds", tmp_path, key=b"second-key-0123456789")
    assert counts["persons"] == 3 and counts["lettings"] == 1 and counts["applicants"] == 2


def test_export_writes_iso_dates_and_empty_nulls(tmp_path):
    write_extract(tmp_path / "src")
    ingest(tmp_path / "src", tmp_path / "ds", key=KEY, vintage="v")
    export_csv(tmp_path / "ds", tmp_path / "csv")
    residences = (tmp_path / "csv" / "residences.csv").read_text().splitlines()
    assert residences[0] == "person_id,household_id,dwelling_id,move_in,move_out,end_reason"
    assert residences[1].endswith(",2015-01-01,2021-06-01,")
    assert (tmp_path / "csv" / "countries.csv").read_text().splitlines()[1] == "DNK,Danmark,true,dst-2019"


def test_export_refuses_to_overwrite_and_needs_a_dataset(tmp_path):
    write_extract(tmp_path / "src")
    ingest(tmp_path / "src", tmp_path / "ds", key=KEY, vintage="v")
    export_csv(tmp_path / "ds", tmp_path / "csv")
    with pytest.raises(DatasetError, match="exists"):
        export_csv(tmp_path / "ds", tmp_path / "csv")
    export_csv(tmp_path / "ds", tmp_path / "csv", overwrite=True)
    with pytest.raises(DatasetError, match="not a boligmix dataset"):
        export_csv(tmp_path / "src", tmp_path / "csv2")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["csv", "ds", "src"]
