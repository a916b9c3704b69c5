"""The dashboard in a real browser: Debian's Chromium driven by Playwright.

Loads the overview, clicks an area on the map, switches language, downloads a CSV and a PDF,
walks the map by keyboard, and checks that no page logs a console error. Screenshots are kept
under test-artifacts/dashboard/ (BOLIGMIX_TEST_ARTIFACTS changes the root).
"""

from __future__ import annotations

import csv
import io
import re
import zlib
from pathlib import Path

import pytest

from dashboard_support import ARTIFACTS, dataset_dir, default_dashboard, letting_world, serving, shared_module_outputs

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

import playwright.sync_api as playwright_api  # noqa: E402  (the test extra installs it)


@pytest.fixture(scope="module")
def dashboard():
    return default_dashboard()


@pytest.fixture(scope="module")
def base_url(dashboard):
    from boligmix.web.dashboard import create_dashboard_app

    with serving(create_dashboard_app(dashboard)) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail("Debian's Chromium is missing at /usr/bin/chromium (make test installs it: apt-get install chromium)")
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture()
def page(browser, base_url):
    """A fresh page that records console errors, page errors and requests leaving the loopback server."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900},
                                  locale="en-GB")  # an English browser: the dashboard must still be Danish
    pg = context.new_page()
    pg.errors = []  # type: ignore[attr-defined]
    pg.outside = []  # type: ignore[attr-defined]
    pg.on("console", lambda m: pg.errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    pg.on("pageerror", lambda e: pg.errors.append(f"pageerror: {e}"))
    pg.on("request", lambda r: None if r.url.startswith(base_url) or r.url.startswith("data:")
          else pg.outside.append(r.url))
    yield pg
    context.close()
    assert pg.errors == [], pg.errors
    assert pg.outside == [], f"requests outside the dashboard server: {pg.outside}"


def pdf_pages(data: bytes) -> int:
    """Page objects of a PDF, also inside compressed object streams (WeasyPrint writes those)."""
    text = data
    for m in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            text += zlib.decompress(m.group(1))
        except zlib.error:
            pass
    return len(re.findall(rb"/Type\s*/Page(?!s)", text))


def _shot(pg, name: str) -> None:
    pg.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_overview_map_click_and_language(page, base_url, dashboard):
    page.goto(base_url + "/")
    assert page.locator("html").get_attribute("lang") == "da"
    assert page.locator("h1").inner_text().startswith("Oversigt")
    shapes = page.locator("svg.bm-map path[data-area-id]")
    assert shapes.count() == sum(1 for a in dashboard.areas.values() if a.polygons)
    page.wait_for_selector("#fig-counts .main-svg")  # plotly drew the figure from the bundled library
    _shot(page, "01-overview-da")

    area_id = sorted(a for a in dashboard.areas if dashboard.areas[a].polygons)[0]
    page.locator(f'svg.bm-map path[data-area-id="{area_id}"]').click()
    page.wait_for_url(re.compile(rf"/areas/{area_id}"))
    assert area_id in page.locator("h1").inner_text()
    assert page.locator("#criteria-table tbody tr").count() > 0
    page.wait_for_selector(".bm-figure .main-svg")
    _shot(page, "02-area-da")

    page.locator("#lang-toggle").click()
    page.wait_for_url(re.compile(r"lang=en"))
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Criteria" in page.locator("#crit-h").inner_text()
    _shot(page, "03-area-en")
    page.locator("#lang-toggle").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "da"


def test_keyboard_reaches_an_area_on_the_map(page, base_url):
    page.goto(base_url + "/")
    for _ in range(40):  # skip link, menu, language, year form, then the map's areas
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.getAttribute('class')")
        if focused == "bm-area":
            break
    else:
        pytest.fail("no map area is reachable with the Tab key")
    label = page.evaluate("document.activeElement.getAttribute('aria-label')")
    assert ":" in label  # "name (id): status" — the status is said in words, not only by colour
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/areas/"))


def test_downloads_csv_and_pdf(page, base_url, dashboard, tmp_path):
    year = dashboard.years[-1]
    page.goto(f"{base_url}/lists?year={year}")
    _shot(page, "04-lists-da")
    with page.expect_download() as info:
        page.locator("#download-csv").click()
    path = tmp_path / "lists.csv"
    info.value.save_as(path)
    text = path.read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    assert len(rows) == len(dashboard.areas)
    assert {r["year"] for r in rows} == {str(year)}
    shares = [r["pct_non_western"] for r in rows if r["pct_non_western"]]
    assert shares and all("," in s and "." not in s for s in shares)  # decimal comma

    with page.expect_download() as info:
        page.locator("#download-pdf").click()
    pdf = tmp_path / "lists.pdf"
    info.value.save_as(pdf)
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    listed = sum(1 for a in dashboard.areas if dashboard.area_status(a, year) in
                 ("omdannelse", "parallelsamfund", "udsat", "forebyggelse"))
    assert pdf_pages(data) == 1 + listed  # a first page, then one page per listed area


def test_unknown_area_is_a_friendly_404(page, base_url):
    response = page.goto(base_url + "/areas/NO-SUCH-AREA")
    assert response.status == 404
    assert len(page.errors) == 1 and "404" in page.errors[0]  # the browser reports the 404 document itself
    page.errors.clear()
    assert "NO-SUCH-AREA" in page.locator("main").inner_text()
    assert page.locator("main a").first.get_attribute("href") == "/"
    _shot(page, "05-not-found")


def test_municipality_page(page, base_url, dashboard):
    code = next(c for c in sorted(dashboard.municipalities) if dashboard.areas_in(c))
    page.goto(f"{base_url}/municipalities/{code}?lang=en")
    assert page.locator("html").get_attribute("lang") == "en"
    page.wait_for_selector("#fig-muni-counts .main-svg")
    _shot(page, "06-municipality-en")


CONTRAST_JS = """
() => {
  function rgb(s) { const m = s.match(/[\\d.]+/g).map(Number); return m.length > 3 ? m : [...m, 1]; }
  function lum(c) {
    const v = c.slice(0, 3).map(x => { x /= 255; return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4); });
    return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2];
  }
  function background(el) {
    for (; el; el = el.parentElement) {
      const c = rgb(getComputedStyle(el).backgroundColor);
      if (c[3] > 0.5) { return c; }
    }
    return [255, 255, 255, 1];
  }
  const bad = [];
  for (const el of document.querySelectorAll("body *")) {
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own || el.closest("svg") || !el.getClientRects().length) { continue; }
    const fg = lum(rgb(getComputedStyle(el).color)), bg = lum(background(el));
    const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    if (ratio < 4.5) { bad.push(el.tagName + " '" + el.textContent.trim().slice(0, 30) + "' " + ratio.toFixed(2)); }
  }
  return bad;
}
"""


@pytest.mark.parametrize("path", ["/", "/lists", "/municipalities"])
def test_contrast_labels_and_landmarks(page, base_url, dashboard, path):
    page.goto(base_url + path)
    assert page.evaluate(CONTRAST_JS) == []  # text contrast at least 4.5:1 (WCAG AA)
    unlabelled = page.evaluate("[...document.querySelectorAll('select, input:not([type=hidden])')]"
                               ".filter(e => !e.labels || e.labels.length === 0).length")
    assert unlabelled == 0
    assert page.locator("main#main").count() == 1 and page.locator("a.skip").count() == 1
    area = sorted(dashboard.areas)[0]
    page.goto(f"{base_url}/areas/{area}")
    assert page.evaluate(CONTRAST_JS) == []
    assert all(page.locator(".bm-figure").nth(i).get_attribute("aria-label")
               for i in range(page.locator(".bm-figure").count()))


@pytest.fixture(scope="module")
def full_site(tmp_path_factory):
    """The dashboard with every module's outputs, mounted beside the letting API (letting pages on)."""
    from boligmix.web.app import create_app
    from boligmix.web.dashboard import load_dashboard, mount_dashboard

    data = load_dashboard(dataset_dir(), mix_years=0, results=[shared_module_outputs()])
    url = f"sqlite:///{tmp_path_factory.mktemp('letting') / 'l.sqlite'}"
    secrets = letting_world(url)
    with serving(mount_dashboard(create_app(url), data)) as base:
        yield base, data, secrets


def test_module_results_and_letting_pages_in_the_browser(browser, full_site):
    base, data, secrets = full_site
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    pg = context.new_page()
    errors: list[str] = []
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: errors.append(str(e)))
    area = next(iter(data.modules.views.forecast))
    pg.goto(f"{base}/areas/{area}")
    pg.wait_for_selector("#fig-sim .main-svg")  # the scenario plot is drawn
    assert pg.locator("#forecast-table tbody tr").count() == 4
    assert pg.locator("#simulate-table tbody tr").count() == 2  # two scenarios, one list year each
    assert pg.evaluate(CONTRAST_JS) == []
    pg.locator("#modules-h").scroll_into_view_if_needed()
    _shot(pg, "07-area-module-results")
    pg.goto(f"{base}/results?lang=en")
    assert pg.locator(".estimates-table tbody tr").count() >= 1 and pg.evaluate(CONTRAST_JS) == []
    _shot(pg, "08-results-en")
    pg.goto(f"{base}/letting")
    assert pg.locator("#letting-departments").count() == 0
    pg.fill("#token", secrets["analyst"])
    pg.locator("form.login button").click()
    pg.wait_for_selector("#letting-departments")
    assert pg.locator("#letting-departments tbody tr").count() == 2 and pg.evaluate(CONTRAST_JS) == []
    _shot(pg, "09-letting-analyst")
    context.close()
    assert errors == []
