"""Letting reasons in Danish: every packaged rule has a Danish text, and `letting explain` in
Danish quotes no English reason and no internal field, switch or constant name."""

import json
import re

import pytest
from typer.testing import CliRunner

from boligmix.cli.main import app
from boligmix.errors import ConfigurationError
from boligmix.letting.decision_log import write_decision_log
from boligmix.letting.explain import explain_decisions
from boligmix.letting.policy import POLICY_DIR, load_default_policies, load_policies, policy_files
from boligmix.letting.policy_compile import rule_text
from boligmix.letting.reason_da import SHAPES, UNTRANSLATED, danish_text
from boligmix.letting.scenario import ScenarioSettings, run_scenario
from boligmix.letting.store.accept_sql import REASON_PROVISIONAL
from boligmix.letting.switches import TOOL_SWITCHES

SCENARIO_POLICIES = POLICY_DIR.parent.parent / "simulate" / "scenarios" / "policies"
PACKAGED = policy_files([POLICY_DIR / "statutory", POLICY_DIR / "local", SCENARIO_POLICIES])


def _internal_names(policies) -> set[str]:
    """Every name a policy file uses internally: facts, switches, constants (and their parts)."""
    names: set[str] = {name for switches in TOOL_SWITCHES.values() for name in switches}
    for p in policies.policies:
        names |= set(p.spec.constants) | set(p.spec.input_facts) | set(p.spec.member_input_facts)
        names |= set(p.spec.derived_facts) | set(p.switches)
        for rules in p.rules.values():
            names |= {f for r in rules for f in r.fields}
    return {n for n in names if "_" in n or "." in n}  # one-word names ('rank') are Danish-neutral


@pytest.fixture(scope="module")
def policies():
    return load_default_policies(include_local_examples=True)


@pytest.fixture(scope="module")
def every_packaged_policy():
    return load_policies([POLICY_DIR / "statutory", POLICY_DIR / "local", SCENARIO_POLICIES])


@pytest.mark.parametrize("path", PACKAGED, ids=lambda p: p.name)
def test_every_rule_of_every_packaged_policy_has_a_danish_text(path, every_packaged_policy):
    policies = every_packaged_policy
    ids = set()
    for p in policies.policies:
        if p.source == str(path):
            ids.add(p.id)
            for kind, rules in p.rules.items():
                for rule in rules:
                    da = rule_text(rule, p.spec.constants, "da")
                    assert da.strip(), f"{path.name}: {kind} {rule.spec.id} has no description_da"
                    assert "{" not in da and da != rule.spec.description
                    words = set(re.findall(r"[\w.]+", da))
                    assert not words & _internal_names(policies), (rule.rule_id, words & _internal_names(policies))
    assert ids, f"{path} was not loaded"


def test_a_placeholder_must_name_a_constant(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: t.bad\ntool: delebolig\nversion: '1'\neffective_from: 2022-01-01\n"
                   "eligibility:\n  - id: one\n    description: one person\n"
                   "    description_da: 'højst {max_persons} personer'\n"
                   "    condition: {compare: {field: household.persons_per_room, op: '<=', value: 1}}\n"
                   "    on_unknown: hold\n", encoding="utf-8")
    with pytest.raises(ConfigurationError) as info:
        load_policies([bad])
    assert info.value.field == "eligibility[0].description_da" and "max_persons" in str(info.value)


def test_constants_fill_the_danish_text(policies):
    waiting = policies.get("dk.venteliste")
    crowding = next(r for r in waiting.rules["eligibility"] if r.spec.id == "size_crowding")
    assert rule_text(crowding, waiting.spec.constants) == \
        f"højst {waiting.spec.constants['max_persons_per_room']} personer pr. rum"
    assert "max_persons_per_room" in rule_text(crowding, waiting.spec.constants, "en")


@pytest.fixture(scope="module")
def scenario(policies):
    return run_scenario(policies, 3, ScenarioSettings(applicants=120, vacancies=40))


def test_explain_in_danish_quotes_no_english_reason_and_no_internal_name(scenario, policies):
    decisions = scenario.engine.decisions
    english_rules = {r.spec.description for p in policies.policies for rules in p.rules.values() for r in rules
                     if r.spec.description}
    english_reasons = {d.reason for d in decisions}
    internal = _internal_names(policies)
    pairs = sorted({(d.applicant_id, d.dwelling_id) for d in decisions if d.applicant_id is not None})
    outcomes = set()
    for applicant_id, dwelling_id in pairs[::7]:
        e = explain_decisions(decisions, applicant_id, dwelling_id, policies)
        outcomes |= {d.outcome for d in e.steps}
        text = "\n".join(e.lines("da"))
        assert UNTRANSLATED not in text
        readable = re.sub(r"\(regel [^)]*\)", "", text)  # the rule id and version are cited as they are
        for english in english_rules | english_reasons:
            assert english not in readable, english
        assert not set(re.findall(r"[\w.]+", readable)) & internal
    assert len(outcomes) >= 6  # rejected, skipped, offered, refused/expired, accepted, let, ...


def test_every_reason_the_scenario_records_has_a_danish_wording(scenario, policies):
    missing = {d.reason for d in scenario.engine.decisions
               if danish_text(d.reason, d.rule_id, d.rule_version, policies) == UNTRANSLATED}
    assert not missing


REASONS = [  # (rule, English reason as the engine / store / exchange word it, a word the Danish must hold)
    ("dk.venteliste#reactivation", "active on the waiting list again at the applicant's request; 2 refusals still "
                                   "count; seniority from 2024-03-01", "01.03.2024"),
    ("dk.venteliste#withdrawal", "offer withdrawn: the applicant withdrew the application (left the list on "
                                 "2024-03-01)", "trak ansøgningen tilbage"),
    ("dk.venteliste#withdrawal", "offer withdrawn: the applicant withdrew the application (left the external "
                                 "list on 2024-03-01)", "udgik af ventelisten"),
    ("dk.almenboligloven.60a#busy_applicants", "not advertised: 2 eligible applicant(s) on the waiting list hold "
     "an open offer elsewhere and may still take this dwelling (switch busy_applicants=wait)", "ikke annonceret"),
    ("dk.almenboligloven.60a#trigger", "the waiting list gave no eligible applicant (letting outside the list, "
     "§ 51, stk. 5); the dwelling is advertised under the § 60 a agreement", "§ 60 a"),
    ("dk.almenboligloven.63#udslusningsbolig", "an udslusningsbolig at the municipality's disposal: let to its "
     "referrals (outside the share counts and obligatory fleksibel udlejning)", "udslusningsbolig"),
    ("dk.venteliste#list", "list type internal is not used by channel kommunal_anvisning", "intern venteliste"),
    ("dk.venteliste#list", "withdrew the application on 2024-02-01 (left the list)", "01.02.2024"),
    ("dk.venteliste#list", "already housed: let a dwelling by this engine (letting L3)", "L3"),
    ("dk.venteliste#offer_round", "no answer by 2024-06-22T10:00:00", "22.06.2024"),
    ("dk.venteliste#offer_round", "offer withdrawn: the dwelling was let to applicant 9 (rank 1)", "ansøger 9"),
    ("dk.venteliste#offer_round", "offer withdrawn: the applicant was let dwelling 12 (letting L1)", "bolig 12"),
    ("boligmix.store#accept", "the applicant accepted the offer; lease created", "lejekontrakten"),
    ("boligmix.store#accept", "the best-ranked acceptor: the better-ranked offers were answered or expired "
                              "(2 offers); lease created", "lejekontrakten"),
    ("boligmix.store#withdraw", "the dwelling was let to another applicant", "anden ansøger"),
    ("boligmix.store#accept_provisional", REASON_PROVISIONAL, "accepten venter"),
    ("boligmix.store#register", "vacancy registered, to be let by kommunal_anvisning", "kommunal anvisning"),
    ("boligmix.store.waiting_list_order#rooms", "the dwelling has fewer rooms than the applicant wants", "færre rum"),
    ("boligmix.store.waiting_list_order#rent", "the rent is above the applicant's maximum", "huslejen"),
    ("boligmix.store.waiting_list_order#order", "first in the list order among fitting applicants", "rækkefølge"),
    ("dk.venteliste#offer_round", "no answer by 2024-06-22T10:00:00+00:00; the acceptance at "
                                  "2024-06-23T09:00:00+00:00 came after the deadline and is refused", "afvises"),
    ("bytte_fremleje#not_in_force", "no bytte requirement in force for this dwelling on 2024-01-01 (area on no "
                                    "covered list, or before the rules)", "bytte"),
    ("dk.bytte_fremleje.udsatte#covers_fremleje", "fremleje is not covered (switch covers_fremleje)", "fremleje"),
    ("dk.almenboligloven.60.stk4#criteria", "bytte into a listed area: the incoming household does not meet "
     "'the municipality's employment and education criteria' (almenboligloven § 60, stk. 4)", "beskæftigelses"),
    ("dk.almenboligloven.51c#listed_benefits", "held: applicant and partner currently receive "
     "selvforsørgelses-/hjemrejse-/overgangsydelse, uddannelseshjælp or kontanthjælp cannot be decided; unknown: "
     "listed_benefits_now", "afventer"),
    ("dk.venteliste#wish_rent", "held: 'the rent is within the applicant's maximum' cannot be decided; unknown: "
                                "applicant.wish_rent_ok", "afventer"),
]


@pytest.mark.parametrize(("rule", "reason", "word"), REASONS, ids=[r[0] + ":" + r[1][:20] for r in REASONS])
def test_engine_and_store_reasons_read_in_danish(rule, reason, word, policies):
    da = danish_text(reason, rule, None, policies)
    assert da != UNTRANSLATED and word in da
    assert not set(re.findall(r"[\w.]+", da)) & _internal_names(policies), da
    assert not re.search(r"\b(the|applicant|offer|dwelling|waiting|list|switch)\b", da), da


def test_shapes_match_whole_reasons_only(policies):
    assert danish_text("something new the engine says", "dk.venteliste#ranking", None, policies) == UNTRANSLATED
    assert all(p.pattern for p, _ in SHAPES)


def test_cli_explain_danish_by_default_english_on_request(tmp_path, scenario):
    decisions = scenario.engine.decisions
    rejected = next(d for d in decisions if d.rule_id and d.rule_id.endswith("#listed_benefits"))
    path = write_decision_log(tmp_path / "log.jsonl", decisions)
    args = ["letting", "explain", "--decisions", str(path), "--applicant", str(rejected.applicant_id),
            "--dwelling", str(rejected.dwelling_id)]
    runner = CliRunner()
    danish = runner.invoke(app, args)
    assert danish.exit_code == 0, danish.output
    assert "ansøger og ægtefælle eller samlever" in danish.stdout and rejected.reason not in danish.stdout
    english = runner.invoke(app, [*args, "--lang", "en"])
    assert rejected.reason in english.stdout


def test_check_policy_names_rules_without_a_danish_text(tmp_path):
    local = tmp_path / "local.yaml"
    local.write_text("id: t.d\ntool: delebolig\nversion: '1'\neffective_from: 2022-01-01\n"
                     "scope: {municipality_codes: [751]}\n"
                     "eligibility:\n  - id: one\n    description: one person\n"
                     "    condition: {compare: {field: household.persons_per_room, op: '<=', value: 1}}\n"
                     "    on_unknown: hold\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["letting", "check-policy", str(local), "--json"])
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)["policies"]
    assert row["rules_without_danish_text"] == ["t.d#one"]
    packaged = CliRunner().invoke(app, ["letting", "check-policy", str(POLICY_DIR / "local"), "--json"])
    assert all(not r["rules_without_danish_text"] for r in json.loads(packaged.stdout)["policies"])
