"""`trail.pack_below` keeps what each assessment contributes between rounds: the record it packs
is the one packed from scratch (the definition below, as the function was before the cache), for
rounds that reuse some assessment objects, bring new ones and new priority classes."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from types import SimpleNamespace

from hypothesis import given, settings
from hypothesis import strategies as st

from boligmix.letting.model import Channel, ListType
from boligmix.letting.ranking import REFERRAL_CHANNELS
from boligmix.letting.store import trail
from boligmix.letting.store.trail import pack_below


def _from_scratch(below, channel, as_of):  # type: ignore[no-untyped-def]
    record = below.record
    classes: dict[tuple, int] = {}
    klass, seniority = [], []
    for a in record.assessments:
        ap = a.applicant
        klass.append(classes.setdefault((ap.list_type.value, a.priorities_met, a.priority_key, a.unknown),
                                        len(classes)))
        seniority.append(ap.seniority_date.isoformat())
    entries = below.entries
    return {"entry_id": [e.entry_id for e in entries], "applicant_id": [e.applicant_id for e in entries],
            "household_id": [e.household_id for e in entries], "first_rank": record.first_rank,
            "offers_per_round": record.offers_per_round, "eligible": record.eligible,
            "verdict": ["skipped", channel, record.rule_id, record.rule_version, record.law],
            "classes": [[c[0], list(c[1]), list(c[2]), list(c[3])] for c in classes], "class": klass,
            "seniority": seniority, "as_of": as_of.isoformat() if as_of is not None else None,
            **({"referral_order": [a.applicant.referral_order for a in record.assessments]}
               if record.channel in REFERRAL_CHANNELS else {})}


_assessment = st.builds(
    lambda i, lt, met, key, unknown, days, order: SimpleNamespace(
        applicant=SimpleNamespace(applicant_id=i, list_type=lt, seniority_date=date(2000, 1, 1) + timedelta(days=days),
                                  referral_order=order),
        priorities_met=met, priority_key=key, unknown=unknown),
    st.integers(1, 10**6), st.sampled_from([ListType.EXTERNAL, ListType.INTERNAL, ListType.MUNICIPAL_REFERRAL]),
    st.sampled_from([(), ("p",), ("p", "q")]), st.sampled_from([(0, 0), (0, 1), (1, 1), (1, 0, 1)]),
    st.sampled_from([(), ("household.size",)]), st.integers(0, 9000), st.none() | st.integers(0, 50))


def _below(assessments, channel=Channel.WAITING_LIST):  # type: ignore[no-untyped-def]
    entries = tuple(SimpleNamespace(entry_id=100 + k, applicant_id=a.applicant.applicant_id,
                                    household_id=None if k % 3 else 7 * k) for k, a in enumerate(assessments))
    record = SimpleNamespace(channel=channel, assessments=tuple(assessments), first_rank=3, offers_per_round=2,
                             eligible=len(assessments) + 2, rule_id="dk.waiting#ranking", rule_version="1", law=None)
    return SimpleNamespace(entries=entries, record=record)


@settings(max_examples=60, deadline=None)
@given(st.lists(_assessment, max_size=30), st.lists(_assessment, max_size=30), st.data())
def test_a_packed_record_is_the_one_packed_from_scratch(first, new, data) -> None:  # type: ignore[no-untyped-def]
    as_of = datetime(2025, 1, 1, 12)
    assert pack_below(_below(first), "waiting_list", as_of) == _from_scratch(_below(first), "waiting_list", as_of)
    # the next round: some of the same assessment objects (cached), in another order, and new ones
    kept = data.draw(st.lists(st.sampled_from(first), max_size=len(first))) if first else []
    second = data.draw(st.permutations([*kept, *new]))
    assert pack_below(_below(second), "fleksibel", None) == _from_scratch(_below(second), "fleksibel", None)
    referral = _below(second, Channel.KOMMUNAL_ANVISNING)  # with each referral's order
    assert pack_below(referral, "kommunal_anvisning", as_of) == _from_scratch(referral, "kommunal_anvisning", as_of)


def test_the_cache_is_bounded_and_right_after_clearing(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(trail, "_PACKED_LIMIT", 3)
    rows = [SimpleNamespace(applicant=SimpleNamespace(applicant_id=i, list_type=ListType.EXTERNAL,
                                                      seniority_date=date(2001, 1, 1 + i)),
                            priorities_met=("p",) if i % 2 else (), priority_key=(i % 2,), unknown=())
            for i in range(10)]
    for _ in range(3):
        assert pack_below(_below(rows), "waiting_list") == _from_scratch(_below(rows), "waiting_list", None)
        assert len(trail._PACKED) <= 3 + len(rows)
