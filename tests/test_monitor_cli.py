"""`boligmix monitor` end to end on the small synthetic dataset: files, formats, language, errors."""

from __future__ import annotations

import polars as pl
from synth_data import small_dataset_dir
from typer.testing import CliRunner

from boligmix.cli.main import app

runner = CliRunner()


def _run(*args: str):
    return runner.invoke(app, ["monitor", "--data", str(small_dataset_dir()), "--year", "2024", "--draws", "30",
                               *args])


def test_monitor_writes_every_file_in_the_issue_format(tmp_path) -> None:
    out = tmp_path / "out"
    result = _run("--out", str(out))
    assert result.exit_code == 0, result.output
    heads = {name: (out / name).read_text(encoding="utf-8").splitlines()[0] for name in
             ("status.csv", "forecast.csv", "warnings.csv", "backtest.csv")}
    assert heads["status.csv"] == "unit_id,level,year,set,indicator,value,threshold,margin,points,category"
    assert heads["forecast.csv"] == "area_id,year,list,probability"
    assert heads["warnings.csv"] == "unit_id,level,kind,indicator,value,threshold,message"
    assert heads["backtest.csv"].startswith("list,method,measure")
    forecast = pl.read_csv(out / "forecast.csv")
    assert set(forecast.get_column("year").to_list()) == {2025}
    assert sorted(set(forecast.get_column("list").to_list())) == ["forebyggelse", "omdannelse", "parallelsamfund",
                                                                   "udsat"]
    assert forecast.get_column("probability").is_between(0, 1).all()
    html = (out / "report.html").read_text(encoding="utf-8")
    assert '<body class="lang-da">' in html and "Trafiklys" in html
    assert "<script src=" not in html and "cdn.plot.ly" not in html.split("</head>")[1]  # bundled, no CDN
    backtest = pl.read_csv(out / "backtest.csv")
    pooled = backtest.filter((pl.col("list") == "all") & (pl.col("measure") == "brier"))
    assert pooled.height == 2
    again = _run("--out", str(out))
    assert again.exit_code == 2 and "--force" in again.output


def test_monitor_english_aarhus_organisation_with_extra_csv(tmp_path) -> None:
    extra = tmp_path / "extra.csv"
    # a Danish CSV: ';' and decimal comma; the municipality row is the reference
    orgs = pl.read_parquet(small_dataset_dir() / "housing_organisations.parquet")
    rows = ["unit_id;year;indicator;value"]
    for i, org in enumerate(orgs.get_column("org_id").to_list()):
        rows.append(f"{org};2024;skolefravaer;{10 + i},5")
    extra.write_text("\n".join(rows) + "\n", encoding="latin-1")
    out = tmp_path / "out"
    result = _run("--out", str(out), "--set", "aarhus", "--level", "organisation", "--extra", str(extra),
                  "--lang", "en")
    assert result.exit_code == 0, result.output
    html = (out / "report.html").read_text(encoding="utf-8")
    assert '<body class="lang-en">' in html
    status = pl.read_csv(out / "status.csv", schema_overrides={"unit_id": pl.String})
    school = status.filter((pl.col("indicator") == "skolefravaer") & (pl.col("year") == 2024)).sort("unit_id")
    assert school.get_column("value").to_list() == [10.5 + i for i in range(orgs.height)]
    assert set(status.get_column("level").to_list()) == {"organisation"}
    totals = status.filter(pl.col("indicator") == "points_total")
    assert totals.get_column("category").null_count() == 0
    assert totals.get_column("value").null_count() == 0  # summed points of units with residents are published


def test_monitor_refuses_bad_input(tmp_path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("format: boligmix-monitor-set/1\nid: x\nkind: points\nlabel_da: x\nlabel_en: x\n"
                   "reference: national\nindicators: []\ncategories: []\n", encoding="utf-8")
    result = _run("--out", str(tmp_path / "o1"), "--set", str(bad))
    assert result.exit_code == 2 and str(bad) in result.output.replace("\n", "")
    result = _run("--out", str(small_dataset_dir() / "inside"))
    assert result.exit_code == 2 and "inside the dataset" in result.output.replace("\n", "")
    result = _run("--out", str(tmp_path / "o2"), "--level", "region")
    assert result.exit_code == 2
