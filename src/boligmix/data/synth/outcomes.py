"""Yearly person outcomes: education, student status, labour attachment (FTE), income, convictions.

Outcomes depend on the person (age, sex, origin, years in Denmark, socio-economic position z)
and, for residents of a boligområde, on an area-year offset. The offsets are solved each year so
that the area's share of FTE outside work/education (18-64), its convicted share (18+, as a
multiple of the national share) and its mean gross income (taxpayers 15-64 excluding students,
relative to the region) equal the area's designed profile (`profiles.py`). Because z sorts
people into areas and varies between them, in-movers, out-movers and stayers differ as in the
register data; the offsets make the area-level calibration exact up to sampling noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from boligmix.data.schema import ATTACHMENT_TYPES, CONVICTION_LAWS, EDUCATION_LEVELS
from boligmix.data.synth import demography as dem
from boligmix.data.synth.columns import labels
from boligmix.data.synth.profiles import NATIONAL_CONVICTED_RATE

OUTSIDE_FTE_MEAN = 0.8
ATT = {a: i for i, a in enumerate(ATTACHMENT_TYPES)}
EDU = {e: i for i, e in enumerate(EDUCATION_LEVELS)}
SOURCES = ("dk_registered", "self_reported", "imputed", "none")
BENEFIT_DKK = {  # yearly amount for 1.0 FTE in 2004 prices (order of magnitude)
    "education": 65_000, "kontanthjaelp": 150_000, "uddannelseshjaelp": 85_000,
    "selvforsoergelse_hjemrejse": 105_000, "overgangsydelse": 105_000, "foertidspension": 215_000,
    "dagpenge": 205_000, "sygedagpenge": 200_000, "ressourceforloebsydelse": 150_000,
    "fleksjob": 270_000, "ledighedsydelse": 180_000, "barselsdagpenge": 200_000, "efterloen": 190_000,
    "folkepension": 175_000, "other": 100_000, "ressourceforloebsydelse_jobafklaring": 150_000,
}
JOBAFKLARING_FROM = 2015
"""First year with ressourceforløbsydelse under jobafklaringsforløb (the sygedagpenge reform of 2014
introduced the forløb in the second half of 2014; the first whole year is used here)."""
JOBAFKLARING_SHARE = 0.35
"""Share of the ressourceforløbsydelse spells from JOBAFKLARING_FROM that are paid under a
jobafklaringsforløb (`ressourceforloebsydelse_jobafklaring`, the only kind almenboligloven § 51 b and
§ 59, stk. 6, nr. 7 count); the rest are ressourceforløb. An order of magnitude (about a third of
the recipients in the years read), not a calibrated figure: UNCONFIRMED. The split reuses the draw
that chose ressourceforløbsydelse, so every other output of a seed is unchanged."""


@dataclass
class YearInput:
    """Everyone present some time in `year`, with the dwelling at the end of the year (or exit)."""

    year: int
    person: np.ndarray      # person index
    age: np.ndarray         # age at the end of the year (or at exit)
    female: np.ndarray
    origin: np.ndarray
    western: np.ndarray
    arrival: np.ndarray     # year of immigration (0 if not an immigrant)
    z: np.ndarray
    edu_score: np.ndarray
    area: np.ndarray        # area index or -1
    region: np.ndarray      # region code
    targets: dict[str, np.ndarray]  # per area: outside, crime_mult, income_ratio


def pension_age(year: int) -> float:
    return 65.0 if year < 2019 else (65.5 if year < 2020 else (66.0 if year < 2022 else (66.5 if year < 2023 else 67.0)))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _solve_offsets(eta: np.ndarray, weight: np.ndarray, group: np.ndarray, target: np.ndarray,
                   scale: float, n_groups: int, iterations: int = 12) -> np.ndarray:
    """Per group g, delta_g such that mean(weight * scale * sigmoid(eta + delta_g)) = target_g.

    Starts from the logit difference of the means and takes damped Newton steps (robust for
    rare outcomes such as convictions).
    """
    valid = group >= 0
    g, e, w = group[valid], eta[valid], weight[valid]
    count = np.bincount(g, minlength=n_groups).astype(float)
    goal = np.clip(target, 1e-5, 0.98 * scale) * np.maximum(count, 1)
    wsum = np.maximum(np.bincount(g, weights=w, minlength=n_groups), 1e-9)
    mean_p = np.bincount(g, weights=w * _sigmoid(e), minlength=n_groups) / wsum
    want_p = np.clip(goal / (scale * wsum), 1e-6, 1 - 1e-6)
    mp = np.clip(mean_p, 1e-6, 1 - 1e-6)
    delta = np.log(want_p / (1 - want_p)) - np.log(mp / (1 - mp))
    for _ in range(iterations):
        p = _sigmoid(e + delta[g])
        f = np.bincount(g, weights=w * scale * p, minlength=n_groups) - goal
        d = np.bincount(g, weights=w * scale * p * (1 - p), minlength=n_groups)
        step = np.where(d > 1e-12, f / np.maximum(d, 1e-12), 0.0)
        delta -= np.clip(step, -1.0, 1.0)
    return np.where(count > 0, np.clip(delta, -12, 12), 0.0)


def education(inp: YearInput, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Highest completed education level and its source (codes into EDUCATION_LEVELS / SOURCES)."""
    s = inp.edu_score
    final = np.array([EDU["grundskole"], EDU["erhvervsfaglig"], EDU["gymnasial"], EDU["kort_videregaaende"],
                      EDU["mellemlang_videregaaende"], EDU["lang_videregaaende"]])[
        np.searchsorted([-0.9, -0.1, 0.35, 0.5, 1.1], s, "right")]
    done_age = np.array([16, 21, 21, 23, 25, 27, 16])[final]  # by level code
    level = np.where(inp.age >= done_age, final, np.where(inp.age >= 16, EDU["grundskole"], EDU["uoplyst"]))
    level = np.where((inp.age >= 19) & (final >= EDU["kort_videregaaende"]) & (inp.age < done_age), EDU["gymnasial"], level)
    source = np.where(level == EDU["uoplyst"], 3, 0)
    # immigrants who came as adults: education from abroad, self-reported or imputed, or unknown
    arrival_age = inp.age - (inp.year - inp.arrival)
    foreign_edu = (inp.origin == dem.INDVANDRER) & (arrival_age >= 18)
    u = (np.abs(s * 1000.0) % 1.0)  # stable per person (edu_score fixed), avoids yearly flicker
    dk_later = foreign_edu & (u < 0.18) & (inp.year - inp.arrival >= 4)
    foreign_only = foreign_edu & ~dk_later
    source = np.where(foreign_only, np.where(u < 0.62, 1, np.where(u < 0.88, 2, 3)), source)
    level = np.where(foreign_only & (source == 3), EDU["uoplyst"], level)
    return level.astype(np.int8), source.astype(np.int8)


def _subset(inp: YearInput, sel: np.ndarray) -> YearInput:
    fields = ("person", "age", "female", "origin", "western", "arrival", "z", "edu_score", "area", "region")
    return YearInput(year=inp.year, targets=inp.targets, **{f: getattr(inp, f)[sel] for f in fields})


def generate_year(inp: YearInput, rng: np.random.Generator) -> dict:
    """Outcome arrays of one year (rows as in `inp`), plus the calibration offsets used.

    Children under 15 get education only (no labour, income, taxpayer status or convictions);
    everything else is computed for persons aged 15+.
    """
    n = len(inp.person)
    level, source = education(inp, rng)
    sel = np.flatnonzero(inp.age >= 15)
    out = _outcomes_15_plus(_subset(inp, sel), level[sel], rng)
    in_edu = np.zeros(n, bool)
    in_edu[sel] = out["in_edu"]
    income = np.zeros(n)
    income[sel] = out["income"]
    taxpayer = np.zeros(n, bool)
    taxpayer[sel] = out["taxpayer"]
    lab_p, lab_a, lab_f = out["labour"]
    conv_p, conv_l, conv_c = out["convictions"]
    return {"level": level, "source": source, "in_edu": in_edu, "income": income, "taxpayer": taxpayer,
            "labour": (sel[lab_p], lab_a, lab_f), "convictions": (sel[conv_p], conv_l, conv_c),
            "national_convicted": out["national_convicted"], "offsets": out["offsets"]}


def _outcomes_15_plus(inp: YearInput, level: np.ndarray, rng: np.random.Generator) -> dict:
    """Students, labour attachment, income and convictions of persons aged 15+."""
    n = len(inp.person)
    year, age, z = inp.year, inp.age, inp.z
    n_areas = len(inp.targets["outside"])
    infl = 1.022 ** (year - 2004)
    nw = ~inp.western & (inp.origin != dem.DANSK)
    nw_imm = nw & (inp.origin == dem.INDVANDRER)
    years_in = np.where(inp.arrival > 0, year - inp.arrival, 99)
    refugee_recent = nw_imm & (years_in <= 3)

    # --- students ---------------------------------------------------------------------------
    base = np.array([-9, 2.4, 0.9, -0.1, -1.4, -2.9, -5.0])[np.searchsorted([16, 18, 20, 25, 30, 35], age, "right")]
    in_edu = (age >= 16) & (age < 60) & (rng.random(n) < _sigmoid(base + 0.5 * z - 1.0 * refugee_recent))
    # --- retirement ---------------------------------------------------------------------------
    pension = age >= pension_age(year)
    efterloen = ~pension & (age >= 60) & (rng.random(n) < (0.35 if year < 2014 else 0.15))
    working_age = (age >= 16) & ~pension & ~efterloen
    # --- outside work and education (calibrated per area) --------------------------------------
    eta = (-1.95 - 1.05 * z + 0.45 * nw_imm + 1.8 * refugee_recent + 0.025 * np.clip(age - 40, -20, 25))
    at_risk = working_age & ~in_edu
    pop_1864 = (age >= 18) & (age < 65)
    group = np.where(pop_1864 & (inp.area >= 0), inp.area, -1)
    delta_out = _solve_offsets(eta, at_risk.astype(float), group, inp.targets["outside"], OUTSIDE_FTE_MEAN, n_areas)
    eta = eta + np.where(inp.area >= 0, delta_out[np.maximum(inp.area, 0)], 0.0)
    outside = at_risk & (age >= 18) & (rng.random(n) < _sigmoid(eta))
    outside_fte = np.zeros(n)
    outside_fte[outside] = rng.uniform(0.6, 1.0, int(outside.sum()))
    kind = np.full(n, ATT["kontanthjaelp"])
    oi = np.flatnonzero(outside)
    r, a_o = rng.random(len(oi)), age[oi]
    k = np.full(len(oi), ATT["kontanthjaelp"])
    k = np.where(r < 0.25, ATT["dagpenge"], k)
    k = np.where((r >= 0.25) & (r < 0.33) & (year >= 2013), ATT["ressourceforloebsydelse"], k)
    jobafklaring = (r >= 0.25) & (r < 0.25 + 0.08 * JOBAFKLARING_SHARE) & (year >= JOBAFKLARING_FROM)
    k = np.where(jobafklaring, ATT["ressourceforloebsydelse_jobafklaring"], k)
    k = np.where((r >= 0.33) & (r < 0.37), ATT["ledighedsydelse"], k)
    k = np.where((a_o >= 40) & (r > 0.55), ATT["foertidspension"], k)
    k = np.where((a_o < 30) & (year >= 2014) & (r > 0.4), ATT["uddannelseshjaelp"], k)
    k = np.where(refugee_recent[oi], ATT["overgangsydelse"] if year < 2019 else ATT["selvforsoergelse_hjemrejse"], k)
    kind[oi] = k
    # --- employment and other attachments -------------------------------------------------------
    fleks = working_age & ~in_edu & ~outside & (age >= 30) & (rng.random(n) < 0.02)
    employed_main = working_age & ~in_edu & ~outside & ~fleks & (rng.random(n) < _sigmoid(2.6 + 0.8 * z))
    emp_fte = np.where(employed_main, rng.uniform(0.7, 1.0, n), 0.0)
    emp_fte = np.where(outside, (1 - outside_fte) * (rng.random(n) < 0.5), emp_fte)
    emp_fte = np.where(in_edu & (age >= 18), rng.uniform(0.0, 0.3, n) * (rng.random(n) < 0.6), emp_fte)
    edu_fte = np.where(in_edu, rng.uniform(0.7, 1.0, n), 0.0)
    edu_fte = np.where(in_edu & (age < 18), 1.0, edu_fte)
    emp_fte = np.minimum(emp_fte, 1.0 - edu_fte)
    syge = employed_main & (rng.random(n) < 0.06)
    syge_fte = np.where(syge, rng.uniform(0.05, 0.3, n), 0.0)
    barsel = employed_main & inp.female & (age >= 24) & (age < 42) & (rng.random(n) < 0.09)
    barsel_fte = np.where(barsel, np.minimum(rng.uniform(0.2, 0.8, n), 1.0 - syge_fte), 0.0)
    emp_fte = np.where(employed_main, np.maximum(emp_fte - syge_fte - barsel_fte, 0.0), emp_fte)
    # --- income -----------------------------------------------------------------------------
    edu_bonus = np.array([0.0, 0.08, 0.12, 0.22, 0.3, 0.5, 0.0])[level]
    age_curve = -0.0009 * (np.clip(age, 18, 67) - 50) ** 2
    wi = np.flatnonzero(emp_fte > 0)
    income = np.where(fleks, BENEFIT_DKK["fleksjob"], 0.0) * infl
    income[wi] += emp_fte[wi] * np.exp(12.95 + 0.22 * z[wi] + edu_bonus[wi] + age_curve[wi]
                                       + rng.normal(0, 0.25, len(wi))) * infl
    bene = np.zeros(n)
    bene += outside_fte * np.array([BENEFIT_DKK.get(a, 100_000) for a in ATTACHMENT_TYPES])[kind]
    bene += edu_fte * BENEFIT_DKK["education"] * (age >= 18)
    bene += syge_fte * BENEFIT_DKK["sygedagpenge"] + barsel_fte * BENEFIT_DKK["barselsdagpenge"]
    bene += pension * BENEFIT_DKK["folkepension"] * (1 + 0.4 * np.maximum(z + 0.3, 0))
    bene += efterloen * BENEFIT_DKK["efterloen"]
    income = income + bene * infl
    taxpayer = (age >= 15) & (rng.random(n) > np.where(inp.arrival == year, 0.35, 0.015))
    eligible = taxpayer & (age >= 15) & (age < 65) & ~in_edu
    # area income relative to region: scale the area's eligible incomes to the profile ratio
    factor = np.ones(n_areas)
    reg_idx = inp.region - 1081  # DST region codes 1081-1085
    reg_codes = np.arange(1081, 1086)
    for _ in range(2):
        inc_now = income * np.where((inp.area >= 0) & eligible, factor[np.maximum(inp.area, 0)], 1.0)
        reg_mean = (np.bincount(reg_idx, weights=inc_now * eligible, minlength=len(reg_codes))
                    / np.maximum(np.bincount(reg_idx, weights=eligible, minlength=len(reg_codes)), 1))
        in_a = (inp.area >= 0) & eligible
        a_sum = np.bincount(inp.area[in_a], weights=income[in_a], minlength=n_areas)
        a_cnt = np.bincount(inp.area[in_a], minlength=n_areas)
        a_reg = np.zeros(n_areas)
        a_reg[inp.area[in_a]] = reg_mean[reg_idx[in_a]]
        factor = np.where(a_cnt > 0, inp.targets["income_ratio"] * a_reg / np.maximum(a_sum / np.maximum(a_cnt, 1), 1), 1.0)
    income = income * np.where((inp.area >= 0) & eligible, factor[np.maximum(inp.area, 0)], 1.0)
    income = np.round(income, 0)
    # --- convictions (calibrated to a multiple of the national share, 18+) ----------------------
    male = ~inp.female
    eta_c = (-5.6 + 1.3 * male + np.array([-20, 0.3, 0.7, 0.0, -1.0])[np.searchsorted([15, 18, 30, 45], age, "right")]
             - 0.55 * z)
    adult = age >= 18
    non_area = adult & (inp.area < 0)
    p0 = _sigmoid(eta_c)
    area_adults = np.bincount(inp.area[adult & (inp.area >= 0)], minlength=n_areas).astype(float)
    # national share N solves N * adults = sum over non-area adults of p0 + sum_a adults_a * mult_a * N
    denom = max(adult.sum() - (area_adults * inp.targets["crime_mult"]).sum(), 0.3 * adult.sum(), 1.0)
    national = p0[non_area].sum() / denom if non_area.any() else NATIONAL_CONVICTED_RATE
    group_c = np.where(adult & (inp.area >= 0), inp.area, -1)
    delta_c = _solve_offsets(eta_c, np.ones(n), group_c, inp.targets["crime_mult"] * national, 1.0, n_areas)
    p_c = _sigmoid(eta_c + np.where(inp.area >= 0, delta_c[np.maximum(inp.area, 0)], 0.0))
    convicted = (age >= 15) & (rng.random(n) < p_c)
    ci = np.flatnonzero(convicted)
    laws = rng.random((len(ci), 3)) < np.array([0.8, 0.08, 0.25])
    laws[:, 0] |= ~laws.any(axis=1)
    conv_person = np.repeat(ci, laws.sum(axis=1))
    conv_law = np.tile(np.arange(3), (len(ci), 1))[laws]
    conv_count = 1 + rng.poisson(0.3, len(conv_person))

    # --- labour rows -----------------------------------------------------------------------------
    parts = [(ATT["employment"], emp_fte), (ATT["education"], np.where(age >= 16, edu_fte, 0.0)),
             (None, outside_fte), (ATT["fleksjob"], fleks * rng.uniform(0.6, 1.0, n)),
             (ATT["sygedagpenge"], syge_fte), (ATT["barselsdagpenge"], barsel_fte),
             (ATT["efterloen"], efterloen * 1.0), (ATT["folkepension"], pension * 1.0)]
    lab_p, lab_a, lab_f = [], [], []
    for att, fte in parts:
        sel = np.flatnonzero(fte > 0.0005)
        lab_p.append(sel)
        lab_a.append(kind[sel] if att is None else np.full(len(sel), att))
        lab_f.append(np.round(np.minimum(fte[sel], 1.0), 4))
    lab_p_all = np.concatenate(lab_p)
    lab_a_all = np.concatenate(lab_a)
    lab_order = np.lexsort((lab_a_all, lab_p_all))
    return {
        "in_edu": in_edu, "income": income, "taxpayer": taxpayer,
        "labour": (lab_p_all[lab_order], lab_a_all[lab_order], np.concatenate(lab_f)[lab_order]),
        "convictions": (conv_person, conv_law, conv_count),
        "national_convicted": national,
        "offsets": {"outside": delta_out, "crime": delta_c, "income_factor": factor},
    }


def frames(inp: YearInput, out: dict, person_ids: np.ndarray) -> dict[str, pl.DataFrame]:
    """Build the person_years, labour and convictions frames of one year."""
    year = inp.year
    pid = person_ids[inp.person]
    n = len(pid)
    person_years = pl.DataFrame({
        "person_id": pid,
        "year": np.full(n, year, np.int64),
        "highest_education": labels(EDUCATION_LEVELS, out["level"]),
        "education_source": labels(SOURCES, out["source"]),
        "in_education": out["in_edu"],
        "gross_income_dkk": out["income"].astype(np.float64),
        "taxpayer": out["taxpayer"],
    }, schema={"person_id": pl.Int64, "year": pl.Int64, "highest_education": pl.String,
               "education_source": pl.String, "in_education": pl.Boolean, "gross_income_dkk": pl.Float64,
               "taxpayer": pl.Boolean})
    lp, la, lf = out["labour"]
    labour = pl.DataFrame({
        "person_id": pid[lp], "year": np.full(len(lp), year, np.int64),
        "attachment": labels(ATTACHMENT_TYPES, la), "fte": lf.astype(np.float64),
    }, schema={"person_id": pl.Int64, "year": pl.Int64, "attachment": pl.String, "fte": pl.Float64})
    cp, cl, cc = out["convictions"]
    convictions = pl.DataFrame({
        "person_id": pid[cp], "year": np.full(len(cp), year, np.int64),
        "law": labels(CONVICTION_LAWS, cl), "count": cc.astype(np.int64),
    }, schema={"person_id": pl.Int64, "year": pl.Int64, "law": pl.String, "count": pl.Int64})
    return {"person_years": person_years, "labour": labour, "convictions": convictions}
