"""HTML and Excel report writers: sections, plots, escaping, provenance, no small published cell."""

from __future__ import annotations

import re

import openpyxl
import plotly.graph_objects as go
import polars as pl
import pytest

from boligmix.errors import ConfigurationError
from boligmix.report import Provenance, Report, Share, Text, exempt, protect, render_html, write_excel, write_html


def _report() -> Report:
    prov = Provenance(data_vintage="synthetic-test", seed=42, rule_versions={"mix_settings": "1"},
                      settings={"years": [2010, 2011]}, command="pytest")
    report = Report(Text("Socialt mix <test>", "Social mix <test>"), provenance=prov,
                    intro=Text("Indledning & mere", "Introduction & more"))
    frame = pl.DataFrame({
        "area": ["<script>alert(1)</script>", "Bjørnehøj", "Lille"],
        "n": [120, 60, 3],
        "k": [30, 2, 1],
        "share": [0.25, 2 / 60, 1 / 3],
    })
    table = protect(frame, counts=["n", "k"], shares=[Share("share", "n", "k")])
    sec = report.section(Text("Sammensætning", "Composition"), Text("Tekst på dansk", "Text in English"))
    sec.table(table, Text("Beboere", "Residents"), name="composition", formats={"share": ".1%"},
              labels={"n": Text("Antal", "Count")})
    fig = go.Figure(go.Scatter(x=[2010, 2011], y=[0.2, 0.3], name="andel"))
    sec.figure(fig, Text("Udvikling", "Trend"))
    sec2 = report.section(Text("Flytninger", "Moves"))
    sec2.figure(go.Figure(go.Bar(x=["a"], y=[1])), Text("Søjler", "Bars"))
    sec2.table(exempt(pl.DataFrame({"setting": ["a"], "value": ["b"]}), reason="settings, no persons"),
               "Settings", name="settings")
    return report


def test_html_has_sections_figures_escaping_and_provenance(tmp_path):
    path = write_html(_report(), tmp_path / "r" / "report.html")
    html = path.read_text(encoding="utf-8")
    assert html.count('class="report-section"') == 2
    assert 'id="fig-1"' in html and 'id="fig-2"' in html
    # plotly.js inlined exactly once (offline), never fetched from a CDN
    assert html.count("<script type=\"text/javascript\">") == 1
    assert "cdn.plot.ly" not in html.split("</head>")[1]
    assert len(html) > 1_000_000
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html
    assert "Socialt mix &lt;test&gt;" in html and "Social mix &lt;test&gt;" in html
    assert "Bjørnehøj" in html
    assert 'class="i18n-da"' in html and 'class="i18n-en"' in html and "lang-toggle" in html
    for key in ("data_vintage", "synthetic-test", "seed", "42", "boligmix_version", "created_at",
                "rule_version.disclosure_policy", "rule_version.mix_settings"):
        assert key in html
    assert '<span class="i18n-da" lang="da">25,0 %</span><span class="i18n-en" lang="en">25.0%</span>' in html


def test_html_publishes_no_count_below_threshold():
    html = render_html(_report())
    body = html.split('id="table-composition"')[1].split("</table>")[0]
    cells = re.findall(r'<td[^>]*>(?:<span class="i18n-da" lang="da">)?([^<]*)', body)
    numbers = [int(c) for c in cells if c.strip().isdigit()]
    assert numbers and min(numbers) >= 5
    assert body.count('class="sup"') == 5  # Lille's n and k, Bjørnehøj's k, two shares


def test_report_rejects_unprotected_tables():
    report = Report("x", provenance=Provenance(data_vintage="v"))
    with pytest.raises(ConfigurationError, match="protect"):
        report.section("s").table(pl.DataFrame({"n": [1]}), "caption")
    with pytest.raises(ConfigurationError, match="reason"):
        exempt(pl.DataFrame({"n": [1]}), reason=" ")


def test_report_without_figures_has_no_plotly():
    report = Report("x", provenance=Provenance(data_vintage="v"))
    report.section("s", "only text")
    assert "Plotly" not in render_html(report).split("<body")[0]


def test_excel_number_formats_and_yes_no(tmp_path):
    from boligmix.report.excel import excel_number_format

    assert [excel_number_format(f) for f in (".1%", ",.0f", ".2f", ",d", "", "x")] == [
        "0.0%", "#,##0", "0.00", "#,##0", None, None]
    report = Report(Text("t", "t"), provenance=Provenance(data_vintage="v", seed=1, command="pytest"))
    report.section(Text("s", "s")).table(
        exempt(pl.DataFrame({"listed": [True, False]}), reason="flags, no counts"), "Flags", name="flags")
    book = openpyxl.load_workbook(write_excel(report, tmp_path / "f.xlsx"))
    assert [r[0] for r in book["flags"].iter_rows(min_row=5, values_only=True)] == ["Ja", "Nej"]


def test_excel_has_one_sheet_per_table_and_provenance(tmp_path):
    path = write_excel(_report(), tmp_path / "report.xlsx")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["composition", "settings", "provenance"]
    sheet = book["composition"]
    rows = list(sheet.iter_rows(min_row=5, values_only=True))
    assert rows[0][:3] == ("<script>alert(1)</script>", 120, 30)
    assert rows[2][1] is None and rows[2][2] is None  # suppressed: empty (grey), explained in the note
    assert sheet.cell(row=5 + 2, column=2).fill.fgColor.rgb.endswith("E0E0E0")
    assert "diskretioneret" in sheet["A3"].value
    numeric = [v for r in rows for v in r[1:3] if isinstance(v, (int, float))]
    assert min(numeric) >= 5
    assert sheet["B4"].value == "Antal" and sheet.auto_filter.ref.startswith("A4")
    assert sheet.cell(row=5, column=4).number_format == "0.0%" and sheet.cell(row=5, column=2).number_format == "#,##0"
    assert sheet.column_dimensions["A"].width > 20
    prov = {r[0]: r[1] for r in book["provenance"].iter_rows(min_row=2, values_only=True)}
    assert prov["data_vintage"] == "synthetic-test" and prov["seed"] == "42"
    assert prov["disclosure.min_count"] == "5"


def test_excel_sheet_names_are_valid_and_unique():
    from boligmix.report.excel import sheet_names

    names = sheet_names(["a/b", "x" * 40, "x" * 40, "Provenance", "a_b"])
    assert names[0] == "a_b" and len(names[1]) == 31 and names[2].endswith("_2") and len(names[2]) == 31
    assert names[3] == "Provenance_2" and names[4] == "a_b_2"
    assert len({n.lower() for n in names}) == len(names)


def test_bilingual_figure_renders_one_plot_per_language_behind_the_toggle():
    report = Report("x", provenance=Provenance(data_vintage="v"))
    figures = {lang: go.Figure(go.Scatter(x=[1, 2], y=[3, 4], name=name))
               for lang, name in (("da", "Tilflyttere"), ("en", "In-movers"))}
    report.section("s").figure(figures, Text("Udvikling", "Trend"))
    html = render_html(report)
    da = html.split('<div class="i18n-da" lang="da">')[1].split('<div class="i18n-en"')[0]
    en = html.split('<div class="i18n-en" lang="en">')[1].split("</figure>")[0]
    assert 'id="fig-1-da"' in da and "Tilflyttere" in da and "In-movers" not in da
    assert 'id="fig-1-en"' in en and "In-movers" in en and "Tilflyttere" not in en
    # a figure without words is rendered once, outside the language switch
    report.section("t").figure(go.Figure(go.Bar(x=[1], y=[1])), "bars")
    html = render_html(report)
    assert 'id="fig-2"' in html and 'id="fig-2-da"' not in html


def test_bilingual_figure_needs_both_languages_and_plotly_figures():
    sec = Report("x", provenance=Provenance(data_vintage="v")).section("s")
    with pytest.raises(ConfigurationError, match="languages"):
        sec.figure({"da": go.Figure()}, "c")
    with pytest.raises(ConfigurationError, match=r"figure \(en\)"):
        sec.figure({"da": go.Figure(), "en": "not a figure"}, "c")


def test_bilingual_table_cells_and_yes_no_follow_the_language_toggle():
    frame = pl.DataFrame({"label_da": ["Mindst 1.000 beboere"], "label_en": ["At least 1,000 residents"],
                          "met": [True]})
    report = Report("x", provenance=Provenance(data_vintage="v"))
    report.section("s").table(exempt(frame, reason="test"), "c", name="t", bilingual={"label_da": "label_en"})
    body = render_html(report).split('id="table-t"')[1].split("</table>")[0]
    assert body.count("<th>") == 2  # the English twin is not a column of its own
    assert '<span class="i18n-da" lang="da">Mindst 1.000 beboere</span>' in body
    assert '<span class="i18n-en" lang="en">At least 1,000 residents</span>' in body
    assert '<span class="i18n-da" lang="da">ja</span><span class="i18n-en" lang="en">yes</span>' in body
    with pytest.raises(ConfigurationError, match="bilingual"):
        report.section("u").table(exempt(frame, reason="test"), "c", name="u", bilingual={"label_da": "nope"})


def test_year_axis_has_whole_year_ticks():
    from boligmix.report.axes import year_axis

    fig = year_axis(go.Figure(go.Scatter(x=[2020, 2024], y=[1, 2])), [2020, 2024])
    assert fig.layout.xaxis.tickformat == "d" and fig.layout.xaxis.dtick == 1
    assert year_axis(go.Figure(), range(2004, 2025)).layout.xaxis.dtick == 2


def test_tables_show_the_newest_year_first_with_their_own_suppression(tmp_path):
    frame = pl.DataFrame({"year": [2010, 2012, 2011], "n": [50, 3, 70]})
    report = Report(Text("t", "t"), provenance=Provenance(data_vintage="v", seed=1, command="pytest"))
    report.section(Text("s", "s")).table(protect(frame, counts=["n"]), Text("c", "c"), name="years")
    book = openpyxl.load_workbook(write_excel(report, tmp_path / "y.xlsx"))
    rows = [r[:2] for r in book["years"].iter_rows(min_row=5, values_only=True)]
    assert rows == [(2012, None), (2011, 70), (2010, 50)]  # 2012's 3 is suppressed, in its own row
    html = render_html(report)
    body = html.split('id="table-years"')[1]
    assert body.index(">2012<") < body.index(">2011<") < body.index(">2010<")
