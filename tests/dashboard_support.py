"""A small synthetic dataset (one per test run: `built_once`) and a dashboard served in-process
(uvicorn on a free loopback port)."""

from __future__ import annotations

import os
import pickle
import socket
import threading
import time
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Iterator

import polars as pl
from built_once import built_once

SEED = 11
YEARS = (2014, 2024)
MIX_YEARS = 3
ARTIFACTS = Path(os.environ.get("BOLIGMIX_TEST_ARTIFACTS", Path(__file__).resolve().parent.parent
                                / "test-artifacts")) / "dashboard"


@lru_cache(maxsize=1)
def dataset_dir() -> Path:
    from boligmix.data.synth import write_synthetic

    return built_once("small-seed11", lambda path: write_synthetic(path, scale="small", seed=SEED, years=YEARS))


@lru_cache(maxsize=1)
def default_dashboard():
    """The dashboard data of `dataset_dir()` under the default disclosure policy (loaded once per
    test run, pickled for the other xdist worker; one object per process)."""
    from boligmix.web.dashboard import load_dashboard

    def load(folder: Path) -> None:
        folder.mkdir(parents=True)
        (folder / "dashboard.pickle").write_bytes(pickle.dumps(load_dashboard(dataset_dir(), mix_years=MIX_YEARS)))

    return pickle.loads((built_once("default-dashboard", load) / "dashboard.pickle").read_bytes())


def protected_module_results(root: Path, area_id: str, municipality_code: int, policy) -> Path:
    """A results directory as a module would publish it: `monitor/warnings.csv` passed `protect`
    (one small count among them), and `plan/raw.csv` that did not (it must be refused)."""
    from boligmix.report.disclosure import protect

    frame = pl.DataFrame({"area_id": [area_id, area_id], "municipality_code": [municipality_code] * 2,
                          "year": [2023, 2024], "warning": ["ledighed stiger", "uddannelse falder"],
                          "n_households": [2, 175], "score": [0.25, 1.5]})
    (root / "monitor").mkdir(parents=True, exist_ok=True)
    protect(frame, counts=["n_households"], policy=policy).frame.write_csv(root / "monitor" / "warnings.csv")
    (root / "plan").mkdir(parents=True, exist_ok=True)
    frame.write_csv(root / "plan" / "raw.csv")
    return root


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serving(app) -> Iterator[str]:
    """Run `app` with uvicorn in a thread on a free loopback port; yield its base URL."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           access_log=False, lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the dashboard server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@lru_cache(maxsize=1)
def shared_module_outputs() -> Path:
    """`module_outputs` of `dataset_dir()`, made once per test run."""
    return built_once("module-outputs", lambda path: module_outputs(path / "results", dataset_dir())) / "results"


MONITOR_FORECAST = {"udsat": 0.8125, "parallelsamfund": 0.0625, "omdannelse": 0.03125, "forebyggelse": 0.5}


def module_outputs(root: Path, dataset: Path) -> Path:
    """A results directory with every module's real outputs on `dataset`, made by running the
    commands (simulate: two scenarios, 1 list year, 2 replications; plan share, plan optimise for
    the first area, rehouse into it; evaluate did on the stored test panel), and monitor's files in
    the format issue 14 documents (the module is built on another branch)."""
    from typer.testing import CliRunner

    from boligmix.cli.main import app
    from boligmix.data.io import read_table

    areas = read_table(dataset, "areas").sort("area_id")
    area_id, muni = areas["area_id"][0], int(areas["municipality_code"][0])
    runner = CliRunner()

    def run(*args: str) -> None:
        r = runner.invoke(app, list(args), catch_exceptions=False)
        assert r.exit_code == 0, (args, r.output)

    for scenario in ("baseline", "kombineret_udsat"):
        run("simulate", "--data", str(dataset), "--scenario", scenario, "--years", "1", "--replications", "2",
            "--seed", "5", "--out", str(root / "simulate" / scenario))
    plan = root / "plan"
    run("plan", "share", "--data", str(dataset), "--year", "2024", "--all-areas", "--out", str(plan / "share.csv"))
    inputs = root.parent / (root.name + "-inputs")
    inputs.mkdir(parents=True, exist_ok=True)
    (inputs / "options.csv").write_text(
        "option_id,kind,family_dwellings,new_dwellings,commercial_m2,cost_dkk,households,year,excludes,requires\n"
        "nedriv-a,demolish,300,0,0,90000000,280,2026,,\nsalg-b,sell,150,0,0,10000000,0,2027,,\n"
        "byg-c,build,0,400,0,200000000,0,2027,,\n", encoding="utf-8")
    run("plan", "optimise", "--options", str(inputs / "options.csv"), "--area-state", str(plan / "share.csv"),
        "--area", area_id, "--out", str(plan / area_id))
    n = 8
    (inputs / "H.csv").write_text(
        "household_id,persons,rooms_before,monthly_income_dkk,outside_work,municipality_code,scope_area,move_by\n"
        + "".join(f"h{i},2,3,25000,{int(i < 3)},{muni},,2026-06-01\n" for i in range(n)), encoding="utf-8")
    (inputs / "V.csv").write_text(
        "dwelling_id,area_id,municipality_code,rooms,monthly_rent_dkk,available_from\n"
        + "".join(f"d{i},{area_id},{muni},3,6000,2026-01-01\n" for i in range(n)), encoding="utf-8")
    (inputs / "W.csv").write_text("household_id,rank,area_id\n" + "".join(f"h{i},1,{area_id}\n" for i in range(n)),
                                  encoding="utf-8")
    (inputs / "C.csv").write_text(f"area_id,max_outside_work\n{area_id},5\n", encoding="utf-8")
    run("rehouse", "--households", str(inputs / "H.csv"), "--vacancies", str(inputs / "V.csv"), "--wishes",
        str(inputs / "W.csv"), "--caps", str(inputs / "C.csv"), "--out", str(plan / "genhusning"))
    panel = Path(__file__).parent / "data" / "evaluate" / "panel_unbalanced.csv"
    run("evaluate", "did", "--panel", str(panel), "--unit", "unit_id", "--time", "year", "--outcome", "outcome",
        "--treated-from", "treated_from", "--estimator", "twfe", "--out", str(root / "evaluate" / "did"))
    monitor = root / "monitor"
    monitor.mkdir(parents=True, exist_ok=True)
    pl.DataFrame({"area_id": [area_id] * 4, "year": [2025] * 4, "list": list(MONITOR_FORECAST),
                  "probability": list(MONITOR_FORECAST.values())}).write_csv(monitor / "forecast.csv")
    pl.DataFrame({"unit_id": [area_id, area_id, "D1"], "level": ["area", "area", "department"],
                  "kind": ["approaching_threshold", "receiving_area", "approaching_threshold"],
                  "indicator": ["pct_outside_work_edu", "pct_outside_work_edu", "pct_outside_work_edu"],
                  "value": [38.5, 3.0, 29.0], "threshold": [40.0, 40.0, 30.0],
                  "message": ["1,5 procentpoint under grænsen", "3 husstande flyttet ind fra listeområder",
                              "afdeling"]}).write_csv(monitor / "warnings.csv")
    return root


def letting_world(url: str, lettings: int = 3) -> dict[str, str]:
    """A letting store at `url` with two organisations in two municipalities, `lettings` leases in
    ORG1's department (offer rounds by plain list order) and one open vacancy in ORG2's; returns
    the token secrets by role name (org1, org2, muni101, analyst, revoked)."""
    from datetime import date, datetime, timezone

    from fastapi.testclient import TestClient

    from boligmix.letting.store.auth import create_token
    from boligmix.letting.store.migrate import upgrade
    from boligmix.letting.store.models import ApiToken
    from boligmix.letting.store.selection import StoreOrderRules
    from boligmix.web.app import create_app

    upgrade(url)
    app = create_app(url, rules=StoreOrderRules())
    store = app.state.store
    secrets = {}
    for name, role, scope in (("org1", "housing_organisation", ["ORG1"]), ("org2", "housing_organisation", ["ORG2"]),
                              ("muni101", "municipality", ["101"]), ("analyst", "analyst", []),
                              ("revoked", "analyst", [])):
        secrets[name] = store.transact(lambda s, n=name, r=role, sc=scope: create_token(s, name=n, role=r, scope=sc)[0])
    c = TestClient(app)

    def post(token: str, path: str, body: dict) -> dict:
        r = c.post(path, json=body, headers={"Authorization": f"Bearer {secrets[token]}"})
        assert r.status_code in (200, 201), (path, r.status_code, r.text)
        return r.json()

    for org, muni in (("ORG1", 101), ("ORG2", 147)):
        token = org.lower()
        post(token, "/api/departments", {"department_id": f"{org}-01", "org_id": org, "department_name": f"Afd. {org}",
                                         "municipality_code": muni, "area_id": None, "area_categories": [], "facts": {}})
        for i in range(lettings + 1):
            post(token, "/api/dwellings", {"dwelling_id": (1 if org == "ORG1" else 2) * 1000 + i,
                                           "department_id": f"{org}-01", "rooms": 3, "floor_area_m2": 80.0,
                                           "monthly_rent_dkk": 6000.0})
    for i in range(lettings):
        post("org1", "/api/applicants", {"applicant_id": 7_000_000 + i, "household_id": 8_000_000 + i,
                                         "list_type": "external", "org_id": "ORG1",
                                         "seniority_date": date(2010, 1, 1 + i).isoformat(), "min_rooms": 1})
    for i in range(lettings):
        vacancy = post("org1", "/api/vacancies", {"dwelling_id": 1000 + i, "available_from": "2026-01-01",
                                                  "channel": "waiting_list"})
        offers = post("org1", f"/api/vacancies/{vacancy['vacancy_id']}/offers", {"count": 1})
        post("org1", f"/api/offers/{offers['offers'][0]['offer_id']}/accept", {})
    post("org2", "/api/vacancies", {"dwelling_id": 2000, "available_from": "2026-01-01", "channel": "waiting_list"})
    from sqlalchemy import update

    from boligmix.letting.store.auth import hash_token

    store.transact(lambda s: s.execute(update(ApiToken).where(ApiToken.token_sha256 == hash_token(secrets["revoked"]))
                                       .values(revoked_at=datetime(2026, 1, 1, tzinfo=timezone.utc))))
    store.engine.dispose()
    return secrets
