"""Letting one vacant almen dwelling in the simulated market through `LettingEngine`.

The engine decides everything a letting is (channel by the share policies, candidates, bars,
priorities, ranking, offers); this module picks the candidates it is handed: the most senior
plausible seekers of the dwelling's municipality applying in its area (a window of `WINDOW`, up to
`WINDOWS` windows), the municipality's referrals in its order and the households to rehouse.
Plausible: within the waiting list's size limits. A size rule that lapses without a taker (the
rule against underuse, `ApplicantFactory.binding_size_limits`) only orders, as in the engine: the
windows of the seekers meeting every size limit come first, then those of the seekers failing it
(`Fits`), so a dwelling no seeker meeting the rule takes goes to the most senior other one.
A vacancy goes to its own area's seekers (those outside any area: to the seekers applying outside
any) first; once it is unlet for a month and none of its own area's candidates is left to assess,
to the seekers whose second choice its area is (`destination.second_choices`), and when none of
them is left either, to every seeker of the municipality.

The channel is allocated first (`LettingEngine.allocate_channel`, the same decision the engine
makes at a vacancy's first round), so only the lists that channel reads are built: a waiting-list
vacancy does not build referral applicants. On the waiting-list channels the window is screened
(`boligmix.simulate.screen`): where no policy in force can reject, the screen finds the candidate
the engine would rank first among the window's candidates (drawn from the area's seekers or
everyone's, as above), and that candidate is let the dwelling without an engine round
(`_let_direct`, what the engine's round and acceptance would record; `direct=False` hands it to the
engine instead, the tests' oracle); a window with no eligible candidate makes no round. Letting
directly, the screen decides from the pool's columns (`boligmix.simulate.column_facts`) without
building the window's applicants; a round the columns cannot decide takes the row path (the
applicants and `WindowScreen`). The candidates are selected by `boligmix.simulate.candidates`. An unlet vacancy is not offered again to seekers the
engine already assessed for it, nor at all while its pool has no new candidate (`skipped_offers`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Callable, Sequence

import numpy as np

from boligmix.errors import SimulationError
from boligmix.letting.engine import LettingContext, LettingEngine
from boligmix.letting.ledger import LettingLedger
from boligmix.letting.model import Applicant, Channel, Decision, Dwelling, Letting, Vacancy
from boligmix.letting.resolution import letting_channel as letting_channel_of
from boligmix.letting.policy import PolicySet
from boligmix.simulate import rng
from boligmix.simulate.applicants import ApplicantFactory, Seekers
from boligmix.simulate.candidates import NONE, WINDOW, WINDOWS, Fits, select
from boligmix.simulate.column_facts import ColumnScreen
from boligmix.simulate.in_force import InForce
from boligmix.simulate.letting_record import deciding_rules, direct_channel, ranking_rule, releases_unused
from boligmix.simulate.letting_profiles import PROFILE_FIELDS, Pending
from boligmix.simulate.pools import SeekerPool
from boligmix.simulate.population import Population
from boligmix.simulate.screen import SCREENED, CarryingEngine, Listed, WindowScreen

REFERRAL_LISTS = frozenset({Channel.KOMMUNAL_ANVISNING, Channel.UDSLUSNING})
"""Channels whose pool is the municipality's referrals (`LettingContext.referrals`)."""
NO_CONTEXT = LettingContext()
"""A round's context with no one but the waiting list's applicants (frozen: one for every such round)."""


class AlmenLetting:
    """The almen vacancies of one simulated year and the engine that lets them."""

    def __init__(self, pop: Population, policies: PolicySet, factory: ApplicantFactory, categories: dict[str, frozenset],
                 seed: int, rep: int, year: int, ledger: LettingLedger, row_of: Callable[[int], int | None],
                 check_rules: bool = False, skip_unchanged: bool = True, screen: bool = True, direct: bool = True
                 ) -> None:
        """`screen=False` hands every round's whole window to the engine (the tests' oracle for
        `boligmix.simulate.screen`); `direct=False` hands the engine the screened candidate to let
        (the tests' oracle for `_let_direct`)."""
        policies = InForce(policies)           # the engine asks for the policies in force at every round
        self.pop, self.policies, self.factory = pop, policies, factory
        self.categories, self.seed, self.rep, self.year = categories, seed, rep, year
        self.screen = WindowScreen() if screen else None
        self.engine = LettingEngine(policies, ledger, id_prefix=f"{year}/") if self.screen is None else \
            CarryingEngine(policies, ledger, id_prefix=f"{year}/", carried=self.screen.carried)
        """With the screen, the engine reads the redirects the screen keeps by municipality (`CarryingEngine`)."""
        self.row_of = row_of
        self.check_rules = check_rules
        self.skip_unchanged = skip_unchanged
        self.columns = ColumnScreen(factory, self.screen) if screen and direct else None
        """Screened rounds decided from the pools' columns (`boligmix.simulate.column_facts`)."""
        self.direct = direct
        self.profiles = Pending(factory)
        """The records whose household profile is read at the year's end (`Market._run` fills them)."""
        self.direct_lettings = 0
        """Lettings the screen decided without an engine round (`_let_direct`)."""
        self.checked = 0
        self.skipped_offers = 0
        self.offer_rounds = 0
        self.empty_rounds = 0
        """Screened rounds not handed to the engine: no candidate eligible (`boligmix.simulate.screen`)."""
        self.vacancies: dict[int, Vacancy] = {}
        self._parked: dict[str, Channel] = {}
        """Vacancy id -> channel of an unlet vacancy taken out of the ledger between rounds (`_park`)."""
        self._allocation: dict[str, Decision] = {}
        """Vacancy id -> the engine's channel decision (made before its first round)."""
        self._ranking: dict[int, tuple[tuple, str | None]] = {}
        """id of the policies in force -> (them, the record's `ranking_rule`): `_let_direct`."""
        self._applicants: dict[tuple[int, str | None, str | None, int | None], Applicant] = {}
        """(seeker, organisation, list type, referral order) -> its engine applicant: a seeker's facts
        are fixed for the year, so the same applicant serves every vacancy of the organisation."""
        self._referral_keys: dict[int, tuple[float, int]] = {}
        self._limits: dict[int, tuple] = {}
        """id of the policies in force -> (them, binding size limits, preferred size limits): `_size_limits`."""
        self._settled: dict[int, tuple[int, tuple]] = {}
        """Dwelling position -> (month, binding size limits) of an unlet waiting-list/fleksibel vacancy whose
        whole pool (every seeker of the municipality decided by that month fitting the limits) was
        assessed: a later month's round can only find a seeker decided since (`SeekerPool.may_fit_since`)."""
        self._tried: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray, int, tuple | None]] = {}
        """Dwelling position -> (waiting-list, referral, rehousing seekers) the engine already assessed
        for its open vacancy without a letting, and the ledger's redirected referrals then. A seeker's
        facts are fixed for the year, so they are not handed in again; a vacancy with no new
        candidate (and no new redirected referral) is not offered again (`skipped_offers`)."""

    def _in_force(self, dwelling: Dwelling, on: date) -> tuple:
        """`PolicySet.in_force`, kept per combination of what it reads (`InForce`)."""
        return self.policies.in_force(dwelling, on)

    def dwelling(self, pos: int) -> Dwelling:
        """The dwelling at `pos` as the engine's `Dwelling` (built once per vacancy; the numeric
        columns read as Python scalars by `ndarray.item`, no numpy scalar made)."""
        dw = self.pop.dwellings
        area = dw.area[pos]
        rent = float(dw.rent.item(pos))
        return Dwelling(int(dw.ids.item(pos)), int(dw.municipality.item(pos)), dw.org[pos], dw.department[pos],
                        int(dw.rooms.item(pos)), area, self.categories.get(area, frozenset()) if area else frozenset(),
                        dw.almen_type[pos] or "family", float(dw.floor_area.item(pos)), None if rent != rent else rent)

    def let(self, pos: int, band_here: int, group: SeekerPool, seekers: Seekers, month: int, now: datetime,
            lettings_so_far: int) -> tuple[int | None, dict | None]:
        """Offer the vacant dwelling at `pos` to the seekers of `group`; returns (winner, letting
        record) or (None, None) when no one is let it this month."""
        vacancy = self.vacancies.get(pos)
        if vacancy is not None:
            self._unpark(vacancy)
        winner, record = self._let(pos, band_here, group, seekers, month, now, lettings_so_far)
        if winner is None and pos in self.vacancies:
            self._park(self.vacancies[pos])
        return winner, record

    def _park(self, vacancy: Vacancy) -> None:
        """Take an unlet vacancy (no open offers) out of the ledger's working tables until its next
        round, keeping its channel here: the engine copies those tables at every round's checkpoint,
        and at national scale the unlet vacancies of a year number tens of thousands. The engine
        reads a vacancy's entries only in that vacancy's rounds (and at offers, which it has none of)."""
        ledger = self.engine.ledger
        channel = ledger.vacancy_channel.pop(vacancy.vacancy_id, None)
        if channel is not None:
            self._parked[vacancy.vacancy_id] = channel
        ledger.vacancies.pop(vacancy.vacancy_id, None)

    def _unpark(self, vacancy: Vacancy) -> None:
        channel = self._parked.pop(vacancy.vacancy_id, None)
        if channel is not None:
            self.engine.ledger.vacancy_channel[vacancy.vacancy_id] = channel
            self.engine.ledger.vacancies[vacancy.vacancy_id] = vacancy

    def _let(self, pos: int, band_here: int, group: SeekerPool, seekers: Seekers, month: int, now: datetime,
             lettings_so_far: int) -> tuple[int | None, dict | None]:
        dw = self.pop.dwellings
        past_first = month > int(dw.vacant_from[pos])
        state = (group.decided[month], past_first, len(self.engine.ledger.redirected))
        tried = self._tried.get(pos)
        if tried is not None and tried[4] == state and self.skip_unchanged:
            # every candidate of the last round's pool was assessed and no seeker decided since:
            # the same answer (the cheap test before the pool is selected)
            self.skipped_offers += 1
            return None, None
        settled = self._settled.get(pos)
        if settled is not None and past_first and self.skip_unchanged:
            # every fitting seeker of the municipality decided by `settled`'s month was assessed:
            # only those decided since can be new candidates (the test before the pool is selected)
            dwelling = self.vacancies[pos].dwelling
            limits = self._size_limits(dwelling, now.date())[0]
            if limits == settled[1] and not group.may_fit_since(settled[0], month, dwelling.rooms, *limits):
                self.skipped_offers += 1
                self._tried[pos] = (*tried[:4], state)
                self._settled[pos] = (month, limits)
                return None, None
        vacancy = self.vacancies.get(pos)
        if vacancy is None:
            dwelling = self.dwelling(pos)
            vacancy = Vacancy(f"{self.year}-{dwelling.dwelling_id}-{lettings_so_far}", dwelling,
                              date(self.year, month, 1))
            self.vacancies[pos] = vacancy
        dwelling = vacancy.dwelling
        on = now.date()
        binding, preferred = self._size_limits(dwelling, on)
        # with the screen, the channel first: a waiting-list or fleksibel vacancy reads no referral list
        channel = self._channel(vacancy, now) if self.screen is not None else None
        waiting_only = channel in SCREENED
        fits, referral_pool, rehousing = self._candidates(group, seekers, dwelling, month, band_here, tried,
                                                          binding, preferred, waiting_only=waiting_only)
        everyone = False
        for fallback, second in ((band_here, True), (None, False)):
            if not past_first or self._news(vacancy, len(self.engine.ledger.redirected), fits, referral_pool,
                                            rehousing):
                break
            # unlet for a month and no seeker of its area left to assess: the seekers whose second
            # choice it is (`destination.second_choices`), then every seeker
            fits, referral_pool, rehousing = self._candidates(group, seekers, dwelling, month, fallback, tried,
                                                              binding, preferred, second, waiting_only)
            everyone = fallback is None
        if tried is not None and self.skip_unchanged and not self._news(vacancy, tried[3], fits, referral_pool,
                                                                        rehousing):
            self.skipped_offers += 1           # no new candidate since the last round: the same answer
            self._tried[pos] = (*tried[:4], state)
            self._settle(pos, vacancy, month, binding, everyone)
            return None, None
        # the channel first, to build only the lists it reads (and, with the screen, to skip a
        # waiting-list round with no candidate: `WindowScreen.candidates`)
        if channel is None:                    # (with the screen: allocated above)
            channel = self._channel(vacancy, now) if fits or referral_pool or rehousing \
                else self.engine.ledger.vacancy_channel.get(vacancy.vacancy_id)
        in_force = self._in_force(dwelling, on)
        context = LettingContext(
            referrals=self._listed(referral_pool, seekers, dwelling, on, "municipal_referral")
            if channel in REFERRAL_LISTS else (),
            rehousing=self._listed(rehousing, seekers, dwelling, on, "rehousing") if channel == Channel.REHOUSING else ()) \
            if channel in REFERRAL_LISTS or channel == Channel.REHOUSING else NO_CONTEXT
        referred = self.screen.referrals(self.engine, vacancy, channel, context, now, in_force) \
            if self.screen is not None else None
        if referred == [] and releases_unused(channel, in_force):
            # no one on the referral list eligible: the engine's round releases the dwelling to the
            # waiting list (it ranks no waiting-list candidate: none handed in, no advertising to turn
            # to), whose windows are then screened as any waiting-list vacancy's
            if self.engine.next_offers(vacancy, [], context, now).offers:
                raise SimulationError(f"vacancy {vacancy.vacancy_id}: the compiled decision finds no eligible "
                                      f"{channel.value} candidate but the engine makes an offer")
            self.offer_rounds += 1
            channel, context = self.engine.ledger.vacancy_channel[vacancy.vacancy_id], NO_CONTEXT
        # windows of the most senior seekers meeting the size rules, then (when they lapse without a taker,
        # `fits.lapsed`) of those failing them: the engine ranks every one meeting them first
        # (each with its first position in `fits`, whose rows `fits.rows` holds)
        windows = [(part[i:i + WINDOW], start + i) for part, start in ((fits.meeting, 0), (fits.lapsed, len(fits.meeting)))
                   for i in range(0, len(part), WINDOW)] or [([], 0)]
        meeting_windows = -(-len(fits.meeting) // WINDOW)
        handed_in: list[int] = []
        for w, (window, start) in enumerate(windows):
            handed_in += window
            # a screened round decided from the pool's columns (no applicants built), else the
            # waiting list's applicants: read by every channel but udslusning (the referral channels
            # read it when the engine releases an unused referral to the waiting list)
            found = self.columns.candidates(self.engine, vacancy, channel, group, window, seekers, now, in_force,
                                            fits.rows[start:start + len(window)]) \
                if self.columns is not None else None
            if referred:                       # a referral round's winner (`WindowScreen.referrals`; the
                applicants, handed = [], referred  # oracle, direct=False: the engine's round on the whole list)
                found = (referred[0].applicant_id, referred[0].list_type.value)
            elif found is None:
                applicants = [self._applicant(s, seekers, dwelling, on, None) for s in window] \
                    if channel != Channel.UDSLUSNING else []
                handed = self.screen.candidates(self.engine, vacancy, channel, applicants, now, in_force) \
                    if self.screen is not None else None
                if handed:
                    found = (handed[0].applicant_id, handed[0].list_type.value)
            else:
                applicants, handed = [], [] if found is False else [found]
            if handed == [] and (w < meeting_windows and fits.lapsed
                                 or not any(p.spec.tool == "offentlig_annoncering" for p in in_force)):
                # no one the engine could rank, and no advertising to turn to when the list gives no
                # offer (or seekers failing a lapsing size rule still to come, whom the engine would rank
                # before advertising): the engine's round would change nothing but its own records
                self.empty_rounds += 1
                continue
            if handed and self.direct:
                # the screen decided the round: let it directly (`_let_direct`, the engine's letting)
                return self._let_direct(pos, vacancy, *found, channel, seekers, now, in_force,
                                        referred[0] if referred else None, group)
            round_ = self.engine.next_offers(vacancy, applicants if handed is None else handed,
                                             context if w == 0 else NO_CONTEXT, now)
            self.offer_rounds += 1
            if handed and not round_.offers:
                raise SimulationError(f"vacancy {vacancy.vacancy_id}: the compiled decision ranks applicant "
                                      f"{handed[0].applicant_id} first but the engine makes no offer")
            if round_.offers:
                offer = round_.offers[0]
                if self.check_rules:
                    self._check(vacancy, offer.applicant_id, offer.channel,
                                [*applicants, *context.referrals, *context.rehousing], now)
                update = self.engine.accept(offer.offer_id, now)
                letting = update.lettings[0]
                del self.vacancies[pos]
                self._tried.pop(pos, None)
                self._settled.pop(pos, None)
                self._forget_offers(vacancy)
                ranking = f"{round_.policies[0].policy_id}" if round_.policies else None
                return int(offer.applicant_id), self._record(vacancy.vacancy_id, letting.channel, ranking,
                                                             offer.applicant_id, seekers, dwelling, now, group=group)
            channel = self.engine.ledger.vacancy_channel.get(vacancy.vacancy_id, channel)
        channel = self.engine.ledger.vacancy_channel.get(vacancy.vacancy_id)
        complete = {Channel.WAITING_LIST: fits.complete, Channel.FLEKSIBEL: fits.complete,
                    Channel.KOMMUNAL_ANVISNING: len(referral_pool) < WINDOW, Channel.REHOUSING: len(rehousing) < WINDOW
                    }.get(channel, False)
        self._remember_tried(pos, handed_in, referral_pool, rehousing, state if complete else None)
        self._settle(pos, vacancy, month, binding, everyone and complete)
        return None, None

    def _size_limits(self, dwelling: Dwelling, on: date) -> tuple[tuple, tuple]:
        """(binding, preferred) size limits of the waiting list in force (`ApplicantFactory.binding_size_limits`,
        `size_limits`): each (max persons per room, max rooms over persons), kept per policies in force."""
        in_force = self._in_force(dwelling, on)
        found = self._limits.get(id(in_force))
        if found is None or found[0] is not in_force:
            found = self._limits[id(in_force)] = (
                in_force, self.factory.binding_size_limits(dwelling, on, in_force),
                self.factory.size_limits(dwelling, on, in_force))
        return found[1], found[2]

    def _settle(self, pos: int, vacancy: Vacancy, month: int, limits: tuple, settled: bool) -> None:
        """Remember that every seeker of the municipality decided by `month` who fits the size
        limits was assessed for the waiting-list (or fleksibel) vacancy at `pos` (`settled`), or forget it."""
        if settled and self.engine.ledger.vacancy_channel.get(vacancy.vacancy_id) in (Channel.WAITING_LIST,
                                                                                      Channel.FLEKSIBEL):
            self._settled[pos] = (month, limits)
        else:
            self._settled.pop(pos, None)

    # ------------------------------------------------------------------------------------------

    def _candidates(self, group: SeekerPool, seekers: Seekers, dwelling: Dwelling, month: int, band: int | None,
                    tried: tuple | None, binding: tuple, preferred: tuple, second: bool = False,
                    waiting_only: bool = False) -> tuple[Fits, list[int], list[int]]:
        """`candidates.select` of the pool, its household facts read by the factory."""
        factory = self.factory
        return select(group, dwelling.dwelling_id, dwelling.rooms, month, band, tried, binding, preferred, second,
                      waiting_only, lambda s: factory.size(s, seekers), lambda s: factory.urgent(s, seekers),
                      lambda s: factory.seniority(s, seekers).toordinal(), lambda s: self._referral_key(s)[0])

    def _channel(self, vacancy: Vacancy, now: datetime) -> Channel:
        """The vacancy's channel: allocated by the engine before its first round."""
        channel = self.engine.ledger.vacancy_channel.get(vacancy.vacancy_id)
        if channel is None:
            allocation = self.engine.allocate_channel(vacancy, now)
            self._allocation[vacancy.vacancy_id] = allocation.decision
            channel = allocation.channel
        return channel

    def _applicant(self, sid: int, seekers: Seekers, dwelling: Dwelling, on: date, list_type: str | None,
                   order: int | None = None) -> Applicant:
        key = (sid, dwelling.org_id, list_type, order)
        applicant = self._applicants.get(key)
        if applicant is None:
            applicant = self._applicants[key] = self.factory.applicant(sid, seekers, dwelling, on, list_type, order)
        return applicant

    def _listed(self, sids: list[int], seekers: Seekers, dwelling: Dwelling, on: date, list_type: str
                ) -> Sequence[Applicant]:
        """The first `WINDOW` seekers of a municipality's list as the engine's applicants, in its order;
        with the screen each is built when first read (`screen.Listed`: the screen reads the first
        few), its household fixed now as building it now would (`ApplicantFactory.settle`)."""
        sids = sids[:WINDOW]
        if self.screen is None:
            return [self._applicant(s, seekers, dwelling, on, list_type, k) for k, s in enumerate(sids)]
        for s in sids:
            self.factory.settle(s, seekers, on)
        return Listed(sids, lambda s, k: self._applicant(s, seekers, dwelling, on, list_type, k))

    def _news(self, vacancy: Vacancy, redirected: int, waiting: list[int], referrals: list[int],
              rehousing: list[int]) -> bool:
        """Whether an earlier round's answer for `vacancy` may change: a new candidate in the list its
        channel reads (the redirected referrals the engine adds, too, for the referral channels)."""
        channel = self.engine.ledger.vacancy_channel.get(vacancy.vacancy_id)
        if channel in (Channel.KOMMUNAL_ANVISNING, Channel.REHOUSING):
            return bool(referrals if channel == Channel.KOMMUNAL_ANVISNING else rehousing) or \
                redirected != len(self.engine.ledger.redirected)
        if channel in (Channel.WAITING_LIST, Channel.FLEKSIBEL):
            return bool(waiting)
        return bool(waiting or referrals or rehousing) or redirected != len(self.engine.ledger.redirected)

    def _remember_tried(self, pos: int, waiting: list[int], referrals: list[int], rehousing: list[int],
                        state: tuple | None) -> None:
        """`state`: (seekers decided, unlet for a month, redirected referrals) when every candidate of the pool
        was handed in (None: some were left for a later round)."""
        old = self._tried.get(pos)
        lists = []                             # (each ascending: `candidates.select`)
        for i, new in enumerate((waiting, referrals, rehousing)):
            if not new:                        # (a waiting-list round hands in no referral nor rehousing)
                lists.append(NONE if old is None else old[i])
            else:
                lists.append(np.sort(np.asarray(new, dtype=np.int64) if old is None
                                     else np.concatenate([old[i], new]).astype(np.int64)))
        self._tried[pos] = (*lists, len(self.engine.ledger.redirected), state)

    def _forget_offers(self, vacancy: Vacancy) -> None:
        """Keep the ledger's working tables to what can still change: a let vacancy's offers (all won
        or withdrawn; every acceptance scans the offer table for the winner's other offers), its entry
        in the open vacancies and their channels, and the refusal counts handed in (always 0 here).
        The engine copies those tables at the start of every round (its rollback checkpoint), so
        they would otherwise make a year's rounds quadratic in its vacancies and applicants. Rounds,
        decisions, lettings, share counters, entitlements and redirects stay."""
        ledger = self.engine.ledger
        for rid in ledger.vacancy_rounds.get(vacancy.vacancy_id, ()):
            for offer in ledger.rounds[rid].offers:
                ledger.offers.pop(offer.offer_id, None)
        ledger.vacancies.pop(vacancy.vacancy_id, None)
        ledger.vacancy_channel.pop(vacancy.vacancy_id, None)
        ledger.base_refusals.clear()

    def key_pool(self, group: SeekerPool, seekers: Seekers) -> None:
        """Draw the seniority and referral order of every seeker of an almen pool at once (the
        values `_candidates` would read one seeker at a time)."""
        group.set_keys(self.factory.seniority_ordinals(group.sid, seekers),
                       rng.uniform(self.seed, self.rep, group.sid, self.year, rng.REFERRAL_ORDER)
                       if group.sid.size else np.zeros(0))

    def _referral_key(self, sid: int) -> tuple[float, int]:
        """The municipality's referral order of a seeker (drawn once per seeker and year)."""
        key = self._referral_keys.get(sid)
        if key is None:
            key = self._referral_keys[sid] = (float(rng.uniform(self.seed, self.rep, sid, self.year,
                                                                rng.REFERRAL_ORDER)[0]), sid)
        return key

    def _check(self, vacancy: Vacancy, winner: int, channel: Channel, candidates: list[Applicant], now: datetime
               ) -> None:
        carried = [r.applicant for r in self.engine.ledger.redirected.values()]   # § 59 redirects the engine adds
        applicant = next(a for a in [*candidates, *carried] if a.applicant_id == winner
                         and (channel in (Channel.KOMMUNAL_ANVISNING, Channel.REHOUSING)) ==
                         (a.list_type.value in ("municipal_referral", "rehousing")))
        assessment = self.engine.assess(vacancy, applicant, channel, now)
        if assessment.outcome is not None:
            raise SimulationError(f"letting of dwelling {vacancy.dwelling.dwelling_id} to {applicant.applicant_id} "
                                  f"breaks {assessment.hit.rule.rule_id if assessment.hit else '?'}: {assessment.reason}")
        self.checked += 1

    def _let_direct(self, pos: int, vacancy: Vacancy, aid: int, list_type: str, channel: Channel, seekers: Seekers,
                    now: datetime, in_force: tuple, referred: Applicant | None = None, group: SeekerPool | None = None
                    ) -> tuple[int, dict]:
        """Let `vacancy` to the one candidate the screen found (`WindowScreen.candidates`) without the
        engine's round: the round would assess that candidate eligible (the compiled decision is
        tested equal to the engine's, rule by rule), offer it rank 1, and the acceptance would let
        it. What later rounds read of that is written here as `next_offers` and `accept` write it
        (the winner housed, the next letting id, the letting; the vacancy's working tables dropped as
        `_forget_offers` drops them), and the record is the one the engine's round gives: the
        channel (internal for a waiting-list letting to an internal applicant, `_letting_channel`),
        the channel rule and rejections of the vacancy's earlier rounds and the first policy in force.
        `referred`: the winner's applicant in a referral round (`WindowScreen.referrals`); `group`: the
        vacancy's pool (its first reads give the winner's members, `_record`)."""
        ledger = self.engine.ledger
        if self.check_rules:
            self._check(vacancy, aid, channel, [referred or self._applicant(aid, seekers, vacancy.dwelling, now.date(),
                                                                            None)], now)
        round_channel = ledger.vacancy_channel.get(vacancy.vacancy_id, channel)
        letting_channel = letting_channel_of(round_channel, list_type)
        letting = Letting(ledger.next_letting_id, vacancy.vacancy_id, vacancy.dwelling.dwelling_id, vacancy.unit, aid,
                          aid, letting_channel, max(vacancy.available_from, now.date()), now,
                          f"{self.engine.id_prefix}{vacancy.vacancy_id}/direct")
        ledger.record_letting(letting)
        ledger.next_letting_id += 1
        ledger.housed[aid] = letting.letting_id
        self.direct_lettings += 1
        del self.vacancies[pos]
        self._tried.pop(pos, None)
        self._settled.pop(pos, None)
        self._forget_offers(vacancy)
        ranking = self._ranking.get(id(in_force))
        if ranking is None or ranking[0] is not in_force:
            ranking = self._ranking[id(in_force)] = (in_force, ranking_rule(in_force))
        return int(aid), self._record(vacancy.vacancy_id, letting_channel, ranking[1], aid, seekers, vacancy.dwelling, now,
                                      round_channel, group)

    def _record(self, vacancy_id: str, letting_channel: Channel, ranking_rule: str | None, winner: int,
                seekers: Seekers, dwelling: Dwelling, now: datetime, round_channel: Channel | None = None,
                group: SeekerPool | None = None) -> dict:
        """The letting's record; `round_channel`: the channel of the deciding round (default: the
        last engine round's). Its household profile is read with the year's others (`profiles.fill`),
        its members from the pool's first reads where they hold them (`group`: the vacancy's pool)."""
        ledger = self.engine.ledger
        allocation = self._allocation.pop(vacancy_id, None)
        rounds = ledger.vacancy_rounds.get(vacancy_id, ())
        if round_channel is None:
            round_channel = ledger.rounds[rounds[-1]].channel
        channel_rule, rejected, rejections = deciding_rules(allocation, [ledger.rounds[r] for r in rounds],
                                                            round_channel)
        current = seekers.dwelling[winner]
        if current is None and seekers.kind[winner] == "leaver":   # a home leaver comes from the parents' dwelling
            i = self.row_of(seekers.members[winner][0])
            current = int(self.pop.dwelling[i]) if i is not None else None
        on = now.date()
        record = {"date": on, "dwelling_id": dwelling.dwelling_id, "area_id": dwelling.area_id,
                  "department_id": dwelling.department_id, "channel": letting_channel.value,
                  "channel_rule": channel_rule, "ranking_rule": ranking_rule,
                  "rejected": rejections,
                  "rejected_rules": ";".join(rejected), "household_id": winner, "seeker_kind": seekers.kind[winner],
                  **dict.fromkeys(PROFILE_FIELDS),
                  "from_area_id": self.pop.dwellings.area[self.pop.dwellings.index[current]] if current is not None
                  else None}
        row = group.row.get(winner) if group is not None and group.reads is not None else None
        self.profiles.add(record, winner, seekers, on, group.reads.members(row) if row is not None else None)
        return record

__all__ = ["WINDOW", "WINDOWS", "AlmenLetting", "Fits", "direct_channel", "ranking_rule"]
