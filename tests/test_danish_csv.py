"""What Danish Excel writes ("CSV (semikolonsepareret)": `;`, decimal comma, thousands point,
Windows-1252, CRLF, trailing `;;;` rows) is read by the area-level commands exactly as the same
values written with `,` and `.`; a number that could be read two ways is refused."""

from __future__ import annotations

import polars as pl
import pytest
from typer.testing import CliRunner

from boligmix.cli.main import app
from boligmix.data.csvtext import Dialect, parse_numbers, read_text_csv
from boligmix.errors import DataValidationError

runner = CliRunner()

HEADER = ("area_id,year,residents,pct_non_western,pct_outside_work_edu,pct_convicted,conviction_ratio,"
          "pct_basic_education,income_pct_of_region")
ROWS = ["Ærtebjerg,2021,1500,60,45,,3.5,55,50.25", "Østergården,2021,2000,35,35,,2.5,55,60",
        "Åparken,2020,1437,60.5,45,3.1,3.5,55,50"]


def _danish(lines: list[str]) -> bytes:
    """`;` between fields, decimal comma, thousands point on the resident counts, Windows-1252, CRLF,
    and the empty rows Excel leaves below a table."""
    out = []
    for line in lines:
        cells = line.split(",")
        if cells[2].isdigit() and len(cells[2]) > 3:
            cells[2] = f"{int(cells[2]):,}".replace(",", ".")
        out.append(";".join(c.replace(".", ",") if i > 2 else c for i, c in enumerate(cells)))
    return ("\r\n".join(out + [";" * 8, ""])).encode("cp1252")


def test_classify_reads_a_danish_excel_file_as_its_comma_twin(tmp_path):
    plain, danish = tmp_path / "plain.csv", tmp_path / "danish.csv"
    plain.write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    danish.write_bytes(_danish([HEADER, *ROWS]))
    assert b"1.500;60;45;;3,5;55;50,25" in danish.read_bytes()
    for src, out in ((plain, tmp_path / "a.csv"), (danish, tmp_path / "b.csv")):
        result = runner.invoke(app, ["classify", "--areas", str(src), "--out", str(out)])
        assert result.exit_code == 0, result.output
    a, b = (tmp_path / "a.csv").read_text(encoding="utf-8"), (tmp_path / "b.csv").read_text(encoding="utf-8")
    assert a == b and "Ærtebjerg,2021,2021,3,1,1,0,0" in a  # 1.500 residents read as 1500 (>= 1000)


def test_explain_lists_and_history_read_danish_files(tmp_path):
    danish = tmp_path / "danish.csv"
    danish.write_bytes(_danish([HEADER, *ROWS]))
    hist = tmp_path / "hist.csv"
    hist.write_bytes("area_id;year;parallelsamfund\r\nÆrtebjerg;2019;1\r\n;;\r\n".encode("cp1252"))
    result = runner.invoke(app, ["explain-lists", "--areas", str(danish), "--history", str(hist), "--year", "2021",
                                 "--out", str(tmp_path / "e"), "--json"])
    assert result.exit_code == 0, result.output
    assert "Ærtebjerg" in (tmp_path / "e" / "lists.csv").read_text(encoding="utf-8")


def test_segregation_reads_danish_counts(tmp_path):
    plain, danish = tmp_path / "p.csv", tmp_path / "d.csv"
    plain.write_text("unit,g,total\nø1,5,1500\nø2,100,2000\nø3,8,12\n", encoding="utf-8")
    danish.write_bytes("unit;g;total\r\nø1;5;1.500\r\nø2;100;2.000\r\nø3;8;12\r\n;;\r\n".encode("cp1252"))
    outs = []
    for src in (plain, danish):
        out = tmp_path / f"{src.stem}-out.csv"
        result = runner.invoke(app, ["segregation", "--units", str(src), "--groups", "g", "--total", "total",
                                     "--out", str(out)])
        assert result.exit_code == 0, result.output
        outs.append(out.read_text())
    assert outs[0] == outs[1]


@pytest.mark.parametrize("cell", ["12.5", "1.50", "1.5000", "1,500.5"])
def test_a_point_that_is_not_a_thousands_separator_is_refused_in_a_semicolon_file(cell):
    with pytest.raises(DataValidationError, match="decimals are written with a comma") as err:
        parse_numbers(pl.Series(["1", cell]), Dialect(";", "UTF-8"), source="f.csv", column="x")
    assert err.value.row == 2 and err.value.column == "x"


def test_danish_numbers_parse_to_their_values():
    got = parse_numbers(pl.Series(["1.437", "33,5", "-2,25", "1.234.567,5", "7", None, "x"]),
                        Dialect(";", "UTF-8"), source="f", column="c").to_list()
    assert got == [1437.0, 33.5, -2.25, 1234567.5, 7.0, None, None]


def test_comma_file_with_a_thousands_point_is_not_read_as_a_fraction(tmp_path):
    src = tmp_path / "a.csv"
    src.write_text(HEADER + "\nA,2021,1.500,60,45,,3.5,55,50\n", encoding="utf-8")
    result = runner.invoke(app, ["classify", "--areas", str(src), "--out", str(tmp_path / "o.csv")])
    text = " ".join(result.output.split())
    assert result.exit_code == 2 and "residents" in text and "write 1500, not 1.500" in text


def test_dialect_detection(tmp_path):
    f = tmp_path / "x.csv"
    f.write_bytes(b"a\tb\r\n1\t2\r\n\t\r\n")
    frame, dialect = read_text_csv(f)
    assert dialect == Dialect("\t", "UTF-8") and frame.to_dicts() == [{"a": "1", "b": "2"}]
    f.write_bytes("a;b\n\xe6;2\n".encode("latin-1"))
    frame, dialect = read_text_csv(f)
    assert dialect.encoding.startswith("Windows-1252") and frame["a"].to_list() == ["æ"]
