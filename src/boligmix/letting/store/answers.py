"""Answers to offers: accept, refuse, expire; the best-ranked acceptor gets the dwelling.

Several applicants may hold offers for one vacancy at once. The waiting-list order decides, not
the speed of the answer: **the best-ranked acceptor within the answer period wins**. An offer is
better-ranked than another of the same vacancy when it was made first (a round writes its offers
in rank order, and a later round is made only after the earlier offers; so `offer_id` order is
the ranking order). So:

* an acceptance while a better-ranked offer is still open (within its deadline) is provisional:
  the offer becomes `accepted` (with `accepted_at` and the asked `lease_start`), a decision
  `accepted` (rule `boligmix.store#accept_provisional`) names the offers it waits for, the API
  answers 202;
* an acceptance with no better-ranked open offer lets the dwelling at once (201 with the lease);
  the other open and provisionally accepted offers are `withdrawn`;
* when a better-ranked offer is refused, expires or is withdrawn, `settle_vacancy` lets the dwelling
  to the best provisional acceptor that no open offer ranks above (a `let` decision, rule
  `boligmix.store#accept`, with `settled_after` naming the answer that cleared the way);
* better-ranked offers past their deadline are expired (counted as refusals where the policy says
  so) by the acceptance itself before it is weighed.

An accepted offer holds its household (one open or accepted offer per household, migration 0013).
On PostgreSQL the acceptance is one call of `boligmix_accept_offer` (migration 0014, `accept_sql`),
which takes the same decisions; it hands the rare cases that need the rules (a better-ranked offer
past its deadline) back to this module (`stale`). No vacancy is let twice: the vacancy row is
locked, and `leases.vacancy_id` is unique.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any, NamedTuple

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from boligmix.errors import AuthorizationError, ConflictError
from boligmix.letting.store import accept_sql
from boligmix.letting.store.access import require_act_on_vacancy
from boligmix.letting.store.auth import Principal, Pseudonymiser
from boligmix.letting.store.errors import NotFoundError, OfferExpiredError, SettledElsewhereError, StoreInvariantError
from boligmix.letting.store.models import Applicant, Decision, Department, Dwelling, Lease, Offer, Vacancy, utcnow
from boligmix.letting.store.selection import MUNICIPAL_CHANNELS, RULE_VERSION, OfferRules, default_offer_rules
from boligmix.letting.store.context import STORE_RULE, _decision, _offer_context, _vacancy_context
from boligmix.letting.store.serialise import _as_utc, _ids, offer_json

_HOLDING = ("open", "accepted")


def accept_offer(s: Session, p: Principal, offer_id: int, lease_start: date | None = None,
                 pseudo: Pseudonymiser | None = None, *, rules: OfferRules | None = None,
                 now: datetime | None = None) -> dict[str, Any]:
    """Accept an open offer. Returns the lease (`lease_id` set) when no better-ranked offer of the
    vacancy is open, else the provisional acceptance (`status` `accepted`, `lease_id` null,
    `waiting_for`: the better-ranked open offers). `ConflictError` when the vacancy is let or the
    offer closed; `SettledElsewhereError` (409, committed) when expiring the stale better-ranked
    offers let the dwelling to a better-ranked acceptor.

    An offer whose answer deadline is before `now` (default the current time) is not accepted: it
    expires as with `expire_offers` and `OfferExpiredError` (409) is raised; its transaction is
    committed."""
    as_of = _as_utc(now or datetime.now(timezone.utc))
    rules = rules or default_offer_rules()
    conn = s.connection()
    if conn.dialect.name == "postgresql":
        return _accept_postgres(s, p, offer_id, lease_start, pseudo, rules, as_of)
    ctx = _locked_context(s, offer_id)
    require_act_on_vacancy(p, ctx, ctx)  # type: ignore[arg-type]
    if ctx.status == "let":
        lease_id = conn.scalar(select(Lease.lease_id).where(Lease.vacancy_id == ctx.vacancy_id))
        raise ConflictError(f"vacancy {ctx.vacancy_id} is already let (lease {lease_id})")
    if ctx.status != "open":
        raise ConflictError(f"vacancy {ctx.vacancy_id} is {ctx.status}")
    o = _offer_row(s, offer_id)
    if o.status != "open":
        raise ConflictError(f"offer {offer_id} is {o.status}")
    if o.entry_status != "active":
        raise ConflictError(f"applicant entry {o.entry_id} is {o.entry_status}; it cannot accept offer {offer_id}")
    if o.deadline is not None and _as_utc(o.deadline) < as_of:
        _expire_at_accept(s, p, offer_id, rules, as_of)
    _expire_stale_better(s, p, ctx, offer_id, rules, as_of)
    waiting = _better_open(s, ctx.vacancy_id, offer_id)
    if waiting:
        return _accept_provisionally(s, p, ctx, o, offer_id, lease_start, waiting, as_of, pseudo)
    if _better_accepted(s, ctx.vacancy_id, offer_id):  # only after stale offers expired just now
        _settled_elsewhere(s, p, ctx, offer_id, rules)
    start = lease_start or ctx.available_from
    lease_id = _accept_writes(s.connection(), p, ctx, o, offer_id, start)
    ident = _ids(p, pseudo)
    return {"lease_id": lease_id, "vacancy_id": ctx.vacancy_id, "offer_id": offer_id, "entry_id": o.entry_id,
            "dwelling_id": ctx.dwelling_id, "applicant_id": ident(o.applicant_id),
            "household_id": ident(o.household_id), "lease_start": start.isoformat(), "channel": ctx.channel}


def _locked_context(s: Session, offer_id: int) -> Any:
    """The offer's vacancy (locked), dwelling and department, as one Core row."""
    vt, ot, wt, dt = Vacancy.__table__, Offer.__table__, Dwelling.__table__, Department.__table__
    ctx = s.connection().execute(
        select(vt.c.vacancy_id, vt.c.dwelling_id, vt.c.channel, vt.c.available_from, vt.c.status,
               dt.c.org_id, dt.c.municipality_code)
        .select_from(ot.join(vt, vt.c.vacancy_id == ot.c.vacancy_id)
                     .join(wt, wt.c.dwelling_id == vt.c.dwelling_id)
                     .join(dt, dt.c.department_id == wt.c.department_id))
        .where(ot.c.offer_id == offer_id).with_for_update(of=vt)).one_or_none()
    if ctx is None:
        raise NotFoundError(f"offer {offer_id} does not exist")
    return ctx


def _offer_row(s: Session, offer_id: int) -> Any:
    """The offer with its entry, the entry locked (a new statement after the vacancy lock)."""
    ot, at = Offer.__table__, Applicant.__table__
    row = s.connection().execute(
        select(ot.c.offer_id, ot.c.status, ot.c.rank, ot.c.rule, ot.c.rule_version, ot.c.entry_id, ot.c.deadline,
               ot.c.lease_start, ot.c.accepted_at, at.c.applicant_id, at.c.household_id,
               at.c.status.label("entry_status"))
        .select_from(ot.join(at, at.c.entry_id == ot.c.entry_id))
        .where(ot.c.offer_id == offer_id).with_for_update(of=at)).one_or_none()
    if row is None:
        raise StoreInvariantError(f"offer {offer_id} vanished while its vacancy was locked")
    return row


def _better_open(s: Session, vacancy_id: int, offer_id: int) -> list[int]:
    ot = Offer.__table__
    return list(s.connection().scalars(select(ot.c.offer_id).where(
        ot.c.vacancy_id == vacancy_id, ot.c.offer_id < offer_id, ot.c.status == "open").order_by(ot.c.offer_id)))


def _better_accepted(s: Session, vacancy_id: int, offer_id: int) -> bool:
    ot = Offer.__table__
    return s.connection().scalar(select(ot.c.offer_id).where(
        ot.c.vacancy_id == vacancy_id, ot.c.offer_id < offer_id, ot.c.status == "accepted").limit(1)) is not None


def _expire_stale_better(s: Session, p: Principal, ctx: Any, offer_id: int, rules: OfferRules | None,
                         as_of: datetime) -> int:
    """Expire the vacancy's better-ranked open offers whose deadline has passed (their answer
    period is over: they no longer keep a later acceptor waiting). Returns how many."""
    rows = s.execute(select(Offer, Applicant).join(Applicant, Applicant.entry_id == Offer.entry_id)
                     .where(Offer.vacancy_id == ctx.vacancy_id, Offer.offer_id < offer_id, Offer.status == "open",
                            Offer.deadline.is_not(None), Offer.deadline < as_of)
                     .order_by(Offer.offer_id).with_for_update(of=Applicant)
                     .execution_options(populate_existing=True)).all()
    for o, entry in rows:
        _expire_offer(s, p, ctx, o, entry, rules, as_of)
    s.flush()
    return len(rows)


def _accept_provisionally(s: Session, p: Principal, ctx: Any, o: Any, offer_id: int, lease_start: date | None,
                          waiting: list[int], as_of: datetime, pseudo: Pseudonymiser | None) -> dict[str, Any]:
    conn = s.connection()
    now = utcnow()
    conn.execute(update(Offer.__table__).where(Offer.offer_id == offer_id)
                 .values(status="accepted", accepted_at=now, lease_start=lease_start))
    conn.execute(insert(Decision.__table__).values(
        created_at=now, outcome="accepted", vacancy_id=ctx.vacancy_id, dwelling_id=ctx.dwelling_id,
        channel=ctx.channel, offer_id=offer_id, entry_id=o.entry_id, applicant_id=o.applicant_id,
        household_id=o.household_id, rank=o.rank, rule=accept_sql.RULE_PROVISIONAL, rule_version=RULE_VERSION,
        law=None, reason=accept_sql.REASON_PROVISIONAL,
        facts={"offer_id": offer_id, "waiting_for": waiting,
               "lease_start": lease_start.isoformat() if lease_start else None},
        unknown_facts=[], actor=p.name))
    ident = _ids(p, pseudo)
    return provisional_json(ctx, o, offer_id, lease_start, waiting, ident)


def provisional_json(ctx: Any, o: Any, offer_id: int, lease_start: date | None, waiting: list[int],
                     ident: Any) -> dict[str, Any]:
    """The answer to a provisional acceptance (202)."""
    return {"lease_id": None, "status": "accepted", "vacancy_id": ctx.vacancy_id, "offer_id": offer_id,
            "entry_id": o.entry_id, "dwelling_id": ctx.dwelling_id, "applicant_id": ident(o.applicant_id),
            "household_id": ident(o.household_id), "rank": o.rank,
            "lease_start": lease_start.isoformat() if lease_start else None, "channel": ctx.channel,
            "waiting_for": waiting}


def settle_vacancy(s: Session, p: Principal, vacancy_id: int, cause: str) -> int | None:
    """Let the (locked) open vacancy to its best provisional acceptor once no better-ranked offer is
    open; returns the lease id, or None when an open offer still ranks first or nobody accepted.
    `cause` says which answer cleared the way (recorded in the `let` decision's facts)."""
    v, _w, d = _vacancy_context(s, vacancy_id, lock=True)
    if v.status != "open":
        return None
    s.flush()
    ot = Offer.__table__
    head = s.connection().execute(select(ot.c.offer_id, ot.c.status).where(
        ot.c.vacancy_id == vacancy_id, ot.c.status.in_(_HOLDING)).order_by(ot.c.offer_id).limit(1)).one_or_none()
    if head is None or head.status != "accepted":
        return None
    o = _offer_row(s, head.offer_id)
    if o.entry_status != "active":
        raise StoreInvariantError(f"offer {o.offer_id} is accepted but its entry {o.entry_id} is {o.entry_status}")
    ctx = _Context(v.vacancy_id, v.dwelling_id, v.channel, v.available_from, v.status, d.org_id,
                   d.municipality_code)
    return _accept_writes(s.connection(), p, ctx, o, o.offer_id, o.lease_start or v.available_from,
                          settled_after=cause)


class _Context(NamedTuple):
    """What the acceptance reads of a vacancy and its department (as `_locked_context`'s row)."""

    vacancy_id: int
    dwelling_id: int
    channel: str
    available_from: date
    status: str
    org_id: str
    municipality_code: int


def _settled_elsewhere(s: Session, p: Principal, ctx: Any, offer_id: int, rules: OfferRules | None) -> None:
    lease_id = settle_vacancy(s, p, ctx.vacancy_id, f"stale offers expired at the acceptance of offer {offer_id}")
    if lease_id is None:
        raise StoreInvariantError(f"vacancy {ctx.vacancy_id}: a better-ranked acceptance waits with no open "
                                  f"offer above it")
    s.flush()
    raise SettledElsewhereError(
        f"vacancy {ctx.vacancy_id} is let to a better-ranked acceptor (lease {lease_id}): the better-ranked "
        f"offers past their deadline expired first; offer {offer_id} is withdrawn")


class _Scope(NamedTuple):
    """What `require_act_on_vacancy` reads of a vacancy and its department."""

    vacancy_id: int
    channel: str
    org_id: str
    municipality_code: int


def _accept_postgres(s: Session, p: Principal, offer_id: int, lease_start: date | None,
                     pseudo: Pseudonymiser | None, rules: OfferRules | None, as_of: datetime) -> dict[str, Any]:
    """`accept_offer` on PostgreSQL: one call of `boligmix_accept_offer`; its outcomes as the
    service's answers and errors (the token and the Idempotency-Key are the caller's business)."""
    for attempt in range(2):
        outcome, _status, body = s.connection().exec_driver_sql(
            accept_sql.CALL_SQL, accept_sql.call_params(p, offer_id, lease_start, as_of, utcnow())).one()
        if outcome in ("done", "provisional"):
            ident = _ids(p, pseudo)
            return {**body, "applicant_id": ident(body["applicant_id"]), "household_id": ident(body["household_id"])}
        if outcome == "conflict":
            raise ConflictError(body["detail"])
        if outcome == "not_found":
            raise NotFoundError(f"offer {offer_id} does not exist")
        if outcome == "forbidden":
            scope = _Scope(**body)
            require_act_on_vacancy(p, scope, scope)  # type: ignore[arg-type]
            raise AuthorizationError(f"vacancy {scope.vacancy_id}: token '{p.name}' cannot act on it")
        if outcome == "expired":
            _expire_at_accept(s, p, offer_id, rules, as_of)  # the vacancy and the entry are locked already
        if outcome == "stale" and attempt == 0:  # better-ranked offers past their deadline: the rules expire them
            ctx = _locked_context(s, offer_id)
            _expire_stale_better(s, p, ctx, offer_id, rules, as_of)
            if _better_accepted(s, ctx.vacancy_id, offer_id) and not _better_open(s, ctx.vacancy_id, offer_id):
                _settled_elsewhere(s, p, ctx, offer_id, rules)
            continue
        break
    raise StoreInvariantError(f"boligmix_accept_offer answered {outcome!r} for offer {offer_id}")


def _expire_at_accept(s: Session, p: Principal, offer_id: int, rules: OfferRules | None, as_of: datetime) -> None:
    """The offer's deadline has passed: expire it (recorded, committed), let the dwelling to a
    provisional acceptor it kept waiting, and refuse the acceptance."""
    o, v, _w, _d = _offer_context(s, offer_id)  # the vacancy is locked already
    entry = s.scalar(select(Applicant).where(Applicant.entry_id == o.entry_id).with_for_update()
                     .execution_options(populate_existing=True))
    if entry is None or o.deadline is None:
        raise StoreInvariantError(f"offer {offer_id}: no entry or no deadline at its expiry")
    counted = _expire_offer(s, p, v, o, entry, rules, as_of, at_accept=True)
    s.flush()
    settle_vacancy(s, p, v.vacancy_id, f"offer {offer_id} expired")
    s.flush()
    raise OfferExpiredError(
        f"offer {offer_id} expired at its answer deadline {_as_utc(o.deadline).isoformat()}; the acceptance "
        f"at {as_of.isoformat()} is refused" + (" and counted as a refusal" if counted else ""))


def _accept_writes(conn: Any, p: Principal, ctx: Any, o: Any, offer_id: int, start: date, *,
                   settled_after: str | None = None) -> int:
    """The writes of a letting, portable: lease, status changes, the withdrawal of the other open
    and provisionally accepted offers, decisions."""
    vt, ot, at, lt = Vacancy.__table__, Offer.__table__, Applicant.__table__, Lease.__table__
    lease = {"vacancy_id": ctx.vacancy_id, "offer_id": offer_id, "entry_id": o.entry_id,
             "dwelling_id": ctx.dwelling_id, "applicant_id": o.applicant_id, "household_id": o.household_id,
             "lease_start": start, "channel": ctx.channel}
    lease_id = conn.execute(insert(lt).values(**lease).returning(lt.c.lease_id)).scalar_one()
    conn.execute(update(ot).where(ot.c.offer_id == offer_id).values(status="accepted"))
    conn.execute(update(vt).where(vt.c.vacancy_id == ctx.vacancy_id).values(status="let"))
    conn.execute(update(at).where(at.c.entry_id == o.entry_id).values(status="housed"))
    withdrawn = conn.execute(
        update(ot).where(ot.c.vacancy_id == ctx.vacancy_id, ot.c.status.in_(_HOLDING), ot.c.offer_id != offer_id)
        .values(status="withdrawn").returning(ot.c.offer_id, ot.c.entry_id, ot.c.rank)).all()
    people = {}
    if withdrawn:
        people = {r.entry_id: r for r in conn.execute(
            select(at.c.entry_id, at.c.applicant_id, at.c.household_id)
            .where(at.c.entry_id.in_([w.entry_id for w in withdrawn])))}
    base = {"vacancy_id": ctx.vacancy_id, "dwelling_id": ctx.dwelling_id, "channel": ctx.channel,
            "rule_version": RULE_VERSION, "law": None, "unknown_facts": [], "actor": p.name}
    facts = {"offer_id": offer_id, "lease_id": lease_id, "lease_start": start.isoformat(),
             "offer_rule": o.rule, "offer_rule_version": o.rule_version}
    reason = "the applicant accepted the offer; lease created"
    if settled_after is not None:
        facts["settled_after"] = settled_after
        reason = ("the best-ranked acceptor: the better-ranked offers were answered or expired "
                  f"({settled_after}); lease created")
    rows = [{**base, "outcome": "let", "rule": f"{STORE_RULE}#accept", "offer_id": offer_id, "entry_id": o.entry_id,
             "applicant_id": o.applicant_id, "household_id": o.household_id, "rank": o.rank,
             "reason": reason, "facts": facts}]
    for w in sorted(withdrawn, key=lambda r: r.offer_id):
        who = people[w.entry_id]
        rows.append({**base, "outcome": "withdrawn", "rule": f"{STORE_RULE}#withdraw", "offer_id": w.offer_id,
                     "entry_id": w.entry_id, "applicant_id": who.applicant_id, "household_id": who.household_id,
                     "rank": w.rank, "reason": "the dwelling was let to another applicant",
                     "facts": {"lease_id": lease_id, "winning_offer_id": offer_id}})
    now = utcnow()
    conn.execute(insert(Decision.__table__).values([{**r, "created_at": now} for r in rows]))
    return lease_id


def refuse_offer(s: Session, p: Principal, offer_id: int, reason: str | None = None,
                 pseudo: Pseudonymiser | None = None, *, rules: OfferRules | None = None,
                 now: datetime | None = None) -> dict[str, Any]:
    """Refuse an open offer; counts the refusal. With rules that know the waiting-list policy that
    made the offer (the engine), the entry is set passive (`passive` decision) when its refusals
    reach the policy's `passive_after_refusals` (not for referral channels, as the engine)."""
    rules = rules or default_offer_rules()
    o, v, _w, d = _offer_context(s, offer_id)
    require_act_on_vacancy(p, v, d)
    if o.status != "open":
        raise ConflictError(f"offer {offer_id} is {o.status}")
    o.status = "refused"
    entry = s.scalar(select(Applicant).where(Applicant.entry_id == o.entry_id).with_for_update())
    if entry is None:
        raise StoreInvariantError(f"offer {offer_id} has no applicant entry")
    entry.refusal_count += 1
    _decision(s, p, outcome="refused", vacancy=v, rule=f"{STORE_RULE}#refuse", entry=entry, offer_id=o.offer_id,
              rank=o.rank, reason=reason or "the applicant refused the offer",
              facts={"offer_id": o.offer_id, "refusal_count": entry.refusal_count})
    _maybe_passive(s, p, v, o, entry, rules, now)
    s.flush()
    settle_vacancy(s, p, v.vacancy_id, f"offer {offer_id} refused")
    s.flush()
    return offer_json(o, entry, _ids(p, pseudo))


def _maybe_passive(s: Session, p: Principal, v: Vacancy, o: Offer, entry: Applicant, rules: OfferRules | None,
                   now: datetime | None) -> None:
    """Set the entry passive when its refusals reach the offer's policy's `passive_after_refusals`
    (not for referral channels, as the engine)."""
    round_rules = getattr(rules, "round_rules", None)
    settings = round_rules(o.rule, o.rule_version) if round_rules is not None else None
    if settings is None or o.channel in MUNICIPAL_CHANNELS or entry.passive_since is not None:
        return
    if entry.refusal_count >= settings.passive_after_refusals:
        entry.passive_since = now or datetime.now(timezone.utc)
        _decision(s, p, outcome="passive", vacancy=v, rule=f"{settings.policy_id}#passive_after_refusals",
                  entry=entry, offer_id=o.offer_id, rank=o.rank, rule_version=settings.version, law=settings.law,
                  reason=f"set passive after {entry.refusal_count} refusals "
                         f"(limit {settings.passive_after_refusals})",
                  facts={"refusals": entry.refusal_count,
                         "passive_after_refusals": settings.passive_after_refusals})


def expire_offers(s: Session, p: Principal, vacancy_id: int, as_of: datetime | None = None,
                  pseudo: Pseudonymiser | None = None, *, rules: OfferRules | None = None) -> list[dict[str, Any]]:
    """End the vacancy's open offers whose answer deadline is before `as_of` (default now): status
    `expired`, an `expired` decision, and, when the policy's `no_answer_counts_as_refusal` is on,
    a counted refusal (which may set the entry passive). Returns the expired offers."""
    rules = rules or default_offer_rules()
    now = as_of or datetime.now(timezone.utc)
    v, _w, d = _vacancy_context(s, vacancy_id, lock=True)
    require_act_on_vacancy(p, v, d)
    cutoff = now if now.tzinfo is not None else now.replace(tzinfo=timezone.utc)
    rows = s.execute(select(Offer, Applicant).join(Applicant, Applicant.entry_id == Offer.entry_id)
                     .where(Offer.vacancy_id == vacancy_id, Offer.status == "open", Offer.deadline.is_not(None))
                     .order_by(Offer.offer_id).with_for_update(of=Applicant)
                     .execution_options(populate_existing=True)).all()
    ident = _ids(p, pseudo)
    out = []
    for o, entry in rows:
        if _as_utc(o.deadline) >= cutoff:
            continue
        _expire_offer(s, p, v, o, entry, rules, cutoff)
        out.append(offer_json(o, entry, ident))
    s.flush()
    if out:
        settle_vacancy(s, p, v.vacancy_id, "offers " + ", ".join(str(o["offer_id"]) for o in out) + " expired")
        s.flush()
    return out


def _expire_offer(s: Session, p: Principal, v: Vacancy, o: Offer, entry: Applicant, rules: OfferRules | None,
                  as_of: datetime, *, at_accept: bool = False) -> bool:
    """End an open offer whose deadline has passed: status `expired`, an `expired` decision, and when
    the offer's policy switch `no_answer_counts_as_refusal` is on (not for referral channels) a
    counted refusal that may set the entry passive. Returns whether the refusal was counted."""
    if o.deadline is None:
        raise StoreInvariantError(f"offer {o.offer_id} has no deadline to expire at")
    deadline = _as_utc(o.deadline)
    o.status = "expired"
    round_rules = getattr(rules, "round_rules", None)
    settings = round_rules(o.rule, o.rule_version) if round_rules is not None else None
    counts = bool(settings is not None and settings.no_answer_counts_as_refusal
                  and o.channel not in MUNICIPAL_CHANNELS)
    if counts:
        entry.refusal_count += 1
    reason = f"no answer by {deadline.isoformat()}"
    if at_accept:
        reason += f"; the acceptance at {as_of.isoformat()} came after the deadline and is refused"
    _decision(s, p, outcome="expired", vacancy=v, rule=f"{STORE_RULE}#expire", entry=entry, offer_id=o.offer_id,
              rank=o.rank, reason=reason,
              facts={"offer_id": o.offer_id, "deadline": deadline.isoformat(), "as_of": as_of.isoformat(),
                     "counts_as_refusal": counts, "refusal_count": entry.refusal_count, "at_accept": at_accept})
    if counts:
        _maybe_passive(s, p, v, o, entry, rules, as_of)
    return counts
