"""The dashboard's parts without a browser: SVG maps, list disclosure, Danish formats, CSV, CLI."""

from __future__ import annotations

import csv
import io
import re
from xml.etree import ElementTree

import polars as pl
import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from boligmix.errors import DataValidationError
from boligmix.report.svgmap import Shape, Style, parse_wkt, svg_map
from dashboard_support import dataset_dir, default_dashboard

SVG = "{http://www.w3.org/2000/svg}"


# ---------------------------------------------------------------- maps
def test_parse_wkt_polygon_multipolygon_and_errors():
    assert parse_wkt("POLYGON((0 0, 10 0, 10 5, 0 5, 0 0))") == [[[(0, 0), (10, 0), (10, 5), (0, 5), (0, 0)]]]
    multi = parse_wkt("MULTIPOLYGON(((0 0,1 0,1 1,0 0)),((5 5,6 5,6 6,5 5),(5.2 5.2,5.5 5.2,5.5 5.5,5.2 5.2)))")
    assert len(multi) == 2 and len(multi[1]) == 2 and multi[1][1][1] == (5.5, 5.2)
    assert parse_wkt(None) == [] and parse_wkt("  ") == []
    with pytest.raises(DataValidationError, match="POLYGON"):
        parse_wkt("POINT(1 2)", where="areas.polygon_wkt (A1)")
    with pytest.raises(DataValidationError, match="three points"):
        parse_wkt("POLYGON((0 0, 1 1))")


STYLES = {"a": Style("#b2182b", "hatch", "A"), "b": Style("#ffffff", None, "B")}


def _paths(svg: str) -> dict[str, list[tuple[float, float]]]:
    root = ElementTree.fromstring(svg)
    out = {}
    for el in root.iter(f"{SVG}path"):
        if el.get("data-area-id"):
            pts = [tuple(map(float, p.split(","))) for p in re.findall(r"-?[\d.]+,-?[\d.]+", el.get("d"))]
            out[el.get("data-area-id")] = pts
    return out


def test_svg_map_projects_north_up_with_equal_scale_and_links():
    shapes = [Shape("S", "south", parse_wkt("POLYGON((0 0, 1000 0, 1000 500, 0 500, 0 0))"), "a", "/areas/S"),
              Shape("N", "north", parse_wkt("POLYGON((0 9500, 1000 9500, 1000 10000, 0 10000, 0 9500))"), "b"),
              Shape("X", "no outline", [], "a")]
    svg = svg_map(shapes, STYLES, width=400, height=400, min_size=0)
    paths = _paths(svg)
    assert set(paths) == {"S", "N"}  # an area without an outline is not drawn
    south_y = max(y for _, y in paths["S"])
    north_y = min(y for _, y in paths["N"])
    assert north_y < south_y  # north is up (SVG y grows downwards)
    xs = [x for x, _ in paths["S"]]
    ys = [y for _, y in paths["S"]]
    assert (max(xs) - min(xs)) / (max(ys) - min(ys)) == pytest.approx(2.0, rel=0.01)  # equal scale on both axes
    assert '<a href="/areas/S" class="bm-area" aria-label="south">' in svg
    assert 'fill="url(#m-hatch)"' in svg and '<pattern id="m-hatch"' in svg  # a pattern, not colour alone


def test_svg_map_enlarges_areas_too_small_to_click():
    tiny = Shape("T", "tiny", parse_wkt("POLYGON((500000 6100000, 500010 6100000, 500010 6100010, 500000 6100010, "
                                        "500000 6100000))"), "a")
    big = Shape("B", "big", parse_wkt("POLYGON((400000 6000000, 800000 6000000, 800000 6400000, 400000 6400000, "
                                      "400000 6000000))"), "b")
    paths = _paths(svg_map([tiny, big], STYLES, width=500, height=500, min_size=9))
    xs = [x for x, _ in paths["T"]]
    assert max(xs) - min(xs) == pytest.approx(9, abs=0.2)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 1e6), st.floats(0, 1e6), st.floats(1, 5e4)), min_size=1, max_size=8))
def test_svg_map_keeps_every_area_inside_the_view(rects):
    shapes = [Shape(f"A{i}", f"area {i}", [[[(x, y), (x + s, y), (x + s, y + s), (x, y + s), (x, y)]]], "a")
              for i, (x, y, s) in enumerate(rects)]
    paths = _paths(svg_map(shapes, STYLES, width=300, height=200, min_size=6, margin=10))
    assert set(paths) == {s.area_id for s in shapes}
    for pts in paths.values():
        for x, y in pts:
            assert -6 <= x <= 306 and -6 <= y <= 206  # within the view (an enlarged area may reach the margin)


# ---------------------------------------------------------------- disclosure of the list indicators
def _indicators(**over) -> pl.DataFrame:
    row = {"area_id": "A", "year": 2024, "residents": 1000, "pct_non_western": 50.0, "pct_outside_work_edu": 40.0,
           "pct_convicted": 3.0, "conviction_ratio": 2.0, "pct_basic_education": 60.0, "income_pct_of_region": 55.0,
           "n_non_western": 500, "n_18_64": 700.0, "n_18plus": 800.0, "n_convicted_18plus": 24.0, "n_30_59": 400.0,
           "n_basic_30_59": 240.0, "n_income_group": 650}
    rows = [row | {"area_id": "A"}, row | {"area_id": "B"} | over]
    return pl.DataFrame(rows)


def test_list_indicators_hand_computed_suppression():
    from boligmix.lists.publish import protect_indicators

    # B: 3 convicted (primary) -> both conviction shares suppressed (numerator); 998 of 1000 non-Western:
    # the 2 others are a small remainder -> the count and its share are suppressed (secondary/numerator)
    table = protect_indicators(_indicators(n_convicted_18plus=3.0, n_non_western=998))
    a, b = table.frame.row(0, named=True), table.frame.row(1, named=True)
    assert a["pct_convicted"] == 3.0 and a["pct_non_western"] == 50.0 and a["suppressed"] is None
    assert b["pct_convicted"] is None and b["conviction_ratio"] is None
    assert table.reasons["pct_convicted"][1] == "numerator"
    assert b["pct_non_western"] is None and table.reasons["n_non_western"][1] == "secondary"
    assert b["residents"] == 1000 and b["pct_basic_education"] == 60.0  # the rest stays published
    # a small denominator suppresses the share whose denominator it is
    small = protect_indicators(_indicators(n_30_59=4.0, n_basic_30_59=2.0))
    assert small.frame["pct_basic_education"][1] is None and small.reasons["pct_basic_education"][1] == "denominator"


def test_criteria_follow_the_indicator_suppression():
    from boligmix.lists.publish import protect_criteria

    ind = _indicators(n_convicted_18plus=3.0)
    crit = pl.DataFrame({
        "area_id": ["A", "B", "B", "B"], "year": [2024] * 4, "rules": ["2021"] * 4,
        "criterion": ["convicted", "convicted", "residents", "income"],
        "label_da": ["d"] * 4, "label_en": ["e"] * 4,
        "field": ["conviction_ratio", "conviction_ratio", "residents", "income_pct_of_region"],
        "value": [2.0, 2.0, 1000.0, 55.0], "op": [">="] * 4, "threshold": [3.0, 3.0, 1000.0, 55.0],
        "met": [False, False, True, False], "margin": [-1.0, -1.0, 0.0, 0.0], "to_cross": [8.0, 8.0, 1.0, 1.0],
        "to_cross_text_da": ["x"] * 4, "to_cross_text_en": ["x"] * 4, "to_cross_text": ["x"] * 4})
    table = protect_criteria(crit, ind)
    f = table.frame
    assert f["criterion"].to_list() == crit["criterion"].to_list()  # the original order
    assert f["value"].to_list() == [2.0, None, 1000.0, 55.0]
    assert f["margin"][1] is None and f["to_cross_text_da"][1] is None and f["met"][1] is False
    assert f["suppressed"][0] is None and "value:numerator" in f["suppressed"][1]
    assert "_denominator" not in f.columns and "_numerator" not in (f["suppressed"][1] or "")


# ---------------------------------------------------------------- formats
def test_danish_and_english_number_formats():
    from boligmix.web.dashboard.downloads import csv_text
    from boligmix.web.dashboard.i18n import lang_of, num, pct
    from boligmix.web.dashboard.routes import module_cell

    assert num(1437, "da") == "1.437" and num(1437, "en") == "1,437"
    assert num(12.345, "da", 1) == "12,3" and num(2.5, "en", 2) == "2.50" and num(None, "da") == "–"
    assert pct(0.125, "da") == "12,5 %" and pct(0.125, "en") == "12.5%"
    assert lang_of(None) == lang_of("de") == "da" and lang_of("en") == "en"
    assert module_cell(2024, "year", "da") == "2024" and module_cell(12000, "n", "da") == "12.000"
    text = csv_text(["a", "b", "c"], [[1.5, None, True], [1000, "x;y", False]], "da")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert rows == [["a", "b", "c"], ["1,5", "", "1"], ["1000", "x;y", "0"]]
    assert csv_text(["a"], [[1.5]], "en") == "a\r\n1.5\r\n"


# ---------------------------------------------------------------- pages, served in-process
@pytest.fixture(scope="module")
def client():
    from boligmix.web.dashboard import create_dashboard_app

    data = default_dashboard()
    return data, TestClient(create_dashboard_app(data))


def test_pages_are_danish_whatever_the_browser_says(client):
    data, c = client
    r = c.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert r.status_code == 200 and '<html lang="da">' in r.text and "Oversigt" in r.text
    en = c.get("/?lang=en")
    assert '<html lang="en">' in en.text and "Overview" in en.text
    assert 'href="/areas/' in en.text and "lang=en" in en.text.split('href="/areas/', 1)[1][:80]  # links keep the language
    assert en.text.count("data-area-id=") == sum(1 for a in data.areas.values() if a.polygons)


def test_area_page_has_criteria_history_trends_mix_and_module_placeholders(client):
    data, c = client
    area = sorted(data.areas)[0]
    html = c.get(f"/areas/{area}").text
    for marker in ('id="criteria-table"', 'id="history-table"', 'id="fig-trend-1"', 'id="mix-table"',
                   'id="fig-mix-1"', "Overvågning", "Simulering", "Ingen data"):
        assert marker in html, marker
    assert html.count('class="nodata">Ingen data') == 4  # no module results: each module says so
    assert html.count("<tr") - html.count("<tr class") >= len(data.years)
    assert c.get(f"/areas/{area}?year=1900").status_code == 200  # an unknown year falls back to the newest


def test_unknown_pages_answer_404_with_a_friendly_page_but_api_stays_json(client):
    _, c = client
    r = c.get("/areas/NOPE")
    assert r.status_code == 404 and "NOPE" in r.text and "<html" in r.text
    assert c.get("/municipalities/abc").status_code == 404
    api = c.get("/api/nothing")
    assert api.status_code == 404 and api.headers["content-type"].startswith("application/json")


def test_plotly_is_bundled_from_the_installed_package(client):
    import plotly

    _, c = client
    js = c.get("/static/plotly.min.js")
    assert js.status_code == 200 and len(js.content) > 1_000_000
    assert plotly.__version__ and "plotly" in js.text[:2000].lower()
    assert "cdn" not in c.get("/").text.lower()


def test_mounted_beside_the_letting_api(client, tmp_path):
    from boligmix.letting.store.migrate import upgrade
    from boligmix.web.app import create_app
    from boligmix.web.dashboard import mount_dashboard

    data, _ = client
    url = f"sqlite:///{tmp_path / 'letting.sqlite'}"
    upgrade(url)
    app = mount_dashboard(create_app(url), data)
    c = TestClient(app)
    assert c.get("/api/health").json()["status"] == "ok"
    assert c.get("/api/whoami").status_code == 401  # the API keeps its roles
    assert "Oversigt" in c.get("/").text


# ---------------------------------------------------------------- CLI
def test_report_lists_command_html_and_refusals(tmp_path):
    from boligmix.cli.main import app

    runner = CliRunner()
    out = tmp_path / "lists.html"
    r = runner.invoke(app, ["report", "lists", "--data", str(dataset_dir()), "--year", "2024", "--format", "html",
                            "--out", str(out), "--json"])
    assert r.exit_code == 0, r.output
    html = out.read_text(encoding="utf-8")
    first = html[:html.index('<section class="area"')] if '<section class="area"' in html else html
    for key in ("boligmix_version", "data_vintage", "seed", "rule_version.list 2024", "rule_version.disclosure_policy"):
        assert key in first, key
    listed = html.count('<section class="area"')
    assert listed == int(re.search(r'"listed_areas": (\d+)', r.output).group(1)) and listed > 0
    assert html.count("<svg") >= listed  # a small map per listed area
    bad = runner.invoke(app, ["report", "lists", "--data", str(dataset_dir()), "--year", "2024", "--out",
                              str(dataset_dir() / "r.pdf")])
    assert bad.exit_code == 2 and not (dataset_dir() / "r.pdf").exists()
    assert runner.invoke(app, ["report", "lists", "--data", str(dataset_dir()), "--year", "2024", "--format", "doc",
                               "--out", str(tmp_path / "x")]).exit_code == 2
    assert runner.invoke(app, ["report", "lists", "--data", str(dataset_dir()), "--year", "1999",
                               "--out", str(tmp_path / "x.pdf")]).exit_code == 2


def test_serve_refuses_several_workers_with_data():
    from boligmix.cli.main import app

    r = CliRunner().invoke(app, ["serve", "--data", str(dataset_dir()), "--workers", "2"])
    assert r.exit_code == 2 and "--workers" in r.output


def test_mix_read_from_a_published_mix_directory(tmp_path):
    from boligmix.errors import DatasetError
    from boligmix.mix.pipeline import compute_mix
    from boligmix.mix.publish import write_outputs
    from boligmix.web.dashboard.data import read_published_mix

    write_outputs(compute_mix(dataset_dir(), [2024], level="area"), tmp_path / "mix")
    rows, years = read_published_mix(tmp_path / "mix")
    assert years == [2024] and set(rows) <= set(default_dashboard().areas)
    computed = {(r.get("year"), r.get("group")): r.get("n") for r in default_dashboard().mix[sorted(rows)[0]]}
    for r in rows[sorted(rows)[0]]:  # the same published numbers as computing it at startup
        assert computed[(r.get("year"), r.get("group"))] == r.get("n")
    (tmp_path / "raw").mkdir()
    raw = pl.read_parquet(tmp_path / "mix" / "composition.parquet").drop("suppressed")
    raw.write_parquet(tmp_path / "raw" / "composition.parquet")
    with pytest.raises(DatasetError, match="disclosure control"):
        read_published_mix(tmp_path / "raw")


def test_large_data_gets_no_startup_mix_but_a_note(monkeypatch):
    import boligmix.web.dashboard.data as dashboard_data
    from boligmix.web.dashboard import create_dashboard_app

    monkeypatch.setattr(dashboard_data, "MAX_PERSONS_FOR_MIX", 10)  # the test data "is national"
    data = dashboard_data.load_dashboard(dataset_dir(), list_years=[2023, 2024])
    assert data.mix == {} and data.mix_years == [] and data.notes == ["mix_too_large"]
    html = TestClient(create_dashboard_app(data)).get(f"/areas/{sorted(data.areas)[0]}").text
    assert "--mix-dir" in html and 'id="mix-table"' not in html


def test_every_html_report_shows_provenance_on_its_first_screen():
    from boligmix.report import Provenance, Report, render_html

    prov = Provenance(data_vintage="vintage-x", seed=42, rule_versions={"lists": "2021", "mix_settings": "m1"})
    report = Report("Titel", provenance=prov)
    report.section("Afsnit", "Tekst")
    html = render_html(report)
    first = html[:html.index('id="section-1"')]  # before the first section
    line = re.search(r'<p class="note" id="provenance-summary">(.*?)</p>', first).group(1)
    for part in ("boligmix " + prov.boligmix_version, "data vintage-x", "seed 42", "lists: 2021", "mix_settings: m1"):
        assert part in line, part


def test_report_map_figure_and_list_status():
    from boligmix.report.liststatus import status_of
    from boligmix.report.mapfigure import area_map_figure

    assert status_of({"udsat": True, "parallelsamfund": True, "omdannelse": False, "forebyggelse": False}) \
        == "parallelsamfund"
    assert status_of({"udsat": False, "parallelsamfund": None, "omdannelse": False, "forebyggelse": False}) \
        == "undecided"
    assert status_of({"udsat": False, "parallelsamfund": False, "omdannelse": False, "forebyggelse": False}) == "none"
    square = parse_wkt("POLYGON((0 0, 10 0, 10 10, 0 10, 0 0))")
    other = parse_wkt("POLYGON((20 0, 30 0, 30 10, 20 10, 20 0))")
    fig = area_map_figure([Shape("A", "Area A", square, "udsat"), Shape("B", "Area B", other, "udsat"),
                           Shape("C", "Area C", square, "none"), Shape("D", "no outline", [], "omdannelse")],
                          {"udsat": "Udsat boligområde", "none": "Ikke på en liste"})
    assert [t.name for t in fig.data] == ["Udsat boligområde", "Ikke på en liste"]  # no trace for D
    udsat = fig.data[0]
    assert list(udsat.x) == [0, 10, 10, 0, 0, None, 20, 30, 30, 20, 20, None]
    assert udsat.fillpattern.shape == "." and fig.data[1].fillpattern.shape is None  # a pattern, not colour alone
    assert "Area B" in udsat.text
