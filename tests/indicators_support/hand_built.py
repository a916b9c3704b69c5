"""A tiny hand-built dataset whose indicator values are worked out by hand in test_indicators_official.py.

Geography: region 1084 holds municipality 101 (areas A1, A2 and the private dwelling 4);
region 1082 holds municipality 751 (area A3 and the private dwelling 6).
Dwellings: 1, 2 in A1 (department D1); 3 in A2 (D2); 4 private, mun 101; 5 in A3 (D4);
6 private, mun 751. Department D3 (mun 101) has no dwellings.
Register years 2022-2023; the list year under test is 2024.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from boligmix.data.io import Manifest, write_dataset

D = date

# person: (birth_date, origin, country, dwelling spells [(dwelling, move_in, move_out, end_reason)])
PERSONS: dict[int, tuple[date, str, str, list[tuple[int, date, date | None, str | None]]]] = {
    1: (D(2006, 1, 1), "dansk", "DNK", [(1, D(2010, 1, 1), None, None)]),
    2: (D(2006, 1, 2), "efterkommer", "TUR", [(1, D(2010, 1, 1), None, None)]),
    3: (D(1959, 1, 2), "dansk", "DNK", [(1, D(2010, 1, 1), None, None)]),
    4: (D(1959, 1, 1), "dansk", "DNK", [(1, D(2010, 1, 1), None, None)]),
    5: (D(1994, 1, 1), "dansk", "DNK", [(2, D(2010, 1, 1), None, None)]),
    6: (D(1994, 1, 2), "dansk", "DNK", [(2, D(2010, 1, 1), None, None)]),
    7: (D(1964, 1, 2), "dansk", "DNK", [(2, D(2010, 1, 1), None, None)]),
    8: (D(1964, 1, 1), "dansk", "DNK", [(2, D(2010, 1, 1), None, None)]),
    9: (D(1980, 6, 15), "dansk", "DNK", [(4, D(2015, 1, 1), D(2024, 1, 1), None),
                                         (2, D(2024, 1, 1), None, None)]),
    10: (D(1985, 3, 1), "dansk", "DNK", [(2, D(2010, 1, 1), D(2024, 1, 1), "abroad")]),
    11: (D(1970, 5, 5), "indvandrer", "TUR", [(1, D(2010, 1, 1), None, None)]),
    12: (D(1990, 7, 7), "efterkommer", "DEU", [(1, D(2010, 1, 1), None, None)]),
    13: (D(1980, 1, 1), "indvandrer", "TUR", [(3, D(2010, 1, 1), None, None)]),
    14: (D(1982, 2, 2), "dansk", "DNK", [(3, D(2010, 1, 1), None, None)]),
    15: (D(1975, 1, 1), "dansk", "DNK", [(4, D(2010, 1, 1), None, None)]),
    16: (D(1990, 1, 1), "dansk", "DNK", [(5, D(2010, 1, 1), None, None)]),
    17: (D(1960, 6, 1), "dansk", "DNK", [(6, D(2010, 1, 1), None, None)]),
    18: (D(1970, 1, 1), "dansk", "DNK", [(3, D(2010, 1, 1), D(2023, 6, 1), "death")]),
    19: (D(1980, 1, 1), "dansk", "DNK", [(1, D(2010, 1, 1), D(2021, 5, 1), "abroad")]),
    20: (D(1990, 1, 1), "dansk", "DNK", [(6, D(2024, 1, 2), None, None)]),
    21: (D(2009, 1, 1), "dansk", "DNK", [(4, D(2010, 1, 1), None, None)]),
    22: (D(2009, 1, 2), "dansk", "DNK", [(4, D(2010, 1, 1), None, None)]),
}

# person_years 2023: person -> (highest_education, education_source, in_education, income, taxpayer)
PERSON_YEARS_2023 = {
    1: ("grundskole", "dk_registered", True, 50_000.0, True),
    2: ("grundskole", "dk_registered", False, 20_000.0, True),
    3: ("erhvervsfaglig", "dk_registered", False, 300_000.0, True),
    4: ("erhvervsfaglig", "dk_registered", False, 1_000_000.0, True),
    5: ("grundskole", "dk_registered", False, 200_000.0, True),
    6: ("grundskole", "dk_registered", False, 100_000.0, False),
    7: ("uoplyst", "none", False, 250_000.0, True),
    8: ("grundskole", "dk_registered", False, 150_000.0, True),
    9: ("lang_videregaaende", "self_reported", False, 400_000.0, True),
    11: ("erhvervsfaglig", "dk_registered", False, 80_000.0, True),
    12: ("gymnasial", "imputed", True, 120_000.0, True),
    13: ("grundskole", "dk_registered", False, 100_000.0, True),
    14: ("mellemlang_videregaaende", "dk_registered", False, 100_000.0, True),
    15: ("lang_videregaaende", "dk_registered", False, 700_000.0, True),
    16: ("kort_videregaaende", "dk_registered", False, 300_000.0, True),
    17: ("erhvervsfaglig", "dk_registered", False, 100_000.0, True),
    21: ("grundskole", "dk_registered", False, 10_000.0, True),
    22: ("grundskole", "dk_registered", False, 10_000.0, True),
}

HOUSEHOLDS = {2: 502, 3: 502, 4: 502, 15: 504, 21: 504, 22: 504}
"""Shared households (composition tests); everyone else lives alone in household 1000 + person."""

LABOUR = [  # (person, year, attachment, fte)
    (5, 2023, "employment", 1.0), (7, 2023, "employment", 0.5),
    (3, 2022, "kontanthjaelp", 0.25), (3, 2022, "employment", 0.75),
    (4, 2022, "foertidspension", 1.0),
    (6, 2022, "dagpenge", 0.5),
    (7, 2022, "sygedagpenge", 1.0),
    (10, 2022, "selvforsoergelse_hjemrejse", 0.6), (10, 2022, "overgangsydelse", 0.6),
    (11, 2022, "fleksjob", 1.0),
    (1, 2022, "kontanthjaelp", 1.0),
    (18, 2022, "kontanthjaelp", 1.0),
    (3, 2023, "kontanthjaelp", 0.5),
    (4, 2023, "foertidspension", 1.0),
    (1, 2023, "uddannelseshjaelp", 0.25),
    (6, 2023, "ressourceforloebsydelse", 0.4),
    (8, 2023, "ledighedsydelse", 0.1), (8, 2023, "efterloen", 0.9),
    (9, 2023, "barselsdagpenge", 1.0),
    (11, 2023, "overgangsydelse", 0.3),
    (10, 2023, "kontanthjaelp", 1.0),
    (13, 2023, "kontanthjaelp", 0.5),
]

CONVICTIONS = [  # (person, year, law, count)
    (10, 2022, "straffeloven", 1),
    (4, 2022, "vaabenloven", 2), (4, 2022, "straffeloven", 1),
    (15, 2022, "euforiserende_stoffer", 1),
    (19, 2022, "straffeloven", 1),
    (2, 2022, "straffeloven", 1),
    (1, 2023, "straffeloven", 1),
    (13, 2023, "vaabenloven", 1),
    (10, 2023, "straffeloven", 1),
]

# dwelling: (municipality, tenure, department, area)
DWELLINGS = {1: (101, "almen", "D1", "A1"), 2: (101, "almen", "D1", "A1"), 3: (101, "almen", "D2", "A2"),
             4: (101, "ejer", None, None), 5: (751, "almen", "D4", "A3"), 6: (751, "ejer", None, None)}


def tables() -> dict[str, pl.DataFrame]:
    """The tables of the hand-built dataset, typed as the schema says."""
    spells = [(pid, dw, mi, mo, er) for pid, (_, _, _, sp) in PERSONS.items() for dw, mi, mo, er in sp]
    return {
        "regions": pl.DataFrame({"region_code": [1082, 1084], "region_name": ["Midtjylland", "Hovedstaden"]}),
        "municipalities": pl.DataFrame({"municipality_code": [101, 751], "municipality_name": ["København", "Aarhus"],
                                        "region_code": [1084, 1082]}),
        "countries": pl.DataFrame({"country_code": ["DNK", "TUR", "DEU"], "country_name": ["Danmark", "Tyrkiet",
                                                                                            "Tyskland"],
                                   "western": [True, False, True], "nomenclature_version": ["dst-2019"] * 3}),
        "areas": pl.DataFrame({"area_id": ["A1", "A2", "A3"], "area_name": ["Et", "To", "Tre"],
                               "municipality_code": [101, 101, 751], "delineation_version": ["test"] * 3,
                               "polygon_wkt": pl.Series([None] * 3, dtype=pl.String)}),
        "housing_organisations": pl.DataFrame({"org_id": ["O1"], "org_name": ["Org"], "municipality_code": [101]}),
        "departments": pl.DataFrame({"department_id": ["D1", "D2", "D3", "D4"], "org_id": ["O1"] * 4,
                                     "department_name": ["d1", "d2", "d3", "d4"],
                                     "municipality_code": [101, 101, 101, 751],
                                     "area_id": ["A1", "A2", None, "A3"]}),
        "dwellings": pl.DataFrame({
            "dwelling_id": list(DWELLINGS), "municipality_code": [v[0] for v in DWELLINGS.values()],
            "tenure": [v[1] for v in DWELLINGS.values()],
            "department_id": pl.Series([v[2] for v in DWELLINGS.values()], dtype=pl.String),
            "area_id": pl.Series([v[3] for v in DWELLINGS.values()], dtype=pl.String),
            "almen_type": pl.Series(["family" if v[1] == "almen" else None for v in DWELLINGS.values()],
                                    dtype=pl.String),
            "rooms": [3] * len(DWELLINGS), "floor_area_m2": [80.0] * len(DWELLINGS),
            "monthly_rent_dkk": pl.Series([6000.0] * len(DWELLINGS), dtype=pl.Float64)}),
        "persons": pl.DataFrame({
            "person_id": list(PERSONS), "birth_date": [v[0] for v in PERSONS.values()],
            "sex": ["F" if pid % 2 else "M" for pid in PERSONS], "origin": [v[1] for v in PERSONS.values()],
            "country_code": [v[2] for v in PERSONS.values()]}),
        "person_years": pl.DataFrame({
            "person_id": list(PERSON_YEARS_2023), "year": [2023] * len(PERSON_YEARS_2023),
            "highest_education": [v[0] for v in PERSON_YEARS_2023.values()],
            "education_source": [v[1] for v in PERSON_YEARS_2023.values()],
            "in_education": [v[2] for v in PERSON_YEARS_2023.values()],
            "gross_income_dkk": [v[3] for v in PERSON_YEARS_2023.values()],
            "taxpayer": [v[4] for v in PERSON_YEARS_2023.values()]}),
        "labour": pl.DataFrame(LABOUR, schema={"person_id": pl.Int64, "year": pl.Int64, "attachment": pl.String,
                                               "fte": pl.Float64}, orient="row"),
        "convictions": pl.DataFrame(CONVICTIONS, schema={"person_id": pl.Int64, "year": pl.Int64, "law": pl.String,
                                                         "count": pl.Int64}, orient="row"),
        "residences": pl.DataFrame(
            [(pid, HOUSEHOLDS.get(pid, 1000 + pid), dw, mi, mo, er) for pid, dw, mi, mo, er in spells],
            schema={"person_id": pl.Int64, "household_id": pl.Int64, "dwelling_id": pl.Int64, "move_in": pl.Date,
                    "move_out": pl.Date, "end_reason": pl.String}, orient="row"),
    }


def write(target: Path, overrides: dict[str, pl.DataFrame] | None = None) -> Path:
    """Write the dataset (with some tables replaced) to `target`."""
    data = tables()
    data.update(overrides or {})
    manifest = Manifest(vintage="hand-built-test", source="synthetic", seed=7, years=(2022, 2023))
    return write_dataset(target, data, manifest)
