"""Area names and municipality stand beside the area id in every lists output."""

from __future__ import annotations

import json

import polars as pl
from typer.testing import CliRunner

from boligmix.cli.main import app
from boligmix.data.io import read_table


def test_lists_outputs_name_the_areas(tmp_path):
    from indicators_support import random_dataset

    ds = random_dataset.write(tmp_path / "ds", 3000, seed=5, years=(2018, 2023))
    areas = read_table(ds, "areas").join(read_table(ds, "municipalities"), on="municipality_code")
    expected = {r["area_id"]: (r["area_name"], r["municipality_name"]) for r in areas.iter_rows(named=True)}
    out = tmp_path / "o"
    result = CliRunner().invoke(app, ["lists", "--data", str(ds), "--year", "2024", "--out", str(out)])
    assert result.exit_code == 0, result.output
    for name in ("lists.csv", "criteria.csv", "indicators.csv"):
        frame = pl.read_csv(out / name, infer_schema_length=None)
        assert frame.columns[:3] == ["area_id", "area_name", "municipality"], name
        assert {r[0]: (r[1], r[2]) for r in frame.select(frame.columns[:3]).iter_rows()} == {
            a: expected[a] for a in frame.get_column("area_id").unique()}
    for a in json.loads((out / "areas.json").read_text()):
        assert (a["area_name"], a["municipality"]) == expected[a["area_id"]]
        assert a["explanation_da"].startswith(f"{a['area_id']} {a['area_name']}, {a['municipality']}, listeår")


def test_explain_lists_takes_names_from_areas_csv(tmp_path):
    src = tmp_path / "a.csv"
    src.write_text("area_id;area_name;municipality;year;residents;pct_non_western;pct_outside_work_edu;"
                   "pct_convicted;conviction_ratio;pct_basic_education;income_pct_of_region\n"
                   "X1;Ærtebjerg;Odense;2024;1.500;60;45;;3,5;55;50\n".encode("cp1252").decode("cp1252"),
                   encoding="cp1252")
    result = CliRunner().invoke(app, ["explain-lists", "--areas", str(src), "--year", "2024", "--out",
                                      str(tmp_path / "e")])
    assert result.exit_code == 0, result.output
    assert "X1 Ærtebjerg, Odense, listeår 2024" in result.stdout
    assert pl.read_csv(tmp_path / "e" / "lists.csv").row(0)[:3] == ("X1", "Ærtebjerg", "Odense")
