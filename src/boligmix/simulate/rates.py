"""Rates estimated from a dataset's own history, for the years before the simulation starts.

For every pair of consecutive 1 January populations (t, t+1) of the estimation years the
residents, their households and dwellings are compared; each rate is events / persons (or
households) at risk within a segment, shrunk towards its coarser parent segment with
`PRIOR_WEIGHT` pseudo-observations so that thin segments borrow strength. Tables (all written
to the run's `rates-internal/` directory by `Rates.write`):

    death.csv            person: age band x sex                         -> probability in the year
    birth.csv            woman 15-49: age band x non-western            -> births per woman
    emigration.csv       household: head non-western x head age band    -> probability
    leave_home.csv       non-head person 18-29: age band                -> probability of forming a household
    move.csv             household: tenure x head age band x size band x area band -> probability of moving
    destination.csv      moving household: from almen x head non-western x head basic education (`BASIC_LEVELS`)
                         -> probability the new dwelling is almen
    destination_area.csv household moving into almen: head non-western x municipality -> the area of the new
                         dwelling (or none), shrunk towards both groups' shares and those towards the almen stock
                         of each area: where seekers apply (`destination.AreaChoice`)
    outside.csv          person: age band x years mainly outside of the last six x area outside band
                         -> probability of being mainly outside next year (outside: the indicator settings'
                         outside attachments; the area band is the area's share of 18-64s mainly outside)
    area_outside_effect.csv  per area: the offset on the logit scale that makes the outside rates of its
                         residents 18-64 (age on 1 January t+1) sum to the events it had over the estimation
                         years, shrunk with PRIOR_WEIGHT pseudo-observations at the rates without it. The data's
                         areas keep levels beyond their residents' cells and band; without the effect the
                         simulated shares drifted (docs/simulate.md, Backcast)
    status.csv           person: age band x non-western x status_t x outside next -> status_t+1 distribution
    conviction.csv       person 15+: age band x sex x convicted_t-1 x area conviction band -> probability of a
                         conviction (area band: the area's share of persons 18+ convicted last year)
    immigration.csv      immigrant households per year (mean) and persons per household
    immigrant_destination.csv  immigrant households of the estimation years by the municipality they arrived
                         in, whether the dwelling was almen and its area (an immigrant household of the
                         simulation is a clone of one of them and seeks where it arrived)
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from boligmix.data.io import read_table, scan_table
from boligmix.data.schema import ATTACHMENT_TYPES, TENURES
from boligmix.errors import DatasetError
from boligmix.simulate.behaviour import (CONVICTION_CELL_COLUMNS, Behaviour, estimate_area_conviction,
                                         estimate_child_danish, estimate_move_origin)
from boligmix.simulate.destination import AreaChoice, basic_expr, estimate_area_choice
from boligmix.simulate.transitions import TransitionCounts, Transitions, add_counts, built_in

PRIOR_WEIGHT = 20.0
HISTORY_YEARS = 6
"""Years of labour history whose count of 'mainly outside' years predicts next year's (a proxy for a
person's persistent propensity)."""
STATUSES: tuple[str, ...] = ("none", *ATTACHMENT_TYPES)
DEATH_BANDS = np.arange(0, 100, 5)                     # 0-4 ... 95+
BIRTH_BANDS = np.array([15, 20, 25, 30, 35, 40, 45])    # 15-19 ... 45-49
HEAD_BANDS = np.array([0, 30, 50, 67])                  # <30, 30-49, 50-66, 67+
LEAVE_BANDS = np.array([18, 20, 22, 25])                # 18-19, 20-21, 22-24, 25-29
STATUS_BANDS = np.array([0, 15, 18, 25, 30, 40, 50, 60, 65, 70])
SIZE_BANDS = np.array([1, 2, 3])                        # 1, 2, 3+
OUTSIDE_BANDS = np.array([0.0, 0.15, 0.25, 0.35, 0.45, 0.55, 0.65])  # area share of 18-64 mainly outside (status area band)
AREA_BANDS = np.array([0.0, 0.3, 0.5])
CONVICTION_BANDS = np.array([0.0, 0.01, 0.02, 0.03, 0.045])  # area share of persons 18+ convicted last year                  # share non-western of the area: <30 %, 30-50 %, 50 %+ (band 0: no area)


def band(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Index of the band each value falls in (values below the first edge: band 0). Many integer
    values (ages) are looked up in a table of their range's bands: the same bands, without a binary
    search per value (a fifth of the national estimation's CPU)."""
    values = np.asarray(values)
    if values.dtype.kind in "iu" and values.size > 4096:
        lo, hi = int(values.min()), int(values.max())
        if hi - lo < 1 << 16 and hi < 1 << 62:
            table = _band_search(np.arange(lo, hi + 1, dtype=values.dtype), edges)
            return table[values.astype(np.int64) - lo]
    return _band_search(values, edges)


def _band_search(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    return np.clip(np.searchsorted(edges, values, side="right") - 1, 0, len(edges) - 1).astype(np.int64)


def area_bands(share: np.ndarray, has_area: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """0: no area; 1..: the band of an area share."""
    return np.where(has_area, band(np.nan_to_num(np.asarray(share, dtype=float)), edges) + 1, 0)


def outside_band(share: np.ndarray, has_area: np.ndarray) -> np.ndarray:
    """0: no area; 1..5: the area's share of 18-64-year-olds mainly on an outside attachment last year."""
    return np.where(has_area, band(np.nan_to_num(share), OUTSIDE_BANDS) + 1, 0)


def area_band(share: np.ndarray, has_area: np.ndarray) -> np.ndarray:
    """0: no area; 1..3: the area's non-western share below 30 %, 30-50 %, 50 % and more."""
    return np.where(has_area, band(np.nan_to_num(share), AREA_BANDS) + 1, 0)


def _shrunk(events: np.ndarray, exposure: np.ndarray, parent_rate: np.ndarray) -> np.ndarray:
    return (events + PRIOR_WEIGHT * parent_rate) / (exposure + PRIOR_WEIGHT)


@dataclass
class Rates:
    """Estimated rate tables as dense arrays indexed by segment codes (see the module docstring)."""

    years: tuple[int, int]
    death: np.ndarray            # [age band, female]
    birth: np.ndarray            # [age band, nonwestern]
    emigration: np.ndarray       # [nonwestern, head band]
    leave_home: np.ndarray       # [band]
    move: np.ndarray             # [tenure, head band, size band, area band]
    destination_almen: np.ndarray  # [from almen, nonwestern, basic education]
    area_choice: AreaChoice      # households moving into almen: the area they apply in (destination.py)
    outside: np.ndarray          # [age band, outside years of the last HISTORY_YEARS, area outside band]
    status: np.ndarray           # [age band, nonwestern, status_t, outside next, status_t+1] cumulative
    outside_statuses: np.ndarray  # bool per status: an outside attachment
    conviction: np.ndarray       # [age band, female, convicted before, area conviction band]
    immigrant_households: float
    immigrant_pool: pl.DataFrame  # members of recent immigrant households: household, age at arrival, sex, origin,
    #                               country; the household's arrival municipality, almen dwelling, area; the
    #                               member's FTE on an outside attachment in the arrival year
    transitions: Transitions | None = None   # education, moves between municipalities (transitions.py)
    area_outside_effect: dict[str, float] = dataclasses.field(default_factory=dict)
    # per area: logit offset of the outside rate of its residents 18-64 beyond their cells (module docstring)
    behaviour: Behaviour | None = None       # move hazard by origin, area conviction levels (behaviour.py)

    def write(self, out_dir: str | os.PathLike[str]) -> None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)

        def frame(array: np.ndarray, names: list[str], value: str) -> pl.DataFrame:
            grid = np.indices(array.shape).reshape(len(array.shape), -1)
            return pl.DataFrame({**{n: grid[i] for i, n in enumerate(names)}, value: array.reshape(-1)})

        frame(self.death, ["age_band_from", "female"], "probability").with_columns(
            pl.col("age_band_from").map_elements(lambda i: int(DEATH_BANDS[i]), return_dtype=pl.Int64)
        ).write_csv(out / "death.csv")
        frame(self.birth, ["age_band", "nonwestern"], "births_per_woman").with_columns(
            pl.col("age_band").map_elements(lambda i: int(BIRTH_BANDS[i]), return_dtype=pl.Int64)
        ).write_csv(out / "birth.csv")
        frame(self.emigration, ["nonwestern", "head_age_band"], "probability").write_csv(out / "emigration.csv")
        frame(self.leave_home, ["age_band"], "probability").write_csv(out / "leave_home.csv")
        frame(self.move, ["tenure", "head_age_band", "size_band", "area_band"], "probability").with_columns(
            pl.col("tenure").map_elements(lambda i: TENURES[i], return_dtype=pl.String)
        ).write_csv(out / "move.csv")
        self.area_choice.frame().write_csv(out / "destination_area.csv")
        frame(self.destination_almen, ["from_almen", "nonwestern", "basic"], "probability_almen").write_csv(
            out / "destination.csv")
        probs = np.diff(self.status, axis=-1, prepend=0.0)
        frame(self.outside, ["age_band", "outside_years_before", "area_outside_band"], "probability").write_csv(
            out / "outside.csv")
        frame(probs, ["age_band", "nonwestern", "status_from", "outside_next", "status_to"], "probability").with_columns(
            pl.col("status_from").map_elements(lambda i: STATUSES[i], return_dtype=pl.String),
            pl.col("status_to").map_elements(lambda i: STATUSES[i], return_dtype=pl.String),
        ).filter(pl.col("probability") > 0).write_csv(out / "status.csv")
        frame(self.conviction, ["age_band", "female", "convicted_before", "area_band"], "probability").write_csv(
            out / "conviction.csv")
        pl.DataFrame({"estimation_first_year": [self.years[0]], "estimation_last_year": [self.years[1]],
                      "immigrant_households_per_year": [self.immigrant_households],
                      "persons_per_immigrant_household": [self.immigrant_pool.height / max(
                          1, self.immigrant_pool["household"].n_unique())]}).write_csv(out / "immigration.csv")
        if self.immigrant_pool.height:
            first = self.immigrant_pool.group_by("household", maintain_order=True).first()
            (first.group_by("municipality", "almen", "area_id").len().sort("municipality", "almen", "area_id")
             .with_columns((pl.col("len") / pl.col("len").sum()).alias("share")).rename({"len": "households"})
             .write_csv(out / "immigrant_destination.csv"))
        if self.transitions is not None:
            self.transitions.write(out)
        if self.area_outside_effect:
            pl.DataFrame({"area_id": list(self.area_outside_effect),
                          "logit_offset": list(self.area_outside_effect.values())}).sort("area_id").write_csv(
                out / "area_outside_effect.csv")
        if self.behaviour is not None:
            self.behaviour.write(out)


def _residents(residences: pl.DataFrame, on: date) -> pl.DataFrame:
    return residences.filter((pl.col("move_in") <= on) & (pl.col("move_out").is_null() | (pl.col("move_out") > on))
                             ).select("person_id", "household_id", "dwelling_id")


def statuses(labour: pl.DataFrame) -> pl.DataFrame:
    """person_id, year, status (index into STATUSES): the attachment with the largest FTE."""
    code = {a: i for i, a in enumerate(STATUSES)}
    return (labour.sort(["person_id", "year", "fte", "attachment"], descending=[False, False, True, False])
            .group_by(["person_id", "year"], maintain_order=True).first()
            .select("person_id", "year", pl.col("attachment").replace_strict(code, return_dtype=pl.Int64)
                    .alias("status")))


def outside_history(history: list[np.ndarray], outside: np.ndarray) -> np.ndarray:
    """In how many of the years before (statuses given per year) the main status was an outside one."""
    return sum(outside[s].astype(np.int64) for s in history)


def logit_offsets(p: np.ndarray, group: np.ndarray, target: np.ndarray, iterations: int = 30) -> np.ndarray:
    """Per group g (0..len(target)-1) the offset d_g with mean(sigmoid(logit(p) + d_g)) = target_g over
    its members (Newton steps of at most 1 on the logit scale; 0 for an empty group)."""
    eta = logit(p)
    n = np.bincount(group, minlength=target.size).astype(float)
    goal = np.clip(target, 1e-4, 1 - 1e-4) * n
    delta = np.zeros(target.size)
    for _ in range(iterations):
        q = 1.0 / (1.0 + np.exp(-(eta + delta[group])))
        f = np.bincount(group, weights=q, minlength=target.size) - goal
        d = np.bincount(group, weights=q * (1 - q), minlength=target.size)
        delta -= np.clip(np.where(d > 1e-12, f / np.maximum(d, 1e-12), 0.0), -1.0, 1.0)
    return np.where(n > 0, delta, 0.0)


def logit(p: np.ndarray) -> np.ndarray:
    q = np.clip(np.asarray(p, dtype=float), 1e-9, 1 - 1e-9)
    return np.log(q / (1 - q))


def with_area_effect(p: np.ndarray, effect: np.ndarray) -> np.ndarray:
    """Probabilities `p` shifted by `effect` on the logit scale (0: unchanged)."""
    return np.where(effect == 0.0, p, 1.0 / (1.0 + np.exp(-(logit(p) + effect))))


def area_outside_effects(cells: pl.DataFrame, outside_p: np.ndarray) -> dict[str, float]:
    """Per area (cells: area_id, band, hist, ab, out for residents 18-64): the logit offset that makes
    the rates sum to its events, shrunk with PRIOR_WEIGHT pseudo-observations at the rates' mean."""
    if cells.height == 0:
        return {}
    names = sorted(cells["area_id"].unique().to_list())
    group = cells["area_id"].replace_strict({a: i for i, a in enumerate(names)}, return_dtype=pl.Int64).to_numpy()
    p = outside_p[cells["band"].to_numpy(), cells["hist"].to_numpy(), cells["ab"].to_numpy()]
    n = np.bincount(group, minlength=len(names)).astype(float)
    events = np.bincount(group, weights=cells["out"].to_numpy().astype(float), minlength=len(names))
    expected = np.bincount(group, weights=p, minlength=len(names))
    target = (events + PRIOR_WEIGHT * expected / np.maximum(n, 1)) / (n + PRIOR_WEIGHT)
    return dict(zip(names, logit_offsets(p, group, target).tolist()))


def nearest_seen_bands(rates: np.ndarray, exposure: np.ndarray) -> np.ndarray:
    """`rates` (last axis: area outside band, 0 no area) with every area band that had no exposure in
    the estimation years taking the rates of the nearest band that had (the higher one on a tie): an
    area whose share moved past the bands the data saw is not extrapolated to."""
    seen = np.flatnonzero(exposure[1:] > 0) + 1
    if seen.size == 0:
        return rates
    out = rates.copy()
    for b in range(1, rates.shape[-1]):
        if exposure[b] <= 0:
            out[..., b] = rates[..., seen[np.argmin(np.abs(seen - b) - 0.1 * (seen > b))]]
    return out


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


__all__ = ["Rates", "STATUSES", "area_band", "area_outside_effects", "logit_offsets", "nearest_seen_bands", "with_area_effect", "band", "area_bands", "estimate_rates", "outside_band", "outside_history", "statuses"]
