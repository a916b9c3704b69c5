"""Programme registry import (CSV, Excel) with its checks, and `evaluate programmes`."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from boligmix.cli.main import app
from boligmix.errors import DataValidationError
from boligmix.evaluate.registry import RegistryRules, read_registry

DEPS = {"BO1-001", "BO1-002", "BO2-001"}
HEADER = "programme_id,name,kind,start,end,budget_dkk,lbf_dkk,local_dkk,departments"
GOOD = [
    "HP1,Helhedsplan Øst,helhedsplan,2012,2015,10000000,7500000,2500000,BO1-001;BO1-002",
    "HP2,Helhedsplan Syd,helhedsplan,2016-03-01,2019-12-31,8000000,5000000,3000000,BO2-001",
]


def _write(tmp_path: Path, rows: list[str], name: str = "reg.csv", header: str = HEADER) -> Path:
    p = tmp_path / name
    p.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return p


def test_good_registry_reads(tmp_path):
    acts = _write(tmp_path, ["HP1,fritidsjob", "HP1,Bydelsmødre", "HP2,lektiehjælp"], "acts.csv",
                  "programme_id,activity")
    reg = read_registry(_write(tmp_path, GOOD), activities=acts, departments=DEPS)
    assert reg.programmes["programme_id"].to_list() == ["HP1", "HP2"]
    assert reg.programmes["departments"].to_list()[0] == ["BO1-001", "BO1-002"]
    assert str(reg.programmes["start"][1]) == "2016-03-01" and str(reg.programmes["end"][0]) == "2015-12-31"
    assert sorted(reg.activities["activity"].to_list()) == ["bydelsmødre", "fritidsjob", "lektiehjælp"]
    dp = reg.department_programmes()
    assert dp.height == 3 and dp.filter(pl.col("department_id") == "BO2-001")["start_year"].item() == 2016


@pytest.mark.parametrize(("row", "column", "needle"), [
    ("HP3,X,helhedsplan,2012,2015,10000000,8000000,2000000,BO1-001", "local_dkk", "20.0%"),
    ("HP3,X,helhedsplan,2012,2015,10000000,7000000,2500000,BO1-001", "budget_dkk", "9,500,000"),
    ("HP3,X,helhedsplan,2012,2015,10000000,7500000,2500000,BO9-999", "departments", "BO9-999"),
    ("HP3,X,helhedsplan,2016,2012,10000000,7500000,2500000,BO1-001", "end", "after end"),
    ("HP3,X,helhedsplan,2012,2015,ti mio,7500000,2500000,BO1-001", "budget_dkk", "'ti mio'"),
    ("HP3,X,gadefest,2012,2015,10000000,7500000,2500000,BO1-001", "kind", "gadefest"),
    ("HP1,X,helhedsplan,2012,2015,10000000,7500000,2500000,BO1-001", "programme_id", "twice"),
    ("HP3,X,helhedsplan,2012,,10000000,7500000,2500000,BO1-001", "end", "empty"),
])
def test_bad_rows_name_file_row_and_column(tmp_path, row, column, needle):
    path = _write(tmp_path, [*GOOD, row])
    with pytest.raises(DataValidationError) as info:
        read_registry(path, departments=DEPS)
    err = info.value
    assert err.path == str(path) and err.row == 3 and err.column == column
    assert needle in str(err)


def test_threshold_comes_from_the_versioned_rules(tmp_path):
    rules = RegistryRules.load()
    assert rules.min_local_share == 0.25 and rules.version
    exactly = _write(tmp_path, ["HP1,X,helhedsplan,2012,2015,1000,750,250,BO1-001"])
    read_registry(exactly, departments=DEPS)  # 25 % is enough
    looser = rules.model_copy(update={"min_local_share": 0.1})
    low = _write(tmp_path, ["HP1,X,helhedsplan,2012,2015,1000,850,150,BO1-001"], "low.csv")
    read_registry(low, departments=DEPS, rules=looser)
    with pytest.raises(DataValidationError, match="15.0%"):
        read_registry(low, departments=DEPS)


def test_missing_column_and_danish_amounts(tmp_path):
    bad = _write(tmp_path, ["HP1,X,helhedsplan,2012,2015,1000,750,250"], header=HEADER.rsplit(",", 1)[0])
    with pytest.raises(DataValidationError) as info:
        read_registry(bad)
    assert info.value.column == "departments"
    dk = tmp_path / "dk.csv"
    dk.write_text(HEADER.replace(",", ";") + "\nHP1;X;helhedsplan;2012;2015;1.000.000,00;750.000;250.000;BO1-001\n",
                  encoding="utf-8")
    reg = read_registry(dk, departments=DEPS)
    assert reg.programmes["budget_dkk"].item() == 1_000_000.0


def test_activities_of_unknown_programme(tmp_path):
    acts = _write(tmp_path, ["HP1,fritidsjob", "HP7,lektiehjælp"], "acts.csv", "programme_id,activity")
    with pytest.raises(DataValidationError) as info:
        read_registry(_write(tmp_path, GOOD), activities=acts, departments=DEPS)
    assert info.value.row == 2 and info.value.column == "programme_id" and "HP7" in str(info.value)


def test_excel_registry(tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "programmes"
    ws.append(HEADER.split(","))
    for r in GOOD:
        vals = r.split(",")
        ws.append([*vals[:5], float(vals[5]), float(vals[6]), float(vals[7]), vals[8]])
    ws2 = wb.create_sheet("activities")
    ws2.append(["programme_id", "activity"])
    ws2.append(["HP2", "fritidsjob"])
    path = tmp_path / "reg.xlsx"
    wb.save(path)
    reg = read_registry(path, departments=DEPS)
    assert reg.programmes.height == 2 and reg.activities.height == 1
    ws.append(["HP3", "X", "helhedsplan", 2012, 2015, 100.0, 90.0, 10.0, "BO1-001"])
    wb.save(path)
    with pytest.raises(DataValidationError) as info:
        read_registry(path, departments=DEPS)
    assert info.value.path == f"{path}[programmes]" and info.value.row == 3 and info.value.column == "local_dkk"


@pytest.fixture(scope="module")
def dataset():
    from synth_data import small_dataset_dir

    return small_dataset_dir()


def test_cli_programmes(tmp_path, dataset):
    deps = pl.read_parquet(dataset / "departments.parquet")["department_id"].sort().to_list()
    reg = _write(tmp_path, [f"HP1,Plan,helhedsplan,2013,2016,4000000,3000000,1000000,{deps[0]};{deps[1]}",
                            f"N1,Nedrivning,nedrivning,2018,2019,2000000,1500000,500000,{deps[2]}"])
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["evaluate", "programmes", "--data", str(dataset), "--registry", str(reg),
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    funding = pl.read_csv(out / "funding.csv")
    assert funding["local_share"].to_list() == [0.25, 0.25]
    moved = pl.read_csv(out / "moved.csv")
    assert set(moved["department_id"]) == {deps[0], deps[1], deps[2]}
    row = moved.filter(pl.col("department_id") == deps[0]).row(0, named=True)
    assert (row["year_before"], row["year_after"]) == (2012, 2016)
    # the values are the official indicators, unchanged
    from boligmix.indicators import compute_area_indicators

    ind = compute_area_indicators(dataset, [2012, 2016], level="department").filter(pl.col("department_id") == deps[0])
    assert row["pct_outside_work_edu_before"] == pytest.approx(ind.filter(pl.col("year") == 2012)["pct_outside_work_edu"].item())
    assert (out / "report.html").is_file() and (out / "report.xlsx").is_file()
    bad = _write(tmp_path, ["HP1,Plan,helhedsplan,2013,2016,4000000,3000000,1000000,NOPE-1"], "bad.csv")
    result = CliRunner().invoke(app, ["evaluate", "programmes", "--data", str(dataset), "--registry", str(bad),
                                      "--out", str(tmp_path / "out2")])
    assert result.exit_code == 2 and "NOPE-1" in result.output and not (tmp_path / "out2").exists()
