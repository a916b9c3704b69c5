"""Geography and housing stock: regions, municipalities, areas, organisations, departments, dwellings.

Municipalities and regions are the real ones (DST codes, packaged `reference/municipalities.csv`).
Areas, organisations, departments and dwellings are synthetic. Area polygons are small
rectangles (EPSG:25832) placed near a rough location of their region so maps can be drawn
offline; they are not real parcels.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib import resources

import numpy as np
import polars as pl

from boligmix.data.schema import ALMEN_TYPES, TENURES
from boligmix.data.synth.columns import labels
from boligmix.data.synth.profiles import AreaProfiles, design_profiles, memberships
from boligmix.data.synth.scales import Scale
from boligmix.data.synth.targets import Targets

REGION_NAMES = {
    1081: "Region Nordjylland",
    1082: "Region Midtjylland",
    1083: "Region Syddanmark",
    1084: "Region Hovedstaden",
    1085: "Region Sjælland",
}
REGION_CENTRES = {  # rough centres in EPSG:25832 (metres), for synthetic map placement only
    1081: (555_000.0, 6_320_000.0),
    1082: (540_000.0, 6_230_000.0),
    1083: (560_000.0, 6_130_000.0),
    1084: (715_000.0, 6_180_000.0),
    1085: (665_000.0, 6_145_000.0),
}
CITY_CENTRES = {101: (724_000.0, 6_176_000.0), 461: (588_000.0, 6_138_000.0),
                751: (575_000.0, 6_224_000.0), 851: (556_000.0, 6_323_000.0),
                400: (870_000.0, 6_120_000.0)}

TENURE_INDEX = {t: i for i, t in enumerate(TENURES)}
ALMEN, PRIVAT, ANDEL, EJER, OTHER = (TENURE_INDEX[t] for t in TENURES)
PERSONS_PER_DWELLING = 2.12
AREA_PERSONS_PER_DWELLING = 2.15
INITIAL_VACANCY = 0.03
YEARLY_CONSTRUCTION = 0.011
URBAN_DEPRIVATION_PULL = 2.0
"""Log-weight per unit of deprivation that pulls an area towards an urban municipality."""
POPULATION_CALIBRATION = 0.945
"""Measured: without it the national scale starts 5.6 % above Denmark's 5.40 million (larger households)."""
AREA_POPULATION_SHARE = 0.08
"""Share of a municipality's real population assumed to live in its areas (replaced by the areas)."""


@dataclass(frozen=True)
class Municipality:
    code: int
    name: str
    region: int
    population: int
    almen_share: float


def load_municipalities() -> list[Municipality]:
    text = resources.files("boligmix.data.reference").joinpath("municipalities.csv").read_text(encoding="utf-8")
    rows = csv.DictReader(text.splitlines())
    return [Municipality(int(r["municipality_code"]), r["municipality_name"], int(r["region_code"]),
                         int(r["population_2024"]), float(r["almen_share"])) for r in rows]


def load_countries() -> pl.DataFrame:
    text = resources.files("boligmix.data.reference").joinpath("countries.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    return pl.DataFrame({
        "country_code": [r["country_code"] for r in rows],
        "country_name": [r["country_name"] for r in rows],
        "western": [r["western"].strip().lower() == "true" for r in rows],
        "nomenclature_version": [r["nomenclature_version"] for r in rows],
        "w2004": [float(r["immigrant_weight_2004"]) for r in rows],
        "w2015": [float(r["immigrant_weight_2015"]) for r in rows],
        "w2022": [float(r["immigrant_weight_2022"]) for r in rows],
        "stock": [float(r["stock_weight_2004"]) for r in rows],
    })


@dataclass
class Geography:
    """Everything about places and dwellings the simulation needs, as arrays, plus output tables."""

    municipalities: list[Municipality]
    profiles: AreaProfiles
    area_muni: np.ndarray          # municipality code per area
    area_size: np.ndarray          # target residents per area
    dw_muni: np.ndarray            # per dwelling: municipality code
    dw_tenure: np.ndarray          # tenure index
    dw_area: np.ndarray            # area index or -1
    dw_dept: np.ndarray            # department index or -1
    dw_built_year: np.ndarray      # first year the dwelling exists
    dw_quality: np.ndarray         # static desirability (non-area dwellings)
    tables: dict[str, pl.DataFrame]

    @property
    def n_dwellings(self) -> int:
        return len(self.dw_muni)

    def region_of(self, muni_codes: np.ndarray) -> np.ndarray:
        lookup = {m.code: m.region for m in self.municipalities}
        keys = np.array(sorted(lookup))
        vals = np.array([lookup[k] for k in keys])
        return vals[np.searchsorted(keys, muni_codes)]


def _pick_areas(scale: Scale, profiles: AreaProfiles, area_muni: np.ndarray, targets: Targets,
                rng: np.random.Generator) -> np.ndarray:
    if scale.area_picks == "national":
        return np.arange(profiles.n)
    if scale.area_picks == "in_municipalities":
        return np.flatnonzero(np.isin(area_muni, scale.municipality_codes))
    member = memberships(profiles, targets)
    recent = [member[y] for y in (2021, 2022, 2023, 2024) if y in member]

    def years_in(key: str, exclude: str | None = None) -> np.ndarray:
        return np.sum([m[key] & (~m[exclude] if exclude else True) for m in recent], axis=0)

    ever = np.zeros(profiles.n, bool)
    for m in member.values():
        for v in m.values():
            ever |= v
    # the area most firmly in each category over 2021-2024 (ties broken at random)
    scores = [years_in("haardt"), years_in("ghetto", "haardt"), years_in("udsat", "ghetto"),
              years_in("forebyggelse"), (~ever).astype(int) * len(recent)]
    chosen: list[int] = []
    for score in scores:
        score = score.astype(float) + rng.random(profiles.n) * 0.5
        score[chosen] = -1
        if score.max() >= 1:
            chosen.append(int(np.argmax(score)))
    return np.array(sorted(chosen))


def _polygon(cx: float, cy: float, w: float, h: float) -> str:
    x0, y0, x1, y1 = cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2
    return (f"POLYGON(({x0:.0f} {y0:.0f}, {x1:.0f} {y0:.0f}, {x1:.0f} {y1:.0f}, "
            f"{x0:.0f} {y1:.0f}, {x0:.0f} {y0:.0f}))")


def build_geography(scale: Scale, years: tuple[int, int], targets: Targets,
                    rng: np.random.Generator) -> Geography:
    """Design areas, then build organisations, departments and the dwelling stock of a scale."""
    all_munis = load_municipalities()
    munis = [m for m in all_munis if scale.municipality_codes is None or m.code in scale.municipality_codes]

    # --- national area design (the same for every scale with the same seed) -------------------
    n_nat = scale.national_areas
    profiles = design_profiles(rng, n_nat, targets)
    weights = np.array([m.population * m.almen_share ** 1.5 for m in all_munis])
    all_codes = np.array([m.code for m in all_munis])
    # the most deprived areas lie mostly in the big cities and the Copenhagen suburbs
    urban = np.array([m.population > 150_000 or (m.region == 1084 and m.code < 200) for m in all_munis])
    w = weights[None, :] * np.exp(URBAN_DEPRIVATION_PULL * profiles.base[:, None] * urban[None, :])
    cdf = np.cumsum(w / w.sum(axis=1, keepdims=True), axis=1)
    area_muni_nat = all_codes[np.minimum((rng.random(n_nat)[:, None] > cdf).sum(axis=1), len(all_codes) - 1)]
    size_nat = np.minimum(1040 + rng.lognormal(np.log(900), 0.8, n_nat), 6500).round()
    picks = _pick_areas(scale, profiles, area_muni_nat, targets, rng)
    profiles = profiles.subset(picks)
    area_size = size_nat[picks]
    area_muni = area_muni_nat[picks]
    if scale.area_picks == "one_per_category":
        # a compact test scale: the picked areas lie in the first municipality, sized just above 1,000
        area_muni = np.full(len(picks), scale.municipality_codes[0])
        area_size = np.round(rng.uniform(1080, 1350, len(picks)))
    n_areas = len(picks)

    # --- dwellings ------------------------------------------------------------------------------
    first, last = years
    dw_muni, dw_tenure, dw_area, dw_built = [], [], [], []
    for m in munis:
        in_area = area_muni == m.code
        persons = m.population * scale.population_factor * (5.40 / 5.96) * POPULATION_CALIBRATION
        stock = persons / PERSONS_PER_DWELLING * (1 + INITIAL_VACANCY)
        area_dw = np.ceil(area_size[in_area] / AREA_PERSONS_PER_DWELLING * (1 + INITIAL_VACANCY)).astype(int)
        other_stock = max(int(round(stock * (1 - AREA_POPULATION_SHARE))), 10)
        urban = m.population > 150_000 or (m.region == 1084 and m.code < 200)
        almen_other = max(m.almen_share * 0.8 - area_dw.sum() / stock, 0.03)
        shares = {ALMEN: almen_other, ANDEL: 0.30 if m.code == 101 else (0.13 if urban else 0.05),
                  PRIVAT: 0.32 if urban else 0.15, OTHER: 0.03}
        shares[EJER] = 1.0 - sum(shares.values())
        tenure_p = np.array([shares[i] for i in range(len(TENURES))])
        ten = rng.choice(len(TENURES), size=other_stock, p=tenure_p)
        n_new = int(round(stock * YEARLY_CONSTRUCTION * (last - first)))
        new_ten = rng.choice(len(TENURES), size=n_new, p=np.array([0.2, 0.35, 0.08, 0.34, 0.03]))
        new_year = rng.integers(first + 1, last + 1, size=n_new)
        for idx, count in zip(np.flatnonzero(in_area), area_dw):
            dw_muni.append(np.full(count, m.code)); dw_tenure.append(np.full(count, ALMEN))
            dw_area.append(np.full(count, idx)); dw_built.append(np.full(count, first))
        dw_muni.append(np.full(other_stock + n_new, m.code))
        dw_tenure.append(np.concatenate([ten, new_ten]))
        dw_area.append(np.full(other_stock + n_new, -1))
        dw_built.append(np.concatenate([np.full(other_stock, first), new_year]))
    dw_muni_a = np.concatenate(dw_muni).astype(np.int64)
    dw_tenure_a = np.concatenate(dw_tenure).astype(np.int8)
    dw_area_a = np.concatenate(dw_area).astype(np.int32)
    dw_built_a = np.concatenate(dw_built).astype(np.int16)
    n_dw = len(dw_muni_a)
    mean_q = np.array([-0.3, 0.0, 0.3, 0.6, 0.0])
    sd_q = np.array([0.3, 0.4, 0.3, 0.4, 0.5])
    quality = rng.normal(mean_q[dw_tenure_a], sd_q[dw_tenure_a])

    # --- organisations and departments -----------------------------------------------------------
    org_ids, org_names, org_munis = [], [], []
    org_of_muni: dict[int, list[int]] = {}
    for m in munis:
        n_almen = int(((dw_muni_a == m.code) & (dw_tenure_a == ALMEN)).sum())
        n_org = 1 + n_almen // 4000
        org_of_muni[m.code] = []
        for k in range(n_org):
            org_of_muni[m.code].append(len(org_ids))
            org_ids.append(f"BO{m.code:03d}{k + 1:02d}")
            org_names.append(f"Boligorganisation {m.name} {k + 1}")
            org_munis.append(m.code)
    dw_dept = np.full(n_dw, -1, np.int32)
    dept_rows: dict[str, list] = {"department_id": [], "org_id": [], "department_name": [],
                                  "municipality_code": [], "area_id": []}
    area_ids = [f"A{c:03d}-{i + 1:03d}" for i, c in enumerate(area_muni)]
    dept_count: dict[int, int] = {}

    def add_department(members: np.ndarray, muni: int, area: int) -> None:
        org = int(rng.choice(org_of_muni[muni]))
        dept_count[org] = number = dept_count.get(org, 0) + 1
        dept_rows["department_id"].append(f"{org_ids[org]}-{number:03d}")
        dept_rows["org_id"].append(org_ids[org])
        dept_rows["department_name"].append(f"Afdeling {number} ({org_names[org]})")
        dept_rows["municipality_code"].append(muni)
        dept_rows["area_id"].append(area_ids[area] if area >= 0 else None)
        dw_dept[members] = len(dept_rows["department_id"]) - 1

    for a in range(n_areas):
        members = np.flatnonzero(dw_area_a == a)
        n_dept = max(1, int(round(len(members) / 450)) + int(rng.integers(0, 2)))
        for chunk in np.array_split(members, n_dept):
            add_department(chunk, int(area_muni[a]), a)
    for m in munis:
        members = np.flatnonzero((dw_muni_a == m.code) & (dw_tenure_a == ALMEN) & (dw_area_a < 0))
        members = members[np.argsort(dw_built_a[members], kind="stable")]
        for chunk in np.array_split(members, max(1, len(members) // 90)):
            if len(chunk):
                add_department(chunk, m.code, -1)

    # --- dwelling attributes ---------------------------------------------------------------------
    almen = dw_tenure_a == ALMEN
    almen_type = np.full(n_dw, -1, np.int8)
    r = rng.random(n_dw)
    in_area = dw_area_a >= 0
    family, youth, elderly = (ALMEN_TYPES.index(t) for t in ("family", "youth", "elderly"))
    almen_type[almen] = family
    almen_type[almen & ((in_area & (r < 0.04)) | (~in_area & (r < 0.12)))] = youth
    almen_type[almen & ((in_area & (r > 0.96)) | (~in_area & (r > 0.87)))] = elderly
    rooms = np.clip(rng.poisson(np.where(dw_tenure_a == EJER, 3.6, 2.4)) + 1, 1, 20)
    rooms[almen_type == youth] = rng.integers(1, 3, int((almen_type == youth).sum()))
    rooms[almen_type == elderly] = 2
    floor = np.clip(18 + 24 * rooms + rng.normal(0, 10, n_dw), 15, 900).round(1)
    rent_per_m2 = np.select([almen, dw_tenure_a == PRIVAT, dw_tenure_a == ANDEL],
                            [75.0, 105.0, 50.0], default=np.nan)
    rent = np.round(floor * rent_per_m2 * rng.uniform(0.85, 1.15, n_dw), 0)
    dwelling_ids = dwelling_id(np.arange(n_dw))

    regions = pl.DataFrame({"region_code": list(REGION_NAMES), "region_name": list(REGION_NAMES.values())})
    municipalities = pl.DataFrame({
        "municipality_code": [m.code for m in munis], "municipality_name": [m.name for m in munis],
        "region_code": [m.region for m in munis]})
    centres = []
    for a in range(n_areas):
        code = int(area_muni[a])
        region = next(m.region for m in all_munis if m.code == code)
        base = CITY_CENTRES.get(code, REGION_CENTRES[region])
        jitter = 6_000 if code in CITY_CENTRES else 30_000
        centres.append((base[0] + rng.uniform(-jitter, jitter), base[1] + rng.uniform(-jitter, jitter)))
    side = np.sqrt(area_size) * 12
    areas = pl.DataFrame({
        "area_id": area_ids,
        "area_name": [f"Boligområde {i + 1} ({next(m.name for m in all_munis if m.code == c)})"
                      for i, c in enumerate(area_muni)],
        "municipality_code": area_muni.astype(np.int64),
        "delineation_version": ["2010-parcels"] * n_areas,
        "polygon_wkt": [_polygon(cx, cy, s, s * 0.7) for (cx, cy), s in zip(centres, side)],
    }, schema={"area_id": pl.String, "area_name": pl.String, "municipality_code": pl.Int64,
               "delineation_version": pl.String, "polygon_wkt": pl.String})
    orgs = pl.DataFrame({"org_id": org_ids, "org_name": org_names, "municipality_code": org_munis},
                        schema={"org_id": pl.String, "org_name": pl.String, "municipality_code": pl.Int64})
    departments = pl.DataFrame(dept_rows, schema={"department_id": pl.String, "org_id": pl.String,
                                                  "department_name": pl.String, "municipality_code": pl.Int64,
                                                  "area_id": pl.String})
    dwellings = pl.DataFrame({
        "dwelling_id": dwelling_ids,
        "municipality_code": dw_muni_a,
        "tenure": labels(TENURES, dw_tenure_a),
        "department_id": labels(dept_rows["department_id"], dw_dept),
        "area_id": labels(area_ids, dw_area_a),
        "almen_type": labels(ALMEN_TYPES, almen_type),
        "rooms": rooms.astype(np.int64),
        "floor_area_m2": floor.astype(np.float64),
        "monthly_rent_dkk": rent,
    }, schema={"dwelling_id": pl.Int64, "municipality_code": pl.Int64, "tenure": pl.String,
               "department_id": pl.String, "area_id": pl.String, "almen_type": pl.String, "rooms": pl.Int64,
               "floor_area_m2": pl.Float64, "monthly_rent_dkk": pl.Float64})
    dwellings = dwellings.with_columns(pl.col("monthly_rent_dkk").fill_nan(None))
    tables = {"regions": regions, "municipalities": municipalities, "areas": areas,
              "housing_organisations": orgs, "departments": departments, "dwellings": dwellings}
    return Geography(munis, profiles, area_muni, area_size, dw_muni_a, dw_tenure_a, dw_area_a, dw_dept,
                     dw_built_a, quality, tables)


_ID_MULT = np.int64(0x9E3779B1)


def dwelling_id(index: np.ndarray) -> np.ndarray:
    """Pseudonymous dwelling ids: an injective scramble of the index."""
    return (index.astype(np.int64) * _ID_MULT + np.int64(3_000_000_000_000)).astype(np.int64)
