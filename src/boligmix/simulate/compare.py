"""`simulate compare RUN_A RUN_B`: the differences B - A per area and list year, with intervals over
the replications both runs share (paired by replication: the same keyed random streams), as an
HTML report in Danish (English behind the language toggle). Every table passes
`boligmix.report.disclosure.protect`: resident and in-mover counts are counts, the indicator
differences are shares over the residents.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import polars as pl

from boligmix.errors import DatasetError
from boligmix.numbers import fmt_number
from boligmix.report.disclosure import Share, exempt, protect
from boligmix.report.document import Report, Text, per_language
from boligmix.report.html import write_html
from boligmix.report.provenance import Provenance

MEASURES = {
    "pct_non_western": Text("Ikke-vestlige (%)", "Non-Western (%)"),
    "pct_outside_work_edu": Text("Uden for arbejde og uddannelse (%)", "Outside work and education (%)"),
    "conviction_ratio": Text("Dømte (forhold til landet)", "Convictions (ratio to national)"),
    "pct_basic_education": Text("Kun grundskole (%)", "Basic education only (%)"),
    "income_pct_of_region": Text("Indkomst (% af regionen)", "Income (% of region)"),
    "family_share": Text("Almene familieboliger (andel)", "Almene family dwellings (share)"),
}
LISTS = {"udsat": Text("Udsatte", "Udsat"), "parallelsamfund": Text("Parallelsamfund", "Parallelsamfund"),
         "omdannelse": Text("Omdannelsesområder", "Omdannelse"), "forebyggelse": Text("Forebyggelse", "Forebyggelse")}


def _read(run: Path) -> tuple[pl.DataFrame, dict]:
    if not (run / "areas.parquet").is_file() or not (run / "manifest.json").is_file():
        raise DatasetError(f"{run} is not a simulation run directory (areas.parquet and manifest.json are needed)")
    return pl.read_parquet(run / "areas.parquet"), json.loads((run / "manifest.json").read_text(encoding="utf-8"))


def differences(a: pl.DataFrame, b: pl.DataFrame) -> pl.DataFrame:
    """Per area and year: mean and 5-95 % interval of B - A over the shared replications, residents
    and in-movers (rounded means) of both runs and the share of replications on each list."""
    keys = ["replication", "year", "area_id"]
    joined = a.join(b, on=keys, suffix="_b")
    if joined.height == 0:
        raise DatasetError("the two runs share no replication, year and area")
    diffs = [(pl.col(f"{m}_b") - pl.col(m)).alias(f"d_{m}") for m in MEASURES]
    joined = joined.with_columns(diffs)
    aggs = []
    for m in MEASURES:
        aggs += [pl.col(f"d_{m}").mean().alias(f"{m}_diff"), pl.col(f"d_{m}").quantile(0.05, "linear").alias(f"{m}_p05"),
                 pl.col(f"d_{m}").quantile(0.95, "linear").alias(f"{m}_p95")]
    for flag in LISTS:
        aggs += [pl.col(flag).cast(pl.Float64).mean().alias(f"{flag}_a"), pl.col(f"{flag}_b").cast(pl.Float64).mean()
                 .alias(f"{flag}_b")]
    return joined.group_by("year", "area_id").agg(
        pl.col("residents").mean().round(0).cast(pl.Int64).alias("residents_a"),
        pl.col("residents_b").mean().round(0).cast(pl.Int64).alias("residents_b"),
        pl.col("in_movers").mean().round(0).cast(pl.Int64).alias("in_movers_a"),
        pl.col("in_movers_b").mean().round(0).cast(pl.Int64).alias("in_movers_b"),
        pl.len().alias("replications"), *aggs).sort("year", "area_id")


def _figure(table: pl.DataFrame, lang: str):
    import plotly.graph_objects as go

    fig = go.Figure()
    for area in table["area_id"].unique().sort().to_list():
        part = table.filter(pl.col("area_id") == area).sort("year")
        fig.add_trace(go.Scatter(
            x=part["year"].to_list(), y=part["pct_outside_work_edu_diff"].to_list(), name=area, mode="lines+markers",
            error_y={"type": "data", "symmetric": False,
                     "array": (part["pct_outside_work_edu_p95"] - part["pct_outside_work_edu_diff"]).to_list(),
                     "arrayminus": (part["pct_outside_work_edu_diff"] - part["pct_outside_work_edu_p05"]).to_list()}))
    fig.update_layout(title=MEASURES["pct_outside_work_edu"].pick(lang) + (" — forskel B - A" if lang == "da"
                                                                        else " — difference B - A"),
                      xaxis_title="Listeår" if lang == "da" else "List year",
                      yaxis_title="Procentpoint" if lang == "da" else "Percentage points", separators=",." if lang == "da" else ".,")
    fig.update_xaxes(dtick=1, tickformat="d")
    return fig


def protected_differences(table: pl.DataFrame, names: dict[str, str]):
    """The differences table with area names, through disclosure control: (ProtectedTable, shown frame)."""
    table = table.with_columns(pl.col("area_id").replace_strict(names, default=pl.col("area_id")).alias("area_name"))
    shown = table.select("year", "area_id", "area_name", "replications", "residents_a", "residents_b", "in_movers_a",
                         "in_movers_b", *[c for m in MEASURES for c in (f"{m}_diff", f"{m}_p05", f"{m}_p95")],
                         *[f"{f}_{s}" for f in LISTS for s in ("a", "b")])
    shares = [Share(c, ("residents_a", "residents_b")) for m in MEASURES for c in (f"{m}_diff", f"{m}_p05", f"{m}_p95")]
    shares += [Share(f"{f}_{s}", ("residents_a", "residents_b")) for f in LISTS for s in ("a", "b")]
    return protect(shown, counts=["residents_a", "residents_b", "in_movers_a", "in_movers_b"], shares=shares,
                   name="simulate compare"), shown


def _ring(wkt: str) -> tuple[list[float], list[float]] | None:
    """The outer ring of a simple WKT polygon (EPSG:25832), or None."""
    text = wkt.strip()
    if not text.upper().startswith("POLYGON"):
        return None
    body = text[text.index("(") :].strip("() ")
    ring = body.split("),")[0].strip("() ")
    points = [p.split() for p in ring.split(",")]
    return [float(p[0]) for p in points], [float(p[1]) for p in points]


def _map(protected_frame: pl.DataFrame, polygons: dict[str, str], year: int, lang: str):
    """Areas coloured by the difference in the outside share in `year` (suppressed: grey)."""
    import plotly.graph_objects as go
    from plotly.colors import sample_colorscale

    rows = protected_frame.filter(pl.col("year") == year)
    values = [v for v in rows["pct_outside_work_edu_diff"].to_list() if v is not None]
    span = max([abs(v) for v in values] + [1e-9])
    fig = go.Figure()
    for row in rows.iter_rows(named=True):
        ring = _ring(polygons.get(row["area_id"]) or "")
        if ring is None:
            continue
        value = row["pct_outside_work_edu_diff"]
        colour = "#bbbbbb" if value is None else sample_colorscale("RdBu_r", [(value / span + 1) / 2])[0]
        shown = fmt_number(value, 1, lang, signed=True, missing="·")  # type: ignore[arg-type]
        fig.add_trace(go.Scatter(x=ring[0], y=ring[1], fill="toself", fillcolor=colour, mode="lines",
                                 line={"color": "#333333", "width": 1}, name=row["area_name"],
                                 hoverinfo="text", text=f"{row['area_name']}: {shown}"))
    fig.update_layout(title=(f"Forskel i andel uden for arbejde og uddannelse, {year} (procentpoint)" if lang == "da"
                             else f"Difference in the share outside work and education, {year} (percentage points)"),
                      showlegend=False, xaxis={"visible": False}, yaxis={"visible": False, "scaleanchor": "x"})
    return fig


def write_compare_report(run_a: str | os.PathLike[str], run_b: str | os.PathLike[str], out: str | os.PathLike[str],
                         *, lang: str = "da") -> Path:
    run_a, run_b, out = Path(run_a), Path(run_b), Path(out)
    for run in (run_a, run_b):
        if out.resolve() == run.resolve() or run.resolve() in out.resolve().parents:
            raise DatasetError(f"--out {out} lies inside the run directory {run}; write the report elsewhere")
    a, man_a = _read(run_a)
    b, man_b = _read(run_b)
    table = differences(a, b)
    names = {}
    dataset = Path(man_a.get("dataset", ""))
    if (dataset / "areas.parquet").is_file():
        names = dict(pl.read_parquet(dataset / "areas.parquet", columns=["area_id", "area_name"]).iter_rows())
    protected, shown = protected_differences(table, names)
    national = (pl.concat([a.with_columns(pl.lit("A").alias("run")), b.with_columns(pl.lit("B").alias("run"))],
                          how="vertical_relaxed")
                .group_by("run", "replication", "year").agg(*[pl.col(f).sum().alias(f) for f in LISTS])
                .group_by("run", "year").agg(*[pl.col(f).mean().alias(f) for f in LISTS]).sort("run", "year"))
    provenance = Provenance(
        data_vintage=str(man_a.get("data_vintage")), seed=man_a.get("seed"),
        rule_versions={"scenario_a": man_a["scenario"]["sha256"][:12], "scenario_b": man_b["scenario"]["sha256"][:12],
                       **{f"policy.{p.split('@')[0]}": p.split("@")[1] for p in man_b.get("policies", [])}},
        settings={"run_a": str(run_a), "scenario_a": man_a["scenario"]["name"], "run_b": str(run_b),
                  "scenario_b": man_b["scenario"]["name"], "replications_shared": int(table["replications"].max()),
                  "seed_b": man_b.get("seed")},
        command=f"boligmix simulate compare {run_a} {run_b} --out {out}", dataset=str(dataset))
    report = Report(Text(f"Simulering: {man_b['scenario']['name']} over for {man_a['scenario']['name']}",
                         f"Simulation: {man_b['scenario']['name']} against {man_a['scenario']['name']}"),
                    provenance=provenance,
                    intro=Text("Forskelle B - A pr. område og listeår med 5-95 %-interval over de replikationer, "
                               "begge kørsler har (parret pr. replikation).",
                               "Differences B - A per area and list year with the 5-95 % interval over the "
                               "replications both runs share (paired by replication)."))
    sec = report.section(Text("Landstal", "National counts"))
    sec.table(exempt(national, reason="means over simulated replications of area counts on each list (no persons)"),
              Text("Antal områder på hver liste (gennemsnit over replikationer)", "Areas on each list (mean over "
                   "replications)"), name="national", formats={f: ",.1f" for f in LISTS},
              labels={f: t for f, t in LISTS.items()})
    polygons = {}
    if (dataset / "areas.parquet").is_file():
        polygons = dict(pl.read_parquet(dataset / "areas.parquet", columns=["area_id", "polygon_wkt"]).drop_nulls()
                        .iter_rows())
    if polygons:
        last = int(table["year"].max())
        sec = report.section(Text("Kort", "Map"))
        sec.figure(per_language(_map, protected.frame, polygons, last),
                   Text("Rød: højere andel uden for arbejde og uddannelse i B end i A; grå: ikke vist "
                        "(diskretionskontrol).", "Red: a higher share outside work and education in B than in A; "
                        "grey: not shown (disclosure control)."))
    sec = report.section(Text("Områder", "Areas"))
    sec.figure(per_language(_figure, protected.frame), Text("Andel uden for arbejde og uddannelse: forskel med interval",
                                                  "Share outside work and education: difference with interval"))
    sec.table(protected, Text("Forskelle pr. område og år", "Differences per area and year"), name="areas",
              formats={c: ",.2f" for c in shown.columns if c.endswith(("_diff", "_p05", "_p95", "_a", "_b"))
                       and not c.startswith(("residents", "in_movers"))},
              labels={"area_name": Text("Område", "Area"), "year": Text("År", "Year"), "area_id": Text("Id", "Id"),
                      "replications": Text("Replikationer", "Replications"),
                      "residents_a": Text("Beboere A", "Residents A"), "residents_b": Text("Beboere B", "Residents B"),
                      "in_movers_a": Text("Tilflyttere A", "In-movers A"),
                      "in_movers_b": Text("Tilflyttere B", "In-movers B"),
                      **{f"{m}_diff": Text(f"{t.da}: B - A", f"{t.en}: B - A") for m, t in MEASURES.items()},
                      **{f"{m}_p05": Text("5 %", "5 %") for m in MEASURES},
                      **{f"{m}_p95": Text("95 %", "95 %") for m in MEASURES},
                      **{f"{f}_{r}": Text(f"{t.da} ({r.upper()})", f"{t.en} ({r.upper()})")
                         for f, t in LISTS.items() for r in ("a", "b")}})
    out.parent.mkdir(parents=True, exist_ok=True)
    return write_html(report, out)


__all__ = ["differences", "protected_differences", "write_compare_report"]
