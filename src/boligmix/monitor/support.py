"""The population each official indicator field is measured on, and the count it is a share of.

Support columns of `boligmix.indicators.compute_area_indicators` (docs/indicators.md); used to
scale forecast errors to a unit's size and to put status rows under disclosure control.
"""

DENOMINATOR: dict[str, str] = {
    "residents": "residents", "pct_non_western": "residents", "pct_outside_work_edu": "n_18_64",
    "pct_convicted": "n_18plus", "conviction_ratio": "n_18plus", "pct_basic_education": "n_30_59",
    "income_pct_of_region": "n_income_group"}
NUMERATOR: dict[str, str] = {
    "pct_non_western": "n_non_western", "pct_outside_work_edu": "fte_outside_18_64",
    "pct_convicted": "n_convicted_18plus", "conviction_ratio": "n_convicted_18plus",
    "pct_basic_education": "n_basic_30_59"}

__all__ = ["DENOMINATOR", "NUMERATOR"]
