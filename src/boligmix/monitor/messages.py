"""Warning messages in Danish (decimal comma, thousands separator '.') or English.

Messages are built from the published (protected) values only; a suppressed value shows the
policy's marker.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from boligmix.lists.ruleset import load_ruleset, version_for_year
from boligmix.lists.texts import VALUE_UNITS, fmt_threshold
from boligmix.numbers import fmt_number

if TYPE_CHECKING:
    from boligmix.monitor.pipeline import MonitorResult

LIST_NAMES = {"da": {"udsat": "udsat boligområde", "parallelsamfund": "parallelsamfund",
                     "omdannelse": "omdannelsesområde", "forebyggelse": "forebyggelsesområde"},
              "en": {"udsat": "udsat boligområde (vulnerable area)", "parallelsamfund": "parallelsamfund",
                     "omdannelse": "omdannelsesområde", "forebyggelse": "forebyggelsesområde (prevention area)"}}
MARKER = "·"


def _num(value: float | None, lang: str, digits: int = 1) -> str:
    return fmt_number(value, digits, lang, missing=MARKER)  # type: ignore[arg-type]


def warning_messages(frame: pl.DataFrame, result: "MonitorResult", lang: str) -> list[str]:
    ruleset = load_ruleset(version_for_year(result.year))
    labels = {c.id: (c.label_da if lang == "da" else c.label_en, c.unit) for c in ruleset.spec.criteria}
    out = []
    for r in frame.iter_rows(named=True):
        listname = LIST_NAMES[lang].get(r["list"] or "", r["list"] or "")
        label, unit = labels.get(r["indicator"], (r["indicator"], ""))
        unit_text = VALUE_UNITS.get(lang, {}).get(unit, unit)  # type: ignore[call-overload]
        threshold = MARKER if r["threshold"] is None else fmt_threshold(float(r["threshold"]), lang)  # type: ignore[arg-type]
        if r["kind"] == "forecast_listing":
            p = MARKER if r["value"] is None else fmt_number(100 * r["value"], 0, lang)  # type: ignore[arg-type]
            out.append(f"Sandsynlighed {p} pct. for at komme på listen som {listname} 1. december {result.year + 1}"
                       if lang == "da" else
                       f"Probability {p} % of being listed as {listname} on 1 December {result.year + 1}")
        elif r["kind"] == "approaching_threshold":
            slope = r.get("slope")
            trend = ""
            if slope is not None and r["value"] is not None:
                trend = (f"; udvikling {fmt_number(slope, 2, 'da')} om året" if lang == "da"
                         else f"; trend {fmt_number(slope, 2, 'en')} a year")
            out.append((f"Nærmer sig grænsen for {listname}: {label}: {_num(r['value'], lang)} {unit_text} "
                        f"(grænse {threshold}){trend}") if lang == "da" else
                       (f"Approaching the {listname} threshold: {label}: {_num(r['value'], lang)} {unit_text} "
                        f"(threshold {threshold}){trend}"))
        elif r["indicator"] is None:
            out.append("Tilflyttere fra listede områder/genhusning flytter enheden tæt på eller over en grænse "
                       "(færre end mindstetallet for offentliggørelse: kriteriet vises ikke)" if lang == "da" else
                       "Arrivals from listed areas/rehousing move the unit close to or over a threshold (fewer than "
                       "the publication minimum: the criterion is not shown)")
        else:
            households = MARKER if r["n_households"] is None else fmt_number(r["n_households"], 0, lang)  # type: ignore[arg-type]
            persons = MARKER if r["n_persons"] is None else fmt_number(r["n_persons"], 0, lang)  # type: ignore[arg-type]
            out.append((f"Tilflyttere fra listede områder/genhusning ({households} husstande, {persons} personer) "
                        f"flytter {label} fra {_num(r['value_without'], lang)} til {_num(r['value'], lang)} "
                        f"{unit_text} (grænse {threshold} for {listname})") if lang == "da" else
                       (f"Arrivals from listed areas/rehousing ({households} households, {persons} persons) move "
                        f"{label} from {_num(r['value_without'], lang)} to {_num(r['value'], lang)} {unit_text} "
                        f"(threshold {threshold} for {listname})"))
    return out


__all__ = ["LIST_NAMES", "warning_messages"]
