"""A small, valid register extract written by hand (every required table), for ingest tests."""

from __future__ import annotations

from pathlib import Path

EXTRACT: dict[str, str] = {
    "regions": """region_code,region_name
1084,Region Hovedstaden
1085,Region Sjælland
""",
    "municipalities": """municipality_code,municipality_name,region_code
101,København,1084
147,Frederiksberg,1084
""",
    "countries": """country_code,country_name,western,nomenclature_version
DNK,Danmark,true,dst-2019
TUR,Tyrkiet,false,dst-2019
""",
    "areas": """area_id,area_name,municipality_code,delineation_version,polygon_wkt
A1,Mjølnerparken,101,2023-bek,
""",
    "housing_organisations": """org_id,org_name,municipality_code
O1,Bo-Vita,101
""",
    "departments": """department_id,org_id,department_name,municipality_code,area_id
O1-1,O1,Afdeling 1,101,A1
O1-2,O1,Afdeling 2,147,
""",
    "dwellings": """dwelling_id,municipality_code,tenure,department_id,area_id,almen_type,rooms,floor_area_m2,monthly_rent_dkk
D-1001,101,almen,O1-1,A1,family,3,75.5,6200
D-1002,101,almen,O1-1,A1,family,2,55,4800.5
D-2001,147,ejer,,,,5,140,
""",
    "persons": """person_id,birth_date,sex,origin,country_code
010190-1234,1990-01-01,F,dansk,DNK
020285-4321,1985-02-02,M,indvandrer,TUR
150712-0001,2012-07-15,F,efterkommer,TUR
""",
    "person_years": """person_id,year,highest_education,education_source,in_education,gross_income_dkk,taxpayer
010190-1234,2022,gymnasial,dk_registered,0,250000,1
010190-1234,2023,mellemlang_videregaaende,dk_registered,false,310000.5,true
020285-4321,2023,uoplyst,none,0,0,1
150712-0001,2023,grundskole,dk_registered,1,0,0
""",
    "labour": """person_id,year,attachment,fte
010190-1234,2023,employment,1.0
020285-4321,2023,kontanthjaelp,0.75
020285-4321,2023,other,0.25
""",
    "convictions": """person_id,year,law,count
020285-4321,2022,straffeloven,1
""",
    "residences": """person_id,household_id,dwelling_id,move_in,move_out,end_reason
010190-1234,H-1,D-2001,2015-01-01,2021-06-01,
010190-1234,H-2,D-1001,2021-06-01,,
020285-4321,H-3,D-1002,2010-03-01,,
150712-0001,H-3,D-1002,2012-07-15,,
""",
}

OPTIONAL: dict[str, str] = {
    "applicants": """applicant_id,household_id,org_id,list_type,seniority_date,household_size,min_rooms,max_rent_dkk
77,H-2,O1,external,2019-05-01,1,2,7000
78,,O1,internal,2020-01-01,3,3,
""",
    "lettings": """letting_id,dwelling_id,household_id,lease_start,channel
5001,D-1001,H-2,2021-06-01,waiting_list
""",
}

PERSON_IDS = ("010190-1234", "020285-4321", "150712-0001")


def write_extract(directory: Path, *, changes: dict[str, str | None] | None = None,
                  optional: bool = False) -> Path:
    """Write the extract as CSV files; `changes` replaces a table's text (None drops the file)."""
    directory.mkdir(parents=True, exist_ok=True)
    tables = {**EXTRACT, **(OPTIONAL if optional else {}), **(changes or {})}
    for name, text in tables.items():
        if text is not None:
            (directory / f"{name}.csv").write_text(text, encoding="utf-8")
    return directory


def replace_line(table: str, row: int, new: str) -> str:
    """The table's CSV text with data row `row` (1-based, header not counted) replaced."""
    lines = EXTRACT.get(table, OPTIONAL.get(table, "")).splitlines()
    lines[row] = new
    return "\n".join(lines) + "\n"
