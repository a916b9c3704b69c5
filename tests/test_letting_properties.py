"""Hypothesis: invariants of the letting engine over random applicants, dwellings and answers.

- no dwelling (or delebolig room) is let twice, and no applicant gets two dwellings;
- every letting satisfies every rule in force for its channel when its round was made;
- among equally ranked applicants (same priorities met), seniority decides the order;
- nobody a rule rejected or skipped gets an offer in that round.
"""

from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from letting_factories import NOW, applicant, dwelling, history, member, vacancy

from boligmix.letting.engine import LettingContext, LettingEngine
from boligmix.letting.model import ListType, MemberRole, OfferStatus, Outcome
from boligmix.letting.policy import load_default_policies

POLICIES = load_default_policies(include_local_examples=True)
OMDANNELSE = ("udsat", "parallelsamfund", "omdannelse")
CATEGORY_SETS = [(), ("udsat",), OMDANNELSE, OMDANNELSE, ("forebyggelse",), ("kombineret_udlejning",)]
BENEFITS = ["kontanthjaelp", "uddannelseshjaelp", "foertidspension", "dagpenge", "employment"]


@st.composite
def households(draw, aid: int):
    def person(pid: int, role: MemberRole):
        known = draw(st.booleans()) or draw(st.booleans())
        benefits = None
        if known:
            spells = []
            for _ in range(draw(st.integers(0, 2))):
                start = draw(st.integers(0, 30))
                length = draw(st.integers(1, 12))
                first = date(2022 + start // 12, start % 12 + 1, 1)
                end_index = start + length - 1
                last = date(2022 + end_index // 12, end_index % 12 + 1, 1)
                spells.append((draw(st.sampled_from(BENEFITS)), first, last))
            if draw(st.booleans()):  # long enough to meet the 6-month rules at NOW
                spells.append((draw(st.sampled_from(BENEFITS)), date(2023, 1, 1), date(2024, 8, 1)))
            benefits = history(*spells)
        facts = {}
        if draw(st.booleans()):
            facts = dict(eu_eea_ch_citizen=draw(st.booleans()), enrolled_student=draw(st.booleans()),
                         released_after_sentence_on=False, lease_terminated_for_breach_on=False,
                         released_from_youth_institution_after_sentence=False)
        return member(pid, role, benefits=benefits, **facts)

    members = [person(aid * 10, MemberRole.APPLICANT)]
    if draw(st.booleans()):
        members.append(person(aid * 10 + 1, MemberRole.SPOUSE))
    for k in range(draw(st.integers(0, 2))):
        members.append(member(aid * 10 + 2 + k, MemberRole.CHILD, birth=date(2015, 1, 1)))
    return tuple(members)


@st.composite
def applicants(draw, aid: int, list_type: ListType):
    facts = {}
    for name in ("household.employed_or_in_education", "applicant.in_education", "dispensation_51c"):
        if draw(st.booleans()):
            facts[name] = draw(st.booleans())
    if draw(st.booleans()):
        facts["applicant.weekly_work_hours"] = draw(st.integers(0, 40))
    internal = list_type == ListType.INTERNAL
    return applicant(aid, date(2000, 1, 1) + timedelta(days=draw(st.integers(0, 8000))),
                     members=draw(households(aid)), list_type=list_type,
                     current_department_id=draw(st.sampled_from(["ORG1-1", "ORG1-2"])) if internal else None,
                     current_org_id="ORG1" if internal else None, min_rooms=draw(st.integers(1, 2)),
                     priority_rights=frozenset({"fortrinsret"}) if draw(st.integers(0, 5)) == 0 else frozenset(),
                     facts=facts)


@st.composite
def scenarios(draw):
    n_apps = draw(st.integers(1, 10))
    apps = [draw(applicants(i, draw(st.sampled_from([ListType.EXTERNAL, ListType.INTERNAL]))))
            for i in range(1, n_apps + 1)]
    refs = [draw(applicants(100 + i, ListType.MUNICIPAL_REFERRAL)) for i in range(draw(st.integers(0, 3)))]
    dwellings = [dwelling(j, rooms=draw(st.integers(2, 4)), municipality=draw(st.sampled_from([101, 183, 461])),
                          categories=draw(st.sampled_from(CATEGORY_SETS)),
                          department_id=draw(st.sampled_from(["ORG1-1", "ORG1-2"])))
                 for j in range(1, draw(st.integers(1, 4)) + 1)]
    actions = draw(st.lists(st.tuples(st.sampled_from(["round", "accept", "refuse", "wait"]),
                                      st.integers(0, 50)), min_size=1, max_size=25))
    return apps, refs, dwellings, actions


def run(apps, refs, dwellings, actions):
    engine = LettingEngine(POLICIES)
    now = NOW
    round_times = {}
    for kind, pick in actions:
        if kind == "wait":
            now += timedelta(days=pick % 10 + 1)
            engine.expire(now)
            continue
        if kind == "round":
            d = dwellings[pick % len(dwellings)]
            v = vacancy(d)
            if engine.ledger.is_let(v) or engine.ledger.open_offers(v.vacancy_id):
                continue
            r = engine.next_offers(v, apps, LettingContext(referrals=refs), now)
            round_times[r.round_id] = now
            continue
        open_offers = sorted((o for o in engine.ledger.offers.values()
                              if o.status == OfferStatus.OPEN and o.deadline >= now), key=lambda o: o.offer_id)
        if open_offers:
            offer = open_offers[pick % len(open_offers)]
            (engine.accept if kind == "accept" else engine.refuse)(offer.offer_id, now)
    return engine, round_times


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_letting_invariants(scenario):
    apps, refs, dwellings, actions = scenario
    engine, round_times = run(apps, refs, dwellings, actions)
    by_id = {a.applicant_id: a for a in [*apps, *refs]}

    # no dwelling let twice: one LET decision per unit, and the ledger agrees
    let_units = [(d.dwelling_id, d.unit) for d in engine.decisions if d.outcome == Outcome.LET]
    assert len(let_units) == len(set(let_units)) == len(engine.lettings)
    # every decision names the rule and rule version that decided it
    assert all(d.rule_id and d.rule_version for d in engine.decisions)
    housed = [l.applicant_id for l in engine.lettings]
    assert len(housed) == len(set(housed))                     # nobody is housed twice

    # every letting satisfies every rule in force (for its channel, when its round was made)
    for letting in engine.lettings:
        round_ = engine.ledger.rounds[letting.round_id]
        v = engine.ledger.vacancies[letting.vacancy_id]
        assessment = engine.assess(v, by_id[letting.applicant_id], round_.channel, round_times[letting.round_id])
        assert assessment.outcome is None, assessment.reason

    for round_ in engine.ledger.rounds.values():
        ranked = sorted((d for d in round_.decisions if d.rank is not None), key=lambda d: d.rank)
        # seniority among equally ranked applicants
        for a, b in zip(ranked, ranked[1:]):
            if a.facts["priority_key"] == b.facts["priority_key"]:
                sa, sb = by_id[a.applicant_id].seniority_date, by_id[b.applicant_id].seniority_date
                assert (sa, a.applicant_id) < (sb, b.applicant_id)
            else:
                assert a.facts["priority_key"] < b.facts["priority_key"]
        # rejected or skipped-by-rule applicants are never offered in that round
        offered = {o.applicant_id for o in round_.offers}
        stopped = {d.applicant_id for d in round_.decisions
                   if d.outcome == Outcome.REJECTED or (d.outcome == Outcome.SKIPPED and d.rank is None)}
        assert not offered & stopped
        assert len(round_.offers) <= 3


@settings(max_examples=25, deadline=None)
@given(anvisning=st.sampled_from([0.0, 0.25, 1 / 3, 0.5]), rehousing=st.sampled_from([0.0, 0.1, 1 / 3]),
       fleksibel=st.sampled_from([0.0, 0.2, 0.5]), n=st.integers(1, 30))
def test_vacancy_shares_are_never_exceeded_and_backlog_is_bounded(tmp_path_factory, anvisning, rehousing, fleksibel, n):
    from boligmix.letting.model import Channel
    from boligmix.letting.policy import POLICY_DIR, load_policies
    if anvisning + rehousing > 1:
        return
    folder = tmp_path_factory.mktemp("shares")
    (folder / "a.yaml").write_text(
        f"id: t.anv\nbase: dk.almenboligloven.59\nversion: '1'\neffective_from: 2020-01-01\n"
        f"scope: {{municipality_codes: [461], almen_types: [family]}}\n"
        f"shares: {{kommunal_anvisning: {anvisning}, rehousing: {rehousing}}}\n", encoding="utf-8")
    (folder / "f.yaml").write_text(
        f"id: t.fl\ntool: fleksibel_udlejning\nslot: fl\nversion: '1'\neffective_from: 2020-01-01\n"
        f"channels: [fleksibel]\nshares: {{fleksibel: {fleksibel}}}\n", encoding="utf-8")
    engine = LettingEngine(load_policies([POLICY_DIR / "statutory", folder]))
    for i in range(n):
        engine.next_offers(vacancy(dwelling(i)), [], LettingContext(), NOW)
    shares = {Channel.KOMMUNAL_ANVISNING: anvisning, Channel.REHOUSING: rehousing, Channel.FLEKSIBEL: fleksibel}
    taken = {c: sum(1 for d in engine.decisions if d.outcome == Outcome.CHANNEL and d.rule_id
                    and d.rule_id.endswith(f"#shares.{c.value}")) for c in shares}
    deficits = {c: int(shares[c] * n + 1e-9) - taken[c] for c in shares}
    assert all(d >= 0 for d in deficits.values()), deficits          # a share is never exceeded
    if sum(shares.values()) <= 1:
        assert sum(deficits.values()) <= len(shares), deficits        # the backlog stays bounded
