"""Answer "why did applicant X (not) get dwelling Y?" from a decision log.

The answer is built only from Decision records (from the engine, a log file or the store),
so it explains what actually happened with the rule versions then in force. It is written in
Danish (`lang="da"`, the default of `boligmix letting explain`) or English; the Danish text names
facts by their Danish labels, words each recorded reason in Danish (`boligmix.letting.reason_da`:
a rule's reason is its policy file's Danish text) and leaves out internal field, switch and
constant names (all facts and the recorded English reasons are in `--json`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from boligmix.letting.assessment import LAPSED_FACT
from boligmix.letting.decision_log import decision_to_record
from boligmix.letting.model import Decision, Outcome
from boligmix.letting.policy import PolicySet
from boligmix.letting.ranking import LAPSE_MET_FACT
from boligmix.letting.reason_da import danish_date, danish_reason, default_policies, rule_text_da
from boligmix.numbers import fmt_number


@dataclass(frozen=True)
class Explanation:
    """The verdict for one applicant and dwelling, and the records it rests on, in order."""

    applicant_id: int
    dwelling_id: int
    verdict: str
    got_dwelling: bool
    let_to: tuple[int, ...]
    steps: tuple[Decision, ...]

    verdict_da: str = ""
    reasons_da: Mapping[str, str] = field(default_factory=dict)
    """The Danish wording of each step's reason, by decision id."""

    def lines(self, lang: str = "en") -> list[str]:
        """Human-readable lines: the verdict, then one line per record (`lang` 'da' or 'en')."""
        if lang == "da":
            return [self.verdict_da or self.verdict,
                    *(_step_da(d, self.reasons_da.get(d.decision_id, d.reason)) for d in self.steps)]
        out = [self.verdict]
        for d in self.steps:
            who = "vacancy" if d.applicant_id is None else f"applicant {d.applicant_id}"
            rule = f" [{d.rule_id} v{d.rule_version}{'; ' + d.law if d.law else ''}]" if d.rule_id else ""
            facts = _facts_text(d)
            out.append(f"  {d.decided_at.isoformat(sep=' ')} {d.vacancy_id} {d.round_id or ''} {who}: "
                       f"{d.outcome.value} - {d.reason}{rule}{facts}")
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"applicant_id": self.applicant_id, "dwelling_id": self.dwelling_id, "verdict": self.verdict,
                "verdict_da": self.verdict_da,
                "got_dwelling": self.got_dwelling, "let_to": list(self.let_to),
                "steps": [{**decision_to_record(d), "reason_da": self.reasons_da.get(d.decision_id, "")}
                          for d in self.steps]}


FOLLOW_UPS = (Outcome.ENTITLED, Outcome.REDIRECTED)
"""Records that follow a rejection (§ 51 b entitlement, § 59 stk. 6 redirect): they explain its
consequence, not the applicant's outcome for the dwelling."""


def _facts_text(d: Decision) -> str:
    if d.outcome not in (Outcome.REJECTED, Outcome.SKIPPED, Outcome.CHANNEL, Outcome.PASSIVE, *FOLLOW_UPS):
        return ""
    shown = {k: v for k, v in d.facts.items() if not k.endswith(".detail") and k != "list_type"}
    text = "; facts: " + ", ".join(f"{k}={v}" for k, v in shown.items()) if shown else ""
    if d.unknown_facts:
        text += f"; unknown: {', '.join(d.unknown_facts)}"
    return text


def _rule(d: Decision) -> str:
    if d.rule_id is None:
        return ""
    return f" by rule {d.rule_id} (version {d.rule_version}{', ' + d.law if d.law else ''})"


def explain_decisions(decisions: Iterable[Decision], applicant_id: int, dwelling_id: int,
                      policies: PolicySet | None = None) -> Explanation:
    """Explain from the decision log what happened between one applicant and one dwelling.
    `policies` give the rules' Danish texts (default: every packaged policy)."""
    for_dwelling = sorted((d for d in decisions if d.dwelling_id == dwelling_id),
                          key=lambda d: (d.decided_at, d.sequence))
    mine = [d for d in for_dwelling if d.applicant_id == applicant_id]
    lets = [d for d in for_dwelling if d.outcome == Outcome.LET]
    channels = [d for d in for_dwelling if d.outcome == Outcome.CHANNEL]
    let_to = tuple(d.applicant_id for d in lets if d.applicant_id is not None)
    steps = tuple(d for d in for_dwelling if d.applicant_id == applicant_id or d.outcome in (Outcome.CHANNEL, Outcome.LET))
    got = applicant_id in let_to
    if not for_dwelling:
        verdict = f"No decisions are recorded for dwelling {dwelling_id}."
    elif got:
        d = next(d for d in lets if d.applicant_id == applicant_id)
        verdict = (f"Applicant {applicant_id} got dwelling {dwelling_id} (vacancy {d.vacancy_id}, "
                   f"{d.decided_at.date().isoformat()}): {d.reason}{_rule(d)}.")
    elif not mine:
        route = "; ".join(f"vacancy {c.vacancy_id} went to {c.channel.value if c.channel else '?'} ({c.reason})"
                          for c in channels)
        verdict = (f"Applicant {applicant_id} was never considered for dwelling {dwelling_id}: they were not "
                   f"among the candidates of its offer rounds" + (f"; {route}" if route else "") + ".")
    else:
        main = [d for d in mine if d.outcome not in FOLLOW_UPS] or mine
        last = main[-1]
        decisive = {
            Outcome.REJECTED: "was rejected",
            Outcome.SKIPPED: "was not offered the dwelling",
            Outcome.REFUSED: "refused the offer",
            Outcome.EXPIRED: "did not answer the offer in time",
            Outcome.WITHDRAWN: "had an offer that was withdrawn",
            Outcome.OFFERED: "has an open offer",
            Outcome.ACCEPTED: "accepted and waits for better-ranked applicants to answer",
            Outcome.PASSIVE: "was set passive",
            Outcome.APPROVED: "was approved",
            Outcome.REACTIVATED: "was made active again",
        }.get(last.outcome, last.outcome.value)
        verdict = f"Applicant {applicant_id} {decisive}{_rule(last)}: {last.reason}"
        if last.unknown_facts:
            verdict += f" (unknown facts: {', '.join(last.unknown_facts)})"
        verdict += "."
        for follow in (d for d in mine if d.outcome in FOLLOW_UPS and d.sequence > last.sequence):
            verdict += f" Then {follow.outcome.value}{_rule(follow)}: {follow.reason}."
    redirect = next((d for d in mine if d.outcome in (Outcome.OFFERED, Outcome.LET)
                     and d.facts.get("redirect_decision") is not None), None)
    if redirect is not None:
        ranked_by = [r for r in redirect.facts.get("priorities_met") or () if str(r).endswith("#redirected_referral")]
        verdict += (f" The offer came as a redirected referral (§ 59, stk. 6/7): barred by "
                    f"{redirect.facts.get('redirect_bar')} at vacancy {redirect.facts.get('redirected_from_vacancy')} "
                    f"(decision {redirect.facts.get('redirect_decision')})"
                    + (f", ranked first by rule {ranked_by[0]}" if ranked_by else "") + ".")
    lapse = next((d for d in reversed(mine) if d.outcome == Outcome.OFFERED and d.facts.get(LAPSED_FACT)),
                 None) if got else None
    if lapse is not None:
        met_by = int(lapse.facts.get(LAPSE_MET_FACT) or 0)
        verdict += (f" The size rule lapsed for this letting: the household does not meet "
                    f"{', '.join(map(str, lapse.facts[LAPSED_FACT]))}; "
                    + (f"{met_by} eligible applicant(s) of the round met it and were ranked first, and none of them "
                       f"took the dwelling." if met_by else "no eligible applicant of the round met it."))
    if lets and not got:
        d = lets[-1]
        verdict += f" The dwelling was let to applicant {d.applicant_id} (rank {d.rank}, {d.channel.value if d.channel else '?'})."
    policies = policies if policies is not None else default_policies()
    reasons = {d.decision_id: danish_reason(d, policies) for d in steps}
    verdict_da = _verdict_da(applicant_id, dwelling_id, for_dwelling, mine, lets, channels, got, reasons)
    if lapse is not None:
        rules = "; ".join(rule_text_da(policies, str(r)) or str(r) for r in lapse.facts[LAPSED_FACT])
        verdict_da += (f" Belægningsreglen blev fraveget ved denne udlejning: husstanden opfylder ikke reglen ({rules}); "
                       + (f"{met_by} af tilbudsrundens berettigede ansøgere opfyldte den og stod forrest, men ingen af "
                          f"dem tog boligen." if met_by else "ingen af tilbudsrundens berettigede ansøgere opfyldte den."))
    if redirect is not None:
        bar = str(redirect.facts.get("redirect_bar") or "")
        why = rule_text_da(policies, bar)
        verdict_da += (f" Tilbuddet kom som en ny anvisning (§ 59, stk. 6/7): husstanden måtte ikke anvises til "
                       f"ledighed {redirect.facts.get('redirected_from_vacancy')}"
                       + (f" (afvisningsgrund: {why}; regel {bar})." if why else f" (regel {bar})."))
    return Explanation(applicant_id, dwelling_id, verdict, got, let_to, steps, verdict_da, reasons)


OUTCOME_DA = {
    Outcome.CHANNEL: "blev tildelt en udlejningsvej", Outcome.OFFERED: "fik tilbud",
    Outcome.SKIPPED: "fik ikke tilbud", Outcome.REJECTED: "blev afvist", Outcome.ACCEPTED: "sagde ja til tilbuddet",
    Outcome.REFUSED: "sagde nej til tilbuddet", Outcome.EXPIRED: "svarede ikke i tide",
    Outcome.WITHDRAWN: "fik tilbuddet trukket tilbage (boligen blev udlejet til en anden)",
    Outcome.LET: "fik boligen", Outcome.PASSIVE: "blev sat passiv", Outcome.ENTITLED: "fik ret til et andet tilbud",
    Outcome.REDIRECTED: "blev henvist til en bolig uden for området", Outcome.APPROVED: "blev godkendt",
    Outcome.REACTIVATED: "blev aktiv på ventelisten igen",
}
"""The Danish words of each outcome (the applicant ... )."""

FACT_LABELS_DA = {
    "listed_benefits_6m": "offentlig forsørgelse i 6 sammenhængende måneder (§ 51 b)",
    "foertidspension": "førtidspension",
    "applicant.age": "alder", "applicant.in_education": "under uddannelse",
    "applicant.permanent_job": "fast arbejde", "applicant.weekly_work_hours": "arbejdstimer pr. uge",
    "applicant.commuter_to_municipality": "pendler til kommunen",
    "applicant.lives_in_department": "bor i afdelingen", "applicant.lives_in_organisation": "bor i boligorganisationen",
    "applicant.wish_rent_ok": "huslejen passer til ønsket", "applicant.wish_rooms_ok": "antal rum passer til ønsket",
    "household.employed_or_in_education": "husstanden er i arbejde eller uddannelse",
    "household.rooms_minus_persons": "rum minus personer",
    "dwelling.in_kombineret_udlejning": "boligen er omfattet af kombineret udlejning",
    "dwelling.shared": "delebolig", "seniority_date": "anciennitet fra", "rank": "placering",
    "deadline": "svarfrist", "lease_start": "lejestart",
}
"""Danish labels of the facts a decision can rest on; facts without a label are not shown in Danish."""


def _value_da(value: Any) -> str:
    if value is True:
        return "ja"
    if value is False:
        return "nej"
    if value is None:
        return "ukendt"
    if isinstance(value, float):
        return fmt_number(value, 1, "da")
    return danish_date(str(value))


def _rule_da(d: Decision) -> str:
    if d.rule_id is None:
        return ""
    law = f", {d.law}" if d.law else ""
    return f" (regel {d.rule_id}, version {d.rule_version}{law})"


def _facts_da(d: Decision) -> str:
    if d.outcome not in (Outcome.REJECTED, Outcome.SKIPPED, Outcome.CHANNEL, Outcome.PASSIVE, *FOLLOW_UPS):
        return ""
    shown = [f"{FACT_LABELS_DA[k]}: {_value_da(v)}" for k, v in d.facts.items() if k in FACT_LABELS_DA]
    text = "; oplysninger: " + ", ".join(shown) if shown else ""
    if d.unknown_facts:
        unknown = [FACT_LABELS_DA.get(k, "andre oplysninger") for k in d.unknown_facts]
        text += "; ukendt: " + ", ".join(dict.fromkeys(unknown))
    return text


def _step_da(d: Decision, reason: str) -> str:
    who = "ledigheden" if d.applicant_id is None else f"ansøger {d.applicant_id}"
    when = d.decided_at.strftime("%d.%m.%Y %H:%M")
    return (f"  {when} {d.vacancy_id}: {who} {OUTCOME_DA.get(d.outcome, d.outcome.value)}{_rule_da(d)} — "
            f"begrundelse: {reason}{_facts_da(d)}")


def _verdict_da(applicant_id: int, dwelling_id: int, for_dwelling: list[Decision], mine: list[Decision],
                lets: list[Decision], channels: list[Decision], got: bool, reasons: Mapping[str, str]) -> str:
    if not for_dwelling:
        return f"Der er ingen afgørelser for bolig {dwelling_id}."
    if got:
        d = next(d for d in lets if d.applicant_id == applicant_id)
        return (f"Ansøger {applicant_id} fik bolig {dwelling_id} (ledighed {d.vacancy_id}, "
                f"{d.decided_at.strftime('%d.%m.%Y')}){_rule_da(d)}: {reasons.get(d.decision_id, d.reason)}.")
    if not mine:
        text = (f"Ansøger {applicant_id} kom aldrig i betragtning til bolig {dwelling_id}: ansøgeren var ikke "
                "blandt kandidaterne i boligens tilbudsrunder")
    else:
        main = [d for d in mine if d.outcome not in FOLLOW_UPS] or mine
        last = main[-1]
        text = (f"Ansøger {applicant_id} {OUTCOME_DA.get(last.outcome, last.outcome.value)}{_rule_da(last)} — "
                f"begrundelse: {reasons.get(last.decision_id, last.reason)}{_facts_da(last)}")
        for follow in (d for d in mine if d.outcome in FOLLOW_UPS and d.sequence > last.sequence):
            text += f". Derefter: {OUTCOME_DA.get(follow.outcome, follow.outcome.value)}{_rule_da(follow)}"
    if lets:
        d = lets[-1]
        text += f". Boligen blev udlejet til ansøger {d.applicant_id} (placering {d.rank})"
    return text + "."


__all__ = ["Explanation", "explain_decisions"]
