"""The letting tools, the named switches each tool knows (with defaults) and the policy
sections each tool may fill. The switches the law leaves open are marked UNCONFIRMED here and
in `docs/letting.md`; unknown switch names in a policy file are configuration errors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SwitchSpec:
    """A named switch: its default, the values it may take and why it exists."""

    default: Any
    allowed: tuple[Any, ...] | type
    doc: str
    unconfirmed: bool = False


TOOLS: tuple[str, ...] = (
    "waiting_list",
    "kommunal_anvisning",
    "anvisning_restriction",
    "fleksibel_udlejning",
    "kombineret_udlejning",
    "omdannelse_afvisning",
    "offentlig_annoncering",
    "delebolig",
    "priority",
    "bytte_fremleje",
    "udslusning",
)

RECEIPT_MONTH = SwitchSpec(
    "current_month", ("current_month", "previous_month"),
    "Which month of the monthly benefit history shows that a person 'currently receives' ('modtager') a "
    "benefit (§ 51 c; § 59, stk. 6, nr. 6 førtidspension): the assessment month (current_month, the law's "
    "reading; a history that does not cover it is UNKNOWN and held until the municipality has checked) or "
    "the month before (previous_month, for register data that lag by a month).")
"""One switch for every 'currently receives' condition, so the rules read it the same way."""

TOOL_SWITCHES: dict[str, dict[str, SwitchSpec]] = {
    "waiting_list": {
        "no_answer_counts_as_refusal": SwitchSpec(
            True, bool, "An offer that expires unanswered counts as a refusal (passive status)."),
        "reactivation_keeps_seniority": SwitchSpec(
            True, bool, "A passive applicant made active again on request keeps the original seniority date "
                        "(false: seniority counts from the reactivation date). The sources read do not say "
                        "(rules-spec 6 has no rule on passive lists).", unconfirmed=True),
        "reactivation_resets_refusals": SwitchSpec(
            True, bool, "Refusals before a reactivation no longer count towards passive_after_refusals "
                        "(false: the next refusal makes the applicant passive again)."),
        "size_rule": SwitchSpec(
            "lapses", ("lapses", "binding"),
            "The eligibility rules marked lapses_without_taker (the size rules, belægningsregler set by the "
            "organisation's board, not statute): lapses = a preference; applicants meeting them rank ahead "
            "of those who do not, and the dwelling goes to the next applicant regardless of household size "
            "only when no one meeting them takes it (common practice); binding = ordinary eligibility "
            "(nobody failing them is offered the dwelling; before version 2010-01-01.3)."),
    },
    "kommunal_anvisning": {
        "unused_referral": SwitchSpec(
            "release_to_waiting_list", ("release_to_waiting_list", "hold"),
            "A referral vacancy without an eligible referral goes to the waiting list "
            "(release_to_waiting_list) or stays with the municipality (hold)."),
        "max_agreed_share": SwitchSpec(
            1.0, float, "Cap on an agreed anvisning share. The statute states no cap; agreements of "
                        "100 % are documented (rules-spec 6.1).", unconfirmed=True),
    },
    "anvisning_restriction": {
        "stk7_includes_kontanthjaelp_uddannelseshjaelp": SwitchSpec(
            False, bool, "Whether the § 59, stk. 7 bar in forebyggelsesområder also covers 6 months of "
                         "kontanthjælp/uddannelseshjælp (rules-spec 6.1, 10.6).", unconfirmed=True),
        "barred_referral": SwitchSpec(
            "redirect", ("redirect", "reject"),
            "redirect: a barred referral is also recorded as redirected and offered the municipality's "
            "next referral dwelling (before new referrals) until housed (§ 59, stk. 6: the municipality "
            "must refer elsewhere); reject: only the rejection is recorded. The order among referrals "
            "is this model's choice.", unconfirmed=True),
        "receipt_month": RECEIPT_MONTH,
    },
    "fleksibel_udlejning": {
        "mode": SwitchSpec(
            "priority", ("priority", "exclusive"),
            "priority: applicants meeting the criteria are ranked first; exclusive: only they may be "
            "offered the dwelling. Which one the obligatory § 60, stk. 4 letting requires when nobody "
            "meets the criteria is not stated in the sources read.", unconfirmed=True),
        "exempt_internal_transfers": SwitchSpec(
            False, bool, "Internal transfers within the department are exempt from the obligatory "
                         "criteria (agreement possible since 2024, rules-spec 6.2)."),
        "max_voluntary_share": SwitchSpec(
            1.0, float, "Cap on the voluntary § 60, stk. 1 share; no statutory cap found (local "
                        "frameworks use 50 %/80 %).", unconfirmed=True),
    },
    "kombineret_udlejning": {
        "include_foertidspension": SwitchSpec(
            False, bool, "Optional § 51 b group: reject applicants receiving førtidspension."),
        "include_unemployment_sickness": SwitchSpec(
            False, bool, "Optional § 51 b group: 6 consecutive months of arbejdsløshedsdagpenge, "
                         "sygedagpenge or ressourceforløbsydelse."),
        "offer_elsewhere_for_prior_registrants": SwitchSpec(
            True, bool, "Applicants registered before the scheme was introduced who are rejected by it "
                        "are entitled to an offer of a dwelling outside the area (BL)."),
        "offer_elsewhere_by": SwitchSpec(
            "municipality", ("municipality", "organisation"),
            "Who makes that offer: the municipality (BL, rules-spec 6.6: the entitled applicant is offered a "
            "dwelling in another area through the municipality's referrals, which it orders itself) or, as "
            "before version 2010-01-01.2 of § 51 b, the organisation (priority at its dwellings outside the "
            "area through the waiting list)."),
        "scheme_introduced_on": SwitchSpec(
            "", str, "ISO date the scheme was introduced in the area; empty: the policy's effective_from. "
                     "Whether 'before the scheme' means before the decision, its announcement or its "
                     "start is not stated.", unconfirmed=True),
        "entitlement_ends": SwitchSpec(
            "on_offer", ("on_offer", "on_letting"),
            "The entitlement is used up by one offer outside the area (on_offer) or only by a letting "
            "(on_letting).", unconfirmed=True),
    },
    "omdannelse_afvisning": {
        "dispensation_allowed": SwitchSpec(
            True, bool, "The municipality may grant dispensation in very special cases (bek. § 37)."),
        "receipt_month": RECEIPT_MONTH,
    },
    "offentlig_annoncering": {
        "selection": SwitchSpec(
            "lottery", ("lottery", "first_come"),
            "How qualifying advert respondents are chosen: lots drawn by the organisation (BEK 977/2024 § 38, "
            "rules-spec 6.6; seeded and recorded, see boligmix.letting.lottery) or, as before version "
            "2010-01-01.2, in order of response (first_come; not the law). Whether executive orders before "
            "2024 also required lots was not read (UNCONFIRMED): the lottery applies to every period here.",
            unconfirmed=True),
        "trigger": SwitchSpec(
            "list_exhausted", ("list_exhausted",),
            "When advertising is used: after the waiting list gave no offer. The § 60 a conditions "
            "were not readable (rules-spec 6.5).", unconfirmed=True),
        "busy_applicants": SwitchSpec(
            "wait", ("wait", "ignore"),
            "Waiting-list applicants who would be eligible but hold an open offer elsewhere (a caller "
            "such as the letting store gives one open offer at a time): wait = they still count, the "
            "list is not exhausted and the dwelling is not advertised while any of them may yet take it "
            "(their seniority is kept); ignore = only applicants free to take an offer now count, so a "
            "list that is merely busy is advertised. The § 60 a conditions were not readable "
            "(rules-spec 6.5).", unconfirmed=True),
    },
    "delebolig": {},
    "priority": {},
    "udslusning": {},
    "bytte_fremleje": {
        "criteria_slot": SwitchSpec(
            "fleksibel_obligatorisk", str,
            "The slot of the fleksibel_udlejning policy whose criteria (all its priority rules) the incoming "
            "household must meet."),
        "on_unknown": SwitchSpec(
            "hold", ("hold", "reject"),
            "A criterion that cannot be decided holds the request (hold) or rejects it (reject)."),
        "covers_bytte": SwitchSpec(True, bool, "Exchanges (bytte) into the area are covered."),
        "covers_fremleje": SwitchSpec(True, bool, "Sub-letting (fremleje) into the area is covered."),
    },
}
"""Every switch a tool knows, with its default. Unknown switch names are configuration errors."""

TOOL_EFFECTS: dict[str, frozenset[str]] = {
    "waiting_list": frozenset({"round", "eligibility", "priorities", "rejections"}),
    "kommunal_anvisning": frozenset({"shares", "eligibility"}),
    "anvisning_restriction": frozenset({"rejections"}),
    "fleksibel_udlejning": frozenset({"shares", "priorities", "exemptions"}),
    "kombineret_udlejning": frozenset({"rejections", "exemptions"}),
    "omdannelse_afvisning": frozenset({"rejections", "exemptions", "dispensation_fact"}),
    "offentlig_annoncering": frozenset({"eligibility"}),
    "delebolig": frozenset({"eligibility"}),
    "priority": frozenset({"priorities", "exemptions"}),
    "bytte_fremleje": frozenset(),
    "udslusning": frozenset(),
}
"""Which sections a tool may fill; anything else in the file is a configuration error."""

ON_UNKNOWN = {
    "eligibility": ("hold", "exclude"),
    "rejections": ("hold", "reject"),
    "priorities": ("no_priority",),
    "exemptions": ("not_exempt",),
}
"""How each kind of rule may treat an UNKNOWN condition (there is no silent pass):
hold = skip the applicant this round, listing the unknown facts; exclude = not eligible;
reject = rejected; no_priority / not_exempt = the applicant does not get the benefit."""


__all__ = ["ON_UNKNOWN", "RECEIPT_MONTH", "TOOLS", "TOOL_EFFECTS", "TOOL_SWITCHES", "SwitchSpec"]
