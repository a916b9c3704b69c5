"""A plain pandas (merge/groupby) implementation of the official-list indicators.

The reference the polars implementation is tested against (tests) and timed against
(benchmarks/bench_indicators.py). Written straightforwardly from docs/indicators.md, sharing
only the settings object (which years and switches) with the implementation under test.
Its `country_nomenclature` must be set explicitly.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd

UNIT = {"area": "area_id", "department": "department_id", "municipality": "municipality_code"}


def _read(dataset: Path, table: str, columns: list[str], years: list[int] | None = None) -> pd.DataFrame:
    filters = None if years is None else [("year", "in", years)]
    return pd.read_parquet(dataset / f"{table}.parquet", columns=columns, filters=filters)


def _age(birth: pd.Series, on: date) -> pd.Series:
    later = (birth.dt.month * 100 + birth.dt.day) > (on.month * 100 + on.day)
    return on.year - birth.dt.year - later.astype(int)


class PandasIndicators:
    """Loads the tables once; `compute(list_year, settings)` returns one row per unit.

    `years`: read only these register years of person_years, labour and convictions (all when None).
    """

    def __init__(self, dataset_dir, level: str = "area", years: list[int] | None = None) -> None:
        ds = Path(dataset_dir)
        self.level = level
        unit = UNIT[level]
        municipalities = _read(ds, "municipalities", ["municipality_code", "region_code"])
        dwellings = _read(ds, "dwellings", list(dict.fromkeys(["dwelling_id", "municipality_code", unit])))
        dwellings["unit"] = dwellings[unit]
        self.dwellings = dwellings[["dwelling_id", "unit", "municipality_code"]].merge(
            municipalities, on="municipality_code")[["dwelling_id", "unit", "region_code"]]
        # The 2010/2013 area units: almene dwellings grouped by their department's area.
        self.dwellings_by_department = self.dwellings
        if level == "area":
            by_dep = _read(ds, "dwellings", ["dwelling_id", "municipality_code", "tenure", "department_id"]).merge(
                _read(ds, "departments", ["department_id", "area_id"]), on="department_id", how="left")
            by_dep["unit"] = by_dep["area_id"].where(by_dep["tenure"] == "almen")
            self.dwellings_by_department = by_dep[["dwelling_id", "unit", "municipality_code"]].merge(
                municipalities, on="municipality_code")[["dwelling_id", "unit", "region_code"]]
        self.delineation = "parcels"
        if level == "municipality":
            units = municipalities.assign(unit=municipalities["municipality_code"])
        else:
            table = "areas" if level == "area" else "departments"
            units = _read(ds, table, [unit, "municipality_code"]).merge(municipalities, on="municipality_code")
            units["unit"] = units[unit]
        self.units = units[["unit", "municipality_code", "region_code"]]
        self.persons = _read(ds, "persons", ["person_id", "birth_date", "origin", "country_code"])
        self.persons["birth_date"] = pd.to_datetime(self.persons["birth_date"])
        self.countries = _read(ds, "countries", ["country_code", "western", "nomenclature_version"])
        res = _read(ds, "residences", ["person_id", "dwelling_id", "move_in", "move_out"])
        res["move_in"] = pd.to_datetime(res["move_in"])
        res["move_out"] = pd.to_datetime(res["move_out"])
        self.residences = res
        self.person_years = _read(ds, "person_years", ["person_id", "year", "highest_education",
                                                       "education_source", "in_education", "gross_income_dkk",
                                                       "taxpayer"], years)
        self.labour = _read(ds, "labour", ["person_id", "year", "attachment", "fte"], years)
        self.convictions = _read(ds, "convictions", ["person_id", "year", "law", "count"], years)

    def residents(self, on: date, nomenclature: str) -> pd.DataFrame:
        day = pd.Timestamp(on)
        res = self.residences
        open_spells = res[(res["move_in"] <= day) & (res["move_out"].isna() | (res["move_out"] > day))]
        dwellings = self.dwellings_by_department if self.delineation == "almene_departments" else self.dwellings
        people = open_spells.merge(dwellings, on="dwelling_id").merge(self.persons, on="person_id")
        countries = self.countries[self.countries["nomenclature_version"] == nomenclature]
        people = people.merge(countries[["country_code", "western"]], on="country_code", how="left")
        people["non_western"] = people["origin"].isin(["indvandrer", "efterkommer"]) & (people["western"] == False)  # noqa: E712
        people["age"] = _age(people["birth_date"], on)
        return people[["person_id", "unit", "region_code", "age", "non_western"]]

    def compute(self, list_year: int, settings) -> pd.DataFrame:
        nomenclature = settings.country_nomenclature
        self.delineation = settings.area_delineation
        now = self.residents(settings.resident_date(list_year), nomenclature)
        in_units = now[now["unit"].notna()]
        out = in_units.groupby("unit").agg(residents=("person_id", "size"), n_non_western=("non_western", "sum"))

        # education, 30-59
        py = self.person_years
        edu_year = py[py["year"] == settings.education_year(list_year)]
        edu = in_units[(in_units["age"] >= 30) & (in_units["age"] <= 59)].merge(edu_year, on="person_id", how="left")
        if settings.education_rule == "uoplyst_is_basic":
            edu["included"] = True
            edu["basic"] = edu["highest_education"].isna() | edu["highest_education"].isin(["grundskole", "uoplyst"])
        else:
            registered = (edu["education_source"] == "dk_registered") & (edu["highest_education"] != "uoplyst")
            if settings.unregistered_education == "basic":
                edu["included"] = True
                edu["basic"] = ~registered | (edu["highest_education"] == "grundskole")
            else:
                edu["included"] = registered
                edu["basic"] = registered & (edu["highest_education"] == "grundskole")
        edu = edu[edu["included"]]
        out = out.join(edu.groupby("unit").agg(n_30_59=("person_id", "size"), n_basic_30_59=("basic", "sum")))

        # income, taxpayers 15-64 not in education
        inc_year = py[py["year"] == settings.income_year(list_year)]
        earners = now[(now["age"] >= 15) & (now["age"] <= 64)].merge(inc_year, on="person_id")
        earners = earners[earners["taxpayer"] & ~earners["in_education"]]
        region_mean = earners.groupby("region_code")["gross_income_dkk"].mean().rename("region_mean_income")
        out = out.join(earners[earners["unit"].notna()].groupby("unit").agg(
            n_income_group=("person_id", "size"), mean_income=("gross_income_dkk", "mean")))

        # window measures
        rows, national = [], []
        for t in settings.window(list_year):
            pop = self.residents(settings.window_population_date(t), nomenclature)
            conv = self.convictions
            convicted = conv[(conv["year"] == t) & conv["law"].isin(settings.conviction_laws) & (conv["count"] >= 1)]
            adults = pop[pop["age"] >= 18].copy()
            adults["convicted"] = adults["person_id"].isin(convicted["person_id"])
            national.append((len(adults), int(adults["convicted"].sum())))
            crime = adults[adults["unit"].notna()].groupby("unit").agg(n18=("person_id", "size"),
                                                                       nconv=("convicted", "sum"))
            lab = self.labour
            lab = lab[(lab["year"] == t) & lab["attachment"].isin(settings.outside_attachments)]
            fte = lab.groupby("person_id")["fte"].sum()
            if settings.cap_fte_at_one:
                fte = fte.clip(upper=1.0)
            workers = pop[pop["unit"].notna() & (pop["age"] >= 18) & (pop["age"] <= 64)]
            workers = workers.merge(fte.rename("fte").reset_index(), on="person_id", how="left")
            workers["fte"] = workers["fte"].fillna(0.0)
            work = workers.groupby("unit").agg(n1864=("person_id", "size"), fte=("fte", "sum"))
            rows.append(crime.join(work, how="outer").fillna(0.0).assign(t=t))
        win = pd.concat(rows).reset_index()
        k = settings.window_years
        if settings.window_average == "mean_of_shares":
            w = win[win["n1864"] > 0]
            pct_out = (w["fte"] / w["n1864"]).groupby(w["unit"]).mean() * 100
            c = win[win["n18"] > 0]
            pct_conv = (c["nconv"] / c["n18"]).groupby(c["unit"]).mean() * 100
            shares = [cv / n for n, cv in national if n > 0]
            national_pct = 100 * sum(shares) / len(shares)
        else:
            s = win.groupby("unit")[["fte", "n1864", "nconv", "n18"]].sum()
            pct_out = 100 * s["fte"] / s["n1864"].where(s["n1864"] > 0)
            pct_conv = 100 * s["nconv"] / s["n18"].where(s["n18"] > 0)
            national_pct = 100 * sum(c for _, c in national) / sum(n for n, _ in national)
        sums = win.groupby("unit")[["n1864", "fte", "n18", "nconv"]].sum() / k
        out = out.join(pct_out.rename("pct_outside_work_edu")).join(pct_conv.rename("pct_convicted"))
        out = out.join(sums.rename(columns={"n1864": "n_18_64", "fte": "fte_outside_18_64", "n18": "n_18plus",
                                            "nconv": "n_convicted_18plus"}))
        out = out.reset_index().merge(self.units, on="unit", how="left").merge(
            region_mean.reset_index(), on="region_code", how="left")
        for col in ("n_30_59", "n_basic_30_59", "n_income_group"):
            out[col] = out[col].fillna(0).astype("int64")
        out["year"] = list_year
        out["pct_non_western"] = 100 * out["n_non_western"] / out["residents"]
        out["pct_basic_education"] = 100 * out["n_basic_30_59"] / out["n_30_59"].where(out["n_30_59"] > 0)
        out["income_pct_of_region"] = 100 * out["mean_income"] / out["region_mean_income"]
        out["national_conviction_pct"] = national_pct
        out["conviction_ratio"] = out["pct_convicted"] / national_pct
        if self.level == "municipality":
            out = out.drop(columns="municipality_code")
        return out.rename(columns={"unit": UNIT[self.level]}).sort_values(UNIT[self.level]).reset_index(drop=True)
