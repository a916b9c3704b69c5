"""Synthetic Denmark: a register-shaped dataset generator calibrated to published figures."""
