"""Person-level register data -> area, department and municipality indicators per year."""

from boligmix.indicators.composition import INDICATORS, compute_composition
from boligmix.indicators.official import compute_area_indicators, output_columns
from boligmix.indicators.settings import IndicatorSettings, settings_for_list_year

__all__ = ["INDICATORS", "IndicatorSettings", "compute_area_indicators", "compute_composition", "output_columns",
           "settings_for_list_year"]
