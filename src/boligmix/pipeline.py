"""The main pipeline behind `make demo`: data -> official lists -> social mix -> report.

`run_pipeline(out_dir, dataset=...)` runs on any dataset directory (synthetic or ingested);
`run_demo(out_dir, seed=...)` first generates a synthetic Denmark into `out_dir/data`.
The outputs:

    out_dir/data/            the dataset (demo only)
    out_dir/lists/           the newest list year explained (see boligmix.lists.pipeline)
    out_dir/lists-history.csv  every list year computed: area_id, year, rules, flags
    out_dir/mix/             composition and flows tables + their own report
    out_dir/report.html      the overview report (Danish, English toggle), report.xlsx beside it
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import plotly.graph_objects as go
import polars as pl

from boligmix.data.io import read_manifest, read_table
from boligmix.lists.pipeline import dataset_area_names, feasible_list_years, lists_from_indicators, write_lists
from boligmix.lists.ruleset import OUTPUT_FLAGS
from boligmix.report.axes import year_axis
from boligmix.report.disclosure import exempt
from boligmix.report.document import Report, Text, per_language
from boligmix.report._files import write_with
from boligmix.report.excel import write_excel
from boligmix.report.html import write_html
from boligmix.report.provenance import Provenance

Progress = Callable[[str, float], None]

LIST_LABELS = {
    "udsat": Text("Udsatte boligområder", "Udsat areas"),
    "parallelsamfund": Text("Parallelsamfund / ghettoområder", "Parallelsamfund / ghetto areas"),
    "omdannelse": Text("Omdannelsesområder / hårde ghettoområder", "Omdannelse / hard ghetto areas"),
    "forebyggelse": Text("Forebyggelsesområder", "Forebyggelse areas"),
}

INDICATOR_LABELS = {
    "area_id": Text("Område-id", "Area id"),
    "area_name": Text("Område", "Area"),
    "municipality": Text("Kommune", "Municipality"),
    "residents": Text("Beboere", "Residents"),
    "pct_non_western": Text("Ikke-vestlige, %", "Non-Western, %"),
    "pct_outside_work_edu": Text("Uden for arbejde/uddannelse, %", "Outside work/education, %"),
    "conviction_ratio": Text("Dømte ift. landsgns.", "Convicted vs national"),
    "pct_basic_education": Text("Kun grundskole, %", "Basic education only, %"),
    "income_pct_of_region": Text("Indkomst, % af region", "Income, % of region"),
    "criteria_met": Text("Kriterier for udsat opfyldt", "Udsat criteria met"),
    "n_non_western": Text("Antal ikke-vestlige", "Non-Western residents"),
    "n_18_64": Text("Beboere 18-64 år", "Residents 18-64"),
    "fte_outside_18_64": Text("Fuldtidspersoner uden for arbejde/uddannelse", "FTE outside work/education"),
    "n_18plus": Text("Beboere 18+ år", "Residents 18+"),
    "n_convicted_18plus": Text("Dømte 18+ år", "Convicted 18+"),
    "n_30_59": Text("Beboere 30-59 år", "Residents 30-59"),
    "n_basic_30_59": Text("Kun grundskole 30-59 år", "Basic education only 30-59"),
    "n_income_group": Text("Skattepligtige 15-64 år", "Taxpayers 15-64"),
}


@dataclass
class PipelineResult:
    """Where the pipeline wrote its outputs, and the headline figures."""

    out_dir: Path
    report_html: Path
    report_xlsx: Path
    list_years: list[int]
    list_counts: pl.DataFrame
    files: dict[str, str] = field(default_factory=dict)


def _noop(_step: str, _fraction: float) -> None:
    return None


def run_demo(out_dir: str | os.PathLike[str], *, seed: int, scale: str = "municipality",
             years: tuple[int, int] = (2004, 2024), on_progress: Progress | None = None) -> PipelineResult:
    """Generate a synthetic Denmark into `out_dir/data` (reused when seed and scale match), then run."""
    from boligmix.data.synth import write_synthetic

    step = on_progress or _noop
    data_dir = Path(out_dir) / "data"
    if not _dataset_matches(data_dir, seed=seed, scale=scale, years=years):
        step("generating synthetic data", 0.0)
        write_synthetic(data_dir, scale=scale, seed=seed, years=years, overwrite=True,
                        on_progress=lambda s, f: step(f"synth: {s}", 0.4 * f))
    return run_pipeline(out_dir, dataset=data_dir, on_progress=lambda s, f: step(s, 0.4 + 0.6 * f))


def _dataset_matches(data_dir: Path, *, seed: int, scale: str, years: tuple[int, int]) -> bool:
    if not (data_dir / "manifest.json").is_file():
        return False
    manifest = read_manifest(data_dir)
    return (manifest.source == "synthetic" and manifest.seed == seed and manifest.scale == scale
            and tuple(manifest.years or ()) == tuple(years))


def run_pipeline(out_dir: str | os.PathLike[str], *, dataset: str | os.PathLike[str],
                 list_years: Sequence[int] | None = None, on_progress: Progress | None = None) -> PipelineResult:
    """Lists for every list year the data allows, the social mix, and the overview report."""
    from boligmix.indicators import compute_area_indicators
    from boligmix.mix.pipeline import compute_mix
    from boligmix.mix.publish import write_outputs

    step = on_progress or _noop
    out = Path(out_dir)
    _check_outputs(out, Path(dataset))
    manifest = read_manifest(dataset)
    out.mkdir(parents=True, exist_ok=True)
    wanted = list(list_years) if list_years is not None else list(range(2010, 2100))
    years = feasible_list_years(dataset, wanted)
    if manifest.years is not None:  # list years whose residents (1 January) lie inside the data
        years = [y for y in years if y <= manifest.years[1]]
    if not years:
        from boligmix.errors import DatasetError
        raise DatasetError(f"{dataset}: its register years allow no list year among {wanted[0]}-{wanted[-1]}")

    step("indicators", 0.0)
    indicators = compute_area_indicators(dataset, years, on_progress=lambda s, f: step(f"indicators: {s}",
                                                                                       0.4 * f))
    indicators = indicators.join(dataset_area_names(dataset), on="area_id", how="left", maintain_order="left")
    step("lists", 0.4)
    lists = lists_from_indicators(indicators, years[-1], data_vintage=manifest.vintage)
    lists.provenance.update({"dataset": str(dataset), "data_vintage": manifest.vintage, "seed": manifest.seed})
    write_lists(out / "lists", lists, overwrite=True)
    history = lists.classification.frame.select(
        "area_id", "year", "rules", "criteria_met", *[pl.col(f).cast(pl.Int8) for f in OUTPUT_FLAGS]
    ).sort("year", "area_id")
    write_with(out / "lists-history.csv", history.write_csv)
    counts = history.group_by("year").agg(pl.col(f).sum().cast(pl.Int64) for f in OUTPUT_FLAGS).sort("year")

    step("social mix", 0.5)
    listed = history.select("area_id", "year",
                            pl.any_horizontal([pl.col(f) == 1 for f in OUTPUT_FLAGS]).alias("listed"))
    mix_years = [y for y in years if manifest.years is None or manifest.years[0] < y <= manifest.years[1]]
    mix = compute_mix(dataset, mix_years, level="area", listed=listed,
                      on_progress=lambda s, f: step(f"mix: {s}", 0.5 + 0.35 * f))
    mix_files = write_outputs(mix, out / "mix", dataset=str(dataset), command="boligmix demo (mix)")

    step("report", 0.9)
    report = _overview_report(dataset, manifest, lists, history, counts, indicators, years)
    html = write_html(report, out / "report.html")
    xlsx = write_excel(report, out / "report.xlsx")
    step("done", 1.0)
    return PipelineResult(out, html, xlsx, years, counts,
                          files={"lists": str(out / "lists"), "lists_history": str(out / "lists-history.csv"),
                                 "mix_report": mix_files["report_html"]})


def _check_outputs(out: Path, dataset: Path) -> None:
    """The output directory may hold the dataset (as the demo's `data/` does) but no file or folder
    the pipeline writes may be, contain or lie inside it, and the output may not lie inside it."""
    from boligmix.data.io import check_out_dir

    if out.resolve() == dataset.resolve() or dataset.resolve() in out.resolve().parents:
        check_out_dir(dataset, out, source="dataset directory")
    for name in ("lists", "mix", "lists-history.csv", "report.html", "report.xlsx"):
        check_out_dir(dataset, out / name, source="dataset directory")


def _overview_report(dataset, manifest, lists, history: pl.DataFrame, counts: pl.DataFrame,
                     indicators: pl.DataFrame, years: list[int]) -> Report:
    rule_versions = {f"list {y}": str(v) for y, v in
                     history.group_by("year").agg(pl.col("rules").first()).sort("year").iter_rows()}
    prov = Provenance(data_vintage=manifest.vintage, seed=manifest.seed, rule_versions=rule_versions,
                      command="boligmix demo", dataset=str(dataset),
                      settings={"list_years": f"{years[0]}-{years[-1]}", "scale": manifest.scale or ""})
    report = Report(
        Text("boligmix: boligområder, lister og socialt mix", "boligmix: housing areas, lists and social mix"),
        provenance=prov,
        intro=Text(
            f"Rapporten er beregnet fra datasættet {manifest.vintage} ({manifest.source}"
            f"{', seed ' + str(manifest.seed) if manifest.seed is not None else ''}). "
            "Listerne følger reglerne for hvert listeår (2010, 2013, 2018, 2021).",
            f"This report is computed from the dataset {manifest.vintage} ({manifest.source}"
            f"{', seed ' + str(manifest.seed) if manifest.seed is not None else ''}). "
            "The lists follow the rules of each list year (2010, 2013, 2018, 2021)."),
    )
    report.link(Text("Socialt mix: beboere, tilflyttere og fraflyttere (mix/report.html)",
                     "Social mix: residents, in-movers and out-movers (mix/report.html)"), "mix/report.html")
    _data_section(report, dataset, manifest)
    _lists_section(report, counts, years)
    _latest_section(report, lists, indicators, years[-1])
    _map_section(report, dataset, lists, years[-1])
    report.section(Text("Socialt mix", "Social mix"), Text(
        "Sammensætningen af beboere, tilflyttere og fraflyttere samt flytninger mellem afdelinger findes i "
        "rapporten mix/report.html.",
        "The composition of residents, in-movers and out-movers and moves between departments are in the "
        "report mix/report.html."))
    return report


def _data_section(report: Report, dataset, manifest) -> None:
    tables = pl.DataFrame({"table": list(manifest.tables), "rows": list(manifest.tables.values())})
    areas = read_table(dataset, "areas", ["area_id"]).height
    municipalities = read_table(dataset, "municipalities", ["municipality_code"]).height
    sec = report.section(Text("Data", "Data"), Text(
        f"{municipalities} kommuner, {areas} boligområder; registerår "
        f"{manifest.years[0] if manifest.years else '?'}-{manifest.years[1] if manifest.years else '?'}.",
        f"{municipalities} municipalities, {areas} housing areas; register years "
        f"{manifest.years[0] if manifest.years else '?'}-{manifest.years[1] if manifest.years else '?'}."))
    sec.table(exempt(tables, reason="row counts of whole register tables, not statistics of small groups"),
              Text("Tabeller i datasættet", "Tables in the dataset"), name="dataset_tables")


def _lists_section(report: Report, counts: pl.DataFrame, years: list[int]) -> None:
    sec = report.section(Text("Officielle lister pr. 1. december", "Official lists per 1 December"), Text(
        "Antal områder på hver liste. Før 2018 fandtes kun ghettolisten (vist som parallelsamfund).",
        "Number of areas on each list. Before 2018 only the ghetto list existed (shown as parallelsamfund)."))
    sec.figure(per_language(_list_counts_figure, counts),
               Text("Antal områder på listerne", "Number of areas on the lists"))
    sec.table(exempt(counts.sort("year", descending=True), reason="counts of housing areas (public lists), not of persons"),
              Text("Antal områder pr. liste og år", "Areas per list and year"), name="list_counts",
              labels={f: LIST_LABELS[f] for f in OUTPUT_FLAGS})


def _list_counts_figure(counts: pl.DataFrame, lang: str) -> go.Figure:
    fig = go.Figure()
    for flag in OUTPUT_FLAGS:
        fig.add_trace(go.Scatter(x=counts["year"].to_list(), y=counts[flag].to_list(), mode="lines+markers",
                                 name=LIST_LABELS[flag].pick(lang)))
    fig.update_layout(xaxis_title=Text("Listeår", "List year").pick(lang),
                      yaxis_title=Text("Antal områder", "Number of areas").pick(lang), height=380,
                      margin=dict(l=40, r=20, t=30, b=40))
    return year_axis(fig, counts["year"].to_list())


def _latest_section(report: Report, lists, indicators: pl.DataFrame, year: int) -> None:
    from boligmix.indicators.publish import FIELD_COUNTS, protect_indicators

    flags = lists.classification.frame.filter(pl.col("year") == year)
    shown = ("residents", "pct_non_western", "pct_outside_work_edu", "conviction_ratio", "pct_basic_education",
             "income_pct_of_region")
    support = sorted({c for f in shown for c in FIELD_COUNTS[f] if c is not None and c != "residents"}
                     & set(indicators.columns))
    latest = (indicators.filter(pl.col("year") == year)
              .select("area_id", *[c for c in ("area_name", "municipality") if c in indicators.columns],
                      *shown, *support)
              .join(flags.select("area_id", "criteria_met", *OUTPUT_FLAGS), on="area_id", how="left")
              .sort(["parallelsamfund", "udsat", "criteria_met"], descending=True, nulls_last=True))
    sec = report.section(Text(f"Områderne i listeåret {year}", f"The areas in list year {year}"), Text(
        "Værdier, antal opfyldte kriterier for udsat boligområde og listestatus; de antal, værdierne er "
        "beregnet af, står til højre. Forklaringer pr. kriterium med afstand til grænsen findes i "
        "lists/criteria.csv og lists/areas.json.",
        "Values, number of udsat criteria met and list status; the counts the values are computed from are "
        "on the right. Per-criterion explanations with the distance to each limit are in lists/criteria.csv "
        "and lists/areas.json."))
    sec.table(protect_indicators(latest, name="areas_latest"),
              Text("Indikatorer og lister", "Indicators and lists"), name="areas_latest",
              labels=INDICATOR_LABELS | {f: LIST_LABELS[f] for f in OUTPUT_FLAGS},
              formats={c: ".1f" for c in ("pct_non_western", "pct_outside_work_edu", "pct_basic_education",
                                          "income_pct_of_region")} | {"conviction_ratio": ".2f"}
              | {c: ",.0f" for c in ("residents", *support)})
    _criteria_block(sec, lists, latest)


def _map_section(report: Report, dataset, lists, year: int) -> None:
    """A map of the areas coloured and patterned by their highest list in `year` (area statuses are public)."""
    from boligmix.report.liststatus import status_of
    from boligmix.report.mapfigure import area_map_figure
    from boligmix.report.svgmap import Shape, parse_wkt

    flags = {r["area_id"]: r for r in lists.classification.frame.filter(pl.col("year") == year).iter_rows(named=True)}
    areas = read_table(dataset, "areas", ["area_id", "area_name", "polygon_wkt"])
    shapes = [Shape(a, f"{n} ({a})", parse_wkt(w, where=f"areas.polygon_wkt ({a})"),
                    status_of(flags[a]) if a in flags else "nodata") for a, n, w in areas.iter_rows()]
    if not any(s.polygons for s in shapes):
        return
    words = {"none": Text("Ikke på en liste", "Not on a list"), "undecided": Text("Uafklaret", "Undecided"),
             "nodata": Text("Ingen data", "No data")} | LIST_LABELS
    sec = report.section(Text(f"Kort over områderne {year}", f"Map of the areas {year}"), Text(
        "Farve og mønster viser den højeste liste, området er på; små områder kan være svære at se — "
        "dashboardet (boligmix serve) har kort pr. kommune.",
        "Colour and pattern show the highest list the area is on; small areas may be hard to see — the "
        "dashboard (boligmix serve) has maps per municipality."))
    sec.figure({lang: area_map_figure(shapes, {k: t.pick(lang) for k, t in words.items()}) for lang in ("da", "en")},
               Text(f"Områderne efter listestatus {year}", f"The areas by list status {year}"))


def _criteria_block(sec, lists, latest: pl.DataFrame, max_areas: int = 10) -> None:
    """Criterion by criterion for the listed areas (or, when none is listed, those closest to a list)."""
    from boligmix.lists.publish import protect_criteria

    from boligmix.lists.explain import criterion_lists
    from boligmix.lists.texts import FIELD_NAMES

    chosen = latest.head(max_areas)["area_id"].to_list()
    raw = lists.criteria.filter(pl.col("area_id").is_in(chosen) & (pl.col("criterion") != "residents"))
    list_of = {(v, cid): label for v in raw.get_column("rules").unique().to_list()
               for cid, label in criterion_lists(lists.classification.ruleset(v)).items()}
    order = {a: i for i, a in enumerate(chosen)}
    criteria = (raw.with_columns(
        pl.struct("rules", "criterion").map_elements(lambda r: list_of.get((r["rules"], r["criterion"]), ""),
                                                     return_dtype=pl.String).alias("list"),
        pl.col("field").replace_strict(FIELD_NAMES["da"], default=pl.col("field")).alias("criterion_da"),
        pl.col("field").replace_strict(FIELD_NAMES["en"], default=pl.col("field")).alias("criterion_en"),
        pl.col("area_id").replace_strict(order, return_dtype=pl.Int64).alias("_order"))
        .sort("_order", "list", maintain_order=True)
        .select("area_id", "year", "field", "list", "criterion_da", "criterion_en", "value", "op", "threshold",
                "met", "margin", "to_cross_text_da", "to_cross_text_en"))
    table = protect_criteria(criteria, lists.indicators)
    table = replace(table, frame=table.frame.drop("field"))  # used to find each value's counts; not shown
    sec.table(table,
              Text("Kriterierne for områderne øverst i tabellen: værdi, tærskel, afstand og hvad der skal til",
                   "The criteria of the areas at the top of the table: value, threshold, margin and what it "
                   "takes to cross"),
              name="criteria_latest", formats={"value": ".2f", "threshold": ".2f", "margin": "+.2f",
                                               "count": ",.0f", "base": ",.0f"},
              labels={"list": Text("Liste", "List"), "criterion_da": Text("Kriterium", "Criterion"),
                      "to_cross_text_da": Text("Hvad skal der til", "What it takes"),
                      "value": Text("Værdi", "Value"), "op": Text("Sammenligning", "Comparison"),
                      "threshold": Text("Grænse", "Limit"), "met": Text("Opfyldt", "Met"),
                      "margin": Text("Afstand", "Margin"), "area_id": INDICATOR_LABELS["area_id"],
                      "year": Text("Listeår", "List year"), "field": Text("Felt", "Field"),
                      "count": Text("Antal", "Count"), "base": Text("Af i alt", "Out of")},
              bilingual={"criterion_da": "criterion_en", "to_cross_text_da": "to_cross_text_en"})

__all__ = ["PipelineResult", "run_demo", "run_pipeline"]
