"""Which of an offer round's candidates the letting engine needs to see.

The simulation only takes the engine's best-ranked candidate of a round (every offer is accepted),
so on the waiting-list channels the other candidates only cost the engine an assessment and a
decision record each. For a vacancy whose policies in force reject no one on its channel (no
rejection or exemption rules: a rejection has consequences in the ledger, § 51 b entitlements and
§ 59 redirects), the screen finds that best candidate with the compiled decision
(`boligmix.letting.compiled.RowDecider`, tested equal to `LettingEngine.assess` rule by rule) on
the engine's own facts (`base_facts`, `policy_facts`) and the engine's ranking key (led, like the
engine's, by the verdicts of a size rule that lapses without a taker), and the engine
is handed that one candidate (none when no one is eligible). The engine then decides the round
as always — channel, assessment of the winner, offer, letting — so every letting is the engine's,
and its winner is assessed by the engine. Anything else is handed to the engine whole: policies that reject or
exempt, candidates holding a § 51 b entitlement or reactivated.

The referral channels (kommunal anvisning, rehousing, udslusning) are screened alike
(`WindowScreen.referrals`) on the pool the engine reads there (`LettingEngine._pool`: the § 59
redirected referrals it carries, then the municipality's list in its order), ranked by the
municipality's order first (`referral_order_key`), as the engine ranks them. A referral round with
no eligible candidate goes to the engine too, with no waiting-list candidate when it releases
an unused referral dwelling to the waiting list (switch `unused_referral`; the simulation then
screens the waiting list's windows), or records the unlet round.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from boligmix.letting.compiled import RowDecider
from boligmix.letting.engine import LIST_TYPES_BY_CHANNEL, LettingContext, LettingEngine, policy_facts, \
    referral_order_key
from boligmix.letting.facts import base_facts
from boligmix.letting.ledger import RedirectedReferral
from boligmix.letting.model import Applicant, Channel, Vacancy
from boligmix.letting.policy import Policy

SCREENED = frozenset({Channel.WAITING_LIST, Channel.FLEKSIBEL})
"""Channels whose pool is the waiting list handed in (the other channels read the context)."""
REFERRED = frozenset({Channel.KOMMUNAL_ANVISNING, Channel.REHOUSING, Channel.UDSLUSNING})
"""Channels whose pool is the municipality's (`LettingContext.referrals`, `.rehousing`): `WindowScreen.referrals`."""
CHUNK = 4
"""Candidates of a list in the municipality's order decided at a time (`WindowScreen.referrals`)."""
KINDS = ("eligibility", "exemptions", "rejections", "priorities")
"""A policy with no active rule of these kinds decides nothing about a candidate."""


class Listed(Sequence[Applicant]):
    """A municipality's list (referrals or households to rehouse) in its order, each candidate's
    `Applicant` built when first read (`build(seeker, position)`, its referral order the
    position): the screen reads a referral round's first candidates only (`WindowScreen.referrals`),
    the engine reads them all."""

    def __init__(self, ids: Sequence[int], build: Callable[[int, int], Applicant]) -> None:
        self.ids = list(ids)
        self._build = build
        self._built: list[Applicant | None] = [None] * len(self.ids)

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, k):                    # type: ignore[override]
        if isinstance(k, slice):
            return [self[i] for i in range(*k.indices(len(self.ids)))]
        found = self._built[k]
        if found is None:
            k = range(len(self.ids))[k]
            found = self._built[k] = self._build(self.ids[k], k)
        return found


class Carried:
    """The ledger's § 59 redirected referrals by municipality, as `LettingEngine.redirected_referrals`
    gives them (in the order recorded, those not housed), without reading the whole table at every
    referral round. In the simulation the engine only adds to the table (one redirect per barred
    referral, never replacing one; a failed round raises out of the market) and to the housed
    applicants, so each call reads only the redirects added since the last, a housed redirect is
    dropped for good, and a municipality's answer is kept until either table grows (a referral
    round asks twice: the screen, then the engine's `_pool`); another table, or a smaller one, is
    read anew."""

    def __init__(self) -> None:
        self._table: dict | None = None
        self._read = 0
        self._by_municipality: dict[int, list[RedirectedReferral]] = {}
        self._answered: dict[int, int] = {}
        """Municipality -> the number of housed applicants when its list was last pruned."""

    def of(self, engine: LettingEngine, municipality_code: int) -> list[RedirectedReferral]:
        table = engine.ledger.redirected
        if table is not self._table or len(table) < self._read:
            self._table, self._read, self._by_municipality, self._answered = table, 0, {}, {}
        if len(table) > self._read:
            for redirect in list(table.values())[self._read:]:
                self._by_municipality.setdefault(redirect.municipality_code, []).append(redirect)
                self._answered.pop(redirect.municipality_code, None)
            self._read = len(table)
        kept = self._by_municipality.get(municipality_code)
        if not kept:
            return []
        housed = engine.ledger.housed
        if self._answered.get(municipality_code) != len(housed):
            kept = self._by_municipality[municipality_code] = [r for r in kept if r.applicant.applicant_id not in housed]
            self._answered[municipality_code] = len(housed)
        return list(kept)


class CarryingEngine(LettingEngine):
    """The simulation's `LettingEngine`: a municipality's § 59 redirected referrals (read by every
    referral round's `_pool`, some 14,000 a national year) come from `carried` (`Carried`, equal to
    the engine's own answer under the simulation's use of the ledger) instead of a scan of the whole
    year's table. Everything else is the engine's."""

    def __init__(self, *args, carried: Carried, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.carried = carried

    def redirected_referrals(self, municipality_code: int | None = None) -> list[RedirectedReferral]:
        if municipality_code is None:
            return super().redirected_referrals()
        return self.carried.of(self, municipality_code)


class WindowScreen:
    """Screens the rounds of one engine (the verdicts of its rules are kept across rounds)."""

    def __init__(self) -> None:
        self.decider = RowDecider()
        self.screened = 0
        """Rounds the engine was handed the screened candidate only."""
        self.referred = 0
        """Of them, referral rounds decided with a winner (`referrals`)."""
        self.carried = Carried()
        """The ledger's redirects by municipality, read by the screen and its engine (`CarryingEngine`)."""
        self._policies: dict[tuple, tuple[Sequence[Policy], list[Policy] | None]] = {}

    def _covering(self, in_force: Sequence[Policy], channel: Channel) -> list[Policy] | None:
        """The policies in force deciding something about a candidate on `channel`, or None when one
        of them may reject or exempt (kept per the policies in force, not per their tuple: the
        dwellings of many departments and dates share them; the entry holds the policies, so their
        ids stay theirs)."""
        key = (*map(id, in_force), channel)
        found = self._policies.get(key)
        if found is None:
            covering = [p for p in in_force if p.covers(channel) and any(p.active(kind) for kind in KINDS)]
            if any(p.active("rejections") or p.active("exemptions") for p in covering):
                covering = None
            found = self._policies[key] = (in_force, covering)
        return found[1]

    def candidates(self, engine: LettingEngine, vacancy: Vacancy, channel: Channel, applicants: Sequence[Applicant],
                   now: datetime, in_force: Sequence[Policy] | None = None) -> list[Applicant] | None:
        """The candidates to hand the engine for this round: the best-ranked eligible one, none
        when no one is eligible, or None when the round must see all of `applicants`. `in_force`:
        `engine.policies.in_force(vacancy.dwelling, now.date())` when the caller has it."""
        if channel not in SCREENED:
            return None
        if not applicants:                       # no one to rank (an empty window)
            return []
        return self._best(engine, vacancy, channel, applicants, now, in_force)

    def referrals(self, engine: LettingEngine, vacancy: Vacancy, channel: Channel, context: LettingContext,
                  now: datetime, in_force: Sequence[Policy] | None = None) -> list[Applicant] | None:
        """A referral round's winner: the best-ranked eligible candidate of the pool the engine reads
        on `channel` (the redirected referrals it carries, then `context`'s list), as the one
        candidate to let the dwelling; none when no one is eligible (the engine's round then
        releases the dwelling to the waiting list or records the unlet round), None when the engine
        must decide the round (a policy may reject or exempt, a candidate holds an entitlement or
        was reactivated)."""
        if channel not in REFERRED:
            return None
        named = context.rehousing if channel == Channel.REHOUSING else context.referrals
        ids = named.ids if isinstance(named, Listed) else [a.applicant_id for a in named]
        listed, allowed = set(ids), LIST_TYPES_BY_CHANNEL[channel]
        carried = [] if channel == Channel.UDSLUSNING else [     # the engine's `_pool`
            r.applicant for r in self.carried.of(engine, vacancy.dwelling.municipality_code)
            if r.applicant.applicant_id not in listed and r.applicant.list_type in allowed]
        lazy = isinstance(named, Listed)
        if not (lazy or _increasing([a.referral_order for a in named])):
            best = self._best(engine, vacancy, channel, [*carried, *named], now, in_force)
        elif not carried:
            # each candidate's own place in the municipality's order, which ranks first: the first
            # eligible one wins, whatever the ones after it (`CHUNK` at a time)
            best = []
            for start in range(0, len(named), CHUNK):
                best = self._best(engine, vacancy, channel, named[start:start + CHUNK], now, in_force)
                if best is None or best:
                    break
        else:
            # the carried redirects (any order, the redirect priority) with the list's first `CHUNK`s:
            # once the best of them ranks before the next chunk's first place in the municipality's
            # order (a `Listed` one's place is its order), no one after it can beat it
            for end in range(CHUNK, max(len(named), 1) + CHUNK, CHUNK):
                best = self._best(engine, vacancy, channel, [*carried, *named[:end]], now, in_force)
                if best is None or end >= len(named) or best and referral_order_key(best[0], channel) < (
                        0, end if lazy else named[end].referral_order):
                    break
        self.referred += bool(best)
        return best

    def _best(self, engine: LettingEngine, vacancy: Vacancy, channel: Channel, pool: Sequence[Applicant],
              now: datetime, in_force: Sequence[Policy] | None) -> list[Applicant] | None:
        """[the best-ranked eligible candidate of `pool`], [] when none is, None when the compiled
        decision cannot decide (`candidates`, `referrals`)."""
        on = now.date()
        if in_force is None:
            in_force = engine.policies.in_force(vacancy.dwelling, on)
        covering = self._covering(in_force, channel)
        if covering is None:
            return None
        ledger = engine.ledger
        allowed = LIST_TYPES_BY_CHANNEL[channel]
        own_lists_only = channel in SCREENED
        org_id = vacancy.dwelling.org_id
        offered = ledger.offered.get(vacancy.vacancy_id, set())
        redirected = ledger.redirected
        kept: list[Applicant] = []
        for applicant in pool:                   # the engine's list checks (`LettingEngine._candidates`)
            aid = applicant.applicant_id
            if aid in ledger.entitlements or aid in ledger.reactivations:
                return None
            if applicant.list_type not in allowed or (own_lists_only and applicant.org_id != org_id) \
                    or aid in offered or aid in ledger.passive or applicant.passive or aid in ledger.withdrawn \
                    or aid in ledger.housed:
                continue
            if aid in redirected:                # the § 59 priority of a redirected referral (referral channels)
                applicant = engine._with_redirect(applicant, vacancy, channel)
            kept.append(applicant)
        base = [base_facts(a, vacancy.dwelling, on, engine._refusals(a.applicant_id, a.refusal_count)) for a in kept]
        rows: dict[str, list] = {}

        def facts(policy) -> list:
            if policy.id not in rows:
                rows[policy.id] = [policy_facts(policy, a, b, on)[0] for a, b in zip(kept, base)]
            return rows[policy.id]

        outcome, _, keys, _ = self.decider.decide(covering, facts, len(kept))
        ranked = [(*referral_order_key(a, channel), tuple(k), a.seniority_date, a.applicant_id, i)
                  for i, (a, o, k) in enumerate(zip(kept, outcome, keys)) if o is None]
        self.screened += 1
        return [kept[min(ranked)[-1]]] if ranked else []


def _increasing(orders: list[int | None]) -> bool:
    """Whether every candidate has a referral order, each larger than the one before."""
    return all(a is not None and b is not None and a < b for a, b in zip(orders, orders[1:])) \
        and None not in orders[:1]


__all__ = ["CHUNK", "REFERRED", "SCREENED", "Carried", "CarryingEngine", "Listed", "WindowScreen"]
