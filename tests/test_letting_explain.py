"""Decision log files and `boligmix letting explain` / `check-policy`."""

import json
import re
from datetime import date

import pytest
from letting_factories import NOW, applicant, dwelling, history, vacancy
from typer.testing import CliRunner

from boligmix.cli.main import app
from boligmix.errors import DataValidationError
from boligmix.letting.decision_log import read_decision_log, write_decision_log
from boligmix.letting.engine import LettingEngine
from boligmix.letting.explain import explain_decisions
from boligmix.letting.model import Outcome
from boligmix.letting.policy import POLICY_DIR, load_default_policies

OMDANNELSE = ("udsat", "parallelsamfund", "omdannelse")


@pytest.fixture(scope="module")
def log():
    """Dwelling 7 in an omdannelsesområde: applicant 1 rejected (§ 51 c), 2 refuses, 3 gets it;
    applicant 4 never applied; applicant 5 ranked beyond the round."""
    engine = LettingEngine(load_default_policies())
    kh = history(("kontanthjaelp", date(2023, 6, 1), date(2024, 6, 1)))  # receives it in June 2024
    apps = [applicant(1, date(2010, 1, 1), benefits=kh), applicant(2, date(2012, 1, 1)),
            applicant(3, date(2013, 1, 1)), applicant(6, date(2014, 1, 1)), applicant(5, date(2016, 1, 1))]
    r = engine.next_offers(vacancy(dwelling(7, categories=OMDANNELSE)), apps, None, NOW)
    engine.refuse(r.offers[0].offer_id, NOW)
    engine.accept(r.offers[1].offer_id, NOW)
    return engine.decisions


def test_explain_rejection_names_rule_version_law_and_facts(log):
    e = explain_decisions(log, 1, 7)
    assert not e.got_dwelling and e.let_to == (3,)
    assert "rejected by rule dk.almenboligloven.51c#listed_benefits (version 2019-07-01.2, § 51 c)" in e.verdict
    assert "let to applicant 3" in e.verdict
    text = "\n".join(e.lines())
    assert "listed_benefits_now=True" in text


def test_explain_winner_refuser_bystander(log):
    assert explain_decisions(log, 3, 7).got_dwelling
    assert "refused the offer" in explain_decisions(log, 2, 7).verdict
    assert "never considered" in explain_decisions(log, 4, 7).verdict
    beyond = explain_decisions(log, 5, 7)
    assert "ranked 4" in beyond.verdict and beyond.steps[-1].outcome == Outcome.LET
    assert "No decisions" in explain_decisions(log, 1, 99).verdict


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_decision_log_round_trip(tmp_path, log, suffix):
    path = write_decision_log(tmp_path / f"log{suffix}", log)
    assert read_decision_log(path) == list(log)


def test_broken_decision_log_names_row_and_column(tmp_path, log):
    path = write_decision_log(tmp_path / "log.jsonl", log)
    lines = path.read_text(encoding="utf-8").splitlines()
    record = json.loads(lines[2])
    record["outcome"] = "maybe"
    lines[2] = json.dumps(record)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DataValidationError) as info:
        read_decision_log(path)
    assert (info.value.row, info.value.column) == (3, "outcome")
    with pytest.raises(DataValidationError, match="must end in"):
        write_decision_log(tmp_path / "log.csv", log)


def test_cli_explain(tmp_path, log):
    path = write_decision_log(tmp_path / "log.parquet", log)
    runner = CliRunner()
    result = runner.invoke(app, ["letting", "explain", "--decisions", str(path), "--applicant", "1", "--dwelling", "7"])
    assert result.exit_code == 0, result.output
    assert "dk.almenboligloven.51c#listed_benefits" in result.output
    as_json = runner.invoke(app, ["letting", "explain", "--decisions", str(path), "--applicant", "3",
                                  "--dwelling", "7", "--json"])
    assert as_json.exit_code == 0
    payload = json.loads(as_json.stdout)
    assert payload["got_dwelling"] is True and payload["steps"][-1]["outcome"] == "let"
    danish = runner.invoke(app, ["letting", "explain", "--decisions", str(path), "--applicant", "3", "--dwelling", "7"])
    assert danish.exit_code == 0 and danish.stdout.startswith("Ansøger 3 fik bolig 7")
    rejected = runner.invoke(app, ["letting", "explain", "--decisions", str(path), "--applicant", "1", "--dwelling", "7"])
    text = rejected.stdout
    assert "Ansøger 1 blev afvist (regel dk.almenboligloven.51c#listed_benefits" in text and "begrundelse:" in text
    # Danish labels only: no internal field names such as listed_benefits_6m or applicant.age
    assert not re.search(r"\b[a-z_]+\.[a-z_]+=|listed_benefits_6m|\w+=\w+", text.split("(regel")[0] + "".join(
        line.split("begrundelse:")[0] for line in text.splitlines()))
    english = runner.invoke(app, ["letting", "explain", "--decisions", str(path), "--applicant", "1", "--dwelling",
                                  "7", "--lang", "en"])
    assert "facts:" in english.stdout and "Applicant 1" in english.stdout
    missing = runner.invoke(app, ["letting", "explain", "--decisions", str(tmp_path / "no.jsonl"),
                                  "--applicant", "1", "--dwelling", "7"])
    assert missing.exit_code == 2


def test_cli_check_policy(tmp_path):
    runner = CliRunner()
    ok = runner.invoke(app, ["letting", "check-policy", str(POLICY_DIR / "local"), "--json"])
    assert ok.exit_code == 0, ok.output
    ids = {p["id"] for p in json.loads(ok.stdout)["policies"]}
    assert "k0101.kombineret" in ids and "dk.venteliste" not in ids
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: t.bad\nbase: dk.almenboligloven.51b\nversion: '1'\neffective_from: 2022-01-01\n"
                   "scope: {municipality_codes: [101]}\nswitches: {include_everyone: true}\n", encoding="utf-8")
    result = runner.invoke(app, ["letting", "check-policy", str(bad)])
    assert result.exit_code == 2
    flat = "".join(result.output.split())  # Rich may wrap long error lines
    assert "include_everyone" in flat and "bad.yaml" in flat


def test_integer_identifiers_from_a_store_export_are_read(tmp_path, log):
    from boligmix.letting.decision_log import decision_to_record
    record = decision_to_record(log[0])
    record.update(decision_id=17, vacancy_id=3, offer_id=None, round_id=None)
    path = tmp_path / "store.jsonl"
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    (decision,) = read_decision_log(path)
    assert (decision.decision_id, decision.vacancy_id) == ("17", "3")


def test_cli_check_policy_with_explicit_bases(tmp_path):
    local = tmp_path / "local.yaml"
    local.write_text("id: t.k\nbase: dk.almenboligloven.51b\nversion: '1'\neffective_from: 2022-01-01\n"
                     "enabled: true\nscope: {municipality_codes: [751], area_categories: [kombineret_udlejning]}\n",
                     encoding="utf-8")
    runner = CliRunner()
    ok = runner.invoke(app, ["letting", "check-policy", str(local), "--with", str(POLICY_DIR / "statutory"), "--json"])
    assert ok.exit_code == 0, ok.output
    (row,) = json.loads(ok.stdout)["policies"]
    assert row["id"] == "t.k" and row["enabled"] is True and row["switches"]["include_foertidspension"] is False
    (tmp_path / "empty").mkdir()
    no_base = runner.invoke(app, ["letting", "check-policy", str(local), "--with", str(tmp_path / "empty")])
    assert no_base.exit_code == 2
    assert "basepolicy'dk.almenboligloven.51b'notfound" in "".join(no_base.output.split())  # immune to wrapping


def test_register_shares_an_existing_letting_group():
    import typer

    from boligmix.cli import letting as letting_cli
    root = typer.Typer()
    other = typer.Typer()

    @other.command("init-db")
    def init_db() -> None:  # stands in for another module's command in the same group
        """Other module."""

    root.add_typer(other, name="letting")
    letting_cli.register(root)
    assert [g.name for g in root.registered_groups] == ["letting"]
    names = {c.name for c in other.registered_commands}
    assert {"init-db", "explain", "check-policy", "simulate"} <= names
