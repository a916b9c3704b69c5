"""The words of the list explanations in Danish (first) and English.

Numbers are written by `boligmix.numbers.fmt_number` (Danish 1.234,5; English 1,234.5). Danish legal terms (udsat boligområde, parallelsamfund, omdannelsesområde, ...)
stay Danish in both languages; they come from the rule files' `label_da`.
"""

from __future__ import annotations

import math
from functools import lru_cache
from boligmix.numbers import Lang, fmt_number

LANGS: tuple[Lang, ...] = ("da", "en")


@lru_cache(maxsize=256)
def fmt_threshold(value: float, lang: Lang) -> str:
    """A threshold as written in the law: 1.000, 2,7, 55 (Danish) / 1000, 2.7, 55 (English, as before)."""
    if lang == "en":
        return f"{value:g}"
    return fmt_number(value, None, "da")


def fmt_signed(value: float, digits: int, lang: Lang) -> str:
    return fmt_number(value, digits, lang, thousands=lang == "da", signed=True)


# What has to change, per criterion field: (kind, text when the value must go down, when it must go up).
# kind: "fte" (one decimal), "dkk" (whole kroner), "persons" (whole persons).
CHANGE_UNITS: dict[Lang, dict[str, tuple[str, str, str]]] = {
    "en": {
        "residents": ("persons", "fewer residents", "more residents"),
        "pct_non_western": ("persons", "fewer residents of non-Western origin (replaced by others, total unchanged)",
                            "more residents of non-Western origin (replacing others, total unchanged)"),
        "pct_outside_work_edu": ("fte", "FTE of residents aged 18-64 moving into work or education",
                                 "additional FTE of residents aged 18-64 outside work and education"),
        "pct_convicted": ("persons", "fewer convicted residents aged 18+", "more convicted residents aged 18+"),
        "conviction_ratio": ("persons", "fewer convicted residents aged 18+", "more convicted residents aged 18+"),
        "pct_basic_education": ("persons", "fewer residents aged 30-59 with only basic schooling",
                                "more residents aged 30-59 with only basic schooling"),
        "income_pct_of_region": ("dkk", "DKK lower average gross income per taxpayer aged 15-64 (excl. students)",
                                 "DKK higher average gross income per taxpayer aged 15-64 (excl. students)"),
    },
    "da": {
        "residents": ("persons", "færre beboere", "flere beboere"),
        "pct_non_western": ("persons", "færre beboere fra ikkevestlige lande (erstattet af andre, samme antal "
                                       "beboere)",
                            "flere beboere fra ikkevestlige lande (i stedet for andre, samme antal beboere)"),
        "pct_outside_work_edu": ("fte", "fuldtidspersoner blandt beboerne på 18-64 år, der kommer i arbejde "
                                        "eller uddannelse",
                                 "flere fuldtidspersoner blandt beboerne på 18-64 år uden tilknytning til "
                                 "arbejdsmarkedet eller uddannelse"),
        "pct_convicted": ("persons", "færre dømte beboere på 18 år og derover",
                          "flere dømte beboere på 18 år og derover"),
        "conviction_ratio": ("persons", "færre dømte beboere på 18 år og derover",
                             "flere dømte beboere på 18 år og derover"),
        "pct_basic_education": ("persons", "færre beboere på 30-59 år, der alene har en grundskoleuddannelse",
                                "flere beboere på 30-59 år, der alene har en grundskoleuddannelse"),
        "income_pct_of_region": ("dkk", "kr. lavere gennemsnitlig bruttoindkomst pr. skattepligtig på 15-64 år "
                                        "(ekskl. uddannelsessøgende)",
                                 "kr. højere gennemsnitlig bruttoindkomst pr. skattepligtig på 15-64 år "
                                 "(ekskl. uddannelsessøgende)"),
    },
}

# The criterion's own unit, for the distance without support counts (amount + name + lower/higher).
UNIT_CHANGE_NAMES: dict[Lang, dict[str, str]] = {
    "en": {"pct": "percentage points", "pct of regional average": "percentage points of the regional average",
           "times national average": "times the national average", "persons": "residents"},
    "da": {"pct": "procentpoint", "pct of regional average": "procentpoint af regionsgennemsnittet",
           "times national average": "gange landsgennemsnittet", "persons": "beboere"},
}
LOWER_HIGHER: dict[Lang, tuple[str, str]] = {"en": ("lower", "higher"), "da": ("lavere", "højere")}

# The unit after a value ("61,20 > 60 pct.").
VALUE_UNITS: dict[Lang, dict[str, str]] = {
    "en": {},  # the rule file's unit as it is
    "da": {"pct": "pct.", "pct of regional average": "pct. af regionsgennemsnittet",
           "times national average": "gange landsgennemsnittet", "persons": "beboere"},
}

# The comparison of a criterion, as a limit: "33,0 % (grænse: over 40 %)".
LIMIT_WORDS: dict[Lang, dict[str, str]] = {
    "da": {">": "over", ">=": "mindst", "<": "under", "<=": "højst", "limit": "grænse"},
    "en": {">": "above", ">=": "at least", "<": "below", "<=": "at most", "limit": "limit"},
}
# Units shown after a value and its limit ("33,0 %", "2,93 gange landsgennemsnittet", "1.297 beboere").
SHOWN_UNITS: dict[Lang, dict[str, tuple[str, int]]] = {
    "da": {"pct": ("%", 1), "pct of regional average": ("% af regionsgennemsnittet", 1),
           "times national average": ("gange landsgennemsnittet", 2), "persons": ("beboere", 0)},
    "en": {"pct": ("%", 1), "pct of regional average": ("% of the regional average", 1),
           "times national average": ("times the national average", 2), "persons": ("residents", 0)},
}


def value_with_limit(value: float | None, op: str, threshold: float, unit: str, lang: Lang,
                     missing: str) -> str:
    """'33,0 % (grænse: over 40 %)', '1.297 beboere (grænse: mindst 1.000 beboere)'. More decimals are
    shown when the rounded value would equal the threshold (so the comparison never reads false)."""
    name, digits = SHOWN_UNITS[lang].get(unit, (unit, 2))
    words = LIMIT_WORDS[lang]
    limit = f"{words[op]} {fmt_threshold(threshold, lang) if lang == 'da' else f'{threshold:,g}'} {name}"
    if value is None or math.isnan(value):
        shown = missing
    else:
        while digits < 6 and round(value, digits) == threshold and value != threshold:
            digits += 1
        shown = f"{fmt_number(value, digits, lang)} {name}"
    return f"{shown} ({words['limit']}: {limit})"


# Short names of the criteria's fields, to name the criterion in "to leave the list" lines.
FIELD_NAMES: dict[Lang, dict[str, str]] = {
    "da": {"residents": "beboertal", "pct_non_western": "andel ikkevestlige",
           "pct_outside_work_edu": "andel uden for arbejde og uddannelse", "pct_convicted": "andel dømte",
           "conviction_ratio": "dømte ift. landsgennemsnittet", "pct_basic_education": "andel med kun grundskole",
           "income_pct_of_region": "indkomst ift. regionen"},
    "en": {"residents": "residents", "pct_non_western": "non-Western share",
           "pct_outside_work_edu": "share outside work and education", "pct_convicted": "share convicted",
           "conviction_ratio": "convictions vs national average", "pct_basic_education": "share with basic schooling only",
           "income_pct_of_region": "income vs region"},
}
SUPPRESSED_TEXT: dict[Lang, str] = {"da": "værdien er diskretioneret (for få personer)",
                                    "en": "the value is suppressed (too few persons)"}


QUALIFIERS: dict[Lang, dict[str, str]] = {"en": {"at least": "at least", "more than": "more than"},
                                          "da": {"at least": "mindst", "more than": "mere end"}}


def change_text(qualifier: str | None, amount: float | None, kind: str, unit: str | None, lang: Lang) -> str | None:
    """'at least 40.0 FTE ...' / 'mindst 40,0 fuldtidspersoner ...' (None when anything is missing).

    kind: fte, dkk, persons (whole persons: 'more than 2.3' is 'at least 3'), or unit (two decimals)."""
    if amount is None or unit is None or qualifier is None or math.isnan(amount):
        return None
    q = QUALIFIERS[lang]
    if kind == "fte":
        return f"{q[qualifier]} {fmt_number(amount, 1, lang)} {unit}"
    if kind == "dkk":
        return f"{q[qualifier]} {fmt_number(amount, 0, lang)} {unit}"
    if kind == "persons":
        whole = math.ceil(amount - 1e-9) if qualifier == "at least" else math.floor(amount + 1e-9) + 1
        return f"{q['at least']} {fmt_number(max(whole, 0), 0, lang)} {unit}"
    return f"{q[qualifier]} {fmt_number(amount, 2, lang, thousands=lang == 'da')} {unit}"


# Sentences of the text explanation.
WORDS: dict[Lang, dict[str, str]] = {
    "en": {
        "head": "{area}, list year {year} (rules {rules}): {lists}; {met} of {n} criteria of {counted} met.",
        "no_list": "on no list", "met": "met", "not_met": "not met", "unknown": "unknown", "missing": "missing",
        "margin": "margin", "to_stop": "to stop meeting it", "to_meet": "to meet it",
        "history": "list history (parallelsamfund/ghetto)", "yes": "yes", "no": "no",
        "published": "published", "computed": "computed", "none": "none",
        "becomes": "becomes {label} after {n} more year(s) on the list",
        "excluded": "meets the '{flag}' criteria but is not on that list because it is on '{other}' "
                    "(switch in the rule set)",
        "exit": "earliest list it is sure to be off '{flag}' if the criteria stop holding now: {year}",
        "leave": "to leave {label}: {changes} (off the list from list year {year} if the changes show in the "
                 "next register year)",
        "leave_and": "; and ",
        "reenter": "it can be {label} again no earlier than {year} ({n} new years in a row as {parent})",
        "cannot_leave": "to leave {label}: not known which changes are enough (missing values)",
    },
    "da": {
        "head": "{area}, listeår {year} (regler {rules}): {lists}; {met} af {n} kriterier for {counted} opfyldt.",
        "no_list": "ikke på nogen liste", "met": "opfyldt", "not_met": "ikke opfyldt", "unknown": "ukendt",
        "missing": "mangler", "margin": "afstand", "to_stop": "for at det ikke længere er opfyldt",
        "to_meet": "for at det bliver opfyldt",
        "history": "listehistorik (parallelsamfund/ghettoområde)", "yes": "ja", "no": "nej",
        "published": "offentliggjort", "computed": "beregnet", "none": "ingen oplysning",
        "becomes": "bliver {label} efter yderligere {n} år på listen",
        "excluded": "opfylder kriterierne for {flag}, men er ikke på den liste, fordi området er {other} "
                    "(omskifter i regelsættet)",
        "exit": "tidligste listeår, hvor området med sikkerhed er ude som {flag}, hvis kriterierne holder op "
                "med at være opfyldt nu: {year}",
        "leave": "for at komme af listen som {label}: {changes} (ude fra listeår {year}, hvis ændringerne "
                 "ses i næste registerår)",
        "leave_and": "; og ",
        "reenter": "området kan tidligst blive {label} igen i {year} ({n} nye år i træk som {parent})",
        "cannot_leave": "for at komme af listen som {label}: det vides ikke, hvilke ændringer der er nok "
                        "(manglende værdier)",
    },
}
