"""Disclosure control of the dashboard: crawl every page and download and look for small counts.

The dashboard is loaded with a high limit (`min_count` 60) so that many groups are "small": the
in- and out-movers of an area (30-50 a year), convicted adults (about 50), and a module table
with a count of 2. The crawl asserts that no published count below the limit appears anywhere
(pages, CSV downloads, the printable report, module tables), and checks against the unprotected
numbers (the oracle) that every small group is shown as suppressed, with the shares computed
from it suppressed too — in the tables and in the plotted values.
"""

from __future__ import annotations

import csv
import io
import json
import re
from html.parser import HTMLParser

import polars as pl
import pytest
from fastapi.testclient import TestClient

from dashboard_support import MIX_YEARS, dataset_dir, letting_world, protected_module_results, shared_module_outputs

# Above the smallest groups of the small synthetic data (in- and out-movers per area and year, convicted
# persons) and below most areas' residents, so the crawl meets both published and suppressed counts.
LIMIT = 150


class _Counts(HTMLParser):
    """Collects `data-count` values, suppression markers, and JSON figure specs of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.counts: list[float] = []
        self.suppressed = 0
        self.specs: dict[str, dict] = {}
        self._spec: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "data-count" in a:
            self.counts.append(float(a["data-count"]))
        if "data-suppressed" in a:
            self.suppressed += 1
        if tag == "script" and a.get("type") == "application/json":
            self._spec = a.get("id")

    def handle_data(self, data):
        if self._spec:
            self.specs[self._spec] = json.loads(data)

    def handle_endtag(self, tag):
        if tag == "script":
            self._spec = None


def scan(html: str) -> _Counts:
    parser = _Counts()
    parser.feed(html)
    return parser


def small_counts(html: str) -> list[float]:
    return [v for v in scan(html).counts if 0 < v < LIMIT]  # zeros are published (policy zero_counts)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    from boligmix.report.disclosure import DisclosurePolicy
    from boligmix.web.dashboard import create_dashboard_app, load_dashboard

    policy = DisclosurePolicy.load(min_count=LIMIT, min_denominator=LIMIT)
    from boligmix.data.io import read_table

    areas = read_table(dataset_dir(), "areas")
    area_id, muni = areas["area_id"][0], int(areas["municipality_code"][0])
    results = protected_module_results(tmp_path_factory.mktemp("results"), area_id, muni, policy)
    data = load_dashboard(dataset_dir(), mix_years=MIX_YEARS, results=[results, shared_module_outputs()], policy=policy)
    return data, TestClient(create_dashboard_app(data)), area_id, muni


def test_the_checker_finds_a_planted_small_count():
    assert small_counts('<td><span data-count="3">3</span></td>') == [3.0]
    assert small_counts('<td><span data-count="1461">1.461</span></td>') == []


def test_no_page_shows_a_count_below_the_limit(setup):
    data, client, _, _ = setup
    pages = ["/", "/lists", "/municipalities", "/results", "/results?lang=en"]
    for y in data.years:
        pages += [f"/?year={y}", f"/lists?year={y}", f"/lists?year={y}&status=listed&lang=en",
                  f"/municipalities?year={y}"]
        pages += [f"/municipalities/{code}?year={y}" for code in data.municipalities]
        for lang in ("da", "en"):
            pages += [f"/areas/{a}?year={y}&lang={lang}" for a in data.areas]
    seen_counts = seen_suppressed = 0
    for url in pages:
        r = client.get(url)
        assert r.status_code == 200, url
        found = scan(r.text)
        assert small_counts(r.text) == [], url
        seen_counts += len(found.counts)
        seen_suppressed += found.suppressed
    assert seen_counts > 100 and seen_suppressed > 50  # the crawl saw both published and suppressed counts
    # the module views were crawled too: simulated in-movers (30-60 a year) and the 8 rehoused households
    # are below the limit and shown suppressed
    area = next(iter(data.modules.views.rehousing))
    html = client.get(f"/areas/{area}").text
    for view in ('id="simulate-view"', 'id="rehousing-table"'):
        part = html[html.index(view):]
        assert 'data-suppressed="1"' in part[:part.index("</table>")], view


def test_no_download_holds_a_count_below_the_limit(setup):
    data, client, _, _ = setup
    for y in data.years:
        for lang, sep in (("da", ";"), ("en", ",")):
            r = client.get(f"/lists.csv?year={y}&lang={lang}")
            rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig")), delimiter=sep))
            assert rows
            for row in rows:
                assert row["residents"] == "" or int(row["residents"]) == 0 or int(row["residents"]) >= LIMIT
                if row["residents"] == "":
                    assert "residents" in row["suppressed"]
    for a in data.areas:
        r = client.get(f"/areas/{a}/criteria.csv")
        rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig")), delimiter=";"))
        for row in rows:
            if row["field"] == "residents" and row["value"]:
                assert float(row["value"].replace(",", ".")) >= LIMIT


def test_printable_report_holds_no_small_count(setup):
    from boligmix.report.list_report import render_list_report_html
    from boligmix.web.dashboard.printable import list_report

    data, client, _, _ = setup
    for y in data.years:
        html = render_list_report_html(list_report(data, y))
        for text in re.findall(r'<span class="count">([^<]*)</span>', html):
            assert text == data.policy.marker or not 0 < int(text.replace(".", "")) < LIMIT
    assert client.get(f"/lists.pdf?year={data.years[-1]}").content.startswith(b"%PDF")


def test_small_groups_are_suppressed_with_the_shares_computed_from_them(setup):
    """Oracle: the unprotected mix and indicator counts. Every group below the limit is shown as
    suppressed, and so is every share computed from it, in the table and in the plot."""
    from boligmix.indicators import compute_area_indicators
    from boligmix.mix.pipeline import compute_mix

    data, client, _, _ = setup
    raw = compute_mix(dataset_dir(), data.mix_years, level="area").tables["composition"]
    small = raw.filter(pl.col("n") < LIMIT)
    assert small.height > 0  # the data has small groups
    for row in small.iter_rows(named=True):
        published = next(r for r in data.mix[row["unit_id"]] if r.get("year") == row["year"]
                         and r.get("group") == row["group"])
        assert published.get("n") is None and published.hidden("n")
        for share in ("share_low_edu", "share_employed", "share_nonwestern", "share_low_income"):
            assert published.get(share) is None and published.hidden(share)
        page = scan(client.get(f"/areas/{row['unit_id']}").text)
        label = {"stock": "Beboere 1. januar", "in": "Tilflyttere", "out": "Fraflyttere"}[row["group"]]
        for spec_id, spec in page.specs.items():
            if not spec_id.startswith("fig-mix"):
                continue
            trace = next(t for t in spec["data"] if t["name"] == label)
            assert trace["y"][trace["x"].index(row["year"])] is None, (spec_id, row)

    indicators = compute_area_indicators(dataset_dir(), data.years)
    few = indicators.filter(pl.col("n_convicted_18plus") < LIMIT)
    assert few.height > 0
    for row in few.iter_rows(named=True):
        published = next(r for r in data.indicators[row["area_id"]] if r.get("year") == row["year"])
        assert published.get("pct_convicted") is None and published.get("conviction_ratio") is None


def test_shares_whose_rest_is_small_are_suppressed(setup):
    """Oracle: the unprotected indicators. A share whose population minus its count (the persons
    without the trait) is below the limit, or 0 with the count above 0, gives that rest back with
    the residents or its criterion's "what it takes": it is suppressed in the indicator rows and in
    the criteria (value, margin, what it takes). The data have such rows (residents 30-59 without
    only basic schooling, about 80-150 in some areas)."""
    from boligmix.indicators import compute_area_indicators
    from boligmix.indicators.publish import FIELD_COUNTS, part_counts

    data = setup[0]
    indicators = compute_area_indicators(dataset_dir(), data.years)
    checked = 0
    for field, (n, d) in FIELD_COUNTS.items():
        if (n, d) not in part_counts(indicators):
            continue
        rest = pl.col(d) - pl.col(n)
        few = indicators.filter(((rest > 0) & (rest < LIMIT)) | ((rest == 0) & (pl.col(n) > 0)))
        for row in few.iter_rows(named=True):
            published = next(r for r in data.indicators[row["area_id"]] if r.get("year") == row["year"])
            assert published.get(field) is None and published.hidden(field), (field, row["area_id"], row["year"])
            for criterion in data.criteria.get((row["area_id"], row["year"]), []):
                if criterion.get("field") == field:
                    assert [criterion.get(c) for c in ("value", "margin", "to_cross")] == [None] * 3, (field, row)
                    checked += 1
    assert checked >= 5  # the crawl met such rows


def test_module_results_only_published_when_protected(setup):
    data, client, area_id, muni = setup
    assert [p.parent.name + "/" + p.name for p, _ in data.modules.refused] == ["plan/raw.csv"]
    html = client.get(f"/areas/{area_id}").text
    section = html[html.index('id="modules-h"'):]
    assert "uddannelse falder" in section and "ledighed stiger" in section
    start = section.index("<caption>warnings</caption>")  # the protected generic table (not the monitor view)
    table = section[start:section.index("</table>", start)]
    cells = re.findall(r"<td>(.*?)</td>", table)
    assert "175" in cells and "2" not in cells  # the count of 2 households is suppressed
    assert table.count('data-suppressed="1"') >= 1
    plan = section[section.index("Udviklingsplaner"):section.index("Evalueringer")]
    assert "<caption>raw</caption>" not in plan  # the unprotected plan table is refused
    muni_html = client.get(f"/municipalities/{muni}").text
    assert "uddannelse falder" in muni_html


def test_letting_pages_of_the_analyst_hold_no_small_count(setup, tmp_path):
    """The analyst's letting page (departments, lettings, decisions) through the same crawl check;
    the organisation's own page has exact counts (not published) and is not crawled."""
    from boligmix.web.app import create_app
    from boligmix.web.dashboard import mount_dashboard

    data, _, _, _ = setup
    url = f"sqlite:///{tmp_path / 'l.sqlite'}"
    secrets = letting_world(url, lettings=3)
    client = TestClient(mount_dashboard(create_app(url), data))
    for lang in ("da", "en"):
        r = client.get(f"/letting?lang={lang}", headers={"Authorization": f"Bearer {secrets['analyst']}"})
        assert r.status_code == 200
        found = scan(r.text)
        assert small_counts(r.text) == []
        assert found.suppressed >= 4  # lettings of ORG1 and the decision counts
