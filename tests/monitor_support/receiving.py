"""A constructed dataset for the receiving-area watch: households from a listed area L move into a
small area R (15 residents after the move).

R: 10 residents in dwellings 1-10 since 2010, aged 40, employed full time in 2022 and 2023.
L: dwellings 11-15. Five persons (aged 35) live in L from 2010 and move to R (dwellings 1-5) on
1 March 2022, each in their own household; with `arrivals_outside=True` they are on
kontanthjaelp full time in 2022 and 2023, else employed. Everyone has Danish-registered
erhvervsfaglig education and 300,000 DKK income in 2022-2023. Register years 2020-2023.

For list year 2024 (window 2022-2023, populations 1 January 2023 and 2024): R's share outside
work and education is 5/15 = 33.3 % in both years with the arrivals (over the forebyggelse
threshold 30 %, not within 10 % of the udsat threshold 40 %, i.e. below 36 %), and 0/10 without.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from boligmix.data.io import Manifest, write_dataset

NATIVES = list(range(1, 11))
MOVERS = list(range(11, 16))


def build(out: Path, *, arrivals_outside: bool, rehousing: bool = False) -> Path:
    """`rehousing=True` adds a lettings table: the movers' households were let their dwelling in R
    through the `rehousing` channel on the move date."""
    persons = NATIVES + MOVERS
    spells = [(p, 1000 + p, p, date(2010, 1, 1), None) for p in NATIVES]
    for k, p in enumerate(MOVERS):
        spells.append((p, 2000 + p, 11 + k, date(2010, 1, 1), date(2022, 3, 1)))
        spells.append((p, 2000 + p, 1 + k, date(2022, 3, 1), None))
    labour = [(p, y, "employment", 1.0) for p in NATIVES for y in (2022, 2023)]
    labour += [(p, y, "kontanthjaelp" if arrivals_outside else "employment", 1.0) for p in MOVERS for y in (2022, 2023)]
    dwellings = list(range(1, 16))
    tables = {
        "regions": pl.DataFrame({"region_code": [1084], "region_name": ["Hovedstaden"]}),
        "municipalities": pl.DataFrame({"municipality_code": [101], "municipality_name": ["København"],
                                        "region_code": [1084]}),
        "countries": pl.DataFrame({"country_code": ["DNK"], "country_name": ["Danmark"], "western": [True],
                                   "nomenclature_version": ["dst-2019"]}),
        "areas": pl.DataFrame({"area_id": ["L", "R"], "area_name": ["Listet", "Modtager"], "municipality_code": [101, 101],
                               "delineation_version": ["test", "test"],
                               "polygon_wkt": pl.Series([None, None], dtype=pl.String)}),
        "housing_organisations": pl.DataFrame({"org_id": ["O1"], "org_name": ["Org"], "municipality_code": [101]}),
        "departments": pl.DataFrame({"department_id": ["DL", "DR"], "org_id": ["O1", "O1"],
                                     "department_name": ["dl", "dr"], "municipality_code": [101, 101],
                                     "area_id": ["L", "R"]}),
        "dwellings": pl.DataFrame({
            "dwelling_id": dwellings, "municipality_code": [101] * 15, "tenure": ["almen"] * 15,
            "department_id": ["DR" if d <= 10 else "DL" for d in dwellings],
            "area_id": ["R" if d <= 10 else "L" for d in dwellings], "almen_type": ["family"] * 15,
            "rooms": [3] * 15, "floor_area_m2": [80.0] * 15, "monthly_rent_dkk": [6000.0] * 15}),
        "persons": pl.DataFrame({
            "person_id": persons, "birth_date": [date(1983, 6, 1) if p in NATIVES else date(1988, 6, 1) for p in persons],
            "sex": ["F"] * len(persons), "origin": ["dansk"] * len(persons), "country_code": ["DNK"] * len(persons)}),
        "person_years": pl.DataFrame({
            "person_id": [p for p in persons for _ in (2022, 2023)], "year": [y for _ in persons for y in (2022, 2023)],
            "highest_education": "erhvervsfaglig", "education_source": "dk_registered", "in_education": False,
            "gross_income_dkk": 300_000.0, "taxpayer": True}),
        "labour": pl.DataFrame(labour, schema={"person_id": pl.Int64, "year": pl.Int64, "attachment": pl.String,
                                               "fte": pl.Float64}, orient="row"),
        "convictions": pl.DataFrame(schema={"person_id": pl.Int64, "year": pl.Int64, "law": pl.String,
                                            "count": pl.Int64}),
        "residences": pl.DataFrame(spells, schema={"person_id": pl.Int64, "household_id": pl.Int64,
                                                   "dwelling_id": pl.Int64, "move_in": pl.Date, "move_out": pl.Date},
                                   orient="row").with_columns(pl.lit(None, pl.String).alias("end_reason")),
    }
    if rehousing:
        tables["lettings"] = pl.DataFrame({
            "letting_id": list(range(1, 6)), "dwelling_id": [1 + k for k in range(5)],
            "household_id": [2000 + p for p in MOVERS], "lease_start": [date(2022, 3, 1)] * 5,
            "channel": ["rehousing"] * 5})
    return write_dataset(out, tables, Manifest(vintage="receiving-test", source="synthetic", seed=0,
                                               years=(2020, 2023)))


def lists(listed: bool) -> pl.DataFrame:
    """The lists in force: L on the udsat list of 2021 (in force from 1 December 2021) when `listed`."""
    return pl.DataFrame({"area_id": ["L", "R"], "year": [2021, 2021], "udsat": [listed, False],
                         "parallelsamfund": [False, False], "omdannelse": [False, False], "forebyggelse": [False, False]})
