"""The monitor's report.html: a traffic-light overview, trend plots per unit, the warnings, the
forecast and the backtest. Built from the published (protected) tables only, through
`boligmix.report` (plotly bundled offline, Danish first; `lang="en"` opens it in English).
"""

from __future__ import annotations

import os
from pathlib import Path

import plotly.graph_objects as go
import polars as pl

from boligmix.monitor.backtest import summary
from boligmix.monitor.pipeline import MonitorResult
from boligmix.report import DisclosurePolicy, Provenance, Report, Share, Text, exempt, protect
from boligmix.report.document import per_language
from boligmix.report.html import render_html
from boligmix.report._files import write_text_atomic

LIGHTS = {"red": Text("rød", "red"), "orange": Text("orange", "orange"), "yellow": Text("gul", "yellow"),
          "green": Text("grøn", "green")}
COLOURS = {"red": "#c0392b", "orange": "#e67e22", "yellow": "#f1c40f", "green": "#27ae60"}
LEVEL_TEXT = {"area": Text("boligområde", "area"), "department": Text("afdeling", "department"),
              "organisation": Text("boligorganisation", "housing organisation"),
              "municipality": Text("kommune", "municipality")}
MAX_TREND_UNITS = 60


def _light(result: MonitorResult, categories: pl.DataFrame, warned: set[str]) -> pl.DataFrame:
    if result.iset.kind == "points":
        colours = {c.id: c.colour for c in result.iset.spec.categories}
        light = pl.col("category").replace_strict(colours, default="green")
    else:
        light = (pl.when(pl.col("category").is_in(["omdannelse", "parallelsamfund", "udsat"])).then(pl.lit("red"))
                 .when(pl.col("category") == "forebyggelse").then(pl.lit("orange"))
                 .when(pl.col("category").str.ends_with("_below_min_residents")
                       | pl.col("unit_id").is_in(sorted(warned))).then(pl.lit("yellow"))
                 .otherwise(pl.lit("green")))
    return categories.with_columns(light.alias("light"))


def build_report(result: MonitorResult, status: pl.DataFrame, warnings: pl.DataFrame, forecast: pl.DataFrame,
                 backtest: pl.DataFrame, policy: DisclosurePolicy, dataset: str | None, command: str) -> Report:
    y, lvl, iset = result.year, result.settings.level, result.iset
    prov = Provenance(data_vintage=result.provenance["data_vintage"], seed=result.provenance["seed"], dataset=dataset,
                      command=command, rule_versions={"monitor_set": f"{iset.id} sha256:{iset.sha256[:12]}",
                                                      "lists": ", ".join(result.provenance["rule_versions"]),
                                                      "disclosure_policy": policy.version},
                      settings={k: v for k, v in result.settings.__dict__.items() if v is not None})
    report = Report(Text(f"Overvågning og tidlig varsling {y}: {iset.spec.label_da}",
                         f"Monitoring and early warning {y}: {iset.spec.label_en}"), provenance=prov,
                    intro=Text(
                        f"Status for hver {LEVEL_TEXT[lvl].da} på listeåret {y} (beboere 1. januar {y}, registerår til "
                        f"og med {y - 1}), udvikling over årene, varsler og en prognose for listerne 1. december "
                        f"{y + 1} med sandsynligheder. Intet efter 1. januar {y} er brugt.",
                        f"Status of every {LEVEL_TEXT[lvl].en} in list year {y} (residents on 1 January {y}, register "
                        f"years up to {y - 1}), the trend over the years, warnings and a forecast of the lists of "
                        f"1 December {y + 1} with probabilities. Nothing after 1 January {y} is used."))
    names = result.status.names
    latest = result.status.categories.filter(pl.col("year") == y).select("unit_id", "category")
    warned = set(warnings.get_column("unit_id").to_list()) if warnings.height else set()
    residents = result.status.indicators.filter(pl.col("year") == y).select("unit_id", pl.col("residents")
                                                                              .cast(pl.Int64))
    n_warn = (warnings.group_by("unit_id").agg(pl.len().cast(pl.Int64).alias("warnings")) if warnings.height
              else pl.DataFrame(schema={"unit_id": pl.String, "warnings": pl.Int64}))
    overview = (_light(result, latest, warned).join(names, on="unit_id", how="left")
                .join(residents, on="unit_id", how="left").join(n_warn, on="unit_id", how="left")
                .with_columns(pl.col("warnings").fill_null(0), pl.col("residents").fill_null(0))
                .with_columns(pl.col("light").replace_strict({k: v.da for k, v in LIGHTS.items()}).alias("lys"),
                              pl.col("light").replace_strict({k: v.en for k, v in LIGHTS.items()}).alias("light_en"))
                .sort(pl.col("light").replace_strict({"red": 0, "orange": 1, "yellow": 2, "green": 3}), "unit_id"))
    table = protect(overview.select("unit_id", "unit_name", "residents", "category", "lys", "light_en", "warnings"),
                    counts=["residents"], shares=[Share("category", "residents"), Share("lys", "residents"),
                                                  Share("light_en", "residents")], policy=policy, name="overview")
    sec = report.section(Text("Trafiklys", "Traffic lights"), Text(
        "Rød: på listen over udsatte boligområder (eller parallelsamfund/omdannelse); orange: forebyggelsesområde; "
        "gul: opfylder kriterierne under 1.000 beboere eller har et varsel; grøn: ingen af delene. For Aarhus-modellen "
        "kategoriens farve.",
        "Red: on the udsat list (or parallelsamfund/omdannelse); orange: forebyggelsesområde; yellow: meets the "
        "criteria below 1,000 residents or has a warning; green: neither. For the Aarhus model the category's colour."))
    sec.figure(per_language(_light_figure, table.frame), Text("Antal enheder pr. farve", "Units per colour"))
    sec.table(table, Text("Status pr. enhed", "Status per unit"), name="overview", bilingual={"lys": "light_en"},
              labels={"unit_id": Text("id", "id"), "unit_name": Text("navn", "name"),
                      "residents": Text("beboere", "residents"), "category": Text("kategori", "category"),
                      "lys": Text("lys", "light"), "warnings": Text("varsler", "warnings")})
    focus = overview.filter(pl.col("light") != "green").get_column("unit_id").to_list()[:MAX_TREND_UNITS] \
        or overview.get_column("unit_id").to_list()[:MAX_TREND_UNITS]
    if focus:
        sec = report.section(Text("Udvikling pr. enhed", "Trend per unit"), Text(
            f"Værdier pr. år for enhederne med rødt, orange eller gult lys (højst {MAX_TREND_UNITS}); vælg enheden i "
            "menuen. Stiplede linjer er grænserne.",
            f"Values per year for the units with a red, orange or yellow light (at most {MAX_TREND_UNITS}); pick "
            "the unit in the menu. Dashed lines are the thresholds."))
        sec.figure(per_language(_trend_figure, status, focus, names), Text("Udvikling", "Trend"))
    sec = report.section(Text("Varsler", "Warnings"), Text(
        "Nærmer sig en grænse (inden for margenen eller over den næste år ved samme udvikling), modtageområder "
        "(tilflyttere fra listede områder eller genhusning flytter enheden tæt på eller over en grænse) og "
        "prognoser med stor sandsynlighed for at komme på en liste.",
        "Approaching a threshold (within the margin, or over it next year at the same trend), receiving areas "
        "(arrivals from listed areas or rehousing move the unit close to or over a threshold) and forecasts with "
        "a high probability of being listed."))
    sec.table(exempt(warnings, reason="built from protected values (warnings.csv passed disclosure control)"),
              Text("Varsler", "Warnings"), name="warnings", formats={"value": ",.2f", "threshold": ",.2f"})
    arrivals = status.filter(pl.col("indicator").str.starts_with("arrivals.") & (pl.col("year") == y))
    if arrivals.height:
        wide = (arrivals.with_columns(pl.col("indicator").str.strip_prefix("arrivals."))
                .pivot(on="indicator", index="unit_id", values="value")
                .filter(pl.col("households").is_not_null()).join(names.select("unit_id", "unit_name"),
                                                                  on="unit_id", how="left"))
        sec = report.section(Text("Modtageområder", "Receiving areas"), Text(
            f"Husstande, der flyttede ind i de {result.settings.window_years} år før 1. januar {y} fra et område på "
            "listen over udsatte boligområder (eller parallelsamfund/omdannelse) eller ved genhusning, og som bor der "
            "1. januar, og deres sammensætning målt som listernes kriterier. Kun enheder med mindst 5 husstande.",
            f"Households that moved in during the {result.settings.window_years} years before 1 January {y} from an "
            "area on the udsat (or parallelsamfund/omdannelse) list or through rehousing and live there on 1 January, "
            "and their composition measured as the list criteria. Only units with at least 5 households."))
        sec.table(exempt(wide.select("unit_id", "unit_name", *[c for c in wide.columns
                                                               if c not in ("unit_id", "unit_name")]),
                         reason="built from protected status rows"),
                  Text("Tilflyttere fra listede områder", "Arrivals from listed areas"), name="arrivals",
                  formats={c: ",.1f" for c in wide.columns if c.startswith(("pct_", "income", "conviction"))})
    top = forecast.sort("probability", descending=True).head(40)
    sec = report.section(Text(f"Prognose for listerne 1. december {y + 1}", f"Forecast of the lists of 1 December {y + 1}"),
                         Text("Områderne med de største sandsynligheder (alle i forecast.csv).",
                              "The areas with the highest probabilities (all in forecast.csv)."))
    sec.table(exempt(top, reason="probabilities of public list outcomes"), Text("Sandsynligheder", "Probabilities"),
              name="forecast", formats={"probability": ".2f"})
    s = summary(result.forecast.backtest)
    sec = report.section(Text("Tilbagetest", "Backtest"), Text(
        "For hvert tidligere listeår er prognosen lavet med data til 1. januar året før og kun de tidligere års fejl, "
        "og sammenlignet med persistens (næste års status = dette års). Brier-score: lavere er bedre.",
        "For every earlier list year the forecast was made from the data up to 1 January of the year before and only "
        "the earlier years' errors, and compared with persistence (next year's status = this year's). Brier score: "
        "lower is better."))
    sec.table(exempt(s, reason="scores over areas and public list outcomes"), Text("Brier-score pr. liste",
                                                                                   "Brier score per list"),
              name="backtest", formats={"brier_forecast": ".4f", "brier_persistence": ".4f", "reduction": ".1%"})
    cal = backtest.filter((pl.col("measure") == "calibration") & (pl.col("list") == "all"))
    sec.figure(per_language(_calibration_figure, cal), Text("Kalibrering (alle lister)", "Calibration (all lists)"))
    sec.table(exempt(cal.filter(pl.col("method") == "forecast").select("bin_from", "bin_to", "n", "predicted",
                                                                       "observed"),
                     reason="counts of areas and public list outcomes"),
              Text("Kalibrering pr. sandsynlighedsdecil", "Calibration by probability decile"), name="calibration",
              formats={"bin_from": ".1f", "bin_to": ".1f", "predicted": ".3f", "observed": ".3f"})
    return report


def _light_figure(table: pl.DataFrame, lang: str) -> go.Figure:
    counts = table.group_by("light_en").len()
    order = ["red", "orange", "yellow", "green"]
    n = {r[0]: r[1] for r in counts.iter_rows()}
    fig = go.Figure(go.Bar(x=[LIGHTS[k].pick(lang) for k in order], y=[n.get(k, 0) for k in order],
                           marker_color=[COLOURS[k] for k in order]))
    fig.update_layout(height=300, yaxis_title=Text("enheder", "units").pick(lang), margin={"t": 20})
    return fig


def _trend_figure(status: pl.DataFrame, units: list[str], names: pl.DataFrame, lang: str) -> go.Figure:
    rows = status.filter(pl.col("unit_id").is_in(units) & ~pl.col("indicator").str.contains(r"\.")
                         & (pl.col("indicator") != "residents") & (pl.col("indicator") != "points_total"))
    name_of = dict(names.select("unit_id", "unit_name").iter_rows())
    fig = go.Figure()
    buttons = []
    traces_per_unit: list[int] = []
    for u in units:
        sub = rows.filter(pl.col("unit_id") == u).sort("indicator", "year")
        start = len(fig.data)
        for ind in sub.get_column("indicator").unique(maintain_order=True).to_list():
            part = sub.filter(pl.col("indicator") == ind)
            fig.add_trace(go.Scatter(x=part.get_column("year").to_list(), y=part.get_column("value").to_list(),
                                     mode="lines+markers", name=ind, visible=not traces_per_unit, legendgroup=ind))
            fig.add_trace(go.Scatter(x=part.get_column("year").to_list(), y=part.get_column("threshold").to_list(),
                                     mode="lines", line={"dash": "dash", "width": 1}, name=f"{ind} ({Text('grænse', 'threshold').pick(lang)})",
                                     visible=not traces_per_unit, legendgroup=ind, showlegend=False))
        traces_per_unit.append(len(fig.data) - start)
    total = len(fig.data)
    start = 0
    for u, n in zip(units, traces_per_unit):
        visible = [False] * total
        visible[start:start + n] = [True] * n
        buttons.append({"label": f"{u} {name_of.get(u) or ''}".strip(), "method": "update", "args": [{"visible": visible}]})
        start += n
    fig.update_layout(height=480, updatemenus=[{"buttons": buttons, "x": 0, "y": 1.15, "xanchor": "left"}],
                      xaxis_title=Text("listeår", "list year").pick(lang), yaxis_title=Text("værdi", "value").pick(lang))
    return fig


def _calibration_figure(cal: pl.DataFrame, lang: str) -> go.Figure:
    fig = go.Figure(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", line={"dash": "dot", "color": "grey"},
                               name=Text("perfekt", "perfect").pick(lang)))
    for method, label in (("forecast", Text("prognose", "forecast")), ("persistence", Text("persistens", "persistence"))):
        part = cal.filter(pl.col("method") == method)
        fig.add_trace(go.Scatter(x=part.get_column("predicted").to_list(), y=part.get_column("observed").to_list(),
                                 mode="markers+lines", name=label.pick(lang),
                                 text=[f"n={n}" for n in part.get_column("n").to_list()]))
    fig.update_layout(height=420, xaxis_title=Text("forudsagt sandsynlighed", "predicted probability").pick(lang),
                      yaxis_title=Text("observeret andel", "observed share").pick(lang))
    return fig


def write_report(report: Report, path: str | os.PathLike[str], lang: str = "da") -> Path:
    """Write report.html; `lang="en"` makes English the language the page opens in."""
    html = render_html(report)
    if lang == "en":
        for old, new in (('<html lang="da">', '<html lang="en">'), ('<body class="lang-da">', '<body class="lang-en">')):
            if old not in html:
                raise RuntimeError(f"report template changed: '{old}' not found")
            html = html.replace(old, new, 1)
    return write_text_atomic(path, html)


__all__ = ["build_report", "write_report"]
