"""`boligmix.data.ingest`: a hand-made register extract imports; every bad input is named."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import polars as pl
import pytest

from boligmix.data import io as dataset_io
from boligmix.data.ingest import ingest
from boligmix.data.io import read_manifest, read_table
from boligmix.data.schema import REQUIRED_TABLES, TABLES
from boligmix.data.validate import POLARS_DTYPES, DataValidationErrors
from boligmix.errors import ConfigurationError, DatasetError, DataValidationError
from register_extract import EXTRACT, PERSON_IDS, replace_line, write_extract

KEY = b"test-key-0123456789abcdef"


def _pseudonym(namespace: str, source: str, key: bytes = KEY) -> int:
    digest = hmac.new(key, f"{namespace}\x1f{source}".encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") % (2**63 - 1) + 1


def _ingest(tmp_path: Path, **kw) -> Path:
    out = tmp_path / "dataset"
    ingest(tmp_path / "src", out, key=KEY, vintage="test extract", **kw)
    return out


def test_valid_extract_imports_with_schema_types_and_pseudonyms(tmp_path):
    write_extract(tmp_path / "src")
    out = _ingest(tmp_path)
    manifest = read_manifest(out)
    assert manifest.source == "ingest"
    assert manifest.vintage == "test extract"
    assert manifest.years == (2022, 2023)
    assert manifest.tables == {name: len(EXTRACT[name].splitlines()) - 1 for name in REQUIRED_TABLES}
    for name in REQUIRED_TABLES:
        frame = read_table(out, name)
        assert frame.columns == list(TABLES[name].column_names)
        for column in TABLES[name].columns:
            assert frame.schema[column.name] == POLARS_DTYPES[column.dtype], (name, column.name)
    persons = read_table(out, "persons")
    assert persons["person_id"].to_list() == [_pseudonym("person_id", p) for p in PERSON_IDS]
    residences = read_table(out, "residences")
    assert set(residences["person_id"]) <= set(persons["person_id"])
    assert set(residences["dwelling_id"]) <= set(read_table(out, "dwellings")["dwelling_id"])
    assert residences["household_id"].to_list()[2] == _pseudonym("household_id", "H-3")
    assert residences["move_out"].null_count() == 3
    py = read_table(out, "person_years")
    assert py["in_education"].to_list() == [False, False, False, True]
    assert py["gross_income_dkk"].to_list() == [250000.0, 310000.5, 0.0, 0.0]
    dwellings = read_table(out, "dwellings")
    assert dwellings.row(2, named=True)["department_id"] is None
    assert manifest.notes["pseudonymised_columns"] == "person_id, household_id, dwelling_id"


def test_optional_tables_are_imported_and_ids_linked(tmp_path):
    write_extract(tmp_path / "src", optional=True)
    out = _ingest(tmp_path)
    applicants = read_table(out, "applicants")
    lettings = read_table(out, "lettings")
    assert applicants["applicant_id"].to_list() == [_pseudonym("applicant_id", "77"),
                                                   _pseudonym("applicant_id", "78")]
    assert applicants["household_id"].to_list() == [_pseudonym("household_id", "H-2"), None]
    assert lettings["letting_id"].to_list() == [_pseudonym("letting_id", "5001")]
    # The household of the letting is the same pseudonym as in residences.
    residences = read_table(out, "residences")
    assert lettings["household_id"][0] == residences["household_id"][1]


def test_parquet_files_with_native_types_give_the_same_dataset(tmp_path):
    write_extract(tmp_path / "src")
    csv_out = _ingest(tmp_path)
    typed_src = tmp_path / "typed"
    typed_src.mkdir()
    for name in REQUIRED_TABLES:
        frame = read_table(csv_out, name)
        if name == "persons":  # integers for ids are accepted too: 17 and "17" are the same id
            frame = pl.DataFrame({"person_id": [1, 2, 3]}).hstack(frame.drop("person_id"))
        frame.write_parquet(typed_src / f"{name}.parquet")
    with pytest.raises(DataValidationError) as info:  # person ids no longer match: caught
        ingest(typed_src, tmp_path / "typed-out", key=KEY, vintage="v")
    assert info.value.path == "person_years.parquet" and info.value.column == "person_id"
    # Without the change the typed files import and re-pseudonymise the ids consistently.
    read_table(csv_out, "persons").write_parquet(typed_src / "persons.parquet")
    ingest(typed_src, tmp_path / "typed-out", key=KEY, vintage="v")
    persons = read_table(tmp_path / "typed-out", "persons")
    assert persons["person_id"].to_list() == [
        _pseudonym("person_id", str(p)) for p in read_table(csv_out, "persons")["person_id"]]
    assert persons.drop("person_id").equals(read_table(csv_out, "persons").drop("person_id"))


def test_semicolon_separated_csv_is_read(tmp_path):
    text = EXTRACT["regions"].replace(",", ";")
    write_extract(tmp_path / "src", changes={"regions": text})
    out = _ingest(tmp_path)
    assert read_table(out, "regions")["region_code"].to_list() == [1084, 1085]


def test_spreadsheet_style_csv_with_bom_crlf_and_semicolons_is_read(tmp_path):
    src = write_extract(tmp_path / "src")
    text = EXTRACT["municipalities"].replace(",", ";").replace("\n", "\r\n")
    (src / "municipalities.csv").write_bytes("\ufeff".encode() + text.encode("utf-8"))
    out = _ingest(tmp_path)
    frame = read_table(out, "municipalities")
    assert frame["municipality_name"].to_list() == ["København", "Frederiksberg"]
    assert frame["region_code"].to_list() == [1084, 1084]


def test_a_file_that_is_not_utf8_is_named(tmp_path):
    src = write_extract(tmp_path / "src")
    (src / "areas.csv").write_bytes(EXTRACT["areas"].encode("latin-1"))
    with pytest.raises(DataValidationError) as info:
        _ingest(tmp_path)
    assert info.value.path == "areas.csv" and "not UTF-8" in str(info.value)


def _error(tmp_path: Path, changes: dict[str, str | None], extra_files: dict[str, str] | None = None
           ) -> DataValidationError:
    src = write_extract(tmp_path / "src", changes=changes)
    for name, text in (extra_files or {}).items():
        (src / name).write_text(text)
    with pytest.raises(DataValidationError) as info:
        _ingest(tmp_path)
    assert not (tmp_path / "dataset").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    return info.value


BAD_INPUTS = {
    "missing column": (
        {"persons": EXTRACT["persons"].replace(",sex", "").replace(",F,", ",").replace(",M,", ",")},
        ("persons.csv", None, "sex"), "required column is missing"),
    "unexpected column": (
        {"regions": "region_code,region_name,note\n1084,Region Hovedstaden,x\n1085,Region Sjælland,y\n"},
        ("regions.csv", None, "note"), "unexpected column"),
    "wrong int": (
        {"person_years": replace_line("person_years", 2,
                                      "010190-1234,2O23,gymnasial,dk_registered,0,250000,1")},
        ("person_years.csv", 2, "year"), "'2O23' cannot be read; expected a whole number"),
    "wrong float": (
        {"dwellings": replace_line("dwellings", 1, "D-1001,101,almen,O1-1,A1,family,3,\"75,5\",6200")},
        ("dwellings.csv", 1, "floor_area_m2"), "'75,5' cannot be read"),
    "wrong bool": (
        {"countries": replace_line("countries", 2, "TUR,Tyrkiet,nej,dst-2019")},
        ("countries.csv", 2, "western"), "expected one of 0, 1, true, false"),
    "wrong date": (
        {"persons": replace_line("persons", 3, "150712-0001,15-07-2012,F,efterkommer,TUR")},
        ("persons.csv", 3, "birth_date"), "expected a date written YYYY-MM-DD"),
    "impossible date": (
        {"residences": replace_line("residences", 4, "150712-0001,H-3,D-1002,2012-02-30,,")},
        ("residences.csv", 4, "move_in"), "'2012-02-30' cannot be read"),
    "null in non-nullable": (
        {"persons": replace_line("persons", 2, "020285-4321,1985-02-02,,indvandrer,TUR")},
        ("persons.csv", 2, "sex"), "missing value"),
    "missing id": (
        {"labour": replace_line("labour", 3, ",2023,other,0.25")},
        ("labour.csv", 3, "person_id"), "missing value"),
    "disallowed value": (
        {"persons": replace_line("persons", 1, "010190-1234,1990-01-01,K,dansk,DNK")},
        ("persons.csv", 1, "sex"), "value 'K' is not allowed; expected one of: M, F"),
    "below minimum": (
        {"dwellings": replace_line("dwellings", 3, "D-2001,147,ejer,,,,0,140,")},
        ("dwellings.csv", 3, "rooms"), "below the minimum 1"),
    "above maximum": (
        {"labour": replace_line("labour", 2, "020285-4321,2023,kontanthjaelp,1.75")},
        ("labour.csv", 2, "fte"), "above the maximum 1"),
    "duplicate key": (
        {"labour": EXTRACT["labour"] + "020285-4321,2023,kontanthjaelp,0.1\n"},
        ("labour.csv", 4, "person_id, year, attachment"), "rows 2 and 4 have the same key"),
    "dangling foreign key": (
        {"residences": replace_line("residences", 3, "020285-4321,H-3,D-9999,2010-03-01,,")},
        ("residences.csv", 3, "dwelling_id"),
        "'D-9999' has no match in dwellings.dwelling_id (dwellings.csv)"),
    "residence of an unknown person": (
        {"residences": replace_line("residences", 4, "999999-0000,H-3,D-1002,2012-07-15,,")},
        ("residences.csv", 4, "person_id"), "'999999-0000' has no match in persons.person_id (persons.csv)"),
    "dangling person": (
        {"convictions": "person_id,year,law,count\n999999-9999,2022,straffeloven,1\n"},
        ("convictions.csv", 1, "person_id"), "no match in persons.person_id"),
    "empty file": (
        {"convictions": ""}, ("convictions.csv", None, None), "the file is empty (no header line)"),
    "header only": (
        {"convictions": "person_id,year,law,count\n"}, ("convictions.csv", None, None),
        "the file has no data rows"),
    "ragged row": (
        {"regions": "region_code,region_name\n1084,Region Hovedstaden\n1085,Region,Sjælland\n"},
        ("regions.csv", 2, None), "the row has 3 fields; the header has 2"),
    "missing required table": (
        {"labour": None}, ("labour.csv", None, None), "required table missing"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS), ids=list(BAD_INPUTS))
def test_bad_input_names_file_row_and_column(tmp_path, case):
    changes, (path, row, column), fragment = BAD_INPUTS[case]
    error = _error(tmp_path, changes)
    assert (error.path, error.row, error.column) == (path, row, column), str(error)
    assert fragment in str(error)
    assert f"{path}" in str(error)
    if row is not None:
        assert f"row {row}" in str(error)


def test_unknown_file_is_an_error_listing_the_expected_names(tmp_path):
    error = _error(tmp_path, {}, extra_files={"notes.txt": "hello"})
    assert (error.path, error.row, error.column) == ("notes.txt", None, None)
    assert "unknown file notes.txt" in str(error)
    assert "persons.csv" in str(error) and "lettings.parquet" in str(error)


def test_a_missing_source_directory_is_an_error(tmp_path):
    with pytest.raises(DatasetError, match="is not a directory"):
        ingest(tmp_path / "nowhere", tmp_path / "out", key=KEY, vintage="v")


def test_the_same_table_twice_is_an_error(tmp_path):
    write_extract(tmp_path / "src")
    regions = pl.DataFrame({"region_code": [1084], "region_name": ["x"]})
    regions.write_parquet(tmp_path / "src" / "regions.parquet")
    with pytest.raises(DataValidationError, match="given twice"):
        _ingest(tmp_path)


def test_many_problems_are_collected_up_to_the_limit(tmp_path):
    bad_years = "\n".join(f"010190-1234,19{i:02d},gymnasial,dk_registered,0,1,1" for i in range(30))
    header = EXTRACT["person_years"].splitlines()[0]
    error = _error(tmp_path, {"person_years": f"{header}\n{bad_years}\n",
                              "persons": replace_line("persons", 1, "010190-1234,1990-01-01,K,dansk,DNK")})
    assert isinstance(error, DataValidationErrors)
    assert len(error.errors) == 20 and error.truncated
    assert "20 or more data problems" in str(error)
    first = error.errors[0]
    assert (error.path, error.row, error.column) == (first.path, first.row, first.column)
    assert (first.path, first.row, first.column) == ("persons.csv", 1, "sex")
    assert [e.row for e in error.errors[1:]] == list(range(1, 20))
    assert all(e.column == "year" and "below the minimum 1980" in e.reason for e in error.errors[1:])


def test_max_errors_is_a_switch(tmp_path):
    write_extract(tmp_path / "src", changes={
        "persons": EXTRACT["persons"].replace(",F,", ",X,")})
    with pytest.raises(DataValidationErrors) as info:
        _ingest(tmp_path, max_errors=1)
    assert len(info.value.errors) == 1 and info.value.truncated
    assert info.value.row == 1


def test_failed_import_leaves_an_existing_dataset_byte_identical(tmp_path):
    write_extract(tmp_path / "src")
    out = _ingest(tmp_path)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    write_extract(tmp_path / "src", changes={"persons": EXTRACT["persons"].replace("dansk", "svensk")})
    with pytest.raises(DataValidationError):
        _ingest(tmp_path, overwrite=True)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dataset", "src"]


def test_failure_while_writing_leaves_an_existing_dataset_byte_identical(tmp_path, monkeypatch):
    write_extract(tmp_path / "src")
    out = _ingest(tmp_path)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    calls = []

    def failing_write(self, path, *args, **kwargs):
        calls.append(path)
        if len(calls) == 5:
            raise OSError("disk full")
        return original(self, path, *args, **kwargs)

    original = pl.DataFrame.write_parquet
    monkeypatch.setattr(pl.DataFrame, "write_parquet", failing_write)
    with pytest.raises(OSError, match="disk full"):
        _ingest(tmp_path, overwrite=True)
    assert len(calls) == 5
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dataset", "src"]


def test_existing_output_needs_overwrite(tmp_path):
    write_extract(tmp_path / "src")
    _ingest(tmp_path)
    with pytest.raises(DatasetError, match="exists"):
        _ingest(tmp_path)
    manifest = ingest(tmp_path / "src", tmp_path / "dataset", key=KEY, vintage="second", overwrite=True)
    assert manifest.vintage == "second" and read_manifest(tmp_path / "dataset").vintage == "second"


def test_a_short_key_is_refused(tmp_path):
    write_extract(tmp_path / "src")
    with pytest.raises(ConfigurationError, match="at least 16 bytes"):
        ingest(tmp_path / "src", tmp_path / "out", key=b"short", vintage="v")
    assert not (tmp_path / "out").exists()


def test_progress_is_reported(tmp_path):
    write_extract(tmp_path / "src")
    steps: list[tuple[str, float]] = []
    _ingest(tmp_path, on_progress=lambda step, fraction: steps.append((step, fraction)))
    fractions = [f for _, f in steps]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert any(step == "read persons.csv" for step, _ in steps)


def test_write_dataset_is_what_ingest_uses(tmp_path, monkeypatch):
    """The dataset is written through io.write_dataset (atomic), not file by file."""
    seen = []
    original = dataset_io.write_dataset

    def spy(target, tables, manifest, *, overwrite=False):
        seen.append(sorted(tables))
        return original(target, tables, manifest, overwrite=overwrite)

    monkeypatch.setattr("boligmix.data.ingest.write_dataset", spy)
    write_extract(tmp_path / "src")
    _ingest(tmp_path)
    assert seen == [sorted(REQUIRED_TABLES)]
