"""Offer rounds: the next applicants of a vacancy by the letting rules, their offers and the
round's decisions (one compact trail row per round, `store.trail`)."""

from __future__ import annotations

from operator import attrgetter
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from boligmix.errors import ConflictError
from boligmix.letting.store.access import require_act_on_vacancy, require_read_list
from boligmix.letting.store.auth import Principal, Pseudonymiser
from boligmix.letting.store.candidates import (
    _LIST_LOCK_SPACE,
    WHOLE_LIST,
    _busy_candidates,
    _candidates,
    _lock_first_offerable,
    _lock_offerable,
    round_start_pg,
)
from boligmix.letting.store.errors import InvalidRequestError, StoreInvariantError
from boligmix.letting.store.follow_ups import keep_redirect, open_redirects
from boligmix.letting.store.models import Applicant, Decision, Entitlement, Offer, Vacancy, utcnow
from boligmix.letting.store.selection import (
    MUNICIPAL_CHANNELS,
    CandidateDecision,
    OfferRules,
    candidate_lists,
    default_offer_rules,
)
from boligmix.letting.store.serialise import _ids, decision_json, offer_json
from boligmix.letting.store.context import _vacancy_context, locked_vacancy_context_pg
from boligmix.letting.store.trail import trail, write_round

MAX_OFFERS_PER_ROUND = 50


def _queue_on_list(s: Session, owner: str) -> None:
    """Rounds on one owner's lists take turns (a transaction-scoped advisory lock, PostgreSQL).

    Concurrent rounds rank the same list the same way and race for its head: a round that loses
    the head to another plans again, a second engine pass over the whole list, so 16 clients got
    less done than one. Queued, each round sees the offers of the rounds before it and plans once;
    rounds on other owners' lists (other organisations, municipalities) still run side by side,
    and the lock-ahead (`_lock_first_offerable`) still guards households on several owners' lists.
    The statements after the lock see what the rounds before committed (read committed).

    Planning before taking the turn (and checking the plan under the lock) was tried and measured
    (issue 11, second pass, docs/letting.md): rounds on one list all rank the same head, so the
    waiting round's plan is stale nearly always and it plans again in its turn; 16 clients got
    27.6-32.6 lettings/s against 33.8-34.6 queued first, with 3-5 ms more CPU per letting.

    An offer round takes its turn in the statements that read the vacancy (`round_start_pg`, the
    same lock: the owner's `hashtext` in the key space `_LIST_LOCK_SPACE`)."""
    s.connection().exec_driver_sql("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (_LIST_LOCK_SPACE, owner))


def _decision_row(p: Principal, *, outcome: str, vacancy: Vacancy, rule: str, reason: str, facts: dict[str, Any],
                  entry: Applicant | None, offer_id: int | None, rank: int | None, rule_version: str,
                  law: str | None, unknown_facts: tuple[str, ...], channel: str | None,
                  at: datetime) -> dict[str, Any]:
    """The column values of a decision (as `service._decision` writes them)."""
    return {"created_at": at, "outcome": outcome, "vacancy_id": vacancy.vacancy_id,
            "dwelling_id": vacancy.dwelling_id, "channel": channel or vacancy.channel, "offer_id": offer_id,
            "entry_id": entry.entry_id if entry else None,
            "applicant_id": entry.applicant_id if entry else None,
            "household_id": entry.household_id if entry else None, "rank": rank, "rule": rule,
            "rule_version": rule_version, "law": law, "reason": reason, "facts": facts,
            "unknown_facts": list(unknown_facts), "actor": p.name}


def make_offers(s: Session, p: Principal, vacancy_id: int, count: int | None = 1,
                pseudo: Pseudonymiser | None = None, *, rules: OfferRules | None = None,
                now: datetime | None = None, with_decisions: bool = True) -> dict[str, Any]:
    """Offer the vacancy to the next applicants by `rules` (default: the statutory engine rules,
    `default_offer_rules`; the plain list order with `count` offers only when `StoreOrderRules` is
    given by name); record every decision of the round."""
    if count is not None and not 1 <= count <= MAX_OFFERS_PER_ROUND:
        raise InvalidRequestError(f"count must be between 1 and {MAX_OFFERS_PER_ROUND}")
    rules = rules or default_offer_rules()
    now = now or datetime.now(timezone.utc).replace(tzinfo=None)
    pg = s.connection().dialect.name == "postgresql"
    start = None
    if pg and getattr(rules, "ranking", None) is not None:  # rules that rank the whole list (the engine):
        # the vacancy's row locked, the list's turn (one planning per round, `_queue_on_list`) and the
        # state of the worker's copy of the list, in one round trip
        v, w, d, start = round_start_pg(s, vacancy_id)
    else:
        v, w, d = locked_vacancy_context_pg(s, vacancy_id) if pg else _vacancy_context(s, vacancy_id, lock=True)
    require_act_on_vacancy(p, v, d)
    if v.status != "open":
        raise ConflictError(f"vacancy {vacancy_id} is {v.status}; no more offers")
    owner, list_types = candidate_lists(v, d)
    # Rules that rank the whole list (the engine) see every candidate at once; the plain list order
    # reads the list page by page until the round has its offers.
    page_size = getattr(rules, "page_size", None) or WHOLE_LIST
    lock_ahead = getattr(rules, "lock_ahead", 0) or 0
    remaining = count
    decided: list[CandidateDecision] = []
    passed_over: set[int] = set()
    fulfilled: set[int] = set()
    seen_persons: set[int] = set()
    seen_households: set[int] = set()
    offset = 0
    while True:
        page = _candidates(s, v, owner, list_types, offset=offset, limit=page_size, start=start)
        start = None
        pool, extra = page, {}
        if getattr(rules, "carries_redirects", False) and v.channel in MUNICIPAL_CHANNELS:
            redirects, missing = open_redirects(s, v, d.municipality_code, page, list_types)  # § 59 stk. 6
            pool, extra = [*page, *missing], {"redirects": redirects}
        pool = _one_entry_per_household(pool, seen_persons, seen_households)
        held = _entitlements(s, d.org_id, set(map(_APPLICANT_ID, pool)))
        got: set[int] = set()
        reuse = None
        if lock_ahead:  # lock the first free ones of a deeper plan at once (concurrent rounds race for the head)
            wide = rules.plan(v, w, d, _without(pool, passed_over),
                              (remaining or 1) + lock_ahead, now, entitlements=held, **extra)
            ranking = getattr(rules, "ranking", None)  # rules that rank every eligible candidate (the engine)
            order = ranking(wide) if ranking is not None else [
                cd.entry.entry_id for cd in wide.offered if cd.entry is not None]
            locked = _lock_first_offerable(s, order, len(wide.offered) if ranking is not None else remaining or 1)
            got = set(locked)
            tried = order[:order.index(locked[-1]) + 1] if locked else order
            lost_head = set(tried) - got
            passed_over |= lost_head  # locked by a concurrent round, or offered meanwhile
            if not lost_head and {cd.entry.entry_id for cd in wide.offered if cd.entry is not None} <= got:
                reuse = wide  # nobody passed over: the wide plan is this round's (no second planning)
        while True:
            plan = reuse or rules.plan(v, w, d, _without(pool, passed_over), remaining, now,
                                       entitlements=held, **extra)
            reuse = None
            chosen = [cd.entry.entry_id for cd in plan.offered if cd.entry is not None]
            rest = [i for i in chosen if i not in got]
            lost = set(rest) - _lock_offerable(s, rest)
            if not lost:
                break
            passed_over |= lost  # being offered elsewhere right now: not a decision about them
        decided += plan.decisions
        below = plan.not_reached
        fulfilled.update(plan.fulfilled_entitlements)
        offset += len(page)
        if page_size >= WHOLE_LIST or len(page) < page_size:
            break
        remaining = (remaining or 1) - len(plan.offered)
        if remaining <= 0:
            break
    if plan.channel == "annoncering" and v.channel in ("waiting_list", "fleksibel") and not plan.offered \
            and getattr(rules, "weighs_busy", False):
        busy = [*_busy_candidates(s, v, owner, list_types), *(e for e in pool if e.entry_id in passed_over)]
        if busy:  # would the held-back applicants still count? (annoncering switch busy_applicants)
            plan = rules.plan(v, w, d, [e for e in pool if e.entry_id not in passed_over], remaining, now,
                              entitlements=held, busy=busy, **extra)
            decided = list(plan.decisions)
            below = plan.not_reached
            fulfilled = set(plan.fulfilled_entitlements)
    ident = _ids(p, pseudo)
    round_rules = getattr(rules, "round_rules", None)
    offers: list[dict[str, Any]] = []
    # The offers are written in rank order, so offer ids order a vacancy's offers by rank (the
    # best-ranked acceptor wins, see `answers`); a later round ranks below every earlier offer.
    made: dict[int, Offer] = {}
    for i, cd in sorted(((i, cd) for i, cd in enumerate(decided) if cd.outcome == "offered" and cd.entry is not None),
                        key=lambda x: (x[1].rank if x[1].rank is not None else x[0], x[0])):
        entry = cd.entry
        if entry is None:
            continue
        settings = round_rules(cd.rule, cd.rule_version) if round_rules is not None else None
        deadline = None
        if settings is not None:  # `now` is naive UTC for the engine; the column keeps UTC with zone
            deadline = (now if now.tzinfo else now.replace(tzinfo=timezone.utc)) + timedelta(
                days=settings.answer_days)
        made[i] = Offer(vacancy_id=v.vacancy_id, entry_id=entry.entry_id, applicant_id=entry.applicant_id,
                        household_id=entry.household_id, rank=cd.rank or 0, channel=v.channel,
                        rule=cd.rule, rule_version=cd.rule_version, status="open", deadline=deadline)
    _insert_in_rank_order(s, list(made.values()))
    # The round's decisions go in as one compact row (`store.trail`); a decision with a follow-up
    # (entitlement, redirect) is referred to by its id, so it is a row of its own, and the decisions
    # before it are written first, keeping the trail in the order the decisions were taken.
    at = utcnow()
    pending: list[dict[str, Any]] = []
    written: list[int] = []
    for i, cd in enumerate(decided):
        offer_id = None
        if i in made and cd.entry is not None:
            o = made[i]
            offer_id = o.offer_id
            offers.append(offer_json(o, cd.entry, ident))
            if cd.entry.applicant_id in fulfilled:
                _fulfil_entitlement(s, d.org_id, cd.entry.applicant_id, o.offer_id)
        row = _decision_row(p, outcome=cd.outcome, vacancy=v, rule=cd.rule, reason=cd.reason, facts=cd.facts,
                            entry=cd.entry, offer_id=offer_id, rank=cd.rank, rule_version=cd.rule_version,
                            law=cd.law, unknown_facts=cd.unknown_facts, channel=cd.channel, at=at)
        if cd.entry is not None and cd.outcome in ("entitled", "redirected"):
            written.append(write_round(s, pending, actor=p.name, at=at) or 0)
            pending = []
            dec = Decision(**row)
            s.add(dec)
            s.flush()
            written.append(dec.decision_id)
            if cd.outcome == "entitled":
                _grant_entitlement(s, cd, dec)
            else:
                keep_redirect(s, cd, dec, v, d.municipality_code)
        else:
            pending.append(row)
    written.append(write_round(s, pending, actor=p.name, at=at, below=below, as_of=now) or 0)
    released = None
    if not offers and plan.channel == "waiting_list" and v.channel in ("kommunal_anvisning", "rehousing"):
        released = "waiting_list"  # no eligible referral: released (kommunal_anvisning switch unused_referral)
    elif not offers and plan.channel == "annoncering" and v.channel in ("waiting_list", "fleksibel"):
        released = "annoncering"  # the list gave nobody: advertised (§ 60 a policy, trigger list_exhausted)
    if released is not None:
        v.channel = released
        if pg:  # the vacancy is not in the session (`locked_vacancy_context_pg`)
            s.connection().exec_driver_sql("UPDATE vacancies SET channel = %s WHERE vacancy_id = %s",
                                           (released, v.vacancy_id))
    s.flush()
    counts: dict[str, int] = {}
    for cd in decided:
        counts[cd.outcome] = counts.get(cd.outcome, 0) + 1
    considered = {cd.entry.entry_id for cd in decided if cd.entry is not None}
    if below is not None:  # ranked below the offers: skipped (not reached), recorded compactly
        counts["skipped"] = counts.get("skipped", 0) + len(below.entries)
        considered.update(map(_ENTRY_ID, below.entries))
    out = {"vacancy_id": v.vacancy_id, "channel": v.channel, "rules": rules.name, "offers": offers,
           "exhausted": not offers, "considered": len(considered),
           "outcomes": counts, "trail": f"/api/decisions?vacancy_id={v.vacancy_id}"}
    if with_decisions:  # the round's decisions as the trail has them (read back from the compact rows)
        ids = [i for i in written if i]
        out["decisions"] = [decision_json(x, ident) for x in trail(s, Decision.decision_id.in_(ids))] if ids else []
    return out


def _insert_in_rank_order(s: Session, offers: list[Offer]) -> None:
    """Insert a round's offers (given in rank order) in one statement; checked: their ids follow
    the rank order, which the acceptance relies on (the best-ranked acceptor wins).

    On PostgreSQL by driver SQL (`INSERT ... VALUES ... RETURNING`; the ids are matched to the
    offers by entry, unique within a vacancy): the offers stay out of the session, which only
    reads them back (the ORM flush of a round's offers cost ~1.2 ms of CPU). Elsewhere
    SQLAlchemy's multi-row insert."""
    if not offers:
        return
    conn = s.connection()
    if conn.dialect.name == "postgresql":
        at = utcnow()
        params: list[Any] = []
        for o in offers:
            o.created_at = at
            params += [o.vacancy_id, o.entry_id, o.applicant_id, o.household_id, o.rank, o.channel, o.rule,
                       o.rule_version, o.status, at, o.deadline]
        sql = _OFFERS_INSERT_PG_SQL + ",".join([_OFFERS_ROW] * len(offers)) + " RETURNING offer_id, entry_id"
        got = dict((entry_id, offer_id) for offer_id, entry_id in conn.exec_driver_sql(sql, tuple(params)))
        if len(got) != len(offers):
            raise StoreInvariantError(f"a round inserted {len(got)} offers for {len(offers)} entries")
        for o in offers:
            o.offer_id = got[o.entry_id]
    else:
        s.add_all(offers)
        s.flush()
    ids = [o.offer_id for o in offers]
    if ids != sorted(ids):
        raise StoreInvariantError(f"the offers of a round got ids {ids}, not in their rank order")


_OFFERS_INSERT_PG_SQL = ("INSERT INTO offers (vacancy_id, entry_id, applicant_id, household_id, rank, channel, rule, "
                         "rule_version, status, created_at, deadline) VALUES ")
_OFFERS_ROW = "(" + ",".join(["%s"] * 11) + ")"


def _one_entry_per_household(entries: list[Applicant], persons: set[int], households: set[int]) -> list[Applicant]:
    """The first entry (in list order) of each household: a household on several lists (internal
    and external, or by two members' entries with one household id) is one candidate of a round.
    `persons` and `households` are those seen in the round's earlier pages (updated)."""
    ids = list(map(_APPLICANT_ID, entries))
    homes = [h for h in map(_HOUSEHOLD_ID, entries) if h is not None]
    if not persons and not households and len(set(ids)) == len(ids) and len(set(homes)) == len(homes):
        persons.update(ids)  # the common case: no household twice (two set builds, no loop in Python)
        households.update(homes)
        return entries
    out = []
    for e in entries:
        if e.applicant_id in persons or (e.household_id is not None and e.household_id in households):
            continue
        persons.add(e.applicant_id)
        if e.household_id is not None:
            households.add(e.household_id)
        out.append(e)
    return out


_ENTRY_ID = attrgetter("entry_id")
_APPLICANT_ID = attrgetter("applicant_id")
_HOUSEHOLD_ID = attrgetter("household_id")


def _without(entries: list[Applicant], passed_over: set[int]) -> list[Applicant]:
    """`entries` but those passed over (the list itself when none is)."""
    return [e for e in entries if e.entry_id not in passed_over] if passed_over else entries


def _entitlements(s: Session, org_id: str, applicant_ids: set[int]) -> list[Entitlement]:
    """The § 51 b entitlements of these applicants with organisation `org_id` (used up or not): the
    organisation's entitlements (a handful, by `ix_entitlements_org_id`), those of `applicant_ids`
    kept here. (It sent the round's ~2,000 candidate ids as an array: ~0.3 ms of client CPU to
    build it and ~0.5 ms per statement to parse and match it, against ~0.03 ms now.)"""
    if not applicant_ids:
        return []
    conn = s.connection()
    if conn.dialect.name == "postgresql":  # plain rows with the columns' names (read only: `plan` reads them)
        rows: Any = conn.exec_driver_sql(_ENTITLEMENTS_PG_SQL, {"org_id": org_id})
    else:
        rows = s.scalars(_ENTITLEMENTS, {"org_id": org_id})
    return [e for e in rows if e.applicant_id in applicant_ids]


_ENTITLEMENTS = select(Entitlement).where(Entitlement.org_id == bindparam("org_id"))
_ENTITLEMENTS_PG_SQL = (
    "SELECT " + ", ".join(c.name for c in Entitlement.__table__.columns) + " FROM entitlements "
    "WHERE org_id = %(org_id)s")
"""The same as driver SQL (PostgreSQL): not an ORM query to build and compile every round."""


def _grant_entitlement(s: Session, cd: CandidateDecision, decision: Decision) -> None:
    """Keep the § 51 b entitlement the engine's `entitled` decision granted."""
    if cd.entry is None:
        raise StoreInvariantError(f"an entitled decision ({cd.rule}) without an applicant entry")
    facts = cd.facts
    policy_id = cd.rule.split("#", 1)[0]
    s.add(Entitlement(applicant_id=cd.entry.applicant_id, org_id=str(facts["org_id"]), area_id=facts.get("area_id"),
                      entry_id=cd.entry.entry_id, decision_id=decision.decision_id, policy_id=policy_id,
                      policy_version=cd.rule_version, ends=str(facts.get("entitlement_ends") or "on_offer")))


def _fulfil_entitlement(s: Session, org_id: str, applicant_id: int, offer_id: int) -> None:
    ent = s.scalar(select(Entitlement).where(Entitlement.org_id == org_id, Entitlement.applicant_id == applicant_id))
    if ent is not None and ent.fulfilled_by_offer_id is None:
        ent.fulfilled_by_offer_id = offer_id


def list_entitlements(s: Session, p: Principal, org_id: str, pseudo: Pseudonymiser | None = None) -> list[dict]:
    """§ 51 b entitlements with an organisation (open and used up). An entitlement is `open` while
    no offer used it up and the entry it was granted on is still active on the list: a housed
    applicant (also with `ends = on_letting`) or one who withdrew the application holds none."""
    require_read_list(p, org_id, None)
    ident = _ids(p, pseudo)
    rows = s.execute(select(Entitlement, Applicant.status).join(Applicant, Applicant.entry_id == Entitlement.entry_id)
                     .where(Entitlement.org_id == org_id).order_by(Entitlement.entitlement_id)).all()
    return [{"entitlement_id": e.entitlement_id, "applicant_id": ident(e.applicant_id), "org_id": e.org_id,
             "area_id": e.area_id, "entry_id": e.entry_id, "decision_id": e.decision_id, "policy_id": e.policy_id,
             "policy_version": e.policy_version, "ends": e.ends, "fulfilled_by_offer_id": e.fulfilled_by_offer_id,
             "entry_status": status, "open": e.fulfilled_by_offer_id is None and status == "active"}
            for e, status in rows]
