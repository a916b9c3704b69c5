"""Offentlig annoncering (§ 60 a) and applicants who are busy (hold an open offer elsewhere).

A caller that gives one open offer at a time (the letting store) holds such applicants back from a
round. Switch `busy_applicants` of the advertising policy (UNCONFIRMED: the § 60 a conditions were
not readable): `wait` (default) - an eligible busy applicant still counts, the list is not exhausted
and the dwelling is not advertised (a waiting-list applicant keeps the seniority advantage over
advert respondents); `ignore` - only applicants free now count, so a busy list is advertised.
"""

from dataclasses import replace
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from letting_factories import NOW, applicant, decision_for, dwelling, vacancy

from boligmix.errors import ConfigurationError
from boligmix.letting.engine import LettingContext, LettingEngine
from boligmix.letting.model import Channel, ListType, Outcome
from boligmix.letting.policy import POLICY_DIR, load_policies


def _policies(tmp_path, mode: str | None):
    switch = f"switches: {{busy_applicants: {mode}}}\n" if mode else ""
    (tmp_path / "a.yaml").write_text(
        "id: t.annoncering\nbase: dk.almenboligloven.60a\nversion: '1'\neffective_from: 2020-01-01\nenabled: true\n"
        "scope: {municipality_codes: [461]}\n" + switch, encoding="utf-8")
    return load_policies([POLICY_DIR / "statutory", tmp_path])


def _round(policies, busy):
    too_big = applicant(1, date(2010, 1, 1), min_rooms=4)          # wants 4 rooms: skipped
    respondent = applicant(9, date(2024, 6, 1), list_type=ListType.ADVERT_RESPONSE)
    engine = LettingEngine(policies)
    return engine.next_offers(vacancy(dwelling(1, rooms=2)), [too_big],
                              LettingContext(advert_respondents=[respondent], busy=busy), NOW)


def test_default_waits_for_an_eligible_busy_applicant(tmp_path):
    r = _round(_policies(tmp_path, None), [applicant(2, date(2012, 1, 1))])
    assert r.channel == Channel.WAITING_LIST and r.offers == ()
    [held] = [d for d in r.decisions if d.outcome == Outcome.CHANNEL and d.rule_id == "t.annoncering#busy_applicants"]
    assert held.channel == Channel.WAITING_LIST and held.facts["busy_eligible"] == 1
    assert held.facts["busy_applicants"] == "wait" and "not advertised" in held.reason
    assert decision_for(r, 1).outcome == Outcome.SKIPPED


def test_ignore_advertises_a_list_that_is_only_busy(tmp_path):
    r = _round(_policies(tmp_path, "ignore"), [applicant(2, date(2012, 1, 1))])
    assert r.channel == Channel.ANNONCERING and [o.applicant_id for o in r.offers] == [9]
    [trigger] = [d for d in r.decisions if d.rule_id == "t.annoncering#trigger"]
    assert trigger.facts["busy_applicants"] == "ignore" and trigger.facts["busy_eligible"] == 0


def test_busy_applicants_who_would_not_be_eligible_do_not_hold_the_advert(tmp_path):
    busy = [applicant(2, date(2012, 1, 1), min_rooms=5), replace(applicant(3), passive=True),
            applicant(4, org_id="ORG9")]
    r = _round(_policies(tmp_path, "wait"), busy)
    assert r.channel == Channel.ANNONCERING
    [trigger] = [d for d in r.decisions if d.rule_id == "t.annoncering#trigger"]
    assert trigger.facts["busy_considered"] == 3 and trigger.facts["busy_eligible"] == 0


def test_without_busy_applicants_the_trigger_is_unchanged(tmp_path):
    r = _round(_policies(tmp_path, None), [])
    assert r.channel == Channel.ANNONCERING and [o.applicant_id for o in r.offers] == [9]


def test_bad_switch_value_is_rejected_at_load_naming_file_and_field(tmp_path):
    with pytest.raises(ConfigurationError, match="busy_applicants") as err:
        _policies(tmp_path, "sometimes")
    assert "a.yaml" in str(err.value)


@pytest.fixture(scope="module")
def both_modes(tmp_path_factory):
    return {mode: _policies(tmp_path_factory.mktemp(mode), mode) for mode in ("wait", "ignore")}


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mode=st.sampled_from(["wait", "ignore"]),
       busy=st.lists(st.tuples(st.integers(1, 4), st.booleans(), st.booleans()), max_size=5))
def test_advertised_exactly_when_no_eligible_busy_applicant_counts(both_modes, mode, busy):
    people = [applicant(10 + i, date(2011, 1, 1), min_rooms=rooms, org_id="ORG1" if own else "ORG9", passive=passive)
              for i, (rooms, own, passive) in enumerate(busy)]
    r = _round(both_modes[mode], people)
    eligible = sum(1 for rooms, own, passive in busy if rooms <= 2 and own and not passive)
    assert (r.channel == Channel.ANNONCERING) == (mode == "ignore" or eligible == 0)
    [channel] = [d for d in r.decisions if d.outcome == Outcome.CHANNEL and d.rule_id.startswith("t.annoncering")]
    assert channel.facts["busy_eligible"] == (eligible if mode == "wait" else 0)
