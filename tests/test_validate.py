"""`boligmix.data.validate` on frames: text parsing, typed (Parquet) inputs, limits, properties."""

from __future__ import annotations

import io
from datetime import date, datetime

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from boligmix.data.schema import CONVICTIONS, DWELLINGS, LABOUR, PERSON_YEARS, PERSONS
from boligmix.data.validate import DataValidationErrors, validate_table, validate_tables
from boligmix.errors import DataValidationError


def _persons(**columns):
    base = {"person_id": ["1", "2"], "birth_date": ["1990-01-01", "2000-12-31"], "sex": ["F", "M"],
            "origin": ["dansk", "dansk"], "country_code": ["DNK", "DNK"]}
    return pl.DataFrame({**base, **columns})


def test_text_is_stripped_and_blank_is_missing():
    out = validate_table(_persons(sex=[" F ", "M"], birth_date=[" 1990-01-01", "2000-12-31 "]),
                         PERSONS, path="p.csv")
    assert out["sex"].to_list() == ["F", "M"]
    assert out["birth_date"].to_list() == [date(1990, 1, 1), date(2000, 12, 31)]
    with pytest.raises(DataValidationError) as info:
        validate_table(_persons(sex=["F", "  "]), PERSONS, path="p.csv")
    assert (info.value.row, info.value.column) == (2, "sex")
    assert "missing value" in str(info.value)


def test_dates_must_be_iso_with_two_digit_month_and_day():
    with pytest.raises(DataValidationError) as info:
        validate_table(_persons(birth_date=["1990-1-01", "2000-12-31"]), PERSONS, path="p.csv")
    assert (info.value.row, info.value.column) == (1, "birth_date")


def test_floats_reject_nan_and_infinity():
    frame = pl.DataFrame({"person_id": ["1", "1", "1"], "year": ["2020", "2021", "2022"],
                          "attachment": ["other"] * 3, "fte": ["0.5", "nan", "inf"]})
    with pytest.raises(DataValidationErrors) as info:
        validate_table(frame, LABOUR, path="labour.csv")
    assert [(e.row, e.column) for e in info.value.errors] == [(2, "fte"), (3, "fte")]


def test_typed_parquet_columns_convert_only_without_loss():
    frame = pl.DataFrame({
        "person_id": [1, 2, 3],
        "year": [2020.0, 2021.5, 2022.0],  # 2021.5 is not a whole year
        "highest_education": ["uoplyst"] * 3,
        "education_source": pl.Series(["none"] * 3, dtype=pl.Categorical),
        "in_education": [0, 1, 2],  # 2 is not a boolean
        "gross_income_dkk": [1, 2, 3],  # integers are fine for a float column
        "taxpayer": [True, False, None],
    })
    with pytest.raises(DataValidationErrors) as info:
        validate_table(frame, PERSON_YEARS, path="person_years.parquet")
    assert [(e.row, e.column) for e in info.value.errors] == [
        (2, "year"), (3, "in_education"), (3, "taxpayer")]
    assert "'2021.5' cannot be read" in str(info.value)
    good = frame.with_columns(year=pl.Series([2020.0, 2021.0, 2022.0]), in_education=pl.Series([0, 1, 1]),
                              taxpayer=pl.Series([True, False, True]))
    out = validate_table(good, PERSON_YEARS, path="person_years.parquet")
    assert out.schema["year"] == pl.Int64 and out["in_education"].to_list() == [False, True, True]
    assert out["person_id"].dtype == pl.Int64  # not an id column here: a plain int64


def test_datetimes_at_midnight_are_dates_others_are_not():
    frame = _persons(birth_date=[datetime(1990, 1, 1), datetime(2000, 1, 1, 12, 30)])
    with pytest.raises(DataValidationError) as info:
        validate_table(frame, PERSONS, path="persons.parquet")
    assert (info.value.row, info.value.column) == (2, "birth_date")


def test_id_columns_keep_source_text_and_accept_integers():
    out = validate_table(_persons(person_id=[" 010190-1234", "2"]), PERSONS, path="p",
                         id_columns=["person_id"])
    assert out["person_id"].to_list() == ["010190-1234", "2"]
    out = validate_table(_persons(person_id=[10, 20]), PERSONS, path="p", id_columns=["person_id"])
    assert out["person_id"].to_list() == ["10", "20"]
    with pytest.raises(DataValidationError) as info:
        validate_table(_persons(person_id=[10.0, 20.5]), PERSONS, path="p", id_columns=["person_id"])
    assert (info.value.row, info.value.column) == (2, "person_id")


def test_duplicate_key_names_every_row_with_it():
    frame = _persons(person_id=["7", "7"]).vstack(_persons(person_id=["8", "7"]))
    with pytest.raises(DataValidationError) as info:
        validate_table(frame, PERSONS, path="persons.csv", id_columns=["person_id"])
    assert (info.value.row, info.value.column) == (2, "person_id")
    assert "rows 1, 2 and 4 have the same key" in str(info.value)


def test_references_skip_nulls_and_tables_not_in_the_import():
    dwellings = pl.DataFrame({
        "dwelling_id": ["1", "2"], "municipality_code": ["101", "999"], "tenure": ["ejer", "ejer"],
        "department_id": [None, None], "area_id": [None, None], "almen_type": [None, None],
        "rooms": ["2", "3"], "floor_area_m2": ["50", "60"], "monthly_rent_dkk": [None, None]})
    out = validate_tables({"dwellings": dwellings}, {"dwellings": "dwellings.csv"},
                          id_columns=["dwelling_id"])
    assert out["dwellings"].height == 2
    municipalities = pl.DataFrame({"municipality_code": ["101"], "municipality_name": ["Kbh"],
                                   "region_code": ["1084"]})
    with pytest.raises(DataValidationError) as info:
        validate_tables({"municipalities": municipalities, "dwellings": dwellings},
                        {"municipalities": "m.csv", "dwellings": "d.csv"})
    assert (info.value.path, info.value.row, info.value.column) == ("d.csv", 2, "municipality_code")
    assert "no match in municipalities.municipality_code (m.csv)" in str(info.value)


rows = st.fixed_dictionaries({
    "dwelling_id": st.integers(1, 2**62),
    "municipality_code": st.integers(101, 999),
    "tenure": st.sampled_from(DWELLINGS.column("tenure").allowed),
    "department_id": st.none() | st.text("ABC-0123", min_size=1, max_size=6),
    "area_id": st.none() | st.text("xyz9", min_size=1, max_size=4),
    "almen_type": st.none() | st.sampled_from(DWELLINGS.column("almen_type").allowed),
    "rooms": st.integers(1, 20),
    "floor_area_m2": st.floats(5, 1000),
    "monthly_rent_dkk": st.none() | st.floats(0, 1e6),
})


@settings(max_examples=40, deadline=None)
@given(st.lists(rows, min_size=1, max_size=15, unique_by=lambda r: r["dwelling_id"]))
def test_valid_rows_written_as_csv_read_back_equal(records):
    """Property: any valid table, written as CSV text and validated, is the same table."""
    typed = pl.DataFrame(records, schema={c.name: {"int64": pl.Int64, "float64": pl.Float64,
                                                   "string": pl.String}[c.dtype] for c in DWELLINGS.columns})
    text = pl.read_csv(io.StringIO(typed.write_csv()), infer_schema=False)
    out = validate_table(text, DWELLINGS, path="dwellings.csv")
    assert out.equals(typed)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(alphabet="0123456789+-., _eEx\t\u0663\uff15\u00a0", min_size=1, max_size=8),
                min_size=1, max_size=10))
def test_an_int_column_accepts_exactly_the_whole_numbers(values):
    """Property: a text value passes an int64 column iff Python reads it as a plain integer."""
    frame = pl.DataFrame({"person_id": [str(i) for i in range(len(values))], "year": ["2000"] * len(values),
                          "law": ["straffeloven"] * len(values), "count": values})

    def whole(text: str) -> bool:
        text = text.strip()
        digits = text[1:] if text[:1] in "+-" else text
        return digits.isascii() and digits.isdigit() and int(text) >= 1  # minimum of `count` is 1

    expected_bad = [i + 1 for i, v in enumerate(values) if not whole(v)]
    try:
        validate_table(frame, CONVICTIONS, path="c.csv", max_errors=100)
        bad = []
    except DataValidationErrors as exc:
        bad = sorted({e.row for e in exc.errors})
    assert bad == expected_bad
