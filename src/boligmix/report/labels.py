"""Danish and English headers for the column names the report tables share, used by the HTML and
Excel writers when a table gives no label of its own (so the Danish view never shows `n_emp_pop`)."""

from __future__ import annotations

from boligmix.report.document import Text

_FACTORS = {"low_edu": ("kun grundskole", "only primary education"), "employed": ("i beskæftigelse", "employed"),
            "nonwestern": ("ikke-vestlig oprindelse", "non-Western origin"),
            "low_income": ("laveste indkomstkvartil", "lowest income quartile")}

DEFAULT_LABELS: dict[str, Text] = {
    "level": Text("Niveau", "Level"), "unit_id": Text("Enhed", "Unit"), "unit_name": Text("Navn", "Name"),
    "area_id": Text("Område-id", "Area id"), "area_name": Text("Område", "Area"),
    "municipality": Text("Kommune", "Municipality"), "municipality_code": Text("Kommunekode", "Municipality code"),
    "year": Text("År", "Year"), "group": Text("Gruppe", "Group"), "listed": Text("På listen", "Listed"),
    "pool": Text("Enheder", "Units"), "factor": Text("Forhold", "Factor"), "index": Text("Indeks", "Index"),
    "value": Text("Værdi", "Value"), "direction": Text("Retning", "Direction"),
    "category": Text("Kategori", "Category"), "n": Text("Antal personer", "Persons"),
    "n_edu_pop": Text("Antal 30-59 år (uddannelse)", "Persons 30-59 (education)"),
    "n_low_edu": Text("Antal med kun grundskole", "Only primary education"),
    "n_emp_pop": Text("Antal 16-64 år (beskæftigelse)", "Persons 16-64 (employment)"),
    "n_employed": Text("Antal i beskæftigelse", "Employed"),
    "n_nonwestern": Text("Antal ikke-vestlige", "Non-Western"),
    "n_inc_pop": Text("Antal med indkomst", "Persons with income"),
    **{f"n_q{q}": Text(f"Antal i indkomstkvartil {q}", f"Income quartile {q}") for q in range(1, 5)},
    **{f"share_{f}": Text(f"Andel {da}", f"Share {en}") for f, (da, en) in _FACTORS.items()},
    **{f"ratio_mun_{f}": Text(f"Ift. kommunen: {da}", f"Vs municipality: {en}") for f, (da, en) in _FACTORS.items()},
    **{f"ratio_almen_{f}": Text(f"Ift. alle almene: {da}", f"Vs all almene: {en}") for f, (da, en) in _FACTORS.items()},
    "year_from": Text("Fra år", "From year"), "year_to": Text("Til år", "To year"),
    "n_from": Text("Antal fra", "Persons from"), "n_to": Text("Antal til", "Persons to"),
    "share_from": Text("Andel fra", "Share from"), "share_to": Text("Andel til", "Share to"),
    "change": Text("Ændring", "Change"), "stayers": Text("Blivende", "Stayers"),
    "in_movers": Text("Tilflyttere", "In-movers"), "out_movers": Text("Fraflyttere", "Out-movers"),
    "other_entrants": Text("Andre tilgange", "Other entrants"), "other_leavers": Text("Andre afgange", "Other leavers"),
    "n_stayers": Text("Antal blivende", "Stayers (n)"), "n_in_movers": Text("Antal tilflyttere", "In-movers (n)"),
    "n_out_movers": Text("Antal fraflyttere", "Out-movers (n)"),
    "n_other_entrants": Text("Antal andre tilgange", "Other entrants (n)"),
    "n_other_leavers": Text("Antal andre afgange", "Other leavers (n)"),
    "criteria_met": Text("Kriterier for udsat opfyldt", "Udsat criteria met"),
    "udsat": Text("Udsat boligområde", "Udsat boligområde"), "parallelsamfund": Text("Parallelsamfund", "Parallelsamfund"),
    "omdannelse": Text("Omdannelsesområde", "Omdannelsesområde"),
    "forebyggelse": Text("Forebyggelsesområde", "Forebyggelsesområde"),
    "setting": Text("Indstilling", "Setting"),
}


def column_label(labels: dict[str, Text], column: str) -> Text:
    """The table's own label, else the shared one, else the column name."""
    return labels.get(column) or DEFAULT_LABELS.get(column) or Text(column, column)


__all__ = ["DEFAULT_LABELS", "column_label"]
