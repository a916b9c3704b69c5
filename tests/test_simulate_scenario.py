"""Scenario files: packaged ones load; a bad one is an error naming the file and the key."""

import pytest

from boligmix.errors import ConfigurationError
from boligmix.simulate.scenario import load_scenario, packaged_scenarios


def test_packaged_scenarios_load_with_their_policies():
    assert set(packaged_scenarios()) >= {"baseline", "kombineret_udsat", "fleksibel_half", "demolish_omdannelse"}
    kombineret = load_scenario("kombineret_udsat").policies().get("dk.almenboligloven.51b")
    assert kombineret.spec.enabled is True
    assert load_scenario("baseline").policies().get("dk.almenboligloven.51b").spec.enabled is False
    assert load_scenario("demolish_omdannelse").policies().get("dk.almenboligloven.59").spec.shares[
        "rehousing"] == pytest.approx(0.3333)
    assert load_scenario("fleksibel_half").policies().get("scenario.fleksibel_half_listed").spec.shares[
        "fleksibel"] == 0.5


@pytest.mark.parametrize("body, key", [
    ("format: boligmix-scenario/1\nname: x\nactons: []\n", "actons"),
    ("format: boligmix-scenario/1\nname: x\nactions:\n  - {offset: 0, action: demolish, areas: {from_list: udsat}}\n",
     "actions.0"),
    ("format: boligmix-scenario/1\nname: x\nactions:\n  - {offset: 0, action: explode, areas: {areas: [A]}, share: 1}\n",
     "actions.0.action"),
    ("format: boligmix-scenario/1\nname: x\narea_categories:\n  kombineret_udlejning: {from_list: ghetto}\n",
     "area_categories.kombineret_udlejning.from_list"),
    ("format: boligmix-scenario/1\nname: x\noverrides:\n  dk.nonexistent: {enabled: true}\n", "overrides.dk.nonexistent"),
    ("format: boligmix-scenario/1\nname: x\noverrides:\n  dk.almenboligloven.59: {shares: {rehousing: 0.9}}\n",
     "overrides.dk.almenboligloven.59.shares"),
    ("format: boligmix-scenario/1\nname: x\noverrides:\n  dk.almenboligloven.51b: {switches: {no_such_switch: 1}}\n",
     "overrides.dk.almenboligloven.51b.switches.no_such_switch"),
    ("format: boligmix-scenario/1\nname: x\noverrides:\n  dk.venteliste: {constants: {max_rooms: 3}}\n",
     "overrides.dk.venteliste.constants.max_rooms"),
    ("format: boligmix-scenario/1\nname: x\npolicies: [missing.yaml]\n", "policies.0"),
    ("format: boligmix-scenario/2\nname: x\n", "format"),
])
def test_a_bad_scenario_names_file_and_key(tmp_path, body, key):
    path = tmp_path / "bad.yaml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(ConfigurationError) as err:
        load_scenario(path)
    assert err.value.source == str(path)
    assert err.value.field == key
    assert str(path) in str(err.value)


def test_an_invalid_override_names_the_policy_file_it_changes(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("format: boligmix-scenario/1\nname: x\noverrides:\n"
                    "  dk.almenboligloven.51b: {switches: {no_such_switch: 1}}\n", encoding="utf-8")
    with pytest.raises(ConfigurationError) as err:
        load_scenario(path)
    assert "kombineret_udlejning.yaml" in str(err.value) and "boligmix-scenario-" not in str(err.value)
    assert "unknown switch 'no_such_switch'" in str(err.value)


@pytest.mark.parametrize("policy, message", [("a: [1, 2\n", "not valid YAML"), (None, "not UTF-8")])
def test_a_broken_policy_file_with_overrides_names_that_file(tmp_path, policy, message):
    """The overrides read every policy file through boligmix.rules.files: no YAML traceback."""
    (tmp_path / "extra.yaml").write_bytes("id: 'æ'\n".encode("latin-1") if policy is None else policy.encode())
    path = tmp_path / "scenario.yaml"
    path.write_text("format: boligmix-scenario/1\nname: x\npolicies: [extra.yaml]\noverrides:\n"
                    "  dk.almenboligloven.51b: {enabled: true}\n", encoding="utf-8")
    with pytest.raises(ConfigurationError) as err:
        load_scenario(path)
    assert err.value.source == str(tmp_path / "extra.yaml") and message in str(err.value)


def test_unknown_scenario_name_lists_the_packaged_ones():
    with pytest.raises(ConfigurationError, match="baseline"):
        load_scenario("no_such_scenario")


def test_cli_reports_a_bad_scenario_with_exit_code_2(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    bad = tmp_path / "bad.yaml"
    bad.write_text("format: boligmix-scenario/1\nname: x\nactions:\n  - {offset: 0, action: explode}\n")
    src = str(Path(__file__).resolve().parent.parent / "src")
    result = subprocess.run([sys.executable, "-m", "boligmix.cli.main", "simulate", "--data", str(tmp_path / "data"),
                             "--scenario", str(bad), "--out", str(tmp_path / "run")], capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": src}, timeout=120)
    assert result.returncode == 2, result.stderr
    output = " ".join((result.stdout + result.stderr).split())
    assert "bad.yaml" in output and "actions.0" in output and "Traceback" not in output
    assert not (tmp_path / "run").exists()



def test_an_override_of_a_constant_changes_what_the_rule_allows(tmp_path):
    """The waiting list's size rule with `max_rooms_over_persons` raised by a scenario: the engine
    meets it with a single person in a 4-room dwelling, which the statutory default (1) only allows when
    the rule lapses (the applicant is ranked after every applicant meeting it)."""
    from letting_factories import NOW, applicant, dwelling, vacancy

    from boligmix.letting.engine import LettingEngine
    from boligmix.letting.model import Channel

    path = tmp_path / "size.yaml"
    path.write_text("format: boligmix-scenario/1\nname: x\noverrides:\n"
                    "  dk.venteliste: {constants: {max_rooms_over_persons: 3}}\n", encoding="utf-8")
    relaxed, default = load_scenario(path).policies(), load_scenario("baseline").policies()
    assert relaxed.get("dk.venteliste").spec.constants["max_rooms_over_persons"] == 3
    assert default.get("dk.venteliste").spec.constants["max_rooms_over_persons"] == 1
    flat = vacancy(dwelling(1, rooms=4))
    refused = LettingEngine(default).assess(flat, applicant(1), Channel.WAITING_LIST, NOW)
    allowed = LettingEngine(relaxed).assess(flat, applicant(1), Channel.WAITING_LIST, NOW)
    assert refused.outcome is None and refused.lapsed == ("dk.venteliste#size_underuse",)  # ranked after those meeting it
    assert allowed.outcome is None and allowed.lapsed == ()
