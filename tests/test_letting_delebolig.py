"""The packaged delebolig policy `dk.delebolig` (UNCONFIRMED reading of seed 000: a room in a
larger dwelling for one person): a shared room goes to a one-person household only; ordinary
dwellings are not affected; a municipality's local policy of the same slot replaces it."""

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st
from letting_factories import NOW, applicant, decision_for, dwelling, member, vacancy

from boligmix.letting.engine import LettingEngine
from boligmix.letting.model import MemberRole, Outcome
from boligmix.letting.policy import load_default_policies

POLICIES = load_default_policies()
WITH_LOCAL = load_default_policies(include_local_examples=True)


def household_of(aid: int, size: int):
    members = (member(aid * 10),) + tuple(member(aid * 10 + i, MemberRole.OTHER) for i in range(1, size))
    return applicant(aid, date(2010 + aid % 10, 1, 1), members=members)


def test_a_shared_room_goes_to_one_person_only():
    r = LettingEngine(POLICIES).next_offers(vacancy(dwelling(1, rooms=1, shared=True)),
                                            [household_of(1, 2), household_of(2, 1)], None, NOW)
    assert [o.applicant_id for o in r.offers] == [2]
    skip = decision_for(r, 1)
    assert skip.outcome == Outcome.SKIPPED and skip.rule_id == "dk.delebolig#single_person"
    assert skip.facts["household.size"] == 2 and skip.facts["dwelling.shared"] is True


def test_the_local_policy_of_the_slot_wins_in_its_municipality():
    r = LettingEngine(WITH_LOCAL).next_offers(vacancy(dwelling(1, rooms=1, shared=True, municipality=101)),
                                              [household_of(1, 2)], None, NOW)
    assert decision_for(r, 1).rule_id == "k0101.delebolig#single_person"


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 4), min_size=1, max_size=7), st.booleans())
def test_only_one_person_households_are_offered_a_shared_room(sizes, shared):
    people = [household_of(i + 1, size) for i, size in enumerate(sizes)]
    d = dwelling(1, rooms=1 if shared else 4, shared=shared)
    r = LettingEngine(POLICIES).next_offers(vacancy(d), people, None, NOW)
    size = {a.applicant_id: a.household.size for a in people}
    if shared:
        assert all(size[o.applicant_id] == 1 for o in r.offers)
        assert len(r.offers) == min(3, sum(1 for s in sizes if s == 1))
    assert not [x for x in r.decisions if (x.rule_id or "").startswith("dk.delebolig") and not shared]
