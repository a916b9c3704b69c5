"""The vectorised policy evaluation (`boligmix.letting.compiled.decide`, and its row form
`RowDecider` with memoised verdicts) equals `LettingEngine.assess` rule by rule on random
applicants and dwellings: the same outcome, the same deciding rule, the same priority key and
priorities met, for every channel and several switch settings."""

from datetime import datetime, timedelta

import numpy as np
import pytest

from boligmix.letting.compiled import RowDecider, decide
from boligmix.letting.engine import policy_facts
from boligmix.letting.facts import base_facts
from boligmix.letting.engine import LettingEngine
from boligmix.letting.model import Channel, ListType
from boligmix.letting.policy import POLICY_DIR
from boligmix.letting.scenario import ScenarioSettings, _applicant, make_applicants, make_vacancy
from boligmix.simulate.scenario import PolicyOverride, build_policy_set

VARIANTS = {
    "statutory+local": ({}, [POLICY_DIR / "local"]),
    "exclusive fleksibel, optional § 51 b groups": (
        {"dk.almenboligloven.60.stk4": PolicyOverride(switches={"mode": "exclusive"}),
         "dk.almenboligloven.51b": PolicyOverride(enabled=True, switches={"include_foertidspension": True,
                                                                          "include_unemployment_sickness": True})},
        []),
}
CHANNELS = (Channel.WAITING_LIST, Channel.INTERNAL, Channel.FLEKSIBEL, Channel.ANNONCERING,
            Channel.KOMMUNAL_ANVISNING, Channel.REHOUSING)
LIST_TYPE = {Channel.KOMMUNAL_ANVISNING: ListType.MUNICIPAL_REFERRAL, Channel.REHOUSING: ListType.REHOUSING,
             Channel.ANNONCERING: ListType.ADVERT_RESPONSE}


def _row_decision(decider, policies, vacancy, channel, applicants, on):
    """`RowDecider` on the fact rows of every applicant (the scalar form with memoised verdicts)."""
    covering = [p for p in policies.in_force(vacancy.dwelling, on) if p.covers(channel)]
    base = [base_facts(a, vacancy.dwelling, on, a.refusal_count) for a in applicants]
    rows = {p.id: [policy_facts(p, a, b, on)[0] for a, b in zip(applicants, base)] for p in covering}
    outcome, rule_of, keys, met = decider.decide(covering, lambda p: rows[p.id], len(applicants))
    return [(o, r, tuple(k) if o is None else (), tuple(m) if o is None else ())
            for o, r, k, m in zip(outcome, rule_of, keys, met)]


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_compiled_decision_equals_the_engine_rule_by_rule(variant, seed):
    overrides, extra = VARIANTS[variant]
    policies = build_policy_set(extra, overrides, "test")
    rng = np.random.default_rng(seed)
    settings = ScenarioSettings(applicants=60)
    waiting = make_applicants(rng, settings)
    engine = LettingEngine(policies)
    rows_decider = RowDecider()          # shared across vacancies: its memo of verdicts is what is tested too
    compared = rejected = skipped = ranked = 0
    rules_seen = set()
    for j in range(12):
        now = datetime(2024, 1, 8, 9) + timedelta(days=int(rng.integers(0, 900)))
        vacancy = make_vacancy(rng, j, settings, now.date())
        for channel in CHANNELS:
            if channel in LIST_TYPE:
                applicants = [_applicant(rng, 10_000 + 100 * j + k, LIST_TYPE[channel], settings.start)
                              for k in range(15)]
            else:
                applicants = waiting
            table = decide(policies, vacancy, channel, applicants, now.date())
            assert table["applicant_id"].to_list() == [a.applicant_id for a in applicants]
            rows = _row_decision(rows_decider, policies, vacancy, channel, applicants, now.date())
            assert rows == [(r["outcome"], r["rule_id"], tuple(r["priority_key"]), tuple(r["priorities_met"]))
                            for r in table.iter_rows(named=True)]
            for a, row in zip(applicants, table.iter_rows(named=True)):
                expected = engine.assess(vacancy, a, channel, now)
                want = None if expected.outcome is None else expected.outcome.value
                assert row["outcome"] == want, (variant, channel, a.applicant_id, expected.reason)
                if expected.outcome is None:
                    assert tuple(row["priority_key"]) == expected.priority_key
                    assert tuple(row["priorities_met"]) == expected.priorities_met
                    ranked += 1
                else:
                    assert row["rule_id"] == expected.hit.rule.rule_id, (channel, expected.reason)
                    rules_seen.add(row["rule_id"])
                    rejected += want == "rejected"
                    skipped += want == "skipped"
                compared += 1
    assert compared > 1000 and rejected > 0 and skipped > 0 and ranked > 0
    assert len(rules_seen) >= 5


def test_row_decider_keeps_verdicts_apart_for_equal_values_of_other_types():
    """`1 == True` and `hash(1) == hash(True)` in Python, but the evaluator refuses a bool in an
    ordering comparison: the memo must not hand the verdict of age 1 to age True (nor 20 to 20.5)."""
    from boligmix.errors import DataValidationError
    from boligmix.letting.policy import load_policies

    policies = load_policies([POLICY_DIR / "statutory", POLICY_DIR / "local" / "k0101_unge_opvokset.yaml"])
    policy = next(p for p in policies.policies if p.id == "k0101.unge-opvokset")
    decider = RowDecider()
    facts = {name: None for name in decider.fields(policy)}
    facts.update({"applicant.grew_up_in_dwelling_area": True, "applicant.moving_out_from_parents": True,
                  "applicant.in_education": True})

    def decide(age):
        return decider.decide([policy], lambda p: [{**facts, "applicant.age": age}], 1)

    assert decide(1)[3] == [[]]                      # too young: no priority
    assert decide(20)[3] == [["k0101.unge-opvokset#grew_up_here"]]
    with pytest.raises(DataValidationError, match="applicant.age"):
        decide(True)                                 # equal to 1 as a key, but not a number to compare
    assert decide(29)[3] == [["k0101.unge-opvokset#grew_up_here"]] and decide(29.5)[3] == [[]]
