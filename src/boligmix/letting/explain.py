"""Answer "why did applicant X (not) get dwelling Y?" from a decision log.

The answer is built only from Decision records (from the engine, a log file or the store),
so it explains what actually happened with the rule versions then in force.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from boligmix.letting.decision_log import decision_to_record
from boligmix.letting.model import Decision, Outcome


@dataclass(frozen=True)
class Explanation:
    """The verdict for one applicant and dwelling, and the records it rests on, in order."""

    applicant_id: int
    dwelling_id: int
    verdict: str
    got_dwelling: bool
    let_to: tuple[int, ...]
    steps: tuple[Decision, ...]

    def lines(self) -> list[str]:
        """Human-readable lines: the verdict, then one line per record."""
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
                "got_dwelling": self.got_dwelling, "let_to": list(self.let_to),
                "steps": [decision_to_record(d) for d in self.steps]}


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


def explain_decisions(decisions: Iterable[Decision], applicant_id: int, dwelling_id: int) -> Explanation:
    """Explain from the decision log what happened between one applicant and one dwelling."""
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
    if lets and not got:
        d = lets[-1]
        verdict += f" The dwelling was let to applicant {d.applicant_id} (rank {d.rank}, {d.channel.value if d.channel else '?'})."
    return Explanation(applicant_id, dwelling_id, verdict, got, let_to, steps)


__all__ = ["Explanation", "explain_decisions"]
