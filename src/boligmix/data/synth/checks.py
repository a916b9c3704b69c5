"""Measured figures of a generated dataset, for calibration tests, the benchmark and the docs.

These are simple, self-contained measurements on the generated tables (residents on 1 January,
moves, and a profile-level approximation of the list criteria, classified by the rule files
through `profiles.classify`). They check the generator; the official indicator computation is
`boligmix.indicators` and the lists are `boligmix.lists` (list counts of a generated dataset by the
official pipeline: `boligmix.lists.counts`; `data/` imports only `rules/` of the domain packages).
"""

from __future__ import annotations

from datetime import date

import polars as pl

from boligmix.data.residence import january_years, resident_on
from boligmix.data.synth.profiles import classify

OUTSIDE_TYPES = ("kontanthjaelp", "uddannelseshjaelp", "selvforsoergelse_hjemrejse", "overgangsydelse",
                 "foertidspension", "dagpenge", "ressourceforloebsydelse", "ressourceforloebsydelse_jobafklaring",
                 "ledighedsydelse")


def residents_on(residences: pl.DataFrame, day: date) -> pl.DataFrame:
    """Residence spells covering `day` (one row per resident person)."""
    return residences.filter(resident_on(day))


def _nonwestern_persons(tables: dict[str, pl.DataFrame]) -> pl.DataFrame:
    western = tables["countries"].select("country_code", "western").unique("country_code")
    return (tables["persons"].join(western, on="country_code", how="left")
            .with_columns(((pl.col("origin") != "dansk") & ~pl.col("western")).alias("nonwestern"))
            .select("person_id", "birth_date", "nonwestern"))


def population_by_year(tables: dict[str, pl.DataFrame], years: range) -> pl.DataFrame:
    """Residents on 1 January and the year's births, arrivals, deaths and emigrations."""
    res = tables["residences"]
    persons = tables["persons"].select("person_id", "birth_date")
    # each person's first entry and last spell's end, in one sort (a group_by per column cost 40 s nationally)
    spells = (res.sort("person_id", "move_in", maintain_order=True).group_by("person_id", maintain_order=True)
              .agg(pl.col("move_in").first().alias("entry"), pl.col("move_out").last(), pl.col("end_reason").last()))
    first, last = spells.join(persons, on="person_id"), spells
    on_new_year = _residents_on_new_year(res, years.start, years.stop)
    rows = []
    for y in years:
        t0, t1 = date(y, 1, 1), date(y + 1, 1, 1)
        entries = first.filter((pl.col("entry") > t0) & (pl.col("entry") <= t1))
        born = entries.filter(pl.col("entry") == pl.col("birth_date")).height
        exits = last.filter((pl.col("move_out") > t0) & (pl.col("move_out") <= t1))
        rows.append({
            "year": y,
            "residents_1jan": on_new_year[y],
            "residents_next_1jan": on_new_year[y + 1],
            "births": born, "immigrants": entries.height - born,
            "deaths": exits.filter(pl.col("end_reason") == "death").height,
            "emigrants": exits.filter(pl.col("end_reason") == "abroad").height,
        })
    return pl.DataFrame(rows)


def _residents_on_new_year(residences: pl.DataFrame, first_year: int, last_year: int) -> dict[int, int]:
    """{Y: spells covering 1 January Y} for Y in first_year..last_year, in one pass over the spells
    (`january_years` gives each spell's first and last such Y; `residents_on` per year is the oracle)."""
    first, last = january_years(open_until=last_year)
    spans = residences.select(first.clip(first_year, last_year + 1).alias("first"),
                              last.clip(first_year - 1, last_year).alias("last"))
    spans = spans.filter(pl.col("first") <= pl.col("last"))
    starts = spans.group_by("first").len().rename({"first": "year", "len": "start"})
    ends = spans.group_by((pl.col("last") + 1).alias("year")).len().rename({"len": "end"})
    years = pl.DataFrame({"year": pl.int_range(first_year, last_year + 1, eager=True, dtype=pl.Int64)})
    running = (years.join(starts, on="year", how="left").join(ends, on="year", how="left").fill_null(0)
               .sort("year").select("year", (pl.col("start") - pl.col("end")).cum_sum().alias("residents")))
    return dict(running.iter_rows())


def moves(tables: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """Person moves between dwellings: consecutive spells of a person in different dwellings."""
    dw = tables["dwellings"].select("dwelling_id", "tenure", "department_id", "area_id", "municipality_code")
    res = tables["residences"].sort(["person_id", "move_in"])
    same_person = pl.col("person_id").shift(-1) == pl.col("person_id")    # sorted: the next spell is the person's
    nxt = res.with_columns(
        pl.when(same_person).then(pl.col("dwelling_id").shift(-1)).alias("to_dwelling"),
        pl.when(same_person).then(pl.col("move_in").shift(-1)).alias("to_move_in"),
    ).filter(pl.col("to_dwelling").is_not_null() & (pl.col("to_dwelling") != pl.col("dwelling_id")))
    nxt = nxt.join(dw, on="dwelling_id", how="left").join(
        dw.rename({c: f"to_{c}" for c in dw.columns if c != "dwelling_id"}).rename({"dwelling_id": "to_dwelling"}),
        on="to_dwelling", how="left")
    return nxt.select("person_id", "household_id", pl.col("move_out").alias("date"), "tenure", "department_id",
                      "area_id", "municipality_code", "to_tenure", "to_department_id", "to_area_id",
                      "to_municipality_code")


def move_figures(tables: dict[str, pl.DataFrame], mv: pl.DataFrame | None = None) -> dict[str, float]:
    """Shares of the moves (`mv`: `moves(tables)`, computed here when not given)."""
    mv = moves(tables) if mv is None else mv
    from_almen = mv.filter(pl.col("tenure") == "almen")
    other_dept = from_almen.filter((pl.col("to_tenure") == "almen")
                                   & (pl.col("to_department_id") != pl.col("department_id")))
    exits = tables["residences"].filter(pl.col("end_reason").is_not_null())
    almen_dw = tables["dwellings"].filter(pl.col("tenure") == "almen").select("dwelling_id")
    almen_exits = exits.join(almen_dw, on="dwelling_id").height
    return {
        "person_moves": float(mv.height),
        "almen_to_other_almen_share": other_dept.height / max(from_almen.height, 1),
        "almen_to_other_almen_share_incl_exits": other_dept.height / max(from_almen.height + almen_exits, 1),
        "other_municipality_share": mv.filter(pl.col("municipality_code") != pl.col("to_municipality_code")).height
        / max(mv.height, 1),
    }


def area_profiles(tables: dict[str, pl.DataFrame], list_year: int) -> pl.DataFrame:
    """Approximate list criteria per area for a list year (residents on 1 January of the year).

    Window measures average register years Y-2 and Y-1 with the population at the end of each year;
    education and income read year Y-1. Education counts only Danish-registered levels above
    grundskole as more than basic.
    """
    dw = tables["dwellings"].select("dwelling_id", "area_id")
    areas = tables["areas"].select("area_id", "municipality_code").join(
        tables["municipalities"].select("municipality_code", "region_code"), on="municipality_code")
    people = _nonwestern_persons(tables)
    labour = tables["labour"]
    py = tables["person_years"]
    conv = tables["convictions"].select("person_id", "year").unique()

    def at(day: date) -> pl.DataFrame:
        r = residents_on(tables["residences"], day).select("person_id", "dwelling_id").join(dw, on="dwelling_id")
        return r.join(people, on="person_id").with_columns(
            ((pl.lit(day) - pl.col("birth_date")).dt.total_days() / 365.25).alias("age"))

    now = at(date(list_year, 1, 1))
    base = now.filter(pl.col("area_id").is_not_null()).group_by("area_id").agg(
        pl.len().alias("residents"), pl.col("nonwestern").mean().alias("nonwestern"))
    window = []
    for t in (list_year - 2, list_year - 1):
        pop = at(date(t + 1, 1, 1))
        out = (labour.filter((pl.col("year") == t) & pl.col("attachment").is_in(OUTSIDE_TYPES))
               .group_by("person_id").agg(pl.col("fte").sum().clip(0, 1).alias("outside")))
        adults = pop.filter(pl.col("age") >= 18).join(
            conv.filter(pl.col("year") == t).with_columns(pl.lit(True).alias("convicted")).select("person_id", "convicted"),
            on="person_id", how="left").with_columns(pl.col("convicted").fill_null(False))
        national = adults["convicted"].mean()
        w1 = pop.filter((pl.col("age") >= 18) & (pl.col("age") < 65) & pl.col("area_id").is_not_null()).join(
            out, on="person_id", how="left").group_by("area_id").agg(pl.col("outside").fill_null(0).mean())
        w2 = adults.filter(pl.col("area_id").is_not_null()).group_by("area_id").agg(
            (pl.col("convicted").mean() / national).alias("crime_mult"))
        window.append(w1.join(w2, on="area_id", how="full", coalesce=True))
    win = pl.concat(window).group_by("area_id").agg(pl.col("outside").mean(), pl.col("crime_mult").mean())
    pyy = py.filter(pl.col("year") == list_year - 1)
    edu = now.filter((pl.col("age") >= 30) & (pl.col("age") < 60) & pl.col("area_id").is_not_null()).join(
        pyy, on="person_id", how="left").with_columns(
        (pl.col("education_source").fill_null("none") != "dk_registered")
        | pl.col("highest_education").is_in(["grundskole", "uoplyst"]).fill_null(True)).group_by("area_id").agg(
        pl.col("education_source").mean().alias("low_edu"))
    inc = now.join(pyy, on="person_id").filter(
        (pl.col("age") >= 15) & (pl.col("age") < 65) & pl.col("taxpayer") & ~pl.col("in_education"))
    inc = inc.join(areas.select("area_id", "region_code"), on="area_id", how="left")
    muni_region = tables["dwellings"].select("dwelling_id", "municipality_code").join(
        tables["municipalities"].select("municipality_code", "region_code"), on="municipality_code")
    everyone = now.join(pyy, on="person_id").filter(
        (pl.col("age") >= 15) & (pl.col("age") < 65) & pl.col("taxpayer") & ~pl.col("in_education")).join(
        muni_region, on="dwelling_id")
    region_mean = everyone.group_by("region_code").agg(pl.col("gross_income_dkk").mean().alias("region_income"))
    area_inc = inc.filter(pl.col("area_id").is_not_null()).group_by("area_id", "region_code").agg(
        pl.col("gross_income_dkk").mean().alias("income")).join(region_mean, on="region_code").select(
        "area_id", (pl.col("income") / pl.col("region_income")).alias("income_ratio"))
    return (base.join(win, on="area_id", how="left").join(edu, on="area_id", how="left")
            .join(area_inc, on="area_id", how="left").sort("area_id"))


def list_counts(profile: pl.DataFrame, rules: str) -> dict[str, int]:
    """Profile-level list membership counts from measured area criteria (see `profiles.classify`;
    the rule set's residents criterion decides which areas count)."""
    areas = profile.fill_null(0.0)
    values = {k: areas[k].to_numpy().astype(float)
              for k in ("residents", "nonwestern", "outside", "crime_mult", "low_edu", "income_ratio")}
    return {k: int(v.sum()) for k, v in classify(values, rules).items()}


def mover_differences(tables: dict[str, pl.DataFrame], year: int, area_ids: list[str] | None = None) -> dict[str, float]:
    """Employment and outside-work shares (18-64) of in-movers, out-movers and stayers of areas in `year`."""
    dw = tables["dwellings"].select("dwelling_id", "area_id")
    res = tables["residences"].join(dw, on="dwelling_id")
    if area_ids is not None:
        res = res.with_columns(pl.when(pl.col("area_id").is_in(area_ids)).then(pl.col("area_id")).otherwise(None))
    t0, t1 = date(year, 1, 1), date(year + 1, 1, 1)
    start = residents_on(res, t0).select("person_id", pl.col("area_id").alias("a0"))
    end = residents_on(res, t1).select("person_id", pl.col("area_id").alias("a1"))
    both = start.join(end, on="person_id", how="full", coalesce=True)
    persons = tables["persons"].select("person_id", "birth_date")
    both = both.join(persons, on="person_id").with_columns(
        ((pl.lit(t0) - pl.col("birth_date")).dt.total_days() / 365.25).alias("age")).filter(
        (pl.col("age") >= 18) & (pl.col("age") < 64))
    lab = tables["labour"].filter(pl.col("year") == year)
    emp = lab.filter(pl.col("attachment") == "employment").group_by("person_id").agg(pl.col("fte").sum().alias("emp"))
    out = lab.filter(pl.col("attachment").is_in(OUTSIDE_TYPES)).group_by("person_id").agg(
        pl.col("fte").sum().alias("out"))
    both = both.join(emp, on="person_id", how="left").join(out, on="person_id", how="left").fill_null(0.0)
    groups = {
        "stayers": both.filter(pl.col("a0").is_not_null() & (pl.col("a0") == pl.col("a1"))),
        "in_movers": both.filter(pl.col("a1").is_not_null() & (pl.col("a0").is_null() | (pl.col("a0") != pl.col("a1")))),
        "out_movers": both.filter(pl.col("a0").is_not_null() & (pl.col("a1").is_null() | (pl.col("a0") != pl.col("a1")))),
    }
    result: dict[str, float] = {}
    for name, g in groups.items():
        result[f"{name}_n"] = float(g.height)
        result[f"{name}_employed"] = float((g["emp"] >= 0.5).mean()) if g.height else float("nan")
        result[f"{name}_outside"] = float(g["out"].mean()) if g.height else float("nan")
    return result


def headline(tables: dict[str, pl.DataFrame], last_year: int) -> dict[str, float]:
    """Key figures on 1 January of the last year."""
    day = date(last_year, 1, 1)
    res = residents_on(tables["residences"], day)
    dw = tables["dwellings"].select("dwelling_id", "tenure", "area_id")
    r = res.join(dw, on="dwelling_id").join(_nonwestern_persons(tables), on="person_id")
    area_sizes = r.filter(pl.col("area_id").is_not_null()).group_by("area_id").len()
    return {
        "residents": float(r.height),
        "almen_residents": float(r.filter(pl.col("tenure") == "almen").height),
        "almen_share": float((r["tenure"] == "almen").mean()),
        "nonwestern_share": float(r["nonwestern"].mean()),
        "areas_1000_plus": float(area_sizes.filter(pl.col("len") >= 1000).height),
        "area_nonwestern_share": float(r.filter(pl.col("area_id").is_not_null())["nonwestern"].mean()),
    }
