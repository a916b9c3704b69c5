"""The --extra indicator CSV: comma or Danish semicolon format, errors naming file, row and column."""

from __future__ import annotations

import pytest

from boligmix.errors import DataValidationError
from boligmix.monitor.extra import read_extra


def test_reads_comma_and_danish_csv(tmp_path) -> None:
    a = tmp_path / "a.csv"
    a.write_text("unit_id,year,indicator,value\nA1,2024,tryghed,81.5\n", encoding="utf-8")
    b = tmp_path / "b.csv"
    b.write_text("unit_id;year;indicator;value\nA1;2024;tryghed;1.081,5\n", encoding="latin-1")
    assert read_extra(a).row(0) == ("A1", 2024, "tryghed", 81.5)
    assert read_extra(b).row(0) == ("A1", 2024, "tryghed", 1081.5)


@pytest.mark.parametrize("body, row, column", [
    ("unit_id,year,indicator\nA1,2024,x\n", None, "value"),
    ("unit_id,year,indicator,value\nA1,2024,x,1\nA2,20x4,x,2\n", 2, "year"),
    ("unit_id,year,indicator,value\nA1,2024,x,1\nA1,2024,x,2\n", 1, "unit_id"),
    ("unit_id,year,indicator,value\nA1,2024,x,\n", 1, "value"),
    ("unit_id,year,indicator,value\nA1,2024,x,høj\n", 1, "value"),
])
def test_bad_files_name_row_and_column(tmp_path, body, row, column) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(DataValidationError) as info:
        read_extra(path)
    assert (info.value.path, info.value.row, info.value.column) == (str(path), row, column)
