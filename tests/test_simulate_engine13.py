"""Session 13's cheaper engine paths give the engine's answers (branch engine13).

- `ChannelAllocator.allocate_channel` without a ledger checkpoint (it reads first and changes the
  share counters after) and with its decisions' facts taken as JSON-safe: on random sequences of
  vacancies (dwellings of several municipalities, organisations, departments, almen types and
  udslusningsboliger; share policies counted per municipality, organisation or department, with
  several channels due at once) its channels, decisions (every field, the reason text among
  them), share counters and decision log equal those of session 12's allocator (kept here, the
  oracle), by `allocate_channel` and inside `next_offers`; a failed allocation (no waiting-list
  policy in force) leaves the ledger unchanged.
- `screen.CarryingEngine` (the simulation's engine reading the redirected referrals `Carried`
  keeps) makes the same rounds as `LettingEngine`.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings, strategies as st

from boligmix.errors import ConfigurationError, LettingError
from boligmix.letting.channel_allocation import CHANNEL_PRECEDENCE, ChannelAllocation
from boligmix.letting.engine import LettingContext, LettingEngine
from boligmix.letting.ledger import RedirectedReferral, ShareCounter
from boligmix.letting.model import Channel, Decision, Dwelling, Outcome, Vacancy
from boligmix.letting.policy import POLICY_DIR, PolicySet, load_policies, policy_files
from boligmix.simulate.screen import Carried, CarryingEngine, Listed, WindowScreen
from test_simulate_rounds12 import VARIANTS, _case, _engine, _policies     # tests/ is on the path

NOW = datetime(2024, 3, 4, 9)


class OldAllocator(LettingEngine):
    """Session 12's channel allocation (main d6b2b40): a checkpoint around the allocation and the
    decisions' facts made JSON-safe by `_decision` (the oracle)."""

    def _allocate_channel(self, vacancy, in_force, now, round_id, decisions):
        dwelling = vacancy.dwelling
        udslusning = next((p for p in in_force if p.spec.tool == "udslusning"), None)
        if dwelling.udslusningsbolig and udslusning is not None:
            decisions.append(self._decision(
                now, Outcome.CHANNEL, vacancy, channel=Channel.UDSLUSNING, round_id=round_id, policy=udslusning,
                rule_id=f"{udslusning.id}#udslusningsbolig",
                reason="an udslusningsbolig at the municipality's disposal: let to its referrals (outside the share "
                       "counts and obligatory fleksibel udlejning)", facts={"udslusningsbolig": True}))
            return Channel.UDSLUSNING
        due, counters = [], []
        for policy in in_force:
            if not policy.spec.shares:
                continue
            scope_key = {"municipality": str(dwelling.municipality_code), "organisation": dwelling.org_id,
                         "department": dwelling.department_id}[policy.spec.count_per]
            counter = self.ledger.counters.setdefault((policy.id, scope_key), ShareCounter())
            counter.seen += 1
            counters.append((policy, counter))
            for channel, share in policy.spec.shares.items():
                entitled = math.floor(share * counter.seen + 1e-9)
                used = counter.used.get(channel, 0)
                if used < entitled:
                    facts = {"share": share, "vacancies_seen": counter.seen, "taken_before": used,
                             "entitled": entitled, "count_per": policy.spec.count_per, "scope_key": scope_key}
                    due.append((CHANNEL_PRECEDENCE.index(channel), channel, policy, counter, facts))
        if due:
            due.sort(key=lambda d: d[0])
            _, channel, policy, counter, facts = due[0]
            counter.used[channel] = counter.used.get(channel, 0) + 1
            others = [d[1].value for d in due[1:]]
            decisions.append(self._decision(
                now, Outcome.CHANNEL, vacancy, channel=channel, round_id=round_id, policy=policy,
                rule_id=f"{policy.id}#shares.{channel.value}",
                reason=f"{channel.value} share {facts['share']:g}: vacancy {facts['vacancies_seen']} in "
                       f"{facts['count_per']} {facts['scope_key']}, {facts['taken_before']} taken of "
                       f"{facts['entitled']} due" + (f"; also due (later): {', '.join(others)}" if others else ""),
                facts=facts))
            return channel
        facts = {p.id: {"vacancies_seen": c.seen, "used": {k.value: v for k, v in c.used.items()}}
                 for p, c in counters}
        waiting = self._waiting_list_policy(vacancy, in_force, now.date())
        decisions.append(self._decision(
            now, Outcome.CHANNEL, vacancy, channel=Channel.WAITING_LIST, round_id=round_id, policy=waiting,
            rule_id=f"{waiting.id}#default_channel",
            reason="no share channel is due; the waiting list applies", facts=facts))
        return Channel.WAITING_LIST

    def allocate_channel(self, vacancy, now):
        if vacancy.vacancy_id in self.ledger.vacancy_channel:
            raise LettingError(f"vacancy {vacancy.vacancy_id} already has the channel "
                               f"{self.ledger.vacancy_channel[vacancy.vacancy_id].value}")
        checkpoint = self.ledger.checkpoint()
        try:
            decisions: list[Decision] = []
            channel = self._allocate_channel(vacancy, self.policies.in_force(vacancy.dwelling, now.date()), now,
                                             f"{self.id_prefix}{vacancy.vacancy_id}/channel", decisions)
        except BaseException:
            self.ledger.rollback(checkpoint)
            raise
        self.ledger.vacancy_channel[vacancy.vacancy_id] = channel
        return ChannelAllocation(channel, decisions[0])


# --------------------------------------------------------------------------------------------
# Policy sets: the statutory share policy counted per scope, with other shares; a local
# anvisning (every vacancy of municipality 183) and fleksibel share (101, per organisation)

_SETS: dict[tuple, PolicySet] = {}


def _policy_set(tmp: Path, count_per: str, shares: tuple[float, float], local: bool, waiting: bool = True
                ) -> PolicySet:
    key = (count_per, shares, local, waiting)
    if key not in _SETS:
        files = policy_files([POLICY_DIR / "statutory", *([POLICY_DIR / "local"] if local else [])])
        out = []
        for path in files:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            if data.get("id") == "dk.almenboligloven.59":
                data["count_per"] = count_per
                data["shares"] = {"kommunal_anvisning": shares[0], "rehousing": shares[1]}
            elif data.get("base") == "dk.almenboligloven.59":          # k0183: the rest to anvisning
                data["shares"] = {"kommunal_anvisning": 1.0 - shares[1], "rehousing": shares[1]}
            elif data.get("tool") == "waiting_list" and not waiting:
                continue
            target = tmp / f"{len(_SETS)}-{len(out):03d}-{path.name}"
            target.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
            out.append(target)
        _SETS[key] = load_policies(out)
    return _SETS[key]


DWELLING = st.tuples(st.sampled_from([101, 147, 183]), st.sampled_from(["ORG1", "ORG2", "ORG3"]),
                     st.sampled_from(["D1", "D2", "D3"]), st.sampled_from(["family", "family", "youth", "elderly"]),
                     st.booleans(), st.integers(0, 400))


def _vacancy(j: int, spec: tuple) -> Vacancy:
    municipality, org, department, almen_type, udslusning, days = spec
    dwelling = Dwelling(1000 + j, municipality, org, department, 3, None, frozenset(), almen_type, 80.0, 6000.0,
                        udslusningsbolig=udslusning and j % 3 == 0)
    return Vacancy(f"V{j}", dwelling, (NOW + timedelta(days=days)).date())


def _state(engine: LettingEngine) -> tuple:
    ledger = engine.ledger
    return ({k: (c.seen, dict(c.used)) for k, c in ledger.counters.items()}, list(ledger.counters),
            list(ledger.decisions), ledger.next_sequence, dict(ledger.vacancy_channel))


@settings(max_examples=150, deadline=None)
@given(count_per=st.sampled_from(["municipality", "organisation", "department"]),
       shares=st.sampled_from([(0.25, 0.0), (0.25, 1 / 3), (0.5, 0.25), (1 / 3, 1 / 3), (0.0, 0.0)]),
       local=st.booleans(), steps=st.lists(st.tuples(DWELLING, st.booleans()), max_size=40))
def test_the_allocation_is_session_12s(tmp_path_factory, count_per, shares, local, steps):
    """Channels, decisions (reason text and facts), counters and log equal the old allocator's,
    by `allocate_channel` and inside `next_offers` (a vacancy's first round)."""
    policies = _policy_set(tmp_path_factory.getbasetemp(), count_per, shares, local)
    new, old = LettingEngine(policies, id_prefix="y/"), OldAllocator(policies, id_prefix="y/")
    for j, (spec, by_round) in enumerate(steps):
        vacancy = _vacancy(j, spec)
        now = NOW + timedelta(days=spec[5])
        if by_round:
            got = [e.next_offers(vacancy, [], LettingContext(), now) for e in (new, old)]
            assert got[0] == got[1]
        else:
            got = [e.allocate_channel(vacancy, now) for e in (new, old)]
            assert got[0] == got[1] and got[0].decision is new.ledger.decisions[-1]
        assert _state(new) == _state(old)
    seen = {d.rule_id.split("#")[-1] for d in new.ledger.decisions if d.outcome == Outcome.CHANNEL}
    assert not steps or seen


def test_the_comparison_meets_every_kind_of_allocation(tmp_path):
    """The channels of the random comparison: every share channel, several due at once, the waiting
    list and udslusning."""
    policies = _policy_set(tmp_path, "organisation", (0.5, 0.25), True)
    engine = LettingEngine(policies)
    for j in range(40):
        engine.allocate_channel(_vacancy(j, (183 if j % 2 else 101, "ORG1", "D1", "family", True, 0)), NOW)
    reasons = [d.reason for d in engine.ledger.decisions]
    channels = {d.channel for d in engine.ledger.decisions}
    assert channels >= {Channel.KOMMUNAL_ANVISNING, Channel.REHOUSING, Channel.FLEKSIBEL, Channel.WAITING_LIST,
                        Channel.UDSLUSNING}, channels
    assert any("also due (later)" in r for r in reasons)


@pytest.mark.parametrize("by_round", [False, True])
def test_a_failed_allocation_leaves_the_ledger_unchanged(tmp_path, by_round):
    """No waiting-list policy in force: the allocation raises after reading the share counters,
    before changing them (and the round's checkpoint undoes nothing else)."""
    policies = _policy_set(tmp_path, "organisation", (0.25, 0.0), False, waiting=False)
    engine = LettingEngine(policies)
    engine.ledger.counters[("dk.almenboligloven.59", "ORG1")] = ShareCounter(2, {Channel.KOMMUNAL_ANVISNING: 1})
    before = _state(engine)
    with pytest.raises(ConfigurationError, match="no waiting_list policy"):
        vacancy = _vacancy(1, (101, "ORG1", "D1", "family", False, 0))
        if by_round:
            engine.next_offers(vacancy, [], LettingContext(), NOW)
        else:
            engine.allocate_channel(vacancy, NOW)
    assert _state(engine) == before


# --------------------------------------------------------------------------------------------
# The simulation's engine: redirects read through `Carried`

REDIRECTS_SEEN: list[int] = []


@settings(max_examples=60, deadline=None)
@given(variant=st.sampled_from(sorted(VARIANTS)),
       rounds=st.lists(st.tuples(st.integers(0, 2**32 - 1), st.booleans(), st.booleans(), st.integers(0, 12),
                                 st.booleans()), min_size=1, max_size=12))
def test_the_carrying_engine_makes_the_engines_rounds(variant, rounds):
    """A sequence of referral rounds (dwellings in and outside § 59 areas of two municipalities,
    whose rejections add redirects the later rounds carry; the first offer accepted or not): the
    `CarryingEngine`'s rounds, lettings and ledger equal `LettingEngine`'s."""
    policies = _policies(variant)
    engines = (LettingEngine(policies, id_prefix="t/"), CarryingEngine(policies, id_prefix="t/", carried=Carried()))
    for k, (seed, plain, other, n, accept) in enumerate(rounds):
        vacancy, context, now, _ = _case(seed, Channel.KOMMUNAL_ANVISNING, n, 0, k, plain)
        vacancy = replace(vacancy, vacancy_id=f"V{k}", dwelling=replace(
            vacancy.dwelling, dwelling_id=1000 + k, municipality_code=147 if other else vacancy.dwelling.municipality_code))
        got = []
        for engine in engines:
            engine.ledger.vacancy_channel[vacancy.vacancy_id] = Channel.KOMMUNAL_ANVISNING
            round_ = engine.next_offers(vacancy, [], context, now)
            update = engine.accept(round_.offers[0].offer_id, now) if accept and round_.offers else None
            got.append((round_, update))
        assert got[0] == got[1]
        REDIRECTS_SEEN.append(len(engines[1].redirected_referrals(vacancy.dwelling.municipality_code)))
        assert engines[0].ledger.decisions == engines[1].ledger.decisions
        assert engines[0].ledger.redirected == engines[1].ledger.redirected
        assert engines[0].ledger.housed == engines[1].ledger.housed


def test_the_carrying_comparison_carries_redirects():
    """The random rounds above carry redirects into later rounds (the comparison run here, so this holds
    on whichever xdist worker runs it)."""
    REDIRECTS_SEEN.clear()
    test_the_carrying_engine_makes_the_engines_rounds()
    assert sum(1 for n in REDIRECTS_SEEN if n) > 5, REDIRECTS_SEEN


@settings(max_examples=200, deadline=None)
@given(steps=st.lists(st.tuples(st.integers(0, 2), st.integers(1, 8), st.booleans(), st.booleans()), max_size=40))
def test_carried_prunes_and_keeps_the_engines_answer(steps):
    """`Carried` (housed redirects dropped for good, an answer kept until the redirects or the
    housed grow) equals `LettingEngine.redirected_referrals` of each municipality at every read, over
    few applicants (a redirect added for one housed before, housings between reads, reads repeated)."""
    engine, carried = LettingEngine(_policies("statutory")), Carried()
    base = _case(1, Channel.KOMMUNAL_ANVISNING, 1, 0, 0, True)[1].referrals[0]
    for n, (action, aid, flag, read) in enumerate(steps):
        ledger = engine.ledger
        if action == 0 and aid not in ledger.redirected:
            ledger.redirected[aid] = RedirectedReferral(replace(base, applicant_id=aid), 101 if flag else 147,
                                                        f"V{n}", "x#nr4", "1", f"d{n}")
        elif action == 1:
            ledger.housed[aid] = n
        for municipality in ((101, 147) if read else (101 if flag else 147,)):
            assert carried.of(engine, municipality) == engine.redirected_referrals(municipality)


# --------------------------------------------------------------------------------------------
# The referral screen with carried redirects: the list read by chunks

CHUNKED: list[str] = []


@settings(max_examples=300, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), variant=st.sampled_from(sorted(VARIANTS)),
       channel=st.sampled_from([Channel.KOMMUNAL_ANVISNING, Channel.REHOUSING]), n=st.integers(0, 25),
       carried=st.integers(1, 4), skip=st.integers(0, 25), days=st.integers(0, 900), plain=st.booleans())
def test_carried_redirects_with_the_list_read_by_chunks(seed, variant, channel, n, carried, skip, days, plain):
    """Redirects carried into a referral round whose list (in the municipality's order, built when
    read: `Listed`) starts with `skip` candidates already offered the dwelling: the screen, reading
    the list `CHUNK`s at a time with the redirects, finds the engine's first offer (a redirect of a
    later place than the first eligible one on the list, or of none, does not win)."""
    policies = _policies(variant)
    vacancy, context, now, (housed, offered, redirected) = _case(seed, channel, n, carried, days, plain)
    field = "rehousing" if channel == Channel.REHOUSING else "referrals"
    named = [replace(a, referral_order=k) for k, a in enumerate(getattr(context, field))]
    state = (housed, [*offered, *(a.applicant_id for a in named[:skip])], redirected)
    built: list[int] = []
    listed = Listed([a.applicant_id for a in named], lambda sid, k: built.append(k) or named[k])
    handed = WindowScreen().referrals(_engine(policies, vacancy, channel, *state), vacancy, channel,
                                      LettingContext(**{field: listed}), now)
    round_ = _engine(policies, vacancy, channel, *state).next_offers(vacancy, [], LettingContext(**{field: named}), now)
    if handed is None:
        CHUNKED.append("engine")
        return
    if not handed:
        assert not round_.offers
        CHUNKED.append("none")
        return
    assert handed[0].applicant_id == round_.offers[0].applicant_id
    won_by_redirect = handed[0].applicant_id not in listed.ids
    CHUNKED.append(f"{'redirect' if won_by_redirect else 'list'}{' read part' if len(built) < n else ''}")


def test_the_chunked_comparison_meets_every_case():
    if not CHUNKED:
        pytest.skip("run with the comparison")
    seen = {k: CHUNKED.count(k) for k in set(CHUNKED)}
    assert all(seen.get(k, 0) > 3 for k in ("redirect", "redirect read part", "list read part", "none")), seen
