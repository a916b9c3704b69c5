"""Estimating the rate tables (`rates.Rates`) from a dataset's own history: the year-by-year
counting of events and persons (households) at risk over the estimation years' pairs of 1 January
populations, then the shrinkage of every table towards its parent segment. What each table holds
is described in `boligmix.simulate.rates`."""

from __future__ import annotations

import dataclasses
import os
from datetime import date

import numpy as np
import polars as pl

from boligmix.data.io import read_table, scan_table
from boligmix.data.schema import TENURES
from boligmix.errors import DatasetError
from boligmix.simulate.behaviour import (CONVICTION_CELL_COLUMNS, Behaviour, estimate_area_conviction,
                                         estimate_child_danish, estimate_move_origin)
from boligmix.simulate.destination import basic_expr, estimate_area_choice
from boligmix.simulate.rates import (
    AREA_BANDS,
    BIRTH_BANDS,
    CONVICTION_BANDS,
    DEATH_BANDS,
    HEAD_BANDS,
    HISTORY_YEARS,
    LEAVE_BANDS,
    OUTSIDE_BANDS,
    PRIOR_WEIGHT,
    SIZE_BANDS,
    STATUS_BANDS,
    STATUSES,
    Rates,
    _shrunk,
    area_band,
    area_bands,
    area_outside_effects,
    band,
    nearest_seen_bands,
    outside_band,
    outside_history,
    statuses,
)
from boligmix.simulate.transitions import TransitionCounts, add_counts, built_in


def estimate_rates(dataset_dir: str | os.PathLike[str], start: int, years: int = 5,
                   outside_attachments: tuple[str, ...] | None = None) -> Rates:
    """Estimate every rate from the `years` year pairs (t, t+1) ending at 1 January `start`."""
    if outside_attachments is None:
        from boligmix.indicators import settings_for_list_year

        outside_attachments = settings_for_list_year(start).outside_attachments
    outside = np.array([s in outside_attachments for s in STATUSES], dtype=bool)
    first = start - years
    residences = read_table(dataset_dir, "residences")
    persons = read_table(dataset_dir, "persons")
    countries = read_table(dataset_dir, "countries")
    western = set(countries.filter(pl.col("western"))["country_code"].to_list())
    dwellings = read_table(dataset_dir, "dwellings", ["dwelling_id", "tenure", "area_id"])
    # the year filters are pushed into the scans, and the main statuses are found one year at a time
    # (memory only: the tables are sorted by year at national scale, so whole row groups are skipped
    # instead of being read and then dropped, and eleven years of labour rows are never held at once)
    labour = scan_table(dataset_dir, "labour")
    convictions = scan_table(dataset_dir, "convictions").filter(pl.col("year").is_between(first - 1, start - 1)).collect()
    if residences.filter(pl.col("move_in") >= date(first, 1, 1)).height == 0:
        raise DatasetError(f"{dataset_dir}: no residence history in {first}-{start - 1} to estimate rates from")
    persons = persons.with_columns(
        (~pl.col("country_code").is_in(sorted(western)) & (pl.col("origin") != "dansk")).alias("nonwestern"),
        (pl.col("sex") == "F").alias("female")).drop("sex")      # memory: `female` is read
    tenure_code = {t: i for i, t in enumerate(TENURES)}
    dwellings = dwellings.with_columns(pl.col("tenure").replace_strict(tenure_code, return_dtype=pl.Int64))
    status = pl.concat([statuses(labour.filter(pl.col("year") == y).collect()).cast({"year": pl.Int16, "status": pl.Int8})
                        for y in range(first - HISTORY_YEARS, start)], how="vertical_relaxed")   # narrow: memory
    convicted = convictions.select("person_id", "year").unique().with_columns(pl.lit(True).alias("convicted"))

    death_ev = np.zeros((len(DEATH_BANDS), 2)); death_n = np.zeros_like(death_ev)
    birth_ev = np.zeros((len(BIRTH_BANDS), 2)); birth_n = np.zeros_like(birth_ev)
    emig_ev = np.zeros((2, len(HEAD_BANDS))); emig_n = np.zeros_like(emig_ev)
    leave_ev = np.zeros(len(LEAVE_BANDS)); leave_n = np.zeros_like(leave_ev)
    move_shape = (len(TENURES), len(HEAD_BANDS), len(SIZE_BANDS), len(AREA_BANDS) + 1)
    move_ev = np.zeros(move_shape); move_n = np.zeros(move_shape)
    dest_ev = np.zeros((2, 2, 2)); dest_n = np.zeros((2, 2, 2))
    into_almen: list[pl.DataFrame] = []
    trans = np.zeros((len(STATUS_BANDS), 2, len(STATUSES), len(STATUSES)))
    out_ev = np.zeros((len(STATUS_BANDS), HISTORY_YEARS + 1, len(OUTSIDE_BANDS) + 1)); out_n = np.zeros_like(out_ev)
    conv_ev = np.zeros((len(STATUS_BANDS), 2, 2, len(CONVICTION_BANDS) + 1)); conv_n = np.zeros_like(conv_ev)
    area_cells: list[pl.DataFrame] = []
    move_origin_ev = np.zeros((*move_shape, 2)); move_origin_n = np.zeros_like(move_origin_ev)  # behaviour.py
    conviction_cells: list[pl.DataFrame] = []
    birth_cells: list[pl.DataFrame] = []
    immigrant_frames: list[pl.DataFrame] = []
    immigrant_counts: list[int] = []
    dwelling_place = read_table(dataset_dir, "dwellings", ["dwelling_id", "municipality_code", "tenure", "area_id"])
    education = scan_table(dataset_dir, "person_years").select("person_id", "year", "highest_education", "education_source"
                                                               ).filter(pl.col("year").is_between(first - 1, start - 1)).collect(
    ).cast({"year": pl.Int16, "highest_education": pl.Categorical, "education_source": pl.Categorical})  # narrow
    transition_counts = TransitionCounts(
        np.unique(dwelling_place["municipality_code"].to_numpy()),
        education,
        dwelling_place.select("dwelling_id", "municipality_code"))
    first_spell = residences.group_by("person_id").agg(pl.col("move_in").min().alias("first_in"))
    # loop-invariant, computed once: each person's first spell (the household a child is born into)
    # and the first spells that begin in the estimation years (immigrants' arrivals)
    first_household = residences.sort("move_in").group_by("person_id", maintain_order=True).first().select(
        "person_id", "household_id")
    first_spells = residences.join(first_spell, on="person_id").filter(
        (pl.col("move_in") == pl.col("first_in")) & pl.col("move_in").dt.year().is_between(first, start - 1))
    del first_spell
    ended = residences.filter(pl.col("end_reason").is_not_null()).select(
        "person_id", pl.col("move_out").dt.year().alias("end_year"), "end_reason")
    residences = residences.drop("end_reason")      # memory: read by `ended` only

    for t in range(first, start):
        on, nxt = date(t, 1, 1), date(t + 1, 1, 1)
        now = _residents(residences, on).join(persons, on="person_id").join(dwellings, on="dwelling_id", how="left")
        age = ((on - pl.col("birth_date")).dt.total_days() // 365.25).cast(pl.Int64)
        now = now.with_columns(age.alias("age")).join(
            education.filter(pl.col("year") == t - 1).select("person_id", "highest_education"), on="person_id",
            how="left").with_columns(basic_expr().alias("basic"))
        later = _residents(residences, nxt).rename({"household_id": "hh_next", "dwelling_id": "dw_next"})
        now = (now.join(later, on="person_id", how="left")
               .join(ended.filter(pl.col("end_year") == t).drop("end_year"), on="person_id", how="left"))
        a = now["age"].to_numpy(); fem = now["female"].to_numpy().astype(int)
        died = (now["end_reason"] == "death").fill_null(False).to_numpy()
        add_counts(death_ev, (band(a, DEATH_BANDS), fem), died)
        add_counts(death_n, (band(a, DEATH_BANDS), fem), 1)
        # households: head = oldest member
        hh = now.sort(["household_id", "birth_date", "person_id"]).group_by("household_id", maintain_order=True).agg(
            pl.col("age").first().alias("head_age"), pl.col("nonwestern").first().alias("head_nw"),
            pl.col("dwelling_id").first(), pl.col("tenure").first(), pl.col("area_id").first(),
            pl.len().alias("size"), pl.col("dw_next").first().alias("head_next"),
            pl.col("end_reason").first().alias("head_end"), pl.col("basic").first().alias("head_basic"))
        area_nw = now.filter(pl.col("area_id").is_not_null()).group_by("area_id").agg(
            pl.col("nonwestern").mean().alias("area_nw"))
        hh = hh.join(area_nw, on="area_id", how="left")
        hb = band(hh["head_age"].to_numpy(), HEAD_BANDS); hnw = hh["head_nw"].to_numpy().astype(int)
        emigrated = (hh["head_end"] == "abroad").fill_null(False).to_numpy()
        add_counts(emig_ev, (hnw, hb), emigrated); add_counts(emig_n, (hnw, hb), 1)
        stays = hh["head_next"].is_not_null().to_numpy()
        moved = stays & (hh["head_next"].fill_null(-1).to_numpy() != hh["dwelling_id"].to_numpy())
        ten = hh["tenure"].fill_null(tenure_code["other"]).to_numpy()
        sb = band(hh["size"].to_numpy(), SIZE_BANDS)
        ab = area_band(hh["area_nw"].fill_null(0.0).to_numpy(), hh["area_id"].is_not_null().to_numpy())
        add_counts(move_ev, (ten, hb, sb, ab), moved); add_counts(move_n, (ten, hb, sb, ab), stays)
        add_counts(move_origin_ev, (ten, hb, sb, ab, hnw), moved)
        add_counts(move_origin_n, (ten, hb, sb, ab, hnw), stays)
        dest = hh.filter(pl.Series(moved)).join(dwellings.rename({"dwelling_id": "head_next", "tenure": "t_next",
                                                                  "area_id": "a_next"}), on="head_next", how="left")
        from_almen = (dest["tenure"] == tenure_code["almen"]).to_numpy().astype(int)
        to_almen = (dest["t_next"] == tenure_code["almen"]).fill_null(False).to_numpy()
        dest_key = (from_almen, dest["head_nw"].to_numpy().astype(int), dest["head_basic"].to_numpy().astype(int))
        add_counts(dest_ev, dest_key, to_almen)
        add_counts(dest_n, dest_key, 1)
        into_almen.append(dest.filter(pl.Series(to_almen)).join(
            dwelling_place.select(pl.col("dwelling_id").alias("head_next"), "municipality_code"), on="head_next",
            how="left").select(pl.col("head_nw").cast(pl.Int64).alias("nonwestern"),
                               pl.col("head_basic").cast(pl.Int64).alias("basic"),
                               pl.col("municipality_code").alias("municipality"), pl.col("a_next").alias("area_id")))
        # leaving home: a non-head 18-29 still resident, in another household next year
        heads = (now.sort(["household_id", "birth_date", "person_id"]).group_by("household_id", maintain_order=True)
                 .agg(pl.col("person_id").first())["person_id"])
        transition_counts.add_year(t, now, heads)
        young = now.filter(pl.col("age").is_between(18, 29) & ~pl.col("person_id").is_in(heads.implode())
                           & pl.col("hh_next").is_not_null())
        left = (young["hh_next"] != young["household_id"]).to_numpy()
        lb = band(young["age"].to_numpy(), LEAVE_BANDS)
        add_counts(leave_ev, lb, left); add_counts(leave_n, lb, 1)
        # births: a child born in t is attributed to the oldest woman 15-49 (on 1 January t) of the
        # household it was born into, living there on its birth day (also after she left home)
        born = persons.filter(pl.col("birth_date").dt.year() == t).join(first_household, on="person_id")
        women = now.filter(pl.col("female") & pl.col("age").is_between(15, 49))
        candidates = (born.select("household_id", pl.col("person_id").alias("child"), pl.col("birth_date").alias("bd"))
                      .join(residences.select("person_id", "household_id", "move_in", "move_out"), on="household_id")
                      .filter((pl.col("move_in") <= pl.col("bd"))
                              & (pl.col("move_out").is_null() | (pl.col("move_out") > pl.col("bd"))))
                      .join(women.select("person_id", "age"), on="person_id"))
        mothers = candidates.sort(["child", "age", "person_id"], descending=[False, True, False]).group_by(
            "child", maintain_order=True).first()
        per_woman = women.join(mothers.group_by("person_id").len().rename({"len": "births"}), on="person_id",
                               how="left")
        wb = band(per_woman["age"].to_numpy(), BIRTH_BANDS); wnw = per_woman["nonwestern"].to_numpy().astype(int)
        add_counts(birth_ev, (wb, wnw), per_woman["births"].fill_null(0).to_numpy())
        add_counts(birth_n, (wb, wnw), 1)
        birth_cells.append(mothers.select("person_id", "child").join(
            persons.select("person_id", pl.col("origin").alias("mother_origin")), on="person_id").join(
            persons.select(pl.col("person_id").alias("child"), pl.col("origin").alias("child_origin")), on="child"))
        # labour status transitions and convictions of persons resident on both dates
        both = now.filter(pl.col("dw_next").is_not_null()).join(area_nw, on="area_id", how="left").select(
            "person_id", "age", "nonwestern", "female", "area_id", "area_nw")
        pair = (both.join(status.filter(pl.col("year") == t - 1).select("person_id", pl.col("status").alias("s0")),
                          on="person_id", how="left")

                .join(status.filter(pl.col("year") == t).select("person_id", pl.col("status").alias("s1")),
                      on="person_id", how="left")
                .join(convicted.filter(pl.col("year") == t - 1).select("person_id", pl.col("convicted").alias("c0")),
                      on="person_id", how="left")
                .join(convicted.filter(pl.col("year") == t).select("person_id", pl.col("convicted").alias("c1")),
                      on="person_id", how="left"))
        sbnd = band(pair["age"].to_numpy() + 1, STATUS_BANDS)
        pnw = pair["nonwestern"].to_numpy().astype(int)
        s0 = pair["s0"].fill_null(0).to_numpy()
        for back in range(2, HISTORY_YEARS + 1):
            pair = pair.join(status.filter(pl.col("year") == t - back).select(
                "person_id", pl.col("status").alias(f"h{back}")), on="person_id", how="left")
        hist = outside_history([s0, *(pair[f"h{b}"].fill_null(0).to_numpy() for b in range(2, HISTORY_YEARS + 1))],
                               outside)
        pair = pair.with_columns(pl.Series("out0", outside[s0]))
        area_out = pair.filter(pl.col("area_id").is_not_null() & pl.col("age").is_between(18, 64)).group_by(
            "area_id").agg(pl.col("out0").mean().alias("area_out"))
        pair = pair.join(area_out, on="area_id", how="left")
        pab = outside_band(pair["area_out"].fill_null(0.0).to_numpy(), pair["area_id"].is_not_null().to_numpy())
        s1 = pair["s1"].fill_null(0).to_numpy()
        add_counts(trans, (sbnd, pnw, s0, s1), 1)
        add_counts(out_ev, (sbnd, hist, pab), outside[s1]); add_counts(out_n, (sbnd, hist, pab), 1)
        working = (pair["area_id"].is_not_null() & (pair["age"] + 1).is_between(18, 64)).to_numpy()
        area_cells.append(pl.DataFrame({"area_id": pair["area_id"].cast(pl.Categorical).filter(working),  # narrow
                                        "band": sbnd[working].astype(np.int8), "hist": hist[working].astype(np.int8),
                                        "ab": pab[working].astype(np.int8), "out": outside[s1][working]}))
        c0 = pair["c0"].fill_null(False).to_numpy().astype(int)
        area_conv = pair.filter(pl.col("area_id").is_not_null() & (pl.col("age") >= 18)).group_by("area_id").agg(
            pl.col("c0").fill_null(False).mean().alias("area_conv"))
        cab = area_bands(pair.join(area_conv, on="area_id", how="left")["area_conv"].to_numpy(),
                         pair["area_id"].is_not_null().to_numpy(), CONVICTION_BANDS)
        key = (sbnd, pair["female"].to_numpy().astype(int), c0, cab)
        add_counts(conv_ev, key, pair["c1"].fill_null(False).to_numpy())
        add_counts(conv_n, key, 1)
        conviction_cells.append(pl.DataFrame({"area_id": pair["area_id"].cast(pl.String), "band": sbnd,
                                              "female": key[1], "convicted_before": c0,
                                              "c1": pair["c1"].fill_null(False)}).filter(
            pl.col("area_id").is_not_null() & pl.Series((pair["age"] + 1 >= 15).to_numpy())).group_by(
            CONVICTION_CELL_COLUMNS[:4]).agg(pl.len().alias("persons"), pl.col("c1").sum().alias("convicted")))
        # immigrant households: everyone's first spell starts in t and they were born before t
        arrivals = (first_spells.filter(pl.col("move_in").dt.year() == t)
                    .join(persons, on="person_id").filter(pl.col("birth_date") < date(t, 1, 1)))
        # (a household with a child born in the arrival year is an immigrant household too: its members
        # born before t are kept, the child is a birth; dropping such households lost 7 % of the
        # immigrants into the areas in 2007-2011 at municipality scale, docs/simulate.md session 7)
        arrivals = arrivals.filter(~pl.col("household_id").is_in(now["household_id"].unique().implode()))
        immigrant_counts.append(arrivals["household_id"].n_unique())
        # where they arrived: the municipality, whether the dwelling is almen and its area; and each
        # member's FTE on an outside attachment in the arrival year (the municipality refers such households)
        arrival_outside = labour.filter((pl.col("year") == t) & pl.col("attachment").is_in(list(outside_attachments))
                                        ).group_by("person_id").agg(pl.col("fte").sum().alias("outside_fte")).collect()
        arrivals = (arrivals.join(dwelling_place, on="dwelling_id", how="left")
                    .join(arrival_outside, on="person_id", how="left"))
        immigrant_frames.append(arrivals.sort("household_id", "person_id").select(
            pl.col("household_id").alias("household"),
            ((pl.col("move_in") - pl.col("birth_date")).dt.total_days() // 365.25).cast(pl.Int64).alias("age"),
            "female", "origin", "country_code", "nonwestern",
            pl.col("municipality_code").first().over("household_id").alias("municipality"),
            (pl.col("tenure").first().over("household_id") == "almen").fill_null(False).alias("almen"),
            pl.col("area_id").first().over("household_id"), pl.col("outside_fte").fill_null(0.0)))

    death = _shrunk(death_ev, death_n, death_ev.sum(axis=1, keepdims=True) / np.maximum(death_n.sum(axis=1, keepdims=True), 1))
    birth = _shrunk(birth_ev, birth_n, birth_ev.sum(axis=1, keepdims=True) / np.maximum(birth_n.sum(axis=1, keepdims=True), 1))
    emigration = _shrunk(emig_ev, emig_n, emig_ev.sum(axis=0, keepdims=True) / np.maximum(emig_n.sum(axis=0, keepdims=True), 1))
    leave = _shrunk(leave_ev, leave_n, np.full(leave_ev.shape, leave_ev.sum() / max(leave_n.sum(), 1)))
    parent = move_ev.sum(axis=(2, 3), keepdims=True) / np.maximum(move_n.sum(axis=(2, 3), keepdims=True), 1)
    move = _shrunk(move_ev, move_n, np.broadcast_to(parent, move_shape))
    almen_stock = dwelling_place.filter(pl.col("tenure") == "almen").select(
        pl.col("municipality_code").alias("municipality"), "area_id")
    area_choice = estimate_area_choice(pl.concat(into_almen), almen_stock, PRIOR_WEIGHT)
    dest_origin = _shrunk(dest_ev.sum(axis=2), dest_n.sum(axis=2), dest_ev.sum(axis=(1, 2))[:, None] / np.maximum(
        dest_n.sum(axis=(1, 2))[:, None], 1))
    dest = _shrunk(dest_ev, dest_n, dest_origin[:, :, None])
    # parent: the same history and area band over every age band 18-69 (the area effect is kept), itself
    # shrunk towards the age band and history over every area band, and that towards the history over
    # the adult age bands: an area band the estimation years never saw keeps the history's effect (with
    # the overall mean as its parent, a start-state area in such a band fell from 52 % to 13 % in one
    # simulated year; docs/simulate.md, Backcast)
    adult = (STATUS_BANDS >= 18) & (STATUS_BANDS < 70)
    by_hist = (out_ev[adult].sum(axis=(0, 2)) + PRIOR_WEIGHT * out_ev.sum() / max(out_n.sum(), 1)) / (
        out_n[adult].sum(axis=(0, 2)) + PRIOR_WEIGHT)
    by_age_hist = _shrunk(out_ev.sum(axis=2), out_n.sum(axis=2), np.broadcast_to(by_hist, out_ev.shape[:2]))
    out_parent = (out_ev[adult].sum(axis=0, keepdims=True) + PRIOR_WEIGHT * by_age_hist[:, :, None]) / (
        out_n[adult].sum(axis=0, keepdims=True) + PRIOR_WEIGHT)
    outside_p = nearest_seen_bands(_shrunk(out_ev, out_n, np.broadcast_to(out_parent, out_ev.shape)),
                                   out_n[adult].sum(axis=(0, 1)))
    probs = np.zeros((*trans.shape[:3], 2, len(STATUSES)))
    for flag in (0, 1):                                           # the status given outside next (or not)
        part = np.where(outside[None, None, None, :] == bool(flag), trans, 0.0)
        pooled = part.sum(axis=(1, 2), keepdims=True)             # both origin groups, every status before
        counts = part + PRIOR_WEIGHT * pooled / np.maximum(pooled.sum(axis=-1, keepdims=True), 1)
        total = counts.sum(axis=-1, keepdims=True)
        fallback = np.where(outside == bool(flag), 1.0, 0.0) / max(int((outside == bool(flag)).sum()), 1)
        probs[:, :, :, flag, :] = np.where(total > 0, counts / np.maximum(total, 1e-12), fallback)
    conv_parent = (conv_ev.sum(axis=(0, 1), keepdims=True) + PRIOR_WEIGHT * conv_ev.sum(axis=(1, 3), keepdims=True)
                   / np.maximum(conv_n.sum(axis=(1, 3), keepdims=True), 1)) / (conv_n.sum(axis=(0, 1), keepdims=True)
                                                                                + PRIOR_WEIGHT)
    conv_age = conv_ev.sum(axis=(1, 3), keepdims=True) / np.maximum(conv_n.sum(axis=(1, 3), keepdims=True), 1)
    conv_all = conv_ev.sum(axis=(0, 1, 3), keepdims=True) / np.maximum(conv_n.sum(axis=(0, 1, 3), keepdims=True), 1)
    # parent: the area band's rate scaled by the age band's relative rate (age and area multiply)
    conv = _shrunk(conv_ev, conv_n, np.minimum(conv_parent * conv_age / np.maximum(conv_all, 1e-12), 1.0))
    pool = pl.concat(immigrant_frames) if immigrant_frames else pl.DataFrame()
    return Rates((first, start - 1), death, birth, emigration, leave, move, dest, area_choice, outside_p, np.cumsum(probs, axis=-1), outside, conv,
                 float(np.mean(immigrant_counts)) if immigrant_counts else 0.0, pool, dataclasses.replace(
                     transition_counts.finish(), built=built_in(residences, read_table(dataset_dir, "dwellings"),
                                                                first, start - 1)),
                 area_outside_effects(pl.concat(area_cells).with_columns(pl.col("area_id").cast(pl.String)), outside_p),
                 Behaviour(estimate_move_origin(move_origin_ev, move_origin_n, move, PRIOR_WEIGHT),
                           *estimate_area_conviction(pl.concat(conviction_cells), conv.shape[:3], PRIOR_WEIGHT),
                           estimate_child_danish(pl.concat(birth_cells), PRIOR_WEIGHT)))


def _residents(residences: pl.DataFrame, on: date) -> pl.DataFrame:
    return residences.filter((pl.col("move_in") <= on) & (pl.col("move_out").is_null() | (pl.col("move_out") > on))
                             ).select("person_id", "household_id", "dwelling_id")


__all__ = ["estimate_rates"]
