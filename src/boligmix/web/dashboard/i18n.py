"""Words and number formats of the dashboard: Danish by default, English with `?lang=en`."""

from __future__ import annotations

from typing import Any

from boligmix.numbers import fmt_number, fmt_percent
from boligmix.report.liststatus import LIST_STATUS_STYLE
from boligmix.report.svgmap import Style

LANGS = ("da", "en")

STATUS_TEXT: dict[str, tuple[str, str]] = {
    "omdannelse": ("Omdannelsesområde / hårdt ghettoområde", "Omdannelse area / hard ghetto area"),
    "parallelsamfund": ("Parallelsamfund / ghettoområde", "Parallelsamfund / ghetto area"),
    "udsat": ("Udsat boligområde", "Udsat area"),
    "forebyggelse": ("Forebyggelsesområde", "Forebyggelse area"),
    "none": ("Ikke på en liste", "Not on a list"),
    "undecided": ("Uafklaret (manglende data)", "Undecided (missing data)"),
    "nodata": ("Ingen data", "No data"),
}

STATUS_STYLE = LIST_STATUS_STYLE

STATUS_LINE = {"omdannelse": "#b2182b", "parallelsamfund": "#d6604d", "udsat": "#8c510a", "forebyggelse": "#2166ac"}
"""Line colours of the lists in plots: the map fill's hue, dark enough for lines on white."""

WORDS: dict[str, tuple[str, str]] = {
    "site": ("boligmix — almene boligområder", "boligmix — social housing areas"),
    "overview": ("Oversigt", "Overview"),
    "lists": ("Listerne", "The lists"),
    "municipalities": ("Kommuner", "Municipalities"),
    "municipality": ("Kommune", "Municipality"),
    "area": ("Boligområde", "Housing area"),
    "areas": ("Boligområder", "Housing areas"),
    "year": ("Listeår", "List year"),
    "calendar_year": ("År", "Year"),
    "show": ("Vis", "Show"),
    "status": ("Status", "Status"),
    "legend": ("Signaturforklaring", "Legend"),
    "map_title": ("Kort over boligområderne {year}", "Map of the housing areas {year}"),
    "map_desc": ("Hvert boligområde er tegnet med farve og mønster efter listestatus i {year}; vælg et område "
                 "for at åbne dets side. Små områder er forstørret omkring deres midte, så de kan ses.",
                 "Each housing area is drawn with a colour and pattern by its list status in {year}; choose an "
                 "area to open its page. Small areas are enlarged around their centre so they can be seen."),
    "counts_title": ("Antal områder på listerne pr. år", "Number of areas on the lists per year"),
    "n_areas": ("Antal områder", "Number of areas"),
    "download_csv": ("Hent som CSV", "Download as CSV"),
    "download_pdf": ("Hent listerapport (PDF)", "Download list report (PDF)"),
    "filter": ("Filtrér", "Filter"),
    "all": ("Alle", "All"),
    "all_listed": ("Alle på en liste", "All on a list"),
    "list": ("Liste", "List"),
    "name": ("Navn", "Name"),
    "residents": ("Beboere", "Residents"),
    "criteria_met": ("Kriterier opfyldt", "Criteria met"),
    "criteria": ("Kriterier", "Criteria"),
    "criterion": ("Kriterium", "Criterion"),
    "value": ("Værdi", "Value"),
    "threshold": ("Grænse", "Threshold"),
    "met": ("Opfyldt", "Met"),
    "margin": ("Afstand til grænsen", "Margin to the threshold"),
    "to_cross": ("Hvad skal der til", "What it takes"),
    "yes": ("ja", "yes"),
    "no": ("nej", "no"),
    "unknown": ("ukendt", "unknown"),
    "history": ("Listehistorik", "List history"),
    "explanation": ("Forklaring", "Explanation"),
    "explanation_full": ("Hele forklaringen, kriterium for kriterium", "The full explanation, criterion by criterion"),
    "explanation_hidden": ("Forklaringen vises ikke, fordi nogle værdier er diskretioneret.",
                           "The explanation is not shown because some values are suppressed."),
    "trends": ("Udvikling over årene", "Trends over the years"),
    "trend_note": ("Stiplet linje: grænsen i de regler, der gælder for listeåret.",
                   "Dashed line: the threshold of the rules that apply in the list year."),
    "mix": ("Socialt mix: beboere, tilflyttere og fraflyttere", "Social mix: residents, in-movers and out-movers"),
    "mix_too_large": ("det sociale mix beregnes ikke ved opstart for så store data; start med --mix-dir og et "
                      "resultat af `boligmix mix --level area`.",
                      "the social mix is not computed at startup for data this large; start with --mix-dir and an "
                      "output of `boligmix mix --level area`."),
    "mix_none": ("Ingen data om socialt mix for området.", "No social-mix data for the area."),
    "group": ("Gruppe", "Group"),
    "persons": ("Personer", "Persons"),
    "modules": ("Resultater fra andre moduler", "Results of other modules"),
    "no_data": ("Ingen data", "No data"),
    "not_found": ("Siden findes ikke", "Page not found"),
    "not_found_area": ("Der er intet boligområde med id '{id}' i datasættet.",
                       "There is no housing area with id '{id}' in the dataset."),
    "not_found_muni": ("Der er ingen kommune med kode '{id}' i datasættet.",
                       "There is no municipality with code '{id}' in the dataset."),
    "back": ("Til oversigten", "Back to the overview"),
    "provenance": ("Oprindelse", "Provenance"),
    "suppressed_note": ("· = diskretioneret: antal under {n} (og værdier beregnet af dem) vises ikke.",
                        "· = suppressed: counts below {n} (and values computed from them) are not shown."),
    "language": ("English", "Dansk"),
    "skip": ("Gå til indhold", "Skip to content"),
    "areas_in_muni": ("Boligområder i kommunen", "Housing areas in the municipality"),
    "muni_counts": ("Områder på listerne i kommunen pr. år", "Areas on the lists in the municipality per year"),
    "no_areas": ("Ingen boligområder.", "No housing areas."),
    "no_map": ("uden omrids i datasættet (ikke på kortet)", "without an outline in the dataset (not on the map)"),
    "data_table": ("Tallene bag figuren", "The numbers behind the figure"),
    "rows_shown": ("{n} områder", "{n} areas"),
    "missing": ("–", "–"),
    # module results
    "mod_forecast": ("Prognose for listerne {year}", "Forecast of the lists {year}"),
    "mod_forecast_note": ("Sandsynlighed for at området er på listen næste år (boligmix monitor). Ingen antal: "
                          "vises som beregnet.", "Probability that the area is on the list next year (boligmix "
                          "monitor). No counts: shown as computed."),
    "probability": ("Sandsynlighed", "Probability"),
    "mod_warnings": ("Advarsler", "Warnings"),
    "mod_no_warnings": ("Ingen advarsler for området.", "No warnings for the area."),
    "mod_warnings_unchecked": ("Advarslernes værdier og tekster vises ikke: filen har ikke været gennem "
                               "diskretioneringen.", "The warnings' values and texts are not shown: the file did "
                               "not pass disclosure control."),
    "kind_approaching_threshold": ("Nærmer sig grænsen", "Approaching the threshold"),
    "kind_receiving_area": ("Modtageområde (vandsengseffekt)", "Receiving area (waterbed effect)"),
    "kind": ("Type", "Kind"), "indicator": ("Indikator", "Indicator"),
    "message": ("Besked", "Message"),
    "mod_sim_note": ("Simulerede listeår: andel af {n} replikationer på hver liste, og gennemsnit med 5-95 % "
                     "interval. Antal under grænsen og andele beregnet af dem er diskretioneret.",
                     "Simulated list years: share of {n} replications on each list, and means with the 5-95 % "
                     "interval. Counts below the limit and shares computed from them are suppressed."),
    "scenario": ("Scenarie", "Scenario"),
    "in_movers": ("Tilflyttere", "In-movers"), "out_movers": ("Fraflyttere", "Out-movers"),
    "interval": ("5-95 %", "5-95 %"),
    "mod_sim_fig": ("Uden for arbejde/uddannelse efter scenarie (gennemsnit, 5-95 %)",
                    "Outside work/education by scenario (mean, 5-95 %)"),
    "mod_share": ("Almene familieboligers andel (§ 168 a)", "Share of almene family dwellings (§ 168 a)"),
    "family_dwellings": ("Almene familieboliger", "Almene family dwellings"),
    "all_dwellings": ("Boliger i alt", "All dwellings"),
    "demolished": ("Nedrevet siden 2010", "Demolished since 2010"),
    "share": ("Andel", "Share"),
    "mod_share_note": ("Antal boliger, ikke personer: vises som beregnet.",
                       "Dwelling counts, not persons: shown as computed."),
    "mod_plan": ("Udviklingsplan: andel pr. 1. januar", "Development plan: share on 1 January"),
    "mod_plan_chosen": ("Valgte tiltag", "Chosen options"),
    "mod_rehousing": ("Genhusning: modtaget i området", "Rehousing: received in the area"),
    "run": ("Kørsel", "Run"),
    "received": ("Husstande modtaget", "Households received"),
    "received_outside_work": ("Heraf uden for arbejde", "Of which outside work"),
    "cap": ("Loft", "Cap"),
    "vacancies": ("Ledige boliger", "Vacancies"),
    "mod_evaluate_link": ("Effektestimater (boligmix evaluate) står på siden Resultater.",
                          "Effect estimates (boligmix evaluate) are on the Results page."),
    "results": ("Resultater", "Results"),
    "results_intro": ("Resultater af simulering og evaluering for hele datasættet.",
                      "Results of simulation and evaluation for the whole dataset."),
    "mod_summary": ("Hele landet/datasættet pr. år (gennemsnit og 5-95 %)", "Whole dataset per year (mean and 5-95 %)"),
    "measure": ("Mål", "Measure"), "mean": ("Gennemsnit", "Mean"),
    "mod_estimates": ("Effektestimater", "Effect estimates"),
    "term": ("Led", "Term"), "estimate": ("Estimat", "Estimate"), "ci": ("95 %-interval", "95 % interval"),
    "n_obs": ("Enhed-år", "Unit-years"),
    "mod_estimates_note": ("Regressionsestimater; et tomt felt er diskretioneret (for få beboere i de behandlede "
                           "enheder). Se før-trend-testen før de tolkes.",
                           "Regression estimates; an empty cell is suppressed (too few residents in the treated "
                           "units). Look at the pre-trend test before reading them."),
    # letting pages
    "letting": ("Udlejning", "Letting"),
    "letting_unauthenticated": ("Log ind med din API-nøgle (token) for at se udlejningen.",
                                "Sign in with your API token to see the letting."),
    "letting_forbidden": ("Din rolle må ikke se denne side.", "Your role may not open this page."),
    "letting_csrf": ("Formularen kunne ikke godkendes: den kom fra et andet websted eller er for gammel. Prøv igen "
                     "fra formularen herunder.",
                     "The form was refused: it came from another site or is out of date. Try again with the form "
                     "below."),
    "token": ("API-nøgle (token)", "API token"), "sign_in": ("Log ind", "Sign in"), "sign_out": ("Log ud", "Sign out"),
    "signed_in_as": ("Logget ind som {name} (rolle: {role}).", "Signed in as {name} (role: {role})."),
    "letting_note_scope": ("Afdelingerne i din organisations eller kommunes område, med nøjagtige antal.",
                           "The departments in your organisation's or municipality's scope, exact counts."),
    "letting_note_analyst": ("Alle afdelinger samlet; antal udlejninger under grænsen er diskretioneret. "
                             "Ingen oplysninger om enkeltpersoner.", "All departments in aggregate; letting "
                             "counts below the limit are suppressed. No data on individuals."),
    "letting_departments": ("Ledige boliger og udlejninger pr. afdeling", "Vacancies and lettings per department"),
    "organisation": ("Boligorganisation", "Housing organisation"), "department": ("Afdeling", "Department"),
    "vacancies_open": ("Ledige (åbne)", "Vacant (open)"), "vacancies_let": ("Udlejet", "Let"),
    "vacancies_withdrawn": ("Trukket tilbage", "Withdrawn"), "lettings": ("Lejekontrakter", "Leases"),
    "letting_decisions": ("Afgørelser de sidste 365 dage (samlet)", "Decisions in the last 365 days (aggregate)"),
    "channel": ("Kanal", "Channel"), "outcome": ("Udfald", "Outcome"), "rule": ("Regel", "Rule"),
    "decisions": ("Afgørelser", "Decisions"), "applicants": ("Ansøgere", "Applicants"),
}

MODULE_TEXT: dict[str, tuple[str, str]] = {
    "monitor": ("Overvågning: advarsler og prognoser", "Monitoring: warnings and forecasts"),
    "simulate": ("Simulering: scenarier", "Simulation: scenarios"),
    "plan": ("Udviklingsplaner og genhusning", "Development plans and rehousing"),
    "evaluate": ("Evalueringer", "Evaluations"),
}


GROUP_TEXT = {"stock": ("Beboere 1. januar", "Residents 1 January"), "in": ("Tilflyttere", "In-movers"),
              "out": ("Fraflyttere", "Out-movers")}
FACTOR_TEXT = {"share_low_edu": ("Kun grundskole", "Only primary education"),
               "share_employed": ("I beskæftigelse", "In employment"),
               "share_nonwestern": ("Ikke-vestlig oprindelse", "Non-Western origin"),
               "share_low_income": ("Laveste indkomstkvartil", "Lowest income quartile")}
INDICATOR_TEXT = {
    "residents": ("Beboere", "Residents"),
    "pct_non_western": ("Ikke-vestlig oprindelse", "Non-Western origin"),
    "pct_outside_work_edu": ("Uden for arbejde/uddannelse (18-64 år)", "Outside work/education (18-64)"),
    "pct_convicted": ("Dømte (18 år+)", "Convicted (18+)"),
    "conviction_ratio": ("Dømte ift. landsgennemsnittet", "Convicted vs. national average"),
    "pct_basic_education": ("Kun grundskole (30-59 år)", "Basic education only (30-59)"),
    "income_pct_of_region": ("Indkomst ift. regionen", "Income vs. the region"),
}
UNIT_TEXT = {
    "residents": ("antal", "number"), "pct_non_western": ("%", "%"), "pct_outside_work_edu": ("%", "%"),
    "pct_convicted": ("%", "%"), "conviction_ratio": ("gange landsgns.", "times national avg."),
    "pct_basic_education": ("%", "%"), "income_pct_of_region": ("% af regionens gns.", "% of regional avg."),
}
INDICATOR_DIGITS = {"residents": 0, "conviction_ratio": 2}


def lang_of(value: str | None) -> str:
    """'en' when asked for, otherwise Danish (whatever the browser says)."""
    return "en" if value == "en" else "da"


def word(key: str, lang: str, **kw: Any) -> str:
    text = WORDS[key][0 if lang == "da" else 1]
    return text.format(**kw) if kw else text


def pick(pair: tuple[str, str], lang: str) -> str:
    return pair[0 if lang == "da" else 1]


def status_styles(lang: str) -> dict[str, Style]:
    return {k: Style(fill, pattern, pick(STATUS_TEXT[k], lang)) for k, (fill, pattern) in STATUS_STYLE.items()}


def num(value: Any, lang: str, digits: int = 1) -> str:
    """A number in the language's format (Danish 1.437,5); '–' for a missing value."""
    if isinstance(value, bool):
        return word("yes" if value else "no", lang)
    return fmt_number(value, 0 if isinstance(value, int) else digits, lang, missing="–")  # type: ignore[arg-type]


def pct(value: Any, lang: str, digits: int = 1) -> str:
    """A share 0-1 as per cent (Danish 12,5 %)."""
    return fmt_percent(value, digits, lang, ratio=True, missing="–")  # type: ignore[arg-type]
