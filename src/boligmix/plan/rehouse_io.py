"""The CSV inputs of `boligmix rehouse`, read strictly (file, row and column in every error).

H.csv: household_id,persons,rooms_before,monthly_income_dkk,outside_work,municipality_code,scope_area,move_by
V.csv: dwelling_id,area_id,municipality_code,rooms,monthly_rent_dkk,available_from
W.csv: household_id,rank,area_id  (rank 1 = first wish; optional file)
C.csv: area_id,max_outside_work   (optional file; the extra columns `boligmix rehouse caps --internal` writes
       are kept: area_name, adults_18_64, pct_outside_work_edu, ... and used for the before/after composition;
       a published caps file, with caps blank where they would bound a suppressed count, is refused
       where a cap is blank, with advice)
"""

from __future__ import annotations

import os

import polars as pl

from boligmix.errors import DataValidationError
from boligmix.plan.csvread import read_text_table
from boligmix.plan.rehouse_model import RehousingProblem
from boligmix.report.disclosure import SUPPRESSED_COLUMN

H_COLUMNS = ("household_id", "persons", "rooms_before", "monthly_income_dkk", "outside_work", "municipality_code",
             "scope_area", "move_by")
V_COLUMNS = ("dwelling_id", "area_id", "municipality_code", "rooms", "monthly_rent_dkk", "available_from")
W_COLUMNS = ("household_id", "rank", "area_id")
C_COLUMNS = ("area_id", "max_outside_work")
C_OPTIONAL_TEXT = ("area_name", "binding_list")
C_OPTIONAL_NUMBERS = ("residents", "adults_18_64", "pct_outside_work_edu", "threshold_pct", "margin_pp")


def read_households(path: str | os.PathLike[str]) -> pl.DataFrame:
    t = read_text_table(path, H_COLUMNS)
    ids = t.ids("household_id", unique=True)
    frame = pl.DataFrame({
        "household_id": ids, "persons": t.counts("persons", minimum=1), "rooms_before": t.counts("rooms_before", minimum=1),
        "monthly_income_dkk": t.amounts("monthly_income_dkk"), "outside_work": t.flags("outside_work"),
        "municipality_code": t.counts("municipality_code"), "scope_area": pl.Series(t.text("scope_area"), dtype=pl.String),
        "move_by": pl.Series(t.dates("move_by"), dtype=pl.Date)})
    t.raise_if_any()
    return frame


def read_vacancies(path: str | os.PathLike[str]) -> pl.DataFrame:
    t = read_text_table(path, V_COLUMNS)
    frame = pl.DataFrame({
        "dwelling_id": t.ids("dwelling_id", unique=True), "area_id": t.ids("area_id"),
        "municipality_code": t.counts("municipality_code"), "rooms": t.counts("rooms", minimum=1),
        "monthly_rent_dkk": t.amounts("monthly_rent_dkk"),
        "available_from": pl.Series(t.dates("available_from"), dtype=pl.Date)})
    t.raise_if_any()
    return frame


def read_wishes(path: str | os.PathLike[str], households: set[str], areas: set[str]) -> pl.DataFrame:
    t = read_text_table(path, W_COLUMNS)
    ids, ranks, wished = t.ids("household_id"), t.counts("rank", minimum=1), t.ids("area_id")
    t.check_refs("household_id", ids, households, "household_id", "not in the households file")
    t.check_refs("area_id", wished, areas, "area_id", "no vacancy and no cap there")
    seen_rank: dict[tuple, int] = {}
    seen_area: dict[tuple, int] = {}
    for i, (hh, r, a) in enumerate(zip(ids, ranks, wished)):
        if hh is None:
            continue
        if (hh, r) in seen_rank:
            t.fail(i, "rank", f"household '{hh}' has rank {r} twice (first on row {seen_rank[(hh, r)] + 1})")
        if (hh, a) in seen_area:
            t.fail(i, "area_id", f"household '{hh}' wishes area '{a}' twice (first on row {seen_area[(hh, a)] + 1})")
        seen_rank.setdefault((hh, r), i)
        seen_area.setdefault((hh, a), i)
    t.raise_if_any()
    return pl.DataFrame({"household_id": ids, "rank": ranks, "area_id": wished},
                        schema={"household_id": pl.String, "rank": pl.Int64, "area_id": pl.String})


def read_caps(path: str | os.PathLike[str]) -> pl.DataFrame:
    t = read_text_table(path, C_COLUMNS, optional=(*C_OPTIONAL_TEXT, *C_OPTIONAL_NUMBERS, SUPPRESSED_COLUMN))
    if t.has(SUPPRESSED_COLUMN):
        for i, cap in enumerate(t.columns["max_outside_work"]):
            if cap is None:
                t.fail(i, "max_outside_work", "the cap is blank in this published caps file (it would bound a "
                                              "suppressed count): give the internal file of `boligmix rehouse "
                                              "caps --internal`")
    columns: dict[str, object] = {"area_id": t.ids("area_id", unique=True),
                                  "max_outside_work": t.counts("max_outside_work")}
    for c in C_OPTIONAL_TEXT:
        if t.has(c):
            columns[c] = pl.Series(t.text(c), dtype=pl.String)
    for c in C_OPTIONAL_NUMBERS:
        if t.has(c):
            values = t.amounts(c, optional=True)
            columns[c] = pl.Series([None if raw is None else v for raw, v in zip(t.columns[c], values)],
                                   dtype=pl.Float64)
    t.raise_if_any()
    return pl.DataFrame(columns)


def read_problem(households: str | os.PathLike[str], vacancies: str | os.PathLike[str],
                 wishes: str | os.PathLike[str] | None, caps: str | os.PathLike[str] | None) -> RehousingProblem:
    """Read and cross-check the input files into a `RehousingProblem`."""
    h = read_households(households)
    v = read_vacancies(vacancies)
    if h.height == 0:
        raise DataValidationError("no households", path=str(households))
    c = read_caps(caps) if caps is not None else pl.DataFrame(schema={"area_id": pl.String, "max_outside_work": pl.Int64})
    areas = set(v.get_column("area_id").to_list()) | set(c.get_column("area_id").to_list())
    w = (read_wishes(wishes, set(h.get_column("household_id").to_list()), areas) if wishes is not None
         else pl.DataFrame(schema={"household_id": pl.String, "rank": pl.Int64, "area_id": pl.String}))
    return RehousingProblem(h, v, w, c)


__all__ = ["C_COLUMNS", "H_COLUMNS", "V_COLUMNS", "W_COLUMNS", "read_caps", "read_households", "read_problem",
           "read_vacancies", "read_wishes"]
