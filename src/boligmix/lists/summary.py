"""A compact per-area summary of the listed areas of one list year (for the terminal and reports).

One row per area on at least one list: the lists (Danish legal names), the criteria met of the
"N of M" behind its highest list (the forebyggelse criteria for a forebyggelsesområde), and for the
highest list it is on (omdannelse > parallelsamfund > udsat > forebyggelse) the earliest list year
it can be off it and what it takes (see `boligmix.lists.leave`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from boligmix.lists.ruleset import RuleSet, load_ruleset
from boligmix.lists.texts import FIELD_NAMES, LANGS, SUPPRESSED_TEXT, Lang

HIGHEST_FIRST: tuple[str, ...] = ("omdannelse", "parallelsamfund", "udsat", "forebyggelse")

HEADERS: dict[Lang, dict[str, str]] = {
    "da": {"area_id": "Område", "year": "Listeår", "lists": "Lister", "criteria": "Kriterier opfyldt",
           "leave_year": "Tidligst ude", "to_leave": "Hvad skal der til for at komme af listen",
           "title": "Områder på listerne {year}", "none": "Ingen områder på listerne i {year}",
           "of": "af", "unknown": "ukendt"},
    "en": {"area_id": "Area", "year": "List year", "lists": "Lists", "criteria": "Criteria met",
           "leave_year": "Earliest off", "to_leave": "What it takes to leave the list",
           "title": "Areas on the lists {year}", "none": "No areas on the lists in {year}",
           "of": "of", "unknown": "unknown"},
}


def listed_summary(areas: Sequence[Mapping[str, Any]], year: int, lang: Lang = "da",
                   rulesets: Mapping[str, RuleSet] | None = None) -> list[dict[str, Any]]:
    """Rows for the areas on a list in `year` (areas.json entries), in input order."""
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}, got {lang!r}")
    words = HEADERS[lang]
    rows = []
    for a in areas:
        if a["year"] != year:
            continue
        on = [f for f in HIGHEST_FIRST if a.get(f)]
        if not on:
            continue
        ruleset = (rulesets or {}).get(a["rules"]) or load_ruleset(a["rules"])
        labels = [ruleset.category_for_output(f).label_da for f in reversed(on)  # type: ignore[union-attr]
                  if ruleset.category_for_output(f) is not None]
        plan = (a.get("to_leave") or {}).get(on[0])
        changes = "; ".join(f"{FIELD_NAMES[lang].get(c.get('field') or '', c['criterion'])}: "
                            f"{c[f'text_{lang}'] or SUPPRESSED_TEXT[lang]}" for c in plan["changes"]) \
            if plan else words["unknown"]
        rows.append({"area_id": a["area_id"], "year": year, "lists": ", ".join(labels),
                     "criteria": _criteria_count(a, on[0], ruleset, words["of"]),
                     "leave_year": plan["leave_year"] if plan else None, "to_leave": changes})
    return rows


def _criteria_count(area: Mapping[str, Any], flag: str, ruleset: RuleSet, of: str) -> str:
    """'3 af 4 (udsat boligområde)': the criteria met of the "N of M" that decides the area's
    highest list, and the list those criteria belong to."""
    count = (area.get("criteria_met_by_list") or {}).get(flag)
    if count is None:
        from boligmix.lists.explain import counted_list_label

        return f"{area['criteria_met']} {of} {len(ruleset.spec.counted_criteria)} ({counted_list_label(ruleset)})"
    category = ruleset.category_for_output(flag)
    while category is not None and category.at_least is None and category.parent is not None:
        category = ruleset.category(category.parent)  # the list whose "N of M" it is (udsat for omdannelse)
    label = category.label_da if category is not None else flag
    return f"{count['met']} {of} {count['of']} ({label})"


__all__ = ["HEADERS", "HIGHEST_FIRST", "listed_summary"]
