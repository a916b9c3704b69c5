"""The synthetic letting scenario and `boligmix letting simulate`: seeded, complete, explainable."""

import json

from typer.testing import CliRunner

from boligmix.cli.main import app
from boligmix.letting.decision_log import read_decision_log
from boligmix.letting.explain import explain_decisions
from boligmix.letting.model import Outcome
from boligmix.letting.policy import load_default_policies
from boligmix.letting.scenario import ScenarioSettings, run_scenario

SMALL = ScenarioSettings(applicants=60, vacancies=12)


def test_same_seed_same_log_other_seed_other_log():
    policies = load_default_policies(include_local_examples=True)
    a = run_scenario(policies, 5, SMALL)
    b = run_scenario(policies, 5, SMALL)
    c = run_scenario(policies, 6, SMALL)
    assert a.engine.decisions == b.engine.decisions
    assert a.engine.decisions != c.engine.decisions
    lets = [d for d in a.engine.decisions if d.outcome == Outcome.LET]
    assert a.summary["lettings"] == len(lets) == len(a.engine.lettings) > 0
    assert sum(a.summary["lettings_by_channel"].values()) == len(lets)


def test_simulate_writes_an_explainable_log(tmp_path):
    out = tmp_path / "log.parquet"
    result = CliRunner().invoke(app, ["letting", "simulate", "--out", str(out), "--seed", "4", "--applicants", "60",
                                      "--vacancies", "12", "--json"])
    assert result.exit_code == 0, result.output
    meta = json.loads(result.stdout)
    assert meta["seed"] == 4 and any(p["id"] == "dk.almenboligloven.51c" for p in meta["policies"])
    assert json.loads((tmp_path / "log.parquet.meta.json").read_text(encoding="utf-8"))["lettings"] == meta["lettings"]
    log = read_decision_log(out)
    assert len(log) == meta["decisions"]
    let = next(d for d in log if d.outcome == Outcome.LET)
    assert explain_decisions(log, let.applicant_id, let.dwelling_id).got_dwelling
