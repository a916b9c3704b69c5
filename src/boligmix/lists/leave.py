"""What it takes to leave a list: the smallest set of criterion changes that takes an area off it.

For a category with "at least N of M" criteria (udsat: 2 of 4) the area leaves when fewer than N
hold, so it must bring k = met + unknown - N + 1 of the criteria it meets below their thresholds
(an unknown criterion is counted as possibly holding; it cannot be planned). A required criterion
(the non-Western share of parallelsamfund, the 30 % gate of forebyggelse) is an option on its own,
and leaving the parent category (udsat for parallelsamfund) takes the area off the child too.
The number of residents is not treated as a lever.

Every option is minimal (no criterion in it is superfluous). The cheapest is the one whose
criteria are closest to their thresholds relative to the threshold: cost = sum of
|value - threshold| / threshold (ties: fewer criteria, earlier leave year, rule-file order). The
criteria are in different units (FTE, persons, DKK), so this relative distance is the common
measure; every option is listed with its cost so another choice can be made.

Leave year: if the stated changes take effect in the next register year (data not yet used), a
point-in-time criterion is below its threshold in the next list (year + 1) and an N-year average
once its whole window is new (year + N); the plan's leave year is the latest of its criteria.
Omdannelse (hårdt ghettoområde in 2018) ends with parallelsamfund (ghettoområde) in that year;
after that the area can be omdannelsesområde again no earlier than leave year + N (the N-year rule:
N new years in a row on the parallelsamfund list).
"""

from __future__ import annotations

import math

from collections.abc import Mapping
from itertools import combinations
from typing import Any

from boligmix.lists.ruleset import Category, RuleSet
from boligmix.lists.texts import FIELD_NAMES, LANGS, SUPPRESSED_TEXT, WORDS

Row = Mapping[str, Any]

NOT_A_LEVER = frozenset({"residents"})
"""Criteria that are never proposed as a way off a list."""


def _cost(row: Row) -> float:
    """Relative distance to the threshold; unknown (a suppressed value) ranks last."""
    if row.get("margin") is None:
        return math.inf
    threshold = abs(float(row["threshold"])) or 1.0
    return abs(float(row["margin"])) / threshold


def _options(ruleset: RuleSet, category: Category, rows: Mapping[str, Row]) -> list[tuple[str, ...]] | None:
    """Every minimal set of met criteria whose crossing takes the area off `category`.

    None when the category cannot be left by changing known criteria (all options undecided)."""
    options: list[tuple[str, ...]] = []
    if category.history is not None:  # omdannelse/hårdt ghetto: off when off the history list now
        source = ruleset.category_for_output(category.history.output)
        return _options(ruleset, source, rows) if source is not None else None
    if category.parent is not None:
        options.extend(_options(ruleset, ruleset.category(category.parent), rows) or [])
    for cid in category.requires:
        if cid not in NOT_A_LEVER and rows.get(cid, {}).get("met") is True:
            options.append((cid,))
    if category.at_least is not None:
        met = [cid for cid in category.of if rows.get(cid, {}).get("met") is True]
        unknown = [cid for cid in category.of if rows.get(cid, {}).get("met") is None]
        k = len(met) + len(unknown) - category.at_least + 1
        if 1 <= k <= len(met):
            options.extend(combinations(met, k))
    return options or None


def _leave_year(ruleset: RuleSet, criteria: tuple[str, ...], year: int) -> int:
    return year + max(ruleset.criterion(cid).average_years for cid in criteria)


def leave_plan(ruleset: RuleSet, flag: str, rows: Mapping[str, Row], year: int,
               history_years: int | None = None) -> dict[str, Any] | None:
    """The cheapest way off the list `flag` (an output flag) for an area on it in list year `year`.

    `rows` maps criterion id to its criteria-table row (`met`, `margin`, `threshold`, `to_cross`,
    `to_cross_unit`, `to_cross_text_da`, `to_cross_text_en`). Returns None when the rule set has
    no such list or no known change is enough; else a dict with `criteria`, `changes` (one per
    criterion: amount, English unit, Danish and English text), `cost`, `leave_year`,
    `reenter_year` (omdannelse only), `text_da`, `text_en` and all `options` ranked."""
    category = ruleset.category_for_output(flag)
    if category is None:
        return None
    options = _options(ruleset, category, rows)
    if not options:
        return None
    order = {c.id: i for i, c in enumerate(ruleset.spec.criteria)}
    cost = {cid: _cost(rows[cid]) for option in options for cid in option}
    ranked = sorted(set(options), key=lambda o: (round(sum(cost[c] for c in o), 12), len(o),
                                                 _leave_year(ruleset, o, year), [order[c] for c in o]))
    best = ranked[0]
    leave_year = _leave_year(ruleset, best, year)
    reenter = leave_year + history_years if category.history is not None and history_years else None
    changes = [{"criterion": cid, "field": rows[cid].get("field"), "to_cross": rows[cid].get("to_cross"),
                "to_cross_unit": rows[cid].get("to_cross_unit"), "qualifier": rows[cid].get("qualifier"),
                "text_da": rows[cid].get("to_cross_text_da"), "text_en": rows[cid].get("to_cross_text_en")}
               for cid in best]
    plan: dict[str, Any] = {
        "criteria": list(best), "changes": changes, "cost": sum(cost[c] for c in best),
        "leave_year": leave_year, "reenter_year": reenter,
        "options": [{"criteria": list(o), "cost": sum(cost[c] for c in o),
                     "leave_year": _leave_year(ruleset, o, year)} for o in ranked],
    }
    for lang in LANGS:
        w = WORDS[lang]
        parts = [f"{FIELD_NAMES[lang].get(c['field'] or '', c['criterion'])}: "
                 f"{c[f'text_{lang}'] or SUPPRESSED_TEXT[lang]}" for c in changes]
        text = w["leave"].format(label=category.label_da, changes=w["leave_and"].join(parts), year=leave_year)
        if reenter is not None:
            history_source = ruleset.category_for_output(category.history.output)  # type: ignore[union-attr]
            text += "; " + w["reenter"].format(label=category.label_da, year=reenter, n=history_years,
                                               parent=history_source.label_da if history_source else "")
        plan[f"text_{lang}"] = text
    return plan


__all__ = ["NOT_A_LEVER", "leave_plan"]
