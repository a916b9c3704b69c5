"""The screened referral and rehousing rounds (`WindowScreen.referrals`) equal the engine's round.

On random referral and rehousing lists (the municipality's order with ties and unordered
households, other list types, housed, already offered, § 59 redirected referrals carried over
from earlier vacancies of this and other municipalities), dwellings in and outside restricted
areas and policy variants (statutory, local, kombineret udlejning, fleksibel, § 51 c and § 59
bars, an unused referral held by the municipality), the candidate the screen picks (from the
whole list, or from its first candidates when the list comes as the market hands it: `Listed`)
is the one `LettingEngine.next_offers` offers the dwelling to first, eligible rule by rule, and
its letting's channel and ranking rule are the ones the engine's acceptance records; when the
screen finds no one eligible, the engine's round (handed no waiting-list candidate, as the market
hands it to release the dwelling) offers the dwelling to no one; and the screen leaves a round to
the engine only when a policy in force may reject or exempt. Whole years both ways:
`tests/test_simulate_direct_years.py`, `tests/test_simulate_market.py`."""

from dataclasses import replace
from datetime import datetime, timedelta

import numpy as np
from hypothesis import given, settings, strategies as st

from boligmix.letting.engine import LettingContext, LettingEngine
from boligmix.letting.ledger import RedirectedReferral
from boligmix.letting.model import Channel, ListType
from boligmix.letting.policy import POLICY_DIR
from boligmix.letting.scenario import ScenarioSettings, _applicant, make_vacancy
from boligmix.simulate.almen_letting import direct_channel, ranking_rule
from boligmix.simulate.scenario import PolicyOverride, build_policy_set, load_scenario
from boligmix.simulate.screen import CHUNK, Carried, Listed, WindowScreen
from test_simulate_direct import _engine as _direct_engine   # tests/ is on the path

VARIANTS = {
    "statutory": lambda: build_policy_set([], {}, "test"),
    "statutory+local": lambda: build_policy_set([POLICY_DIR / "local"], {}, "test"),
    "kombineret": lambda: load_scenario("kombineret_udsat").policies(),
    "fleksibel_half": lambda: load_scenario("fleksibel_half").policies(),
    "referral held": lambda: build_policy_set(
        [], {"dk.almenboligloven.59": PolicyOverride(switches={"unused_referral": "hold"})}, "test"),
}
_POLICIES: dict = {}
LIST_OF = {Channel.KOMMUNAL_ANVISNING: ListType.MUNICIPAL_REFERRAL, Channel.UDSLUSNING: ListType.MUNICIPAL_REFERRAL,
           Channel.REHOUSING: ListType.REHOUSING}


def _policies(variant: str):
    if variant not in _POLICIES:
        _POLICIES[variant] = VARIANTS[variant]()
    return _POLICIES[variant]


def _engine(policies, vacancy, channel, housed, offered, redirected) -> LettingEngine:
    """`test_simulate_direct._engine` with § 59 redirected referrals in the ledger."""
    engine = _direct_engine(policies, vacancy, channel, housed, offered)
    for r in redirected:
        engine.ledger.redirected[r.applicant.applicant_id] = r
    return engine


def _case(seed: int, channel: Channel, n: int, carried: int, days: int, plain: bool):
    rng = np.random.default_rng(seed)
    config = ScenarioSettings()
    now = datetime(2024, 1, 8, 9) + timedelta(days=days)
    vacancy = make_vacancy(rng, 0, config, now.date())
    if plain:                                  # a dwelling outside any restricted area (no § 59 bar)
        vacancy = replace(vacancy, dwelling=replace(vacancy.dwelling, area_id=None, area_categories=frozenset()))
    own = LIST_OF[channel]

    def person(aid: int, k: int):
        kind = own if rng.random() < 0.9 else ListType(rng.choice(["external", "municipal_referral", "rehousing"]))
        order = None if rng.random() < 0.1 else int(k if rng.random() < 0.8 else rng.integers(0, 4))   # ties
        return replace(_applicant(rng, aid, kind, config.start), referral_order=order,
                       org_id="ORG1" if rng.random() < 0.8 else "ORG2")

    named = [person(i + 1, k) for k, i in enumerate(rng.permutation(n).tolist())]
    ids = [a.applicant_id for a in named]
    housed = [i for i in ids if rng.random() < 0.1]
    offered = [i for i in ids if rng.random() < 0.1]
    redirected = [RedirectedReferral(a, 101 if rng.random() < 0.8 else 147, "V-old", "x#nr4", "1", "d1")
                  for a in [*(person(1000 + j, int(rng.integers(0, 25))) for j in range(carried)),
                            *(a for a in named if rng.random() < 0.1)]]
    housed += [r.applicant.applicant_id for r in redirected if rng.random() < 0.1]
    field = "rehousing" if channel == Channel.REHOUSING else "referrals"
    return vacancy, LettingContext(**{field: named}), now, (housed, offered, redirected)


def _compare(seed: int, variant: str, channel: Channel, n: int, carried: int, days: int, plain: bool,
             lazy: bool = False) -> str:
    """Screen and engine on one random case; returns what happened (`engine`: a policy in force
    rejects or exempts; `none`: no one eligible; else the letting's channel). `lazy`: the list in
    the municipality's order (each one's referral order its place), handed to the screen as the
    market hands it (`Listed`: built when read)."""
    policies = _policies(variant)
    vacancy, context, now, state = _case(seed, channel, n, carried, days, plain)
    field = "rehousing" if channel == Channel.REHOUSING else "referrals"
    screened = context
    if lazy:
        named = [replace(a, referral_order=k) for k, a in enumerate(getattr(context, field))]
        context = LettingContext(**{field: named})
        built: list[int] = []
        screened = LettingContext(**{field: Listed([a.applicant_id for a in named],
                                                   lambda sid, k: built.append(k) or named[k])})
    screen = WindowScreen()
    handed = screen.referrals(_engine(policies, vacancy, channel, *state), vacancy, channel, screened, now)
    if lazy and handed and not carried:         # read up to the winner's chunk only
        assert len(built) == len(set(built)) and max(built) < CHUNK * (handed[0].referral_order // CHUNK + 1)
    engine = _engine(policies, vacancy, channel, *state)
    round_ = engine.next_offers(vacancy, [], context, now)
    if handed is None:                          # a policy in force may reject or exempt: the engine decides
        assert screen._covering(policies.in_force(vacancy.dwelling, now.date()), channel) is None
        return "engine"
    if not handed:                              # no one on the list eligible (released or held: no offer)
        assert not round_.offers
        return "none"
    assert len(handed) == 1 and round_.offers
    winner = handed[0]
    offer = round_.offers[0]
    assert (offer.applicant_id, offer.channel) == (winner.applicant_id, channel)
    assert engine.assess(vacancy, winner, channel, now).outcome is None     # eligible, rule by rule
    letting = engine.accept(offer.offer_id, now).lettings[0]
    assert letting.channel == direct_channel(channel, winner)
    assert ranking_rule(policies.in_force(vacancy.dwelling, now.date())) == round_.policies[0].policy_id
    return letting.channel.value


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), variant=st.sampled_from(sorted(VARIANTS)),
       channel=st.sampled_from(sorted(LIST_OF)), n=st.integers(0, 25), carried=st.integers(0, 3),
       days=st.integers(0, 900), plain=st.booleans(), lazy=st.booleans())
def test_the_screened_referral_is_the_engines_letting(seed, variant, channel, n, carried, days, plain, lazy):
    _compare(seed, variant, channel, n, carried, days, plain, lazy)


def test_the_comparison_meets_every_kind_of_round():
    """The same comparison on fixed cases, which meet every outcome the property is about."""
    seen: dict[str, int] = {}
    channels = sorted(LIST_OF)
    for k in range(240):
        kind = _compare(k, sorted(VARIANTS)[k % len(VARIANTS)], channels[k % 3], k % 26, k % 4, 5 * k, k % 4 != 0,
                        k % 5 < 3)
        seen[kind] = seen.get(kind, 0) + 1
    assert all(seen.get(c.value, 0) > 10 for c in LIST_OF), seen
    assert seen.get("none", 0) > 0 and seen.get("engine", 0) > 0, seen


def test_a_redirected_referral_carried_over_wins_before_the_list():
    """A § 59 redirected referral of the municipality, ordered alike, ranks before the named list
    (its redirect priority), as the engine ranks it; one of another municipality is not carried."""
    policies = _policies("statutory")
    vacancy, context, now, _ = _case(7, Channel.KOMMUNAL_ANVISNING, 5, 0, 0, True)
    named = [replace(a, list_type=ListType.MUNICIPAL_REFERRAL, org_id="ORG1", referral_order=k)
             for k, a in enumerate(context.referrals)]
    context = LettingContext(referrals=named)
    carried = replace(named[0], applicant_id=999, household=replace(named[0].household, household_id=999))
    for municipality, want in ((101, 999), (147, named[0].applicant_id)):
        state = ([], [], [RedirectedReferral(carried, municipality, "V-old", "x#nr4", "1", "d1")])
        handed = WindowScreen().referrals(_engine(policies, vacancy, Channel.KOMMUNAL_ANVISNING, *state), vacancy,
                                          Channel.KOMMUNAL_ANVISNING, context, now)
        round_ = _engine(policies, vacancy, Channel.KOMMUNAL_ANVISNING, *state).next_offers(vacancy, [], context, now)
        assert handed[0].applicant_id == round_.offers[0].applicant_id == want


@settings(max_examples=60, deadline=None)
@given(steps=st.lists(st.tuples(st.integers(0, 3), st.integers(1, 40), st.booleans()), max_size=40))
def test_the_carried_redirects_kept_by_municipality_are_the_engines(steps):
    """`Carried` keeps the redirects as the engine adds them; each read equals
    `LettingEngine.redirected_referrals` of every municipality (housed ones left out, a new table
    read anew)."""
    engine, carried = LettingEngine(_policies("statutory")), Carried()
    base = _case(1, Channel.KOMMUNAL_ANVISNING, 1, 0, 0, True)[1].referrals[0]
    for n, (action, aid, flag) in enumerate(steps):
        ledger = engine.ledger
        if action == 0 and aid not in ledger.redirected:        # the engine adds one (never replaces one)
            ledger.redirected[aid] = RedirectedReferral(replace(base, applicant_id=aid), 101 if flag else 147,
                                                        f"V{n}", "x#nr4", "1", f"d{n}")
        elif action == 1:
            ledger.housed[aid] = n
        elif action == 2 and flag:                              # another year's ledger
            engine = LettingEngine(_policies("statutory"))
        for municipality in (101, 147, 999):
            assert carried.of(engine, municipality) == engine.redirected_referrals(municipality)
