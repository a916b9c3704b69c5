"""The documented, versioned definitions of the four social-mix factors (`mix_settings.yaml`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from boligmix.data.schema import EDUCATION_LEVELS, EDUCATION_SOURCES
from boligmix.errors import ConfigurationError
from boligmix.rules.files import read_yaml, validation_error

_FILE = "mix_settings.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _AgeBand(_Strict):
    age_min: int = Field(ge=0, le=120)
    age_max: int = Field(ge=0, le=120)

    @model_validator(mode="after")
    def _ordered(self) -> "_AgeBand":
        if self.age_min > self.age_max:
            raise ValueError(f"age_min {self.age_min} is above age_max {self.age_max}")
        return self


class EducationSettings(_AgeBand):
    low_levels: tuple[str, ...]
    unknown_as_low: bool
    counted_sources: tuple[str, ...]

    @model_validator(mode="after")
    def _known(self) -> "EducationSettings":
        bad = [v for v in self.low_levels if v not in EDUCATION_LEVELS] + [
            v for v in self.counted_sources if v not in EDUCATION_SOURCES]
        if bad:
            raise ValueError(f"unknown education level or source: {', '.join(bad)}")
        return self


class EmploymentSettings(_AgeBand):
    rule: Literal["fte_threshold", "main_attachment"]
    min_fte: float = Field(ge=0.0, le=1.0)


class NonWesternSettings(_Strict):
    country_nomenclature: str | None = None


class IncomeSettings(_Strict):
    equivalise: bool
    adult_age: int = Field(ge=0, le=30)
    adult_weight: float = Field(ge=0)
    child_weight: float = Field(ge=0)


class MixSettings(_Strict):
    """Factor definitions; `version` is recorded in every output."""

    version: str
    education: EducationSettings
    employment: EmploymentSettings
    non_western: NonWesternSettings
    income: IncomeSettings
    birth_grace_days: int = Field(ge=0, le=366)

    @classmethod
    def load(cls, path: str | Path | None = None) -> "MixSettings":
        """Read the settings file (default: the packaged `mix_settings.yaml`)."""
        raw, source = read_yaml(path, package="boligmix.mix", filename=_FILE, what="mix settings")
        return cls.from_dict(raw, source=source)

    @classmethod
    def from_dict(cls, raw: Any, *, source: str = "settings") -> "MixSettings":
        if not isinstance(raw, dict):
            raise ConfigurationError("expected a mapping of settings", source=source)
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            raise validation_error(exc, raw, source) from exc

    def with_changes(self, **section_changes: dict[str, Any]) -> "MixSettings":
        """A copy with some fields changed, e.g. `with_changes(education={"age_min": 25})`."""
        raw = self.model_dump()
        for section, changes in section_changes.items():
            if isinstance(raw.get(section), dict):
                raw[section].update(changes)
            else:
                raw[section] = changes
        return MixSettings.from_dict(raw)
