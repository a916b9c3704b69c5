"""Protect the mix tables, plot them and write Parquet, CSV, HTML, Excel and provenance files.

Everything written passes through `boligmix.report.disclosure.protect`; plots are drawn from the
protected (published) values only.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from boligmix.mix.composition import COUNT_NAMES, QUARTILES, SHARE_NAMES
from boligmix.mix.decomposition import COMPONENTS
from boligmix.mix.factors import FACTORS
from boligmix.mix.flows import INTERNAL, NOT_MOVES, TOTAL
from boligmix.mix.pipeline import MixResult
from boligmix.report import (
    Additive,
    DisclosurePolicy,
    GroupTotal,
    ProtectedTable,
    Provenance,
    Report,
    Share,
    Text,
    ValueSum,
    exempt,
    protect,
    write_excel,
    write_html,
)
from boligmix.report.axes import year_axis
from boligmix.report._files import staged_files
from boligmix.report.document import per_language

FACTOR_TEXT = {
    "low_edu": Text("Kun grundskole", "Only primary education"),
    "employed": Text("I beskæftigelse", "In employment"),
    "nonwestern": Text("Ikke-vestlig oprindelse", "Non-Western origin"),
    "low_income": Text("Laveste indkomstkvartil", "Lowest income quartile"),
}
GROUP_TEXT = {"stock": Text("Beboere 1. januar", "Residents 1 January"),
              "in": Text("Tilflyttere", "In-movers"), "out": Text("Fraflyttere", "Out-movers")}
LEVEL_TEXT = {"area": Text("boligområde", "area"), "department": Text("afdeling", "department"),
              "municipality": Text("kommune (almene boliger)", "municipality (almene dwellings)"),
              "organisation": Text("boligorganisation", "housing organisation")}

_COUNTS = ["n", "n_edu_pop", "n_low_edu", "n_emp_pop", "n_employed", "n_nonwestern", "n_inc_pop", *QUARTILES]
_TOTALS = [Additive(["n_low_edu"], "n_edu_pop", remainder=True),
           Additive(["n_employed"], "n_emp_pop", remainder=True),
           Additive(["n_nonwestern"], "n", remainder=True),
           Additive(list(QUARTILES), "n_inc_pop")]


def _composition_shares(frame: pl.DataFrame) -> list[Share]:
    out = []
    for f in FACTORS:
        num, den = COUNT_NAMES[f]
        for col in (SHARE_NAMES[f], f"ratio_mun_{f}", f"ratio_almen_{f}"):
            if col in frame.columns:
                out.append(Share(col, den, num))
    return out


def protect_tables(result: MixResult, policy: DisclosurePolicy) -> dict[str, ProtectedTable]:
    """Every mix table under disclosure control (see docs/disclosure.md for the rules)."""
    t = result.tables
    out: dict[str, ProtectedTable] = {}
    for name in ("composition", "pooled", "reference"):
        out[name] = protect(t[name], counts=_COUNTS, totals=_TOTALS, shares=_composition_shares(t[name]),
                            policy=policy, name=name)
    out["flows"] = protect(t["flows"], counts=["n"], policy=policy, name="flows", totals=[
        GroupTotal("n", "category", TOTAL, by=["unit_id", "year", "direction"], exclude=[*NOT_MOVES, *INTERNAL])])
    out["internal_almen"] = protect(
        t["internal_almen"], counts=["n_moves", "n_internal_almen"], policy=policy, name="internal_almen",
        totals=[Additive(["n_internal_almen"], "n_moves", remainder=True)],
        shares=[Share("share_internal_almen", "n_moves", "n_internal_almen")])
    out["national_moves"] = protect(
        t["national_moves"], counts=["n_moves", "n_into_almen", "n_almen_to_other_almen"], policy=policy,
        name="national_moves",
        totals=[Additive(["n_into_almen"], "n_moves", remainder=True),
                Additive(["n_almen_to_other_almen"], "n_into_almen", remainder=True)],
        shares=[Share("share_of_almen_in_moves", "n_into_almen", "n_almen_to_other_almen")])
    for name in ("decomposition", "pooled_decomposition"):
        frame = t[name]
        groups = {"stayers": "n_stayers", "in_movers": "n_in_movers", "out_movers": "n_out_movers",
                  "other_entrants": "n_other_entrants", "other_leavers": "n_other_leavers"}
        out[name] = protect(
            frame, counts=["n_from", "n_to", *groups.values()], policy=policy, name=name,
            totals=[Additive(["n_stayers", "n_out_movers", "n_other_leavers"], "n_from"),
                    Additive(["n_stayers", "n_in_movers", "n_other_entrants"], "n_to")],
            shares=[Share("share_from", "n_from"), Share("share_to", "n_to"), Share("change", ("n_from", "n_to")),
                    *[Share(c, groups[c]) for c in COMPONENTS]],
            value_sums=[ValueSum(list(COMPONENTS), "change")])
    out["segregation"] = protect(
        t["segregation"], counts=["n_trait", "n_pop"], policy=policy, name="segregation",
        totals=[Additive(["n_trait"], "n_pop", remainder=True)],
        shares=[Share("value", "n_pop", "n_trait")])
    cut = t["income_cutpoints"]
    out["income_cutpoints"] = protect(cut, counts=["n_households"], policy=policy, name="income_cutpoints",
                                      shares=[Share(q, "n_households") for q in ("q25", "q50", "q75")])
    return out


def provenance(result: MixResult, dataset: str | None, policy: DisclosurePolicy, command: str) -> Provenance:
    return Provenance(
        data_vintage=result.vintage, seed=result.seed, dataset=dataset, command=command,
        rule_versions={"mix_settings": result.settings.version, "disclosure_policy": policy.version},
        settings={"level": result.level, "years": f"{result.years[0]}-{result.years[-1]}",
                  "listed_areas_given": result.listed_given, **_flat_settings(result.settings.model_dump())},
    )


def _flat_settings(d: dict, prefix: str = "") -> dict[str, object]:
    out: dict[str, object] = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flat_settings(v, f"{prefix}{k}."))
        elif k != "version":
            out[f"{prefix}{k}"] = v
    return out


def build_report(result: MixResult, tables: dict[str, ProtectedTable], prov: Provenance) -> Report:
    """The bilingual HTML/Excel report of the mix results."""
    lvl = LEVEL_TEXT[result.level]
    y0, y1 = result.years[0], result.years[-1]
    report = Report(
        Text(f"Socialt mix: beboere, tilflyttere og fraflyttere {y0}-{y1}",
             f"Social mix: residents, in-movers and out-movers {y0}-{y1}"),
        provenance=prov,
        intro=Text(
            f"Sammensætningen af beboerne 1. januar og af til- og fraflytterne i årets løb, målt på fire "
            f"forhold (uddannelse, beskæftigelse, ikke-vestlig oprindelse, husstandsindkomst), pr. {lvl.da}. "
            f"Definitionerne står i afsnittet Definitioner og i docs/mix.md.",
            f"The composition of residents at 1 January and of in- and out-movers during the year, measured "
            f"on four factors (education, employment, non-Western origin, household income), per {lvl.en}. "
            f"The definitions are in the Definitions section and docs/mix.md."),
    )
    return add_mix_sections(report, result, tables)


def add_mix_sections(report: Report, result: MixResult, tables: dict[str, ProtectedTable], *,
                     prefix: str = "") -> Report:
    """Add the mix sections to `report` (e.g. a combined demo report); `prefix` is put before every
    table name so names stay unique next to other modules' tables."""
    lvl = LEVEL_TEXT[result.level]
    _definitions_section(report, result, prefix)
    pooled = tables["pooled"]
    sec = report.section(Text("Sammensætning over tid", "Composition over time"), Text(
        f"Alle enheder på niveauet ({lvl.da}) taget under ét: beboere 1. januar sammenlignet med årets til- "
        f"og fraflyttere. Flytninger mellem to enheder på niveauet tæller ikke.",
        f"All units of the level ({lvl.en}) taken together: residents at 1 January compared with the year's "
        f"in- and out-movers. Moves between two units of the level do not count."))
    sec.figure(per_language(_composition_figure, pooled.frame, "all"),
               Text("Andele for beboere, tilflyttere og fraflyttere", "Shares for residents, in-movers and out-movers"))
    if result.listed_given and "listed" in pooled.frame.get_column("pool").to_list():
        sec.text(Text("Områder på listen (det givne år) sammenlignet med de øvrige.",
                      "Areas on the list (in the given year) compared with the others."))
        sec.figure(per_language(_listed_figure, pooled.frame), Text("Tilflyttere og beboere i områder på og uden for listen",
                                                      "In-movers and residents in listed and other areas"))
    sec.table(pooled, Text("Sammensætning, alle enheder under ét", "Composition, all units together"),
              name=f"{prefix}pooled", formats=_share_formats(pooled.frame))
    seg = tables["segregation"]
    sec = report.section(Text("Segregering", "Segregation"), Text(
        f"Hvor ujævnt gruppen med hvert forhold er fordelt på enhederne ({lvl.da}): dissimilaritetsindeks "
        f"(andel der skulle flytte for en jævn fordeling) og isolationsindeks (gruppens andel i det typiske "
        f"gruppemedlems enhed). Beregnet med boligmix.mix.segregation.",
        f"How unevenly the group with each factor is spread over the units ({lvl.en}): the dissimilarity "
        f"index (share that would have to move for an even spread) and the isolation index (the group's "
        f"share in the typical member's unit). Computed with boligmix.mix.segregation."))
    sec.figure(per_language(_segregation_figure, seg.frame), Text("Dissimilaritetsindeks for beboere 1. januar og tilflyttere",
                                                    "Dissimilarity index for residents at 1 January and in-movers"))
    sec.table(seg, Text("Segregeringsindeks pr. forhold, år og gruppe", "Segregation indices per factor, year and group"),
              name=f"{prefix}segregation", formats={"value": ".3f"})
    sec = report.section(Text(f"Sammensætning pr. {lvl.da}", f"Composition per {lvl.en}"), Text(
        "Forhold = andelen delt med samme andel for hele kommunens beboere (ratio_mun) eller for alle "
        "beboere i almene boliger i landet (ratio_almen) 1. januar samme år.",
        "Ratio = the share divided by the same share for all residents of the municipality (ratio_mun) or "
        "for all residents of almene dwellings in Denmark (ratio_almen) at 1 January of the same year."))
    units = tables["composition"].frame.get_column("unit_id").unique()
    if 1 < units.len() <= MAX_UNITS_IN_FIGURE:
        sec.figure(per_language(_units_figure, tables["composition"].frame),
                   Text(f"Beboere 1. januar pr. {lvl.da} (undertrykte værdier vises ikke)",
                        f"Residents at 1 January per {lvl.en} (suppressed values are not shown)"))
    sec.table(tables["composition"], Text(f"Sammensætning pr. {lvl.da}, år og gruppe",
                                          f"Composition per {lvl.en}, year and group"),
              name=f"{prefix}composition", formats=_share_formats(tables["composition"].frame))
    sec.table(tables["reference"], Text("Sammenligningsgrundlag: kommuner og alle almene boliger",
                                        "References: municipalities and all almene dwellings"),
              name=f"{prefix}reference", formats=_share_formats(tables["reference"].frame))
    sec = report.section(Text("Hvor kommer tilflytterne fra, hvor går fraflytterne hen?",
                              "Where in-movers come from and where out-movers go"), Text(
        "Flytningens anden ende: forrige bolig for tilflyttere, næste bolig for fraflyttere. Fødsler, dødsfald "
        "og flytninger inden for enheden vises, men tæller ikke med i total.",
        "The move's other end: the previous dwelling for in-movers, the next for out-movers. Births, deaths "
        "and moves inside the unit are shown but not counted in the total."))
    sec.figure(per_language(_flows_figure, tables["flows"].frame), Text("Tilflytternes oprindelse pr. år (alle enheder)",
                                                          "In-movers' origin per year (all units)"))
    sec.table(tables["national_moves"], Text("Flytninger ind i almene boliger fra en anden almen afdeling (hele landet)",
                                             "Moves into almene dwellings from another almen department (Denmark)"),
              name=f"{prefix}national_moves", formats={"share_of_almen_in_moves": ".1%"})
    sec.table(tables["internal_almen"], Text("Andel af flytninger til/fra en anden almen afdeling",
                                             "Share of moves to/from another almen department"),
              name=f"{prefix}internal_almen", formats={"share_internal_almen": ".1%"})
    sec.table(tables["flows"], Text("Flytninger efter oprindelse/destination", "Moves by origin/destination"),
              name=f"{prefix}flows")
    sec = report.section(Text("Dekomponering af ændringer", "Decomposition of changes"), Text(
        "Ændringen i en andel fra 1. januar år Y til år Y+1 (og fra første til sidste år) fordelt på: "
        "blivende beboeres egen ændring, tilflyttere, fraflyttere og andre (fødte, døde, ind/ud af "
        "aldersgruppen). Bidragene summerer til ændringen.",
        "The change in a share from 1 January of year Y to year Y+1 (and from the first to the last year) "
        "split into: stayers' own change, in-movers, out-movers and others (births, deaths, ageing into/out "
        "of the age band). The contributions add up to the change."))
    sec.figure(per_language(_decomposition_figure, tables["pooled_decomposition"].frame),
               Text("Bidrag til ændringen, alle enheder under ét (procentpoint)",
                    "Contributions to the change, all units together (percentage points)"))
    dec_formats = {c: "+.4f" for c in ("change", *COMPONENTS)} | {"share_from": ".1%", "share_to": ".1%"}
    sec.table(tables["pooled_decomposition"], Text("Dekomponering, alle enheder under ét", "Decomposition, all units"),
              name=f"{prefix}pooled_decomposition", formats=dec_formats)
    sec.table(tables["decomposition"], Text(f"Dekomponering pr. {lvl.da}", f"Decomposition per {lvl.en}"),
              name=f"{prefix}decomposition", formats=dec_formats)
    sec.table(tables["income_cutpoints"], Text("Landets kvartilgrænser for ækvivaleret husstandsindkomst (kr.)",
                                               "National quartile cut points of equivalised household income (DKK)"),
              name=f"{prefix}income_cutpoints", formats={q: ",.0f" for q in ("q25", "q50", "q75")})
    return report


def _definitions_section(report: Report, result: MixResult, prefix: str = "") -> None:
    s = result.settings
    rows = [
        ("low_edu", f"{s.education.age_min}-{s.education.age_max}",
         f"highest education in {list(s.education.low_levels)}; unknown counts as low: {s.education.unknown_as_low}; "
         f"sources counted: {list(s.education.counted_sources)}"),
        ("employed", f"{s.employment.age_min}-{s.employment.age_max}",
         f"rule {s.employment.rule}" + (f", employment FTE >= {s.employment.min_fte}"
                                        if s.employment.rule == "fte_threshold" else "")),
        ("nonwestern", "all", "immigrant or descendant, country non-Western in nomenclature "
         f"{s.non_western.country_nomenclature or 'newest'}"),
        ("low_income", "all", f"household in the national lowest quartile; equivalised: {s.income.equivalise}"),
    ]
    frame = pl.DataFrame(rows, schema=["factor", "ages", "definition"], orient="row")
    sec = report.section(Text("Definitioner", "Definitions"), Text(
        "Beboere 1. januar og fraflyttere måles på registeråret før 1. januar; tilflyttere på tilflytningsåret "
        "(som de indgår i beboerne 1. januar året efter). Fødsler er ikke tilflytninger, dødsfald ikke fraflytninger.",
        "Residents at 1 January and out-movers are measured on the register year before 1 January; in-movers on "
        "the year they move in (as they enter the residents of the next 1 January). Births are not in-moves, "
        "deaths not out-moves."))
    sec.table(exempt(frame, reason="definitions, no person data"), Text("Definitioner", "Definitions"),
              name=f"{prefix}definitions")


def _share_formats(frame: pl.DataFrame) -> dict[str, str]:
    return {c: (".1%" if c.startswith("share_") else ".2f") for c in frame.columns
            if c.startswith(("share_", "ratio_"))}


_GROUP_STYLE = {"stock": "solid", "in": "dash", "out": "dot"}
GROUP_COLOUR = {"stock": "#2471a3", "in": "#27ae60", "out": "#c0392b"}
"""One colour per group (residents, in-movers, out-movers) in every panel and figure."""
FACTOR_COLOUR = {"low_edu": "#8e44ad", "employed": "#2471a3", "nonwestern": "#d35400", "low_income": "#16a085"}
COMPONENT_COLOUR = {"stayers": "#7f8c8d", "in_movers": "#27ae60", "out_movers": "#c0392b",
                    "other_entrants": "#f1c40f", "other_leavers": "#8e44ad"}
FLOW_TEXT = {
    "abroad": Text("fra udlandet", "from abroad"), "unknown": Text("ukendt", "unknown"),
    "listed_area": Text("fra et listeområde", "from a listed area"),
    "other_municipality": Text("fra en anden kommune", "from another municipality"),
    "other_almen": Text("fra en anden almen bolig", "from another almen dwelling"),
    "private_rental": Text("fra privat udlejning", "from private rental"),
    "cooperative": Text("fra andelsbolig", "from a cooperative dwelling"),
    "owner_occupied": Text("fra ejerbolig", "from owner-occupied housing"),
    "other_tenure": Text("fra anden boligform", "from another tenure"),
}
"""Danish and English labels of the flow categories shown in the flows figure."""
POOL_TEXT = {"listed": Text("på listen", "listed"), "not_listed": Text("ikke på listen", "not listed")}
COMPONENT_TEXT = {"stayers": Text("blivende", "stayers"), "in_movers": Text("tilflyttere", "in-movers"),
                  "out_movers": Text("fraflyttere", "out-movers"),
                  "other_entrants": Text("andre tilgange", "other entrants"),
                  "other_leavers": Text("andre afgange", "other leavers")}



def _composition_figure(frame: pl.DataFrame, pool: str, lang: str) -> go.Figure:
    fig = make_subplots(rows=2, cols=2, subplot_titles=[FACTOR_TEXT[f].pick(lang) for f in FACTORS])
    data = frame.filter(pl.col("pool") == pool)
    for k, f in enumerate(FACTORS):
        r, c = divmod(k, 2)
        for g in ("stock", "in", "out"):
            sub = data.filter(pl.col("group") == g).sort("year")
            fig.add_trace(go.Scatter(x=sub["year"].to_list(), y=sub[SHARE_NAMES[f]].to_list(), mode="lines+markers",
                                     name=GROUP_TEXT[g].pick(lang), legendgroup=g, showlegend=k == 0,
                                     line={"dash": _GROUP_STYLE[g], "color": GROUP_COLOUR[g]}),
                          row=r + 1, col=c + 1)
        fig.update_yaxes(tickformat=".0%", row=r + 1, col=c + 1)
    fig.update_layout(height=620, margin={"t": 60, "b": 40})
    year_axis(fig, data.get_column("year").to_list())
    return fig


MAX_UNITS_IN_FIGURE = 200
"""Above this many units the per-unit figure (one unit at a time, chosen in a drop-down) is left out
(the table and files have them all)."""


def _units_figure(frame: pl.DataFrame, lang: str) -> go.Figure:
    """Residents' shares per unit: one unit at a time, chosen in a drop-down (26 lines at once are
    unreadable); the same colour per factor in every panel."""
    fig = make_subplots(rows=2, cols=2, subplot_titles=[FACTOR_TEXT[f].pick(lang) for f in FACTORS])
    stock = frame.filter(pl.col("group") == "stock").sort("unit_id", "year")
    units = list(stock.group_by("unit_id", maintain_order=True))
    names = []
    for i, (unit, sub) in enumerate(units):
        names.append(str(sub.get_column("unit_name")[0] or unit[0]))
        for k, f in enumerate(FACTORS):
            r, c = divmod(k, 2)
            fig.add_trace(go.Scatter(x=sub["year"].to_list(), y=sub[SHARE_NAMES[f]].to_list(), mode="lines+markers",
                                     name=names[-1], showlegend=False, visible=i == 0,
                                     line={"color": FACTOR_COLOUR[f]}), row=r + 1, col=c + 1)
    for k in range(len(FACTORS)):
        r, c = divmod(k, 2)
        fig.update_yaxes(tickformat=".0%", row=r + 1, col=c + 1)
    per = len(FACTORS)
    buttons = [{"label": name, "method": "update",
                "args": [{"visible": [j // per == i for j in range(per * len(units))]},
                         {"title": {"text": name}}]} for i, name in enumerate(names)]
    fig.update_layout(height=680, margin={"t": 90, "b": 40}, title={"text": names[0] if names else ""},
                      updatemenus=[{"buttons": buttons, "direction": "down", "x": 0, "xanchor": "left", "y": 1.18,
                                    "yanchor": "top", "showactive": True}] if len(names) > 1 else [])
    year_axis(fig, stock.get_column("year").to_list())
    return fig


def _listed_figure(frame: pl.DataFrame, lang: str) -> go.Figure:
    fig = make_subplots(rows=2, cols=2, subplot_titles=[FACTOR_TEXT[f].pick(lang) for f in FACTORS])
    for k, f in enumerate(FACTORS):
        r, c = divmod(k, 2)
        for pool in ("listed", "not_listed"):
            for g in ("stock", "in"):
                sub = frame.filter((pl.col("pool") == pool) & (pl.col("group") == g)).sort("year")
                fig.add_trace(go.Scatter(
                    x=sub["year"].to_list(), y=sub[SHARE_NAMES[f]].to_list(), mode="lines+markers",
                    name=f"{POOL_TEXT[pool].pick(lang)}: {GROUP_TEXT[g].pick(lang)}",
                    legendgroup=f"{pool}{g}", showlegend=k == 0,
                    line={"dash": _GROUP_STYLE[g], "color": "#c0392b" if pool == "listed" else "#2471a3"}),
                    row=r + 1, col=c + 1)
        fig.update_yaxes(tickformat=".0%", row=r + 1, col=c + 1)
    fig.update_layout(height=620, margin={"t": 60, "b": 40})
    year_axis(fig, frame.get_column("year").to_list())
    return fig


def _segregation_figure(frame: pl.DataFrame, lang: str) -> go.Figure:
    fig = go.Figure()
    data = frame.filter(pl.col("index") == "dissimilarity")
    for f in FACTORS:
        for g in ("stock", "in"):
            sub = data.filter((pl.col("factor") == f) & (pl.col("group") == g)).sort("year")
            fig.add_trace(go.Scatter(x=sub["year"].to_list(), y=sub["value"].to_list(), mode="lines+markers",
                                     name=f"{FACTOR_TEXT[f].pick(lang)}: {GROUP_TEXT[g].pick(lang)}",
                                     line={"dash": _GROUP_STYLE[g], "color": FACTOR_COLOUR[f]}))
    fig.update_layout(height=420, yaxis_title=Text("Dissimilaritetsindeks (D)", "Dissimilarity index (D)").pick(lang),
                      yaxis_range=[0, 1])
    year_axis(fig, data.get_column("year").to_list())
    return fig


def _flows_figure(frame: pl.DataFrame, lang: str) -> go.Figure:
    moves = frame.filter((pl.col("direction") == "in") & ~pl.col("category").is_in([*NOT_MOVES, *INTERNAL, TOTAL]))
    agg = moves.group_by("year", "category").agg(pl.col("n").sum()).sort("year")
    fig = go.Figure()
    for cat in agg.get_column("category").unique(maintain_order=True).to_list():
        sub = agg.filter(pl.col("category") == cat)
        fig.add_trace(go.Bar(x=sub["year"].to_list(), y=sub["n"].to_list(),
                             name=FLOW_TEXT[cat].pick(lang) if cat in FLOW_TEXT else cat))
    fig.update_layout(barmode="stack", height=420,
                      yaxis_title=Text("Antal (kun publicerede celler)", "n (published cells only)").pick(lang))
    year_axis(fig, agg.get_column("year").to_list())
    return fig


def _decomposition_figure(frame: pl.DataFrame, lang: str) -> go.Figure:
    fig = make_subplots(rows=2, cols=2, subplot_titles=[FACTOR_TEXT[f].pick(lang) for f in FACTORS])
    for k, f in enumerate(FACTORS):
        r, c = divmod(k, 2)
        sub = frame.filter((pl.col("factor") == f) & (pl.col("year_to") == pl.col("year_from") + 1)).sort("year_from")
        x = [f"{a}-{b}" for a, b in zip(sub["year_from"].to_list(), sub["year_to"].to_list())]
        for comp in COMPONENTS:
            y = [None if v is None else 100 * v for v in sub[comp].to_list()]
            fig.add_trace(go.Bar(x=x, y=y, name=COMPONENT_TEXT[comp].pick(lang), legendgroup=comp, showlegend=k == 0,
                                 marker_color=COMPONENT_COLOUR[comp]), row=r + 1, col=c + 1)
        fig.add_trace(go.Scatter(x=x, y=[None if v is None else 100 * v for v in sub["change"].to_list()],
                                 mode="markers", marker={"symbol": "diamond", "color": "black"},
                                 name=Text("ændring", "change").pick(lang),
                                 legendgroup="change", showlegend=k == 0), row=r + 1, col=c + 1)
    fig.update_layout(barmode="relative", height=620, margin={"t": 60, "b": 40})
    return fig


def write_outputs(result: MixResult, out_dir: str | os.PathLike[str], *, policy: DisclosurePolicy | None = None,
                  dataset: str | None = None, command: str = "boligmix mix") -> dict[str, str]:
    """Protect and write everything to `out_dir` (all files are written to a temporary directory first and
    moved in only when every one succeeded; other files in `out_dir` are left alone):
    `<table>.parquet` and `<table>.csv` per table, `report.html`, `report.xlsx`, `provenance.json`."""
    policy = policy or DisclosurePolicy.load()
    tables = protect_tables(result, policy)
    prov = provenance(result, dataset, policy, command)
    report = build_report(result, tables, prov)
    target = Path(out_dir)
    with staged_files(target, "mix") as staging:
        for name, table in tables.items():
            table.frame.write_parquet(staging / f"{name}.parquet")
            table.frame.write_csv(staging / f"{name}.csv")
        write_html(report, staging / "report.html")
        write_excel(report, staging / "report.xlsx")
        payload = {"provenance": prov.model_dump(), "disclosure": policy.model_dump(),
                   "suppressed": {n: t.summary() for n, t in tables.items()},
                   "tables": {n: t.frame.height for n, t in tables.items()}}
        (staging / "provenance.json").write_text(json.dumps(payload, indent=2, ensure_ascii=False, default=str),
                                                 encoding="utf-8")
    files = {n: str(target / f"{n}.parquet") for n in tables}
    files.update(report_html=str(target / "report.html"), report_xlsx=str(target / "report.xlsx"),
                 provenance=str(target / "provenance.json"))
    return files
