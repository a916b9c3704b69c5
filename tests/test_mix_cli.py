"""`boligmix mix` end to end on the hand-built dataset: files, report, disclosure, errors."""

from __future__ import annotations

import json
import re

import polars as pl
from typer.testing import CliRunner

from boligmix.cli.main import app
from mix_support.tiny_dataset import build

runner = CliRunner()


def test_mix_command_writes_tables_and_report(tmp_path):
    ds = build(tmp_path / "ds")
    listed = tmp_path / "listed.csv"
    pl.DataFrame({"area_id": ["A2"], "year": [2011], "listed": [True]}).write_csv(listed)
    out = tmp_path / "out"
    res = runner.invoke(app, ["mix", "--data", str(ds), "--years", "2010-2011", "--out", str(out),
                              "--listed", str(listed), "--json"])
    assert res.exit_code == 0, res.output
    payload = json.loads(res.stdout)
    assert payload["years"] == [2010, 2011] and payload["level"] == "area"
    for name in ("composition", "flows", "decomposition", "pooled", "national_moves"):
        assert (out / f"{name}.parquet").is_file() and (out / f"{name}.csv").is_file()
    html = (out / "report.html").read_text(encoding="utf-8")
    assert html.count('class="report-section"') == 6 and 'id="fig-1-da"' in html and 'id="fig-1-en"' in html
    assert "Ikke-vestlig oprindelse" in html and "Non-Western origin" in html
    assert "tiny-test" in html and "mix-2026.1" in html
    # no published count in the composition file is from 1 to the threshold - 1 (zeros are published)
    comp = pl.read_parquet(out / "composition.parquet")
    for col in [c for c in comp.columns if c == "n" or c.startswith("n_")]:
        assert comp[col].drop_nulls().filter((comp[col].drop_nulls() > 0) & (comp[col].drop_nulls() < 5)).is_empty()
    body = html.split('id="table-composition"')[1].split("</table>")[0]
    headers = re.findall(r'<th><span class="i18n-da" lang="da">([^<]*)</span>', body.split("</thead>")[0])
    from boligmix.report.labels import DEFAULT_LABELS

    count_headers = {t.da for c, t in DEFAULT_LABELS.items() if c == "n" or c.startswith("n_")}
    counts = [j for j, h in enumerate(headers) if h in count_headers]
    assert len(counts) >= 5
    rows = [re.findall(r'<td[^>]*>(?:<span class="i18n-da" lang="da">)?([^<]*)', row)
            for row in body.split("</thead>")[1].split("<tr")[1:]]
    cells = [row[j] for row in rows for j in counts]
    assert rows and all(len(row) == len(headers) for row in rows)
    shown = [int(c.replace(".", "").replace(",", "")) for c in cells if re.fullmatch(r"[\d.,]+", c)]
    assert shown and all(v == 0 or v >= 5 for v in shown)  # no count shown is from 1 to the limit - 1
    assert len(shown) < len(cells)  # and some are suppressed: the tiny dataset has small groups
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["provenance"]["seed"] == 7 and prov["provenance"]["settings"]["listed_areas_given"] is True
    assert (out / "report.xlsx").is_file()


def test_mix_command_threshold_switch_publishes_more(tmp_path):
    ds = build(tmp_path / "ds")
    res = runner.invoke(app, ["mix", "--data", str(ds), "--years", "2010", "--out", str(tmp_path / "o"),
                              "--min-count", "1", "--quiet"])
    assert res.exit_code == 0, res.output
    comp = pl.read_parquet(tmp_path / "o" / "composition.parquet")
    assert comp.filter((pl.col("unit_id") == "A1") & (pl.col("group") == "stock"))["n"].to_list() == [5]


def test_mix_command_errors_exit_2(tmp_path):
    res = runner.invoke(app, ["mix", "--data", str(tmp_path / "nope"), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2
    ds = build(tmp_path / "ds")
    res = runner.invoke(app, ["mix", "--data", str(ds), "--out", str(tmp_path / "o"), "--level", "street"])
    assert res.exit_code == 2 and "level" in res.output
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


def test_mix_command_unwritable_out_exits_2(tmp_path):
    ds = build(tmp_path / "ds")
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    res = runner.invoke(app, ["mix", "--data", str(ds), "--years", "2010", "--out", str(blocker / "sub")])
    assert res.exit_code == 2 and "cannot write" in res.output


def test_listed_file_missing_mix_years_is_an_explicit_warning(tmp_path):
    ds = build(tmp_path / "ds")
    listed = tmp_path / "listed.csv"
    pl.DataFrame({"area_id": ["A2"], "year": [2011], "listed": [True]}).write_csv(listed)
    res = runner.invoke(app, ["mix", "--data", str(ds), "--years", "2010-2011", "--out", str(tmp_path / "o"),
                              "--listed", str(listed), "--quiet"])
    assert res.exit_code == 0 and "no rows for year(s) 2010" in " ".join(res.stderr.split())
    res = runner.invoke(app, ["mix", "--data", str(ds), "--years", "2011", "--out", str(tmp_path / "p"),
                              "--listed", str(listed), "--quiet"])
    assert res.exit_code == 0 and "warning" not in res.stderr
