"""§ 59 stk. 6/7 redirected referrals and the reactivation of passive entries, in the letting store.

* Redirected referrals: when the engine rejects a municipality's referral (or rehousing household,
  in the rehousing channel) by a § 59 stk. 6/7 bar
  (a dwelling in an udsat area or forebyggelsesområde) it records a `redirected` decision; the
  store keeps it in `redirected_referrals` (`keep_redirect`). In the municipality's later referral
  rounds `open_redirects` hands the open ones (entry still active) to the engine, which gives them
  the `redirected_referral` priority right: they rank first among the referrals at a dwelling the
  bar does not cover, and a dwelling it covers rejects them again (without a second redirect).
  A redirect ends when the entry is housed (it is then no candidate).
* Reactivation: `reactivate_applicant` makes a passive entry active again at the applicant's
  request, under the switches of the waiting-list policy that set it passive
  (`reactivation_resets_refusals`, `reactivation_keeps_seniority`), with a `reactivated` decision.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from boligmix.errors import AuthorizationError, ConflictError
from boligmix.letting.store.access import check_fact_changes, municipal_facts, require_list_owner, require_read_list
from boligmix.letting.store.auth import Principal, Pseudonymiser
from boligmix.letting.store.errors import InvalidRequestError, NotFoundError, StoreInvariantError
from boligmix.letting.store.models import Applicant, Decision, Offer, RedirectedReferral, Vacancy
from boligmix.letting.store.selection import MUNICIPAL_LISTS, CandidateDecision, OfferRules

STORE_RULE = "boligmix.store"


def keep_redirect(s: Session, cd: CandidateDecision, decision: Decision, vacancy: Vacancy,
                  municipality_code: int) -> None:
    """Keep the redirected referral the engine's `redirected` decision recorded (one per entry:
    a concurrent round that redirected the same entry first keeps its row)."""
    if cd.entry is None:
        raise StoreInvariantError(f"a redirected decision ({cd.rule}) without an applicant entry")
    if s.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    s.flush()
    s.execute(insert(RedirectedReferral).values(
        entry_id=cd.entry.entry_id, applicant_id=cd.entry.applicant_id, municipality_code=municipality_code,
        from_vacancy_id=vacancy.vacancy_id, decision_id=decision.decision_id,
        bar_rule=str(cd.facts.get("bar") or cd.rule), policy_id=cd.rule.split("#", 1)[0],
        policy_version=cd.rule_version, created_at=datetime.now(timezone.utc),
    ).on_conflict_do_nothing(index_elements=["entry_id"]))


def open_redirects(s: Session, vacancy: Vacancy, municipality_code: int, page: list[Applicant],
                   list_types: tuple[str, ...] = ("municipal_referral",)
                   ) -> tuple[list[RedirectedReferral], list[Applicant]]:
    """The municipality's open redirected entries of `list_types` (its referrals, or its rehousing
    households for a rehousing vacancy) that may be offered `vacancy` now (entry active, not
    passive, not offered this vacancy, no open offer elsewhere), and those of their entries that
    are not in `page` already (a long referral list is read up to a limit)."""
    offered_here = select(Offer.entry_id).where(Offer.vacancy_id == vacancy.vacancy_id)
    open_elsewhere = select(Offer.entry_id).where(Offer.status == "open")
    rows = s.execute(
        select(RedirectedReferral, Applicant).join(Applicant, Applicant.entry_id == RedirectedReferral.entry_id)
        .where(RedirectedReferral.municipality_code == municipality_code, Applicant.status == "active",
               Applicant.list_type.in_(list_types),
               Applicant.passive_since.is_(None), Applicant.entry_id.not_in(offered_here),
               Applicant.entry_id.not_in(open_elsewhere))
        .order_by(RedirectedReferral.redirect_id)).all()
    listed = {e.entry_id for e in page}
    return [r for r, _ in rows], [a for _, a in rows if a.entry_id not in listed]


def redirect_json(r: RedirectedReferral, entry: Applicant, ident: Any) -> dict[str, Any]:
    return {"redirect_id": r.redirect_id, "entry_id": r.entry_id, "applicant_id": ident(r.applicant_id),
            "municipality_code": r.municipality_code, "from_vacancy_id": r.from_vacancy_id,
            "decision_id": r.decision_id, "bar_rule": r.bar_rule, "policy_id": r.policy_id,
            "policy_version": r.policy_version, "created_at": r.created_at.isoformat(),
            "entry_status": entry.status, "open": entry.status == "active"}


def list_redirected_referrals(s: Session, p: Principal, municipality_code: int,
                              pseudo: Pseudonymiser | None = None) -> list[dict[str, Any]]:
    """The municipality's redirected referrals (open: the entry is still active; else housed or withdrawn)."""
    require_read_list(p, None, municipality_code)
    ident = pseudo if p.pseudonymised and pseudo is not None else (lambda v: v)
    rows = s.execute(select(RedirectedReferral, Applicant)
                     .join(Applicant, Applicant.entry_id == RedirectedReferral.entry_id)
                     .where(RedirectedReferral.municipality_code == municipality_code)
                     .order_by(RedirectedReferral.redirect_id)).all()
    return [redirect_json(r, a, ident) for r, a in rows]


# ------------------------------------------------------------------------------------------------
# Reactivation of passive entries


def _reactivation_switches(rules: OfferRules | None, passive: Decision) -> tuple[str, str, str | None, bool, bool]:
    """(rule id, version, law, resets refusals, keeps seniority) from the policy that set the entry
    passive; the switch defaults under `boligmix.store#reactivate` when these rules do not know it."""
    from boligmix.letting.policy import TOOL_SWITCHES

    policies = getattr(rules, "policies", None)
    if policies is not None:
        try:
            policy = policies.get(passive.rule.split("#", 1)[0], passive.rule_version)
        except KeyError:
            policy = None
        if policy is not None and policy.spec.tool == "waiting_list":
            return (f"{policy.id}#reactivation", policy.version, policy.spec.law,
                    bool(policy.switch("reactivation_resets_refusals")),
                    bool(policy.switch("reactivation_keeps_seniority")))
    defaults = TOOL_SWITCHES["waiting_list"]
    return (f"{STORE_RULE}#reactivate", "1", None, bool(defaults["reactivation_resets_refusals"].default),
            bool(defaults["reactivation_keeps_seniority"].default))


def _owned_active_entry(s: Session, p: Principal, entry_id: int, action: str) -> Applicant:
    """The active entry `entry_id`, locked, when `p` owns its list (404, 403 or 409 otherwise)."""
    entry = s.scalar(select(Applicant).where(Applicant.entry_id == entry_id).with_for_update()
                     .execution_options(populate_existing=True))
    if entry is None:
        raise NotFoundError(f"applicant entry {entry_id} does not exist")
    require_list_owner(p, entry.list_type, entry.municipality_code, entry.org_id)
    if entry.status != "active":
        raise ConflictError(f"applicant entry {entry_id} is {entry.status}; only an active entry can be {action}")
    return entry


def reactivate_applicant(s: Session, p: Principal, entry_id: int, pseudo: Pseudonymiser | None = None, *,
                         rules: OfferRules | None = None, now: datetime | None = None) -> dict[str, Any]:
    """Make a passive entry active again (the applicant asked). Organisations for their waiting
    lists, municipalities for their referral lists. 409 when the entry is not passive or not active."""
    from boligmix.letting.store.service import _decision, _ids, applicant_json

    entry = _owned_active_entry(s, p, entry_id, "reactivated")
    if entry.passive_since is None:
        raise ConflictError(f"applicant entry {entry_id} is not passive")
    passive = s.scalar(select(Decision).where(Decision.entry_id == entry_id, Decision.outcome == "passive")
                       .order_by(Decision.decision_id.desc()).limit(1))
    if passive is None:  # pragma: no cover - the store sets passive_since only with a passive decision
        raise ConflictError(f"applicant entry {entry_id} is passive without a passive decision")
    rule, version, law, resets, keeps = _reactivation_switches(rules, passive)
    now = now or datetime.now(timezone.utc)
    before, seniority_before = entry.refusal_count, entry.seniority_date
    entry.passive_since = None
    if resets:
        entry.refusal_count = 0
    if not keeps:
        entry.seniority_date = now.date()
    vacancy = s.get(Vacancy, passive.vacancy_id)
    if vacancy is None:
        raise StoreInvariantError(f"passive decision {passive.decision_id} names no vacancy")
    _decision(s, p, outcome="reactivated", vacancy=vacancy, rule=rule, entry=entry, rule_version=version, law=law,
              reason="active on the waiting list again at the applicant's request"
                     + ("; refusals count from zero" if resets else f"; {before} refusals still count")
                     + ("; seniority kept" if keeps else f"; seniority from {now.date().isoformat()}"),
              facts={"passive_decision_id": passive.decision_id, "refusals_before": before,
                     "refusal_count": entry.refusal_count, "reactivation_resets_refusals": resets,
                     "reactivation_keeps_seniority": keeps, "seniority_date_before": seniority_before.isoformat(),
                     "seniority_date": entry.seniority_date.isoformat()})
    s.flush()
    return applicant_json(entry, _ids(p, pseudo))


# ------------------------------------------------------------------------------------------------
# Updating an entry's facts (e.g. a fact a rule held the applicant for, a § 51 c dispensation)

UPDATABLE = ("household", "household_size", "facts", "priority_rights", "min_rooms", "max_rent_dkk",
             "current_department_id")
"""Entry fields a list owner may replace; list, seniority and status change only through the
letting process (offers, passive status, reactivation)."""


def update_applicant(s: Session, p: Principal, entry_id: int, body: dict[str, Any],
                     pseudo: Pseudonymiser | None = None, *, rules: OfferRules | None = None) -> dict[str, Any]:
    """Replace the given fields of an active entry (the list owner: organisations their waiting
    lists, municipalities their referral and rehousing lists). A fact a rule held the applicant for
    (unknown) can so be supplied; the next round assesses the new facts, and every decision keeps
    the facts it read. Household JSON is validated as at registration (422 naming the field).

    The facts only the municipality sets (`access.municipal_facts`: a § 51 c dispensation and its
    grounds) are the municipality's: an organisation cannot set or change them (403; its facts map
    keeps them), and a municipality sets them, and nothing else, on the waiting-list entries of
    organisations with a department in its municipalities."""
    from boligmix.letting.store.service import _ids, applicant_json, check_household

    p.require_writer()
    entry = s.scalar(select(Applicant).where(Applicant.entry_id == entry_id).with_for_update()
                     .execution_options(populate_existing=True))
    if entry is None:
        raise NotFoundError(f"applicant entry {entry_id} does not exist")
    changes = {k: v for k, v in body.items() if k in UPDATABLE and v is not None}
    reserved = municipal_facts(getattr(rules, "policies", None))
    try:
        require_list_owner(p, entry.list_type, entry.municipality_code, entry.org_id)
        owner = True
    except AuthorizationError:
        if set(changes) != {"facts"} or p.role != "municipality" or entry.list_type in MUNICIPAL_LISTS:
            raise
        owner = False
    if entry.status != "active":
        raise ConflictError(f"applicant entry {entry_id} is {entry.status}; only an active entry can be updated")
    facts = check_fact_changes(s, p, entry, changes.get("facts"), reserved, owner=owner)
    if facts is not None:
        changes["facts"] = facts
    if "household" in changes:
        check_household(changes["household"], entry.applicant_id, entry.household_id)
        if "household_size" not in changes and changes["household"].get("members"):
            changes["household_size"] = len(changes["household"]["members"])
    if "priority_rights" in changes:
        changes["priority_rights"] = sorted(changes["priority_rights"])
    for name, value in changes.items():
        setattr(entry, name, value)
    s.flush()
    return applicant_json(entry, _ids(p, pseudo))


# ------------------------------------------------------------------------------------------------
# Withdrawing an application (the applicant leaves the list)


def withdraw_applicant(s: Session, p: Principal, entry_id: int, pseudo: Pseudonymiser | None = None, *,
                       reason: str | None = None, now: datetime | None = None) -> dict[str, Any]:
    """The applicant withdraws the application: the entry leaves its list (status `withdrawn`,
    `withdrawn_at`), and each of its open offers is withdrawn with a `withdrawn` decision (rule
    `boligmix.store#withdraw_application`) in that vacancy's trail. The list owner acts
    (organisations their waiting lists, municipalities their referral and rehousing lists).

    Idempotent: an entry already withdrawn is returned unchanged; a housed entry is 409.
    Locks in the service's order: the vacancies of the entry's open offers first (by id), then the
    entry, then the offers are read again, so an acceptance running at the same time either
    houses the applicant first (then 409 here) or finds its offer withdrawn (409 there)."""
    from boligmix.letting.store.service import _decision, _ids, applicant_json

    p.require_writer()
    entry = s.get(Applicant, entry_id)
    if entry is None:
        raise NotFoundError(f"applicant entry {entry_id} does not exist")
    require_list_owner(p, entry.list_type, entry.municipality_code, entry.org_id)
    vacancy_ids = sorted(set(s.scalars(select(Offer.vacancy_id).where(Offer.entry_id == entry_id,
                                                                      Offer.status.in_(("open", "accepted"))))))
    vacancies = {v.vacancy_id: v for v in s.scalars(
        select(Vacancy).where(Vacancy.vacancy_id.in_(vacancy_ids)).order_by(Vacancy.vacancy_id)
        .with_for_update().execution_options(populate_existing=True))} if vacancy_ids else {}
    entry = s.scalar(select(Applicant).where(Applicant.entry_id == entry_id).with_for_update()
                     .execution_options(populate_existing=True))
    if entry is None:
        raise StoreInvariantError(f"applicant entry {entry_id} vanished while it was locked")
    if entry.status == "withdrawn":
        done = s.scalars(select(Decision.offer_id).where(
            Decision.entry_id == entry_id, Decision.rule == f"{STORE_RULE}#withdraw_application")
            .order_by(Decision.offer_id)).all()
        return {**applicant_json(entry, _ids(p, pseudo)), "withdrawn_offers": list(done)}
    if entry.status != "active":
        raise ConflictError(f"applicant entry {entry_id} is {entry.status}; there is no application to withdraw")
    now = now or datetime.now(timezone.utc)
    now = now if now.tzinfo is not None else now.replace(tzinfo=timezone.utc)
    why = reason or "the applicant withdrew the application"
    # An offer made after the first read (its vacancy is not locked here) is withdrawn too: the
    # entry is locked, so an acceptance of it waits and then finds the entry withdrawn (409).
    offers = s.scalars(select(Offer).where(Offer.entry_id == entry_id, Offer.status.in_(("open", "accepted")))
                       .order_by(Offer.offer_id).execution_options(populate_existing=True)).all()
    for o in offers:
        o.status = "withdrawn"
        vacancy = vacancies.get(o.vacancy_id) or s.get(Vacancy, o.vacancy_id)
        if vacancy is None:
            raise StoreInvariantError(f"offer {o.offer_id} names no vacancy")
        _decision(s, p, outcome="withdrawn", vacancy=vacancy, rule=f"{STORE_RULE}#withdraw_application",
                  entry=entry, offer_id=o.offer_id, rank=o.rank,
                  reason=f"offer withdrawn: {why} (left the {entry.list_type} list on {now.date().isoformat()})",
                  facts={"offer_id": o.offer_id, "withdrawn_by_applicant": True, "withdrawn_at": now.isoformat(),
                         "offer_rule": o.rule, "offer_rule_version": o.rule_version})
    entry.status = "withdrawn"
    entry.withdrawn_at = now
    s.flush()
    from boligmix.letting.store.answers import settle_vacancy

    for vacancy_id in sorted({o.vacancy_id for o in offers}):  # a provisional acceptor below may now get it
        settle_vacancy(s, p, vacancy_id, f"applicant entry {entry_id} withdrew the application")
    s.flush()
    return {**applicant_json(entry, _ids(p, pseudo)), "withdrawn_offers": [o.offer_id for o in offers]}


# ------------------------------------------------------------------------------------------------
# The municipality's own order of its referrals (§ 59: it alone decides who is referred)


def set_referral_order(s: Session, p: Principal, entry_id: int, referral_order: int | None,
                       pseudo: Pseudonymiser | None = None) -> dict[str, Any]:
    """Set (or clear, None) the municipality's order of an active entry on its referral or rehousing
    list; the engine offers the municipality's referral dwellings in this order (smaller first,
    unordered entries after the ordered ones) and records it in the decisions' facts
    (`referral_order`). Only the municipality that owns the list (403 otherwise, also for
    organisations); 422 for an organisation's waiting list; 409 when the entry is not active."""
    from boligmix.letting.store.selection import MUNICIPAL_LISTS
    from boligmix.letting.store.service import _ids, applicant_json

    entry = _owned_active_entry(s, p, entry_id, "ordered")
    if entry.list_type not in MUNICIPAL_LISTS or p.role != "municipality":
        raise InvalidRequestError(f"applicant entry {entry_id} is on the {entry.list_type} list; only a "
                                  f"municipality orders its referral and rehousing lists")
    entry.referral_order = referral_order
    s.flush()
    return applicant_json(entry, _ids(p, pseudo))
