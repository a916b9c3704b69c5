"""Indicator settings: the shipped per-version defaults and validation of the switches."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from boligmix.errors import ConfigurationError
from boligmix.indicators.settings import (
    IndicatorSettings,
    default_settings_path,
    load_settings_file,
    settings_for_list_year,
)


@pytest.mark.parametrize(("year", "basis"), [(2010, "2010"), (2012, "2010"), (2013, "2013"), (2017, "2013"),
                                             (2018, "2018"), (2020, "2018"), (2021, "2021"), (2030, "2021")])
def test_list_year_picks_the_version_in_force(year, basis):
    assert settings_for_list_year(year).rules_basis == basis


def test_register_years_per_version():
    s2010 = settings_for_list_year(2011)
    assert s2010.window(2011) == (2007, 2008, 2009, 2010)
    s2021 = settings_for_list_year(2024)
    assert s2021.window(2024) == (2022, 2023)
    assert s2021.resident_date(2024) == date(2024, 1, 1)
    assert s2021.window_population_date(2023) == date(2024, 1, 1)
    assert (s2021.education_year(2024), s2021.income_year(2024)) == (2023, 2023)


def test_education_rule_changes_in_2018():
    assert settings_for_list_year(2017).education_rule == "uoplyst_is_basic"
    assert settings_for_list_year(2018).education_rule == "dk_registered_only"
    assert settings_for_list_year(2018).unregistered_education == "basic"


def test_confirmed_attachment_types_in_every_version():
    for _start, settings in load_settings_file().values():
        outside = set(settings.outside_attachments)
        assert {"kontanthjaelp", "uddannelseshjaelp", "selvforsoergelse_hjemrejse", "overgangsydelse",
                "foertidspension"} <= outside
        assert not outside & {"barselsdagpenge", "sygedagpenge", "fleksjob", "efterloen", "folkepension"}


def _valid(**changes):
    base = settings_for_list_year(2024).model_dump()
    base.update(changes)
    return base


def test_unknown_field_and_bad_values_are_rejected():
    with pytest.raises(ValidationError):
        IndicatorSettings.model_validate(_valid(window_lenght=2))
    with pytest.raises(ValidationError, match="unknown attachment"):
        IndicatorSettings.model_validate(_valid(outside_attachments=["kontanthjælp"]))
    with pytest.raises(ValidationError, match="cannot count as outside"):
        IndicatorSettings.model_validate(_valid(outside_attachments=["employment"]))
    with pytest.raises(ValidationError, match="unknown laws"):
        IndicatorSettings.model_validate(_valid(conviction_laws=["faerdselsloven"]))
    with pytest.raises(ValidationError):
        IndicatorSettings.model_validate(_valid(window_years=0))


def test_bad_settings_file_names_file_version_and_field(tmp_path):
    path = tmp_path / "bad.yaml"
    text = default_settings_path().read_text(encoding="utf-8")
    path.write_text(text.replace("education_rule: dk_registered_only  #", "education_rule: registered  #"),
                    encoding="utf-8")
    with pytest.raises(ConfigurationError) as info:
        settings_for_list_year(2024, path)
    assert info.value.source == str(path) and info.value.rule == "2018"
    assert "education_rule" in info.value.field


def test_no_settings_before_the_first_version():
    with pytest.raises(ConfigurationError, match="2009"):
        settings_for_list_year(2009)
