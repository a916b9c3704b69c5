"""A random register dataset of any size (vectorised numpy), rich in the edges the indicators care about.

Not a calibrated synthetic Denmark (that is `boligmix.data.synth`): it exists so the pandas
oracle can be compared with the implementation on many units and the benchmark can run at
national scale before/without the synthetic generator. Birthdays and moves fall on 1 January
often; some spells end on 1 January and the next starts that day; labour rows include
several outside types per person-year (sums above 1.0); some persons lack person_years rows.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from boligmix.data.io import Manifest, write_dataset
from boligmix.data.schema import ATTACHMENT_TYPES, CONVICTION_LAWS, EDUCATION_LEVELS, EDUCATION_SOURCES

COUNTRIES = [("DNK", True), ("DEU", True), ("POL", True), ("USA", True), ("GBR", True),
             ("TUR", False), ("SYR", False), ("IRQ", False), ("PAK", False), ("SOM", False), ("XXX", False)]
REGIONS = (1081, 1082, 1083, 1084, 1085)


def _days(rng: np.random.Generator, n: int, start: str, end: str, jan1_share: float, jan1_years) -> np.ndarray:
    """Random dates in [start, end); a share of them put on 1 January of one of `jan1_years`."""
    lo, hi = np.datetime64(start, "D"), np.datetime64(end, "D")
    out = lo + rng.integers(0, int((hi - lo).astype(int)), n).astype("timedelta64[D]")
    on_jan1 = rng.random(n) < jan1_share
    out[on_jan1] = np.array([np.datetime64(f"{y}-01-01", "D") for y in jan1_years])[
        rng.integers(0, len(jan1_years), on_jan1.sum())]
    return out


def _nullable(mask: np.ndarray, values: np.ndarray | str) -> pl.Series:
    """A string Series holding `values` where `mask` is true and null elsewhere."""
    strings = np.broadcast_to(np.asarray(values, dtype=str), mask.shape)
    return pl.Series(strings).zip_with(pl.Series(mask), pl.Series([None] * len(mask), dtype=pl.String))


def build(n_persons: int, rng: np.random.Generator, years: tuple[int, int] = (2022, 2023)) -> dict[str, pl.DataFrame]:
    """Tables of a random dataset with `n_persons` persons and register years `years`."""
    n_mun = 98 if n_persons >= 50_000 else 6
    mun_codes = np.arange(101, 101 + n_mun, dtype=np.int64)
    mun_region = np.array(REGIONS, dtype=np.int64)[np.arange(n_mun) % 5]
    n_areas = max(4, min(n_persons // 100, 3000))
    area_ids = np.array([f"A{i:04d}" for i in range(n_areas)])
    area_mun = mun_codes[rng.integers(0, n_mun, n_areas)]
    n_dep = 2 * n_areas + max(2, n_areas // 2)
    dep_ids = np.array([f"O{i % 50:02d}-{i:05d}" for i in range(n_dep)])
    dep_area = np.concatenate([np.repeat(np.arange(n_areas), 2), np.full(n_dep - 2 * n_areas, -1)])
    dep_mun = np.where(dep_area >= 0, area_mun[np.maximum(dep_area, 0)], mun_codes[rng.integers(0, n_mun, n_dep)])

    n_dw = max(10, n_persons // 2)
    almen = rng.random(n_dw) < 0.25
    dw_dep = np.where(almen, rng.integers(0, n_dep, n_dw), -1)
    dw_area_idx = np.where(almen, dep_area[np.maximum(dw_dep, 0)], -1)
    private_in_area = (~almen) & (rng.random(n_dw) < 0.03)
    dw_area_idx = np.where(private_in_area, rng.integers(0, n_areas, n_dw), dw_area_idx)
    dw_mun = np.where(dw_area_idx >= 0, area_mun[np.maximum(dw_area_idx, 0)], mun_codes[rng.integers(0, n_mun, n_dw)])
    dw_mun = np.where(dw_dep >= 0, dep_mun[np.maximum(dw_dep, 0)], dw_mun)
    # Concentrate people: almen dwellings are picked more often, so areas have many residents.
    weights = np.where(almen, 4.0, 1.0)
    weights /= weights.sum()

    pid = np.arange(1, n_persons + 1, dtype=np.int64) * 7919
    birth = _days(rng, n_persons, "1925-01-01", "2023-12-31", 0.05, range(1955, 2010))
    origin = rng.choice(np.array(["dansk", "indvandrer", "efterkommer"]), n_persons, p=[0.8, 0.13, 0.07])
    foreign_country = np.array([c for c, _ in COUNTRIES[1:]])[rng.integers(0, len(COUNTRIES) - 1, n_persons)]
    country = np.where(origin == "dansk", "DNK", foreign_country)

    # residence spells: first spell; some end (often on 1 January); most of those continue elsewhere.
    first_dw = rng.choice(n_dw, n_persons, p=weights)
    move_in = _days(rng, n_persons, "2000-01-01", "2024-06-30", 0.08, (years[0], years[1], years[1] + 1))
    ends = rng.random(n_persons) < 0.3
    move_out = move_in + rng.integers(1, 3000, n_persons).astype("timedelta64[D]")
    jan1 = ends & (rng.random(n_persons) < 0.3)
    move_out[jan1] = np.array([np.datetime64(f"{y}-01-01", "D") for y in (years[0], years[1], years[1] + 1)])[
        rng.integers(0, 3, jan1.sum())]
    move_out = np.where(move_out <= move_in, move_in + np.timedelta64(1, "D"), move_out)
    second = ends & (rng.random(n_persons) < 0.7)
    s_pid = np.concatenate([pid, pid[second]])
    s_dw = np.concatenate([first_dw, rng.choice(n_dw, int(second.sum()), p=weights)])
    s_in = np.concatenate([move_in, move_out[second]])
    s_out = np.concatenate([np.where(ends, move_out, np.datetime64("NaT")), np.full(second.sum(), np.datetime64("NaT"))])
    s_reason = _nullable(np.concatenate([ends & ~second, np.zeros(second.sum(), bool)]),
                         np.concatenate([np.where(rng.random(n_persons) < 0.5, "abroad", "death"),
                                         np.full(second.sum(), "abroad")]))

    py_frames, lab_frames, conv_frames = [], [], []
    outside_types = [a for a in ATTACHMENT_TYPES if a not in ("employment",)]
    for y in range(years[0], years[1] + 1):
        has = rng.random(n_persons) < 0.97
        m = int(has.sum())
        py_frames.append(pl.DataFrame({
            "person_id": pid[has], "year": np.full(m, y, dtype=np.int64),
            "highest_education": rng.choice(np.array(EDUCATION_LEVELS), m,
                                            p=[0.3, 0.1, 0.25, 0.05, 0.15, 0.1, 0.05]),
            "education_source": rng.choice(np.array(EDUCATION_SOURCES), m, p=[0.8, 0.08, 0.07, 0.05]),
            "in_education": rng.random(m) < 0.12,
            "gross_income_dkk": np.round(rng.lognormal(12.3, 0.8, m), 0),
            "taxpayer": rng.random(m) < 0.95}))
        n_rows = int(n_persons * 0.45)
        lab = pl.DataFrame({
            "person_id": pid[rng.integers(0, n_persons, n_rows)], "year": np.full(n_rows, y, dtype=np.int64),
            "attachment": np.array(outside_types)[rng.integers(0, len(outside_types), n_rows)],
            "fte": np.round(rng.uniform(0.05, 1.0, n_rows), 3)}).unique(["person_id", "year", "attachment"])
        lab_frames.append(lab)
        n_c = int(n_persons * 0.02) + 1
        conv_frames.append(pl.DataFrame({
            "person_id": pid[rng.integers(0, n_persons, n_c)], "year": np.full(n_c, y, dtype=np.int64),
            "law": np.array(CONVICTION_LAWS)[rng.integers(0, 3, n_c)],
            "count": rng.integers(1, 3, n_c).astype(np.int64)}).unique(["person_id", "year", "law"]))

    return {
        "regions": pl.DataFrame({"region_code": np.array(REGIONS, dtype=np.int64),
                                 "region_name": [f"Region {r}" for r in REGIONS]}),
        "municipalities": pl.DataFrame({"municipality_code": mun_codes,
                                        "municipality_name": [f"Kommune {m}" for m in mun_codes],
                                        "region_code": mun_region}),
        "countries": pl.DataFrame({"country_code": [c for c, _ in COUNTRIES], "country_name": [c for c, _ in COUNTRIES],
                                   "western": [w for _, w in COUNTRIES],
                                   "nomenclature_version": ["dst-2019"] * len(COUNTRIES)}),
        "areas": pl.DataFrame({"area_id": area_ids, "area_name": area_ids, "municipality_code": area_mun,
                               "delineation_version": ["random"] * n_areas,
                               "polygon_wkt": pl.Series([None] * n_areas, dtype=pl.String)}),
        "housing_organisations": pl.DataFrame({"org_id": [f"O{i:02d}" for i in range(50)],
                                               "org_name": [f"Org {i}" for i in range(50)],
                                               "municipality_code": mun_codes[np.arange(50) % n_mun]}),
        "departments": pl.DataFrame({"department_id": dep_ids, "org_id": [d.split("-")[0] for d in dep_ids],
                                     "department_name": dep_ids, "municipality_code": dep_mun,
                                     "area_id": _nullable(dep_area >= 0, area_ids[np.maximum(dep_area, 0)])}),
        "dwellings": pl.DataFrame({
            "dwelling_id": np.arange(1, n_dw + 1, dtype=np.int64), "municipality_code": dw_mun,
            "tenure": np.where(almen, "almen", "ejer"),
            "department_id": _nullable(almen, dep_ids[np.maximum(dw_dep, 0)]),
            "area_id": _nullable(dw_area_idx >= 0, area_ids[np.maximum(dw_area_idx, 0)]),
            "almen_type": _nullable(almen, "family"),
            "rooms": rng.integers(1, 6, n_dw).astype(np.int64), "floor_area_m2": rng.uniform(30, 150, n_dw),
            "monthly_rent_dkk": rng.uniform(3000, 12000, n_dw)}),
        "persons": pl.DataFrame({"person_id": pid, "birth_date": birth, "sex": rng.choice(np.array(["M", "F"]), n_persons),
                                 "origin": origin, "country_code": country}),
        "person_years": pl.concat(py_frames),
        "labour": pl.concat(lab_frames),
        "convictions": pl.concat(conv_frames),
        "residences": pl.DataFrame({"person_id": s_pid, "household_id": s_pid, "dwelling_id": s_dw + 1,
                                    "move_in": s_in, "move_out": s_out,
                                    "end_reason": s_reason}),
    }


def write(target: Path, n_persons: int, seed: int, years: tuple[int, int] = (2022, 2023)) -> Path:
    """Build and write a random dataset; the manifest records the seed."""
    tables = build(n_persons, np.random.default_rng(seed), years)
    manifest = Manifest(vintage=f"random-test-{seed}", source="synthetic", seed=seed, scale=f"random-{n_persons}",
                        years=years)
    return write_dataset(target, tables, manifest, overwrite=True)
