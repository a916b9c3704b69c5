"""The register data model: one declarative `TableSpec` per table.

This module is the single source of truth for table and column names, types, allowed
values and keys. The synthetic generator writes these tables, `ingest` validates real
extracts against them, and the data dictionary (`docs/data-dictionary.md`) is generated
from them. Everything else reads tables by these names.

A dataset is a directory holding `<table>.parquet` for every table below plus
`manifest.json` (see `boligmix.data.io`).

Identifiers of persons, households and dwellings are pseudonymous 64-bit integers (a
keyed hash of the source identifier on import). Codes that people read (areas,
departments, organisations, municipalities) are strings or DST codes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

SCHEMA_VERSION = "1.0"

DType = Literal["int64", "float64", "string", "bool", "date"]

SEXES = ("M", "F")
ORIGINS = ("dansk", "indvandrer", "efterkommer")
"""DST origin groups: Danish origin, immigrant, descendant (rules-spec 1.1)."""

EDUCATION_LEVELS = (
    "grundskole",
    "gymnasial",
    "erhvervsfaglig",
    "kort_videregaaende",
    "mellemlang_videregaaende",
    "lang_videregaaende",
    "uoplyst",
)
"""Highest completed education, DST-style levels; `uoplyst` is unknown."""

EDUCATION_SOURCES = ("dk_registered", "self_reported", "imputed", "none")
"""Where the education level comes from. Only `dk_registered` counts from the 2018 rules on."""

ATTACHMENT_TYPES = (
    "employment",
    "education",
    "kontanthjaelp",
    "uddannelseshjaelp",
    "selvforsoergelse_hjemrejse",
    "overgangsydelse",
    "foertidspension",
    "dagpenge",
    "sygedagpenge",
    "ressourceforloebsydelse",
    "fleksjob",
    "ledighedsydelse",
    "barselsdagpenge",
    "efterloen",
    "folkepension",
    "other",
    "ressourceforloebsydelse_jobafklaring",
)
"""Yearly labour-market attachment, in full-time equivalents per type (rules-spec 1.4).

`ressourceforloebsydelse` is the benefit during a ressourceforløb; the same benefit paid during a
jobafklaringsforløb is `ressourceforloebsydelse_jobafklaring` (appended last so existing type
codes keep their position): only the latter counts for almenboligloven § 51 b and § 59, stk. 6,
nr. 7 (rules-spec 6.6). The area-list indicators count both alike."""

CONVICTION_LAWS = ("straffeloven", "vaabenloven", "euforiserende_stoffer")
TENURES = ("almen", "privat_udlejning", "andel", "ejer", "other")
ALMEN_TYPES = ("family", "youth", "elderly")
MOVE_DESTINATIONS = ("abroad", "death")
"""Reasons a residence spell ends without a new dwelling in the data."""


@dataclass(frozen=True)
class Column:
    """One column: its type, whether it may be null, and the values it may take."""

    name: str
    dtype: DType
    description: str
    nullable: bool = False
    allowed: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    references: str | None = None
    """`table.column` this column points to (a foreign key), for documentation and checks."""


@dataclass(frozen=True)
class TableSpec:
    """A register table: columns in order and the columns that identify a row."""

    name: str
    description: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    optional: bool = False
    """An optional table may be absent from a dataset (e.g. letting data)."""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"table {self.name} has no column {name}")


def _c(name: str, dtype: DType, description: str, **kw) -> Column:
    return Column(name=name, dtype=dtype, description=description, **kw)


REGIONS = TableSpec(
    "regions",
    "Denmark's 5 regions.",
    (
        _c("region_code", "int64", "DST region code (1081-1085).", minimum=1081, maximum=1085),
        _c("region_name", "string", "Region name."),
    ),
    ("region_code",),
)

MUNICIPALITIES = TableSpec(
    "municipalities",
    "The 98 municipalities (kommuner).",
    (
        _c("municipality_code", "int64", "DST municipality code (e.g. 101 København).", minimum=101,
           maximum=999),
        _c("municipality_name", "string", "Municipality name."),
        _c("region_code", "int64", "Region the municipality lies in.", references="regions.region_code"),
    ),
    ("municipality_code",),
)

COUNTRIES = TableSpec(
    "countries",
    "Country of origin nomenclature with the DST western/non-western grouping, versioned.",
    (
        _c("country_code", "string", "Country code (ISO 3166 alpha-3, or DST-style code for "
           "'stateless'/'unknown')."),
        _c("country_name", "string", "Country name."),
        _c("western", "bool", "True for DST 'vestlige lande' (rules-spec 1.1)."),
        _c("nomenclature_version", "string", "Version of the grouping, e.g. 'dst-2019'."),
    ),
    ("country_code", "nomenclature_version"),
)

AREAS = TableSpec(
    "areas",
    "Boligområder: physically connected almene parcels (versioned delineation, rules-spec 1.2).",
    (
        _c("area_id", "string", "Stable area identifier."),
        _c("area_name", "string", "Area name."),
        _c("municipality_code", "int64", "Municipality the area lies in.",
           references="municipalities.municipality_code"),
        _c("delineation_version", "string", "Delineation the area belongs to (e.g. '2010-parcels', "
           "'2023-bek')."),
        _c("polygon_wkt", "string", "Simple polygon (WKT, EPSG:25832) for offline maps.", nullable=True),
    ),
    ("area_id",),
)

HOUSING_ORGANISATIONS = TableSpec(
    "housing_organisations",
    "Boligorganisationer.",
    (
        _c("org_id", "string", "Housing organisation identifier."),
        _c("org_name", "string", "Name."),
        _c("municipality_code", "int64", "Municipality of the main office.",
           references="municipalities.municipality_code"),
    ),
    ("org_id",),
)

DEPARTMENTS = TableSpec(
    "departments",
    "Almene boligafdelinger; a department belongs to one organisation and to at most one area.",
    (
        _c("department_id", "string", "Department identifier (organisation id + department number)."),
        _c("org_id", "string", "Owning housing organisation.", references="housing_organisations.org_id"),
        _c("department_name", "string", "Department name."),
        _c("municipality_code", "int64", "Municipality.", references="municipalities.municipality_code"),
        _c("area_id", "string", "Area the department lies in, null if in none.", nullable=True,
           references="areas.area_id"),
    ),
    ("department_id",),
)

DWELLINGS = TableSpec(
    "dwellings",
    "Dwellings of every tenure; almene dwellings belong to a department.",
    (
        _c("dwelling_id", "int64", "Pseudonymous dwelling identifier."),
        _c("municipality_code", "int64", "Municipality.", references="municipalities.municipality_code"),
        _c("tenure", "string", "Tenure.", allowed=TENURES),
        _c("department_id", "string", "Almen department (null for other tenures).", nullable=True,
           references="departments.department_id"),
        _c("area_id", "string", "Area the dwelling's parcel lies in (null if none).", nullable=True,
           references="areas.area_id"),
        _c("almen_type", "string", "Almen dwelling type (null for other tenures).", nullable=True,
           allowed=ALMEN_TYPES),
        _c("rooms", "int64", "Number of rooms.", minimum=1, maximum=20),
        _c("floor_area_m2", "float64", "Floor area in m².", minimum=5, maximum=1000),
        _c("monthly_rent_dkk", "float64", "Monthly rent in DKK (null for owner-occupied).", nullable=True,
           minimum=0),
    ),
    ("dwelling_id",),
)

PERSONS = TableSpec(
    "persons",
    "Persons who lived in Denmark at some time in the covered years (time-invariant facts).",
    (
        _c("person_id", "int64", "Pseudonymous person identifier (keyed hash of the CPR number)."),
        _c("birth_date", "date", "Birth date."),
        _c("sex", "string", "Sex.", allowed=SEXES),
        _c("origin", "string", "DST origin group.", allowed=ORIGINS),
        _c("country_code", "string", "Country of origin (DST definition; Denmark 'DNK' for "
           "Danish origin).", references="countries.country_code"),
    ),
    ("person_id",),
)

PERSON_YEARS = TableSpec(
    "person_years",
    "Yearly facts per person, measured for the calendar year (education at its end).",
    (
        _c("person_id", "int64", "Person.", references="persons.person_id"),
        _c("year", "int64", "Calendar year.", minimum=1980, maximum=2100),
        _c("highest_education", "string", "Highest completed education.", allowed=EDUCATION_LEVELS),
        _c("education_source", "string", "Source of the education level.", allowed=EDUCATION_SOURCES),
        _c("in_education", "bool", "Enrolled in education (student) in the year."),
        _c("gross_income_dkk", "float64", "Gross income (bruttoindkomst) in DKK.", minimum=-1e9),
        _c("taxpayer", "bool", "Full taxpayer (skattepligtig) in the year."),
    ),
    ("person_id", "year"),
)

LABOUR = TableSpec(
    "labour",
    "Labour-market attachment in full-time equivalents (1.0 = a full year) by type and year.",
    (
        _c("person_id", "int64", "Person.", references="persons.person_id"),
        _c("year", "int64", "Calendar year.", minimum=1980, maximum=2100),
        _c("attachment", "string", "Type of attachment or benefit.", allowed=ATTACHMENT_TYPES),
        _c("fte", "float64", "Full-time equivalents in the year.", minimum=0.0, maximum=1.0),
    ),
    ("person_id", "year", "attachment"),
)

CONVICTIONS = TableSpec(
    "convictions",
    "Convictions by year and law (one row per person, year and law).",
    (
        _c("person_id", "int64", "Person.", references="persons.person_id"),
        _c("year", "int64", "Year of the verdict.", minimum=1980, maximum=2100),
        _c("law", "string", "Law.", allowed=CONVICTION_LAWS),
        _c("count", "int64", "Number of convictions under the law that year.", minimum=1),
    ),
    ("person_id", "year", "law"),
)

RESIDENCES = TableSpec(
    "residences",
    "Residence spells: who lived in which dwelling, in which household, from when to when.",
    (
        _c("person_id", "int64", "Person.", references="persons.person_id"),
        _c("household_id", "int64", "Household the person belonged to during the spell."),
        _c("dwelling_id", "int64", "Dwelling.", references="dwellings.dwelling_id"),
        _c("move_in", "date", "First day of the spell."),
        _c("move_out", "date", "Day after the last day; null while the spell is open.", nullable=True),
        _c("end_reason", "string", "Why the spell ended when no next spell follows (null otherwise).",
           nullable=True, allowed=MOVE_DESTINATIONS),
    ),
    ("person_id", "move_in"),
)

APPLICANTS = TableSpec(
    "applicants",
    "Waiting-list applicants (for the letting engine).",
    (
        _c("applicant_id", "int64", "Pseudonymous applicant identifier."),
        _c("household_id", "int64", "Applicant household.", nullable=True),
        _c("org_id", "string", "Organisation whose list the applicant is on.",
           references="housing_organisations.org_id"),
        _c("list_type", "string", "External or internal (oprykning) list.", allowed=("external", "internal")),
        _c("seniority_date", "date", "Date that orders the list (anciennitet)."),
        _c("household_size", "int64", "Persons in the household.", minimum=1, maximum=20),
        _c("min_rooms", "int64", "Smallest number of rooms wanted.", minimum=1, maximum=20),
        _c("max_rent_dkk", "float64", "Highest monthly rent wanted.", nullable=True, minimum=0),
    ),
    ("applicant_id", "org_id", "list_type"),
    optional=True,
)

LETTINGS = TableSpec(
    "lettings",
    "Letting agreements (leases).",
    (
        _c("letting_id", "int64", "Letting identifier."),
        _c("dwelling_id", "int64", "Dwelling let.", references="dwellings.dwelling_id"),
        _c("household_id", "int64", "Household that got the dwelling."),
        _c("lease_start", "date", "First day of the lease."),
        _c("channel", "string", "How the dwelling was let.",
           allowed=("waiting_list", "internal", "kommunal_anvisning", "fleksibel", "annoncering",
                    "rehousing", "other", "udslusning")),
    ),
    ("letting_id",),
    optional=True,
)

TABLES: dict[str, TableSpec] = {
    t.name: t
    for t in (
        REGIONS,
        MUNICIPALITIES,
        COUNTRIES,
        AREAS,
        HOUSING_ORGANISATIONS,
        DEPARTMENTS,
        DWELLINGS,
        PERSONS,
        PERSON_YEARS,
        LABOUR,
        CONVICTIONS,
        RESIDENCES,
        APPLICANTS,
        LETTINGS,
    )
}
"""Every table of the data model, by name, in dependency order."""

REQUIRED_TABLES = tuple(name for name, spec in TABLES.items() if not spec.optional)
