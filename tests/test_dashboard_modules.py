"""The other modules' real outputs on the area and results pages, and the letting pages by role.

Outputs are made by running the commands (`simulate` with two scenarios, `plan share`, `plan
optimise`, `rehouse`, `evaluate did`) on the small synthetic dataset; monitor's files are written
in the format issue 14 documents. Oracles: the output files themselves, aggregated here.
"""

from __future__ import annotations

import json
import re

import polars as pl
import pytest
from fastapi.testclient import TestClient

from dashboard_support import MONITOR_FORECAST, dataset_dir, letting_world, shared_module_outputs


@pytest.fixture(scope="module")
def setup():
    from boligmix.web.dashboard import create_dashboard_app, load_dashboard

    results = shared_module_outputs()
    data = load_dashboard(dataset_dir(), mix_years=0, results=[results])
    return data, TestClient(create_dashboard_app(data)), results


def _section(html: str, start: str, end: str | None = None) -> str:
    i = html.index(start)
    return html[i:html.index(end, i)] if end else html[i:]


def _area(results) -> str:
    return pl.read_csv(results / "monitor" / "forecast.csv")["area_id"][0]


def test_monitor_forecast_and_warnings_on_the_area_page(setup):
    data, client, results = setup
    area = _area(results)
    html = client.get(f"/areas/{area}").text
    view = _section(html, 'id="monitor-view"', "</div>")
    assert "Prognose for listerne 2025" in view
    # Danish per cent, one decimal, half rounded up (81,25 -> 81,3; 6,25 -> 6,3), by hand from MONITOR_FORECAST
    shown = {"udsat": "81,3 %", "parallelsamfund": "6,3 %", "omdannelse": "3,1 %", "forebyggelse": "50,0 %"}
    assert set(shown) == set(MONITOR_FORECAST)
    for k in MONITOR_FORECAST:
        row = re.search(rf'<tr data-list="{k}">.*?<td class="num">([^<]*)</td>', view).group(1)
        assert row == shown[k]
    # warnings.csv did not pass disclosure control: kind, indicator and threshold only
    assert view.count("<tr data-kind=") == 2  # the area's two warnings, not the department's
    assert "Modtageområde (vandsengseffekt)" in view and "Nærmer sig grænsen" in view
    assert "3 husstande" not in view and "38,5" not in view
    assert "diskretioneringen" in view
    en = client.get(f"/areas/{area}?lang=en").text
    assert "Forecast of the lists 2025" in en and "81.3%" in en
    other = next(a for a in data.areas if a != area)
    monitor = _section(client.get(f"/areas/{other}").text, "Overvågning", "<h3>")
    assert "Ingen data" in monitor


def test_simulated_scenarios_match_the_runs(setup):
    _, client, results = setup
    area = _area(results)
    html = client.get(f"/areas/{area}").text
    view = _section(html, 'id="simulate-view"')
    for scenario in ("baseline", "kombineret_udsat"):
        runs = pl.read_parquet(results / "simulate" / scenario / "areas.parquet").filter(pl.col("area_id") == area)
        for year in runs["year"].unique().to_list():
            one = runs.filter(pl.col("year") == year)
            row = re.search(rf'<tr data-scenario="{scenario}"><th scope="row">[^<]*</th><td>{year}</td>(.*?)</tr>',
                            view, re.S).group(1)
            cells = re.findall(r'<td class="num">(.*?)</td>', row, re.S)
            for k, cell in zip(("udsat", "parallelsamfund", "omdannelse", "forebyggelse"), cells):
                assert cell == f"{100 * one[k].cast(pl.Float64).mean():.1f}".replace(".", ",") + " %"
            residents = float(re.search(r'data-count="([0-9.]+)"', cells[4]).group(1))
            assert residents == pytest.approx(one["residents"].mean())
    spec = json.loads(re.search(r'<script type="application/json" id="fig-sim-spec">(.*?)</script>', html, re.S).group(1))
    assert {t["name"] for t in spec["data"]} == {"Gældende regler (basisforløb)",
                                                 json.loads((results / "simulate" / "kombineret_udsat" / "manifest.json")
                                                            .read_text())["scenario"]["content"].split("title:")[1]
                                                 .splitlines()[0].strip()}
    base = pl.read_parquet(results / "simulate" / "baseline" / "areas.parquet").filter(pl.col("area_id") == area)
    trace = spec["data"][0]
    assert trace["y"][0] == pytest.approx(base["pct_outside_work_edu"].mean())
    assert trace["error_y"]["array"][0] == pytest.approx(base["pct_outside_work_edu"].quantile(0.95, "linear")
                                                         - base["pct_outside_work_edu"].mean())


def test_simulated_small_counts_are_suppressed():
    """Hand-computed: an area whose in-movers are 3 and 4 in the two replications (mean 3.5 < 5) is
    suppressed, and so is every indicator of an area with fewer than 5 residents."""
    from boligmix.web.dashboard.module_views import simulated_areas
    from boligmix.report.disclosure import DisclosurePolicy

    base = {"udsat": [True, False], "parallelsamfund": [False] * 2, "omdannelse": [False] * 2,
            "forebyggelse": [False] * 2, "pct_outside_work_edu": [40.0, 42.0]}
    frame = pl.concat([
        pl.DataFrame({"replication": [0, 1], "year": [2026] * 2, "area_id": ["A"] * 2, "residents": [100, 120],
                      "in_movers": [3, 4], "out_movers": [10, 12], **base}),
        pl.DataFrame({"replication": [0, 1], "year": [2026] * 2, "area_id": ["B"] * 2, "residents": [3, 4],
                      "in_movers": [0, 0], "out_movers": [1, 0], **base})])
    a, b = simulated_areas(frame, DisclosurePolicy.load())
    assert a.get("p_udsat") == 0.5 and a.get("residents_mean") == 110.0 and a.get("out_movers_mean") == 11.0
    assert a.hidden("in_movers_mean") and a.get("in_movers_mean") is None
    # 3 and 4: p95 = 3.95 is below 5 too; and with one of the three suppressed, all three are
    assert a.hidden("in_movers_p05") and a.hidden("in_movers_p95")
    assert a.get("pct_outside_work_edu_mean") == 41.0
    mixed = pl.DataFrame({"replication": [0, 1], "year": [2026] * 2, "area_id": ["C"] * 2, "residents": [100, 120],
                          "in_movers": [3, 40], "out_movers": [10, 12], **base})
    (c,) = simulated_areas(mixed, DisclosurePolicy.load())
    # p05 = 3 + 0.05 * 37 = 4.85 < 5 is suppressed; mean 21.5 and p95 38.15 would give it back: all three go
    assert c.hidden("in_movers_p05") and c.hidden("in_movers_mean") and c.hidden("in_movers_p95")
    assert c.get("in_movers_mean") is None and c.get("out_movers_mean") == 11.0
    assert b.hidden("residents_mean") and b.hidden("pct_outside_work_edu_mean") and b.get("p_udsat") == 0.5


def test_plan_share_timeline_and_rehousing(setup):
    _, client, results = setup
    area = _area(results)
    view = _section(client.get(f"/areas/{area}").text, 'id="plan-view"', "<h3>")
    share = pl.read_csv(results / "plan" / "share.csv").filter(pl.col("area_id") == area).row(0, named=True)
    assert f"{100 * share['share']:.1f}".replace(".", ",") + " %" in view
    assert f"{share['family_dwellings']:,}".replace(",", ".") in view
    timeline = pl.read_csv(results / "plan" / area / "timeline.csv")
    table = _section(view, 'class="data plan-timeline"', "</table>")
    assert table.count("<tr><td>") == timeline.height
    last = timeline.row(-1, named=True)
    assert f"<td>{last['year']}</td>" in table and f"{100 * last['share']:.1f}".replace(".", ",") + " %" in table
    chosen = pl.read_csv(results / "plan" / area / "plan.csv").filter(pl.col("chosen").cast(pl.Boolean))["option_id"]
    assert chosen.len() > 0 and all(o in view for o in chosen)
    rehousing = _section(view, 'id="rehousing-table"', "</table>")
    areas = pl.read_csv(results / "plan" / "genhusning" / "areas.csv", infer_schema_length=None).row(0, named=True)
    assert areas["received"] == 8 and areas["received_outside_work"] is None  # rehouse protected its 3
    assert "received_outside_work:primary" in areas["suppressed"]
    assigned = pl.read_csv(results / "plan" / "genhusning" / "assignment.csv")
    assert assigned.filter(pl.col("area_id") == areas["area_id"]).height == 8  # the exact count behind it
    assert '<span data-count="8">8</span>' in rehousing  # published
    assert 'data-suppressed="1"' in rehousing and 'data-count="3"' not in rehousing  # 3 < 5: suppressed


def test_results_page_shows_estimates_and_national_paths(setup):
    _, client, results = setup
    html = client.get("/results").text
    est = pl.read_csv(results / "evaluate" / "did" / "estimates.csv").row(0, named=True)
    assert est["term"] in html and f"{est['estimate']:.3f}".replace(".", ",") in html
    summary = pl.read_csv(results / "simulate" / "baseline" / "summary.csv")
    assert html.count('<table class="data summary-table">') == 2
    row = summary.filter(pl.col("measure") == "count_udsat").row(0, named=True)
    assert f"{row['mean']:.2f}".replace(".", ",") in html
    assert "Effektestimater" in client.get(f"/areas/{_area(results)}").text  # the area page links to them
    empty = TestClient(__import__("boligmix.web.dashboard", fromlist=["x"]).create_dashboard_app(
        __import__("dashboard_support").default_dashboard()))
    assert empty.get("/results").text.count("Ingen data") == 2


# ---------------------------------------------------------------- letting pages
@pytest.fixture(scope="module")
def letting(tmp_path_factory, setup):
    from boligmix.web.app import create_app
    from boligmix.web.dashboard import mount_dashboard

    data, _, _ = setup
    url = f"sqlite:///{tmp_path_factory.mktemp('letting') / 'l.sqlite'}"
    secrets = letting_world(url)
    return TestClient(mount_dashboard(create_app(url), data)), secrets


def _get(client, secrets, who):
    return client.get("/letting", headers={"Authorization": f"Bearer {secrets[who]}"} if who else {})


def test_letting_pages_need_a_valid_token(letting):
    client, secrets = letting
    for who, status in ((None, 200), ("revoked", 401)):  # no token: the sign-in form; a revoked one: 401
        r = _get(client, secrets, who)
        assert r.status_code == status and 'name="token"' in r.text and "ORG1-01" not in r.text
    bad = client.get("/letting", headers={"Authorization": "Bearer bmx_nonsense"})
    assert bad.status_code == 401
    assert "Udlejning" in client.get("/").text  # the nav links to the page when the store is there


def test_each_role_sees_its_scope(letting):
    client, secrets = letting
    org1 = _get(client, secrets, "org1").text
    assert "ORG1-01" in org1 and "ORG2-01" not in org1
    row = re.search(r"ORG1-01.*?</tr>", org1, re.S).group(0)
    cells = r'<td class="num">(?:<span data-count="\d+">)?(\d+)'
    assert re.findall(cells, row) == ["0", "3", "0", "3"]  # open, let, withdrawn, leases
    org2 = _get(client, secrets, "org2").text
    assert "ORG2-01" in org2 and "ORG1-01" not in org2
    assert re.findall(cells, re.search(r"ORG2-01.*?</tr>", org2, re.S).group(0)) == ["1", "0", "0", "0"]
    muni = _get(client, secrets, "muni101").text
    assert "ORG1-01" in muni and "ORG2-01" not in muni
    assert "Afgørelser" not in org1  # the decision aggregate is the analyst's view


def test_analyst_sees_aggregates_through_disclosure_control(letting):
    client, secrets = letting
    r = _get(client, secrets, "analyst")
    assert r.status_code == 200
    html = r.text
    assert "ORG1-01" in html and "ORG2-01" in html
    row = re.search(r"ORG1-01.*?</tr>", html, re.S).group(0)
    assert row.count('data-suppressed="1"') == 2  # 3 lettings (let vacancies and leases) < 5
    decisions = _section(html, 'id="letting-decisions"', "</table>")
    assert 'data-suppressed="1"' in decisions
    assert all(float(v) == 0 or float(v) >= 5 for v in re.findall(r'data-count="([0-9.]+)"', html))
    for person in ("7000000", "7000001", "8000000"):  # no applicant or household ids
        assert person not in html


def _form_token(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def test_login_form_sets_a_cookie_and_logout_clears_it(letting):
    client, secrets = letting
    client.cookies.clear()
    form = client.get("/letting")
    assert "samesite=strict" in form.headers["set-cookie"].lower()
    r = client.post("/letting/login", data={"token": secrets["org1"], "csrf": _form_token(form.text)},
                    follow_redirects=False)
    assert r.status_code == 303 and "httponly" in r.headers["set-cookie"].lower()
    assert "samesite=strict" in r.headers["set-cookie"].lower()
    page = client.get("/letting")
    assert page.status_code == 200 and "ORG1-01" in page.text
    out = client.post("/letting/logout", data={"csrf": _form_token(page.text)}, follow_redirects=False)
    assert out.status_code == 303 and 'boligmix_token=""' in out.headers["set-cookie"]
    client.cookies.clear()
    assert "ORG1-01" not in client.get("/letting").text


def test_a_cross_site_sign_in_or_out_is_refused(letting):
    """Login CSRF: another site's page posting its own token to sign the victim in (or out) is refused."""
    client, secrets = letting
    client.cookies.clear()
    token = _form_token(client.get("/letting").text)  # the browser now holds the form-token cookie
    attempts = [
        ({"token": secrets["org1"]}, {}),                                          # no form token at all
        ({"token": secrets["org1"], "csrf": "x" * 43}, {}),                        # a guessed one
        ({"token": secrets["org1"], "csrf": token}, {"Origin": "https://evil.example"}),
        ({"token": secrets["org1"], "csrf": token}, {"Sec-Fetch-Site": "cross-site"}),
    ]
    for data, headers in attempts:
        r = client.post("/letting/login", data=data, headers=headers, follow_redirects=False)
        assert r.status_code == 403 and "boligmix_token" not in r.headers.get("set-cookie", ""), (data, headers)
        assert "Formularen kunne ikke godkendes" in r.text
    bare = TestClient(client.app)  # a cross-site POST: SameSite=Strict keeps the form-token cookie at home
    r = bare.post("/letting/login", data={"token": secrets["org1"], "csrf": token}, follow_redirects=False)
    assert r.status_code == 403 and "boligmix_token" not in r.headers.get("set-cookie", "")
    ok = client.post("/letting/login", data={"token": secrets["org1"], "csrf": token},
                     headers={"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"}, follow_redirects=False)
    assert ok.status_code == 303
    signed_in = client.get("/letting")
    assert client.post("/letting/logout", headers={"Sec-Fetch-Site": "cross-site"},
                       data={"csrf": _form_token(signed_in.text)}, follow_redirects=False).status_code == 403
    assert "ORG1-01" in client.get("/letting").text  # still signed in
    client.cookies.clear()


def test_the_decision_table_names_rules_in_danish(letting):
    client, secrets = letting
    html = _get(client, secrets, "analyst").text
    decisions = _section(html, 'id="letting-decisions"', "</table>")
    assert "listens rækkefølge" in decisions and "udlejet" in decisions  # the store-order rules, outcome let
    english = client.get("/letting?lang=en", headers={"Authorization": f"Bearer {secrets['analyst']}"}).text
    english_table = _section(english, 'id="letting-decisions"', "</table>")
    assert "rækkefølge" not in english_table and "order" in english_table


def test_every_letting_page_read_goes_through_the_access_table(letting, monkeypatch):
    from boligmix.letting.store import access

    client, secrets = letting
    monkeypatch.setitem(access.PAGES, "/letting", frozenset({"municipality"}))
    assert _get(client, secrets, "org1").status_code == 403
    assert _get(client, secrets, "muni101").status_code == 200


def test_an_unprotected_rehousing_file_is_protected_with_the_share_after():
    """An areas.csv without the `suppressed` column (written before rehouse protected it): the
    dashboard protects it, the share after with the counts it rests on."""
    from boligmix.report import DisclosurePolicy
    from boligmix.web.dashboard.module_views import rehousing_areas

    frame = pl.DataFrame({"area_id": ["A"], "vacancies": [6], "received": [6], "received_outside_work": [1],
                          "max_outside_work": [3], "over_cap": [False], "adults_18_64": [400.0],
                          "pct_outside_work_before": [20.0], "pct_outside_work_after": [100 * 81 / 406]})
    [row] = rehousing_areas(frame, DisclosurePolicy.load())
    assert row.get("received") == 6 and row.get("received_outside_work") is None
    assert row.get("pct_outside_work_after") is None and row.get("pct_outside_work_before") == 20.0
    assert row.hidden("received_outside_work") and row.hidden("pct_outside_work_after")


def test_a_protected_rehousing_file_keeps_its_blanks_and_gets_the_dashboards_limit():
    from boligmix.report import DisclosurePolicy
    from boligmix.web.dashboard.module_views import rehousing_areas

    frame = pl.DataFrame({"area_id": ["A", "B"], "vacancies": [9, 70], "received": [8, 70],
                          "received_outside_work": [None, 30], "max_outside_work": [3, 40], "over_cap": [None, False],
                          "suppressed": ["received_outside_work:primary", None]})
    same, _ = rehousing_areas(frame, DisclosurePolicy.load())  # the file's own limit (5): its blank stays
    assert same.get("received") == 8 and same.get("received_outside_work") is None
    assert same.hidden("received_outside_work")
    strict = {r.get("area_id"): r for r in rehousing_areas(frame, DisclosurePolicy.load(min_count=60))}
    assert strict["A"].get("received") is None and strict["A"].hidden("received_outside_work")
    assert strict["B"].get("received") == 70 and strict["B"].get("received_outside_work") is None  # 30 < 60
