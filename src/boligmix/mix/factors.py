"""The four social-mix factors per person and reference year (definitions in `MixSettings`).

`attach_factors(rows, data, settings)` adds to membership rows (see `population.memberships`):

* `edu_pop`, `low_edu`: in the education age band; only grundskole (or unknown, if so set);
* `emp_pop`, `employed`: in the employment age band; employed by the configured rule;
* `nonwestern`: immigrant or descendant from a non-Western country (all ages);
* `income_quartile` (1-4) of the person's household in the national distribution of the
  reference year, `low_income` (quartile 1) and `inc_pop` (a quartile could be given: the
  national distribution of the reference year is known).

Persons without a `person_years` row in the reference year have unknown education, zero income
and, without `labour` rows, no employment.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from boligmix.errors import DataValidationError
from boligmix.mix.population import MixData
from boligmix.mix.settings import MixSettings

FACTORS = ("low_edu", "employed", "nonwestern", "low_income")
"""The factor flags; each has a population column (`FACTOR_POPULATION`)."""

FACTOR_POPULATION = {"low_edu": "edu_pop", "employed": "emp_pop", "nonwestern": "all_pop",
                     "low_income": "inc_pop"}


def _age(birth: pl.Expr, at: pl.Expr) -> pl.Expr:
    before_birthday = (at.dt.month() * 100 + at.dt.day()) < (birth.dt.month() * 100 + birth.dt.day())
    return at.dt.year() - birth.dt.year() - before_birthday.cast(pl.Int32)


def western_lookup(data: MixData, settings: MixSettings) -> pl.DataFrame:
    """country_code -> western for the configured (or newest) nomenclature version."""
    versions = data.countries.get_column("nomenclature_version").unique().sort().to_list()
    wanted = settings.non_western.country_nomenclature or (versions[-1] if versions else None)
    if wanted not in versions:
        raise DataValidationError(
            f"country nomenclature '{wanted}' is not in the countries table (has: {', '.join(versions)})",
            path="countries.parquet", column="nomenclature_version")
    return data.countries.filter(pl.col("nomenclature_version") == wanted).select("country_code", "western")


@dataclass(frozen=True)
class FactorInputs:
    """Person tables prepared once for `attach_factors` (origin group, register rows, employment)."""

    persons: pl.DataFrame
    person_years: dict[int, pl.DataFrame]
    """By reference year, so one year's rows are joined without hashing every year."""
    employment: dict[int, pl.DataFrame]
    empty: dict[str, pl.DataFrame]
    """An empty frame with the columns of each table, for years without rows."""

    def for_years(self, name: str, years: list[int]) -> pl.DataFrame:
        parts = getattr(self, name)
        frames = [parts[y] for y in years if y in parts]
        return pl.concat(frames) if frames else self.empty[name]


def prepare_factor_inputs(data: MixData, settings: MixSettings) -> FactorInputs:
    western = western_lookup(data, settings)
    persons = data.persons.join(western, on="country_code", how="left")
    missing = persons.filter(pl.col("western").is_null() & (pl.col("origin") != "dansk"))
    if missing.height:
        code = missing.get_column("country_code")[0]
        raise DataValidationError(f"country code '{code}' of an immigrant/descendant is not in the countries table",
                                  path="persons.parquet", column="country_code")
    persons = persons.select(
        "person_id", "birth_date",
        (pl.col("origin").is_in(["indvandrer", "efterkommer"]) & ~pl.col("western").fill_null(True)).alias("nonwestern"))
    def by_year(frame: pl.DataFrame) -> dict[int, pl.DataFrame]:
        return {int(k[0]): v for k, v in frame.partition_by("ref_year", as_dict=True).items()}

    employment = _employment(data, settings).rename({"year": "ref_year"})
    person_years = data.person_years.rename({"year": "ref_year"}).select(
        "person_id", "ref_year", "highest_education", "education_source", "gross_income_dkk")
    return FactorInputs(persons, by_year(person_years), by_year(employment),
                        {"person_years": person_years.clear(), "employment": employment.clear()})


def attach_factors(rows: pl.DataFrame, data: MixData, settings: MixSettings,
                   inputs: FactorInputs | None = None) -> pl.DataFrame:
    """Add age and the factor columns to membership rows (`inputs`: prepared once for many calls)."""
    edu, emp, inc = settings.education, settings.employment, settings.income
    inputs = inputs or prepare_factor_inputs(data, settings)
    out = rows.join(inputs.persons, on="person_id", how="left")
    if out.get_column("birth_date").null_count():
        pid = out.filter(pl.col("birth_date").is_null()).get_column("person_id")[0]
        row = data.residences.with_row_index("_row").filter(pl.col("person_id") == pid).get_column("_row")[0]
        raise DataValidationError(f"person {pid} has a residence spell but no persons row",
                                  path="residences.parquet", row=int(row) + 1, column="person_id")
    ref_years = out.get_column("ref_year").unique().to_list()
    py = inputs.for_years("person_years", ref_years)
    emp_rows = inputs.for_years("employment", ref_years)
    out = out.join(py, on=["person_id", "ref_year"], how="left")
    out = out.join(emp_rows, on=["person_id", "ref_year"], how="left")
    age = _age(pl.col("birth_date"), pl.col("event_date"))
    known_edu = (pl.col("highest_education").is_not_null() & (pl.col("highest_education") != "uoplyst")
                 & pl.col("education_source").is_in(list(edu.counted_sources)))
    in_edu_band = age.is_between(edu.age_min, edu.age_max)
    out = out.with_columns(
        age.alias("age"),
        (in_edu_band & (known_edu | pl.lit(edu.unknown_as_low))).alias("edu_pop"),
        (in_edu_band & pl.when(known_edu).then(pl.col("highest_education").is_in(list(edu.low_levels)))
         .otherwise(pl.lit(edu.unknown_as_low))).alias("low_edu"),
        age.is_between(emp.age_min, emp.age_max).alias("emp_pop"),
        pl.lit(True).alias("all_pop"),
        pl.col("gross_income_dkk").fill_null(0.0).alias("gross_income_dkk"),
    )
    out = out.with_columns((pl.col("emp_pop") & pl.col("employed").fill_null(False)).alias("employed"))
    out = _attach_income_quartile(out, inc)
    return out.drop("highest_education", "education_source", "gross_income_dkk")


def _employment(data: MixData, settings: MixSettings) -> pl.DataFrame:
    """person_id, year, employed (only person-years with some employment; others are not employed)."""
    emp = settings.employment
    lab = data.labour
    is_emp = pl.col("attachment") == "employment"
    if emp.rule == "fte_threshold":  # (person, year, attachment) is the key: one employment row at most
        return lab.filter(is_emp & (pl.col("fte") >= emp.min_fte) & (pl.col("fte") > 0)).select(
            "person_id", "year", pl.lit(True).alias("employed"))
    employed_keys = lab.filter(is_emp & (pl.col("fte") > 0)).select("person_id", "year")
    per = lab.join(employed_keys, on=["person_id", "year"], how="semi").group_by("person_id", "year").agg(
        pl.when(is_emp).then(pl.col("fte")).otherwise(0.0).sum().alias("emp_fte"),
        pl.when(is_emp).then(0.0).otherwise(pl.col("fte")).max().alias("other_max"),
    )
    return per.filter(pl.col("emp_fte") >= pl.col("other_max")).select("person_id", "year", pl.lit(True).alias("employed"))


def _attach_income_quartile(rows: pl.DataFrame, inc) -> pl.DataFrame:
    """Household income per (household_id, ref_year) and its national quartile.

    A household's members for reference year r are the persons in it in the stock at 1 January
    r+1. Rows whose household is not in that stock (moved in and out again, emigrated, died) form
    their household from the rows of the same group with the same household id. The national
    distribution is that of the stock's households."""
    stock = rows.filter(pl.col("group") == "stock")
    stock_hh = _household_income(stock.unique(subset=["household_id", "ref_year", "person_id"]),
                                 ["household_id", "ref_year"], inc)
    cuts = stock_hh.group_by("ref_year").agg(
        pl.col("hh_income_eq").quantile(q, interpolation="linear").alias(f"c{int(q * 100)}")
        for q in (0.25, 0.5, 0.75)
    )
    keyed = rows.join(stock_hh.select("household_id", "ref_year", "hh_income_eq"), on=["household_id", "ref_year"],
                      how="left")
    loose = keyed.filter(pl.col("hh_income_eq").is_null() & (pl.col("group") != "stock"))
    if loose.height:
        own = _household_income(loose.drop("hh_income_eq").unique(subset=["group", "household_id", "ref_year",
                                                                             "person_id"]),
                                ["group", "household_id", "ref_year"], inc)
        keyed = keyed.join(own.select("group", "household_id", "ref_year", pl.col("hh_income_eq").alias("_own")),
                           on=["group", "household_id", "ref_year"], how="left").with_columns(
            pl.col("hh_income_eq").fill_null(pl.col("_own"))).drop("_own")
    out = keyed.join(cuts, on="ref_year", how="left").with_columns(
        pl.when(pl.col("c25").is_null() | pl.col("hh_income_eq").is_null()).then(None)
        .when(pl.col("hh_income_eq") <= pl.col("c25")).then(1)
        .when(pl.col("hh_income_eq") <= pl.col("c50")).then(2)
        .when(pl.col("hh_income_eq") <= pl.col("c75")).then(3)
        .otherwise(4).cast(pl.Int8).alias("income_quartile"),
    ).drop("c25", "c50", "c75")
    return out.with_columns(pl.col("income_quartile").is_not_null().alias("inc_pop"),
                            (pl.col("income_quartile") == 1).fill_null(False).alias("low_income"))


def _household_income(members: pl.DataFrame, keys: list[str], inc) -> pl.DataFrame:
    terms = members.group_by(keys).agg(
        pl.col("gross_income_dkk").sum().alias("hh_income"),
        (pl.col("age") >= inc.adult_age).sum().alias("n_adults"),
        (pl.col("age") < inc.adult_age).sum().alias("n_children"),
    )
    if inc.equivalise:
        scale = (1.0 + inc.adult_weight * (pl.col("n_adults") - 1).clip(lower_bound=0)
                 + inc.child_weight * (pl.col("n_children") - (pl.col("n_adults") == 0).cast(pl.Int64)))
    else:
        scale = pl.lit(1.0)
    return terms.with_columns((pl.col("hh_income") / scale).alias("hh_income_eq"))


def income_cutpoints(rows_with_factors: pl.DataFrame) -> pl.DataFrame:
    """National quartile cut points per reference year, from the stock's households (for reports)."""
    hh = rows_with_factors.filter(pl.col("group") == "stock").unique(subset=["household_id", "ref_year"])
    return hh.group_by("ref_year").agg(
        pl.len().cast(pl.Int64).alias("n_households"),
        *[pl.col("hh_income_eq").quantile(q, interpolation="linear").alias(f"q{int(q * 100)}")
          for q in (0.25, 0.5, 0.75)],
    ).sort("ref_year")
