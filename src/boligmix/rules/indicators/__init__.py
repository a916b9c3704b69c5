"""Indicator settings per rule version (YAML data files read by `boligmix.indicators.settings`)."""
