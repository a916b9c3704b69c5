"""Settings of the official-list indicators: every UNCONFIRMED choice is a named switch.

Defaults per rule version live in `src/boligmix/rules/indicators/official.yaml`; a block
applies from its `valid_from_list_year` until the next block. `settings_for_list_year(Y)`
returns the settings for list year Y; callers may also build an `IndicatorSettings` directly.
"""

from __future__ import annotations

import os
from datetime import date
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from boligmix.data.schema import ATTACHMENT_TYPES, CONVICTION_LAWS
from boligmix.errors import ConfigurationError
from boligmix.rules.files import parse_model, read_text

SETTINGS_FORMAT = "boligmix-indicator-settings/1"
NOT_OUTSIDE = ("employment", "education")
"""Attachment types that are attachment to work or education by definition; never 'outside'."""


class IndicatorSettings(BaseModel):
    """How register data feeds the official-list indicators of one list year.

    Year fields are offsets back from the list year Y (the list published 1 December Y).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    rules_basis: str = Field(
        description="Name of the rule version these settings implement (e.g. '2018'); written to "
        "the output column `rules_basis`.")
    resident_offset: int = Field(
        0, ge=0, le=5,
        description="Residents are counted on 1 January of Y - resident_offset. BL: 1 January of "
        "the list year (rules-spec 1.2, 1.3), so 0.")
    window_years: int = Field(
        2, ge=1, le=10,
        description="Length of the averaging window of the labour and conviction measures: 2 from "
        "2013 ('gennemsnittet over de seneste 2 år'), 4 for the 2010 rules.")
    window_end_offset: int = Field(
        1, ge=0, le=5,
        description="The window's last register year is Y - window_end_offset. UNCONFIRMED "
        "(rules-spec 1.3: Y-2..Y-1 or Y-1..Y); default 1, i.e. the latest complete calendar years "
        "before 1 January Y, the date the residents are counted.")
    window_population: Literal["end_of_year", "start_of_year"] = Field(
        "end_of_year",
        description="Population of window year t: persons resident on 1 January t+1 "
        "('end_of_year', so the last window year's population is exactly the list's residents) or "
        "on 1 January t ('start_of_year'). Ages are taken on that date.")
    window_average: Literal["mean_of_shares", "pooled"] = Field(
        "mean_of_shares",
        description="How a window measure is averaged: the unweighted mean of the yearly shares "
        "over the window years in which the unit has population ('mean_of_shares', the statutory "
        "'gennemsnittet over de seneste 2 år'), or the pooled ratio sum(numerator)/sum(population)"
        " over the window ('pooled').")
    education_offset: int = Field(
        1, ge=0, le=5,
        description="Highest education is read from person_years of year Y - education_offset "
        "(the level at the end of that year, i.e. about 1 January of the next year).")
    income_offset: int = Field(
        1, ge=0, le=5,
        description="Gross income, taxpayer and student status are read from person_years of "
        "year Y - income_offset (the latest complete income year).")
    outside_attachments: tuple[str, ...] = Field(
        description="Attachment types (labour.attachment) counted as 'uden tilknytning til "
        "arbejdsmarked eller uddannelse', in full-time equivalents. Confirmed outside: "
        "kontanthjaelp, uddannelseshjaelp, selvforsoergelse_hjemrejse, overgangsydelse, "
        "foertidspension. Confirmed not outside: SU-students, barselsdagpenge, sygedagpenge, "
        "fleksjob, efterloen, folkepension. dagpenge, ressourceforloebsydelse and "
        "ledighedsydelse are UNCONFIRMED (default: outside; they are benefits for persons "
        "without a job).")
    cap_fte_at_one: bool = Field(
        True,
        description="Cap a person's summed outside FTE in a year at 1.0 (several benefit types in "
        "one year cannot make more than one full-time person).")
    conviction_laws: tuple[str, ...] = Field(
        CONVICTION_LAWS,
        description="Laws whose convictions count (straffeloven, vaabenloven, "
        "euforiserende_stoffer). A person convicted at least once in year t counts once.")
    education_rule: Literal["uoplyst_is_basic", "dk_registered_only"] = Field(
        description="'uoplyst_is_basic' (2013-2017): grundskole or uoplyst counts as basic, any "
        "source. 'dk_registered_only' (2018 on): only education_source 'dk_registered' with a "
        "known level counts; grundskole is basic.")
    unregistered_education: Literal["basic", "exclude"] = Field(
        "basic",
        description="Under 'dk_registered_only': a person 30-59 without Danish-registered "
        "education (other source, uoplyst, or no person_years row) is counted as basic in numerator "
        "and denominator ('basic') or left out of both ('exclude'). UNCONFIRMED (rules-spec 1.4).")
    country_nomenclature: str | None = Field(
        None,
        description="countries.nomenclature_version used for western/non-western. None: the "
        "latest version in the dataset whose label ends in a year not after the list year.")
    area_delineation: Literal["almene_departments", "parcels"] = Field(
        "parcels",
        description="What an area's residents are (rules-spec 1.2, 6.6): 'almene_departments' (the 2010 and "
        "2013 lists: residents of almene dwellings whose department lies in the area, departments.area_id) or "
        "'parcels' (from 2018: everyone living on the area's parcels, non-almene dwellings included, "
        "dwellings.area_id). Used at level 'area' only; departments and municipalities are their own units.")
    min_residents: int = Field(
        1000, ge=0,
        description="Residents threshold of an area ('mindst 1.000 beboere', residents >= it); "
        "recorded as the column `meets_min_residents`; units below it are still returned.")

    @field_validator("outside_attachments")
    @classmethod
    def _known_attachments(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [a for a in value if a not in ATTACHMENT_TYPES]
        if unknown:
            raise ValueError(f"unknown attachment types {unknown}; known: {list(ATTACHMENT_TYPES)}")
        inside = [a for a in value if a in NOT_OUTSIDE]
        if inside:
            raise ValueError(f"{inside} is attachment to work or education and cannot count as outside")
        if len(set(value)) != len(value):
            raise ValueError("attachment types are listed twice")
        return value

    @field_validator("conviction_laws")
    @classmethod
    def _known_laws(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("at least one law is needed")
        unknown = [law for law in value if law not in CONVICTION_LAWS]
        if unknown:
            raise ValueError(f"unknown laws {unknown}; known: {list(CONVICTION_LAWS)}")
        return value

    # --- the register years this setting reads for list year Y -------------------------------
    def resident_date(self, list_year: int) -> date:
        """The date on which a list year's residents are counted."""
        return date(list_year - self.resident_offset, 1, 1)

    def window(self, list_year: int) -> tuple[int, ...]:
        """Register years of the labour and conviction measures, oldest first."""
        last = list_year - self.window_end_offset
        return tuple(range(last - self.window_years + 1, last + 1))

    def window_population_date(self, register_year: int) -> date:
        """The date whose residents are the population of a window year."""
        return date(register_year + (1 if self.window_population == "end_of_year" else 0), 1, 1)

    def education_year(self, list_year: int) -> int:
        return list_year - self.education_offset

    def income_year(self, list_year: int) -> int:
        return list_year - self.income_offset

    def register_years_text(self, list_year: int) -> str:
        """Provenance text: which register years and dates feed list year Y."""
        window = self.window(list_year)
        span = f"{window[0]}-{window[-1]}" if len(window) > 1 else str(window[0])
        pop = ",".join(self.window_population_date(t).isoformat() for t in window)
        return (f"residents={self.resident_date(list_year).isoformat()}; labour={span}; "
                f"convictions={span}; window_population={pop}; "
                f"education={self.education_year(list_year)}; income={self.income_year(list_year)}")


class _VersionBlock(BaseModel):
    model_config = ConfigDict(extra="forbid")
    valid_from_list_year: int
    settings: IndicatorSettings


class _SettingsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    format: Literal["boligmix-indicator-settings/1"]
    versions: dict[str, _VersionBlock]


def default_settings_path() -> Path:
    """The shipped YAML file of per-version defaults."""
    return Path(str(resources.files("boligmix.rules.indicators").joinpath("official.yaml")))


def load_settings_file(path: str | os.PathLike[str] | None = None) -> dict[str, tuple[int, IndicatorSettings]]:
    """Read a settings file: version name -> (first list year, settings), ordered by first year."""
    return dict(_load(str(Path(path) if path is not None else default_settings_path())))


def _settings_error(exc: ValidationError, raw: Any, source: str) -> ConfigurationError:
    """The first validation error with its key (`versions.2018.settings.window_years`) and the version as the rule."""
    first = exc.errors()[0]
    loc = [str(p) for p in first["loc"]]
    rule = loc[1] if len(loc) > 1 and loc[0] == "versions" else None
    return ConfigurationError(first["msg"], source=source, rule=rule, field=".".join(loc))


@lru_cache(maxsize=8)
def _load(path: str) -> tuple[tuple[str, tuple[int, IndicatorSettings]], ...]:
    text, source = read_text(path, package="boligmix.rules.indicators", filename="official.yaml",
                             what="indicator settings")
    parsed = parse_model(text, source, _SettingsFile, what="indicator settings", error=_settings_error).spec
    blocks = sorted(parsed.versions.items(), key=lambda item: item[1].valid_from_list_year)
    starts = [b.valid_from_list_year for _, b in blocks]
    if len(set(starts)) != len(starts):
        raise ConfigurationError("two versions start in the same list year", source=path,
                                 field="valid_from_list_year")
    return tuple((name, (b.valid_from_list_year, b.settings)) for name, b in blocks)


def settings_for_list_year(list_year: int, path: str | os.PathLike[str] | None = None) -> IndicatorSettings:
    """The indicator settings in force for list year Y (the last block starting on or before Y)."""
    chosen: IndicatorSettings | None = None
    versions = load_settings_file(path)
    for _name, (start, settings) in versions.items():
        if start <= list_year:
            chosen = settings
    if chosen is None:
        first = min(start for start, _ in versions.values())
        raise ConfigurationError(f"no indicator settings for list year {list_year}; the first "
                                 f"version starts in {first}",
                                 source=str(path or default_settings_path()))
    return chosen
