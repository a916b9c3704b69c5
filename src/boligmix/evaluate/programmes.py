"""`evaluate programmes`: funding and coverage tables of the registry, and how the covered departments'
official indicators moved from the year before the start to the end (or the last year with data).

The indicators are `indicators.compute_area_indicators` at department level, unchanged; the movement
table shows each covered department beside the change in all other departments of the dataset over the
same years (a descriptive comparison, not an effect estimate: use `evaluate did` for that).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

import polars as pl

from boligmix.data.io import read_manifest, read_table
from boligmix.indicators.publish import FIELD_COUNTS, part_counts
from boligmix.evaluate.registry import Registry
from boligmix.report import (
    Additive,
    DisclosurePolicy,
    ProtectedTable,
    Provenance,
    Report,
    Share,
    Text,
    exempt,
    protect,
    write_excel,
    write_html,
)
from boligmix.report._files import write_text_atomic
from boligmix.report.disclosure import SUPPRESSED_COLUMN

MOVED = {"pct_non_western": "residents", "pct_outside_work_edu": "n_18_64", "pct_convicted": "n_18plus",
         "pct_basic_education": "n_30_59"}
"""Indicator -> the count it is a share of (for disclosure control)."""
_NO_PERSONS = "programme budgets and department lists from the registry; no person data"
_NUMERATORS = tuple(FIELD_COUNTS[c][0] for c in MOVED)
"""The counts the moved indicators are shares of: they protect the shares and are not published."""


@dataclass
class ProgrammeTables:
    funding: pl.DataFrame
    by_period: pl.DataFrame
    coverage: pl.DataFrame
    moved: pl.DataFrame
    vintage: str
    seed: int | None


def programme_tables(dataset: str | os.PathLike[str], registry: Registry) -> ProgrammeTables:
    manifest = read_manifest(dataset)
    p = registry.programmes
    acts = registry.activities.group_by("programme_id").agg(pl.col("activity").sort().str.join(", ").alias("activities"))
    funding = p.join(acts, on="programme_id", how="left").select(
        "programme_id", "name", "kind", "start", "end", "budget_dkk", "lbf_dkk", "local_dkk",
        (pl.col("local_dkk") / pl.col("budget_dkk")).alias("local_share"),
        pl.col("departments").list.len().alias("n_departments"), pl.col("activities").fill_null(""))
    by_period = (funding.with_columns(pl.col("start").dt.year().alias("start_year"))
                 .group_by("kind", "start_year").agg(
                     pl.len().alias("n_programmes"), pl.col("n_departments").sum(), pl.col("budget_dkk").sum(),
                     pl.col("lbf_dkk").sum(), pl.col("local_dkk").sum())
                 .with_columns((pl.col("budget_dkk") / pl.col("n_programmes")).alias("budget_per_programme"),
                               (pl.col("lbf_dkk") / pl.col("n_departments")).alias("lbf_per_department"))
                 .sort("start_year", "kind"))
    deps = read_table(dataset, "departments", ["department_id", "department_name", "area_id"])
    areas = read_table(dataset, "areas", ["area_id", "area_name"])
    dp = registry.department_programmes()
    coverage = (dp.group_by("department_id").agg(
        pl.col("programme_id").sort().str.join(", ").alias("programmes"), pl.col("start_year").min().alias("first_start"),
        pl.col("end_year").max().alias("last_end"))
        .join(deps, on="department_id", how="left").join(areas, on="area_id", how="left")
        .select("department_id", "department_name", "area_id", "area_name", "programmes", "first_start", "last_end")
        .sort("department_id"))
    moved = _moved(dataset, dp, manifest)
    return ProgrammeTables(funding.sort("programme_id"), by_period, coverage, moved, manifest.vintage, manifest.seed)


def _moved(dataset, dp: pl.DataFrame, manifest) -> pl.DataFrame:
    from boligmix.indicators import compute_area_indicators
    from boligmix.indicators.settings import settings_for_list_year
    from boligmix.lists.pipeline import feasible_list_years
    from boligmix.errors import ConfigurationError

    lo, hi = manifest.years or (2004, 2024)
    usable = []
    for y in feasible_list_years(dataset, range(lo, hi + 2)):
        try:
            settings_for_list_year(y)
            usable.append(y)
        except ConfigurationError:
            pass
    pairs = dp.with_columns((pl.col("start_year") - 1).alias("year_before"),
                            pl.col("end_year").clip(upper_bound=usable[-1] if usable else 0).alias("year_after"))
    pairs = pairs.filter(pl.col("year_before").is_in(usable) & pl.col("year_after").is_in(usable)
                         & (pl.col("year_after") > pl.col("year_before")))
    cols = ["residents", *MOVED, *sorted(set(MOVED.values()) - {"residents"}), *_NUMERATORS]
    if pairs.is_empty():
        return pl.DataFrame()
    years = sorted(set(pairs["year_before"].to_list()) | set(pairs["year_after"].to_list()))
    ind = compute_area_indicators(dataset, years, level="department").select("department_id", "year", *cols)
    b = ind.rename({c: f"{c}_before" for c in cols} | {"year": "year_before"})
    a = ind.rename({c: f"{c}_after" for c in cols} | {"year": "year_after"})
    out = pairs.join(b, on=["department_id", "year_before"], how="inner").join(
        a, on=["department_id", "year_after"], how="inner")
    out = out.with_columns(*[(pl.col(f"{c}_after") - pl.col(f"{c}_before")).alias(f"{c}_change") for c in MOVED])
    covered = set(dp["department_id"].to_list())
    others = ind.filter(~pl.col("department_id").is_in(list(covered)))
    # comparison: the change of the median other department over the same years
    comp = []
    for yb, ya in out.select("year_before", "year_after").unique().iter_rows():
        ob = others.filter(pl.col("year") == yb)
        oa = others.filter(pl.col("year") == ya)
        j = ob.join(oa, on="department_id", suffix="_a")
        comp.append({"year_before": yb, "year_after": ya, "n_other_departments": j.height,
                     **{f"{c}_change_others_median": (j[f"{c}_a"] - j[c]).median() if j.height else None
                        for c in MOVED}})
    comp_frame = pl.DataFrame(comp, schema={"year_before": pl.Int64, "year_after": pl.Int64,
                                            "n_other_departments": pl.Int64,
                                            **{f"{c}_change_others_median": pl.Float64 for c in MOVED}})
    return out.join(comp_frame, on=["year_before", "year_after"], how="left").drop("kind", "start_year", "end_year") \
        .sort("programme_id", "department_id")


def protect_tables(t: ProgrammeTables, policy: DisclosurePolicy) -> dict[str, ProtectedTable]:
    out = {"funding": exempt(t.funding, reason=_NO_PERSONS, policy=policy),
           "by_period": exempt(t.by_period, reason=_NO_PERSONS, policy=policy),
           "coverage": exempt(t.coverage, reason=_NO_PERSONS, policy=policy)}
    if t.moved.height:
        out["moved"] = protect_moved(t.moved, policy)
    return out


def protect_moved(moved: pl.DataFrame, policy: DisclosurePolicy) -> ProtectedTable:
    """The moved indicators protected with the counts they are shares of (`_NUMERATORS`, not
    published): a share is suppressed when its count, or the rest of its population (those without
    the trait), is small, and a change when either of its two shares is suppressed (the published
    one and the change would give it back). Residents 18-64 (a two-year mean) are rounded after."""
    whens = ("before", "after")
    numerators = [f"{n}_{w}" for n in _NUMERATORS for w in whens if f"{n}_{w}" in moved.columns]
    counts = [f"{c}_{w}" for c in sorted(set(MOVED.values())) for w in whens] + numerators
    frame = moved.with_columns(pl.col(c).cast(pl.Float64).fill_null(0.0) for c in counts)
    shares = [Share(f"{c}_{w}", f"{d}_{w}", f"{FIELD_COUNTS[c][0]}_{w}" if f"{FIELD_COUNTS[c][0]}_{w}" in numerators
                    else None) for c, d in MOVED.items() for w in whens]
    totals = [Additive([f"{n}_{w}"], f"{d}_{w}", remainder=True) for n, d in part_counts() for w in whens
              if f"{n}_{w}" in numerators and f"{d}_{w}" in counts]
    table = protect(frame, counts=counts, shares=shares, totals=totals, policy=policy, name="moved")
    reasons = {c: r for c, r in table.reasons.items() if c not in numerators}
    for c in MOVED:
        reasons[f"{c}_change"] = [
            before or after
            for before, after in zip(reasons[f"{c}_before"], reasons[f"{c}_after"])]
    published = table.frame.drop(numerators, SUPPRESSED_COLUMN).with_columns(
        *(pl.when(pl.Series([r is not None for r in reasons[f"{c}_change"]])).then(None)
          .otherwise(pl.col(f"{c}_change")).alias(f"{c}_change") for c in MOVED),
        *(pl.col(f"n_18_64_{w}").round(0).cast(pl.Int64) for w in whens),
        *(pl.col(f"{c}_{w}").cast(moved.schema[f"{c}_{w}"]) for c in sorted(set(MOVED.values()) - {"n_18_64"})
          for w in whens))
    marker = [",".join(f"{c}:{rs[i]}" for c, rs in reasons.items() if rs[i] is not None) or None
              for i in range(published.height)]
    published = published.with_columns(pl.Series(SUPPRESSED_COLUMN, marker, dtype=pl.String))
    return replace(table, frame=published, counts=tuple(c for c in table.counts if c not in numerators),
                   reasons=reasons)


def write_programme_outputs(t: ProgrammeTables, out: str | Path, *, registry_file: str, dataset: str,
                            rules_version: str) -> dict[str, str]:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    policy = DisclosurePolicy.load()
    tables = protect_tables(t, policy)
    files = {}
    for name, table in tables.items():
        frame = table.frame.with_columns(pl.col(pl.List(pl.String)).list.join(";")) if table.frame.height else table.frame
        files[name] = str(write_text_atomic(out / f"{name}.csv", frame.write_csv()))
    prov = Provenance(data_vintage=t.vintage, seed=t.seed, dataset=dataset, command="boligmix evaluate programmes",
                      rule_versions={"registry_rules": rules_version, "disclosure_policy": policy.version},
                      settings={"registry": registry_file})
    report = Report(Text("Boligsociale programmer: finansiering, dækning og udvikling",
                         "Housing-social programmes: funding, coverage and development"), provenance=prov,
                    intro=Text("Tabellerne bygger på programregistret. Udviklingen i indikatorerne er beskrivende, "
                               "ikke et effektestimat (brug boligmix evaluate did).",
                               "The tables come from the programme registry. The indicator movement is descriptive, "
                               "not an effect estimate (use boligmix evaluate did)."))
    money = {c: ",.0f" for c in ("budget_dkk", "lbf_dkk", "local_dkk", "budget_per_programme", "lbf_per_department")}
    report.section(Text("Finansiering", "Funding")).table(
        tables["funding"], Text("Programmer", "Programmes"), name="funding", formats=money | {"local_share": ".1%"}).table(
        tables["by_period"], Text("Pr. type og startår", "Per kind and start year"), name="by_period", formats=money)
    report.section(Text("Dækning", "Coverage")).table(
        tables["coverage"], Text("Afdelinger omfattet af et program", "Departments covered by a programme"),
        name="coverage")
    if "moved" in tables:
        report.section(Text("Udvikling i de omfattede afdelinger", "Development of the covered departments"),
                       Text("Året før start sammenlignet med slutåret (eller seneste år med data); til sammenligning "
                            "medianændringen i alle andre afdelinger over de samme år.",
                            "The year before the start against the end year (or the last year with data); for "
                            "comparison the median change of all other departments over the same years.")).table(
            tables["moved"], Text("Officielle indikatorer før og efter", "Official indicators before and after"),
            name="moved", formats={c: ",.1f" for c in tables["moved"].frame.columns if c.startswith("pct_")})
    files["report"] = str(write_html(report, out / "report.html"))
    files["excel"] = str(write_excel(report, out / "report.xlsx"))
    return files
