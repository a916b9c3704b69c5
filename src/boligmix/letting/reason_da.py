"""The Danish wording of a recorded letting decision's reason.

A Decision records its reason in English, as the engine (or the letting store) worded it when
it decided; that record is the audit trail and never changes. People read the reason in Danish:
`danish_reason` words it again from the record. A reason that quotes a policy rule takes that
rule's Danish text from the policy file (`description_da`, the one place the rule is worded);
the reasons the engine and the store word themselves are matched against their known shapes
(`SHAPES`) and worded in Danish with the same numbers, dates and ids. Internal field, switch
and constant names never appear in the Danish text. A reason of an unknown shape (a new engine
text without a Danish wording here) gives `UNTRANSLATED`; tests check that every reason the
engine and the store produce has a Danish wording.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from functools import cache
from typing import Any

from boligmix.letting.model import Decision
from boligmix.letting.policy import PolicySet
from boligmix.letting.policy_compile import CompiledRule, Policy, rule_text

UNTRANSLATED = "(begrundelsen findes ikke på dansk)"
"""The Danish text of a reason whose shape is unknown (the English record holds it)."""

CHANNEL_DA = {
    "waiting_list": "ventelisten", "internal": "intern oprykning", "kommunal_anvisning": "kommunal anvisning",
    "fleksibel": "fleksibel udlejning", "annoncering": "offentlig annoncering", "rehousing": "genhusning",
    "other": "anden udlejning", "udslusning": "udslusning",
}
"""Danish names of the letting channels."""

LIST_TYPE_DA = {"external": "ekstern venteliste", "internal": "intern venteliste",
                "municipal_referral": "kommunal anvisning", "rehousing": "genhusning",
                "advert_response": "svar på annonce"}

CATEGORY_DA = {"udsat": "udsat boligområde", "parallelsamfund": "parallelsamfund",
               "omdannelse": "omdannelsesområde", "forebyggelse": "forebyggelsesområde",
               "kombineret_udlejning": "område med kombineret udlejning"}

COUNT_PER_DA = {"municipality": "kommune", "organisation": "boligorganisation", "department": "afdeling"}

KIND_DA = {"bytte": "bytte", "fremleje": "fremleje"}

RULE_TOKEN = "\x00RULE\x00"
"""Stands for the quoted rule text in a rule-based reason's shape."""


def danish_date(text: str) -> str:
    """An ISO date or date-time as Danish people write it (15.06.2024, 15.06.2024 kl. 10.00)."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}(?:[T ].*)?", text.strip()):
        return text
    try:
        if "T" in text or " " in text.strip():
            moment = datetime.fromisoformat(text.strip())
            return moment.strftime("%d.%m.%Y kl. %H.%M")
        return date.fromisoformat(text.strip()).strftime("%d.%m.%Y")
    except ValueError:
        return text


def _share(text: str) -> str:
    value = float(text)
    return f"{value * 100:.0f} %" if value <= 1 else text


def _offer_of(text: str) -> str:
    m = re.fullmatch(r"a dwelling in another area from municipality (\d+) \(its referral\)", text)
    if m:
        return f"en bolig i et andet område, som kommune {m[1]} anviser"
    m = re.fullmatch(r"organisation (\S+)'s dwellings outside the area", text)
    if m:
        return f"en af boligorganisation {m[1]}s boliger uden for området"
    return UNTRANSLATED


Wording = Callable[[re.Match[str], Callable[[str], str]], str]
"""(match of the English reason, Danish text of a rule id) -> the Danish reason."""


def _shape(pattern: str, wording: Wording) -> tuple[re.Pattern[str], Wording]:
    return re.compile(pattern), wording


_DATE = r"(\d{4}-\d{2}-\d{2}(?:[T ][\d:.+]+)?)"

SHAPES: tuple[tuple[re.Pattern[str], Wording], ...] = (
    # rule-based reasons (the rule's English text replaced by RULE_TOKEN)
    _shape(rf"not eligible: fails '{RULE_TOKEN}'", lambda m, r: f"opfylder ikke betingelsen: {r('')}"),
    _shape(rf"held: '{RULE_TOKEN}' cannot be decided; unknown: .*",
           lambda m, r: f"afventer: det kan endnu ikke afgøres, om betingelsen er opfyldt: {r('')}"),
    _shape(rf"not eligible: '{RULE_TOKEN}' cannot be decided; unknown: .*",
           lambda m, r: f"kommer ikke i betragtning: det kan ikke afgøres, om betingelsen er opfyldt: {r('')}"),
    _shape(rf"{RULE_TOKEN}(?: \(.*\))?", lambda m, r: r("")),
    _shape(rf"{RULE_TOKEN}: cannot be ruled out and the rule rejects on unknown; unknown: .*",
           lambda m, r: f"afvist, fordi det ikke kan udelukkes, at reglen er opfyldt, og reglen afviser, når "
                        f"oplysningerne mangler: {r('')}"),
    _shape(rf"held: {RULE_TOKEN} cannot be decided; unknown: .*",
           lambda m, r: f"afventer: det kan endnu ikke afgøres, om afvisningsgrunden er opfyldt: {r('')}"),
    _shape(rf"does not meet the fleksibel criteria \({RULE_TOKEN}\) and the criteria are exclusive "
           r"\(switch mode=exclusive\)(?:; unknown: .*)?",
           lambda m, r: f"opfylder ikke kriterierne for fleksibel udlejning ({r('')}), og kun ansøgere, der "
                        "opfylder dem, kan få boligen"),
    _shape(rf"(bytte|fremleje) into a listed area: the incoming household does not meet '{RULE_TOKEN}' \(.*\)",
           lambda m, r: f"{KIND_DA[m[1]]} ind i et listeområde: den indflyttende husstand opfylder ikke "
                        f"kriteriet: {r('')}"),
    _shape(rf"(rejected|held): '{RULE_TOKEN}' cannot be decided \(switch on_unknown=\w+\); unknown: .*",
           lambda m, r: f"{'afvist' if m[1] == 'rejected' else 'afventer'}: det kan ikke afgøres, om den "
                        f"indflyttende husstand opfylder kriteriet: {r('')}"),
    # the engine's own reasons
    _shape(r"active on the waiting list again at the applicant's request"
           r"(?:; refusals count from zero|; (\d+) refusals still count)(?:; seniority kept|; seniority from (\S+))",
           lambda m, r: "aktiv på ventelisten igen efter ansøgerens ønske; "
                        + ("afslag tælles igen fra nul" if m[1] is None else f"{m[1]} tidligere afslag tæller stadig")
                        + ("; ancienniteten bevares" if m[2] is None else f"; anciennitet fra {danish_date(m[2])}")),
    _shape(r"active on the waiting list again at the applicant's request",
           lambda m, r: "aktiv på ventelisten igen efter ansøgerens ønske"),
    _shape(r"offer withdrawn: the dwelling was let to applicant (\d+) \(rank (\d+)\)",
           lambda m, r: f"tilbuddet er trukket tilbage: boligen blev udlejet til ansøger {m[1]} (nr. {m[2]})"),
    _shape(r"offer withdrawn: the applicant was let dwelling (\d+) \(letting (\S+)\)",
           lambda m, r: f"tilbuddet er trukket tilbage: ansøgeren har fået bolig {m[1]} (udlejning {m[2]})"),
    _shape(rf"offer withdrawn: (.*) \(left the (?:(\w+) )?list on {_DATE}\)",
           lambda m, r: "tilbuddet er trukket tilbage: "
                        + ("ansøgeren trak ansøgningen tilbage" if m[1] == "the applicant withdrew the application"
                           else f"»{m[1]}«")
                        + f" (udgik af ventelisten {danish_date(m[3])})"),
    _shape(r"no eligible (\w+) candidate; released to the waiting list .*",
           lambda m, r: f"ingen berettiget kandidat via {CHANNEL_DA.get(m[1], m[1])}; boligen går videre til "
                        "ventelisten"),
    _shape(r"not advertised: (\d+) eligible applicant\(s\) on the waiting list hold an open offer elsewhere .*",
           lambda m, r: f"ikke annonceret: {m[1]} berettigede ansøgere på ventelisten har et åbent tilbud på en "
                        "anden bolig og kan stadig nå at få denne"),
    _shape(r"the waiting list gave no eligible applicant \(letting outside the list, § 51, stk\. 5\); "
           r"the dwelling is advertised under the § 60 a agreement",
           lambda m, r: "ventelisten gav ingen berettiget ansøger (udlejning uden for ventelisten, § 51, stk. 5); "
                        "boligen annonceres efter aftalen om offentlig annoncering (§ 60 a)"),
    _shape(rf"offered: rank (\d+) of (\d+) eligible; answer by {_DATE}; (\S+(?:, \S+)*) lapses for this applicant: "
           r"(\d+) of (\d+) eligible meet it and rank first",
           lambda m, r: f"tilbud som nr. {m[1]} af {m[2]} berettigede; svarfrist {danish_date(m[3])}; ansøgeren "
                        f"opfylder ikke belægningsreglen ({'; '.join(r(x) for x in m[4].split(', '))}), men reglen "
                        "fraviges: " + (f"ingen af de {m[6]} berettigede opfylder den" if m[5] == "0" else
                                        f"kun {m[5]} af de {m[6]} berettigede opfylder den, og de står forrest")),
    _shape(rf"offered: rank (\d+) of (\d+) eligible; answer by {_DATE}",
           lambda m, r: f"tilbud som nr. {m[1]} af {m[2]} berettigede; svarfrist {danish_date(m[3])}"),
    _shape(r"eligible but ranked (\d+); this round offers the first (\d+)",
           lambda m, r: f"berettiget, men nr. {m[1]}; denne runde giver tilbud til de første {m[2]}"),
    _shape(rf"registered on {_DATE}, before kombineret udlejning was introduced \({_DATE}\), and rejected by "
           r"(\S+): entitled to an offer of (.*)",
           lambda m, r: f"skrevet op {danish_date(m[1])}, før kombineret udlejning blev indført "
                        f"({danish_date(m[2])}), og afvist efter ordningen (afvisningsgrund: {r(m[3])}): har ret "
                        f"til tilbud om {_offer_of(m[4])}"),
    _shape(r"barred by (\S+) from a dwelling in a (\S+) area; the municipality must refer the household "
           r"elsewhere: kept for the next (referral|rehousing) dwelling in municipality (\d+)",
           lambda m, r: "må ikke anvises til en bolig i området ("
                        + ", ".join(CATEGORY_DA.get(c, c) for c in m[2].split("/"))
                        + f"; afvisningsgrund: {r(m[1])}); kommunen skal anvise husstanden andetsteds: venter på "
                        f"kommune {m[4]}s næste {'anvisningsbolig' if m[3] == 'referral' else 'genhusningsbolig'}"),
    _shape(r"an udslusningsbolig at the municipality's disposal: .*",
           lambda m, r: "en udslusningsbolig, som kommunen råder over: udlejes til kommunens anviste (uden for "
                        "andelene og den obligatoriske fleksible udlejning)"),
    _shape(r"(\w+) share ([\d.e-]+): vacancy (\d+) in (\w+) (\S+), (\d+) taken of (\d+) due"
           r"(?:; also due \(later\): (.*))?",
           lambda m, r: f"andel til {CHANNEL_DA.get(m[1], m[1])} på {_share(m[2])}: ledig bolig nr. {m[3]} i "
                        f"{COUNT_PER_DA.get(m[4], m[4])} {m[5]}; andelen giver ret til {m[7]} "
                        f"{'bolig' if m[7] == '1' else 'boliger'}, heraf er {m[6]} brugt"
                        + (f"; står også for tur (senere): "
                           f"{', '.join(CHANNEL_DA.get(c, c) for c in m[8].split(', '))}" if m[8] else "")),
    _shape(r"no share channel is due; the waiting list applies",
           lambda m, r: "ingen andel står for tur; boligen udlejes efter ventelisten"),
    _shape(r"list type (\w+) is not used by channel (\w+)",
           lambda m, r: f"{LIST_TYPE_DA.get(m[1], m[1])} bruges ikke ved {CHANNEL_DA.get(m[2], m[2])}"),
    _shape(r"on the list of organisation (\S+), not (\S+)",
           lambda m, r: f"står på boligorganisation {m[1]}s venteliste, ikke {m[2]}s"),
    _shape(r"already offered this vacancy in an earlier round",
           lambda m, r: "har allerede fået tilbud på denne ledige bolig i en tidligere runde"),
    _shape(r"passive on the waiting list after repeated refusals",
           lambda m, r: "passiv på ventelisten efter gentagne afslag"),
    _shape(rf"withdrew the application on {_DATE} \(left the list\)",
           lambda m, r: f"trak ansøgningen tilbage {danish_date(m[1])} (udgik af ventelisten)"),
    _shape(r"already housed: let a dwelling by this engine \(letting (\S+)\)",
           lambda m, r: f"har allerede fået en bolig (udlejning {m[1]})"),
    _shape(r"set passive after (\d+) refusals \(limit (\d+)\)",
           lambda m, r: f"sat passiv efter {m[1]} afslag (grænsen er {m[2]})"),
    _shape(r"let: best-ranked acceptor \(rank (\d+)\); every better-ranked offer was refused or expired",
           lambda m, r: f"udlejet: den bedst placerede, der sagde ja (nr. {m[1]}); alle bedre placerede tilbud blev "
                        "afslået eller udløb"),
    _shape(r"accepted the offer \(rank (\d+)\)", lambda m, r: f"sagde ja til tilbuddet (nr. {m[1]})"),
    _shape(r"(?:the applicant )?refused the offer", lambda m, r: "sagde nej til tilbuddet"),
    _shape(rf"no answer by {_DATE}(; the acceptance at {_DATE} came after the deadline and is refused)?",
           lambda m, r: f"intet svar inden svarfristen {danish_date(m[1])}"
                        + (f"; accepten {danish_date(m[3])} kom efter svarfristen og afvises" if m[2] else "")),
    # the letting store's own reasons
    _shape(r"the applicant accepted the offer; lease created",
           lambda m, r: "ansøgeren sagde ja til tilbuddet; lejekontrakten er oprettet"),
    _shape(r"the best-ranked acceptor: the better-ranked offers were answered or expired \((.*)\); lease created",
           lambda m, r: "den bedst placerede, der sagde ja: de bedre placerede tilbud blev besvaret eller udløb; "
                        "lejekontrakten er oprettet"),
    _shape(r"the dwelling was let to another applicant", lambda m, r: "boligen blev udlejet til en anden ansøger"),
    _shape(r"the applicant accepted; a better-ranked offer of the vacancy is still open, so the acceptance waits .*",
           lambda m, r: "ansøgeren sagde ja; et bedre placeret tilbud på boligen er stadig åbent, så accepten venter "
                        "(den bedst placerede, der siger ja inden svarfristen, får boligen)"),
    _shape(r"the dwelling has fewer rooms than the applicant wants",
           lambda m, r: "boligen har færre rum, end ansøgeren ønsker"),
    _shape(r"the rent is above the applicant's maximum",
           lambda m, r: "huslejen er over det beløb, ansøgeren højst vil betale"),
    _shape(r"first in the list order among fitting applicants",
           lambda m, r: "først i listens rækkefølge blandt de ansøgere, boligen passer til"),
    _shape(r"vacancy registered, to be let by (\w+)",
           lambda m, r: f"ledig bolig registreret; udlejes via {CHANNEL_DA.get(m[1], m[1])}"),
    # exchange and sub-letting (bytte / fremleje)
    _shape(rf"no (bytte|fremleje) requirement in force for this dwelling on {_DATE} .*",
           lambda m, r: f"der gælder intet krav ved {KIND_DA[m[1]]} for boligen {danish_date(m[2])} (området er "
                        "ikke på en omfattet liste, eller reglerne gjaldt endnu ikke)"),
    _shape(r"(bytte|fremleje) is not covered \(switch covers_\w+\)",
           lambda m, r: f"{KIND_DA[m[1]]} er ikke omfattet af kravet"),
    _shape(r"(bytte|fremleje) into a listed area: the incoming household meets the fleksibel criteria of (\S+)",
           lambda m, r: f"{KIND_DA[m[1]]} ind i et listeområde: den indflyttende husstand opfylder kriterierne for "
                        "fleksibel udlejning"),
)
"""Every reason shape the engine, the store and the exchange assessment write, with its Danish wording."""


def find_rule(policies: PolicySet | None, rule_id: str | None, version: str | None = None
              ) -> tuple[Policy, CompiledRule] | None:
    """The policy rule `policy_id#rule` (of `version` when given and loaded), if it is one."""
    if policies is None or not rule_id or "#" not in rule_id:
        return None
    policy_id, name = rule_id.split("#", 1)
    candidates = [p for p in policies.policies if p.id == policy_id]
    candidates.sort(key=lambda p: p.version != version)
    for policy in candidates:
        for rules in policy.rules.values():
            for rule in rules:
                if rule.spec.id == name:
                    return policy, rule
    return None


def rule_text_da(policies: PolicySet | None, rule_id: str | None, version: str | None = None) -> str:
    """The Danish text of policy rule `rule_id` ('' when it is no policy rule or has none)."""
    found = find_rule(policies, rule_id, version)
    return rule_text(found[1], found[0].spec.constants, "da") if found else ""


def danish_reason(decision: Decision, policies: PolicySet | None) -> str:
    """The Danish wording of `decision.reason` (see the module docstring)."""
    return danish_text(decision.reason, decision.rule_id, decision.rule_version, policies)


def danish_text(reason: str, rule_id: str | None, rule_version: str | None, policies: PolicySet | None) -> str:
    """The Danish wording of an English reason recorded by rule `rule_id` (version `rule_version`)."""
    reason = reason.strip()
    found = find_rule(policies, rule_id, rule_version)
    shape = reason
    own = ""
    if found is not None:
        policy, rule = found
        english = rule.spec.description or rule.spec.id
        own = rule_text(rule, policy.spec.constants, "da")
        if english in reason:
            shape = reason.replace(english, RULE_TOKEN)

    def text_of(other: str) -> str:
        if not other:
            return own or UNTRANSLATED
        return rule_text_da(policies, other) or UNTRANSLATED

    for pattern, wording in SHAPES:
        m = pattern.fullmatch(shape)
        if m is not None and (RULE_TOKEN not in pattern.pattern or own):
            return wording(m, text_of)
    return UNTRANSLATED


@cache
def default_policies() -> PolicySet:
    """Every packaged policy (statutory and example local agreements), for rule texts (loaded once)."""
    from boligmix.letting.policy import load_default_policies

    return load_default_policies(include_local_examples=True)


OUTCOME_LABEL_DA = {
    "channel": "udlejningsvej valgt", "offered": "tilbudt", "skipped": "ikke tilbudt", "rejected": "afvist",
    "accepted": "sagt ja", "refused": "sagt nej", "expired": "intet svar", "withdrawn": "tilbud trukket tilbage",
    "let": "udlejet", "passive": "sat passiv", "entitled": "ret til tilbud andetsteds",
    "redirected": "henvist andetsteds", "approved": "godkendt", "reactivated": "aktiv igen",
}
"""Danish labels of the decision outcomes (for tables)."""

ENGINE_RULES_DA = {
    "ranking": "rækkefølgen på ventelisten", "default_channel": "ventelisten (ingen andel står for tur)",
    "offer_round": "tilbudsrunden", "list": "ventelisten", "passive_after_refusals": "passiv efter gentagne afslag",
    "withdrawal": "tilbagetrukket ansøgning", "reactivation": "aktiv på ventelisten igen",
    "unused_referral": "ubrugt anvisningsbolig går til ventelisten",
    "busy_applicants": "ikke annonceret, mens berettigede ansøgere har åbne tilbud",
    "trigger": "offentlig annoncering, når ventelisten er udtømt",
    "offer_elsewhere": "ret til tilbud uden for området (§ 51 b)",
    "redirect": "anvisning andetsteds (§ 59, stk. 6/7)", "udslusningsbolig": "udslusningsbolig",
    "accept": "accept af tilbud", "withdraw": "tilbud trukket tilbage", "accept_provisional": "foreløbig accept",
    "register": "ledig bolig registreret", "channel": "valg af udlejningsvej", "refuse": "afslag",
    "expire": "intet svar inden svarfristen", "reactivate": "aktiv på ventelisten igen",
    "withdraw_application": "tilbagetrukket ansøgning", "rooms": "antal rum", "rent": "husleje",
    "order": "listens rækkefølge", "criteria_met": "kriterierne for fleksibel udlejning er opfyldt",
    "not_in_force": "intet krav gælder",
}
"""Danish names of the rules the engine and the store apply themselves (not policy-file rules)."""


def rule_label(rule_id: str | None, policies: PolicySet | None, lang: str = "da") -> str:
    """A readable name of rule `policy#rule`: a policy rule's text, else the engine rule's name."""
    if not rule_id:
        return ""
    found = find_rule(policies, rule_id)
    if found is not None:
        return rule_text(found[1], found[0].spec.constants, lang)
    name = rule_id.split("#", 1)[-1]
    if lang != "da":
        return name.replace("_", " ").replace("shares.", "share: ")
    if name.startswith("shares."):
        channel = name.removeprefix("shares.")
        return f"andel til {CHANNEL_DA.get(channel, channel)}"
    if name.startswith("covers_"):
        return f"{KIND_DA.get(name.removeprefix('covers_'), name)} er ikke omfattet"
    return ENGINE_RULES_DA.get(name, "")


def record_reason(record: Mapping[str, Any], policies: PolicySet | None, lang: str) -> str:
    """The reason of a decision record (the store's `decision_json` shape) in `lang` ('da' or 'en')."""
    reason = str(record.get("reason") or "")
    if lang != "da":
        return reason
    return danish_text(reason, record.get("rule"), record.get("rule_version"), policies)


__all__ = [
    "CHANNEL_DA",
    "ENGINE_RULES_DA",
    "OUTCOME_LABEL_DA",
    "SHAPES",
    "UNTRANSLATED",
    "danish_date",
    "danish_reason",
    "danish_text",
    "default_policies",
    "find_rule",
    "record_reason",
    "rule_label",
    "rule_text_da",
]
